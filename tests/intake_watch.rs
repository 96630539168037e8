//! `warroom watch --wazuh alerts.json`: a Wazuh alerts file followed as an
//! intake source, through rename rotation and copytruncate, with the
//! watcher killed (SIGKILL) and restarted while alerts are being written:
//! every alert becomes exactly one detection, and the intake counts say
//! each line was received once. Alert lines are written as Wazuh writes
//! them (see Wazuh's "alerts.json" documentation: `timestamp` with a
//! `+0000` offset, `rule.level`, `rule.id`, `rule.description`,
//! `agent.name`, `data.srcip`, `full_log`, a unique `id`).

mod common;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::Env;
use warroom::detect::follow::{FollowConfig, Follower, IntakeFollow, system_clock};
use warroom::detect::{Engine, RuleSet};
use warroom::domain::{Playbook, Severity, Source};
use warroom::intake::{Format, Mapping};
use warroom::store::{Store, intake_channels};

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

/// One alert as Wazuh writes it to alerts.json (one line). Alert `n` is
/// on agent `web-NNN`, so each alert has a grouping key of its own.
fn wazuh_line(n: u64, level: u64) -> String {
    let secs = 1_795_946_400 + n;
    let at = Utc.timestamp_opt(secs as i64, 0).unwrap();
    let stamp = at.format("%Y-%m-%dT%H:%M:%S%.3f+0000");
    let syslog = at.format("%b %e %H:%M:%S");
    let ip = format!("203.0.113.{}", n % 250 + 1);
    format!(
        concat!(
            r#"{{"timestamp":"{stamp}","rule":{{"level":{level},"description":"sshd: brute force trying to get access to the system.","id":"5712","mitre":{{"id":["T1110"],"tactic":["Credential Access"]}},"firedtimes":{n},"mail":false,"groups":["syslog","sshd","authentication_failures"]}},"#,
            r#""agent":{{"id":"{n:03}","name":"web-{n:03}","ip":"10.0.0.13"}},"manager":{{"name":"wazuh-manager"}},"id":"{secs}.{n}","#,
            r#""full_log":"{syslog} web-{n:03} sshd[2211]: Failed password for invalid user admin from {ip} port 51122 ssh2","#,
            r#""decoder":{{"parent":"sshd","name":"sshd"}},"data":{{"srcip":"{ip}","srcuser":"admin"}},"location":"/var/log/auth.log"}}"#
        ),
        stamp = stamp,
        level = level,
        n = n,
        secs = secs,
        syslog = syslog,
        ip = ip,
    )
}

