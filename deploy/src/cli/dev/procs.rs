//! The processes `dev` starts (orderer, peers, chaincode server): each leads a process group of
//! its own, so a Ctrl-C in the terminal reaches `dev` alone and `dev` stops them in order, and each
//! has a pid file in `STATE/pids/` (its pid and start time), so that the run after a `dev` that was
//! killed outright (SIGKILL) stops what that one left running. A pid is signalled only while its
//! start time is the recorded one: a pid that the system gave to another process since is left alone.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustix::process::{kill_process_group, test_kill_process, Pid, Signal};

/// The pid files of one state directory.
#[derive(Debug, Clone)]
pub struct Pids {
    dir: PathBuf,
}

impl Pids {
    /// `STATE/pids/`, created if missing.
    pub fn new(state: &Path) -> anyhow::Result<Pids> {
        let dir = state.join("pids");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Pids { dir })
    }

    /// Takes the state directory for this process: fails, naming it, if another `dev` that is
    /// still running holds it.
    pub fn lock(&self) -> anyhow::Result<()> {
        if let Some(pid) = self.running("dev").filter(|pid| *pid != std::process::id()) {
            anyhow::bail!(ccaas_deploy::Error::Config(format!(
                "another ccaas-deploy dev (pid {pid}) runs with the state directory {}; stop it (Ctrl-C in its \
                 terminal) or give this one another --state",
                self.dir.parent().unwrap_or(&self.dir).display()
            )));
        }
        self.record("dev", std::process::id())
    }

    /// Records `pid` under `name`.
    pub fn record(&self, name: &str, pid: u32) -> anyhow::Result<()> {
        let ticks = start_time(pid).unwrap_or(0);
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, format!("{pid} {ticks}\n"))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Forgets `name`.
    pub fn forget(&self, name: &str) {
        let _ = std::fs::remove_file(self.dir.join(name));
    }

    /// The pid recorded under `name`, if that process still runs.
    fn running(&self, name: &str) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join(name)).ok()?;
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        let (Some(Ok(pid)), Some(Ok(ticks))) = (fields.next(), fields.next()) else { return None };
        let pid = u32::try_from(pid).ok().filter(|p| *p > 1)?;
        (start_time(pid) == Some(ticks)).then_some(pid)
    }

    /// Stops the processes that an earlier `dev` recorded and left running (SIGTERM to each
    /// group, SIGKILL 5 s later) and forgets them all; their names and pids.
    pub async fn stop_leftovers(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.retain(|n| n != "dev" && !n.starts_with('.'));
        names.sort();
        let mut stopped = Vec::new();
        for name in names {
            if let Some(pid) = self.running(&name) {
                signal_group(pid, Signal::TERM);
                stopped.push((name.clone(), pid));
            }
            self.forget(&name);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while stopped.iter().any(|(_, pid)| alive(*pid)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for (_, pid) in &stopped {
            if alive(*pid) {
                signal_group(*pid, Signal::KILL);
            }
        }
        stopped.into_iter().map(|(name, pid)| format!("{name} (pid {pid})")).collect()
    }
}

/// A child process leading its own process group, recorded in the pid files.
#[derive(Debug)]
pub struct Proc {
    /// Its name, as in its pid file.
    pub name: String,
    /// Its pid (and process group).
    pub pid: u32,
    child: tokio::process::Child,
    pids: Pids,
    stopped: bool,
}

impl Drop for Proc {
    /// Not stopped (an error or a cancellation on the way): SIGKILL, so that nothing is left.
    fn drop(&mut self) {
        if !self.stopped && self.child.id().is_some() {
            signal_group(self.pid, Signal::KILL);
            self.pids.forget(&self.name);
        }
    }
}

impl Proc {
    /// Spawns `cmd` as the leader of a new process group and records it as `name`.
    pub fn spawn(name: &str, cmd: &mut tokio::process::Command, pids: &Pids) -> anyhow::Result<Proc> {
        let program = cmd.as_std().get_program().to_string_lossy().into_owned();
        let child = cmd.process_group(0).spawn().with_context(|| format!("cannot start {name} ({program})"))?;
        let pid = child.id().context("the child exited at once")?;
        let proc = Proc { name: name.into(), pid, child, pids: pids.clone(), stopped: false };
        // Not recorded, it would outlive a killed dev unnoticed: it goes (on drop) if that fails.
        pids.record(name, pid)?;
        Ok(proc)
    }

    /// Its stdout, if piped (once).
    pub fn take_stdout(&mut self) -> Option<tokio::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// Its stderr, if piped (once).
    pub fn take_stderr(&mut self) -> Option<tokio::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until it exits.
    pub async fn wait(&mut self) -> Option<ExitStatus> {
        self.child.wait().await.ok()
    }

    /// Sends `signal` to its process group.
    pub fn signal(&self, signal: Signal) {
        signal_group(self.pid, signal);
    }

    /// Stops it: SIGTERM to its group, SIGKILL after `grace`; then forgets its pid file.
    pub async fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        if self.stopped {
            return self.exited();
        }
        let status = match self.exited() {
            Some(s) => Some(s),
            None => {
                self.signal(Signal::TERM);
                match tokio::time::timeout(grace, self.wait()).await {
                    Ok(s) => s,
                    Err(_) => {
                        tracing::warn!(name = %self.name, pid = self.pid, "still running after {grace:?}: SIGKILL");
                        self.signal(Signal::KILL);
                        self.wait().await
                    }
                }
            }
        };
        // The group may still have members (a builder the peer started): they go with it.
        signal_group(self.pid, Signal::KILL);
        self.pids.forget(&self.name);
        self.stopped = true;
        status
    }
}

