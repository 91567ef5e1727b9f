//! Registry credentials: where `image --push` and `up` take them from, and which registry they
//! belong to (where a push then sends them is [`crate::registry`]'s rule).
//!
//! Sources, the first that applies wins:
//!
//! 1. Given explicitly: `--registry-user` or [`USER_VAR`], with [`PASSWORD_VAR`] or
//!    `--registry-password-stdin`. They belong to the registry host [`HOST_VAR`] names, and are
//!    refused for any other. Without [`HOST_VAR`], they belong to the image reference only when
//!    that reference was given on the command line (`image --push REF`, `up --image REF`); `up`
//!    with the reference of its config file refuses them: a config file (one from a pull
//!    request, say) could otherwise name any registry and collect them.
//! 2. The auth file `podman login` or `docker login` wrote, the first of [`auth_files`] with an
//!    entry for the reference's registry host (Docker Hub's `https://index.docker.io/v1/` key
//!    counts for `docker.io`): its `auth` (base64 of `user:password`), or `username` and
//!    `password`. These entries are bound to their host by construction. Credential helpers
//!    (`credsStore`, `credHelpers`) and identity tokens are not run: a host only they hold is an
//!    error that says to give the credentials explicitly.
//! 3. None: the push is anonymous.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::reference::{Credentials, Reference};
use crate::Error;

/// The registry user.
pub const USER_VAR: &str = "CCAAS_REGISTRY_USER";
/// The registry password.
pub const PASSWORD_VAR: &str = "CCAAS_REGISTRY_PASSWORD";
/// The registry `host[:port]` that [`USER_VAR`] and [`PASSWORD_VAR`] belong to.
pub const HOST_VAR: &str = "CCAAS_REGISTRY_HOST";
/// Token hosts allowed besides the registry's own (comma-separated `host[:port]`).
pub const TOKEN_HOSTS_VAR: &str = "CCAAS_REGISTRY_TOKEN_HOSTS";
/// The variables that hold secrets: kept from the processes the tool runs (build-static's cargo).
pub const SECRET_VARS: [&str; 2] = [USER_VAR, PASSWORD_VAR];

/// Credentials given on the command line or in the environment, and what binds them to a
/// registry.
#[derive(Clone, Debug)]
pub struct Given {
    /// The user and password.
    pub credentials: Credentials,
    /// [`HOST_VAR`]: the registry `host[:port]` they belong to.
    pub host: Option<String>,
    /// The image reference was given on the command line: without `host`, they belong to its
    /// registry.
    pub reference_on_command_line: bool,
}

/// The registry host as auth files key it: lowercase, without scheme or path, Docker Hub's names
/// as `docker.io`.
pub fn host_key(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(s);
    let host = s.split('/').next().unwrap_or("").to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => host,
    }
}

/// The auth files searched, in order: `$REGISTRY_AUTH_FILE`,
/// `${XDG_RUNTIME_DIR}/containers/auth.json`, `~/.config/containers/auth.json` (podman's), then
/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (Docker's).
pub fn auth_files() -> Vec<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = var("HOME");
    let mut files = Vec::new();
    files.extend(var("REGISTRY_AUTH_FILE"));
    files.extend(var("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json")));
    files.extend(home.as_ref().map(|h| h.join(".config/containers/auth.json")));
    match var("DOCKER_CONFIG") {
        Some(d) => files.push(d.join("config.json")),
        None => files.extend(home.map(|h| h.join(".docker/config.json"))),
    }
    files
}

