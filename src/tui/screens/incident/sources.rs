//! A campaign incident's sources as a table: each key with its count and
//! when it was first and last seen (UTC), in the order given (the store
//! lists the most hits first), under a line of totals. Pure: the caller
//! keeps the scroll offset; keys are shown through `display_safe`.
//!
//! Meant to be drawn in the incident view of a watcher's incident, below
//! its details and above the timeline (or in a pane of its own when the
//! view has tabs): `draw(frame, area, &sources, offset, no_color)` with
//! `Store::incident_sources(&id)` loaded beside the detail, the offset
//! moved by the view's scroll keys and bounded by [`max_offset`].

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::glance::cut;
use crate::domain::campaign::thousands;
use crate::store::IncidentSource;
use crate::text::display_safe;
use crate::tui::kit::theme::Theme;

/// Rows above the table's rows: the totals and the column names.
const HEAD: usize = 2;
/// `11-22 18:02`: month, day, hour and minute, UTC.
const TIME: &str = "%m-%d %H:%M";
const TIME_WIDTH: usize = 11;
const GAP: &str = "  ";
/// "255.255.255.255".
const KEY_MIN: usize = 15;

/// "5,000 sources, 200,000 hits".
pub fn totals(sources: &[IncidentSource]) -> String {
    let hits: u64 = sources.iter().map(|s| s.count).sum();
    let plural = |n: u64, one: &str, many: &str| {
        format!("{} {}", thousands(n), if n == 1 { one } else { many })
    };
    format!(
        "{}, {}",
        plural(wide(sources.len()), "source", "sources"),
        plural(hits, "hit", "hits")
    )
}

fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The rows of a table `height` rows high below its head.
fn room(height: usize) -> usize {
    height.saturating_sub(HEAD)
}

/// The largest useful offset: the last page of sources fills the table.
pub fn max_offset(len: usize, height: u16) -> usize {
    len.saturating_sub(room(usize::from(height)).max(1))
}

/// The table's lines for a `width` x `height` area, starting at source
/// `offset` (bounded to the list); "… N more" ends it when sources follow
/// the last shown.
pub fn lines(
    sources: &[IncidentSource],
    offset: usize,
    width: u16,
    height: u16,
    no_color: bool,
) -> Vec<Line<'static>> {
    let t = Theme::new(no_color);
    let (width, height) = (usize::from(width), usize::from(height));
    if height == 0 {
        return Vec::new();
    }
    let total = sources.len();
    let offset = offset.min(total.saturating_sub(1));
    // Rows left for sources; one gives way to "… N more" when they are cut.
    let mut shown = room(height).min(total - offset);
    if offset + shown < total && shown > 0 && room(height) == shown {
        shown -= 1;
    }
    let mut head = totals(sources);
    if shown > 0 && shown < total {
        head.push_str(&format!(
            " · showing {}–{}",
            thousands(wide(offset + 1)),
            thousands(wide(offset + shown))
        ));
    }
    let mut out = vec![Line::styled(cut(&head, width), t.bold())];
    if height == 1 {
        return out;
    }
    let counts: Vec<String> = sources[offset..offset + shown]
        .iter()
        .map(|s| thousands(s.count))
        .collect();
    let count_w = counts.iter().map(|c| c.len()).max().unwrap_or(0).max(5);
    // As wide as the longest key shown (an IPv4 address at least), so the
    // counts stay near their keys on a wide screen; on a narrow one the
    // first-seen column goes first, then the last-seen one, before a key
    // is cut below an address's width.
    let longest = sources[offset..offset + shown]
        .iter()
        .map(|s| display_safe(&s.key).width())
        .max()
        .unwrap_or(0)
        .max(KEY_MIN);
    let fixed = |times: usize| count_w + GAP.len() + times * (TIME_WIDTH + GAP.len());
    let times = (0..=2)
        .rev()
        .find(|&n| width >= fixed(n) + KEY_MIN.min(longest))
        .unwrap_or(0);
    let key_w = width.saturating_sub(fixed(times)).max(3).min(longest);
    let row = |key: &str, count: &str, first: &str, last: &str| {
        let key = cut(key, key_w);
        let pad = key_w.saturating_sub(key.width());
        let mut line = format!("{key}{:pad$}{GAP}{count:>count_w$}", "");
        if times == 2 {
            line.push_str(&format!("{GAP}{first:<TIME_WIDTH$}"));
        }
        if times >= 1 {
            line.push_str(&format!("{GAP}{last:<TIME_WIDTH$}"));
        }
        line
    };
    out.push(Line::styled(
        cut(&row("key", "count", "first seen", "last seen"), width),
        t.dim(),
    ));
    for (s, count) in sources[offset..offset + shown].iter().zip(&counts) {
        let first = s.first_seen.format(TIME).to_string();
        let last = s.last_seen.format(TIME).to_string();
        out.push(Line::from(Span::raw(cut(
            &row(&display_safe(&s.key), count, &first, &last),
            width,
        ))));
    }
    let more = total - offset - shown;
    if more > 0 && out.len() < height {
        out.push(Line::styled(
            cut(&format!("… {} more", thousands(wide(more))), width),
            t.dim(),
        ));
    }
    out
}

/// Draws the table into `area`.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    sources: &[IncidentSource],
    offset: usize,
    no_color: bool,
) {
    let l = lines(sources, offset, area.width, area.height, no_color);
    frame.render_widget(Paragraph::new(l), area);
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
