//! Delivery of sent messages: an outbox directory, a command, OSC 52. The
//! one part of the comms room that does I/O.
//!
//! What a sink receives: for an *email audience* (one with recipients in
//! comms.toml) an RFC 5322 message (`.eml`: Date, From, To, Subject,
//! Message-ID, MIME-Version, `text/plain; charset=utf-8`, CRLF line ends,
//! non-ASCII headers encoded); otherwise the message text itself. OSC 52
//! always carries the text (it is for pasting).
//!
//! [`send`] and [`retry`] are the whole path the console and the CLI share:
//! the message is recorded first (`Store::send_message`), then each sink is
//! tried and its outcome recorded; a failure leaves the delivery failed and
//! retryable, and older failures of the incident are retried on the next
//! send.

use std::fs::DirBuilder;
use std::io::{Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use serde::Serialize;

use super::config::{CommsConfig, Mailbox, SinkConfig, SinkKind};
use crate::domain::IncidentId;
use crate::store::{
    AlertClaim, AlertDeliveryState, Delivery, DetectionRecord, NewAlert, NewMessage, SentMessage,
    Store, StoreError,
};
use crate::text::display_safe;

/// A pending delivery untouched for this long is taken to be abandoned by a
/// sender that died, and is retried. Longer than any sane command timeout.
pub const STALE_PENDING: Duration = Duration::from_secs(5 * 60);

/// At most this much of a failing command's stderr is kept.
const STDERR_KEEP: usize = 2000;

/// What a message becomes for a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub bytes: Vec<u8>,
    /// True for an RFC 5322 message, false for plain text.
    pub eml: bool,
}

/// A successful delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Where it went, for the record ("wrote /var/outbox/...").
    pub detail: String,
    /// OSC 52 only: the escape sequence the caller must write to its own
    /// terminal (the console from its render thread, the CLI to its tty).
    pub terminal: Option<String>,
}

/// The subject of a message: `[INC-2026-001] Security incident notification`.
pub fn subject(msg: &SentMessage) -> String {
    let drill = if msg.drill { "[DRILL] " } else { "" };
    format!(
        "{drill}[{}] {}",
        msg.incident_id,
        msg.audience.message_title()
    )
}

/// The Message-ID (without angle brackets). Derived from the message, so a
/// retry sends the same id and receivers can drop duplicates.
pub fn message_id(msg: &SentMessage, config: &CommsConfig) -> String {
    format!(
        "warroom.{}.{}.{}@{}",
        msg.incident_id,
        msg.id,
        msg.sha256.get(..12).unwrap_or(&msg.sha256),
        config.from.domain()
    )
}

/// The message as an RFC 5322 email to the audience's recipients.
pub fn render_eml(msg: &SentMessage, config: &CommsConfig) -> Vec<u8> {
    build_eml(
        config,
        &Envelope {
            to: config.recipients(msg.audience),
            subject: subject(msg),
            date: msg.sent_at,
            message_id: message_id(msg, config),
            incident_id: &msg.incident_id,
            drill: msg.drill,
        },
        &msg.body,
    )
}

/// The headers of an email that vary by message.
struct Envelope<'a> {
    to: &'a [Mailbox],
    subject: String,
    date: DateTime<Utc>,
    message_id: String,
    incident_id: &'a str,
    drill: bool,
}

/// An RFC 5322 message from the configured sender. Headers are built by
/// mail-builder (non-ASCII names and subjects encoded; addresses are ASCII
/// by `Mailbox::parse`); the body gets CRLF line ends.
fn build_eml(config: &CommsConfig, env: &Envelope<'_>, body: &str) -> Vec<u8> {
    let mailbox = |m: &Mailbox| -> Address<'static> {
        match &m.name {
            Some(n) => Address::from((n.clone(), m.address.clone())),
            None => Address::from(m.address.clone()),
        }
    };
    let to: Vec<Address<'static>> = env.to.iter().map(mailbox).collect();
    // Bodies are stored with the line ends they were typed with; mail
    // wants CRLF.
    let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
    let mut builder = MessageBuilder::new()
        .from(mailbox(&config.from))
        .to(to)
        .subject(env.subject.clone())
        .date(env.date.timestamp())
        .message_id(env.message_id.clone())
        .header(
            "X-Warroom-Incident",
            mail_builder::headers::raw::Raw::new(env.incident_id.to_string()),
        )
        .text_body(crlf);
    if env.drill {
        // For mail filters: an exercise, whatever its text says.
        builder = builder.header(
            "X-Warroom-Drill",
            mail_builder::headers::raw::Raw::new("yes"),
        );
    }
    let mut out = Vec::with_capacity(body.len() + 512);
    builder.serialize(&mut out);
    out
}

/// What a sink receives for this message (see the module docs).
pub fn payload(msg: &SentMessage, config: &CommsConfig) -> Payload {
    if config.recipients(msg.audience).is_empty() {
        Payload {
            bytes: msg.body.as_bytes().to_vec(),
            eml: false,
        }
    } else {
        Payload {
            bytes: render_eml(msg, config),
            eml: true,
        }
    }
}

