//! A brute-force flood against `warroom watch`: 50,000 sshd failures from
//! 2,000 addresses appended while it runs make one campaign incident per
//! shipped campaign rule that matches, with every address and its exact
//! count among its sources, a bounded number of evidence items and
//! `detect.*` events, one alert per campaign, and a timeline that
//! verifies; a watcher killed with SIGKILL in the middle and started
//! again ends with the same record; the flood's windows are given up once
//! the log has moved past them.

mod common;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use warroom::store::Store;

const LINES: usize = 50_000;
const ADDRESSES: usize = 2_000;

fn address(a: usize) -> String {
    format!("198.51.{}.{}", a / 250, a % 250 + 1)
}

/// Line `i`: address `i % 2000`, 1,000 lines a second, so each address's
/// 25 failures fall within 50 seconds (inside both shipped windows).
fn flood_line(i: usize) -> String {
    let s = i / 1000;
    format!(
        "Mar  1 10:{:02}:{:02} bastion-1 sshd[{}]: Failed password for root from {} port {} ssh2\n",
        s / 60,
        s % 60,
        4000 + i % 97,
        address(i % ADDRESSES),
        30000 + i % 20000
    )
}

fn spawn_watch(env: &Env, log: &Path) -> Child {
    // Status lines go to a file: a pipe nobody reads would fill.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = File::create(env.dir.path().join(format!("watch-{n}.out"))).unwrap();
    env.cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50"])
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("start warroom watch")
}

fn append(log: &Path, from: usize, to: usize) {
    let mut f = OpenOptions::new().append(true).open(log).unwrap();
    // A few large writes, as a flood arrives.
    for chunk in (from..to).collect::<Vec<_>>().chunks(5_000) {
        let text: String = chunk.iter().map(|&i| flood_line(i)).collect();
        f.write_all(text.as_bytes()).unwrap();
    }
}

fn committed_offset(db: &Path, log: &Path) -> Option<u64> {
    let key = std::path::absolute(log).unwrap();
    let store = Store::open(db).ok()?;
    let ino = fs::metadata(log).ok()?.ino();
    store
        .watch_checkpoints("default")
        .ok()?
        .into_iter()
        .find(|c| Path::new(&c.path) == key && c.inode == ino)
        .map(|c| c.offset)
}

fn wait_caught_up(db: &Path, log: &Path) {
    let started = Instant::now();
    let len = fs::metadata(log).unwrap().len();
    while committed_offset(db, log) != Some(len) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the watcher did not catch up with the flood"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn stop(mut child: Child) {
    signal(&child, "-TERM");
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "watch exited with {s}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "watch ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One source of an incident: (key, count, first seen, last seen).
type Source = (String, u64, String, String);

/// What the flood left, in comparable form.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    /// (title, [(key, count, first, last)], latest excerpt)
    incidents: Vec<(String, Vec<Source>, String)>,
    alerts: Vec<String>,
    /// (rule, key, number, count) of every detection.
    detections: Vec<(String, String, i64, u64)>,
}

fn record(env: &Env) -> Record {
    let store = Store::open(&env.db()).unwrap();
    let v = store.verify(None).unwrap();
    assert!(v.failure.is_none(), "the chain verifies: {v:?}");
    let incidents_now = store.incidents(true).unwrap();
    let mut incidents = Vec::new();
    let mut events_total = 0;
    for i in &incidents_now {
        let sources = store
            .incident_sources(&i.id)
            .unwrap()
            .into_iter()
            .map(|s| {
                (
                    s.key,
                    s.count,
                    s.first_seen.to_rfc3339(),
                    s.last_seen.to_rfc3339(),
                )
            })
            .collect::<Vec<_>>();
        let evidence = store.evidence(&i.id).unwrap();
        // Bounded: the first report after opening, one a minute while it
        // lasts (this flood takes well under a few), and the flush.
        assert!(
            (1..=6).contains(&evidence.len()),
            "{}: {} evidence items",
            i.title,
            evidence.len()
        );
        let latest = evidence
            .iter()
            .max_by_key(|e| e.id)
            .and_then(|e| e.content.clone())
            .unwrap_or_default();
        assert!(
            latest.lines().count() <= 20 + 1 + 20,
            "the excerpt is bounded: {} lines",
            latest.lines().count()
        );
        let timeline = store.timeline(i.id.as_str(), None).unwrap();
        let detect = timeline
            .iter()
            .filter(|e| e.kind.starts_with("detect."))
            .count();
        assert!(detect <= 12, "{}: {detect} detect.* events", i.title);
        events_total += timeline.len();
        incidents.push((i.title.clone(), sources, latest));
    }
    assert!(
        events_total <= 60,
        "{events_total} events for the flood's incidents"
    );
    incidents.sort();
    let alerts: Vec<String> = store
        .alerts_since(chrono::DateTime::UNIX_EPOCH)
        .unwrap()
        .into_iter()
        .map(|a| a.key)
        .collect();
    let mut alerts = alerts;
    alerts.sort();
    let mut detections: Vec<_> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.rule, d.key, d.number, d.count))
        .collect();
    detections.sort();
    Record {
        incidents,
        alerts,
        detections,
    }
}

