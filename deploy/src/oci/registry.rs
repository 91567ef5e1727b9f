//! Pushing an [`Image`] to a registry with the distribution HTTP API (v2): blobs that the
//! registry lacks are uploaded (monolithic `POST` then `PUT ?digest=`), then the manifest is put
//! under the tag. Authentication follows the registry's `WWW-Authenticate` challenge: `Basic`
//! with the given user and password, or `Bearer` (a token from the challenge's realm, asked for
//! with those credentials when there are any, scope `repository:<repo>:pull,push`).
//!
//! HTTPS verifies the registry against the system's CA bundle plus an optional extra CA;
//! `insecure` speaks plain HTTP (a registry on loopback, for instance).
//!
//! # Where credentials go
//!
//! The credentials belong to the registry of the reference (which ones those are, and where
//! they come from, is [`crate::registry_auth`]'s business). A push sends them to no one else:
//!
//! * The registry's own address is its scheme (`https`, or `http` with `insecure`), host and
//!   port. Every registry request goes there, with `Basic` credentials or the `Bearer` token the
//!   registry challenged for; nothing else ever gets that header.
//! * A `Bearer` realm (the token service, which gets the `Basic` credentials to exchange) must be
//!   on the registry's own host and port, or on a host allowed with
//!   [`PushOptions::token_hosts`] (`--registry-token-host`, `CCAAS_REGISTRY_TOKEN_HOSTS`), or be
//!   a well-known pair: Docker Hub's `auth.docker.io` for `docker.io`, and `gitlab.com` for
//!   `registry.gitlab.com`. Other registries (GHCR, Quay, Harbor, ECR, Artifact Registry, ACR,
//!   the distribution registry) serve their tokens from their own host; a self-hosted GitLab
//!   whose registry has its own host name needs `--registry-token-host`.
//! * An HTTPS registry's realm must be `https://`: a plain-HTTP realm is refused, whatever the
//!   host. With `insecure`, the realm may be plain HTTP too (the registry is, already).
//! * An upload `Location` must be on the registry's own scheme, host and port (a relative one
//!   is resolved against the registry): any other is refused, since the blob `PUT` carries the
//!   credentials. Registries answer their own address here; a registry behind a TLS-terminating
//!   proxy that answers `http://` must be told its `https://` address. (Redirects of blob
//!   downloads to object storage do not concern a push.)
//!
//! Each refusal is an error that names the registry and the refused URL, before anything is
//! sent to that URL. Redirects are not followed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

pub use super::reference::{Credentials, Reference};
use crate::image::{Blob, Image, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE};
use crate::Error;

/// The system CA bundle read for HTTPS registries (Debian's `ca-certificates`).
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How to reach the registry. `Debug` redacts the password.
#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    /// Plain HTTP instead of HTTPS.
    pub insecure: bool,
    /// The registry's user and password (for `Basic`, or to get a `Bearer` token); they must be
    /// the reference's registry's: [`crate::registry_auth::resolve`] finds them.
    pub credentials: Option<Credentials>,
    /// An extra CA (PEM) trusted for HTTPS, besides the system bundle.
    pub ca: Option<PathBuf>,
    /// Token services on other hosts (`host[:port]`; without a port, the realm scheme's default)
    /// that may receive the credentials to issue a `Bearer` token. See the module docs.
    pub token_hosts: Vec<String>,
}

/// What a push did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Pushed {
    /// The reference pushed to.
    pub reference: String,
    /// The image (manifest) digest.
    pub digest: String,
    /// `reference-without-tag@digest`: what to run.
    pub pinned: String,
    /// Blobs uploaded (the others were there already).
    pub uploaded: Vec<String>,
    /// Blobs the registry had.
    pub existing: Vec<String>,
}

/// Docker Hub's names: references say `docker.io`, its API answers at `registry-1.docker.io`.
const DOCKER_HUB: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// Token services on another host that well-known registries use: (registry API host, realm host).
const WELL_KNOWN_TOKEN_HOSTS: [(&str, &str); 2] =
    [("registry-1.docker.io", "auth.docker.io"), ("registry.gitlab.com", "gitlab.com")];

