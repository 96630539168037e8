//! No lost update from the command line (`--if-version`, `version` in the
//! JSON), errors that name what is missing or list what is valid, and
//! presence seen through `warroom who`.

mod common;

use std::time::{Duration, Instant};

use common::{Env, assert_fails};

fn version(env: &Env, id: &str) -> i64 {
    env.show_json(id)["version"]
        .as_i64()
        .expect("version in show --json")
}

#[test]
fn show_and_list_report_the_version_and_it_moves_with_each_change() {
    let env = Env::new();
    let id = env.new_incident("Login API returning 500s", "P2");
    let v = version(&env, &id);
    assert!(v >= 1);
    let list = env.json(&["incident", "list"]);
    assert_eq!(list[0]["version"].as_i64(), Some(v));
    env.ok(&["incident", "note", &id, "looking"]);
    let after = version(&env, &id);
    assert!(after > v);
    let list = env.json(&["incident", "list"]);
    assert_eq!(list[0]["version"].as_i64(), Some(after));
}

#[test]
fn a_stale_if_version_is_refused_naming_the_change_and_a_fresh_one_goes_through() {
    let env = Env::new();
    let id = env.new_incident("Login API returning 500s", "P2");
    let v = version(&env, &id).to_string();
    env.ok(&[
        "--as",
        "alice",
        "incident",
        "set",
        &id,
        "--title",
        "Alice's title",
        "--if-version",
        &v,
    ]);
    let alices = version(&env, &id);

    let out = env.run(&[
        "--as",
        "bob",
        "incident",
        "set",
        &id,
        "--title",
        "Bob's",
        "--if-version",
        &v,
    ]);
    assert_fails(&out, 1, "conflict: title was changed by alice at ");
    assert_fails(
        &out,
        1,
        &format!("(event #{alices}, now \"Alice's title\") after version {v}"),
    );
    assert_fails(
        &out,
        1,
        &format!("run `warroom incident show {id}` and retry"),
    );
    assert_eq!(env.show_json(&id)["title"], "Alice's title");
    assert_eq!(version(&env, &id), alices, "the refused edit wrote nothing");

    // Another field from the same stale view is no conflict.
    env.ok(&[
        "--as",
        "bob",
        "incident",
        "set",
        &id,
        "--phase",
        "triage",
        "--if-version",
        &v,
    ]);
    // Fresh: goes through.
    let now = version(&env, &id).to_string();
    env.ok(&[
        "--as",
        "bob",
        "incident",
        "set",
        &id,
        "--title",
        "Bob's",
        "--if-version",
        &now,
    ]);
    assert_eq!(env.show_json(&id)["title"], "Bob's");
}

#[test]
fn the_detection_time_takes_if_version_alone() {
    let env = Env::new();
    let id = env.new_incident("Phish", "P3");
    let v = version(&env, &id).to_string();
    let set = |who: &str, at: &str| {
        env.run(&[
            "--as",
            who,
            "incident",
            "set",
            &id,
            "--detected",
            at,
            "--reason",
            "log",
            "--if-version",
            &v,
        ])
    };
    assert!(set("alice", "-10m").status.success());
    assert_fails(&set("bob", "-20m"), 1, "detected at was changed by alice");
    let both = env.run(&[
        "incident",
        "set",
        &id,
        "--detected",
        "-30m",
        "--reason",
        "log",
        "--title",
        "x",
        "--if-version",
        &v,
    ]);
    assert_fails(&both, 2, "change --detected in a command of its own");
    assert_eq!(env.show_json(&id)["title"], "Phish", "nothing half-written");
}

