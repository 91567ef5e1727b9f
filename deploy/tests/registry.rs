//! `ccaas-deploy image --push` against a real registry (Debian's `docker-registry`, the CNCF
//! distribution registry, on loopback over plain HTTP with `--insecure`): anonymous, Basic
//! (htpasswd) and Bearer (token auth with an in-test token service that signs ES256 JWTs the
//! registry verifies against its certificate). skopeo reads what was pushed.
//!
//! Without `docker-registry` or `skopeo` the tests skip with one line, except under `CI=true`
//! (`.ci/run` installs both).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use registry_server::{Registry, HTPASSWD, PASSWORD, USER};
use serde_json::{json, Value};

#[path = "common/registry.rs"]
mod registry_server;

const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");
const BINARY: &str = "/bin/true";

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

fn tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    match (tool("docker-registry"), tool("skopeo")) {
        (Some(r), Some(s)) => Some((r, s)),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but docker-registry or skopeo is missing (.ci/run installs them)");
            }
            eprintln!(
                "skipping {test}: docker-registry and skopeo are needed (apt-get install docker-registry skopeo)"
            );
            None
        }
    }
}

fn push(reference: &str, creds: bool) -> Output {
    push_with(reference, creds, &[])
}

fn push_with(reference: &str, creds: bool, extra: &[&str]) -> Output {
    let mut c = Command::new(DEPLOY);
    c.env_clear().args(["image", BINARY, "--insecure", "--output", "json", "--push", reference]).args(extra);
    if creds {
        c.args(["--registry-user", USER]).env("CCAAS_REGISTRY_PASSWORD", PASSWORD);
    }
    c.output().unwrap()
}

fn pushed(out: &Output) -> Value {
    assert!(out.status.success(), "push failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pushed"]["digest"], v["digest"]);
    v
}

/// skopeo's view: the manifest digest and the raw manifest.
fn inspect(skopeo: &Path, reference: &str, creds: bool) -> (String, Value) {
    let mut c = Command::new(skopeo);
    c.args(["inspect", "--tls-verify=false"]);
    if creds {
        c.arg("--creds").arg(format!("{USER}:{PASSWORD}"));
    }
    let out = c.arg(format!("docker://{reference}")).output().unwrap();
    assert!(out.status.success(), "skopeo inspect {reference}: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut c = Command::new(skopeo);
    c.args(["inspect", "--raw", "--tls-verify=false"]);
    if creds {
        c.arg("--creds").arg(format!("{USER}:{PASSWORD}"));
    }
    let raw = c.arg(format!("docker://{reference}")).output().unwrap();
    (v["Digest"].as_str().unwrap().to_string(), serde_json::from_slice(&raw.stdout).unwrap())
}

#[test]
fn anonymous_push_then_nothing_to_upload() {
    let Some((registry, skopeo)) = tools("anonymous_push_then_nothing_to_upload") else { return };
    let reg = Registry::start(&registry, "", &[]);
    let reference = reg.reference("chaincode/true:1.0");
    let first = pushed(&push(&reference, false));
    assert_eq!(first["pushed"]["uploaded"].as_array().unwrap().len(), 2, "{first}");
    let (digest, raw) = inspect(&skopeo, &reference, false);
    assert_eq!(digest, first["digest"].as_str().unwrap());
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(first["pushed"]["pinned"], format!("127.0.0.1:{}/chaincode/true@{digest}", reg.port));
    // The same binary again: same digest, no blob uploaded.
    let second = pushed(&push(&reference, false));
    assert_eq!(second["digest"], first["digest"]);
    assert_eq!(second["pushed"]["uploaded"], json!([]));
    assert_eq!(second["pushed"]["existing"].as_array().unwrap().len(), 2);
}

#[test]
fn basic_auth_push() {
    let Some((registry, skopeo)) = tools("basic_auth_push") else { return };
    let auth = "auth:\n  htpasswd:\n    realm: ccaas-test\n    path: DIR/htpasswd\n";
    let reg = Registry::start(&registry, auth, &[("htpasswd", HTPASSWD.as_bytes())]);
    let reference = reg.reference("true:basic");
    // Without credentials: refused, saying what to give.
    let out = push(&reference, false);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--registry-user") && err.contains("CCAAS_REGISTRY_PASSWORD"), "{err}");
    // A wrong password: refused, naming the user.
    let out = Command::new(DEPLOY)
        .env_clear()
        .args(["image", BINARY, "--insecure", "--push", &reference, "--registry-user", USER])
        .env("CCAAS_REGISTRY_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the credentials of ci"));
    let v = pushed(&push(&reference, true));
    assert_eq!(inspect(&skopeo, &reference, true).0, v["digest"].as_str().unwrap());
    // What `up` checks before assembling an image again: the tag's digest, with a HEAD request
    // (authenticated as the push is); none for a tag never pushed.
    let opts = ccaas_deploy::registry::PushOptions {
        insecure: true,
        credentials: Some(ccaas_deploy::registry::Credentials { user: USER.into(), password: PASSWORD.into() }),
        ..Default::default()
    };
    let head = |r: &str| {
        let r: ccaas_deploy::registry::Reference = r.parse().unwrap();
        tokio::runtime::Runtime::new().unwrap().block_on(ccaas_deploy::registry::manifest_digest(&r, opts.clone()))
    };
    assert_eq!(head(&reference).unwrap().as_deref(), v["digest"].as_str());
    assert_eq!(head(&reg.reference("true:never-pushed")).unwrap(), None);
}

