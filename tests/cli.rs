//! The headless CLI through the built binary, on temporary databases.

mod common;

use common::{Env, assert_fails};
use serde_json::Value;

#[test]
fn new_prints_the_id_and_show_json_has_the_documented_shape() {
    let env = Env::new();
    let id = env.new_incident("Login API returning 500s", "P1");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(id, format!("INC-{year}-001"));

    let v = env.json(&["incident", "show", &id]);
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["title"], "Login API returning 500s");
    assert_eq!(v["severity"], "P1");
    assert_eq!(v["severity_label"], "Critical");
    assert_eq!(v["status"], "investigating");
    assert_eq!(v["phase"], "detection");
    assert_eq!(v["drill"], false);
    for role in ["commander", "security", "ops", "comms", "legal"] {
        assert!(v["roles"].get(role).is_some_and(Value::is_null), "{role}");
    }
    let checklist = v["checklist"].as_array().unwrap();
    assert_eq!(checklist.len(), 18);
    for item in checklist {
        for key in ["id", "phase", "text", "state"] {
            assert!(item[key].is_string(), "checklist {key}: {item}");
        }
    }
    let clocks = v["clocks"].as_array().unwrap();
    let kinds: Vec<&str> = clocks.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["response", "customer_notice", "next_update"]);
    for c in clocks {
        assert!(c["due"].as_str().unwrap().ends_with('Z'), "UTC: {c}");
        assert!(c["state"].is_string());
    }
    let timeline = v["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 1);
    for key in ["seq", "at", "actor", "kind", "detail"] {
        assert!(!timeline[0][key].is_null(), "timeline {key}");
    }
    assert_eq!(timeline[0]["actor"], "tester", "the OS user by default");
    assert_eq!(timeline[0]["kind"], "incident.created");
}

#[test]
fn new_json_returns_the_incident_object() {
    let env = Env::new();
    let v = env.json(&[
        "incident",
        "new",
        "--title",
        "Phish",
        "--severity",
        "p3",
        "--summary",
        "Look-alike domain",
        "--source",
        "customer-report",
        "--drill",
        "--cia",
        "high/none/low",
    ]);
    assert_eq!(v["severity"], "P3");
    assert_eq!(v["summary"], "Look-alike domain");
    assert_eq!(v["source"], "customer-report");
    assert_eq!(v["drill"], true);
    assert_eq!(v["cia"]["confidentiality"], "high");
    assert_eq!(v["cia"]["availability"], "low");
}

#[test]
fn set_assign_check_and_note_change_state_and_timeline() {
    let env = Env::new();
    let id = env.new_incident("Ransomware on build host", "P3");
    env.ok(&[
        "incident",
        "set",
        &id,
        "--severity",
        "P2",
        "--status",
        "contained",
        "--phase",
        "containment",
        "--title",
        "Ransomware on ci-runner-07",
        "--summary",
        "EDR flagged renames",
    ]);
    env.ok(&["incident", "assign", &id, "commander", "alice"]);
    env.ok(&[
        "--as",
        "alice",
        "incident",
        "assign",
        &id,
        "commander",
        "bob",
    ]);
    env.ok(&["incident", "check", &id, "contain.isolate"]);
    env.ok(&[
        "incident",
        "check",
        &id,
        "detect.reports",
        "--na",
        "no customer reports",
    ]);
    env.ok(&["incident", "note", &id, "Runner re-imaged"]);

    let v = env.json(&["incident", "show", &id]);
    assert_eq!(v["severity"], "P2");
    assert_eq!(v["status"], "contained");
    assert_eq!(v["phase"], "containment");
    assert_eq!(v["title"], "Ransomware on ci-runner-07");
    assert_eq!(v["summary"], "EDR flagged renames");
    assert!(v["contained_at"].is_string());
    assert_eq!(v["roles"]["commander"]["person"], "bob");
    assert_eq!(
        v["roles"]["commander"]["assigned_by"], "alice",
        "--as overrides the actor"
    );
    let item = |id: &str| {
        v["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(item("contain.isolate")["state"], "done");
    assert_eq!(item("contain.isolate")["by"], "tester");
    assert_eq!(item("detect.reports")["state"], "not_applicable");
    assert_eq!(item("detect.reports")["reason"], "no customer reports");
    let kinds: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "note.added",
            "checklist.changed",
            "checklist.changed",
            "role.assigned",
            "role.assigned",
            "incident.acknowledged",
            "incident.updated",
            "incident.created"
        ],
        "newest first"
    );
    let seqs: Vec<i64> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]));

    env.ok(&["incident", "check", &id, "contain.isolate", "--undo"]);
    let v = env.json(&["incident", "show", &id]);
    assert_eq!(
        v["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "contain.isolate")
            .unwrap()["state"],
        "open"
    );
}

