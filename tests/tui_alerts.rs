//! Responder alerts on every console: two consoles (in ptys), a headless
//! `warroom alerts` and a running rule watcher (`warroom watch`, whose
//! incident is one of the occasions) on one database. Raising (and
//! delivering) each alert is once across processes; showing is per
//! console: every console shows every alert raised after it opened (toast
//! and bell), whichever process raised it, keeps it in its alert list
//! after the toast is gone, and each user gets its desktop notification
//! once. Nothing is shown again after the consoles restart.

mod common;
mod session_bus;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::Env;
use common::pty::Console;
use session_bus::{Bus, Notified, notification_server};
use warroom::domain::roles::Role;
use warroom::domain::{Playbook, Severity};
use warroom::store::{NewIncident, Store};

/// Keys an "alert shown: KEY" line names in a console's log.
fn shown_in_log(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split("alert shown: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Waits until the console's log says `needle` `n` times.
fn wait_log(log: &Path, needle: &str, n: usize) {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches(needle).count() >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no {needle:?} in {}:\n{text}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the console's log says its alert check ran `n` times.
fn wait_checks(log: &Path, n: usize) {
    wait_log(log, "alerts checked:", n);
}

/// Waits until the console follows the alert log (its cursor is set).
fn wait_feed(log: &Path) {
    wait_log(log, "alert feed: from #", 1);
}

fn bells(c: &Console) -> usize {
    c.raw().iter().filter(|b| **b == 0x07).count()
}

/// Waits for a bell: it is written just after the frame that shows the
/// toast, so the log (and even the screen) can be ahead of it.
fn wait_bell(c: &Console, who: &str) {
    let start = Instant::now();
    while bells(c) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{who}'s console did not ring"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_console_shows_every_alert_whoever_raised_it_and_nothing_again_after_a_restart() {
    let sb = Env::new();
    let now = Utc::now();
    {
        let mut store = Store::open(&sb.db()).unwrap();
        let pb = Playbook::builtin();
        // A P2 detected 50 minutes ago: its one-hour response clock is
        // past 75% (near).
        let mut near = NewIncident::new("Response nearly due", Severity::P2);
        near.summary = "near".into();
        store
            .create_incident(&near, &pb, "carol", now - chrono::Duration::minutes(50))
            .unwrap();
        // A P1 declared now: its customer notice is due at once.
        store
            .create_incident(
                &NewIncident::new("Notice due now", Severity::P1),
                &pb,
                "carol",
                now,
            )
            .unwrap();
        // Anna is given the ops role by carol: an alert for anna only.
        let p3 = store
            .create_incident(
                &NewIncident::new("Role for anna", Severity::P3),
                &pb,
                "carol",
                now,
            )
            .unwrap();
        store
            .assign_role(&p3.id, Role::Ops, "anna", "carol", now)
            .unwrap();
    }
    let log_a = sb.dir.path().join("anna.log");
    let log_b = sb.dir.path().join("ben.log");
    let la = log_a.display().to_string();
    let lb = log_b.display().to_string();
    let mut a = sb.console_as("anna", 120, 40, &[("WARROOM_LOG", &la)]);
    let mut b = sb.console_as("ben", 120, 40, &[("WARROOM_LOG", &lb)]);
    wait_feed(&log_a);
    wait_feed(&log_b);
    // The rule watcher, started after the consoles, opens an incident from
    // a log: its "new incident" alert is raised by another process.
    let watcher = Watcher::start(&sb);
    // A third process checks at the same time, as a headless watcher does.
    sb.ok(&["--as", "watcher", "alerts", "--json", "--no-desktop"]);
    wait_checks(&log_a, 1);
    wait_checks(&log_b, 1);

    // Whom each alert is for: everyone, or one name.
    let expected = |raised: &[warroom::store::NewAlert], who: &str| -> Vec<String> {
        raised
            .iter()
            .filter(|r| r.recipient.as_deref().is_none_or(|x| x == who))
            .map(|r| r.key.clone())
            .collect()
    };
    let start = Instant::now();
    let raised = loop {
        let raised = Store::open(&sb.db())
            .unwrap()
            .alerts_since(chrono::DateTime::<Utc>::MIN_UTC)
            .unwrap();
        let (by_a, by_b) = (shown_in_log(&log_a), shown_in_log(&log_b));
        let all_there = [":response:", ":customer_notice:", "role:", ":new"]
            .iter()
            .all(|want| raised.iter().any(|r| r.key.contains(want)));
        let done = |shown: &[String], who| expected(&raised, who).iter().all(|k| shown.contains(k));
        if all_there && done(&by_a, "anna") && done(&by_b, "ben") {
            break raised;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not every alert shown on both consoles:\nraised {:?}\nanna {by_a:?}\nben {by_b:?}",
            raised.iter().map(|r| &r.key).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Each console showed each alert for it exactly once, and nothing else
    // (on purpose no longer "shown by exactly one process": raising and
    // delivering are once, showing is per console).
    for (who, log) in [("anna", &log_a), ("ben", &log_b)] {
        let mut shown: BTreeMap<String, usize> = BTreeMap::new();
        for k in shown_in_log(log) {
            *shown.entry(k).or_default() += 1;
        }
        for k in expected(&raised, who) {
            assert!(shown.contains_key(&k), "{who} did not show {k}: {shown:?}");
        }
        // Read again: an alert raised since is allowed, nothing else.
        let now_raised = Store::open(&sb.db())
            .unwrap()
            .alerts_since(chrono::DateTime::<Utc>::MIN_UTC)
            .unwrap();
        let allowed = expected(&now_raised, who);
        for (k, n) in &shown {
            assert_eq!(*n, 1, "{who} showed {k} {n} times");
            assert!(allowed.contains(k), "{who} showed {k}, not for them");
        }
    }
    // Anna's role alert is not toasted on ben's console.
    let role_key = &raised
        .iter()
        .find(|r| r.key.starts_with("role:"))
        .unwrap()
        .key;
    assert!(!shown_in_log(&log_b).contains(role_key));
    // The watcher's alert, raised by another process, reached both.
    let new_key = &raised.iter().find(|r| r.key.contains(":new")).unwrap().key;
    assert!(shown_in_log(&log_a).contains(new_key));
    assert!(shown_in_log(&log_b).contains(new_key));
    // Both rang and show a toast.
    wait_bell(&a, "anna");
    wait_bell(&b, "ben");
    a.wait_text(" ALERT ");
    b.wait_text(" ALERT ");

    // Quit both; restart them: nothing is shown or rung again.
    for c in [&mut a, &mut b] {
        c.type_text("q");
        assert!(c.wait_exit(Duration::from_secs(10)).success());
    }
    let log_a2 = sb.dir.path().join("anna2.log");
    let log_b2 = sb.dir.path().join("ben2.log");
    let (la2, lb2) = (log_a2.display().to_string(), log_b2.display().to_string());
    let a2 = sb.console_as("anna", 120, 40, &[("WARROOM_LOG", &la2)]);
    let b2 = sb.console_as("ben", 120, 40, &[("WARROOM_LOG", &lb2)]);
    wait_checks(&log_a2, 1);
    wait_checks(&log_b2, 1);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(shown_in_log(&log_a2).is_empty());
    assert!(shown_in_log(&log_b2).is_empty());
    let text = std::fs::read_to_string(&log_a2).unwrap();
    assert!(text.contains("0 raised here"), "{text}");
    assert_eq!(bells(&a2), 0);
    assert_eq!(bells(&b2), 0);
    watcher.stop();
}

/// A real `warroom watch` on a small auth log whose three failed logins
/// open one incident; stopped (SIGTERM) by `stop` or when dropped.
struct Watcher(std::process::Child);

impl Watcher {
    fn start(sb: &Env) -> Watcher {
        let rules = sb.dir.path().join("failures.yml");
        std::fs::write(
            &rules,
            r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+) port'
rules:
  - rule: repeated failed logins
    condition: fail > 2 in 10 minutes
    severity: high
    action: create_incident
"#,
        )
        .unwrap();
        let auth = sb.dir.path().join("auth.log");
        let at = Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        let lines: String = (0..3)
            .map(|i| format!("{at} web sshd[9{i}]: Failed password for root from 203.0.113.9 port 4{i} ssh2\n"))
            .collect();
        std::fs::write(&auth, lines).unwrap();
        let child = sb
            .cmd()
            .args([
                "--as",
                "watcher",
                "watch",
                "--from-beginning",
                "--poll-ms",
                "50",
            ])
            .arg("--rules")
            .arg(&rules)
            .arg("--")
            .arg(&auth)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start warroom watch");
        let watcher = Watcher(child);
        // Wait for its incident, so the consoles' first check sees it.
        let start = Instant::now();
        loop {
            let list: Vec<serde_json::Value> =
                serde_json::from_str(&sb.ok(&["incident", "list", "--json"])).unwrap();
            if list.len() == 4 {
                return watcher;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the watcher opened no incident: {list:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(mut self) {
        let pid = self.0.id().to_string();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM {pid}");
        let status = self.0.wait().unwrap();
        assert!(status.success(), "warroom watch ended with {status}");
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every Notify call until none has come for `quiet`.
fn notified_until_quiet(
    calls: &std::sync::mpsc::Receiver<Notified>,
    first: Duration,
    quiet: Duration,
) -> Vec<Notified> {
    let mut out = Vec::new();
    let mut wait = first;
    while let Ok(n) = calls.recv_timeout(wait) {
        out.push(n);
        wait = quiet;
    }
    out
}

#[test]
fn two_consoles_show_an_alert_the_list_keeps_it_and_each_user_is_notified_once() {
    let sb = Env::new();
    let bus = Bus::start();
    let calls = notification_server(&bus.address);
    let logs: Vec<_> = ["t1", "t2", "carol"]
        .iter()
        .map(|n| sb.dir.path().join(format!("{n}.log")))
        .collect();
    let ls: Vec<String> = logs.iter().map(|l| l.display().to_string()).collect();
    let dbus = ("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str());
    // Two consoles of one login user (tester), one of another (carol).
    let mut c1 = sb.console(120, 40, &[dbus, ("WARROOM_LOG", &ls[0])]);
    let mut c2 = sb.console(120, 40, &[dbus, ("WARROOM_LOG", &ls[1])]);
    let mut c3 = sb.console(120, 40, &[dbus, ("WARROOM_LOG", &ls[2]), ("USER", "carol")]);
    for l in &logs {
        wait_feed(l);
    }
    // A P1 declared after the consoles opened: its customer notice is due
    // at once.
    let id = sb
        .ok(&[
            "incident",
            "new",
            "--title",
            "Notice due now",
            "--severity",
            "P1",
        ])
        .trim()
        .to_string();
    // Both users get each notification once: tester from one of its two
    // consoles, carol from hers.
    let got = notified_until_quiet(&calls, Duration::from_secs(20), Duration::from_secs(3));
    let mut by_body: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &got {
        assert_eq!(n.summary, format!("warroom: {id}"));
        *by_body.entry(n.body.as_str()).or_default() += 1;
    }
    assert!(
        by_body
            .keys()
            .any(|b| b.contains("Customer notice is due now")),
        "{got:?}"
    );
    assert!(by_body.values().all(|n| *n == 2), "{by_body:?}");
    // Every console shows it (toast and bell), whoever raised it.
    for c in [&mut c1, &mut c2, &mut c3] {
        let screen = c.wait_text(" ALERT ");
        assert!(!screen.contains("ERROR"), "{screen}");
        wait_bell(c, "a");
    }
    // After the toast is gone, the alert list still has it.
    let screen = c2.wait_for("the toast to go", Duration::from_secs(40), |s| {
        !s.contains(" ALERT ")
    });
    assert!(screen.contains("new alert"), "{screen}");
    c2.type_text("!");
    let list = c2.wait_text("Customer notice is due now");
    assert!(list.contains(&id), "{list}");
    assert!(list.contains("Acked"), "{list}");
    // Enter opens its incident.
    c2.key_enter();
    c2.wait_text("Checklist");
    for c in [&mut c1, &mut c2, &mut c3] {
        c.type_text("q");
        assert!(c.wait_exit(Duration::from_secs(10)).success());
    }
    drop(bus);

    // No bus at that address: the toast and bell, and nothing else.
    let sb = Env::new();
    let no_bus = format!("unix:path={}/no-bus-here", sb.dir.path().display());
    let log = sb.dir.path().join("nobus.log");
    let l = log.display().to_string();
    let mut c = sb.console(
        120,
        40,
        &[("DBUS_SESSION_BUS_ADDRESS", &no_bus), ("WARROOM_LOG", &l)],
    );
    wait_feed(&log);
    sb.ok(&["incident", "new", "--title", "Also due", "--severity", "P1"]);
    c.wait_text(" ALERT ");
    // Past the notifier's attempt, still no error on screen.
    std::thread::sleep(Duration::from_millis(1500));
    let screen = c.screen();
    assert!(!screen.contains("ERROR"), "{screen}");
    wait_bell(&c, "the bus-less");
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}
