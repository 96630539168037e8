//! The composer: how keys and the worker's answers change it. Its drafts
//! reach the app's saved drafts as `SaveDraft`/`DeleteDraft` effects,
//! which the shell mirrors when it applies the outcome.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::state::*;
use crate::comms::Audience;
use crate::store::{NewMessage, check_body};
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::editor::{Editor, Found};
use crate::tui::screens::ctx::{Ctx, Outcome, Screen};
use crate::tui::screens::nav::{Nav, Target};
use ratatui::Frame;
use ratatui::layout::Rect;

/// What the composer reads of the app: the comms settings as its feed.
pub type Cx<'a> = Ctx<'a, ComposeEnv>;

/// `c` in the incident view: the picker, on the newest saved draft's
/// audience if there is one, else on the customer notification. While
/// the incident loads it opens nothing and says so (the incident view
/// asks only once loaded).
pub fn open(ctx: &Cx) -> (Option<Box<Composer>>, Outcome) {
    let Some(detail) = ctx.detail else {
        return (None, Outcome::said("the incident is still loading", true));
    };
    let id = detail.incident.id.clone();
    let newest = saved_drafts(ctx.drafts, &id)
        .into_iter()
        .max_by_key(|(_, d)| d.saved_at);
    let (audience, template) = match newest {
        Some((a, d)) => (a, d.template),
        None => (Audience::Customers, None),
    };
    let list = &ctx.feed.templates;
    let pick = template
        .as_deref()
        .and_then(|t| list.iter().position(|i| i.name == t))
        .or_else(|| {
            list.iter()
                .position(|i| i.name == audience.default_template())
        })
        .or_else(|| list.iter().position(|i| i.audience == audience))
        .unwrap_or(0);
    let c = Box::new(Composer {
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
        internal: Ok(Vec::new()),
        leak: None,
        leak_stale: false,
    });
    (Some(c), Outcome::stay())
}

impl Screen for Composer {
    type Feed = ComposeEnv;

    /// A command while the composer has the focus; closing it is `Back`.
    fn handle(&mut self, cmd: Command, ctx: &Cx) -> Outcome {
        let mut out = Outcome::stay();
        let keep = match self.stage {
            Stage::Pick | Stage::Loading => pick_command(ctx, self, cmd, &mut out),
            Stage::Edit => edit_command(ctx, self, cmd, &mut out),
            Stage::Confirm => confirm_command(ctx, self, cmd, &mut out),
            Stage::Sending | Stage::Sent => sent_command(self, cmd, &mut out),
        };
        if !keep {
            out.nav = Nav::Back;
        }
        out
    }

    fn view(&self, ctx: &Cx, frame: &mut Frame, area: Rect) {
        super::view::render(ctx, self, frame, area, ctx.now)
    }

    fn context(&self) -> Context {
        self.focus()
    }

    fn open(target: &Target, ctx: &Cx) -> Option<(Self, Outcome)> {
        if *target != Target::Compose {
            return None;
        }
        let (c, out) = open(ctx);
        c.map(|c| (*c, out))
    }
}

