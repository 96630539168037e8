//! Detection rules: warroom's rule files (YAML, so the seed's JSON rule
//! object is accepted exactly as written) and the Sigma subset. Loading
//! never stops at the first problem: every rule that is sound is loaded,
//! every one that is not is refused with file:line:col and what is wrong.
//!
//! A warroom rule file:
//!
//! ```yaml
//! events:
//!   failed_logins:
//!     description: sshd rejected a password
//!     match:
//!       - 'sshd\[\d+\]: Failed password for (?:invalid user )?(?P<user>\S+) from (?P<src>\S+)'
//! rules:
//!   - {"rule": "Multiple failed logins", "condition": "failed_logins > 10 in 5 minutes",
//!      "action": "create_incident", "severity": "high", "notify": ["security-team@example.com"]}
//! ```
//!
//! Conditions: `EVENT > N in DURATION`, `EVENT >= N in DURATION`, a bare
//! `EVENT` (every occurrence), `EVENT distinct(FIELD) >= N in DURATION` and
//! `EVENT >= N in DURATION then EVENT2 within DURATION2` (see
//! [`condition`]). `group_by` counts per capture (`src`, `user`, any named
//! capture) or `global`; without it a rule counts per `src` when its event
//! captures one, else globally. `ignore` and `ignore_lines`, at the top level
//! or in a rule, are allowlists (see [`ignore`]).

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{Node, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::patterns::{PatternSets, plan};
use super::rule_file::read_rule_file;
use super::sigma::SigmaDetection;
use super::yaml::YamlFailure;
use crate::domain::Severity;
use crate::domain::campaign::{DEFAULT_EVIDENCE_LINES, IncidentGrouping};

mod condition;
mod events;
mod ignore;
mod options;
mod rule_object;
mod sigma_load;

pub use super::patterns::EventDef;
pub use super::problem::{Position, Problem};
use condition::is_identifier;
pub use condition::{Comparison, Condition, Counted, Threshold, parse_condition};
pub use ignore::{Allowlist, IgnoreEntry};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    Global,
    Capture(String),
}

impl GroupBy {
    pub fn describe(&self) -> &str {
        match self {
            GroupBy::Global => "global",
            GroupBy::Capture(c) => c,
        }
    }
}

/// What a line must satisfy for a rule.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Index into [`RuleSet::events`].
    Event(usize),
    Sigma(SigmaDetection),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub description: String,
    /// Why the threshold is what it is.
    pub why: String,
    pub condition: String,
    pub matcher: Matcher,
    /// None: every matching line fires (single-event rule).
    pub threshold: Option<Threshold>,
    /// What the threshold counts: events, distinct values of a capture, or
    /// events followed by another event (its index in [`RuleSet::events`]).
    pub counted: Counted<usize>,
    pub group_by: GroupBy,
    pub severity: Severity,
    pub create_incident: bool,
    /// Whom a detection is delivered to (through the alert sinks).
    pub notify: Vec<String>,
    /// A detection raises an alert (shown in consoles and on the desktop):
    /// the `notify` action, or a `notify` list. With an empty list the
    /// alert is raised but delivered to nobody.
    pub alert: bool,
    /// Hits this rule does not count (besides the set's global list).
    pub ignore: Allowlist,
    /// How its detections become incidents (`incident:`; one per key by
    /// default, or one campaign per rule or per rule and host).
    pub incident: IncidentGrouping,
    /// The first and latest matching lines its incidents keep as evidence
    /// (`evidence_lines`; the file's, else 20).
    pub evidence_lines: usize,
    /// How often at most the new keys joining its campaign incident are
    /// sent as one digest alert (`digest`; None: never).
    pub digest: Option<std::time::Duration>,
    pub at: Position,
}

/// Everything loaded from a set of rule files.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub events: Vec<EventDef>,
    pub rules: Vec<Rule>,
    pub problems: Vec<Problem>,
    /// What loaded but deserves attention: a condition that can never
    /// fire, patterns too large to match in one pass. Nothing is refused.
    pub warnings: Vec<Problem>,
    /// Files read, in order.
    pub files: Vec<PathBuf>,
    /// Hits no rule counts: the top-level `ignore` and `ignore_lines` of
    /// every file loaded.
    pub ignore: Allowlist,
    /// Every event pattern, grouped for matching (sized at load time).
    pub patterns: PatternSets,
    /// For each pattern number in `patterns`: (event index, pattern index).
    pub pattern_owners: Vec<(usize, usize)>,
    /// Event and rule names, for linear duplicate checks and lookups.
    event_names: HashMap<String, usize>,
    rule_names: HashMap<String, usize>,
}

