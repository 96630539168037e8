//! The playbook: the six phases and the checklist items every incident starts
//! with, loaded from `assets/playbook.toml` (or a user override).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use toml::Spanned;

use super::SourceError;
use super::incident::Phase;

pub const DEFAULT_PLAYBOOK_TOML: &str = include_str!("../../assets/playbook.toml");

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaybookItem {
    pub id: String,
    pub phase: Phase,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playbook {
    pub items: Vec<PlaybookItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaybook {
    phases: Vec<RawPhase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    phase: Spanned<Phase>,
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    text: String,
}

impl Playbook {
    /// Parses a playbook. Every phase must appear once, in order, each with
    /// at least one item; item ids must be unique and usable on a command line.
    pub fn from_toml(text: &str) -> Result<Playbook, SourceError> {
        let raw: RawPlaybook = toml::from_str(text).map_err(SourceError::from_toml)?;
        let misplaced = raw
            .phases
            .iter()
            .zip(Phase::ALL)
            .find(|(p, want)| p.phase.get_ref() != *want)
            .map(|(p, _)| p.phase.span().start);
        if misplaced.is_some() || raw.phases.len() != Phase::ALL.len() {
            let names: Vec<&str> = Phase::ALL.iter().map(|p| p.as_str()).collect();
            return Err(SourceError::new(
                format!("phases must be exactly, in order: {}", names.join(", ")),
                misplaced,
            ));
        }
        let mut items = Vec::new();
        for phase in raw.phases {
            let phase_name = *phase.phase.get_ref();
            if phase.items.is_empty() {
                return Err(SourceError::new(
                    format!("phase '{phase_name}' has no items"),
                    Some(phase.phase.span().start),
                ));
            }
            for item in phase.items {
                let at = Some(item.id.span().start);
                let item_id = item.id.into_inner();
                let ok_id = !item_id.is_empty()
                    && item_id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
                if !ok_id {
                    return Err(SourceError::new(
                        format!("item id '{item_id}' must be letters, digits, '.', '-' or '_'"),
                        at,
                    ));
                }
                if items.iter().any(|i: &PlaybookItem| i.id == item_id) {
                    return Err(SourceError::new(
                        format!("item id '{item_id}' appears twice"),
                        at,
                    ));
                }
                if item.text.trim().is_empty() {
                    return Err(SourceError::new(
                        format!("item '{item_id}' has no text"),
                        at,
                    ));
                }
                items.push(PlaybookItem {
                    id: item_id,
                    phase: phase_name,
                    text: item.text,
                });
            }
        }
        Ok(Playbook { items })
    }

    pub fn builtin() -> Playbook {
        // Checked by a unit test, so this cannot fail for the shipped asset.
        Playbook::from_toml(DEFAULT_PLAYBOOK_TOML).unwrap_or(Playbook { items: Vec::new() })
    }
}

/// Where a checklist item stands on one incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Open,
    Done,
    NotApplicable,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Done => "done",
            ItemState::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(s: &str) -> Option<ItemState> {
        match s {
            "open" => Some(ItemState::Open),
            "done" => Some(ItemState::Done),
            "not_applicable" => Some(ItemState::NotApplicable),
            _ => None,
        }
    }
}

/// A checklist item as it stands on an incident, with who changed it last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub id: String,
    pub phase: Phase,
    pub text: String,
    pub state: ItemState,
    /// Reason given when marked not applicable.
    pub reason: Option<String>,
    pub by: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_playbook_has_the_seed_items_in_six_phases() {
        let p = Playbook::from_toml(DEFAULT_PLAYBOOK_TOML).expect("assets/playbook.toml parses");
        assert_eq!(p.items.len(), 18);
        for phase in Phase::ALL {
            assert_eq!(
                p.items.iter().filter(|i| i.phase == *phase).count(),
                3,
                "{phase}"
            );
        }
        let texts: Vec<&str> = p.items.iter().map(|i| i.text.as_str()).collect();
        for needle in [
            "SIEM",
            "Severity",
            "isolated",
            "Threat removed",
            "Services restored",
            "Root cause",
        ] {
            assert!(texts.iter().any(|t| t.contains(needle)), "{needle}");
        }
        assert_eq!(p.items[0].id, "detect.siem");
    }

    #[test]
    fn bad_playbooks_are_refused_with_reasons() {
        let out_of_order =
            DEFAULT_PLAYBOOK_TOML.replacen("phase = \"detection\"", "phase = \"review\"", 1);
        assert!(
            Playbook::from_toml(&out_of_order)
                .unwrap_err()
                .message
                .contains("in order")
        );
        let dup = DEFAULT_PLAYBOOK_TOML.replace("detect.alerts", "detect.siem");
        assert!(
            Playbook::from_toml(&dup)
                .unwrap_err()
                .message
                .contains("twice")
        );
        let bad_id = DEFAULT_PLAYBOOK_TOML.replace("detect.alerts", "detect alerts");
        assert!(
            Playbook::from_toml(&bad_id)
                .unwrap_err()
                .message
                .contains("detect alerts")
        );
        let syntax = Playbook::from_toml("[[phases]\n").unwrap_err();
        assert_eq!(
            syntax.line_col("[[phases]\n").map(|p| p.0),
            Some(1),
            "{syntax}"
        );
        let unknown = DEFAULT_PLAYBOOK_TOML.replace("phase = \"triage\"", "phase = \"panic\"");
        assert!(
            Playbook::from_toml(&unknown)
                .unwrap_err()
                .message
                .contains("panic")
        );
    }
}
