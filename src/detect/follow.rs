//! The follow driver: tails log files (literal paths and globs) through the
//! engine, losing and repeating nothing across rotation, truncation and
//! restarts.
//!
//! A followed path has at most one file open. Each [`Follower::poll`] reads
//! what was appended; the caller commits [`Follower::take_batch`] (file
//! checkpoints, changed windows and detections) in one transaction, so the
//! checkpoint of a line and the effects of that line are committed
//! together. After a restart the engine is restored from the same commit
//! and each file is resumed at its checkpoint.
//!
//! How a file is recognised: device and inode, plus the first bytes (up to
//! [`FINGERPRINT_BYTES`]), compared after every read. So:
//! - rename rotation (the path now names another file): the old file is
//!   read to its end first (it stays open), including a last line without
//!   newline, then any files rotated after it while we were behind, then
//!   the new file from its start. While the path is missing or the new file
//!   is still empty, the old file is kept open for [`ROTATE_GRACE`], since
//!   writers such as syslog keep writing to it until they reopen;
//! - copy-and-truncate and plain truncation (same inode, shorter, or other
//!   first bytes): what we had not read yet is read from the copy (found
//!   beside the file by its first bytes), then the file from its start;
//! - deletion and re-creation: like rename, without a copy to find.
//!
//! A last line without its newline is held until the newline arrives.
//! Lines without a timestamp take the arrival time from the injected clock.

use std::collections::VecDeque;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::engine::{Change, Engine};
use super::journal::{JournalSource, JournalTail};
use super::logfile::{LogAccess, not_a_log};
use super::logline::{MAX_LINE_BYTES, YearInference, prepare};
use super::persist::{Recorder, restore, take_windows};
use super::reader::LineReader;
use super::zone::LogZone;
use crate::store::{CommitOutcome, FileCheckpoint, SourceRead, WatchBatch, WatchState};

/// How many of a file's first bytes identify it (with device and inode).
pub const FINGERPRINT_BYTES: usize = 1024;

/// How long a rotated-away file stays open while its path is missing or
/// the new file is still empty (its writer may not have reopened yet).
pub const ROTATE_GRACE: Duration = Duration::from_secs(2);

/// Lines read from one file per poll before the others get their turn
/// (and a commit saves progress). Rotated files are always read whole.
const ROUND_LINES: u64 = 20_000;

/// Read buffer per followed file.
const READ_BUFFER: usize = 64 * 1024;

/// Latest matching lines kept for status views.
const RECENT_MATCHES: usize = 200;

/// Rotated siblings looked at, at most, when catching up.
const MAX_SIBLINGS: usize = 512;

/// "Now", injected so tests control arrival times.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// How the follower starts and paces itself.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// Paths and globs (`*`, `?`, `[...]`), as given.
    pub patterns: Vec<PathBuf>,
    /// Read files that exist at the first start (no checkpoint yet) from
    /// their beginning rather than their end.
    pub from_beginning: bool,
    /// Globs are expanded again this often.
    pub glob_interval: Duration,
    /// The sinks a notify rule's alerts go through, put in every batch
    /// (`WatchBatch::notify_sinks`; the caller delivers
    /// `CommitOutcome::deliver` after each commit). Empty: alerts are
    /// raised and shown, not delivered.
    pub notify_sinks: Vec<String>,
    /// Which files may be read: by default no symbolic links, and only
    /// files of root, the directory's owner or the user running warroom.
    pub access: LogAccess,
    /// The zone zone-less stamps are read in (default: this host's).
    pub zone: LogZone,
    /// Per-pattern zones (watch.toml's `timezone`), before `zone`.
    pub zones: Vec<(PathBuf, LogZone)>,
    /// Journals followed beside the files.
    pub journals: Vec<JournalSource>,
    /// Alert files (Wazuh `alerts.json`) followed as intake sources: their
    /// lines become alerts, not rule input (`follow/intake.rs`).
    pub intake: Vec<IntakeFollow>,
}

impl FollowConfig {
    pub fn new(patterns: Vec<PathBuf>) -> FollowConfig {
        FollowConfig {
            patterns,
            from_beginning: false,
            glob_interval: Duration::from_secs(1),
            notify_sinks: Vec::new(),
            access: LogAccess::followed(false, Vec::new()),
            zone: LogZone::local(),
            zones: Vec::new(),
            journals: Vec::new(),
            intake: Vec::new(),
        }
    }

    /// The zone of a file's zone-less stamps.
    pub fn zone_for(&self, path: &Path) -> LogZone {
        self.zones
            .iter()
            .find(|(p, _)| pattern_matches(p, path))
            .map_or(self.zone, |(_, z)| *z)
    }
}

/// (device, inode)
type FileId = (u64, u64);

fn id_of(m: &Metadata) -> FileId {
    (m.dev(), m.ino())
}

/// The file vanished or was replaced under a read (its first bytes changed).
#[derive(Debug)]
struct Replaced;

impl std::fmt::Display for Replaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("file truncated or replaced during a read")
    }
}

impl std::error::Error for Replaced {}

fn is_replaced(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<Replaced>())
}

