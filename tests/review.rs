//! The post-incident review and the closing gate through the built binary.

mod common;

use common::{Env, assert_fails};

fn kinds(env: &Env, id: &str) -> Vec<String> {
    env.json(&["incident", "show", id])["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn closing_is_refused_until_the_review_has_a_root_cause_and_an_action() {
    let env = Env::new();
    let id = env.new_incident("Expired TLS certificate", "P2");
    env.ok(&["incident", "set", &id, "--status", "resolved"]);
    let run = env.run(&["incident", "set", &id, "--status", "closed"]);
    assert_fails(&run, 2, "cannot be closed: the review has no root cause");
    assert_eq!(env.json(&["incident", "show", &id])["status"], "resolved");

    env.ok(&[
        "review",
        "set",
        &id,
        "--statement",
        "The status page served an expired certificate for 2 hours",
        "--why",
        "The certificate was not renewed",
        "--why",
        "Renewal was a manual calendar task",
        "--why",
        "The owner left the team",
        "--root-cause",
        "Certificate renewal depended on one person",
        "--lessons",
        "Automate renewals",
        "--went-well",
        "Fast detection by a customer",
        "--went-badly",
        "Nobody knew who owned it",
    ]);
    let run = env.run(&["incident", "set", &id, "--status", "closed"]);
    assert_fails(&run, 2, "no corrective action");

    let a = env.json(&[
        "review",
        "action",
        "add",
        &id,
        "--description",
        "Move the certificate to ACME auto-renewal",
        "--owner",
        "ops",
        "--due",
        "2026-12-01",
    ]);
    assert_eq!(a["status"], "open");
    assert_eq!(a["due"], "2026-12-01");
    // Dropping the only action reopens the gate; dropping needs a reason.
    let aid = a["id"].to_string();
    assert_fails(
        &env.run(&["review", "action", "set", &id, &aid, "--status", "dropped"]),
        2,
        "needs a reason",
    );
    env.ok(&[
        "review",
        "action",
        "set",
        &id,
        &aid,
        "--status",
        "dropped",
        "--reason",
        "duplicate",
    ]);
    assert_fails(
        &env.run(&["incident", "set", &id, "--status", "closed"]),
        2,
        "no corrective action",
    );
    env.ok(&["review", "action", "set", &id, &aid, "--status", "done"]);
    env.settle_checklist(&id);
    env.ok(&["incident", "set", &id, "--status", "closed"]);
    assert_eq!(env.json(&["incident", "show", &id])["status"], "closed");

    let r = env.json(&["review", "show", &id]);
    assert_eq!(r["whys"].as_array().unwrap().len(), 3);
    assert_eq!(
        r["root_cause"],
        "Certificate renewal depended on one person"
    );
    assert_eq!(r["complete"], true);
    assert_eq!(r["actions"][0]["status"], "done");
    let k = kinds(&env, &id);
    assert!(k.contains(&"review.updated".to_string()));
    assert!(k.contains(&"review.action_added".to_string()));
    assert!(k.contains(&"review.action_changed".to_string()));
}

#[test]
fn no_action_with_a_reason_opens_the_gate_and_six_whys_are_refused() {
    let env = Env::new();
    let id = env.new_incident("Vendor outage", "P3");
    let six: Vec<String> = (1..=6).map(|n| format!("why {n}")).collect();
    let mut args = vec!["review", "set", id.as_str()];
    for w in &six {
        args.push("--why");
        args.push(w);
    }
    assert_fails(&env.run(&args), 2, "at most 5 whys");
    assert_fails(&env.run(&["review", "set", &id]), 2, "nothing to change");
    env.ok(&[
        "review",
        "set",
        &id,
        "--root-cause",
        "Upstream provider outage",
        "--no-action",
        "Outside our control; provider post-mortem tracked by vendor management",
    ]);
    env.settle_checklist(&id);
    env.ok(&["incident", "set", &id, "--status", "closed"]);
}

#[test]
fn open_checklist_items_block_closing_by_count_and_name_until_done_or_not_applicable() {
    let env = Env::new();
    let id = env.new_incident("Credential stuffing on login", "P2");
    env.ok(&["incident", "set", &id, "--phase", "triage"]);
    env.ok(&[
        "review",
        "set",
        &id,
        "--root-cause",
        "No rate limit on login",
        "--no-action",
        "Rate limit shipped during the incident",
    ]);
    for item in [
        "detect.siem",
        "detect.alerts",
        "detect.reports",
        "triage.severity",
    ] {
        env.ok(&["incident", "check", &id, item]);
    }
    let run = env.run(&["incident", "set", &id, "--status", "closed"]);
    assert_fails(
        &run,
        2,
        "14 of 18 checklist items are open: triage.impact, ",
    );
    let err = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(
        err.contains("review.improve") && !err.contains("detect.siem"),
        "{err}"
    );
    assert_eq!(env.show_json(&id)["status"], "investigating");

    // Not applicable needs a reason, then counts as settled.
    env.ok(&[
        "incident",
        "check",
        &id,
        "review.improve",
        "--na",
        "filed in the review",
    ]);
    let run = env.run(&["incident", "set", &id, "--status", "closed"]);
    assert_fails(&run, 2, "13 of 18 checklist items are open");
    env.settle_checklist(&id);
    env.ok(&["incident", "set", &id, "--status", "closed"]);
    assert_eq!(env.show_json(&id)["status"], "closed");
}

#[test]
fn only_the_commander_may_override_the_gate_and_it_is_in_the_timeline() {
    let env = Env::new();
    let id = env.new_incident("Phishing wave", "P3");
    let run = env.run(&[
        "incident",
        "set",
        &id,
        "--status",
        "closed",
        "--override-reason",
        "duplicate of INC-2026-002",
    ]);
    assert_fails(&run, 2, "only the commander");
    env.ok(&["incident", "assign", &id, "commander", "alice"]);
    let run = env.run(&[
        "--as",
        "bob",
        "incident",
        "set",
        &id,
        "--status",
        "closed",
        "--override-reason",
        "duplicate",
    ]);
    assert_fails(&run, 2, "only the commander (alice)");
    env.ok(&[
        "--as",
        "alice",
        "incident",
        "set",
        &id,
        "--status",
        "closed",
        "--override-reason",
        "duplicate of INC-2026-002",
    ]);
    let shown = env.json(&["incident", "show", &id]);
    assert_eq!(shown["status"], "closed");
    let over = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "review.gate_overridden")
        .expect("override recorded")
        .clone();
    assert_eq!(over["actor"], "alice");
    assert_eq!(over["data"]["reason"], "duplicate of INC-2026-002");
    env.ok(&["verify"]);
}

