//! Deploy once: the chaincode's definition (the up file's chaincode section and the flags), its
//! package (labelled `NAME_dev`, pointing at the server's address), and the lifecycle as every
//! org of the network, doing only what is missing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use ccaas_deploy::definition::Definition;
use ccaas_deploy::lifecycle::{Session, Via};
use ccaas_deploy::up::UpConfig;
use ccaas_deploy::{plan, Error};
use ccaas_package::{build_package, BuiltPackage, ConnectionSpec, PackageSpec};

use super::args::DevArgs;

/// The definition: the up file's chaincode section (`file`, and whether it was given), else
/// `package`'s name and version 1.0, with the flags over it.
pub fn definition(a: &DevArgs, file: &(PathBuf, bool), package: &str) -> anyhow::Result<Definition> {
    let (file, given) = file;
    let mut d =
        if *given || file.is_file() { UpConfig::load(file)?.definition()? } else { Definition::new(package, "1.0") };
    if let Some(n) = &a.name {
        d.name = n.clone();
    }
    if let Some(v) = &a.version {
        d.version = v.clone();
    }
    if let Some(p) = &a.signature_policy {
        d = d.signature_policy(p).map_err(Error::Config)?;
    }
    if let Some(r) = &a.channel_config_policy {
        d = d.channel_config_policy(r);
    }
    if let Some(f) = &a.collections_config {
        let json = std::fs::read(f).with_context(|| format!("cannot read collections config {}", f.display()))?;
        d = d.collections_json(&json).map_err(|e| Error::Config(format!("{}: {e}", f.display())))?;
    }
    d.init_required |= a.init_required;
    Ok(d)
}

/// The files the definition comes from: the up file and the collections file.
pub fn definition_files(a: &DevArgs, file: &(PathBuf, bool)) -> Vec<PathBuf> {
    let mut files = vec![file.0.clone()];
    if let Some(f) = &a.collections_config {
        files.push(absolute(f));
    } else if let Ok(c) = UpConfig::load(&file.0) {
        files.extend(c.chaincode.collections_config.map(|f| absolute(&f)));
    }
    files
}

/// The up file: `-f`, else `ccaas-deploy.yaml` beside the package's Cargo.toml.
pub fn definition_file(a: &DevArgs, package_dir: &Path) -> anyhow::Result<(PathBuf, bool)> {
    Ok(match &a.file {
        Some(f) if !f.is_file() => anyhow::bail!(Error::Config(format!("-f {}: no such file", f.display()))),
        Some(f) => (absolute(f), true),
        None => (package_dir.join("ccaas-deploy.yaml"), false),
    })
}

/// Installs, approves (as each org) and commits what is missing; a definition already committed
/// and approved with this package needs nothing. Each step line goes to `say`.
pub async fn lifecycle(
    sessions: &[Session],
    definition: &Definition,
    package: &BuiltPackage,
    say: &dyn Fn(String),
) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut sequence = 0;
    let mut waiting = Vec::new();
    let mut did = false;
    for (i, session) in sessions.iter().enumerate() {
        let org = session.identity().msp_id().to_string();
        let p = plan::make(session, definition, &package.package_id).await?;
        sequence = p.sequence;
        if p.is_noop() {
            continue;
        }
        did = true;
        let last = i + 1 == sessions.len();
        // The orgs after this one approve next: "then stop: they must approve" is for the last.
        let mut progress = |l: &str| {
            if last || !l.starts_with("then stop:") {
                say(format!("lifecycle: {org}: {l}"))
            }
        };
        let outcome = plan::execute(session, &p, definition, &package.bytes, Via::Gateway, &mut progress).await?;
        waiting = outcome.waiting_for;
    }
    let def = definition;
    if !waiting.is_empty() {
        say(format!(
            "{} version {} sequence {sequence} waits for {} to approve it (with `ccaas-deploy lifecycle` and the same \
             definition); the server runs meanwhile",
            def.name,
            def.version,
            waiting.join(", ")
        ));
    } else {
        say(format!(
            "{} version {} is committed at sequence {sequence} with package {}{}",
            def.name,
            def.version,
            package.package_id,
            if did { format!(" ({:.1?})", t.elapsed()) } else { " (already)".into() }
        ));
    }
    Ok(())
}

fn absolute(p: &Path) -> PathBuf {
    std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
}

/// The ccaas package of `name` for `address`, labelled `NAME_dev`: the same for every run with
/// that address, so a restarted `dev` re-approves nothing.
pub fn package(name: &str, address: &str) -> anyhow::Result<BuiltPackage> {
    let spec = PackageSpec::ccaas(format!("{name}_dev"), ConnectionSpec::new(address));
    Ok(build_package(&spec).map_err(Error::from)?)
}