/// Reads up to `len` bytes from the start of `file` (without moving its
/// position).
fn read_prefix(file: &File, len: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut out[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    out.truncate(got);
    Ok(out)
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A file read through this checks after every read that its first bytes
/// are still the ones it had: a truncation and refill between two reads
/// must not pass new bytes off as the continuation of the old ones.
struct Guarded {
    file: File,
    fp: Vec<u8>,
}

impl Guarded {
    fn verify(&mut self) -> io::Result<()> {
        let now = read_prefix(&self.file, FINGERPRINT_BYTES)?;
        if now.len() < self.fp.len() || now[..self.fp.len()] != self.fp[..] {
            return Err(io::Error::other(Replaced));
        }
        if now.len() > self.fp.len() {
            self.fp = now;
        }
        Ok(())
    }
}

impl Read for Guarded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if n > 0 {
            self.verify()?;
        }
        Ok(n)
    }
}

/// The file a path is read from.
struct Open {
    reader: LineReader<Guarded>,
    id: FileId,
    years: YearInference,
    /// When the path was first seen naming another file (rename rotation
    /// or deletion): the grace time runs from here.
    rotated_at: Option<Instant>,
}

impl Open {
    fn checkpoint(&self, path: &str) -> FileCheckpoint {
        let fp = &self.reader.get_ref().fp;
        FileCheckpoint {
            path: path.to_string(),
            dev: self.id.0,
            inode: self.id.1,
            fp_len: fp.len() as u32,
            fingerprint: sha_hex(fp),
            offset: self.reader.resume_offset(),
        }
    }
}

/// Where a followed path stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// No file at the path yet.
    Waiting,
    Following,
    /// The last attempt failed (permissions, I/O); retried every poll.
    Error(String),
}

/// One followed path, for status views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    pub path: String,
    pub state: FileState,
    /// Committed-or-not read position in the current file.
    pub offset: u64,
    pub lines: u64,
    pub truncated: u64,
    pub lossy: u64,
    pub rotations: u64,
}

/// A matching line, for status views (raw: sanitize to show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentMatch {
    pub at: DateTime<Utc>,
    pub rule: String,
    pub key: String,
    pub line: String,
}

/// Everything a status view shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowStatus {
    pub files: Vec<FileStatus>,
    /// (rule, hits since start).
    pub rules: Vec<(String, u64)>,
    /// (rule, hits since start an allowlist left uncounted), in the order
    /// of `rules`; part of its hits.
    pub ignored: Vec<(String, u64)>,
    /// Newest last.
    pub recent: Vec<RecentMatch>,
    pub open_detections: usize,
}

struct Tailed {
    path: PathBuf,
    /// The path as stored in checkpoints.
    key: String,
    cur: Option<Open>,
    /// The checkpoint last handed to a batch.
    saved: Option<FileCheckpoint>,
    /// The path has a checkpoint row (so a file appearing is read whole).
    known: bool,
    status: FileStatus,
    /// A checkpoint to resume from (first poll after a restart).
    resume: Option<FileCheckpoint>,
    /// Came from a glob after the first expansion: a new file, read whole.
    new_file: bool,
    /// Since when the path has had no file (files rotated meanwhile, before
    /// we saw the file appear, are read first when it does).
    waiting_since: Option<std::time::SystemTime>,
}

/// A recent match as kept: the rule by number, the line shared by the
/// changes it made (a flood makes hundreds of thousands).
struct Recent {
    at: DateTime<Utc>,
    rule: usize,
    key: String,
    line: Arc<str>,
}

/// Reading a line's worth of effects into the engine.
struct Sink {
    engine: Engine,
    recorder: Recorder,
    clock: Clock,
    changes: Vec<Change>,
    recent: VecDeque<Recent>,
    /// The newest log time seen (for closing quiet detections).
    high_water: Option<DateTime<Utc>>,
    lines: u64,
    tap: Option<LineTap>,
    /// Alert files: their lines go there instead of the engine.
    intake: intake::IntakeLines,
}

/// Sees every line the follower reads, with the file it came from (for
/// diagnostics and tests: the torture test counts lines with it).
pub type LineTap = Box<dyn FnMut(&str, &[u8]) + Send>;

impl Sink {
    fn line(
        &mut self,
        bytes: &[u8],
        cut: bool,
        years: &mut YearInference,
        source: &str,
        st: &mut FileStatus,
    ) {
        if let Some(tap) = self.tap.as_mut() {
            tap(source, bytes);
        }
        if let Some(i) = self.intake.route(&st.path, source) {
            st.lines += 1;
            st.truncated += u64::from(cut);
            self.lines += 1;
            self.intake.line(i, bytes, cut, source);
            return;
        }
        let mut l = prepare(bytes, years);
        l.truncated |= cut;
        st.lines += 1;
        st.truncated += u64::from(l.truncated);
        st.lossy += u64::from(l.lossy);
        let at = l.time.unwrap_or_else(|| (self.clock)());
        self.feed(&l, at, source);
    }