/// The credentials to push to `reference` with: the given ones if they belong to its registry
/// (an error naming both hosts if they belong to another), else the first auth file's entry
/// for its registry host, else none.
pub fn resolve(
    reference: &Reference,
    given: Option<Given>,
    auth_files: &[PathBuf],
) -> Result<Option<Credentials>, Error> {
    let registry = &reference.registry;
    if let Some(g) = given {
        return match g.host.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            Some(h) if host_key(h) == host_key(registry) => Ok(Some(g.credentials)),
            Some(h) => Err(Error::Config(format!(
                "the registry credentials of {} belong to {HOST_VAR}={h}, but the image goes to {registry} \
                 ({reference}): refused to send them there; if they are {registry}'s, set {HOST_VAR}={registry}, \
                 else unset {USER_VAR} (an auth file's entry for {registry} is then used)",
                g.credentials.user
            ))),
            None if g.reference_on_command_line => Ok(Some(g.credentials)),
            None => Err(Error::Config(format!(
                "{USER_VAR} is set but {HOST_VAR} is not, and the image reference {reference} comes from the config \
                 file, which could name any registry: set {HOST_VAR}={registry} if the credentials are {registry}'s \
                 (they then go to no other registry), or give the reference with --image"
            ))),
        };
    }
    let key = host_key(registry);
    for file in auth_files {
        if let Some(c) = from_auth_file(file, &key)? {
            tracing::debug!(file = %file.display(), registry = %registry, "registry credentials from an auth file");
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The entry for the host `key` in the auth file `path`: `None` if the file or the entry is
/// missing, an error if the entry is unusable (a credential helper, a token, bad base64).
fn from_auth_file(path: &Path, key: &str) -> Result<Option<Credentials>, Error> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(cause) => return Err(Error::Read { what: "registry auth file", path: path.into(), cause }),
    };
    let bad = |why: String| {
        Error::Config(format!(
            "the registry auth file {} {why}: log in again (podman login / docker login {key}), or give the \
             credentials with {USER_VAR} and {PASSWORD_VAR}",
            path.display()
        ))
    };
    let v: serde_json::Value = serde_json::from_slice(&text).map_err(|e| bad(format!("is not JSON ({e})")))?;
    let entry = v["auths"].as_object().and_then(|a| a.iter().find(|(k, _)| host_key(k) == key).map(|(_, e)| e));
    let helper = v["credHelpers"]
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| host_key(k) == key).map(|(_, h)| h.as_str().unwrap_or("").to_string()))
        .or_else(|| entry.and(v["credsStore"].as_str().map(String::from)));
    if let Some(entry) = entry {
        if let Some(auth) = entry["auth"].as_str().filter(|a| !a.trim().is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| bad(format!("has an entry for {key} whose auth is not base64 of user:password")))?;
            let (user, password) = decoded
                .split_once(':')
                .ok_or_else(|| bad(format!("has an entry for {key} whose auth is not user:password")))?;
            return Ok(Some(Credentials { user: user.into(), password: password.into() }));
        }
        if let (Some(user), Some(password)) = (entry["username"].as_str(), entry["password"].as_str()) {
            return Ok(Some(Credentials { user: user.into(), password: password.into() }));
        }
        if entry.get("identitytoken").is_some() {
            return Err(bad(format!("holds an identity token for {key}, which this tool does not use")));
        }
    }
    match helper {
        Some(h) => Err(Error::Config(format!(
            "the credentials for {key} are in the credential helper docker-credential-{h} (named in {}), which \
             ccaas-deploy does not run: give them with {USER_VAR} (or --registry-user) and {PASSWORD_VAR}, with \
             {HOST_VAR}={key} for up",
            path.display()
        ))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(s: &str) -> Reference {
        s.parse().unwrap()
    }

    fn creds(user: &str) -> Credentials {
        Credentials { user: user.into(), password: "pw".into() }
    }

    fn given(host: Option<&str>, on_command_line: bool) -> Option<Given> {
        Some(Given {
            credentials: creds("ci"),
            host: host.map(String::from),
            reference_on_command_line: on_command_line,
        })
    }

    fn auth_file(dir: &Path, json: serde_json::Value) -> Vec<PathBuf> {
        let path = dir.join("config.json");
        std::fs::write(&path, json.to_string()).unwrap();
        vec![dir.join("missing.json"), path]
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn given_credentials_go_only_to_their_host() {
        let r = reference("reg.example.com:5000/asset:1.0");
        let ok = resolve(&r, given(Some("REG.example.com:5000"), false), &[]).unwrap();
        assert_eq!(ok, Some(creds("ci")));
        let err = resolve(&r, given(Some("other.example.com"), true), &[]).unwrap_err().to_string();
        assert!(
            err.contains("other.example.com") && err.contains("reg.example.com:5000") && err.contains(HOST_VAR),
            "{err}"
        );
        // Without a host: only a command-line reference binds them.
        assert_eq!(resolve(&r, given(None, true), &[]).unwrap(), Some(creds("ci")));
        let err = resolve(&r, given(None, false), &[]).unwrap_err().to_string();
        assert!(err.contains(HOST_VAR) && err.contains("reg.example.com:5000") && err.contains("--image"), "{err}");
    }

    #[test]
    fn given_credentials_win_over_the_auth_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = auth_file(dir.path(), serde_json::json!({"auths": {"reg.example.com": {"auth": b64("file:x")}}}));
        let r = reference("reg.example.com/asset:1.0");
        assert_eq!(resolve(&r, given(None, true), &files).unwrap(), Some(creds("ci")));
        let from_file = resolve(&r, None, &files).unwrap().unwrap();
        assert_eq!((from_file.user.as_str(), from_file.password.as_str()), ("file", "x"));
    }

    #[test]
    fn auth_file_entries_match_the_reference_host() {
        let dir = tempfile::tempdir().unwrap();
        let files = auth_file(
            dir.path(),
            serde_json::json!({"auths": {
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hub:pw")},
                "http://127.0.0.1:5000/v2/": {"auth": b64("local:pw")},
                "quay.io": {"username": "q", "password": "qpw"},
            }}),
        );
        let hub = resolve(&reference("docker.io/someone/asset:1.0"), None, &files).unwrap().unwrap();
        assert_eq!((hub.user.as_str(), hub.password.as_str()), ("hubuser", "hub:pw"), "split at the first ':'");
        assert_eq!(resolve(&reference("127.0.0.1:5000/a:1"), None, &files).unwrap().unwrap().user, "local");
        assert_eq!(resolve(&reference("quay.io/q/a:1"), None, &files).unwrap().unwrap().user, "q");
        assert_eq!(resolve(&reference("127.0.0.1:5001/a:1"), None, &files).unwrap(), None, "another port");
        assert_eq!(resolve(&reference("ghcr.io/o/a:1"), None, &files).unwrap(), None);
    }

    #[test]
    fn credential_helpers_are_reported_when_they_are_the_only_source() {
        let dir = tempfile::tempdir().unwrap();
        let files = auth_file(
            dir.path(),
            serde_json::json!({
                "auths": {"ghcr.io": {}, "quay.io": {"auth": b64("q:pw")}},
                "credsStore": "desktop",
                "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
            }),
        );
        let err = resolve(&reference("ghcr.io/o/a:1"), None, &files).unwrap_err().to_string();
        assert!(err.contains("docker-credential-desktop") && err.contains(USER_VAR), "{err}");
        let err = resolve(&reference("123.dkr.ecr.eu-west-1.amazonaws.com/a:1"), None, &files).unwrap_err();
        assert!(err.to_string().contains("docker-credential-ecr-login"), "{err}");
        // A host with an auth entry uses it; a host the file does not name is anonymous.
        assert_eq!(resolve(&reference("quay.io/o/a:1"), None, &files).unwrap().unwrap().user, "q");
        assert_eq!(resolve(&reference("registry.example.com/a:1"), None, &files).unwrap(), None);
    }

    #[test]
    fn a_broken_auth_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = resolve(&reference("quay.io/o/a:1"), None, std::slice::from_ref(&path)).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()) && err.contains("not JSON"), "{err}");
    }
}
