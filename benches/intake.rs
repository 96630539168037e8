//! The intake listener's figures for BENCHMARKS.md (never timed
//! assertions):
//!
//! - sustained webhook POSTs per second on loopback, each answered 200
//!   only after its commit (every POST a new alert, opening an incident);
//! - p99 latency from sending a POST until its incident is listed by
//!   `warroom incident list --json` (a separate process), measured while
//!   the load runs.
//!
//! `cargo bench --bench intake` (release build of the real binary).
//! INTAKE_BENCH_POSTS (default 2000) and INTAKE_BENCH_CLIENTS (default 8)
//! set the load; INTAKE_BENCH_SAMPLES (default 50) the latency samples.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
const TOKEN: &str = "bench-token";

fn env_n(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("WARROOM_DB", dir.join("bench.db"))
        .env("WARROOM_LOG", dir.join("bench.log"))
        .env("WARROOM_CONFIG_DIR", dir.join("config"))
        .env("HOME", dir)
        .env("USER", "bench");
    c
}

fn payload(name: &str) -> String {
    format!(
        r#"{{"version":"4","groupKey":"{{}}:{{alertname=\"{name}\"}}","status":"firing","receiver":"warroom","alerts":[{{"status":"firing","labels":{{"alertname":"{name}","severity":"critical"}},"annotations":{{"summary":"{name} down"}},"startsAt":"2026-11-30T08:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"{name}"}}]}}"#
    )
}

fn post(addr: SocketAddr, body: &str) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("reply");
    raw.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn listed(dir: &Path, title: &str) -> bool {
    let out = cmd(dir)
        .args(["incident", "list", "--json"])
        .output()
        .expect("incident list");
    String::from_utf8_lossy(&out.stdout).contains(title)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let posts = env_n("INTAKE_BENCH_POSTS", 2000);
    let clients = env_n("INTAKE_BENCH_CLIENTS", 8).max(1);
    let samples = env_n("INTAKE_BENCH_SAMPLES", 50);
    let dir = tempfile::tempdir().expect("temp dir");
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).expect("token");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut child = cmd(dir.path())
        .args(["ingest", "--listen", "127.0.0.1:0", "--token-file"])
        .arg(&token)
        .stdout(Stdio::piped())
        .spawn()
        .expect("listener");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address");
    let addr: SocketAddr = line
        .trim()
        .trim_start_matches("listening on ")
        .parse()
        .expect("address");

    let start = Instant::now();
    let load: Vec<_> = (0..clients)
        .map(|c| {
            std::thread::spawn(move || {
                let mut failed = 0;
                for i in (c..posts).step_by(clients) {
                    if post(addr, &payload(&format!("load{i:06}"))) != 200 {
                        failed += 1;
                    }
                }
                failed
            })
        })
        .collect();
    // Latency samples while the load runs.
    let mut lat = Vec::new();
    for i in 0..samples {
        let name = format!("probe{i:04}");
        let t0 = Instant::now();
        assert_eq!(post(addr, &payload(&name)), 200);
        let title = format!("{name} down");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !listed(dir.path(), &title) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let failed: usize = load.into_iter().map(|t| t.join().expect("client")).sum();
    let elapsed = start.elapsed().as_secs_f64();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    lat.sort_by(|a, b| a.total_cmp(b));
    let total = posts + samples;
    println!(
        "intake: {total} POSTs ({clients} clients + 1 prober), {failed} not 200, {elapsed:.1}s: {:.0} POSTs/s committed",
        total as f64 / elapsed
    );
    if !lat.is_empty() {
        println!(
            "intake: POST -> listed by `incident list --json`, under that load: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            lat[lat.len() - 1],
            lat.len()
        );
    }
}
