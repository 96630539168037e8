//! journald as a log source, read through the system's own `journalctl`
//! (export output, read by [`export`]): it knows every journal format,
//! compression and namespace, and needs nothing at build time. Each entry becomes the line a syslog
//! daemon would have written, `STAMP HOST IDENT[PID]: MESSAGE` (the stamp
//! in RFC 3339 UTC), so one rule set serves files and journals; its time is
//! the entry's source timestamp. Where reading stopped is the entry's
//! cursor, which the watcher commits with the effects of the entry.

pub mod export;

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};

use export::{ExportError, ExportReader, Field, Fields, MAX_FIELD_BYTES, OUTPUT_FIELDS};

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
        // Export format, not JSON: journalctl writes it in about a third
        // of the time (measured in BENCHMARKS.md), and values come as they
        // are, bytes or text, with no escaping to undo.
        let mut c = Command::new(JOURNALCTL);
        c.args(["--output=export", "--all", "--no-pager", OUTPUT_FIELDS]);
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
    #[error(
        "cannot read the journal: journalctl's output is malformed at entry {entry} (byte {offset}): {reason}"
    )]
    Malformed {
        entry: u64,
        offset: u64,
        reason: String,
    },
}

/// One entry, made a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: String,
    pub time: DateTime<Utc>,
    pub host: String,
    pub cursor: String,
}

fn micros(v: Option<&[u8]>) -> Option<DateTime<Utc>> {
    let us: i64 = std::str::from_utf8(v?).ok()?.trim().parse().ok()?;
    DateTime::from_timestamp_micros(us)
}

/// Appends `s` as one word, as in a syslog header: whitespace becomes `_`.
fn push_word(line: &mut String, s: &str) {
    line.extend(s.chars().map(|c| if c.is_whitespace() { '_' } else { c }));
}

/// Makes one entry's fields a line (bytes that are not UTF-8 decoded
/// lossily); an entry without a cursor or a time is refused.
fn entry_of(f: &Fields) -> Result<Entry, String> {
    let text = |field| f.get(field).map(String::from_utf8_lossy);
    if f.was_cut(Field::Cursor) {
        return Err(format!(
            "a __CURSOR field longer than {MAX_FIELD_BYTES} bytes"
        ));
    }
    let cursor = text(Field::Cursor).ok_or("no __CURSOR field")?.into_owned();
    let time = micros(f.get(Field::SourceRealtime))
        .or_else(|| micros(f.get(Field::Realtime)))
        .ok_or("no timestamp field")?;
    let host = text(Field::Hostname)
        .filter(|h| !h.is_empty())
        .map_or_else(|| "localhost".to_string(), |h| h.into_owned());
    let ident = text(Field::SyslogIdentifier)
        .or_else(|| text(Field::Comm))
        .unwrap_or(Cow::Borrowed("unknown"));
    let pid = text(Field::SyslogPid).or_else(|| text(Field::Pid));
    let message = text(Field::Message).unwrap_or_default();
    let message = message.trim_end_matches(['\n', '\r']);
    let mut line = String::with_capacity(40 + host.len() + ident.len() + message.len());
    line.push_str(&time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    line.push(' ');
    // Host, identifier and pid are one word each, as in a syslog header:
    // the identifier is whatever the logging process said (`logger -t`), so
    // a space or line break in it must not pass for a message of its own.
    push_word(&mut line, &host);
    line.push(' ');
    push_word(&mut line, &ident);
    if let Some(pid) = pid {
        line.push('[');
        push_word(&mut line, &pid);
        line.push(']');
    }
    line.push_str(": ");
    // One entry, one line: a multi-line message keeps its lines in one.
    line.extend(
        message
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
    );
    Ok(Entry {
        line,
        time,
        host,
        cursor,
    })
}

/// Entries from journalctl's export output, one at a time.
pub struct EntryReader<R> {
    export: ExportReader<R>,
}

impl<R: BufRead> EntryReader<R> {
    pub fn new(out: R) -> EntryReader<R> {
        EntryReader {
            export: ExportReader::new(out),
        }
    }

    /// The next entry; None at the end of the output.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, JournalError> {
        let fields = match self.export.next_entry() {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(ExportError::Io(e)) => {
                return Err(JournalError::Failed(format!("reading its output: {e}")));
            }
            Err(ExportError::Malformed {
                entry,
                offset,
                reason,
            }) => {
                return Err(JournalError::Malformed {
                    entry,
                    offset,
                    reason,
                });
            }
        };
        match entry_of(&fields) {
            Ok(e) => Ok(Some(e)),
            Err(reason) => {
                let (entry, offset) = self.export.position();
                Err(JournalError::Malformed {
                    entry,
                    offset,
                    reason,
                })
            }
        }
    }
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
    out: EntryReader<BufReader<ChildStdout>>,
    stderr: Option<JoinHandle<String>>,
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
            out: EntryReader::new(BufReader::with_capacity(256 * 1024, out)),
            stderr: Some(stderr),
        })
    }

    /// The next entry; None once journalctl has printed everything and
    /// exited well.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, JournalError> {
        match self.out.next_entry()? {
            Some(e) => Ok(Some(e)),
            None => {
                self.finish()?;
                Ok(None)
            }
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
mod tests;