/// The default rule set shipped in `assets/rules/`.
pub const DEFAULT_RULES: &[(&str, &str)] = &[(
    "assets/rules/linux.yml",
    include_str!("../../assets/rules/linux.yml"),
)];

impl RuleSet {
    /// Loads rule files (warroom or Sigma, told apart by a `detection` key).
    /// Unreadable files and bad rules become problems; the rest loads.
    pub fn load(paths: &[PathBuf]) -> RuleSet {
        let mut texts = Vec::new();
        let mut set = RuleSet::default();
        for p in paths {
            match read_rule_file(p) {
                Ok(t) => texts.push((p.clone(), t)),
                Err(problem) => set.problems.push(problem),
            }
        }
        set.add_texts(&texts);
        set
    }

    /// The shipped default rules.
    pub fn builtin() -> RuleSet {
        let texts: Vec<(PathBuf, String)> = DEFAULT_RULES
            .iter()
            .map(|(name, text)| (PathBuf::from(name), text.to_string()))
            .collect();
        let mut set = RuleSet::default();
        set.add_texts(&texts);
        set
    }

    /// Parses texts as rule files. Events are shared by all files, so
    /// rules are resolved after every file's events are known.
    pub fn add_texts(&mut self, texts: &[(PathBuf, String)]) {
        let mut pending: Vec<(PathBuf, MarkedMappingNode)> = Vec::new();
        for (source, (path, text)) in texts.iter().enumerate() {
            self.files.push(path.clone());
            let options = marked_yaml::LoaderOptions::default().error_on_duplicate_keys(true);
            let root = match super::yaml::parse(source, text, options) {
                Ok(n) => n,
                Err(YamlFailure::Load(e)) => {
                    self.problems.push(load_error(path, &e));
                    continue;
                }
                Err(YamlFailure::TooDeep(line, column)) => {
                    self.problems.push(Problem {
                        at: Position {
                            file: path.clone(),
                            line,
                            column,
                        },
                        subject: None,
                        message: format!(
                            "nested more than {} levels deep; rule files are a few levels deep",
                            super::yaml::MAX_BLOCK_DEPTH
                        ),
                    });
                    continue;
                }
                Err(YamlFailure::Internal(message)) => {
                    self.problems.push(Problem {
                        at: Position {
                            file: path.clone(),
                            line: 0,
                            column: 0,
                        },
                        subject: None,
                        message,
                    });
                    continue;
                }
            };
            let Some(map) = root.as_mapping().cloned() else {
                continue;
            };
            if map.get("detection").is_some() {
                self.add_sigma(path, &map);
            } else {
                self.add_events(path, &map);
                pending.push((path.clone(), map));
            }
        }
        for (path, map) in pending {
            self.add_rules(&path, &map);
        }
        // Sized now, so `rules check` says what `scan` and `watch` will do.
        let (patterns, owners, warning) = plan(&self.events);
        self.patterns = patterns;
        self.pattern_owners = owners;
        self.warnings.retain(|w| !w.message.contains(OVERFLOW_MARK));
        self.warnings.extend(warning);
    }

    /// The index of a loaded event.
    pub fn event_index(&self, name: &str) -> Option<usize> {
        self.event_names.get(name).copied()
    }

    /// The index of a loaded rule.
    pub fn rule_index(&self, name: &str) -> Option<usize> {
        self.rule_names.get(name).copied()
    }

    fn push_rule(&mut self, rule: Rule) {
        self.rule_names.insert(rule.name.clone(), self.rules.len());
        self.rules.push(rule);
    }

