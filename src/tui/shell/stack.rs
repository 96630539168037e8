//! The screens open over the board, as a stack: the top one is shown and
//! has the keys. Each entry carries its screen's state, so a screen
//! without its state cannot be open and no handler has to repair one.

use crate::tui::command::Context;
use crate::tui::screens::alerts::state::AlertsState;
use crate::tui::screens::compose::state::Composer;
use crate::tui::screens::ctx::Screen as _;
use crate::tui::screens::evidence::state::EvidenceState;
use crate::tui::screens::incident::state::{IncidentState, Pane};
use crate::tui::screens::messages::state::MessagesState;
use crate::tui::screens::metrics::state::MetricsState;
use crate::tui::screens::review::state::ReviewState;
use crate::tui::screens::watcher::state::WatcherScreen;

/// Which screen is shown: the kind of the stack's top (the board when
/// nothing is open over it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Board,
    Incident,
    /// An incident's evidence and chain of custody.
    Evidence,
    /// An incident's post-incident review.
    Review,
    /// Metrics over every incident.
    Metrics,
    /// An incident's sent messages and their deliveries, with retry.
    Messages,
    /// The message composer, over the incident view.
    Compose,
    /// The rule watcher: files followed, hits per rule, latest matches.
    Watcher,
    /// Every alert this console has seen, newest first.
    Alerts,
}

/// One open screen and its state. The board is the stack's floor and is
/// not an entry: its state lives with the rows it orders.
#[derive(Debug, Clone)]
pub enum ScreenState {
    Incident(IncidentState),
    Evidence(EvidenceState),
    Review(ReviewState),
    Metrics(MetricsState),
    Messages(MessagesState),
    Compose(Box<Composer>),
    /// What the watcher shows is fed by its thread whatever is shown, so
    /// it lives in the app; the entry holds only the scroll.
    Watcher(WatcherScreen),
    Alerts(AlertsState),
}

impl ScreenState {
    pub fn kind(&self) -> Screen {
        match self {
            ScreenState::Incident(_) => Screen::Incident,
            ScreenState::Evidence(_) => Screen::Evidence,
            ScreenState::Review(_) => Screen::Review,
            ScreenState::Metrics(_) => Screen::Metrics,
            ScreenState::Messages(_) => Screen::Messages,
            ScreenState::Compose(_) => Screen::Compose,
            ScreenState::Watcher(_) => Screen::Watcher,
            ScreenState::Alerts(_) => Screen::Alerts,
        }
    }

    /// Where keys go when this screen is on top (and no dialog is open).
    pub fn context(&self) -> Context {
        match self {
            ScreenState::Compose(c) => c.focus(),
            ScreenState::Incident(i) => match i.pane {
                Pane::Checklist => Context::Checklist,
                Pane::Roles => Context::Roles,
                Pane::Timeline => Context::Timeline,
                Pane::Summary | Pane::Clocks => Context::Incident,
            },
            ScreenState::Evidence(_) => Context::Evidence,
            ScreenState::Review(_) => Context::Review,
            ScreenState::Metrics(m) => m.context(),
            ScreenState::Messages(m) => m.context(),
            ScreenState::Watcher(w) => w.context(),
            ScreenState::Alerts(a) => a.context(),
        }
    }
}

/// Finds the nearest entry of one kind, from the top down.
macro_rules! accessors {
    ($($get:ident, $get_mut:ident, $variant:ident, $ty:ty;)*) => {
        impl Stack {
            $(
                pub fn $get(&self) -> Option<&$ty> {
                    self.0.iter().rev().find_map(|s| match s {
                        ScreenState::$variant(x) => Some(x),
                        _ => None,
                    })
                }

                pub fn $get_mut(&mut self) -> Option<&mut $ty> {
                    self.0.iter_mut().rev().find_map(|s| match s {
                        ScreenState::$variant(x) => Some(x),
                        _ => None,
                    })
                }
            )*
        }
    };
}

/// The open screens, bottom first; empty means the board.
#[derive(Debug, Clone, Default)]
pub struct Stack(Vec<ScreenState>);

accessors! {
    incident, incident_mut, Incident, IncidentState;
    evidence, evidence_mut, Evidence, EvidenceState;
    review, review_mut, Review, ReviewState;
    metrics, metrics_mut, Metrics, MetricsState;
    messages, messages_mut, Messages, MessagesState;
    alerts, alerts_mut, Alerts, AlertsState;
    watcher, watcher_mut, Watcher, WatcherScreen;
}

impl Stack {
    pub fn screen(&self) -> Screen {
        self.0.last().map_or(Screen::Board, ScreenState::kind)
    }

    pub fn top(&self) -> Option<&ScreenState> {
        self.0.last()
    }

    pub fn push(&mut self, s: ScreenState) {
        self.0.push(s);
    }

    /// Takes the top screen off (back to the one under it).
    pub fn pop(&mut self) -> Option<ScreenState> {
        self.0.pop()
    }

    /// Closes every screen: back to the board. Returns what was open.
    pub fn clear(&mut self) -> Vec<ScreenState> {
        std::mem::take(&mut self.0)
    }

    pub fn compose(&self) -> Option<&Composer> {
        self.0.iter().rev().find_map(|s| match s {
            ScreenState::Compose(c) => Some(&**c),
            _ => None,
        })
    }

    pub fn compose_mut(&mut self) -> Option<&mut Composer> {
        self.0.iter_mut().rev().find_map(|s| match s {
            ScreenState::Compose(c) => Some(&mut **c),
            _ => None,
        })
    }

    /// The composer, taken off the top (to be pushed back if it stays).
    pub fn take_compose(&mut self) -> Option<Box<Composer>> {
        match self.0.last() {
            Some(ScreenState::Compose(_)) => match self.0.pop() {
                Some(ScreenState::Compose(c)) => Some(c),
                _ => None,
            },
            _ => None,
        }
    }
}
