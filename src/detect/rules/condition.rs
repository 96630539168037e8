//! Rule conditions: what a rule counts, how many, over how long.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Greater,
    AtLeast,
}

/// `> N in DURATION`: fire when the count within the window passes N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub comparison: Comparison,
    pub count: u64,
    pub window: Duration,
}

impl Threshold {
    pub fn reached(&self, count: u64) -> bool {
        match self.comparison {
            Comparison::Greater => count > self.count,
            Comparison::AtLeast => count >= self.count,
        }
    }

    /// The least count that reaches the threshold.
    pub fn needs(&self) -> u64 {
        match self.comparison {
            Comparison::Greater => self.count.saturating_add(1),
            Comparison::AtLeast => self.count,
        }
    }
}

/// What a rule counts within its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted<E> {
    /// Events (weighted by `message repeated`).
    Events,
    /// Distinct values of a named capture (`distinct(user)`), like Sigma's
    /// `value_count`: one address trying many user names.
    Distinct(String),
    /// A sequence: once the count is reached, event `then` for the same key
    /// within `within` fires (`failed >= 5 in 10m then accepted within
    /// 10m`: a brute force that worked). `E` is the event's name as
    /// written, or its index once resolved.
    Then { event: E, within: Duration },
}

/// A condition as written: the event counted, the threshold (None: every
/// occurrence fires) and what is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub event: String,
    pub threshold: Option<Threshold>,
    pub counted: Counted<String>,
}

const USAGE: &str = "expected 'EVENT', 'EVENT > N in DURATION', 'EVENT >= N in DURATION', 'EVENT distinct(FIELD) >= N in DURATION' or 'EVENT >= N in DURATION then EVENT within DURATION'";

/// `EVENT`, `EVENT > N in DURATION`, `EVENT >= N in DURATION`,
/// `EVENT distinct(FIELD) >= N in DURATION`, or
/// `EVENT >= N in DURATION then EVENT2 within DURATION2`.
pub fn parse_condition(text: &str) -> Result<Condition, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let then_at = words.iter().position(|w| w.eq_ignore_ascii_case("then"));
    let (first, then) = match then_at {
        Some(i) => (&words[..i], Some(&words[i + 1..])),
        None => (&words[..], None),
    };
    let (event, threshold, distinct) = parse_count(first, text)?;
    let counted = match (then, distinct) {
        (None, None) => Counted::Events,
        (None, Some(field)) => Counted::Distinct(field),
        (Some(_), Some(_)) => {
            return Err(
                "a sequence counts events, not distinct values: drop distinct(...) or 'then'"
                    .into(),
            );
        }
        (Some(rest), None) => {
            if threshold.is_none() {
                return Err(format!(
                    "a sequence needs a count before 'then' (e.g. '{event} >= 5 in 10 minutes then EVENT within 10 minutes')"
                ));
            }
            match rest {
                [next, within_word, duration @ ..]
                    if within_word.eq_ignore_ascii_case("within") && !duration.is_empty() =>
                {
                    if !is_identifier(next) {
                        return Err(format!("'{next}' is not an event name; {USAGE}"));
                    }
                    if *next == event {
                        return Err(format!(
                            "'{event}' then '{next}': a sequence needs two different events"
                        ));
                    }
                    let within = parse_window(&duration.join(" "))?;
                    if within.is_zero() {
                        return Err("the time after 'within' must be longer than zero".into());
                    }
                    Counted::Then {
                        event: next.to_string(),
                        within,
                    }
                }
                _ => {
                    return Err(format!(
                        "after 'then': expected 'EVENT within DURATION'; {USAGE}"
                    ));
                }
            }
        }
    };
    Ok(Condition {
        event,
        threshold,
        counted,
    })
}

/// The part before any `then`: the event, its threshold, and the field
/// of a `distinct(FIELD)`.
fn parse_count(
    words: &[&str],
    text: &str,
) -> Result<(String, Option<Threshold>, Option<String>), String> {
    let (event, distinct, rest) = match words {
        [] => return Err(format!("empty condition; {USAGE}")),
        [event, d, rest @ ..] if d.starts_with("distinct(") => {
            let field = d
                .strip_prefix("distinct(")
                .and_then(|f| f.strip_suffix(')'))
                .filter(|f| is_identifier(f))
                .ok_or_else(|| {
                    format!("'{d}' is not distinct(FIELD) with FIELD a capture name (no spaces)")
                })?;
            (*event, Some(field.to_string()), rest)
        }
        [event, rest @ ..] => (*event, None, rest),
    };
    if !is_identifier(event) {
        return Err(format!("'{event}' is not an event name; {USAGE}"));
    }
    match rest {
        [] if distinct.is_some() => Err(format!(
            "distinct({}) needs a count and a window (e.g. '{event} distinct({0}) >= 10 in 10 minutes')",
            distinct.unwrap_or_default()
        )),
        [] => Ok((event.to_string(), None, None)),
        [op, n, in_word, duration @ ..]
            if in_word.eq_ignore_ascii_case("in") && !duration.is_empty() =>
        {
            let comparison = match *op {
                ">" => Comparison::Greater,
                ">=" => Comparison::AtLeast,
                other => return Err(format!("unsupported comparison '{other}' (use > or >=)")),
            };
            let count: u64 = n
                .parse()
                .map_err(|_| format!("'{n}' is not a whole number"))?;
            let window = parse_window(&duration.join(" "))?;
            if window.is_zero() {
                return Err("the window must be longer than zero".into());
            }
            Ok((
                event.to_string(),
                Some(Threshold {
                    comparison,
                    count,
                    window,
                }),
                distinct,
            ))
        }
        _ => Err(format!("cannot read condition '{text}'; {USAGE}")),
    }
}

