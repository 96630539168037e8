//! The severity policy: per level, how fast a response, a first customer
//! notice and each status update are due, plus regulatory clocks.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::SourceError;

use super::escalation::{EscalationPolicy, Rotation, Step, Target};
use super::incident::Severity;

/// The policy shipped in `assets/policy.toml`; compiled in so a fresh binary
/// works with no files around it.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../assets/policy.toml");

#[derive(Debug, Clone, PartialEq)]
pub struct LevelPolicy {
    pub label: String,
    pub criteria: String,
    pub response: Duration,
    /// `Some(0)` = immediately; `None` = as needed (no clock).
    pub customer_notice: Option<Duration>,
    /// `None` = no update cadence.
    pub update_every: Option<Duration>,
    /// How long after resolution the post-incident review is due.
    pub review_within: Duration,
}

/// Which incident flag starts a regulatory clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegulatoryTrigger {
    PersonalDataBreach,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegulatoryClock {
    pub name: String,
    pub within: Duration,
    pub applies_to: RegulatoryTrigger,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    levels: [LevelPolicy; 4],
    pub regulatory: Vec<RegulatoryClock>,
    /// How long a clock due "immediately" reads `due now` before it is
    /// breached; a notice sent within it is met.
    pub immediate_grace: Duration,
    /// Who is paged, and when, while a breached response goes unacknowledged.
    pub escalation: EscalationPolicy,
}

/// The grace of an "immediately" clock when the policy does not say: five
/// minutes (the first external message goes out within minutes).
pub const DEFAULT_IMMEDIATE_GRACE: Duration = Duration::from_secs(5 * 60);

impl Policy {
    pub fn level(&self, severity: Severity) -> &LevelPolicy {
        match severity {
            Severity::P1 => &self.levels[0],
            Severity::P2 => &self.levels[1],
            Severity::P3 => &self.levels[2],
            Severity::P4 => &self.levels[3],
        }
    }

    /// The built-in default policy (the seed table).
    pub fn builtin() -> Policy {
        // The asset is checked by a unit test; should it ever be broken the
        // hard-coded seed table still gives a working policy.
        Policy::from_toml(DEFAULT_POLICY_TOML).unwrap_or_else(|_| Policy::seed())
    }

    fn seed() -> Policy {
        let h = |n: u64| Duration::from_secs(n * 3600);
        let level = |s: Severity, crit: &str, resp, notice, upd| LevelPolicy {
            label: s.default_label().into(),
            criteria: crit.into(),
            response: resp,
            customer_notice: notice,
            update_every: upd,
            review_within: default_review_within(s),
        };
        Policy {
            levels: [
                level(
                    Severity::P1,
                    "Service down, data breach",
                    Duration::from_secs(15 * 60),
                    Some(Duration::ZERO),
                    Some(h(1)),
                ),
                level(
                    Severity::P2,
                    "Major degradation",
                    h(1),
                    Some(h(4)),
                    Some(h(2)),
                ),
                level(Severity::P3, "Minor impact", h(4), Some(h(24)), Some(h(8))),
                level(Severity::P4, "No customer impact", h(24), None, Some(h(24))),
            ],
            regulatory: vec![RegulatoryClock {
                name: "GDPR Art. 33 regulator notice".into(),
                within: h(72),
                applies_to: RegulatoryTrigger::PersonalDataBreach,
            }],
            immediate_grace: DEFAULT_IMMEDIATE_GRACE,
            escalation: seed_escalation(),
        }
    }

