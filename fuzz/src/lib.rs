//! The fuzz targets' bodies. Each `fuzz_targets/NAME.rs` is two lines that
//! hand libFuzzer's bytes to the function of the same name here, so a new
//! target is: a function here, a two-line file, a `[[bin]]` in Cargo.toml.
//!
//! A target panics only on a real finding: a panic inside warroom, or a
//! broken promise checked here (the sanitizer's output holds no control or
//! invisible character; a rendered template respects its output bound).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use warroom::detect::engine::Engine;
use warroom::detect::logline::{YearInference, prepare};
use warroom::detect::rules::{Counted, RuleSet, parse_condition};
use warroom::detect::sigma;

fn reference() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default()
}

/// Rule files, warroom's YAML and Sigma: load, and when anything loaded,
/// build the engine and run the file's own lines through it.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut set = RuleSet::default();
    set.add_texts(&[(PathBuf::from("fuzz.yml"), text.to_string())]);
    // YAML breaks lines at LF, CR LF and a lone CR.
    let lines = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .count();
    for p in &set.problems {
        // Every problem can be shown; its position is inside the file.
        let _ = p.to_string();
        assert!(p.at.line <= lines + 1, "{p}");
    }
    if set.rules.is_empty() {
        return;
    }
    let mut engine = Engine::new(Arc::new(set), 64);
    let mut out = Vec::new();
    let at = reference();
    // A second apart, so windows, sequences and their `within` see time
    // pass; then the same lines again much later.
    for (i, line) in text.lines().take(64).enumerate() {
        engine.process(line, line, 1, at + chrono::Duration::seconds(i as i64), &mut out);
    }
    let later = at + chrono::Duration::hours(2);
    for line in text.lines().take(64) {
        engine.process(line, line, 1, later, &mut out);
    }
    for (ri, _) in engine.rules().rules.iter().enumerate() {
        assert!(engine.ignored[ri] <= engine.hits[ri]);
    }
    engine.close_quiet(later + chrono::Duration::days(1), &mut out);
}

/// Rule conditions: the first line is a condition for both parsers, the
/// other lines are the Sigma selection names it may use.
pub fn condition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (cond, rest) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(c) = parse_condition(cond) {
        // What loads is what the engine can count: distinct counts and
        // sequences always have a threshold and a window; a sequence's two
        // events differ and its `within` is not zero.
        match &c.counted {
            Counted::Events => {}
            Counted::Distinct(field) => {
                assert!(c.threshold.is_some() && !field.is_empty(), "{cond:?}");
            }
            Counted::Then { event, within } => {
                assert!(c.threshold.is_some() && *event != c.event && !within.is_zero(), "{cond:?}");
            }
        }
        if let Some(t) = c.threshold {
            assert!(!t.window.is_zero(), "{cond:?}");
        }
    }
    let names: Vec<String> = rest.lines().take(16).map(str::to_string).collect();
    let _ = sigma::parse_condition(cond, &names);
}

/// Log lines and their timestamps: any bytes, several lines in a row so
/// the year inference sees sequences.
pub fn logline(data: &[u8]) {
    let mut years = YearInference::new(reference());
    for line in data.split(|b| *b == b'\n') {
        let l = prepare(line, &mut years);
        assert!(l.truncated == (line.len() > warroom::detect::logline::MAX_LINE_BYTES));
    }
}

/// The sanitizer: whatever goes in, nothing that steers a terminal or
/// hides itself comes out.
pub fn sanitizer(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let shown = warroom::text::display_safe(&text);
    assert!(shown.chars().all(warroom::text::is_printable), "{shown:?}");
    for line in warroom::text::display_safe_lines(&text) {
        assert!(line.chars().all(warroom::text::is_printable), "{line:?}");
    }
    let edit = warroom::text::editable_safe(&text);
    assert!(
        edit.chars()
            .all(|c| c == '\n' || warroom::text::is_printable(c)),
        "{edit:?}"
    );
    // --json: no risky character raw, and the same text for a parser.
    let mut json = Vec::new();
    if warroom::text::json::to_writer(&mut json, &*text).is_ok() {
        let json = String::from_utf8_lossy(&json);
        assert!(json.chars().all(warroom::text::is_printable), "{json:?}");
        let back: String = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json:?}"));
        assert_eq!(back, text);
    }
}

/// Message fields of one real incident, made once.
fn fields() -> &'static warroom::comms::MessageFields {
    static FIELDS: OnceLock<warroom::comms::MessageFields> = OnceLock::new();
    FIELDS.get_or_init(|| {
        use warroom::domain::{Playbook, Policy, Severity};
        use warroom::store::{NewIncident, Store};
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let mut s = Store::open(&dir.path().join("w.db")).unwrap_or_else(|e| panic!("{e}"));
        let now = reference();
        let mut new = NewIncident::new("Login API returning 500s", Severity::P1);
        new.summary = "Attackers tried passwords.\nSecond line.".into();
        let i = s
            .create_incident(&new, &Playbook::builtin(), "alice", now)
            .unwrap_or_else(|e| panic!("{e}"));
        let d = s.detail(&i.id, None).unwrap_or_else(|e| panic!("{e}"));
        warroom::comms::MessageFields::from_incident(&d, &Policy::builtin(), "soc@example.com", now)
    })
}

/// Message templates: any source renders or fails with an error, in
/// bounded time and memory.
pub fn template(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match warroom::comms::templates::render_source("fuzz.txt", source, fields()) {
        Ok(out) => assert!(out.len() <= warroom::comms::templates::MAX_OUTPUT_BYTES),
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// journalctl's export output as the journal reader takes it: entries
/// until the end or an error. The first byte sets a read buffer of 1 to 64
/// bytes, so names, lengths and values straddle reads: the entries and the
/// error must be the same as read whole, and an entry's line is one line.
pub fn journal_entry(data: &[u8]) {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let whole = journal_entries(rest);
    let capacity = usize::from(*first % 64) + 1;
    let chunked = journal_entries(std::io::BufReader::with_capacity(capacity, rest));
    assert_eq!(whole, chunked, "read through a {capacity}-byte buffer");
}

type JournalRead = (Vec<(String, String, String)>, Option<String>);

fn journal_entries<R: std::io::BufRead>(out: R) -> JournalRead {
    let mut r = warroom::detect::journal::EntryReader::new(out);
    let mut entries = Vec::new();
    loop {
        match r.next_entry() {
            Ok(Some(e)) => {
                assert!(!e.line.contains(['\n', '\r']), "{:?}", e.line);
                entries.push((e.line, e.host, e.cursor));
            }
            Ok(None) => return (entries, None),
            Err(e) => return (entries, Some(e.to_string())),
        }
    }
}

/// Alert payloads as intake receives them: an Alertmanager/Grafana webhook
/// body, and each line as a Wazuh alert and as a generic JSON alert.
pub fn intake(data: &[u8]) {
    use warroom::intake::decode;
    let _ = decode::alertmanager(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        let _ = decode::wazuh(line);
        let _ = decode::generic(line, Some("id"), "time", Some("status"));
        let _ = decode::generic(line, None, "a.b", None);
    }
}
