//! Issue 11's rule options through the real binary: `evidence_lines`
//! (per rule and per file, checked with file:line:col), `digest` (refused
//! where it could never send), and watch.toml's `[ignore]` allowlist.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use serde_json::Value;
use warroom::store::Store;

/// `n` sshd failures from `src`, one a second from 10:00:00.
fn failures(src: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "Mar  1 10:{:02}:{:02} bastion-1 sshd[{}]: Failed password for root from {src} port {} ssh2\n",
                i / 60,
                i % 60,
                4000 + i,
                30000 + i
            )
        })
        .collect()
}

const EVENTS: &str = r#"events:
  failed_login:
    match:
      - 'sshd\[\d+\]: Failed password for (?P<user>\S+) from (?P<src>\S+)'
"#;

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The text of each incident's latest evidence excerpt, by title.
fn excerpts(env: &Env) -> Vec<(String, String)> {
    let list = env.json(&["incident", "list"]);
    let mut out = Vec::new();
    for row in list.as_array().unwrap() {
        let id = row["id"].as_str().unwrap();
        let report: Value =
            serde_json::from_str(&env.ok(&["report", id, "--format", "json"])).unwrap();
        let text = report["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|e| e["kind"] == "excerpt")
            .and_then(|e| e["content"].as_str().or(e["text"].as_str()))
            .unwrap_or_default()
            .to_string();
        out.push((row["title"].as_str().unwrap().to_string(), text));
    }
    out.sort();
    out
}

fn scan_commit(env: &Env, rules: &Path, log: &Path) -> String {
    env.ok(&[
        "scan",
        "--commit",
        "--rules",
        rules.to_str().unwrap(),
        "--",
        log.to_str().unwrap(),
    ])
}

#[test]
fn evidence_lines_bound_each_rules_excerpt_and_a_file_sets_the_default() {
    let env = Env::new();
    // "Tight" keeps 3 first and 3 latest lines, "Default" the file's 5;
    // "Roomy" asks for 50 itself.
    let rules = write(
        &env,
        "rules.yml",
        &format!(
            "{EVENTS}evidence_lines: 5
rules:
  - rule: Tight
    condition: failed_login >= 1 in 1 hour
    group_by: src
    evidence_lines: 3
  - rule: Default
    condition: failed_login >= 1 in 1 hour
    group_by: user
  - rule: Roomy
    condition: failed_login >= 1 in 1 hour
    group_by: global
    evidence_lines: 50
"
        ),
    );
    let log = write(&env, "auth.log", &failures("192.0.2.7", 30));
    scan_commit(&env, &rules, &log);
    let ex = excerpts(&env);
    assert_eq!(ex.len(), 3, "{ex:?}");
    let of = |prefix: &str| {
        ex.iter()
            .find(|(t, _)| t.starts_with(prefix))
            .map(|(_, x)| x.clone())
            .unwrap_or_else(|| panic!("no incident {prefix}: {ex:?}"))
    };
    let kept = |x: &str| x.lines().filter(|l| l.contains("sshd[")).count();
    let tight = of("Tight");
    assert_eq!(kept(&tight), 6, "{tight}");
    assert!(
        tight.contains("[... 24 more matching line(s) not kept ...]"),
        "{tight}"
    );
    assert!(
        tight.lines().next().unwrap().contains("sshd[4000]"),
        "{tight}"
    );
    assert!(
        tight.lines().last().unwrap().contains("sshd[4029]"),
        "{tight}"
    );
    let default = of("Default");
    assert_eq!(kept(&default), 10, "{default}");
    assert!(default.contains("[... 20 more"), "{default}");
    // 30 lines fit in 50 first ones: nothing is left out.
    let roomy = of("Roomy");
    assert_eq!(kept(&roomy), 30, "{roomy}");
    assert!(!roomy.contains("not kept"), "{roomy}");
}

#[test]
fn bad_evidence_lines_and_misplaced_digests_are_refused_with_their_place() {
    let env = Env::new();
    let rules = write(
        &env,
        "bad.yml",
        &format!(
            "{EVENTS}evidence_lines: 0
rules:
  - rule: Too many
    condition: failed_login >= 1 in 1 hour
    evidence_lines: 51
  - rule: Digest per key
    condition: failed_login >= 1 in 1 hour
    digest: 10m
  - rule: Digest too often
    condition: failed_login >= 1 in 1 hour
    incident: per_rule
    digest: 5s
  - rule: Fine
    condition: failed_login >= 1 in 1 hour
    incident: per_rule
    evidence_lines: 7
    digest: 10 minutes
"
        ),
    );
    let out = env.run(&["rules", "check", rules.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let at = |line: usize, col: usize, what: &str| {
        let place = format!("bad.yml:{line}:{col}");
        assert!(
            text.lines().any(|l| l.contains(&place) && l.contains(what)),
            "{place} {what:?} not in:\n{text}"
        );
    };
    at(
        5,
        17,
        "evidence_lines '0' must be a whole number from 1 to 50",
    );
    at(
        9,
        21,
        "evidence_lines '51' must be a whole number from 1 to 50",
    );
    at(
        12,
        13,
        "digest lists the new keys joining a campaign incident",
    );
    at(16, 13, "digest '5s' must be from 1 minute to 24 hours");
    assert!(
        text.lines()
            .any(|l| l.starts_with("loaded") && l.contains("Fine")),
        "the sound rule loads:\n{text}"
    );
    assert!(text.contains("1 rule(s) loaded, 4 problem(s)"), "{text}");
    // What loaded says what it keeps and sends.
    let out = env.run(&["rules", "check", "--json", rules.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fine = &report["loaded"][0];
    assert_eq!(fine["rule"], "Fine");
    assert_eq!(fine["incident"], "per_rule");
    assert_eq!(fine["evidence_lines"], 7);
    assert_eq!(fine["digest_seconds"], 600);
}

#[test]
fn only_campaign_rules_that_ask_for_a_digest_get_one_in_the_watch_loop() {
    let env = Env::new();
    let rules = write(
        &env,
        "digest.yml",
        &format!(
            "{EVENTS}rules:
  - rule: Brute
    condition: failed_login >= 5 in 1 minute
    incident: per_rule
    notify: [oncall]
    severity: P2
    digest: 10m
  - rule: Quiet campaign
    condition: failed_login >= 5 in 1 minute
    incident: per_rule
"
        ),
    );
    let set = warroom::detect::RuleSet::load(&[rules]);
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    let d = warroom::detect::watch::digest_rules(&set);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule, "Brute");
    assert_eq!(d[0].every, chrono::Duration::minutes(10));
    assert_eq!(d[0].notify, ["oncall"]);
}

/// Failures from an allowlisted bastion (192.0.2.7), a listed key and a
/// monitoring probe's lines, and from one attacker (198.51.100.9).
fn mixed_log(env: &Env) -> PathBuf {
    let mut text = failures("192.0.2.7", 12);
    text.push_str(&failures("198.51.100.9", 12));
    text.push_str(&failures("203.0.113.5", 12).replace("for root", "for nagios"));
    write(env, "auth.log", &text)
}

const PER_SOURCE: &str = "rules:
  - rule: Brute
    condition: failed_login >= 5 in 1 hour
    group_by: src
";

const WATCH_TOML_IGNORE: &str = "[ignore]
cidrs = [\"192.0.2.0/24\"]
keys = [\"bastion-1\"]
lines = ['for nagios from']
";

#[test]
fn scan_applies_a_watch_toml_allowlist_and_counts_what_it_ignored() {
    let env = Env::new();
    let rules = write(&env, "rules.yml", &format!("{EVENTS}{PER_SOURCE}"));
    let log = mixed_log(&env);
    let toml = write(&env, "watch.toml", WATCH_TOML_IGNORE);
    let args = |with: bool| {
        let mut a = vec![
            "scan".to_string(),
            "--rules".into(),
            rules.display().to_string(),
        ];
        if with {
            a.push("--watch-toml".into());
            a.push(toml.display().to_string());
        }
        a.push("--".into());
        a.push(log.display().to_string());
        a
    };
    let run = |with: bool| {
        let a = args(with);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        env.ok(&a)
    };
    // Without it: three sources, three detections.
    let plain = run(false);
    assert!(plain.contains("3 detection(s)"), "{plain}");
    // With it: the attacker alone; 24 hits counted as ignored.
    let listed = run(true);
    assert!(listed.contains("1 detection(s)"), "{listed}");
    assert!(listed.contains("198.51.100.9"), "{listed}");
    assert!(
        !listed.contains("192.0.2.7 ") && !listed.contains("203.0.113.5"),
        "{listed}"
    );
    let row = listed
        .lines()
        .find(|l| l.starts_with("Brute"))
        .unwrap_or_else(|| panic!("{listed}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1..], ["36", "24", "1"], "{row}");
    // A mistake in it stops the scan with its place.
    write(&env, "watch.toml", "[ignore]\ncidrs = [\"10.0.0.0/33\"]\n");
    let a = args(true);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    common::assert_fails(&env.run(&a), 1, "watch.toml:2:10: ignore.cidrs");
}

fn wait_caught_up(db: &Path, log: &Path) {
    let started = Instant::now();
    let key = std::path::absolute(log).unwrap();
    let len = std::fs::metadata(log).unwrap().len();
    let ino = std::fs::metadata(log).unwrap().ino();
    loop {
        if let Ok(store) = Store::open(db)
            && let Ok(cps) = store.watch_checkpoints("default")
            && cps
                .iter()
                .any(|c| Path::new(&c.path) == key && c.inode == ino && c.offset == len)
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the watcher did not catch up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(mut child: Child) -> String {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "watch ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn watch_applies_the_console_watch_toml_allowlist() {
    let env = Env::new();
    let rules = write(&env, "rules.yml", &format!("{EVENTS}{PER_SOURCE}"));
    let log = mixed_log(&env);
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(
        env.config_dir().join("watch.toml"),
        format!("logs = [\"{}\"]\n\n{WATCH_TOML_IGNORE}", log.display()),
    )
    .unwrap();
    let child = env
        .cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50", "--rules"])
        .arg(&rules)
        .arg("--")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_caught_up(&env.db(), &log);
    let stderr = stop(child);
    let store = Store::open(&env.db()).unwrap();
    let keys: Vec<String> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(keys, ["198.51.100.9"]);
    assert!(
        stderr.contains("ignored 24 hit(s) of Brute (allowlisted)"),
        "{stderr}"
    );
}

#[test]
fn a_campaigns_sources_are_in_incident_show_and_every_report_form() {
    let env = Env::new();
    let rules = write(
        &env,
        "rules.yml",
        &format!(
            "{EVENTS}rules:
  - rule: Spray
    condition: failed_login >= 2 in 1 hour
    group_by: src
    incident: per_rule
"
        ),
    );
    // 250 addresses, two failures each; the first one five.
    let mut text = failures("198.51.100.1", 5);
    for a in 2..=251 {
        text.push_str(&failures(&format!("203.0.{}.{}", a / 200, a % 200 + 1), 2));
    }
    let log = write(&env, "auth.log", &text);
    scan_commit(&env, &rules, &log);
    let list = env.json(&["incident", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["title"], "Spray from 251 addresses");

    let check = |sources: &Value, what: &str| {
        let sources = sources
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no sources"));
        assert_eq!(sources.len(), 251, "{what}");
        let top = &sources[0];
        assert_eq!(top["key"], "198.51.100.1", "{what}: most events first");
        assert_eq!(top["count"], 5, "{what}");
        assert_eq!(top["first_seen"], "2026-03-01T10:00:00.000Z", "{what}");
        assert_eq!(top["last_seen"], "2026-03-01T10:00:04.000Z", "{what}");
        assert!(sources[1..].iter().all(|s| s["count"] == 2), "{what}");
    };
    check(&env.show_json(&id)["sources"], "incident show --json");
    let report: Value =
        serde_json::from_str(&env.ok(&["report", &id, "--format", "json"])).unwrap();
    check(&report["sources"], "report --format json");
    for format in ["md", "html"] {
        let doc = env.ok(&["report", &id, "--format", format]);
        assert!(doc.contains("Sources"), "{format}");
        assert!(doc.contains("198.51.100.1"), "{format}");
        assert!(doc.contains("2026-03-01T10:00:04.000Z"), "{format}");
        assert!(doc.contains("First seen"), "{format}");
        // The text forms list the busiest 200 and say where the rest are.
        assert!(doc.contains("51 more source"), "{format}");
        assert!(
            doc.contains("all of them are in the JSON report"),
            "{format}"
        );
    }
}

/// The whole path under a real `warroom watch`: a campaign opens with one
/// alert; 25 keys join; a minute after the opening one digest names 20 of
/// them and counts 5 more, and is delivered through the default outbox.
/// The period is cut to 5 s through the watcher's test hook (a rule file
/// cannot go below a minute); the keys join well before it ends.
#[test]
fn watch_sends_one_digest_of_the_keys_that_joined_and_delivers_it() {
    let env = Env::new();
    let rules = write(
        &env,
        "rules.yml",
        &format!(
            "{EVENTS}rules:
  - rule: Brute
    condition: failed_login >= 2 in 1 hour
    group_by: src
    incident: per_rule
    action: [create_incident, notify]
    notify: [oncall@example.com]
    digest: 1m
"
        ),
    );
    let log = write(&env, "auth.log", &failures("198.51.100.1", 2));
    let child = env
        .cmd()
        .env("WARROOM_TEST_DIGEST_SECONDS", "5")
        .args(["watch", "--from-beginning", "--poll-ms", "50", "--rules"])
        .arg(&rules)
        .arg("--")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_caught_up(&env.db(), &log);
    // 25 more addresses join the open campaign.
    let mut more = String::new();
    for a in 2..=26 {
        more.push_str(&failures(&format!("198.51.100.{a}"), 2));
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, more.as_bytes()).unwrap();
    drop(f);
    wait_caught_up(&env.db(), &log);
    let started = Instant::now();
    let digest = loop {
        let store = Store::open(&env.db()).unwrap();
        let found = store
            .alerts_since(chrono::DateTime::UNIX_EPOCH)
            .unwrap()
            .into_iter()
            .find(|a| a.key.starts_with("digest:"));
        if let Some(d) = found
            && store
                .alert_deliveries(&d.key)
                .unwrap()
                .iter()
                .any(|x| x.state.as_str() == "delivered")
        {
            break d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "no digest delivered"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    stop(child);
    assert!(
        digest.text.contains("25 new addresses joined"),
        "{}",
        digest.text
    );
    assert!(digest.text.contains("and 5 more"), "{}", digest.text);
    assert_eq!(digest.recipient.as_deref(), Some("oncall@example.com"));
    let store = Store::open(&env.db()).unwrap();
    let alerts = store.alerts_since(chrono::DateTime::UNIX_EPOCH).unwrap();
    assert_eq!(
        alerts.len(),
        2,
        "the opening alert and one digest: {alerts:?}"
    );
    let id: warroom::domain::IncidentId = digest.incident_id.clone().unwrap().parse().unwrap();
    let timeline = store.timeline(id.as_str(), None).unwrap();
    assert_eq!(
        timeline
            .iter()
            .filter(|e| e.kind == "detect.digest")
            .count(),
        1
    );
}

#[test]
fn watch_keeps_the_evidence_lines_a_rule_asks_for() {
    let env = Env::new();
    let rules = write(
        &env,
        "rules.yml",
        &format!(
            "{EVENTS}rules:
  - rule: Tight
    condition: failed_login >= 1 in 1 hour
    group_by: src
    evidence_lines: 3
  - rule: Default
    condition: failed_login >= 1 in 1 hour
    group_by: user
"
        ),
    );
    let log = write(&env, "auth.log", &failures("192.0.2.7", 50));
    let child = env
        .cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50", "--rules"])
        .arg(&rules)
        .arg("--")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_caught_up(&env.db(), &log);
    stop(child);
    let ex = excerpts(&env);
    let kept = |x: &str| x.lines().filter(|l| l.contains("sshd[")).count();
    let (_, tight) = ex.iter().find(|(t, _)| t.starts_with("Tight")).unwrap();
    assert_eq!(kept(tight), 6, "{tight}");
    assert!(tight.contains("[... 44 more"), "{tight}");
    assert!(
        tight.lines().last().unwrap().contains("sshd[4049]"),
        "{tight}"
    );
    let (_, default) = ex.iter().find(|(t, _)| t.starts_with("Default")).unwrap();
    assert_eq!(kept(default), 40, "{default}");
    assert!(default.contains("[... 10 more"), "{default}");
}
