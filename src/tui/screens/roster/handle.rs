//! The roster screen: how keys, the dialog's submit and the store's
//! answers change it.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::state::*;
use super::work::{RosterEffect, RosterLoaded};
use crate::domain::roles::Person;
use crate::tui::command::{Command, Context};
use crate::tui::effect::effect;
use crate::tui::kit::cursor::{clamp, move_cursor};
use crate::tui::kit::fields::state::FieldsDialog;
use crate::tui::records::RecordsEffect;
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::{Nav, Target};

fn roster(e: RosterEffect) -> crate::tui::effect::Effect {
    effect(RecordsEffect::Roster(e))
}

impl Screen for RosterState {
    type Feed = ();

    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome {
        let people = ctx.people;
        self.cursor = clamp(self.cursor, people.len());
        match cmd {
            Command::Back => return Outcome::go(Nav::Back),
            Command::Up
            | Command::Down
            | Command::Top
            | Command::Bottom
            | Command::PageUp
            | Command::PageDown => self.cursor = move_cursor(self.cursor, people.len(), cmd),
            Command::AddPerson => {
                return Outcome::dialog(self.kept.take().unwrap_or_else(|| add_dialog("")));
            }
            Command::Edit | Command::Open => {
                if let Some(d) = self.kept.take() {
                    return Outcome::dialog(d);
                }
                return match people.get(self.cursor) {
                    Some(p) => Outcome::dialog(edit_dialog(p)),
                    None => Outcome::said("the roster is empty: a adds someone", false),
                };
            }
            Command::ToggleOnCall => {
                let Some(p) = people.get(self.cursor) else {
                    return Outcome::stay();
                };
                let mut person = p.clone();
                person.on_call = !p.on_call;
                let mut out = Outcome::stay();
                out.push(roster(RosterEffect::Save {
                    person,
                    based_on: Some(p.clone()),
                    typed: false,
                }));
                return out;
            }
            _ => {}
        }
        Outcome::stay()
    }

    fn view(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        super::view::render(self, ctx, frame, area)
    }

    fn context(&self) -> Context {
        Context::Roster
    }

    fn open(target: &Target, _ctx: &Ctx) -> Option<(Self, Outcome)> {
        let mut out = match target {
            Target::Roster => Outcome::stay(),
            Target::RosterAdd(name) => Outcome::dialog(add_dialog(name)),
            _ => return None,
        };
        out.push(roster(RosterEffect::Load { since: None }));
        Some((RosterState::default(), out))
    }

    /// Reloads the roster if another process wrote.
    fn tick(&mut self, _ctx: &Ctx) -> Outcome {
        let mut out = Outcome::stay();
        out.push(roster(RosterEffect::Load { since: self.seen }));
        out
    }
}

/// The dialog's Enter: the values checked and sent to the store, the
/// dialog kept (on the screen, if it is open) until the store answers.
/// An error keeps the dialog open with what was typed.
pub fn submit(
    state: Option<&mut RosterState>,
    d: &FieldsDialog,
    ctx: &Ctx,
) -> Result<Outcome, String> {
    let (person, based_on) = typed_person(d)?;
    if based_on.is_none() && ctx.people.iter().any(|p| p.handle == person.handle) {
        return Err(format!(
            "{} is already on the roster (Esc, then e on it to edit)",
            person.handle
        ));
    }
    let typed = state.is_some();
    if let Some(s) = state {
        s.pending = Some(d.clone());
    }
    let mut out = Outcome::stay();
    out.push(roster(RosterEffect::Save {
        person,
        based_on,
        typed,
    }));
    Ok(out)
}

/// The store answered. `dialog_free`: no other dialog is open, so a
/// refused edit's dialog can come back at once.
pub fn loaded(
    state: Option<&mut RosterState>,
    r: RosterLoaded,
    ctx: &Ctx,
    dialog_free: bool,
) -> Outcome {
    let Some(s) = state else {
        // The screen was closed meanwhile: say how it went.
        return match r {
            RosterLoaded::Read { .. } => Outcome::stay(),
            RosterLoaded::Saved { handle, .. } => Outcome::said(format!("{handle} saved"), false),
            RosterLoaded::Conflict { message, .. } | RosterLoaded::Failed { message, .. } => {
                Outcome::said(format!("roster not saved: {message}"), true)
            }
        };
    };
    match r {
        RosterLoaded::Read { version } => {
            s.seen = version;
            s.cursor = clamp(s.cursor, ctx.people.len());
            Outcome::stay()
        }
        RosterLoaded::Saved { handle, typed } => {
            if typed {
                s.pending = None;
            }
            if let Some(i) = ctx.people.iter().position(|p| p.handle == handle) {
                s.cursor = i;
            }
            let text = match ctx.people.iter().find(|p| p.handle == handle) {
                Some(p) if !typed && p.on_call => format!("{handle} is on call"),
                Some(_) if !typed => format!("{handle} is off call"),
                Some(p) if p.contact.is_empty() => {
                    format!("{handle} saved, without a contact: escalations cannot reach them")
                }
                _ => format!("{handle} saved"),
            };
            Outcome::said(text, false)
        }
        RosterLoaded::Conflict {
            message,
            current,
            typed,
        } => {
            let note = vec![
                format!("Not saved: {message}."),
                // In full: the message cuts long values.
                format!(
                    "Now: {}",
                    current
                        .as_ref()
                        .map_or("not on the roster".into(), Person::summary)
                ),
                "Your values are below: Enter saves them over it, Esc drops them.".into(),
            ];
            back_with(
                s,
                typed,
                |d| rebased(d, current.as_ref()).with_note(note),
                message,
                dialog_free,
            )
        }
        RosterLoaded::Failed { message, typed } => {
            let error = message.clone();
            back_with(
                s,
                typed,
                move |d| {
                    let mut d = d.clone();
                    d.error = Some(error);
                    d
                },
                message,
                dialog_free,
            )
        }
    }
}

/// A refused save: the dialog as typed comes back (made by `remake`), now
/// or on the next `a`/`e` if another dialog is open; the message is said.
fn back_with(
    s: &mut RosterState,
    typed: bool,
    remake: impl FnOnce(&FieldsDialog) -> FieldsDialog,
    message: String,
    dialog_free: bool,
) -> Outcome {
    let mut out = Outcome::said(format!("roster not saved: {message}"), true);
    let Some(d) = typed.then(|| s.pending.take()).flatten() else {
        return out;
    };
    let d = remake(&d);
    if dialog_free {
        out.dialog = Some(d);
    } else {
        s.kept = Some(d);
        out.say(
            format!("roster not saved: {message} (a or e brings your values back)"),
            true,
        );
    }
    out
}
