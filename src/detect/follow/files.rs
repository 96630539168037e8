//! Files as the follower reads them: a guarded reader that notices a file
//! replaced under it, the open file of a path, and path and identity helpers.

use super::*;

/// The file vanished or was replaced under a read (its first bytes changed).
#[derive(Debug)]
pub(super) struct Replaced;

impl std::fmt::Display for Replaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("file truncated or replaced during a read")
    }
}

impl std::error::Error for Replaced {}

pub(super) fn is_replaced(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<Replaced>())
}

/// A file opened before it held a whole line now holds one: before its
/// lines are read, the copies made of it meanwhile must be (see
/// [`Guarded::since`]).
#[derive(Debug)]
pub(super) struct Unconfirmed;

impl std::fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("file gained its first whole line")
    }
}

impl std::error::Error for Unconfirmed {}

pub(super) fn is_unconfirmed(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<Unconfirmed>())
}

/// First bytes that cannot tell a file from its refill: no whole line
/// yet. Every line of a log may start alike ("Dec  3 14:4"), so a part of
/// one says nothing.
pub(super) fn weak(head: &[u8]) -> bool {
    head.len() < FINGERPRINT_BYTES && !head.contains(&b'\n')
}

/// A file's modification time, to the nanosecond.
pub(super) fn mtime_of(m: &Metadata) -> (i64, i64) {
    (m.mtime(), m.mtime_nsec())
}

/// Reads up to `len` bytes from the start of `file` (without moving its
/// position).
pub(super) fn read_prefix(file: &File, len: usize) -> io::Result<Vec<u8>> {
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

pub(super) fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A file read through this checks after every read that its first bytes
/// are still the ones it had: a truncation and refill between two reads
/// must not pass new bytes off as the continuation of the old ones.
pub(super) struct Guarded {
    pub(super) file: File,
    pub(super) fp: Vec<u8>,
    /// While the first bytes are [`weak`], the file's modification time
    /// when it was opened: it may be filled, copied and truncated before
    /// we read a whole line of it (copytruncate soon after a rotation),
    /// and only the copies made since then hold what it had.
    pub(super) since: Option<(i64, i64)>,
}

impl Guarded {
    /// `file`, whose first bytes are `fp`.
    pub(super) fn new(file: File, fp: Vec<u8>) -> io::Result<Guarded> {
        let since = if weak(&fp) {
            Some(mtime_of(&file.metadata()?))
        } else {
            None
        };
        Ok(Guarded { file, fp, since })
    }

    pub(super) fn verify(&mut self) -> io::Result<()> {
        let now = read_prefix(&self.file, FINGERPRINT_BYTES)?;
        if now.len() < self.fp.len() || now[..self.fp.len()] != self.fp[..] {
            return Err(io::Error::other(Replaced));
        }
        if self.since.is_some() && !weak(&now) {
            return Err(io::Error::other(Unconfirmed));
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
pub(super) struct Open {
    pub(super) reader: LineReader<Guarded>,
    pub(super) id: FileId,
    pub(super) years: YearInference,
    /// When the path was first seen naming another file (rename rotation
    /// or deletion): the grace time runs from here.
    pub(super) rotated_at: Option<Instant>,
}

impl Open {
    pub(super) fn checkpoint(&self, path: &str) -> FileCheckpoint {
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

/// How far a file (identity, first bytes) was read.
pub(super) fn file_read(id: FileId, head: &[u8], position: u64) -> SourceRead {
    SourceRead {
        source: SourceRead::file_source(id.0, id.1),
        check_len: head.len() as u32,
        check_hash: sha_hex(head),
        position,
    }
}

/// A path as it may go into the log (file names are untrusted text).
pub(super) fn shown(p: &Path) -> String {
    crate::text::display_safe(&p.to_string_lossy()).into_owned()
}

pub(super) fn pattern_matches(pattern: &Path, path: &Path) -> bool {
    let text = pattern.to_string_lossy();
    if is_glob(&text) {
        glob::Pattern::new(&text).is_ok_and(|g| g.matches_path(path))
    } else {
        pattern == path
    }
}

pub(super) fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The directory part of a glob before its first wildcard.
pub(super) fn literal_prefix(p: &Path) -> PathBuf {
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
pub(super) fn head_matches(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

/// Does `f` start with the bytes the checkpoint fingerprinted?
pub(super) fn matches_checkpoint(f: &File, c: &FileCheckpoint) -> io::Result<bool> {
    let head = read_prefix(f, c.fp_len as usize)?;
    Ok(head.len() == c.fp_len as usize && sha_hex(&head) == c.fingerprint)
}

/// Regular files beside `path` whose names start with its name (rotated
/// copies: `auth.log.1`, `auth.log-20260101`), not compressed ones.
pub(super) fn siblings(path: &Path) -> Vec<(PathBuf, Metadata)> {
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
pub(super) fn end_of_last_line(f: &File, size: u64) -> io::Result<u64> {
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
