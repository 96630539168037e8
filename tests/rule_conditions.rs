//! Allowlists, sequence ("failures then success") and distinct-count
//! conditions through the real binary: `scan` and `watch`, fire and
//! non-fire cases at their boundaries.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use warroom::store::Store;

/// Failures and accepted logins, keyed by source address.
const EVENTS: &str = r#"
events:
  fail:
    match: 'sshd\[\d+\]: Failed password for (?:invalid user )?(?P<user>\S+) from (?P<src>\S+)'
  accepted:
    match: 'sshd\[\d+\]: Accepted \S+ for (?P<user>\S+) from (?P<src>[0-9A-Fa-f.:]+)'
"#;

/// `Dec  1 HH:MM:SS` after `secs` seconds, a syslog line.
fn line(secs: u32, msg: &str) -> String {
    format!(
        "Dec  1 {:02}:{:02}:{:02} bastion sshd[42]: {msg}\n",
        10 + secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn write(env: &Env, name: &str, text: &str) -> std::path::PathBuf {
    let p = env.dir.path().join(name);
    fs::write(&p, text).unwrap();
    p
}

/// `scan --json` detections as (rule, key, count).
fn scan(env: &Env, rules: &Path, log: &Path) -> Vec<(String, String, u64)> {
    env.ok(&[
        "scan",
        "--json",
        "--rules",
        rules.to_str().unwrap(),
        "--",
        log.to_str().unwrap(),
    ])
    .lines()
    .map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        (
            v["rule"].as_str().unwrap().to_string(),
            v["key"].as_str().unwrap().to_string(),
            v["count"].as_u64().unwrap(),
        )
    })
    .collect()
}

const ALLOW_RULES: &str = r#"
ignore: [10.0.0.0/8, '2001:db8::/32']
ignore_lines: ['for nagios from']
rules:
  - rule: burst
    condition: fail >= 3 in 1 minute
    ignore: [scanner.example.com, 192.0.2.7]
"#;

/// Three failures a second apart from each of these sources.
const SOURCES: [&str; 7] = [
    "10.0.0.1",            // global range
    "11.0.0.1",            // just past it: fires
    "2001:db8::1",         // global IPv6 range
    "2001:db9::1",         // just past it: fires
    "scanner.example.com", // the rule's exact key
    "192.0.2.7",           // the rule's single address
    "192.0.2.8",           // the next one: fires
];

fn allow_log() -> String {
    let mut log = String::new();
    for (i, src) in SOURCES.iter().enumerate() {
        for k in 0..3 {
            let secs = i as u32 * 100 + k;
            log.push_str(&line(
                secs,
                &format!("Failed password for root from {src} port 1 ssh2"),
            ));
        }
    }
    // Ignored by line: three nagios failures from a source that would fire.
    for k in 0..3 {
        log.push_str(&line(
            900 + k,
            "Failed password for nagios from 8.8.8.8 port 1 ssh2",
        ));
    }
    log
}

