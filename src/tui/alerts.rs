//! Responder alerts in the console. Each tick the console works out which
//! alerts are due for what it has loaded (`comms::alerts::due`, pure) and
//! asks the store worker to raise the ones it has not tried yet. The store
//! records each under its key before anyone shows it, so only the process
//! that took the key shows it: as a toast (a transient line over the foot
//! of the screen), a terminal bell (written by the runtime) and a desktop
//! notification (sent off the UI thread).

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};

use super::app::App;
use super::update::Effect;
use crate::store::{AlertSubject, NewAlert};

/// How many ticks (seconds) a toast stays up.
pub const TOAST_TICKS: u8 = 8;

/// At most this many toasts wait their turn; older ones make way.
const MAX_QUEUED: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// The alert's text, as raised (made safe when drawn).
    pub text: String,
    pub kind: String,
    pub age: u8,
}

#[derive(Debug, Clone, Default)]
pub struct AlertState {
    /// Open incidents with their role holders, as last loaded: what the
    /// alert check looks at.
    pub subjects: Vec<AlertSubject>,
    /// Keys this process has asked the store to raise (taken or not):
    /// never asked again while it runs. After a restart they are asked
    /// again and the store answers "already raised".
    pub attempted: HashSet<String>,
    /// The toast shown first, then the ones waiting.
    pub toasts: VecDeque<Toast>,
}

impl AlertState {
    /// The toast to show now.
    pub fn current(&self) -> Option<&Toast> {
        self.toasts.front()
    }

    /// Ages the shown toast; the next one follows when it expires.
    pub fn tick(&mut self) {
        if let Some(t) = self.toasts.front_mut() {
            t.age = t.age.saturating_add(1);
            if t.age >= TOAST_TICKS {
                self.toasts.pop_front();
            }
        }
    }

    /// Keeps only the alerts not asked for yet, and marks them asked.
    pub fn take_new(&mut self, due: Vec<NewAlert>) -> Vec<NewAlert> {
        due.into_iter()
            .filter(|a| self.attempted.insert(a.key.clone()))
            .collect()
    }

    /// Raising these failed (the store said nothing either way): ask
    /// again on a later tick.
    pub fn retry_later(&mut self, keys: &[String]) {
        for k in keys {
            self.attempted.remove(k);
        }
    }

    /// Alerts this process raised: queued as toasts; one bell for the
    /// batch and a desktop notification each.
    pub fn raised(&mut self, alerts: Vec<NewAlert>) -> Vec<Effect> {
        if alerts.is_empty() {
            return Vec::new();
        }
        let mut fx = vec![Effect::Bell];
        for a in alerts {
            tracing::info!(key = %a.key, "alert shown: {}", a.key);
            fx.push(Effect::DesktopNotify {
                summary: summary(&a),
                body: a.text.clone(),
                urgent: crate::comms::alerts::is_urgent(&a.kind),
            });
            self.toasts.push_back(Toast {
                text: a.text,
                kind: a.kind,
                age: 0,
            });
        }
        while self.toasts.len() > MAX_QUEUED {
            // Keep the one on screen; drop the oldest waiting.
            self.toasts.remove(1);
        }
        fx
    }
}

/// Each tick: ages the toast, and asks the store worker to raise the
/// alerts due now that this process has not asked for yet.
pub fn tick(app: &mut App, now: DateTime<Utc>) -> Option<Effect> {
    app.alerts.tick();
    let due = crate::comms::alerts::due(
        &app.alerts.subjects,
        &app.policy,
        &app.comms.config,
        &app.actor,
        now,
    );
    let new = app.alerts.take_new(due);
    (!new.is_empty()).then_some(Effect::RaiseAlerts(new))
}

/// The notification's title: "warroom: INC-2026-001" or "warroom".
fn summary(a: &NewAlert) -> String {
    match &a.incident_id {
        Some(id) => format!("warroom: {id}"),
        None => "warroom".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(key: &str) -> NewAlert {
        NewAlert {
            key: key.into(),
            incident_id: Some("INC-2026-001".into()),
            kind: "clock-near".into(),
            text: format!("text of {key}"),
            recipient: None,
            raised_by: "alice".into(),
            raised_at: "2026-11-22T18:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_tick_asks_for_due_alerts_once_and_shows_only_the_ones_raised() {
        use crate::domain::{Playbook, Policy, Severity};
        use crate::store::{NewIncident, Store};
        use crate::tui::action::Action;
        use crate::tui::update::update;
        let now: DateTime<Utc> = "2026-11-22T18:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        // A P1: its customer notice is due at once.
        store
            .create_incident(
                &NewIncident::new("Breach", Severity::P1),
                &Playbook::builtin(),
                "bob",
                now,
            )
            .unwrap();
        let mut app = App::new("alice", Policy::builtin(), true);
        update(
            &mut app,
            Action::AlertSubjectsLoaded(store.alert_subjects().unwrap()),
            now,
        );
        let fx = update(&mut app, Action::Tick, now);
        let asked: Vec<NewAlert> = fx
            .iter()
            .find_map(|e| match e {
                Effect::RaiseAlerts(a) => Some(a.clone()),
                _ => None,
            })
            .expect("alerts asked for");
        assert!(asked.iter().any(|a| a.key.ends_with(":due")), "{asked:?}");
        // Asked once: the next tick does not ask again.
        let fx = update(&mut app, Action::Tick, now);
        assert!(!fx.iter().any(|e| matches!(e, Effect::RaiseAlerts(_))));
        // Another process took them: nothing shows.
        assert!(app.alerts.current().is_none());
        // This one took them: toast, bell, notification.
        let fx = update(&mut app, Action::AlertsRaised(asked), now);
        assert!(matches!(fx.first(), Some(Effect::Bell)));
        assert!(
            app.alerts
                .current()
                .unwrap()
                .text
                .contains("Customer notice")
        );
    }

    #[test]
    fn each_key_is_asked_once_unless_the_raise_failed() {
        let mut s = AlertState::default();
        assert_eq!(s.take_new(vec![alert("a"), alert("b")]).len(), 2);
        assert!(s.take_new(vec![alert("a"), alert("b")]).is_empty());
        s.retry_later(&["b".to_string()]);
        let again = s.take_new(vec![alert("a"), alert("b")]);
        assert_eq!(again, vec![alert("b")]);
    }

    #[test]
    fn raised_alerts_ring_once_notify_each_and_toast_in_turn() {
        let mut s = AlertState::default();
        let fx = s.raised(vec![alert("a"), alert("b")]);
        assert_eq!(fx.iter().filter(|e| matches!(e, Effect::Bell)).count(), 1);
        assert_eq!(
            fx.iter()
                .filter(|e| matches!(e, Effect::DesktopNotify { summary, .. } if summary == "warroom: INC-2026-001"))
                .count(),
            2
        );
        assert_eq!(s.current().unwrap().text, "text of a");
        for _ in 0..TOAST_TICKS {
            s.tick();
        }
        assert_eq!(s.current().unwrap().text, "text of b");
        for _ in 0..TOAST_TICKS {
            s.tick();
        }
        assert!(s.current().is_none());
        assert!(s.raised(Vec::new()).is_empty());
    }
}
