//! SLA clocks, derived (never stored) from an incident, its clock history,
//! the policy and `now`. A paused or restarted console therefore shows the
//! right time at once.
//!
//! Semantics (the policy file and README say the same):
//! - every clock counts from the detection time;
//! - each period of the incident's life (a severity or detection-time
//!   change starts one) has the deadlines of the severity then in force; a
//!   clock is breached at the first moment it is unmet past the deadline of
//!   the period in force, and that breach stays whatever changes later;
//! - a clock due "immediately" reads `due now` for the policy's
//!   `immediate_grace`; met within it is met, unmet after it is breached;
//! - a paused clock stops counting until resumed (its deadline moves by the
//!   time paused); regulatory clocks never pause.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::Serialize;

use super::clock_history::deadline;
use super::incident::{ClockHistory, Incident, Pause, Period, Severity};
use super::policy::{Policy, RegulatoryTrigger};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Someone must take charge (acknowledge) within the response time.
    Response,
    /// Customers must be told within the customer-notice time.
    CustomerNotice,
    /// The next status update is due (repeats at the update cadence).
    NextUpdate,
    /// A legal deadline such as GDPR's 72 hours.
    Regulatory(String),
}

impl ClockKind {
    pub fn label(&self) -> String {
        match self {
            ClockKind::Response => "Response".into(),
            ClockKind::CustomerNotice => "Customer notice".into(),
            ClockKind::NextUpdate => "Next update".into(),
            ClockKind::Regulatory(name) => name.clone(),
        }
    }

    /// Stable machine name, used in JSON and alert keys.
    pub fn key(&self) -> String {
        match self {
            ClockKind::Response => "response".into(),
            ClockKind::CustomerNotice => "customer_notice".into(),
            ClockKind::NextUpdate => "next_update".into(),
            ClockKind::Regulatory(name) => format!("regulatory:{name}"),
        }
    }

