//! How a rule's window is saved with a watcher's commit: only what a
//! restart needs, compact (see [`encode_window`]).

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use flate2::read::DeflateDecoder;
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

/// Saved windows shorter than this (in bytes) are not compressed: a window
/// of one line does not shrink. Those of several lines do (the lines of one
/// key differ only in times, ports and pids): an armed sequence window of
/// five sshd lines takes under half its bytes.
///
/// LZ4, not deflate: deflate made such a window 15% smaller still, but
/// clearing its tables for each window took 9 us against LZ4's 0.3 us, at
/// every commit, for each of a flood's thousands of windows.
const COMPRESS_FROM: usize = 160;

/// The first byte of a saved window: its form. Older versions saved JSON
/// text, starting with `{`, or `~` and base64 of it deflated.
const PLAIN: u8 = 3;
/// LZ4 (a block, after its length as 4 bytes little-endian).
const LZ4: u8 = 5;
const OLD_DEFLATED: u8 = b'~';

/// The most a saved window may inflate to (it holds at most
/// `MAX_EVIDENCE_LINES` lines); more is a damaged row, not a window.
const MAX_INFLATED: usize = 16 << 20;

/// A window as saved, in postcard (variable-length integers, strings as
/// length and bytes): entry times as differences from the one before (the
/// first's from the epoch) with their counts, the `distinct` values if the
/// rule counts them, and the lines of only the first entries, as many as a
/// detection keeps: a flood's windows are rewritten by every commit until
/// they fire, and their lines were most of what was written.
#[derive(Debug, Serialize, Deserialize)]
struct Saved<'a> {
    /// (ms after the entry before, count)
    e: Vec<(i64, u32)>,
    #[serde(borrow)]
    l: Vec<Option<&'a str>>,
    #[serde(borrow)]
    d: Vec<Option<&'a str>>,
    a: Option<i64>,
}

/// The same, as older versions saved it (JSON, `"v": 2`).
#[derive(Debug, Deserialize)]
struct SavedJson<'a> {
    v: u8,
    e: Vec<(i64, u32)>,
    #[serde(default, borrow)]
    l: Vec<Option<Cow<'a, str>>>,
    #[serde(default, borrow)]
    d: Vec<Option<Cow<'a, str>>>,
    #[serde(default)]
    a: Option<i64>,
}

/// A window's saved form, keeping the lines of its first `lines` entries.
pub fn encode_window(w: &Window, lines: usize) -> Vec<u8> {
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
        .map(|x| x.line.as_deref())
        .collect();
    let d = if w.entries.iter().any(|x| x.value.is_some()) {
        w.entries.iter().map(|x| x.value.as_deref()).collect()
    } else {
        Vec::new()
    };
    let saved = Saved {
        e,
        l,
        d,
        a: w.armed_ms,
    };
    // Writing into a Vec only fails on a serializer bug; a form that
    // restores as no window then, rather than a stopped watcher.
    let Ok(out) = postcard::to_extend(&saved, vec![PLAIN]) else {
        return vec![PLAIN];
    };
    if out.len() < COMPRESS_FROM {
        return out;
    }
    match compress(&out[1..]) {
        Some(z) if z.len() < out.len() => z,
        _ => out,
    }
}

/// `body` in LZ4, after the [`LZ4`] mark and its length.
fn compress(body: &[u8]) -> Option<Vec<u8>> {
    let len = u32::try_from(body.len()).ok()?;
    let mut out = vec![0; 5 + lz4_flex::block::get_maximum_output_size(body.len())];
    out[0] = LZ4;
    out[1..5].copy_from_slice(&len.to_le_bytes());
    let n = lz4_flex::block::compress_into(body, &mut out[5..]).ok()?;
    out.truncate(5 + n);
    Some(out)
}

/// An LZ4 body back; None if it is damaged or claims more than a window
/// can hold.
fn decompress(bytes: &[u8]) -> Option<Vec<u8>> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    if len > MAX_INFLATED {
        return None;
    }
    let mut out = vec![0; len];
    let n = lz4_flex::block::decompress_into(&bytes[4..], &mut out).ok()?;
    (n == len).then_some(out)
}

/// What older versions deflated, inflated; None if it does not inflate.
fn inflate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    DeflateDecoder::new(bytes)
        .take(MAX_INFLATED as u64)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// A window from its saved form (this one, compressed or not, or the JSON
/// older versions saved). None if it is none of them.
pub fn decode_window(saved: &[u8]) -> Option<Window> {
    match *saved.first()? {
        PLAIN => decode_postcard(&saved[1..]),
        LZ4 => decode_postcard(&decompress(&saved[1..])?),
        OLD_DEFLATED => {
            let bytes = STANDARD_NO_PAD.decode(&saved[1..]).ok()?;
            decode_json(std::str::from_utf8(&inflate(&bytes)?).ok()?)
        }
        _ => decode_json(std::str::from_utf8(saved).ok()?),
    }
}

fn decode_postcard(body: &[u8]) -> Option<Window> {
    let saved: Saved<'_> = postcard::from_bytes(body).ok()?;
    Some(window_of(saved.e, saved.l, saved.d, saved.a))
}

