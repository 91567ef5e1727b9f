//! Atomic file writes: a temporary file in the destination directory, fsync, rename.
//! On any failure the temporary file is removed, so nothing is left behind.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Mode for files anyone may read (packages without a private key, certificates).
pub const MODE_PUBLIC: u32 = 0o644;
/// Mode for private keys, and for packages that hold one.
pub const MODE_PRIVATE: u32 = 0o600;

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A fully written and synced temporary file, renamed into place by [`Staged::commit`]
/// and removed if dropped uncommitted.
#[derive(Debug)]
pub(crate) struct Staged {
    tmp: Option<PathBuf>,
    dest: PathBuf,
}

impl Staged {
    /// Writes `bytes` to a new temporary file next to `dest` with the given unix mode.
    pub(crate) fn new(dest: &Path, bytes: &[u8], mode: u32) -> Result<Staged> {
        let dir = parent_of(dest);
        let name = dest.file_name().ok_or_else(|| Error::io(dest, std::io::Error::other("not a file path")))?;
        let (tmp, mut file) = loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = name.to_os_string();
            tmp_name.push(format!(".tmp.{}.{n}", std::process::id()));
            let tmp = dir.join(tmp_name);
            match open_new(&tmp, mode) {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1_000_000 => {}
                Err(e) => return Err(Error::io(dest, e)),
            }
        };
        let staged = Staged { tmp: Some(tmp), dest: dest.to_path_buf() };
        file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| Error::io(dest, e))?;
        Ok(staged)
    }

    /// Gives the staged file to `uid`:`gid` before it is renamed into place (unix; only root,
    /// or a user namespace's root, may). The error is the operating system's.
    #[cfg(unix)]
    pub(crate) fn chown(&self, uid: u32, gid: u32) -> std::io::Result<()> {
        std::os::unix::fs::chown(self.tmp.as_ref().expect("staged file present until commit"), Some(uid), Some(gid))
    }

    /// Renames the temporary file over the destination and syncs the directory.
    pub(crate) fn commit(mut self) -> Result<()> {
        let tmp = self.tmp.take().expect("staged file present until commit");
        if let Err(e) = fs::rename(&tmp, &self.dest) {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(&self.dest, e));
        }
        #[cfg(unix)]
        if let Ok(dir) = File::open(parent_of(&self.dest)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

fn open_new(path: &Path, mode: u32) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync,
/// rename). `mode` is the unix permission of a new file (before the umask); it is
/// ignored elsewhere. An existing file is replaced.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("ccaas-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("hello.txt");
/// ccaas_package::write_file_atomically(&path, b"hi", ccaas_package::write::MODE_PUBLIC).unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hi");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_file_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    Staged::new(path, bytes, mode)?.commit()
}