    /// A clock named as a person types it (`response`, `customer-notice`,
    /// `next_update`, `regulatory`, or a key).
    pub fn parse(s: &str) -> Result<ClockKind, String> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match t.as_str() {
            "response" => Ok(ClockKind::Response),
            "customer_notice" | "customer" | "notice" => Ok(ClockKind::CustomerNotice),
            "next_update" | "update" => Ok(ClockKind::NextUpdate),
            _ if t == "regulatory" || t.starts_with("regulatory:") => Ok(ClockKind::Regulatory(
                s.trim()
                    .split_once(':')
                    .map_or(String::new(), |(_, n)| n.to_string()),
            )),
            _ => Err(format!(
                "no clock '{s}' (clocks: response, customer-notice, next-update, regulatory)"
            )),
        }
    }

    /// Regulatory clocks are the law's and never pause.
    pub fn pausable(&self) -> bool {
        !matches!(self, ClockKind::Regulatory(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Not yet met and not yet due.
    Running,
    /// Due "immediately" and within the policy's grace: not breached yet.
    DueNow,
    /// Stopped by a pause (waiting on a customer or a third party).
    Paused,
    /// Met at or before its due time.
    Met,
    /// Passed its due time unmet, or met late; stays so once it happened.
    Breached,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::DueNow => "due_now",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub kind: ClockKind,
    pub started: DateTime<Utc>,
    /// The deadline this clock is measured against: of the period it was
    /// breached in, of the period in force when it was met, or of the one
    /// in force now (for a paused clock: if it were resumed now).
    pub due: DateTime<Utc>,
    /// When the clock was satisfied, if it was.
    pub met_at: Option<DateTime<Utc>>,
    pub state: ClockState,
    /// Due minus (met time, or `now` if unmet): positive = time left or
    /// margin, negative = overdue or late by.
    pub remaining: ChronoDuration,
    /// When it was breached, if it was (kept whatever changed later).
    pub breached_at: Option<DateTime<Utc>>,
    /// The severity whose deadline `due` is (the one in force at the
    /// breach, at the meeting, or now).
    pub severity: Severity,
}

impl Clock {
    /// Still counting: unmet (running, due now, paused or overdue).
    pub fn is_live(&self) -> bool {
        self.met_at.is_none()
    }

    /// Fraction of the allowed time used so far (for "nearing" warnings).
    pub fn fraction_used(&self, now: DateTime<Utc>) -> f64 {
        let total = (self.due - self.started).num_milliseconds();
        if total <= 0 {
            return 1.0;
        }
        (now - self.started).num_milliseconds() as f64 / total as f64
    }
}

/// What one clock needs besides its periods: how long each severity allows
/// (`None`: no clock at that severity), what meets it, and its pauses.
struct Spec<'a> {
    kind: ClockKind,
    allowed: &'a dyn Fn(Severity) -> Option<std::time::Duration>,
    met_at: Option<DateTime<Utc>>,
    pauses: Vec<&'a Pause>,
}

/// Folds the periods into one clock (see the module's semantics).
fn fold(spec: Spec<'_>, periods: &[Period], policy: &Policy, now: DateTime<Utc>) -> Option<Clock> {
    let grace = to_chrono(policy.immediate_grace);
    // (allowed, immediately?) of a period's severity.
    let allowed = |p: &Period| {
        (spec.allowed)(p.severity).map(|d| match d.is_zero() {
            true => (grace, true),
            false => (to_chrono(d), false),
        })
    };
    let due_of = |p: &Period, until_now| {
        allowed(p)
            .and_then(|(a, _)| deadline(p.detected_at, a, spec.pauses.iter().copied(), until_now))
    };
    let end = |i: usize| periods.get(i + 1).map(|p| p.from);
    let clock = |due: DateTime<Utc>, p: &Period, state, breached_at| {
        let reference = spec.met_at.unwrap_or(now);
        Clock {
            kind: spec.kind.clone(),
            started: p.detected_at,
            due,
            met_at: spec.met_at,
            state,
            remaining: due - reference,
            breached_at,
            severity: p.severity,
        }
    };
    // The first breach, in period order: at the deadline, or at the start
    // of a period whose deadline had already passed (a severity raised
    // late), before the period ended, the clock was met, and now.
    for (i, p) in periods.iter().enumerate() {
        let Some(due) = due_of(p, None) else { continue };
        let at = if i == 0 { due } else { due.max(p.from) };
        let in_period = end(i).is_none_or(|e| at < e);
        if in_period && at <= now && spec.met_at.is_none_or(|m| at < m) {
            return Some(clock(due, p, ClockState::Breached, Some(at)));
        }
    }
    let reference = spec.met_at.unwrap_or(now);
    let current = periods
        .iter()
        .rev()
        .find(|p| p.from <= reference)
        .or(periods.first())?;
    let (_, immediately) = allowed(current)?;
    if spec.met_at.is_some() {
        let due = due_of(current, Some(reference))?;
        return Some(clock(due, current, ClockState::Met, None));
    }
    match due_of(current, None) {
        Some(due) if immediately => Some(clock(due, current, ClockState::DueNow, None)),
        Some(due) => Some(clock(due, current, ClockState::Running, None)),
        None => {
            let due = due_of(current, Some(now))?;
            Some(clock(due, current, ClockState::Paused, None))
        }
    }
}

/// Every clock of the incident at `now`, in a stable order: response,
/// customer notice, regulatory, next update. The one computation behind
/// the board, `incident show`, alerts, messages, reports and metrics.
pub fn clocks(incident: &Incident, policy: &Policy, now: DateTime<Utc>) -> Vec<Clock> {
    let periods = ClockHistory::periods_of(incident);
    let history = &incident.clock_history;
    let pauses = |k: &ClockKind| history.pauses_of_key(&k.key());
    let mut out = Vec::new();

    let response = |s: Severity| Some(policy.level(s).response);
    out.extend(fold(
        Spec {
            kind: ClockKind::Response,
            allowed: &response,
            met_at: incident.acknowledged_at,
            pauses: pauses(&ClockKind::Response),
        },
        &periods,
        policy,
        now,
    ));

    let notice = |s: Severity| policy.level(s).customer_notice;
    out.extend(fold(
        Spec {
            kind: ClockKind::CustomerNotice,
            allowed: &notice,
            met_at: incident.customer_notified_at,
            pauses: pauses(&ClockKind::CustomerNotice),
        },
        &periods,
        policy,
        now,
    ));

    for reg in &policy.regulatory {
        let applies = match reg.applies_to {
            RegulatoryTrigger::PersonalDataBreach => incident.personal_data_breach,
        };
        if applies {
            let within = |_: Severity| Some(reg.within);
            out.extend(fold(
                Spec {
                    kind: ClockKind::Regulatory(reg.name.clone()),
                    allowed: &within,
                    met_at: incident.regulator_notified_at,
                    // The law's clock: a pause never stops it.
                    pauses: Vec::new(),
                },
                &periods,
                policy,
                now,
            ));
        }
    }

    // The update cadence only runs while the incident is open; it restarts
    // from the last update sent (or from the declaration), at the cadence
    // of the severity in force now.
    let level = policy.level(incident.severity);
    if let (Some(every), true) = (level.update_every, incident.status.is_open()) {
        let from = incident.last_update_at.unwrap_or(incident.declared_at);
        let cadence = |_: Severity| Some(every);
        out.extend(fold(
            Spec {
                kind: ClockKind::NextUpdate,
                allowed: &cadence,
                met_at: None,
                pauses: pauses(&ClockKind::NextUpdate),
            },
            &[Period {
                from: DateTime::<Utc>::MIN_UTC,
                severity: incident.severity,
                detected_at: from,
            }],
            policy,
            now,
        ));
    }
    out
}

/// The clock that most needs attention: the most overdue, else the one with
/// the least time left. Met clocks are never urgent.
pub fn most_urgent(clocks: &[Clock]) -> Option<&Clock> {
    clocks
        .iter()
        .filter(|c| c.is_live())
        .min_by_key(|c| c.remaining)
}

fn to_chrono(d: std::time::Duration) -> ChronoDuration {
    ChronoDuration::from_std(d).unwrap_or(ChronoDuration::MAX)
}

/// Countdown text: `mm:ss` under an hour, `h:mm:ss` above, `+` when overdue.
pub fn format_countdown(remaining: ChronoDuration) -> String {
    let secs = remaining.num_seconds();
    let (sign, secs) = if secs < 0 { ("+", -secs) } else { ("", secs) };
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{sign}{h}:{m:02}:{s:02}")
    } else {
        format!("{sign}{m:02}:{s:02}")
    }
}

#[cfg(test)]
#[path = "sla_tests.rs"]
mod tests;