    /// A line already decoded and timed (a journal entry's, or a file's).
    fn feed(&mut self, l: &super::logline::LogLine<'_>, at: DateTime<Utc>, source: &str) {
        self.lines += 1;
        if self.high_water.is_none_or(|h| at > h) {
            self.high_water = Some(at);
        }
        self.engine
            .process(&l.text, &l.raw, l.count, at, &mut self.changes);
        // The line as shown, made once for all the changes it made.
        let mut shown: Option<Arc<str>> = None;
        for c in self.changes.drain(..) {
            self.recorder.note_line(&c, source, &l.raw);
            let (rule, key) = match &c {
                Change::Opened { rule, key } | Change::Attached { rule, key, .. } => (*rule, key),
                Change::Closed { .. } => continue,
            };
            if self.recent.len() == RECENT_MATCHES {
                self.recent.pop_front();
            }
            let line = shown
                .get_or_insert_with(|| {
                    let mut line: String = l.raw.chars().take(1000).collect();
                    if l.raw.len() > line.len() {
                        line.push('\u{2026}');
                    }
                    Arc::from(line)
                })
                .clone();
            self.recent.push_back(Recent {
                at,
                rule,
                key: key.clone(),
                line,
            });
        }
    }
}

mod intake;
mod sources;

pub use intake::IntakeFollow;

/// The follow driver. Not tied to a clock or to file notifications: the
/// caller decides when to [`poll`](Follower::poll) (see [`super::watch`]).
pub struct Follower {
    sink: Sink,
    config: FollowConfig,
    files: Vec<Tailed>,
    /// Identities of files already read to their end (rotated away), so a
    /// glob matching a rotated name does not read it again.
    finished: VecDeque<FileId>,
    /// First bytes of what was read to its end, so copies of it are not
    /// read again.
    read_heads: VecDeque<Vec<u8>>,
    last_glob: Option<Instant>,
    last_quiet_sweep: Option<Instant>,
    first_expansion: bool,
    /// Paths whose checkpoints go at the next batch.
    forget: Vec<String>,
    /// Files read to their end since the last batch (rotated away, copies):
    /// how far, for the batch's source reads.
    finished_reads: Vec<SourceRead>,
    /// Journals followed, with their status.
    journals: Vec<(JournalTail, FileStatus)>,
}

impl Follower {
    /// A follower resuming from `state` (checkpoints, windows and open
    /// detections of the last commit).
    pub fn new(
        mut engine: Engine,
        config: FollowConfig,
        state: &WatchState,
        clock: Clock,
    ) -> Follower {
        let config = intake::with_intake_paths(config);
        let mut recorder = Recorder::default();
        let (w, d) = restore(&mut engine, &mut recorder, state);
        // Restored windows are already committed.
        engine.take_dirty();
        tracing::info!(windows = w, detections = d, "watcher state restored");
        let mut f = Follower {
            sink: Sink {
                engine,
                recorder,
                clock,
                changes: Vec::new(),
                recent: VecDeque::new(),
                high_water: state.high_water,
                lines: 0,
                tap: None,
                intake: intake::IntakeLines::new(&config.intake),
            },
            files: Vec::new(),
            finished: VecDeque::new(),
            read_heads: VecDeque::new(),
            last_glob: None,
            last_quiet_sweep: None,
            first_expansion: true,
            forget: Vec::new(),
            finished_reads: Vec::new(),
            journals: Vec::new(),
            config,
        };
        f.add_journals(state);
        for c in &state.checkpoints {
            let path = PathBuf::from(&c.path);
            // Only paths still asked for (a log dropped from the command
            // line is not followed any more; its checkpoint stays).
            if !f.config.patterns.iter().any(|p| pattern_matches(p, &path)) {
                continue;
            }
            let resume = (c.inode != 0 || c.dev != 0).then(|| c.clone());
            f.add(path, true, resume, false);
        }
        f.expand();
        f
    }

    fn add(&mut self, path: PathBuf, known: bool, resume: Option<FileCheckpoint>, new_file: bool) {
        let key = path.to_string_lossy().into_owned();
        if self.files.iter().any(|t| t.key == key) {
            return;
        }
        self.files.push(Tailed {
            status: FileStatus {
                path: key.clone(),
                state: FileState::Waiting,
                offset: 0,
                lines: 0,
                truncated: 0,
                lossy: 0,
                rotations: 0,
            },
            path,
            key,
            cur: None,
            saved: None,
            known,
            resume,
            new_file,
            waiting_since: None,
        });
    }

    /// Expands globs and adds literal paths (every `glob_interval`).
    fn expand(&mut self) {
        if self
            .last_glob
            .is_some_and(|t| t.elapsed() < self.config.glob_interval)
        {
            return;
        }
        self.last_glob = Some(Instant::now());
        let first = std::mem::replace(&mut self.first_expansion, false);
        for pattern in self.config.patterns.clone() {
            let text = pattern.to_string_lossy();
            if !is_glob(&text) {
                self.add(pattern.clone(), false, None, false);
                continue;
            }
            let Ok(paths) = glob::glob(&text) else {
                continue;
            };
            for p in paths.flatten() {
                if !p.is_file() || self.compressed(&p, first) {
                    continue;
                }
                let key = p.to_string_lossy();
                if self.files.iter().any(|t| t.key == key) {
                    continue;
                }
                // A rotated file of one we follow, now matching the glob
                // under its new name: already read.
                if let Ok(m) = std::fs::metadata(&p)
                    && (self.finished.contains(&id_of(&m))
                        || self
                            .files
                            .iter()
                            .any(|t| t.cur.as_ref().is_some_and(|o| o.id == id_of(&m))))
                {
                    continue;
                }
                self.add(p, false, None, !first);
            }
        }
    }

