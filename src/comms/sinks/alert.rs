//! What an alert becomes for a sink: an escalation (to one person) or a
//! notify rule's detection (to the rule's recipients), as text or `.eml`,
//! and how one alert delivery through one sink did.

use serde::Serialize;

use super::super::config::{CommsConfig, Mailbox, SinkConfig, SinkKind};
use super::command::run_command;
use super::mail::{Envelope, build_eml};
use super::outbox::write_outbox;
use super::{Delivered, Payload};
use crate::domain::IncidentId;
use crate::store::{DetectionRecord, NewAlert, Store};
use crate::text::display_safe;

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
                super::super::fields::message_time(a.raised_at),
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
            super::super::fields::message_time(a.raised_at),
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

    pub(super) fn of(
        msg: &AlertMessage,
        sink: &str,
        delivered: bool,
        detail: String,
    ) -> AlertResult {
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
pub(super) fn alert_message(
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
