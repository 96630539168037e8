//! Responder alerts fire once across processes: two consoles (in ptys),
//! a headless `warroom alerts` and a running rule watcher (`warroom watch`,
//! whose incident is one of the occasions) on one database. Every alert
//! raised is shown by exactly one of them, with a toast and a bell in the
//! console that took it, and nothing is shown again after the consoles
//! restart.

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

/// Waits until the console's log says its alert check ran `n` times.
fn wait_checks(log: &Path, n: usize) {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches("alerts checked:").count() >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no alert check in {}:\n{text}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn bells(c: &Console) -> usize {
    c.raw().iter().filter(|b| **b == 0x07).count()
}

#[test]
fn each_alert_is_shown_once_across_two_consoles_and_a_watcher_and_never_after_a_restart() {
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
    // The rule watcher, running throughout, opens an incident from a log:
    // its "new incident" alert is one more occasion to show once.
    let watcher = Watcher::start(&sb);
    let log_a = sb.dir.path().join("anna.log");
    let log_b = sb.dir.path().join("ben.log");
    let la = log_a.display().to_string();
    let lb = log_b.display().to_string();
    let mut a = sb.console_as("anna", 120, 40, &[("WARROOM_LOG", &la)]);
    let mut b = sb.console_as("ben", 120, 40, &[("WARROOM_LOG", &lb)]);
    // A third process checks at the same time, as a headless watcher does.
    let cli: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["--as", "watcher", "alerts", "--json", "--no-desktop"]))
            .unwrap();
    let by_cli: Vec<String> = cli
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_string())
        .collect();
    wait_checks(&log_a, 1);
    wait_checks(&log_b, 1);
    // Let the toasts draw.
    std::thread::sleep(Duration::from_millis(500));

    let raised: Vec<String> = Store::open(&sb.db())
        .unwrap()
        .alerts_since(chrono::DateTime::<Utc>::MIN_UTC)
        .unwrap()
        .into_iter()
        .map(|a| a.key)
        .collect();
    let by_a = shown_in_log(&log_a);
    let by_b = shown_in_log(&log_b);
    // The occasions expected are all there.
    for want in [":response:", ":customer_notice:", "role:", ":new"] {
        assert!(
            raised.iter().any(|k| k.contains(want)),
            "no {want} alert in {raised:?}"
        );
    }
    let mut shown: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (who, keys) in [("anna", &by_a), ("ben", &by_b), ("watcher", &by_cli)] {
        for k in keys {
            shown.entry(k.as_str()).or_default().push(who);
        }
    }
    for key in &raised {
        let who = shown.get(key.as_str()).cloned().unwrap_or_default();
        assert_eq!(who.len(), 1, "{key} shown by {who:?}");
    }
    assert_eq!(
        shown.len(),
        raised.len(),
        "shown {shown:?}, raised {raised:?}"
    );
    // Only anna computes (and so shows) her role alert.
    let role_key = raised.iter().find(|k| k.starts_with("role:")).unwrap();
    assert_eq!(shown[role_key.as_str()], ["anna"]);
    // The console that showed alerts rang the bell and shows a toast; a
    // console that showed none stayed silent.
    assert!(bells(&a) >= 1, "anna's console did not ring");
    a.wait_text(" ALERT ");
    assert_eq!(bells(&b) > 0, !by_b.is_empty());

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

#[test]
fn the_console_hands_its_alerts_to_the_desktop_and_stays_quiet_without_a_bus() {
    let sb = Env::new();
    // A P1: its customer notice is due at once.
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
    let bus = Bus::start();
    let calls = notification_server(&bus.address);
    let mut c = sb.console(120, 40, &[("DBUS_SESSION_BUS_ADDRESS", &bus.address)]);
    let Notified { summary, body, .. } = calls
        .recv_timeout(Duration::from_secs(15))
        .expect("a Notify call from the console");
    assert_eq!(summary, format!("warroom: {id}"));
    assert!(body.contains("Customer notice is due now"), "{body}");
    let screen = c.wait_text(" ALERT ");
    assert!(!screen.contains("ERROR"), "{screen}");
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
    drop(bus);

    // No bus at that address: the toast and bell, and nothing else.
    let sb = Env::new();
    sb.ok(&["incident", "new", "--title", "Also due", "--severity", "P1"]);
    let no_bus = format!("unix:path={}/no-bus-here", sb.dir.path().display());
    let mut c = sb.console(120, 40, &[("DBUS_SESSION_BUS_ADDRESS", &no_bus)]);
    c.wait_text(" ALERT ");
    // Past the notifier's attempt, still no error on screen.
    std::thread::sleep(Duration::from_millis(1500));
    let screen = c.screen();
    assert!(!screen.contains("ERROR"), "{screen}");
    assert!(bells(&c) >= 1);
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}
