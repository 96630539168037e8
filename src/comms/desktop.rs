//! Desktop notifications over the D-Bus session bus (notify-rust). Without
//! a session bus (a server, an SSH session) the alert is simply not shown
//! on a desktop: nothing is printed, the reason goes to the log, and the
//! console's own toast and bell still carry it.

use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use notify_rust::{Notification, Timeout, Urgency};

/// How long to wait for the bus before giving up on the desktop.
const BUS_TIMEOUT: Duration = Duration::from_secs(5);

/// After a bus that did not answer within [`BUS_TIMEOUT`], desktop
/// notifications are skipped (quietly, as without a bus) for this long, so
/// a hung bus costs one wait rather than one per alert.
const PAUSE_AFTER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Until when desktop notifications are paused in this process.
static PAUSED_UNTIL: Mutex<Option<Instant>> = Mutex::new(None);

fn paused() -> bool {
    let mut until = PAUSED_UNTIL.lock().unwrap_or_else(|p| p.into_inner());
    match *until {
        Some(t) if Instant::now() < t => true,
        Some(_) => {
            *until = None;
            false
        }
        None => false,
    }
}

fn pause() {
    *PAUSED_UNTIL.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(Instant::now() + PAUSE_AFTER_TIMEOUT);
}

/// A bus was reached but the notification was refused or timed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("desktop notification failed: {0}")]
pub struct DesktopError(pub String);

/// Whether a session bus is configured at all (`DBUS_SESSION_BUS_ADDRESS`,
/// or the `$XDG_RUNTIME_DIR/bus` socket).
pub fn session_bus_configured() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|d| std::path::Path::new(&d).join("bus").exists())
}

/// Markup-capable servers read `<`, `>` and `&` in the body as markup.
fn escape_body(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Shows a desktop notification. `Ok(true)`: the notification server took
/// it. `Ok(false)`: there is no session bus to reach (logged, not an
/// error). `Err`: a bus answered but the notification failed (callers log
/// it; the user still sees the alert in the console).
///
/// Runs on its own thread, so it may be called from anywhere, including
/// inside the console's async runtime. It waits for the bus at most
/// [`BUS_TIMEOUT`]; after a bus that did not answer, calls return
/// `Ok(false)` at once for a few minutes.
pub fn notify(summary: &str, body: &str) -> Result<bool, DesktopError> {
    notify_with(summary, body, false)
}

/// Like [`notify`], with critical urgency when `urgent`.
pub fn notify_with(summary: &str, body: &str, urgent: bool) -> Result<bool, DesktopError> {
    if !session_bus_configured() {
        tracing::debug!("no session bus: desktop notification not shown");
        return Ok(false);
    }
    if paused() {
        tracing::debug!("desktop notifications paused (the bus did not answer): not shown");
        return Ok(false);
    }
    let summary = summary.to_string();
    let body = escape_body(body);
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("desktop-notify".into())
        .spawn(move || {
            let result = (|| {
                // Reaching the bus at all tells "no bus" from "bus, but
                // the notification failed".
                // (The probe's connection is dropped inside the runtime.)
                let probe = zbus::block_on(async { zbus::Connection::session().await.map(drop) });
                if let Err(e) = probe {
                    return Ok(Err(e.to_string()));
                }
                Notification::new()
                    .appname("warroom")
                    .summary(&summary)
                    .body(&body)
                    .urgency(if urgent {
                        Urgency::Critical
                    } else {
                        Urgency::Normal
                    })
                    .timeout(if urgent {
                        Timeout::Never
                    } else {
                        Timeout::Default
                    })
                    .show()
                    .map(|_| Ok(()))
                    .map_err(|e| e.to_string())
            })();
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(DesktopError(format!("cannot start a thread: {e}")));
    }
    match rx.recv_timeout(BUS_TIMEOUT) {
        Ok(Ok(Ok(()))) => Ok(true),
        Ok(Ok(Err(no_bus))) => {
            tracing::info!("session bus unreachable ({no_bus}): desktop notification not shown");
            Ok(false)
        }
        Ok(Err(e)) => Err(DesktopError(e)),
        Err(_) => {
            pause();
            tracing::warn!(
                "desktop notifications paused for {}s: the session bus did not answer",
                PAUSE_AFTER_TIMEOUT.as_secs()
            );
            Err(DesktopError(format!(
                "no answer from the session bus within {}s",
                BUS_TIMEOUT.as_secs()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_markup_is_escaped() {
        assert_eq!(escape_body("a <b> & c"), "a &lt;b&gt; &amp; c");
    }
}
