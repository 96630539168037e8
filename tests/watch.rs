//! The follow driver and `warroom watch` against real files being
//! appended, rotated and truncated while it runs: every line exactly once,
//! a SIGKILLed watcher that restarts ends where an uninterrupted one does,
//! and hostile lines never reach the terminal raw.

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Env;
use warroom::detect::follow::{FollowConfig, Follower, system_clock};
use warroom::detect::watch::{WatchOptions, run};
use warroom::detect::{Engine, RuleSet};
use warroom::domain::Playbook;
use warroom::store::Store;

/// A small PRNG (xorshift), seeded from the clock and printed, so a
/// failing run can be replayed with WARROOM_TEST_SEED.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("WARROOM_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("WARROOM_TEST_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Lines are `line NNNNNN` (six digits). Two record-only rules count them
/// through the store: per hundred (the first four digits) and per last
/// two digits, so a line read twice, or lost, or cut, changes a count.
const NUMBERED: &str = r#"
events:
  numbered:
    match: '^line (?P<hundred>\d{4})(?P<tail>\d{2})$'
rules:
  - rule: per hundred
    condition: numbered
    group_by: hundred
    action: []
  - rule: per tail
    condition: numbered
    group_by: tail
    action: []
"#;

/// (rule, key) -> count, as committed.
fn stored_counts(store: &Store) -> BTreeMap<(String, String), u64> {
    let mut seen = BTreeMap::new();
    for d in store.detections(false).unwrap() {
        *seen.entry((d.rule, d.key)).or_insert(0) += d.count;
    }
    seen
}

