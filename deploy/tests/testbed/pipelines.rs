//! The tools image and the pipeline recipes. `deploy/tools-image.sh` builds the image from this
//! build's `ccaas-deploy` and `ccaas-package` (dynamically linked: their libraries go in with
//! them); podman loads it and runs each tool. Then the README's GitHub Actions job and
//! docs/pipelines.md's GitLab CI job run as written, with `docker` being podman, against a testbed
//! and a docker-registry on loopback (HTTPS with its own CA, Basic auth): each pushes an image
//! and commits a chaincode.
//!
//! Needs podman, docker-registry and skopeo: without one of them the test skips with one line,
//! except under `CI=true` (`.ci/run` installs them).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use serde_norway::Value as Yaml;

use crate::registry_server::{Registry, HTPASSWD, PASSWORD, USER};
use crate::support::{bin_dir, ok, run, Testbed};

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(tool)).find(|p| p.is_file())
}

/// podman, docker-registry and skopeo, or `None` (after one line) outside CI.
fn container_tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    match (which("podman"), which("docker-registry"), which("skopeo")) {
        (Some(p), Some(r), Some(s)) => Some((p, r, s)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but podman, docker-registry or skopeo is missing (.ci/run installs them)")
        }
        _ => {
            eprintln!(
                "skipping the tools image and pipeline recipes: podman, docker-registry and skopeo are needed \
                 (apt-get install podman runc docker-registry skopeo)"
            );
            None
        }
    }
}

/// The first `lang` code block of the section `heading` of `file` (relative to the workspace).
fn doc_block(file: &str, heading: &str, lang: &str) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file)).unwrap();
    let section = text.split(&format!("\n{heading}\n")).nth(1).unwrap_or_else(|| panic!("{file} has no {heading:?}"));
    let block = section.split(&format!("```{lang}\n")).nth(1).unwrap_or_else(|| panic!("no {lang} block in {heading}"));
    block.split("\n```").next().unwrap().to_string()
}

/// A job's variables and its script, with the shell its CI runs the script with.
struct Job {
    name: &'static str,
    env: Vec<(String, String)>,
    /// Variables the job reads that are set in the CI's project settings, not in the job.
    project_variables: &'static [&'static str],
    script: String,
    shell: &'static [&'static str],
}

fn string_map(v: &Yaml) -> Vec<(String, String)> {
    v.as_mapping()
        .expect("a mapping of variables")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.as_str().expect("a string value").to_string()))
        .collect()
}

/// The README's GitHub Actions job: its `env:` and its `run:` steps (one bash each, as Actions runs them).
fn github_job() -> Job {
    let yaml: Yaml = serde_norway::from_str(&doc_block("README.md", "### In CI pipelines: the tools image", "yaml"))
        .expect("the README's GitHub Actions job is YAML");
    let job = &yaml["jobs"]["deploy"];
    let runs: Vec<&str> = job["steps"].as_sequence().unwrap().iter().filter_map(|s| s["run"].as_str()).collect();
    assert_eq!(runs.len(), 1, "one run step expected: {runs:?}");
    Job {
        name: "GitHub Actions",
        env: string_map(&job["env"]),
        project_variables: &[],
        script: runs[0].to_string(),
        shell: &["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"],
    }
}

/// docs/pipelines.md's GitLab CI job: its `variables:` and its `script:` (one shell session).
fn gitlab_job() -> Job {
    let yaml: Yaml = serde_norway::from_str(&doc_block("docs/pipelines.md", "## GitLab CI", "yaml"))
        .expect("docs/pipelines.md's GitLab CI job is YAML");
    let job = &yaml["deploy"];
    let lines: Vec<&str> = job["script"].as_sequence().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    Job {
        name: "GitLab CI",
        env: string_map(&job["variables"]),
        project_variables: &["FABRIC_NETWORK_CONFIG"],
        script: lines.join("\n"),
        shell: &["sh", "-e", "-c"],
    }
}

/// Removes the test's image from podman's store.
struct LoadedImage<'a> {
    podman: &'a Path,
    tag: String,
}

