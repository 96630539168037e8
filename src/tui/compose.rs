//! The message composer (issue 4): pick a template and an audience, edit
//! the pre-filled message, preview it, compare it with the last message
//! sent to the same audience, and send it. State and update logic live
//! here; `update.rs` only forwards to it, and `views/compose.rs` draws it.
//!
//! The composer sits over the incident view (`App::compose`), which keeps
//! loading underneath, so the clocks are current when it closes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use super::app::{App, Message};
use super::effect::Effect;
use super::keymap::{Command, Context};
use super::kit::editor::Editor;
use crate::comms::{Audience, CommsConfig, PLACEHOLDER, SinkConfig, TemplateInfo, Templates};
use crate::domain::IncidentId;
use crate::store::{DeliveryState, NewMessage, SentMessage, check_body};

/// Autosave a changed draft at most this often (ticks are seconds), so a
/// dropped link or a crash loses at most the last couple of seconds.
pub const AUTOSAVE_TICKS: u8 = 2;

/// What the composer needs from the configuration, loaded at start.
#[derive(Debug, Clone)]
pub struct ComposeEnv {
    /// comms.toml (contact, sinks, alert settings).
    pub config: CommsConfig,
    /// The templates in force (shipped, overridden by the user's).
    pub templates: Vec<TemplateInfo>,
    /// Why the user's templates could not be read (the shipped ones are
    /// used meanwhile).
    pub templates_error: Option<String>,
    /// Every configured sink (comms.toml, or the default outbox).
    pub sinks: Vec<SinkConfig>,
}

impl ComposeEnv {
    /// From the configuration: the templates in `config.templates_dir`
    /// over the shipped ones (the shipped ones alone, with the reason,
    /// when that directory cannot be read) and the sinks for `db`.
    pub fn load(config: &CommsConfig, db: &std::path::Path) -> (ComposeEnv, Templates) {
        let (templates, templates_error) = match Templates::load(&config.templates_dir) {
            Ok(t) => (t, None),
            Err(e) => (Templates::builtin(), Some(e.to_string())),
        };
        let env = ComposeEnv {
            config: config.clone(),
            templates: templates.list(),
            templates_error,
            sinks: config.effective_sinks(db),
        };
        (env, templates)
    }
}

impl Default for ComposeEnv {
    /// The shipped templates, no sinks: until the configuration is loaded.
    fn default() -> Self {
        ComposeEnv {
            config: CommsConfig::builtin(std::path::Path::new(".")),
            templates: Templates::builtin().list(),
            templates_error: None,
            sinks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Choosing a template and an audience.
    Pick,
    /// Waiting for the render and the last message sent.
    Loading,
    Edit,
    /// "Send to ... via ...?"
    Confirm,
    Sending,
    /// Sent; showing how each delivery went.
    Sent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Edit,
    Preview,
    Diff,
}

impl View {
    pub const ALL: [View; 3] = [View::Edit, View::Preview, View::Diff];

    pub fn title(self) -> &'static str {
        match self {
            View::Edit => "Edit",
            View::Preview => "Preview",
            View::Diff => "Diff",
        }
    }

    fn step(self, forward: bool) -> View {
        super::kit::cursor::step_in(&View::ALL, self, forward)
    }
}

/// The last message sent to the composer's audience, for the diff.
#[derive(Debug, Clone, PartialEq)]
pub enum LastSent {
    Loading,
    Nothing,
    Message(Box<SentMessage>),
    Failed(String),
}

/// A sink in the confirm step, and whether this send uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkChoice {
    pub name: String,
    /// "outbox /path", "command sendmail -t", "clipboard (OSC 52)".
    pub what: String,
    pub chosen: bool,
}

#[derive(Debug, Clone)]
pub struct Composer {
    pub id: IncidentId,
    pub stage: Stage,
    pub view: View,
    /// Row of the picker (index into `ComposeEnv::templates`).
    pub pick: usize,
    pub audience: Audience,
    /// The template the text started from (for the record).
    pub template: Option<String>,
    pub editor: Editor,
    pub last: LastSent,
    /// A problem to show: a template that failed to render, a message the
    /// store refused, a failed send.
    pub error: Option<String>,
    /// A note such as "continuing your draft saved 18:02:11".
    pub notice: Option<String>,
    /// Changed (text or cursor) since the last autosave.
    pub dirty: bool,
    pub idle_ticks: u8,
    /// When the store last confirmed a save of this draft: "draft saved"
    /// is shown only then, never while the save is still on its way.
    pub saved_at: Option<DateTime<Utc>>,
    /// Scroll of the preview and diff views, in lines.
    pub scroll: usize,
    pub sinks: Vec<SinkChoice>,
    pub sink_cursor: usize,
    /// The message once recorded, with its deliveries.
    pub sent: Option<Box<SentMessage>>,
}

impl Composer {
    pub fn draft_key(&self) -> String {
        draft_key(self.id.as_str(), self.audience.as_str())
    }

