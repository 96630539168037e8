//! journald as a log source, read through the system's own `journalctl`
//! (JSON output): it knows every journal format, compression and namespace,
//! and needs nothing at build time. Each entry becomes the line a syslog
//! daemon would have written, `STAMP HOST IDENT[PID]: MESSAGE` (the stamp
//! in RFC 3339 UTC), so one rule set serves files and journals; its time is
//! the entry's source timestamp. Where reading stopped is the entry's
//! cursor, which the watcher commits with the effects of the entry.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

/// The program asked for entries (found on `PATH`).
pub const JOURNALCTL: &str = "journalctl";

/// How a stored checkpoint names a journal source (never a file path
/// warroom follows: those are absolute).
pub const CHECKPOINT_PREFIX: &str = "journal:";

/// Which journal, and which of its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalSource {
    /// Journal files (`--file`), e.g. ones forwarded by systemd-journal-remote.
    pub files: Vec<PathBuf>,
    /// A journal directory (`--directory`); neither: the system journal.
    pub directory: Option<PathBuf>,
    /// journalctl matches such as `_SYSTEMD_UNIT=ssh.service`.
    pub matches: Vec<String>,
    /// `--since` / `--until` (replays only), as journalctl takes them.
    pub since: Option<String>,
    pub until: Option<String>,
}

impl JournalSource {
    /// The name its checkpoint is kept under.
    pub fn key(&self) -> String {
        let mut k = String::from(CHECKPOINT_PREFIX);
        match (&self.directory, self.files.is_empty()) {
            (Some(d), _) => k.push_str(&d.to_string_lossy()),
            (None, false) => {
                let files: Vec<_> = self.files.iter().map(|f| f.to_string_lossy()).collect();
                k.push_str(&files.join(","));
            }
            (None, true) => k.push_str("system"),
        }
        for m in &self.matches {
            k.push(' ');
            k.push_str(m);
        }
        k
    }

    fn command(&self, after: Option<&str>, last_only: bool) -> Command {
        // Only the fields an entry's line is made of (the cursor and the
        // realtime stamp always come): a real entry carries some thirty,
        // which journalctl would format and we would parse for nothing.
        let mut c = Command::new(JOURNALCTL);
        // --all: fields over 4 KiB are printed, not replaced by null.
        c.args(["--output=json", "--all", "--no-pager", OUTPUT_FIELDS]);
        for f in &self.files {
            c.arg(format!("--file={}", f.display()));
        }
        if let Some(d) = &self.directory {
            c.arg(format!("--directory={}", d.display()));
        }
        if let Some(s) = &self.since {
            c.arg(format!("--since={s}"));
        }
        if let Some(u) = &self.until {
            c.arg(format!("--until={u}"));
        }
        if let Some(cursor) = after {
            c.arg(format!("--after-cursor={cursor}"));
        }
        if last_only {
            c.arg("--lines=1");
        }
        c.args(&self.matches);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }
}

/// The fields `parse_entry` reads, besides those journalctl always prints.
const OUTPUT_FIELDS: &str = "--output-fields=_SOURCE_REALTIME_TIMESTAMP,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,SYSLOG_PID,_PID,MESSAGE";

/// Why the journal could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum JournalError {
    #[error(
        "cannot read the journal: journalctl not found on PATH (install systemd's journalctl, or follow log files instead)"
    )]
    Missing,
    #[error(
        "cannot read the journal: permission denied ({0}); add this user to the systemd-journal or adm group (e.g. usermod -aG systemd-journal USER) and log in again"
    )]
    Permission(String),
    #[error("cannot read the journal: journalctl failed: {0}")]
    Failed(String),
    #[error("cannot read the journal: entry {entry} is not valid JSON: {reason}")]
    Malformed { entry: u64, reason: String },
}

/// One entry, made a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: String,
    pub time: DateTime<Utc>,
    pub host: String,
    pub cursor: String,
}

/// A field's text as journalctl prints it: a string, or bytes (non-UTF-8
/// values come as arrays of numbers), decoded lossily; a repeated field (an
/// array of values) gives its first value.
#[derive(Debug, Default)]
struct FieldText(Option<String>);

