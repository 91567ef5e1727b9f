//! OCI images of a chaincode server without a container engine: one reproducible layer holding
//! the binary (and, for a dynamically linked binary, the few libraries it loads), a config with
//! a non-root numeric user, the entrypoint, the exposed port and a `CHAINCODE_SERVER_ADDRESS`
//! default, and the manifest.
//!
//! The same binary gives the same bytes and therefore the same digest: tar headers have mtime 0,
//! uid/gid 0 and no user names, entries come in a fixed order, gzip has a fixed header and a
//! pinned compressor, and the config has no creation time.
//!
//! [`Image::write_oci_layout`] writes an OCI image layout directory, [`Image::oci_archive`] the
//! same as one tar (`oci-archive:`), and [`Image::docker_archive`] a `docker save` tar for
//! `podman load` / `docker load`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::Error;

/// The default chaincode server port.
pub const DEFAULT_PORT: u16 = 7052;
/// The default numeric user and group the container runs as (distroless `nonroot`).
pub const DEFAULT_USER: u32 = 65532;

/// Media type of the manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of the config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of the layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// What to put in the image.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    /// The chaincode server binary.
    pub binary: PathBuf,
    /// Where the binary goes in the image, and the entrypoint [default `/usr/local/bin/<file name>`].
    pub entrypoint: Option<String>,
    /// The port the server listens on: exposed, and the `CHAINCODE_SERVER_ADDRESS` default
    /// (`0.0.0.0:<port>`); `None` for an image that serves nothing (the tools image).
    pub port: Option<u16>,
    /// Numeric user and group (not 0).
    pub user: u32,
    /// More `KEY=value` defaults for the environment.
    pub env: Vec<(String, String)>,
    /// More binaries, each at `/usr/local/bin/<file name>` beside the entrypoint (with its
    /// libraries when it is dynamically linked): an image of several tools, where
    /// `--entrypoint` of `podman run` or `docker run` picks another one.
    pub more_binaries: Vec<PathBuf>,
}

impl ImageSpec {
    /// A spec with port 7052 and user 65532.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        ImageSpec {
            binary: binary.into(),
            entrypoint: None,
            port: Some(DEFAULT_PORT),
            user: DEFAULT_USER,
            env: Vec::new(),
            more_binaries: Vec::new(),
        }
    }
}

/// A content-addressed blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// `sha256:<hex>`.
    pub digest: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Blob {
    fn new(bytes: Vec<u8>) -> Blob {
        Blob { digest: sha256_digest(&bytes), bytes }
    }

    /// The hex part of the digest.
    pub fn hex(&self) -> &str {
        self.digest.trim_start_matches("sha256:")
    }
}

/// An assembled image.
#[derive(Clone, Debug)]
pub struct Image {
    /// The gzip-compressed layer.
    pub layer: Blob,
    /// The uncompressed layer's digest (the config's `diff_id`).
    pub diff_id: String,
    /// The uncompressed layer (for docker archives).
    pub layer_tar: Vec<u8>,
    /// The config JSON.
    pub config: Blob,
    /// The manifest JSON; its digest is the image digest.
    pub manifest: Blob,
    /// Files in the layer, by path in the image.
    pub files: Vec<String>,
    /// Whether the binaries are statically linked (no libraries copied).
    pub static_binary: bool,
}

impl Image {
    /// The image digest (the manifest's).
    pub fn digest(&self) -> &str {
        &self.manifest.digest
    }

    /// Compressed size: what a registry stores and a node pulls (manifest, config and layer).
    pub fn compressed_size(&self) -> u64 {
        (self.layer.bytes.len() + self.config.bytes.len() + self.manifest.bytes.len()) as u64
    }