    /// Parses a policy file; errors carry the byte offset of the bad value.
    pub fn from_toml(text: &str) -> Result<Policy, SourceError> {
        let raw: RawPolicy = toml::from_str(text).map_err(SourceError::from_toml)?;
        let mut levels = Vec::with_capacity(4);
        for sev in Severity::ALL {
            let Some(l) = raw.levels.get(sev.as_str()) else {
                return Err(SourceError::new(format!("[levels.{sev}] is missing"), None));
            };
            let at = |field: &str, v: &Spanned<String>, e: String| {
                SourceError::new(format!("levels.{sev}.{field}: {e}"), Some(v.span().start))
            };
            levels.push(LevelPolicy {
                label: l
                    .label
                    .clone()
                    .unwrap_or_else(|| sev.default_label().into()),
                criteria: l.criteria.clone().unwrap_or_default(),
                response: parse_duration(l.response.get_ref())
                    .map_err(|e| at("response", &l.response, e))?,
                customer_notice: parse_optional_duration(l.customer_notice.get_ref())
                    .map_err(|e| at("customer_notice", &l.customer_notice, e))?,
                update_every: match &l.update_every {
                    Some(s) => parse_optional_duration(s.get_ref())
                        .map_err(|e| at("update_every", s, e))?,
                    None => None,
                },
                review_within: match &l.review_within {
                    Some(s) => {
                        parse_duration(s.get_ref()).map_err(|e| at("review_within", s, e))?
                    }
                    None => default_review_within(sev),
                },
            });
        }
        if let Some(extra) = raw.levels.keys().find(|k| k.parse::<Severity>().is_err()) {
            return Err(SourceError::new(
                format!("[levels.{extra}] is not a severity (P1..P4)"),
                None,
            ));
        }
        let regulatory = raw
            .regulatory
            .into_iter()
            .map(|r| {
                Ok(RegulatoryClock {
                    within: parse_duration(r.within.get_ref()).map_err(|e| {
                        SourceError::new(
                            format!("regulatory '{}': within: {e}", r.name),
                            Some(r.within.span().start),
                        )
                    })?,
                    name: r.name,
                    applies_to: r.applies_to,
                })
            })
            .collect::<Result<_, SourceError>>()?;
        let levels: [LevelPolicy; 4] = levels
            .try_into()
            .map_err(|_| SourceError::new("expected four severity levels".into(), None))?;
        let immediate_grace = match &raw.immediate_grace {
            Some(g) => parse_duration(g.get_ref()).map_err(|e| {
                SourceError::new(format!("immediate_grace: {e}"), Some(g.span().start))
            })?,
            None => DEFAULT_IMMEDIATE_GRACE,
        };
        let escalation = escalation_from_raw(raw.escalation, raw.oncall)?;
        Ok(Policy {
            levels,
            regulatory,
            immediate_grace,
            escalation,
        })
    }
}

/// The shipped escalation: at the breach the commander and the primary
/// on-call, 5 minutes later the security lead, then every 10 minutes the
/// on-call manager; the rotations are empty until the user fills them.
fn seed_escalation() -> EscalationPolicy {
    let step = |notify: &[&str], mins: u64| Step {
        notify: notify
            .iter()
            .map(|n| match n.split_once(':') {
                Some(("role", r)) => r
                    .parse()
                    .map(Target::Role)
                    .unwrap_or_else(|_| Target::Person(n.to_string())),
                Some(("oncall", o)) => Target::OnCall(o.to_string()),
                _ => Target::Person(n.to_string()),
            })
            .collect(),
        wait: Duration::from_secs(mins * 60),
    };
    let rotation = || Rotation {
        people: Vec::new(),
        shift: Duration::from_secs(7 * 24 * 3600),
        starts: DEFAULT_ROTATION_START,
    };
    EscalationPolicy {
        steps: vec![
            step(&["role:commander", "oncall:primary"], 5),
            step(&["role:security"], 10),
            step(&["oncall:manager"], 10),
        ],
        rotations: BTreeMap::from([
            ("manager".to_string(), rotation()),
            ("primary".to_string(), rotation()),
        ]),
    }
}

/// When a rotation's first shift starts if the policy does not say: a
/// Monday, 00:00 UTC, so weekly shifts turn over on Mondays.
const DEFAULT_ROTATION_START: chrono::DateTime<chrono::Utc> =
    chrono::DateTime::from_timestamp_nanos(4 * 24 * 3600 * 1_000_000_000);

