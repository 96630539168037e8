//! What a screen is given and what it gives back. A screen reads the
//! console's shared state through [`Ctx`] (borrowed, read-only) and asks
//! for every change outside its own state through an [`Outcome`], which
//! the shell applies; so no screen imports the shell or another screen.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use crate::domain::Policy;
use crate::domain::roles::Person;
use crate::store::{BoardRow, IncidentDetail};
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::fields::state::FieldsDialog;
use crate::tui::screens::nav::{Nav, Target};

/// The console's shared state as a screen sees it. `F` is what the app
/// keeps for this screen while it is not shown (the alert log, the
/// watcher's status): the shell lends it here, the screen only reads it.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a, F: ?Sized = ()> {
    pub now: DateTime<Utc>,
    pub actor: &'a str,
    pub policy: &'a Policy,
    /// NO_COLOR: state is shown by text and reverse/bold only.
    pub no_color: bool,
    /// Every incident loaded, as the board has them.
    pub rows: &'a [BoardRow],
    pub people: &'a [Person],
    /// Saved drafts by key.
    pub drafts: &'a HashMap<String, String>,
    /// The incident open under (or as) this screen, once loaded.
    pub detail: Option<&'a IncidentDetail>,
    /// Every console open on this database, this one too.
    pub present: &'a [crate::store::Presence],
    /// This console's id among them.
    pub console: &'a str,
    pub feed: &'a F,
}

impl<'a, F: ?Sized> Ctx<'a, F> {
    /// The same context lending another screen's feed.
    pub fn with<G: ?Sized>(&self, feed: &'a G) -> Ctx<'a, G> {
        Ctx {
            now: self.now,
            actor: self.actor,
            policy: self.policy,
            no_color: self.no_color,
            rows: self.rows,
            people: self.people,
            drafts: self.drafts,
            detail: self.detail,
            present: self.present,
            console: self.console,
            feed,
        }
    }
}

/// What a screen asks of the shell after changing its own state.
#[derive(Debug, Default)]
pub struct Outcome {
    /// I/O for the runtime.
    pub effects: Vec<Effect>,
    /// A footer line: its text and whether it is an error.
    pub message: Option<(String, bool)>,
    pub nav: Nav,
    /// A field dialog to open over the screen; its submit comes back to
    /// the screen through its purpose tag.
    pub dialog: Option<FieldsDialog>,
}

impl Outcome {
    pub fn stay() -> Outcome {
        Outcome::default()
    }

    pub fn go(nav: Nav) -> Outcome {
        Outcome {
            nav,
            ..Outcome::default()
        }
    }

    /// Shows `text` in the footer (an error in red and for longer).
    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        self.message = Some((text.into(), error));
    }

    pub fn said(text: impl Into<String>, error: bool) -> Outcome {
        let mut out = Outcome::default();
        out.say(text, error);
        out
    }

    pub fn dialog(d: FieldsDialog) -> Outcome {
        Outcome {
            dialog: Some(d),
            ..Outcome::default()
        }
    }

    pub fn push(&mut self, e: Effect) {
        self.effects.push(e);
    }
}

/// A screen on the stack: its keys, its pure view and where its keys go.
/// `Feed` is what the app keeps for it (see [`Ctx`]); `()` for most.
pub trait Screen {
    type Feed: ?Sized;

    /// A command from the keymap while this screen is on top.
    fn handle(&mut self, cmd: Command, ctx: &Ctx<Self::Feed>) -> Outcome;

    /// Draws the screen; reads only its state and the context.
    fn view(&self, ctx: &Ctx<Self::Feed>, frame: &mut Frame, area: Rect);

    /// Where keys go while it is on top (and no dialog is open).
    fn context(&self) -> Context;

    /// The screen for `target` and what opening it asks for (loads), if
    /// `target` names this screen. Screens opened by arms of their own in
    /// the shell leave it at `None`.
    fn open(_target: &Target, _ctx: &Ctx<Self::Feed>) -> Option<(Self, Outcome)>
    where
        Self: Sized,
    {
        None
    }

    /// The once-a-second tick while it is on top: clocks move, the store
    /// is polled for other processes' changes.
    fn tick(&mut self, _ctx: &Ctx<Self::Feed>) -> Outcome {
        Outcome::stay()
    }

    /// A key typed while it is on top and its context takes text.
    fn input(&mut self, _key: KeyEvent, _ctx: &Ctx<Self::Feed>) -> Outcome {
        Outcome::stay()
    }

    /// Text pasted while it is on top.
    fn paste(&mut self, _text: &str, _ctx: &Ctx<Self::Feed>) -> Outcome {
        Outcome::stay()
    }

    /// Saves (or deletes) the draft of what is being typed, if changed
    /// since the last save: on the tick and on the way out.
    fn autosave(&mut self, _ctx: &Ctx<Self::Feed>) -> Outcome {
        Outcome::stay()
    }

    /// Typed text not saved as a draft yet (quitting asks first).
    fn unsaved(&self) -> bool {
        false
    }

    /// Drawn over the screen under it (which stays in view and keeps
    /// ticking), like a dialog, rather than in its place.
    fn floats(&self) -> bool {
        false
    }

    /// Its open dialog, drawn over everything else in the body (after the
    /// toasts), so a dialog is never hidden.
    fn dialog_view(&self, _ctx: &Ctx<Self::Feed>, _frame: &mut Frame, _area: Rect) {}
}

/// A boxed screen (a large state kept small on the stack) is the screen.
impl<S: Screen> Screen for Box<S> {
    type Feed = S::Feed;

    fn handle(&mut self, cmd: Command, ctx: &Ctx<Self::Feed>) -> Outcome {
        (**self).handle(cmd, ctx)
    }

    fn view(&self, ctx: &Ctx<Self::Feed>, frame: &mut Frame, area: Rect) {
        (**self).view(ctx, frame, area)
    }

    fn context(&self) -> Context {
        (**self).context()
    }

    fn open(target: &Target, ctx: &Ctx<Self::Feed>) -> Option<(Self, Outcome)> {
        S::open(target, ctx).map(|(s, out)| (Box::new(s), out))
    }

    fn tick(&mut self, ctx: &Ctx<Self::Feed>) -> Outcome {
        (**self).tick(ctx)
    }

    fn input(&mut self, key: KeyEvent, ctx: &Ctx<Self::Feed>) -> Outcome {
        (**self).input(key, ctx)
    }

    fn paste(&mut self, text: &str, ctx: &Ctx<Self::Feed>) -> Outcome {
        (**self).paste(text, ctx)
    }

    fn autosave(&mut self, ctx: &Ctx<Self::Feed>) -> Outcome {
        (**self).autosave(ctx)
    }

    fn unsaved(&self) -> bool {
        (**self).unsaved()
    }

    fn floats(&self) -> bool {
        (**self).floats()
    }

    fn dialog_view(&self, ctx: &Ctx<Self::Feed>, frame: &mut Frame, area: Rect) {
        (**self).dialog_view(ctx, frame, area)
    }
}
