//! One rule object of a warroom rule file: its name, condition, severity,
//! actions, grouping, allowlists and campaign options, each checked where
//! it is written.

use std::path::Path;

use marked_yaml::Span;
use marked_yaml::types::MarkedMappingNode;
use regex::Regex;

use super::condition::never_fires;
use super::options::{parse_digest, parse_evidence_lines};
use super::{
    Allowlist, Condition, Counted, GroupBy, IgnoreEntry, Matcher, Problem, Rule, RuleSet,
    parse_condition, position, regex_reason, scalars,
};
use crate::domain::Severity;
use crate::domain::campaign::IncidentGrouping;

impl RuleSet {
    /// Reads one rule object; `evidence_lines` is its file's default.
    pub(super) fn add_rule(&mut self, file: &Path, m: &MarkedMappingNode, evidence_lines: usize) {
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
                    | "evidence_lines"
                    | "digest"
            ) {
                let msg = format!(
                    "unknown key '{}' (expected rule, condition, action, severity, notify, group_by, description, why, ignore, ignore_lines, incident, evidence_lines, digest)",
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
                } else if self.events[*event].captures(g_s)
                    || g_s == super::super::logline::HOST_KEY
                {
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

        let evidence_lines = match m.get_scalar("evidence_lines") {
            None => evidence_lines,
            Some(s) => parse_evidence_lines(s.as_str()).unwrap_or_else(|e| {
                self.problem(file, s.span(), subject, e);
                evidence_lines
            }),
        };
        let digest = m.get_scalar("digest").and_then(|s| {
            let d = parse_digest(s.as_str())
                .map_err(|e| self.problem(file, s.span(), subject, e))
                .ok()?;
            // A digest lists keys joining a campaign incident; anything
            // else would never send one, which must not pass unnoticed.
            if !(create_incident && incident.is_campaign()) {
                self.problem(
                    file,
                    s.span(),
                    subject,
                    "digest lists the new keys joining a campaign incident: it needs the create_incident action and incident: per_rule or per_host",
                );
                return None;
            }
            Some(d)
        });

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
            evidence_lines,
            digest,
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
                    && key != super::super::logline::HOST_KEY
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
    pub(super) fn read_allowlist(
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
