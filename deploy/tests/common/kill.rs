//! Kill-and-rerun: a command is killed with SIGKILL after a random delay between 0 and the
//! duration of one uninterrupted run, then run again plainly. `CCAAS_KILL_RUNS` sets how many
//! kills a test does (default 3; `bench/kill-rerun.sh` does 20) and `CCAAS_KILL_SEED` the seed
//! of the delays (default: the clock; every test prints the seed it used). Each test prints one
//! table row per kill, and appends the rows to the file `CCAAS_KILL_REPORT` names, if any.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How many kills a test does.
pub fn runs() -> u32 {
    std::env::var("CCAAS_KILL_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3)
}

/// Delays from a seed (xorshift64*: enough to spread kills over a run, and reproducible).
pub struct Delays(u64);

impl Delays {
    pub fn new(test: &str) -> Delays {
        let seed = std::env::var("CCAAS_KILL_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("{test}: kill delays from CCAAS_KILL_SEED={seed}");
        Delays(seed | 1)
    }

    /// A delay between 0 and `full`.
    pub fn below(&mut self, full: Duration) -> Duration {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        full.mul_f64(r as f64 / (1u64 << 53) as f64)
    }
}

/// Starts `cmd` (output discarded) and kills it with SIGKILL after `delay`; `Some(code)` if it
/// had ended by itself before.
pub fn kill_after(cmd: &mut Command, delay: Duration) -> Option<i32> {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + delay;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(5)));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

/// Starts `cmd` (stdout discarded) and kills it with SIGKILL as soon as a line of its stderr
/// contains `needle`; returns when that was. Panics if it ends without printing it.
pub fn kill_at(cmd: &mut Command, needle: &str) -> Duration {
    use std::io::BufRead;
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains(needle) {
            child.kill().unwrap();
            child.wait().unwrap();
            return started.elapsed();
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    panic!("it ended ({:?}) without printing '{needle}':\n{seen}", child.wait().unwrap());
}

/// One kill and its re-run.
pub struct Row {
    pub run: u32,
    pub delay: Duration,
    pub full: Duration,
    /// `Some(code)`: the run had ended by itself before the kill.
    pub ended: Option<i32>,
    pub rerun_code: i32,
    pub rerun_took: Duration,
    /// What the re-run still did (its steps), or "nothing".
    pub rerun_did: String,
    /// Steps of the re-run that failed for a race and were re-planned.
    pub rerun_replans: usize,
}

/// Prints the rows as a Markdown table (and appends them to `CCAAS_KILL_REPORT`).
pub fn report(what: &str, rows: &[Row]) {
    let mut text = format!(
        "\n{what}: {} kills\n\n| run | killed after | of a full run | re-run exit | re-run took | re-run did | re-planned |\n|---|---|---|---|---|---|---|\n",
        rows.len()
    );
    for r in rows {
        let killed = match r.ended {
            None => format!("{} ms", r.delay.as_millis()),
            Some(code) => format!("{} ms (had ended, exit {code})", r.delay.as_millis()),
        };
        text.push_str(&format!(
            "| {} | {killed} | {} ms | {} | {} ms | {} | {} |\n",
            r.run,
            r.full.as_millis(),
            r.rerun_code,
            r.rerun_took.as_millis(),
            r.rerun_did,
            r.rerun_replans
        ));
    }
    eprintln!("{text}");
    if let Some(path) = std::env::var_os("CCAAS_KILL_REPORT") {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
}

/// The actions of a `lifecycle` JSON result's `done` (or `up`'s `fabric_done`), e.g.
/// `install, approve, commit`, or "nothing".
pub fn actions(done: &serde_json::Value) -> String {
    let a: Vec<&str> = done.as_array().into_iter().flatten().filter_map(|s| s["action"].as_str()).collect();
    if a.is_empty() {
        "nothing".into()
    } else {
        a.join(", ")
    }
}