/// The host[:port] the registry's API answers at.
fn endpoint(registry: &str) -> &str {
    if DOCKER_HUB.contains(&registry.to_ascii_lowercase().as_str()) {
        "registry-1.docker.io"
    } else {
        registry
    }
}

/// Scheme, host and port of a URL: where a request (and its credentials) goes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Origin {
    https: bool,
    host: String,
    port: u16,
}

impl Origin {
    fn of(url: &str) -> Result<Origin, Error> {
        let uri: http::Uri = url.parse().map_err(|e| Error::Config(format!("bad registry URL {url}: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(Error::Config(format!("registry URL {url} is not an http:// or https:// URL"))),
        };
        let host = uri.host().ok_or_else(|| Error::Config(format!("registry URL {url} has no host")))?;
        Ok(Origin {
            https,
            host: host.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        })
    }

    fn same_host(&self, other: &Origin) -> bool {
        self.host == other.host && self.port == other.port
    }

    fn host_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", if self.https { "https" } else { "http" }, self.host, self.port)
    }
}

/// `host[:port]` of `--registry-token-host`.
fn parse_token_host(s: &str) -> Result<(String, Option<u16>), Error> {
    let bad = || {
        Error::Config(format!(
            "--registry-token-host '{s}' is not HOST[:PORT] (e.g. auth.example.com or 127.0.0.1:5001): give the \
             token service's host as the registry's WWW-Authenticate realm names it, without scheme or path"
        ))
    };
    let s = s.trim();
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || (h.starts_with('[') && h.ends_with(']')) => {
            (h, Some(p.parse::<u16>().map_err(|_| bad())?))
        }
        _ => (s, None),
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) || (host.contains(':') && !host.starts_with('[')) {
        return Err(bad());
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// Whether the token realm `realm` may get the credentials of the registry at `registry`.
fn check_realm(registry: &Origin, token_hosts: &[(String, Option<u16>)], realm: &str) -> Result<(), Error> {
    let to = Origin::of(realm)?;
    if registry.https && !to.https {
        return Err(Error::Config(format!(
            "the registry {registry} asks for a push token from {realm}, over plain HTTP: refused, so the \
             credentials are not sent in clear text; the registry's token realm must be an https:// URL \
             (fix the registry's auth configuration)"
        )));
    }
    let well_known = WELL_KNOWN_TOKEN_HOSTS.iter().any(|(r, t)| registry.host == *r && to.host == *t && to.port == 443);
    let allowed =
        token_hosts.iter().any(|(h, p)| *h == to.host && p.unwrap_or(if to.https { 443 } else { 80 }) == to.port);
    if to.same_host(registry) || well_known || allowed {
        return Ok(());
    }
    Err(Error::Config(format!(
        "the registry {registry} asks for a push token from {realm}, on another host ({}): refused, the \
         credentials are not sent there; if that is the registry's token service, allow it with \
         --registry-token-host {} (or CCAAS_REGISTRY_TOKEN_HOSTS)",
        to.host_port(),
        to.host_port()
    )))
}

/// The URL of an upload `Location` the registry at `registry` (`base`: its URL without a path)
/// answered to `POST uploads_url`: relative ones resolved, any other address than the
/// registry's refused.
fn upload_url(registry: &Origin, base: &str, uploads_url: &str, location: &str) -> Result<String, Error> {
    let scheme = if registry.https { "https" } else { "http" };
    let absolute =
        location.split_once("://").is_some_and(|(s, _)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()));
    let url = if absolute {
        location.to_string()
    } else if location.starts_with("//") {
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{base}{location}")
    } else {
        format!("{}{location}", &uploads_url[..uploads_url.rfind('/').map_or(uploads_url.len(), |i| i + 1)])
    };
    let to = Origin::of(&url)?;
    if registry.https && !to.https {
        return Err(Error::Config(format!(
            "the registry {registry} answered an upload location over plain HTTP ({location}): refused, so the \
             credentials and the blob are not sent in clear text; a registry behind a TLS-terminating proxy must \
             be told its https:// address (the proxy's X-Forwarded-Proto header, or the registry's http.host)"
        )));
    }
    if to != *registry {
        return Err(Error::Config(format!(
            "the registry {registry} answered an upload location on another address ({location}): refused, the \
             credentials are not sent there; the registry must answer its own address (check its http.host \
             setting, or the proxy's forwarded headers)"
        )));
    }
    Ok(url)
}

struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

struct Client {
    reference: Reference,
    opts: PushOptions,
    tls: Option<tokio_rustls::TlsConnector>,
    /// The registry's address: the only one that gets `auth`.
    origin: Origin,
    token_hosts: Vec<(String, Option<u16>)>,
    /// The `Authorization` header for the registry (Basic, or its Bearer token).
    auth: Option<String>,
}

const TIMEOUT: Duration = Duration::from_secs(60);

impl Client {
    fn new(reference: Reference, opts: PushOptions) -> Result<Client, Error> {
        let tls = if opts.insecure {
            None
        } else {
            let mut roots = rustls::RootCertStore::empty();
            let mut files = vec![PathBuf::from(SYSTEM_CA_BUNDLE)];
            files.extend(opts.ca.clone());
            for f in &files {
                let Ok(pem) = std::fs::read(f) else {
                    if Some(f) == opts.ca.as_ref() {
                        return Err(Error::Config(format!("cannot read the registry CA {}", f.display())));
                    }
                    continue;
                };
                for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
                    let _ = roots.add(cert);
                }
            }
            if roots.is_empty() {
                return Err(Error::Config(format!(
                    "no CA certificates to verify the registry {} with: install ca-certificates, give --registry-ca, \
                     or --insecure for a plain-HTTP registry",
                    reference.registry
                )));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Config(format!("TLS setup: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        };
        let origin = Origin::of(&format!(
            "{}://{}/",
            if opts.insecure { "http" } else { "https" },
            endpoint(&reference.registry)
        ))?;
        let token_hosts = opts.token_hosts.iter().map(|h| parse_token_host(h)).collect::<Result<_, _>>()?;
        Ok(Client { reference, opts, tls, origin, token_hosts, auth: None })
    }

    fn base(&self) -> String {
        format!("{}://{}", if self.opts.insecure { "http" } else { "https" }, endpoint(&self.reference.registry))
    }

    fn unreachable(&self, url: &str, e: impl std::fmt::Display) -> Error {
        Error::Unreachable {
            what: format!("the registry at {url}"),
            cause: format!(
                "{e}; check the address{}",
                if self.opts.insecure { "" } else { ", or add --insecure if it speaks plain HTTP" }
            ),
        }
    }

    /// One request on its own connection.
    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&str, String)],
        body: &Bytes,
        auth: Option<&str>,
    ) -> Result<Response, Error> {
        let uri: http::Uri = url.parse().map_err(|e| Error::Config(format!("bad registry URL {url}: {e}")))?;
        let host = uri.host().ok_or_else(|| Error::Config(format!("registry URL {url} has no host")))?.to_string();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut req =
            Request::builder().method(method.clone()).uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let host_header = match uri.port_u16() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        req = req.header("host", host_header).header("user-agent", concat!("ccaas-deploy/", env!("CARGO_PKG_VERSION")));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if !body.is_empty() || *method == Method::PUT || *method == Method::POST {
            req = req.header("content-length", body.len().to_string());
        }
        let req = req.body(Full::new(body.clone())).map_err(|e| Error::Config(format!("bad request to {url}: {e}")))?;
        let work = async {
            let tcp =
                tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| self.unreachable(url, e))?;
            let resp = if https {
                let tls = self.tls.as_ref().ok_or_else(|| {
                    Error::Config(format!("{url} is HTTPS but --insecure was given: drop --insecure"))
                })?;
                let name = ServerName::try_from(host.clone())
                    .map_err(|e| Error::Config(format!("registry host {host}: {e}")))?;
                let stream = tls.connect(name, tcp).await.map_err(|e| self.unreachable(url, format!("TLS: {e}")))?;
                exchange(TokioIo::new(stream), req).await
            } else {
                exchange(TokioIo::new(tcp), req).await
            };
            resp.map_err(|e| self.unreachable(url, e))
        };
        crate::deadline::bound(&format!("the registry at {url}"), TIMEOUT, work).await
    }

