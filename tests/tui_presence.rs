//! Who is on the bridge: two consoles in pseudo-terminals on one database
//! see each other in the header; a console killed without a word drops
//! out of the other's header within 10 s, and one that quits goes at once.

mod common;

use std::time::{Duration, Instant};

use common::Env;

fn sigkill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -KILL {pid}");
}

#[test]
fn each_console_shows_the_other_and_a_killed_one_is_gone_within_ten_seconds() {
    let env = Env::new();
    env.new_incident("Possible exfiltration from the customer database", "P1");
    let mut alice = env.console_as("alice", 120, 40, &[]);
    alice.wait_text("open incident");
    let mut bob = env.console_as("bob", 120, 40, &[]);
    bob.wait_for("alice in bob's header", Duration::from_secs(10), |s| {
        s.lines().next().is_some_and(|h| h.contains("with alice"))
    });
    alice.wait_for("bob in alice's header", Duration::from_secs(10), |s| {
        s.lines().next().is_some_and(|h| h.contains("with bob"))
    });
    // Nobody is listed twice, and never oneself.
    let head = alice
        .screen()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(!head.contains("with alice"), "{head}");

    let killed = Instant::now();
    sigkill(bob.pid().expect("bob's pid"));
    alice.wait_for(
        "bob gone from alice's header",
        Duration::from_secs(10),
        |s| s.lines().next().is_some_and(|h| !h.contains("bob")),
    );
    assert!(killed.elapsed() <= Duration::from_secs(10));
}

#[test]
fn a_console_that_quits_leaves_the_bridge_at_once() {
    let env = Env::new();
    let mut alice = env.console_as("alice", 100, 30, &[]);
    alice.wait_text("open incident");
    let mut carol = env.console_as("carol", 100, 30, &[]);
    alice.wait_for("carol in alice's header", Duration::from_secs(10), |s| {
        s.lines().next().is_some_and(|h| h.contains("with carol"))
    });
    carol.send(b"q");
    carol.wait_exit(Duration::from_secs(10));
    // Gone on the next beat (2 s), well before the 6 s a silent one takes.
    alice.wait_for("carol gone", Duration::from_secs(4), |s| {
        s.lines().next().is_some_and(|h| !h.contains("carol"))
    });
    let who = env.ok(&["who", "--json"]);
    assert!(!who.contains("carol"), "{who}");
}