/// Waits until the watcher's checkpoint for `log` is at the end of the
/// file now there.
fn wait_caught_up(db: &Path, log: &Path, limit: Duration, what: &str) {
    let started = Instant::now();
    let key = std::path::absolute(log).unwrap();
    loop {
        let meta = fs::metadata(log).unwrap();
        if let Ok(store) = Store::open(db)
            && let Ok(cps) = store.watch_checkpoints("default")
            && cps.iter().any(|c| {
                Path::new(&c.path) == key && c.inode == meta.ino() && c.offset == meta.len()
            })
        {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{what}: the watcher did not catch up with {} in {limit:?}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn rotation_torture_every_line_is_seen_exactly_once() {
    const LINES: u64 = 100_000;
    const ROTATIONS: u64 = 20;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let log = dir.path().join("app.log");
    let mut rng = Rng::new();
    if std::env::var_os("WARROOM_TEST_TRACE").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .try_init();
    }

    // The watcher, in a thread: the same loop `warroom watch` runs, with
    // file notifications and commits, waiting for the file to appear.
    let stop = Arc::new(AtomicBool::new(false));
    // How many times the follower read each line.
    let tally = Arc::new(std::sync::Mutex::new(vec![0u32; LINES as usize]));
    let watcher = {
        let (db, log, stop) = (db.clone(), log.clone(), Arc::clone(&stop));
        let tally = Arc::clone(&tally);
        std::thread::spawn(move || {
            let mut set = RuleSet::default();
            set.add_texts(&[(PathBuf::from("numbered.yml"), NUMBERED.to_string())]);
            assert!(set.problems.is_empty(), "{:?}", set.problems);
            let mut store = Store::open(&db).unwrap();
            let state = store.load_watch_state("default").unwrap();
            let engine = Engine::new(Arc::new(set), 1000);
            // The writer may have created the file before the first poll.
            let mut config = FollowConfig::new(vec![log]);
            config.from_beginning = true;
            let mut follower = Follower::new(engine, config, &state, system_clock());
            follower.set_line_tap(Box::new(move |_, line| {
                let n = std::str::from_utf8(line)
                    .ok()
                    .and_then(|l| l.strip_prefix("line "))
                    .and_then(|n| n.parse::<usize>().ok());
                let mut t = tally.lock().unwrap();
                match n {
                    Some(n) if n < t.len() => t[n] += 1,
                    _ => panic!("a line read wrong: {:?}", String::from_utf8_lossy(line)),
                }
            }));
            let opts = WatchOptions {
                name: "default".into(),
                poll: Duration::from_millis(20),
                actor: "watcher".into(),
                host: "test".into(),
                // Alone on this database.
                lease: None,
            };
            run(
                &mut follower,
                &mut store,
                &Playbook::builtin(),
                &opts,
                &stop,
                |_, _| {},
            )
            .unwrap();
        })
    };

    // Ready when it has recorded that it waits for the file.
    let started = Instant::now();
    while !Store::open(&db)
        .and_then(|s| s.watch_checkpoints("default"))
        .is_ok_and(|c| !c.is_empty())
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "watcher never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // The writer: numbered lines in writes of random sizes (lines are cut
    // across writes, so the watcher often sees half a line), rotated 10
    // times by rename and 10 times by copy-and-truncate. The writer
    // rotates, so nothing is appended between a copy and its truncate.
    let open = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap()
    };
    let mut out = open();
    let mut pending: Vec<u8> = Vec::new();
    let mut next = 0u64;
    let every = LINES / (ROTATIONS + 1);
    let mut rotations = 0;
    while next < LINES || !pending.is_empty() {
        let n = 1 + rng.below(300);
        for _ in 0..n {
            if next < LINES {
                pending.extend(format!("line {next:06}\n").bytes());
                next += 1;
            }
        }
        // Write all but a random tail (the rest of a line goes next time).
        let keep = if next < LINES {
            rng.below(8) as usize
        } else {
            0
        };
        let cut = pending.len().saturating_sub(keep);
        out.write_all(&pending[..cut]).unwrap();
        pending.drain(..cut);
        if rotations < ROTATIONS && next >= every * (rotations + 1) && pending.is_empty() {
            rotations += 1;
            eprintln!("rotation {rotations} before line {next}");
            if rotations % 2 == 1 {
                fs::rename(&log, dir.path().join(format!("app.log.r{rotations}"))).unwrap();
                out = open();
            } else {
                fs::copy(&log, dir.path().join(format!("app.log.c{rotations}"))).unwrap();
                out.set_len(0).unwrap();
            }
            // Half the time let the watcher catch up (rotation seen as it
            // happens); otherwise it finds several rotations at once.
            if rng.below(2) == 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        if rng.below(20) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert_eq!(rotations, ROTATIONS, "the schedule rotated as planned");
    eprintln!("writer done after {:?}", started.elapsed());
    drop(out);

    wait_caught_up(&db, &log, Duration::from_secs(120), "torture");
    eprintln!("caught up after {:?}", started.elapsed());
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();

    let tally = tally.lock().unwrap();
    let missing: Vec<usize> = (0..tally.len()).filter(|n| tally[*n] == 0).collect();
    let repeated: Vec<(usize, u32)> = (0..tally.len())
        .filter(|n| tally[*n] > 1)
        .map(|n| (n, tally[n]))
        .collect();
    assert!(
        missing.is_empty() && repeated.is_empty(),
        "{} lines never read ({}), {} read more than once (e.g. {:?})",
        missing.len(),
        ranges(&missing),
        repeated.len(),
        &repeated[..repeated.len().min(10)]
    );

    // And what was committed says the same.
    let store = Store::open(&db).unwrap();
    let counts = stored_counts(&store);
    for h in 0..LINES / 100 {
        let key = ("per hundred".to_string(), format!("{h:04}"));
        assert_eq!(counts.get(&key), Some(&100), "{key:?}");
    }
    for t in 0..100 {
        let key = ("per tail".to_string(), format!("{t:02}"));
        assert_eq!(counts.get(&key), Some(&(LINES / 100)), "{key:?}");
    }
    assert_eq!(counts.len() as u64, LINES / 100 + 100);
}

/// When the watcher last committed.
fn last_commit(db: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    Store::open(db)
        .and_then(|s| s.load_watch_state("default"))
        .ok()
        .and_then(|s| s.updated_at)
}

/// `warroom watch` on `log` with the shipped rules (or `rules`), output piped.
fn spawn_watch(env: &Env, log: &Path, rules: Option<&Path>) -> Child {
    let mut c = env.cmd();
    c.args(["watch", "--from-beginning", "--poll-ms", "50"]);
    if let Some(r) = rules {
        c.arg("--rules").arg(r).arg("--");
    }
    c.arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start warroom watch")
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// SIGTERM: commits and exits 0. Returns stdout and stderr.
fn stop(mut child: Child) -> (String, String) {
    signal(&child, "-TERM");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "watch ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIGTERM ({status:?}, signal {:?}); stderr: {stderr}",
        std::os::unix::process::ExitStatusExt::signal(&status)
    );
    (stdout, stderr)
}

/// Timestamped sshd lines: failures from a few noisy sources (bursts that
/// open incidents and raise alerts) and many quiet ones, with other lines
/// between, over almost an hour of log time (so notify-only detections also
/// go quiet and open again).
fn attack_log(rng: &mut Rng, n: usize) -> Vec<String> {
    let base = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z").unwrap();
    (0..n)
        .map(|i| {
            let at = (base + chrono::Duration::seconds(i as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            match rng.below(10) {
                0..=3 => format!(
                    "{at} web sshd[{i}]: Failed password for root from 203.0.113.{} port {i} ssh2",
                    rng.below(4)
                ),
                4..=5 => format!(
                    "{at} web sshd[{i}]: Failed password for invalid user u{i} from 198.51.100.{} port {i} ssh2",
                    rng.below(60)
                ),
                6 => format!(
                    "{at} web sshd[{i}]: Invalid user admin{} from 192.0.2.{} port {i}",
                    rng.below(5),
                    rng.below(3)
                ),
                _ => format!("{at} web sshd[{i}]: Accepted publickey for deploy from 10.1.1.1 port {i} ssh2"),
            }
        })
        .collect()
}

/// What a watcher's database ends with, in a comparable form.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    detections: Vec<String>,
    incidents: Vec<String>,
    alerts: Vec<String>,
    /// Per incident (by title): its latest evidence excerpt (the bounded
    /// first and latest lines; earlier excerpts are snapshots taken when
    /// a report fell due, so how many there are depends on timing).
    evidence: Vec<(String, String)>,
}

fn outcome(db: &Path) -> Outcome {
    let store = Store::open(db).unwrap();
    assert!(store.verify_chain().unwrap().failure.is_none());
    let mut detections: Vec<String> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .map(|d| {
            format!(
                "{} {} #{} count={} {}..{} open={} incident={} lines={}",
                d.rule,
                d.key,
                d.number,
                d.count,
                d.first_seen.to_rfc3339(),
                d.last_seen.to_rfc3339(),
                d.open,
                d.incident.is_some(),
                d.lines.len()
            )
        })
        .collect();
    detections.sort();
    let mut incidents = Vec::new();
    let mut evidence = Vec::new();
    for i in store.incidents(true).unwrap() {
        incidents.push(format!(
            "{} {} {} {}",
            i.title,
            i.severity,
            i.source,
            i.detected_at.to_rfc3339()
        ));
        let latest = store
            .evidence(&i.id)
            .unwrap()
            .into_iter()
            .max_by_key(|e| e.id)
            .and_then(|e| e.content)
            .unwrap_or_default();
        evidence.push((i.title.clone(), latest));
    }
    incidents.sort();
    evidence.sort();
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut alerts: Vec<String> = conn
        .prepare("SELECT key || ' ' || kind || ' ' || coalesce(recipient, '') FROM alerts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    alerts.sort();
    Outcome {
        detections,
        incidents,
        alerts,
        evidence,
    }
}

#[test]
fn a_watcher_killed_at_random_moments_ends_like_an_uninterrupted_one() {
    let mut rng = Rng::new();
    let lines = attack_log(&mut rng, 3000);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();

    // One uninterrupted run over the whole file.
    let reference = Env::new();
    let ref_log = reference.dir.path().join("auth.log");
    fs::write(&ref_log, &text).unwrap();
    let child = spawn_watch(&reference, &ref_log, None);
    wait_caught_up(
        &reference.db(),
        &ref_log,
        Duration::from_secs(60),
        "reference",
    );
    let (stdout, _) = stop(child);
    let expected = outcome(&reference.db());
    assert!(
        expected.incidents.len() >= 2 && !expected.alerts.is_empty(),
        "the log opens incidents and raises alerts: {expected:#?}"
    );
    assert_eq!(
        stdout.lines().count(),
        expected.detections.len(),
        "one status line per detection:\n{stdout}"
    );

    // The same lines arriving in pieces (lines cut across writes) while the
    // watcher is killed with SIGKILL at random moments and started again.
    let crashed = Env::new();
    let log = crashed.dir.path().join("auth.log");
    File::create(&log).unwrap();
    let writer = {
        let (log, bytes, seed) = (log.clone(), text.into_bytes(), rng.next());
        std::thread::spawn(move || {
            let mut rng = Rng(seed | 1);
            let mut f = OpenOptions::new().append(true).open(&log).unwrap();
            let mut at = 0;
            while at < bytes.len() {
                let n = (1 + rng.below(3000) as usize).min(bytes.len() - at);
                f.write_all(&bytes[at..at + n]).unwrap();
                at += n;
                std::thread::sleep(Duration::from_millis(rng.below(30)));
            }
        })
    };
    let mut kills = 0;
    while !writer.is_finished() || kills < 8 {
        let mut child = spawn_watch(&crashed, &log, None);
        std::thread::sleep(Duration::from_millis(30 + rng.below(400)));
        signal(&child, "-KILL");
        child.wait().unwrap();
        kills += 1;
    }
    writer.join().unwrap();
    let before = last_commit(&crashed.db());
    let child = spawn_watch(&crashed, &log, None);
    // Started (its first commit) before judging it caught up: the killed
    // run before it may have read everything already.
    let started = Instant::now();
    while last_commit(&crashed.db()) == before {
        assert!(started.elapsed() < Duration::from_secs(30), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_caught_up(
        &crashed.db(),
        &log,
        Duration::from_secs(60),
        "after the kills",
    );
    stop(child);
    eprintln!("killed {kills} times");

    let got = outcome(&crashed.db());
    assert_eq!(got.detections, expected.detections);
    assert_eq!(got.incidents, expected.incidents);
    assert_eq!(got.alerts, expected.alerts);
    assert_eq!(got.evidence, expected.evidence);
}

#[test]
fn hostile_lines_in_follow_mode_are_stored_raw_and_never_reach_the_terminal_raw() {
    let env = Env::new();
    let rules = env.dir.path().join("users.yml");
    fs::write(
        &rules,
        r#"
events:
  fail:
    match: 'Failed password for (?P<user>.*?) from (?P<src>\S+) port'
rules:
  - rule: failures per user
    condition: fail > 1 in 1 hour
    group_by: user
    severity: medium
    action: [create_incident, notify]
    notify: [oncall]
"#,
    )
    .unwrap();
    let log = env.dir.path().join("hostile.log");
    let child = spawn_watch(&env, &log, Some(&rules));
    // Waited for: it does not exist yet.
    std::thread::sleep(Duration::from_millis(300));
    let evil_user = "r\x1b]52;c;ZXZpbA==\x07oo\x1b[2Jt\x00x";
    let mut data: Vec<u8> = Vec::new();
    for i in 0..3 {
        data.extend(
            format!("2026-03-01T10:00:0{i}Z h sshd[1]: Failed password for {evil_user} from 10.9.8.7 port 22 ssh2\n")
                .bytes(),
        );
    }
    data.extend(b"2026-03-01T10:00:05Z h sshd[1]: bad bytes \xff\xfe\x00 NUL and \x1b[2J clear\n");
    data.extend(b"2026-03-01T10:00:06Z h kernel: ");
    data.extend(std::iter::repeat_n(b'A', 10 * 1024 * 1024));
    data.push(b'\n');
    for i in 0..2 {
        data.extend(
            format!("2026-03-01T10:00:1{i}Z h sshd[1]: Failed password for \u{202e}bidi from 10.9.8.8 port 22 ssh2\n")
                .bytes(),
        );
    }
    // Invalid UTF-8 in a matching line.
    data.extend(b"2026-03-01T10:00:20Z h sshd[1]: Failed password for bad\xc3\x28user from 10.9.8.9 port 22 ssh2\n");
    data.extend(b"2026-03-01T10:00:21Z h sshd[1]: Failed password for bad\xc3\x28user from 10.9.8.9 port 22 ssh2\n");
    let mut f = File::create(&log).unwrap();
    // In pieces: the 10 MB line arrives over several reads.
    for chunk in data.chunks(3 * 1024 * 1024) {
        f.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    drop(f);
    wait_caught_up(&env.db(), &log, Duration::from_secs(60), "hostile");
    let (stdout, stderr) = stop(child);
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{0}'),
            "raw control characters on the terminal: {text:?}"
        );
        assert!(!text.contains('\u{202e}'), "raw bidi override: {text:?}");
    }
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.contains("\u{241b}]52;c;"), "shown inert: {stdout}");

    // Stored as read: escapes and all (invalid UTF-8 as U+FFFD).
    let store = Store::open(&env.db()).unwrap();
    let d = store.detections(false).unwrap();
    assert_eq!(d.len(), 3);
    let evil = d
        .iter()
        .find(|d| d.key.contains("\u{1b}]52"))
        .expect("raw key");
    assert_eq!(evil.key, evil_user);
    assert_eq!(evil.count, 3);
    assert!(evil.lines[0].contains(evil_user));
    assert!(d.iter().any(|d| d.key == "bad\u{fffd}(user"));
    let inc = store.incidents(true).unwrap();
    assert_eq!(inc.len(), 3);
    let i = inc.iter().find(|i| i.title.contains("\u{1b}]52")).unwrap();
    let ev = store.evidence(&i.id).unwrap();
    assert!(ev[0].content.as_deref().unwrap().contains(evil_user));
    // The CLI shows them inert.
    let list = env.ok(&["incident", "list"]);
    assert!(
        !list.contains('\u{1b}') && list.contains('\u{241b}'),
        "{list}"
    );
}

#[test]
fn a_read_only_database_stops_the_watcher_with_an_error_not_a_hang() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.new_incident("committed before", "P2");
    let db = env.db();
    let log = env.dir.path().join("auth.log");
    fs::write(&log, "2026-03-01T10:00:00Z h sshd[1]: hello\n").unwrap();
    let uid0 = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    // Root ignores file modes: run the binary as an unprivileged user.
    let mut cmd = if uid0 {
        let Some(setpriv) = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| Path::new(p).exists())
        else {
            eprintln!("SKIP: running as root without setpriv");
            return;
        };
        let mut c = std::process::Command::new(setpriv);
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_warroom"),
        ]);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
    };
    let parent = db.parent().unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(parent, fs::Permissions::from_mode(0o555)).unwrap();
    fs::set_permissions(&db, fs::Permissions::from_mode(0o444)).unwrap();
    let mut child = cmd
        .args(["--db", db.to_str().unwrap(), "watch", "--from-beginning"])
        .arg(&log)
        .env("WARROOM_LOG", "/dev/null")
        .env("HOME", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    fs::set_permissions(parent, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(&db, fs::Permissions::from_mode(0o600)).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status = status.expect("the watcher hung on a read-only database");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("read-only"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_eq!(env.json(&["incident", "list"]).as_array().unwrap().len(), 1);
}

/// Lines a child writes on stderr, as they come.
fn stderr_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits for a line containing `text`; returns every line seen so far.
fn wait_line(rx: &std::sync::mpsc::Receiver<String>, text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let hit = line.contains(text);
            seen.push(line);
            if hit {
                return seen;
            }
        }
    }
    panic!("no line with {text:?} in {seen:?}");
}

/// Who holds the lease on watcher `name` (their pid).
fn lease_pid(db: &Path, name: &str) -> Option<u32> {
    Store::open(db)
        .and_then(|s| s.watch_leases())
        .ok()?
        .into_iter()
        .find(|l| l.name == name)
        .map(|l| l.holder.pid)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_watchers_with_one_name_count_each_line_once_and_hand_over() {
    let env = Env::new();
    let db = env.db();
    let rules = env.dir.path().join("fail.yml");
    fs::write(
        &rules,
        r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+) port'
rules:
  - rule: repeated failures
    condition: fail > 2 in 1 hour
    severity: high
    action: create_incident
"#,
    )
    .unwrap();
    let log = env.dir.path().join("auth.log");
    fs::write(&log, "").unwrap();
    let mut written = 0;
    let mut append = |n: usize| {
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        for _ in 0..n {
            writeln!(
                f,
                "2026-03-01T10:{:02}:{:02}Z h sshd[1]: Failed password for root from 10.1.1.1 port 22 ssh2",
                written / 60,
                written % 60
            )
            .unwrap();
            written += 1;
        }
    };
    let count = || {
        Store::open(&db)
            .and_then(|s| s.detections(false))
            .map(|d| d.iter().map(|d| d.count).sum::<u64>())
            .unwrap_or(0)
    };

    let a = spawn_watch(&env, &log, Some(&rules));
    wait_until("the first watcher never took its lease", || {
        lease_pid(&db, "default") == Some(a.id())
    });
    // The second stands by, saying who runs the name.
    let mut b = spawn_watch(&env, &log, Some(&rules));
    let b_err = stderr_lines(&mut b);
    let said = wait_line(&b_err, "standing by");
    assert!(
        said.iter()
            .any(|l| l.contains(&format!("(pid {})", a.id()))),
        "{said:?}"
    );

    append(5);
    wait_until("the first watcher missed lines", || count() == 5);
    // Given back on SIGTERM: the second takes over from its checkpoint.
    stop(a);
    wait_until("the second watcher never took over", || {
        lease_pid(&db, "default") == Some(b.id())
    });
    append(5);
    wait_until("the second watcher missed lines", || count() == 10);

    // Killed, it cannot give the lease back; a successor on this host sees
    // the process is gone and takes over without waiting the lease out.
    let b_pid = b.id();
    b.kill().unwrap();
    b.wait().unwrap();
    let mut c = spawn_watch(&env, &log, Some(&rules));
    let c_err = stderr_lines(&mut c);
    wait_until("the third watcher never took over", || {
        lease_pid(&db, "default") == Some(c.id())
    });
    append(5);
    wait_until("the third watcher missed lines", || count() == 15);
    stop(c);
    let c_said: Vec<String> = c_err.try_iter().collect();
    assert!(
        !c_said.iter().any(|l| l.contains("standing by")),
        "waited for a dead holder (pid {b_pid}): {c_said:?}"
    );

    // One detection, one incident, every line counted once.
    let store = Store::open(&db).unwrap();
    let detections = store.detections(false).unwrap();
    assert_eq!(detections.len(), 1, "{detections:?}");
    assert_eq!(detections[0].count, 15);
    assert!(detections[0].incident.is_some());
    assert!(
        store.watch_leases().unwrap().is_empty(),
        "the lease was not given back"
    );
}

/// `[3, 4, 5, 9]` as "3-5, 9": the lines a follower lost, by stretch.
fn ranges(numbers: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        while i + 1 < numbers.len() && numbers[i + 1] == numbers[i] + 1 {
            i += 1;
        }
        out.push(if numbers[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", numbers[i])
        });
        i += 1;
    }
    out.join(", ")
}
