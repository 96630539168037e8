//! `watch`, then `scan --commit` over the same logs: the replay recognises
//! the lines the watcher committed (same file, up to its committed
//! position, even after the file was rotated away) and opens, alerts and
//! counts nothing twice; what the watcher never read is still committed.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use warroom::store::Store;

/// An incident per source past three failures a minute, and a notify rule
/// per source that goes quiet after 15 minutes (so the watcher closes its
/// detections, and a replay that did not know would open them again).
const RULES: &str = r#"
events:
  fail:
    match: 'sshd\[\d+\]: Failed password for \S+ from (?P<src>\S+)'
rules:
  - rule: brute
    condition: fail > 3 in 1 minute
    severity: high
  - rule: noted
    condition: fail
    action: notify
    notify: [oncall@example.com]
"#;

/// Bursts of five failures from a source, 20 minutes apart; each source
/// comes back after 40 minutes.
fn bursts(from: usize, to: usize) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z").unwrap();
    let mut out = String::new();
    for b in from..to {
        for i in 0..5 {
            let at = (base + chrono::Duration::seconds((b * 20 * 60 + i * 5) as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            out.push_str(&format!(
                "{at} web sshd[{b}]: Failed password for root from 203.0.113.{} port {i} ssh2\n",
                b % 3
            ));
        }
    }
    out
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Row counts, and every detection's rule, key, number, count and state.
fn snapshot(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut out: Vec<String> = [
        "detections",
        "incidents",
        "alerts",
        "alert_deliveries",
        "messages",
        "evidence",
        "events",
    ]
    .iter()
    .map(|t| {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        format!("{t}: {n}")
    })
    .collect();
    let mut rows = conn
        .prepare("SELECT rule || ' ' || key || ' #' || number || ' count=' || count || ' open=' || open FROM detections ORDER BY id")
        .unwrap();
    out.extend(
        rows.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap),
    );
    out
}

fn spawn_watch(env: &Env, rules: &Path, log: &Path) -> Child {
    env.cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50", "--rules"])
        .arg(rules)
        .arg("--")
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the watcher's checkpoint for `log` is at its end.
fn wait_read(db: &Path, log: &Path) {
    let size = fs::metadata(log).unwrap().len();
    let abs = std::path::absolute(log).unwrap();
    let started = Instant::now();
    loop {
        let done = Store::open(db)
            .and_then(|s| s.watch_checkpoints("default"))
            .is_ok_and(|cps| {
                cps.iter()
                    .any(|c| Path::new(&c.path) == abs && c.offset == size)
            });
        if done {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "watcher never caught up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(child: Child) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scan_commit(env: &Env, rules: &Path, logs: &[&Path]) -> String {
    let mut args = vec![
        "scan".to_string(),
        "--commit".into(),
        "--rules".into(),
        rules.to_string_lossy().into_owned(),
        "--".into(),
    ];
    args.extend(logs.iter().map(|l| l.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.ok(&args)
}

#[test]
fn a_replay_of_what_a_watcher_committed_opens_and_alerts_nothing_again() {
    let env = Env::new();
    let rules = env.dir.path().join("rules.yml");
    fs::write(&rules, RULES).unwrap();
    let log = env.dir.path().join("auth.log");
    append(&log, &bursts(0, 9));

    let watch = spawn_watch(&env, &rules, &log);
    wait_read(&env.db(), &log);
    stop(watch);
    let after_watch = snapshot(&env.db());
    // The watcher closed quiet detections and opened new ones.
    assert!(
        after_watch.iter().any(|l| l.contains("open=0")),
        "{after_watch:#?}"
    );

    let out = scan_commit(&env, &rules, &[&log]);
    assert!(out.contains("committed: 0 new detection(s)"), "{out}");
    assert_eq!(snapshot(&env.db()), after_watch, "{out}");

    // Rotated away and followed on: the replay of both files still knows.
    let watch = spawn_watch(&env, &rules, &log);
    wait_read(&env.db(), &log);
    // Lines the watcher may still be reading when the file is renamed
    // away: read to its end, they count as committed of that file too.
    append(&log, &bursts(9, 10));
    let rotated = env.dir.path().join("auth.log.1");
    fs::rename(&log, &rotated).unwrap();
    append(&log, &bursts(10, 12));
    wait_read(&env.db(), &log);
    stop(watch);
    let after_rotation = snapshot(&env.db());
    assert_ne!(after_rotation, after_watch, "the watcher read the new file");
    let out = scan_commit(&env, &rules, &[&rotated, &log]);
    assert!(out.contains("committed: 0 new detection(s)"), "{out}");
    assert_eq!(snapshot(&env.db()), after_rotation, "{out}");

    // What no watcher read is committed by the replay, once.
    append(&log, &bursts(12, 14));
    let out = scan_commit(&env, &rules, &[&rotated, &log]);
    assert!(!out.contains("committed: 0 new detection(s)"), "{out}");
    let grown = snapshot(&env.db());
    assert_ne!(grown, after_rotation);
    scan_commit(&env, &rules, &[&rotated, &log]);
    assert_eq!(snapshot(&env.db()), grown, "a second replay adds nothing");
}
