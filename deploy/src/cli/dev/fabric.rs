//! The Fabric release the local network runs on: `bin/` (peer, orderer, osnadmin, configtxgen,
//! cryptogen), `config/` (the sample `core.yaml` and `orderer.yaml` the nodes' configurations
//! start from) and `builders/ccaas/` (the external builder for chaincode-as-a-service), as the
//! release tarballs and fabric-samples' `install-fabric.sh binary` lay them out.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ccaas_deploy::Error;

/// The binaries the network needs.
const BINARIES: [&str; 5] = ["peer", "orderer", "osnadmin", "configtxgen", "cryptogen"];

/// What to do without a release, for every "not found" error.
const GET_ONE: &str = "get a Fabric release (2.5 or later) from https://github.com/hyperledger/fabric/releases \
     (hyperledger-fabric-linux-amd64-VERSION.tar.gz, unpacked) or with fabric-samples' install script \
     (`curl -sSLO https://raw.githubusercontent.com/hyperledger/fabric/main/scripts/install-fabric.sh && bash \
     install-fabric.sh binary`, which unpacks bin/, config/ and builders/ into the current folder), then pass \
     --fabric DIR with the folder that holds bin/ and config/ (or set FABRIC_BIN=DIR/bin, or put DIR/bin on \
     PATH). To use a network that already runs instead, pass --config FILE --user NAME (or the identity flags)";

/// A Fabric release.
#[derive(Debug, Clone)]
pub struct Release {
    /// The folder holding `bin/`, `config/` and `builders/`.
    pub root: PathBuf,
    /// The version `peer version` reports, e.g. `2.5.6`.
    pub version: String,
}

impl Release {
    /// A binary of `bin/`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }

    /// The sample configuration (`core.yaml`, `orderer.yaml`).
    pub fn config(&self) -> PathBuf {
        self.root.join("config")
    }

    /// The ccaas external builder (its `bin/` has detect, build, release).
    pub fn ccaas_builder(&self) -> PathBuf {
        self.root.join("builders/ccaas")
    }

    /// The channel's application capability: `V2_5` from Fabric 2.5 on (3.x has no `V3_0` for
    /// applications), else `V2_0`.
    pub fn application_capability(&self) -> &'static str {
        let mut parts = self.version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        match (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) {
            (major, minor) if major > 2 || (major == 2 && minor >= 5) => "V2_5",
            _ => "V2_0",
        }
    }
}

/// Finds the release: `--fabric DIR` (the release folder, or its `bin/`), else `$FABRIC_BIN`'s
/// parent, else that of the `peer` on `PATH`; checks that it has everything and asks its peer
/// for the version.
pub async fn find(given: Option<&Path>) -> anyhow::Result<Release> {
    let (root, from) = match given {
        Some(dir) => {
            let root = if dir.join("bin/peer").is_file() || !dir.join("peer").is_file() {
                dir.to_path_buf()
            } else {
                dir.join("..")
            };
            (root, format!("--fabric {}", dir.display()))
        }
        None => match std::env::var_os("FABRIC_BIN").filter(|v| !v.is_empty()) {
            Some(bin) => (PathBuf::from(&bin).join(".."), format!("FABRIC_BIN={}", PathBuf::from(bin).display())),
            None => match peer_on_path() {
                Some(peer) => {
                    let bin = peer.parent().unwrap_or(Path::new(".")).to_path_buf();
                    (bin.join(".."), format!("the peer on PATH ({})", peer.display()))
                }
                None => anyhow::bail!(Error::Config(format!(
                    "no Fabric release found (no --fabric, no FABRIC_BIN, no `peer` on PATH): dev runs its local \
                     network on Fabric's own binaries; {GET_ONE}"
                ))),
            },
        },
    };
    let root = root
        .canonicalize()
        .map_err(|e| Error::Config(format!("{from}: {} is not a folder ({e}); {GET_ONE}", root.display())))?;
    let missing = |what: String| Error::Config(format!("{from}: {} has no {what}; {GET_ONE}", root.display()));
    for b in BINARIES {
        if !root.join("bin").join(b).is_file() {
            anyhow::bail!(missing(format!("bin/{b}")));
        }
    }
    for f in ["core.yaml", "orderer.yaml"] {
        if !root.join("config").join(f).is_file() {
            anyhow::bail!(missing(format!("config/{f} (the release's sample configuration, beside bin/)")));
        }
    }
    for b in ["detect", "build", "release"] {
        if !root.join("builders/ccaas/bin").join(b).is_file() {
            anyhow::bail!(missing(format!(
                "builders/ccaas/bin/{b} (the ccaas external builder; releases from 2.4.2 on have it)"
            )));
        }
    }
    let peer = root.join("bin/peer");
    let out = tokio::process::Command::new(&peer)
        .arg("version")
        .env_clear()
        .output()
        .await
        .with_context(|| format!("cannot run {}", peer.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Version:"))
        .map(|v| v.trim().trim_start_matches('v').to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(format!("working bin/peer (`peer version` said: {})", text.trim())))?;
    Ok(Release { root, version })
}

fn peer_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("peer")).find(|p| p.is_file()).map(|p| p.canonicalize().unwrap_or(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_application_capability_follows_the_version() {
        let r = |v: &str| Release { root: PathBuf::new(), version: v.into() };
        assert_eq!(r("2.5.6").application_capability(), "V2_5");
        assert_eq!(r("3.1.5").application_capability(), "V2_5");
        assert_eq!(r("2.4.9").application_capability(), "V2_0");
    }

    #[tokio::test]
    async fn a_folder_without_a_release_is_named_with_where_to_get_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        let e = find(Some(dir.path())).await.unwrap_err().to_string();
        assert!(e.contains("has no bin/peer") && e.contains("github.com/hyperledger/fabric/releases"), "{e}");
        assert!(e.contains("install-fabric.sh binary") && e.contains("--fabric DIR"), "{e}");
        let e = find(Some(&dir.path().join("nope"))).await.unwrap_err().to_string();
        assert!(e.contains("is not a folder"), "{e}");
    }
}
