//! The evidence screen: its state and pure helpers; nothing here imports the app.

use std::collections::HashMap;

use crate::domain::IncidentId;
use crate::domain::evidence::{CustodyEvent, EvidenceItem, EvidenceKind};
use crate::store::LegalHold;
use crate::tui::kit::fields::state::{FieldsDialog, Purpose};

/// The kinds offered when adding, in the dialog's order.
pub const ADD_KINDS: [EvidenceKind; 3] = [
    EvidenceKind::Note,
    EvidenceKind::Excerpt,
    EvidenceKind::File,
];

/// The evidence of one incident as loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceData {
    pub items: Vec<EvidenceItem>,
    /// Oldest first.
    pub custody: Vec<CustodyEvent>,
    pub hold: Option<LegalHold>,
    /// Each item's latest check, as a position in `custody` (found once per
    /// load, not per item per frame).
    pub(crate) last_checks: HashMap<i64, usize>,
}

impl EvidenceData {
    pub fn new(
        items: Vec<EvidenceItem>,
        custody: Vec<CustodyEvent>,
        hold: Option<LegalHold>,
    ) -> EvidenceData {
        let last_checks = custody
            .iter()
            .enumerate()
            .filter(|(_, c)| c.action == "verified")
            .map(|(i, c)| (c.item, i))
            .collect();
        EvidenceData {
            items,
            custody,
            hold,
            last_checks,
        }
    }

    /// The item's latest integrity check, if it was ever checked.
    pub fn last_check(&self, item: i64) -> Option<&CustodyEvent> {
        self.last_checks
            .get(&item)
            .and_then(|i| self.custody.get(*i))
    }

    /// The item's custody events, oldest first.
    pub fn custody_of(&self, item: i64) -> impl Iterator<Item = &CustodyEvent> {
        self.custody.iter().filter(move |c| c.item == item)
    }

    /// Who holds the item now: the receiver of its last collection or
    /// transfer.
    pub fn holder(&self, item: i64) -> Option<&str> {
        self.custody
            .iter()
            .rev()
            .find(|c| c.item == item && matches!(c.action.as_str(), "collected" | "transferred"))
            .map(|c| c.to.as_str())
    }
}

/// Which list of the evidence screen the movement keys move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvidencePane {
    #[default]
    Items,
    /// The chain of custody of the selected item.
    Custody,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceState {
    pub id: IncidentId,
    pub data: Option<EvidenceData>,
    /// Position in `data.items`.
    pub cursor: usize,
    pub pane: EvidencePane,
    /// Position in the selected item's custody events; `None` follows the
    /// newest (an event recorded meanwhile is shown).
    pub custody_cursor: Option<usize>,
    /// The list could not be shown.
    pub error: Option<String>,
}

impl EvidenceState {
    pub fn new(id: IncidentId) -> EvidenceState {
        EvidenceState {
            id,
            data: None,
            cursor: 0,
            pane: EvidencePane::Items,
            custody_cursor: None,
            error: None,
        }
    }

    pub fn selected(&self) -> Option<&EvidenceItem> {
        self.data.as_ref().and_then(|d| d.items.get(self.cursor))
    }

    /// How many custody events the selected item has.
    pub fn custody_len(&self) -> usize {
        match (self.data.as_ref(), self.selected()) {
            (Some(d), Some(i)) => d.custody_of(i.id).count(),
            _ => 0,
        }
    }

    /// The custody event the cursor is on (the newest when following).
    pub fn custody_position(&self) -> usize {
        let last = self.custody_len().saturating_sub(1);
        self.custody_cursor.map_or(last, |c| c.min(last))
    }
}

/// What an evidence dialog is for (its fields, in order).
#[derive(Debug, Clone, PartialEq)]
pub enum EvidenceAsk {
    /// Kind, content, source path, description.
    AddEvidence,
    /// To, purpose.
    Transfer { item: i64 },
    /// Reason.
    SetHold,
    /// Reason.
    ReleaseHold,
    /// Directory (or FILE.tar).
    Export,
}

impl Purpose for EvidenceAsk {
    fn verb(&self) -> &'static str {
        match self {
            EvidenceAsk::AddEvidence => "add",
            EvidenceAsk::Transfer { .. } => "transfer",
            EvidenceAsk::SetHold => "set the hold",
            EvidenceAsk::ReleaseHold => "lift the hold",
            EvidenceAsk::Export => "export",
        }
    }

    fn after_choice(&self, d: &mut FieldsDialog) {
        if *self == EvidenceAsk::AddEvidence {
            relabel_add(d);
        }
    }
}

/// Labels the add dialog's fields for the chosen kind.
pub fn relabel_add(d: &mut FieldsDialog) {
    let kind = ADD_KINDS
        .get(d.choice(0))
        .copied()
        .unwrap_or(crate::domain::evidence::EvidenceKind::Note);
    if let Some(f) = d.fields.get_mut(1) {
        let (label, hint) = match kind {
            crate::domain::evidence::EvidenceKind::Note => ("Note", "what was observed"),
            crate::domain::evidence::EvidenceKind::Excerpt => {
                ("Log lines", "paste them (newlines are kept)")
            }
            crate::domain::evidence::EvidenceKind::File => {
                ("File path", "copied into the evidence store")
            }
        };
        f.label = label.into();
        f.hint = hint.into();
        f.multiline = kind == crate::domain::evidence::EvidenceKind::Excerpt;
    }
    if let Some(f) = d.fields.get_mut(2) {
        f.hint = match kind {
            crate::domain::evidence::EvidenceKind::Excerpt => {
                "the log file they came from (optional)"
            }
            crate::domain::evidence::EvidenceKind::Note
            | crate::domain::evidence::EvidenceKind::File => "(excerpts only)",
        }
        .into();
    }
}
