//! The clocks through the real binary: "immediately" has a grace, a breach
//! survives a lower severity (which needs a reason), detection times in the
//! past, pauses, acknowledgement, and `incident show --json` agreeing with
//! `metrics` (one computation).

mod common;

use common::{Env, assert_fails};
use serde_json::Value;

const T0: &str = "2026-03-01T10:00:00Z";

fn at(minutes: i64) -> String {
    let t: chrono::DateTime<chrono::Utc> = T0.parse().unwrap();
    (t + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn run_at(env: &Env, minutes: i64, args: &[&str]) -> std::process::Output {
    env.cmd()
        .env("WARROOM_NOW", at(minutes))
        .args(args)
        .output()
        .expect("run warroom")
}

fn ok_at(env: &Env, minutes: i64, args: &[&str]) -> String {
    let out = run_at(env, minutes, args);
    assert!(
        out.status.success(),
        "warroom {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_at(env: &Env, minutes: i64, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&ok_at(env, minutes, &a)).unwrap()
}

fn clock<'a>(show: &'a Value, kind: &str) -> &'a Value {
    show["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {}", show["clocks"]))
}

fn new_at(env: &Env, minutes: i64, severity: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "incident",
        "new",
        "--title",
        "Login API down",
        "--severity",
        severity,
    ];
    args.extend_from_slice(extra);
    ok_at(env, minutes, &args).trim().to_string()
}

fn send_customers(env: &Env, minutes: i64, id: &str) {
    let file = env.dir.path().join("notice.txt");
    std::fs::write(&file, "We are investigating a login outage.\n").unwrap();
    ok_at(
        env,
        minutes,
        &[
            "notify",
            "send",
            id,
            "--audience",
            "customers",
            "--file",
            file.to_str().unwrap(),
        ],
    );
}

#[test]
fn a_p1_customer_notice_sent_within_the_grace_is_met_and_metrics_agree() {
    let env = Env::new();
    let met = new_at(&env, 0, "P1", &[]);
    let late = new_at(&env, 0, "P1", &[]);
    // Right after declaring: due now, not breached.
    let show = json_at(&env, 0, &["incident", "show", &met]);
    assert_eq!(clock(&show, "customer_notice")["state"], "due_now");
    assert!(clock(&show, "customer_notice")["breached_at"].is_null());
    send_customers(&env, 3, &met);
    send_customers(&env, 6, &late);
    let a = json_at(&env, 30, &["incident", "show", &met]);
    let b = json_at(&env, 30, &["incident", "show", &late]);
    assert_eq!(clock(&a, "customer_notice")["state"], "met");
    assert_eq!(clock(&b, "customer_notice")["state"], "breached");
    assert_eq!(
        clock(&b, "customer_notice")["breached_at"],
        "2026-03-01T10:05:00.000Z"
    );
    let m = json_at(&env, 30, &["metrics"]);
    let p1 = &m["sla"][0];
    assert_eq!(p1["severity"], "P1");
    assert_eq!(p1["customer_notice"]["met"], 1);
    assert_eq!(p1["customer_notice"]["breached"], 1);
    assert_eq!(
        p1["response"]["breached"], 2,
        "neither was acknowledged by 10:15"
    );
}

#[test]
fn a_breach_survives_a_lower_severity_which_needs_a_reason() {
    let env = Env::new();
    let id = new_at(&env, 0, "P1", &[]);
    let out = run_at(&env, 20, &["incident", "set", &id, "--severity", "P3"]);
    assert_fails(&out, 2, "needs a reason");
    ok_at(
        &env,
        20,
        &[
            "incident",
            "set",
            &id,
            "--severity",
            "P3",
            "--reason",
            "one tenant only",
        ],
    );
    let show = json_at(&env, 21, &["incident", "show", &id]);
    assert_eq!(show["severity"], "P3");
    for kind in ["response", "customer_notice"] {
        let c = clock(&show, kind);
        assert_eq!(c["state"], "breached", "{c}");
        assert_eq!(c["severity"], "P1", "{c}");
        assert!(c["breached_at"].is_string(), "{c}");
    }
    let updated = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "incident.updated")
        .unwrap();
    assert!(
        updated["detail"]
            .as_str()
            .unwrap()
            .contains("one tenant only")
    );
    // The metrics count the breach under P1, where it happened.
    let m = json_at(&env, 21, &["metrics"]);
    assert_eq!(m["sla"][0]["response"]["breached"], 1);
    assert_eq!(m["sla"][2]["response"]["breached"], 0);
}