/// Returns whether the composer stays open.
fn pick_command(ctx: &Cx, c: &mut Composer, cmd: Command, out: &mut Outcome) -> bool {
    let n = ctx.feed.templates.len();
    match cmd {
        Command::Up | Command::Down | Command::Top | Command::Bottom => {
            c.pick = crate::tui::kit::cursor::move_cursor(c.pick, n, cmd);
            if let Some(info) = c.picked(ctx.feed) {
                c.audience = info.audience;
            }
            c.error = None;
        }
        Command::ChoiceNext | Command::ChoicePrev => {
            let forward = cmd == Command::ChoiceNext;
            c.audience = crate::tui::kit::cursor::step_in(&Audience::ALL, c.audience, forward);
            c.error = None;
        }
        Command::Submit if c.stage == Stage::Pick => start(ctx, c, out),
        Command::DiscardDraft => {
            let key = c.draft_key();
            if ctx.drafts.contains_key(&key) {
                out.push(Effect::DeleteDraft { key });
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
fn start(ctx: &Cx, c: &mut Composer, out: &mut Outcome) {
    let key = c.draft_key();
    c.error = None;
    c.last = LastSent::Loading;
    c.scroll = 0;
    match ctx.drafts.get(&key).map(|b| DraftBody::from_json(b)) {
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
            out.push(Effect::ComposeLoad {
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
            let Some(info) = c.picked(ctx.feed) else {
                c.error = Some("no templates are available".into());
                return;
            };
            c.template = Some(info.name.clone());
            c.stage = Stage::Loading;
            c.notice = None;
            out.push(Effect::ComposeLoad {
                id: c.id.clone(),
                audience: c.audience,
                template: Some(info.name.clone()),
            });
        }
    }
}

/// The store worker's answer to `Effect::ComposeLoad`.
pub fn loaded(c: &mut Composer, l: ComposeLoaded) {
    if c.id != l.id || c.audience != l.audience {
        return;
    }
    c.last = match l.last {
        Ok(Some(m)) => LastSent::Message(Box::new(m)),
        Ok(None) => LastSent::Nothing,
        Err(e) => LastSent::Failed(e),
    };
    c.internal = l.internal;
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
    // Once per load, so a continued draft is checked before any key.
    c.check_leak();
}

fn edit_command(ctx: &Cx, c: &mut Composer, cmd: Command, out: &mut Outcome) -> bool {
    match cmd {
        Command::Back | Command::Cancel => {
            if c.view != View::Edit {
                c.view = View::Edit;
                return true;
            }
            let kept = match save_draft(c, ctx.now) {
                Some(e) => {
                    let kept = matches!(e, Effect::SaveDraft { .. });
                    out.push(e);
                    kept
                }
                None => ctx.drafts.contains_key(&c.draft_key()),
            };
            if kept {
                out.say("message kept as a draft: press c to continue it", false);
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
                c.leak_stale = true;
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
                // The question shows the warning for the text as sent.
                c.check_leak();
                c.sinks = sink_choices(&ctx.feed.sinks, c.audience);
                c.sink_cursor = 0;
                c.stage = Stage::Confirm;
            }
        },
        _ => {}
    }
    true
}

fn confirm_command(ctx: &Cx, c: &mut Composer, cmd: Command, out: &mut Outcome) -> bool {
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
            if let Some(e) = save_draft(c, ctx.now) {
                out.push(e);
            }
            let message = NewMessage {
                incident_id: c.id.clone(),
                audience: c.audience,
                template: c.template.clone(),
                body: c.editor.text(),
                author: ctx.actor.to_string(),
            };
            let sinks = c
                .sinks
                .iter()
                .filter(|s| s.chosen)
                .map(|s| s.name.clone())
                .collect();
            out.push(Effect::SendMessage {
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

fn sent_command(c: &mut Composer, cmd: Command, out: &mut Outcome) -> bool {
    if c.stage == Stage::Sending {
        return true;
    }
    let Some(m) = c.sent.as_deref() else {
        return false;
    };
    match cmd {
        Command::Retry => {
            if !undelivered(m).is_empty() {
                out.push(Effect::RetryDeliveries { message_id: m.id });
                c.stage = Stage::Sending;
                c.error = None;
            }
            true
        }
        Command::Back | Command::Cancel | Command::Submit => {
            let left = undelivered(m);
            if !left.is_empty() {
                out.say(
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

/// The store worker's answer to a send or a retry, to the composer if
/// one is open anywhere; `Back` closes it (when it is on top).
pub fn sent(composer: Option<&mut Composer>, report: SendReport, retry: bool) -> Outcome {
    let mut out = Outcome::stay();
    for seq in report.clipboard {
        out.push(Effect::Clipboard(seq));
    }
    let m = report.message;
    if !retry {
        // The message is recorded: its draft has done its job.
        let key = draft_key(&m.incident_id, m.audience.as_str());
        out.push(Effect::DeleteDraft { key });
    }
    let left = undelivered(&m);
    // Never "delivered" for an outbox file nobody has received.
    let (summary, attention) = crate::comms::reach::sent_summary(&m);
    let here = composer.filter(|c| c.id.as_str() == m.incident_id && c.audience == m.audience);
    if left.is_empty() {
        if here.is_some() {
            out.nav = Nav::Back;
        }
        out.say(summary, attention);
        return out;
    }
    let failed = format!(
        "message #{} recorded, NOT delivered via {}",
        m.id,
        left.join(", ")
    );
    if let Some(c) = here {
        c.dirty = false;
        c.stage = Stage::Sent;
        c.sent = Some(Box::new(m));
        c.error = None;
        c.notice = None;
    }
    out.say(failed, true);
    out
}

/// The store refused or failed a send (or a retry): back to the editor
/// (or the delivery list) with the reason; the draft is kept.
pub fn send_failed(composer: Option<&mut Composer>, text: String) -> Outcome {
    match composer {
        Some(c) if c.stage == Stage::Sending => {
            c.stage = if c.sent.is_some() {
                Stage::Sent
            } else {
                Stage::Edit
            };
            c.error = Some(format!("not sent: {text}"));
            Outcome::stay()
        }
        _ => Outcome::said(format!("not sent: {text}"), true),
    }
}

/// A key typed into the editor.
pub fn input(c: &mut Composer, key: KeyEvent) {
    if c.stage != Stage::Edit || c.view != View::Edit {
        return;
    }
    let cursor = c.editor.cursor();
    let changed = c.editor.key(key);
    if changed {
        c.error = None;
        c.notice = None;
        c.leak_stale = true;
    }
    if changed || c.editor.cursor() != cursor {
        c.dirty = true;
    }
}

/// Text pasted into the editor (made safe by the editor).
pub fn paste(c: &mut Composer, text: &str) {
    if c.stage != Stage::Edit {
        return;
    }
    c.view = View::Edit;
    c.notice = None;
    c.leak_stale = true;
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
pub fn draft_saved(c: &mut Composer, key: &str, at: DateTime<Utc>) {
    if c.draft_key() == key {
        c.saved_at = Some(at);
    }
}

pub fn draft_not_saved(c: &mut Composer, key: &str) {
    if c.draft_key() == key && matches!(c.stage, Stage::Edit | Stage::Confirm | Stage::Sending) {
        c.dirty = true;
        c.saved_at = None;
    }
}

/// Each tick, wherever it is on the stack: check a changed body for
/// internal-only text (once a tick, not on every key: a long message
/// against many internal texts takes a while), and autosave a changed
/// draft every [`AUTOSAVE_TICKS`].
pub fn tick(c: &mut Composer, now: DateTime<Utc>) -> Option<Effect> {
    if c.leak_stale && matches!(c.stage, Stage::Edit | Stage::Confirm) {
        c.check_leak();
    }
    if !c.dirty {
        return None;
    }
    c.idle_ticks = c.idle_ticks.saturating_add(1);
    if c.idle_ticks < AUTOSAVE_TICKS {
        return None;
    }
    save_draft(c, now)
}

/// Saves the draft now if it changed (on leaving, quitting, a signal).
pub fn save(c: &mut Composer, now: DateTime<Utc>) -> Option<Effect> {
    save_draft(c, now)
}

/// The draft's save (or delete, when emptied); the shell mirrors it in
/// the app's drafts.
fn save_draft(c: &mut Composer, now: DateTime<Utc>) -> Option<Effect> {
    if !c.dirty || !matches!(c.stage, Stage::Edit | Stage::Confirm) {
        return None;
    }
    c.dirty = false;
    c.idle_ticks = 0;
    let key = c.draft_key();
    if c.editor.text().trim().is_empty() {
        c.saved_at = None;
        return Some(Effect::DeleteDraft { key });
    }
    let body = c.draft_body(now).to_json();
    Some(Effect::SaveDraft { key, body })
}