#[test]
fn roles_checklist_and_review_edits_take_if_version_too() {
    let env = Env::new();
    let id = env.new_incident("Phish", "P3");
    let v = version(&env, &id).to_string();
    let item = env.show_json(&id)["checklist"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    env.ok(&[
        "--as",
        "alice",
        "incident",
        "assign",
        &id,
        "commander",
        "frank",
        "--if-version",
        &v,
    ]);
    let out = env.run(&[
        "--as",
        "bob",
        "incident",
        "assign",
        &id,
        "commander",
        "grace",
        "--if-version",
        &v,
    ]);
    assert_fails(&out, 1, "role commander was changed by alice");
    assert_fails(&out, 1, "now \"frank\"");

    env.ok(&[
        "--as",
        "alice",
        "incident",
        "check",
        &id,
        &item,
        "--if-version",
        &v,
    ]);
    let out = env.run(&[
        "--as",
        "bob",
        "incident",
        "check",
        &id,
        &item,
        "--na",
        "n/a",
        "--if-version",
        &v,
    ]);
    assert_fails(
        &out,
        1,
        &format!("checklist item {item} was changed by alice"),
    );

    env.ok(&[
        "--as",
        "alice",
        "review",
        "set",
        &id,
        "--root-cause",
        "weak MFA",
        "--if-version",
        &v,
    ]);
    let out = env.run(&[
        "--as",
        "bob",
        "review",
        "set",
        &id,
        "--root-cause",
        "phish kit",
        "--if-version",
        &v,
    ]);
    assert_fails(&out, 1, "review root cause was changed by alice");
    // Lessons were not touched since v: no conflict.
    env.ok(&[
        "--as",
        "bob",
        "review",
        "set",
        &id,
        "--lessons",
        "train",
        "--if-version",
        &v,
    ]);
    let review = env.json(&["review", "show", &id]);
    assert_eq!(review["root_cause"], "weak MFA");
}

#[test]
fn usage_errors_name_the_missing_argument_and_list_the_valid_values() {
    let env = Env::new();
    let id = env.new_incident("Phish", "P3");
    let out = env.run(&["incident", "new", "--severity", "P2"]);
    assert_fails(&out, 2, "not provided: --title <TITLE>");
    let out = env.run(&["report", &id, "--format", "pdf"]);
    assert_fails(&out, 2, "[possible values: md, json, html]");
    let out = env.run(&["incident", "set", &id, "--status", "bogus"]);
    assert_fails(
        &out,
        2,
        "expected investigating, identified, contained, monitoring, resolved, closed",
    );
    let out = env.run(&["incident", "new", "--title", "x", "--severity", "P9"]);
    assert_fails(&out, 2, "expected P1, P2, P3 or P4");
    let out = env.run(&["incident", "assign", &id, "chief", "bob"]);
    assert_fails(&out, 2, "expected commander, security, ops, comms or legal");
    let out = env.run(&["incident", "check", &id]);
    assert_fails(&out, 2, "not provided: <ITEM>");
    let out = env.run(&["incident"]);
    assert_fails(&out, 2, "[subcommands: new, list, show, set,");
    let out = env.run(&["incident", "set", &id, "--title", "x", "--if-version", "x"]);
    assert_fails(&out, 2, "'x' is not a version");
}

/// Polls `warroom who --json` until `want` holds of it, for at most `limit`.
fn who_until(env: &Env, limit: Duration, want: impl Fn(&serde_json::Value) -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if want(&env.json(&["who"])) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_killed_console_is_gone_from_who_within_ten_seconds() {
    let env = Env::new();
    let id = env.new_incident("Phish", "P3");
    let mut child = env
        .cmd()
        .args(["--as", "alice", "who", "--stay", "--incident", &id])
        .spawn()
        .expect("spawn a present process");
    let pid = i64::from(child.id());
    let viewing = |v: &serde_json::Value| {
        v.as_array().is_some_and(|rows| {
            rows.iter().any(|r| {
                r["pid"].as_i64() == Some(pid)
                    && r["actor"] == "alice"
                    && r["incident"] == id.as_str()
            })
        })
    };
    let seen = who_until(&env, Duration::from_secs(20), viewing);
    if !seen {
        let _ = child.kill();
    }
    assert!(seen, "the process never showed in `warroom who`");
    let text = env.ok(&["who", "--incident", &id]);
    assert!(text.contains("alice"), "{text}");

    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let gone = who_until(&env, Duration::from_secs(10), |v| !viewing(v));
    assert!(gone, "still present 10 s after SIGKILL");
    assert_eq!(env.ok(&["who"]).trim(), "no console open");
}

#[test]
fn a_stopped_console_leaves_at_once() {
    let env = Env::new();
    let mut child = env
        .cmd()
        .args(["--as", "bob", "who", "--stay"])
        .spawn()
        .expect("spawn a present process");
    let pid = i64::from(child.id());
    let here = |v: &serde_json::Value| {
        v.as_array()
            .is_some_and(|rows| rows.iter().any(|r| r["pid"].as_i64() == Some(pid)))
    };
    let seen = who_until(&env, Duration::from_secs(20), here);
    // SAFETY: kill(2) on our own child's pid, which has not been reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().expect("reaped");
    assert!(seen, "the process never showed in `warroom who`");
    assert!(status.success(), "{status:?}");
    // Left on the way out: gone on the very next look, no staleness wait.
    assert!(!here(&env.json(&["who"])));
}

/// Every leaf command with required arguments, run without them, fails
/// with one line that names each missing one.
#[test]
fn every_subcommand_names_its_missing_arguments() {
    use clap::CommandFactory;
    fn walk(
        cmd: &clap::Command,
        path: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, Vec<String>)>,
    ) {
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() {
            let required: Vec<String> = cmd
                .get_arguments()
                .filter(|a| a.is_required_set() && !a.is_global_set())
                .map(|a| match a.get_long() {
                    Some(long) => format!("--{long}"),
                    None => {
                        let name = a
                            .get_value_names()
                            .and_then(|v| v.first().map(|s| s.to_string()));
                        format!(
                            "<{}>",
                            name.unwrap_or_else(|| a.get_id().to_string().to_uppercase())
                        )
                    }
                })
                .collect();
            if !required.is_empty() {
                out.push((path.clone(), required));
            }
        }
        for s in subs {
            path.push(s.get_name().to_string());
            walk(s, path, out);
            path.pop();
        }
    }
    let mut leaves = Vec::new();
    walk(&warroom::cli::Cli::command(), &mut Vec::new(), &mut leaves);
    assert!(leaves.len() > 10, "{leaves:?}");
    let env = Env::new();
    for (path, required) in &leaves {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let out = env.run(&args);
        for name in required {
            assert_fails(&out, 2, name);
        }
        assert_fails(&out, 2, &format!("(see warroom {} --help)", path.join(" ")));
    }
}