fn decode_json(text: &str) -> Option<Window> {
    let Ok(saved) = serde_json::from_str::<SavedJson<'_>>(text) else {
        return serde_json::from_str::<Window>(text).ok();
    };
    if saved.v != 2 {
        return None;
    }
    Some(window_of(saved.e, saved.l, saved.d, saved.a))
}

fn window_of<S: AsRef<str>>(
    e: Vec<(i64, u32)>,
    l: Vec<Option<S>>,
    d: Vec<Option<S>>,
    armed_ms: Option<i64>,
) -> Window {
    let mut at = 0i64;
    let mut lines = l.into_iter();
    let mut values = d.into_iter();
    let mut w = Window {
        armed_ms,
        ..Window::default()
    };
    for (delta, count) in e {
        at = at.saturating_add(delta);
        w.total += u64::from(count);
        w.entries.push_back(WindowEntry {
            at_ms: at,
            count,
            line: lines.next().flatten().map(|s| s.as_ref().to_string()),
            value: values.next().flatten().map(|s| s.as_ref().to_string()),
        });
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Each entry's time, count, line and value.
    fn fields(w: &Window) -> Vec<(i64, u32, Option<&str>, Option<&str>)> {
        w.entries
            .iter()
            .map(|e| (e.at_ms, e.count, e.line.as_deref(), e.value.as_deref()))
            .collect()
    }

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
            source: None,
        };
        let text = encode_window(&w, 2);
        assert_eq!(text[0], PLAIN);
        let back = decode_window(&text).unwrap();
        assert_eq!(back.total, 5);
        assert_eq!(back.armed_ms, w.armed_ms);
        assert!(!back.dirty);
        assert_eq!(
            fields(&back),
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
    fn long_windows_are_saved_compressed_and_come_back_the_same() {
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
            source: None,
        };
        let text = encode_window(&w, 50);
        let raw: usize = lines.iter().map(String::len).sum();
        assert_eq!(text[0], LZ4);
        assert!(
            text.len() * 2 < raw,
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
            source: None,
        };
        let short = encode_window(&one, 1);
        assert!(short[0] == PLAIN && short.len() < 16, "{short:?}");
        // So does one sshd line: it does not shrink. Two do.
        let window_of = |n: usize| Window {
            entries: w.entries.iter().take(n).cloned().collect(),
            total: n as u64,
            armed_ms: None,
            dirty: true,
            source: None,
        };
        let one = encode_window(&window_of(1), 2);
        assert_eq!(one[0], PLAIN);
        assert_eq!(decode_window(&one).unwrap().entries, window_of(1).entries);
        let two = encode_window(&window_of(2), 2);
        assert_eq!(two[0], LZ4);
        assert!(two.len() < one.len() + 60, "{} bytes", two.len());
        assert_eq!(decode_window(&two).unwrap().entries, window_of(2).entries);
        // A damaged row is no window, not a panic: cut anywhere, or any
        // byte changed.
        assert!(decode_window(&text[..text.len() / 2]).is_none());
        for saved in [&text, &two, &one] {
            for cut in 0..saved.len() {
                let _ = decode_window(&saved[..cut]);
            }
            for i in 0..saved.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut bad = saved.clone();
                    bad[i] ^= flip;
                    let _ = decode_window(&bad);
                }
            }
        }
        assert!(decode_window(&[LZ4, 0, 0, 0]).is_none());
        assert!(decode_window(&[LZ4, 9, 0, 0, 0, 0x90, 1, 2]).is_none());
        assert!(decode_window(&[LZ4, 0xff, 0xff, 0xff, 0xff, 0]).is_none());
        assert!(decode_window(&[PLAIN, 0xff]).is_none());
        assert!(decode_window(&[]).is_none());
    }

    #[test]
    fn windows_saved_by_older_versions_still_load_and_junk_does_not() {
        // The whole window as JSON.
        let old = br#"{"entries":[{"at_ms":5,"count":2,"line":"x"}],"total":2}"#;
        let w = decode_window(old).unwrap();
        assert_eq!((w.total, w.entries[0].line.as_deref()), (2, Some("x")));
        // The compact JSON form, plain and deflated in base64.
        let json = r#"{"v":2,"e":[[1700000000000,2],[5000,1]],"l":["a","b"],"d":["root",null],"a":1700000005000}"#;
        let plain = decode_window(json.as_bytes()).unwrap();
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, json.as_bytes()).unwrap();
        let deflated = format!("~{}", STANDARD_NO_PAD.encode(z.finish().unwrap()));
        let from_deflated = decode_window(deflated.as_bytes()).unwrap();
        for w in [&plain, &from_deflated] {
            assert_eq!(
                fields(w),
                [
                    (1_700_000_000_000, 2, Some("a"), Some("root")),
                    (1_700_000_005_000, 1, Some("b"), None)
                ]
            );
            assert_eq!((w.total, w.armed_ms), (3, Some(1_700_000_005_000)));
        }
        assert!(decode_window(b"{\"v\":3,\"e\":[]}").is_none());
        assert!(decode_window(b"not json").is_none());
        assert!(decode_window(b"~not base64!").is_none());
    }
}
