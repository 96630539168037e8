//! Issue 11's rule options through the real binary: `evidence_lines`
//! (per rule and per file, checked with file:line:col), `digest` (refused
//! where it could never send), and watch.toml's `[ignore]` allowlist.

mod common;

use std::path::{Path, PathBuf};

use common::Env;
use serde_json::Value;

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
