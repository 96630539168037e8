//! The escalation policy: ordered steps, each notifying someone and then
//! waiting, the last one repeating, from the moment the response clock is
//! breached until someone acknowledges. Pure: who is on call and which
//! steps are due are functions of the policy and the times given.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::roles::Role;

/// Whom a step notifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The current holder of a role on the incident (`role:security`).
    Role(Role),
    /// Whoever is on shift in a rotation of the policy (`oncall:primary`).
    OnCall(String),
    /// A roster handle or an address, as written.
    Person(String),
}

impl Target {
    /// `role:ROLE`, `oncall:NAME`, or a roster handle / address.
    pub fn parse(s: &str) -> Result<Target, String> {
        let s = s.trim();
        if let Some(role) = s.strip_prefix("role:") {
            return role
                .parse::<Role>()
                .map(Target::Role)
                .map_err(|e| e.to_string());
        }
        if let Some(name) = s.strip_prefix("oncall:") {
            let name = name.trim();
            if name.is_empty() {
                return Err("'oncall:' needs a rotation name".into());
            }
            return Ok(Target::OnCall(name.to_string()));
        }
        if s.is_empty() {
            return Err("an empty name".into());
        }
        Ok(Target::Person(s.to_string()))
    }
}

/// One step: notify these, then wait this long before the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub notify: Vec<Target>,
    pub wait: Duration,
}

/// An on-call rotation: roster handles taking shifts of `shift` in turn,
/// the first one's shift starting at `starts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub people: Vec<String>,
    pub shift: Duration,
    pub starts: DateTime<Utc>,
}

impl Rotation {
    /// Who is on shift at `at` (before `starts`, the turns count backwards).
    pub fn on_shift(&self, at: DateTime<Utc>) -> Option<&str> {
        let n = self.people.len() as i64;
        let shift = self.shift.as_millis() as i64;
        if n == 0 || shift <= 0 {
            return None;
        }
        let turn = (at - self.starts).num_milliseconds().div_euclid(shift);
        self.people
            .get(turn.rem_euclid(n) as usize)
            .map(String::as_str)
    }
}

/// The escalation steps and the rotations they name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EscalationPolicy {
    pub steps: Vec<Step>,
    pub rotations: BTreeMap<String, Rotation>,
}

/// A step due: its occurrence number (0, 1, 2... counting repeats of the
/// last step), which step it is, and when it became due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due<'a> {
    pub occurrence: usize,
    pub step: &'a Step,
    pub at: DateTime<Utc>,
}

impl EscalationPolicy {
    /// The steps due by `now` for a response breached at `breached_at`: every
    /// step of the list whose time has come, and of the repeats of the last
    /// step only the newest (a console started after an hour of silence
    /// pages once, not six times).
    pub fn due(&self, breached_at: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Due<'_>> {
        let mut out = Vec::new();
        let mut at = breached_at;
        for (i, step) in self.steps.iter().enumerate() {
            if at > now {
                return out;
            }
            out.push(Due {
                occurrence: i,
                step,
                at,
            });
            at += to_chrono(step.wait);
        }
        // `at` is now when the last step repeats for the first time.
        let Some(last) = self.steps.last() else {
            return out;
        };
        let wait = last.wait.as_millis() as i64;
        if wait <= 0 || at > now {
            return out;
        }
        let repeats = (now - at).num_milliseconds() / wait;
        out.push(Due {
            occurrence: self.steps.len() + repeats as usize,
            step: last,
            at: at + chrono::Duration::milliseconds(repeats * wait),
        });
        out
    }

    /// When the next step after `now` falls due for a response breached at
    /// `breached_at` (for a caller that checks only at such moments, like
    /// the console's alert schedule); `None` when no step is left.
    pub fn next_after(
        &self,
        breached_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut at = breached_at;
        for step in &self.steps {
            if at > now {
                return Some(at);
            }
            at += to_chrono(step.wait);
        }
        let wait = self.steps.last()?.wait.as_millis() as i64;
        if at > now {
            return Some(at);
        }
        if wait <= 0 {
            return None;
        }
        let repeats = (now - at).num_milliseconds() / wait + 1;
        Some(at + chrono::Duration::milliseconds(repeats * wait))
    }

