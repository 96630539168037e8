//! The shipped failure events against a peer's own annotated test data:
//! fail2ban's sample logs for sshd and dropbear (Debian package `fail2ban`,
//! read where it installs them; not copied here). Every line that
//! fail2ban's normal-mode filter must match, with a host, is matched by one
//! of warroom's failure events with the same source address; every line it
//! must not match stays unmatched. The few deliberate differences are
//! listed below with their reasons.

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::Value;
use warroom::detect::RuleSet;
use warroom::detect::logline::{YearInference, prepare};

/// The events that stand for a failed login (what fail2ban's filters count).
const FAILURE_EVENTS: &[&str] = &[
    "failed_logins",
    "failed_session_end",
    "invalid_user",
    "dropbear_failure",
];

/// Lines fail2ban counts that warroom deliberately does not (or counts
/// differently), each with why.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "Disconnecting: Too many authentication failures",
        "the address is on an earlier line of the same connection; fail2ban joins lines by pid, warroom matches each line alone (and the attempts themselves are counted as they happen)",
    ),
    (
        "sshd[8148]: Connection closed by 61.0.0.1 [preauth]",
        "a failure only because of the earlier 'Too many authentication failures' line of the same pid (fail2ban's multi-line state); alone it is an ordinary close",
    ),
    (
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=sudoer",
        "fail2ban counts a PAM failure only once the same connection switches user (multi-line state); sshd's own 'Failed password' line is what warroom counts",
    ),
    (
        "Accepted password for known from",
        "an accepted login is never a failure for warroom; fail2ban reports the earlier PAM failures of the connection at this line",
    ),
];

fn logs_dir() -> Option<PathBuf> {
    [
        "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs",
        "/usr/share/fail2ban/tests/files/logs",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("sshd").is_file())
}

/// Normal mode: an option set without a `mode` (or mode normal).
fn normal_mode(options: &Value) -> bool {
    let sets: Vec<&Value> = match options {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    sets.iter()
        .any(|o| o.get("mode").is_none_or(|m| m == "normal"))
}

/// fail2ban's constraints, evaluated in normal mode for the named filter.
fn constraint_holds(c: &str, filter: &str) -> bool {
    let c = c.trim();
    if let Some(rest) = c.strip_prefix("opts.get('mode')") {
        let rest = rest.trim();
        let (eq, value) = if let Some(v) = rest.strip_prefix("==") {
            (true, v)
        } else if let Some(v) = rest.strip_prefix("!=") {
            (false, v)
        } else {
            panic!("unknown constraint {c:?}");
        };
        let value = value.trim().trim_matches('\'');
        return (value == "normal") == eq;
    }
    if let Some(v) = c.strip_prefix("name ==") {
        return v.trim().trim_matches('\'') == filter;
    }
    panic!("unknown constraint {c:?}: teach this test to read it");
}

struct Sample {
    line: String,
    lineno: usize,
    matches: bool,
    host: Option<String>,
}

fn samples(path: &Path, filter: &str) -> Vec<Sample> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut normal = true;
    let mut pending: Option<Value> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(opts) = line.strip_prefix("# filterOptions:") {
            let v: Value = serde_json::from_str(opts.trim()).unwrap();
            normal = normal_mode(&v);
            continue;
        }
        if let Some(j) = line.strip_prefix("# failJSON:") {
            pending = Some(serde_json::from_str(j.trim()).unwrap());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some(note) = pending.take() else { continue };
        if !normal {
            continue;
        }
        if let Some(c) = note.get("constraint").and_then(Value::as_str)
            && !constraint_holds(c, filter)
        {
            continue;
        }
        out.push(Sample {
            line: line.to_string(),
            lineno: i + 1,
            matches: note["match"] == true,
            host: note.get("host").and_then(Value::as_str).map(String::from),
        });
    }
    out
}

/// The source address of the first failure event matching the line.
fn failure_source(set: &RuleSet, line: &str) -> Option<(String, String)> {
    let mut years = YearInference::new(Utc::now());
    let l = prepare(line.as_bytes(), &mut years);
    for ev in set
        .events
        .iter()
        .filter(|e| FAILURE_EVENTS.contains(&e.name.as_str()))
    {
        for p in &ev.patterns {
            if let Some(c) = p.captures(&l.text) {
                let src = c.name("src").map_or("", |m| m.as_str()).to_string();
                return Some((ev.name.clone(), src));
            }
        }
    }
    None
}

