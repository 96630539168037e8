//! Who else is on the bridge: this console's heartbeat, run on the store
//! worker with the once-a-second poll, and the header's short list of the
//! other consoles open on the same database.

use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::domain::IncidentId;
use crate::store::{ConsoleId, HEARTBEAT_EVERY, Presence, STALE_AFTER, Store};

/// The worker's side: beats every `HEARTBEAT_EVERY` (and at once when the
/// incident shown changes, so others see who views what), then reads who
/// is here and reports it when it changed.
pub struct Beat {
    me: ConsoleId,
    last: Option<(Instant, Option<IncidentId>)>,
    shown: Option<Vec<Presence>>,
}

impl Beat {
    pub fn new(actor: &str, now: DateTime<Utc>) -> Beat {
        let host = whoami::fallible::hostname().unwrap_or_else(|_| "localhost".into());
        Beat {
            me: ConsoleId::this_process(actor, &host, now),
            last: None,
            shown: None,
        }
    }

    pub fn console_id(&self) -> &str {
        &self.me.id
    }

    /// `Some(list)` when the consoles present changed since last reported.
    pub fn poll(
        &mut self,
        store: &mut Store,
        open: Option<&IncidentId>,
        now: DateTime<Utc>,
    ) -> Option<Vec<Presence>> {
        let due = self
            .last
            .as_ref()
            .is_none_or(|(at, shown)| at.elapsed() >= HEARTBEAT_EVERY || shown.as_ref() != open);
        if !due {
            return None;
        }
        // Presence is not part of the record: a failed beat is logged and
        // tried again next second, never shown as a store error.
        if let Err(e) = store.heartbeat(&self.me, open, now) {
            tracing::warn!("presence heartbeat failed: {e}");
            return None;
        }
        self.last = Some((Instant::now(), open.cloned()));
        let present = match store.present(now, STALE_AFTER) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("presence not read: {e}");
                return None;
            }
        };
        // Only who is where matters to the view, not the beat times.
        let key = |p: &[Presence]| -> Vec<(String, String, Option<String>)> {
            p.iter()
                .map(|x| (x.console_id.clone(), x.actor.clone(), x.incident.clone()))
                .collect()
        };
        if self.shown.as_deref().map(key) == Some(key(&present)) {
            return None;
        }
        self.shown = Some(present.clone());
        Some(present)
    }

    /// The console is closing: its row goes at once.
    pub fn leave(&self, store: &mut Store) {
        if let Err(e) = store.leave(&self.me.id) {
            tracing::warn!("presence not cleared on exit: {e}");
        }
    }
}

/// The other consoles' users, each once, in the order the store lists them
/// (a user with two consoles open counts once; this console is left out).
pub fn others(present: &[Presence], me: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in present.iter().filter(|p| p.console_id != me) {
        if !names.contains(&p.actor) {
            names.push(p.actor.clone());
        }
    }
    names
}

/// The header's words for them, within `width` columns: names while they
/// fit, else a count.
pub fn bridge_text(others: &[String], width: usize) -> Option<String> {
    if others.is_empty() {
        return None;
    }
    let names = format!(" · with {}", others.join(", "));
    if names.chars().count() <= width {
        return Some(names);
    }
    let count = format!(" · +{} on the bridge", others.len());
    (count.chars().count() <= width).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(console: &str, actor: &str, incident: Option<&str>) -> Presence {
        let t = DateTime::parse_from_rfc3339("2026-12-03T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Presence {
            console_id: console.into(),
            actor: actor.into(),
            pid: 1,
            host: "h".into(),
            incident: incident.map(str::to_string),
            started_at: t,
            seen_at: t,
        }
    }

    #[test]
    fn others_leave_this_console_out_and_name_each_user_once() {
        let present = [
            row("h:1:1", "alice", None),
            row("h:2:1", "bob", Some("INC-1")),
            row("h:3:1", "bob", None),
            row("h:4:1", "alice", Some("INC-1")),
        ];
        assert_eq!(others(&present, "h:1:1"), ["bob", "alice"]);
        assert!(others(&present[..1], "h:1:1").is_empty());
    }

    #[test]
    fn the_header_names_them_while_they_fit_then_counts() {
        let o = vec!["bob".to_string(), "carol".to_string()];
        assert_eq!(bridge_text(&o, 40).as_deref(), Some(" · with bob, carol"));
        assert_eq!(bridge_text(&o, 18).as_deref(), Some(" · with bob, carol"));
        let long = vec!["alexandra".to_string(), "bartholomew".to_string()];
        assert_eq!(
            bridge_text(&long, 20).as_deref(),
            Some(" · +2 on the bridge")
        );
        assert_eq!(
            bridge_text(&long, 10),
            None,
            "nothing rather than a cut name"
        );
        assert_eq!(bridge_text(&[], 80), None);
    }
}
