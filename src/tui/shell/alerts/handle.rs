//! Alerts: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};

use super::state::*;
use crate::store::NewAlert;
use crate::tui::effect::Effect;
use crate::tui::shell::app::App;

/// Each tick: ages the toast, and asks the store worker to raise the
/// alerts due now that this process has not asked for yet.
pub fn tick(app: &mut App, now: DateTime<Utc>) -> Option<Effect> {
    app.alerts.tick();
    let due = app
        .alerts
        .due(&app.policy, &app.comms.config, &app.actor, now);
    let new = app.alerts.take_new(due);
    app.alerts.waiting.extend(new);
    let n = app.alerts.waiting.len().min(MAX_RAISE_PER_TICK);
    let batch: Vec<NewAlert> = app.alerts.waiting.drain(..n).collect();
    (!batch.is_empty()).then_some(Effect::RaiseAlerts(batch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RaisedAlert;
    use crate::tui::screens::alerts::io::{Feed, FeedBatch};

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
    fn a_tick_asks_for_due_alerts_once_and_shows_what_the_feed_reads() {
        use crate::domain::{Playbook, Policy, Severity};
        use crate::store::{NewIncident, Store};
        use crate::tui::action::Action;
        use crate::tui::shell::router::update;
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
        // Nothing shows until the console's feed reads them from the
        // alert log, whichever process raised them (here another one).
        assert!(app.alerts.current().is_none());
        let (mut feed, _) = Feed::start(&store, "alice", "alice").unwrap();
        let config = crate::comms::CommsConfig::builtin(std::path::Path::new("/nonexistent"));
        crate::comms::alerts::raise_due(&mut store, asked, &config, "bob", now).unwrap();
        let batch = feed.poll(&mut store, now).unwrap().unwrap();
        let fx = update(&mut app, Action::AlertFeed(Box::new(batch)), now);
        assert!(matches!(fx.first(), Some(Effect::Bell)));
        assert!(fx.iter().any(|e| matches!(e, Effect::DesktopNotify { .. })));
        assert!(
            app.alerts
                .current()
                .unwrap()
                .text
                .contains("Customer notice")
        );
        assert!(!app.alerts.log.is_empty());
    }

    #[test]
    fn incidents_are_rechecked_when_a_clock_crosses_a_line_or_the_data_changes() {
        use crate::comms::CommsConfig;
        use crate::domain::{Playbook, Policy, Severity};
        use crate::store::{NewIncident, Store};
        let t0: DateTime<Utc> = "2026-11-22T18:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        // A P3: response due in 4 h, near at 75% (3 h in).
        store
            .create_incident(
                &NewIncident::new("Slow", Severity::P3),
                &Playbook::builtin(),
                "bob",
                t0,
            )
            .unwrap();
        let policy = Policy::builtin();
        let config = CommsConfig::builtin(std::path::Path::new("/nonexistent"));
        let mut s = AlertState::default();
        s.set_subjects(store.alert_subjects().unwrap());
        assert!(s.due(&policy, &config, "alice", t0).is_empty());
        // Not due for a check again for a minute.
        assert!(s.next_check[0] > t0 && s.next_check[0] <= t0 + RECHECK_EVERY);
        let near = t0 + chrono::Duration::hours(3);
        // Just before the line, checked (the minute is up) but not near.
        let before = near - chrono::Duration::seconds(30);
        s.next_check[0] = before;
        assert!(s.due(&policy, &config, "alice", before).is_empty());
        // The next check is the line itself, not a minute on.
        assert_eq!(s.next_check[0], near);
        let at = s.due(&policy, &config, "alice", near);
        assert!(
            at.iter()
                .any(|a| a.key.contains(":response:") && a.key.ends_with(":near")),
            "{at:?}"
        );
        // A line just crossed is looked at once more on the next tick
        // (a deadline between two ticks is not missed)...
        let later = near + chrono::Duration::seconds(3);
        assert!(!s.due(&policy, &config, "alice", later).is_empty());
        // ... and then nothing is computed until the next line or minute;
        assert!(s.next_check[0] >= later + RECHECK_EVERY);
        assert!(s.due(&policy, &config, "alice", later).is_empty());
        // unchanged data keeps the schedule, a change resets it.
        s.set_subjects(store.alert_subjects().unwrap());
        assert!(s.due(&policy, &config, "alice", later).is_empty());
        let id = s.subjects[0].incident.id.clone();
        store.add_note(&id, "x", "bob", later).unwrap();
        store
            .assign_role(&id, crate::domain::Role::Ops, "carol", "bob", later)
            .unwrap();
        s.set_subjects(store.alert_subjects().unwrap());
        assert!(!s.due(&policy, &config, "alice", later).is_empty());
    }

    #[test]
    fn a_flood_of_due_alerts_is_raised_a_batch_per_tick() {
        use crate::domain::{Playbook, Policy, Severity};
        use crate::store::{NewIncident, Store};
        use crate::tui::action::Action;
        use crate::tui::shell::router::update;
        let now: DateTime<Utc> = "2026-11-22T18:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        store.relax_durability_for_bulk_load().unwrap();
        for n in 0..100 {
            store
                .create_incident(
                    &NewIncident::new(format!("P1 number {n}"), Severity::P1),
                    &Playbook::builtin(),
                    "bob",
                    now,
                )
                .unwrap();
        }
        let mut app = App::new("alice", Policy::builtin(), true);
        update(
            &mut app,
            Action::AlertSubjectsLoaded(store.alert_subjects().unwrap()),
            now,
        );
        let mut sizes = Vec::new();
        for _ in 0..4 {
            for e in update(&mut app, Action::Tick, now) {
                if let Effect::RaiseAlerts(a) = e {
                    sizes.push(a.len());
                }
            }
        }
        // 100 customer notices due at once: 64, then the other 36.
        assert_eq!(sizes, [MAX_RAISE_PER_TICK, 100 - MAX_RAISE_PER_TICK]);
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

    fn logged(id: i64, a: NewAlert) -> RaisedAlert {
        RaisedAlert {
            id,
            alert: a,
            acknowledged_at: None,
        }
    }

    #[test]
    fn alerts_read_ring_once_notify_the_claimed_and_toast_in_turn() {
        let mut s = AlertState::default();
        let mut for_bob = alert("c");
        for_bob.recipient = Some("bob".into());
        let fx = s.arrived(
            FeedBatch {
                alerts: vec![
                    logged(1, alert("a")),
                    logged(2, alert("b")),
                    logged(3, for_bob),
                ],
                earlier: false,
                // Another console of this user claimed b's notification.
                desktop: vec!["a".into(), "c".into()],
            },
            "alice",
        );
        assert_eq!(fx.iter().filter(|e| matches!(e, Effect::Bell)).count(), 1);
        assert_eq!(
            fx.iter()
                .filter(|e| matches!(e, Effect::DesktopNotify { summary, .. } if summary == "warroom: INC-2026-001"))
                .count(),
            1
        );
        // Bob's alert is listed, not shown to alice.
        assert_eq!(s.log.len(), 3);
        assert_eq!(s.toasts.len(), 2);
        assert_eq!(s.current().unwrap().text, "text of a");
        for _ in 0..TOAST_TICKS {
            s.tick();
        }
        assert_eq!(s.current().unwrap().text, "text of b");
        for _ in 0..TOAST_TICKS {
            s.tick();
        }
        assert!(s.current().is_none());
        // The list keeps them after the toasts are gone.
        assert_eq!(s.log.newest(2).unwrap().alert.key, "a");
        // Alerts from before the console opened: listed, silent.
        let fx = s.arrived(
            FeedBatch {
                alerts: vec![logged(0, alert("old"))],
                earlier: true,
                desktop: Vec::new(),
            },
            "alice",
        );
        assert!(fx.is_empty());
        assert!(s.current().is_none());
    }
}
