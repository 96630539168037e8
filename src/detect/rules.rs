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
//! Conditions: `EVENT > N in DURATION`, `EVENT >= N in DURATION`, or a bare
//! `EVENT` (every occurrence). `group_by` counts per capture (`src`, `user`,
//! any named capture) or `global`; without it a rule counts per `src` when
//! its event captures one, else globally.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{Node, Span};
use regex::Regex;

use super::patterns::{PatternSets, plan};
use super::rule_file::read_rule_file;
use super::sigma::{self, SigmaDetection};
use super::yaml::YamlFailure;
use crate::domain::Severity;
use crate::domain::campaign::IncidentGrouping;

pub use super::patterns::EventDef;
pub use super::problem::{Position, Problem};

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
    pub group_by: GroupBy,
    pub severity: Severity,
    pub create_incident: bool,
    /// Whom a detection is delivered to (through the alert sinks).
    pub notify: Vec<String>,
    /// A detection raises an alert (shown in consoles and on the desktop):
    /// the `notify` action, or a `notify` list. With an empty list the
    /// alert is raised but delivered to nobody.
    pub alert: bool,
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

    fn add_events(&mut self, file: &Path, map: &MarkedMappingNode) {
        let Some(events) = map.get("events") else {
            return;
        };
        let Some(events) = events.as_mapping() else {
            self.problem(
                file,
                events.span(),
                None,
                "'events' must be a mapping of event names to definitions",
            );
            return;
        };
        for (name, def) in events.iter() {
            let name_s = name.as_str().to_string();
            if let Some(&prev) = self.event_names.get(&name_s) {
                let msg = format!(
                    "event '{name_s}' is already defined at {}",
                    self.events[prev].at
                );
                self.problem(file, name.span(), Some(&name_s), msg);
                continue;
            }
            if !is_identifier(&name_s) {
                self.problem(
                    file,
                    name.span(),
                    Some(&name_s),
                    "event names must be letters, digits and '_'",
                );
                continue;
            }
            let (description, patterns_node) = match def {
                Node::Mapping(m) => {
                    for (k, _) in m.iter() {
                        if !matches!(k.as_str(), "description" | "match" | "patterns") {
                            let msg = format!(
                                "unknown key '{}' (expected description, match)",
                                k.as_str()
                            );
                            self.problem(file, k.span(), Some(&name_s), msg);
                        }
                    }
                    let desc = m
                        .get_scalar("description")
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    (desc, m.get("match").or_else(|| m.get("patterns")))
                }
                // A bare regex or list of regexes is fine too.
                other => (String::new(), Some(other)),
            };
            let Some(patterns_node) = patterns_node else {
                self.problem(
                    file,
                    def.span(),
                    Some(&name_s),
                    "event needs 'match': one regex or a list of them",
                );
                continue;
            };
            let mut patterns = Vec::new();
            let mut ok = true;
            for p in scalars(patterns_node) {
                match p {
                    Ok(s) => match Regex::new(s.as_str()) {
                        Ok(r) => patterns.push(r),
                        Err(e) => {
                            ok = false;
                            let msg = format!("bad regex: {}", regex_reason(&e.to_string()));
                            self.problem(file, s.span(), Some(&name_s), msg);
                        }
                    },
                    Err(span) => {
                        ok = false;
                        self.problem(
                            file,
                            &span,
                            Some(&name_s),
                            "'match' must be a regex or a list of regexes",
                        );
                    }
                }
            }
            if ok && patterns.is_empty() {
                self.problem(
                    file,
                    patterns_node.span(),
                    Some(&name_s),
                    "'match' has no regexes",
                );
                continue;
            }
            if ok {
                self.event_names.insert(name_s.clone(), self.events.len());
                self.events.push(EventDef {
                    name: name_s,
                    description,
                    patterns,
                    at: position(file, name.span()),
                });
            }
        }
    }

    fn add_rules(&mut self, file: &Path, map: &MarkedMappingNode) {
        // A file may be one bare rule object, like the seed's.
        if map.get("rule").is_some() {
            self.add_rule(file, map);
            return;
        }
        for (k, _) in map.iter() {
            if !matches!(k.as_str(), "events" | "rules" | "title" | "description") {
                let msg = format!(
                    "unknown top-level key '{}' (expected events, rules)",
                    k.as_str()
                );
                self.problem(file, k.span(), None, msg);
            }
        }
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
                    | "incident"
            ) {
                let msg = format!(
                    "unknown key '{}' (expected rule, condition, action, severity, notify, group_by, description, why, incident)",
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
        let resolved = parsed.and_then(|((event, threshold), node)| {
            match self.event_names.get(&event) {
                Some(&i) => Some((i, threshold)),
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
            (Some(g), Some((event, _))) => {
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
            (None, Some((event, _))) if self.events[*event].captures("src") => {
                GroupBy::Capture("src".into())
            }
            _ => GroupBy::Global,
        };

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
        let Some((event, threshold)) = resolved else {
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
            group_by,
            severity,
            create_incident,
            notify,
            alert,
            incident,
            at: position(file, m.span()),
        });
    }

    fn add_sigma(&mut self, file: &Path, m: &MarkedMappingNode) {
        let title = m
            .get_scalar("title")
            .map(|s| s.as_str().trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let subject = Some(title.as_str());
        let before = self.problems.len();
        let Some(detection) = m.get_mapping("detection") else {
            let span = m
                .get("detection")
                .map(|d| *d.span())
                .unwrap_or_else(|| *m.span());
            self.problem(file, &span, subject, "Sigma 'detection' must be a mapping");
            return;
        };
        let mut names = Vec::new();
        let mut selections = Vec::new();
        let mut condition = None;
        for (key, value) in detection.iter() {
            let k = key.as_str();
            if k == "condition" {
                condition = Some(value);
                continue;
            }
            if k == "timeframe" {
                self.problem(file, key.span(), subject, "unsupported Sigma construct 'timeframe' (aggregations are outside warroom's Sigma subset)");
                continue;
            }
            let (keywords, all) = match sigma_keywords(value) {
                Ok(kw) => kw,
                Err((span, msg)) => {
                    self.problem(file, &span, subject, format!("selection '{k}': {msg}"));
                    continue;
                }
            };
            match sigma::Selection::new(k, &keywords, all) {
                Ok(s) => {
                    names.push(k.to_string());
                    selections.push(s);
                }
                Err(e) => self.problem(file, value.span(), subject, e),
            }
        }
        let parsed = match condition {
            None => {
                self.problem(
                    file,
                    detection.span(),
                    subject,
                    "Sigma detection has no 'condition'",
                );
                None
            }
            Some(Node::Scalar(c)) => match sigma::parse_condition(c.as_str(), &names) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.problem(
                        file,
                        c.span(),
                        subject,
                        format!("unsupported or invalid Sigma condition: {e}"),
                    );
                    None
                }
            },
            Some(other) => {
                self.problem(file, other.span(), subject, "unsupported Sigma construct: a list of conditions (write one condition with 'or')");
                None
            }
        };
        let severity = match m
            .get_scalar("level")
            .map(|l| l.as_str().to_ascii_lowercase())
        {
            Some(l) => match l.as_str() {
                "critical" => Severity::P1,
                "high" => Severity::P2,
                "medium" => Severity::P3,
                "low" | "informational" => Severity::P4,
                other => {
                    let span = m
                        .get("level")
                        .map(|n| *n.span())
                        .unwrap_or_else(|| *m.span());
                    self.problem(
                        file,
                        &span,
                        subject,
                        format!("unknown Sigma level '{other}'"),
                    );
                    Severity::P3
                }
            },
            None => Severity::P3,
        };
        if self.problems.len() > before {
            return;
        }
        let Some(condition_tree) = parsed else { return };
        if let Some(&prev) = self.rule_names.get(&title) {
            let msg = format!(
                "a rule with this name is already loaded from {}",
                self.rules[prev].at
            );
            self.problem(file, m.span(), subject, msg);
            return;
        }
        self.push_rule(Rule {
            name: title,
            description: m
                .get_scalar("description")
                .map(|s| s.as_str().trim().to_string())
                .unwrap_or_default(),
            why: "Sigma rule: every matching line is a detection".into(),
            condition: condition
                .and_then(|c| c.as_scalar())
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            matcher: Matcher::Sigma(SigmaDetection {
                selections,
                condition: condition_tree,
            }),
            threshold: None,
            group_by: GroupBy::Global,
            severity,
            create_incident: true,
            notify: Vec::new(),
            alert: false,
            incident: IncidentGrouping::PerKey,
            at: position(file, m.span()),
        });
    }
}

/// A Sigma selection's keywords: a list (any), a single string, or a
/// mapping with the single key `'|all'` (every keyword).
fn sigma_keywords(value: &Node) -> Result<(Vec<String>, bool), (Span, String)> {
    match value {
        Node::Scalar(s) => Ok((vec![s.as_str().to_string()], false)),
        Node::Sequence(seq) => {
            let mut out = Vec::new();
            for item in seq.iter() {
                match item {
                    Node::Scalar(s) => out.push(s.as_str().to_string()),
                    other => {
                        return Err((
                            *other.span(),
                            "unsupported Sigma construct: lists of field maps (only keyword lists are supported)".into(),
                        ));
                    }
                }
            }
            Ok((out, false))
        }
        Node::Mapping(m) => {
            let mut entries = m.iter();
            match (entries.next(), entries.next()) {
                (Some((k, v)), None) if k.as_str() == "|all" => match v {
                    Node::Sequence(_) | Node::Scalar(_) => {
                        sigma_keywords(v).map(|(kw, _)| (kw, true))
                    }
                    other => Err((*other.span(), "'|all' needs a list of keywords".into())),
                },
                (Some((k, _)), _) => {
                    let field = k.as_str();
                    let what = if field.starts_with('|') {
                        format!(
                            "unsupported Sigma construct: modifier '{field}' (only '|all' on keyword lists is supported)"
                        )
                    } else {
                        format!(
                            "unsupported Sigma construct: field selection '{field}' (warroom matches keyword lists against the whole line)"
                        )
                    };
                    Err((*k.span(), what))
                }
                (None, _) => Err((*m.span(), "empty selection".into())),
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

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
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

/// Marks the pattern-size warning (replaced when more files are added).
const OVERFLOW_MARK: &str = "exceed the regex size limit";

/// Why a threshold cannot fire as written, if it cannot: the engine keeps
/// times to the millisecond, so a window under one millisecond spans no
/// time at all (only events stamped alike count together); and no count
/// passes `> u64::MAX`.
fn never_fires(t: &Threshold) -> Option<String> {
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

/// Events and rules by name, for lookups.
pub fn rules_by_name(set: &RuleSet) -> HashMap<&str, &Rule> {
    set.rules.iter().map(|r| (r.name.as_str(), r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{"rule": "Multiple failed logins", "condition": "failed_logins > 10 in 5 minutes", "action": "create_incident", "severity": "high", "notify": ["security-team@example.com"]}"#;

    fn load(files: &[(&str, &str)]) -> RuleSet {
        let mut set = RuleSet::default();
        let texts: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(n, t)| (PathBuf::from(n), t.to_string()))
            .collect();
        set.add_texts(&texts);
        set
    }

    const EVENTS: &str = r#"
events:
  failed_logins:
    description: sshd rejected a login
    match:
      - 'Failed (?:password|none) for (?:invalid user )?(?P<user>\S+) from (?P<src>\S+)'
"#;

    #[test]
    fn the_seed_rule_object_loads_verbatim() {
        let set = load(&[("events.yml", EVENTS), ("seed.json", SEED)]);
        assert_eq!(set.problems, vec![], "{:?}", set.problems);
        let r = &set.rules[0];
        assert_eq!(r.name, "Multiple failed logins");
        assert_eq!(
            r.threshold,
            Some(Threshold {
                comparison: Comparison::Greater,
                count: 10,
                window: Duration::from_secs(300)
            })
        );
        assert_eq!(r.severity, Severity::P2);
        assert!(r.create_incident);
        assert_eq!(r.notify, ["security-team@example.com"]);
        assert_eq!(
            r.group_by,
            GroupBy::Capture("src".into()),
            "per source by default"
        );
    }

    #[test]
    fn the_seed_object_inside_a_rules_list_loads_too() {
        let text = format!("{EVENTS}rules:\n  - {SEED}\n");
        let set = load(&[("r.yml", &text)]);
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        assert_eq!(set.rules.len(), 1);
    }

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

    #[test]
    fn errors_carry_file_line_column_and_one_bad_rule_spares_the_others() {
        let text = r#"events:
  failed_logins:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
  broken:
    match: '(unclosed'
rules:
  - rule: good
    condition: failed_logins > 5 in 1 minute
  - rule: bad severity
    condition: failed_logins
    severity: P9
  - rule: bad condition
    condition: failed_logins ~ 5
  - rule: unknown event
    condition: nothing_like_it > 1 in 1m
  - rule: bad group
    condition: failed_logins > 1 in 1m
    group_by: port
"#;
        let set = load(&[("r.yml", text)]);
        assert_eq!(
            set.rules
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["good"]
        );
        let msgs: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
        let expect = [
            "r.yml:5:12: broken: bad regex",
            "r.yml:11:15: bad severity: invalid severity 'P9'",
            "r.yml:13:16: bad condition: cannot read condition",
            "r.yml:15:16: unknown event: condition counts unknown event 'nothing_like_it'",
            "r.yml:18:15: bad group: group_by 'port' is not a named capture",
        ];
        for e in expect {
            assert!(
                msgs.iter().any(|m| m.starts_with(e)),
                "missing {e:?} in {msgs:#?}"
            );
        }
        assert_eq!(msgs.len(), expect.len(), "{msgs:#?}");
    }

    #[test]
    fn yaml_syntax_errors_are_located() {
        let set = load(&[("bad.yml", "rules:\n  - rule: x\n    condition: [unclosed\n")]);
        assert_eq!(set.problems.len(), 1);
        let p = &set.problems[0];
        assert!(p.to_string().starts_with("bad.yml:"), "{p}");
        assert!(p.message.contains("YAML syntax error"), "{p}");
        assert!(p.at.line >= 3, "{p}");
    }

    #[test]
    fn unknown_keys_and_actions_are_refused() {
        let text = format!(
            "{EVENTS}rules:\n  - rule: r\n    condition: failed_logins\n    action: [create_incident, page_everyone]\n    colour: red\n"
        );
        let set = load(&[("r.yml", &text)]);
        let msgs: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains("unknown action 'page_everyone'")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("unknown key 'colour'")),
            "{msgs:?}"
        );
        assert!(set.rules.is_empty());
    }

    #[test]
    fn notify_action_without_recipients_raises_an_alert_for_nobody() {
        let text = format!(
            "{EVENTS}rules:\n  - rule: r\n    condition: failed_logins\n    action: notify\n  - rule: s\n    condition: failed_logins\n    notify: [a@example.com]\n  - rule: t\n    condition: failed_logins\n"
        );
        let set = load(&[("r.yml", &text)]);
        assert_eq!(set.problems, vec![], "{:#?}", set.problems);
        let r = &set.rules[0];
        assert!(r.alert && r.notify.is_empty() && !r.create_incident);
        let s = &set.rules[1];
        assert!(s.alert && s.create_incident);
        assert_eq!(s.notify, ["a@example.com"]);
        let t = &set.rules[2];
        assert!(!t.alert && t.notify.is_empty());
    }

    #[test]
    fn incident_grouping_is_read_and_an_unknown_one_is_refused_where_it_stands() {
        let text = format!(
            "{EVENTS}rules:\n  - rule: r\n    condition: failed_logins\n    incident: per_rule\n  - rule: s\n    condition: failed_logins\n  - rule: t\n    condition: failed_logins\n    incident: campaign\n"
        );
        let set = load(&[("r.yml", &text)]);
        assert_eq!(set.rules.len(), 2);
        assert_eq!(set.rules[0].incident, IncidentGrouping::PerRule);
        assert_eq!(set.rules[1].incident, IncidentGrouping::PerKey);
        let p = &set.problems[0];
        assert!(
            p.message.contains("unknown incident grouping 'campaign'"),
            "{p}"
        );
        assert!(p.at.line > 3, "{p}");
        let shipped = RuleSet::builtin();
        let grouping = |name: &str| {
            shipped
                .rules
                .iter()
                .find(|r| r.name == name)
                .map(|r| r.incident)
        };
        assert_eq!(
            grouping("Multiple failed logins"),
            Some(IncidentGrouping::PerRule)
        );
        assert_eq!(
            grouping("Invalid user probing"),
            Some(IncidentGrouping::PerRule)
        );
        assert_eq!(
            grouping("Root login over SSH"),
            Some(IncidentGrouping::PerKey)
        );
    }

    #[test]
    fn the_shipped_rules_load_cleanly() {
        let set = RuleSet::builtin();
        assert_eq!(set.problems, vec![], "{:#?}", set.problems);
        assert!(set.rules.len() >= 10);
        for r in &set.rules {
            assert!(!r.description.is_empty(), "{} says what it detects", r.name);
            assert!(!r.why.is_empty(), "{} says why its threshold", r.name);
        }
    }

    #[test]
    fn sigma_unsupported_constructs_are_named() {
        let field = "title: t\nlogsource: {product: linux}\ndetection:\n  selection:\n    Image|endswith: '/bash'\n  condition: selection\nlevel: high\n";
        let set = load(&[("f.yml", field)]);
        assert_eq!(set.rules.len(), 0);
        let m = set.problems[0].to_string();
        assert!(m.starts_with("f.yml:5:5: t: selection 'selection': unsupported Sigma construct: field selection 'Image|endswith'"), "{m}");
        let agg =
            "title: t\ndetection:\n  selection: ['x']\n  condition: selection | count() > 5\n";
        let set = load(&[("a.yml", agg)]);
        assert!(
            set.problems[0].to_string().contains("aggregations"),
            "{:?}",
            set.problems
        );
    }
}
