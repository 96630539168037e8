//! Alerts: its state and pure helpers; nothing here imports the app.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};

use crate::store::{AlertSubject, NewAlert};
use crate::tui::effect::Effect;
use crate::tui::screens::alerts::io::{FeedBatch, for_user};
use crate::tui::screens::alerts::state::AlertLog;

/// How many ticks (seconds) a toast stays up.
pub const TOAST_TICKS: u8 = 8;

/// At most this many toasts wait their turn; older ones make way.
pub(crate) const MAX_QUEUED: usize = 20;

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
pub(crate) const RECHECK_EVERY: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, Clone, Default)]
pub struct AlertState {
    /// Open incidents with their role holders, as last loaded: what the
    /// alert check looks at.
    pub(crate) subjects: Vec<AlertSubject>,
    /// When each subject needs checking again: the next moment one of its
    /// clocks nears or passes its deadline (at most a minute away). An
    /// alert can only become due at such a moment or when the data
    /// changes, so the tick need not run the check over every incident
    /// every second (10,000 open incidents: 44 ms per full check).
    pub(crate) next_check: Vec<DateTime<Utc>>,
    /// Keys this process has asked the store to raise (taken or not):
    /// never asked again while it runs. After a restart they are asked
    /// again and the store answers "already raised".
    pub attempted: HashSet<String>,
    /// The toast shown first, then the ones waiting.
    pub toasts: VecDeque<Toast>,
    /// Alerts due and not yet sent to the store worker.
    pub(crate) waiting: VecDeque<NewAlert>,
    /// Every alert this console has read from the alert log (the alert
    /// list), kept after its toast is gone.
    pub log: AlertLog,
    /// Alerts shown since the alert list was last opened (the footer
    /// says so, so a responder who looked away knows to look).
    pub unseen: usize,
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

    /// Alerts read from the alert log by this console's cursor, whoever
    /// raised them: listed; the new ones meant for everyone or for `me`
    /// are queued as toasts, with one bell for the batch and a desktop
    /// notification each for those this console claimed for its user.
    pub fn arrived(&mut self, batch: FeedBatch, me: &str) -> Vec<Effect> {
        let FeedBatch {
            alerts,
            earlier,
            desktop,
        } = batch;
        let shown: Vec<NewAlert> = if earlier {
            Vec::new()
        } else {
            alerts
                .iter()
                .filter(|a| for_user(&a.alert, me))
                .map(|a| a.alert.clone())
                .collect()
        };
        self.log.extend(alerts);
        if shown.is_empty() {
            return Vec::new();
        }
        let mut fx = vec![Effect::Bell];
        self.unseen = self.unseen.saturating_add(shown.len());
        for a in shown {
            tracing::info!(key = %a.key, "alert shown: {}", a.key);
            if desktop.contains(&a.key) {
                fx.push(Effect::DesktopNotify {
                    summary: summary(&a),
                    body: a.text.clone(),
                    urgent: crate::comms::alerts::is_urgent(&a.kind),
                });
            }
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
pub(crate) fn next_check(
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

/// The notification's title: "warroom: INC-2026-001" or "warroom".
pub(crate) fn summary(a: &NewAlert) -> String {
    match &a.incident_id {
        Some(id) => format!("warroom: {id}"),
        None => "warroom".to_string(),
    }
}
