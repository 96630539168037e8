//! Terminal setup and restore. Restore is idempotent and runs on quit, on
//! panic (from the panic hook) and on SIGTERM/SIGHUP (from the runtime), so
//! a crash or a dropped SSH link never leaves a shell in raw mode.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::render;
use crate::tui::shell::app::App;

pub type Term = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// Whether we changed the terminal and have not yet put it back.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Raw mode, alternate screen, hidden cursor, bracketed paste.
pub fn enter() -> io::Result<Term> {
    install_panic_hook();
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout());
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    let terminal = Terminal::new(CrosstermBackend::new(out));
    if terminal.is_err() {
        restore();
    }
    terminal
}

/// Puts the terminal back as we found it. Safe to call more than once and
/// from a panic; errors are ignored (the terminal may be gone already).
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = out.flush();
    let _ = disable_raw_mode();
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!("console panicked: {info}");
        previous(info);
    }));
}

/// Draws one frame inside synchronized output, so the terminal shows it
/// whole (no tearing over slow links).
pub fn draw<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    app: &App,
    now: DateTime<Utc>,
) -> io::Result<()> {
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|f| render::render(app, f, now))?;
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    Ok(())
}