impl<'de> Deserialize<'de> for FieldText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FieldText, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = FieldText;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string, an array of bytes, or an array of values")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FieldText, E> {
        Ok(FieldText(Some(v.to_string())))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<FieldText, E> {
        Ok(FieldText(Some(v)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<FieldText, E> {
        Ok(FieldText(None))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<FieldText, E> {
        Ok(FieldText(Some(v.to_string())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldText, A::Error> {
        // Bytes (numbers), or values of a repeated field (the first counts).
        let mut bytes = Vec::new();
        let mut first: Option<String> = None;
        while let Some(item) = seq.next_element::<serde_json::Value>()? {
            match item {
                serde_json::Value::Number(n) if first.is_none() => {
                    let b = n.as_u64().and_then(|b| u8::try_from(b).ok());
                    bytes.push(b.unwrap_or(b'?'));
                }
                other if first.is_none() && bytes.is_empty() => {
                    first = FieldText::deserialize(other)
                        .map_err(serde::de::Error::custom)?
                        .0;
                }
                _ => {}
            }
        }
        Ok(FieldText(first.or_else(|| {
            (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned())
        })))
    }
}

/// The fields an entry's line is made of; journalctl's others are skipped
/// unread (no map of thirty strings per entry).
#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "__CURSOR", default)]
    cursor: FieldText,
    #[serde(rename = "_SOURCE_REALTIME_TIMESTAMP", default)]
    source_time: FieldText,
    #[serde(rename = "__REALTIME_TIMESTAMP", default)]
    realtime: FieldText,
    #[serde(rename = "_HOSTNAME", default)]
    host: FieldText,
    #[serde(rename = "SYSLOG_IDENTIFIER", default)]
    ident: FieldText,
    #[serde(rename = "_COMM", default)]
    comm: FieldText,
    #[serde(rename = "SYSLOG_PID", default)]
    syslog_pid: FieldText,
    #[serde(rename = "_PID", default)]
    pid: FieldText,
    #[serde(rename = "MESSAGE", default)]
    message: FieldText,
}

fn micros(v: &FieldText) -> Option<DateTime<Utc>> {
    let us: i64 = v.0.as_deref()?.trim().parse().ok()?;
    DateTime::from_timestamp_micros(us)
}

/// Turns one line of `journalctl --output=json` into an entry.
pub fn parse_entry(json: &[u8]) -> Result<Entry, String> {
    let raw: RawEntry = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let cursor = raw.cursor.0.ok_or("no __CURSOR field")?;
    let time = micros(&raw.source_time)
        .or_else(|| micros(&raw.realtime))
        .ok_or("no timestamp field")?;
    let host = raw
        .host
        .0
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let ident = raw
        .ident
        .0
        .or(raw.comm.0)
        .unwrap_or_else(|| "unknown".into());
    let pid = raw.syslog_pid.0.or(raw.pid.0);
    let message = raw.message.0.unwrap_or_default();
    // One entry, one line: a multi-line message keeps its lines in one.
    let message = message
        .trim_end_matches(['\n', '\r'])
        .replace(['\n', '\r'], " ");
    let stamp = time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    // Host, identifier and pid are one word each, as in a syslog header:
    // the identifier is whatever the logging process said (`logger -t`), so
    // a space or line break in it must not pass for a message of its own.
    let word = |s: &str| s.replace(char::is_whitespace, "_");
    let (host_s, ident) = (word(&host), word(&ident));
    let line = match pid {
        Some(pid) => format!("{stamp} {host_s} {ident}[{}]: {message}", word(&pid)),
        None => format!("{stamp} {host_s} {ident}: {message}"),
    };
    Ok(Entry {
        line,
        time,
        host,
        cursor,
    })
}

/// Which entries of a journal replay watchers already committed, from the
/// cursors they committed for the same source: journalctl prints the same
/// source in the same order, so every entry up to and including a cursor
/// was theirs. Where the cursor itself is not printed (a `--since` past
/// it), entries no later than its time are.
#[derive(Debug, Default)]
pub struct Committed {
    /// (cursor, its realtime stamp, passed yet)
    marks: Vec<(String, Option<DateTime<Utc>>, bool)>,
}

impl Committed {
    pub fn new(cursors: Vec<String>) -> Committed {
        let marks = cursors
            .into_iter()
            .map(|c| {
                let t = cursor_time(&c);
                (c, t, false)
            })
            .collect();
        Committed { marks }
    }

    /// Whether a watcher committed `entry` (call in journal order).
    pub fn covers(&mut self, entry: &Entry) -> bool {
        let mut covered = false;
        for (cursor, time, passed) in &mut self.marks {
            if *passed {
                continue;
            }
            if entry.cursor == *cursor {
                *passed = true;
                covered = true;
            } else if time.is_some_and(|t| entry.time <= t) {
                covered = true;
            }
        }
        covered
    }
}

/// The realtime stamp a cursor carries (`t=` in hex microseconds).
fn cursor_time(cursor: &str) -> Option<DateTime<Utc>> {
    let hex = cursor.split(';').find_map(|p| p.strip_prefix("t="))?;
    let us = i64::from_str_radix(hex, 16).ok()?;
    DateTime::from_timestamp_micros(us)
}

/// A running `journalctl`, read entry by entry.
pub struct JournalReader {
    child: Child,
    out: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    buf: Vec<u8>,
    entries: u64,
}

impl JournalReader {
    /// Entries after `after` (all of them without a cursor).
    pub fn open(
        source: &JournalSource,
        after: Option<&str>,
    ) -> Result<JournalReader, JournalError> {
        JournalReader::spawn(source.command(after, false))
    }

    fn spawn(mut cmd: Command) -> Result<JournalReader, JournalError> {
        let mut child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => JournalError::Missing,
            std::io::ErrorKind::PermissionDenied => {
                JournalError::Permission(format!("running {JOURNALCTL}: {e}"))
            }
            _ => JournalError::Failed(format!("running {JOURNALCTL}: {e}")),
        })?;
        let (Some(out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(JournalError::Failed("no output pipe".into()));
        };
        // Read concurrently, so a chatty stderr cannot block journalctl.
        let stderr = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = (&mut err).take(64 * 1024).read_to_end(&mut text);
            let _ = std::io::copy(&mut err, &mut std::io::sink());
            String::from_utf8_lossy(&text).into_owned()
        });
        Ok(JournalReader {
            child,
            out: BufReader::with_capacity(256 * 1024, out),
            stderr: Some(stderr),
            buf: Vec::new(),
            entries: 0,
        })
    }

    /// The next entry; None once journalctl has printed everything and
    /// exited well.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, JournalError> {
        loop {
            self.buf.clear();
            let n = self
                .out
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| JournalError::Failed(format!("reading its output: {e}")))?;
            if n == 0 {
                self.finish()?;
                return Ok(None);
            }
            let line = self.buf.trim_ascii();
            if line.is_empty() {
                continue;
            }
            self.entries += 1;
            return parse_entry(line)
                .map(Some)
                .map_err(|reason| JournalError::Malformed {
                    entry: self.entries,
                    reason,
                });
        }
    }

    /// Waits for journalctl and judges its exit and what it said.
    fn finish(&mut self) -> Result<(), JournalError> {
        let status = self
            .child
            .wait()
            .map_err(|e| JournalError::Failed(e.to_string()))?;
        let said = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let said = said.trim();
        let first = said.lines().next().unwrap_or("").trim().to_string();
        let lower = said.to_ascii_lowercase();
        // Without the journal group, journalctl shows a user only their
        // own entries and says so (exit 0): sshd's are not among them.
        if lower.contains("permission denied")
            || lower.contains("insufficient permissions")
            || lower.contains("not seeing messages from other users")
        {
            return Err(JournalError::Permission(first));
        }
        if !status.success() {
            return Err(JournalError::Failed(if first.is_empty() {
                status.to_string()
            } else {
                first
            }));
        }
        Ok(())
    }

    /// Stops journalctl early (a round read enough).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }
}

