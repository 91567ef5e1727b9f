//! Where `image --push` and `up` send registry credentials, against registry stand-ins on
//! loopback (std TcpListeners on 127.0.0.1:0 speaking just enough of the registry HTTP API, HTTPS
//! with a test CA where the case needs it; another port counts as another host): a token realm
//! or an upload Location over plain HTTP, or on another host, gets no request at all, and the
//! push fails with an error naming the registry and the refused URL; a token host allowed with
//! `--registry-token-host` (or CCAAS_REGISTRY_TOKEN_HOSTS) gets the Basic credentials and the
//! registry only the Bearer token; a Docker `config.json` entry goes to its host only; `up`
//! refuses credentials bound to another host than its image's, or not bound at all.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");
const BINARY: &str = "/bin/true";
const USER: &str = "ci";
const PASSWORD: &str = "s3cret";
const TOKEN: &str = "issued-token";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// A request as a stand-in saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

/// Status, headers, body.
type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// A loopback HTTP(S) server answering each connection's one request with `handler`, recording
/// every request.
struct StandIn {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl StandIn {
    fn start(
        tls: Option<Arc<rustls::ServerConfig>>,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (record, handler) = (seen.clone(), Arc::new(handler));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (record, handler, tls) = (record.clone(), handler.clone(), tls.clone());
                std::thread::spawn(move || {
                    let _ = match tls {
                        Some(config) => {
                            let conn = rustls::ServerConnection::new(config).unwrap();
                            let mut tls = rustls::StreamOwned::new(conn, stream);
                            let r = serve_one(&mut tls, &record, &*handler);
                            tls.conn.send_close_notify();
                            let _ = tls.flush();
                            r
                        }
                        None => serve_one(&mut { stream }, &record, &*handler),
                    };
                });
            }
        });
        StandIn { port, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn serve_one<S: Read + Write>(
    stream: &mut S,
    record: &Mutex<Vec<Seen>>,
    handler: &dyn Fn(&Seen) -> Reply,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let (mut authorization, mut length) = (None, 0usize);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((&header, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.trim().to_string()),
            "content-length" => length = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request = Seen { method, target, authorization, body };
    record.lock().unwrap().push(request.clone());
    let (status, headers, body) = handler(&request);
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if request.method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// A test CA and a server config for 127.0.0.1 signed by it; the CA's PEM is written to `dir`.
fn tls(dir: &Path) -> (Arc<rustls::ServerConfig>, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "registry test CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let key = rcgen::KeyPair::generate().unwrap();
    let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &issuer).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    (Arc::new(config), ca_file)
}

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// How the registry stand-in authenticates.
#[derive(Clone)]
enum Auth {
    /// `Basic` with USER and PASSWORD.
    Basic,
    /// `Bearer` with TOKEN, from this realm.
    Bearer(String),
}

/// A registry: requests without the right `Authorization` get the challenge; blob checks say
/// missing, an upload start answers `location`, uploads and manifests are accepted.
fn registry(tls: Option<Arc<rustls::ServerConfig>>, auth: Auth, location: String) -> StandIn {
    StandIn::start(tls, move |r| {
        let (expected, challenge) = match &auth {
            Auth::Basic => (basic(USER, PASSWORD), "Basic realm=\"test\"".to_string()),
            Auth::Bearer(realm) => {
                (format!("Bearer {TOKEN}"), format!("Bearer realm=\"{realm}\",service=\"test-registry\""))
            }
        };
        if r.authorization.as_deref() != Some(expected.as_str()) {
            return (401, vec![("WWW-Authenticate", challenge)], b"{}".to_vec());
        }
        let path = r.target.split('?').next().unwrap_or("");
        match r.method.as_str() {
            "HEAD" => (404, vec![], vec![]),
            "POST" if path.ends_with("/blobs/uploads/") => (202, vec![("Location", location.clone())], vec![]),
            "PUT" if path.contains("/manifests/") => (201, vec![("Docker-Content-Digest", sha256(&r.body))], vec![]),
            "PUT" => (201, vec![], vec![]),
            _ => (404, vec![], vec![]),
        }
    })
}

/// A token service that issues TOKEN to USER:PASSWORD.
fn token_service(tls: Option<Arc<rustls::ServerConfig>>) -> StandIn {
    StandIn::start(tls, |r| {
        if r.authorization.as_deref() == Some(basic(USER, PASSWORD).as_str()) {
            (200, vec![("Content-Type", "application/json".into())], format!("{{\"token\":\"{TOKEN}\"}}").into_bytes())
        } else {
            (401, vec![], b"{}".to_vec())
        }
    })
}

/// Another listener that would accept anything: it must get no request.
fn elsewhere(tls: Option<Arc<rustls::ServerConfig>>) -> StandIn {
    token_service(tls)
}

fn push(reference: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(DEPLOY)
        .env_clear()
        .args(["image", BINARY, "--push", reference, "--registry-user", USER])
        .args(extra)
        .env("CCAAS_REGISTRY_PASSWORD", PASSWORD)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The push failed with exit code 2 and an error containing each of `words`.
fn refused(out: &Output, words: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "the push must fail: {err}");
    for w in words {
        assert!(err.contains(w), "the error does not name {w}: {err}");
    }
}

fn untouched(other: &StandIn) {
    let seen = other.seen();
    assert!(seen.iter().all(|r| r.authorization.is_none()), "credentials reached the other listener: {seen:?}");
    assert!(seen.is_empty(), "the other listener got requests: {seen:?}");
}

#[test]
fn an_https_registry_s_plain_http_token_realm_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (tls, ca) = tls(dir.path());
    let other = elsewhere(None);
    let realm = format!("http://{}/token", other.host());
    let reg = registry(Some(tls), Auth::Bearer(realm.clone()), String::new());
    let reference = format!("{}/cc/true:1", reg.host());
    // Even allowed as a token host, a plain-HTTP realm is refused.
    let out = push(&reference, &["--registry-ca", ca.to_str().unwrap(), "--registry-token-host", &other.host()], &[]);
    refused(&out, &[&reg.host(), &realm, "plain HTTP", "https://"]);
    untouched(&other);
}

#[test]
fn a_token_realm_on_another_host_gets_nothing_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (tls, ca) = tls(dir.path());
    let other = elsewhere(Some(tls.clone()));
    let realm = format!("https://{}/token", other.host());
    let reg = registry(Some(tls), Auth::Bearer(realm.clone()), String::new());
    let reference = format!("{}/cc/true:1", reg.host());
    let out = push(&reference, &["--registry-ca", ca.to_str().unwrap()], &[]);
    refused(&out, &[&reg.host(), &realm, &format!("--registry-token-host {}", other.host())]);
    // Another host allowed is not this one.
    let out = push(&reference, &["--registry-ca", ca.to_str().unwrap(), "--registry-token-host", "127.0.0.1"], &[]);
    refused(&out, &[&realm]);
    untouched(&other);
}

