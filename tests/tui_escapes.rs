//! Escape injection: incident text carrying terminal control sequences is
//! shown as visible, inert text. The raw bytes the console writes to the
//! pty must contain none of the sequences that came from incident text.

mod common;

use std::time::Duration;

use common::Env;

const OSC52: &str = "\u{1b}]52;c;ZXZpbA==\u{7}clip";
const OSC0: &str = "\u{1b}]0;owned-title\u{7}title";
const CSI_CLEAR: &str = "\u{1b}[2J\u{1b}[31mwiped";
const BIDI: &str = "invoice\u{202E}fdp.exe";
const C1_CSI: &str = "\u{9b}2Jc1";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn escape_sequences_in_incident_text_never_reach_the_terminal() {
    let sb = Env::new();
    let mut ids = Vec::new();
    for (i, payload) in [OSC52, OSC0, CSI_CLEAR, BIDI, C1_CSI].iter().enumerate() {
        let title = format!("T{i} {payload}");
        let summary = format!("S{i} {payload}");
        let id = sb.ok(&[
            "incident",
            "new",
            "--title",
            &title,
            "--severity",
            "P2",
            "--summary",
            &summary,
            "--affected",
            payload,
        ]);
        let id = id.trim().to_string();
        // Timeline details and actors, and role holders, carry it too.
        sb.ok(&["incident", "note", &id, payload]);
        sb.ok(&["incident", "assign", &id, "commander", payload]);
        ids.push(id);
    }
    let mut c = sb.console(120, 40, &[]);
    // The board shows each title, made visible (ESC as ␛, bidi as <U+202E>).
    c.wait_text("␛]52;c;ZXZpbA==␇clip");
    c.wait_text("<U+202E>fdp.exe");
    // Open every incident so the summary, timeline and roles panes draw it.
    for _ in &ids {
        c.key_enter();
        c.wait_text("Timeline");
        std::thread::sleep(Duration::from_millis(300));
        c.key_esc();
        c.wait_text("MOST URGENT CLOCK");
        c.type_text("j");
    }
    // Also the edit dialog, pre-filled with the title.
    c.key_enter();
    c.wait_text("Timeline");
    c.type_text("t");
    c.wait_text("Edit title");
    std::thread::sleep(Duration::from_millis(300));
    c.key_esc();
    c.key_esc();
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));

    let raw = c.raw();
    assert!(!raw.is_empty());
    // No OSC at all (the console itself never sets titles or clipboards).
    assert!(
        !contains(&raw, b"\x1b]"),
        "an OSC sequence reached the terminal"
    );
    assert!(!raw.contains(&0x07), "a BEL reached the terminal");
    assert!(
        !contains(&raw, b"\x1b[2J\x1b[31mwiped"),
        "CSI from a title reached the terminal"
    );
    assert!(
        !contains(&raw, "\u{202E}".as_bytes()),
        "a bidi override reached the terminal"
    );
    assert!(
        !contains(&raw, "\u{9b}".as_bytes()),
        "a C1 CSI reached the terminal"
    );
    assert!(!contains(&raw, b"owned-title\x07"));
    // Every ESC the console wrote starts a sequence it means: CSI or the
    // keypad/charset escapes crossterm uses, never one followed by text
    // from an incident.
    for (i, w) in raw.windows(2).enumerate() {
        if w[0] == 0x1b {
            assert!(
                matches!(w[1], b'[' | b'(' | b')' | b'7' | b'8' | b'=' | b'>'),
                "unexpected ESC {:?} at {i}",
                String::from_utf8_lossy(&raw[i..(i + 16).min(raw.len())])
            );
        }
    }
}
