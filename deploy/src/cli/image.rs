//! `image`: the chaincode server's OCI image from a built binary, written or pushed, and the
//! registry flags `up` shares.

use std::path::PathBuf;
use std::time::Instant;

use ccaas_deploy::image::{self, ImageSpec};
use ccaas_deploy::registry::{self, Reference};
use ccaas_deploy::Error;
use clap::Args;
use serde_json::json;

use super::output::Printer;
use super::render::key_value;

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// The chaincode server binary, the entrypoint (static, or dynamically linked: its libraries
    /// are copied in).
    #[arg(value_name = "BINARY")]
    pub binary: PathBuf,
    /// Path of the binary in the image, and the entrypoint [default: /usr/local/bin/<name>].
    #[arg(long, value_name = "PATH")]
    pub entrypoint: Option<String>,
    /// Exposed port and the CHAINCODE_SERVER_ADDRESS default (0.0.0.0:PORT).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_PORT)]
    pub port: u16,
    /// No exposed port and no CHAINCODE_SERVER_ADDRESS: an image that serves nothing (tools).
    #[arg(long, conflicts_with = "port")]
    pub no_port: bool,
    /// Another binary, at /usr/local/bin/<name> beside the entrypoint (repeatable); `podman run
    /// --entrypoint /usr/local/bin/<name>` runs it.
    #[arg(long = "add-binary", value_name = "FILE")]
    pub add_binaries: Vec<PathBuf>,
    /// Numeric user and group (not 0).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_USER)]
    pub uid: u32,
    /// More environment defaults (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub env: Vec<(String, String)>,
    /// Reference recorded in the archives (docker-archive tag, OCI ref.name) [default: <name>:latest].
    #[arg(long, value_name = "REF")]
    pub tag: Option<String>,
    /// Write an OCI image layout directory.
    #[arg(long, value_name = "DIR")]
    pub oci_layout: Option<PathBuf>,
    /// Write an OCI layout as one tar (skopeo's oci-archive:).
    #[arg(long, value_name = "FILE")]
    pub oci_archive: Option<PathBuf>,
    /// Write a docker-archive tar (podman load -i FILE, docker load).
    #[arg(long, value_name = "FILE")]
    pub docker_archive: Option<PathBuf>,
    #[command(flatten)]
    pub push: PushArgs,
}

/// Pushing to a registry.
#[derive(Args, Debug)]
pub struct PushArgs {
    /// Push to this reference (registry-host[:port]/repository:tag) with the registry HTTP API.
    #[arg(long, value_name = "REF")]
    pub push: Option<String>,
    /// The registry speaks plain HTTP (e.g. a registry on loopback).
    #[arg(long, requires = "push")]
    pub insecure: bool,
    /// Registry user (Basic, or to get a Bearer token); the password comes from
    /// CCAAS_REGISTRY_PASSWORD or --registry-password-stdin. Sent only to the --push registry
    /// (and CCAAS_REGISTRY_HOST, when set, must be that registry). Without it, the entry of
    /// `podman login`/`docker login`'s auth file for the registry's host is used.
    #[arg(long, env = "CCAAS_REGISTRY_USER", value_name = "USER")]
    pub registry_user: Option<String>,
    /// Read the registry password from the first line of stdin.
    #[arg(long, requires = "registry_user")]
    pub registry_password_stdin: bool,
    /// An extra CA (PEM) to verify an HTTPS registry with, besides the system's.
    #[arg(long, env = "CCAAS_REGISTRY_CA", value_name = "FILE")]
    pub registry_ca: Option<PathBuf>,
    #[command(flatten)]
    pub token_hosts: TokenHostArgs,
}

/// Token services on other hosts.
#[derive(Args, Debug)]
pub struct TokenHostArgs {
    /// A token service on another host than the registry's that may get the registry
    /// credentials to issue a Bearer token: the host of the registry challenge's realm, e.g.
    /// gitlab.example.com for a self-hosted GitLab's registry.example.com; repeatable. Docker
    /// Hub's and GitLab.com's need none.
    #[arg(
        long = "registry-token-host",
        env = "CCAAS_REGISTRY_TOKEN_HOSTS",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    pub registry_token_hosts: Vec<String>,
}

/// The registry password from CCAAS_REGISTRY_PASSWORD, or stdin's first line.
fn registry_password(user: &str, stdin: bool) -> Result<String, Error> {
    use ccaas_deploy::registry_auth::PASSWORD_VAR;
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::Config(format!("cannot read the registry password from stdin: {e}")))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    std::env::var(PASSWORD_VAR).map_err(|_| {
        Error::Config(format!(
            "registry user {user} has no password: set {PASSWORD_VAR} (image --push also reads it from stdin \
             with --registry-password-stdin)"
        ))
    })
}