/// Stops every process of `procs` at once (SIGTERM, SIGKILL after `grace`).
pub async fn stop_all(procs: &mut [Proc], grace: Duration) {
    for p in procs.iter().filter(|p| !p.stopped && p.child.id().is_some()) {
        p.signal(Signal::TERM);
    }
    // They stop together; each gets (at least) `grace`.
    for p in procs.iter_mut() {
        p.stop(grace).await;
    }
}

/// Whether `pid` exists (a zombie counts until its parent reaps it).
pub fn alive(pid: u32) -> bool {
    Pid::from_raw(pid as i32).is_some_and(|p| test_kill_process(p).is_ok())
}

fn signal_group(pid: u32, signal: Signal) {
    // Never pid 0 or 1: kill(0) and kill(-1) mean "my group" and "everyone".
    if let Some(p) = i32::try_from(pid).ok().filter(|p| *p > 1).and_then(Pid::from_raw) {
        let _ = kill_process_group(p, signal);
    }
}

/// A process's start time (clock ticks after boot, field 22 of `/proc/PID/stat`).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_time_of_this_process_is_read() {
        let mine = start_time(std::process::id()).expect("this process has a start time");
        assert!(mine > 0);
        assert_eq!(start_time(std::process::id()), Some(mine), "it does not change");
        assert_eq!(start_time(u32::MAX), None);
    }

    #[tokio::test]
    async fn a_stale_pid_file_is_not_signalled_and_a_live_one_is() {
        let state = tempfile::tempdir().unwrap();
        let pids = Pids::new(state.path()).unwrap();
        // A recorded pid whose start time differs (the pid was reused): left alone, forgotten.
        std::fs::write(state.path().join("pids/old"), format!("{} 1\n", std::process::id())).unwrap();
        let mut sleeper = Proc::spawn("sleeper", tokio::process::Command::new("sleep").arg("30"), &pids).unwrap();
        let stopped = pids.stop_leftovers().await;
        assert_eq!(stopped, [format!("sleeper (pid {})", sleeper.pid)]);
        assert!(sleeper.wait().await.is_some_and(|s| !s.success()), "the sleeper was signalled");
        assert!(!state.path().join("pids/old").exists() && !state.path().join("pids/sleeper").exists());
    }

    #[tokio::test]
    async fn a_second_dev_on_the_same_state_is_refused() {
        let state = tempfile::tempdir().unwrap();
        let pids = Pids::new(state.path()).unwrap();
        pids.lock().unwrap();
        pids.lock().unwrap(); // the same process again is fine
        let other = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        pids.record("dev", other.id()).unwrap();
        let e = pids.lock().unwrap_err().to_string();
        assert!(e.contains(&format!("another ccaas-deploy dev (pid {})", other.id())) && e.contains("--state"), "{e}");
        let mut other = other;
        other.kill().unwrap();
        other.wait().unwrap();
        pids.lock().unwrap();
    }
}