#[test]
fn detection_time_in_the_past_counts_and_is_refused_in_the_future() {
    let env = Env::new();
    let id = new_at(&env, 15, "P2", &["--detected", "-15m"]);
    let show = json_at(&env, 16, &["incident", "show", &id]);
    assert_eq!(show["detected_at"], "2026-03-01T10:00:00.000Z");
    assert_eq!(clock(&show, "response")["due"], "2026-03-01T11:00:00.000Z");
    let out = run_at(
        &env,
        15,
        &[
            "incident",
            "new",
            "--title",
            "x",
            "--severity",
            "P2",
            "--detected",
            &at(20),
        ],
    );
    assert_fails(&out, 2, "in the future");
    let out = run_at(
        &env,
        15,
        &[
            "incident",
            "new",
            "--title",
            "x",
            "--severity",
            "P2",
            "--detected",
            "soon",
        ],
    );
    assert_fails(&out, 2, "--detected");
    // A later correction needs a reason and is recorded.
    let out = run_at(&env, 20, &["incident", "set", &id, "--detected", "-30m"]);
    assert_fails(&out, 2, "--reason");
    ok_at(
        &env,
        20,
        &[
            "incident",
            "set",
            &id,
            "--detected",
            &at(-10),
            "--reason",
            "SIEM alert time",
        ],
    );
    let show = json_at(&env, 21, &["incident", "show", &id]);
    assert_eq!(show["detected_at"], "2026-03-01T09:50:00.000Z");
    assert!(
        show["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "incident.detection_changed")
    );
}

#[test]
fn pause_resume_and_regulatory_clocks_from_the_command_line() {
    let env = Env::new();
    let id = new_at(&env, 0, "P2", &["--personal-data"]);
    ok_at(
        &env,
        30,
        &[
            "incident",
            "pause",
            &id,
            "customer-notice",
            "--reason",
            "waiting on the customer",
        ],
    );
    let show = json_at(&env, 600, &["incident", "show", &id]);
    assert_eq!(clock(&show, "customer_notice")["state"], "paused");
    let out = run_at(
        &env,
        31,
        &[
            "incident",
            "pause",
            &id,
            "regulatory",
            "--reason",
            "counsel",
        ],
    );
    assert_fails(&out, 2, "never pauses");
    ok_at(&env, 90, &["incident", "resume", &id, "customer-notice"]);
    let show = json_at(&env, 91, &["incident", "show", &id]);
    let n = clock(&show, "customer_notice");
    assert_eq!(
        (n["state"].as_str(), n["due"].as_str()),
        (Some("running"), Some("2026-03-01T15:00:00.000Z"))
    );
    let out = run_at(&env, 92, &["incident", "resume", &id, "customer-notice"]);
    assert_fails(&out, 2, "not paused");
}

#[test]
fn assigning_the_first_commander_acknowledges_and_says_so() {
    let env = Env::new();
    let id = new_at(&env, 0, "P1", &[]);
    let out = ok_at(&env, 5, &["incident", "assign", &id, "commander", "dana"]);
    assert!(out.contains("acknowledged"), "{out}");
    let out = ok_at(&env, 6, &["incident", "ack", &id]);
    assert!(
        out.contains("already acknowledged at 2026-03-01 10:05:00 UTC"),
        "{out}"
    );
    let show = json_at(&env, 7, &["incident", "show", &id]);
    assert_eq!(clock(&show, "response")["state"], "met");
    let acks: Vec<&Value> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "incident.acknowledged")
        .collect();
    assert_eq!(acks.len(), 1);
    assert!(
        acks[0]["detail"]
            .as_str()
            .unwrap()
            .contains("dana named incident commander")
    );
}
