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
use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::patterns::{PatternSets, plan};
use super::rule_file::read_rule_file;
use super::sigma::SigmaDetection;
use super::yaml::YamlFailure;
use crate::domain::Severity;
use crate::domain::campaign::IncidentGrouping;

mod condition;
mod events;
mod ignore;
mod sigma_load;

pub use super::patterns::EventDef;
pub use super::problem::{Position, Problem};
pub use condition::{Comparison, Condition, Counted, Threshold, parse_condition};
use condition::{is_identifier, never_fires};
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
            self.add_rule(file, map);
            return;
        }
        for (k, _) in map.iter() {
            if !matches!(
                k.as_str(),
                "events" | "rules" | "title" | "description" | "ignore" | "ignore_lines"
            ) {
                let msg = format!(
                    "unknown top-level key '{}' (expected events, rules, ignore, ignore_lines)",
                    k.as_str()
                );
                self.problem(file, k.span(), None, msg);
            }
        }
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
                Some(m) => self.add_rule(file, m),
                None => self.problem(
                    file,
                    r.span(),
                    None,
                    "a rule must be an object with 'rule' and 'condition'",
                ),
            }
        }
    }

    fn add_rule(&mut self, file: &Path, m: &MarkedMappingNode) {
        let Some(name_node) = m.get_scalar("rule") else {
            self.problem(file, m.span(), None, "rule has no 'rule' name");
            return;
        };
        let name = name_node.as_str().trim().to_string();
        let subject = Some(name.as_str());
        let before = self.problems.len();
        if name.is_empty() {
            self.problem(file, name_node.span(), None, "rule name is empty");
        }
        if let Some(&prev) = self.rule_names.get(&name) {
            let msg = format!(
                "a rule with this name is already loaded from {}",
                self.rules[prev].at
            );
            self.problem(file, name_node.span(), subject, msg);
        }
        for (k, _) in m.iter() {
            if !matches!(
                k.as_str(),
                "rule"
                    | "condition"
                    | "action"
                    | "actions"
                    | "severity"
                    | "notify"
                    | "group_by"
                    | "description"
                    | "why"
                    | "enabled"
                    | "ignore"
                    | "ignore_lines"
                    | "incident"
            ) {
                let msg = format!(
                    "unknown key '{}' (expected rule, condition, action, severity, notify, group_by, description, why, ignore, ignore_lines, incident)",
                    k.as_str()
                );
                self.problem(file, k.span(), subject, msg);
            }
        }
        let text = |key: &str| {
            m.get_scalar(key)
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        };

        // Condition.
        let cond_node = m.get_scalar("condition");
        let parsed = match cond_node {
            None => {
                self.problem(file, m.span(), subject, "rule has no 'condition'");
                None
            }
            Some(c) => match parse_condition(c.as_str()) {
                Ok(p) => Some((p, c)),
                Err(e) => {
                    self.problem(file, c.span(), subject, e);
                    None
                }
            },
        };
        let resolved = parsed.and_then(|(cond, node)| {
            let Condition {
                event,
                threshold,
                counted,
            } = cond;
            let counted = match counted {
                Counted::Events => Counted::Events,
                Counted::Distinct(field) => Counted::Distinct(field),
                Counted::Then {
                    event: next,
                    within,
                } => match self.event_names.get(&next) {
                    Some(&i) => Counted::Then { event: i, within },
                    None => {
                        let msg = format!("condition's 'then' names unknown event '{next}'");
                        self.problem(file, node.span(), subject, msg);
                        return None;
                    }
                },
            };
            match self.event_names.get(&event) {
                Some(&i) => Some((i, threshold, counted, node)),
                None => {
                    // A few names are enough to spot a typo; thousands
                    // would bury the message.
                    let known: Vec<&str> = self
                        .events
                        .iter()
                        .take(20)
                        .map(|e| e.name.as_str())
                        .collect();
                    let msg = format!(
                        "condition counts unknown event '{event}' (defined events: {}{})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        },
                        if self.events.len() > known.len() {
                            format!(" and {} more", self.events.len() - known.len())
                        } else {
                            String::new()
                        }
                    );
                    self.problem(file, node.span(), subject, msg);
                    None
                }
            }
        });

        // Severity.
        let severity = match m.get_scalar("severity") {
            None => Severity::P3,
            Some(s) => match s.as_str().parse::<Severity>() {
                Ok(sev) => sev,
                Err(e) => {
                    self.problem(file, s.span(), subject, e.to_string());
                    Severity::P3
                }
            },
        };

        // Actions.
        let mut create_incident = false;
        let mut wants_notify = false;
        let action_node = m.get("action").or_else(|| m.get("actions"));
        match action_node {
            None => create_incident = true,
            Some(node) => {
                for a in scalars(node) {
                    match a {
                        Ok(s) => match s.as_str() {
                            "create_incident" => create_incident = true,
                            "notify" => wants_notify = true,
                            other => {
                                let msg = format!(
                                    "unknown action '{other}' (expected create_incident, notify)"
                                );
                                self.problem(file, s.span(), subject, msg);
                            }
                        },
                        Err(span) => self.problem(
                            file,
                            &span,
                            subject,
                            "'action' must be a name or a list of names",
                        ),
                    }
                }
            }
        }
        let mut notify = Vec::new();
        if let Some(node) = m.get("notify") {
            for n in scalars(node) {
                match n {
                    Ok(s) if !s.as_str().trim().is_empty() => {
                        notify.push(s.as_str().trim().to_string())
                    }
                    Ok(s) => self.problem(file, s.span(), subject, "empty notify recipient"),
                    Err(span) => self.problem(
                        file,
                        &span,
                        subject,
                        "'notify' must be a list of recipients",
                    ),
                }
            }
        }
        // `action: notify` without a list still raises the alert (consoles,
        // desktop); there is just nobody to deliver it to.
        let alert = wants_notify || !notify.is_empty();

        // Grouping: explicit, or per source address when the event has one.
        let group_by = match (m.get_scalar("group_by"), &resolved) {
            (Some(g), Some((event, ..))) => {
                let g_s = g.as_str().trim();
                if g_s == "global" {
                    GroupBy::Global
                } else if self.events[*event].captures(g_s) || g_s == super::logline::HOST_KEY {
                    GroupBy::Capture(g_s.to_string())
                } else {
                    let msg = format!(
                        "group_by '{g_s}' is not a named capture of event '{}' (or use 'global')",
                        self.events[*event].name
                    );
                    self.problem(file, g.span(), subject, msg);
                    GroupBy::Global
                }
            }
            (None, Some((event, ..))) if self.events[*event].captures("src") => {
                GroupBy::Capture("src".into())
            }
            _ => GroupBy::Global,
        };
        if let Some((event, _, counted, node)) = &resolved {
            self.check_counted(file, node.span(), subject, *event, counted, &group_by);
        }

        let mut ignore = Allowlist::default();
        self.read_allowlist(file, m, subject, &mut ignore);

        let incident = match m.get_scalar("incident") {
            None => IncidentGrouping::PerKey,
            Some(s) => IncidentGrouping::parse(s.as_str()).unwrap_or_else(|| {
                let msg = format!(
                    "unknown incident grouping '{}' (expected {})",
                    s.as_str(),
                    IncidentGrouping::NAMES
                );
                self.problem(file, s.span(), subject, msg);
                IncidentGrouping::PerKey
            }),
        };

        let enabled = m
            .get_scalar("enabled")
            .and_then(|e| e.as_bool())
            .unwrap_or(true);
        if self.problems.len() > before || !enabled {
            return;
        }
        let Some((event, threshold, counted, _)) = resolved else {
            return;
        };
        if let (Some(t), Some(c)) = (threshold, cond_node)
            && let Some(why) = never_fires(&t)
        {
            let msg = format!("condition cannot fire as written: {why}");
            self.warnings.push(Problem {
                at: position(file, c.span()),
                subject: Some(name.clone()),
                message: msg,
            });
        }
        self.push_rule(Rule {
            name,
            description: text("description"),
            why: text("why"),
            condition: cond_node
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            matcher: Matcher::Event(event),
            threshold,
            counted,
            group_by,
            severity,
            create_incident,
            notify,
            alert,
            ignore,
            incident,
            at: position(file, m.span()),
        });
    }

    /// A `distinct(FIELD)` must be a capture of the counted event; both
    /// events of a sequence must capture the key it groups by, or the
    /// second would never meet the first.
    fn check_counted(
        &mut self,
        file: &Path,
        span: &Span,
        subject: Option<&str>,
        event: usize,
        counted: &Counted<usize>,
        group_by: &GroupBy,
    ) {
        match counted {
            Counted::Events => {}
            Counted::Distinct(field) => {
                if !self.events[event].captures(field) {
                    let msg = format!(
                        "distinct({field}): '{field}' is not a named capture of event '{}'",
                        self.events[event].name
                    );
                    self.problem(file, span, subject, msg);
                }
            }
            Counted::Then { event: next, .. } => {
                if let GroupBy::Capture(key) = group_by
                    && key != super::logline::HOST_KEY
                    && !self.events[*next].captures(key)
                {
                    let msg = format!(
                        "event '{}' after 'then' does not capture '{key}', the key this rule groups by, so it could never follow '{}' for the same key",
                        self.events[*next].name, self.events[event].name
                    );
                    self.problem(file, span, subject, msg);
                }
            }
        }
    }

    /// Reads `ignore` (addresses, ranges, exact keys) and `ignore_lines`
    /// (regexes) of a mapping into `into`; every bad entry is a problem
    /// at its own place.
    fn read_allowlist(
        &mut self,
        file: &Path,
        m: &MarkedMappingNode,
        subject: Option<&str>,
        into: &mut Allowlist,
    ) {
        if let Some(node) = m.get("ignore") {
            for e in scalars(node) {
                match e {
                    Ok(s) => match IgnoreEntry::parse(s.as_str()) {
                        Ok(entry) => into.add(entry),
                        Err(msg) => self.problem(file, s.span(), subject, msg),
                    },
                    Err(span) => self.problem(
                        file,
                        &span,
                        subject,
                        "'ignore' must be a list of addresses, ranges (CIDR) or keys",
                    ),
                }
            }
        }
        if let Some(node) = m.get("ignore_lines") {
            for e in scalars(node) {
                match e {
                    Ok(s) => match Regex::new(s.as_str()) {
                        Ok(r) => into.add_line(r),
                        Err(e) => {
                            let msg = format!("bad regex: {}", regex_reason(&e.to_string()));
                            self.problem(file, s.span(), subject, msg);
                        }
                    },
                    Err(span) => self.problem(
                        file,
                        &span,
                        subject,
                        "'ignore_lines' must be a regex or a list of regexes",
                    ),
                }
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
