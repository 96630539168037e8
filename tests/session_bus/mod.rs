//! A private D-Bus session bus for the tests (Debian's `dbus`, installed by
//! .ci/run) and a small notification server of our own on it that records
//! every `org.freedesktop.Notifications.Notify` call. Test files that need
//! them say `mod session_bus;`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures::StreamExt;

/// A private session bus; killed when dropped.
pub struct Bus {
    daemon: Child,
    pub address: String,
}

impl Bus {
    pub fn start() -> Bus {
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
pub struct Notified {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub urgency: Option<u8>,
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
pub fn notification_server(address: &str) -> mpsc::Receiver<Notified> {
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
