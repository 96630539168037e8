//! The composer: its state and pure helpers; nothing here imports the app.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use crate::comms::leak::{InternalText, internal_quotes, warning};
use crate::comms::reach::Reach;
use crate::comms::{Audience, CommsConfig, PLACEHOLDER, SinkConfig, TemplateInfo, Templates};
use crate::domain::IncidentId;
use crate::store::{DeliveryState, SentMessage};
use crate::tui::command::Context;
use crate::tui::kit::editor::Editor;

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

    pub(crate) fn step(self, forward: bool) -> View {
        crate::tui::kit::cursor::step_in(&View::ALL, self, forward)
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
    /// What a customer message must not quote (loaded with the message;
    /// empty for other audiences), or why it could not be read.
    pub internal: Result<Vec<InternalText>, String>,
    /// The warning for the body as last checked: the internal-only text
    /// it quotes, or why that could not be checked.
    pub leak: Option<String>,
    /// The body changed since that check: checked again on the next tick
    /// (or before the send question), not on every key.
    pub leak_stale: bool,
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

    /// Checks the body against the internal-only texts now: a customer
    /// message quoting one gets `comms::leak::warning`'s line.
    pub fn check_leak(&mut self) {
        self.leak_stale = false;
        if self.audience != Audience::Customers {
            self.leak = None;
            return;
        }
        self.leak = match &self.internal {
            Ok(texts) => warning(&internal_quotes(texts, &self.editor.text())),
            Err(e) => Some(format!(
                "This customer message could not be checked for internal-only text: {e}"
            )),
        };
    }

    /// What the confirm step must say plainly when the chosen sinks would
    /// reach nobody (only an outbox or a clipboard, or no sink at all), or
    /// a command sink would have no customer to send to.
    pub fn reach_warning(&self, env: &ComposeEnv) -> Option<String> {
        let chosen: Vec<SinkConfig> = env
            .sinks
            .iter()
            .filter(|s| self.sinks.iter().any(|c| c.chosen && c.name == s.name))
            .cloned()
            .collect();
        Reach::of(&chosen, self.audience, &env.config).warning()
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
    /// The incident's internal-only texts for a customer message (none
    /// for other audiences), or why they could not be read.
    pub internal: Result<Vec<InternalText>, String>,
}

/// The result of a send or a retry, from the store worker.
#[derive(Debug, Clone)]
pub struct SendReport {
    /// The message as recorded, with its deliveries as they stand.
    pub message: SentMessage,
    /// OSC 52 sequences for the console to write to its own terminal.
    pub clipboard: Vec<String>,
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

pub(crate) fn undelivered(m: &SentMessage) -> Vec<String> {
    m.deliveries
        .iter()
        .filter(|d| d.state != DeliveryState::Delivered)
        .map(|d| d.sink.clone())
        .collect()
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
