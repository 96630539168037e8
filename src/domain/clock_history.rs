//! What an incident's recorded changes say about its clocks: the severity
//! and detection time in force from each moment on, and the pauses of each
//! clock. The store keeps it beside the incident (a cache of the timeline,
//! like every other column), and `sla::clocks` folds it into the clocks,
//! so a later change can never rewrite a breach that already happened.

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::incident::{ClockHistory, Incident, Pause, Period, Severity};

impl ClockHistory {
    pub fn is_empty(&self) -> bool {
        self.periods.is_empty() && self.pauses.is_empty()
    }

    /// The periods of `incident`, never empty: the first counts from the
    /// beginning of time (its deadline is its own, whenever it was declared).
    pub fn periods_of(incident: &Incident) -> Vec<Period> {
        if incident.clock_history.periods.is_empty() {
            return vec![Period {
                from: DateTime::<Utc>::MIN_UTC,
                severity: incident.severity,
                detected_at: incident.detected_at,
            }];
        }
        incident.clock_history.periods.clone()
    }

    /// Records that from `at` on, the incident's (already changed)
    /// severity and detection time are in force. The first change also
    /// records what was in force before it.
    pub fn change(
        &mut self,
        before: (Severity, DateTime<Utc>),
        after: &Incident,
        at: DateTime<Utc>,
    ) {
        if self.periods.is_empty() {
            self.periods.push(Period {
                from: DateTime::<Utc>::MIN_UTC,
                severity: before.0,
                detected_at: before.1,
            });
        }
        let next = Period {
            from: at,
            severity: after.severity,
            detected_at: after.detected_at,
        };
        // Two changes at the same instant: the later one is what held.
        match self.periods.last_mut() {
            Some(last) if last.from == at => *last = next,
            _ => self.periods.push(next),
        }
    }

    /// The open pause of a clock, if it is paused.
    pub fn open_pause(&self, clock: &str) -> Option<&Pause> {
        self.pauses
            .iter()
            .find(|p| p.clock == clock && p.until.is_none())
    }

    /// The pauses of one clock (by `ClockKind::key`), oldest first.
    pub fn pauses_of_key(&self, key: &str) -> Vec<&Pause> {
        self.pauses.iter().filter(|p| p.clock == key).collect()
    }
}

/// When `allowed` running time has passed since `start`, not counting the
/// time the clock was paused; `None` while an open pause holds it before
/// then. With `until_now`, an open pause counts as ending at that time (to
/// say how much time a paused clock has left).
pub fn deadline<'a>(
    start: DateTime<Utc>,
    allowed: ChronoDuration,
    pauses: impl Iterator<Item = &'a Pause>,
    until_now: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let mut pauses: Vec<&Pause> = pauses.collect();
    pauses.sort_by_key(|p| p.from);
    let (mut t, mut left) = (start, allowed);
    for p in pauses {
        let until = p.until.or(until_now);
        if until.is_some_and(|u| u <= t) {
            continue;
        }
        let from = p.from.max(t);
        if t + left <= from {
            return Some(t + left);
        }
        left -= from - t;
        t = until?;
    }
    Some(t + left)
}

/// A detection time as typed: RFC 3339 (`2026-03-01T14:30:00Z`) or relative
/// to now (`-15m`, `-2h`, `-1h30m`). Never later than `now`.
pub fn parse_detected(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    let at = if let Some(rel) = t.strip_prefix('-') {
        let d = humantime::parse_duration(rel.trim())
            .map_err(|e| format!("'{s}' is not a relative time like -15m ({e})"))?;
        let d = ChronoDuration::from_std(d).map_err(|_| format!("'{s}' is too long ago"))?;
        now.checked_sub_signed(d)
            .ok_or_else(|| format!("'{s}' is too long ago"))?
    } else {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| {
                format!("'{s}' is neither an RFC 3339 time (2026-03-01T14:30:00Z) nor a relative one like -15m ({e})")
            })?
    };
    if at > now {
        return Err(format!(
            "detection time {} is in the future (now is {})",
            super::event::format_time(at),
            super::event::format_time(now)
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> DateTime<Utc> {
        "2026-03-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + ChronoDuration::minutes(m)
    }

    fn pause(from: i64, until: Option<i64>) -> Pause {
        Pause {
            clock: "response".into(),
            from: t(from),
            until: until.map(t),
            reason: "waiting on the customer".into(),
        }
    }

    #[test]
    fn pauses_push_the_deadline_back_by_the_time_paused() {
        let m = ChronoDuration::minutes;
        assert_eq!(deadline(t(0), m(60), [].iter(), None), Some(t(60)));
        let p = [pause(10, Some(30))];
        assert_eq!(deadline(t(0), m(60), p.iter(), None), Some(t(80)));
        // A pause after the deadline does not move it.
        let late = [pause(70, Some(90))];
        assert_eq!(deadline(t(0), m(60), late.iter(), None), Some(t(60)));
        // Open: no deadline; counted to now: 50 minutes were left.
        let open = [pause(10, None)];
        assert_eq!(deadline(t(0), m(60), open.iter(), None), None);
        assert_eq!(deadline(t(0), m(60), open.iter(), Some(t(40))), Some(t(90)));
        // Two pauses, one overlapping the start.
        let two = [pause(-10, Some(5)), pause(20, Some(25))];
        assert_eq!(deadline(t(0), m(60), two.iter(), None), Some(t(70)));
    }

    #[test]
    fn detection_times_are_absolute_or_relative_and_never_future() {
        let now = t(45);
        assert_eq!(parse_detected("-15m", now), Ok(t(30)));
        assert_eq!(parse_detected("-1h30m", now), Ok(t(-45)));
        assert_eq!(parse_detected("2026-03-01T10:30:00Z", now), Ok(t(30)));
        assert_eq!(parse_detected("2026-03-01T11:30:00+01:00", now), Ok(t(30)));
        let e = parse_detected("2026-03-01T11:00:00Z", now).unwrap_err();
        assert!(e.contains("in the future"), "{e}");
        assert!(parse_detected("yesterday", now).is_err());
        assert!(parse_detected("-soon", now).is_err());
    }
}
