//! Races and interruptions of `lifecycle` on one org: two runs at once both end in the wanted
//! state with exit 0 (the loser of each race reads the channel again and goes on); SIGTERM in the
//! middle of an approve says which transaction was in flight and exits 143, and one re-run
//! finishes the job; runs killed with SIGKILL at a random point are finished by a plain re-run,
//! leaving the channel as one uninterrupted run would (one sequence per definition, the package
//! approved and installed).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::kill;
use crate::support::{ok, run, Testbed};
use crate::{package, querycommitted};

fn lifecycle(t: &Testbed, version: &str, pkg: &Path) -> Command {
    let mut c = t.deploy_as_peer_cli(1);
    c.args(["lifecycle", "-n", "basic", "-v", version]).arg(pkg).args(["--output", "json"]);
    c
}

/// The channel as one run of `lifecycle` for `version` leaves it: committed at `sequence`,
/// approved by Org1 with `package_id`, which is installed on its peer.
fn assert_one_run(t: &Testbed, sequence: i64, version: &str, package_id: &str) {
    let qc = querycommitted(t);
    assert_eq!((qc["sequence"].as_i64(), qc["version"].as_str()), (Some(sequence), Some(version)), "{qc}");
    assert_eq!(qc["approvals"], serde_json::json!({"Org1MSP": true}), "{qc}");
    let approved: Value = serde_json::from_str(&ok(t.deploy_as_peer_cli(1).args([
        "approved",
        "-n",
        "basic",
        "--sequence",
        &sequence.to_string(),
        "--output",
        "json",
    ])))
    .unwrap();
    assert_eq!(approved["package_id"].as_str(), Some(package_id), "{approved}");
    let installed = ok(t.deploy_as_peer_cli(1).args(["installed", "--output", "json"]));
    assert!(installed.contains(package_id), "{installed}");
}

#[test]
fn two_concurrent_lifecycle_runs_both_end_in_the_wanted_state() {
    let Some(t) = Testbed::up("races", 1, crate::ports::port(crate::ports::testbed::RACES)) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut replans = 0;
    for (round, version) in ["1.0", "1.1", "1.2"].into_iter().enumerate() {
        let (pkg, built) = package(dir.path(), &format!("{version}.tgz"), &format!("basic_{version}"), 6201);
        let spawn = || lifecycle(&t, version, &pkg).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (a, b) = (spawn(), spawn());
        for out in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "a concurrent run failed:\n{err}");
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            replans += v["replans"].as_array().map_or(0, Vec::len);
            if v["replans"].as_array().is_some_and(|r| !r.is_empty()) {
                eprintln!("races: round {round} re-planned: {}", v["replans"]);
            }
        }
        assert_one_run(&t, round as i64 + 1, version, &built.package_id);
    }
    eprintln!("races: 3 rounds of two concurrent runs, all exit 0; {replans} steps re-planned after a lost race");
}

#[test]
fn sigterm_mid_approve_then_one_rerun_finishes() {
    let Some(t) = Testbed::up("sigterm", 1, crate::ports::port(crate::ports::testbed::SIGTERM)) else { return };
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", 6202);
    let mut child = lifecycle(&t, "1.0", &pkg)
        .env("CCAAS_DEPLOY_LOG", "ccaas_deploy=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The approve is submitted and its commit status not known yet: SIGTERM now.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if line.contains("submitted; waiting for the commit status") && line.contains("approve basic") {
            break;
        }
        line.clear();
    }
    assert!(seen.contains("submitted; waiting"), "no approve was submitted:\n{seen}");
    let sent = Instant::now();
    rustix::process::kill_process(rustix::process::Pid::from_child(&child), rustix::process::Signal::TERM).unwrap();
    stderr.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    eprintln!("sigterm: stopped {:.0?} after SIGTERM:\n{seen}", sent.elapsed());
    assert_eq!(status.code(), Some(143), "{seen}");
    let said = &seen[seen.find("interrupted by SIGTERM").unwrap_or_else(|| panic!("no word of it:\n{seen}"))..];
    assert!(said.contains("step: approve basic version 1.0 at sequence 1 for Org1MSP"), "{said}");
    assert!(said.contains("(approve basic version 1.0 sequence 1 for Org1MSP): sent to the orderer"), "{said}");
    assert!(said.contains("run the same command again"), "{said}");
    let tx = said.split("transaction ").nth(1).and_then(|s| s.split(' ').next()).unwrap();
    assert_eq!(tx.len(), 64, "the transaction ID: {said}");

    // One re-run finishes the job.
    let (code, out, err) = run(&mut lifecycle(&t, "1.0", &pkg));
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(kill::actions(&v["done"]).rsplit(", ").next(), Some("commit"), "{v}");
    assert_one_run(&t, 1, "1.0", &built.package_id);
    eprintln!("sigterm: the re-run did {} ({} re-planned)", kill::actions(&v["done"]), v["replans"]);
}

