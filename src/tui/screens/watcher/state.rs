//! The watcher screen: its state and pure helpers; nothing here imports the app.

use crate::detect::follow::FollowStatus;
use crate::detect::setup::WatchSetup;

/// What the watcher view shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatcherState {
    /// The configured logs and rule files (None: no watch.toml).
    pub setup: Option<WatchSetup>,
    /// The latest status the watcher thread sent.
    pub status: Option<FollowStatus>,
    /// Rule files refused, or why the watcher stopped.
    pub problems: Vec<String>,
    /// Set while another run holds this watcher's name: who, and that this
    /// console takes over when it stops.
    pub standby: Option<String>,
    /// Alerts taken in from other tools, per source and way in.
    pub intake: Vec<crate::store::IntakeChannelStats>,
}

/// The watcher screen on the stack: where its list of latest matches is
/// scrolled (0 = newest). The rest it shows is the app's [`WatcherState`],
/// fed by the thread whatever is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatcherScreen {
    pub scroll: usize,
}

impl WatcherScreen {
    /// The scroll within a list of `len` matches (the list may have
    /// shrunk since the last key).
    pub fn scroll(&self, len: usize) -> usize {
        crate::tui::kit::cursor::clamp(self.scroll, len)
    }
}
