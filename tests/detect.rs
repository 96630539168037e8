//! The rule watcher's offline side through the real binary: `scan` on the
//! loghub corpus against an independent count, the Sigma corpus, `rules
//! check` positions, and hostile input.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Env, corpus};
use serde_json::Value;

fn scan_json(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["scan", "--json"];
    a.extend_from_slice(args);
    env.ok(&a)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// Seconds since Dec 1 00:00 for a `Dec 10 06:55:46` stamp (the corpus
/// lies within December), read without the engine's parser.
fn december_seconds(line: &str) -> Option<i64> {
    let mut parts = line.split_whitespace();
    if parts.next()? != "Dec" {
        return None;
    }
    let day: i64 = parts.next()?.parse().ok()?;
    let hms: Vec<i64> = parts
        .next()?
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    Some((day - 1) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
}

/// Same for the engine's RFC 3339 output (`2025-12-10T06:55:46.000Z`).
fn december_seconds_rfc3339(s: &str) -> i64 {
    let day: i64 = s[8..10].parse().unwrap();
    let h: i64 = s[11..13].parse().unwrap();
    let m: i64 = s[14..16].parse().unwrap();
    let sec: i64 = s[17..19].parse().unwrap();
    (day - 1) * 86_400 + h * 3600 + m * 60 + sec
}

#[test]
fn loghub_sshd_detections_match_an_independent_count() {
    let Some(log) = corpus("loghub/OpenSSH_2k.log") else {
        eprintln!("SKIP: ../shared/corpus is absent");
        return;
    };
    let text = std::fs::read_to_string(&log).unwrap();
    // Independent reading: each "Failed <method> for [invalid user] U from
    // SRC port" line is one failure, a "message repeated N times: [ Failed
    // ... ]" line is N failures.
    let mut per_src: BTreeMap<String, Vec<(i64, u64)>> = BTreeMap::new();
    for line in text.lines() {
        let Some(t) = december_seconds(line) else {
            continue;
        };
        let (body, n) = match line.find("message repeated ") {
            Some(i) => {
                let rest = &line[i + "message repeated ".len()..];
                let n: u64 = rest.split(' ').next().unwrap().parse().unwrap();
                (rest.split_once("[ ").map(|x| x.1).unwrap_or(""), n)
            }
            None => (line.split_once("]: ").map(|x| x.1).unwrap_or(""), 1),
        };
        if !body.starts_with("Failed ") {
            continue;
        }
        let Some(after_from) = body.split(" from ").nth(1) else {
            continue;
        };
        let src = after_from.split(' ').next().unwrap().to_string();
        per_src.entry(src).or_default().push((t, n));
    }
    // "more than 10 in 5 minutes": at each line, the failures within the
    // 300 s before it (inclusive); the first time that passes 10 opens a
    // detection that then counts every later failure from that source.
    let mut expected = BTreeMap::new();
    for (src, events) in &per_src {
        for (i, (t, _)) in events.iter().enumerate() {
            let start = events.iter().position(|(u, _)| t - u <= 300).unwrap();
            let in_window: u64 = events[start..=i].iter().map(|e| e.1).sum();
            if in_window > 10 {
                let count: u64 = events[start..].iter().map(|e| e.1).sum();
                expected.insert(
                    src.clone(),
                    (count, events[start].0, events.last().unwrap().0),
                );
                break;
            }
        }
    }
    assert!(
        expected.len() >= 3,
        "the corpus has brute-force bursts: {expected:?}"
    );

    let env = Env::new();
    let got: BTreeMap<String, (u64, i64, i64)> = scan_json(&env, &[log.to_str().unwrap()])
        .into_iter()
        .filter(|d| d["rule"] == "Multiple failed logins")
        .map(|d| {
            assert_eq!(d["severity"], "P2");
            assert_eq!(d["group_by"], "src");
            (
                d["key"].as_str().unwrap().to_string(),
                (
                    d["count"].as_u64().unwrap(),
                    december_seconds_rfc3339(d["first_seen"].as_str().unwrap()),
                    december_seconds_rfc3339(d["last_seen"].as_str().unwrap()),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn every_corpus_sigma_rule_loads_and_matches_a_line_of_its_own_keywords() {
    let Some(dir) = corpus("sigma-linux-builtin") else {
        eprintln!("SKIP: ../shared/corpus is absent");
        return;
    };
    let mut files = Vec::new();
    collect_yml(&dir, &mut files);
    files.sort();
    assert_eq!(files.len(), 22);

    let env = Env::new();
    let mut check = vec!["rules".to_string(), "check".to_string()];
    check.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    let args: Vec<&str> = check.iter().map(String::as_str).collect();
    let out = env.ok(&args);
    assert!(
        out.contains("22 rule(s) loaded, 0 problem(s), 0 warning(s)"),
        "{out}"
    );

    // One log line per rule, built from that rule's own keywords.
    let mut log = String::new();
    let mut titles = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        titles.push(title_of(&text));
        log.push_str(&format!("Dec 10 06:55:46 host prog: {}\n", line_for(&text)));
    }
    log.push_str("Dec 10 06:55:47 host prog: nothing to see here\n");
    let log_path = env.dir.path().join("sigma.log");
    std::fs::write(&log_path, log).unwrap();
    let mut scan = vec![
        "scan".to_string(),
        "--json".to_string(),
        "--rules".to_string(),
    ];
    scan.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    scan.push("--".into());
    scan.push(log_path.to_string_lossy().into_owned());
    let args: Vec<&str> = scan.iter().map(String::as_str).collect();
    let detections: Vec<Value> = env
        .ok(&args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for t in &titles {
        assert!(
            detections.iter().any(|d| d["rule"] == t.as_str()),
            "rule '{t}' matched none of its own keywords"
        );
    }
    for d in &detections {
        let lines = d["lines"].as_array().unwrap();
        assert!(
            !lines
                .iter()
                .any(|l| l.as_str().unwrap().contains("nothing to see here")),
            "{d}"
        );
    }
}

fn collect_yml(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_yml(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml") {
            out.push(p);
        }
    }
}

fn title_of(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("title: "))
        .unwrap()
        .trim()
        .trim_matches('\'')
        .to_string()
}

/// A line satisfying the rule: the first keyword of every selection the
/// condition does not negate (every keyword of an `|all` list), with Sigma
/// wildcards filled in. Read with plain string handling, not the engine's
/// parser.
fn line_for(text: &str) -> String {
    let detection = text.split("\ndetection:\n").nth(1).unwrap();
    let condition = detection
        .lines()
        .find_map(|l| l.trim().strip_prefix("condition: "))
        .unwrap();
    let negated: Vec<&str> = condition
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "not")
        .map(|w| w[1])
        .collect();
    let mut parts = Vec::new();
    let mut current: Option<(String, bool, bool)> = None; // (name, all, took one)
    for line in detection.lines() {
        if !line.starts_with("    ") && !line.trim().is_empty() && !line.starts_with("  ") {
            break;
        }
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 4 && trimmed.ends_with(':') && !trimmed.starts_with('-') {
            let name = trimmed.trim_end_matches(':').to_string();
            current = Some((name, false, false));
            continue;
        }
        if trimmed == "'|all':" {
            if let Some(c) = &mut current {
                c.1 = true;
            }
            continue;
        }
        if let Some(kw) = trimmed.strip_prefix("- ") {
            let Some((name, all, took)) = &mut current else {
                continue;
            };
            if negated.contains(&name.as_str()) || (*took && !*all) {
                continue;
            }
            let kw = kw.split(" #").next().unwrap().trim();
            let kw = kw.trim_matches('\'').replace("''", "'");
            parts.push(kw.replace('*', "x").replace('?', "y"));
            *took = true;
        }
    }
    parts.join(" ")
}

#[test]
fn rules_check_lists_loaded_and_refused_with_positions() {
    let env = Env::new();
    let dir = env.dir.path();
    std::fs::write(
        dir.join("events.yml"),
        "events:\n  failed_logins:\n    match: 'Failed password for (?P<user>\\S+) from (?P<src>\\S+)'\n",
    )
    .unwrap();
    // The seed's rule object, exactly as written, as a file of its own.
    std::fs::write(
        dir.join("seed.json"),
        r#"{"rule": "Multiple failed logins", "condition": "failed_logins > 10 in 5 minutes", "action": "create_incident", "severity": "high", "notify": ["security-team@example.com"]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("bad.yml"),
        "rules:\n  - rule: fine\n    condition: failed_logins\n  - rule: broken\n    condition: failed_logins >> 3 in 1m\n",
    )
    .unwrap();
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let out = env.run(&[
        "rules",
        "check",
        &p("events.yml"),
        &p("seed.json"),
        &p("bad.yml"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused rule makes check fail"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("loaded   Multiple failed logins [warroom] failed_logins > 10 in 5 minutes (P2, per src)"), "{stdout}");
    assert!(stdout.contains("loaded   fine"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "refused  {}:5:16: broken: unsupported comparison '>>'",
            p("bad.yml")
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 rule(s) loaded, 1 problem(s)"),
        "{stdout}"
    );

    let ok = env.run(&["rules", "check", &p("events.yml"), &p("seed.json")]);
    assert_eq!(ok.status.code(), Some(0));
    // The shipped rules check clean.
    assert!(env.ok(&["rules", "check"]).contains(", 0 problem(s)"));
}

#[test]
fn hostile_log_input_is_survived_and_never_reaches_the_terminal_raw() {
    let env = Env::new();
    let mut log: Vec<u8> = Vec::new();
    for i in 0..12 {
        log.extend(format!("Dec 10 06:55:{i:02} h sshd[1]: Failed password for r\x1b]52;c;ZXZpbA==\x07oot from 10.9.8.7 port 22 ssh2\n").bytes());
    }
    log.extend(b"Dec 10 06:56:00 h sshd[1]: bad bytes \xff\xfe\x00 NUL and \x1b[2J clear\n");
    log.extend(b"Dec 10 06:56:01 h kernel: ");
    log.extend(std::iter::repeat_n(b'A', 10 * 1024 * 1024));
    log.push(b'\n');
    log.extend(b"\xc3\x28 lone invalid sequence, no newline at the end");
    let path = env.dir.path().join("hostile.log");
    std::fs::write(&path, &log).unwrap();

    let out = env.ok(&["scan", path.to_str().unwrap()]);
    assert!(out.contains("scanned 15 lines"), "{out}");
    assert!(
        out.contains("1 lines cut at the length limit, 2 not valid UTF-8"),
        "{out}"
    );
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}'),
        "no raw escapes on the terminal"
    );
    assert!(
        out.contains("Multiple failed logins") && out.contains("10.9.8.7"),
        "{out}"
    );

    // JSON keeps the lines as read, escaped by JSON.
    let d = scan_json(&env, &[path.to_str().unwrap()]);
    let brute = d
        .iter()
        .find(|d| d["rule"] == "Multiple failed logins")
        .unwrap();
    assert_eq!(brute["count"], 12);
    assert!(brute["lines"][0].as_str().unwrap().contains("\u{1b}]52;c;"));
}

/// (rule, key, count, first_seen, open) of every stored detection.
fn stored_detections(env: &Env) -> Vec<(String, String, u64, String, bool)> {
    let store = warroom::store::Store::open(&env.db()).unwrap();
    let mut v: Vec<_> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.rule, d.key, d.count, d.first_seen.to_rfc3339(), d.open))
        .collect();
    v.sort();
    v
}

#[test]
fn scan_commit_opens_incidents_once_with_their_detections_in_the_timeline() {
    let Some(log) = corpus("loghub/OpenSSH_2k.log") else {
        eprintln!("SKIP: ../shared/corpus is absent");
        return;
    };
    let env = Env::new();
    let log = log.to_str().unwrap();
    let expected: Vec<Value> = scan_json(&env, &[log]);
    // One incident per key of a per_key rule, one per campaign rule.
    let per_key = expected
        .iter()
        .filter(|d| d["create_incident"] == true && d["incident"] == "per_key")
        .count();
    let campaigns: std::collections::BTreeSet<&str> = expected
        .iter()
        .filter(|d| d["create_incident"] == true && d["incident"] == "per_rule")
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    let incident_rules = per_key + campaigns.len();
    assert!(campaigns.contains("Multiple failed logins"));
    assert!(incident_rules >= 2);

    let out = env.ok(&["scan", "--commit", log]);
    assert!(
        out.contains(&format!(
            "committed: {} new detection(s) ({incident_rules} incident(s) opened)",
            expected.len()
        )),
        "{out}"
    );
    let list = env.json(&["incident", "list"]);
    assert_eq!(list.as_array().unwrap().len(), incident_rules);
    let first = stored_detections(&env);

    // The same files again: nothing new.
    let again = env.ok(&["scan", "--commit", log]);
    assert!(again.contains(&format!("0 new detection(s) (0 incident(s) opened), 0 event(s) attached to open detections, {} already recorded", expected.len())), "{again}");
    assert_eq!(
        env.json(&["incident", "list"]).as_array().unwrap().len(),
        incident_rules
    );
    assert_eq!(stored_detections(&env), first);

    // The brute-force campaign carries every address with its count, and
    // its first detection's rule, key, counts, window and lines.
    let brutes: Vec<&Value> = expected
        .iter()
        .filter(|d| d["rule"] == "Multiple failed logins")
        .collect();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["title"]
                .as_str()
                .unwrap()
                .starts_with("Multiple failed logins from ")
        })
        .expect("the brute-force campaign incident");
    let n = brutes.len();
    let noun = if n == 1 { "address" } else { "addresses" };
    assert_eq!(
        row["title"],
        format!("Multiple failed logins from {n} {noun}")
    );
    let sources = env.json(&["incident", "show", row["id"].as_str().unwrap()]);
    let sources = sources["sources"].as_array().unwrap();
    assert_eq!(sources.len(), n);
    for b in &brutes {
        let s = sources.iter().find(|s| s["key"] == b["key"]).unwrap();
        assert_eq!(s["count"], b["count"], "{b}");
    }
    assert_eq!(row["severity"], "P2");
    assert_eq!(row["source"], "rule-watcher");
    let id = row["id"].as_str().unwrap();
    let show = env.json(&["incident", "show", id]);
    let opened = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "detect.opened")
        .expect("detect.opened in the timeline");
    let first_key = opened["data"]["key"].as_str().unwrap();
    let brute = *brutes.iter().find(|b| b["key"] == first_key).unwrap();
    assert!(
        opened["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{} event(s)", brute["count"])),
        "{opened}"
    );
    let report: Value = serde_json::from_str(&env.ok(&["report", id, "--format", "json"])).unwrap();
    let det = &report["detections"][0]["data"];
    assert_eq!(det["rule"], "Multiple failed logins");
    assert_eq!(det["key"], brute["key"]);
    assert_eq!(det["count"], brute["count"]);
    assert_eq!(det["first_seen"], brute["first_seen"]);
    assert_eq!(det["last_seen"], brute["last_seen"]);
    assert_eq!(det["window_seconds"], 300);
    assert_eq!(det["lines"], brute["lines"]);
    let evidence = report["evidence"].as_array().unwrap();
    assert_eq!(evidence[0]["kind"], "excerpt");
    assert!(
        report["detections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "detect.notify"),
        "the seed rule notifies security-team@example.com"
    );
    assert!(env.ok(&["verify"]).contains("timeline intact"));
}

#[test]
fn scan_commit_of_a_grown_file_adds_only_what_is_new() {
    let Some(log) = corpus("loghub/OpenSSH_2k.log") else {
        eprintln!("SKIP: ../shared/corpus is absent");
        return;
    };
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Whole file at once, into one database...
    let whole = Env::new();
    whole.ok(&["scan", "--commit", log.to_str().unwrap()]);
    // ...and in two steps (the file growing between replays) into another.
    let grown = Env::new();
    let path = grown.dir.path().join("auth.log");
    // Same modification time reference for the year: keep the year fixed
    // by giving both files ISO-free syslog lines from the same corpus and
    // the same mtime as the original.
    let mtime = std::fs::metadata(&log).unwrap().modified().unwrap();
    let write = |n: usize| {
        std::fs::write(&path, lines[..n].join("\n") + "\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    };
    write(1100);
    grown.ok(&["scan", "--commit", path.to_str().unwrap()]);
    write(lines.len());
    let out = grown.ok(&["scan", "--commit", path.to_str().unwrap()]);
    assert!(out.contains("already recorded"), "{out}");
    assert_eq!(stored_detections(&grown), stored_detections(&whole));
    assert_eq!(
        grown.json(&["incident", "list"]).as_array().unwrap().len(),
        whole.json(&["incident", "list"]).as_array().unwrap().len()
    );
}
