//! The rule watcher's figures for BENCHMARKS.md (never timed assertions):
//!
//! - follow-mode detection latency: a line appended to a followed file,
//!   until `warroom watch` has committed the incident it opens (its status
//!   line on stdout is written after the commit);
//! - peak memory (VmHWM) with 100,000 distinct source addresses, for `scan`
//!   at several key caps and for `watch`.
//!
//! `cargo bench --bench watch` (release build of the real binary).

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    latency(dir.path(), 300);
    memory(dir.path(), 100_000);
}

fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("WARROOM_DB", dir.join("bench.db"))
        .env("WARROOM_LOG", dir.join("bench.log"))
        .env("HOME", dir)
        .env("USER", "bench");
    c
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Appends one matching line at a time (each opens an incident) and waits
/// for its status line.
fn latency(dir: &Path, samples: usize) {
    let dir = dir.join("latency");
    fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yml");
    fs::write(
        &rules,
        r#"
events:
  login_root:
    match: 'Accepted \S+ for root from (?P<src>\S+)'
rules:
  - rule: Root login
    condition: login_root
    severity: high
"#,
    )
    .unwrap();
    let log = dir.join("auth.log");
    fs::write(&log, "").unwrap();
    let mut child = cmd(&dir)
        .args(["watch", "--rules"])
        .arg(&rules)
        .arg("--")
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start warroom watch");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send((Instant::now(), line));
        }
    });
    // Let it start and take the file.
    std::thread::sleep(Duration::from_millis(500));
    let mut out = OpenOptions::new().append(true).open(&log).unwrap();
    let mut lat = Vec::with_capacity(samples);
    for i in 0..samples {
        let src = format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256);
        let line = format!(
            "2026-03-01T10:00:00Z web sshd[1]: Accepted publickey for root from {src} port 22 ssh2\n"
        );
        let t0 = Instant::now();
        out.write_all(line.as_bytes()).unwrap();
        loop {
            let (at, text) = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("a status line within 10 s");
            if text.contains(&format!("key={src} ")) {
                lat.push((at - t0).as_secs_f64() * 1000.0);
                break;
            }
        }
        // Spaced like real log traffic, not a flood.
        std::thread::sleep(Duration::from_millis(20 + (i as u64 * 7) % 30));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    lat.sort_by(f64::total_cmp);
    let mean = lat.iter().sum::<f64>() / lat.len() as f64;
    println!(
        "follow latency, append -> incident committed ({} samples): mean {:.1} ms, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        mean,
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        lat[lat.len() - 1]
    );
}

/// A log of `sources` distinct addresses, each failing 3 times, all
/// within 5 minutes of log time (under every threshold, and inside every
/// window: the worst case for window state, every key live at once).
fn distinct_sources_log(path: &Path, sources: usize) -> u64 {
    let mut out = std::io::BufWriter::new(fs::File::create(path).unwrap());
    let total = 3 * sources as u64;
    let mut n = 0u64;
    for _round in 0..3 {
        for i in 0..sources {
            let secs = n * 299 / total;
            writeln!(
                out,
                "2026-03-01T10:{:02}:{:02}Z web sshd[{i}]: Failed password for root from 10.{}.{}.{} port 22 ssh2",
                secs / 60,
                secs % 60,
                (i / 65536) % 256,
                (i / 256) % 256,
                i % 256,
            )
            .unwrap();
            n += 1;
        }
    }
    out.flush().unwrap();
    n
}

/// Peak resident memory of a command, from GNU time.
fn peak_kib(mut c: Command) -> Option<u64> {
    let args: Vec<String> = std::iter::once(c.get_program().to_string_lossy().into_owned())
        .chain(c.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect();
    let mut t = Command::new("/usr/bin/time");
    t.arg("-f").arg("PEAK %M").args(&args);
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            t.env(k, v);
        }
    }
    let out = t
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("PEAK "))
        .and_then(|n| n.trim().parse().ok())
        .or_else(|| {
            c.output().ok();
            None
        })
}

fn memory(dir: &Path, sources: usize) {
    let dir = dir.join("memory");
    fs::create_dir_all(&dir).unwrap();
    let log = dir.join("sources.log");
    let lines = distinct_sources_log(&log, sources);
    let size = fs::metadata(&log).unwrap().len();
    println!(
        "memory: {lines} lines, {sources} distinct source addresses, {:.1} MB",
        size as f64 / 1e6
    );
    // A baseline: the same binary replaying a file with no matching line.
    let empty = dir.join("empty.log");
    fs::write(&empty, "nothing\n").unwrap();
    let mut c = cmd(&dir);
    c.args(["scan"]).arg(&empty);
    if let Some(k) = peak_kib(c) {
        println!(
            "  scan of a one-line file (baseline): peak {:.1} MB",
            k as f64 / 1024.0
        );
    }
    for cap in ["1000", "10000", "50000", "1000000"] {
        let mut c = cmd(&dir);
        c.args(["scan", "--max-keys", cap]).arg(&log);
        match peak_kib(c) {
            Some(k) => println!(
                "  scan --max-keys {cap:>7}: peak {:.1} MB",
                k as f64 / 1024.0
            ),
            None => println!("  scan --max-keys {cap}: /usr/bin/time unavailable"),
        }
    }
    // Follow mode: the whole file read as it is followed, then its peak
    // read from /proc before stopping it.
    let db = dir.join("bench.db");
    let _ = fs::remove_file(&db);
    let mut child = cmd(&dir)
        .args(["watch", "--from-beginning", "--"])
        .arg(&log)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let key = std::path::absolute(&log).unwrap();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let done = warroom::store::Store::open(&db)
            .and_then(|s| s.watch_checkpoints("default"))
            .is_ok_and(|c| {
                c.iter()
                    .any(|c| Path::new(&c.path) == key && c.offset == size)
            });
        if done || started.elapsed() > Duration::from_secs(300) {
            break;
        }
    }
    let status = fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    println!(
        "  watch (default cap 50,000 keys per rule), whole file followed in {:.1} s: peak {hwm}",
        started.elapsed().as_secs_f64()
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