    fn problem(
        &mut self,
        file: &Path,
        span: &Span,
        subject: Option<&str>,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            at: position(file, span),
            subject: subject.map(str::to_string),
            message: message.into(),
        });
    }

    fn add_rules(&mut self, file: &Path, map: &MarkedMappingNode) {
        // A file may be one bare rule object, like the seed's.
        if map.get("rule").is_some() {
            self.add_rule(file, map, DEFAULT_EVIDENCE_LINES);
            return;
        }
        for (k, _) in map.iter() {
            if !matches!(
                k.as_str(),
                "events"
                    | "rules"
                    | "title"
                    | "description"
                    | "ignore"
                    | "ignore_lines"
                    | "evidence_lines"
            ) {
                let msg = format!(
                    "unknown top-level key '{}' (expected events, rules, ignore, ignore_lines, evidence_lines)",
                    k.as_str()
                );
                self.problem(file, k.span(), None, msg);
            }
        }
        // The file's default for its rules that do not set their own.
        let evidence_lines = match map.get_scalar("evidence_lines") {
            None => DEFAULT_EVIDENCE_LINES,
            Some(s) => options::parse_evidence_lines(s.as_str()).unwrap_or_else(|e| {
                self.problem(file, s.span(), None, e);
                DEFAULT_EVIDENCE_LINES
            }),
        };
        let mut global = std::mem::take(&mut self.ignore);
        self.read_allowlist(file, map, None, &mut global);
        self.ignore = global;
        let Some(rules) = map.get("rules") else {
            return;
        };
        let Some(rules) = rules.as_sequence() else {
            self.problem(
                file,
                rules.span(),
                None,
                "'rules' must be a list of rule objects",
            );
            return;
        };
        for r in rules.iter() {
            match r.as_mapping() {
                Some(m) => self.add_rule(file, m, evidence_lines),
                None => self.problem(
                    file,
                    r.span(),
                    None,
                    "a rule must be an object with 'rule' and 'condition'",
                ),
            }
        }
    }
}

/// The scalars of a node that may be one scalar or a list of them; a
/// non-scalar item yields its span as an error.
fn scalars(node: &Node) -> Vec<Result<&MarkedScalarNode, Span>> {
    match node {
        Node::Scalar(s) => vec![Ok(s)],
        Node::Sequence(seq) => seq
            .iter()
            .map(|n| n.as_scalar().ok_or_else(|| *n.span()))
            .collect(),
        Node::Mapping(m) => vec![Err(*m.span())],
    }
}

fn position(file: &Path, span: &Span) -> Position {
    let (line, column) = span.start().map_or((1, 1), |m| (m.line(), m.column()));
    Position {
        file: file.to_path_buf(),
        line,
        column,
    }
}

fn load_error(file: &Path, e: &marked_yaml::LoadError) -> Problem {
    use marked_yaml::LoadError::*;
    let (marker, message) = match e {
        TopLevelMustBeMapping(m) => (
            Some(*m),
            "the file must be a mapping (events/rules, a rule object, or a Sigma rule)".to_string(),
        ),
        TopLevelMustBeSequence(m) => (Some(*m), "expected a list".to_string()),
        UnexpectedAnchor(m) => (
            Some(*m),
            "YAML anchors are not supported in rule files".to_string(),
        ),
        MappingKeyMustBeScalar(m) => (Some(*m), "mapping keys must be plain values".to_string()),
        UnexpectedTag(m) => (
            Some(*m),
            "YAML tags are not supported in rule files".to_string(),
        ),
        ScanError(m, err) => (
            Some(*m),
            format!("YAML syntax error: {}", scan_message(&err.to_string())),
        ),
        DuplicateKey(inner) => (
            inner.key.span().start().copied(),
            format!("duplicate key '{}'", inner.key.as_str()),
        ),
        #[allow(unreachable_patterns)]
        _ => (None, e.to_string()),
    };
    Problem {
        at: Position {
            file: file.to_path_buf(),
            line: marker.map_or(1, |m| m.line()),
            column: marker.map_or(1, |m| m.column()),
        },
        subject: None,
        message,
    }
}

/// yaml-rust's messages end with " at byte N line L column C"; the position
/// is already in front of ours.
fn scan_message(s: &str) -> String {
    s.split(" at byte ").next().unwrap_or(s).trim().to_string()
}

/// The regex crate's errors quote the pattern over several lines and end
/// with the reason; keep the reason.
fn regex_reason(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.last().copied().unwrap_or(s).to_string()
}

/// Marks the pattern-size warning (replaced when more files are added).
const OVERFLOW_MARK: &str = "exceed the regex size limit";

/// Events and rules by name, for lookups.
pub fn rules_by_name(set: &RuleSet) -> HashMap<&str, &Rule> {
    set.rules.iter().map(|r| (r.name.as_str(), r)).collect()
}

#[cfg(test)]
mod tests;