    fn index(&self, reference: Option<&str>) -> Vec<u8> {
        let mut desc = json!({
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": self.manifest.digest,
            "size": self.manifest.bytes.len(),
        });
        if let Some(r) = reference {
            desc["annotations"] = json!({"org.opencontainers.image.ref.name": r});
        }
        to_json(
            &json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [desc]}),
        )
    }

    fn layout_files(&self, reference: Option<&str>) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![
            ("oci-layout".to_string(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
            ("index.json".to_string(), self.index(reference)),
        ];
        for b in [&self.layer, &self.config, &self.manifest] {
            files.push((format!("blobs/sha256/{}", b.hex()), b.bytes.clone()));
        }
        files
    }

    /// Writes an OCI image layout into `dir` (created if missing), with `reference` (e.g. a tag)
    /// as the manifest's `org.opencontainers.image.ref.name`.
    pub fn write_oci_layout(&self, dir: &Path, reference: Option<&str>) -> Result<(), Error> {
        for (name, bytes) in self.layout_files(reference) {
            let path = dir.join(&name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| write_error(parent, e))?;
            }
            write_file(&path, &bytes)?;
        }
        Ok(())
    }

    /// The OCI image layout as one tar (what `skopeo copy oci-archive:FILE ...` reads).
    pub fn oci_archive(&self, reference: Option<&str>) -> Result<Vec<u8>, Error> {
        let mut entries = self.layout_files(reference);
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut dirs = vec!["blobs/".to_string(), "blobs/sha256/".to_string()];
        dirs.sort();
        tar_bytes(
            &dirs
                .into_iter()
                .map(|d| (d, None))
                .chain(entries.into_iter().map(|(n, b)| (n, Some((b, 0o644)))))
                .collect::<Vec<_>>(),
        )
    }

    /// A `docker save` archive with `tag` (e.g. `localhost/asset:1.0`), for `podman load` and
    /// `docker load`. Its layer is stored uncompressed, as `docker save` does.
    pub fn docker_archive(&self, tag: &str) -> Result<Vec<u8>, Error> {
        let config_name = format!("{}.json", self.config.hex());
        let layer_name = format!("{}/layer.tar", self.diff_id.trim_start_matches("sha256:"));
        let manifest = to_json(&json!([{"Config": config_name, "RepoTags": [tag], "Layers": [layer_name]}]));
        let layer_dir = format!("{}/", self.diff_id.trim_start_matches("sha256:"));
        tar_bytes(&[
            (layer_dir, None),
            (layer_name, Some((self.layer_tar.clone(), 0o644))),
            (config_name, Some((self.config.bytes.clone(), 0o644))),
            ("manifest.json".into(), Some((manifest, 0o644))),
        ])
    }
}

fn write_error(path: &Path, e: std::io::Error) -> Error {
    Error::Config(format!("cannot write {}: {e}", path.display()))
}

/// `v` with every object's keys in sorted order, whether or not some crate in the build enabled
/// serde_json's `preserve_order` (which would otherwise keep insertion order): bytes and digests
/// must not depend on the build's feature set.
pub(crate) fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(&sorted(v.clone())).expect("a JSON value serializes")
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    format!("sha256:{}", h.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// A tar entry: a path and, for a regular file, its bytes and mode (`None`: a directory).
type Entry = (String, Option<(Vec<u8>, u32)>);

/// A tar of `entries` (directories when the content is `None`) with fixed headers.
fn tar_bytes(entries: &[Entry]) -> Result<Vec<u8>, Error> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, content) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).map_err(|e| Error::Config(format!("cannot store '{name}' in a tar header: {e}")))?;
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        let empty = Vec::new();
        let data = match content {
            Some((bytes, mode)) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(bytes.len() as u64);
                bytes
            }
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                &empty
            }
        };
        h.set_cksum();
        b.append(&h, data.as_slice()).map_err(|e| Error::Config(format!("cannot build a tar: {e}")))?;
    }
    b.into_inner().map_err(|e| Error::Config(format!("cannot build a tar: {e}")))
}