#[test]
fn an_https_registry_s_plain_http_upload_location_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (tls, ca) = tls(dir.path());
    let other = elsewhere(None);
    let location = format!("http://{}/v2/cc/true/blobs/uploads/1", other.host());
    let reg = registry(Some(tls), Auth::Basic, location.clone());
    let out = push(&format!("{}/cc/true:1", reg.host()), &["--registry-ca", ca.to_str().unwrap()], &[]);
    refused(&out, &[&reg.host(), &location, "plain HTTP"]);
    untouched(&other);
    assert!(reg.seen().iter().any(|r| r.method == "POST"), "the refusal came after the upload started");
}

#[test]
fn an_upload_location_on_another_host_gets_nothing() {
    let other = elsewhere(None);
    let location = format!("http://{}/v2/cc/true/blobs/uploads/1", other.host());
    let reg = registry(None, Auth::Basic, location.clone());
    // Even a protocol-relative Location naming another host.
    let relative = registry(None, Auth::Basic, format!("//{}/v2/cc/true/blobs/uploads/1", other.host()));
    for reg in [&reg, &relative] {
        let out = push(&format!("{}/cc/true:1", reg.host()), &["--insecure"], &[]);
        refused(&out, &[&reg.host(), &format!("{}/v2/cc/true/blobs/uploads/1", other.host()), "another address"]);
    }
    untouched(&other);
}

