//! The I/O `update` asks for: the runtime hands each [`Effect`] to the
//! store worker, the notifier, or its own terminal.

use crate::domain::IncidentId;
use crate::domain::playbook::ItemState;
use crate::domain::roles::Role;
use crate::domain::version::Version;
use crate::store::{IncidentPatch, NewIncident};

/// I/O the runtime performs on `update`'s behalf.
#[derive(Debug, Clone)]
pub enum Effect {
    LoadBoard {
        include_closed: bool,
    },
    LoadDetail(IncidentId),
    /// Check `data_version`; reload what is shown if another process wrote.
    Poll {
        include_closed: bool,
        open: Option<IncidentId>,
    },
    Create(Box<NewIncident>),
    Update(IncidentId, Box<IncidentPatch>),
    SetItem {
        id: IncidentId,
        item: String,
        state: ItemState,
        reason: Option<String>,
    },
    Assign {
        id: IncidentId,
        role: Role,
        person: String,
    },
    AddNote {
        id: IncidentId,
        text: String,
    },
    /// Add someone to the roster (a name typed where a role is handed
    /// out); `said` is shown once it is written.
    AddPerson {
        person: Box<crate::domain::roles::Person>,
        said: String,
    },
    /// Record `incident.acknowledged` (nothing new if it already was).
    Acknowledge(IncidentId),
    /// The recorded, reasoned correction of the detection time.
    SetDetected {
        id: IncidentId,
        at: chrono::DateTime<chrono::Utc>,
        reason: String,
    },
    SaveDraft {
        key: String,
        body: String,
    },
    DeleteDraft {
        key: String,
    },
    /// Evidence, review, report, metrics and messages I/O, run by
    /// `shell::record_work::Worker` on the store worker.
    Records(Box<crate::tui::records::RecordsEffect>),
    /// Composer: load the last message sent to the audience and, when a
    /// template is given, the incident as stored to render it with (the
    /// rendering runs on a thread of its own, not on the store worker).
    ComposeLoad {
        id: IncidentId,
        audience: crate::comms::Audience,
        template: Option<String>,
    },
    /// Record the message, then deliver it through the named sinks.
    SendMessage {
        message: Box<crate::store::NewMessage>,
        sinks: Vec<String>,
    },
    /// Deliver a recorded message's failed deliveries again (with the
    /// incident's others, through `comms::sinks::retry`).
    RetryDeliveries {
        message_id: i64,
    },
    /// Raise these alerts in the store; report the ones this process took.
    RaiseAlerts(Vec<crate::store::NewAlert>),
    /// Written by the runtime to its own terminal (never by a worker):
    /// a BEL for alerts, an OSC 52 sequence for the clipboard sink.
    Bell,
    Clipboard(String),
    /// A desktop notification, sent off the UI thread; silently nothing
    /// without a session bus.
    DesktopNotify {
        summary: String,
        body: String,
        urgent: bool,
    },
    Quit,
    /// `effect`, made from a view read at `base`: the worker runs it with
    /// the store's `*_based` call, so an edit of something changed since
    /// is refused (and answered with `Action::Conflict`), never lost.
    /// Effects with no based form run as if unwrapped.
    Based {
        base: Version,
        effect: Box<Effect>,
    },
}

impl Effect {
    /// `effect` based on `base` (a version, or none: then unchanged).
    pub fn based(base: impl Into<Option<Version>>, effect: Effect) -> Effect {
        match base.into() {
            Some(base) => Effect::Based {
                base,
                effect: Box::new(effect),
            },
            None => effect,
        }
    }

    /// The effect and the version it was based on, if any.
    pub fn unbased(self) -> (Effect, Option<Version>) {
        match self {
            Effect::Based { base, effect } => (effect.unbased().0, Some(base)),
            other => (other, None),
        }
    }
}

/// A records effect, boxed into an [`Effect`].
pub fn boxed(e: crate::tui::records::RecordsEffect) -> Effect {
    Effect::Records(Box::new(e))
}

/// The effect that sets an incident's status to closed.
pub fn close(id: IncidentId, override_reason: Option<String>) -> Effect {
    boxed(crate::tui::records::RecordsEffect::Close {
        id,
        override_reason,
    })
}

pub fn effect(e: crate::tui::records::RecordsEffect) -> Effect {
    boxed(e)
}
