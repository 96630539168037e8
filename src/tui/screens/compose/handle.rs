//! The composer: how keys and the worker's answers change the app.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::state::*;
use crate::comms::Audience;
use crate::store::{NewMessage, check_body};
use crate::tui::command::Command;
use crate::tui::effect::Effect;
use crate::tui::kit::editor::{Editor, Found};
use crate::tui::shell::app::{App, say};
use crate::tui::shell::stack::ScreenState;

/// `c` in the incident view: the picker, on the newest saved draft's
/// audience if there is one, else on the customer notification.
pub fn open(app: &mut App) -> Option<Box<Composer>> {
    let Some(detail) = app.detail() else {
        say(app, "the incident is still loading", true);
        return None;
    };
    let id = detail.incident.id.clone();
    let newest = saved_drafts(&app.drafts, &id)
        .into_iter()
        .max_by_key(|(_, d)| d.saved_at);
    let (audience, template) = match newest {
        Some((a, d)) => (a, d.template),
        None => (Audience::Customers, None),
    };
    let list = &app.comms.templates;
    let pick = template
        .as_deref()
        .and_then(|t| list.iter().position(|i| i.name == t))
        .or_else(|| {
            list.iter()
                .position(|i| i.name == audience.default_template())
        })
        .or_else(|| list.iter().position(|i| i.audience == audience))
        .unwrap_or(0);
    Some(Box::new(Composer {
        id,
        stage: Stage::Pick,
        view: View::Edit,
        pick,
        audience,
        template: None,
        editor: Editor::default(),
        last: LastSent::Loading,
        error: None,
        notice: None,
        dirty: false,
        idle_ticks: 0,
        saved_at: None,
        scroll: 0,
        sinks: Vec::new(),
        sink_cursor: 0,
        sent: None,
    }))
}

/// A command while the composer has the focus.
pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let Some(mut c) = app.stack.take_compose() else {
        return;
    };
    let keep = match c.stage {
        Stage::Pick | Stage::Loading => pick_command(app, &mut c, cmd, fx),
        Stage::Edit => edit_command(app, &mut c, cmd, now, fx),
        Stage::Confirm => confirm_command(app, &mut c, cmd, now, fx),
        Stage::Sending | Stage::Sent => sent_command(app, &mut c, cmd, fx),
    };
    if keep {
        app.stack.push(ScreenState::Compose(c));
    }
}

/// Returns whether the composer stays open.
fn pick_command(app: &mut App, c: &mut Composer, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    let n = app.comms.templates.len();
    match cmd {
        Command::Up | Command::Down | Command::Top | Command::Bottom => {
            c.pick = crate::tui::kit::cursor::move_cursor(c.pick, n, cmd);
            if let Some(info) = c.picked(&app.comms) {
                c.audience = info.audience;
            }
            c.error = None;
        }
        Command::ChoiceNext | Command::ChoicePrev => {
            let forward = cmd == Command::ChoiceNext;
            c.audience = crate::tui::kit::cursor::step_in(&Audience::ALL, c.audience, forward);
            c.error = None;
        }
        Command::Submit if c.stage == Stage::Pick => start(app, c, fx),
        Command::DiscardDraft => {
            let key = c.draft_key();
            if app.drafts.remove(&key).is_some() {
                fx.push(Effect::DeleteDraft { key });
                c.notice = Some(format!(
                    "draft to {} discarded",
                    c.audience.label().to_lowercase()
                ));
            } else {
                c.notice = Some(format!("no saved draft to {}", c.audience.as_str()));
            }
            c.error = None;
        }
        Command::Back | Command::Cancel => return false,
        _ => {}
    }
    true
}

