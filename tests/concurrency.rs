//! Several processes writing one database at once, and a writer killed with
//! SIGKILL at random moments. The worker processes are this test binary
//! re-executed with `WARROOM_TEST_WORKER` set (see `worker` below).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use warroom::domain::playbook::ItemState;
use warroom::domain::roles::Role;
use warroom::domain::{IncidentId, Playbook, Severity};
use warroom::store::{IncidentPatch, NewIncident, Store};

/// Not a test of its own: the body of a worker process. Writes `WORKER_N`
/// changes (a mix of every kind of write) to `WORKER_DB`, printing
/// `COMMITTED <seq> <hash>` after each commit returns.
#[test]
#[ignore = "runs only as a child process of the tests below"]
fn worker() {
    let Ok(db) = std::env::var("WARROOM_TEST_WORKER") else {
        return;
    };
    let n: usize = std::env::var("WORKER_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250);
    let name = std::env::var("WORKER_NAME").unwrap_or_else(|_| "worker".into());
    let mut store = match Store::open(Path::new(&db)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ERROR open: {e}");
            std::process::exit(3);
        }
    };
    let playbook = Playbook::builtin();
    let out = std::io::stdout();
    let mut id: Option<IncidentId> = None;
    for i in 0..n {
        let now = Utc::now();
        let result = match (&id, i % 5) {
            (None, _) | (_, 0) => store
                .create_incident(
                    &NewIncident::new(format!("{name} #{i}"), Severity::P2),
                    &playbook,
                    &name,
                    now,
                )
                .map(|inc| {
                    id = Some(inc.id);
                }),
            (Some(id), 1) => store
                .add_note(id, &format!("{name} note {i}"), &name, now)
                .map(drop),
            (Some(id), 2) => store
                .set_checklist_item(id, "contain.isolate", ItemState::Done, None, &name, now)
                .map(drop),
            (Some(id), 3) => store
                .assign_role(id, Role::Commander, &format!("{name}-{i}"), &name, now)
                .map(drop),
            (Some(id), _) => {
                let sev = if i % 2 == 0 {
                    Severity::P1
                } else {
                    Severity::P3
                };
                let patch = IncidentPatch {
                    severity: Some(sev),
                    ..Default::default()
                };
                store.update_incident(id, &patch, &name, now).map(drop)
            }
        };
        if let Err(e) = result {
            eprintln!("ERROR change {i}: {e}");
            std::process::exit(4);
        }
        // Only this worker writes to its current incident, so that
        // incident's newest event is the one just committed.
        let Some(current) = &id else { continue };
        let newest = store
            .timeline(current.as_str(), Some(1))
            .unwrap_or_default();
        if let Some(ev) = newest.first() {
            let mut lock = out.lock();
            let _ = writeln!(lock, "COMMITTED {} {}", ev.seq, ev.hash);
            let _ = lock.flush();
        }
    }
}

fn spawn_worker(db: &Path, name: &str, n: usize) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "worker",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WARROOM_TEST_WORKER", db)
        .env("WORKER_N", n.to_string())
        .env("WORKER_NAME", name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn worker")
}

#[test]
fn four_processes_making_250_changes_each_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    // Create the schema first so the workers race on changes, not on setup
    // (racing on setup is covered by the crash test's first runs).
    drop(Store::open(&db).unwrap());
    let children: Vec<_> = (0..4)
        .map(|w| spawn_worker(&db, &format!("w{w}"), 250))
        .collect();
    let mut committed = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "worker failed: {stderr}");
        assert!(
            !stderr.contains("locked") && !stderr.contains("ERROR"),
            "{stderr}"
        );
        committed += String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("COMMITTED "))
            .count();
    }
    assert_eq!(committed, 1000);

    let store = Store::open(&db).unwrap();
    let report = store.verify_chain().unwrap();
    assert_eq!(report.failure, None);
    // Naming an incident's first commander also acknowledges it: one more
    // event, once per incident.
    let mut acks = 0;
    for i in store.incidents(true).unwrap() {
        let n = store
            .timeline(i.id.as_str(), None)
            .unwrap()
            .iter()
            .filter(|e| e.kind == "incident.acknowledged")
            .count();
        assert!(n <= 1, "{} acknowledged {n} times", i.id);
        acks += n;
    }
    assert_eq!(
        report.events,
        1000 + acks as u64,
        "every change appended exactly one event (and each first commander one acknowledgement)"
    );
    let mut seqs: Vec<i64> = store
        .recent_events(2000)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    seqs.sort();
    assert_eq!(seqs, (1..=report.events as i64).collect::<Vec<_>>());
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);

    // Ids were unique and sequential across the processes.
    let incidents = store.incidents(true).unwrap();
    assert_eq!(incidents.len(), 200);
    let mut nums: Vec<u32> = incidents.iter().map(|i| i.id.parts().unwrap().1).collect();
    nums.sort();
    assert_eq!(nums, (1..=200).collect::<Vec<_>>());
}

/// A small xorshift generator: reproducible from the printed seed, and no
/// dependency for one test.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn a_writer_killed_at_random_moments_loses_no_reported_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    eprintln!("crash test seed: {seed} (set CRASH_SEED to replay)");
    let mut rng = Rng(seed);
    let mut reported: Vec<(i64, String)> = Vec::new();
    let started = Instant::now();
    for round in 0..200 {
        let mut child = spawn_worker(&db, &format!("k{round}"), 100_000);
        let stdout = child.stdout.take().unwrap();
        // Kill after a random delay: sometimes during start-up and schema
        // creation, mostly in the middle of a stream of commits.
        let delay = Duration::from_micros(rng.below(40_000));
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    // libtest may print "test worker ... " on the same line first.
                    let mut p = l[l.find("COMMITTED ")? + 10..].split(' ');
                    Some((p.next()?.parse::<i64>().ok()?, p.next()?.to_string()))
                })
                .collect::<Vec<_>>()
        });
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        reported.extend(reader.join().unwrap());
    }
    eprintln!(
        "200 kills in {:?}; {} commits reported",
        started.elapsed(),
        reported.len()
    );
    assert!(
        !reported.is_empty(),
        "the writer never got to commit: the test proves nothing"
    );

    let store = Store::open(&db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    let report = store.verify_chain().unwrap();
    assert_eq!(report.failure, None, "chain verifies after 200 kills");
    let all = store.recent_events(usize::MAX >> 1).unwrap();
    for (seq, hash) in &reported {
        let ev = all.iter().find(|e| e.seq == *seq);
        assert_eq!(
            ev.map(|e| e.hash.as_str()),
            Some(hash.as_str()),
            "reported commit {seq} is missing or changed"
        );
    }
}
