//! `ccaas-deploy dev` as a user runs it: on the Fabric binaries of the fabric-testbed's release
//! tarball (unpacked once under `target/fabric-release/`), in a chaincode crate written to a
//! temporary folder, its output read line by line.
//!
//! The tarball is `<workspace>/../shared/fabric-testbed/fabric-VERSION-linux-amd64.tar.xz`
//! (`$FABRIC_TESTBED_DIR` for another folder, `$FABRIC_TESTBED_VERSION` for another version,
//! default 2.5.6). Without it the tests skip with one line, except under `CI=true`, where that is
//! a failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, kill_process_group, test_kill_process, Pid, Signal};

pub const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// The unpacked release (`bin/`, `config/`, `builders/ccaas/`), or `None` after one line on
/// stderr when the tarball is missing outside CI.
pub fn fabric_release(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("FABRIC_TESTBED_DIR") {
        Some(d) => PathBuf::from(d),
        None => workspace().join("../shared/fabric-testbed"),
    };
    let version = std::env::var("FABRIC_TESTBED_VERSION").unwrap_or_else(|_| "2.5.6".into());
    let tarball = dir.join(format!("fabric-{version}-linux-amd64.tar.xz"));
    if !tarball.is_file() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but there is no {} (set FABRIC_TESTBED_DIR)", tarball.display());
        }
        eprintln!("skipping {test}: no {}; put the fabric-testbed there or set FABRIC_TESTBED_DIR", tarball.display());
        return None;
    }
    // Unpacked once per tarball content; a concurrent test process unpacks into its own temporary
    // folder and the first rename wins.
    let sha = Command::new("sha256sum").arg(&tarball).output().unwrap();
    let sha = String::from_utf8_lossy(&sha.stdout).split_whitespace().next().unwrap_or_default().to_string();
    let release = workspace().join("target/fabric-release").join(&version);
    // One unpacking at a time in this process: a second test must not replace the folder the
    // first one is already running from.
    static UNPACKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _unpacking = UNPACKING.lock().unwrap_or_else(|e| e.into_inner());
    if std::fs::read_to_string(release.join(".tarball-sha256")).ok().as_deref() != Some(sha.as_str()) {
        let started = Instant::now();
        let tmp = release.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let status = Command::new("tar").arg("-xJf").arg(&tarball).arg("-C").arg(&tmp).status().unwrap();
        assert!(status.success(), "tar -xJf {} failed", tarball.display());
        std::fs::write(tmp.join(".tarball-sha256"), &sha).unwrap();
        let _ = std::fs::remove_dir_all(&release);
        if std::fs::rename(&tmp, &release).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        eprintln!("{test}: unpacked {} in {:.1?}", tarball.display(), started.elapsed());
    }
    Some(release)
}

/// The environment of this test process without what cargo sets for it (a nested build that
/// sees CARGO_MANIFEST_DIR and the like would rebuild), and without the peer CLI's variables.
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if crate::cargo_env::set_for_this_test(&name)
            || name.starts_with("CORE_")
            || name.starts_with("ORDERER_")
            || name == "FABRIC_CFG_PATH"
            || name == "FABRIC_BIN"
            || name == "CCAAS_DEPLOY_LOG"
        {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd
}

/// A running `ccaas-deploy dev`, its output lines collected (and echoed to stderr, which the
/// test harness shows for a failing test).
pub struct Dev {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    state: PathBuf,
    pub started: Instant,
}

impl Dev {
    /// `ccaas-deploy dev ARGS` in `dir` with `env` added.
    pub fn start(dir: &Path, state: &Path, args: &[&str], env: &[(String, String)]) -> Dev {
        let mut cmd = Command::new(DEPLOY);
        clean_env(&mut cmd)
            .arg("dev")
            .args(args)
            .arg("--state")
            .arg(state)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    eprintln!("  | {line}");
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Dev { child, lines, state: state.to_path_buf(), started }
    }

    /// The number of lines so far.
    pub fn mark(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// The first line after `from` that contains `text`, waiting up to `timeout`.
    pub fn wait_for(&mut self, from: usize, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.lines.lock().unwrap()[from..].iter().find(|l| l.contains(text)) {
                return l.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200)); // the last lines
                panic!("dev exited ({status}) before printing {text:?}:\n{}", self.output());
            }
            assert!(Instant::now() < deadline, "no {text:?} from dev within {timeout:?}:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The processes dev recorded (orderer, peers, chaincode server): name and pid.
    pub fn recorded(&self) -> Vec<(String, u32)> {
        recorded(&self.state)
    }

    pub fn signal(&self, signal: Signal) {
        kill_process(Pid::from_raw(self.child.id() as i32).unwrap(), signal).unwrap();
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(Instant::now() < deadline, "dev did not exit within {timeout:?}:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dev {
    /// A failed test leaves nothing running: dev, then what it recorded.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        for (_, pid) in recorded(&self.state) {
            if let Some(p) = Pid::from_raw(pid as i32).filter(|_| pid > 1) {
                let _ = kill_process_group(p, Signal::KILL);
            }
        }
    }
}

/// The pids in `STATE/pids/` but dev's own.
pub fn recorded(state: &Path) -> Vec<(String, u32)> {
    let Ok(dir) = std::fs::read_dir(state.join("pids")) else { return Vec::new() };
    let mut out: Vec<(String, u32)> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "dev" && !n.starts_with('.'))
        .filter_map(|n| {
            let text = std::fs::read_to_string(state.join("pids").join(&n)).ok()?;
            Some((n, text.split_whitespace().next()?.parse().ok()?))
        })
        .collect();
    out.sort();
    out
}

/// Whether `pid` is a live process (not a zombie).
pub fn running(pid: u32) -> bool {
    let alive = Pid::from_raw(pid as i32).is_some_and(|p| test_kill_process(p).is_ok());
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false);
    alive && !zombie
}

/// `ccaas-deploy ARGS` as org 1's admin of dev's network (the variables of `STATE/org1.env`):
/// exit code, stdout, stderr.
pub fn deploy_as_org1(state: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(DEPLOY);
    clean_env(&mut cmd).args(args);
    for (k, v) in env_file(&state.join("org1.env")) {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `export NAME='value'` lines of an env file (PATH, which extends the caller's, left out).
pub fn env_file(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| *k != "PATH")
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').replace(r"'\''", "'")))
        .collect()
}

/// Polls `query` as org 1 until it answers `expected`; the time it took.
pub fn until_answer(state: &Path, args: &[&str], expected: &str, timeout: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (code, out, err) = deploy_as_org1(state, args);
        if code == 0 && out.trim() == expected {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < timeout,
            "ccaas-deploy {} did not answer {expected:?} within {timeout:?}; last: exit {code}, {out}{err}",
            args.join(" ")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