    /// A request to the registry (and to no other address: its credentials go with it),
    /// answering an authentication challenge once.
    async fn send(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<Response, Error> {
        if Origin::of(url)? != self.origin {
            return Err(Error::Config(format!(
                "refusing to send the credentials of the registry {} to {url}, another address",
                self.origin
            )));
        }
        let first = self.send_once(&method, url, headers, &body, self.auth.as_deref()).await?;
        if first.status != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let challenge =
            first.headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        self.auth = Some(self.authenticate(&challenge).await?);
        let second = self.send_once(&method, url, headers, &body, self.auth.as_deref()).await?;
        if second.status == StatusCode::UNAUTHORIZED || second.status == StatusCode::FORBIDDEN {
            return Err(Error::Config(format!(
                "the registry {} refused the credentials{} for pushing to {} ({}): check --registry-user and the password",
                self.reference.registry,
                self.opts.credentials.as_ref().map(|c| format!(" of {}", c.user)).unwrap_or_default(),
                self.reference.repository,
                second.status
            )));
        }
        Ok(second)
    }

    async fn authenticate(&mut self, challenge: &str) -> Result<String, Error> {
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        let params = auth_params(params);
        let basic = self.opts.credentials.as_ref().map(|c| {
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, c.password)))
        });
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => basic.ok_or_else(|| {
                Error::Config(format!(
                    "the registry {} asks for a user and password (Basic): give --registry-user (or \
                     CCAAS_REGISTRY_USER) and CCAAS_REGISTRY_PASSWORD, or log in with docker login or podman login",
                    self.reference.registry
                ))
            }),
            "bearer" => {
                let realm = params.get("realm").ok_or_else(|| {
                    Error::Config(format!("the registry's Bearer challenge has no realm: {challenge}"))
                })?;
                check_realm(&self.origin, &self.token_hosts, realm)?;
                let mut url = format!("{realm}?scope=repository:{}:pull,push", self.reference.repository);
                if let Some(service) = params.get("service") {
                    url.push_str(&format!("&service={}", service.replace(' ', "%20")));
                }
                let resp = self.send_once(&Method::GET, &url, &[], &Bytes::new(), basic.as_deref()).await?;
                if !resp.status.is_success() {
                    return Err(Error::Config(format!(
                        "the token service {realm} refused a push token for {} ({}: {}): check --registry-user and \
                         the password",
                        self.reference.repository,
                        resp.status,
                        String::from_utf8_lossy(&resp.body).trim()
                    )));
                }
                let v: serde_json::Value = serde_json::from_slice(&resp.body)
                    .map_err(|e| Error::Config(format!("the token service {realm} answered no JSON: {e}")))?;
                let token = v["token"]
                    .as_str()
                    .or_else(|| v["access_token"].as_str())
                    .ok_or_else(|| Error::Config(format!("the token service {realm} answered without a token: {v}")))?;
                Ok(format!("Bearer {token}"))
            }
            _ => Err(Error::Config(format!(
                "the registry {} asks for an authentication this tool does not speak: {challenge}",
                self.reference.registry
            ))),
        }
    }

    fn fail(&self, what: &str, r: &Response) -> Error {
        Error::Config(format!(
            "the registry {} refused {what} for {} ({}): {}",
            self.reference.registry,
            self.reference.repository,
            r.status,
            String::from_utf8_lossy(&r.body).trim()
        ))
    }

    async fn has_blob(&mut self, blob: &Blob) -> Result<bool, Error> {
        let url = format!("{}/v2/{}/blobs/{}", self.base(), self.reference.repository, blob.digest);
        let r = self.send(Method::HEAD, &url, &[], Bytes::new()).await?;
        match r.status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.fail("a blob check", &r)),
        }
    }

    async fn upload(&mut self, blob: &Blob, media_type: &str) -> Result<(), Error> {
        let url = format!("{}/v2/{}/blobs/uploads/", self.base(), self.reference.repository);
        let r = self.send(Method::POST, &url, &[], Bytes::new()).await?;
        if r.status != StatusCode::ACCEPTED {
            return Err(self.fail("starting an upload", &r));
        }
        let location = r
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.fail("starting an upload (no Location)", &r))?;
        let mut put = upload_url(&self.origin, &self.base(), &url, location)?;
        put.push(if put.contains('?') { '&' } else { '?' });
        put.push_str(&format!("digest={}", blob.digest));
        let headers = [("content-type", "application/octet-stream".to_string())];
        let r = self.send(Method::PUT, &put, &headers, Bytes::from(blob.bytes.clone())).await?;
        if r.status != StatusCode::CREATED {
            return Err(self.fail(&format!("the {media_type} blob {}", blob.digest), &r));
        }
        Ok(())
    }
}

