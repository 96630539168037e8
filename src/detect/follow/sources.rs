//! The follower's other sources: journals (read through journalctl after
//! their committed cursor) and gzip-compressed rotations, which are never
//! tailed (they are finished) but are read once, decompressed, on a first
//! start from the beginning.

use std::borrow::Cow;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{FileState, FileStatus, Follower, ROUND_LINES, id_of, is_glob, read_prefix, shown};
use crate::detect::journal::JournalTail;
use crate::detect::logfile::LogAccess;
use crate::detect::logline::{LogLine, MAX_LINE_BYTES, YearInference};
use crate::detect::reader::LineReader;
use crate::store::{FileCheckpoint, WatchState};

/// The two bytes every gzip member starts with.
pub(super) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn status(key: &str) -> FileStatus {
    FileStatus {
        path: key.to_string(),
        state: FileState::Waiting,
        offset: 0,
        lines: 0,
        truncated: 0,
        lossy: 0,
        rotations: 0,
    }
}

/// Whether `path` is a gzip file the watcher may read (opened under its
/// access rules: no FIFO to block on, no planted link to read through).
fn is_gzip(path: &Path, access: &LogAccess) -> bool {
    access
        .open(path)
        .and_then(|(f, _)| read_prefix(&f, 2))
        .is_ok_and(|h| h == GZIP_MAGIC)
}

impl Follower {
    /// The journals asked for, each resuming after its committed cursor;
    /// on a first start from the beginning, the compressed rotations of
    /// the files followed, oldest first.
    pub(super) fn add_journals(&mut self, state: &WatchState) {
        for source in self.config.journals.clone() {
            let key = source.key();
            let cursor = state
                .checkpoints
                .iter()
                .find(|c| c.path == key)
                .map(|c| c.fingerprint.clone())
                .filter(|c| !c.is_empty());
            let st = status(&key);
            self.journals.push((JournalTail::new(source, cursor), st));
        }
        if self.config.from_beginning && state.checkpoints.is_empty() {
            let mut rotated: Vec<(PathBuf, i64)> = Vec::new();
            for p in &self.config.patterns {
                if is_glob(&p.to_string_lossy()) {
                    continue;
                }
                for (sib, mtime) in compressed_siblings(p, &self.config.access) {
                    if !rotated.iter().any(|(r, _)| *r == sib) {
                        rotated.push((sib, mtime));
                    }
                }
            }
            rotated.sort_by_key(|(_, m)| *m);
            for (p, _) in rotated {
                self.read_compressed(&p);
            }
        }
    }

    /// Whether a glob's match is gzip (never tailed); on the first
    /// expansion of a first start from the beginning it is read once.
    pub(super) fn compressed(&mut self, path: &Path, first: bool) -> bool {
        if !is_gzip(path, &self.config.access) {
            return false;
        }
        let first_start = self.files.iter().all(|t| !t.known);
        if first && first_start && self.config.from_beginning {
            self.read_compressed(path);
        }
        true
    }

    /// Reads a compressed rotation whole, once.
    fn read_compressed(&mut self, path: &Path) {
        let Ok((_, meta)) = self.config.access.open(path) else {
            return;
        };
        let id = id_of(&meta);
        if self.finished.contains(&id) {
            return;
        }
        let source = path.to_string_lossy().into_owned();
        let reader = match crate::detect::scan::open_log(path, &self.config.access) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("{}: {e}", shown(path));
                return;
            }
        };
        tracing::info!("{}: reading the compressed rotation once", shown(path));
        let reference = meta
            .modified()
            .map_or_else(|_| (self.sink.clock)(), chrono::DateTime::from);
        let mut years = YearInference::new(reference).in_zone(self.config.zone_for(path));
        let mut st = status(&source);
        let mut lines = LineReader::new(reader, 0);
        loop {
            match lines.next_line() {
                Ok(Some(l)) => {
                    self.sink
                        .line(l.bytes, l.truncated, &mut years, &source, &mut st);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("{}: {e}", shown(path));
                    break;
                }
            }
        }
        if let Some((bytes, cut)) = lines.take_partial() {
            self.sink.line(&bytes, cut, &mut years, &source, &mut st);
        }
        self.remember_finished(id, &[]);
    }

    /// Reads what each journal gained (one round each). True if one had
    /// more than a round.
    pub(super) fn poll_journals(&mut self) -> bool {
        let mut more = false;
        let from_beginning = self.config.from_beginning;
        for i in 0..self.journals.len() {
            let (tail, st) = &mut self.journals[i];
            match tail.read(ROUND_LINES as usize, from_beginning) {
                Ok(entries) => {
                    st.state = FileState::Following;
                    more |= entries.len() >= ROUND_LINES as usize;
                    let key = tail.key.clone();
                    for e in entries {
                        let (text, truncated) = cut(&e.line);
                        let l = LogLine {
                            text: Cow::Borrowed(text),
                            raw: Cow::Borrowed(text),
                            time: Some(e.time),
                            count: 1,
                            truncated,
                            lossy: false,
                        };
                        let (tail, st) = &mut self.journals[i];
                        st.lines += 1;
                        st.truncated += u64::from(truncated);
                        tail.entries += 1;
                        tail.cursor = Some(e.cursor.clone());
                        if let Some(tap) = self.sink.tap.as_mut() {
                            tap(&key, text.as_bytes());
                        }
                        self.sink.feed(&l, e.time, &key);
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    if st.state != FileState::Error(msg.clone()) {
                        tracing::warn!("{}", crate::text::display_safe(&msg));
                    }
                    st.state = FileState::Error(msg);
                }
            }
        }
        more
    }

    /// The journals' cursors that moved since the last batch.
    pub(super) fn journal_checkpoints(&mut self) -> Vec<FileCheckpoint> {
        let mut out = Vec::new();
        for (tail, _) in &mut self.journals {
            if tail.cursor != tail.saved
                && let Some(cursor) = &tail.cursor
            {
                tail.saved = Some(cursor.clone());
                out.push(FileCheckpoint {
                    path: tail.key.clone(),
                    dev: 0,
                    inode: 0,
                    fp_len: 0,
                    fingerprint: cursor.clone(),
                    offset: tail.entries,
                });
            }
        }
        out
    }
}

/// A line cut at the length limit (on a character boundary).
fn cut(line: &str) -> (&str, bool) {
    if line.len() <= MAX_LINE_BYTES {
        return (line, false);
    }
    let mut end = MAX_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    (&line[..end], true)
}

/// `auth.log.2.gz` and the like beside `path` (by content), with their
/// modification times.
fn compressed_siblings(path: &Path, access: &LogAccess) -> Vec<(PathBuf, i64)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let f = e.file_name();
            let f = f.to_string_lossy();
            f != name && f.starts_with(name.as_ref())
        })
        .map(|e| e.path())
        .filter(|p| is_gzip(p, access))
        .filter_map(|p| access.open(&p).ok().map(|(_, m)| (p, m.mtime())))
        .collect()
}
