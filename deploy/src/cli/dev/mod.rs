//! `ccaas-deploy dev`: edit, save, and real Fabric peers run the new code.
//!
//! 1. **The network.** With `--config` or the identity flags, that network. Without them, a local
//!    one from the user's Fabric release ([`fabric`]): an orderer and a peer per org as child
//!    processes on 127.0.0.1 ([`network`], [`configs`]), its state in `target/ccaas-dev/`.
//! 2. **Deploy once.** A ccaas package with the host's address, and the lifecycle as every org of
//!    the local network (or as the given identity): [`ccaas_deploy::plan`] does what is missing,
//!    so an unchanged definition needs nothing, and a changed one goes to the next sequence.
//! 3. **The loop.** `cargo build` ([`project`]), the server run with the package ID
//!    ([`chaincode`]), the crate's sources watched ([`watch`]); a saved change is built, and a
//!    new binary replaces the server (SIGTERM: the transactions in flight finish). The peers dial
//!    the new server on their next transaction; no lifecycle transaction is needed. A failed
//!    build leaves the old server serving. A change of the definition (`ccaas-deploy.yaml`, the
//!    collections file) is approved and committed at the next sequence.
//! 4. **Stop.** Ctrl-C (or SIGTERM) stops the server and the network ([`procs`]); `--keep` keeps
//!    the network's state for the next run, which starts it again with its ledger.

mod args;
mod chaincode;
mod configs;
mod deploy;
mod fabric;
mod network;
mod procs;
mod project;
mod watch;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use ccaas_deploy::definition::Definition;
use ccaas_deploy::lifecycle::Session;
use ccaas_deploy::Error;
use ccaas_package::BuiltPackage;
use rustix::process::Signal;
use tokio::signal::unix::{signal, SignalKind};

use crate::cli::connection::ConnectionArgs;
pub use args::{DevArgs, DEV_EXAMPLES};
use procs::{Pids, Proc};
use project::{Built, Project};

/// How long the nodes get to stop before SIGKILL.
const NODE_GRACE: Duration = Duration::from_secs(10);

/// A step line.
fn say(line: impl std::fmt::Display) {
    println!("dev: {line}");
}

/// Runs `dev` until Ctrl-C; `named_network`: the command line names a network to use;
/// `channel`: the local network's channel, if given on the command line.
pub async fn run(
    a: &DevArgs,
    connection: &ConnectionArgs,
    named_network: bool,
    channel: Option<String>,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    if named_network && (a.fabric.is_some() || a.orgs != 1 || a.port_base.is_some() || a.fresh || a.keep) {
        anyhow::bail!(Error::Config(
            "--fabric, --orgs, --port-base, --fresh and --keep are for the local network; with --config or the \
             identity flags dev uses that network instead"
                .into()
        ));
    }
    let mut project = Project::find(a).await?;
    let state = state_dir(a.state.as_deref().unwrap_or(&project.target_dir.join("ccaas-dev")))?;
    project.ignored.push(state.clone());
    let pids = Pids::new(&state)?;
    pids.lock()?;
    let mut signals = Signals::new()?;
    let mut dev = Dev {
        a,
        definition_file: deploy::definition_file(a, &project.dir)?,
        project,
        state,
        pids,
        nodes: Vec::new(),
        server: None,
        local: false,
    };
    let left = dev.pids.stop_leftovers().await;
    if !left.is_empty() {
        say(format!("stopped what an earlier dev left running: {}", left.join(", ")));
    }
    let result = tokio::select! {
        r = dev.serve(connection, named_network, channel, started) => r.map(Some),
        () = signals.recv() => Ok(None),
    };
    let result = match result {
        Ok(Some(mut serving)) => dev.watch(&mut serving, &mut signals).await,
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    dev.shutdown(&mut signals).await;
    result.map(|()| 0)
}

/// What is deployed: the definition, and the package with the server's address.
struct Deployed {
    definition: Definition,
    package: BuiltPackage,
    address: String,
    sessions: Vec<Session>,
    binary: Option<PathBuf>,
}

struct Dev<'a> {
    a: &'a DevArgs,
    project: Project,
    /// `ccaas-deploy.yaml` (or `-f`), and whether it was given.
    definition_file: (PathBuf, bool),
    state: PathBuf,
    pids: Pids,
    /// The local network's nodes.
    nodes: Vec<Proc>,
    server: Option<Proc>,
    /// The network is the local one.
    local: bool,
}