/// `ESC ] 52 ; c ; BASE64 BEL`: puts `body` on the clipboard of the
/// terminal that receives it (over SSH too).
pub fn osc52_sequence(body: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(body.as_bytes())
    )
}

/// Delivers one message through one sink. Errors are one line saying what
/// failed, for the record and the person.
pub fn deliver(
    sink: &SinkConfig,
    msg: &SentMessage,
    config: &CommsConfig,
) -> Result<Delivered, String> {
    match &sink.kind {
        SinkKind::Outbox { dir } => {
            let p = payload(msg, config);
            write_outbox(dir, &outbox_file_name(msg, p.eml), &p.bytes).map(|p| Delivered {
                detail: format!("wrote {}", p.display()),
                terminal: None,
            })
        }
        SinkKind::Command { argv, timeout } => {
            let p = payload(msg, config);
            let env = [
                ("WARROOM_INCIDENT", msg.incident_id.clone()),
                ("WARROOM_AUDIENCE", msg.audience.as_str().to_string()),
                ("WARROOM_MESSAGE_ID", msg.id.to_string()),
                ("WARROOM_SHA256", msg.sha256.clone()),
                ("WARROOM_SUBJECT", subject(msg)),
                (
                    "WARROOM_DRILL",
                    if msg.drill { "1" } else { "0" }.to_string(),
                ),
                (
                    "WARROOM_FORMAT",
                    if p.eml { "eml" } else { "text" }.to_string(),
                ),
            ];
            run_command(argv, &p.bytes, &env, *timeout).map(|detail| Delivered {
                detail,
                terminal: None,
            })
        }
        SinkKind::Osc52 { max_bytes } => {
            if msg.body.len() > *max_bytes {
                return Err(format!(
                    "the message is {} bytes; OSC 52 sink '{}' copies at most {max_bytes} (max_bytes in comms.toml)",
                    msg.body.len(),
                    sink.name
                ));
            }
            Ok(Delivered {
                detail: format!(
                    "copied {} bytes to the terminal clipboard (OSC 52)",
                    msg.body.len()
                ),
                terminal: Some(osc52_sequence(&msg.body)),
            })
        }
    }
}

/// `INC-2026-001-000042-customers.eml`
pub fn outbox_file_name(msg: &SentMessage, eml: bool) -> String {
    format!(
        "{}-{:06}-{}.{}",
        msg.incident_id,
        msg.id,
        msg.audience,
        if eml { "eml" } else { "txt" }
    )
}

/// Writes the file whole or not at all (temporary file, fsync, rename), so
/// a reader of the outbox never sees half a message. A retry rewrites the
/// same name.
fn write_outbox(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let shown = dir.display();
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("outbox {shown}: cannot create: {e}"))?;
    let dest = dir.join(name);
    crate::newfile::write_atomic(&dest, bytes, crate::newfile::PRIVATE_FILE)
        .map_err(|e| format!("outbox {}: cannot write: {e}", dest.display()))?;
    Ok(dest)
}

/// Runs `argv` (no shell) with `input` on stdin; success is exit status 0
/// within `timeout`. The error says how it failed, with the start of the
/// program's stderr.
pub fn run_command(
    argv: &[String],
    input: &[u8],
    env: &[(&str, String)],
    timeout: Duration,
) -> Result<String, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("the command is empty".into());
    };
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout stops everything it started
        // (a shell's children hold the pipes open too).
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let group = child.id();

    // Feed stdin and drain stderr on their own threads, so neither pipe
    // can fill up and stall the program while we wait for it. The feeder
    // reports on a channel rather than being joined: a process that holds
    // the pipe without reading would otherwise block us past the timeout.
    let mut stdin = child.stdin.take();
    let data = input.to_vec();
    let (fed_tx, fed_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut write = || -> std::io::Result<()> {
            if let Some(s) = stdin.as_mut() {
                s.write_all(&data)?;
            }
            drop(stdin.take());
            Ok(())
        };
        let _ = fed_tx.send(write());
    });
    let stderr_buf = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = mpsc::channel();
    if let Some(mut err) = child.stderr.take() {
        let buf = Arc::clone(&stderr_buf);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = err.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if let Ok(mut b) = buf.lock()
                    && b.len() < STDERR_KEEP * 2
                {
                    b.extend_from_slice(&chunk[..n]);
                }
            }
            let _ = done_tx.send(());
        });
    }

    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if start.elapsed() >= timeout => {
                kill_group(group);
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "{program} did not finish within {}s and was stopped",
                    timeout.as_secs_f64()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(format!("waiting for {program}: {e}")),
        }
    };
    // The program is gone; give the reader a moment to see the end of a
    // stderr that a grandchild may still hold open.
    let _ = done_rx.recv_timeout(Duration::from_millis(500));
    let stderr = stderr_buf.lock().map(|b| b.clone()).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr);
    let stderr: String = stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(STDERR_KEEP)
        .collect();
    // The program is done with its input once it has exited; a process it
    // left behind that holds the pipe unread gets a short grace, then the
    // write is abandoned (its thread ends when that process does).
    let fed = fed_rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_else(|_| {
            tracing::warn!("{program}: its input was not read to the end; not waiting for it");
            Ok(())
        });
    let status = status?;
    if !status.success() {
        let how = match status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".into(),
        };
        return Err(if stderr.is_empty() {
            format!("{program}: {how}")
        } else {
            format!("{program}: {how}: {stderr}")
        });
    }
    if let Err(e) = fed
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(format!("{program}: writing the message to its input: {e}"));
    }
    Ok(format!(
        "{program} exit status 0 ({} bytes on stdin)",
        input.len()
    ))
}

