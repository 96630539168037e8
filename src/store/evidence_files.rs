//! The evidence store's files: reading what is collected (regular files
//! only), copying it in by streaming (hashing as it goes, keeping holes as
//! holes), and placing each copy read-only at its content address.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Result, Store, StoreError};
use crate::domain::evidence::{CheckResult, blob_path, sha256_hex};
use crate::newfile::{PRIVATE_DIR, PRIVATE_FILE, PendingFile};

/// Copy buffer: large enough to stream quickly, small enough that peak
/// memory does not grow with the item.
const CHUNK: usize = 64 * 1024;

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and its parents) owner-only.
pub(super) fn private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
        .map_err(io_err(dir))
}

/// Hashes a file by streaming it (evidence can be large).
pub(super) fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let size = copy_hashed(&mut f, &mut h, &mut io::sink())?;
    Ok((hex::encode(h.finalize()), size))
}

/// Streams `input` into `out`, hashing every byte; returns the size.
pub(super) fn copy_hashed(
    input: &mut impl Read,
    h: &mut Sha256,
    out: &mut impl Write,
) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(size),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        size += n as u64;
    }
}

/// Like [`copy_hashed`] into a file, but a block of zeros becomes a hole
/// (a seek) instead of written zeros, so a sparse item stays sparse in
/// the store, in copies out and in exported directories.
pub(super) fn copy_sparse(
    input: &mut impl Read,
    h: &mut Sha256,
    out: &mut File,
) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        h.update(chunk);
        if chunk.iter().all(|b| *b == 0) {
            out.seek(SeekFrom::Current(n as i64))?;
        } else {
            out.write_all(chunk)?;
        }
        size += n as u64;
    }
    // A trailing hole has no bytes written after it: fix the length.
    out.set_len(size)?;
    Ok(size)
}

/// What kind of thing a non-regular file is, for error messages.
fn describe_file_type(t: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file (symbolic links
/// are followed). FIFOs, devices, sockets and directories are refused with
/// a clear error instead of being read: opening a FIFO would wait for a
/// writer forever, and a device has no end. The type is checked before
/// opening (a stat never blocks) and again on the open handle, which is
/// opened non-blocking, so a path swapped for a FIFO in between cannot
/// hang the caller either.
pub fn open_regular_file(path: &Path) -> Result<File> {
    let refuse = |t: fs::FileType| {
        StoreError::Invalid(format!(
            "{} is {}; only regular files can be collected as evidence",
            path.display(),
            describe_file_type(t)
        ))
    };
    let meta = fs::metadata(path).map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err(path))?;
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(refuse(meta.file_type()));
    }
    Ok(file)
}

/// Where a collected path really points when it is a symbolic link (the
/// link's own path is recorded too), or `None` for a plain file.
pub(super) fn resolved_link(path: &Path) -> Result<Option<PathBuf>> {
    let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
    if !meta.file_type().is_symlink() {
        return Ok(None);
    }
    fs::canonicalize(path).map(Some).map_err(io_err(path))
}

/// Checks one stored file against a hash.
pub(super) fn check_blob(path: &Path, expected: &str) -> (CheckResult, Option<String>) {
    match hash_file(path) {
        Ok((found, _)) if found == expected => (CheckResult::Ok, Some(found)),
        Ok((found, _)) => (CheckResult::Mismatch, Some(found)),
        Err(_) => (CheckResult::Missing, None),
    }
}

impl Store {
    /// The content-addressed evidence store beside the database:
    /// `<db dir>/<db stem>.evidence`.
    pub fn evidence_dir(&self) -> PathBuf {
        let stem = self
            .path
            .file_stem()
            .map_or_else(|| "warroom".into(), |s| s.to_string_lossy().into_owned());
        self.path
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{stem}.evidence"))
    }

    /// A new temporary file in the store's private `tmp/` folder.
    fn incoming(&self) -> Result<PendingFile> {
        let tmp_dir = self.evidence_dir().join("tmp");
        private_dir(&tmp_dir)?;
        PendingFile::new_in(&tmp_dir, "incoming", PRIVATE_FILE).map_err(io_err(&tmp_dir))
    }

    /// Copies `src` (streaming, hashing as it goes) into the evidence store,
    /// read-only. Identical content is stored once.
    pub(super) fn store_file(&self, src: &Path) -> Result<(String, u64)> {
        let mut input = open_regular_file(src)?;
        let mut tmp = self.incoming()?;
        let mut h = Sha256::new();
        let size =
            copy_sparse(&mut input, &mut h, tmp.as_file_mut()).map_err(|e| StoreError::Io {
                path: src.to_path_buf(),
                source: e,
            })?;
        let sha = hex::encode(h.finalize());
        self.place_blob(tmp, &sha)?;
        Ok((sha, size))
    }

    /// Stores bytes (an excerpt's or a note's text) like a file.
    pub(super) fn store_bytes(&self, bytes: &[u8]) -> Result<String> {
        let mut tmp = self.incoming()?;
        let sha = sha256_hex(bytes);
        tmp.write_all(bytes).map_err(io_err(tmp.path()))?;
        self.place_blob(tmp, &sha)?;
        Ok(sha)
    }

    /// Moves a hashed temporary file to its content address and makes it
    /// read-only; if that content is already stored, checks the copy there
    /// (the temporary file is removed when dropped).
    fn place_blob(&self, tmp: PendingFile, sha: &str) -> Result<()> {
        let dest = self.evidence_dir().join(blob_path(sha));
        if let Some(parent) = dest.parent() {
            private_dir(parent)?;
        }
        if dest.exists() {
            return match check_blob(&dest, sha) {
                (CheckResult::Ok, _) => Ok(()),
                _ => Err(StoreError::Io {
                    path: dest.clone(),
                    source: io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the stored copy of identical content no longer matches its hash; run `warroom evidence verify`",
                    ),
                }),
            };
        }
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o444))
            .map_err(io_err(tmp.path()))?;
        tmp.commit(&dest).map_err(io_err(&dest))
    }
}
