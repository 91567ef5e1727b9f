//! `build-static`: a workspace binary built static for an image, its hot code laid out
//! together; and `hot-functions`, which makes the list of that hot code.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use ccaas_deploy::{image, layout, Error, Kind};
use clap::Args;
use serde_json::json;

use super::output::Printer;

/// Exit code of `build-static` when cargo fails.
pub const EXIT_BUILD_FAILED: u8 = 5;

#[derive(Args, Debug)]
pub struct BuildStatic {
    /// The workspace package whose binary to build (cargo -p).
    #[arg(long, short = 'p', value_name = "PACKAGE")]
    pub package: String,
    /// Cargo.toml of the workspace [default: cargo's search from the current directory].
    #[arg(long, value_name = "FILE")]
    pub manifest_path: Option<PathBuf>,
    /// Cargo features to build with, as for cargo --features (e.g. `ccaas-shim/metrics`).
    #[arg(long, value_name = "FEATURES")]
    pub features: Option<String>,
    /// Link the functions in their default places (build-static otherwise puts the functions a
    /// chaincode server runs next to each other, with the linker's --symbol-ordering-file).
    #[arg(long)]
    pub no_layout: bool,
    /// The hot-function list to lay out [default: the shim's, built in; see bench/hot-functions.sh].
    #[arg(long, value_name = "FILE", conflicts_with = "no_layout")]
    pub hot_functions: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct HotFunctions {
    /// callgrind output files; the functions of each that the ones before it lacked follow theirs,
    /// so the code every server runs comes first (e.g. plaintext, then TLS).
    #[arg(required = true, value_name = "CALLGRIND_OUT")]
    pub profiles: Vec<PathBuf>,
}

pub fn build_static(out: &Printer, a: &BuildStatic) -> anyhow::Result<u8> {
    // Each default unless RUSTFLAGS already sets it.
    let defaults = [
        ("crt-static", "-C target-feature=+crt-static"),
        // Not position-independent, as Go links its binaries: nothing to relocate at start-up,
        // which keeps 0.3 MiB of relocations and relocated tables out of every instance's memory
        // (docs/benchmarks.md). RUSTFLAGS with `-C relocation-model=pie` keeps the binary's ASLR.
        ("relocation-model", "-C relocation-model=static"),
        // Symbol names that spell out generic arguments, so the hot-function list names exactly
        // the instantiations a server runs (legacy names give every instantiation the same name).
        ("symbol-mangling-version", "-C symbol-mangling-version=v0"),
    ];
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    for (setting, flag) in defaults {
        if !flags.contains(setting) {
            flags = format!("{flags} {flag}").trim().to_string();
        }
    }
    let hot_functions = match &a.hot_functions {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the hot-function list {}", path.display()))?,
        None => layout::HOT_FUNCTIONS.to_string(),
    };
    let profile: String = image_profile().map(|(var, value)| format!("{var}={value} ")).collect();
    out.progress(&format!(
        "building {} static: {profile}RUSTFLAGS='{flags}' cargo build --release --target {STATIC_TARGET} \
         --package={} (cargo's progress follows)",
        a.package, a.package
    ));
    let started = Instant::now();
    let cargo_build = cargo(a, &flags, &["build"]);
    let Some(binaries) = run_cargo(cargo_build)? else {
        let message = format!("cargo build of {} failed (its errors are above)", a.package);
        eprintln!("error: {message}");
        out.failed(Kind::Build, message, Vec::new());
        return Ok(EXIT_BUILD_FAILED);
    };
    let Some((binary, bin_name)) = binaries.first().cloned() else {
        anyhow::bail!(Error::Config(format!("package {} has no binary target to build", a.package)));
    };
    let laid_out = if a.no_layout { None } else { lay_out(out, a, &flags, &binary, &bin_name, &hot_functions)? };
    let mut text: Vec<String> = binaries.iter().map(|(b, _)| b.display().to_string()).collect();
    if let Some(count) = laid_out {
        text.push(format!("{count} hot functions of {bin_name} laid out together"));
    }
    text.push(format!("built in {:.1?}", started.elapsed()));
    out.result(
        &text,
        json!({"binary": binary, "binaries": binaries.iter().map(|(b, _)| b).collect::<Vec<_>>(),
               "hot_functions_laid_out": laid_out, "seconds": started.elapsed().as_secs_f64()}),
    );
    Ok(0)
}

const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The release profile of an image's binary, where the environment does not set it: thin LTO over
/// 4 codegen units. A plain `cargo build --release` keeps cargo's defaults (no LTO, 16 units), the
/// faster build; LTO's inlining across crates saves about 6% of the instructions a transaction runs
/// (docs/benchmarks.md), which is worth its build time for the binary that serves.
fn image_profile() -> impl Iterator<Item = (&'static str, &'static str)> {
    [("CARGO_PROFILE_RELEASE_LTO", "thin"), ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "4")]
        .into_iter()
        .filter(|(var, _)| std::env::var_os(var).is_none())
}