/// An alert as the sinks deliver it: an escalation (a response breach, to
/// one person) or a notify rule's detection (to the rule's recipients).
/// It carries the alert (recorded, with its recipient), the mailboxes of
/// its recipients when known (then it goes out as one `.eml` addressed to
/// all of them), whether the incident is a drill, and for a detection the
/// detection as stored when it is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertMessage {
    pub alert: NewAlert,
    /// Whom the `.eml` is addressed to; empty: the text is delivered.
    pub to: Vec<Mailbox>,
    pub drill: bool,
    pub detection: Option<DetectionRecord>,
}

/// At most this many characters of a detection key go into a subject.
const SUBJECT_KEY_CHARS: usize = 80;
/// At most this many matching lines go into a detection alert's text.
const ALERT_LINES: usize = 10;

/// The recipients recorded on an alert: a rule's notify list is recorded
/// joined with ", ", so it is split at commas outside quotes and angle
/// brackets (`"Ops, EU" <ops@example.com>` stays one).
pub fn recipients_of(recorded: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut angle) = (String::new(), false, false);
    for c in recorded.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl AlertMessage {
    fn is_escalation(&self) -> bool {
        self.alert.kind == crate::domain::comms::ESCALATION
    }

    /// The alert's recorded recipient(s) (roster names or addresses).
    pub fn recipient(&self) -> &str {
        self.alert.recipient.as_deref().unwrap_or("everyone")
    }

    fn incident(&self) -> &str {
        self.alert.incident_id.as_deref().unwrap_or("warroom")
    }

    /// 16 hex digits naming the occasion, for file names and Message-IDs:
    /// the same on every retry, different for every alert (and so for
    /// every escalated person).
    fn tag(&self) -> String {
        crate::store::body_sha256(&self.alert.key)
            .get(..16)
            .unwrap_or_default()
            .to_string()
    }

    pub fn subject(&self) -> String {
        let drill = if self.drill { "[DRILL] " } else { "" };
        if self.is_escalation() {
            return format!(
                "{drill}[{}] ESCALATION: response time breached",
                self.incident()
            );
        }
        match &self.detection {
            Some(d) => {
                let key: String = d.key.chars().take(SUBJECT_KEY_CHARS).collect();
                let key = if d.group_by == "global" {
                    String::new()
                } else {
                    format!(" ({}={})", d.group_by, display_safe(&key))
                };
                format!(
                    "{drill}[{}] {} DETECTION: {}{key}, {} event(s)",
                    self.incident(),
                    d.severity,
                    display_safe(&d.rule),
                    d.count
                )
            }
            None => format!("{drill}[{}] DETECTION", self.incident()),
        }
    }

    /// The text: the alert, whom it is for, when and by whom it was raised
    /// (and for a detection: rule, key, count, window, severity, incident
    /// and the first matching lines). Everything from outside went through
    /// `display_safe` (no line break or control character can enter from
    /// a name, a title or a log line).
    pub fn body(&self) -> String {
        let a = &self.alert;
        let drill = if self.drill {
            "*** EXERCISE - THIS IS A DRILL, NOT A REAL INCIDENT ***\n\n"
        } else {
            ""
        };
        if self.is_escalation() {
            return format!(
                "{drill}ESCALATION: response time breached\n\n{}\n\nIncident:     {}\nEscalated to: {}\nRaised:       {} by {}\n\nAcknowledge it (warroom incident ack {}) or take command in the console.\n",
                display_safe(&a.text),
                display_safe(self.incident()),
                display_safe(self.recipient()),
                super::fields::message_time(a.raised_at),
                display_safe(&a.raised_by),
                display_safe(self.incident()),
            );
        }
        let mut out = format!("{drill}DETECTION\n\n{}\n\n", display_safe(&a.text));
        if let Some(d) = &self.detection {
            let window = d
                .window_seconds
                .map_or(String::new(), |w| format!(" (rule window {w} s)"));
            out.push_str(&format!(
                "Rule:         {}\nKey:          {}={}\nEvents:       {} (when this was sent)\nWindow:       {} .. {}{window}\nSeverity:     {}\n",
                display_safe(&d.rule),
                display_safe(&d.group_by),
                display_safe(&d.key),
                d.count,
                crate::domain::event::format_time(d.first_seen),
                crate::domain::event::format_time(d.last_seen),
                d.severity,
            ));
        }
        let incident = match &a.incident_id {
            Some(id) => display_safe(id).into_owned(),
            None => "none (the rule opens no incident)".into(),
        };
        out.push_str(&format!(
            "Incident:     {incident}\nNotify:       {}\nRaised:       {} by {}\n",
            display_safe(self.recipient()),
            super::fields::message_time(a.raised_at),
            display_safe(&a.raised_by),
        ));
        if let Some(d) = self.detection.as_ref().filter(|d| !d.lines.is_empty()) {
            out.push_str(&format!(
                "\nMatching lines (the first {} of {} kept):\n",
                d.lines.len().min(ALERT_LINES),
                d.lines.len()
            ));
            for l in d.lines.iter().take(ALERT_LINES) {
                out.push_str("  ");
                out.push_str(&display_safe(l));
                out.push('\n');
            }
        }
        if a.incident_id.is_some() {
            out.push_str(&format!(
                "\nAcknowledge it (warroom incident ack {incident}) or take command in the console.\n"
            ));
        }
        out
    }

    /// What a sink receives: an `.eml` to the recipients whose address is
    /// known, the text otherwise.
    pub fn payload(&self, config: &CommsConfig) -> Payload {
        if self.to.is_empty() {
            return Payload {
                bytes: self.body().into_bytes(),
                eml: false,
            };
        }
        let what = if self.is_escalation() {
            "escalation"
        } else {
            "alert"
        };
        Payload {
            bytes: build_eml(
                config,
                &Envelope {
                    to: &self.to,
                    subject: self.subject(),
                    date: self.alert.raised_at,
                    message_id: format!(
                        "warroom.{what}.{}.{}@{}",
                        self.incident(),
                        self.tag(),
                        config.from.domain()
                    ),
                    incident_id: self.incident(),
                    drill: self.drill,
                },
                &self.body(),
            ),
            eml: true,
        }
    }

    /// `INC-2026-001-escalation-0123456789abcdef.eml`, or for a detection
    /// `INC-2026-004-alert-0123456789abcdef.eml` (`detection-alert-...`
    /// without an incident).
    pub fn file_name(&self, eml: bool) -> String {
        let ext = if eml { "eml" } else { "txt" };
        if self.is_escalation() {
            format!("{}-escalation-{}.{ext}", self.incident(), self.tag())
        } else {
            let who = self.alert.incident_id.as_deref().unwrap_or("detection");
            format!("{who}-alert-{}.{ext}", self.tag())
        }
    }
}