fn escalation_from_raw(
    steps: Vec<RawStep>,
    oncall: BTreeMap<String, RawRotation>,
) -> Result<EscalationPolicy, SourceError> {
    let mut rotations = BTreeMap::new();
    for (name, r) in oncall {
        let at = |field: &str, v: &Spanned<String>, e: String| {
            SourceError::new(format!("oncall.{name}.{field}: {e}"), Some(v.span().start))
        };
        let shift = parse_duration(r.shift.get_ref()).map_err(|e| at("shift", &r.shift, e))?;
        if shift.is_zero() {
            return Err(at(
                "shift",
                &r.shift,
                "a shift must be longer than zero".into(),
            ));
        }
        let starts = match &r.starts {
            Some(s) => chrono::DateTime::parse_from_rfc3339(s.get_ref().trim())
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|e| {
                    at(
                        "starts",
                        s,
                        format!("'{}' is not an RFC 3339 time ({e})", s.get_ref()),
                    )
                })?,
            None => DEFAULT_ROTATION_START,
        };
        rotations.insert(
            name.clone(),
            Rotation {
                people: r.people.iter().map(|p| p.trim().to_string()).collect(),
                shift,
                starts,
            },
        );
    }
    let mut out = Vec::with_capacity(steps.len());
    for (n, s) in steps.into_iter().enumerate() {
        let mut notify = Vec::with_capacity(s.notify.len());
        for who in &s.notify {
            let bad = |e: String| {
                SourceError::new(
                    format!("escalation step {}: notify '{}': {e}", n + 1, who.get_ref()),
                    Some(who.span().start),
                )
            };
            let target = Target::parse(who.get_ref()).map_err(bad)?;
            if let Target::OnCall(name) = &target
                && !rotations.contains_key(name)
            {
                return Err(bad(format!("no [oncall.{name}] rotation is defined")));
            }
            notify.push(target);
        }
        let wait = parse_duration(s.wait.get_ref()).map_err(|e| {
            SourceError::new(
                format!("escalation step {}: wait: {e}", n + 1),
                Some(s.wait.span().start),
            )
        })?;
        out.push(Step { notify, wait });
    }
    Ok(EscalationPolicy {
        steps: out,
        rotations,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    levels: BTreeMap<String, RawLevel>,
    #[serde(default)]
    regulatory: Vec<RawRegulatory>,
    immediate_grace: Option<Spanned<String>>,
    #[serde(default)]
    escalation: Vec<RawStep>,
    #[serde(default)]
    oncall: BTreeMap<String, RawRotation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    notify: Vec<Spanned<String>>,
    wait: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRotation {
    #[serde(default)]
    people: Vec<String>,
    shift: Spanned<String>,
    starts: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    label: Option<String>,
    criteria: Option<String>,
    response: Spanned<String>,
    customer_notice: Spanned<String>,
    update_every: Option<Spanned<String>>,
    review_within: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegulatory {
    name: String,
    within: Spanned<String>,
    applies_to: RegulatoryTrigger,
}

/// The review period when the policy file does not say: 3 days for P1,
/// 5 days otherwise.
pub fn default_review_within(severity: Severity) -> Duration {
    let days = if severity == Severity::P1 { 3 } else { 5 };
    Duration::from_secs(days * 24 * 3600)
}

/// "15m", "1h", "4 hours", "72h", "immediately" (zero).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("immediately") || t == "0" {
        return Ok(Duration::ZERO);
    }
    let d = humantime::parse_duration(t).map_err(|e| format!("'{s}' is not a duration ({e})"))?;
    // Clocks add durations to dates; past the calendar's end that would
    // overflow, so anything beyond a lifetime is refused as a typo.
    if d > MAX_DURATION {
        return Err(format!("'{s}' is longer than 100 years"));
    }
    Ok(d)
}

/// The longest duration a policy (or comms.toml) may give: 100 years.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

/// Like [`parse_duration`] but "as needed" / "none" mean no clock.
pub fn parse_optional_duration(s: &str) -> Result<Option<Duration>, String> {
    let t = s.trim().to_ascii_lowercase();
    if t == "as needed" || t == "as-needed" || t == "none" {
        return Ok(None);
    }
    parse_duration(s).map(Some)
}

/// Short human form: "15m", "1h", "1h30m", "immediately".
pub fn describe_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "immediately".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_is_the_seed_table() {
        let p = Policy::from_toml(DEFAULT_POLICY_TOML).expect("assets/policy.toml parses");
        assert_eq!(p, Policy::seed());
        let p1 = p.level(Severity::P1);
        assert_eq!(p1.response, Duration::from_secs(15 * 60));
        assert_eq!(p1.customer_notice, Some(Duration::ZERO));
        assert_eq!(p.level(Severity::P2).response, Duration::from_secs(3600));
        assert_eq!(
            p.level(Severity::P2).customer_notice,
            Some(Duration::from_secs(4 * 3600))
        );
        assert_eq!(
            p.level(Severity::P3).customer_notice,
            Some(Duration::from_secs(24 * 3600))
        );
        assert_eq!(
            p.level(Severity::P4).response,
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(p.level(Severity::P4).customer_notice, None);
        assert_eq!(p.regulatory[0].within, Duration::from_secs(72 * 3600));
    }

    #[test]
    fn policy_errors_name_the_place() {
        let bad = DEFAULT_POLICY_TOML.replace("response = \"1h\"", "response = \"soon\"");
        let err = Policy::from_toml(&bad).unwrap_err();
        assert!(err.message.contains("levels.P2.response"), "{err}");
        assert!(err.message.contains("'soon'"), "{err}");
        let (line, col) = err.line_col(&bad).unwrap();
        assert_eq!(&bad.lines().nth(line - 1).unwrap()[col - 1..], "\"soon\"");

        let err = Policy::from_toml("\n[levels.P1\n").unwrap_err();
        assert_eq!(
            err.line_col("\n[levels.P1\n").map(|p| p.0),
            Some(2),
            "{err}"
        );

        let missing = "[levels.P1]\nresponse = \"1h\"\ncustomer_notice = \"1h\"\n";
        assert!(
            Policy::from_toml(missing)
                .unwrap_err()
                .message
                .contains("P2")
        );
    }

    #[test]
    fn escalation_and_grace_errors_name_the_place() {
        let p = Policy::from_toml(DEFAULT_POLICY_TOML).unwrap();
        assert_eq!(p.immediate_grace, DEFAULT_IMMEDIATE_GRACE);
        assert_eq!(p.escalation.steps.len(), 3);
        assert_eq!(p.escalation.steps[1].wait, Duration::from_secs(600));

        let bad = DEFAULT_POLICY_TOML.replace("\"oncall:manager\"", "\"oncall:nightshift\"");
        let err = Policy::from_toml(&bad).unwrap_err();
        assert!(err.message.contains("escalation step 3"), "{err}");
        assert!(err.message.contains("[oncall.nightshift]"), "{err}");
        let (line, _) = err.line_col(&bad).unwrap();
        assert!(bad.lines().nth(line - 1).unwrap().contains("nightshift"));

        let bad = DEFAULT_POLICY_TOML
            .replace("immediate_grace = \"5m\"", "immediate_grace = \"soonish\"");
        let err = Policy::from_toml(&bad).unwrap_err();
        assert!(err.message.contains("immediate_grace"), "{err}");
        let bad = DEFAULT_POLICY_TOML.replace("\"role:security\"", "\"role:janitor\"");
        assert!(
            Policy::from_toml(&bad)
                .unwrap_err()
                .message
                .contains("role")
        );
        let bad = DEFAULT_POLICY_TOML.replacen("shift = \"7d\"", "shift = \"0\"", 1);
        assert!(
            Policy::from_toml(&bad)
                .unwrap_err()
                .message
                .contains("shift")
        );
        // Without escalation steps the policy names nobody (comms.toml's
        // contacts are still paged at the breach: comms::alerts).
        let none = DEFAULT_POLICY_TOML
            .split("\n# Escalation while")
            .next()
            .unwrap()
            .to_string();
        assert!(
            Policy::from_toml(&none)
                .unwrap()
                .escalation
                .steps
                .is_empty()
        );
    }

    #[test]
    fn durations_parse_and_describe() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(
            parse_duration("4 hours").unwrap(),
            Duration::from_secs(4 * 3600)
        );
        assert_eq!(parse_duration("immediately").unwrap(), Duration::ZERO);
        assert_eq!(parse_optional_duration("as needed").unwrap(), None);
        assert!(parse_duration("later").is_err());
        assert_eq!(describe_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(describe_duration(Duration::ZERO), "immediately");
    }
}
