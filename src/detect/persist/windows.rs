//! How a rule's window is saved with a watcher's commit: only what a
//! restart needs, compact (see [`encode_window`]).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::detect::engine::{Engine, MAX_EVIDENCE_LINES, Window, WindowEntry};
use crate::store::CAMPAIGN_DETECTION_LINES;

/// How many of a window's first lines a detection of rule `ri` can keep:
/// the rule's `evidence_lines` (the store keeps as many of a detection's
/// first lines; a campaign's detections keep fewer).
pub(super) fn evidence_lines(engine: &Engine, ri: usize) -> usize {
    let rule = engine.rule(ri);
    let asked = rule.evidence_lines.min(MAX_EVIDENCE_LINES);
    if rule.incident.is_campaign() {
        CAMPAIGN_DETECTION_LINES.min(asked)
    } else {
        asked
    }
}

/// A window as saved: entry times as differences from the one before (the
/// first's from the epoch) with their counts, the `distinct` values if the
/// rule counts them, and the lines of only the first entries, as many as a
/// detection keeps: a flood's windows are rewritten by every commit until
/// they fire, and their lines were most of what was written.
#[derive(Debug, Serialize, Deserialize)]
struct Saved<'a> {
    v: u8,
    /// (ms after the entry before, count)
    e: Vec<(i64, u32)>,
    #[serde(default, borrow, skip_serializing_if = "Vec::is_empty")]
    l: Vec<Option<Cow<'a, str>>>,
    #[serde(default, borrow, skip_serializing_if = "Vec::is_empty")]
    d: Vec<Option<Cow<'a, str>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<i64>,
}

/// A window's saved text, keeping the lines of its first `lines` entries.
pub fn encode_window(w: &Window, lines: usize) -> String {
    let mut prev = 0i64;
    let e = w
        .entries
        .iter()
        .map(|x| {
            let d = x.at_ms.saturating_sub(prev);
            prev = x.at_ms;
            (d, x.count)
        })
        .collect();
    let l = w
        .entries
        .iter()
        .take(lines)
        .map(|x| x.line.as_deref().map(Cow::Borrowed))
        .collect();
    let d = if w.entries.iter().any(|x| x.value.is_some()) {
        w.entries
            .iter()
            .map(|x| x.value.as_deref().map(Cow::Borrowed))
            .collect()
    } else {
        Vec::new()
    };
    let saved = Saved {
        v: 2,
        e,
        l,
        d,
        a: w.armed_ms,
    };
    serde_json::to_string(&saved).unwrap_or_default()
}

/// A window from its saved text (this form, or the JSON of the whole
/// window that older versions saved). None if it is neither.
pub fn decode_window(text: &str) -> Option<Window> {
    let Ok(saved) = serde_json::from_str::<Saved<'_>>(text) else {
        return serde_json::from_str::<Window>(text).ok();
    };
    if saved.v != 2 {
        return None;
    }
    let mut at = 0i64;
    let mut lines = saved.l.into_iter();
    let mut values = saved.d.into_iter();
    let mut w = Window {
        armed_ms: saved.a,
        ..Window::default()
    };
    for (delta, count) in saved.e {
        at = at.saturating_add(delta);
        w.total += u64::from(count);
        w.entries.push_back(WindowEntry {
            at_ms: at,
            count,
            line: lines.next().flatten().map(Cow::into_owned),
            value: values.next().flatten().map(Cow::into_owned),
        });
    }
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn entry(at_ms: i64, count: u32, line: &str, value: Option<&str>) -> WindowEntry {
        WindowEntry {
            at_ms,
            count,
            line: Some(line.into()),
            value: value.map(str::to_string),
        }
    }

    #[test]
    fn a_saved_window_keeps_times_counts_values_and_only_the_first_lines() {
        let w = Window {
            entries: VecDeque::from([
                entry(1_700_000_000_000, 1, "a \"quoted\"\tline", Some("alice")),
                entry(1_700_000_005_000, 3, "b", Some("bob")),
                entry(1_700_000_009_999, 1, "c", None),
            ]),
            total: 5,
            armed_ms: Some(1_700_000_009_999),
            dirty: true,
        };
        let text = encode_window(&w, 2);
        assert!(!text.contains("\"c\""), "{text}");
        let back = decode_window(&text).unwrap();
        assert_eq!(back.total, 5);
        assert_eq!(back.armed_ms, w.armed_ms);
        assert!(!back.dirty);
        let got: Vec<_> = back
            .entries
            .iter()
            .map(|e| (e.at_ms, e.count, e.line.as_deref(), e.value.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    1_700_000_000_000,
                    1,
                    Some("a \"quoted\"\tline"),
                    Some("alice")
                ),
                (1_700_000_005_000, 3, Some("b"), Some("bob")),
                (1_700_000_009_999, 1, None, None),
            ]
        );
        // Every line kept when the bound allows.
        let all = decode_window(&encode_window(&w, 50)).unwrap();
        assert_eq!(all.entries[2].line.as_deref(), Some("c"));
    }

    #[test]
    fn windows_saved_whole_by_older_versions_still_load_and_junk_does_not() {
        let old = r#"{"entries":[{"at_ms":5,"count":2,"line":"x"}],"total":2}"#;
        let w = decode_window(old).unwrap();
        assert_eq!((w.total, w.entries[0].line.as_deref()), (2, Some("x")));
        assert!(decode_window("{\"v\":3,\"e\":[]}").is_none());
        assert!(decode_window("not json").is_none());
    }
}
