//! Incident reports: golden files for each format on a fixed incident at a
//! fixed clock (built through the library's store API), inert output for
//! hostile text, DRILL marking, and the CLI.
//!
//! To accept a deliberate change of the output: `UPDATE_GOLDEN=1 cargo test
//! --test report`, then review the diff of tests/golden/.

mod common;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use common::Env;
use serde_json::Value;
use warroom::domain::{Cia, Phase, Playbook, Policy, Role, Severity, Source, Status};
use warroom::report::model::{Report, ReportInput};
use warroom::report::{html, markdown};
use warroom::store::{
    EvidenceContent, IncidentPatch, NewAction, NewEvidence, NewIncident, ReviewPatch, Store,
};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn now() -> DateTime<Utc> {
    t(600)
}

fn set(store: &mut Store, id: &warroom::domain::IncidentId, p: IncidentPatch, at: i64, who: &str) {
    store.update_incident(id, &p, who, t(at)).unwrap();
}

fn evidence(content: EvidenceContent, description: &str) -> NewEvidence {
    NewEvidence {
        content,
        description: description.into(),
        source_host: "web1.example.net".into(),
        tz: FixedOffset::east_opt(3600).unwrap(),
    }
}

/// The fixed incident: a P2 raised to P1, handed off, contained, resolved,
/// with evidence, a custody transfer, a legal hold and a review.
fn fixture(drill: bool) -> (tempfile::TempDir, Store, warroom::domain::IncidentId) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let mut n = NewIncident::new("Login API returning 500s", Severity::P2);
    n.summary = "Error rate on /login rose to 40% after the 08:50 deploy.".into();
    n.source = Source::Siem;
    n.affected = "eu-west-1: login, api".into();
    n.cia = "none/low/high".parse::<Cia>().unwrap();
    n.customer_impact = "Customers cannot sign in".into();
    n.drill = drill;
    n.detected_at = Some(t(-5));
    let i = store.create_incident(&n, &pb, "alice", t(0)).unwrap();
    let id = i.id.clone();
    store
        .assign_role(&id, Role::Commander, "alice", "alice", t(3))
        .unwrap();
    store
        .assign_role(&id, Role::Security, "bob", "alice", t(4))
        .unwrap();
    set(
        &mut store,
        &id,
        IncidentPatch {
            severity: Some(Severity::P1),
            ..Default::default()
        },
        10,
        "alice",
    );
    set(
        &mut store,
        &id,
        IncidentPatch {
            status: Some(Status::Identified),
            phase: Some(Phase::Triage),
            ..Default::default()
        },
        12,
        "alice",
    );
    store
        .add_evidence(
            &id,
            &evidence(
                EvidenceContent::Excerpt {
                    text: "2026/03/01 08:55:01 [error] upstream timed out\n2026/03/01 08:55:02 [error] upstream timed out\n".into(),
                    source_path: Some("/var/log/nginx/error.log".into()),
                },
                "nginx errors at onset",
            ),
            "bob",
            t(15),
        )
        .unwrap();
    store
        .add_evidence(
            &id,
            &evidence(
                EvidenceContent::Note("Deploy 4711 changed the DB pool size to 2.".into()),
                "",
            ),
            "bob",
            t(16),
        )
        .unwrap();
    store.record_customer_notice(&id, "carol", t(20)).unwrap();
    store
        .transfer_evidence(&id, 1, "forensics-lab", "timeline analysis", "bob", t(30))
        .unwrap();
    store
        .assign_role(&id, Role::Commander, "carol", "alice", t(40))
        .unwrap();
    set(
        &mut store,
        &id,
        IncidentPatch {
            status: Some(Status::Contained),
            phase: Some(Phase::Containment),
            ..Default::default()
        },
        50,
        "carol",
    );
    set(
        &mut store,
        &id,
        IncidentPatch {
            status: Some(Status::Resolved),
            phase: Some(Phase::Review),
            ..Default::default()
        },
        90,
        "carol",
    );
    store
        .set_legal_hold(&id, "Customer contract dispute", "carol", t(95))
        .unwrap();
    store
        .update_review(
            &id,
            &ReviewPatch {
                statement: Some("Sign-in failed for 85 minutes".into()),
                whys: Some(vec![
                    "The API ran out of database connections".into(),
                    "The pool size was set to 2".into(),
                    "A config default changed in deploy 4711".into(),
                ]),
                root_cause: Some("Unreviewed change of a config default".into()),
                lessons: Some("Config defaults need review like code".into()),
                went_well: Some("Detection within 5 minutes".into()),
                went_badly: Some("Rollback took 40 minutes".into()),
                ..Default::default()
            },
            "carol",
            t(100),
        )
        .unwrap();
    store
        .add_action(
            &id,
            &NewAction {
                description: "Lint config defaults in CI".into(),
                owner: "dave".into(),
                due: NaiveDate::from_ymd_opt(2026, 3, 10),
            },
            "carol",
            t(101),
        )
        .unwrap();
    store.verify_evidence(Some(&id), "carol", t(102)).unwrap();
    (dir, store, id)
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check_golden(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  golden: {:?}\n  actual: {:?}\n(UPDATE_GOLDEN=1 cargo test --test report to accept)",
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

fn build(store: &Store, id: &warroom::domain::IncidentId) -> Report {
    let input = ReportInput::load(store, id).unwrap();
    Report::build(&input, &Policy::builtin(), now())
}

#[test]
fn golden_reports_for_each_format() {
    let (_dir, store, id) = fixture(false);
    let report = build(&store, &id);
    check_golden("report.md", &markdown::render(&report));
    check_golden("report.html", &html::render(&report));
    check_golden("report.json", &report.to_json());
    // The same input renders the same bytes.
    assert_eq!(
        markdown::render(&build(&store, &id)),
        markdown::render(&report)
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let (_dir, store, id) = fixture(false);
    let v: Value = serde_json::from_str(&build(&store, &id).to_json()).unwrap();
    assert_eq!(v["format"], "warroom-report/1");
    assert_eq!(v["generated_at"], "2026-03-01T19:00:00.000Z");
    assert_eq!(v["drill"], false);
    assert_eq!(v["incident"]["id"], id.as_str());
    let sev: Vec<&str> = v["severity_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert_eq!(sev, ["P2", "P1"]);
    let phases: Vec<&str> = v["phase_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["detection", "triage", "containment", "review"]);
    assert_eq!(v["roles"]["commander"]["person"], "carol");
    assert_eq!(v["role_history"].as_array().unwrap().len(), 3);
    // Response: acknowledged at +3 by the first commander while it was a
    // P2 (an hour from detection at -5), 52 minutes to spare; raising it to
    // P1 at +10 does not reach back before the acknowledgement.
    let response = &v["clocks"][0];
    assert_eq!(response["kind"], "response");
    assert_eq!(response["state"], "met");
    assert_eq!(response["severity"], "P2");
    assert_eq!(response["margin_seconds"], 52 * 60);
    // Customer notice: P1's (immediately, 5 minutes' grace: due at 0) had
    // already passed when it became a P1 at +10, so it breached then; the
    // notice at +20 was 20 minutes past that deadline.
    let notice = &v["clocks"][1];
    assert_eq!(notice["state"], "breached");
    assert_eq!(notice["severity"], "P1");
    assert_eq!(notice["breached_at"], "2026-03-01T09:10:00.000Z");
    assert_eq!(notice["breached_by_seconds"], 20 * 60);
    assert_eq!(v["communications"][0]["kind"], "comms.customer_notified");
    assert_eq!(v["detections"].as_array().unwrap().len(), 0);
    assert_eq!(v["legal_hold"]["reason"], "Customer contract dispute");
    let ev = v["evidence"].as_array().unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0]["collected_at_local"], "2026-03-01T10:15:00.000+01:00");
    let actions: Vec<&str> = ev[0]["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["collected", "transferred", "verified"]);
    assert_eq!(v["review"]["complete"], true);
    assert_eq!(v["review"]["due"], "2026-03-04T10:30:00.000Z");
    assert_eq!(v["review"]["actions"][0]["due"], "2026-03-10");
    let tl = v["timeline"].as_array().unwrap();
    assert_eq!(tl[0]["kind"], "incident.created");
    assert!(
        tl.windows(2)
            .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64())
    );
}

#[test]
fn drills_are_marked_in_every_format() {
    let (_dir, store, id) = fixture(true);
    let report = build(&store, &id);
    let md = markdown::render(&report);
    assert!(md.starts_with("# DRILL: Incident report"), "{md}");
    assert!(md.contains("> **DRILL: this incident is an exercise"));
    let page = html::render(&report);
    assert!(page.contains("<title>DRILL: Incident report"));
    assert!(page.contains("<p class=\"banner\">DRILL: this incident is an exercise"));
    let v: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(v["drill"], true);
    assert_eq!(v["incident"]["drill"], true);
}

const HOSTILE_TITLE: &str = "<script>alert(1)</script> **bold** [x](javascript:alert(1)) \u{1b}]52;c;ZXZpbA==\u{7} \u{1b}[2J | pipe \u{202e}gpj.exe \u{9b}31m";
const HOSTILE_LOG: &str = "<img src=x onerror=alert(1)>\n\u{1b}[31mred\u{1b}[0m\n# heading\n- list item\n```\n</td></tr></table><h1>x</h1>\n";

#[test]
fn hostile_titles_and_log_lines_produce_inert_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let mut n = NewIncident::new(HOSTILE_TITLE, Severity::P1);
    n.summary = HOSTILE_LOG.into();
    let i = store
        .create_incident(&n, &Playbook::builtin(), "mallory<b>", t(0))
        .unwrap();
    store
        .assign_role(&i.id, Role::Commander, "<i>eve</i>", "mallory", t(1))
        .unwrap();
    store
        .add_evidence(
            &i.id,
            &evidence(
                EvidenceContent::Excerpt {
                    text: HOSTILE_LOG.into(),
                    source_path: Some("/var/log/\u{1b}[2J.log".into()),
                },
                "[click](javascript:alert(2))",
            ),
            "mallory",
            t(2),
        )
        .unwrap();
    store
        .add_note(
            &i.id,
            "<script>x</script>\u{1b}]0;title\u{7}",
            "mallory",
            t(3),
        )
        .unwrap();
    let report = build(&store, &i.id);
    let md = markdown::render(&report);
    let page = html::render(&report);
    let json = report.to_json();
    for (name, text) in [("md", &md), ("html", &page), ("json", &json)] {
        for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(!text.contains(bad), "{name} contains {bad:?}");
        }
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{name} has a control character"
        );
    }
    for (name, text) in [("md", &md), ("html", &page)] {
        for bad in ["<script", "<img", "<b>", "<i>", "</table><h1>"] {
            assert!(!text.contains(bad), "{name} contains {bad}");
        }
    }
    assert!(!md.contains("](javascript"), "no Markdown link survives");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(md.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;"));
    assert!(md.contains("\\[x\\]\\(javascript:alert\\(1\\)\\)"));
    assert!(
        md.contains("␛\\]52;c;ZXZpbA==␇"),
        "escapes are visible, not obeyed"
    );
    assert!(
        !md.lines()
            .any(|l| l.starts_with("# heading") || l.starts_with("```")),
        "log lines cannot open headings or code blocks"
    );
    // Table rows keep their column count: a `|` in text is escaped.
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells >= 3, "{line}");
    }
    // JSON keeps the exact text, escaped so a terminal shows it inert.
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["incident"]["title"], HOSTILE_TITLE.trim());
    assert_eq!(v["evidence"][0]["content"], HOSTILE_LOG);
}

#[test]
fn the_cli_writes_each_format() {
    let env = Env::new();
    let id = env.new_incident("CLI report <b>", "P3");
    env.ok(&["evidence", "add", &id, "--note", "seen in logs"]);
    let md = env.ok(&["report", &id]);
    assert!(md.starts_with(&format!("# Incident report {id}")), "{md}");
    assert!(md.contains("&lt;b&gt;"));
    let v: Value = serde_json::from_str(&env.ok(&["report", &id, "--format", "json"])).unwrap();
    assert_eq!(v["format"], "warroom-report/1");
    assert_eq!(v["evidence"][0]["content"], "seen in logs");
    let out = env.dir.path().join("r.html");
    let said = env.ok(&[
        "report",
        &id,
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("report written"));
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    let run = env.run(&["report", &id, "--format", "pdf"]);
    assert_eq!(run.status.code(), Some(2));
    let run = env.run(&["report", "INC-2026-999"]);
    common::assert_fails(&run, 1, "no incident");
}
