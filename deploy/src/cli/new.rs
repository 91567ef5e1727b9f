//! `ccaas-deploy new NAME`: a chaincode crate of its own, outside this workspace, that builds,
//! tests and serves as it is made. The files are the templates in `src/new/`, with the crate's
//! names and the way it depends on fabric-ccaas (a checkout by path, or a git URL and tag) filled
//! in. Everything is written into a staging directory and moved into place at the end, so a
//! failure leaves nothing behind.
//!
//! The `Cargo.lock` starts from the workspace's, so the crate resolves the versions the shim is
//! built and tested with: cargo drops the entries it does not need and adds the crate itself on
//! the first build, keeping every pinned version. With `--path` it is that checkout's lockfile;
//! with `--git` it is the lockfile of the checkout this binary was built from, when that is still
//! there (the tag's own lockfile cannot be read without fetching the repository; the binary's
//! checkout is that tag's when `ccaas-deploy` was installed from it, and otherwise cargo keeps
//! what still fits and resolves the rest), and no lockfile when it is not.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ccaas_deploy::Error;
use clap::Args;
use serde_json::json;

use super::output::Printer;

#[derive(Args, Debug)]
pub struct New {
    /// The crate's name (lower-case ASCII letters, digits, '-' and '_'); its chaincode name is the
    /// same with '-' for '_'.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The directory to create (new or empty) [default: ./NAME].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Depend on the shim and the test kit of this fabric-ccaas checkout [default: the one this
    /// ccaas-deploy was built from].
    #[arg(long, value_name = "CHECKOUT", conflicts_with = "git")]
    pub path: Option<PathBuf>,
    /// Depend on them by git URL instead, at --tag or --rev.
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
    /// The git tag (with --git).
    #[arg(long, requires = "git", conflicts_with = "rev")]
    pub tag: Option<String>,
    /// The git revision (with --git).
    #[arg(long, requires = "git")]
    pub rev: Option<String>,
    /// Build the server with TLS (the shim's `tls` feature), for peers that dial it with TLS
    /// [default: plaintext, a shorter build].
    #[arg(long)]
    pub tls: bool,
}

/// The files, by their path in the new crate, and their templates.
const TEMPLATES: [(&str, &str); 7] = [
    ("Cargo.toml", include_str!("../new/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../new/lib.rs.tmpl")),
    ("src/main.rs", include_str!("../new/main.rs.tmpl")),
    ("tests/contract.rs", include_str!("../new/contract_test.rs.tmpl")),
    ("ccaas-deploy.yaml", include_str!("../new/ccaas-deploy.yaml.tmpl")),
    (".gitignore", include_str!("../new/gitignore.tmpl")),
    ("README.md", include_str!("../new/README.md.tmpl")),
];

/// The checkout this binary was built from.
fn build_checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the shim and the test kit come from.
enum Source {
    /// A checkout of fabric-ccaas (absolute).
    Path(PathBuf),
    /// A git repository at a tag or a revision: (URL, "tag" or "rev", its value).
    Git(String, &'static str, String),
}

impl Source {
    /// The dependency on the workspace's crate in `dir` with `features`, as a TOML inline table.
    fn dependency(&self, dir: &str, features: &[&str]) -> String {
        let features = match features {
            [] => String::new(),
            f => format!(", features = [{}]", f.iter().map(|f| toml_string(f)).collect::<Vec<_>>().join(", ")),
        };
        match self {
            Source::Path(checkout) => {
                format!("{{ path = {}{features} }}", toml_string(&checkout.join(dir).to_string_lossy()))
            }
            Source::Git(url, kind, value) => {
                format!("{{ git = {}, {kind} = {}{features} }}", toml_string(url), toml_string(value))
            }
        }
    }