/// The credentials for pushing to `reference`: the given user (`--registry-user` or
/// CCAAS_REGISTRY_USER) bound by CCAAS_REGISTRY_HOST or, without it, to a reference given on
/// the command line; else the auth files' entry for its host (see ccaas_deploy::registry_auth).
pub fn push_options(
    reference: &ccaas_deploy::registry::Reference,
    user: Option<&str>,
    password_stdin: bool,
    reference_on_command_line: bool,
    insecure: bool,
    ca: Option<PathBuf>,
    token_hosts: &TokenHostArgs,
) -> Result<ccaas_deploy::registry::PushOptions, Error> {
    use ccaas_deploy::registry::Credentials;
    use ccaas_deploy::registry_auth::{self, Given, HOST_VAR};
    let given = match user.filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(Given {
            credentials: Credentials { user: u.to_string(), password: registry_password(u, password_stdin)? },
            host: std::env::var(HOST_VAR).ok(),
            reference_on_command_line,
        }),
    };
    let credentials = registry_auth::resolve(reference, given, &registry_auth::auth_files())?;
    Ok(ccaas_deploy::registry::PushOptions {
        insecure,
        credentials,
        ca,
        token_hosts: token_hosts.registry_token_hosts.clone(),
    })
}

impl PushArgs {
    /// The options for pushing to `reference` (the --push reference).
    pub fn options(
        &self,
        reference: &ccaas_deploy::registry::Reference,
    ) -> Result<ccaas_deploy::registry::PushOptions, Error> {
        push_options(
            reference,
            self.registry_user.as_deref(),
            self.registry_password_stdin,
            true,
            self.insecure,
            self.registry_ca.clone(),
            &self.token_hosts,
        )
    }
}

pub async fn image(out: &Printer, a: &ImageArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    out.progress(&format!("assembling an image from {}", a.binary.display()));
    let spec = ImageSpec {
        binary: a.binary.clone(),
        entrypoint: a.entrypoint.clone(),
        port: (!a.no_port).then_some(a.port),
        user: a.uid,
        env: a.env.clone(),
        more_binaries: a.add_binaries.clone(),
    };
    let img = image::build(&spec)?;
    let name = a.binary.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "chaincode".into());
    let tag = a.tag.clone().or_else(|| a.push.push.clone()).unwrap_or_else(|| format!("{name}:latest"));
    let mut written = Vec::new();
    if let Some(dir) = &a.oci_layout {
        img.write_oci_layout(dir, Some(&tag))?;
        written.push(json!({"format": "oci-layout", "path": dir}));
    }
    if let Some(f) = &a.oci_archive {
        image::write_file(f, &img.oci_archive(Some(&tag))?)?;
        written.push(json!({"format": "oci-archive", "path": f}));
    }
    if let Some(f) = &a.docker_archive {
        image::write_file(f, &img.docker_archive(&tag)?)?;
        written.push(json!({"format": "docker-archive", "path": f}));
    }
    let mut pushed = None;
    if let Some(r) = &a.push.push {
        let reference: Reference = r.parse()?;
        let opts = a.push.options(&reference)?;
        out.progress(&format!("pushing {} to {reference}", img.digest()));
        let mut progress = |l: &str| out.progress(l);
        pushed = Some(registry::push(&img, &reference, opts, &mut progress).await?);
    }
    let linking = if img.static_binary { "static binary" } else { "dynamically linked: libraries copied in" };
    let mut text = vec![
        format!("digest {}", img.digest()),
        format!(
            "{} bytes compressed ({:.2} MiB), {linking}; files: {}",
            img.compressed_size(),
            img.compressed_size() as f64 / (1024.0 * 1024.0),
            img.files.join(" ")
        ),
    ];
    for w in &written {
        text.push(format!("wrote {} {}", w["format"].as_str().unwrap_or(""), w["path"].as_str().unwrap_or("")));
    }
    if let Some(p) = &pushed {
        text.push(format!("pushed {} as {}", p.pinned, p.reference));
    }
    if written.is_empty() && pushed.is_none() {
        text.push(
            "nothing written: add --push REF, --oci-layout DIR, --oci-archive FILE or --docker-archive FILE".into(),
        );
    }
    text.push(format!("took {:.1?}", started.elapsed()));
    out.result(
        &text,
        json!({"digest": img.digest(), "config_digest": img.config.digest, "layer_digest": img.layer.digest,
               "compressed_size": img.compressed_size(), "static": img.static_binary, "files": img.files,
               "reference": tag, "written": written, "pushed": pushed}),
    );
    Ok(0)
}
