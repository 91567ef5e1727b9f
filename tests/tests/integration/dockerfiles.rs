//! The examples' Dockerfiles, checked without a Docker engine (none runs where these tests run):
//! each builds the package it names, copies out the binary that package really produces, runs it
//! as the entrypoint on the port the server listens on, as a numeric non-root user, on a runtime
//! image with the same Debian release (so the same glibc) as the builder, and keeps target/ and
//! .git out of the build context.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The Dockerfile's instructions, one per entry, with continuation lines joined and comments dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.is_empty()) {
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

fn argument<'a>(instructions: &'a [String], keyword: &str) -> Vec<&'a str> {
    instructions.iter().filter_map(|i| i.strip_prefix(keyword).map(str::trim)).collect()
}

/// The `[[bin]]` name in a package's Cargo.toml.
fn binary_name(manifest: &str) -> &str {
    let bin = manifest.split("[[bin]]").nth(1).expect("the example declares its binary");
    let line = bin.lines().find(|l| l.trim_start().starts_with("name")).unwrap();
    line.split('"').nth(1).unwrap()
}

fn check(example: &str) {
    let dir = workspace().join("examples").join(example);
    let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let steps = instructions(&text);
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let package = manifest.lines().find_map(|l| l.strip_prefix("name = ")).unwrap().trim_matches('"');
    let binary = binary_name(&manifest);

    // Two stages: a Debian builder, then distroless on the same Debian release.
    let from = argument(&steps, "FROM ");
    assert_eq!(from.len(), 2, "{example}: {from:?}");
    let (builder, runtime) = (from[0], from[1]);
    let same_release = [("bookworm", "debian12"), ("trixie", "debian13")]
        .iter()
        .any(|(codename, release)| builder.contains(codename) && runtime.contains(release));
    assert!(same_release, "{example}: builder {builder} and runtime {runtime} must share a Debian release");
    assert!(runtime.starts_with("gcr.io/distroless/cc-"), "{example}: {runtime}");

    // The build names this package, with the lock file, and copies out the binary it produces.
    let run = argument(&steps, "RUN ").concat();
    assert!(run.contains(&format!("cargo build --release --locked -p {package} ")), "{example}: {run}");
    let built = format!("target/release/{binary} /out/{binary}");
    assert!(run.contains(&built), "{example}: the binary of {package} is {binary}: {run}");
    let copy = argument(&steps, "COPY --from=builder ");
    assert_eq!(copy, [format!("/out/{binary} /usr/local/bin/{binary}")], "{example}");
    assert_eq!(argument(&steps, "ENTRYPOINT "), [format!("[\"/usr/local/bin/{binary}\"]")], "{example}");

    // It listens where the image says, on the port peers dial by default.
    let env = argument(&steps, "ENV ").concat();
    let port = ccaas_shim::server::DEFAULT_ADDRESS.port().to_string();
    let port = port.as_str();
    assert!(env.contains(&format!("CHAINCODE_SERVER_ADDRESS=0.0.0.0:{port}")), "{example}: {env}");
    assert_eq!(argument(&steps, "EXPOSE "), [port], "{example}");

    // A numeric non-root user, so Kubernetes' runAsNonRoot can verify it.
    let user = argument(&steps, "USER ");
    assert_eq!(user.len(), 1, "{example}");
    let ids: Vec<u32> = user[0].split(':').map(|id| id.parse().expect("numeric uid:gid")).collect();
    assert!(ids.iter().all(|&id| id != 0), "{example}: runs as root");

    // The build context leaves out the workspace's build output and history.
    let ignore = std::fs::read_to_string(dir.join("Dockerfile.dockerignore")).unwrap();
    for excluded in ["**/target", ".git"] {
        assert!(ignore.lines().any(|l| l.trim() == excluded), "{example}: {excluded} not ignored");
    }
}

#[test]
fn asset_transfer_basic_dockerfile_builds_and_runs_its_own_binary() {
    check("asset-transfer-basic");
}

#[test]
fn fabcar_dockerfile_builds_and_runs_its_own_binary() {
    check("fabcar");
}