impl Dev<'_> {
    /// Network, deployment, first build and server: everything until the loop.
    async fn serve(
        &mut self,
        connection: &ConnectionArgs,
        named_network: bool,
        channel: Option<String>,
        started: Instant,
    ) -> anyhow::Result<Deployed> {
        let definition = deploy::definition(self.a, &self.definition_file, &self.project.package)?;
        let (sessions, address, env_file) = if named_network {
            let target = connection.sources(&[]).resolve()?;
            say(format!(
                "network: {} as {} on channel {}",
                target.peers.iter().map(|p| format!("{} ({})", p.name, p.address)).collect::<Vec<_>>().join(", "),
                target.identity.msp_id(),
                target.channel
            ));
            let address = match &self.a.address {
                Some(a) => a.clone(),
                None => self.kept_address()?,
            };
            (vec![Session::connect(&target).await?], address, None)
        } else {
            self.local = true;
            let release = fabric::find(self.a.fabric.as_deref()).await?;
            say(format!("Fabric {} from {}", release.version, release.root.display()));
            let wanted = network::Wanted {
                orgs: self.a.orgs,
                channel: channel.unwrap_or_else(|| ccaas_deploy::config::DEFAULT_CHANNEL.into()),
                port_base: self.a.port_base,
                fresh: self.a.fresh,
            };
            let t = Instant::now();
            let net = network::up(&release, &self.state, &wanted, &self.pids, &mut self.nodes, &|l| say(l)).await?;
            say(format!(
                "network {} in {:.1?} (logs in {})",
                if net.kept { "started with its ledger" } else { "ready" },
                t.elapsed(),
                shown(&net.net.logs())
            ));
            let mut sessions = Vec::new();
            for n in 1..=net.net.orgs {
                sessions.push(Session::connect(&network::target(&net.net, n)?).await?);
            }
            let address = self.a.address.clone().unwrap_or_else(|| format!("127.0.0.1:{}", net.net.chaincode_port()));
            (sessions, address, Some(net.net.env_file(1)))
        };
        let package = deploy::package(&definition.name, &address)?;
        say(format!("package {} (the peers dial {address})", package.package_id));
        let mut deployed = Deployed { definition, package, address, sessions, binary: None };
        deploy::lifecycle(&deployed.sessions, &deployed.definition, &deployed.package, &|l| say(l)).await?;
        self.build_and_serve(&mut deployed, None).await?;
        let name = &deployed.definition.name;
        say(format!(
            "ready in {:.1?}: save a change to rebuild and restart {name}; Ctrl-C to stop{}",
            started.elapsed(),
            match (self.local, self.a.keep) {
                (true, false) => " and remove the network (--keep keeps it for the next run)",
                (true, true) => " (the network's state is kept for the next run)",
                (false, _) => "",
            }
        ));
        say(match &env_file {
            Some(f) => format!(
                "call it: . {} && ccaas-deploy query -n {name} FUNCTION ARGS... (the file sets the peer CLI's \
                 variables too)",
                shown(f)
            ),
            None => format!("call it: ccaas-deploy query -n {name} FUNCTION ARGS... with this network's flags"),
        });
        Ok(deployed)
    }

    /// The loop: changes → build → restart, or → lifecycle.
    async fn watch(&mut self, d: &mut Deployed, signals: &mut Signals) -> anyhow::Result<()> {
        let mut folders = self.project.watched();
        for file in deploy::definition_files(self.a, &self.definition_file) {
            if let Some(dir) = file.parent() {
                if !folders.iter().any(|(f, _)| f == dir) {
                    folders.push((dir.to_path_buf(), false));
                }
            }
        }
        let mut watcher = watch::Watcher::new(&folders)?;
        loop {
            let definition_files = deploy::definition_files(self.a, &self.definition_file);
            let changes = tokio::select! {
                () = signals.recv() => return Ok(()),
                status = exited(&mut self.server) => {
                    self.server = None;
                    say(format!("the chaincode server exited ({}); save a change to build and start it again",
                        status.map(|s| s.to_string()).unwrap_or_default()));
                    continue;
                }
                changes = watcher.changes(|p| definition_files.iter().any(|f| f == p) || self.project.is_source(p)) => changes,
            };
            let (definition, sources): (Vec<_>, Vec<_>) =
                changes.into_iter().partition(|p| definition_files.contains(p));
            if !sources.is_empty() {
                say(format!("changed: {}; building", sources.iter().map(|p| shown(p)).collect::<Vec<_>>().join(", ")));
                let saved = Instant::now();
                tokio::select! {
                    () = signals.recv() => return Ok(()),
                    r = self.build_and_serve(d, Some(saved)) => r?,
                }
            }
            if !definition.is_empty() {
                tokio::select! {
                    () = signals.recv() => return Ok(()),
                    () = self.redefine(d) => {}
                }
            }
        }
    }

    /// Builds; on success with a new binary (or no server), (re)starts the server.
    async fn build_and_serve(&mut self, d: &mut Deployed, saved: Option<Instant>) -> anyhow::Result<()> {
        let t = Instant::now();
        if saved.is_none() {
            say(format!("building {} (cargo build)", self.project.package));
        }
        let (binary, rebuilt) = match self.project.build().await? {
            Built::Binary { path, rebuilt } => (path, rebuilt),
            Built::Failed if self.server.is_some() => {
                say("the build failed (the compiler's errors are above); the previous build keeps serving");
                return Ok(());
            }
            Built::Failed if saved.is_none() => {
                say("the build failed (the compiler's errors are above); fix them and save: dev builds again");
                return Ok(());
            }
            Built::Failed => {
                say("the build failed (the compiler's errors are above)");
                return Ok(());
            }
        };
        if !rebuilt && self.server.is_some() && d.binary.as_ref() == Some(&binary) {
            say("the binary did not change; the server keeps running");
            return Ok(());
        }
        if saved.is_some() || rebuilt {
            say(format!("built in {:.1?}", t.elapsed()));
        }
        self.restart(d, binary, saved).await
    }

    /// Stops the server (gracefully), and starts `binary`.
    async fn restart(&mut self, d: &mut Deployed, binary: PathBuf, since: Option<Instant>) -> anyhow::Result<()> {
        let t = Instant::now();
        if let Some(mut old) = self.server.take() {
            say("stopping the old server (SIGTERM: transactions in flight finish)");
            old.stop(chaincode::STOP_GRACE).await;
        }
        let listen = listen_address(&d.address);
        match chaincode::start(&binary, &d.package.package_id, &listen, &self.pids).await? {
            Ok(server) => {
                say(format!(
                    "serving {} on {listen} (pid {}, package {}){}",
                    shown(&binary),
                    server.pid,
                    d.package.package_id,
                    match since {
                        Some(s) =>
                            format!(", {:.1?} after the save ({:.1?} after the build)", s.elapsed(), t.elapsed()),
                        None => String::new(),
                    }
                ));
                self.server = Some(server);
                d.binary = Some(binary);
            }
            Err(why) => say(why),
        }
        Ok(())
    }

    /// Reads the definition again; if it changed, the lifecycle goes to the next sequence (and a
    /// new name is a new package: the server restarts with its ID).
    async fn redefine(&mut self, d: &mut Deployed) {
        let definition = match deploy::definition(self.a, &self.definition_file, &self.project.package) {
            Ok(def) => def,
            Err(e) => return say(format!("the definition is unusable: {e:#}; keeping {}", d.definition.name)),
        };
        if definition.name == d.definition.name && definition.same_as(&d.definition) {
            return say("the definition did not change");
        }
        let package = match deploy::package(&definition.name, &d.address) {
            Ok(p) => p,
            Err(e) => return say(format!("{e:#}")),
        };
        let changes = if definition.name == d.definition.name {
            definition.differences(&d.definition).join(", ")
        } else {
            format!("name {} → {}", d.definition.name, definition.name)
        };
        say(format!("the definition changed ({changes})"));
        let old = std::mem::replace(&mut d.definition, definition);
        let old_package = std::mem::replace(&mut d.package, package);
        if let Err(e) = deploy::lifecycle(&d.sessions, &d.definition, &d.package, &|l| say(l)).await {
            say(format!("{e:#}; {} stays as it was", old.name));
            d.definition = old;
            d.package = old_package;
            return;
        }
        if d.package.package_id != old_package.package_id {
            if let Some(binary) = d.binary.clone() {
                if let Err(e) = self.restart(d, binary, None).await {
                    say(format!("{e:#}"));
                }
            }
        }
    }

    /// The address for a network that is not the local one: 127.0.0.1 and a port chosen once
    /// and kept in the state directory, so that the package (and its ID) stays the same.
    fn kept_address(&self) -> anyhow::Result<String> {
        let file = self.state.join("address");
        if let Ok(a) = std::fs::read_to_string(&file) {
            return Ok(a.trim().to_string());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let address = format!("127.0.0.1:{port}");
        std::fs::write(&file, &address).with_context(|| format!("cannot write {}", file.display()))?;
        Ok(address)
    }

    /// Stops the server and the network (SIGKILL at once on a second Ctrl-C); removes the local
    /// network's state unless `--keep`.
    async fn shutdown(&mut self, signals: &mut Signals) {
        if self.server.is_some() || !self.nodes.is_empty() {
            say(format!(
                "stopping {}",
                match (self.server.is_some(), self.nodes.is_empty()) {
                    (true, true) => "the chaincode server",
                    (true, false) => "the chaincode server and the network",
                    _ => "the network",
                }
            ));
        }
        let (server, nodes) = (&mut self.server, &mut self.nodes);
        let stopping = async {
            if let Some(s) = server.as_mut() {
                s.stop(chaincode::STOP_GRACE).await;
            }
            procs::stop_all(nodes, NODE_GRACE).await;
        };
        tokio::select! {
            () = stopping => {}
            () = signals.recv() => {
                say("stopping everything now (SIGKILL)");
                for p in self.server.iter().chain(self.nodes.iter()) {
                    p.signal(Signal::KILL);
                }
            }
        }
        if let Some(mut s) = self.server.take() {
            s.stop(Duration::ZERO).await;
        }
        procs::stop_all(&mut self.nodes, Duration::ZERO).await;
        self.nodes.clear();
        if self.local {
            if self.a.keep {
                say(format!(
                    "the network's state is kept in {}: the next dev starts it with its ledger",
                    shown(&self.state)
                ));
            } else if !self.state.join("crypto").exists() {
                // Nothing was made.
            } else if let Err(e) = network::remove(&self.state) {
                say(format!("{e:#}"));
            } else {
                say(format!("the network is removed (its logs stay in {})", shown(&self.state.join("logs"))));
            }
        }
        self.pids.forget("dev");
    }
}