    /// Where keys go.
    pub fn focus(&self) -> Context {
        match self.stage {
            Stage::Pick | Stage::Loading => Context::ComposePick,
            Stage::Edit => match self.view {
                View::Edit => Context::ComposeEdit,
                View::Preview | View::Diff => Context::ComposeView,
            },
            Stage::Confirm => Context::ComposeConfirm,
            Stage::Sending | Stage::Sent => Context::ComposeSent,
        }
    }

    /// The draft as it would be saved.
    pub fn draft_body(&self, now: DateTime<Utc>) -> DraftBody {
        DraftBody {
            text: self.editor.text(),
            cursor: self.editor.cursor(),
            template: self.template.clone(),
            audience: self.audience.as_str().to_string(),
            saved_at: Some(now),
        }
    }

    /// The selected picker row.
    pub fn picked<'a>(&self, env: &'a ComposeEnv) -> Option<&'a TemplateInfo> {
        env.templates.get(self.pick)
    }
}

/// The result of `Effect::ComposeLoad`, from the store worker.
#[derive(Debug, Clone)]
pub struct ComposeLoaded {
    pub id: IncidentId,
    pub audience: Audience,
    /// The rendered template (`None` when none was asked for), or the
    /// template error (`TEMPLATE:LINE: problem`).
    pub rendered: Option<Result<String, String>>,
    pub last: Result<Option<SentMessage>, String>,
}

/// The result of a send or a retry, from the store worker.
#[derive(Debug, Clone)]
pub struct SendReport {
    /// The message as recorded, with its deliveries as they stand.
    pub message: SentMessage,
    /// OSC 52 sequences for the console to write to its own terminal.
    pub clipboard: Vec<String>,
}

fn say(app: &mut App, text: impl Into<String>, error: bool) {
    app.message = Some(Message {
        text: text.into(),
        error,
        age: 0,
    });
}

/// The composer's drafts of incident `id` that can be read, by audience.
pub fn saved_drafts(
    drafts: &HashMap<String, String>,
    id: &IncidentId,
) -> Vec<(Audience, DraftBody)> {
    Audience::ALL
        .iter()
        .filter_map(|a| {
            let body = drafts.get(&draft_key(id.as_str(), a.as_str()))?;
            Some((*a, DraftBody::from_json(body)?))
        })
        .collect()
}

/// The sinks offered in the confirm step: every configured one, chosen
/// when it is a default sink serving the audience. OSC 52 is not a default
/// sink (headless sends have no terminal) but can be chosen here.
pub fn sink_choices(sinks: &[SinkConfig], audience: Audience) -> Vec<SinkChoice> {
    use crate::comms::SinkKind;
    sinks
        .iter()
        .map(|s| SinkChoice {
            name: s.name.clone(),
            what: match &s.kind {
                SinkKind::Outbox { dir } => format!("outbox {}", dir.display()),
                SinkKind::Command { argv, .. } => format!("command {}", argv.join(" ")),
                SinkKind::Osc52 { .. } => "clipboard of this terminal (OSC 52)".to_string(),
            },
            chosen: s.default && s.serves(audience),
        })
        .collect()
}

/// (row, column) of the first `[FILL IN: ...]` placeholder, if any.
pub fn first_placeholder(lines: &[String]) -> Option<(usize, usize)> {
    lines.iter().enumerate().find_map(|(row, line)| {
        line.find(PLACEHOLDER)
            .map(|at| (row, line[..at].chars().count()))
    })
}

