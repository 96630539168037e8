//! Composer and alert benchmarks (figures go into BENCHMARKS.md,
//! "Composer and alerts (issue 4)"). Run: `cargo bench --bench compose`.
//! No assertions: it reports numbers.
//!
//! - the alert check each tick does on the UI thread (`comms::alerts::due`)
//!   over 10,000 open incidents;
//! - composer frames at 120x40 with a message at the size cap (100,000
//!   characters): editor with preview pane, preview, diff with the last
//!   message;
//! - one keystroke into that message, and encoding its autosaved draft.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use warroom::comms::{Audience, CommsConfig};
use warroom::domain::{
    Cia, Incident, IncidentId, Phase, Playbook, Policy, Severity, Source, Status,
};
use warroom::store::{AlertSubject, NewIncident, SentMessage, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::kit::editor::{Editor, MAX_CHARS};
use warroom::tui::screens::compose::state::{ComposeEnv, ComposeLoaded};
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn stats(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    let p50 = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    println!(
        "{what}: mean {mean:.2?}, p50 {p50:.2?}, p99 {p99:.2?} over {} runs",
        samples.len()
    );
}

fn incident(n: u32) -> Incident {
    let at = t0() - chrono::Duration::minutes(i64::from(n % 600));
    Incident {
        id: IncidentId::new(2026, n + 1),
        title: format!("Synthetic incident number {n}"),
        summary: String::new(),
        severity: Severity::ALL[(n % 4) as usize],
        status: Status::ALL[(n % 4) as usize],
        phase: Phase::ALL[(n % 6) as usize],
        source: if n.is_multiple_of(5) {
            Source::RuleWatcher
        } else {
            Source::Manual
        },
        affected: String::new(),
        cia: Cia::default(),
        customer_impact: String::new(),
        customer_summary: String::new(),
        personal_data_breach: n.is_multiple_of(7),
        drill: false,
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

fn bench_alert_check() {
    let subjects: Vec<AlertSubject> = (0..10_000)
        .map(|n| AlertSubject {
            incident: incident(n),
            holders: Vec::new(),
        })
        .collect();
    let config = CommsConfig::builtin(std::path::Path::new("/nonexistent"));
    let policy = Policy::builtin();
    let mut due = 0;
    let samples = (0..50)
        .map(|i| {
            let now = t0() + chrono::Duration::seconds(i);
            let start = Instant::now();
            due = warroom::comms::alerts::due(&subjects, &policy, &config, "bench", now).len();
            start.elapsed()
        })
        .collect();
    stats(
        &format!("full alert check (due) over 10,000 open incidents ({due} alerts due)"),
        samples,
    );
    // What the console's tick does: only incidents whose clocks cross a
    // line (or whose minute is up) are checked again.
    let mut state = warroom::tui::shell::alerts::state::AlertState::default();
    state.set_subjects(subjects);
    let start = Instant::now();
    let first = state.due(&policy, &config, "bench", t0()).len();
    println!(
        "console tick, first after a data change (all 10,000 checked, {first} due): {:.2?}",
        start.elapsed()
    );
    let samples = (1..=180)
        .map(|i| {
            let now = t0() + chrono::Duration::seconds(i);
            let start = Instant::now();
            std::hint::black_box(state.due(&policy, &config, "bench", now));
            start.elapsed()
        })
        .collect();
    stats(
        "console tick, steady state (3 simulated minutes, 10,000 open incidents)",
        samples,
    );
}

/// A message of about `MAX_CHARS` characters: realistic lines, repeated.
fn big_message(variant: &str) -> String {
    let mut s = String::new();
    let mut n = 0;
    while s.chars().count() < MAX_CHARS - 200 {
        s.push_str(&format!(
            "{n:05} {variant} Customers in eu-west-1 may see failed logins while we roll back.\n"
        ));
        n += 1;
    }
    s
}

fn bench_composer() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("b.db")).unwrap();
    let i = store
        .create_incident(
            &NewIncident::new("Benchmark incident", Severity::P1),
            &Playbook::builtin(),
            "bench",
            t0(),
        )
        .unwrap();
    let mut app = App::new("bench", Policy::builtin(), false);
    app.comms = ComposeEnv::default();
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        t0(),
    );
    update(&mut app, Action::Command(Command::Open), t0());
    let detail = store.detail(&i.id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), t0());
    update(&mut app, Action::Command(Command::Compose), t0());
    update(&mut app, Action::Command(Command::Submit), t0());
    let text = big_message("now");
    let old = big_message("was").replacen("was", "now", 900);
    let last = SentMessage {
        id: 1,
        incident_id: i.id.to_string(),
        audience: Audience::Customers,
        template: None,
        body: old.clone(),
        sha256: warroom::store::body_sha256(&old),
        author: "bench".into(),
        sent_at: t0(),
        event_seq: 1,
        drill: false,
        deliveries: Vec::new(),
    };
    update(
        &mut app,
        Action::ComposeLoaded(Box::new(ComposeLoaded {
            id: i.id.clone(),
            audience: Audience::Customers,
            rendered: Some(Ok(String::new())),
            last: Ok(Some(last)),
            internal: Ok(Vec::new()),
        })),
        t0(),
    );
    let lines = text.lines().count();
    app.stack.compose_mut().unwrap().editor = Editor::new(&text, (lines / 2, 10));
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut frames = |app: &App| -> Vec<Duration> {
        (0..100)
            .map(|_| {
                let start = Instant::now();
                term.draw(|f| render(app, f, t0())).unwrap();
                start.elapsed()
            })
            .collect()
    };
    let chars = text.chars().count();
    stats(
        &format!("composer frame, editor + preview pane, {chars} chars / {lines} lines, 120x40"),
        frames(&app),
    );
    update(&mut app, Action::Command(Command::NextView), t0());
    stats("composer frame, preview view, same message", frames(&app));
    update(&mut app, Action::Command(Command::NextView), t0());
    stats(
        "composer frame, diff view against a 900-line-changed last message",
        frames(&app),
    );
    update(&mut app, Action::Command(Command::NextView), t0());

    let samples = (0..200)
        .map(|n| {
            let key = if n % 2 == 0 {
                KeyEvent::from(KeyCode::Backspace)
            } else {
                KeyEvent::from(KeyCode::Char('x'))
            };
            let start = Instant::now();
            update(&mut app, Action::Input(key), t0());
            start.elapsed()
        })
        .collect();
    stats("one keystroke into that message (update only)", samples);
    let c = app.stack.compose().unwrap();
    let samples = (0..50)
        .map(|_| {
            let start = Instant::now();
            let body = c.draft_body(t0()).to_json();
            std::hint::black_box(body);
            start.elapsed()
        })
        .collect();
    stats("autosave body (JSON) of that message", samples);
}

