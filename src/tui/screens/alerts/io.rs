//! This console's cursor into the store's alert log, run on the store
//! worker (never the UI thread). Raising and delivering an alert are once
//! across processes; showing is per console: each console reads every
//! alert raised after the last one it read, whichever process raised it,
//! and claims each one's desktop notification for its own user, so a user
//! with two consoles open gets it once.

use chrono::{DateTime, Utc};

use super::state::RECENT;
use crate::store::{RaisedAlert, Result, Store};

/// At most this many alerts are read per poll; the rest on the next.
pub const PER_POLL: usize = 256;

/// What the worker hands the console: alerts to list, and which of them
/// to show (toast, bell) and put on the desktop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedBatch {
    pub alerts: Vec<RaisedAlert>,
    /// Raised before the console opened: listed, never toasted again.
    pub earlier: bool,
    /// Keys whose desktop notification this console claimed for its user.
    pub desktop: Vec<String>,
}

/// The console's place in the alert log.
#[derive(Debug, Clone)]
pub struct Feed {
    /// The number of the last alert read.
    cursor: i64,
    /// Who the console acts as: alerts addressed to someone else are
    /// listed but not put on the desktop.
    actor: String,
    /// Whose desktop the notifications go to (the login user).
    user: String,
}

impl Feed {
    /// Starts after the newest alert, so alerts raised before the console
    /// opened are not shown again; returns the recent ones for the list.
    pub fn start(store: &Store, actor: &str, user: &str) -> Result<(Feed, FeedBatch)> {
        let cursor = store.last_alert_id()?;
        let from = cursor.saturating_sub(RECENT as i64).max(0);
        let alerts = store.alerts_after(from, RECENT)?;
        let feed = Feed {
            cursor,
            actor: actor.to_string(),
            user: user.to_string(),
        };
        let batch = FeedBatch {
            alerts,
            earlier: true,
            desktop: Vec::new(),
        };
        Ok((feed, batch))
    }

    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// Reads the alerts raised since the last poll, moves the cursor past
    /// them and claims their desktop notifications (for the ones meant for
    /// everyone or for this user). None when nothing new was raised.
    pub fn poll(&mut self, store: &mut Store, now: DateTime<Utc>) -> Result<Option<FeedBatch>> {
        let alerts = store.alerts_after(self.cursor, PER_POLL)?;
        let Some(last) = alerts.last() else {
            return Ok(None);
        };
        // A claim that fails leaves the cursor where it was: read again
        // on the next poll, nothing is skipped.
        let mut desktop = Vec::new();
        for a in alerts.iter().filter(|a| for_user(&a.alert, &self.actor)) {
            if store.claim_desktop_notification(&a.alert.key, &self.user, now)? {
                desktop.push(a.alert.key.clone());
            }
        }
        self.cursor = last.id;
        Ok(Some(FeedBatch {
            alerts,
            earlier: false,
            desktop,
        }))
    }
}

/// An alert addressed to someone else (a role given to them) is listed
/// but not shown to this actor.
pub fn for_user(a: &crate::store::NewAlert, actor: &str) -> bool {
    a.recipient.as_deref().is_none_or(|r| r == actor)
}

/// Whose desktop this console notifies: the login user, else the actor.
pub fn desktop_user(actor: &str) -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| actor.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewAlert;

    fn alert(key: &str, recipient: Option<&str>, at: DateTime<Utc>) -> NewAlert {
        NewAlert {
            key: key.into(),
            incident_id: None,
            kind: "clock-due".into(),
            text: format!("text of {key}"),
            recipient: recipient.map(str::to_string),
            raised_by: "watcher".into(),
            raised_at: at,
        }
    }

    fn raise(store: &mut Store, a: NewAlert, now: DateTime<Utc>) {
        let config = crate::comms::CommsConfig::builtin(std::path::Path::new("/nonexistent"));
        crate::comms::alerts::raise_due(store, vec![a], &config, "watcher", now).unwrap();
    }

    #[test]
    fn each_console_reads_every_new_alert_once_and_each_user_is_notified_once() {
        let t0: DateTime<Utc> = "2026-11-22T18:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let mut store = Store::open(&db).unwrap();
        raise(&mut store, alert("before", None, t0), t0);
        // Two consoles of one user and one of another, on one database.
        let mut s1 = Store::open(&db).unwrap();
        let mut s2 = Store::open(&db).unwrap();
        let mut s3 = Store::open(&db).unwrap();
        let (mut anna1, first) = Feed::start(&s1, "anna", "anna").unwrap();
        let (mut anna2, _) = Feed::start(&s2, "anna", "anna").unwrap();
        let (mut ben, _) = Feed::start(&s3, "ben", "ben").unwrap();
        // The alert raised before opening is listed, not shown again.
        assert!(first.earlier);
        assert_eq!(first.alerts.len(), 1);
        let t1 = t0 + chrono::Duration::seconds(1);
        assert_eq!(anna1.poll(&mut s1, t1).unwrap(), None);
        // Another process raises two alerts, one addressed to ben.
        raise(&mut store, alert("due", None, t1), t1);
        raise(&mut store, alert("role", Some("ben"), t1), t1);
        let t2 = t1 + chrono::Duration::seconds(1);
        let a1 = anna1.poll(&mut s1, t2).unwrap().unwrap();
        let a2 = anna2.poll(&mut s2, t2).unwrap().unwrap();
        let b = ben.poll(&mut s3, t2).unwrap().unwrap();
        // Every console reads both, in order...
        for batch in [&a1, &a2, &b] {
            let keys: Vec<&str> = batch.alerts.iter().map(|a| a.alert.key.as_str()).collect();
            assert_eq!(keys, ["due", "role"]);
            assert!(!batch.earlier);
        }
        // ... anna's desktop gets "due" once, from whichever console
        // claimed it first; ben's gets both.
        assert_eq!(a1.desktop, ["due"]);
        assert!(a2.desktop.is_empty());
        assert_eq!(b.desktop, ["due", "role"]);
        // Nothing is read twice.
        assert_eq!(anna1.cursor(), anna2.cursor());
        assert_eq!(anna1.poll(&mut s1, t2).unwrap(), None);
        assert_eq!(ben.poll(&mut s3, t2).unwrap(), None);
        // The claim is recorded at the time given, not the wall clock.
        let at: String = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT at FROM alert_notified WHERE alert_key = 'due' AND user = 'anna'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(at, crate::domain::event::format_time(t2));
    }

    #[test]
    fn a_console_opened_on_many_alerts_lists_the_recent_ones_and_reads_in_pages() {
        let t0: DateTime<Utc> = "2026-11-22T18:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        for n in 0..(RECENT + 5) {
            raise(&mut store, alert(&format!("old{n}"), None, t0), t0);
        }
        let (mut feed, first) = Feed::start(&store, "anna", "anna").unwrap();
        assert_eq!(first.alerts.len(), RECENT);
        assert_eq!(first.alerts.last().unwrap().id, feed.cursor());
        for n in 0..(PER_POLL + 3) {
            raise(&mut store, alert(&format!("new{n}"), None, t0), t0);
        }
        let page = feed.poll(&mut store, t0).unwrap().unwrap();
        assert_eq!(page.alerts.len(), PER_POLL);
        let rest = feed.poll(&mut store, t0).unwrap().unwrap();
        assert_eq!(rest.alerts.len(), 3);
        assert_eq!(rest.alerts[2].alert.key, format!("new{}", PER_POLL + 2));
    }
}