/// Why a threshold cannot fire as written, if it cannot: the engine keeps
/// times to the millisecond, so a window under one millisecond spans no
/// time at all (only events stamped alike count together); and no count
/// passes `> u64::MAX`.
pub(super) fn never_fires(t: &Threshold) -> Option<String> {
    if t.comparison == Comparison::Greater && t.count == u64::MAX {
        return Some(format!("no count is greater than {}", t.count));
    }
    let needs = t.needs();
    if needs > 1 && t.window < Duration::from_millis(1) {
        return Some(format!(
            "a window of {:?} is under the 1 ms the engine counts in: {needs} events count together only when stamped in the same instant (for syslog, the same second), which measures no rate; use a window of at least a second",
            t.window
        ));
    }
    None
}

/// "5 minutes", "1 minute", "30s", "1h", "2 hours".
fn parse_window(s: &str) -> Result<Duration, String> {
    let compact: String = s.split_whitespace().collect();
    humantime::parse_duration(&compact)
        .map_err(|_| format!("'{s}' is not a duration (e.g. 5 minutes, 30s, 1h)"))
}

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event and threshold of a plain count.
    fn counted(text: &str) -> Result<(String, Option<Threshold>), String> {
        let c = parse_condition(text)?;
        assert_eq!(c.counted, Counted::Events, "{text}");
        Ok((c.event, c.threshold))
    }

    #[test]
    fn every_condition_form() {
        let (e, t) = counted("failed_logins > 10 in 5 minutes").unwrap();
        assert_eq!(
            (e.as_str(), t.unwrap().count, t.unwrap().window),
            ("failed_logins", 10, Duration::from_secs(300))
        );
        let (_, t) = counted("x >= 3 in 1 minute").unwrap();
        assert_eq!(t.unwrap().comparison, Comparison::AtLeast);
        assert!(t.unwrap().reached(3) && !t.unwrap().reached(2));
        let (_, t) = counted("x > 3 in 30s").unwrap();
        assert_eq!(t.unwrap().window, Duration::from_secs(30));
        assert!(!t.unwrap().reached(3) && t.unwrap().reached(4));
        assert_eq!(counted("su_failure").unwrap(), ("su_failure".into(), None));
        assert!(counted("x < 3 in 1m").unwrap_err().contains("'<'"));
        assert!(counted("x > many in 1m").unwrap_err().contains("'many'"));
        assert!(
            counted("x > 3 in forever")
                .unwrap_err()
                .contains("'forever'")
        );
        assert!(
            counted("x > 3 in 0s")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(counted("").unwrap_err().contains("empty"));
        assert!(counted("two words").unwrap_err().contains("cannot read"));
    }

    #[test]
    fn sequences_and_distinct_counts() {
        let c = parse_condition("fail >= 5 in 10 minutes then accepted within 10 minutes").unwrap();
        assert_eq!(c.event, "fail");
        assert_eq!(c.threshold.unwrap().needs(), 5);
        assert_eq!(
            c.counted,
            Counted::Then {
                event: "accepted".into(),
                within: Duration::from_secs(600)
            }
        );
        let c = parse_condition("fail > 4 in 1h THEN ok within 30s").unwrap();
        assert_eq!(c.threshold.unwrap().needs(), 5);
        let c = parse_condition("fail distinct(user) >= 10 in 10 minutes").unwrap();
        assert_eq!(c.counted, Counted::Distinct("user".into()));
        assert_eq!(c.threshold.unwrap().count, 10);
        for (bad, why) in [
            ("fail then ok within 1m", "needs a count before 'then'"),
            (
                "fail >= 5 in 1m then ok",
                "expected 'EVENT within DURATION'",
            ),
            ("fail >= 5 in 1m then ok within 0s", "longer than zero"),
            (
                "fail >= 5 in 1m then ok within ages",
                "'ages' is not a duration",
            ),
            (
                "fail >= 5 in 1m then fail within 1m",
                "two different events",
            ),
            (
                "fail >= 5 in 1m then o-k within 1m",
                "'o-k' is not an event name",
            ),
            (
                "fail distinct(user) >= 5 in 1m then ok within 1m",
                "not distinct values",
            ),
            ("fail distinct(user)", "needs a count and a window"),
            ("fail distinct(us er) >= 2 in 1m", "not distinct(FIELD)"),
            ("fail distinct() >= 2 in 1m", "not distinct(FIELD)"),
            ("fail distinct(user >= 2 in 1m", "not distinct(FIELD)"),
            ("then", "empty condition"),
        ] {
            let e = parse_condition(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
