//! Which responder alerts are due at `now` (`due`, pure: the same
//! incidents, policy, settings and `now` give the same alerts in every
//! process, with the same keys, so `Store::raise_alert` lets exactly one
//! process take (and show) each). Raising them and delivering what this
//! process took is `raise.rs`, which does I/O.
//!
//! Occasions and their keys (times are RFC 3339 UTC):
//! - a clock nearing its deadline (`near`, once the configured share of its
//!   time is used, default 75%): `clock:ID:KIND:DUE:near`
//! - a clock breached (unmet past due): `clock:ID:KIND:DUE:breached`
//! - a clock due at once (zero time allowed, e.g. a P1's customer notice):
//!   `clock:ID:KIND:DUE:due`
//! - a response breached and unacknowledged walks the policy's escalation
//!   steps (each step once per occurrence, the last repeating), to each
//!   person a step names (and at the first step, comms.toml's escalation
//!   contacts): `escalate:ID:response:DUE:N:WHO` (`N` the occurrence,
//!   `WHO` `-` when the step named nobody); nothing once acknowledged
//! - a new, unacknowledged incident opened by the rule watcher:
//!   `incident:ID:new`
//! - a role assigned to me (not by myself): `role:ID:ROLE:SINCE:ME`
//!
//! The due time is part of a clock's key, so a restarted update cadence or a
//! severity change that moves a deadline is a new occasion, while the same
//! deadline never alerts twice.

use chrono::{DateTime, Utc};

use super::CommsConfig;
use crate::domain::event::format_time;
use crate::domain::sla::{ClockKind, ClockState, clocks, format_countdown};
use crate::domain::{Incident, Policy, Role, Source, Status};
use crate::store::{AlertSubject, NewAlert};
use crate::text::display_safe;

mod raise;

pub use super::delivery_queue::deliver_in_background;
pub use raise::{Checked, check, check_and_deliver, raise_due};

pub use crate::domain::comms::{
    CLOCK_BREACHED, CLOCK_DUE, CLOCK_NEAR, DETECTION, ESCALATION, INCIDENT_NEW, ROLE_ASSIGNED,
};

/// Alert kinds that call for immediate attention (desktop urgency
/// critical).
pub fn is_urgent(kind: &str) -> bool {
    matches!(kind, CLOCK_BREACHED | ESCALATION | CLOCK_DUE)
}

fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M UTC").to_string()
}

fn headline(i: &Incident) -> String {
    let drill = if i.drill { "[DRILL] " } else { "" };
    format!(
        "{drill}{} {} {}",
        i.id,
        i.severity,
        display_safe(i.title.trim())
    )
}

/// The alerts that should exist at `now` for the open incidents given, as
/// seen by `me` (role alerts are only mine). Raise each with
/// `Store::raise_alert`; show only those it returns true for.
pub fn due(
    subjects: &[AlertSubject],
    policy: &Policy,
    config: &CommsConfig,
    me: &str,
    now: DateTime<Utc>,
) -> Vec<NewAlert> {
    let mut out = Vec::new();
    for s in subjects {
        let i = &s.incident;
        if !i.status.is_open() {
            continue;
        }
        let id = i.id.as_str();
        let alert = |key: String, kind: &str, text: String, recipient: Option<String>| NewAlert {
            key,
            incident_id: Some(id.to_string()),
            kind: kind.to_string(),
            text,
            recipient,
            raised_by: me.to_string(),
            raised_at: now,
        };

        if i.source == Source::RuleWatcher
            && i.acknowledged_at.is_none()
            && i.status == Status::Investigating
        {
            out.push(alert(
                format!("incident:{id}:new"),
                INCIDENT_NEW,
                format!("New incident from the rule watcher: {}", headline(i)),
                None,
            ));
        }

        for c in clocks(i, policy, now) {
            // Escalation goes on only while nobody has acknowledged.
            if let (ClockKind::Response, None, Some(breached)) = (&c.kind, c.met_at, c.breached_at)
            {
                escalate(&mut out, s, policy, config, &c, breached, now, &alert);
            }
            if !c.is_live() {
                continue;
            }
            let base = format!("clock:{id}:{}:{}", c.kind.key(), format_time(c.due));
            let label = c.kind.label();
            match c.state {
                ClockState::DueNow => {
                    out.push(alert(
                        format!("{base}:due"),
                        CLOCK_DUE,
                        format!(
                            "{}: {label} is due now (policy: immediately; breached at {})",
                            headline(i),
                            hhmm(c.due)
                        ),
                        None,
                    ));
                }
                ClockState::Running if c.fraction_used(now) >= config.near_threshold => {
                    let pct = (c.fraction_used(now) * 100.0).floor() as i64;
                    out.push(alert(
                        format!("{base}:near"),
                        CLOCK_NEAR,
                        format!(
                            "{}: {label} clock {pct}% used, due {} ({} left)",
                            headline(i),
                            hhmm(c.due),
                            format_countdown(c.remaining)
                        ),
                        None,
                    ));
                }
                ClockState::Breached => {
                    out.push(alert(
                        format!("{base}:breached"),
                        CLOCK_BREACHED,
                        format!(
                            "{}: {label} clock BREACHED, was due {}",
                            headline(i),
                            hhmm(c.due)
                        ),
                        None,
                    ));
                }
                _ => {}
            }
        }

        for a in &s.holders {
            if a.person == me && a.assigned_by != me && a.until.is_none() {
                out.push(alert(
                    format!("role:{id}:{}:{}:{me}", a.role, format_time(a.since)),
                    ROLE_ASSIGNED,
                    format!(
                        "You are now {} on {} (assigned by {})",
                        a.role.title().to_lowercase(),
                        headline(i),
                        display_safe(&a.assigned_by)
                    ),
                    Some(me.to_string()),
                ));
            }
        }
    }
    out
}