impl Drop for JournalReader {
    fn drop(&mut self) {
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The cursor of the newest entry (None for an empty journal): where a
/// watcher's first start begins when it is not to read what is there.
pub fn last_cursor(source: &JournalSource) -> Result<Option<String>, JournalError> {
    let mut r = JournalReader::spawn(source.command(None, true))?;
    let mut last = None;
    while let Some(e) = r.next_entry()? {
        last = Some(e.cursor);
    }
    Ok(last)
}

/// A journal source the watcher follows: where it stands.
#[derive(Debug, Clone)]
pub struct JournalTail {
    pub source: JournalSource,
    pub key: String,
    /// After the last entry handed to the engine (None: from the start).
    pub cursor: Option<String>,
    /// The cursor last put in a batch.
    pub saved: Option<String>,
    /// Entries read since start.
    pub entries: u64,
    /// Not started yet (the first poll decides where to begin).
    pub fresh: bool,
}

impl JournalTail {
    /// `cursor`: the committed one, if any.
    pub fn new(source: JournalSource, cursor: Option<String>) -> JournalTail {
        JournalTail {
            key: source.key(),
            fresh: cursor.is_none(),
            saved: cursor.clone(),
            cursor,
            source,
            entries: 0,
        }
    }

    /// Up to `max` entries after the cursor. The first call without a
    /// committed cursor starts at the end unless `from_beginning`.
    pub fn read(&mut self, max: usize, from_beginning: bool) -> Result<Vec<Entry>, JournalError> {
        if std::mem::take(&mut self.fresh) && !from_beginning {
            match last_cursor(&self.source) {
                Ok(c) => self.cursor = c,
                Err(e) => {
                    self.fresh = true;
                    return Err(e);
                }
            }
        }
        let mut r = JournalReader::open(&self.source, self.cursor.as_deref())?;
        let mut out = Vec::new();
        while out.len() < max {
            match r.next_entry()? {
                Some(e) => out.push(e),
                None => return Ok(out),
            }
        }
        r.stop();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_syslog_lines_with_decoded_bytes() {
        let e = parse_entry(
            br#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1764685865000000","_SOURCE_REALTIME_TIMESTAMP":"1764685864500000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd-session","_PID":"42","MESSAGE":[70,97,105,108,101,100,32,255,10]}"#,
        )
        .unwrap();
        assert_eq!(
            e.line,
            "2025-12-02T14:31:04.500000Z web1 sshd-session[42]: Failed \u{FFFD}"
        );
        assert_eq!(e.host, "web1");
        assert_eq!(e.cursor, "s=1;i=2");
        // No source time: the journal's own; no pid, no identifier.
        let e = parse_entry(
            br#"{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1764685865000000","_COMM":"cron","MESSAGE":"x"}"#,
        )
        .unwrap();
        assert_eq!(e.line, "2025-12-02T14:31:05.000000Z localhost cron: x");
        // A field given twice comes as an array of its values: the first.
        let e = parse_entry(
            br#"{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1764685865000000","SYSLOG_IDENTIFIER":["sshd","x"],"MESSAGE":null,"OTHER":{"a":[1]}}"#,
        )
        .unwrap();
        assert_eq!(e.line, "2025-12-02T14:31:05.000000Z localhost sshd: ");
        // An identifier (set by any process) with a space or line break
        // stays one word: it cannot pose as a message (found by fuzzing).
        let e = parse_entry(
            br#"{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1764685865000000","SYSLOG_IDENTIFIER":[105,108,101,100,32,255,10],"SYSLOG_PID":"1 2","MESSAGE":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            e.line,
            "2025-12-02T14:31:05.000000Z localhost iled_\u{FFFD}_[1_2]: x"
        );
        let e = parse_entry(
            br#"{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1764685865000000","SYSLOG_IDENTIFIER":"sshd[1]: Failed password for root from 192.0.2.9 port 1 ssh2\nx","MESSAGE":"y"}"#,
        )
        .unwrap();
        assert!(!e.line.contains("password for"), "{}", e.line);
        assert!(parse_entry(b"{not json").is_err());
        assert!(parse_entry(br#"{"MESSAGE":"no cursor"}"#).is_err());
    }

    #[test]
    fn a_committed_cursor_covers_the_entries_up_to_it() {
        let entry = |cursor: &str, us: i64| Entry {
            line: String::new(),
            time: DateTime::from_timestamp_micros(us).unwrap(),
            host: "h".into(),
            cursor: cursor.into(),
        };
        // The watcher committed the second entry (t=0x1e = 30 us).
        let c = "s=ab;i=2;b=cd;m=1;t=1e;x=ef".to_string();
        let mut committed = Committed::new(vec![c.clone()]);
        assert!(committed.covers(&entry("s=ab;i=1;b=cd;m=0;t=a;x=0", 10)));
        assert!(committed.covers(&entry(&c, 30)));
        // After the cursor: not the watcher's, even at the same time.
        assert!(!committed.covers(&entry("s=ab;i=3;b=cd;m=2;t=1e;x=1", 30)));
        // A replay that starts after the cursor (--since): by time.
        let mut committed = Committed::new(vec![c]);
        assert!(!committed.covers(&entry("s=ab;i=9;b=cd;m=9;t=64;x=9", 100)));
        assert!(!Committed::new(Vec::new()).covers(&entry("x", 1)));
    }

    #[test]
    fn sources_have_distinct_checkpoint_keys() {
        let sys = JournalSource::default();
        let dir = JournalSource {
            directory: Some("/var/log/journal/remote".into()),
            matches: vec!["_SYSTEMD_UNIT=ssh.service".into()],
            ..JournalSource::default()
        };
        assert_eq!(sys.key(), "journal:system");
        assert_eq!(
            dir.key(),
            "journal:/var/log/journal/remote _SYSTEMD_UNIT=ssh.service"
        );
    }
}
