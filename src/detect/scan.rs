//! `scan`: replay whole files through the engine by log time (like
//! fail2ban-regex). Files are read in the order given, so pass rotated
//! files oldest first. Lines without a timestamp take the time of the line
//! before them (or the file's modification time). Gzip-compressed files
//! (rotated `auth.log.2.gz`, or any file whose content is gzip whatever its
//! name) are read decompressed. Zone-less stamps are read in the zone given.

use std::fs::File;
use std::io::{Read, Seek};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::engine::{Change, Engine};
use super::journal::{Committed, JournalError, JournalReader, JournalSource};
use super::logfile::LogAccess;
use super::logline::{YearInference, prepare};
use super::reader::LineReader;
use super::zone::LogZone;
use crate::store::SourceRead;

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether a file's content is gzip (by its first bytes, not its name).
pub fn is_gzip(file: &mut File) -> std::io::Result<bool> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    file.rewind()?;
    Ok(got == 2 && head == GZIP_MAGIC)
}

/// A log opened under `access` (regular files only; links and owners as
/// it says), as a reader of its lines: decompressed if its content is gzip.
pub fn open_log(path: &Path, access: &LogAccess) -> std::io::Result<Box<dyn Read>> {
    let (mut file, _) = access.open(path)?;
    Ok(decompressed(&mut file)?.unwrap_or_else(|| Box::new(file)))
}

/// A gzip file's decompressed content (None: not gzip, left at its start).
fn decompressed(file: &mut File) -> std::io::Result<Option<Box<dyn Read>>> {
    if !is_gzip(file)? {
        return Ok(None);
    }
    let file = file.try_clone()?;
    Ok(Some(Box::new(flate2::read::MultiGzDecoder::new(
        std::io::BufReader::new(file),
    ))))
}

/// What a replay saw.
#[derive(Debug, Default, Clone)]
pub struct ScanStats {
    pub files: Vec<PathBuf>,
    pub lines: u64,
    pub bytes: u64,
    /// Lines longer than the limit, cut.
    pub truncated: u64,
    /// Lines that were not valid UTF-8.
    pub lossy: u64,
    /// Lines with no timestamp we could read.
    pub untimed: u64,
}

/// Replays `paths` through `engine`, zone-less stamps read in `zone`.
/// `now` is the reference for syslog year inference when a file's
/// modification time is unknown. Changes (opened, attached and closed
/// detections) are passed to `on_change` as they happen, with the file of
/// the line and whether that line's effects are recorded already:
/// `recorded(source, file)` says up to which position a watcher committed
/// the source (its identity, e.g. `file:DEV:INODE`; 0: nothing). Every line
/// still goes through the engine, so windows count across the boundary.
/// A compressed file is never a watcher's followed file: nothing recorded.
pub fn scan_files(
    engine: &mut Engine,
    paths: &[PathBuf],
    zone: LogZone,
    now: DateTime<Utc>,
    mut recorded: impl FnMut(&str, &File) -> u64,
    mut on_change: impl FnMut(&Engine, &Change, &Path, bool),
) -> Result<ScanStats, (PathBuf, std::io::Error)> {
    let mut stats = ScanStats::default();
    let mut changes = Vec::new();
    // A replay persists no windows.
    engine.set_track_dirty(false);
    for path in paths {
        // A regular file only: a FIFO or a device would never end.
        let (mut file, meta) = LogAccess::named()
            .open(path)
            .map_err(|e| (path.clone(), e))?;
        let reference = meta.modified().map(DateTime::<Utc>::from).unwrap_or(now);
        let (file, upto): (Box<dyn Read>, u64) =
            match decompressed(&mut file).map_err(|e| (path.clone(), e))? {
                Some(gz) => (gz, 0),
                None => {
                    let upto = recorded(&SourceRead::file_source(meta.dev(), meta.ino()), &file);
                    (Box::new(file), upto)
                }
            };
        let mut years = YearInference::new(reference).in_zone(zone);
        let mut last_time = reference;
        let mut reader = LineReader::new(file, 0);
        stats.files.push(path.clone());
        loop {
            // A replayed file is complete: its last line counts even
            // without a newline.
            let (bytes, cut, end): (std::borrow::Cow<'_, [u8]>, bool, u64) =
                match reader.next_line().map_err(|e| (path.clone(), e))? {
                    Some(line) => (
                        std::borrow::Cow::Borrowed(line.bytes),
                        line.truncated,
                        line.end_offset,
                    ),
                    None => match reader.take_partial() {
                        // Never complete for a watcher: not recorded.
                        Some((bytes, cut)) => (std::borrow::Cow::Owned(bytes), cut, u64::MAX),
                        None => break,
                    },
                };
            let is_recorded = end <= upto;
            stats.lines += 1;
            stats.bytes += bytes.len() as u64 + 1;
            let mut l = prepare(&bytes, &mut years);
            l.truncated |= cut;
            stats.truncated += u64::from(l.truncated);
            stats.lossy += u64::from(l.lossy);
            let at = match l.time {
                Some(t) => {
                    last_time = t;
                    t
                }
                None => {
                    stats.untimed += 1;
                    last_time
                }
            };
            engine.process(&l.text, &l.raw, l.count, at, &mut changes);
            for c in changes.drain(..) {
                on_change(engine, &c, path, is_recorded);
            }
        }
    }
    Ok(stats)
}

impl ScanStats {
    /// Adds another source's counts (a journal's, after the files).
    pub fn add(&mut self, other: &ScanStats, name: PathBuf) {
        self.files.push(name);
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.truncated += other.truncated;
        self.lossy += other.lossy;
        self.untimed += other.untimed;
    }
}

/// Replays a journal's entries (in journal order, timed by their source
/// timestamps) through `engine`; `committed` says which entries a watcher
/// already committed, passed to `on_change` like [`scan_files`] does.
pub fn scan_journal(
    engine: &mut Engine,
    source: &JournalSource,
    mut committed: Committed,
    mut on_change: impl FnMut(&Engine, &Change, bool),
) -> Result<ScanStats, JournalError> {
    let mut stats = ScanStats::default();
    let mut changes = Vec::new();
    engine.set_track_dirty(false);
    let mut reader = JournalReader::open(source, None)?;
    while let Some(e) = reader.next_entry()? {
        let mut end = e.line.len().min(super::logline::MAX_LINE_BYTES);
        while !e.line.is_char_boundary(end) {
            end -= 1;
        }
        let text = &e.line[..end];
        stats.lines += 1;
        stats.bytes += e.line.len() as u64 + 1;
        stats.truncated += u64::from(end < e.line.len());
        let recorded = committed.covers(&e);
        engine.process(text, text, 1, e.time, &mut changes);
        for c in changes.drain(..) {
            on_change(engine, &c, recorded);
        }
    }
    Ok(stats)
}