/// The ELF interpreter (`PT_INTERP`) of a 64-bit little-endian ELF file, if it has one; an error
/// when the file is not such an ELF executable.
pub fn elf_interpreter(bytes: &[u8], path: &Path) -> Result<Option<String>, Error> {
    let not_elf = |why: &str| {
        Error::Config(format!(
            "{} is not a 64-bit little-endian ELF executable ({why}): give the built binary",
            path.display()
        ))
    };
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
        return Err(not_elf("no ELF magic"));
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err(not_elf("not ELF64 LSB"));
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u64_at = |o: usize| -> Result<usize, Error> {
        let s = bytes.get(o..o + 8).ok_or_else(|| not_elf("truncated"))?;
        Ok(u64::from_le_bytes(s.try_into().expect("8 bytes")) as usize)
    };
    let phoff = u64_at(32)?;
    let phentsize = u16_at(54);
    let phnum = u16_at(56);
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        let p_type = bytes.get(o..o + 4).ok_or_else(|| not_elf("truncated program headers"))?;
        if u32::from_le_bytes(p_type.try_into().expect("4 bytes")) == 3 {
            let off = u64_at(o + 8)?;
            let size = u64_at(o + 32)?;
            let raw = bytes.get(off..off + size).ok_or_else(|| not_elf("truncated interpreter"))?;
            let s = raw.split(|b| *b == 0).next().unwrap_or_default();
            return Ok(Some(String::from_utf8_lossy(s).into_owned()));
        }
    }
    Ok(None)
}

/// The shared libraries a dynamically linked binary loads, as `ldd` resolves them on this
/// machine (absolute paths, the interpreter included).
fn linked_libraries(binary: &Path) -> Result<Vec<PathBuf>, Error> {
    // ldd runs the binary's loader: the registry credentials stay out of its environment.
    let mut ldd = Command::new("ldd");
    for var in crate::registry_auth::SECRET_VARS {
        ldd.env_remove(var);
    }
    let out = ldd.arg(binary).output().map_err(|e| {
        Error::Config(format!(
            "{} is dynamically linked and `ldd` cannot run ({e}) to find its libraries: build it static \
             (ccaas-deploy build-static) or install ldd (libc-bin)",
            binary.display()
        ))
    })?;
    if !out.status.success() {
        return Err(Error::Config(format!(
            "ldd {} failed: {}; build the binary static (ccaas-deploy build-static)",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let mut libs = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim();
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next().unwrap_or(""),
            None => line.split_whitespace().next().unwrap_or(""),
        };
        if line.contains("not found") {
            return Err(Error::Config(format!("{} needs a library ldd cannot find: {line}", binary.display())));
        }
        if path.starts_with('/') {
            libs.insert(PathBuf::from(path));
        }
    }
    Ok(libs.into_iter().collect())
}

/// Assembles the image for `spec`: reads the binary (and, if it is dynamically linked, the
/// libraries `ldd` names), builds the layer, config and manifest.
pub fn build(spec: &ImageSpec) -> Result<Image, Error> {
    if spec.user == 0 {
        return Err(Error::Config("user 0 is root: give a non-root numeric user".into()));
    }
    let file_name = |path: &Path| {
        path.file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .ok_or_else(|| Error::Config(format!("{} has no usable file name", path.display())))
    };
    let name = file_name(&spec.binary)?;
    let entrypoint = spec.entrypoint.clone().unwrap_or_else(|| format!("/usr/local/bin/{name}"));
    if !entrypoint.starts_with('/') || entrypoint.ends_with('/') {
        return Err(Error::Config(format!("entrypoint '{entrypoint}' is not an absolute file path")));
    }
    let mut binaries = vec![(spec.binary.clone(), entrypoint.clone())];
    for more in &spec.more_binaries {
        binaries.push((more.clone(), format!("/usr/local/bin/{}", file_name(more)?)));
    }
    // path in the image (no leading '/') → (bytes, mode)
    let mut files: std::collections::BTreeMap<String, (Vec<u8>, u32)> = std::collections::BTreeMap::new();
    let mut dynamic = false;
    for (path, at) in binaries {
        let bytes = std::fs::read(&path).map_err(|cause| Error::Read { what: "binary", path: path.clone(), cause })?;
        let interpreter = elf_interpreter(&bytes, &path)?;
        if files.insert(at.trim_start_matches('/').to_string(), (bytes, 0o755)).is_some() {
            return Err(Error::Config(format!(
                "two binaries would be {at} in the image: give each binary a distinct file name"
            )));
        }
        if interpreter.is_some() {
            dynamic = true;
            for lib in linked_libraries(&path)? {
                let bytes = std::fs::read(&lib).map_err(|cause| Error::Read {
                    what: "shared library",
                    path: lib.clone(),
                    cause,
                })?;
                files.insert(lib.to_string_lossy().trim_start_matches('/').to_string(), (bytes, 0o755));
            }
        }
    }
    let u = spec.user;
    files.insert(
        "etc/passwd".into(),
        (format!("root:x:0:0:root:/:/sbin/nologin\nnonroot:x:{u}:{u}:nonroot:/:/sbin/nologin\n").into_bytes(), 0o644),
    );
    files.insert("etc/group".into(), (format!("root:x:0:\nnonroot:x:{u}:\n").into_bytes(), 0o644));
    // Every parent directory, then the files, in path order.
    let mut dirs = BTreeSet::new();
    dirs.insert("tmp/".to_string());
    for path in files.keys() {
        let mut acc = String::new();
        for part in path.split('/').collect::<Vec<_>>().split_last().map(|(_, d)| d.to_vec()).unwrap_or_default() {
            acc.push_str(part);
            acc.push('/');
            dirs.insert(acc.clone());
        }
    }
    let mut entries: Vec<Entry> = dirs.into_iter().map(|d| (d, None)).collect();
    entries.extend(files.iter().map(|(p, (b, m))| (p.clone(), Some((b.clone(), *m)))));
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let layer_tar = tar_bytes(&entries)?;
    let diff_id = sha256_digest(&layer_tar);
    // The packager's fixed-header gzip: the same bytes for the same layer, so the same digest.
    let layer = Blob::new(ccaas_package::deterministic_gzip(&layer_tar));

    let mut env = vec!["PATH=/usr/local/bin:/usr/bin:/bin".to_string()];
    env.extend(spec.port.map(|p| format!("CHAINCODE_SERVER_ADDRESS=0.0.0.0:{p}")));
    env.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));
    let mut config = json!({
        "User": format!("{u}:{u}"),
        "Entrypoint": [entrypoint],
        "Env": env,
        "WorkingDir": "/",
        "Labels": {"org.opencontainers.image.title": name},
    });
    if let Some(p) = spec.port {
        config["ExposedPorts"] = json!({format!("{p}/tcp"): {}});
    }
    let config = Blob::new(to_json(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "ccaas-deploy image", "comment": match (dynamic, spec.more_binaries.is_empty()) {
            (true, true) => "binary and the shared libraries it loads",
            (true, false) => "binaries and the shared libraries they load",
            (false, true) => "static binary",
            (false, false) => "static binaries",
        }}],
    })));
    let manifest = Blob::new(to_json(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config.digest, "size": config.bytes.len()},
        "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": layer.digest, "size": layer.bytes.len()}],
    })));
    let mut listed: Vec<String> = files.keys().map(|k| format!("/{k}")).collect();
    listed.sort();
    Ok(Image { layer, diff_id, layer_tar, config, manifest, files: listed, static_binary: !dynamic })
}

