//! The evidence screen: how keys, dialogs and the worker's answers change it.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::*;
use crate::domain::IncidentId;
use crate::domain::evidence::EvidenceKind;
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::effect::effect;
use crate::tui::kit::cursor::move_cursor;
use crate::tui::kit::fields::state::{Field, FieldsDialog};
use crate::tui::records::{EvidenceSpec, RecordsEffect, expand_home};
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::Nav;

/// Opens the evidence screen over the open incident; its opening is
/// recorded as an access.
pub fn open(id: IncidentId, fx: &mut Vec<Effect>) -> EvidenceState {
    let state = EvidenceState::new(id.clone());
    fx.push(effect(RecordsEffect::LoadEvidence { id, access: true }));
    state
}

impl Screen for EvidenceState {
    type Feed = ();

    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome {
        command(self, cmd, ctx)
    }

    fn view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Evidence
    }

    /// Reloads the list if another process wrote.
    fn tick(&mut self, _ctx: &Ctx) -> Outcome {
        let mut out = Outcome::stay();
        out.push(effect(RecordsEffect::Poll {
            evidence: Some(self.id.clone()),
            review: None,
            metrics: false,
            messages: None,
        }));
        out
    }
}

impl EvidenceState {
    /// The worker loaded the incident's evidence, custody and hold.
    pub fn loaded(
        &mut self,
        items: Vec<crate::domain::evidence::EvidenceItem>,
        custody: Vec<crate::domain::evidence::CustodyEvent>,
        hold: Option<crate::store::LegalHold>,
    ) {
        self.cursor = crate::tui::kit::cursor::clamp(self.cursor, items.len());
        self.error = None;
        self.data = Some(EvidenceData::new(items, custody, hold));
    }
}

fn command(state: &mut EvidenceState, cmd: Command, ctx: &Ctx) -> Outcome {
    let id = state.id.clone();
    let len = state.data.as_ref().map_or(0, |d| d.items.len());
    match cmd {
        Command::Back => return Outcome::go(Nav::Back),
        Command::NextPane | Command::PrevPane => {
            state.pane = match state.pane {
                EvidencePane::Items => EvidencePane::Custody,
                EvidencePane::Custody => EvidencePane::Items,
            };
        }
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => match state.pane {
            EvidencePane::Items => {
                let before = state.cursor;
                state.cursor = move_cursor(state.cursor, len, cmd);
                if state.cursor != before {
                    // Another item: its custody from the newest event.
                    state.custody_cursor = None;
                }
            }
            EvidencePane::Custody => {
                let n = state.custody_len();
                let at = move_cursor(state.custody_position(), n, cmd);
                // At the newest event the list follows new ones again.
                state.custody_cursor = (at + 1 < n).then_some(at);
            }
        },
        Command::AddEvidence => {
            let mut d = FieldsDialog::new(
                EvidenceAsk::AddEvidence,
                id.clone(),
                &format!("Add evidence to {id}"),
                vec![
                    Field::choice("Kind", &["note", "excerpt", "file"], 0),
                    Field::text("Note", "", ""),
                    Field::text("Source path", "", ""),
                    Field::text("Description", "", "optional"),
                ],
            )
            .with_draft(format!("evidence:{id}:add"), ctx.drafts);
            relabel_add(&mut d);
            d.focus = 1;
            return Outcome::dialog(d);
        }
        Command::VerifyEvidence => {
            if len == 0 {
                return Outcome::said("no evidence to verify yet (a adds some)", true);
            }
            let mut out = Outcome::said(format!("verifying {len} item(s)…"), false);
            out.push(effect(RecordsEffect::VerifyEvidence { id }));
            return out;
        }
        Command::TransferEvidence => {
            let Some(item) = state.selected() else {
                return Outcome::said("no item selected", true);
            };
            let holder = state
                .data
                .as_ref()
                .and_then(|d| d.holder(item.id))
                .unwrap_or(crate::store::STORE_CUSTODIAN)
                .to_string();
            let d = FieldsDialog::new(
                EvidenceAsk::Transfer { item: item.id },
                id.clone(),
                &format!("Transfer evidence #{} of {id}", item.id),
                vec![
                    Field::text("To", "", "who receives it"),
                    Field::text("Purpose", "", "why"),
                ],
            )
            .with_note(vec![format!(
                "Held now by {}. The hand-over is a custody event.",
                crate::text::display_safe(&holder)
            )]);
            return Outcome::dialog(d);
        }
        Command::LegalHold => {
            let Some(data) = state.data.as_ref() else {
                return Outcome::stay();
            };
            let d = match &data.hold {
                Some(h) => FieldsDialog::new(
                    EvidenceAsk::ReleaseHold,
                    id.clone(),
                    &format!("Lift the legal hold on {id}"),
                    vec![Field::text("Reason", "", "why it is lifted (required)")],
                )
                .with_note(vec![format!(
                    "Held since {} by {}: {}",
                    h.set_at.format("%Y-%m-%d %H:%M UTC"),
                    crate::text::display_safe(&h.set_by),
                    crate::text::display_safe(&h.reason)
                )]),
                None => FieldsDialog::new(
                    EvidenceAsk::SetHold,
                    id.clone(),
                    &format!("Place {id} under legal hold"),
                    vec![Field::text("Reason", "", "e.g. litigation (required)")],
                )
                .with_note(vec![
                    "While held, drills are not purged and every export records the hold.".into(),
                ]),
            };
            return Outcome::dialog(d);
        }
        Command::ExportEvidence => {
            if len == 0 {
                return Outcome::said("no evidence to export yet", true);
            }
            let mut note = vec![
                "A new directory (or FILE.tar): items/, custody.log, manifest.json,".into(),
                "SHA256SUMS; check it with sha256sum -c SHA256SUMS.".into(),
            ];
            if state.data.as_ref().is_some_and(|d| d.hold.is_some()) {
                note.push("Under LEGAL HOLD: the bundle records the hold.".into());
            }
            let d = FieldsDialog::new(
                EvidenceAsk::Export,
                id.clone(),
                &format!("Export the evidence of {id}"),
                vec![Field::text("To", &format!("{id}-evidence"), "a directory")],
            )
            .with_note(note);
            return Outcome::dialog(d);
        }
        _ => {}
    }
    Outcome::stay()
}

