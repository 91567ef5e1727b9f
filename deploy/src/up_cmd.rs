//! `up` and `down`.

use std::time::{Duration, Instant};

use ccaas_deploy::image::{self, ImageSpec};
use ccaas_deploy::lifecycle::{Session, Via};
use ccaas_deploy::registry::{self, PushOptions, Reference};
use ccaas_deploy::render::{self, RenderTarget};
use ccaas_deploy::rollout::{self, RolloutError};
use ccaas_deploy::up::UpConfig;
use ccaas_deploy::{plan, Error};
use serde_json::json;

use crate::args::{DownArgs, UpArgs};
use crate::offline::EXIT_ROLLOUT_FAILED;
use crate::{Printer, EXIT_WAITING};

/// The push options of `up` (`None` without `image.binary`: nothing to push), resolved before
/// anything else is done: CCAAS_REGISTRY_USER and CCAAS_REGISTRY_PASSWORD go to the image's
/// registry only if CCAAS_REGISTRY_HOST names it, or if `--image` gave the reference on the
/// command line; otherwise `up` refuses them (the config file could name any registry).
pub fn registry_options(a: &UpArgs, c: &UpConfig) -> Result<Option<PushOptions>, Error> {
    if c.image.binary.is_none() {
        return Ok(None);
    }
    let reference: Reference = c.image.reference.parse()?;
    let user = std::env::var(ccaas_deploy::registry_auth::USER_VAR).ok();
    crate::args::push_options(
        &reference,
        user.as_deref(),
        false,
        a.image.is_some(),
        c.image.insecure,
        None,
        &a.token_hosts,
    )
    .map(Some)
}

pub async fn up(
    out: &Printer,
    a: &UpArgs,
    c: UpConfig,
    push: Option<PushOptions>,
    session: &Session,
    via: Via,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut changed = Vec::<String>::new();

    // 0. The cluster, and no object of another owner in the way: checked before anything changes.
    let client = rollout::client(c.kubernetes.kubeconfig.as_deref()).await?;
    let planned = render::render(&c.workload(&c.package()?.package_id, None), RenderTarget::Kubernetes)?;
    rollout::check_ours(&client, &planned, a.cluster.force_conflicts).await?;

    // 1. Image.
    let mut digest = None;
    let mut image_json = json!({"reference": c.image.reference, "digest": c.image.digest});
    if let (Some(binary), Some(push)) = (&c.image.binary, push) {
        let t = Instant::now();
        out.progress(&format!("image: assembling from {}", binary.display()));
        let img = image::build(&ImageSpec::new(binary))?;
        let reference: Reference = c.image.reference.parse()?;
        out.progress(&format!(
            "image: {} ({} bytes compressed); pushing to {reference}",
            img.digest(),
            img.compressed_size()
        ));
        let mut progress = |l: &str| out.progress(&format!("image: {l}"));
        let pushed = registry::push(&img, &reference, push, &mut progress).await?;
        if !pushed.uploaded.is_empty() {
            changed.push(format!("pushed image {}", pushed.pinned));
        }
        out.progress(&format!("image: {} ({:.1?})", pushed.pinned, t.elapsed()));
        digest = Some(img.digest().to_string());
        image_json = json!({"reference": c.image.reference, "digest": img.digest(), "pushed": pushed});
    }

    // 2. Package.
    let pkg = c.package()?;
    out.progress(&format!("package: {} (address {})", pkg.package_id, c.chaincode.address));

    // 3-5. Install, approve, commit: only what is missing.
    let def = c.definition()?;
    let p = plan::make(session, &def, &pkg.package_id).await?;
    for line in &p.done {
        out.progress(&format!("fabric: already done: {line}"));
    }
    if let Some(w) = &p.warning {
        eprintln!("warning: {w}");
    }
    if let Some(c) = &p.commit_rule {
        out.progress(&format!("fabric: commit rule: {}", c.line()));
    }
    if let Some(e) = p.endorsement.as_ref().filter(|e| !e.met).and(p.endorsement_line()) {
        eprintln!("note: {e}");
    }
    let mut waiting_for = Vec::new();
    let mut needed = String::new();
    let mut fabric_done = Vec::new();
    if !p.is_noop() {
        let mut progress = |l: &str| out.progress(&format!("fabric: {l}"));
        let outcome = plan::execute(session, &p, &def, &pkg.bytes, via, &mut progress).await?;
        waiting_for = outcome.waiting_for;
        needed = outcome.needed;
        for d in &outcome.done {
            changed.push(format!("fabric: {}", serde_json::to_value(&d.step).unwrap_or_default()));
        }
        fabric_done = outcome.done;
    }

    // 6. Rollout.
    let w = c.workload(&pkg.package_id, digest);
    let manifests = render::render(&w, RenderTarget::Kubernetes)?;
    let mut progress = |l: &str| out.progress(&format!("kubernetes: {l}"));
    let applied = rollout::apply(&client, &manifests, a.cluster.force_conflicts, &mut progress).await?;
    for x in applied.iter().filter(|x| x.changed) {
        changed.push(format!("kubernetes: {} {}/{}", x.kind, x.namespace, x.name));
    }
    let names = w.server_names()?;
    let deadline = Duration::from_secs(a.cluster.timeout.unwrap_or(u64::from(w.progress_deadline_seconds) + 10));
    let rolled = rollout::wait(&client, &w.namespace, &names, deadline, &mut progress).await;
    let summary = json!({
        "image": image_json,
        "package_id": pkg.package_id,
        "plan": p,
        "fabric_done": fabric_done,
        "waiting_for": waiting_for,
        "needed": needed,
        "applied": applied,
        "rolled_out": rolled.is_ok(),
        "changed": changed,
        "seconds": started.elapsed().as_secs_f64(),
    });
    if let Err(e) = rolled {
        if let RolloutError::Failed { .. } = e {
            eprintln!("error: {e}");
            if out.output == crate::Output::Json {
                println!("{summary}");
            }
            return Ok(EXIT_ROLLOUT_FAILED);
        }
        return Err(e.into());
    }
    let text = if changed.is_empty() {
        format!(
            "nothing to do: {} version {} sequence {} with package {} is committed and {} is rolled out ({:.1?})",
            def.name,
            def.version,
            p.sequence,
            pkg.package_id,
            w.image_ref(),
            started.elapsed()
        )
    } else {
        format!(
            "done: {} version {} sequence {} with package {}, {} rolled out; changed: {} ({:.1?})",
            def.name,
            def.version,
            p.sequence,
            pkg.package_id,
            w.image_ref(),
            changed.join("; "),
            started.elapsed()
        )
    };
    out.result(&[text], summary);
    if !needed.is_empty() {
        eprintln!(
            "waiting for approvals of {} sequence {}: it needs {needed}; run this again once they have",
            def.name, p.sequence
        );
        return Ok(EXIT_WAITING);
    }
    Ok(0)
}