/// A digest of everything [`build`] makes an image from: the binary, the libraries it loads, and
/// the spec (entrypoint, port, user, environment), with this ccaas-deploy's version. The same
/// inputs give the same image, so `up` can find the digest of an image it assembled before
/// ([`remembered`]) without assembling (compressing) it again.
pub fn input_digest(spec: &ImageSpec) -> Result<String, Error> {
    let read = |what: &'static str, path: &Path| {
        std::fs::read(path).map_err(|cause| Error::Read { what, path: path.to_path_buf(), cause })
    };
    let binary = read("chaincode binary", &spec.binary)?;
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(concat!("ccaas-deploy image ", env!("CARGO_PKG_VERSION")).as_bytes());
    field(spec.binary.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
    field(&binary);
    if elf_interpreter(&binary, &spec.binary)?.is_some() {
        for lib in linked_libraries(&spec.binary)? {
            field(lib.as_os_str().as_encoded_bytes());
            field(&read("shared library", &lib)?);
        }
    }
    field(spec.entrypoint.as_deref().unwrap_or_default().as_bytes());
    field(&spec.port.map(u16::to_be_bytes).unwrap_or_default());
    field(&spec.user.to_be_bytes());
    for (k, v) in &spec.env {
        field(k.as_bytes());
        field(v.as_bytes());
    }
    for more in &spec.more_binaries {
        field(b"binary");
        field(more.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
        let bytes = read("binary", more)?;
        field(&bytes);
        if elf_interpreter(&bytes, more)?.is_some() {
            for lib in linked_libraries(more)? {
                field(lib.as_os_str().as_encoded_bytes());
                field(&read("shared library", &lib)?);
            }
        }
    }
    Ok(format!("sha256:{}", h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Where `up` remembers the image digest of each [`input_digest`]: `ccaas-deploy/images` in
/// `$XDG_CACHE_HOME`, else in `$HOME/.cache`; `None` without either.
fn cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").filter(|d| !d.is_empty())?).join(".cache"),
    };
    Some(base.join("ccaas-deploy/images"))
}

/// The image digest remembered for `input` (an [`input_digest`]), if any.
pub fn remembered(input: &str) -> Option<String> {
    let path = cache_dir()?.join(input.trim_start_matches("sha256:"));
    let digest = std::fs::read_to_string(path).ok()?;
    let digest = digest.trim();
    (digest.starts_with("sha256:") && digest.len() == 71).then(|| digest.to_string())
}

/// Remembers that `input` gave the image `digest` (a cache: a failure to write is only logged).
pub fn remember(input: &str, digest: &str) {
    let Some(dir) = cache_dir() else { return };
    let written = std::fs::create_dir_all(&dir)
        .map_err(|e| write_error(&dir, e))
        .and_then(|()| write_file(&dir.join(input.trim_start_matches("sha256:")), digest.as_bytes()));
    if let Err(e) = written {
        tracing::warn!(error = %e, "cannot remember the image digest");
    }
}

/// Writes `bytes` to `path` atomically, as the packager writes packages: a new temporary file
/// beside it (created exclusively, so nothing planted at its name is followed), synced, then
/// renamed over `path` (a symlink at `path` is replaced, not followed).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    ccaas_package::write_file_atomically(path, bytes, ccaas_package::write::MODE_PUBLIC).map_err(|e| match e {
        ccaas_package::Error::Io { path, error } => write_error(&path, error),
        e => e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_digest_follows_the_binary_and_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("cc");
        std::fs::copy("/bin/true", &bin).unwrap();
        let spec = ImageSpec::new(&bin);
        let first = input_digest(&spec).unwrap();
        assert_eq!(input_digest(&spec).unwrap(), first, "the same inputs, the same digest");
        assert!(first.starts_with("sha256:") && first.len() == 71, "{first}");
        let mut other = ImageSpec::new(&bin);
        other.env.push(("RUST_LOG".into(), "info".into()));
        assert_ne!(input_digest(&other).unwrap(), first);
        other = ImageSpec::new(&bin);
        other.port = Some(9999);
        assert_ne!(input_digest(&other).unwrap(), first);
        std::fs::copy("/bin/false", &bin).unwrap();
        assert_ne!(input_digest(&spec).unwrap(), first, "another binary");
    }

    #[test]
    fn more_binaries_go_beside_the_entrypoint_and_no_port_exposes_nothing() {
        let mut spec = ImageSpec::new("/bin/true");
        spec.more_binaries.push("/bin/false".into());
        spec.port = None;
        let img = build(&spec).unwrap();
        for f in ["/usr/local/bin/true", "/usr/local/bin/false"] {
            assert!(img.files.iter().any(|x| x == f), "{f} not in {:?}", img.files);
        }
        let config: Value = serde_json::from_slice(&img.config.bytes).unwrap();
        assert_eq!(config["config"]["Entrypoint"], json!(["/usr/local/bin/true"]));
        assert!(config["config"].get("ExposedPorts").is_none(), "{config}");
        assert!(!config["config"]["Env"].to_string().contains("CHAINCODE_SERVER_ADDRESS"), "{config}");
        // Two binaries of one file name would overwrite each other.
        spec.more_binaries.push("/usr/bin/true".into());
        let err = build(&spec).unwrap_err().to_string();
        assert!(err.contains("two binaries would be /usr/local/bin/true"), "{err}");
    }
}