    /// The directories to watch for file notifications.
    pub fn watch_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for p in &self.config.patterns {
            let text = p.to_string_lossy();
            let dir = if is_glob(&text) {
                literal_prefix(p)
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        for t in &self.files {
            if let Some(d) = t.path.parent() {
                let d = if d.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    d.to_path_buf()
                };
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
        dirs
    }

    /// Reads what every followed file gained. Returns true when a file had
    /// more to read than one round takes (poll again soon).
    pub fn poll(&mut self) -> bool {
        self.expand();
        let mut more = self.poll_journals();
        for i in 0..self.files.len() {
            match self.poll_file(i) {
                Ok(m) => {
                    more |= m;
                    if matches!(self.files[i].status.state, FileState::Error(_)) {
                        self.files[i].status.state = if self.files[i].cur.is_some() {
                            FileState::Following
                        } else {
                            FileState::Waiting
                        };
                    }
                }
                Err(e) => {
                    let t = &mut self.files[i];
                    let msg = format!("{}: {e}", t.key);
                    if t.status.state != FileState::Error(msg.clone()) {
                        tracing::warn!("{}", crate::text::display_safe(&msg));
                    }
                    t.status.state = FileState::Error(msg);
                }
            }
        }
        if self
            .last_quiet_sweep
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            self.sweep();
        }
        more
    }

    /// Closes detections without incident that went quiet (by the newest
    /// log time read), freeing their memory. Runs about once a second, and
    /// once more before the last commit of a run.
    pub fn sweep(&mut self) {
        self.last_quiet_sweep = Some(Instant::now());
        if let Some(h) = self.sink.high_water {
            let mut closed = Vec::new();
            self.sink.engine.close_quiet(h, &mut closed);
            for c in &closed {
                self.sink.recorder.note(c, "");
            }
        }
    }

    fn poll_file(&mut self, i: usize) -> io::Result<bool> {
        let (at_path, refused) = self.look(i)?;
        let t = &mut self.files[i];
        let Some(open) = t.cur.as_mut() else {
            if let Some(e) = refused {
                return Err(e);
            }
            let Some(m) = at_path else {
                if let Some(c) = t.resume.take() {
                    // Rotated while we were down and not re-created yet.
                    self.resume_missing(i, &c)?;
                }
                let t = &mut self.files[i];
                t.status.state = FileState::Waiting;
                t.waiting_since
                    .get_or_insert_with(std::time::SystemTime::now);
                if !t.known {
                    // Remember the path, so a file created while we are
                    // down is read from its start.
                    t.known = true;
                    t.saved = None;
                }
                return Ok(false);
            };
            self.start(i, &m)?;
            return self.read_current(i);
        };
        match at_path {
            Some(m) if id_of(&m) == open.id => {
                open.rotated_at = None;
                self.read_current(i)
            }
            other => {
                // Renamed away or deleted: read what it still gains until
                // its writer moves to the new file (or the grace ends).
                let new_ready = other.as_ref().is_some_and(|m| m.len() > 0);
                let since = *open.rotated_at.get_or_insert_with(Instant::now);
                if !new_ready && since.elapsed() < ROTATE_GRACE {
                    return self.read_current(i);
                }
                let done = self.finish_current(i)?;
                // Pin the file now at the path before catching up, so a
                // rotation meanwhile cannot slip one past us.
                let now_at = match other {
                    Some(m) => {
                        self.open_at(i, &m, 0)?;
                        self.files[i].cur.as_ref().map(|o| o.id)
                    }
                    None => {
                        self.files[i].status.state = FileState::Waiting;
                        None
                    }
                };
                if let Some((meta, fp)) = done {
                    self.catch_up(i, &meta, &fp, now_at)?;
                }
                if let Some(e) = refused {
                    return Err(e);
                }
                self.read_current(i)
            }
        }
    }

    /// What is at path `i` now: a regular file we may read (its metadata),
    /// nothing, or something refused (a link, a FIFO, a directory, a file
    /// of an untrusted owner), with the error that says so. The open
    /// checks again on the handle; this look only decides what to wait for.
    fn look(&self, i: usize) -> io::Result<(Option<Metadata>, Option<io::Error>)> {
        let t = &self.files[i];
        let access = &self.config.access;
        let m = match std::fs::symlink_metadata(&t.path) {
            Ok(m) if m.file_type().is_symlink() && access.allow_symlinks => {
                match std::fs::metadata(&t.path) {
                    Ok(m) => m,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, None)),
                    Err(e) => return Err(e),
                }
            }
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, None)),
            Err(e) => return Err(e),
        };
        if m.file_type().is_symlink() || !m.is_file() {
            // Said without opening it: opening a device can do things.
            return Ok((None, Some(not_a_log(m.file_type()))));
        }
        if access.check_owner
            && let Err(e) = access.check_owner(&t.path, &m)
        {
            return Ok((None, Some(e)));
        }
        Ok((Some(m), None))
    }

    /// First sight of a file at path `i` (at start, or after waiting).
    fn start(&mut self, i: usize, m: &Metadata) -> io::Result<()> {
        let t = &mut self.files[i];
        if let Some(c) = t.resume.take() {
            return self.resume_from(i, &c, m);
        }
        if let Some(since) = t.waiting_since.take() {
            // We waited for it: it may have come and been rotated already.
            self.open_at(i, m, 0)?;
            let since = since
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let since = (since.as_secs() as i64, i64::from(since.subsec_nanos()));
            return self.catch_up_since(i, since, &[], &[]);
        }
        let offset = if t.known || t.new_file || self.config.from_beginning {
            0
        } else {
            // First start on an existing file: from its end (after its
            // last complete line).
            let (f, _) = self.config.access.open(&t.path)?;
            end_of_last_line(&f, m.len())?
        };
        self.open_at(i, m, offset)
    }

    /// After a restart: the file at the path is the checkpoint's one, or it
    /// was rotated or truncated while we were down.
    fn resume_from(&mut self, i: usize, c: &FileCheckpoint, m: &Metadata) -> io::Result<()> {
        let path = self.files[i].path.clone();
        if id_of(m) == (c.dev, c.inode) && m.len() >= c.offset {
            let (f, _) = self.config.access.open(&path)?;
            if matches_checkpoint(&f, c)? {
                return self.open_at(i, m, c.offset);
            }
        }
        // Rotated by rename (the file under another name), or truncated
        // after a copy (the copy has its first bytes).
        let access = &self.config.access;
        let found = siblings(&path).into_iter().find_map(|(p, sm)| {
            // A checkpoint of an empty file has no first bytes to match:
            // only its inode names it (any file starts with no bytes).
            if sm.len() < c.offset || (c.fp_len == 0 && id_of(&sm) != (c.dev, c.inode)) {
                return None;
            }
            let (f, _) = access.open(&p).ok()?;
            matches_checkpoint(&f, c)
                .ok()
                .filter(|ok| *ok)
                .map(|_| (p, sm, f))
        });
        let found = match found {
            Some((p, sm, f)) => {
                tracing::info!(
                    "{}: rotated while stopped; reading the rest of {} first",
                    shown(&path),
                    shown(&p)
                );
                let fp = read_prefix(&f, FINGERPRINT_BYTES)?;
                self.drain(i, f, &p, c.offset)?;
                Some((sm, fp))
            }
            None => {
                tracing::warn!(
                    "{}: the file read before the restart is gone (deleted, or truncated with no copy beside it); reading the file now there from its start",
                    shown(&path)
                );
                None
            }
        };
        self.files[i].status.rotations += 1;
        self.open_at(i, m, 0)?;
        if let Some((sm, fp)) = found {
            let now_at = self.files[i].cur.as_ref().map(|o| o.id);
            self.catch_up(i, &sm, &fp, now_at)?;
        }
        Ok(())
    }

    /// After a restart, no file at the path: finish the one we were
    /// reading if it is beside it under another name.
    fn resume_missing(&mut self, i: usize, c: &FileCheckpoint) -> io::Result<()> {
        let path = self.files[i].path.clone();
        let access = &self.config.access;
        let found = siblings(&path).into_iter().find_map(|(p, sm)| {
            let (f, _) = access.open(&p).ok()?;
            (id_of(&sm) == (c.dev, c.inode) && sm.len() >= c.offset)
                .then_some(())
                .and_then(|_| matches_checkpoint(&f, c).ok().filter(|ok| *ok))
                .map(|_| (p, sm, f))
        });
        if let Some((p, sm, f)) = found {
            let fp = read_prefix(&f, FINGERPRINT_BYTES)?;
            self.drain(i, f, &p, c.offset)?;
            self.catch_up(i, &sm, &fp, None)?;
        }
        Ok(())
    }

    fn open_at(&mut self, i: usize, m: &Metadata, offset: u64) -> io::Result<()> {
        let t = &mut self.files[i];
        let (mut f, opened) = self.config.access.open(&t.path)?;
        // The path may have changed between stat and open: trust the open.
        let id = id_of(&opened);
        let offset = if id == id_of(m) { offset } else { 0 };
        f.seek(SeekFrom::Start(offset))?;
        // The first bytes now, even before reading from the start: a
        // truncation before our first read must not go unseen.
        let fp = read_prefix(&f, FINGERPRINT_BYTES)?;
        if fp.starts_with(&sources::GZIP_MAGIC) {
            return Err(io::Error::other(
                "gzip-compressed: a finished rotation, not followed (replay it with scan)",
            ));
        }
        t.cur = Some(Open {
            reader: LineReader::with_buffer(Guarded { file: f, fp }, offset, READ_BUFFER),
            id,
            years: YearInference::new((self.sink.clock)()).in_zone(self.config.zone_for(&t.path)),
            rotated_at: None,
        });
        t.known = true;
        t.status.state = FileState::Following;
        t.status.offset = offset;
        Ok(())
    }

    /// Reads the current file of path `i` (at most one round of lines),
    /// handling a truncation found on the way.
    fn read_current(&mut self, i: usize) -> io::Result<bool> {
        let mut n = 0u64;
        loop {
            let t = &mut self.files[i];
            let Some(open) = t.cur.as_mut() else {
                return Ok(false);
            };
            let source = t.key.as_str();
            match open.reader.next_line() {
                Ok(Some(line)) => {
                    let (bytes, cut) = (line.bytes, line.truncated);
                    self.sink
                        .line(bytes, cut, &mut open.years, source, &mut t.status);
                    t.status.offset = open.reader.resume_offset();
                    n += 1;
                    if n >= ROUND_LINES {
                        return Ok(true);
                    }
                }
                Ok(None) => {
                    t.status.offset = open.reader.resume_offset();
                    let size = open.reader.get_ref().file.metadata()?.len();
                    let read_to = open.reader.resume_offset() + open.reader.pending();
                    if size < read_to {
                        self.truncated(i)?;
                        continue;
                    }
                    return Ok(false);
                }
                Err(e) if is_replaced(&e) => {
                    self.truncated(i)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The current file of path `i` was truncated (or refilled): read what
    /// we had not read from the copy made before the truncation, if there
    /// is one beside it, then start the file over.
    fn truncated(&mut self, i: usize) -> io::Result<()> {
        let t = &mut self.files[i];
        let Some(open) = t.cur.take() else {
            return Ok(());
        };
        let pos = open.reader.resume_offset();
        let Guarded { mut file, fp } = open.reader.into_inner();
        self.recover_truncation(i, open.id, &fp, pos)?;
        file.seek(SeekFrom::Start(0))?;
        let fp = read_prefix(&file, FINGERPRINT_BYTES)?;
        let t = &mut self.files[i];
        t.cur = Some(Open {
            reader: LineReader::with_buffer(Guarded { file, fp }, 0, READ_BUFFER),
            id: open.id,
            years: open.years,
            rotated_at: None,
        });
        t.status.offset = 0;
        Ok(())
    }

    /// File `id` of path `i`, which started with `fp`, was truncated after
    /// we had read it up to `pos`: what it held after `pos` is only in the
    /// copy made before the truncation (copytruncate), if there is one
    /// beside it. Reads that rest, then what was rotated after the copy.
    fn recover_truncation(&mut self, i: usize, id: FileId, fp: &[u8], pos: u64) -> io::Result<()> {
        let path = self.files[i].path.clone();
        self.files[i].status.rotations += 1;
        // What the file held is read (up to `pos`, the rest from a copy):
        // a copy of it met later is not new.
        self.remember_head(fp);
        if fp.is_empty() {
            tracing::info!("{}: truncated", shown(&path));
            return Ok(());
        }
        let access = &self.config.access;
        let copy = siblings(&path)
            .into_iter()
            .filter(|(_, m)| m.len() >= pos && id_of(m) != id)
            .filter_map(|(p, m)| {
                let (f, _) = access.open(&p).ok()?;
                let head = read_prefix(&f, fp.len()).ok()?;
                (head == fp).then_some((p, m, f))
            })
            .max_by_key(|(_, m, _)| m.mtime() * 1_000_000_000 + m.mtime_nsec());
        match copy {
            Some((p, m, f)) => {
                tracing::info!(
                    "{}: truncated; reading the rest from its copy {}",
                    shown(&path),
                    shown(&p)
                );
                self.drain(i, f, &p, pos)?;
                self.catch_up(i, &m, fp, Some(id))?;
            }
            None => tracing::info!(
                "{}: truncated, with no copy beside it holding what was not read yet",
                shown(&path)
            ),
        }
        Ok(())
    }

    /// The current file of path `i` was rotated away: read it to its end,
    /// its last line even without newline. Returns it (metadata and first
    /// bytes) for catching up on the files rotated after it.
    fn finish_current(&mut self, i: usize) -> io::Result<Option<(Metadata, Vec<u8>)>> {
        let t = &mut self.files[i];
        let Some(open) = t.cur.take() else {
            return Ok(None);
        };
        let source = t.key.clone();
        let Open {
            mut reader,
            id,
            mut years,
            ..
        } = open;
        let mut result = Ok(());
        loop {
            match reader.next_line() {
                Ok(Some(line)) => {
                    let t = &mut self.files[i];
                    self.sink.line(
                        line.bytes,
                        line.truncated,
                        &mut years,
                        &source,
                        &mut t.status,
                    );
                }
                Ok(None) => break,
                Err(e) if is_replaced(&e) => {
                    // Copied and truncated before it was renamed: the rest
                    // of what we were reading is in the copy, then this
                    // file's new content from its start.
                    let pos = reader.resume_offset();
                    let Guarded { mut file, fp } = reader.into_inner();
                    self.recover_truncation(i, id, &fp, pos)?;
                    file.seek(SeekFrom::Start(0))?;
                    let fp = read_prefix(&file, FINGERPRINT_BYTES)?;
                    reader = LineReader::with_buffer(Guarded { file, fp }, 0, READ_BUFFER);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.files[i].status.rotations += 1;
        if let Some((bytes, cut)) = reader.take_partial() {
            let t = &mut self.files[i];
            self.sink
                .line(&bytes, cut, &mut years, &source, &mut t.status);
        }
        let read_to = reader.resume_offset();
        let guarded = reader.into_inner();
        let meta = guarded.file.metadata()?;
        self.finished_reads
            .push(file_read(id, &guarded.fp, read_to));
        self.remember_finished(id, &guarded.fp);
        result?;
        Ok(Some((meta, guarded.fp)))
    }

    /// Remembers a file read to its end (identity and first bytes), so
    /// neither it nor a copy of it is read again when catching up.
    fn remember_finished(&mut self, id: FileId, head: &[u8]) {
        if self.finished.len() >= 4096 {
            self.finished.pop_front();
        }
        self.finished.push_back(id);
        self.remember_head(head);
    }

    fn remember_head(&mut self, head: &[u8]) {
        if !head.is_empty() && !self.read_heads.iter().any(|h| h == head) {
            if self.read_heads.len() >= 1024 {
                self.read_heads.pop_front();
            }
            self.read_heads.push_back(head.to_vec());
        }
    }

    /// Was a file starting with `head` read already (it, or a copy)?
    fn head_read(&self, head: &[u8]) -> bool {
        !head.is_empty()
            && self.read_heads.iter().any(|h| {
                let n = h.len().min(head.len());
                h[..n] == head[..n]
            })
    }

    /// Reads a rotated file (or a truncated file's copy) from `offset` to
    /// its end, its last line even without newline.
    fn drain(&mut self, i: usize, mut f: File, path: &Path, offset: u64) -> io::Result<()> {
        let id = id_of(&f.metadata()?);
        let head = read_prefix(&f, FINGERPRINT_BYTES)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut reader = LineReader::with_buffer(f, offset, READ_BUFFER);
        // The zone of the path followed (a rotated name may not match it).
        let zone = self.config.zone_for(&self.files[i].path);
        let mut years = YearInference::new((self.sink.clock)()).in_zone(zone);
        let source = path.to_string_lossy().into_owned();
        while let Some(line) = reader.next_line()? {
            let t = &mut self.files[i];
            self.sink.line(
                line.bytes,
                line.truncated,
                &mut years,
                &source,
                &mut t.status,
            );
        }
        if let Some((bytes, cut)) = reader.take_partial() {
            let t = &mut self.files[i];
            self.sink
                .line(&bytes, cut, &mut years, &source, &mut t.status);
        }
        self.finished_reads
            .push(file_read(id, &head, reader.resume_offset()));
        self.remember_finished(id, &head);
        Ok(())
    }

    /// After finishing `done` (a rotated file, or a copy of a truncated
    /// one), reads whole the files rotated after it while we were behind.
    fn catch_up(
        &mut self,
        i: usize,
        done: &Metadata,
        done_fp: &[u8],
        skip: Option<FileId>,
    ) -> io::Result<()> {
        let since = (done.mtime(), done.mtime_nsec());
        let done_id = id_of(done);
        self.catch_up_since(i, since, done_fp, &[Some(done_id), skip])
    }

    /// Reads whole the siblings modified since `since` (files rotated while
    /// we were behind), oldest first: not the ones in `skip`, nor files or
    /// copies already read, nor the file now open at the path or a copy of
    /// it (that one is read next, and if it was truncated meanwhile, its
    /// copy is found then).
    fn catch_up_since(
        &mut self,
        i: usize,
        since: (i64, i64),
        done_fp: &[u8],
        skip: &[Option<FileId>],
    ) -> io::Result<()> {
        let path = self.files[i].path.clone();
        let pinned: Option<(FileId, Vec<u8>)> = self.files[i]
            .cur
            .as_ref()
            .map(|o| (o.id, o.reader.get_ref().fp.clone()));
        let mut later: Vec<(PathBuf, Metadata)> = siblings(&path)
            .into_iter()
            .filter(|(_, m)| {
                let id = id_of(m);
                (m.mtime(), m.mtime_nsec()) >= since
                    && !skip.contains(&Some(id))
                    && pinned.as_ref().is_none_or(|p| p.0 != id)
                    && !self.finished.contains(&id)
            })
            .collect();
        later.sort_by_key(|(_, m)| (m.mtime(), m.mtime_nsec()));
        for (p, _) in later {
            let Ok((f, _)) = self.config.access.open(&p) else {
                continue;
            };
            let head = read_prefix(&f, FINGERPRINT_BYTES)?;
            if head.is_empty()
                || head.starts_with(&sources::GZIP_MAGIC)
                || head_matches(&head, done_fp)
                || self.head_read(&head)
                || pinned
                    .as_ref()
                    .is_some_and(|(_, fp)| head_matches(&head, fp))
            {
                continue;
            }
            tracing::info!(
                "{}: reading {} rotated while we were behind",
                shown(&path),
                shown(&p)
            );
            self.drain(i, f, &p, 0)?;
        }
        Ok(())
    }

    /// Anything to commit: changed checkpoints, windows or detections.
    pub fn take_batch(&mut self, watcher: &str) -> WatchBatch {
        let mut checkpoints = Vec::new();
        for t in &mut self.files {
            let cp = match &t.cur {
                Some(open) => open.checkpoint(&t.key),
                // Known path without a file: read it whole when it comes.
                None if t.known => FileCheckpoint {
                    path: t.key.clone(),
                    dev: 0,
                    inode: 0,
                    fp_len: 0,
                    fingerprint: String::new(),
                    offset: 0,
                },
                None => continue,
            };
            // A restart that has not reached a file yet keeps its checkpoint.
            if t.resume.is_some() {
                continue;
            }
            if t.saved.as_ref() != Some(&cp) {
                t.saved = Some(cp.clone());
                checkpoints.push(cp);
            }
        }
        let mut reads = std::mem::take(&mut self.finished_reads);
        reads.extend(
            checkpoints
                .iter()
                .filter(|c| c.dev != 0 || c.inode != 0)
                .map(|c| SourceRead {
                    source: SourceRead::file_source(c.dev, c.inode),
                    check_len: c.fp_len,
                    check_hash: c.fingerprint.clone(),
                    position: c.offset,
                }),
        );
        checkpoints.extend(self.journal_checkpoints());
        let (windows, dropped_windows) = take_windows(&mut self.sink.engine);
        WatchBatch {
            watcher: watcher.to_string(),
            replay: false,
            checkpoints,
            reads,
            forget_paths: std::mem::take(&mut self.forget),
            windows,
            dropped_windows,
            detections: self.sink.recorder.take_changes(&self.sink.engine),
            high_water: self.sink.high_water,
            notify_sinks: self.config.notify_sinks.clone(),
            lease: None,
            intake: self.sink.intake.take(&self.config.notify_sinks),
            flush: false,
        }
    }

    /// Applies what the commit found: detections whose incidents were
    /// resolved or closed are forgotten, so new hits count afresh.
    pub fn committed(&mut self, outcome: &CommitOutcome) {
        for (rule, key) in &outcome.closed {
            if let Some(ri) = self.sink.engine.rule_index(rule) {
                self.sink.engine.close(ri, key);
                self.sink.recorder.forget(ri, key);
            }
        }
    }

    /// Calls `tap` with every line read from now on.
    pub fn set_line_tap(&mut self, tap: LineTap) {
        self.sink.tap = Some(tap);
    }

    /// What is wrong with followed paths now ("PATH: refused: a symbolic
    /// link ..."), for a warning where the watcher runs.
    pub fn file_problems(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|t| match &t.status.state {
                FileState::Error(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// Lines read since start.
    pub fn lines(&self) -> u64 {
        self.sink.lines
    }

    /// Windows the next batch saves, at most.
    pub fn changed_windows(&self) -> usize {
        self.sink.engine.dirty_windows()
    }

    pub fn engine(&self) -> &Engine {
        &self.sink.engine
    }

    pub fn status(&self) -> FollowStatus {
        FollowStatus {
            files: self
                .files
                .iter()
                .map(|t| t.status.clone())
                .chain(self.journals.iter().map(|(_, st)| st.clone()))
                .collect(),
            rules: self
                .sink
                .engine
                .rules()
                .rules
                .iter()
                .zip(&self.sink.engine.hits)
                .map(|(r, h)| (r.name.clone(), *h))
                .collect(),
            ignored: self
                .sink
                .engine
                .rules()
                .rules
                .iter()
                .zip(&self.sink.engine.ignored)
                .map(|(r, n)| (r.name.clone(), *n))
                .collect(),
            recent: self
                .sink
                .recent
                .iter()
                .map(|r| RecentMatch {
                    at: r.at,
                    rule: self.sink.engine.rule(r.rule).name.clone(),
                    key: r.key.clone(),
                    line: r.line.to_string(),
                })
                .collect(),
            open_detections: self.sink.engine.detections().count(),
        }
    }
}

/// How far a file (identity, first bytes) was read.
fn file_read(id: FileId, head: &[u8], position: u64) -> SourceRead {
    SourceRead {
        source: SourceRead::file_source(id.0, id.1),
        check_len: head.len() as u32,
        check_hash: sha_hex(head),
        position,
    }
}

/// A path as it may go into the log (file names are untrusted text).
fn shown(p: &Path) -> String {
    crate::text::display_safe(&p.to_string_lossy()).into_owned()
}

fn pattern_matches(pattern: &Path, path: &Path) -> bool {
    let text = pattern.to_string_lossy();
    if is_glob(&text) {
        glob::Pattern::new(&text).is_ok_and(|g| g.matches_path(path))
    } else {
        pattern == path
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The directory part of a glob before its first wildcard.
fn literal_prefix(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        if is_glob(&c.as_os_str().to_string_lossy()) {
            break;
        }
        out.push(c);
    }
    if out == p {
        out.pop();
    }
    out
}

/// Is one of the two a prefix of the other (and not empty)?
fn head_matches(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

/// Does `f` start with the bytes the checkpoint fingerprinted?
fn matches_checkpoint(f: &File, c: &FileCheckpoint) -> io::Result<bool> {
    let head = read_prefix(f, c.fp_len as usize)?;
    Ok(head.len() == c.fp_len as usize && sha_hex(&head) == c.fingerprint)
}

/// Regular files beside `path` whose names start with its name (rotated
/// copies: `auth.log.1`, `auth.log-20260101`), not compressed ones.
fn siblings(path: &Path) -> Vec<(PathBuf, Metadata)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten().take(MAX_SIBLINGS * 8) {
        let fname = e.file_name();
        let fname = fname.to_string_lossy();
        if fname == name || !fname.starts_with(name.as_ref()) {
            continue;
        }
        if [".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z", ".zip"]
            .iter()
            .any(|x| fname.ends_with(x))
        {
            continue;
        }
        let p = e.path();
        if let Ok(m) = std::fs::metadata(&p)
            && m.is_file()
        {
            out.push((p, m));
            if out.len() >= MAX_SIBLINGS {
                break;
            }
        }
    }
    out
}

/// Where a file's last complete line ends (reading at most the last line
/// limit's worth backwards): following an existing file starts there.
fn end_of_last_line(f: &File, size: u64) -> io::Result<u64> {
    let back = size.min(MAX_LINE_BYTES as u64 + 1);
    let mut buf = vec![0u8; back as usize];
    let start = size - back;
    let mut got = 0;
    while got < buf.len() {
        match f.read_at(&mut buf[got..], start + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(match memchr::memrchr(b'\n', &buf) {
        Some(p) => start + p as u64 + 1,
        None => size,
    })
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