/// Where the server listens for the peers that dial `address`: the loopback interface for a
/// loopback address, else every interface.
fn listen_address(address: &str) -> String {
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "7052"));
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        format!("127.0.0.1:{port}")
    } else {
        format!("0.0.0.0:{port}")
    }
}

/// The state directory, created (absolute); refused if it holds something `dev` did not make.
fn state_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the state directory {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let marker = dir.join(".ccaas-dev");
    if !marker.exists() {
        if std::fs::read_dir(&dir)?.next().is_some() {
            anyhow::bail!(Error::Config(format!(
                "{} is not empty and was not made by ccaas-deploy dev; give another --state",
                dir.display()
            )));
        }
        std::fs::write(&marker, "made by ccaas-deploy dev\n")?;
    }
    Ok(dir)
}

/// `path` relative to the current directory when it is below it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd).unwrap_or(path).display().to_string()
}

/// Waits until the server exits (forever if there is none).
async fn exited(server: &mut Option<Proc>) -> Option<std::process::ExitStatus> {
    match server {
        Some(s) => s.wait().await,
        None => std::future::pending().await,
    }
}

/// SIGINT (Ctrl-C) and SIGTERM.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        Ok(Signals { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_listens_where_the_peers_dial() {
        assert_eq!(listen_address("127.0.0.1:21003"), "127.0.0.1:21003");
        assert_eq!(listen_address("localhost:9999"), "127.0.0.1:9999");
        assert_eq!(listen_address("host.docker.internal:9999"), "0.0.0.0:9999");
    }

    #[test]
    fn the_package_is_the_same_for_the_same_name_and_address() {
        let a = deploy::package("basic", "127.0.0.1:21003").unwrap();
        assert!(a.package_id.starts_with("basic_dev:"), "{}", a.package_id);
        assert_eq!(a.package_id, deploy::package("basic", "127.0.0.1:21003").unwrap().package_id);
        assert_ne!(a.package_id, deploy::package("basic", "127.0.0.1:21004").unwrap().package_id);
    }

    #[test]
    fn a_state_directory_of_something_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.txt"), "x").unwrap();
        let e = state_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("was not made by ccaas-deploy dev"), "{e}");
        let fresh = dir.path().join("state");
        let made = state_dir(&fresh).unwrap();
        std::fs::write(made.join("x"), "y").unwrap();
        assert_eq!(state_dir(&fresh).unwrap(), made, "its own directory is taken again");
    }
}