/// The per-console alert feed on the store worker: the poll every second
/// when nothing new was raised, a poll that reads a full page (each alert's
/// desktop notification claimed, one write each), and the alert list drawn
/// at 120x40 with the most it keeps.
fn bench_alert_feed() {
    use warroom::store::NewAlert;
    use warroom::tui::screens::alerts::io::{Feed, PER_POLL};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("feed.db")).unwrap();
    let config = CommsConfig::builtin(std::path::Path::new("/nonexistent"));
    let alert = |n: usize| NewAlert {
        key: format!("bench:{n}"),
        // No incident: the log's foreign key would want one per alert.
        incident_id: None,
        kind: "clock-near".into(),
        text: format!(
            "INC-2026-{:03} P2 Synthetic incident {n}: Response clock 80% used",
            n % 900 + 1
        ),
        recipient: None,
        raised_by: "bench".into(),
        raised_at: t0(),
    };
    let batch: Vec<NewAlert> = (0..10_000).map(alert).collect();
    warroom::comms::alerts::raise_due(&mut store, batch, &config, "bench", t0()).unwrap();
    let (mut feed, _) = Feed::start(&store, "bench", "bench").unwrap();
    let samples = (0..200)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(feed.poll(&mut store, t0()).unwrap());
            start.elapsed()
        })
        .collect();
    stats(
        "alert feed poll, nothing new (10,000 alerts in the log)",
        samples,
    );
    let samples = (0..5)
        .map(|round| {
            let more: Vec<NewAlert> = (0..PER_POLL)
                .map(|n| alert(10_000 + round * PER_POLL + n))
                .collect();
            warroom::comms::alerts::raise_due(&mut store, more, &config, "bench", t0()).unwrap();
            let start = Instant::now();
            let got = feed.poll(&mut store, t0()).unwrap().unwrap();
            let took = start.elapsed();
            assert_eq!(got.alerts.len(), PER_POLL);
            took
        })
        .collect();
    stats(
        &format!("alert feed poll reading {PER_POLL} new alerts (each desktop claim one write)"),
        samples,
    );
    let mut app = App::new("bench", Policy::builtin(), true);
    let (_, recent) = Feed::start(&store, "bench", "bench").unwrap();
    update(&mut app, Action::AlertFeed(Box::new(recent)), t0());
    let all = store.alerts_after(0, 600).unwrap();
    let batch = warroom::tui::screens::alerts::io::FeedBatch {
        alerts: all,
        earlier: true,
        desktop: Vec::new(),
    };
    update(&mut app, Action::AlertFeed(Box::new(batch)), t0());
    update(&mut app, Action::Command(Command::OpenAlerts), t0());
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let samples = (0..100)
        .map(|_| {
            let start = Instant::now();
            term.draw(|f| render(&app, f, t0())).unwrap();
            start.elapsed()
        })
        .collect();
    stats("alert list frame at 120x40, 500 alerts kept", samples);
}

fn main() {
    bench_alert_check();
    bench_composer();
    bench_alert_feed();
}
