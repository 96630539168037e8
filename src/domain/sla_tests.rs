//! Tests of the SLA clocks over an injected `now`.
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
        customer_summary: String::new(),
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
        clock_history: Default::default(),
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
        assert_eq!(r.severity, sev);
        match notice_min {
            // "Immediately" is due at once, with the policy's grace.
            Some(0) => assert_eq!(notice.unwrap().due, t(10, 5)),
            Some(m) => assert_eq!(notice.unwrap().due, t(10, 0) + ChronoDuration::minutes(m)),
            None => assert!(notice.is_none(), "P4 customer notice is as needed"),
        }
    }
}

#[test]
fn immediately_reads_due_now_within_the_grace_and_breaches_after_it() {
    let p = Policy::builtin();
    let i = incident(Severity::P1);
    // Declared 10:05 for a detection at 10:00: the grace runs from detection.
    let n = find(&clocks(&i, &p, t(10, 1)), ClockKind::CustomerNotice);
    assert_eq!(
        (n.state, n.due, n.breached_at),
        (ClockState::DueNow, t(10, 5), None)
    );
    assert_eq!(n.remaining, ChronoDuration::minutes(4));
    let n = find(&clocks(&i, &p, t(10, 5)), ClockKind::CustomerNotice);
    assert_eq!(n.state, ClockState::Breached);
    assert_eq!(n.breached_at, Some(t(10, 5)));

    // A notice sent within the grace is met, and stays met.
    let mut sent = i.clone();
    sent.customer_notified_at = Some(t(10, 4));
    let n = find(&clocks(&sent, &p, t(12, 0)), ClockKind::CustomerNotice);
    assert_eq!((n.state, n.breached_at), (ClockState::Met, None));
    // Sent after it: met late, a breach.
    sent.customer_notified_at = Some(t(10, 6));
    let n = find(&clocks(&sent, &p, t(12, 0)), ClockKind::CustomerNotice);
    assert_eq!(
        (n.state, n.breached_at),
        (ClockState::Breached, Some(t(10, 5)))
    );

    // The grace is the policy's.
    let mut longer = p.clone();
    longer.immediate_grace = std::time::Duration::from_secs(600);
    let n = find(&clocks(&i, &longer, t(10, 8)), ClockKind::CustomerNotice);
    assert_eq!(n.state, ClockState::DueNow);
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

/// The incident as the store leaves it after changing its severity at `at`.
fn change_severity(i: &mut Incident, to: Severity, at: DateTime<Utc>) {
    let before = (i.severity, i.detected_at);
    i.severity = to;
    let mut h = std::mem::take(&mut i.clock_history);
    h.change(before, i, at);
    i.clock_history = h;
}

#[test]
fn a_severity_raised_late_breaches_at_once_and_lowered_keeps_its_breach() {
    let p = Policy::builtin();
    let mut i = incident(Severity::P3);
    let r = find(&clocks(&i, &p, t(10, 30)), ClockKind::Response);
    assert_eq!(r.state, ClockState::Running);
    // Raised to P1 half an hour after detection: the 15 minutes had run
    // out, so it is breached from the moment it became a P1.
    change_severity(&mut i, Severity::P1, t(10, 30));
    let r = find(&clocks(&i, &p, t(10, 31)), ClockKind::Response);
    assert_eq!(r.due, t(10, 15));
    assert_eq!(r.state, ClockState::Breached);
    assert_eq!(r.breached_at, Some(t(10, 30)));
    assert_eq!(r.severity, Severity::P1);
    // Lowered to P2 later: P2's deadline (11:00) has not passed, but the
    // P1 breach happened and stays, with the severity it happened under.
    change_severity(&mut i, Severity::P2, t(10, 40));
    let r = find(&clocks(&i, &p, t(10, 45)), ClockKind::Response);
    assert_eq!(r.state, ClockState::Breached);
    assert_eq!(
        (r.breached_at, r.severity, r.due),
        (Some(t(10, 30)), Severity::P1, t(10, 15))
    );
    // Acknowledging now does not turn it into "met".
    i.acknowledged_at = Some(t(10, 50));
    let r = find(&clocks(&i, &p, t(11, 0)), ClockKind::Response);
    assert_eq!(r.state, ClockState::Breached);
}

#[test]
fn a_p1_breached_then_lowered_to_p3_stays_breached_not_running() {
    // The field report: a P1 20 minutes old (both clocks breached) set to
    // P3 must not turn both clocks back to running.
    let p = Policy::builtin();
    let mut i = incident(Severity::P1);
    change_severity(&mut i, Severity::P3, t(10, 20));
    let c = clocks(&i, &p, t(10, 21));
    let r = find(&c, ClockKind::Response);
    let n = find(&c, ClockKind::CustomerNotice);
    assert_eq!(
        (r.state, r.breached_at),
        (ClockState::Breached, Some(t(10, 15)))
    );
    assert_eq!(
        (n.state, n.breached_at),
        (ClockState::Breached, Some(t(10, 5)))
    );
    assert_eq!((r.severity, n.severity), (Severity::P1, Severity::P1));
}

#[test]
fn a_severity_lowered_before_any_breach_takes_the_new_deadline() {
    let p = Policy::builtin();
    let mut i = incident(Severity::P1);
    i.customer_notified_at = Some(t(10, 2));
    change_severity(&mut i, Severity::P2, t(10, 10));
    let r = find(&clocks(&i, &p, t(10, 30)), ClockKind::Response);
    assert_eq!(
        (r.state, r.due, r.severity),
        (ClockState::Running, t(11, 0), Severity::P2)
    );
    // And P2's deadline breaches in its turn.
    let r = find(&clocks(&i, &p, t(11, 0)), ClockKind::Response);
    assert_eq!(
        (r.state, r.breached_at),
        (ClockState::Breached, Some(t(11, 0)))
    );
}

#[test]
fn clocks_count_from_a_detection_in_the_past() {
    // Detected 14:30 by the SIEM, declared 14:45: a P2 response is due
    // 15:30, not 15:45, and a P1's was already breached when declared.
    let p = Policy::builtin();
    let mut i = incident(Severity::P2);
    i.detected_at = t(14, 30);
    i.declared_at = t(14, 45);
    let r = find(&clocks(&i, &p, t(14, 46)), ClockKind::Response);
    assert_eq!((r.started, r.due), (t(14, 30), t(15, 30)));
    i.severity = Severity::P1;
    let r = find(&clocks(&i, &p, t(14, 46)), ClockKind::Response);
    assert_eq!(
        (r.state, r.breached_at),
        (ClockState::Breached, Some(t(14, 45)))
    );
}

#[test]
fn a_detection_time_corrected_later_keeps_a_breach_under_the_old_one() {
    let p = Policy::builtin();
    let mut i = incident(Severity::P2);
    // Corrected at 10:20 to 09:00 (earlier): P2's hour ran out at 10:00,
    // so the response is breached from the correction on.
    let before = (i.severity, i.detected_at);
    i.detected_at = t(9, 0);
    let mut h = std::mem::take(&mut i.clock_history);
    h.change(before, &i, t(10, 20));
    i.clock_history = h;
    let r = find(&clocks(&i, &p, t(10, 21)), ClockKind::Response);
    assert_eq!(
        (r.state, r.breached_at, r.due),
        (ClockState::Breached, Some(t(10, 20)), t(10, 0))
    );
}

#[test]
fn a_paused_clock_stops_and_resumes_with_its_time_left() {
    use crate::domain::incident::Pause;
    let p = Policy::builtin();
    let mut i = incident(Severity::P2);
    i.acknowledged_at = Some(t(10, 5));
    // Customer notice (P2: 4 h, due 14:00) paused at 11:00 waiting on the customer.
    i.clock_history.pauses.push(Pause {
        clock: "customer_notice".into(),
        from: t(11, 0),
        until: None,
        reason: "waiting on the customer".into(),
    });
    let n = find(&clocks(&i, &p, t(13, 0)), ClockKind::CustomerNotice);
    assert_eq!(n.state, ClockState::Paused);
    assert_eq!(
        n.remaining,
        ChronoDuration::hours(3),
        "three hours were left at 11:00"
    );
    // Long past the old deadline it is still paused, not breached.
    let n = find(&clocks(&i, &p, t(20, 0)), ClockKind::CustomerNotice);
    assert_eq!((n.state, n.breached_at), (ClockState::Paused, None));
    // Resumed at 12:00: the hour paused moves the deadline to 15:00.
    i.clock_history.pauses[0].until = Some(t(12, 0));
    let n = find(&clocks(&i, &p, t(12, 30)), ClockKind::CustomerNotice);
    assert_eq!((n.state, n.due), (ClockState::Running, t(15, 0)));
    let n = find(&clocks(&i, &p, t(15, 0)), ClockKind::CustomerNotice);
    assert_eq!(
        (n.state, n.breached_at),
        (ClockState::Breached, Some(t(15, 0)))
    );
    // A pause of another clock does not touch the response.
    assert_eq!(
        find(&clocks(&i, &p, t(15, 0)), ClockKind::Response).state,
        ClockState::Met
    );
}

#[test]
fn regulatory_clocks_ignore_any_pause() {
    use crate::domain::incident::Pause;
    let p = Policy::builtin();
    let mut i = incident(Severity::P2);
    i.personal_data_breach = true;
    let key = ClockKind::Regulatory(p.regulatory[0].name.clone()).key();
    i.clock_history.pauses.push(Pause {
        clock: key,
        from: t(11, 0),
        until: None,
        reason: "a pause written by hand".into(),
    });
    let c = clocks(&i, &p, t(12, 0));
    let reg = c
        .iter()
        .find(|c| matches!(c.kind, ClockKind::Regulatory(_)))
        .unwrap();
    assert_eq!(
        (reg.state, reg.due),
        (ClockState::Running, t(10, 0) + ChronoDuration::hours(72))
    );
    assert!(!reg.kind.pausable());
    assert!(ClockKind::Response.pausable());
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