#[test]
fn an_allowed_token_host_gets_the_credentials_and_the_registry_only_the_token() {
    let tokens = token_service(None);
    let realm = format!("http://{}/token", tokens.host());
    // A relative Location: resolved against the registry.
    let reg = registry(None, Auth::Bearer(realm), "/v2/cc/true/blobs/uploads/1?state=x".into());
    let reference = format!("{}/cc/true:1", reg.host());
    let by_flag = ["--insecure", "--registry-token-host", &tokens.host()];
    let by_env = [("CCAAS_REGISTRY_TOKEN_HOSTS", format!("example.com:5001,{}", tokens.host()))];
    for out in
        [push(&reference, &by_flag, &[]), push(&reference, &["--insecure"], &[(by_env[0].0, by_env[0].1.as_str())])]
    {
        assert!(out.status.success(), "push failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let asked = tokens.seen();
    assert!(!asked.is_empty() && asked.iter().all(|r| r.authorization == Some(basic(USER, PASSWORD))), "{asked:?}");
    let seen = reg.seen();
    let authorized: Vec<_> = seen.iter().filter_map(|r| r.authorization.as_deref()).collect();
    assert!(authorized.iter().all(|a| *a == format!("Bearer {TOKEN}")), "the registry got {authorized:?}");
    assert!(seen
        .iter()
        .any(|r| r.method == "PUT" && r.target.starts_with("/v2/cc/true/blobs/uploads/1?state=x&digest=")));
    assert!(seen
        .iter()
        .any(|r| r.method == "PUT" && r.target == "/v2/cc/true/manifests/1" && r.authorization.is_some()));
}

#[test]
fn docker_config_credentials_go_to_their_host_only() {
    let reg = registry(None, Auth::Basic, "/v2/cc/true/blobs/uploads/1".into());
    let other = elsewhere(None);
    let dir = tempfile::tempdir().unwrap();
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    let config = serde_json::json!({"auths": {
        format!("http://{}/v2/", reg.host()): {"auth": b64(format!("{USER}:{PASSWORD}"))},
        other.host(): {"auth": b64("someone:else".into())},
    }});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let push = |reference: String| {
        Command::new(DEPLOY)
            .env_clear()
            .env("DOCKER_CONFIG", dir.path())
            .args(["image", BINARY, "--insecure", "--push", &reference])
            .output()
            .unwrap()
    };
    let out = push(format!("{}/cc/true:1", reg.host()));
    assert!(out.status.success(), "push failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(reg.seen().iter().any(|r| r.authorization == Some(basic(USER, PASSWORD))));
    assert!(reg.seen().iter().all(|r| r.authorization.is_none() || r.authorization == Some(basic(USER, PASSWORD))));
    untouched(&other);
    // A registry the file has no entry for gets no credential.
    let bare = registry(None, Auth::Basic, String::new());
    refused(&push(format!("{}/cc/true:1", bare.host())), &["asks for a user and password", &bare.host()]);
    assert!(bare.seen().iter().all(|r| r.authorization.is_none()), "{:?}", bare.seen());
}

#[test]
fn credentials_bound_to_another_host_are_refused() {
    let reg = registry(None, Auth::Basic, String::new());
    let out =
        push(&format!("{}/cc/true:1", reg.host()), &["--insecure"], &[("CCAAS_REGISTRY_HOST", "registry.example.com")]);
    refused(&out, &["registry.example.com", &reg.host(), "CCAAS_REGISTRY_HOST"]);
    assert!(reg.seen().is_empty(), "{:?}", reg.seen());
}

/// `up` with its image reference in the config file: credentials from the environment must be
/// bound to its host. (It checks them before connecting to anything, so no network is needed.)
#[test]
fn up_refuses_credentials_not_bound_to_its_image_registry() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ccaas-deploy.yaml");
    let reg = registry(None, Auth::Basic, String::new());
    std::fs::write(
        &file,
        format!(
            "chaincode:\n  name: asset\n  version: \"1.0\"\n  address: asset:7052\n\
             image:\n  reference: {}/asset:1.0\n  binary: {BINARY}\n  insecure: true\n",
            reg.host()
        ),
    )
    .unwrap();
    let up = |env: &[(&str, &str)], extra: &[&str]| {
        Command::new(DEPLOY)
            .env_clear()
            .args(["up", "-f", file.to_str().unwrap()])
            .args(extra)
            .env("CCAAS_REGISTRY_USER", USER)
            .env("CCAAS_REGISTRY_PASSWORD", PASSWORD)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let out = up(&[("CCAAS_REGISTRY_HOST", "registry.example.com")], &[]);
    refused(&out, &["registry.example.com", &reg.host(), "CCAAS_REGISTRY_HOST"]);
    let out = up(&[], &[]);
    refused(&out, &[&format!("CCAAS_REGISTRY_HOST={}", reg.host()), "config file"]);
    // Bound to the image's registry (by the variable, or by --image): `up` goes on, and stops at
    // the Fabric connection this test does not give.
    let reference = format!("{}/asset:1.0", reg.host());
    for out in [up(&[("CCAAS_REGISTRY_HOST", &reg.host())], &[]), up(&[], &["--image", &reference])] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && !err.contains("CCAAS_REGISTRY"), "{err}");
    }
    assert!(reg.seen().is_empty(), "{:?}", reg.seen());
}
