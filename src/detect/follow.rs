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
//! - deletion and re-creation: like rename, without a copy to find;
//! - a file opened before it held a whole line (just created by a
//!   rotation) has no first bytes to tell it by: when it gains its first
//!   whole line, the copies made of it since it was opened (a
//!   copytruncate before our first read) are read first.
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
use super::rules::Allowlist;
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
    /// watch.toml's `[ignore]`: hits no rule counts, besides the rule
    /// files' own allowlists.
    pub ignore: Allowlist,
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
            ignore: Allowlist::default(),
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
    /// The sources lines came from, numbered for the engine (its windows
    /// expire by their own source's clock), and the last one's number.
    sources: Vec<String>,
    source: usize,
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
        if self.sources.get(self.source).is_none_or(|s| s != source) {
            self.source = match self.sources.iter().position(|s| s == source) {
                Some(i) => i,
                None => {
                    self.sources.push(source.to_string());
                    self.sources.len() - 1
                }
            };
            self.engine
                .set_source(u16::try_from(self.source).unwrap_or(u16::MAX));
        }
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

mod batch;
mod files;
mod intake;
mod opening;
mod rotation;
mod sources;
mod status;

use files::*;
pub use status::{FileState, FileStatus, FollowStatus, RecentMatch};

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
        engine.add_ignore(&config.ignore);
        engine.by_source();
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
                sources: Vec::new(),
                source: 0,
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
    /// log time read) and drops expired windows (by their own source's),
    /// freeing their memory and their saved rows. Runs about once a second, and
    /// once more before the last commit of a run.
    pub fn sweep(&mut self) {
        self.last_quiet_sweep = Some(Instant::now());
        if let Some(h) = self.sink.high_water {
            let mut closed = Vec::new();
            self.sink.engine.close_quiet(h, &mut closed);
            self.sink.engine.drop_expired(h);
            for c in &closed {
                self.sink.recorder.note(c, "");
            }
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

    /// The sinks alerts go through (campaign digests are raised beside
    /// the commits, with the same sinks).
    pub fn notify_sinks(&self) -> &[String] {
        &self.config.notify_sinks
    }
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