#[test]
fn list_sorts_by_id_hides_closed_and_reports_the_urgent_clock() {
    let env = Env::new();
    let a = env.new_incident("first", "P4");
    let b = env.new_incident("second", "P1");
    env.ok(&[
        "review",
        "set",
        &a,
        "--root-cause",
        "expired certificate",
        "--no-action",
        "vendor fault",
    ]);
    env.settle_checklist(&a);
    env.ok(&["incident", "set", &a, "--status", "closed"]);
    let open = env.json(&["incident", "list"]);
    let ids: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b.as_str()]);
    // A P1's customer notice is due immediately (within the policy's grace
    // it is due now, not yet breached), so it is the urgent clock.
    assert_eq!(open[0]["urgent_clock"]["kind"], "customer_notice");
    assert_eq!(open[0]["urgent_clock"]["state"], "due_now");
    let all = env.json(&["incident", "list", "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let text = env.ok(&["incident", "list"]);
    assert!(
        text.contains("second") && text.contains("DUE NOW"),
        "{text}"
    );
}

#[test]
fn ids_are_sequential_and_case_insensitive() {
    let env = Env::new();
    let a = env.new_incident("a", "P2");
    let b = env.new_incident("b", "P2");
    assert!(a.ends_with("-001") && b.ends_with("-002"), "{a} {b}");
    let v = env.json(&["incident", "show", &b.to_lowercase()]);
    assert_eq!(v["id"], b.as_str());
}

#[test]
fn bad_input_is_one_clear_line_and_the_right_exit_code() {
    let env = Env::new();
    let id = env.new_incident("real", "P2");
    assert_fails(
        &env.run(&["incident", "new", "--title", "x", "--severity", "P9"]),
        2,
        "'P9'",
    );
    assert_fails(
        &env.run(&["incident", "new", "--title", "  ", "--severity", "P1"]),
        2,
        "title must not be empty",
    );
    assert_fails(
        &env.run(&["incident", "assign", &id, "janitor", "bob"]),
        2,
        "'janitor'",
    );
    assert_fails(
        &env.run(&["incident", "check", &id, "no.such.item"]),
        2,
        "no checklist item 'no.such.item'",
    );
    assert_fails(
        &env.run(&["incident", "check", &id, "detect.siem", "--na", " "]),
        2,
        "needs a reason",
    );
    assert_fails(&env.run(&["incident", "set", &id]), 2, "nothing to change");
    assert_fails(
        &env.run(&["incident", "set", &id, "--status", "sideways"]),
        2,
        "'sideways'",
    );
    assert_fails(
        &env.run(&["incident", "show", "INC-2026-999"]),
        1,
        "no incident INC-2026-999",
    );
    assert_fails(&env.run(&["incident", "show", "bogus"]), 2, "incident id");
    assert_fails(&env.run(&["incident", "frobnicate"]), 2, "frobnicate");
}

#[test]
fn corrupt_and_foreign_databases_are_refused_without_harm() {
    let env = Env::new();
    let junk = env.dir.path().join("junk.db");
    std::fs::write(
        &junk,
        b"this is not sqlite, it is a shopping list\n".repeat(200),
    )
    .unwrap();
    let before = std::fs::read(&junk).unwrap();
    let out = env.run(&["--db", junk.to_str().unwrap(), "incident", "list"]);
    assert_fails(&out, 1, "corrupt or not an SQLite database");
    assert_eq!(std::fs::read(&junk).unwrap(), before, "left untouched");

    let foreign = env.dir.path().join("shop.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1);",
        )
        .unwrap();
    let out = env.run(&[
        "--db",
        foreign.to_str().unwrap(),
        "incident",
        "new",
        "--title",
        "x",
        "--severity",
        "P1",
    ]);
    assert_fails(&out, 1, "not a warroom database");
    let tables: i64 = rusqlite::Connection::open(&foreign)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "no warroom tables were added");
}

