//! The incident and its vocabulary: severity, status, phase, source, CIA impact.
//! Pure data and parsing; no I/O and no clock reads.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

/// A value that failed to parse, with the accepted spellings for the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} '{got}' (expected {})", expected.trim_end_matches([',', ' ']))]
pub struct ParseError {
    pub what: &'static str,
    pub got: String,
    pub expected: &'static str,
}

/// Declares a closed set of values with one canonical lower-case spelling each,
/// plus extra accepted aliases. Keeps FromStr, Display and serde in agreement.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => $slug:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The canonical spelling stored in the database and used in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                // Fast path: the canonical spelling, as stored in the database.
                match s {
                    $($slug => return Ok($name::$variant),)+
                    _ => {}
                }
                let lower = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
                match lower.as_str() {
                    $($slug $(| $alias)* => Ok($name::$variant),)+
                    _ => Err(ParseError {
                        what: $what,
                        got: s.to_string(),
                        expected: concat!($($slug, ", "),+),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Severity levels P1 (critical) to P4 (low). Ordered so that P1 < P4, i.e.
/// sorting ascending puts the most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    P1,
    P2,
    P3,
    P4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::P1, Severity::P2, Severity::P3, Severity::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
            Severity::P4 => "P4",
        }
    }

    /// The default label of the level; the policy may rename it.
    pub fn default_label(self) -> &'static str {
        match self {
            Severity::P1 => "Critical",
            Severity::P2 => "High",
            Severity::P3 => "Medium",
            Severity::P4 => "Low",
        }
    }
}

impl FromStr for Severity {
    type Err = ParseError;
    /// Accepts `P1`..`P4` (any case), `1`..`4`, and the level names
    /// critical/high/medium/low that detection rules use.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        // Fast path: the stored spelling.
        match s {
            "P1" => return Ok(Severity::P1),
            "P2" => return Ok(Severity::P2),
            "P3" => return Ok(Severity::P3),
            "P4" => return Ok(Severity::P4),
            _ => {}
        }
        match s.trim().to_ascii_lowercase().as_str() {
            "p1" | "1" | "critical" => Ok(Severity::P1),
            "p2" | "2" | "high" => Ok(Severity::P2),
            "p3" | "3" | "medium" => Ok(Severity::P3),
            "p4" | "4" | "low" => Ok(Severity::P4),
            _ => Err(ParseError {
                what: "severity",
                got: s.to_string(),
                expected: "P1, P2, P3 or P4 (or critical, high, medium, low)",
            }),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

vocabulary!(
    /// Where the incident is in its life, as told to stakeholders.
    Status, "status", {
        Investigating => "investigating",
        Identified => "identified",
        Contained => "contained",
        Monitoring => "monitoring",
        Resolved => "resolved",
        Closed => "closed",
    }
);

impl Status {
    /// Resolved and closed incidents no longer run update clocks.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }
}

vocabulary!(
    /// The six response phases (ISO 27017 A.16 practice), in order.
    Phase, "phase", {
        Detection => "detection" | "detect" | "identification" | "detection-identification",
        Triage => "triage" | "classification" | "triage-classification",
        Containment => "containment" | "contain",
        Eradication => "eradication" | "eradicate",
        Recovery => "recovery" | "recover",
        Review => "review" | "post-incident-review" | "pir",
    }
);

impl Phase {
    pub fn title(self) -> &'static str {
        match self {
            Phase::Detection => "Detection & identification",
            Phase::Triage => "Triage & classification",
            Phase::Containment => "Containment",
            Phase::Eradication => "Eradication",
            Phase::Recovery => "Recovery",
            Phase::Review => "Post-incident review",
        }
    }

    pub fn index(self) -> usize {
        Phase::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> Option<Phase> {
        Phase::ALL.get(self.index() + 1).copied()
    }

    pub fn prev(self) -> Option<Phase> {
        self.index()
            .checked_sub(1)
            .and_then(|i| Phase::ALL.get(i).copied())
    }
}

vocabulary!(
    /// How the incident came to our attention.
    Source, "source", {
        Siem => "siem",
        AutomatedAlert => "automated-alert" | "alert" | "automated",
        CustomerReport => "customer-report" | "customer",
        RuleWatcher => "rule-watcher" | "watcher" | "rule",
        Manual => "manual",
    }
);

vocabulary!(
    /// Impact on one of confidentiality, integrity, availability.
    Impact, "impact", {
        None => "none",
        Low => "low",
        High => "high",
    }
);

/// Confidentiality / integrity / availability impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cia {
    pub confidentiality: Impact,
    pub integrity: Impact,
    pub availability: Impact,
}

impl Default for Cia {
    fn default() -> Self {
        Cia {
            confidentiality: Impact::None,
            integrity: Impact::None,
            availability: Impact::None,
        }
    }
}

impl FromStr for Cia {
    type Err = ParseError;
    /// `C/I/A` as three impacts, e.g. `high/none/low` or `h/n/l`.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || ParseError {
            what: "CIA impact",
            got: s.to_string(),
            expected: "three impacts as C/I/A, e.g. high/none/low",
        };
        let parts: Vec<&str> = s.split('/').collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        let one = |p: &str| -> Result<Impact, ParseError> {
            match p.trim().to_ascii_lowercase().as_str() {
                "n" => Ok(Impact::None),
                "l" => Ok(Impact::Low),
                "h" => Ok(Impact::High),
                other => other.parse().map_err(|_| bad()),
            }
        };
        Ok(Cia {
            confidentiality: one(parts[0])?,
            integrity: one(parts[1])?,
            availability: one(parts[2])?,
        })
    }
}