/// Delivers one alert through one sink (outbox or command; OSC 52 reaches
/// only your own terminal and refuses).
pub fn deliver_alert(
    sink: &SinkConfig,
    msg: &AlertMessage,
    config: &CommsConfig,
) -> Result<Delivered, String> {
    let p = msg.payload(config);
    match &sink.kind {
        SinkKind::Outbox { dir } => {
            write_outbox(dir, &msg.file_name(p.eml), &p.bytes).map(|path| Delivered {
                detail: format!("wrote {}", path.display()),
                terminal: None,
            })
        }
        SinkKind::Command { argv, timeout } => {
            let mut env = vec![
                ("WARROOM_INCIDENT", msg.incident().to_string()),
                (
                    "WARROOM_AUDIENCE",
                    if msg.is_escalation() {
                        "escalation".to_string()
                    } else {
                        display_safe(&msg.alert.kind).into_owned()
                    },
                ),
                (
                    "WARROOM_RECIPIENT",
                    display_safe(msg.recipient()).into_owned(),
                ),
                (
                    "WARROOM_ALERT_KEY",
                    display_safe(&msg.alert.key).into_owned(),
                ),
                ("WARROOM_SUBJECT", msg.subject()),
                (
                    "WARROOM_DRILL",
                    if msg.drill { "1" } else { "0" }.to_string(),
                ),
                (
                    "WARROOM_FORMAT",
                    if p.eml { "eml" } else { "text" }.to_string(),
                ),
            ];
            if let Some(d) = &msg.detection {
                env.push(("WARROOM_RULE", display_safe(&d.rule).into_owned()));
            }
            run_command(argv, &p.bytes, &env, *timeout).map(|detail| Delivered {
                detail,
                terminal: None,
            })
        }
        SinkKind::Osc52 { .. } => Err(format!(
            "sink '{}' is OSC 52 (your own terminal's clipboard); it cannot deliver {}",
            sink.name,
            if msg.is_escalation() {
                "an escalation"
            } else {
                "an alert"
            }
        )),
    }
}

/// How one alert delivery did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertResult {
    pub alert_key: String,
    /// The alert's kind (`escalation`, `detection`).
    pub kind: String,
    pub incident_id: Option<String>,
    pub recipient: String,
    pub sink: String,
    pub delivered: bool,
    pub detail: String,
}

impl AlertResult {
    /// `escalation to dana` / `alert to security-team@example.com`.
    pub fn describe(&self) -> String {
        let what = if self.kind == crate::domain::comms::ESCALATION {
            "escalation"
        } else {
            "alert"
        };
        format!("{what} to {}", display_safe(&self.recipient))
    }