    /// Who `target` names at `at`: the holder given for a role (if any), the
    /// person on shift, or the name itself.
    pub fn resolve(
        &self,
        target: &Target,
        holder: impl Fn(Role) -> Option<String>,
        at: DateTime<Utc>,
    ) -> Option<String> {
        match target {
            Target::Role(r) => holder(*r),
            Target::OnCall(name) => self
                .rotations
                .get(name)
                .and_then(|r| r.on_shift(at))
                .map(str::to_string),
            Target::Person(p) => Some(p.clone()),
        }
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> DateTime<Utc> {
        "2026-03-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(m)
    }

    fn policy() -> EscalationPolicy {
        let step = |who: &[&str], wait: u64| Step {
            notify: who.iter().map(|w| Target::parse(w).unwrap()).collect(),
            wait: Duration::from_secs(wait * 60),
        };
        EscalationPolicy {
            steps: vec![
                step(&["role:commander", "oncall:primary"], 5),
                step(&["role:security"], 10),
                step(&["oncall:manager"], 10),
            ],
            rotations: BTreeMap::from([(
                "primary".to_string(),
                Rotation {
                    people: vec!["alice".into(), "bob".into()],
                    shift: Duration::from_secs(7 * 24 * 3600),
                    starts: t(0),
                },
            )]),
        }
    }

    fn when(p: &EscalationPolicy, now: i64) -> Vec<(usize, i64)> {
        p.due(t(0), t(now))
            .iter()
            .map(|d| (d.occurrence, (d.at - t(0)).num_minutes()))
            .collect()
    }

    #[test]
    fn steps_fall_due_at_the_breach_then_after_each_wait_and_the_last_repeats() {
        let p = policy();
        assert_eq!(when(&p, -1), []);
        assert_eq!(when(&p, 0), [(0, 0)]);
        assert_eq!(when(&p, 4), [(0, 0)]);
        assert_eq!(when(&p, 5), [(0, 0), (1, 5)]);
        assert_eq!(when(&p, 15), [(0, 0), (1, 5), (2, 15)]);
        assert_eq!(when(&p, 24), [(0, 0), (1, 5), (2, 15)]);
        assert_eq!(when(&p, 25), [(0, 0), (1, 5), (2, 15), (3, 25)]);
        // An hour later only the newest repeat is due, not every missed one.
        assert_eq!(when(&p, 85), [(0, 0), (1, 5), (2, 15), (9, 85)]);
    }

    #[test]
    fn the_next_step_after_now_is_known_in_advance() {
        let p = policy();
        let next = |now: i64| p.next_after(t(0), t(now)).map(|n| (n - t(0)).num_minutes());
        assert_eq!(next(-3), Some(0));
        assert_eq!(next(0), Some(5));
        assert_eq!(next(7), Some(15));
        assert_eq!(next(15), Some(25));
        assert_eq!(next(84), Some(85));
        assert_eq!(next(85), Some(95));
        assert_eq!(EscalationPolicy::default().next_after(t(0), t(1)), None);
        // Every step the walk makes is one next_after announced.
        for now in -5..120 {
            let due_now = p.due(t(0), t(now)).last().map(|d| d.at);
            if let Some(n) = p.next_after(t(0), t(now - 1))
                && n == t(now)
            {
                assert_eq!(due_now, Some(t(now)), "at +{now}");
            }
        }
    }

    #[test]
    fn targets_resolve_to_holders_shifts_and_names() {
        let p = policy();
        let holder = |r: Role| (r == Role::Security).then(|| "carol".to_string());
        let on = |s: &str, at| p.resolve(&Target::parse(s).unwrap(), holder, at);
        assert_eq!(on("role:security", t(0)).as_deref(), Some("carol"));
        assert_eq!(on("role:commander", t(0)), None);
        assert_eq!(on("oncall:primary", t(0)).as_deref(), Some("alice"));
        assert_eq!(on("oncall:primary", t(7 * 24 * 60)).as_deref(), Some("bob"));
        assert_eq!(on("oncall:primary", t(-1)).as_deref(), Some("bob"));
        assert_eq!(on("oncall:nobody", t(0)), None);
        assert_eq!(
            on("ciso@example.com", t(0)).as_deref(),
            Some("ciso@example.com")
        );
        assert!(Target::parse("role:janitor").is_err());
        assert!(Target::parse("oncall:").is_err());
    }
}
