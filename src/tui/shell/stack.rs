//! The screens open over the board, as a stack: the top one is shown and
//! has the keys. Each entry carries its screen's state, so a screen
//! without its state cannot be open and no handler has to repair one.

use crate::tui::command::Context;
use crate::tui::screens::alerts::state::AlertsState;
use crate::tui::screens::compose::state::Composer;
use crate::tui::screens::ctx::Screen as _;
use crate::tui::screens::evidence::state::EvidenceState;
use crate::tui::screens::incident::state::IncidentState;
use crate::tui::screens::messages::state::MessagesState;
use crate::tui::screens::metrics::state::MetricsState;
use crate::tui::screens::review::state::ReviewState;
use crate::tui::screens::watcher::state::WatcherScreen;

/// THE LIST of the screens that take a [`Ctx`](crate::tui::screens::ctx::Ctx)
/// and give an `Outcome` (their `Screen` impl): one line each, the stack
/// entry's name, its state (by its whole path, so no file that expands
/// the list needs an import per screen), and what of the app it is lent
/// as its feed (nothing: `()`). The kinds, the stack entries, where keys
/// go, and the shell's key, tick, view, typing and open arms for them are
/// all made from it.
macro_rules! screen_list {
    ($then:ident) => {
        $then! {
            /// An incident: summary, clocks, checklist, roles, timeline,
            /// and its dialogs.
            Incident(Box<crate::tui::screens::incident::state::IncidentState>);
            /// The new-incident form, floating over whatever was shown.
            Declare(crate::tui::screens::declare::state::NewIncidentForm);
            /// An incident's evidence and chain of custody.
            Evidence(crate::tui::screens::evidence::state::EvidenceState);
            /// An incident's post-incident review.
            Review(crate::tui::screens::review::state::ReviewState);
            /// Metrics over every incident.
            Metrics(crate::tui::screens::metrics::state::MetricsState);
            /// An incident's sent messages and their deliveries, with retry.
            Messages(crate::tui::screens::messages::state::MessagesState);
            /// The rule watcher: what it shows is fed by its thread whatever
            /// is shown, so it lives in the app; the entry holds the scroll.
            Watcher(crate::tui::screens::watcher::state::WatcherScreen) feed(watcher);
            /// Every alert this console has seen, newest first.
            Alerts(crate::tui::screens::alerts::state::AlertsState) feed(alerts.log);
            /// The message composer, over the incident view.
            Compose(Box<crate::tui::screens::compose::state::Composer>) feed(comms);
            /// The roster: the people roles can be handed to.
            Roster(crate::tui::screens::roster::state::RosterState);
        }
    };
}
pub(crate) use screen_list;

/// The kinds and entries, from the list.
macro_rules! stack_types {
    ($($(#[$doc:meta])* $v:ident($t:ty) $(feed($($f:ident).+))?;)*) => {
        /// Which screen is shown: the kind of the stack's top (the board
        /// when nothing is open over it).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Screen {
            Board,
            $($(#[$doc])* $v,)*
        }

        /// One open screen and its state. The board is the stack's floor
        /// and is not an entry: its state lives with the rows it orders.
        #[derive(Debug, Clone)]
        pub enum ScreenState {
            $($(#[$doc])* $v($t),)*
        }

        impl ScreenState {
            pub fn kind(&self) -> Screen {
                match self {
                    $(ScreenState::$v(_) => Screen::$v,)*
                }
            }

            /// Where keys go when this screen is on top (and no dialog is open).
            pub fn context(&self) -> Context {
                match self {
                    $(ScreenState::$v(s) => s.context(),)*
                }
            }

            /// Typed text not saved as a draft yet.
            pub fn unsaved(&self) -> bool {
                match self {
                    $(ScreenState::$v(s) => s.unsaved(),)*
                }
            }

            /// Drawn over the screen under it, which stays in view.
            pub fn floats(&self) -> bool {
                match self {
                    $(ScreenState::$v(s) => s.floats(),)*
                }
            }
        }

        $(
            impl OnStack for $t {
                fn of(s: &ScreenState) -> Option<&Self> {
                    match s {
                        ScreenState::$v(x) => Some(x),
                        _ => None,
                    }
                }

                fn of_mut(s: &mut ScreenState) -> Option<&mut Self> {
                    match s {
                        ScreenState::$v(x) => Some(x),
                        _ => None,
                    }
                }
            }
        )*
    };
}

screen_list!(stack_types);

/// A listed screen's state, found in a stack entry.
pub trait OnStack: Sized {
    fn of(s: &ScreenState) -> Option<&Self>;
    fn of_mut(s: &mut ScreenState) -> Option<&mut Self>;
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
    evidence, evidence_mut, Evidence, EvidenceState;
    review, review_mut, Review, ReviewState;
    metrics, metrics_mut, Metrics, MetricsState;
    messages, messages_mut, Messages, MessagesState;
    alerts, alerts_mut, Alerts, AlertsState;
    watcher, watcher_mut, Watcher, WatcherScreen;
}

impl Stack {
    /// The nearest open screen of a listed kind, from the top down.
    pub fn find<T: OnStack>(&self) -> Option<&T> {
        self.0.iter().rev().find_map(T::of)
    }

    pub fn find_mut<T: OnStack>(&mut self) -> Option<&mut T> {
        self.0.iter_mut().rev().find_map(T::of_mut)
    }

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

    pub fn incident(&self) -> Option<&IncidentState> {
        self.find::<Box<IncidentState>>().map(|i| &**i)
    }

    pub fn incident_mut(&mut self) -> Option<&mut IncidentState> {
        self.find_mut::<Box<IncidentState>>().map(|i| &mut **i)
    }

    /// The entry under the top one, if any (what a floating top is drawn
    /// over).
    pub fn under_top(&self) -> Option<&ScreenState> {
        self.0.len().checked_sub(2).and_then(|i| self.0.get(i))
    }

    pub fn compose(&self) -> Option<&Composer> {
        self.find::<Box<Composer>>().map(|c| &**c)
    }

    pub fn compose_mut(&mut self) -> Option<&mut Composer> {
        self.find_mut::<Box<Composer>>().map(|c| &mut **c)
    }

    /// The composer, taken off the top (a declaration opens the new
    /// incident under it; quitting with the drafts discarded drops it).
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
