//! Console benchmarks (figures go into BENCHMARKS.md, "Console (issue 3)").
//! Run: `cargo bench --bench console`. No assertions: it reports numbers.
//!
//! - render time of the board with 10,000 incidents and of the incident
//!   view with 10,000 timeline events (TestBackend, 120x40);
//! - start-up to first frame of the real binary on a 10,000-incident DB;
//! - bytes written per second and CPU while idle with 10 running clocks;
//! - peak memory (VmHWM) with 10,000 incidents;
//! - the metrics screen over 10,000 incidents: the per-tick recompute and
//!   its render; the evidence screen with 1,000 items and 10,000 custody
//!   events (issue 6).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use warroom::domain::event::Event;
use warroom::domain::{
    Cia, Incident, IncidentId, Phase, Playbook, Policy, Severity, Source, Status,
};
use warroom::store::{BoardRow, NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn incident(n: u32) -> Incident {
    let at = t0() - chrono::Duration::minutes(i64::from(n % 600));
    Incident {
        id: IncidentId::new(2026, n + 1),
        title: format!("Synthetic incident number {n} with a realistic length title"),
        summary: "Something happened somewhere and people are looking at it.".into(),
        severity: Severity::ALL[(n % 4) as usize],
        status: Status::ALL[(n % 5) as usize],
        phase: Phase::ALL[(n % 6) as usize],
        source: Source::Manual,
        affected: String::new(),
        cia: Cia::default(),
        customer_impact: String::new(),
        customer_summary: String::new(),
        personal_data_breach: n.is_multiple_of(7),
        drill: n.is_multiple_of(11),
        detected_at: at,
        declared_at: at,
        acknowledged_at: None,
        contained_at: None,
        resolved_at: None,
        closed_at: None,
        customer_notified_at: None,
        regulator_notified_at: None,
        last_update_at: None,
        updated_at: at,
        clock_history: Default::default(),
    }
}

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    let p50 = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    format!(
        "mean {mean:.2?}, p50 {p50:.2?}, p99 {p99:.2?} over {} frames",
        samples.len()
    )
}

fn time_frames(app: &App, frames: u32) -> Vec<Duration> {
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    (0..frames)
        .map(|i| {
            // A different second each frame, so every clock changes.
            let now = t0() + chrono::Duration::seconds(i64::from(i));
            let start = Instant::now();
            term.draw(|f| render(app, f, now)).unwrap();
            start.elapsed()
        })
        .collect()
}

fn bench_render() {
    let rows: Vec<BoardRow> = (0..10_000)
        .map(|n| BoardRow {
            incident: incident(n),
            commander: n.is_multiple_of(3).then(|| "alice".to_string()),
        })
        .collect();
    let mut app = App::new("bench", Policy::builtin(), false);
    let start = Instant::now();
    update(&mut app, Action::BoardLoaded(rows), t0());
    println!(
        "board: load + urgency sort of 10,000 rows: {:.2?} (once per data change, not per frame)",
        start.elapsed()
    );
    app.board.selected = 5_000;
    println!(
        "board render, 10,000 incidents, 120x40: {}",
        stats(time_frames(&app, 500))
    );

    // Incident view with 10,000 timeline events.
    let first = app.rows[0].incident.clone();
    let timeline: Vec<Event> = (0..10_000)
        .map(|n| Event {
            seq: 10_000 - n,
            at: t0() - chrono::Duration::seconds(n),
            actor: "alice".into(),
            incident: Some(first.id.to_string()),
            kind: "note.added".into(),
            detail: format!("note {n}: checked the firewall logs again, nothing new"),
            data: "{}".into(),
            prev_hash: String::new(),
            hash: String::new(),
        })
        .collect();
    let checklist = Playbook::builtin()
        .items
        .iter()
        .map(|i| warroom::domain::ChecklistItem {
            id: i.id.clone(),
            phase: i.phase,
            text: i.text.clone(),
            state: warroom::domain::ItemState::Open,
            reason: None,
            by: None,
            at: None,
        })
        .collect();
    app.board.selected = 0;
    update(&mut app, Action::Command(Command::Open), t0());
    let id = app.stack.incident().unwrap().id.clone();
    let detail = warroom::store::IncidentDetail {
        incident: app
            .rows
            .iter()
            .find(|r| r.incident.id == id)
            .unwrap()
            .incident
            .clone(),
        checklist,
        assignments: Vec::new(),
        timeline,
        version: warroom::domain::version::Version(0),
    };
    update(&mut app, Action::DetailLoaded(Box::new(detail)), t0());
    if let Some(s) = app.stack.incident_mut() {
        s.timeline_scroll = 5_000;
    }
    println!(
        "incident view render, 10,000 timeline events, 120x40: {}",
        stats(time_frames(&app, 500))
    );
}

