//! Debian's `docker-registry` (the CNCF distribution registry) on a free loopback port, with its
//! own storage directory, stopped when dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The user of [`HTPASSWD`].
pub const USER: &str = "ci";
/// Its password.
pub const PASSWORD: &str = "s3cret";
/// bcrypt of PASSWORD (cost 4), as `htpasswd -B` writes it: an `htpasswd` file for Basic auth.
pub const HTPASSWD: &str = "ci:$2b$04$uUj0y8QeFH0OnwMxpBzK7OELe/vaoj0ILtFSlghddzGstPJvf2yS2\n";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Registry {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts docker-registry with `auth` (YAML appended to its config after the `http:` section's
    /// last key: an `auth:` block, and before it more `http:` keys indented by two spaces, such as
    /// `tls:`), and `files` written to its directory (`DIR` in `auth` is that directory).
    pub fn start(bin: &Path, auth: &str, files: &[(&str, &[u8])]) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let port = free_port();
        let auth = auth.replace("DIR", dir.path().to_str().unwrap());
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}/data\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: test-secret\n{auth}",
            dir.path().display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let r = Registry { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not listen on {port}: {}", r.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("registry.log")).unwrap_or_default()
    }

    pub fn reference(&self, repo_tag: &str) -> String {
        format!("127.0.0.1:{}/{repo_tag}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