async fn exchange<T>(io: TokioIo<T>, req: Request<Full<Bytes>>) -> Result<Response, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let head = req.method() == Method::HEAD;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body =
        if head { Bytes::new() } else { resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes() };
    drop(sender);
    driver.abort();
    Ok(Response { status, headers, body })
}

/// `key="value", key2=value2` of an authentication challenge.
fn auth_params(s: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else { break };
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let (v, after) = if let Some(q) = after.strip_prefix('"') {
            match q.split_once('"') {
                Some((v, a)) => (v.to_string(), a),
                None => (q.to_string(), ""),
            }
        } else {
            match after.split_once(',') {
                Some((v, a)) => (v.trim().to_string(), a),
                None => (after.trim().to_string(), ""),
            }
        };
        out.insert(k, v);
        rest = after.trim_start_matches([',', ' ']);
    }
    out
}

/// The digest of the manifest the registry has under `reference`'s tag (a `HEAD` request, its
/// `Docker-Content-Digest`), or `None` when it has none: what `up` checks before it assembles an
/// image again.
pub async fn manifest_digest(reference: &Reference, opts: PushOptions) -> Result<Option<String>, Error> {
    let mut c = Client::new(reference.clone(), opts)?;
    let url = format!("{}/v2/{}/manifests/{}", c.base(), reference.repository, reference.tag);
    let accept = [("accept", format!("{MANIFEST_MEDIA_TYPE}, application/vnd.docker.distribution.manifest.v2+json"))];
    let r = c.send(Method::HEAD, &url, &accept, Bytes::new()).await?;
    match r.status {
        StatusCode::OK => Ok(r.headers.get("docker-content-digest").and_then(|v| v.to_str().ok()).map(str::to_string)),
        StatusCode::NOT_FOUND => Ok(None),
        _ => Err(c.fail("a manifest check", &r)),
    }
}