/// A database of `n` incidents; on tmpfs when there is one, since 10,000
/// fsync'd transactions on a shared disk would take minutes to set up.
fn make_db(sb: &common::Env, n: u32, severity: Severity) {
    let mut store = Store::open(&sb.db()).unwrap();
    let pb = Playbook::builtin();
    let now = Utc::now();
    for i in 0..n {
        let mut new = NewIncident::new(format!("Benchmark incident {i}"), severity);
        new.summary = "Synthetic load for the console benchmark.".into();
        store.create_incident(&new, &pb, "bench", now).unwrap();
    }
}

fn sandbox() -> common::Env {
    let base = std::path::Path::new("/dev/shm");
    if base.is_dir() {
        common::Env {
            dir: tempfile::tempdir_in(base).unwrap(),
        }
    } else {
        common::Env::new()
    }
}

fn proc_field(pid: u32, file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_string())
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields after the command: state is [0], utime [11], stime [12].
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

fn bench_process() {
    let sb = sandbox();
    let setup = Instant::now();
    make_db(&sb, 10_000, Severity::P3);
    println!(
        "(setup: 10,000 incidents written in {:.1?})",
        setup.elapsed()
    );

    let mut startups = Vec::new();
    let mut peak = String::new();
    for run in 0..5 {
        let start = Instant::now();
        let mut c = sb.console(120, 40, &[]);
        c.wait_for("first frame", Duration::from_secs(30), |s| {
            s.contains("Benchmark incident")
        });
        startups.push(start.elapsed());
        if run == 4 {
            // Move around and open an incident, then read the high-water mark.
            c.type_text("jjjj");
            c.key_enter();
            c.wait_text("Timeline");
            std::thread::sleep(Duration::from_millis(2500));
            let pid = c.pid().unwrap();
            peak = proc_field(pid, "status", "VmHWM:").unwrap_or_default();
        }
        c.type_text("q");
        c.wait_exit(Duration::from_secs(10));
    }
    startups.sort();
    println!(
        "start-up to first frame, 10,000 incidents (spawn to board on screen, 5 runs): median {:.1?}, min {:.1?}, max {:.1?}",
        startups[2], startups[0], startups[4]
    );
    let log = std::fs::read_to_string(sb.log()).unwrap_or_default();
    let mut inside: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("first frame after ").nth(1))
        .collect();
    inside.sort();
    println!("  as logged by the console (open store, load, set up terminal, draw): {inside:?}");
    println!("peak memory (VmHWM) with 10,000 incidents, board + incident view: {peak}");

    // Idle: 10 incidents with running clocks at 120x40.
    let sb = sandbox();
    make_db(&sb, 10, Severity::P4);
    let mut c = sb.console(120, 40, &[]);
    c.wait_text("Benchmark incident 9");
    std::thread::sleep(Duration::from_secs(3));
    let pid = c.pid().unwrap();
    let secs = 20;
    let (bytes0, cpu0) = (c.byte_count(), cpu_ticks(pid));
    std::thread::sleep(Duration::from_secs(secs));
    let (bytes1, cpu1) = (c.byte_count(), cpu_ticks(pid));
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let cpu_pct = (cpu1 - cpu0) as f64 / ticks_per_sec / secs as f64 * 100.0;
    println!(
        "idle, 10 running clocks, 120x40, over {secs} s: {:.0} bytes/s written, CPU {:.2}% of a core",
        (bytes1 - bytes0) as f64 / secs as f64,
        cpu_pct
    );
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));
}