impl Drop for LoadedImage<'_> {
    fn drop(&mut self) {
        let _ = Command::new(self.podman).args(["rmi", "-f", &self.tag]).output();
    }
}

#[test]
fn tools_image_and_pipeline_recipes() {
    let Some((podman, registry_bin, skopeo)) = container_tools() else { return };
    let github = github_job();
    let gitlab = gitlab_job();
    let tmp = tempfile::tempdir().unwrap();

    // The image, as the README builds it, from this build's binaries.
    let bins = bin_dir();
    let archive = tmp.path().join("ccaas-tools.tar");
    let tag = format!("localhost/ccaas-tools:test-{}", std::process::id());
    let built = ok(Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools-image.sh"))
        .args(["--tag", &tag, "--output", "json", "--docker-archive"])
        .arg(&archive)
        .env("CCAAS_TOOLS_BIN", &bins));
    let built: Value = serde_json::from_str(&built).unwrap();
    let files: Vec<&str> = built["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(files.contains(&"/usr/local/bin/ccaas-deploy") && files.contains(&"/usr/local/bin/ccaas-package"));
    eprintln!(
        "tools image {} : {} bytes compressed (debug binaries, with their libraries)",
        built["digest"], built["compressed_size"]
    );
    ok(Command::new(&podman).arg("load").arg("-i").arg(&archive));
    let _loaded = LoadedImage { podman: &podman, tag: tag.clone() };

    let config: Value = serde_json::from_str(&ok(Command::new(&podman).args([
        "image",
        "inspect",
        "--format",
        "{{json .Config}}",
        &tag,
    ])))
    .unwrap();
    assert_eq!(config["User"], "65532:65532", "{config}");
    assert_eq!(config["Entrypoint"], serde_json::json!(["/usr/local/bin/ccaas-deploy"]), "{config}");
    assert!(config["ExposedPorts"].as_object().is_none_or(|p| p.is_empty()), "a tools image serves nothing: {config}");
    assert!(!config.to_string().contains("CHAINCODE_SERVER_ADDRESS"), "{config}");
    let version = ok(Command::new(&podman).args(["run", "--rm", &tag, "--version"]));
    assert_eq!(version.trim(), concat!("ccaas-deploy ", env!("CARGO_PKG_VERSION")));
    let version = ok(Command::new(&podman).args([
        "run",
        "--rm",
        "--entrypoint",
        "/usr/local/bin/ccaas-package",
        &tag,
        "--version",
    ]));
    assert!(version.starts_with("ccaas-package "), "{version}");
    let (code, _, err) =
        run(Command::new(&podman).args(["run", "--rm", "--entrypoint", "/bin/sh", &tag, "-c", "true"]));
    assert_ne!(code, 0, "the image has a shell: {err}");

    // A registry with its own CA and Basic auth, and a Fabric network.
    let ca = tmp.path().join("registry-tls");
    ok(Command::new(bins.join("ccaas-package")).args(["tls", "--host", "127.0.0.1", "--out"]).arg(&ca));
    let read = |f: &str| std::fs::read(ca.join(f)).unwrap();
    let (cert, key) = (read("server.pem"), read("server.key"));
    let auth = "  tls:\n    certificate: DIR/server.pem\n    key: DIR/server.key\n\
                auth:\n  htpasswd:\n    realm: ccaas-test\n    path: DIR/htpasswd\n";
    let registry = Registry::start(
        &registry_bin,
        auth,
        &[("htpasswd", HTPASSWD.as_bytes()), ("server.pem", &cert), ("server.key", &key)],
    );
    let Some(t) = Testbed::up("pipelines", 1, crate::ports::port(crate::ports::testbed::PIPELINES)) else { return };
    let network_config = t.var("ORG1_NETWORK_CONFIG").to_string();

    // `docker` is podman.
    let shim = tmp.path().join("bin");
    std::fs::create_dir(&shim).unwrap();
    std::fs::write(shim.join("docker"), format!("#!/bin/sh\nexec '{}' \"$@\"\n", podman.display())).unwrap();
    std::fs::set_permissions(shim.join("docker"), std::fs::Permissions::from_mode(0o755)).unwrap();

    for (job, name, tag_suffix) in [(github, "asset", "gh"), (gitlab, "asset-gl", "gl")] {
        let work = tmp.path().join(tag_suffix);
        std::fs::create_dir(&work).unwrap();
        // The build job's artifact: a static stand-in for the chaincode binary.
        std::fs::copy("/sbin/ldconfig", work.join("asset-transfer-basic")).unwrap();
        std::fs::copy(ca.join("ca.pem"), work.join("registry-ca.pem")).unwrap();
        let image = registry.reference(&format!("asset-transfer-basic:{tag_suffix}"));
        let network = match job.name {
            // A secret's text in GitHub; a File variable (a path) in GitLab.
            "GitHub Actions" => std::fs::read_to_string(&network_config).unwrap(),
            _ => network_config.clone(),
        };
        let set_by_test = [
            ("TOOLS_IMAGE", tag.clone()),
            ("IMAGE", image.clone()),
            ("CCAAS_REGISTRY_HOST", format!("127.0.0.1:{}", registry.port)),
            ("CCAAS_REGISTRY_USER", USER.to_string()),
            ("CCAAS_REGISTRY_PASSWORD", PASSWORD.to_string()),
            ("FABRIC_NETWORK_CONFIG", network),
            ("CHAINCODE", name.to_string()),
        ];
        let mut cmd = Command::new(job.shell[0]);
        cmd.args(&job.shell[1..]).arg(&job.script).current_dir(&work).env_clear();
        for (k, v) in &job.env {
            if let Some((_, ours)) = set_by_test.iter().find(|(name, _)| name == k) {
                cmd.env(k, ours);
            } else {
                assert!(!v.contains('$'), "{}: {k}={v} is a CI expression the test does not set", job.name);
                cmd.env(k, v);
            }
        }
        for (k, v) in set_by_test {
            if job.project_variables.contains(&k) {
                cmd.env(k, v);
            } else {
                assert!(job.env.iter().any(|(name, _)| name == k), "{}: no variable {k}", job.name);
            }
        }
        cmd.env("CCAAS_REGISTRY_CA", work.join("registry-ca.pem"));
        cmd.env("PATH", format!("{}:/usr/local/bin:/usr/bin:/bin", shim.display()));
        for v in ["HOME", "TMPDIR"] {
            if let Some(val) = std::env::var_os(v) {
                cmd.env(v, val);
            }
        }
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "the {} job failed\nstdout:\n{out}\nstderr:\n{err}", job.name);
        eprintln!("{} job:\n{out}", job.name);

        // The image it pushed, as skopeo reads it back.
        let digest = out
            .lines()
            .find_map(|l| l.strip_prefix("digest "))
            .unwrap_or_else(|| panic!("{}: no image digest in:\n{out}", job.name));
        let inspected = ok(Command::new(&skopeo)
            .args(["inspect", "--tls-verify=false", "--creds", &format!("{USER}:{PASSWORD}")])
            .arg(format!("docker://{image}")));
        let inspected: Value = serde_json::from_str(&inspected).unwrap();
        assert_eq!(inspected["Digest"], digest, "{}: skopeo sees another digest", job.name);
        // The chaincode it committed, as the peer CLI reads it.
        let committed =
            t.peer_cli(1, &["lifecycle", "chaincode", "querycommitted", "-C", "mychannel", "-n", name, "-O", "json"]);
        assert!(committed.status.success(), "{}: {}", job.name, String::from_utf8_lossy(&committed.stderr));
        let committed: Value = serde_json::from_slice(&committed.stdout).unwrap();
        assert_eq!((committed["version"].as_str(), committed["sequence"].as_u64()), (Some("1.0"), Some(1)));
        assert!(work.join("cc.tgz").is_file(), "{}: the package is not in the job's directory", job.name);
    }
}
