//! Keys in the new-incident form: fields, choices, typing, and declaring.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::{FormField, NEW_INCIDENT_DRAFT, NewIncidentForm};
use crate::domain::incident::validate_title;
use crate::domain::{Severity, Source};
use crate::store::NewIncident;
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::cursor::step_in;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::{Nav, Target};

impl Screen for NewIncidentForm {
    type Feed = ();

    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome {
        form_command(self, cmd, ctx)
    }

    /// Drawn in the dialog layer ([`Screen::dialog_view`]); the screen
    /// under it fills the body.
    fn view(&self, _ctx: &Ctx, _frame: &mut Frame, _area: Rect) {}

    fn dialog_view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Form
    }

    /// The form, continuing a saved draft when there is one.
    fn open(target: &Target, ctx: &Ctx) -> Option<(Self, Outcome)> {
        if *target != Target::NewIncident {
            return None;
        }
        let form = match ctx.drafts.get(NEW_INCIDENT_DRAFT) {
            Some(body) => {
                let mut f = NewIncidentForm::from_draft(body);
                f.restored = Some("continuing your saved draft".into());
                f
            }
            None => NewIncidentForm::default(),
        };
        Some((form, Outcome::stay()))
    }

    fn input(&mut self, key: KeyEvent, _ctx: &Ctx) -> Outcome {
        if let KeyCode::Char(c) = key.code
            && pick_by_key(self, c)
        {
            return Outcome::stay();
        }
        if let Some(input) = self.focused_input()
            && input.handle_key(key)
        {
            self.text_changed();
        }
        Outcome::stay()
    }

    fn paste(&mut self, text: &str, _ctx: &Ctx) -> Outcome {
        // One-line fields: newlines become spaces; display_safe shows the rest.
        let text = text.replace(['\r', '\n'], " ");
        if let Some(input) = self.focused_input() {
            input.insert_str(&text);
            self.text_changed();
        }
        Outcome::stay()
    }

    fn autosave(&mut self, _ctx: &Ctx) -> Outcome {
        let mut out = Outcome::stay();
        if let Some(e) = autosave(self) {
            out.push(e);
        }
        out
    }

    fn unsaved(&self) -> bool {
        !self.is_blank()
    }

    fn floats(&self) -> bool {
        true
    }
}

/// The draft save (or delete) of the form, if it changed since the last.
fn autosave(f: &mut NewIncidentForm) -> Option<Effect> {
    if !f.dirty {
        return None;
    }
    f.dirty = false;
    let key = NEW_INCIDENT_DRAFT.to_string();
    Some(if f.is_blank() {
        Effect::DeleteDraft { key }
    } else {
        Effect::SaveDraft {
            key,
            body: f.to_draft(),
        }
    })
}

/// On a choice field, a typed digit or initial picks the choice.
pub fn pick_by_key(f: &mut NewIncidentForm, c: char) -> bool {
    match f.focus {
        FormField::Severity => {
            if let Ok(s) = c.to_string().parse::<Severity>() {
                f.severity = Some(s);
                f.errors.retain(|(field, _)| *field != FormField::Severity);
                f.dirty = true;
            }
            true
        }
        FormField::Source => {
            let c = c.to_ascii_lowercase();
            if let Some(s) = Source::ALL.iter().find(|s| s.as_str().starts_with(c)) {
                f.source = *s;
                f.dirty = true;
            }
            true
        }
        FormField::Title | FormField::Summary | FormField::Detected => false,
    }
}

/// Inline validation; returns the new incident or the errors by field.
/// The detection time is checked against `now` (never in the future).
pub fn validate_form(
    form: &NewIncidentForm,
    now: DateTime<Utc>,
) -> Result<NewIncident, Vec<(FormField, String)>> {
    let mut errors = Vec::new();
    let title = validate_title(form.title.text()).map_err(|e| errors.push((FormField::Title, e)));
    if form.severity.is_none() {
        errors.push((
            FormField::Severity,
            "choose a severity with ←/→ (P1 critical … P4 low)".into(),
        ));
    }
    if form.summary.text().chars().count() > 4000 {
        errors.push((FormField::Summary, "summary is over 4000 characters".into()));
    }
    let detected = match form.detected.text().trim() {
        "" => None,
        typed => crate::domain::clock_history::parse_detected(typed, now)
            .map_err(|e| errors.push((FormField::Detected, e)))
            .ok(),
    };
    match (title, form.severity) {
        (Ok(title), Some(severity)) if errors.is_empty() => {
            let mut new = NewIncident::new(title, severity);
            new.summary = form.summary.text().trim().to_string();
            new.source = form.source;
            new.detected_at = detected;
            Ok(new)
        }
        _ => Err(errors),
    }
}

fn form_command(form: &mut NewIncidentForm, cmd: Command, ctx: &Ctx) -> Outcome {
    let fields = FormField::ALL;
    let at = fields.iter().position(|f| *f == form.focus).unwrap_or(0);
    let mut out = Outcome::stay();
    match cmd {
        Command::NextField => form.focus = fields[(at + 1) % fields.len()],
        Command::PrevField => form.focus = fields[(at + fields.len() - 1) % fields.len()],
        Command::ChoiceNext | Command::ChoicePrev => {
            choose(form, cmd == Command::ChoiceNext);
        }
        Command::Submit => match validate_form(form, ctx.now) {
            Ok(new) => {
                out.push(Effect::Create(Box::new(new)));
                // Save the draft as it stands; it is deleted once the store
                // confirms the incident, and the form comes back on failure.
                if !form.is_blank() {
                    out.push(Effect::SaveDraft {
                        key: NEW_INCIDENT_DRAFT.into(),
                        body: form.to_draft(),
                    });
                }
                form.dirty = false;
                form.submitted = true;
                out.nav = Nav::Back;
            }
            Err(errors) => {
                if let Some((first, _)) = errors.first() {
                    form.focus = *first;
                }
                form.errors = errors;
            }
        },
        Command::Cancel => {
            let kept = match autosave(form) {
                Some(e) => {
                    let saved = matches!(e, Effect::SaveDraft { .. });
                    out.push(e);
                    saved
                }
                None => ctx.drafts.contains_key(NEW_INCIDENT_DRAFT),
            };
            if kept {
                out.say("form kept as a draft: press n to continue it", false);
            }
            out.nav = Nav::Back;
        }
        _ => {}
    }
    out
}

/// ←/→: the next or previous choice on a choice field; in text fields
/// the arrows move the cursor.
fn choose(form: &mut NewIncidentForm, forward: bool) {
    match form.focus {
        FormField::Severity => {
            form.severity = Some(match form.severity {
                None if forward => Severity::P1,
                None => Severity::P4,
                Some(s) => step_in(&Severity::ALL, s, forward),
            });
            form.errors.retain(|(f, _)| *f != FormField::Severity);
            form.dirty = true;
        }
        FormField::Source => {
            form.source = step_in(Source::ALL, form.source, forward);
            form.dirty = true;
        }
        FormField::Title | FormField::Summary | FormField::Detected => {
            let code = if forward {
                KeyCode::Right
            } else {
                KeyCode::Left
            };
            if let Some(input) = form.focused_input() {
                input.handle_key(KeyEvent::from(code));
            }
        }
    }
}