/// The metrics and evidence screens (issue 6).
fn bench_records() {
    use warroom::domain::evidence::{CustodyEvent, EvidenceItem, EvidenceKind};
    use warroom::tui::records::RecordsLoaded;

    let incidents: Vec<Incident> = (0..10_000)
        .map(|n| {
            let mut i = incident(n);
            i.acknowledged_at = Some(i.detected_at + chrono::Duration::minutes(i64::from(n % 90)));
            if n % 3 == 0 {
                i.contained_at = Some(i.detected_at + chrono::Duration::hours(2));
            }
            i
        })
        .collect();
    let mut app = App::new("bench", Policy::builtin(), false);
    update(&mut app, Action::Command(Command::OpenMetrics), t0());
    let loaded = RecordsLoaded::Metrics {
        incidents,
        reviews: Default::default(),
    };
    let start = Instant::now();
    update(&mut app, Action::Records(Box::new(loaded)), t0());
    println!(
        "metrics: load + compute over 10,000 incidents: {:.2?}",
        start.elapsed()
    );
    let ticks: Vec<Duration> = (0..200)
        .map(|i| {
            let now = t0() + chrono::Duration::seconds(i64::from(i));
            let start = Instant::now();
            update(&mut app, Action::Tick, now);
            start.elapsed()
        })
        .collect();
    println!(
        "metrics: tick (recompute at the new time), 10,000 incidents: {}",
        stats(ticks).replace("frames", "ticks")
    );
    println!(
        "metrics render, 10,000 incidents, 120x40: {}",
        stats(time_frames(&app, 500))
    );

    // Evidence: 1,000 items, ten custody events each.
    let id = IncidentId::new(2026, 1);
    let items: Vec<EvidenceItem> = (1..=1_000)
        .map(|n| EvidenceItem {
            id: n,
            incident: id.to_string(),
            kind: EvidenceKind::Excerpt,
            sha256: format!("{n:064x}"),
            size: 4096,
            collected_by: "alice".into(),
            collected_at: t0(),
            collected_at_local: "2026-11-22T13:00:00.000+01:00".into(),
            source_host: "web1".into(),
            source_path: Some("/var/log/auth.log".into()),
            description: format!("auth log lines, batch {n}"),
            content: Some("Failed password for root from 203.0.113.9\n".repeat(3)),
            stored_path: String::new(),
            drill: false,
        })
        .collect();
    let custody: Vec<CustodyEvent> = (0..10_000)
        .map(|n| CustodyEvent {
            seq: n,
            item: n % 1_000 + 1,
            at: t0(),
            actor: "bob".into(),
            action: if n % 2 == 0 { "verified" } else { "accessed" }.into(),
            from: "evidence-store".into(),
            to: "bob".into(),
            purpose: "integrity check".into(),
            result: (n % 2 == 0).then(|| "ok".to_string()),
        })
        .collect();
    let rows: Vec<BoardRow> = vec![BoardRow {
        incident: Incident {
            id: id.clone(),
            ..incident(0)
        },
        commander: None,
    }];
    let mut app = App::new("bench", Policy::builtin(), false);
    update(&mut app, Action::BoardLoaded(rows), t0());
    update(&mut app, Action::Command(Command::Open), t0());
    update(&mut app, Action::Command(Command::OpenEvidence), t0());
    let loaded = RecordsLoaded::Evidence {
        id,
        items,
        custody,
        hold: None,
    };
    update(&mut app, Action::Records(Box::new(loaded)), t0());
    if let Some(e) = app.stack.evidence_mut() {
        e.cursor = 500;
    }
    println!(
        "evidence render, 1,000 items and 10,000 custody events, 120x40: {}",
        stats(time_frames(&app, 500))
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would too: both run it.
    bench_records();
    bench_render();
    bench_process();
}