/// `warroom watch --wazuh FILE`, output piped.
fn spawn_watch(env: &Env, alerts: &Path) -> Child {
    env.cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50", "--wazuh"])
        .arg(alerts)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
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

/// When the watcher last committed.
fn last_commit(db: &Path) -> Option<chrono::DateTime<Utc>> {
    Store::open(db)
        .ok()?
        .load_watch_state("default")
        .ok()
        .and_then(|s| s.updated_at)
}

/// Waits until the watcher's checkpoint for `file` is at its end.
fn wait_caught_up(db: &Path, file: &Path, limit: Duration) {
    let started = Instant::now();
    let key = std::path::absolute(file).unwrap();
    loop {
        let meta = fs::metadata(file).unwrap();
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
            "the watcher did not catch up with {} in {limit:?}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the writer does to alerts.json.
enum Step {
    Line(String),
    /// mv alerts.json alerts.json-rN; a new alerts.json.
    Rename(u32),
    /// cp alerts.json alerts.json-cN; truncate alerts.json (the writer is
    /// quiet meanwhile, as logrotate's copytruncate assumes).
    CopyTruncate(u32),
}

#[test]
fn a_followed_alerts_json_gives_every_alert_exactly_once_through_rotation_and_sigkill() {
    const ALERTS: u64 = 160;
    let mut rng = Rng::new();
    // Incident-opening alerts (level 10: P2), low ones the default mapping
    // drops (level 3), and lines that are no alerts.
    let mut steps = Vec::new();
    let (mut low, mut bad, mut rotations) = (0u64, 0u64, 0u32);
    for n in 0..ALERTS {
        steps.push(Step::Line(wazuh_line(n, 10)));
        if n % 20 == 7 {
            low += 1;
            steps.push(Step::Line(wazuh_line(10_000 + n, 3)));
        }
        if n % 40 == 13 {
            bad += 1;
            steps.push(Step::Line(format!("{{\"timestamp\":\"broken {n}")));
        }
        if n % 40 == 25 {
            bad += 1;
            steps.push(Step::Line(format!(
                r#"{{"timestamp":"2026-12-02T10:00:00.000+0000","rule":{{"id":"1","description":"no level {n}"}},"id":"x.{n}"}}"#
            )));
        }
        if n % 27 == 26 {
            rotations += 1;
            steps.push(if rotations % 2 == 1 {
                Step::Rename(rotations)
            } else {
                Step::CopyTruncate(rotations)
            });
        }
    }
    assert!(rotations >= 5, "both kinds of rotation, more than once");

    let env = Env::new();
    let dir = env.dir.path().join("ossec");
    fs::create_dir_all(&dir).unwrap();
    let alerts = dir.join("alerts.json");
    File::create(&alerts).unwrap();
    // The watcher has followed the file before the alerts come (a first
    // start knows nothing of files rotated before it).
    let mut first = spawn_watch(&env, &alerts);
    wait_caught_up(&env.db(), &alerts, Duration::from_secs(60));
    signal(&first, "-KILL");
    first.wait().unwrap();

    let writer = {
        let (alerts, dir, seed) = (alerts.clone(), dir.clone(), rng.next());
        std::thread::spawn(move || {
            let mut rng = Rng(seed | 1);
            for step in steps {
                match step {
                    Step::Line(line) => {
                        // Written in up to three pieces: the watcher sees
                        // partial lines, as when Wazuh is mid-write.
                        let bytes = format!("{line}\n").into_bytes();
                        let mut at = 0;
                        while at < bytes.len() {
                            let n = (1 + rng.below(bytes.len() as u64 / 2) as usize)
                                .min(bytes.len() - at);
                            let mut f = OpenOptions::new().append(true).open(&alerts).unwrap();
                            f.write_all(&bytes[at..at + n]).unwrap();
                            at += n;
                            if rng.below(3) == 0 {
                                std::thread::sleep(Duration::from_millis(rng.below(30)));
                            }
                        }
                    }
                    Step::Rename(k) => {
                        fs::rename(&alerts, dir.join(format!("alerts.json-r{k}"))).unwrap();
                        File::create(&alerts).unwrap();
                    }
                    Step::CopyTruncate(k) => {
                        fs::copy(&alerts, dir.join(format!("alerts.json-c{k}"))).unwrap();
                        OpenOptions::new()
                            .write(true)
                            .open(&alerts)
                            .unwrap()
                            .set_len(0)
                            .unwrap();
                    }
                }
            }
        })
    };

    let mut kills = 0;
    while !writer.is_finished() || kills < 6 {
        let mut child = spawn_watch(&env, &alerts);
        std::thread::sleep(Duration::from_millis(150 + rng.below(600)));
        signal(&child, "-KILL");
        child.wait().unwrap();
        kills += 1;
    }
    writer.join().unwrap();
    let before = last_commit(&env.db());
    let mut child = spawn_watch(&env, &alerts);
    let started = Instant::now();
    while last_commit(&env.db()) == before {
        assert!(started.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_caught_up(&env.db(), &alerts, Duration::from_secs(120));
    signal(&child, "-TERM");
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        e.read_to_string(&mut stderr).unwrap();
    }
    assert!(status.success(), "watch stopped cleanly: {stderr}");
    eprintln!("killed {kills} times, {rotations} rotations");

    let store = Store::open(&env.db()).unwrap();
    // Every incident-opening alert exactly once: one detection and one
    // incident each, counted once.
    let detections = store.detections(false).unwrap();
    let mut keys: Vec<String> = detections.iter().map(|d| d.key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), detections.len(), "no detection twice");
    let missing: Vec<u64> = (0..ALERTS)
        .filter(|n| !keys.contains(&format!("5712 / web-{n:03}")))
        .collect();
    assert!(missing.is_empty(), "alerts missed: {missing:?}");
    assert_eq!(detections.len() as u64, ALERTS);
    assert!(detections.iter().all(|d| d.count == 1 && d.rule == "wazuh"));
    assert!(detections.iter().all(|d| d.origin == "intake:wazuh"));
    let incidents = store.incidents(true).unwrap();
    assert_eq!(incidents.len() as u64, ALERTS);

    // Read once each: nothing deduplicated (a line read again after a
    // restart would be), the dropped ones counted with the last reason.
    let stats = store.intake_stats().unwrap();
    assert_eq!(stats.len(), 1, "{stats:?}");
    let s = &stats[0];
    assert_eq!(s.name, "wazuh");
    assert_eq!(s.received, ALERTS + low + bad, "{s:?}");
    assert_eq!(s.deduplicated, 0, "no line read twice: {s:?}");
    assert_eq!(s.dropped, low + bad, "{s:?}");
    assert_eq!(s.refused, 0);
    let last = s.last_error.as_deref().unwrap_or_default();
    assert!(last.contains("line not read as an alert"), "{last}");
    let channels = store.intake_channel_stats().unwrap();
    assert_eq!(channels.len(), 1, "{channels:?}");
    let c = &channels[0];
    let key = std::path::absolute(&alerts).unwrap();
    assert_eq!(
        c.channel,
        intake_channels::follow(&key.to_string_lossy()),
        "{c:?}"
    );
    assert_eq!(
        (c.format.as_str(), c.received, c.deduplicated, c.dropped),
        ("wazuh", s.received, 0, s.dropped)
    );

    // Mapped like `ingest --format wazuh`: the first alert's incident.
    let first = detections.iter().find(|d| d.key == "5712 / web-000");
    let first = first.unwrap_or_else(|| panic!("keys: {keys:?}"));
    let id = first.incident.clone().unwrap();
    let inc = incidents.iter().find(|i| i.id.as_str() == id).unwrap();
    assert_eq!(
        inc.title,
        "sshd: brute force trying to get access to the system. (web-000)"
    );
    assert_eq!(inc.severity, Severity::P2, "rule.level 10");
    assert_eq!(inc.source, Source::Siem);
    assert_eq!(
        inc.detected_at,
        Utc.timestamp_opt(1_795_946_400, 0).unwrap(),
        "the alert's +0000 timestamp"
    );
    assert!(inc.summary.contains("203.0.113.1"), "{}", inc.summary);
    assert!(inc.summary.contains("Failed password"), "{}", inc.summary);
    let from = store.incident_intake(&id).unwrap();
    assert_eq!(from.len(), 1);
    assert_eq!(
        (
            from[0].intake.as_str(),
            from[0].format.as_str(),
            from[0].alerts
        ),
        ("wazuh", "wazuh", 1)
    );
    assert_eq!(from[0].channel, c.channel);

    // `ingest --stats` shows the same, per way in.
    drop(store);
    let stats = env.json(&["ingest", "--stats"]);
    let way = &stats[0]["channels"][0];
    assert_eq!(way["channel"], c.channel.as_str());
    assert_eq!(way["received"].as_u64(), Some(ALERTS + low + bad));
    assert_eq!(way["dropped"].as_u64(), Some(low + bad));
    let text = env.ok(&["ingest", "--stats"]);
    assert!(text.contains(&format!("  via {}: ", c.channel)), "{text}");
}

/// The follower alone: a line without its newline waits for it; a bad
/// line is counted as dropped with its reason and the next line is read.
#[test]
fn a_partial_alert_line_waits_for_its_newline_and_a_bad_one_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.json");
    let db = dir.path().join("w.db");
    let mut store = Store::open(&db).unwrap();
    let mut config = FollowConfig::new(Vec::new());
    config.from_beginning = true;
    config.intake = vec![IntakeFollow::wazuh(
        alerts.clone(),
        Mapping::default_for(Format::Wazuh),
    )];
    let engine = Engine::new(Arc::new(RuleSet::builtin()), 100);
    let state = store.load_watch_state("w").unwrap();
    let mut f = Follower::new(engine, config, &state, system_clock());
    let playbook = Playbook::builtin();
    let round = |f: &mut Follower, store: &mut Store| {
        f.poll();
        let batch = f.take_batch("w");
        let now = Utc::now();
        store
            .commit_watch_batch(&batch, &playbook, "watch", "host1", now)
            .unwrap();
    };
    let line = wazuh_line(1, 12);
    let (head, tail) = line.split_at(line.len() / 2);
    fs::write(&alerts, head).unwrap();
    round(&mut f, &mut store);
    assert!(store.detections(false).unwrap().is_empty(), "half a line");
    let cps = store.watch_checkpoints("w").unwrap();
    assert_eq!(cps.len(), 1);
    assert_eq!(
        cps[0].offset, 0,
        "the checkpoint stays before the partial line"
    );

    let mut file = OpenOptions::new().append(true).open(&alerts).unwrap();
    write!(file, "{tail}\nnot json at all\n").unwrap();
    round(&mut f, &mut store);
    let d = store.detections(false).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::P1, "rule.level 12");
    let s = &store.intake_stats().unwrap()[0];
    assert_eq!((s.received, s.dropped, s.deduplicated), (2, 1, 0));
    let e = s.last_error.as_deref().unwrap();
    assert!(
        e.contains("alerts.json: line not read as an alert: not JSON"),
        "{e}"
    );
    assert!(s.last_error_at.is_some());
    let cps = store.watch_checkpoints("w").unwrap();
    assert_eq!(cps[0].offset, fs::metadata(&alerts).unwrap().len());
}

/// On a first start from the beginning, a compressed rotation beside the
/// alerts file is read once as alerts too (never as rule input), beside a
/// log followed as usual.
#[test]
fn a_compressed_rotation_of_the_alerts_file_is_read_as_alerts() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.json");
    let mut gz = GzEncoder::new(
        File::create(dir.path().join("alerts.json.1.gz")).unwrap(),
        Compression::default(),
    );
    writeln!(gz, "{}", wazuh_line(1, 10)).unwrap();
    gz.finish().unwrap();
    fs::write(&alerts, format!("{}\n", wazuh_line(2, 10))).unwrap();
    let log = dir.path().join("auth.log");
    fs::write(
        &log,
        "2026-12-02T10:00:00Z web-01 sshd[1]: Accepted password for root from 203.0.113.9 port 22 ssh2\n",
    )
    .unwrap();

    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let mut config = FollowConfig::new(vec![log.clone()]);
    config.from_beginning = true;
    config.intake = vec![IntakeFollow::wazuh(
        alerts.clone(),
        Mapping::default_for(Format::Wazuh),
    )];
    let engine = Engine::new(Arc::new(RuleSet::builtin()), 100);
    let state = store.load_watch_state("w").unwrap();
    let mut f = Follower::new(engine, config, &state, system_clock());
    while f.poll() {}
    let batch = f.take_batch("w");
    store
        .commit_watch_batch(&batch, &Playbook::builtin(), "watch", "h", Utc::now())
        .unwrap();
    let mut keys: Vec<String> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .filter(|d| d.rule == "wazuh")
        .map(|d| d.key)
        .collect();
    keys.sort();
    assert_eq!(keys, ["5712 / web-001", "5712 / web-002"]);
    assert_eq!(store.intake_stats().unwrap()[0].dropped, 0);
    assert_eq!(f.lines(), 3, "the rotation, the alerts file and the log");
}
