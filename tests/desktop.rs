//! Desktop notifications over a real D-Bus session bus started by the test
//! (Debian's `dbus`, installed by .ci/run), with a small notification
//! server of our own on it that records every
//! `org.freedesktop.Notifications.Notify` call; and, without a bus, the
//! quiet fallback.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::Env;
use futures::StreamExt;

const T0: &str = "2024-01-15T14:30:00Z";
const LATER: &str = "2024-01-15T14:50:00Z";

/// A private session bus; killed when dropped.
struct Bus {
    daemon: Child,
    address: String,
}

impl Bus {
    fn start() -> Bus {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus; .ci/run installs it)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        Bus { daemon, address }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// One Notify call as the server received it.
#[derive(Debug, Clone)]
struct Notified {
    app_name: String,
    summary: String,
    body: String,
    urgency: Option<u8>,
}

type NotifyArgs = (
    String,
    u32,
    String,
    String,
    String,
    Vec<String>,
    HashMap<String, zbus::OwnedVariant>,
    i32,
);

/// Runs a notification server on the bus: owns
/// `org.freedesktop.Notifications`, answers Notify with an id and reports
/// each call. Returns once the name is owned.
fn notification_server(address: &str) -> mpsc::Receiver<Notified> {
    let (calls_tx, calls_rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    let address = address.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let conn = zbus::connection::Builder::address(address.as_str())
                .build()
                .await
                .unwrap();
            conn.request_name("org.freedesktop.Notifications")
                .await
                .unwrap();
            ready_tx.send(()).unwrap();
            let mut stream = zbus::MessageStream::from(&conn);
            let mut next_id = 1u32;
            while let Some(Ok(msg)) = stream.next().await {
                if msg.message_type() != zbus::message::Type::MethodCall {
                    continue;
                }
                let header = msg.header();
                match header.member().map(|m| m.as_str()) {
                    Some("Notify") => {
                        let body = msg.body();
                        let (app_name, _, _, summary, text, _, hints, _): NotifyArgs =
                            body.deserialize().unwrap();
                        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
                        conn.reply(&header, &next_id).await.unwrap();
                        next_id += 1;
                        let _ = calls_tx.send(Notified {
                            app_name,
                            summary,
                            body: text,
                            urgency,
                        });
                    }
                    Some("GetCapabilities") => {
                        conn.reply(&header, &vec!["body".to_string()])
                            .await
                            .unwrap();
                    }
                    Some("GetServerInformation") => {
                        conn.reply(&header, &("fake", "warroom-tests", "1", "1.2"))
                            .await
                            .unwrap();
                    }
                    _ => {}
                }
            }
        });
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the notification server took its name on the bus");
    calls_rx
}

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
    // P1 at 14:50: response breached (due 14:45) and customer notice due
    // at once; one notification each.
    assert_eq!(got.len(), 2, "{got:?}");
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
    assert!(got.iter().any(|n| n.summary == "warroom: clock due now"));

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
    assert_eq!(lines.len(), 2, "{stdout}");
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
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
}
