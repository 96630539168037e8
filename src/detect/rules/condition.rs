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
}

/// `EVENT`, `EVENT > N in DURATION` or `EVENT >= N in DURATION`.
pub fn parse_condition(text: &str) -> Result<(String, Option<Threshold>), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = "expected 'EVENT', 'EVENT > N in DURATION' or 'EVENT >= N in DURATION'";
    match words.as_slice() {
        [] => Err(format!("empty condition; {usage}")),
        [event] if is_identifier(event) => Ok((event.to_string(), None)),
        [event, op, n, in_word, duration @ ..]
            if in_word.eq_ignore_ascii_case("in") && !duration.is_empty() =>
        {
            if !is_identifier(event) {
                return Err(format!("'{event}' is not an event name; {usage}"));
            }
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
            ))
        }
        _ => Err(format!("cannot read condition '{text}'; {usage}")),
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
    let needs = match t.comparison {
        Comparison::Greater => t.count.saturating_add(1),
        Comparison::AtLeast => t.count,
    };
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

    #[test]
    fn every_condition_form() {
        let (e, t) = parse_condition("failed_logins > 10 in 5 minutes").unwrap();
        assert_eq!(
            (e.as_str(), t.unwrap().count, t.unwrap().window),
            ("failed_logins", 10, Duration::from_secs(300))
        );
        let (_, t) = parse_condition("x >= 3 in 1 minute").unwrap();
        assert_eq!(t.unwrap().comparison, Comparison::AtLeast);
        assert!(t.unwrap().reached(3) && !t.unwrap().reached(2));
        let (_, t) = parse_condition("x > 3 in 30s").unwrap();
        assert_eq!(t.unwrap().window, Duration::from_secs(30));
        assert!(!t.unwrap().reached(3) && t.unwrap().reached(4));
        assert_eq!(
            parse_condition("su_failure").unwrap(),
            ("su_failure".into(), None)
        );
        assert!(parse_condition("x < 3 in 1m").unwrap_err().contains("'<'"));
        assert!(
            parse_condition("x > many in 1m")
                .unwrap_err()
                .contains("'many'")
        );
        assert!(
            parse_condition("x > 3 in forever")
                .unwrap_err()
                .contains("'forever'")
        );
        assert!(
            parse_condition("x > 3 in 0s")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(parse_condition("").unwrap_err().contains("empty"));
        assert!(
            parse_condition("two words")
                .unwrap_err()
                .contains("cannot read")
        );
    }
}
