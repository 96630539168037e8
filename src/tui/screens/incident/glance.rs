//! The incident view's "at a glance" line: who else is looking at this
//! incident, how long ago it was detected, when customers were last told,
//! and the latest change with who made it. Pure: `now` and the width are
//! parameters; every name and detail is shown through `display_safe`.
//!
//! Drawn as one row over the incident view's panes ([`strip`]). The view
//! loads what it needs beside the detail: the presence rows the
//! console already polls (`Action::PresenceLoaded`'s `present` and `me`)
//! and `Store::last_customer_update(&id)` read with the detail (the
//! detail's timeline is cut to its newest events, so it may not reach the
//! last customer message).

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::domain::event::Event;
use crate::store::{IncidentDetail, Presence};
use crate::text::display_safe;
use crate::tui::kit::theme::Theme;

/// What the glance is made from.
#[derive(Debug, Clone, Copy)]
pub struct Glance<'a> {
    pub detail: &'a IncidentDetail,
    /// Every console seen recently (`Store::present`), this one included.
    pub present: &'a [Presence],
    /// This console's id (`ConsoleId`), left out of "viewing".
    pub me: &'a str,
    /// `Store::last_customer_update` for this incident.
    pub last_customer_update: Option<DateTime<Utc>>,
}

/// How long before `now` `then` was: "just now", "23 min ago",
/// "3 h 5 min ago", "2 d 4 h ago"; "in the future" for a time after `now`
/// (a skewed clock), never a negative count.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    if secs < 0 {
        return "in the future".into();
    }
    let mins = secs / 60;
    let (hours, days) = (mins / 60, mins / (60 * 24));
    if mins == 0 {
        "just now".into()
    } else if hours == 0 {
        format!("{mins} min ago")
    } else if days == 0 {
        match mins % 60 {
            0 => format!("{hours} h ago"),
            m => format!("{hours} h {m} min ago"),
        }
    } else {
        match hours % 24 {
            0 => format!("{days} d ago"),
            h => format!("{days} d {h} h ago"),
        }
    }
}

/// The other users viewing incident `id`, each once, in the order the
/// store lists them (this console left out; the same user on another
/// console counts).
pub fn viewers(present: &[Presence], me: &str, id: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in present
        .iter()
        .filter(|p| p.console_id != me && p.incident.as_deref() == Some(id))
    {
        if !names.contains(&p.actor) {
            names.push(p.actor.clone());
        }
    }
    names
}

/// After "viewing: ": the names while they fit in `width` columns, then
/// as many as fit with "+N more", then a count.
pub fn viewing_text(viewers: &[String], width: usize) -> String {
    if viewers.is_empty() {
        return "only you".into();
    }
    let names: Vec<String> = viewers
        .iter()
        .map(|n| display_safe(n).into_owned())
        .collect();
    let all = names.join(", ");
    if all.width() <= width {
        return all;
    }
    for shown in (1..names.len()).rev() {
        let text = format!(
            "{} +{} more",
            names[..shown].join(", "),
            names.len() - shown
        );
        if text.width() <= width {
            return text;
        }
    }
    match names.len() {
        1 => "1 other".into(),
        n => format!("{n} others"),
    }
}

/// The newest event of a timeline held newest first: its detail (made
/// safe and cut so the rest fits in `width` columns), "by" its actor and
/// how long ago.
pub fn latest_text(timeline: &[Event], now: DateTime<Utc>, width: usize) -> String {
    let Some(e) = timeline.first() else {
        return "nothing recorded yet".into();
    };
    let tail = format!(" by {} {}", display_safe(&e.actor), ago(e.at, now));
    let room = width.saturating_sub(tail.width());
    format!("{}{tail}", cut(&display_safe(&e.detail), room))
}

/// `text` cut to `width` columns, ending in "…" when cut.
pub fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// The glance as one line for the top of the incident view: how long ago
/// it was detected and customers were told, who else is viewing it, and
/// the latest change, cut to `width` (the latest change gives way first).
pub fn strip(g: &Glance, now: DateTime<Utc>, width: u16, no_color: bool) -> Line<'static> {
    let t = Theme::new(no_color);
    let width = usize::from(width);
    let i = &g.detail.incident;
    let mut parts: Vec<(String, bool)> = vec![(
        format!("detected {}", ago(i.detected_at, now)),
        i.detected_at > now,
    )];
    parts.push(match g.last_customer_update {
        Some(at) => (format!("last customer update {}", ago(at, now)), at > now),
        None => ("no customer update yet".into(), false),
    });
    let sep = " · ";
    let used = |parts: &[(String, bool)]| -> usize {
        parts.iter().map(|(p, _)| p.width() + sep.width()).sum()
    };
    // Who else views it, in the room left (names, then a count).
    let who = viewers(g.present, g.me, i.id.as_str());
    let room = width.saturating_sub(used(&parts) + "viewing: ".len());
    if !who.is_empty() && room >= "9 others".len() {
        parts.push((format!("viewing: {}", viewing_text(&who, room)), false));
    }
    let used = used(&parts);
    let room = width.saturating_sub(used + "latest: ".len());
    if room >= 12 {
        parts.push((
            format!("latest: {}", latest_text(&g.detail.timeline, now, room)),
            false,
        ));
    }
    let mut spans = Vec::new();
    let mut left = width;
    for (n, (text, warn)) in parts.into_iter().enumerate() {
        if n > 0 {
            if left <= sep.width() {
                break;
            }
            spans.push(Span::styled(sep, t.dim()));
            left -= sep.width();
        }
        let text = cut(&text, left);
        left = left.saturating_sub(text.width());
        spans.push(Span::styled(text, if warn { t.soon() } else { t.dim() }));
        if left == 0 {
            break;
        }
    }
    Line::from(spans)
}

#[cfg(test)]
#[path = "glance_tests.rs"]
mod tests;