    /// The command that installs `ccaas-peer`.
    fn install_peer(&self) -> String {
        match self {
            Source::Path(checkout) => {
                format!(
                    "cargo install --locked --path {} --bin ccaas-peer",
                    sh_quote(&checkout.join("tests").to_string_lossy())
                )
            }
            Source::Git(url, kind, value) => {
                format!(
                    "cargo install --locked --git {} --{kind} {} ccaas-testkit --bin ccaas-peer",
                    sh_quote(url),
                    sh_quote(value)
                )
            }
        }
    }
}

/// Checks that `dir` holds the fabric-ccaas workspace; its absolute path.
fn checkout(dir: &Path, given: bool) -> Result<PathBuf, Error> {
    let holds = |file: &str, text: &str| std::fs::read_to_string(dir.join(file)).is_ok_and(|t| t.contains(text));
    if holds("Cargo.toml", "[workspace]")
        && holds("shim/Cargo.toml", "name = \"ccaas-shim\"")
        && holds("tests/Cargo.toml", "name = \"ccaas-testkit\"")
    {
        return dir.canonicalize().map_err(|cause| Error::Read {
            what: "fabric-ccaas checkout",
            path: dir.into(),
            cause,
        });
    }
    Err(Error::Config(if given {
        format!(
            "{} is not a fabric-ccaas checkout (no workspace with shim/ and tests/): give --path the directory of \
             its top-level Cargo.toml, or --git URL with --tag or --rev",
            dir.display()
        )
    } else {
        format!(
            "the fabric-ccaas checkout this ccaas-deploy was built from ({}) is gone: give --path CHECKOUT, or \
             --git URL with --tag or --rev",
            dir.display()
        )
    }))
}

/// Rust's keywords, strict and reserved: cargo refuses them as crate names.
const KEYWORDS: [&str; 51] = [
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual",
];

/// Names cargo refuses or warns about: Rust's own crates, its build directories, and the file
/// names Windows reserves.
#[rustfmt::skip]
const RESERVED: [&str; 32] = [
    "core", "std", "alloc", "proc_macro", "proc-macro", "test",
    "deps", "examples", "build", "incremental",
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
    "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Checks `name` as a crate name; the chaincode name it gives (`-` for `_`), which must also
/// suit Fabric (letters and digits in runs joined by single `-` or `_`) and Kubernetes (a
/// DNS-1035 label for the Deployment and Service).
fn chaincode_name(name: &str) -> Result<String, Error> {
    let refuse = |why: String| Err(Error::Config(format!("cannot make a crate named '{name}': {why}")));
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return refuse("a crate name has only ASCII letters, digits, '-' and '_'; choose one that does".into());
    }
    if !name.as_bytes()[0].is_ascii_alphabetic() {
        return refuse("start the name with a letter".into());
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        let lower = name.to_ascii_lowercase();
        return refuse(format!("Rust warns about crate names that are not lower case; use {lower}"));
    }
    if KEYWORDS.contains(&name) || RESERVED.contains(&name) {
        let kind = if KEYWORDS.contains(&name) { "a Rust keyword" } else { "a name cargo reserves" };
        return refuse(format!("it is {kind}; choose another, e.g. {name}-cc"));
    }
    let chaincode = name.replace('_', "-");
    if chaincode.ends_with('-') || chaincode.contains("--") || chaincode.len() > 63 {
        return refuse(format!(
            "its chaincode name '{chaincode}' would not suit Fabric and Kubernetes (at most 63 letters and digits, \
             with single '-' or '_' between them); choose a name that does"
        ));
    }
    Ok(chaincode)
}

/// Quotes `s` for a POSIX shell when it needs it.
fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@+,".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Removes the staging directory when dropped, unless it has become the crate's directory.
struct Staging(Option<PathBuf>);

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Renames `staging` to `dir`, or with `existing`, moves its entries into `dir` (all or, moving
/// back those already moved, none).
fn put_in_place(staging: &Path, dir: &Path, existing: bool) -> std::io::Result<()> {
    if !existing {
        return std::fs::rename(staging, dir);
    }
    let entries = std::fs::read_dir(staging)?.map(|e| e.map(|e| e.file_name())).collect::<Result<Vec<_>, _>>()?;
    for (i, name) in entries.iter().enumerate() {
        if let Err(e) = std::fs::rename(staging.join(name), dir.join(name)) {
            for moved in &entries[..i] {
                let _ = std::fs::rename(dir.join(moved), staging.join(moved));
            }
            return Err(e);
        }
    }
    Ok(())
}

/// `ccaas-deploy new`.
pub fn new(out: &Printer, a: &New) -> anyhow::Result<u8> {
    let chaincode = chaincode_name(&a.name)?;
    let lib = a.name.replace('-', "_");
    let source = match (&a.git, &a.tag, &a.rev) {
        (Some(url), Some(tag), _) => Source::Git(url.clone(), "tag", tag.clone()),
        (Some(url), None, Some(rev)) => Source::Git(url.clone(), "rev", rev.clone()),
        (Some(_), None, None) => anyhow::bail!(Error::Config("--git needs --tag TAG or --rev REV".into())),
        (None, _, _) => Source::Path(match &a.path {
            Some(p) => checkout(p, true)?,
            None => checkout(&build_checkout(), false)?,
        }),
    };
    let lockfile = match &source {
        Source::Path(p) => Some(p.join("Cargo.lock")),
        Source::Git(..) => checkout(&build_checkout(), false).ok().map(|p| p.join("Cargo.lock")),
    }
    .filter(|l| l.is_file());

    let dir = a.dir.clone().unwrap_or_else(|| PathBuf::from(&a.name));
    let existing = match std::fs::read_dir(&dir).map(|mut entries| entries.next().is_some()) {
        Ok(true) => anyhow::bail!(Error::Config(format!(
            "{} exists and is not empty: give --dir a new or empty directory",
            dir.display()
        ))),
        Ok(false) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) if dir.exists() => anyhow::bail!(Error::Config(format!(
            "{} exists and is not a directory I can read ({e}): give --dir a new or empty directory",
            dir.display()
        ))),
        Err(cause) => anyhow::bail!(Error::Read { what: "target directory", path: dir, cause }),
    };
    // The files are written into a staging directory: inside an existing (empty) directory, whose
    // entries are then moved up (the directory itself stays, e.g. as a shell's working directory),
    // or beside a new one, which is then renamed into place.
    let staging_path = if existing {
        dir.join(format!(".ccaas-new-{}", std::process::id()))
    } else {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let (true, Some(name)) = (parent.is_dir(), dir.file_name()) else {
            anyhow::bail!(Error::Config(format!(
                "{} does not exist: create it first, or give --dir a directory in an existing one",
                parent.display()
            )));
        };
        parent.join(format!(".{}.ccaas-new-{}", name.to_string_lossy(), std::process::id()))
    };
    let mut staging = Staging(Some(staging_path.clone()));
    let fill = |template: &str| {
        template
            .replace("@crate@", &a.name)
            .replace("@lib@", &lib)
            .replace("@chaincode@", &chaincode)
            .replace("@shim@", &source.dependency("shim", if a.tls { &["tls"] } else { &[] }))
            .replace("@testkit@", &source.dependency("tests", &[]))
            .replace("@install_peer@", &source.install_peer())
    };
    let mut files = Vec::new();
    for (path, template) in TEMPLATES {
        let file = staging_path.join(path);
        std::fs::create_dir_all(file.parent().expect("a file in the crate"))
            .and_then(|_| std::fs::write(&file, fill(template)))
            .with_context(|| format!("cannot write {}", file.display()))?;
        files.push(path);
    }
    if let Some(l) = &lockfile {
        std::fs::copy(l, staging_path.join("Cargo.lock")).with_context(|| format!("cannot copy {}", l.display()))?;
        files.insert(1, "Cargo.lock");
    }
    put_in_place(&staging_path, &dir, existing)
        .with_context(|| format!("cannot move the new files from {} to {}", staging_path.display(), dir.display()))?;
    if !existing {
        staging.0 = None;
    }

    let serve = format!("CHAINCODE_ID={chaincode}_1.0 CHAINCODE_SERVER_ADDRESS=127.0.0.1:9999 cargo run");
    let next = [
        format!("cd {}", sh_quote(&dir.to_string_lossy())),
        "cargo test".to_string(),
        serve,
        format!("ccaas-deploy build-static -p {}   # then edit ccaas-deploy.yaml and run: ccaas-deploy up", a.name),
    ];
    let (depends_on, depends_json) = match &source {
        Source::Path(p) => (format!("the checkout {}", p.display()), json!({"path": p})),
        Source::Git(url, kind, value) => (format!("{url} at {kind} {value}"), json!({"git": url, *kind: value})),
    };
    let mut text = vec![format!(
        "created {} in {}: {}; it depends on fabric-ccaas from {depends_on}",
        a.name,
        dir.display(),
        files.join(", ")
    )];
    text.push(if a.tls {
        "it serves TLS or plaintext, as its environment says (the shim's `tls` feature)".into()
    } else {
        "it serves plaintext; for peers that dial it with TLS, add features = [\"tls\"] to ccaas-shim in Cargo.toml \
         (or make it with --tls)"
            .into()
    });
    text.push(match &lockfile {
        Some(l) => format!("Cargo.lock is {}'s: the first build keeps its versions", l.display()),
        None => "no Cargo.lock: the first build resolves the newest versions that fit".into(),
    });
    text.push("next:".into());
    text.extend(next.iter().map(|c| format!("  {c}")));
    out.result(
        &text,
        json!({"name": a.name, "dir": dir, "chaincode": chaincode, "files": files, "depends_on": depends_json,
               "tls": a.tls, "lockfile_from": lockfile, "next": next}),
    );
    Ok(0)
}
