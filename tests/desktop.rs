//! Desktop notifications over a real D-Bus session bus started by the test
//! (Debian's `dbus`, installed by .ci/run), with a small notification
//! server of our own on it that records every
//! `org.freedesktop.Notifications.Notify` call; and, without a bus, the
//! quiet fallback.

mod common;
mod session_bus;

use std::time::Duration;

use common::Env;
use session_bus::{Bus, Notified, notification_server};

const T0: &str = "2024-01-15T14:30:00Z";
const LATER: &str = "2024-01-15T14:50:00Z";

fn p1_incident(env: &Env) -> String {
    let out = env
        .cmd()
        .env("WARROOM_NOW", T0)
        .args([
            "incident",
            "new",
            "--title",
            "Login <API> down",
            "--severity",
            "P1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn alerts_reach_the_desktop_over_a_real_session_bus() {
    let bus = Bus::start();
    let calls = notification_server(&bus.address);
    let env = Env::new();
    let id = p1_incident(&env);

    let out = env
        .cmd()
        .env("WARROOM_NOW", LATER)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .args(["alerts"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}");

    let mut got: Vec<Notified> = Vec::new();
    while let Ok(n) = calls.recv_timeout(Duration::from_secs(if got.is_empty() { 10 } else { 1 })) {
        got.push(n);
    }
    // P1 at 14:50: response breached (due 14:45), customer notice breached
    // (due at once, 5 minutes' grace), and two escalation steps (14:45,
    // 14:50) that name nobody in the shipped policy; one notification each.
    assert_eq!(got.len(), 4, "{got:?}");
    let breach = got
        .iter()
        .find(|n| n.summary == "warroom: clock breached")
        .unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(breach.app_name, "warroom");
    assert_eq!(
        breach.body,
        format!("{id} P1 Login &lt;API&gt; down: Response clock BREACHED, was due 14:45 UTC"),
        "markup in the title is escaped"
    );
    assert_eq!(breach.urgency, Some(2), "a breach is critical");
    assert_eq!(
        got.iter()
            .filter(|n| n.summary == "warroom: escalation")
            .count(),
        2
    );

    // Raised once: a second run shows nothing, on the desktop or stdout.
    let out = env
        .cmd()
        .env("WARROOM_NOW", LATER)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .args(["alerts"])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty());
    assert!(calls.recv_timeout(Duration::from_millis(500)).is_err());
}

#[test]
fn without_a_session_bus_alerts_fall_back_quietly() {
    let env = Env::new();
    let id = p1_incident(&env);
    let out = env
        .cmd()
        .env("WARROOM_NOW", LATER)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus-here", env.dir.path().display()),
        )
        .args(["alerts"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "nothing about the desktop is shown: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines.iter().all(|l| l.contains(&id)), "{stdout}");
    let lower = stdout.to_lowercase();
    assert!(
        !lower.contains("bus") && !lower.contains("desktop"),
        "{stdout}"
    );
    // The reason is in the log, for whoever looks.
    let log = std::fs::read_to_string(env.dir.path().join("warroom.log")).unwrap();
    assert!(log.contains("desktop notification not shown"), "{log}");

    // And with no bus configured at all.
    let env = Env::new();
    p1_incident(&env);
    let out = env
        .cmd()
        .env("WARROOM_NOW", LATER)
        .args(["alerts"])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 4);
}

/// A "session bus" that accepts connections and never says a word: a hung
/// dbus-daemon, or a socket left behind by something else. Counts the
/// connections made to it until dropped.
struct SilentBus {
    path: std::path::PathBuf,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentBus {
    fn start(dir: &std::path::Path) -> SilentBus {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let path = dir.join("silent-bus");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let connections = std::sync::Arc::new(AtomicUsize::new(0));
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (c, s) = (connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        held.push(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        SilentBus {
            path,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn address(&self) -> String {
        format!("unix:path={}", self.path.display())
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for SilentBus {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_bus_that_does_not_answer_is_given_up_on_once_not_once_per_alert() {
    let env = Env::new();
    let config = env.dir.path().join("xdg-config/warroom");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("comms.toml"),
        "[alerts]\nescalation = [\"ciso@example.com\", \"bob\"]\n",
    )
    .unwrap();
    let id = p1_incident(&env);
    let bus = SilentBus::start(env.dir.path());

    // Five alerts are due (two breaches; the first escalation step to the
    // two contacts, the second naming nobody). The silent bus costs one
    // wait, not five: after it, desktop notifications
    // are off for a while and the alerts are still printed, with nothing
    // about the desktop shown to the user.
    let out = env
        .cmd()
        .env("WARROOM_NOW", LATER)
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .args(["alerts"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    assert!(stdout.lines().all(|l| l.contains(&id)), "{stdout}");
    assert_eq!(
        bus.connections(),
        1,
        "one attempt at the silent bus, not one per alert"
    );
    let log = std::fs::read_to_string(env.dir.path().join("warroom.log")).unwrap();
    assert!(log.contains("desktop notifications paused"), "{log}");
}
