//! Styles with and without colour (NO_COLOR), and how a clock's urgency
//! is marked: what every screen's view draws with.

use chrono::{DateTime, Utc};
use ratatui::style::{Color, Modifier, Style};

use crate::domain::Severity;
use crate::domain::sla::{Clock, ClockKind, ClockState};

/// Styles with and without colour. Without colour, state is carried by
/// text markers and bold/reverse, so nothing depends on colour alone.
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(no_color: bool) -> Theme {
        Theme { color: !no_color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Gray)
        } else {
            Style::new()
        }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn breached(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn soon(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn met(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn drill(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Red)
    }
    pub fn focused_border(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn severity(&self, s: crate::domain::Severity) -> Style {
        use crate::domain::Severity::*;
        match s {
            P1 => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            P2 => self.fg(Color::LightRed),
            P3 => self.fg(Color::Yellow),
            P4 => self.fg(Color::Blue),
        }
    }
}

/// How close a clock is to its deadline, for its marker and style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Met,
    Running,
    Soon,
    Breached,
}

impl Urgency {
    pub fn of(clock: &Clock, now: DateTime<Utc>) -> Urgency {
        match clock.state {
            ClockState::Met => Urgency::Met,
            ClockState::Breached => Urgency::Breached,
            ClockState::Running
                if clock.fraction_used(now) >= 0.75 || clock.remaining.num_seconds() < 300 =>
            {
                Urgency::Soon
            }
            ClockState::Running | ClockState::Paused => Urgency::Running,
            ClockState::DueNow => Urgency::Soon,
        }
    }

    /// The text marker: state is never shown by colour alone.
    pub fn marker(self) -> &'static str {
        match self {
            Urgency::Met => "met",
            Urgency::Running => "",
            Urgency::Soon => "SOON",
            Urgency::Breached => "BREACHED",
        }
    }

    pub fn style(self, t: &Theme) -> Style {
        match self {
            Urgency::Met => t.met(),
            Urgency::Running => Style::new(),
            Urgency::Soon => t.soon(),
            Urgency::Breached => t.breached(),
        }
    }
}

/// A clock's state in a word or two: "due now" (inside the immediate
/// grace) and "paused" are told apart from SOON and BREACHED.
pub fn state_word(clock: &Clock, now: DateTime<Utc>) -> &'static str {
    match clock.state {
        ClockState::DueNow => "due now",
        ClockState::Paused => "paused",
        _ => Urgency::of(clock, now).marker(),
    }
}

/// "breached at 18:15 under P1" for a clock that breached under another
/// severity than the incident's now: the breach stays visible.
pub fn earlier_breach(clock: &Clock, current: Severity) -> Option<String> {
    let at = clock.breached_at?;
    (clock.severity != current).then(|| {
        format!(
            "breached at {} under {}",
            at.format("%H:%M"),
            clock.severity
        )
    })
}

/// A clock's kind in a word, for narrow columns.
pub fn short_kind(kind: &ClockKind) -> &'static str {
    match kind {
        ClockKind::Response => "resp",
        ClockKind::CustomerNotice => "notice",
        ClockKind::NextUpdate => "update",
        ClockKind::Regulatory(_) => "legal",
    }
}
