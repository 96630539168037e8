//! How a rule's window is saved with a watcher's commit: only what a
//! restart needs, compact (see [`encode_window`]).

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use flate2::read::DeflateDecoder;
use flate2::{Compress, Compression, FlushCompress, Status};
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

/// Saved text shorter than this stays JSON. A window of one or two lines
/// hardly shrinks once base64 is added back, and each attempt costs a
/// compressor reset (its tables cleared): tried on every window of a
/// 100,000-address flood, it doubled the watcher's CPU time. Windows of
/// several lines (an armed sequence window keeps five) halve.
const COMPRESS_FROM: usize = 400;

/// What marks a saved window as deflated JSON in base64 (JSON starts with
/// `{`).
const DEFLATED: char = '~';

/// The most a saved window may inflate to (it holds at most
/// `MAX_EVIDENCE_LINES` lines); more is a damaged row, not a window.
const MAX_INFLATED: u64 = 16 << 20;

/// A window as saved: entry times as differences from the one before (the
/// first's from the epoch) with their counts, the `distinct` values if the
/// rule counts them, and the lines of only the first entries, as many as a
/// detection keeps: a flood's windows are rewritten by every commit until
/// they fire, and their lines were most of what was written. Longer ones
/// are deflated (see [`DEFLATED`]): the lines of one key differ only in
/// times, ports and pids, so an armed sequence window takes less than half
/// its bytes.
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
    let json = serde_json::to_string(&saved).unwrap_or_default();
    if json.len() < COMPRESS_FROM {
        return json;
    }
    match deflate(&json) {
        Some(z) if z.len() < json.len() => z,
        _ => json,
    }
}

thread_local! {
    /// One compressor per thread, reset for each window: a new one
    /// allocates and clears its tables, and a flood's commit saves
    /// thousands of windows.
    static DEFLATER: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// `json` deflated, in base64 after the [`DEFLATED`] mark.
fn deflate(json: &str) -> Option<String> {
    let bytes = DEFLATER.with(|c| {
        let mut c = c.try_borrow_mut().ok()?;
        c.reset();
        // Room for stored blocks if it does not compress (then unused).
        let mut bytes = Vec::with_capacity(json.len() + json.len() / 1024 * 5 + 64);
        match c.compress_vec(json.as_bytes(), &mut bytes, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => Some(bytes),
            _ => None,
        }
    })?;
    let mut out = String::with_capacity(1 + bytes.len() * 4 / 3 + 4);
    out.push(DEFLATED);
    STANDARD_NO_PAD.encode_string(bytes, &mut out);
    Some(out)
}

/// The JSON of a deflated window; None if it does not inflate.
fn inflate(b64: &str) -> Option<String> {
    let bytes = STANDARD_NO_PAD.decode(b64).ok()?;
    let mut json = String::new();
    DeflateDecoder::new(bytes.as_slice())
        .take(MAX_INFLATED)
        .read_to_string(&mut json)
        .ok()?;
    Some(json)
}

/// A window from its saved text (this form, deflated or not, or the JSON
/// of the whole window that older versions saved). None if it is neither.
pub fn decode_window(text: &str) -> Option<Window> {
    match text.strip_prefix(DEFLATED) {
        Some(b64) => decode_json(&inflate(b64)?),
        None => decode_json(text),
    }
}

fn decode_json(text: &str) -> Option<Window> {
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
    fn long_windows_are_saved_deflated_and_come_back_the_same() {
        let lines: Vec<String> = (0..5)
            .map(|i| {
                format!(
                    "Dec  3 11:29:{:02} bastion-1 sshd[{}]: Failed password for root from 10.0.1.2 port {} ssh2",
                    10 + i * 5,
                    4000 + i * 31,
                    30258 + i * 5000
                )
            })
            .collect();
        let w = Window {
            entries: lines
                .iter()
                .enumerate()
                .map(|(i, l)| entry(1_700_000_000_000 + i as i64 * 5000, 1, l, Some("root")))
                .collect(),
            total: 5,
            armed_ms: Some(1_700_000_020_000),
            dirty: true,
        };
        let text = encode_window(&w, 50);
        let raw: usize = lines.iter().map(String::len).sum();
        assert!(text.starts_with('~'), "{text}");
        assert!(
            text.len() * 10 < raw * 6,
            "{} bytes for {raw} of lines",
            text.len()
        );
        let back = decode_window(&text).unwrap();
        let got: Vec<_> = back
            .entries
            .iter()
            .map(|e| (e.at_ms, e.line.clone().unwrap(), e.value.as_deref()))
            .collect();
        let want: Vec<_> = w
            .entries
            .iter()
            .map(|e| (e.at_ms, e.line.clone().unwrap(), Some("root")))
            .collect();
        assert_eq!(got, want);
        assert_eq!((back.total, back.armed_ms), (5, w.armed_ms));
        // Short ones stay JSON.
        let one = Window {
            entries: VecDeque::from([entry(5, 1, "x", None)]),
            total: 1,
            armed_ms: None,
            dirty: false,
        };
        let short = encode_window(&one, 1);
        assert!(
            short.starts_with('{') && short.len() < COMPRESS_FROM,
            "{short}"
        );
        // So do a campaign window's two sshd lines: not worth a compressor
        // reset at every save of a 100,000-address flood.
        let two = Window {
            entries: w.entries.iter().take(2).cloned().collect(),
            total: 2,
            armed_ms: None,
            dirty: true,
        };
        let two = encode_window(&two, 2);
        assert!(two.starts_with('{'), "{two}");
        assert!(decode_window(&two).is_some());
        // A damaged row is no window, not a panic.
        assert!(decode_window(&text[..text.len() / 2]).is_none());
        assert!(decode_window("~AAAA").is_none());
        assert!(decode_window("~not base64!").is_none());
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
