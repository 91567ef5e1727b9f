//! fabric-builder-k8s packages: `type: "k8s"`, and `image.json` instead of
//! `connection.json`. The peer launches the chaincode image itself (by digest), so there
//! is no address or TLS material in the package.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The `image.json` of a k8s package: an image repository and an immutable digest.
///
/// ```
/// use ccaas_package::ImageJson;
/// let d = format!("sha256:{}", "ab".repeat(32));
/// let img = ImageJson::parse_reference(&format!("ghcr.io/org/cc@{d}")).unwrap();
/// assert_eq!(img.name, "ghcr.io/org/cc");
/// assert_eq!(img.digest, d);
/// assert!(ImageJson::parse_reference("ghcr.io/org/cc:latest").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageJson {
    /// Image repository, e.g. `ghcr.io/hyperledger-labs/go-contract`.
    pub name: String,
    /// `sha256:` followed by 64 lowercase hex digits.
    pub digest: String,
}

impl ImageJson {
    /// Parses `NAME@sha256:DIGEST` and validates both parts.
    pub fn parse_reference(reference: &str) -> Result<ImageJson> {
        let (name, digest) = reference.split_once('@').ok_or_else(|| {
            Error::Image(format!(
                "'{reference}' has no digest: use NAME@sha256:DIGEST (fabric-builder-k8s \
                 only runs images by digest; `docker inspect --format='{{{{index .RepoDigests \
                 0}}}}' IMAGE` prints it)"
            ))
        })?;
        let image = ImageJson { name: name.to_string(), digest: digest.to_string() };
        image.validate()?;
        Ok(image)
    }

    /// Checks the name (a repository reference without tag or digest) and the digest.
    pub fn validate(&self) -> Result<()> {
        validate_digest(&self.digest)?;
        validate_name(&self.name)
    }
}

/// `sha256:` + 64 lowercase hex digits.
pub fn validate_digest(digest: &str) -> Result<()> {
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(Error::Image(format!("digest '{digest}' must be sha256: followed by 64 lowercase hex digits")))
    }
}

fn path_component_ok(c: &str) -> bool {
    // [a-z0-9]+ separated by '.', '_', '__' or runs of '-'
    let b = c.as_bytes();
    if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_lower_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_lower_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn domain_ok(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || d.starts_with('[') => (h, Some(p)),
        _ => (d, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if host.starts_with('[') && host.ends_with(']') {
        return host[1..host.len() - 1].parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// Validates an image repository name (Docker reference grammar, without tag/digest).
pub fn validate_name(name: &str) -> Result<()> {
    let fail = |why: &str| Err(Error::Image(format!("image name '{name}' {why}")));
    if name.is_empty() {
        return fail("is empty");
    }
    if name.len() > 255 {
        return fail("is longer than 255 characters");
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    if parts.len() > 1
        && (first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.bytes().any(|b| b.is_ascii_uppercase()))
    {
        if !domain_ok(first) {
            return fail("has an invalid registry host");
        }
        parts.remove(0);
    }
    if let Some(last) = parts.last() {
        if last.contains(':') {
            return fail("must not include a tag: the digest identifies the image");
        }
    }
    if parts.iter().all(|p| path_component_ok(p)) {
        Ok(())
    } else {
        fail(
            "is not a valid repository name (path components are lower-case letters and \
             digits, separated by '.', '_', '__' or '-')",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in [
            "go-contract",
            "ghcr.io/hyperledger-labs/go-contract",
            "localhost:5000/cc",
            "registry.example.com:443/a/b_c/d__e/f--g",
            "library/busybox",
        ] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Go", "ghcr.io/org/cc:v1", "a//b", "-a", "a-", "ghcr..io/a", "a b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(validate_digest(&format!("sha256:{hex}")).is_ok());
        assert!(validate_digest(&hex).is_err());
        assert!(validate_digest(&format!("sha256:{}", hex.to_uppercase())).is_err());
        assert!(validate_digest(&format!("sha256:{}", &hex[1..])).is_err());
        assert!(validate_digest(&format!("sha512:{hex}")).is_err());
    }
}