#[test]
fn shipped_failure_events_agree_with_fail2ban_annotated_samples() {
    let Some(dir) = logs_dir() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "fail2ban's sample logs are missing in CI: .ci/run installs the Debian package fail2ban"
            );
        }
        eprintln!(
            "SKIPPED: fail2ban's sample logs not found (apt-get install fail2ban to run this cross-check)"
        );
        return;
    };
    let set = RuleSet::builtin();
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    let mut failures = Vec::new();
    let (mut checked_true, mut checked_false, mut differing) = (0, 0, 0);
    for filter in ["sshd", "dropbear"] {
        for s in samples(&dir.join(filter), filter) {
            if let Some((_, why)) = DIFFERENCES
                .iter()
                .find(|(l, _)| s.matches && s.host.is_some() && s.line.contains(l))
            {
                assert!(!why.is_empty());
                differing += 1;
                continue;
            }
            let got = failure_source(&set, &s.line);
            let at = format!("{filter}:{}: {}", s.lineno, s.line);
            match (s.matches, &s.host, got) {
                (true, Some(host), Some((_, src))) => {
                    checked_true += 1;
                    if &src != host {
                        failures.push(format!("{at}\n    source {src:?}, fail2ban says {host:?}"));
                    }
                }
                (true, Some(host), None) => {
                    checked_true += 1;
                    failures.push(format!("{at}\n    not matched, fail2ban takes {host:?}"));
                }
                (true, None, _) => {}
                (false, _, Some((event, src))) => {
                    checked_false += 1;
                    failures.push(format!(
                        "{at}\n    matched by {event} ({src}), fail2ban does not count it"
                    ));
                }
                (false, _, None) => checked_false += 1,
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with fail2ban:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The files were read: most annotated lines were compared.
    assert!(
        checked_true >= 60,
        "only {checked_true} matching lines compared"
    );
    assert!(
        checked_false >= 20,
        "only {checked_false} non-matching lines compared"
    );
    assert!(
        differing <= 6,
        "{differing} lines skipped as deliberate differences"
    );
    eprintln!(
        "{checked_true} matches and {checked_false} non-matches agree; {differing} deliberate differences"
    );
}

#[test]
fn injected_addresses_do_not_become_the_source() {
    let set = RuleSet::builtin();
    let cases = [
        (
            "Dec  2 14:31:05 h sshd-session[1]: Failed password for x from 6.6.6.6 port 1 ssh2 from 203.0.113.5 port 2 ssh2",
            "203.0.113.5",
        ),
        (
            "Dec  2 14:31:05 h sshd-session[1]: Failed publickey for invalid user git from 203.0.113.6 port 22 ssh2: ED25519 SHA256:abc",
            "203.0.113.6",
        ),
        (
            "Dec  2 14:31:05 h dropbear[1]: Bad password attempt for 'r' from 6.6.6.6:1' from 203.0.113.7:5555",
            "203.0.113.7",
        ),
    ];
    for (line, src) in cases {
        assert_eq!(
            failure_source(&set, line).map(|(_, s)| s).as_deref(),
            Some(src),
            "{line}"
        );
    }
    let mut years = YearInference::new(Utc::now());
    let probe = prepare(
        b"Jun 7 01:11:58 host sshd[8783]: Bad protocol version identification 'dummy string' from 192.0.2.1' from 69.61.56.115 port 31778",
        &mut years,
    );
    let ev = set.events.iter().find(|e| e.name == "port_probe").unwrap();
    let c = ev
        .patterns
        .iter()
        .find_map(|p| p.captures(&probe.text))
        .unwrap();
    assert_eq!(&c["src"], "69.61.56.115");
    // A real account's publickey failure is one of the keys a client
    // offers in turn: not counted.
    assert_eq!(
        failure_source(
            &set,
            "Dec  2 14:31:05 h sshd-session[1]: Failed publickey for git from 192.0.2.1 port 57904 ssh2: RSA SHA256:abc"
        ),
        None
    );
}
