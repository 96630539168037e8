//! What was done and said, for the report: the checklist with who set each
//! item and when (from the timeline, with each item's changes), and every
//! message sent in full (subject, body, deliveries). As data; the text
//! forms' blocks are at the end.

use serde::Serialize;
use serde_json::Value;

use super::block::Block;
use crate::domain::event::{Event, format_time, kinds};
use crate::domain::playbook::ChecklistItem;
use crate::store::SentMessage;

/// One change of a checklist item, from its `checklist.changed` event.
#[derive(Debug, Clone, Serialize)]
pub struct ItemChange {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
}

/// A checklist item as it stands, who set it so and when.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistReport {
    pub id: String,
    pub phase: String,
    pub text: String,
    /// open, done or not_applicable.
    pub state: String,
    pub reason: Option<String>,
    /// Who set the current state (null for an item never touched).
    pub by: Option<String>,
    pub at: Option<String>,
    /// Every change, oldest first.
    pub history: Vec<ItemChange>,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// The checklist with its history read from `timeline` (oldest first).
pub fn checklist(items: &[ChecklistItem], timeline: &[Event]) -> Vec<ChecklistReport> {
    let changes: Vec<(String, ItemChange)> = timeline
        .iter()
        .filter(|e| e.kind == kinds::CHECKLIST_CHANGED)
        .filter_map(|e| {
            let data: Value = serde_json::from_str(&e.data).ok()?;
            let item = text(&data["item"])?;
            let change = ItemChange {
                seq: e.seq,
                at: format_time(e.at),
                actor: e.actor.clone(),
                from: text(&data["from"]),
                to: text(&data["to"]),
                reason: text(&data["reason"]),
            };
            Some((item, change))
        })
        .collect();
    items
        .iter()
        .map(|item| {
            let history: Vec<ItemChange> = changes
                .iter()
                .filter(|(id, _)| *id == item.id)
                .map(|(_, c)| c.clone())
                .collect();
            // The timeline is the record; the row's own stamp is the
            // fallback for a database whose events predate the item's.
            let (by, at) = match history.last() {
                Some(c) => (Some(c.actor.clone()), Some(c.at.clone())),
                None => (item.by.clone(), item.at.map(format_time)),
            };
            ChecklistReport {
                id: item.id.clone(),
                phase: item.phase.as_str().into(),
                text: item.text.clone(),
                state: item.state.as_str().into(),
                reason: item.reason.clone(),
                by,
                at,
                history,
            }
        })
        .collect()
}

/// A message as sent: its subject and full body, and where it went.
#[derive(Debug, Clone, Serialize)]
pub struct MessageReport {
    pub subject: String,
    #[serde(flatten)]
    pub message: SentMessage,
}

pub fn messages(sent: &[SentMessage]) -> Vec<MessageReport> {
    sent.iter()
        .map(|m| MessageReport {
            subject: crate::comms::sinks::subject(m),
            message: m.clone(),
        })
        .collect()
}

fn or_dash(s: Option<&str>) -> String {
    match s {
        Some(s) if !s.trim().is_empty() => s.to_string(),
        _ => "-".into(),
    }
}

/// The checklist section of the text forms.
pub fn checklist_blocks(items: &[ChecklistReport]) -> Vec<Block> {
    let mut out = vec![Block::Heading("Checklist".into())];
    if items.is_empty() {
        out.push(Block::Para("No checklist.".into()));
        return out;
    }
    out.push(Block::Table {
        head: vec![
            "Item".into(),
            "Phase".into(),
            "Step".into(),
            "State".into(),
            "By".into(),
            "When (UTC)".into(),
        ],
        rows: items
            .iter()
            .map(|i| {
                let state = match &i.reason {
                    Some(r) => format!("{} ({r})", i.state.replace('_', " ")),
                    None => i.state.replace('_', " "),
                };
                vec![
                    i.id.clone(),
                    i.phase.clone(),
                    i.text.clone(),
                    state,
                    or_dash(i.by.as_deref()),
                    or_dash(i.at.as_deref()),
                ]
            })
            .collect(),
    });
    let changed: Vec<String> = items
        .iter()
        .flat_map(|i| {
            i.history.iter().map(move |c| {
                let reason = c
                    .reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(" ({r})"));
                format!(
                    "{} {}: {} {} \u{2192} {}{reason}",
                    c.at,
                    c.actor,
                    i.id,
                    or_dash(c.from.as_deref()),
                    or_dash(c.to.as_deref())
                )
            })
        })
        .collect();
    if !changed.is_empty() {
        out.push(Block::Subheading("Checklist changes".into()));
        out.push(Block::List {
            ordered: false,
            items: changed,
        });
    }
    out
}

/// The messages section of the text forms: each message in full.
pub fn message_blocks(messages: &[MessageReport]) -> Vec<Block> {
    let mut out = vec![Block::Heading("Messages sent".into())];
    if messages.is_empty() {
        out.push(Block::Para("No messages were sent.".into()));
        return out;
    }
    for m in messages {
        let msg = &m.message;
        out.push(Block::Subheading(format!(
            "Message #{}: {}",
            msg.id, m.subject
        )));
        out.push(Block::Fields(vec![
            ("Audience".into(), msg.audience.as_str().into()),
            ("Sent (UTC)".into(), format_time(msg.sent_at)),
            ("By".into(), msg.author.clone()),
            ("Template".into(), or_dash(msg.template.as_deref())),
            ("SHA-256".into(), msg.sha256.clone()),
        ]));
        out.push(Block::Quote(msg.body.lines().map(str::to_string).collect()));
        if msg.deliveries.is_empty() {
            out.push(Block::Para("No sinks: recorded only.".into()));
        } else {
            out.push(Block::Table {
                head: vec![
                    "Sink".into(),
                    "State".into(),
                    "Attempts".into(),
                    "Updated (UTC)".into(),
                    "Detail".into(),
                ],
                rows: msg
                    .deliveries
                    .iter()
                    .map(|d| {
                        vec![
                            d.sink.clone(),
                            d.state.as_str().into(),
                            d.attempts.to_string(),
                            format_time(d.updated_at),
                            or_dash(Some(&d.detail)),
                        ]
                    })
                    .collect(),
            });
        }
    }
    out
}
