//! SLA clocks, derived (never stored) from an incident, the policy and `now`.
//! A paused or restarted console therefore shows the right time at once, and
//! a severity change re-derives every clock from the original detection time.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::Serialize;

use super::incident::Incident;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Not yet met and not yet due.
    Running,
    /// Met at or before its due time.
    Met,
    /// Passed its due time unmet, or met late.
    Breached,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub kind: ClockKind,
    pub started: DateTime<Utc>,
    pub due: DateTime<Utc>,
    /// When the clock was satisfied, if it was.
    pub met_at: Option<DateTime<Utc>>,
    pub state: ClockState,
    /// Due minus (met time, or `now` if unmet): positive = time left or
    /// margin, negative = overdue or late by.
    pub remaining: ChronoDuration,
}

impl Clock {
    fn new(
        kind: ClockKind,
        started: DateTime<Utc>,
        due: DateTime<Utc>,
        met_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Clock {
        let reference = met_at.unwrap_or(now);
        let remaining = due - reference;
        let state = match met_at {
            Some(m) if m <= due => ClockState::Met,
            Some(_) => ClockState::Breached,
            None if now < due => ClockState::Running,
            None => ClockState::Breached,
        };
        Clock {
            kind,
            started,
            due,
            met_at,
            state,
            remaining,
        }
    }

    /// Still counting: unmet (running or overdue).
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

/// Every clock of the incident at `now`, in a stable order: response,
/// customer notice, regulatory, next update.
pub fn clocks(incident: &Incident, policy: &Policy, now: DateTime<Utc>) -> Vec<Clock> {
    let level = policy.level(incident.severity);
    let start = incident.detected_at;
    let mut out = Vec::new();

    out.push(Clock::new(
        ClockKind::Response,
        start,
        start + to_chrono(level.response),
        incident.acknowledged_at,
        now,
    ));

    if let Some(notice) = level.customer_notice {
        out.push(Clock::new(
            ClockKind::CustomerNotice,
            start,
            start + to_chrono(notice),
            incident.customer_notified_at,
            now,
        ));
    }

    for reg in &policy.regulatory {
        let applies = match reg.applies_to {
            RegulatoryTrigger::PersonalDataBreach => incident.personal_data_breach,
        };
        if applies {
            out.push(Clock::new(
                ClockKind::Regulatory(reg.name.clone()),
                start,
                start + to_chrono(reg.within),
                incident.regulator_notified_at,
                now,
            ));
        }
    }

    // The update cadence only runs while the incident is open; it restarts
    // from the last update sent (or from the declaration).
    if let (Some(every), true) = (level.update_every, incident.status.is_open()) {
        let from = incident.last_update_at.unwrap_or(incident.declared_at);
        out.push(Clock::new(
            ClockKind::NextUpdate,
            from,
            from + to_chrono(every),
            None,
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
mod tests {
    use super::*;
    use crate::domain::incident::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0).unwrap()
    }

    fn incident(sev: Severity) -> Incident {
        Incident {
            id: IncidentId::new(2026, 1),
            title: "t".into(),
            summary: String::new(),
            severity: sev,
            status: Status::Investigating,
            phase: Phase::Detection,
            source: Source::Manual,
            affected: String::new(),
            cia: Cia::default(),
            customer_impact: String::new(),
            personal_data_breach: false,
            drill: false,
            detected_at: t(10, 0),
            declared_at: t(10, 5),
            acknowledged_at: None,
            contained_at: None,
            resolved_at: None,
            closed_at: None,
            customer_notified_at: None,
            regulator_notified_at: None,
            last_update_at: None,
            updated_at: t(10, 5),
        }
    }

    fn find(clocks: &[Clock], kind: ClockKind) -> Clock {
        clocks
            .iter()
            .find(|c| c.kind == kind)
            .cloned()
            .expect("clock present")
    }

    #[test]
    fn every_severity_gets_its_response_and_notice_deadlines() {
        let p = Policy::builtin();
        let cases = [
            (Severity::P1, 15, Some(0)),
            (Severity::P2, 60, Some(240)),
            (Severity::P3, 240, Some(1440)),
            (Severity::P4, 1440, None),
        ];
        for (sev, resp_min, notice_min) in cases {
            let c = clocks(&incident(sev), &p, t(10, 1));
            let r = find(&c, ClockKind::Response);
            assert_eq!(r.due, t(10, 0) + ChronoDuration::minutes(resp_min), "{sev}");
            assert_eq!(r.state, ClockState::Running, "{sev}");
            let notice = c.iter().find(|c| c.kind == ClockKind::CustomerNotice);
            match notice_min {
                Some(m) => assert_eq!(notice.unwrap().due, t(10, 0) + ChronoDuration::minutes(m)),
                None => assert!(notice.is_none(), "P4 customer notice is as needed"),
            }
        }
    }

    #[test]
    fn p1_customer_notice_is_due_immediately_and_so_breached_until_sent() {
        let c = clocks(&incident(Severity::P1), &Policy::builtin(), t(10, 1));
        let n = find(&c, ClockKind::CustomerNotice);
        assert_eq!(n.due, t(10, 0));
        assert_eq!(n.state, ClockState::Breached);
        assert_eq!(n.remaining, ChronoDuration::minutes(-1));
    }

    #[test]
    fn response_breaches_when_unacknowledged_past_due() {
        let c = clocks(&incident(Severity::P1), &Policy::builtin(), t(10, 20));
        let r = find(&c, ClockKind::Response);
        assert_eq!(r.state, ClockState::Breached);
        assert_eq!(r.remaining, ChronoDuration::minutes(-5));
        assert_eq!(format_countdown(r.remaining), "+05:00");
    }

    #[test]
    fn acknowledgement_meets_or_breaches_response() {
        let mut i = incident(Severity::P1);
        i.acknowledged_at = Some(t(10, 10));
        let r = find(
            &clocks(&i, &Policy::builtin(), t(12, 0)),
            ClockKind::Response,
        );
        assert_eq!(r.state, ClockState::Met);
        assert_eq!(
            r.remaining,
            ChronoDuration::minutes(5),
            "margin of 5 minutes"
        );

        i.acknowledged_at = Some(t(10, 30));
        let r = find(
            &clocks(&i, &Policy::builtin(), t(12, 0)),
            ClockKind::Response,
        );
        assert_eq!(r.state, ClockState::Breached, "met late is a breach");
        assert_eq!(r.remaining, ChronoDuration::minutes(-15));
        assert!(!r.is_live());
    }

    #[test]
    fn severity_change_rederives_from_detection_time() {
        let p = Policy::builtin();
        let mut i = incident(Severity::P3);
        let now = t(10, 30);
        assert_eq!(
            find(&clocks(&i, &p, now), ClockKind::Response).state,
            ClockState::Running
        );
        // Raised to P1 half an hour after detection: the 15 minutes already ran out.
        i.severity = Severity::P1;
        let r = find(&clocks(&i, &p, now), ClockKind::Response);
        assert_eq!(r.due, t(10, 15));
        assert_eq!(r.state, ClockState::Breached);
        // Lowered to P2: due an hour after the original detection.
        i.severity = Severity::P2;
        let r = find(&clocks(&i, &p, now), ClockKind::Response);
        assert_eq!(r.due, t(11, 0));
        assert_eq!(r.state, ClockState::Running);
    }

    #[test]
    fn update_cadence_restarts_from_last_update_and_stops_when_resolved() {
        let p = Policy::builtin();
        let mut i = incident(Severity::P2);
        let u = find(&clocks(&i, &p, t(10, 10)), ClockKind::NextUpdate);
        assert_eq!(u.due, t(12, 5), "two hours after declaration");
        i.last_update_at = Some(t(11, 0));
        let u = find(&clocks(&i, &p, t(11, 10)), ClockKind::NextUpdate);
        assert_eq!(u.due, t(13, 0));
        i.status = Status::Resolved;
        assert!(
            clocks(&i, &p, t(11, 10))
                .iter()
                .all(|c| c.kind != ClockKind::NextUpdate)
        );
    }

    #[test]
    fn regulatory_clock_runs_for_personal_data_breaches() {
        let p = Policy::builtin();
        let mut i = incident(Severity::P2);
        assert!(
            !clocks(&i, &p, t(11, 0))
                .iter()
                .any(|c| matches!(c.kind, ClockKind::Regulatory(_)))
        );
        i.personal_data_breach = true;
        let c = clocks(&i, &p, t(11, 0));
        let reg = c
            .iter()
            .find(|c| matches!(c.kind, ClockKind::Regulatory(_)))
            .unwrap();
        assert_eq!(reg.due, t(10, 0) + ChronoDuration::hours(72));
        assert_eq!(reg.state, ClockState::Running);
        i.regulator_notified_at = Some(t(20, 0));
        let c = clocks(&i, &p, t(21, 0));
        let reg = c
            .iter()
            .find(|c| matches!(c.kind, ClockKind::Regulatory(_)))
            .unwrap();
        assert_eq!(reg.state, ClockState::Met);
    }

    #[test]
    fn most_urgent_prefers_overdue_then_least_left() {
        let p = Policy::builtin();
        let mut i = incident(Severity::P2);
        i.customer_notified_at = Some(t(10, 30));
        let c = clocks(&i, &p, t(10, 10));
        assert_eq!(most_urgent(&c).unwrap().kind, ClockKind::Response);
        let c = clocks(&i, &p, t(11, 10));
        let u = most_urgent(&c).unwrap();
        assert_eq!(u.kind, ClockKind::Response);
        assert_eq!(u.state, ClockState::Breached);
        i.acknowledged_at = Some(t(10, 20));
        let c = clocks(&i, &p, t(11, 10));
        assert_eq!(most_urgent(&c).unwrap().kind, ClockKind::NextUpdate);
    }

    #[test]
    fn countdown_formats() {
        assert_eq!(
            format_countdown(ChronoDuration::seconds(59 * 60 + 59)),
            "59:59"
        );
        assert_eq!(format_countdown(ChronoDuration::seconds(3600)), "1:00:00");
        assert_eq!(format_countdown(ChronoDuration::seconds(-75)), "+01:15");
        assert_eq!(
            format_countdown(ChronoDuration::seconds(-3 * 3600 - 5)),
            "+3:00:05"
        );
        assert_eq!(format_countdown(ChronoDuration::zero()), "00:00");
    }

    #[test]
    fn fraction_used_tracks_progress() {
        let c = clocks(&incident(Severity::P2), &Policy::builtin(), t(10, 45));
        let r = find(&c, ClockKind::Response);
        assert!((r.fraction_used(t(10, 45)) - 0.75).abs() < 1e-9);
    }
}
