//! `ccaas-deploy image`: the same binary gives the same digest; the OCI layout, OCI archive and
//! docker archive hold a well-formed image (non-root numeric user, entrypoint, exposed port,
//! `CHAINCODE_SERVER_ADDRESS` default, fixed tar headers); a dynamically linked binary runs from
//! the image's files alone (its libraries were copied in); skopeo reads all three outputs.
//!
//! The binary put in the images is the system's `/bin/true` (small, and dynamically linked, so
//! the library path is exercised; the compressor is unoptimized in debug builds). The skopeo checks skip with one line when skopeo is missing, except under
//! `CI=true` (`.ci/run` installs it).

use std::io::Read;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");
const BINARY: &str = "/bin/true";

fn image(args: &[&str]) -> Value {
    let out = Command::new(DEPLOY).arg("image").arg(BINARY).args(args).args(["--output", "json"]).output().unwrap();
    assert!(out.status.success(), "image {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect::<String>())
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let bytes = std::fs::read(layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))).unwrap();
    assert_eq!(sha256(&bytes), digest, "blob content does not match its digest");
    bytes
}

#[test]
fn same_binary_same_digest_and_a_well_formed_image() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let first = image(&["--tag", "localhost/true:test", "--oci-layout", a.to_str().unwrap()]);
    let second = image(&["--tag", "localhost/true:test", "--oci-layout", b.to_str().unwrap()]);
    assert_eq!(first["digest"], second["digest"], "two builds of the same binary differ");
    for f in ["index.json", "oci-layout"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    let digest = first["digest"].as_str().unwrap();
    assert!(!first["static"].as_bool().unwrap(), "/bin/true is dynamically linked");

    let index: Value = serde_json::from_slice(&std::fs::read(a.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest);
    assert_eq!(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "localhost/true:test");
    let manifest: Value = serde_json::from_slice(&blob(&a, digest)).unwrap();
    assert_eq!(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let config: Value = serde_json::from_slice(&blob(&a, manifest["config"]["digest"].as_str().unwrap())).unwrap();
    let c = &config["config"];
    assert_eq!(c["User"], "65532:65532");
    assert_eq!(c["Entrypoint"], serde_json::json!(["/usr/local/bin/true"]));
    assert!(c["ExposedPorts"]["7052/tcp"].is_object());
    assert!(c["Env"].as_array().unwrap().iter().any(|e| e == "CHAINCODE_SERVER_ADDRESS=0.0.0.0:7052"));
    assert!(config.get("created").is_none(), "a creation time would make every build differ");

    // The layer: fixed headers, and the binary byte for byte.
    let layer_gz = blob(&a, manifest["layers"][0]["digest"].as_str().unwrap());
    let mut layer = Vec::new();
    flate2::read::GzDecoder::new(layer_gz.as_slice()).read_to_end(&mut layer).unwrap();
    assert_eq!(config["rootfs"]["diff_ids"][0], sha256(&layer));
    let unpacked = tmp.path().join("rootfs");
    let mut archive = tar::Archive::new(layer.as_slice());
    let mut names = Vec::new();
    for e in archive.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!((h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()), (0, 0, 0));
        assert_eq!(h.username().unwrap(), Some(""));
        names.push(e.path().unwrap().display().to_string());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries are not in a fixed order");
    tar::Archive::new(layer.as_slice()).unpack(&unpacked).unwrap();
    assert_eq!(std::fs::read(unpacked.join("usr/local/bin/true")).unwrap(), std::fs::read(BINARY).unwrap());

    // The copied libraries suffice: run the binary with the image's loader and libraries only.
    let loader = first["files"].as_array().unwrap().iter().filter_map(|f| f.as_str()).find(|f| f.contains("ld-linux"));
    let loader = unpacked.join(loader.expect("the interpreter is in the image").trim_start_matches('/'));
    let lib_dirs: std::collections::BTreeSet<String> = first["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .filter(|f| f.contains(".so"))
        .map(|f| unpacked.join(Path::new(f.trim_start_matches('/')).parent().unwrap()).display().to_string())
        .collect();
    let out = Command::new(&loader)
        .arg("--inhibit-cache")
        .arg("--library-path")
        .arg(lib_dirs.into_iter().collect::<Vec<_>>().join(":"))
        .arg(unpacked.join("usr/local/bin/true"))
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "the image's binary does not run: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("coreutils"));
}

#[test]
fn archives_carry_the_same_image() {
    let tmp = tempfile::tempdir().unwrap();
    let (oci, docker) = (tmp.path().join("oci.tar"), tmp.path().join("docker.tar"));
    let r = image(&[
        "--tag",
        "localhost/asset:1.0",
        "--port",
        "9999",
        "--uid",
        "1000",
        "--oci-archive",
        oci.to_str().unwrap(),
        "--docker-archive",
        docker.to_str().unwrap(),
    ]);
    let digest = r["digest"].as_str().unwrap();
    // docker archive: manifest.json names the config and an uncompressed layer named by its diff_id.
    let mut files = std::collections::BTreeMap::new();
    for e in tar::Archive::new(std::fs::File::open(&docker).unwrap()).entries().unwrap() {
        let mut e = e.unwrap();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        files.insert(e.path().unwrap().display().to_string(), b);
    }
    let m: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(m[0]["RepoTags"][0], "localhost/asset:1.0");
    let config: Value = serde_json::from_slice(&files[m[0]["Config"].as_str().unwrap()]).unwrap();
    assert_eq!(config["config"]["User"], "1000:1000");
    assert!(config["config"]["ExposedPorts"]["9999/tcp"].is_object());
    let layer = &files[m[0]["Layers"][0].as_str().unwrap()];
    assert_eq!(config["rootfs"]["diff_ids"][0], sha256(layer));

    let Some(skopeo) = which("skopeo") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but skopeo is not installed (.ci/run installs it)");
        }
        eprintln!("skipping the skopeo checks: skopeo is not installed (apt-get install skopeo)");
        return;
    };
    let inspect = |reference: String| -> Value {
        let out = Command::new(&skopeo).args(["inspect", "--raw"]).arg(&reference).output().unwrap();
        assert!(out.status.success(), "skopeo inspect {reference}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let out = Command::new(&skopeo).args(["inspect"]).arg(format!("oci-archive:{}", oci.display())).output().unwrap();
    assert!(out.status.success(), "skopeo inspect oci-archive: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Digest"], digest, "skopeo sees another digest in the OCI archive");
    let raw = inspect(format!("docker-archive:{}", docker.display()));
    assert_eq!(raw["layers"].as_array().unwrap().len(), 1);
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(tool)).find(|p| p.is_file())
}

/// Symlinks planted at the names an archive is staged under (the old fixed `<out>.partial`, and
/// the names the packager's staging would try first in this process) are not followed: their
/// target is untouched, and the archive lands at its path. A symlink at the path itself is
/// replaced, not written through.
#[test]
fn archive_writes_follow_no_planted_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("precious");
    std::fs::write(&precious, b"keep me").unwrap();
    let out = tmp.path().join("asset.tar");
    let mut planted = vec![out.with_extension("partial")];
    planted.extend((0..64).map(|n| tmp.path().join(format!("asset.tar.tmp.{}.{n}", std::process::id()))));
    for link in &planted {
        std::os::unix::fs::symlink(&precious, link).unwrap();
    }
    ccaas_deploy::image::write_file(&out, b"archive").unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"archive");
    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me", "a planted symlink was followed");
    assert!(planted.iter().all(|l| l.symlink_metadata().unwrap().file_type().is_symlink()));

    let linked = tmp.path().join("linked.tar");
    std::os::unix::fs::symlink(&precious, &linked).unwrap();
    ccaas_deploy::image::write_file(&linked, b"archive").unwrap();
    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me", "the symlink at the path was written through");
    assert!(linked.symlink_metadata().unwrap().file_type().is_file());
    // And through the command: the old `.partial` name of its output.
    let out = tmp.path().join("docker.tar");
    std::os::unix::fs::symlink(&precious, out.with_extension("partial")).unwrap();
    image(&["--docker-archive", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
    assert!(tar::Archive::new(std::fs::File::open(&out).unwrap()).entries().unwrap().count() > 0);
}
