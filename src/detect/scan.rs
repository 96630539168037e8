//! `scan`: replay whole files through the engine by log time (like
//! fail2ban-regex). Files are read in the order given, so pass rotated
//! files oldest first. Lines without a timestamp take the time of the line
//! before them (or the file's modification time).

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::engine::{Change, Engine};
use super::logfile::LogAccess;
use super::logline::{YearInference, prepare};
use super::reader::LineReader;
use crate::store::SourceRead;

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

/// Replays `paths` through `engine`. `now` is the reference for syslog year
/// inference when a file's modification time is unknown. Changes (opened,
/// attached and closed detections) are passed to `on_change` as they
/// happen, with the file of the line and whether that line's effects are
/// recorded already: `recorded(source, file)` says up to which position a
/// watcher committed the source (its identity, e.g. `file:DEV:INODE`; 0:
/// nothing). Every line still goes through the engine, so windows count
/// across the boundary.
pub fn scan_files(
    engine: &mut Engine,
    paths: &[PathBuf],
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
        let (file, meta) = LogAccess::named()
            .open(path)
            .map_err(|e| (path.clone(), e))?;
        let reference = meta.modified().map(DateTime::<Utc>::from).unwrap_or(now);
        let upto = recorded(&SourceRead::file_source(meta.dev(), meta.ino()), &file);
        let mut years = YearInference::new(reference);
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