/// Pushes `image` to `reference`, uploading only the blobs the registry lacks; `progress` gets
/// a line per step.
pub async fn push(
    image: &Image,
    reference: &Reference,
    opts: PushOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Pushed, Error> {
    let mut c = Client::new(reference.clone(), opts)?;
    let mut uploaded = Vec::new();
    let mut existing = Vec::new();
    for (blob, media_type) in [(&image.layer, LAYER_MEDIA_TYPE), (&image.config, CONFIG_MEDIA_TYPE)] {
        if c.has_blob(blob).await? {
            progress(&format!("{} already in {}", blob.digest, reference.registry));
            existing.push(blob.digest.clone());
        } else {
            progress(&format!("uploading {} ({} bytes)", blob.digest, blob.bytes.len()));
            c.upload(blob, media_type).await?;
            uploaded.push(blob.digest.clone());
        }
    }
    progress(&format!("putting the manifest as {reference}"));
    let url = format!("{}/v2/{}/manifests/{}", c.base(), reference.repository, reference.tag);
    let headers = [("content-type", MANIFEST_MEDIA_TYPE.to_string())];
    let r = c.send(Method::PUT, &url, &headers, Bytes::from(image.manifest.bytes.clone())).await?;
    if r.status != StatusCode::CREATED {
        return Err(c.fail("the manifest", &r));
    }
    if let Some(d) = r.headers.get("docker-content-digest").and_then(|v: &HeaderValue| v.to_str().ok()) {
        if d != image.digest() {
            return Err(Error::Config(format!(
                "the registry stored the manifest under {d}, not {}: it rewrote the manifest; use another registry",
                image.digest()
            )));
        }
    }
    Ok(Pushed {
        reference: reference.to_string(),
        digest: image.digest().to_string(),
        pinned: format!("{}/{}@{}", reference.registry, reference.repository, image.digest()),
        uploaded,
        existing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &str) -> Origin {
        Origin::of(url).unwrap()
    }

    #[test]
    fn realms_on_the_registry_s_host_allowed_hosts_and_docker_hub_s_pass() {
        let reg = origin("https://reg.example.com/");
        assert!(check_realm(&reg, &[], "https://REG.example.com:443/token").is_ok());
        let err = check_realm(&reg, &[], "https://reg.example.com:8443/token").unwrap_err().to_string();
        assert!(err.contains("--registry-token-host reg.example.com:8443"), "{err}");
        let allowed = [parse_token_host("auth.example.com").unwrap(), parse_token_host("127.0.0.1:5001").unwrap()];
        assert!(check_realm(&reg, &allowed, "https://auth.example.com/token").is_ok());
        assert!(check_realm(&reg, &allowed, "https://auth.example.com:444/token").is_err(), "another port");
        let err = check_realm(&reg, &allowed, "http://auth.example.com/token").unwrap_err().to_string();
        assert!(err.contains("plain HTTP") && err.contains("https://reg.example.com"), "{err}");
        // A plain-HTTP registry's realm may be plain HTTP, on an allowed host.
        let local = origin("http://127.0.0.1:5000/");
        assert!(check_realm(&local, &allowed, "http://127.0.0.1:5001/token").is_ok());
        assert!(check_realm(&local, &[], "http://127.0.0.1:5001/token").is_err());
        // Docker Hub: docker.io's API is registry-1.docker.io, its tokens come from auth.docker.io.
        let hub = origin(&format!("https://{}/", endpoint("docker.io")));
        assert!(check_realm(&hub, &[], "https://auth.docker.io/token").is_ok());
        assert!(check_realm(&hub, &[], "http://auth.docker.io/token").is_err());
        assert!(check_realm(&reg, &[], "https://auth.docker.io/token").is_err(), "only for Docker Hub");
    }

    #[test]
    fn token_hosts_are_host_and_optional_port() {
        assert_eq!(parse_token_host("Auth.Example.com").unwrap(), ("auth.example.com".into(), None));
        assert_eq!(parse_token_host("[::1]:5001").unwrap(), ("[::1]".into(), Some(5001)));
        for bad in ["https://auth.example.com", "auth.example.com/token", "", "host:port", "::1"] {
            assert!(parse_token_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upload_locations_resolve_against_the_registry_and_stay_on_it() {
        let reg = origin("https://reg.example.com/");
        let (base, post) = ("https://reg.example.com", "https://reg.example.com/v2/a/blobs/uploads/");
        assert_eq!(
            upload_url(&reg, base, post, "/v2/a/blobs/uploads/1?s=x").unwrap(),
            format!("{base}/v2/a/blobs/uploads/1?s=x")
        );
        assert_eq!(upload_url(&reg, base, post, "1?s=x").unwrap(), format!("{post}1?s=x"));
        assert!(upload_url(&reg, base, post, "https://reg.example.com:443/v2/a/blobs/uploads/1").is_ok());
        for refused in [
            "http://reg.example.com/v2/a/blobs/uploads/1",
            "https://reg.example.com:8443/v2/a/blobs/uploads/1",
            "https://storage.example.com/upload",
            "//storage.example.com/upload",
        ] {
            let err = upload_url(&reg, base, post, refused).unwrap_err().to_string();
            assert!(err.contains(refused) && err.contains("https://reg.example.com"), "{err}");
        }
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = Credentials { user: "ci".into(), password: "hunter2".into() };
        let opts = PushOptions { credentials: Some(c), ..Default::default() };
        let shown = format!("{opts:?}");
        assert!(shown.contains("ci") && !shown.contains("hunter2"), "{shown}");
    }
}