pub async fn down(out: &Printer, a: &DownArgs) -> anyhow::Result<u8> {
    let mut c = UpConfig::load(&a.file)?;
    if let Some(n) = &a.namespace {
        c.kubernetes.namespace = Some(n.clone());
    }
    if let Some(k) = &a.kubeconfig {
        c.kubernetes.kubeconfig = Some(k.clone());
    }
    let pkg = c.package()?;
    let w = c.workload(&pkg.package_id, None);
    let manifests = render::render(&w, RenderTarget::Kubernetes)?;
    let client = rollout::client(c.kubernetes.kubeconfig.as_deref()).await?;
    let mut progress = |l: &str| out.progress(l);
    let done = rollout::delete(&client, &manifests, a.force_conflicts, &mut progress).await?;
    let note = format!(
        "the chaincode definition of {} on the channel is not touched (committed definitions cannot be removed); \
         invoking it fails until a server runs again",
        c.chaincode.name
    );
    let mut text = vec![if done.deleted.is_empty() {
        format!("nothing to delete in namespace {}", w.namespace)
    } else {
        format!("deleted {}", done.deleted.join(", "))
    }];
    for f in &done.left {
        eprintln!(
            "warning: left {f}: not ccaas-deploy's, so down does not delete it (it deletes only objects labelled \
             app.kubernetes.io/managed-by: ccaas-deploy); if nothing needs it, delete it with `kubectl delete -n {} \
             {}/{}`, or run down --force-conflicts",
            f.namespace,
            f.kind.to_lowercase(),
            f.name
        );
        text.push(format!("left {f}: not ccaas-deploy's"));
    }
    text.push(note.clone());
    out.result(&text, json!({"deleted": done.deleted, "left": done.left, "note": note}));
    Ok(0)
}
