//! The `events` of a warroom rule file: named regexes, checked and
//! compiled, shared by every file loaded with them.

use std::path::Path;

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;
use regex::Regex;

use super::{EventDef, RuleSet, is_identifier, position, regex_reason, scalars};

impl RuleSet {
    pub(super) fn add_events(&mut self, file: &Path, map: &MarkedMappingNode) {
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
}