    fn of(msg: &AlertMessage, sink: &str, delivered: bool, detail: String) -> AlertResult {
        AlertResult {
            alert_key: msg.alert.key.clone(),
            kind: msg.alert.kind.clone(),
            incident_id: msg.alert.incident_id.clone(),
            recipient: msg.recipient().to_string(),
            sink: sink.to_string(),
            delivered,
            detail,
        }
    }
}

/// The message of a recorded alert: its recipients' mailboxes (addresses,
/// or roster people's contacts), the incident's drill flag, and for a
/// detection the detection as stored now.
fn alert_message(
    store: &Store,
    alert: &NewAlert,
    people: &[crate::domain::Person],
) -> AlertMessage {
    let to = alert.recipient.as_deref().map_or_else(Vec::new, |who| {
        if alert.kind == crate::domain::comms::ESCALATION {
            CommsConfig::escalation_mailbox(who, people)
                .into_iter()
                .collect()
        } else {
            let mut to: Vec<Mailbox> = Vec::new();
            for r in recipients_of(who) {
                match CommsConfig::escalation_mailbox(&r, people) {
                    Some(m) if !to.iter().any(|t| t.address == m.address) => to.push(m),
                    Some(_) => {}
                    None => tracing::info!(
                        alert = %alert.key,
                        "notify recipient '{r}' is neither an address nor a roster person with one; named in the text only"
                    ),
                }
            }
            to
        }
    });
    let drill = alert
        .incident_id
        .as_deref()
        .and_then(|i| i.parse::<IncidentId>().ok())
        .and_then(|id| store.incident(&id).ok())
        .is_some_and(|i| i.drill);
    let detection = if alert.kind == crate::domain::comms::ESCALATION {
        None
    } else {
        store.detection_by_alert(&alert.key).unwrap_or_else(|e| {
            tracing::warn!(alert = %alert.key, "reading the alert's detection: {e}");
            None
        })
    };
    AlertMessage {
        alert: alert.clone(),
        to,
        drill,
        detection,
    }
}

/// What an escalation overtaken by the incident's acknowledgement reports.
const CANCELLED: &str = "cancelled: the incident was acknowledged before it went out; nothing sent";

