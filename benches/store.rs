//! Store and CLI benchmarks on a database of 10,000 incidents and 200,000
//! timeline events. Run: `cargo bench --bench store` (figures go into
//! BENCHMARKS.md). Set WARROOM_BENCH_DB to reuse a database between runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use warroom::domain::sla::{clocks, most_urgent};
use warroom::domain::{IncidentId, Playbook, Policy, Severity};
use warroom::store::{NewIncident, Store};

const INCIDENTS: usize = 10_000;
const EVENTS_PER_INCIDENT: usize = 20;

fn build(path: &Path) {
    let started = Instant::now();
    let mut store = Store::open(path).expect("open");
    store.relax_durability_for_bulk_load().expect("bulk mode");
    let playbook = Playbook::builtin();
    let now = Utc::now();
    let sevs = [Severity::P1, Severity::P2, Severity::P3, Severity::P4];
    for i in 0..INCIDENTS {
        let mut new = NewIncident::new(
            format!(
                "Benchmark incident {i}: suspicious logins on host-{}",
                i % 97
            ),
            sevs[i % 4],
        );
        new.summary = "Generated for the benchmark.".into();
        new.detected_at = Some(now - chrono::Duration::minutes((i % 600) as i64));
        let inc = store
            .create_incident(&new, &playbook, "bench", now)
            .expect("create");
        for n in 1..EVENTS_PER_INCIDENT {
            store
                .add_note(&inc.id, &format!("note {n} on incident {i}"), "bench", now)
                .expect("note");
        }
    }
    eprintln!("built {} in {:?}", path.display(), started.elapsed());
}

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (pick(0.5), pick(0.99), samples[samples.len() - 1])
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect()
}

fn main() {
    let (path, _keep): (PathBuf, Option<tempfile::TempDir>) =
        match std::env::var_os("WARROOM_BENCH_DB") {
            Some(p) => (PathBuf::from(p), None),
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                (dir.path().join("bench.db"), Some(dir))
            }
        };
    if !path.exists() {
        build(&path);
    }
    let policy = Policy::builtin();
    let mut store = Store::open(&path).expect("open");
    let now = Utc::now();

    // The console's board view model: every open incident with its
    // commander and most urgent clock.
    let (med, p99, _) = stats(time(30, || {
        let rows = store.board(false).expect("board");
        rows.iter()
            .filter_map(|r| most_urgent(&clocks(&r.incident, &policy, now)).map(|c| c.remaining))
            .count()
    }));
    println!("board view model, {INCIDENTS} incidents: median {med:?}, p99 {p99:?}");

    // `incident list --json` through the real binary, start to exit.
    let bin = env!("CARGO_BIN_EXE_warroom");
    let (med, p99, _) = stats(time(15, || {
        let out = Command::new(bin)
            .args([
                "--db",
                path.to_str().unwrap_or_default(),
                "incident",
                "list",
                "--json",
            ])
            .env("WARROOM_LOG", "/dev/null")
            .output()
            .expect("run");
        assert!(out.status.success());
        out.stdout.len()
    }));
    println!(
        "`warroom incident list --json`, {INCIDENTS} incidents (process start to exit): median {med:?}, p99 {p99:?}"
    );

    // Appending one event with the shipped durability (synchronous = FULL).
    let id: IncidentId = store.board(false).expect("board")[0].incident.id.clone();
    let (med, p99, max) = stats(time(300, || {
        store
            .add_note(&id, "benchmark append", "bench", Utc::now())
            .expect("append")
    }));
    println!("append one event (synchronous=FULL, WAL): median {med:?}, p99 {p99:?}, max {max:?}");

    // Verifying the whole chain.
    let t = Instant::now();
    let report = store.verify_chain().expect("verify");
    let took = t.elapsed();
    assert!(report.failure.is_none());
    println!(
        "verify {} events: {:?} = {:.0} events/s",
        report.events,
        took,
        report.events as f64 / took.as_secs_f64()
    );

    // Loading one incident's detail (the incident view) from the big file.
    let (med, p99, _) = stats(time(50, || store.detail(&id, Some(500)).expect("detail")));
    println!("incident detail (checklist, roles, 500 newest events): median {med:?}, p99 {p99:?}");
}