#[test]
fn lifecycle_killed_at_any_point_then_rerun_ends_as_one_run() {
    let Some(t) = Testbed::up("kill", 1, crate::ports::port(crate::ports::testbed::KILL)) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut delays = kill::Delays::new("lifecycle kills");
    // One uninterrupted run: its duration is the range of the kill delays.
    let (pkg, built) = package(dir.path(), "0.tgz", "basic_0", 6203);
    let started = Instant::now();
    ok(&mut lifecycle(&t, "0", &pkg));
    let full = started.elapsed();
    assert_one_run(&t, 1, "0", &built.package_id);
    let mut rows = Vec::new();
    for i in 1..=kill::runs() {
        let version = i.to_string();
        let (pkg, built) = package(dir.path(), &format!("{i}.tgz"), &format!("basic_{i}"), 6203);
        let delay = delays.below(full);
        let ended = kill::kill_after(&mut lifecycle(&t, &version, &pkg), delay);
        let started = Instant::now();
        let (code, out, err) = run(&mut lifecycle(&t, &version, &pkg));
        let rerun_took = started.elapsed();
        assert_eq!(code, 0, "run {i}, killed after {delay:?}: the re-run failed\n{out}{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        // As one run: the next sequence (not one more), and a further run has nothing to do.
        assert_one_run(&t, i64::from(i) + 1, &version, &built.package_id);
        let again: Value = serde_json::from_str(&ok(&mut lifecycle(&t, &version, &pkg))).unwrap();
        assert_eq!(again["plan"]["steps"], serde_json::json!([]), "{again}");
        rows.push(kill::Row {
            run: i,
            delay,
            full,
            ended,
            rerun_code: code,
            rerun_took,
            rerun_did: kill::actions(&v["done"]),
            rerun_replans: v["replans"].as_array().map_or(0, Vec::len),
        });
    }
    // And once exactly when the approve is sent, its commit status not known yet.
    let i = kill::runs() + 1;
    let version = i.to_string();
    let (pkg, built) = package(dir.path(), &format!("{i}.tgz"), &format!("basic_{i}"), 6203);
    let mut killed = lifecycle(&t, &version, &pkg);
    killed.env("CCAAS_DEPLOY_LOG", "ccaas_deploy=info");
    let delay = kill::kill_at(&mut killed, "submitted; waiting for the commit status");
    let started = Instant::now();
    let (code, out, err) = run(&mut lifecycle(&t, &version, &pkg));
    let rerun_took = started.elapsed();
    assert_eq!(code, 0, "killed with its approve in flight: the re-run failed\n{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_one_run(&t, i64::from(i) + 1, &version, &built.package_id);
    let again: Value = serde_json::from_str(&ok(&mut lifecycle(&t, &version, &pkg))).unwrap();
    assert_eq!(again["plan"]["steps"], serde_json::json!([]), "{again}");
    rows.push(kill::Row {
        run: i,
        delay,
        full,
        ended: None,
        rerun_code: code,
        rerun_took,
        rerun_did: format!("{} (killed once its approve was sent)", kill::actions(&v["done"])),
        rerun_replans: v["replans"].as_array().map_or(0, Vec::len),
    });
    kill::report("lifecycle killed with SIGKILL, then run again", &rows);
}