/// `c` in the incident view: the picker, on the newest saved draft's
/// audience if there is one, else on the customer notification.
pub fn open(app: &mut App) {
    let Some(detail) = app.detail() else {
        say(app, "the incident is still loading", true);
        return;
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
    app.compose = Some(Box::new(Composer {
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
    }));
}

/// A command while the composer has the focus.
pub fn command(app: &mut App, cmd: Command, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let Some(mut c) = app.compose.take() else {
        return;
    };
    if cmd == Command::Help {
        app.modal = Some(super::app::Modal::Help {
            scroll: 0,
            under: c.focus(),
        });
        app.compose = Some(c);
        return;
    }
    let keep = match c.stage {
        Stage::Pick | Stage::Loading => pick_command(app, &mut c, cmd, fx),
        Stage::Edit => edit_command(app, &mut c, cmd, now, fx),
        Stage::Confirm => confirm_command(app, &mut c, cmd, now, fx),
        Stage::Sending | Stage::Sent => sent_command(app, &mut c, cmd, fx),
    };
    if keep {
        app.compose = Some(c);
    }
}

/// Returns whether the composer stays open.
fn pick_command(app: &mut App, c: &mut Composer, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    let n = app.comms.templates.len();
    match cmd {
        Command::Up | Command::Down | Command::Top | Command::Bottom => {
            c.pick = super::kit::cursor::move_cursor(c.pick, n, cmd);
            if let Some(info) = c.picked(&app.comms) {
                c.audience = info.audience;
            }
            c.error = None;
        }
        Command::ChoiceNext | Command::ChoicePrev => {
            let forward = cmd == Command::ChoiceNext;
            c.audience = super::kit::cursor::step_in(&Audience::ALL, c.audience, forward);
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
    let Some(c) = app.compose.as_mut() else {
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
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => {
            c.scroll = super::kit::cursor::move_cursor(c.scroll, usize::MAX, cmd)
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
            c.sink_cursor = super::kit::cursor::move_cursor(c.sink_cursor, c.sinks.len(), cmd)
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

fn undelivered(m: &SentMessage) -> Vec<String> {
    m.deliveries
        .iter()
        .filter(|d| d.state != DeliveryState::Delivered)
        .map(|d| d.sink.clone())
        .collect()
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
    let via: Vec<&str> = m.deliveries.iter().map(|d| d.sink.as_str()).collect();
    let summary = if via.is_empty() {
        format!(
            "message #{} to {} recorded (no sink chosen)",
            m.id,
            m.audience.as_str()
        )
    } else {
        format!(
            "message #{} to {} delivered via {}",
            m.id,
            m.audience.as_str(),
            via.join(", ")
        )
    };
    let open_here = app
        .compose
        .as_ref()
        .is_some_and(|c| c.id.as_str() == m.incident_id && c.audience == m.audience);
    if left.is_empty() {
        if open_here {
            app.compose = None;
        }
        say(app, summary, false);
        return;
    }
    let failed = format!(
        "message #{} recorded, NOT delivered via {}",
        m.id,
        left.join(", ")
    );
    if open_here && let Some(c) = app.compose.as_mut() {
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
    match app.compose.as_mut() {
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
    let Some(c) = app.compose.as_mut() else {
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
    let Some(c) = app.compose.as_mut() else {
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
            super::kit::editor::MAX_CHARS
        ));
    }
    c.dirty = true;
}

/// The store could not save the composer's draft (a full disk, a locked
/// or read-only database): it is tried again on the next autosave, and
/// the text stays in the editor meanwhile.
/// The store worker committed the draft saved at `at`.
pub fn draft_saved(app: &mut App, key: &str, at: DateTime<Utc>) {
    if let Some(c) = app.compose.as_mut()
        && c.draft_key() == key
    {
        c.saved_at = Some(at);
    }
}

pub fn draft_not_saved(app: &mut App, key: &str) {
    if let Some(c) = app.compose.as_mut()
        && c.draft_key() == key
        && matches!(c.stage, Stage::Edit | Stage::Confirm | Stage::Sending)
    {
        c.dirty = true;
        c.saved_at = None;
    }
}

/// Each tick: autosave a changed draft every [`AUTOSAVE_TICKS`].
pub fn tick(app: &mut App, now: DateTime<Utc>) -> Option<Effect> {
    let c = app.compose.as_mut()?;
    if !c.dirty {
        return None;
    }
    c.idle_ticks = c.idle_ticks.saturating_add(1);
    if c.idle_ticks < AUTOSAVE_TICKS {
        return None;
    }
    let mut c = app.compose.take()?;
    let fx = save_draft(app, &mut c, now);
    app.compose = Some(c);
    fx
}

/// Saves the draft now if it changed (on leaving, quitting, a signal).
pub fn save(app: &mut App, now: DateTime<Utc>) -> Option<Effect> {
    let mut c = app.compose.take()?;
    let fx = save_draft(app, &mut c, now);
    app.compose = Some(c);
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

/// One line of a line diff against the last message sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffTag {
    Same,
    Added,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: DiffTag,
    /// The line as written (not yet made safe to show).
    pub text: String,
}

/// A line diff of `old` (the last message sent) against `new` (the draft).
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .map(|c| DiffLine {
            tag: match c.tag() {
                ChangeTag::Equal => DiffTag::Same,
                ChangeTag::Insert => DiffTag::Added,
                ChangeTag::Delete => DiffTag::Removed,
            },
            text: c
                .value()
                .strip_suffix('\n')
                .unwrap_or(c.value())
                .to_string(),
        })
        .collect()
}

/// The draft key of a message to `audience` about incident `id`.
pub fn draft_key(id: &str, audience: &str) -> String {
    format!("compose:{id}:{audience}")
}

/// What an autosaved message draft holds (as JSON in the drafts table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftBody {
    pub text: String,
    /// (row, column) in characters.
    pub cursor: (usize, usize),
    pub template: Option<String>,
    pub audience: String,
    #[serde(default)]
    pub saved_at: Option<DateTime<Utc>>,
}

impl DraftBody {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A saved draft; `None` when the body is damaged (it is then left
    /// alone in the store, not overwritten by a fresh render).
    pub fn from_json(body: &str) -> Option<DraftBody> {
        serde_json::from_str(body).ok()
    }
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
