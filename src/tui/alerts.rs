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
use super::effect::Effect;
use crate::store::{AlertSubject, NewAlert};

/// How many ticks (seconds) a toast stays up.
pub const TOAST_TICKS: u8 = 8;

/// At most this many toasts wait their turn; older ones make way.
const MAX_QUEUED: usize = 20;

/// At most this many alerts are sent to the store worker per tick (each is
/// one write transaction): a console starting on thousands of open
/// incidents raises their alerts over a few ticks instead of holding the
/// user's own writes up behind thousands of commits.
pub const MAX_RAISE_PER_TICK: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// The alert's text, as raised (made safe when drawn).
    pub text: String,
    pub kind: String,
    pub age: u8,
}

/// An incident is checked again at least this often, even when none of
/// its clocks is about to cross a line.
const RECHECK_EVERY: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, Clone, Default)]
pub struct AlertState {
    /// Open incidents with their role holders, as last loaded: what the
    /// alert check looks at.
    subjects: Vec<AlertSubject>,
    /// When each subject needs checking again: the next moment one of its
    /// clocks nears or passes its deadline (at most a minute away). An
    /// alert can only become due at such a moment or when the data
    /// changes, so the tick need not run the check over every incident
    /// every second (10,000 open incidents: 44 ms per full check).
    next_check: Vec<DateTime<Utc>>,
    /// Keys this process has asked the store to raise (taken or not):
    /// never asked again while it runs. After a restart they are asked
    /// again and the store answers "already raised".
    pub attempted: HashSet<String>,
    /// The toast shown first, then the ones waiting.
    pub toasts: VecDeque<Toast>,
    /// Alerts due and not yet sent to the store worker.
    waiting: VecDeque<NewAlert>,
}

impl AlertState {
    /// New data: an incident that is new or changed (or whose role
    /// holders changed) is checked on the next tick; the others keep their
    /// schedule, so a busy database does not mean a full check per write.
    pub fn set_subjects(&mut self, subjects: Vec<AlertSubject>) {
        let old: std::collections::HashMap<&str, (&AlertSubject, DateTime<Utc>)> = self
            .subjects
            .iter()
            .zip(self.next_check.iter())
            .map(|(s, n)| (s.incident.id.as_str(), (s, *n)))
            .collect();
        let next_check = subjects
            .iter()
            .map(|s| match old.get(s.incident.id.as_str()) {
                Some((o, next)) if o.incident == s.incident && o.holders == s.holders => *next,
                _ => DateTime::<Utc>::MIN_UTC,
            })
            .collect();
        self.next_check = next_check;
        self.subjects = subjects;
    }

    pub fn subjects(&self) -> &[AlertSubject] {
        &self.subjects
    }

    /// The alerts due now among the subjects whose check time has come.
    pub fn due(
        &mut self,
        policy: &crate::domain::Policy,
        config: &crate::comms::CommsConfig,
        me: &str,
        now: DateTime<Utc>,
    ) -> Vec<NewAlert> {
        let mut out = Vec::new();
        for (i, (s, next)) in self
            .subjects
            .iter()
            .zip(self.next_check.iter_mut())
            .enumerate()
        {
            if *next > now {
                continue;
            }
            out.extend(crate::comms::alerts::due(
                std::slice::from_ref(s),
                policy,
                config,
                me,
                now,
            ));
            // The once-a-minute rechecks are spread over half a minute.
            let cap = now + RECHECK_EVERY + chrono::Duration::seconds((i % 30) as i64);
            *next = next_check(s, policy, config.near_threshold, now, cap);
        }
        out
    }

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

/// When `s` can next have a new alert by the clock alone: the nearest
/// future moment one of its live clocks reaches the "near" share of its
/// time or its deadline, and no later than `cap`. A moment just
/// passed (within two seconds) is checked again on the next tick, so a
/// deadline that falls between two ticks is not missed.
fn next_check(
    s: &AlertSubject,
    policy: &crate::domain::Policy,
    near: f64,
    now: DateTime<Utc>,
    cap: DateTime<Utc>,
) -> DateTime<Utc> {
    let mut next = cap;
    for c in crate::domain::sla::clocks(&s.incident, policy, now) {
        if !c.is_live() {
            continue;
        }
        let span = (c.due - c.started).num_milliseconds();
        let near_at = c.started + chrono::Duration::milliseconds((span as f64 * near) as i64);
        for t in [near_at, c.due] {
            if t > now - chrono::Duration::seconds(2) {
                next = next.min(t.max(now));
            }
        }
    }
    next
}

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
        use crate::tui::update::update;
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
