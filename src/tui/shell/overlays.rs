//! The overlays over every screen: the key help and the quit question.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::app::{App, Modal};
use super::keymap::{Command, Context, help_for};
use crate::tui::kit::layout::{centered, frame_box};
use crate::tui::kit::theme::Theme;

/// A key while the help is open: it scrolls, or closes (`None`).
pub fn help_command(scroll: usize, under: Context, cmd: Command) -> Option<Modal> {
    let scroll = match cmd {
        Command::Back => return None,
        Command::Up => scroll.saturating_sub(1),
        Command::Down => scroll + 1,
        _ => scroll,
    };
    Some(Modal::Help { scroll, under })
}

pub fn help(app: &App, scroll: usize, under: Context, frame: &mut Frame, body: Rect) {
    let t = Theme::new(app.no_color);
    crate::tui::kit::help::render(frame, body, &help_for(under), scroll, &t);
}

pub fn confirm_quit(app: &App, frame: &mut Frame, body: Rect) {
    let t = Theme::new(app.no_color);
    let why = if let Some(edit) = super::conflict::unsaved(app) {
        crate::text::display_safe(&edit).into_owned()
    } else if app.has_unsaved_form() {
        "The form in progress is kept as a draft and restored next time.".to_string()
    } else {
        match app.drafts.len() {
            1 => "You have 1 saved draft; it stays for next time.".to_string(),
            n => format!("You have {n} saved drafts; they stay for next time."),
        }
    };
    let lines = vec![
        Line::from(""),
        Line::from(format!(" {why}")),
        Line::from(""),
        Line::from(vec![
            Span::styled(" y", t.key()),
            Span::raw(" quit   "),
            Span::styled("n", t.key()),
            Span::raw(" stay   "),
            Span::styled("d", t.key()),
            Span::raw(" discard drafts and quit"),
        ]),
    ];
    frame_box(
        frame,
        centered(body, 60, 7),
        " Quit warroom? ".into(),
        lines,
    );
}
