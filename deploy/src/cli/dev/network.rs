//! The local network's life: made once (crypto material from cryptogen, the channel's genesis
//! block from configtxgen, the nodes' configurations), started as child processes, the channel
//! joined (the orderer through its channel participation API with `osnadmin`, each peer with a
//! `JoinChain` proposal as its org's admin), and started again from the kept state by later runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use ccaas_deploy::client::Node;
use ccaas_deploy::config::{Endpoint, Target, Tls};
use ccaas_deploy::identity::Identity;
use ccaas_deploy::{proposal, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::configs::{self, Net, PORTS};
use super::fabric::Release;
use super::procs::{Pids, Proc};

/// How long the nodes get to start, join and find each other.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What the user asked for.
pub struct Wanted {
    /// Organizations.
    pub orgs: u32,
    /// The channel.
    pub channel: String,
    /// The first port, if given.
    pub port_base: Option<u16>,
    /// A new network even if one was kept.
    pub fresh: bool,
}

/// `STATE/network.json`: a complete network, written once its channel is joined.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Saved {
    net: Net,
    fabric: PathBuf,
    version: String,
}

/// A started network: its layout, and whether it is the kept one (with its ledger).
pub struct Started {
    /// The network.
    pub net: Net,
    /// It was started from the state a `--keep` run left.
    pub kept: bool,
}