/// Builds an alert of one incident: (key, kind, text, recipient).
type MakeAlert<'a> = dyn Fn(String, &str, String, Option<String>) -> NewAlert + 'a;

/// A response breached and still unacknowledged: every escalation step
/// due by `now` (the policy's steps from the breach on, the last one
/// repeating), one alert per person the step names at its time, each under
/// a key of its own so it is raised (and delivered) once. A step that names
/// nobody (an empty rotation, a role nobody holds) still raises one alert,
/// to everyone, saying so: escalation never goes quiet.
#[allow(clippy::too_many_arguments)]
fn escalate(
    out: &mut Vec<NewAlert>,
    s: &AlertSubject,
    policy: &Policy,
    config: &CommsConfig,
    c: &crate::domain::Clock,
    breached: DateTime<Utc>,
    now: DateTime<Utc>,
    alert: &MakeAlert<'_>,
) {
    let i = &s.incident;
    let holder = |r: Role| {
        s.holders
            .iter()
            .find(|a| a.role == r && a.until.is_none())
            .map(|a| a.person.clone())
    };
    let what = format!("not acknowledged; response was due {}", hhmm(c.due));
    // A policy without steps still pages comms.toml's contacts, once, at
    // the breach (as before escalation steps existed).
    let at_breach = crate::domain::escalation::EscalationPolicy {
        steps: vec![crate::domain::escalation::Step {
            notify: Vec::new(),
            wait: std::time::Duration::ZERO,
        }],
        rotations: Default::default(),
    };
    let escalation = match policy.escalation.steps.is_empty() {
        true => &at_breach,
        false => &policy.escalation,
    };
    for d in escalation.due(breached, now) {
        let mut who: Vec<String> = Vec::new();
        for t in &d.step.notify {
            if let Some(w) = escalation.resolve(t, holder, d.at)
                && !who.contains(&w)
            {
                who.push(w);
            }
        }
        if d.occurrence == 0 {
            for e in &config.escalation {
                if !who.contains(e) {
                    who.push(e.clone());
                }
            }
        }
        let step = d.occurrence + 1;
        let base = format!(
            "escalate:{}:response:{}:{}",
            i.id,
            format_time(c.due),
            d.occurrence
        );
        if who.is_empty() {
            out.push(alert(
                format!("{base}:-"),
                ESCALATION,
                format!(
                    "ESCALATION step {step}: nobody to page (the step's roles and rotations name no one): {} {what}",
                    headline(i)
                ),
                None,
            ));
        }
        for w in who {
            out.push(alert(
                format!("{base}:{w}"),
                ESCALATION,
                format!(
                    "ESCALATION step {step} to {}: {} {what}",
                    display_safe(&w),
                    headline(i)
                ),
                Some(w),
            ));
        }
    }
}

#[cfg(test)]
mod escalation_tests;
#[cfg(test)]
mod tests;