#[test]
fn list_json_shows_when_the_review_is_due_and_overdue() {
    let env = Env::new();
    let a = env.new_incident("Resolved, review pending", "P1");
    let b = env.new_incident("Still open", "P2");
    env.ok(&["incident", "set", &a, "--status", "resolved"]);
    let list = env.json(&["incident", "list"]);
    let row = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    let ra = row(&a);
    let resolved =
        chrono::DateTime::parse_from_rfc3339(ra["resolved_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(ra["review_due"].as_str().unwrap()).unwrap();
    assert_eq!(
        (due - resolved).num_days(),
        3,
        "P1 reviews are due in 3 days"
    );
    assert_eq!(ra["review_overdue"], false);
    assert!(row(&b)["review_due"].is_null());

    // A policy whose P1 review is due at once: the review is overdue until
    // it is complete.
    let policy = warroom::domain::policy::DEFAULT_POLICY_TOML.replacen(
        "review_within = \"3days\"",
        "review_within = \"0s\"",
        1,
    );
    let dir = env.dir.path().join("xdg-config/warroom");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.toml"), policy).unwrap();
    let list = env.json(&["incident", "list"]);
    let ra = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == a.as_str())
        .unwrap()
        .clone();
    assert_eq!(ra["review_overdue"], true);
    assert_eq!(env.json(&["review", "show", &a])["overdue"], true);
    env.ok(&[
        "review",
        "set",
        &a,
        "--root-cause",
        "r",
        "--no-action",
        "none needed",
    ]);
    let list = env.json(&["incident", "list"]);
    assert_eq!(list[0]["review_overdue"], false);
}