#[test]
fn a_read_only_database_is_refused_and_keeps_its_data() {
    let env = Env::new();
    let id = env.new_incident("committed before", "P2");
    let db = env.db();
    // Root ignores file modes, so run the binary as an unprivileged user.
    let as_root = running_as_root();
    let mut cmd = if as_root {
        let Ok(setpriv) = which("setpriv") else {
            eprintln!("SKIP: running as root without setpriv; cannot make the database read-only");
            return;
        };
        let mut c = std::process::Command::new(setpriv);
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_warroom"),
        ]);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
    };
    use std::os::unix::fs::PermissionsExt;
    let parent = db.parent().unwrap();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = cmd
        .args([
            "--db",
            db.to_str().unwrap(),
            "incident",
            "new",
            "--title",
            "x",
            "--severity",
            "P1",
        ])
        .env("WARROOM_LOG", "/dev/null")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_fails(&out, 1, "read-only");
    let v = env.json(&["incident", "list"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], id.as_str());
}

/// Effective uid 0, read from /proc (no libc call needed).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.exists())
        })
        .ok_or(())
}

#[test]
fn db_location_follows_flag_then_env_then_xdg() {
    let env = Env::new();
    // Default: the XDG data directory.
    let out = env
        .cmd()
        .env_remove("WARROOM_DB")
        .args(["incident", "new", "--title", "x", "--severity", "P4"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.dir.path().join("xdg-data/warroom/warroom.db").exists());
    // --db wins over WARROOM_DB.
    let other = env.dir.path().join("other.db");
    env.ok(&[
        "--db",
        other.to_str().unwrap(),
        "incident",
        "new",
        "--title",
        "y",
        "--severity",
        "P4",
    ]);
    assert!(other.exists());
    assert!(
        !env.db().exists(),
        "WARROOM_DB was not used when --db was given"
    );
}

#[test]
fn a_broken_policy_override_names_file_line_and_column() {
    let env = Env::new();
    let dir = env.dir.path().join("xdg-config/warroom");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.toml"),
        "[levels.P1]\nresponse = \"soonish\"\ncustomer_notice = \"0\"\n",
    )
    .unwrap();
    let out = env.run(&["incident", "list"]);
    assert_fails(
        &out,
        1,
        "policy.toml:2:12: levels.P1.response: 'soonish' is not a duration",
    );
}

#[test]
fn demo_loads_drill_incidents_once() {
    let env = Env::new();
    env.ok(&["demo", "--no-console"]);
    env.ok(&["demo", "--no-console"]);
    let v = env.json(&["incident", "list"]);
    let list = v.as_array().unwrap();
    assert!(list.len() >= 4, "{v}");
    assert!(list.iter().all(|i| i["drill"] == true));
    let statuses: std::collections::BTreeSet<&str> =
        list.iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert!(statuses.len() >= 3, "different states: {statuses:?}");
    assert!(env.ok(&["verify"]).contains("timeline intact"));
}

#[test]
fn output_never_carries_escape_sequences_from_incident_text() {
    let env = Env::new();
    let evil = "pwn\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{202e}txt";
    let id = env.new_incident(evil, "P2");
    env.ok(&[
        "--as",
        "mal\u{1b}[31mlory",
        "incident",
        "note",
        &id,
        "\u{1b}]0;owned\u{7}",
    ]);
    for args in [
        vec!["incident", "list"],
        vec!["incident", "show", id.as_str()],
    ] {
        let out = env.ok(&args);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
            "{out:?}"
        );
        assert!(out.contains("pwn␛]52;c;ZXZpbA==␇"), "shown visibly: {out}");
    }
    // JSON keeps the text exactly, escaped by JSON itself.
    let v = env.json(&["incident", "show", &id]);
    assert_eq!(v["title"], evil);
}

#[test]
fn roster_add_takes_the_roles_someone_may_hold_and_on_call() {
    let env = Env::new();
    env.ok(&[
        "roster",
        "add",
        "dana",
        "--name",
        "Dana Scully",
        "--contact",
        "dana@example.com",
        "--roles",
        "security,commander",
        "--on-call",
    ]);
    env.ok(&["roster", "add", "fox", "--name", "Fox Mulder"]);
    let list = env.json(&["roster", "list"]);
    assert_eq!(list[0]["handle"], "dana");
    assert_eq!(
        list[0]["roles"],
        serde_json::json!(["commander", "security"])
    );
    assert_eq!(list[0]["on_call"], true);
    assert_eq!(list[1]["roles"], serde_json::json!([]));
    let text = env.ok(&["roster", "list"]);
    assert!(text.contains("commander,security  ON CALL"), "{text}");
    assert!(text.contains("any role"), "{text}");
    // A role that does not exist is refused, naming the valid ones.
    let out = env.run(&["roster", "add", "x", "--name", "X", "--roles", "janitor"]);
    assert_fails(&out, 2, "commander, security, ops, comms");
}