/// Starts the network in `state`: the kept one if it matches what is wanted, else a new one.
/// The nodes go into `nodes` as they start, so that the caller stops them on any failure (or
/// Ctrl-C) on the way. `say` hears the steps.
pub async fn up(
    release: &Release,
    state: &Path,
    wanted: &Wanted,
    pids: &Pids,
    nodes: &mut Vec<Proc>,
    say: &dyn Fn(String),
) -> anyhow::Result<Started> {
    let saved: Option<Saved> =
        std::fs::read(state.join("network.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let differs = saved.as_ref().map(|s| {
        let mut why = Vec::new();
        if wanted.fresh {
            why.push("--fresh".to_string());
        }
        if s.net.orgs != wanted.orgs {
            why.push(format!("it has {} org(s), not {}", s.net.orgs, wanted.orgs));
        }
        if s.net.channel != wanted.channel {
            why.push(format!("its channel is {}, not {}", s.net.channel, wanted.channel));
        }
        if wanted.port_base.is_some_and(|b| b != s.net.base) {
            why.push(format!("its ports start at {}", s.net.base));
        }
        if s.fabric != release.root || s.version != release.version {
            why.push(format!("it runs Fabric {} from {}", s.version, s.fabric.display()));
        }
        why
    });
    let kept = matches!(&differs, Some(why) if why.is_empty());
    let net = match saved {
        Some(s) if kept => s.net,
        _ => {
            if let Some(why) = differs {
                say(format!("a new network replaces the kept one ({})", why.join("; ")));
            }
            let base = match wanted.port_base {
                Some(b) => b,
                None => free_base(state)?,
            };
            let net = Net { state: state.to_path_buf(), orgs: wanted.orgs, channel: wanted.channel.clone(), base };
            create(release, &net).await?;
            net
        }
    };
    let busy: Vec<String> = net
        .ports()
        .into_iter()
        .filter(|(port, _)| std::net::TcpListener::bind(("127.0.0.1", *port)).is_err())
        .map(|(port, what)| format!("127.0.0.1:{port} ({what})"))
        .collect();
    if !busy.is_empty() {
        let other = if kept {
            "or start a new network on other ports with --fresh --port-base N"
        } else {
            "or choose other ports with --port-base N"
        };
        anyhow::bail!(Error::Config(format!(
            "port(s) in use: {}; stop what holds them, {other} (the network uses {PORTS} ports from N)",
            busy.join(", ")
        )));
    }
    say(format!(
        "{} network: Fabric {}, {} org(s), channel {}, orderer 127.0.0.1:{}, {}",
        if kept { "starting the kept" } else { "starting a new" },
        release.version,
        net.orgs,
        net.channel,
        net.orderer_port(),
        (1..=net.orgs)
            .map(|n| format!("{} 127.0.0.1:{}", net.peer_host(n), net.peer_port(n)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let orderer_log = net.logs().join("orderer.log");
    let log_start = std::fs::metadata(&orderer_log).map(|m| m.len()).unwrap_or(0);
    nodes.push(start_node(release, &net, pids, "orderer", &["orderer"], &net.orderer_config())?);
    for n in 1..=net.orgs {
        let name = format!("peer0.org{n}");
        nodes.push(start_node(release, &net, pids, &name, &["peer", "node", "start"], &net.peer_config(n))?);
    }
    let deadline = Instant::now() + START_TIMEOUT;
    if !kept {
        join_orderer(release, &net, nodes, deadline).await?;
    }
    // The orderer's log of this start (a kept network's log holds the earlier ones too).
    wait(&net, nodes, deadline, "a Raft leader on the orderer", || {
        use std::io::{Read, Seek, SeekFrom};
        let mut new = Vec::new();
        let read = std::fs::File::open(&orderer_log)
            .and_then(|mut f| f.seek(SeekFrom::Start(log_start)).and_then(|_| f.read_to_end(&mut new)));
        read.is_ok() && String::from_utf8_lossy(&new).contains("Raft leader changed: 0 -> 1")
    })
    .await?;
    if !kept {
        let block = std::fs::read(net.block()).with_context(|| format!("cannot read {}", net.block().display()))?;
        for n in 1..=net.orgs {
            join_peer(&net, n, &block, nodes, deadline).await?;
        }
    } else {
        for n in 1..=net.orgs {
            let port = net.peer_port(n);
            wait(&net, nodes, deadline, &format!("{} to listen", net.peer_host(n)), || {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            })
            .await?;
        }
    }
    if net.orgs > 1 {
        // The Gateway finds other orgs' endorsers through discovery, which needs gossip.
        for n in 1..=net.orgs {
            let port = net.peer_ops_port(n);
            let known = format!("gossip_membership_total_peers_known{{channel=\"{}\"}} {}", net.channel, net.orgs - 1);
            let what = format!("{} to see the other peers", net.peer_host(n));
            let started = Instant::now();
            while !http_get(port, "/metrics").await.is_some_and(|m| m.contains(&known)) {
                alive(&net, nodes)?;
                if Instant::now() > deadline {
                    anyhow::bail!(timed_out(&net, &what, started));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    if !kept {
        let saved = Saved { net: net.clone(), fabric: release.root.clone(), version: release.version.clone() };
        write(&state.join("network.json"), &serde_json::to_vec_pretty(&saved)?)?;
    }
    for n in 1..=net.orgs {
        write(&net.env_file(n), configs::env_file(&net, n, &release.root.join("bin")).as_bytes())?;
    }
    Ok(Started { net, kept })
}

/// Deletes what makes the network (crypto material, configuration, ledgers, logs): a new one is
/// made next time. The pid files stay (the caller's lock is there).
pub fn remove(state: &Path) -> anyhow::Result<()> {
    for name in ["network.json", "org1.env", "org2.env", "org3.env"] {
        let _ = std::fs::remove_file(state.join(name));
    }
    for dir in ["crypto", "config", "data"] {
        let path = state.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path).with_context(|| format!("cannot delete {}", path.display()))?;
        }
    }
    Ok(())
}

/// Org `n`'s admin, its peer and the orderer: what `lifecycle` uses.
pub fn target(net: &Net, n: u32) -> anyhow::Result<Target> {
    let orderer = Endpoint {
        name: "orderer.example.com".into(),
        org: "OrdererMSP".into(),
        address: format!("127.0.0.1:{}", net.orderer_port()),
        tls: Some(tls(&net.orderer_tlsca(), "orderer.example.com")?),
    };
    Ok(Target {
        identity: Identity::from_msp_dir(&net.msp_id(n), &net.admin_msp(n))?,
        peers: vec![peer_endpoint(net, n)?],
        orderer: Some(orderer),
        channel: net.channel.clone(),
    })
}

fn peer_endpoint(net: &Net, n: u32) -> anyhow::Result<Endpoint> {
    Ok(Endpoint {
        name: net.peer_host(n),
        org: net.msp_id(n),
        address: format!("127.0.0.1:{}", net.peer_port(n)),
        tls: Some(tls(&net.peer_tlsca(n), &net.peer_host(n))?),
    })
}

fn tls(ca: &Path, host: &str) -> anyhow::Result<Tls> {
    Ok(Tls {
        ca_pem: std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?,
        ca_source: ca.display().to_string(),
        server_name: Some(host.into()),
        client_identity: None,
    })
}

/// Makes a new network's files: configuration, crypto material, the genesis block.
async fn create(release: &Release, net: &Net) -> anyhow::Result<()> {
    remove(&net.state)?;
    let logs = net.logs();
    if logs.exists() {
        std::fs::remove_dir_all(&logs).with_context(|| format!("cannot delete {}", logs.display()))?;
    }
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let sample = |name: &str| {
        let path = release.config().join(name);
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let (core, orderer) = (sample("core.yaml")?, sample("orderer.yaml")?);
    let cfg = net.config();
    write(&cfg.join("crypto-config.yaml"), configs::crypto_config(net).as_bytes())?;
    write(&cfg.join("configtx/configtx.yaml"), configs::configtx(net, release.application_capability()).as_bytes())?;
    write(&net.orderer_config().join("orderer.yaml"), configs::orderer_yaml(net, &orderer)?.as_bytes())?;
    for n in 1..=net.orgs {
        write(
            &net.peer_config(n).join("core.yaml"),
            configs::core_yaml(net, n, &core, &release.ccaas_builder())?.as_bytes(),
        )?;
    }
    let crypto_config = format!("--config={}", cfg.join("crypto-config.yaml").display());
    let output = format!("--output={}", net.crypto().display());
    tool(release, net, "cryptogen", &["generate", &crypto_config, &output], None).await?;
    let block = net.block().display().to_string();
    let profile = ["-profile", "ChannelUsingRaft", "-outputBlock", &block, "-channelID", &net.channel];
    tool(release, net, "configtxgen", &profile, Some(&cfg.join("configtx"))).await?;
    Ok(())
}

/// Runs a Fabric tool with a clean environment, its output in `logs/TOOL.log`.
async fn tool(release: &Release, net: &Net, name: &str, args: &[&str], cfg: Option<&Path>) -> anyhow::Result<String> {
    let mut cmd = tokio::process::Command::new(release.bin(name));
    clean_env(cmd.args(args));
    if let Some(cfg) = cfg {
        cmd.env("FABRIC_CFG_PATH", cfg);
    }
    let out = cmd.output().await.with_context(|| format!("cannot run {}", release.bin(name).display()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let log = net.logs().join(format!("{name}.log"));
    std::fs::write(&log, &text).with_context(|| format!("cannot write {}", log.display()))?;
    if !out.status.success() {
        anyhow::bail!("{name} failed ({}): {}", out.status, last_lines(&text, 15));
    }
    Ok(text)
}

/// The Fabric tools and nodes read CORE_*, ORDERER_* and FABRIC_CFG_PATH: a shell that sourced
/// org1.env must not reconfigure them, so they get only what they need.
fn clean_env(cmd: &mut tokio::process::Command) -> &mut tokio::process::Command {
    cmd.env_clear();
    for var in ["PATH", "HOME", "TMPDIR"] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd.stdin(std::process::Stdio::null())
}

fn start_node(
    release: &Release,
    net: &Net,
    pids: &Pids,
    name: &str,
    command: &[&str],
    cfg: &Path,
) -> anyhow::Result<Proc> {
    let log_path = net.logs().join(format!("{name}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let mut cmd = tokio::process::Command::new(release.bin(command[0]));
    clean_env(cmd.args(&command[1..]))
        .env("FABRIC_CFG_PATH", cfg)
        .env("FABRIC_LOGGING_SPEC", std::env::var("FABRIC_LOGGING_SPEC").unwrap_or_else(|_| "info".into()))
        .stdout(log.try_clone()?)
        .stderr(log);
    Proc::spawn(name, &mut cmd, pids)
}

/// The orderer joins the channel (osnadmin: `201 Created`), retried while it starts.
async fn join_orderer(release: &Release, net: &Net, nodes: &mut [Proc], deadline: Instant) -> anyhow::Result<()> {
    let (cert, key) = net.orderer_admin_tls();
    let (admin, block, ca) = (format!("127.0.0.1:{}", net.orderer_admin_port()), net.block(), net.orderer_tlsca());
    let args: Vec<String> = vec![
        "channel".into(),
        "join".into(),
        "--channelID".into(),
        net.channel.clone(),
        "--config-block".into(),
        block.display().to_string(),
        "-o".into(),
        admin,
        "--ca-file".into(),
        ca.display().to_string(),
        "--client-cert".into(),
        cert.display().to_string(),
        "--client-key".into(),
        key.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    loop {
        // osnadmin exits 0 whatever the HTTP status: success is 201 Created.
        match tool(release, net, "osnadmin", &args, None).await {
            Ok(out) if out.contains("Status: 201") || out.contains("already exists") => return Ok(()),
            Ok(out) if Instant::now() > deadline => {
                anyhow::bail!("the orderer did not join {}: {}", net.channel, last_lines(&out, 10))
            }
            Err(e) if Instant::now() > deadline => {
                return Err(e.context(timed_out(net, "the orderer to join", started)))
            }
            _ => {}
        }
        alive(net, nodes)?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Org `n`'s peer joins the channel: `cscc` `JoinChain` with the genesis block, as its admin.
async fn join_peer(net: &Net, n: u32, block: &[u8], nodes: &mut [Proc], deadline: Instant) -> anyhow::Result<()> {
    let port = net.peer_port(n);
    let host = net.peer_host(n);
    wait(net, nodes, deadline, &format!("{host} to listen"), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await?;
    let admin = Identity::from_msp_dir(&net.msp_id(n), &net.admin_msp(n))?;
    let node = Node::connect(&peer_endpoint(net, n)?).await?;
    let action = format!("join channel {}", net.channel);
    let started = Instant::now();
    loop {
        let p = proposal::for_identity(&admin, "", "cscc", vec![b"JoinChain".to_vec(), block.to_vec()]);
        let answer = node.process_proposal(&proposal::sign(&admin, &p), &action).await;
        let message = match answer {
            Ok(r) => match r.response {
                Some(r) if r.status == 200 => return Ok(()),
                Some(r) if r.message.contains("already exists") => return Ok(()),
                Some(r) => format!("status {}: {}", r.status, r.message),
                None => "no response".into(),
            },
            Err(e) => e.to_string(),
        };
        alive(net, nodes)?;
        if Instant::now() > deadline {
            anyhow::bail!("{host} did not {action} ({message}); {}", timed_out(net, "it", started));
        }
        tracing::debug!(%host, %message, "join failed; retrying");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits until `ready` is true, failing if a node exits or `deadline` passes.
async fn wait(
    net: &Net,
    nodes: &mut [Proc],
    deadline: Instant,
    what: &str,
    mut ready: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while !ready() {
        alive(net, nodes)?;
        if Instant::now() > deadline {
            anyhow::bail!(timed_out(net, what, started));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn timed_out(net: &Net, what: &str, since: Instant) -> String {
    format!(
        "timed out after {:.0?} waiting for {what}; the nodes' logs are in {} (orderer.log, peer0.org1.log, ...)",
        since.elapsed(),
        net.logs().display()
    )
}

/// Fails, with the end of its log, if a node has exited.
fn alive(net: &Net, nodes: &mut [Proc]) -> anyhow::Result<()> {
    for node in nodes.iter_mut() {
        if let Some(status) = node.exited() {
            let log = net.logs().join(format!("{}.log", node.name));
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            anyhow::bail!(
                "{} exited while starting ({status}); the end of {}:\n{}",
                node.name,
                log.display(),
                last_lines(&text, 20)
            );
        }
    }
    Ok(())
}

/// The body of `GET path` on a node's operations port, if it answers 200.
async fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(("127.0.0.1", port)))
        .await
        .ok()?
        .ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).await.ok()?;
    let mut body = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut body)).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.lines().next()?.split_whitespace().nth(1)?;
    (status == "200").then(|| body.to_string())
}

/// The first free block of [`PORTS`] ports from 20000 (below Linux's ephemeral range), starting at
/// one that depends on the state directory, so that two projects seldom try the same ports.
fn free_base(state: &Path) -> anyhow::Result<u16> {
    use std::hash::{Hash, Hasher};
    const FIRST: u16 = 20000;
    const BLOCKS: u16 = 700; // up to 31200
    let mut h = std::collections::hash_map::DefaultHasher::new();
    state.hash(&mut h);
    let start = (h.finish() % u64::from(BLOCKS)) as u16;
    for i in 0..BLOCKS {
        let base = FIRST + (start + i) % BLOCKS * PORTS;
        if (base..base + PORTS).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return Ok(base);
        }
    }
    anyhow::bail!(Error::Config(
        "no 16 free ports in a row between 20000 and 31200 on 127.0.0.1: pass --port-base".into()
    ))
}

/// Writes `path` whole (a temporary file renamed into place), creating its folder.
fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