impl fmt::Display for Cia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "C:{} I:{} A:{}",
            self.confidentiality, self.integrity, self.availability
        )
    }
}

/// `INC-<year>-<NNN>`: a per-year sequence, allocated by the store inside the
/// creating transaction so it is unique across processes and never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(String);

impl IncidentId {
    pub fn new(year: i32, seq: u32) -> IncidentId {
        IncidentId(format!("INC-{year}-{seq:03}"))
    }

    /// The id for the `seq`th incident declared in the year of `at`.
    pub fn for_time(at: DateTime<Utc>, seq: u32) -> IncidentId {
        IncidentId::new(at.year(), seq)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Year and sequence number, for ordering and validation.
    pub fn parts(&self) -> Option<(i32, u32)> {
        let rest = self.0.strip_prefix("INC-")?;
        let (year, seq) = rest.split_once('-')?;
        if year.len() != 4 || seq.len() < 3 {
            return None;
        }
        Some((year.parse().ok()?, seq.parse().ok()?))
    }
}

impl FromStr for IncidentId {
    type Err = ParseError;
    /// Accepts any case (`inc-2026-001`); normalises to upper case.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let id = IncidentId(s.trim().to_ascii_uppercase());
        match id.parts() {
            Some((year, seq)) if seq > 0 => Ok(IncidentId::new(year, seq)),
            _ => Err(ParseError {
                what: "incident id",
                got: s.to_string(),
                expected: "INC-<year>-<NNN>, e.g. INC-2026-001",
            }),
        }
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything warroom knows about an incident right now (its current state;
/// the timeline holds how it got here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub summary: String,
    pub severity: Severity,
    pub status: Status,
    pub phase: Phase,
    pub source: Source,
    /// Affected region and services, free text ("eu-west-1: billing, api").
    pub affected: String,
    pub cia: Cia,
    pub customer_impact: String,
    /// What customers are told happened: kept apart from the internal
    /// `summary`, which customer messages never quote.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub customer_summary: String,
    /// Raises the regulatory clocks of the policy (e.g. GDPR's 72 hours).
    pub personal_data_breach: bool,
    /// Exercises: shown as DRILL everywhere, kept out of metrics.
    pub drill: bool,
    pub detected_at: DateTime<Utc>,
    pub declared_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub contained_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When customers were first told (meets the customer-notice clock).
    pub customer_notified_at: Option<DateTime<Utc>>,
    /// When the regulator was notified (meets regulatory clocks).
    pub regulator_notified_at: Option<DateTime<Utc>>,
    /// When the last status update went out (restarts the update clock).
    pub last_update_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Severity and detection-time periods and clock pauses, from the
    /// recorded changes (what the clocks are derived from besides the above).
    #[serde(default, skip_serializing_if = "ClockHistory::is_empty")]
    pub clock_history: ClockHistory,
}

/// Why a title, or another required text, was refused.
pub fn validate_title(title: &str) -> Result<String, String> {
    let t = title.trim();
    if t.is_empty() {
        return Err("title must not be empty".into());
    }
    if t.chars().count() > 200 {
        return Err(format!(
            "title is {} characters long; at most 200 are allowed",
            t.chars().count()
        ));
    }
    Ok(t.to_string())
}

// What an incident's recorded changes say about its clocks (its functions
// are in `clock_history`): part of the incident's record, so it lives here.

/// From `from` on, this severity and detection time were in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub severity: Severity,
    pub detected_at: DateTime<Utc>,
}

/// A clock stopped from `from` until `until` (still paused while `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// The clock's key (`ClockKind::key`): `response`, `customer_notice`,
    /// `next_update`.
    pub clock: String,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClockHistory {
    /// Oldest first. Empty: the incident's current severity and detection
    /// time were in force all along (nothing changed them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<Period>,
    /// Oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<Pause>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_parses_levels_and_names() {
        assert_eq!("P1".parse::<Severity>().unwrap(), Severity::P1);
        assert_eq!("p3".parse::<Severity>().unwrap(), Severity::P3);
        assert_eq!("high".parse::<Severity>().unwrap(), Severity::P2);
        assert_eq!("4".parse::<Severity>().unwrap(), Severity::P4);
        let err = "P9".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("'P9'"), "{err}");
        assert!(Severity::P1 < Severity::P4);
    }

    #[test]
    fn vocabularies_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), *s);
        }
        for p in Phase::ALL {
            assert_eq!(p.as_str().parse::<Phase>().unwrap(), *p);
        }
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>().unwrap(), *s);
        }
        assert_eq!(
            "Customer Report".parse::<Source>().unwrap(),
            Source::CustomerReport
        );
        assert!("sideways".parse::<Status>().is_err());
    }

    #[test]
    fn phases_step_in_order() {
        assert_eq!(Phase::Detection.next(), Some(Phase::Triage));
        assert_eq!(Phase::Review.next(), None);
        assert_eq!(Phase::Detection.prev(), None);
        assert_eq!(Phase::Recovery.prev(), Some(Phase::Eradication));
    }

    #[test]
    fn cia_parses_short_and_long() {
        let c: Cia = "h/n/l".parse().unwrap();
        assert_eq!(c.confidentiality, Impact::High);
        assert_eq!(c.integrity, Impact::None);
        assert_eq!(c.availability, Impact::Low);
        assert_eq!("high/none/low".parse::<Cia>().unwrap(), c);
        assert!("high/none".parse::<Cia>().is_err());
    }

    #[test]
    fn incident_ids_format_and_parse() {
        assert_eq!(IncidentId::new(2026, 7).as_str(), "INC-2026-007");
        assert_eq!(IncidentId::new(2026, 1234).as_str(), "INC-2026-1234");
        let id: IncidentId = "inc-2026-042".parse().unwrap();
        assert_eq!(id.as_str(), "INC-2026-042");
        assert_eq!(id.parts(), Some((2026, 42)));
        assert!("INC-26-1".parse::<IncidentId>().is_err());
        assert!("INC-2026-000".parse::<IncidentId>().is_err());
        assert!("hello".parse::<IncidentId>().is_err());
    }

    #[test]
    fn titles_are_validated() {
        assert!(validate_title("  ").is_err());
        assert_eq!(validate_title("  DB down ").unwrap(), "DB down");
        assert!(validate_title(&"x".repeat(201)).is_err());
    }
}
