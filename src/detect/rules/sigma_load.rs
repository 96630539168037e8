//! Loading a Sigma rule (the keyword subset) into a [`RuleSet`].

use std::path::Path;

use marked_yaml::types::MarkedMappingNode;
use marked_yaml::{Node, Span};

use super::super::sigma::{self, SigmaDetection};
use super::{GroupBy, Matcher, Rule, RuleSet, position};
use crate::domain::Severity;
use crate::domain::campaign::IncidentGrouping;

impl RuleSet {
    pub(super) fn add_sigma(&mut self, file: &Path, m: &MarkedMappingNode) {
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
            counted: super::Counted::Events,
            group_by: GroupBy::Global,
            severity,
            create_incident: true,
            notify: Vec::new(),
            alert: false,
            incident: IncidentGrouping::PerKey,
            ignore: super::Allowlist::default(),
            evidence_lines: crate::domain::campaign::DEFAULT_EVIDENCE_LINES,
            digest: None,
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
