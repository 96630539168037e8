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

use super::action::{Command, Context};
use super::app::{App, Message};
use super::kit::editor::Editor;
use super::update::Effect;
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
mod tests {
    use super::*;
    use crate::comms::{MessageFields, SinkKind};
    use crate::domain::{Playbook, Policy, Severity};
    use crate::store::{NewIncident, Store};
    use crate::tui::action::Action;
    use crate::tui::app::Screen;
    use crate::tui::update::update;
    use chrono::TimeZone;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 18, 0, 0).unwrap()
    }

    fn cmd(app: &mut App, c: Command) -> Vec<Effect> {
        update(app, Action::Command(c), now())
    }

    fn typed(app: &mut App, text: &str) -> Vec<Effect> {
        let mut fx = Vec::new();
        for c in text.chars() {
            fx.extend(update(
                app,
                Action::Input(KeyEvent::from(KeyCode::Char(c))),
                now(),
            ));
        }
        fx
    }

    fn env() -> ComposeEnv {
        let config = CommsConfig::builtin(std::path::Path::new("/nonexistent"));
        let mut sinks = config.effective_sinks(std::path::Path::new("/srv/w.db"));
        sinks.push(SinkConfig {
            name: "clipboard".into(),
            kind: SinkKind::Osc52 { max_bytes: 75_000 },
            audiences: None,
            default: false,
        });
        ComposeEnv {
            config,
            templates: Templates::builtin().list(),
            templates_error: None,
            sinks,
        }
    }

    /// An app with one P2 incident open, and its store.
    fn with_incident() -> (App, Store, IncidentId, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        let mut new = NewIncident::new("Login API down", Severity::P2);
        new.summary = "500s on /login".into();
        let i = store
            .create_incident(&new, &Playbook::builtin(), "alice", now())
            .unwrap();
        let mut app = App::new("alice", Policy::builtin(), true);
        app.comms = env();
        update(
            &mut app,
            Action::BoardLoaded(store.board(false).unwrap()),
            now(),
        );
        cmd(&mut app, Command::Open);
        let detail = store.detail(&i.id, None).unwrap();
        update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
        (app, store, i.id, dir)
    }

    /// What the store worker would answer to `Effect::ComposeLoad`.
    fn answer(store: &Store, fx: &[Effect]) -> Action {
        let Some(Effect::ComposeLoad {
            id,
            audience,
            template,
        }) = fx.iter().find(|e| matches!(e, Effect::ComposeLoad { .. }))
        else {
            panic!("no ComposeLoad in {fx:?}")
        };
        let rendered = template.as_ref().map(|t| {
            let d = store.detail(id, None).unwrap();
            let f = MessageFields::for_config(&d, &Policy::builtin(), &env().config, now());
            Templates::builtin()
                .render(t, &f)
                .map_err(|e| e.to_string())
        });
        Action::ComposeLoaded(Box::new(ComposeLoaded {
            id: id.clone(),
            audience: *audience,
            rendered,
            last: store.last_message(id, *audience).map_err(|e| e.to_string()),
        }))
    }

    /// Opens the composer and loads its template into the editor, as the
    /// store worker would answer.
    fn open_editor(app: &mut App, store: &Store) {
        cmd(app, Command::Compose);
        let fx = cmd(app, Command::Submit);
        update(app, answer(store, &fx), now());
    }

    /// Types into the editor and lets two ticks pass: the draft is sent
    /// to the store (a SaveDraft effect).
    fn type_until_the_draft_is_sent(app: &mut App) {
        typed(app, "x");
        update(app, Action::Tick, now());
        let fx = update(app, Action::Tick, now());
        assert!(fx.iter().any(|e| matches!(e, Effect::SaveDraft { .. })));
    }

    fn composer(app: &App) -> &Composer {
        app.compose.as_deref().expect("composer open")
    }

    #[test]
    fn pick_render_edit_autosave_leave_and_continue_where_left() {
        let (mut app, store, id, _dir) = with_incident();
        assert!(cmd(&mut app, Command::Compose).is_empty());
        assert_eq!(app.focus(), Context::ComposePick);
        assert_eq!(composer(&app).audience, Audience::Customers);
        // Down to the internal update: the audience follows the template.
        cmd(&mut app, Command::Down);
        assert_eq!(composer(&app).audience, Audience::Internal);
        let fx = cmd(&mut app, Command::Submit);
        assert!(matches!(
            &fx[..],
            [Effect::ComposeLoad { audience: Audience::Internal, template: Some(t), .. }] if t == "internal"
        ));
        assert_eq!(composer(&app).stage, Stage::Loading);
        update(&mut app, answer(&store, &fx), now());
        let c = composer(&app);
        assert_eq!(c.stage, Stage::Edit);
        assert_eq!(app.focus(), Context::ComposeEdit);
        assert!(c.editor.text().contains(id.as_str()));
        assert_eq!(c.last, LastSent::Nothing);
        // The internal update has no placeholder (the summary is known):
        // the cursor starts at the top.
        assert_eq!(first_placeholder(c.editor.lines()), None);
        let (row, col) = c.editor.cursor();
        assert_eq!((row, col), (0, 0));
        assert!(!c.dirty);

        // Typing (letters that are commands elsewhere are text here).
        typed(&mut app, "q?c");
        assert!(composer(&app).dirty);
        assert!(app.has_unsaved_form());
        // One tick is not yet an autosave; the second is.
        assert!(
            !update(&mut app, Action::Tick, now())
                .iter()
                .any(|e| matches!(e, Effect::SaveDraft { .. }))
        );
        let fx = update(&mut app, Action::Tick, now());
        let body = fx
            .iter()
            .find_map(|e| match e {
                Effect::SaveDraft { key, body } if *key == draft_key(id.as_str(), "internal") => {
                    Some(body.clone())
                }
                _ => None,
            })
            .expect("autosave");
        let saved = DraftBody::from_json(&body).unwrap();
        assert!(saved.text.contains("q?c"));
        assert_eq!(saved.cursor, (row, col + 3));
        assert_eq!(saved.template.as_deref(), Some("internal"));
        assert_eq!(saved.audience, "internal");
        assert_eq!(saved.saved_at, Some(now()));

        // Move the cursor, leave: saved on leaving, with a note.
        for k in [KeyCode::Down, KeyCode::Down, KeyCode::End] {
            update(&mut app, Action::Input(KeyEvent::from(k)), now());
        }
        let left_at = composer(&app).editor.cursor();
        assert!(left_at.0 == 2 && left_at.1 > 0, "{left_at:?}");
        let fx = cmd(&mut app, Command::Back);
        assert!(matches!(&fx[..], [Effect::SaveDraft { .. }]));
        assert!(app.compose.is_none());
        assert_eq!(app.screen, Screen::Incident);
        assert!(
            app.message
                .as_ref()
                .unwrap()
                .text
                .contains("kept as a draft")
        );

        // Back in: the picker starts on the draft's audience; Enter
        // continues it, cursor included, and only loads the last message.
        cmd(&mut app, Command::Compose);
        assert_eq!(composer(&app).audience, Audience::Internal);
        let fx = cmd(&mut app, Command::Submit);
        assert!(matches!(
            &fx[..],
            [Effect::ComposeLoad { template: None, .. }]
        ));
        let c = composer(&app);
        assert_eq!(c.stage, Stage::Edit);
        assert!(c.editor.text().contains("q?c"));
        assert_eq!(c.editor.cursor(), left_at);
        assert!(
            c.notice
                .as_deref()
                .unwrap()
                .starts_with("continuing your draft")
        );

        // Undo/redo are commands; preview and diff by Tab; Esc steps back.
        cmd(&mut app, Command::NextView);
        assert_eq!(app.focus(), Context::ComposeView);
        typed(&mut app, "zz"); // not text in the preview
        assert!(!composer(&app).editor.text().contains("zz"));
        cmd(&mut app, Command::Back);
        assert_eq!(composer(&app).view, View::Edit);
        assert!(app.compose.is_some());

        // d in the picker discards the draft.
        cmd(&mut app, Command::Back);
        cmd(&mut app, Command::Compose);
        let fx = cmd(&mut app, Command::DiscardDraft);
        assert!(
            matches!(&fx[..], [Effect::DeleteDraft { key }] if *key == draft_key(id.as_str(), "internal"))
        );
        assert!(!app.drafts.contains_key(&draft_key(id.as_str(), "internal")));
    }

    #[test]
    fn a_template_that_fails_to_render_shows_its_error_in_the_picker() {
        let (mut app, store, id, _dir) = with_incident();
        cmd(&mut app, Command::Compose);
        cmd(&mut app, Command::Submit);
        let d = store.detail(&id, None).unwrap();
        let broken = crate::comms::templates::render_source(
            "/home/alice/.config/warroom/templates/customer.txt",
            "Hello {{ nope }",
            &MessageFields::for_config(&d, &Policy::builtin(), &env().config, now()),
        )
        .unwrap_err()
        .to_string();
        update(
            &mut app,
            Action::ComposeLoaded(Box::new(ComposeLoaded {
                id,
                audience: Audience::Customers,
                rendered: Some(Err(broken.clone())),
                last: Ok(None),
            })),
            now(),
        );
        let c = composer(&app);
        assert_eq!(c.stage, Stage::Pick);
        assert_eq!(c.error.as_deref(), Some(broken.as_str()));
        assert!(
            broken.starts_with("/home/alice/.config/warroom/templates/customer.txt:1:"),
            "{broken}"
        );
    }

    #[test]
    fn send_asks_with_sinks_then_records_and_drops_the_draft() {
        let (mut app, mut store, id, _dir) = with_incident();
        open_editor(&mut app, &store);
        // The cursor waits on the first placeholder (the customer notice
        // has some: no actions recorded, no contact configured).
        let c = composer(&app);
        let (row, col) = c.editor.cursor();
        let rest: String = c.editor.lines()[row].chars().skip(col).collect();
        assert!(rest.starts_with(PLACEHOLDER), "{rest}");
        // Placeholders left: refused before asking.
        assert!(cmd(&mut app, Command::Send).is_empty());
        assert!(
            composer(&app)
                .error
                .as_deref()
                .unwrap()
                .contains("placeholder")
        );
        assert_eq!(composer(&app).stage, Stage::Edit);

        // Replace the text (select all is not needed: paste over a clean slate).
        let c = app.compose.as_mut().unwrap();
        c.editor = Editor::new("", (0, 0));
        update(
            &mut app,
            Action::Paste("We are on it.\r\nMore soon \u{1b}[2J".into()),
            now(),
        );
        assert_eq!(
            composer(&app).editor.text(),
            "We are on it.\nMore soon ␛[2J"
        );
        assert!(cmd(&mut app, Command::Send).is_empty());
        let c = composer(&app);
        assert_eq!(c.stage, Stage::Confirm);
        // The default outbox is chosen; the clipboard is offered, not chosen.
        let chosen: Vec<(&str, bool)> = c
            .sinks
            .iter()
            .map(|s| (s.name.as_str(), s.chosen))
            .collect();
        assert_eq!(chosen, [("outbox", true), ("clipboard", false)]);
        cmd(&mut app, Command::Down);
        cmd(&mut app, Command::ToggleItem);
        let fx = cmd(&mut app, Command::Submit);
        // Saved first, then sent.
        assert!(matches!(&fx[0], Effect::SaveDraft { .. }));
        let Effect::SendMessage { message, sinks } = &fx[1] else {
            panic!("{fx:?}")
        };
        assert_eq!(sinks, &["outbox".to_string(), "clipboard".to_string()]);
        assert_eq!(message.author, "alice");
        assert_eq!(message.audience, Audience::Customers);
        assert_eq!(message.template.as_deref(), Some("customer"));
        assert_eq!(composer(&app).stage, Stage::Sending);

        // The store records it; the clipboard sequence comes back for the
        // runtime to write; the draft goes; the composer closes.
        let mut sent = store.send_message(message, sinks, now()).unwrap();
        store
            .record_delivery(sent.id, "outbox", Ok("wrote x"), "alice", now())
            .unwrap();
        store
            .record_delivery(sent.id, "clipboard", Ok("copied"), "alice", now())
            .unwrap();
        sent = store.message(sent.id).unwrap().unwrap();
        let seq = crate::comms::sinks::osc52_sequence(&sent.body);
        let fx = update(
            &mut app,
            Action::MessageSent {
                report: Box::new(SendReport {
                    message: sent,
                    clipboard: vec![seq.clone()],
                }),
                retry: false,
            },
            now(),
        );
        assert!(
            matches!(&fx[..], [Effect::Clipboard(s), Effect::DeleteDraft { key }]
            if *s == seq && *key == draft_key(id.as_str(), "customers"))
        );
        assert!(app.compose.is_none());
        assert!(app.drafts.is_empty());
        assert!(
            app.message
                .as_ref()
                .unwrap()
                .text
                .contains("delivered via clipboard, outbox")
        );
    }

    #[test]
    fn a_failed_delivery_stays_on_screen_ready_to_retry_and_a_refused_send_keeps_the_text() {
        let (mut app, mut store, id, _dir) = with_incident();
        open_editor(&mut app, &store);
        app.compose.as_mut().unwrap().editor = Editor::new("Update: contained.", (0, 0));
        typed(&mut app, "!");
        cmd(&mut app, Command::Send);
        let fx = cmd(&mut app, Command::ConfirmYes);
        assert!(fx.iter().any(|e| matches!(e, Effect::SendMessage { .. })));
        // The store refuses (e.g. locked): back to the editor, text kept.
        update(
            &mut app,
            Action::SendFailed("database is locked".into()),
            now(),
        );
        let c = composer(&app);
        assert_eq!(c.stage, Stage::Edit);
        assert_eq!(c.editor.text(), "!Update: contained.");
        assert!(c.error.as_deref().unwrap().contains("database is locked"));
        assert!(
            app.drafts
                .contains_key(&draft_key(id.as_str(), "customers"))
        );

        cmd(&mut app, Command::Send);
        let fx = cmd(&mut app, Command::Submit);
        let Some(Effect::SendMessage { message, sinks }) =
            fx.iter().find(|e| matches!(e, Effect::SendMessage { .. }))
        else {
            panic!()
        };
        let sent = store.send_message(message, sinks, now()).unwrap();
        store
            .record_delivery(sent.id, "outbox", Err("disk full"), "alice", now())
            .unwrap();
        let sent = store.message(sent.id).unwrap().unwrap();
        update(
            &mut app,
            Action::MessageSent {
                report: Box::new(SendReport {
                    message: sent.clone(),
                    clipboard: vec![],
                }),
                retry: false,
            },
            now(),
        );
        let c = composer(&app);
        assert_eq!(c.stage, Stage::Sent);
        assert_eq!(app.focus(), Context::ComposeSent);
        assert!(app.message.as_ref().unwrap().error);
        // Nothing more to save: the draft is gone and stays gone.
        assert!(
            !app.drafts
                .contains_key(&draft_key(id.as_str(), "customers"))
        );
        assert!(
            update(&mut app, Action::Tick, now())
                .iter()
                .all(|e| !matches!(e, Effect::SaveDraft { .. }))
        );
        let fx = cmd(&mut app, Command::Retry);
        assert!(
            matches!(&fx[..], [Effect::RetryDeliveries { message_id }] if *message_id == sent.id)
        );
        // Retried and delivered: closes.
        assert!(
            store
                .claim_delivery(sent.id, "outbox", now(), now())
                .unwrap()
        );
        store
            .record_delivery(sent.id, "outbox", Ok("wrote y"), "alice", now())
            .unwrap();
        let sent = store.message(sent.id).unwrap().unwrap();
        let fx = update(
            &mut app,
            Action::MessageSent {
                report: Box::new(SendReport {
                    message: sent,
                    clipboard: vec![],
                }),
                retry: true,
            },
            now(),
        );
        assert!(fx.is_empty(), "a retry deletes no draft: {fx:?}");
        assert!(app.compose.is_none());
    }

    #[test]
    fn draft_saved_is_said_only_once_the_store_has_it() {
        let (mut app, store, id, _dir) = with_incident();
        open_editor(&mut app, &store);
        type_until_the_draft_is_sent(&mut app);
        // On its way to the store: a SIGKILL now could still lose it.
        assert_eq!(composer(&app).saved_at, None);
        let key = draft_key(id.as_str(), "customers");
        update(&mut app, Action::DraftSaved("other".into(), now()), now());
        assert_eq!(composer(&app).saved_at, None);
        update(&mut app, Action::DraftSaved(key, now()), now());
        assert_eq!(composer(&app).saved_at, Some(now()));
    }

    #[test]
    fn a_draft_the_store_could_not_save_is_saved_again() {
        let (mut app, store, id, _dir) = with_incident();
        open_editor(&mut app, &store);
        type_until_the_draft_is_sent(&mut app);
        assert!(!composer(&app).dirty);
        let key = draft_key(id.as_str(), "customers");
        update(
            &mut app,
            Action::StoreFailed("draft not saved: disk full".into()),
            now(),
        );
        update(&mut app, Action::DraftNotSaved(key.clone()), now());
        assert!(composer(&app).dirty);
        update(&mut app, Action::Tick, now());
        let fx = update(&mut app, Action::Tick, now());
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::SaveDraft { key: k, .. } if *k == key))
        );
        // The failure was said, and the text never left the editor.
        assert!(app.message.as_ref().unwrap().error);
        assert!(composer(&app).editor.text().contains('x'));
    }

    #[test]
    fn quitting_mid_edit_saves_the_draft_and_the_keys_are_the_editors() {
        let (mut app, store, _id, _dir) = with_incident();
        open_editor(&mut app, &store);
        typed(&mut app, "x");
        // Ctrl-C asks; yes saves the draft and quits.
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        let Some(Action::Command(c)) = crate::tui::action::resolve(app.focus(), ctrl_c) else {
            panic!()
        };
        assert!(cmd(&mut app, c).is_empty());
        assert!(app.confirm_quit);
        let fx = cmd(&mut app, Command::ConfirmYes);
        assert!(matches!(&fx[..], [Effect::SaveDraft { .. }, Effect::Quit]));
        // A signal saves too.
        let (mut app, store, _id, _dir) = with_incident();
        open_editor(&mut app, &store);
        typed(&mut app, "y");
        let fx = update(&mut app, Action::Terminate, now());
        assert!(matches!(&fx[..], [Effect::SaveDraft { .. }, Effect::Quit]));
    }

    #[test]
    fn line_diff_marks_added_and_removed_lines() {
        let d = line_diff("a\nb\nc\n", "a\nB\nc\nd");
        let tags: Vec<(DiffTag, &str)> = d.iter().map(|l| (l.tag, l.text.as_str())).collect();
        assert_eq!(
            tags,
            [
                (DiffTag::Same, "a"),
                (DiffTag::Removed, "b"),
                (DiffTag::Added, "B"),
                (DiffTag::Same, "c"),
                (DiffTag::Added, "d"),
            ]
        );
        assert!(line_diff("", "x").iter().all(|l| l.tag == DiffTag::Added));
    }

    #[test]
    fn draft_bodies_round_trip_and_damage_is_detected() {
        let d = DraftBody {
            text: "Hello\nworld".into(),
            cursor: (1, 3),
            template: Some("customer".into()),
            audience: "customers".into(),
            saved_at: None,
        };
        assert_eq!(DraftBody::from_json(&d.to_json()), Some(d));
        assert_eq!(DraftBody::from_json("{not json"), None);
        assert_eq!(
            draft_key("INC-2026-001", "customers"),
            "compose:INC-2026-001:customers"
        );
    }
}