/// Delivers alerts this process has just raised with pending deliveries
/// (escalations from `Store::raise_alerts`, detections from the watcher's
/// commit; each delivery stamped at the alert's `raised_at`). Never fails:
/// the alerts are raised and must still be shown, so a store error is
/// logged and reported as a failed delivery (left pending, a later retry
/// takes it).
pub fn deliver_alerts(
    store: &mut Store,
    raised: &[NewAlert],
    sinks: &[SinkConfig],
    config: &CommsConfig,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<AlertResult> {
    let people = store.people().unwrap_or_default();
    let clock = Lease::start(now);
    let mut out = Vec::new();
    for alert in raised {
        let msg = alert_message(store, alert, &people);
        for sink in sinks {
            let result = (|| -> Result<AlertResult, StoreError> {
                match store.renew_alert_delivery(
                    &alert.key,
                    &sink.name,
                    alert.raised_at,
                    clock.now(),
                )? {
                    AlertClaim::Held => {}
                    AlertClaim::Cancelled => {
                        return Ok(AlertResult::of(&msg, &sink.name, false, CANCELLED.into()));
                    }
                    AlertClaim::Lost => {
                        let state = store
                            .alert_deliveries(&alert.key)?
                            .into_iter()
                            .find(|d| d.sink == sink.name);
                        return Ok(AlertResult::of(
                            &msg,
                            &sink.name,
                            state
                                .as_ref()
                                .is_some_and(|d| d.state == AlertDeliveryState::Delivered),
                            format!(
                                "taken over by another process ({})",
                                state.map_or("not recorded", |d| d.state.as_str())
                            ),
                        ));
                    }
                }
                deliver_alert_and_record(store, &msg, sink, config, actor, now)
            })();
            out.push(result.unwrap_or_else(|e| {
                tracing::warn!(alert = %alert.key, sink = %sink.name, "alert delivery: {e}");
                AlertResult::of(&msg, &sink.name, false, format!("not recorded: {e}"))
            }));
        }
    }
    out
}

/// Re-delivers failed alert deliveries (escalations and detections; and
/// pending ones abandoned for longer than [`STALE_PENDING`]) of one
/// incident or all, each claimed first.
pub fn retry_alerts(
    store: &mut Store,
    incident: Option<&IncidentId>,
    config: &CommsConfig,
    db: &Path,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AlertResult>, StoreError> {
    let stale_before =
        now - chrono::Duration::from_std(STALE_PENDING).unwrap_or(chrono::Duration::zero());
    let due = store.pending_alert_deliveries(incident, stale_before)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let all = config.effective_sinks(db);
    let people = store.people()?;
    let clock = Lease::start(now);
    let mut out = Vec::new();
    for (alert, d) in due {
        let claim = store.claim_alert_delivery(&alert.key, &d.sink, stale_before, clock.now())?;
        let msg = alert_message(store, &alert, &people);
        match claim {
            AlertClaim::Held => {}
            AlertClaim::Lost => continue,
            AlertClaim::Cancelled => {
                out.push(AlertResult::of(&msg, &d.sink, false, CANCELLED.into()));
                continue;
            }
        }
        let result = match all.iter().find(|s| s.name == d.sink) {
            Some(sink) => deliver_alert_and_record(store, &msg, sink, config, actor, now)?,
            None => {
                let why = format!("sink '{}' is no longer configured (comms.toml)", d.sink);
                store.record_alert_delivery(&alert.key, &d.sink, Err(&why), actor, now)?;
                AlertResult::of(&msg, &d.sink, false, why)
            }
        };
        out.push(result);
    }
    Ok(out)
}

fn deliver_alert_and_record(
    store: &mut Store,
    msg: &AlertMessage,
    sink: &SinkConfig,
    config: &CommsConfig,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<AlertResult, StoreError> {
    let outcome = deliver_alert(sink, msg, config).map(|d| d.detail);
    if let Err(e) = &outcome {
        tracing::warn!(alert = %msg.alert.key, sink = %sink.name, "alert delivery failed: {e}");
    }
    let d = store.record_alert_delivery(
        &msg.alert.key,
        &sink.name,
        outcome.as_deref().map_err(String::as_str),
        actor,
        now,
    )?;
    Ok(AlertResult::of(
        msg,
        &sink.name,
        d.state == AlertDeliveryState::Delivered,
        d.detail,
    ))
}

/// SIGKILL to a whole process group (the command and whatever it started).
fn kill_group(group: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(group)
        && pgid > 1
    {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours;
        // a negative pid names the group the command was started in.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// How one sink did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkResult {
    pub message_id: i64,
    pub sink: String,
    pub delivered: bool,
    /// Where it went, or why it failed.
    pub detail: String,
}

/// What a send did: the message as recorded (with its deliveries after
/// this attempt), each sink's result, and older deliveries retried.
#[derive(Debug, Clone, Serialize)]
pub struct SendOutcome {
    pub message: SentMessage,
    pub results: Vec<SinkResult>,
    pub retried: Vec<SinkResult>,
}

impl SendOutcome {
    pub fn failures(&self) -> usize {
        self.results.iter().filter(|r| !r.delivered).count()
    }
}

/// Sends a message: selects the sinks (`names`, or the defaults for the
/// audience), records it (`Store::send_message`), retries older failed
/// deliveries of the incident, then delivers through each sink and records
/// each outcome. `terminal` writes OSC 52 sequences to the user's terminal;
/// its error fails that delivery.
#[allow(clippy::too_many_arguments)]
pub fn send(
    store: &mut Store,
    new: &NewMessage,
    names: &[String],
    config: &CommsConfig,
    db: &Path,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<SendOutcome, StoreError> {
    let sinks = config
        .select_sinks(names, new.audience, db)
        .map_err(StoreError::Invalid)?;
    let sink_names: Vec<String> = sinks.iter().map(|s| s.name.clone()).collect();
    let sent = store.send_message(new, &sink_names, now)?;
    let clock = Lease::start(now);
    // The new message first: it must not wait behind old failures, each of
    // which may take a whole command timeout.
    let mut results = Vec::new();
    for sink in &sinks {
        // Each delivery is renewed just before it is tried, so one that
        // waited behind a slow sink does not look abandoned; if another
        // process took it over meanwhile, it is theirs to deliver.
        let at = clock.now();
        if !store.renew_delivery(sent.id, &sink.name, now, at)? {
            results.push(taken_over(store, sent.id, &sink.name)?);
            continue;
        }
        results.push(deliver_and_record(
            store,
            &sent,
            sink,
            config,
            &new.author,
            now,
            terminal,
        )?);
    }
    let retried = retry_where(
        store,
        Some(&new.incident_id),
        Some(sent.id),
        config,
        db,
        &new.author,
        clock.now(),
        terminal,
    )?;
    let message = store.message(sent.id)?.unwrap_or(sent);
    Ok(SendOutcome {
        message,
        results,
        retried,
    })
}

/// Re-delivers failed deliveries (and pending ones abandoned for longer
/// than [`STALE_PENDING`]) of one incident or all. Each is claimed first,
/// so two retries at once do not deliver twice.
pub fn retry(
    store: &mut Store,
    incident: Option<&IncidentId>,
    config: &CommsConfig,
    db: &Path,
    actor: &str,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<Vec<SinkResult>, StoreError> {
    retry_where(store, incident, None, config, db, actor, now, terminal)
}

#[allow(clippy::too_many_arguments)]
fn retry_where(
    store: &mut Store,
    incident: Option<&IncidentId>,
    except: Option<i64>,
    config: &CommsConfig,
    db: &Path,
    actor: &str,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<Vec<SinkResult>, StoreError> {
    let stale_before =
        now - chrono::Duration::from_std(STALE_PENDING).unwrap_or(chrono::Duration::zero());
    let due = store.pending_deliveries(incident, stale_before)?;
    let all = config.effective_sinks(db);
    let clock = Lease::start(now);
    let mut out = Vec::new();
    for (msg, Delivery { sink, .. }) in due {
        // Claimed as of the moment it is tried, not the moment the retry
        // began: a delivery waiting behind slow ones must not look
        // abandoned to another process before it is tried.
        if Some(msg.id) == except
            || !store.claim_delivery(msg.id, &sink, stale_before, clock.now())?
        {
            continue;
        }
        let result = match all.iter().find(|s| s.name == sink) {
            Some(cfg) => deliver_and_record(store, &msg, cfg, config, actor, now, terminal)?,
            None => {
                let why = format!("sink '{sink}' is no longer configured (comms.toml)");
                store.record_delivery(msg.id, &sink, Err(&why), actor, now)?;
                SinkResult {
                    message_id: msg.id,
                    sink,
                    delivered: false,
                    detail: why,
                }
            }
        };
        out.push(result);
    }
    Ok(out)
}

/// The time a delivery is claimed or renewed at: `now` as given, plus
/// the time spent since (each sink may take up to its timeout).
struct Lease {
    now: DateTime<Utc>,
    started: Instant,
}

impl Lease {
    fn start(now: DateTime<Utc>) -> Lease {
        Lease {
            now,
            started: Instant::now(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.now + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }
}

/// A delivery of this send that another process took over (it looked
/// abandoned): reported as it stands, not delivered again.
fn taken_over(store: &Store, message_id: i64, sink: &str) -> Result<SinkResult, StoreError> {
    let d = store
        .message(message_id)?
        .and_then(|m| m.deliveries.into_iter().find(|d| d.sink == sink));
    let (delivered, detail) = match d {
        Some(d) => (
            d.state == crate::store::DeliveryState::Delivered,
            format!(
                "taken over by another process ({}{}{})",
                d.state.as_str(),
                if d.detail.is_empty() { "" } else { ": " },
                d.detail
            ),
        ),
        None => (false, "taken over by another process".to_string()),
    };
    tracing::warn!(message = message_id, sink, "{detail}");
    Ok(SinkResult {
        message_id,
        sink: sink.to_string(),
        delivered,
        detail,
    })
}

fn deliver_and_record(
    store: &mut Store,
    msg: &SentMessage,
    sink: &SinkConfig,
    config: &CommsConfig,
    actor: &str,
    now: DateTime<Utc>,
    terminal: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<SinkResult, StoreError> {
    let outcome = deliver(sink, msg, config).and_then(|d| match &d.terminal {
        Some(seq) => terminal(seq)
            .map(|()| d.detail.clone())
            .map_err(|e| format!("cannot write to the terminal: {e}")),
        None => Ok(d.detail),
    });
    if let Err(e) = &outcome {
        tracing::warn!(message = msg.id, sink = %sink.name, "delivery failed: {e}");
    }
    let d = store.record_delivery(
        msg.id,
        &sink.name,
        outcome.as_deref().map_err(String::as_str),
        actor,
        now,
    )?;
    Ok(SinkResult {
        message_id: msg.id,
        sink: sink.name.clone(),
        delivered: d.state == crate::store::DeliveryState::Delivered,
        detail: d.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comms::Audience;
    use crate::store::DeliveryState;
    use std::fs;

    fn message(audience: Audience, body: &str) -> SentMessage {
        SentMessage {
            id: 7,
            incident_id: "INC-2026-001".into(),
            audience,
            template: None,
            body: body.into(),
            sha256: crate::store::body_sha256(body),
            author: "alice".into(),
            sent_at: "2026-03-01T10:30:00Z".parse().unwrap(),
            event_seq: 3,
            drill: false,
            deliveries: vec![Delivery {
                message_id: 7,
                sink: "x".into(),
                state: DeliveryState::Pending,
                detail: String::new(),
                attempts: 0,
                updated_at: "2026-03-01T10:30:00Z".parse().unwrap(),
            }],
        }
    }

    fn config() -> CommsConfig {
        CommsConfig::from_toml(
            "from = \"Sécurité Exemple <secu@example.com>\"\n[audiences.customers]\nto = [\"Zoë Client <zoe@example.org>\", \"b@example.org\"]\n",
            Path::new("/c"),
        )
        .unwrap()
    }

    #[test]
    fn osc52_is_base64_of_the_body_between_esc_52_and_bel() {
        let seq = osc52_sequence("héllo\nworld");
        assert!(seq.starts_with("\x1b]52;c;") && seq.ends_with('\x07'));
        let b64 = &seq[7..seq.len() - 1];
        let back = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(back, "héllo\nworld".as_bytes());
    }

    #[test]
    fn osc52_refuses_messages_over_its_cap() {
        let sink = SinkConfig {
            name: "clip".into(),
            kind: SinkKind::Osc52 { max_bytes: 4 },
            audiences: None,
            default: false,
        };
        let err = deliver(&sink, &message(Audience::Internal, "12345"), &config()).unwrap_err();
        assert!(
            err.contains("5 bytes") && err.contains("at most 4"),
            "{err}"
        );
        let ok = deliver(&sink, &message(Audience::Internal, "1234"), &config()).unwrap();
        assert_eq!(ok.terminal.unwrap(), osc52_sequence("1234"));
    }

    #[test]
    fn email_audiences_get_rfc5322_and_others_plain_text() {
        let c = config();
        let text = payload(&message(Audience::Internal, "plain\n"), &c);
        assert_eq!(
            (text.bytes.as_slice(), text.eml),
            (b"plain\n".as_slice(), false)
        );

        let body = "Bonjour,\nnous enquêtons.\n";
        let p = payload(&message(Audience::Customers, body), &c);
        assert!(p.eml);
        let raw = String::from_utf8(p.bytes.clone()).unwrap();
        assert!(raw.is_ascii(), "headers and body are encoded: {raw}");
        assert!(
            !raw.replace("\r\n", "").contains('\n'),
            "CRLF only: {raw:?}"
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(&p.bytes)
            .unwrap();
        assert_eq!(
            parsed.subject(),
            Some("[INC-2026-001] Security incident notification")
        );
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.name(), Some("Sécurité Exemple"));
        let to: Vec<_> = parsed
            .to()
            .unwrap()
            .iter()
            .map(|a| a.address().unwrap().to_string())
            .collect();
        assert_eq!(to, ["zoe@example.org", "b@example.org"]);
        assert_eq!(
            parsed.message_id(),
            Some(message_id(&message(Audience::Customers, body), &c).as_str())
        );
        assert_eq!(parsed.date().unwrap().to_rfc3339(), "2026-03-01T10:30:00Z");
        assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), body);
    }

    #[test]
    fn commands_get_the_bytes_and_fail_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got");
        let argv = |script: &str| {
            vec![
                "sh".to_string(),
                "-c".to_string(),
                script.to_string(),
                "sink".to_string(),
            ]
        };
        let ok = run_command(
            &argv(&format!("cat > '{}'", out.display())),
            b"exact \xc3\xa9 bytes\n",
            &[],
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(ok.contains("exit status 0"), "{ok}");
        assert_eq!(fs::read(&out).unwrap(), b"exact \xc3\xa9 bytes\n");

        let err = run_command(
            &argv("echo 'no route to host' >&2; exit 3"),
            b"x",
            &[],
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert_eq!(err, "sh: exit status 3: no route to host");

        let err = run_command(
            &["/nonexistent/sendmail".into()],
            b"x",
            &[],
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.starts_with("cannot run /nonexistent/sendmail"), "{err}");

        let err = run_command(&argv("sleep 5"), b"", &[], Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("did not finish within 0.2s"), "{err}");

        // A program that ignores its input still succeeds.
        run_command(
            &argv("exit 0"),
            &vec![b'x'; 1 << 20],
            &[],
            Duration::from_secs(10),
        )
        .unwrap();
    }

    /// Whether process `pid` is gone (or a zombie waiting for its parent).
    fn gone(pid: u32) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        }
    }

    #[test]
    fn a_timeout_stops_everything_the_command_started_even_one_holding_its_input() {
        // The program starts a helper that keeps the program's standard
        // input open without reading it, then waits. At the timeout the
        // whole process group is stopped: the writer of the 1 MiB message
        // is not left blocked on a pipe nobody reads, and no helper lives
        // on (before the fix, this call never returned).
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("helper.pid");
        let argv = vec![
            "sh".to_string(),
            "-c".to_string(),
            "exec 3<&0; sleep 1000 <&3 & echo $! > \"$1\"; wait".to_string(),
            "sink".to_string(),
            pid_file.display().to_string(),
        ];
        let err =
            run_command(&argv, &vec![b'x'; 1 << 20], &[], Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("did not finish within 0.3s"), "{err}");
        let pid: u32 = fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SIGKILL is delivered asynchronously: give the kernel a moment.
        for _ in 0..200 {
            if gone(pid) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(pid), "the helper {pid} outlived the timeout");
    }

    #[test]
    fn outbox_files_are_written_whole_with_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("new/outbox");
        let msg = message(Audience::Internal, "hello\n");
        let p = write_outbox(&outbox, &outbox_file_name(&msg, false), b"hello\n").unwrap();
        assert_eq!(p, outbox.join("INC-2026-001-000007-internal.txt"));
        assert_eq!(fs::read(&p).unwrap(), b"hello\n");
        let names: Vec<_> = fs::read_dir(&outbox)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");

        fs::write(dir.path().join("file"), "").unwrap();
        let err = write_outbox(&dir.path().join("file/sub"), "x.txt", b"x").unwrap_err();
        assert!(err.contains("cannot create"), "{err}");
    }

    #[test]
    fn outbox_never_writes_through_a_link_planted_at_its_temporary_name() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        fs::create_dir(&outbox).unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let name = "INC-2026-001-000007-internal.txt";
        for planted in [format!(".{name}.tmp"), format!(".{name}.partial")] {
            std::os::unix::fs::symlink(&victim, outbox.join(planted)).unwrap();
        }
        write_outbox(&outbox, name, b"hello\n").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(outbox.join(name)).unwrap(), b"hello\n");
    }
}