#[test]
fn scan_skips_allowlisted_addresses_ranges_keys_and_lines_and_counts_them() {
    let env = Env::new();
    let rules = write(&env, "rules.yml", &format!("{EVENTS}{ALLOW_RULES}"));
    let log = write(&env, "auth.log", &allow_log());
    let mut got = scan(&env, &rules, &log);
    got.sort();
    let keys: Vec<&str> = got.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(keys, ["11.0.0.1", "192.0.2.8", "2001:db9::1"], "{got:?}");
    // The text form counts what was ignored: 5 sources x 3 + 3 nagios.
    let text = env.ok(&[
        "scan",
        "--rules",
        rules.to_str().unwrap(),
        "--",
        log.to_str().unwrap(),
    ]);
    let row = text
        .lines()
        .find(|l| l.starts_with("burst"))
        .unwrap_or_else(|| panic!("no row for the rule: {text}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols, ["burst", "24", "15", "3"], "{text}");
    assert!(text.contains("IGNORED"), "{text}");
}

#[test]
fn rules_check_points_at_a_bad_range_or_regex() {
    let env = Env::new();
    let rules = write(
        &env,
        "rules.yml",
        &format!(
            "{EVENTS}ignore: [10.0.0.0/8, 300.1.2.3/8]\nrules:\n  - rule: r\n    condition: fail\n    ignore_lines: ['a(']\n"
        ),
    );
    let out = env.run(&["rules", "check", rules.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("rules.yml:7:22: '300.1.2.3/8' is not an address range"),
        "{text}"
    );
    assert!(text.contains("rules.yml:11:20: r: bad regex"), "{text}");
}

/// `warroom watch` on `log` with `rules`, from the beginning.
fn spawn_watch(env: &Env, rules: &Path, log: &Path) -> Child {
    env.cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50", "--rules"])
        .arg(rules)
        .arg("--")
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start warroom watch")
}

/// Waits until the watcher committed `log` to its end.
fn wait_caught_up(db: &Path, log: &Path) {
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
            started.elapsed() < Duration::from_secs(60),
            "the watcher did not catch up with {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM, then stdout and stderr (exit 0 expected).
fn stop(child: Child) -> (String, String) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// (rule, key, count) of every committed detection.
fn committed(db: &Path) -> Vec<(String, String, u64)> {
    let store = Store::open(db).unwrap();
    let mut v: Vec<_> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.rule, d.key, d.count))
        .collect();
    v.sort();
    v
}

#[test]
fn watch_skips_allowlisted_hits_and_says_how_many() {
    let env = Env::new();
    let rules = write(&env, "rules.yml", &format!("{EVENTS}{ALLOW_RULES}"));
    let log = write(&env, "auth.log", "");
    let child = spawn_watch(&env, &rules, &log);
    fs::write(&log, allow_log()).unwrap();
    wait_caught_up(&env.db(), &log);
    let (_, stderr) = stop(child);
    let keys: Vec<String> = committed(&env.db()).into_iter().map(|d| d.1).collect();
    assert_eq!(keys, ["11.0.0.1", "192.0.2.8", "2001:db9::1"]);
    assert!(
        stderr.contains("ignored 15 hit(s) of burst (allowlisted)"),
        "{stderr}"
    );
    let incidents = env.json(&["incident", "list"]);
    assert_eq!(incidents.as_array().map(Vec::len), Some(3), "{incidents}");
}

/// `n` failures from `src` a second apart from `at`, as sshd-session logs them.
fn failures(src: &str, at: u32, n: u32) -> String {
    (0..n)
        .map(|k| {
            line(
                at + k,
                &format!("Failed password for root from {src} port 4{k} ssh2"),
            )
            .replace("sshd[42]", "sshd-session[42]")
        })
        .collect()
}

fn accepted(src: &str, at: u32) -> String {
    line(
        at,
        &format!("Accepted password for root from {src} port 5000 ssh2"),
    )
}

/// Keys of the shipped rule's detections in a `scan` of `log`.
fn worked(env: &Env, log: &str, rule: &str) -> Vec<(String, u64)> {
    let path = write(env, "auth.log", log);
    env.ok(&["scan", "--json", path.to_str().unwrap()])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["rule"] == rule)
        .map(|v| {
            assert_eq!(
                v["severity"],
                if rule.contains("worked") { "P1" } else { "P3" }
            );
            (
                v["key"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

const WORKED: &str = "SSH brute force that worked";

#[test]
fn the_shipped_sequence_fires_at_its_boundaries_only() {
    let env = Env::new();
    // Exactly 5 failures, then success 10 minutes after the fifth: fires.
    let log = failures("203.0.113.5", 0, 5) + &accepted("203.0.113.5", 4 + 600);
    assert_eq!(worked(&env, &log, WORKED), [("203.0.113.5".into(), 6)]);
    // 4 failures then success: no.
    let log = failures("203.0.113.5", 0, 4) + &accepted("203.0.113.5", 10);
    assert_eq!(worked(&env, &log, WORKED), []);
    // Success before the failures: no.
    let log = accepted("203.0.113.5", 0) + &failures("203.0.113.5", 1, 20);
    assert_eq!(worked(&env, &log, WORKED), []);
    // Success a second past 10 minutes after the fifth failure: no.
    let log = failures("203.0.113.5", 0, 5) + &accepted("203.0.113.5", 4 + 601);
    assert_eq!(worked(&env, &log, WORKED), []);
    // Success from another address: no.
    let log = failures("203.0.113.5", 0, 5) + &accepted("203.0.113.6", 10);
    assert_eq!(worked(&env, &log, WORKED), []);
}

#[test]
fn the_shipped_dropbear_sequence_fires() {
    let env = Env::new();
    let bad = |s: u32| {
        line(s, "Bad password attempt for 'root' from 198.51.100.7:5000")
            .replace("sshd[42]", "dropbear[9]")
    };
    let ok = |s: u32| {
        line(
            s,
            "Password auth succeeded for 'root' from 198.51.100.7:5001",
        )
        .replace("sshd[42]", "dropbear[10]")
    };
    let rule = "dropbear brute force that worked";
    let log: String = (0..5).map(bad).collect::<String>() + &ok(30);
    assert_eq!(worked(&env, &log, rule), [("198.51.100.7".into(), 6)]);
    let log: String = (0..4).map(bad).collect::<String>() + &ok(30);
    assert_eq!(worked(&env, &log, rule), []);
}

#[test]
fn the_shipped_distinct_rule_fires_at_ten_user_names_not_nine() {
    let env = Env::new();
    let tries = |names: u32, spread: u32| -> String {
        (0..names)
            .flat_map(|u| {
                // Each name twice: the count is attempts, the condition names.
                [0, 1].map(|k| {
                    line(
                        u * spread + k,
                        &format!(
                            "Failed password for invalid user guest{u} from 192.0.2.9 port 1 ssh2"
                        ),
                    )
                })
            })
            .collect()
    };
    let rule = "SSH user name spraying";
    assert_eq!(worked(&env, &tries(9, 5), rule), []);
    assert_eq!(
        worked(&env, &tries(10, 5), rule),
        [("192.0.2.9".into(), 20)]
    );
    // Ten names over more than 10 minutes: no.
    assert_eq!(worked(&env, &tries(10, 70), rule), []);
}

/// SIGKILL: nothing committed after it.
fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_sequence_half_seen_before_a_watcher_restart_completes_after_it() {
    for hard in [false, true] {
        let env = Env::new();
        let log = write(&env, "auth.log", "");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/rules/linux.yml");
        let child = spawn_watch(&env, &shipped, &log);
        fs::write(&log, failures("203.0.113.5", 0, 5)).unwrap();
        wait_caught_up(&env.db(), &log);
        if hard {
            kill(child);
        } else {
            stop(child);
        }
        assert!(
            committed(&env.db()).iter().all(|d| d.0 != WORKED),
            "failures alone never fire"
        );
        // The success comes while no watcher runs; the next one reads it
        // with the armed state it restored.
        let mut text = fs::read_to_string(&log).unwrap();
        text.push_str(&accepted("203.0.113.5", 60));
        fs::write(&log, &text).unwrap();
        let child = spawn_watch(&env, &shipped, &log);
        wait_caught_up(&env.db(), &log);
        let (stdout, _) = stop(child);
        let got: Vec<_> = committed(&env.db())
            .into_iter()
            .filter(|d| d.0 == WORKED)
            .collect();
        assert_eq!(
            got,
            [(WORKED.to_string(), "203.0.113.5".to_string(), 6)],
            "hard={hard}"
        );
        assert!(
            stdout.contains("P1 SSH brute force that worked"),
            "{stdout}"
        );
    }
}

#[test]
fn the_watchers_status_counts_ignored_hits_per_rule_for_the_console() {
    use std::sync::Arc;
    use warroom::detect::follow::{FollowConfig, Follower, system_clock};
    use warroom::detect::{Engine, RuleSet};
    use warroom::store::WatchState;

    let env = Env::new();
    let rules = write(&env, "rules.yml", &format!("{EVENTS}{ALLOW_RULES}"));
    let log = write(&env, "auth.log", &allow_log());
    let set = RuleSet::load(&[rules]);
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    let mut config = FollowConfig::new(vec![std::path::absolute(&log).unwrap()]);
    config.from_beginning = true;
    let mut follower = Follower::new(
        Engine::new(Arc::new(set), 100),
        config,
        &WatchState::default(),
        system_clock(),
    );
    while follower.poll() {}
    let status = follower.status();
    assert_eq!(status.rules, [("burst".to_string(), 24)]);
    assert_eq!(status.ignored, [("burst".to_string(), 15)]);
}