fn check_flood(r: &Record) {
    // One shipped campaign rule opens incidents for these lines ("Multiple
    // failed logins"); "Failed login burst" is a campaign that only alerts.
    assert_eq!(
        r.incidents.len(),
        1,
        "{:?}",
        r.incidents.iter().map(|i| &i.0).collect::<Vec<_>>()
    );
    let (title, sources, excerpt) = &r.incidents[0];
    assert_eq!(title, "Multiple failed logins from 2,000 addresses");
    assert_eq!(sources.len(), ADDRESSES);
    assert!(
        sources.iter().all(|s| s.1 == (LINES / ADDRESSES) as u64),
        "25 each"
    );
    for a in 0..ADDRESSES {
        assert!(
            sources.iter().any(|s| s.0 == address(a)),
            "{} listed",
            address(a)
        );
    }
    assert!(
        excerpt.contains("more matching line(s) not kept"),
        "{excerpt}"
    );
    // One alert per campaign, never one per address.
    assert_eq!(r.alerts.len(), 2, "{:?}", r.alerts);
    let per_rule = |rule: &str| r.detections.iter().filter(|d| d.0 == rule).count();
    assert_eq!(per_rule("Multiple failed logins"), ADDRESSES);
    assert_eq!(per_rule("Failed login burst"), ADDRESSES);
}

#[test]
fn a_flood_makes_one_campaign_with_every_source_counted_and_a_kill_changes_nothing() {
    // Uninterrupted: the flood appended in pieces while the watcher runs.
    let calm = Env::new();
    let log = calm.dir.path().join("auth.log");
    File::create(&log).unwrap();
    let child = spawn_watch(&calm, &log);
    wait_caught_up(&calm.db(), &log);
    append(&log, 0, LINES / 2);
    append(&log, LINES / 2, LINES);
    wait_caught_up(&calm.db(), &log);
    stop(child);
    let expected = record(&calm);
    check_flood(&expected);

    // Killed with SIGKILL after it committed part of the first half, then
    // started again while the second half arrives.
    let crashed = Env::new();
    let log = crashed.dir.path().join("auth.log");
    File::create(&log).unwrap();
    let child = spawn_watch(&crashed, &log);
    wait_caught_up(&crashed.db(), &log);
    append(&log, 0, LINES / 2);
    let started = Instant::now();
    while committed_offset(&crashed.db(), &log).unwrap_or(0) == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "no commit");
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, "-KILL");
    let mut child = child;
    child.wait().unwrap();
    let child = spawn_watch(&crashed, &log);
    append(&log, LINES / 2, LINES);
    wait_caught_up(&crashed.db(), &log);
    stop(child);
    let got = record(&crashed);
    check_flood(&got);
    assert_eq!(got, expected);

    // The flood's windows (an armed "brute force that worked" and a user
    // count per address) stay saved while they can count, and go once the
    // log has moved past their reach: a restarted watcher drops them when
    // a line an hour later is read.
    let windows = || {
        Store::open(&crashed.db())
            .unwrap()
            .load_watch_state("default")
            .unwrap()
            .windows
            .len()
    };
    assert!(windows() >= 2 * ADDRESSES, "{} windows saved", windows());
    let child = spawn_watch(&crashed, &log);
    let mut f = OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"Mar  1 11:00:00 bastion-1 systemd[1]: Started Daily apt download activities.\n")
        .unwrap();
    wait_caught_up(&crashed.db(), &log);
    let started = Instant::now();
    while windows() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} expired windows still saved",
            windows()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(child);
    assert_eq!(record(&crashed).detections, expected.detections);
}
