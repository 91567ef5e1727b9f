//! An image reference (`host[:port]/repo[/...]:tag`) and the credentials for its registry: what
//! [`crate::registry`] pushes to (it re-exports both, as `registry::Reference` and
//! `registry::Credentials`) and what [`crate::registry_auth`] finds credentials for.

use crate::Error;

/// An image reference split into registry, repository and tag: `host[:port]/repo[/...]:tag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The tag.
    pub tag: String,
}

impl std::str::FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::Config(format!(
                "image reference '{s}' {why}: write it as registry-host[:port]/repository:tag, \
                 e.g. 127.0.0.1:5000/asset-transfer-basic:1.0"
            ))
        };
        let (registry, rest) = s.split_once('/').ok_or_else(|| bad("names no registry host"))?;
        if !(registry.contains('.') || registry.contains(':') || registry == "localhost") {
            return Err(bad("does not start with a registry host (a name with '.' or ':', or localhost)"));
        }
        if rest.contains('@') {
            return Err(bad("has a digest: push to a tag"));
        }
        let (repository, tag) = match rest.rsplit_once(':') {
            Some((r, t)) => (r, t),
            None => (rest, "latest"),
        };
        let repo_ok = !repository.is_empty()
            && repository.split('/').all(|c| {
                !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            });
        if !repo_ok {
            return Err(bad("has an invalid repository (lowercase letters, digits, '.', '_', '-', '/')"));
        }
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !tag_ok {
            return Err(bad("has an invalid tag"));
        }
        Ok(Reference { registry: registry.into(), repository: repository.into(), tag: tag.into() })
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

/// A registry user and password. `Debug` shows the user, not the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user.
    pub user: String,
    /// The password (or an access token used as one).
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"<redacted>").finish()
    }
}