/// A token service: answers `GET /token?scope=...&service=...` with an ES256 JWT granting the
/// asked repository actions to a client that presents the Basic credentials.
struct TokenService {
    port: u16,
    cert_pem: String,
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl TokenService {
    fn start() -> TokenService {
        use p256::ecdsa::signature::Signer;
        use p256::pkcs8::DecodePrivateKey;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let signing = p256::ecdsa::SigningKey::from_pkcs8_der(&key.serialize_der()).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["token-issuer".to_string()]).unwrap().self_signed(&key).unwrap();
        let cert_der = cert.der().to_vec();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut authorized = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    let expected = format!(
                        "authorization: basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
                    );
                    authorized |= line.trim().eq_ignore_ascii_case(&expected);
                }
                let query =
                    request_line.split_whitespace().nth(1).unwrap_or("").split_once('?').map(|x| x.1).unwrap_or("");
                let param = |k: &str| {
                    percent_decode(query.split('&').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap_or(""))
                };
                let (status, body) = if !authorized {
                    ("401 Unauthorized", json!({"details": "bad credentials"}).to_string())
                } else {
                    let scope = param("scope");
                    let mut parts = scope.splitn(3, ':');
                    let (kind, name, actions) =
                        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                    let header = json!({"alg": "ES256", "typ": "JWT",
                        "x5c": [base64::engine::general_purpose::STANDARD.encode(&cert_der)]});
                    let claims = json!({"iss": "ccaas-test-issuer", "sub": USER, "aud": param("service"),
                        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", rand_u32()),
                        "access": [{"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}]});
                    let signing_input =
                        format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
                    let sig: p256::ecdsa::Signature = signing.sign(signing_input.as_bytes());
                    let token = format!("{signing_input}.{}", b64url(&sig.to_bytes()));
                    ("200 OK", json!({"token": token, "access_token": token}).to_string())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        TokenService { port, cert_pem: cert.pem() }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    getrandom::getrandom(&mut b).unwrap();
    u32::from_le_bytes(b)
}

#[test]
fn bearer_token_push() {
    let Some((registry, skopeo)) = tools("bearer_token_push") else { return };
    let tokens = TokenService::start();
    let auth = format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: ccaas-test-registry\n    \
         issuer: ccaas-test-issuer\n    rootcertbundle: DIR/token.pem\n",
        tokens.port
    );
    let reg = Registry::start(&registry, &auth, &[("token.pem", tokens.cert_pem.as_bytes())]);
    let reference = reg.reference("chaincode/true:bearer");
    // The token service is on another port: the credentials go there only when it is allowed.
    let out = push(&reference, true);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--registry-token-host"));
    let token_host = format!("127.0.0.1:{}", tokens.port);
    let allow = ["--registry-token-host", token_host.as_str()];
    let out = push_with(&reference, false, &allow);
    assert_eq!(out.status.code(), Some(2), "a token without credentials must be refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused a push token"));
    let v = pushed(&push_with(&reference, true, &allow));
    let out = push_with(&reference, true, &allow);
    assert_eq!(pushed(&out)["pushed"]["uploaded"], json!([]), "{}", reg.log());
    assert_eq!(inspect(&skopeo, &reference, true).0, v["digest"].as_str().unwrap());
}
