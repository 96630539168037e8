//! Tampering with the timeline behind warroom's back (triggers dropped, rows
//! edited with plain SQL) must make `warroom verify` fail at the right event.

mod common;

use common::Env;
use rusqlite::Connection;

/// A database with one incident and `n` more events on the live chain
/// (events 1..=n+1), plus the verify output before tampering.
fn setup(n: usize) -> (Env, String) {
    let env = Env::new();
    let id = env.new_incident("tamper target", "P2");
    for i in 0..n {
        env.ok(&["incident", "note", &id, &format!("note {i}")]);
    }
    assert!(env.ok(&["verify"]).contains(&format!("{} events", n + 1)));
    (env, id)
}

/// Opens the file the way an attacker would and removes the guards.
fn tamper(env: &Env, sql: &str) {
    let c = Connection::open(env.db()).unwrap();
    c.execute_batch(
        "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;",
    )
    .unwrap();
    c.execute_batch(sql).unwrap();
}

fn verify_fails_at(env: &Env, args: &[&str], needle: &str) {
    let mut a = vec!["verify"];
    a.extend_from_slice(args);
    let out = env.run(&a);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "verify should fail; stderr: {stderr}"
    );
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    // The JSON form names the same event.
    let mut a = a.clone();
    a.push("--json");
    let out = env.run(&a);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["failure"].is_null(), "{v}");
}

#[test]
fn an_intact_chain_verifies() {
    let (env, _) = setup(5);
    let out = env.run(&["verify", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["events"], 6);
    assert!(v["failure"].is_null());
}

#[test]
fn an_edited_event_is_named() {
    let (env, _) = setup(5);
    tamper(
        &env,
        "UPDATE events SET detail = 'nothing happened' WHERE seq = 3",
    );
    verify_fails_at(
        &env,
        &[],
        "event 3 (live chain #3): its contents do not match its hash",
    );
}

#[test]
fn an_edited_actor_or_time_is_named() {
    let (env, _) = setup(3);
    tamper(
        &env,
        "UPDATE events SET actor = 'someone-else' WHERE seq = 2",
    );
    verify_fails_at(&env, &[], "event 2 ");
    let (env, _) = setup(3);
    tamper(
        &env,
        "UPDATE events SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 4",
    );
    verify_fails_at(&env, &[], "event 4 ");
}

#[test]
fn reordered_events_are_caught_at_the_first_swap() {
    let (env, _) = setup(5);
    // Swap the contents of rows 3 and 4, keeping their row numbers.
    tamper(
        &env,
        "CREATE TEMP TABLE a AS SELECT * FROM events WHERE seq = 3;
         CREATE TEMP TABLE b AS SELECT * FROM events WHERE seq = 4;
         DELETE FROM events WHERE seq IN (3, 4);
         INSERT INTO events SELECT 3, chain, chain_seq, at, actor, incident_id, kind, detail, data, prev_hash, hash FROM b;
         INSERT INTO events SELECT 4, chain, chain_seq, at, actor, incident_id, kind, detail, data, prev_hash, hash FROM a;",
    );
    // Each hash covers its row number, so the first moved event fails.
    verify_fails_at(
        &env,
        &[],
        "event 4 (live chain #3): its contents do not match its hash",
    );

    // A cleverer swap that also swaps the chain positions: the links break.
    let (env, _) = setup(5);
    tamper(
        &env,
        "UPDATE events SET chain_seq = -1 WHERE seq = 3;
         UPDATE events SET chain_seq = 3 WHERE seq = 4;
         UPDATE events SET chain_seq = 4 WHERE seq = 3;",
    );
    verify_fails_at(&env, &[], "event 4 (live chain #3): does not link");
}

#[test]
fn an_event_removed_from_the_middle_is_caught_at_the_gap() {
    let (env, _) = setup(5);
    tamper(&env, "DELETE FROM events WHERE seq = 3");
    verify_fails_at(&env, &[], "event 4 (live chain #4): expected #3");
}

#[test]
fn renumbering_after_a_removal_still_breaks_the_links() {
    let (env, _) = setup(5);
    tamper(
        &env,
        "DELETE FROM events WHERE seq = 3;
         UPDATE events SET chain_seq = chain_seq - 1 WHERE chain_seq > 3;",
    );
    verify_fails_at(&env, &[], "event 4 (live chain #3): does not link");
}

#[test]
fn truncating_the_newest_events_is_caught_by_the_checkpoint() {
    let (env, _) = setup(5);
    let cp = env.dir.path().join("checkpoint.json");
    let cp_s = cp.to_str().unwrap();
    env.ok(&["verify", "--checkpoint", cp_s]);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(written["chains"][0]["chain"], "live");
    assert_eq!(written["chains"][0]["chain_seq"], 6);
    tamper(&env, "DELETE FROM events WHERE seq >= 5");
    // Without the checkpoint the shorter chain is self-consistent...
    env.ok(&["verify"]);
    // ...with it, the truncation shows.
    verify_fails_at(
        &env,
        &["--checkpoint", cp_s],
        "live chain #6: the checkpoint recorded this event but it is gone",
    );
}

#[test]
fn a_rewritten_and_rehashed_chain_is_caught_by_the_checkpoint() {
    let (env, id) = setup(3);
    let cp = env.dir.path().join("checkpoint.json");
    let cp_s = cp.to_str().unwrap();
    env.ok(&["verify", "--checkpoint", cp_s]);
    // Truncate to the first event, then append fresh, self-consistent events
    // through warroom itself: internally valid, but not the recorded history.
    tamper(&env, "DELETE FROM events WHERE seq > 1");
    let c = Connection::open(env.db()).unwrap();
    c.execute_batch(
        "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'x'); END;
         CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'x'); END;",
    )
    .unwrap();
    for i in 0..3 {
        env.ok(&["incident", "note", &id, &format!("forged {i}")]);
    }
    env.ok(&["verify"]);
    verify_fails_at(&env, &["--checkpoint", cp_s], "differs from the checkpoint");
}

#[test]
fn a_good_checkpoint_is_advanced_after_new_events() {
    let (env, id) = setup(2);
    let cp = env.dir.path().join("cp.json");
    let cp_s = cp.to_str().unwrap();
    env.ok(&["verify", "--checkpoint", cp_s]);
    env.ok(&["incident", "note", &id, "later"]);
    assert!(
        env.ok(&["verify", "--checkpoint", cp_s])
            .contains("matches checkpoint")
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cp).unwrap()).unwrap();
    assert_eq!(written["chains"][0]["chain_seq"], 4);
}