/// `cargo SUBCOMMAND --release --target .. --package=PACKAGE` with `flags` as RUSTFLAGS, and
/// without the tool's secrets (the registry credentials) in its environment: cargo runs build
/// scripts and proc macros of every dependency.
fn cargo(a: &BuildStatic, flags: &str, subcommand: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(subcommand);
    cmd.args(["--release", "--target", STATIC_TARGET, "--message-format=json-render-diagnostics"]);
    // One argument: a package name starting with '-' cannot be taken for a flag.
    cmd.arg(format!("--package={}", a.package));
    if let Some(features) = &a.features {
        cmd.arg(format!("--features={features}"));
    }
    for var in ccaas_deploy::registry_auth::SECRET_VARS {
        cmd.env_remove(var);
    }
    if let Some(m) = &a.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    cmd.envs(image_profile());
    cmd.env("RUSTFLAGS", flags).stdout(Stdio::piped()).stderr(Stdio::inherit());
    cmd
}

/// Runs cargo; the binaries it built (path and target name), or `None` if it failed.
fn run_cargo(mut cmd: Command) -> anyhow::Result<Option<Vec<(PathBuf, String)>>> {
    let output = cmd.spawn().context("cannot run cargo (is it on PATH?)")?.wait_with_output().context("cargo")?;
    if !output.status.success() {
        return Ok(None);
    }
    let mut binaries = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["reason"] == "compiler-artifact"
            && v["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin"))
        {
            if let (Some(exe), Some(name)) = (v["executable"].as_str(), v["target"]["name"].as_str()) {
                binaries.push((PathBuf::from(exe), name.to_string()));
            }
        }
    }
    Ok(Some(binaries))
}

/// Relinks `binary` with its hot functions next to each other; how many were placed, or `None`
/// (with a warning, the binary as first linked) when the list matches nothing or the linker
/// refuses the ordering.
fn lay_out(
    out: &Printer,
    a: &BuildStatic,
    flags: &str,
    binary: &std::path::Path,
    bin_name: &str,
    hot_functions: &str,
) -> anyhow::Result<Option<usize>> {
    let elf = std::fs::read(binary).with_context(|| format!("cannot read {}", binary.display()))?;
    let order = layout::symbol_order(&elf, hot_functions)
        .with_context(|| format!("cannot read the symbols of {}", binary.display()))?;
    if order.is_empty() {
        eprintln!("warning: no function of the hot-function list is in {bin_name}; its code keeps the default layout");
        return Ok(None);
    }
    // Named by its content: cargo keeps a build per set of rustc arguments, so a list that
    // changes under the same file name would leave the binary laid out by the old one.
    let order = order.join("\n") + "\n";
    let digest = image::sha256_digest(order.as_bytes());
    let order_file = binary.with_file_name(format!("{bin_name}.symbol-order-{}", &digest["sha256:".len()..][..16]));
    if std::fs::read(&order_file).ok().as_deref() != Some(order.as_bytes()) {
        std::fs::write(&order_file, &order).with_context(|| format!("cannot write {}", order_file.display()))?;
    }
    let count = order.lines().count();
    out.progress(&format!("relinking {bin_name} with its {count} hot functions together"));
    let mut relink = cargo(a, flags, &["rustc", "--bin", bin_name]);
    relink.arg("--").arg(format!("-Clink-arg=-Wl,--symbol-ordering-file={}", order_file.display()));
    relink.arg("-Clink-arg=-Wl,--no-warn-symbol-ordering");
    if run_cargo(relink)?.is_some() {
        return Ok(Some(count));
    }
    eprintln!(
        "warning: the linker refused --symbol-ordering-file (it needs lld, the default since Rust 1.90); \
         relinking {bin_name} with the default layout (it works the same, with about 1 MiB more memory per instance)"
    );
    if run_cargo(cargo(a, flags, &["build"]))?.is_none() {
        anyhow::bail!("cargo build of {} failed after the layout was refused", a.package);
    }
    Ok(None)
}

/// `hot-functions`: prints the functions the callgrind profiles saw run.
pub fn hot_functions(a: &HotFunctions) -> anyhow::Result<u8> {
    let mut listed = std::collections::HashSet::new();
    for path in &a.profiles {
        let profile =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the profile {}", path.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        println!("# run in {name}{}", if listed.is_empty() { "" } else { " and not before" });
        for function in layout::functions_in_callgrind_profile(&profile) {
            if listed.insert(function.clone()) {
                println!("{function}");
            }
        }
    }
    Ok(0)
}