/// Enter in the picker: continue the saved draft to the audience, or
/// render the template.
fn start(app: &mut App, c: &mut Composer, fx: &mut Vec<Effect>) {
    let key = c.draft_key();
    c.error = None;
    c.last = LastSent::Loading;
    c.scroll = 0;
    match app.drafts.get(&key).map(|b| DraftBody::from_json(b)) {
        Some(Some(d)) => {
            c.editor = Editor::new(&d.text, d.cursor);
            c.template = d.template;
            c.saved_at = d.saved_at;
            c.notice = Some(match d.saved_at {
                Some(t) => format!(
                    "continuing your draft saved {}",
                    t.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                None => "continuing your saved draft".to_string(),
            });
            c.stage = Stage::Edit;
            c.view = View::Edit;
            c.dirty = false;
            fx.push(Effect::ComposeLoad {
                id: c.id.clone(),
                audience: c.audience,
                template: None,
            });
        }
        Some(None) => {
            c.error = Some(format!(
                "the saved draft to {} cannot be read; d discards it",
                c.audience.as_str()
            ));
        }
        None => {
            let Some(info) = c.picked(&app.comms) else {
                c.error = Some("no templates are available".into());
                return;
            };
            c.template = Some(info.name.clone());
            c.stage = Stage::Loading;
            c.notice = None;
            fx.push(Effect::ComposeLoad {
                id: c.id.clone(),
                audience: c.audience,
                template: Some(info.name.clone()),
            });
        }
    }
}

/// The store worker's answer to `Effect::ComposeLoad`.
pub fn loaded(app: &mut App, l: ComposeLoaded) {
    let Some(c) = app.stack.compose_mut() else {
        return;
    };
    if c.id != l.id || c.audience != l.audience {
        return;
    }
    c.last = match l.last {
        Ok(Some(m)) => LastSent::Message(Box::new(m)),
        Ok(None) => LastSent::Nothing,
        Err(e) => LastSent::Failed(e),
    };
    match l.rendered {
        Some(Ok(text)) if c.stage == Stage::Loading => {
            c.editor = Editor::new(&text, (0, 0));
            if let Some(at) = first_placeholder(c.editor.lines()) {
                c.editor.set_cursor(at);
            }
            c.stage = Stage::Edit;
            c.view = View::Edit;
            c.dirty = false;
            c.saved_at = None;
            c.notice = Some(format!(
                "new from the template {}",
                c.template.as_deref().unwrap_or("?")
            ));
        }
        Some(Err(e)) if c.stage == Stage::Loading => {
            c.stage = Stage::Pick;
            c.error = Some(e);
        }
        _ => {}
    }
}

fn edit_command(
    app: &mut App,
    c: &mut Composer,
    cmd: Command,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> bool {
    match cmd {
        Command::Back | Command::Cancel => {
            if c.view != View::Edit {
                c.view = View::Edit;
                return true;
            }
            fx.extend(save_draft(app, c, now));
            if app.drafts.contains_key(&c.draft_key()) {
                say(
                    app,
                    "message kept as a draft: press c to continue it",
                    false,
                );
            }
            return false;
        }
        Command::NextView | Command::PrevView => {
            c.view = c.view.step(cmd == Command::NextView);
            c.scroll = 0;
        }
        Command::Undo | Command::Redo => {
            let changed = if cmd == Command::Undo {
                c.editor.undo()
            } else {
                c.editor.redo()
            };
            c.view = View::Edit;
            if changed {
                c.dirty = true;
                c.error = None;
            }
        }
        Command::NextPlaceholder | Command::PrevPlaceholder => {
            let forward = cmd == Command::NextPlaceholder;
            c.notice = match c.editor.jump_to(crate::comms::PLACEHOLDER, forward) {
                Found::Next => None,
                Found::Wrapped if forward => Some("round to the first [FILL IN: ...]".into()),
                Found::Wrapped => Some("round to the last [FILL IN: ...]".into()),
                Found::None => Some("no [FILL IN: ...] left to complete".into()),
            };
            c.view = View::Edit;
            c.dirty = true;
        }
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => {
            c.scroll = crate::tui::kit::cursor::move_cursor(c.scroll, usize::MAX, cmd)
        }
        Command::Send => match check_body(&c.editor.text()) {
            Err(e) => c.error = Some(format!("not sent: {e}")),
            Ok(()) => {
                c.error = None;
                c.sinks = sink_choices(&app.comms.sinks, c.audience);
                c.sink_cursor = 0;
                c.stage = Stage::Confirm;
            }
        },
        _ => {}
    }
    true
}

fn confirm_command(
    app: &mut App,
    c: &mut Composer,
    cmd: Command,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) -> bool {
    match cmd {
        Command::Up | Command::Down => {
            c.sink_cursor = crate::tui::kit::cursor::move_cursor(c.sink_cursor, c.sinks.len(), cmd)
        }
        Command::ToggleItem => {
            if let Some(s) = c.sinks.get_mut(c.sink_cursor) {
                s.chosen = !s.chosen;
            }
        }
        Command::Submit | Command::ConfirmYes => {
            // Saved first: if the send fails or the process dies, the text
            // is still there.
            fx.extend(save_draft(app, c, now));
            let message = NewMessage {
                incident_id: c.id.clone(),
                audience: c.audience,
                template: c.template.clone(),
                body: c.editor.text(),
                author: app.actor.clone(),
            };
            let sinks = c
                .sinks
                .iter()
                .filter(|s| s.chosen)
                .map(|s| s.name.clone())
                .collect();
            fx.push(Effect::SendMessage {
                message: Box::new(message),
                sinks,
            });
            c.stage = Stage::Sending;
            c.error = None;
        }
        Command::Cancel | Command::ConfirmNo | Command::Back => c.stage = Stage::Edit,
        _ => {}
    }
    true
}

fn sent_command(app: &mut App, c: &mut Composer, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    if c.stage == Stage::Sending {
        return true;
    }
    let Some(m) = c.sent.as_deref() else {
        return false;
    };
    match cmd {
        Command::Retry => {
            if !undelivered(m).is_empty() {
                fx.push(Effect::RetryDeliveries { message_id: m.id });
                c.stage = Stage::Sending;
                c.error = None;
            }
            true
        }
        Command::Back | Command::Cancel | Command::Submit => {
            let left = undelivered(m);
            if !left.is_empty() {
                say(
                    app,
                    format!(
                        "message #{} is recorded but NOT delivered via {}; it stays ready to retry",
                        m.id,
                        left.join(", ")
                    ),
                    true,
                );
            }
            false
        }
        _ => true,
    }
}

/// The store worker's answer to a send or a retry.
pub fn sent(app: &mut App, report: SendReport, retry: bool, fx: &mut Vec<Effect>) {
    for seq in report.clipboard {
        fx.push(Effect::Clipboard(seq));
    }
    let m = report.message;
    if !retry {
        // The message is recorded: its draft has done its job.
        let key = draft_key(&m.incident_id, m.audience.as_str());
        app.drafts.remove(&key);
        fx.push(Effect::DeleteDraft { key });
    }
    let left = undelivered(&m);
    // Never "delivered" for an outbox file nobody has received.
    let (summary, attention) = crate::comms::reach::sent_summary(&m);
    let open_here = app
        .stack
        .compose()
        .is_some_and(|c| c.id.as_str() == m.incident_id && c.audience == m.audience);
    if left.is_empty() {
        if open_here {
            app.stack.take_compose();
        }
        say(app, summary, attention);
        return;
    }
    let failed = format!(
        "message #{} recorded, NOT delivered via {}",
        m.id,
        left.join(", ")
    );
    if open_here && let Some(c) = app.stack.compose_mut() {
        c.dirty = false;
        c.stage = Stage::Sent;
        c.sent = Some(Box::new(m));
        c.error = None;
        c.notice = None;
    }
    say(app, failed, true);
}

/// The store refused or failed a send (or a retry): back to the editor
/// (or the delivery list) with the reason; the draft is kept.
pub fn send_failed(app: &mut App, text: String) {
    match app.stack.compose_mut() {
        Some(c) if c.stage == Stage::Sending => {
            c.stage = if c.sent.is_some() {
                Stage::Sent
            } else {
                Stage::Edit
            };
            c.error = Some(format!("not sent: {text}"));
        }
        _ => say(app, format!("not sent: {text}"), true),
    }
}

/// A key typed into the editor.
pub fn input(app: &mut App, key: KeyEvent) {
    let Some(c) = app.stack.compose_mut() else {
        return;
    };
    if c.stage != Stage::Edit || c.view != View::Edit {
        return;
    }
    let cursor = c.editor.cursor();
    let changed = c.editor.key(key);
    if changed {
        c.error = None;
        c.notice = None;
    }
    if changed || c.editor.cursor() != cursor {
        c.dirty = true;
    }
}

/// Text pasted into the editor (made safe by the editor).
pub fn paste(app: &mut App, text: &str) {
    let Some(c) = app.stack.compose_mut() else {
        return;
    };
    if c.stage != Stage::Edit {
        return;
    }
    c.view = View::Edit;
    c.notice = None;
    if c.editor.paste(text) {
        c.error = Some(format!(
            "the paste was cut: a message holds at most {} characters",
            crate::tui::kit::editor::MAX_CHARS
        ));
    }
    c.dirty = true;
}

/// The store could not save the composer's draft (a full disk, a locked
/// or read-only database): it is tried again on the next autosave, and
/// the text stays in the editor meanwhile.
/// The store worker committed the draft saved at `at`.
pub fn draft_saved(app: &mut App, key: &str, at: DateTime<Utc>) {
    if let Some(c) = app.stack.compose_mut()
        && c.draft_key() == key
    {
        c.saved_at = Some(at);
    }
}

pub fn draft_not_saved(app: &mut App, key: &str) {
    if let Some(c) = app.stack.compose_mut()
        && c.draft_key() == key
        && matches!(c.stage, Stage::Edit | Stage::Confirm | Stage::Sending)
    {
        c.dirty = true;
        c.saved_at = None;
    }
}

/// Each tick: autosave a changed draft every [`AUTOSAVE_TICKS`].
pub fn tick(app: &mut App, now: DateTime<Utc>) -> Option<Effect> {
    let c = app.stack.compose_mut()?;
    if !c.dirty {
        return None;
    }
    c.idle_ticks = c.idle_ticks.saturating_add(1);
    if c.idle_ticks < AUTOSAVE_TICKS {
        return None;
    }
    let mut c = app.stack.take_compose()?;
    let fx = save_draft(app, &mut c, now);
    app.stack.push(ScreenState::Compose(c));
    fx
}

/// Saves the draft now if it changed (on leaving, quitting, a signal).
pub fn save(app: &mut App, now: DateTime<Utc>) -> Option<Effect> {
    let mut c = app.stack.take_compose()?;
    let fx = save_draft(app, &mut c, now);
    app.stack.push(ScreenState::Compose(c));
    fx
}

fn save_draft(app: &mut App, c: &mut Composer, now: DateTime<Utc>) -> Option<Effect> {
    if !c.dirty || !matches!(c.stage, Stage::Edit | Stage::Confirm) {
        return None;
    }
    c.dirty = false;
    c.idle_ticks = 0;
    let key = c.draft_key();
    if c.editor.text().trim().is_empty() {
        app.drafts.remove(&key);
        c.saved_at = None;
        return Some(Effect::DeleteDraft { key });
    }
    let body = c.draft_body(now).to_json();
    app.drafts.insert(key.clone(), body.clone());
    Some(Effect::SaveDraft { key, body })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