/// Validates an evidence dialog and asks the worker to write.
pub fn submit(ask: &EvidenceAsk, d: &FieldsDialog) -> Result<Outcome, String> {
    let mut out = Outcome::stay();
    let id = d.id.clone();
    let required = |i: usize, what: &str| -> Result<String, String> {
        let t = d.text(i).trim();
        if t.is_empty() {
            Err(format!("{what} is required"))
        } else {
            Ok(t.to_string())
        }
    };
    match ask {
        EvidenceAsk::AddEvidence => {
            let kind = ADD_KINDS
                .get(d.choice(0))
                .copied()
                .unwrap_or(EvidenceKind::Note);
            let content = match kind {
                // Log lines are kept as typed (leading spaces matter).
                EvidenceKind::Excerpt => {
                    if d.text(1).trim().is_empty() {
                        return Err("paste or type the log lines".into());
                    }
                    d.text(1).to_string()
                }
                EvidenceKind::Note => required(1, "the note")?,
                EvidenceKind::File => required(1, "the file's path")?,
            };
            let source_path = (kind == EvidenceKind::Excerpt)
                .then(|| d.text(2).trim().to_string())
                .filter(|s| !s.is_empty());
            out.push(effect(RecordsEffect::AddEvidence {
                id,
                spec: EvidenceSpec {
                    kind,
                    content,
                    source_path,
                    description: d.text(3).trim().to_string(),
                },
                draft: d.draft_key.clone(),
            }));
            out.say(
                match kind {
                    EvidenceKind::File => "copying and hashing the file…",
                    _ => "storing the evidence…",
                },
                false,
            );
        }
        EvidenceAsk::Transfer { item } => {
            let to = required(0, "who receives it")?;
            let purpose = required(1, "the purpose")?;
            out.push(effect(RecordsEffect::TransferEvidence {
                id,
                item: *item,
                to,
                purpose,
            }));
        }
        EvidenceAsk::SetHold => {
            let reason = required(0, "a reason")?;
            out.push(effect(RecordsEffect::SetHold { id, reason }));
        }
        EvidenceAsk::ReleaseHold => {
            let reason = required(0, "a reason")?;
            out.push(effect(RecordsEffect::ReleaseHold { id, reason }));
        }
        EvidenceAsk::Export => {
            let to = required(0, "a directory or .tar file")?;
            out.push(effect(RecordsEffect::ExportEvidence {
                id,
                out: expand_home(&to),
            }));
            out.say("exporting…", false);
        }
    }
    Ok(out)
}
