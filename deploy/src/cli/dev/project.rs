//! The chaincode crate `dev` runs: found with `cargo metadata` (the package of the current
//! directory, or `-p PACKAGE` of the workspace), built with `cargo build`, and the folders whose
//! changes call for a new build.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;
use ccaas_deploy::Error;
use serde::Deserialize;

use super::args::DevArgs;

/// A package and the binary of it that serves the chaincode.
#[derive(Debug, Clone)]
pub struct Project {
    /// The package's name.
    pub package: String,
    /// Its binary target's name.
    pub bin: String,
    /// The folder of its Cargo.toml.
    pub dir: PathBuf,
    /// The workspace's root folder.
    pub workspace_root: PathBuf,
    /// Cargo's target directory.
    pub target_dir: PathBuf,
    /// The folders of its path dependencies (e.g. the shim in a checkout).
    pub path_deps: Vec<PathBuf>,
    /// Folders whose changes never call for a build: the target directory, and `dev`'s state.
    pub ignored: Vec<PathBuf>,
    manifest_path: Option<PathBuf>,
    release: bool,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
    target_directory: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    id: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct Dependency {
    #[serde(default)]
    path: Option<PathBuf>,
}

/// The outcome of a build.
#[derive(Debug)]
pub enum Built {
    /// The binary, and whether cargo rebuilt it.
    Binary {
        /// Its path.
        path: PathBuf,
        /// `false` when cargo found it up to date.
        rebuilt: bool,
    },
    /// Cargo failed; it printed the errors.
    Failed,
}

impl Project {
    /// Reads the workspace with `cargo metadata` and picks the package and its binary.
    pub async fn find(a: &DevArgs) -> anyhow::Result<Project> {
        let mut cmd = cargo();
        cmd.args(["metadata", "--format-version", "1", "--no-deps"]);
        if let Some(m) = &a.manifest_path {
            cmd.arg("--manifest-path").arg(m);
        }
        let out = cmd.stderr(Stdio::piped()).output().await.context("cannot run cargo (is it on PATH?)")?;
        if !out.status.success() {
            anyhow::bail!(Error::Config(format!(
                "cargo metadata failed: {}; run dev in a chaincode crate's folder (or pass --manifest-path)",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let meta: Metadata = serde_json::from_slice(&out.stdout).context("cargo metadata's output")?;
        let members: Vec<&Package> = meta.packages.iter().filter(|p| meta.workspace_members.contains(&p.id)).collect();
        let with_bins = || {
            let names: Vec<&str> = members
                .iter()
                .filter(|p| p.targets.iter().any(|t| t.kind.iter().any(|k| k == "bin")))
                .map(|p| p.name.as_str())
                .collect();
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        let package = match &a.package {
            Some(name) => members.iter().find(|p| &p.name == name).copied().ok_or_else(|| {
                Error::Config(format!(
                    "no package {name} in the workspace at {} (packages with a binary: {})",
                    meta.workspace_root.display(),
                    with_bins()
                ))
            })?,
            None => {
                // The package whose folder holds the current directory (the deepest one).
                let cwd = std::env::current_dir().context("the current directory")?;
                let from = match &a.manifest_path {
                    Some(m) => m.canonicalize().unwrap_or(m.clone()).parent().map(Path::to_path_buf).unwrap_or(cwd),
                    None => cwd,
                };
                members
                    .iter()
                    .filter(|p| p.manifest_path.parent().is_some_and(|d| from.starts_with(d)))
                    .max_by_key(|p| p.manifest_path.as_os_str().len())
                    .copied()
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "{} is no package's folder: run dev in a chaincode crate's folder, or pass -p PACKAGE \
                             (packages with a binary here: {})",
                            from.display(),
                            with_bins()
                        ))
                    })?
            }
        };
        let bins: Vec<&str> =
            package.targets.iter().filter(|t| t.kind.iter().any(|k| k == "bin")).map(|t| t.name.as_str()).collect();
        let bin = match (&a.bin, bins.as_slice()) {
            (Some(b), _) if bins.contains(&b.as_str()) => b.clone(),
            (Some(b), _) => anyhow::bail!(Error::Config(format!(
                "package {} has no binary {b} (its binaries: {})",
                package.name,
                if bins.is_empty() { "none".to_string() } else { bins.join(", ") }
            ))),
            (None, [only]) => only.to_string(),
            (None, []) => anyhow::bail!(Error::Config(format!(
                "package {} has no binary: dev runs the chaincode server that its main.rs starts (ccaas_shim::run_from_env)",
                package.name
            ))),
            (None, several) => match several.iter().find(|b| **b == package.name) {
                Some(b) => b.to_string(),
                None => anyhow::bail!(Error::Config(format!(
                    "package {} has several binaries ({}): choose the chaincode server with --bin",
                    package.name,
                    several.join(", ")
                ))),
            },
        };
        let dir = package.manifest_path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut path_deps: Vec<PathBuf> =
            package.dependencies.iter().filter_map(|d| d.path.clone()).filter(|p| *p != dir).collect();
        path_deps.sort();
        path_deps.dedup();
        Ok(Project {
            package: package.name.clone(),
            bin,
            dir,
            workspace_root: meta.workspace_root,
            target_dir: meta.target_directory.clone(),
            path_deps,
            ignored: vec![meta.target_directory.clone()],
            manifest_path: a.manifest_path.clone(),
            release: a.release,
        })
    }

    /// `cargo build` of the binary; its errors go to stderr as cargo prints them.
    pub async fn build(&self) -> anyhow::Result<Built> {
        let mut cmd = cargo();
        cmd.args(["build", "--message-format=json-render-diagnostics"])
            // One argument each: a name starting with '-' cannot be taken for a flag.
            .arg(format!("--package={}", self.package))
            .arg(format!("--bin={}", self.bin));
        if self.release {
            cmd.arg("--release");
        }
        if let Some(m) = &self.manifest_path {
            cmd.arg("--manifest-path").arg(m);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
        let out = cmd.spawn().context("cannot run cargo (is it on PATH?)")?.wait_with_output().await?;
        if !out.status.success() {
            return Ok(Built::Failed);
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if v["reason"] == "compiler-artifact" && v["target"]["name"] == self.bin.as_str() {
                if let Some(exe) = v["executable"].as_str() {
                    return Ok(Built::Binary { path: exe.into(), rebuilt: v["fresh"] != true });
                }
            }
        }
        anyhow::bail!("cargo build succeeded but named no binary {}", self.bin)
    }

    /// The folders to watch (recursively or not) for changes that call for a build: the
    /// package's folder (its files, and each subfolder but the target directory and hidden
    /// ones), the workspace's manifest and lockfile, and the path dependencies.
    pub fn watched(&self) -> Vec<(PathBuf, bool)> {
        let mut out = Vec::new();
        for dir in std::iter::once(&self.dir).chain(&self.path_deps) {
            out.push((dir.clone(), false));
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for e in entries.filter_map(|e| e.ok()) {
                let path = e.path();
                let hidden = e.file_name().to_string_lossy().starts_with('.');
                let ignored = self.ignored.iter().any(|i| path.starts_with(i) || i.starts_with(&path));
                if path.is_dir() && !hidden && !ignored {
                    out.push((path, true));
                }
            }
        }
        if self.workspace_root != self.dir {
            out.push((self.workspace_root.clone(), false));
        }
        out
    }

    /// Whether a change of `path` calls for a build.
    pub fn is_source(&self, path: &Path) -> bool {
        if self.ignored.iter().any(|i| path.starts_with(i)) {
            return false;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Editors' swap, backup and probe files.
        if name.starts_with('.')
            || name.ends_with('~')
            || name.ends_with(".swp")
            || name.ends_with(".swx")
            || name == "4913"
        {
            return false;
        }
        // In the workspace's root folder only its manifest and lockfile matter.
        if path.parent() == Some(self.workspace_root.as_path()) && self.workspace_root != self.dir {
            return name == "Cargo.toml" || name == "Cargo.lock";
        }
        true
    }
}

fn cargo() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Cargo runs build scripts and proc macros of every dependency: not with the tool's secrets.
    for var in ccaas_deploy::registry_auth::SECRET_VARS {
        cmd.env_remove(var);
    }
    cmd
}
