//! Files written whole or not at all, never through a planted link: every
//! temporary file is created in its destination directory with an
//! unpredictable name, `O_CREAT|O_EXCL|O_NOFOLLOW`, and an explicit mode
//! (whatever the umask), then renamed into place. Exports, reports, the
//! outbox, checkpoints and the evidence store all write through here.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Owner-only permissions for files (the project's policy).
pub const PRIVATE_FILE: u32 = 0o600;
/// Owner-only permissions for directories.
pub const PRIVATE_DIR: u32 = 0o700;

/// A file being written under a temporary name beside its destination.
/// Dropped without [`PendingFile::commit`], it is removed.
pub struct PendingFile {
    file: NamedTempFile,
}

/// Opens a new file at `path` exclusively: fails if anything (a file, a
/// symbolic link, even a dangling one) is already there. The mode is set
/// on the open handle afterwards, so the umask cannot widen or narrow it.
pub fn create_exclusive(path: &Path, mode: u32) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(mode))?;
    Ok(file)
}

impl PendingFile {
    /// A new, empty temporary file in `dir` (the directory the final file
    /// goes to, so the rename is atomic), named `.<hint>.<random>.partial`.
    pub fn new_in(dir: &Path, hint: &str, mode: u32) -> io::Result<PendingFile> {
        let prefix = format!(".{hint}.");
        let file = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".partial")
            .rand_bytes(16)
            .make_in(dir, |p| create_exclusive(p, mode))?;
        Ok(PendingFile { file })
    }

    /// The temporary file's path (for error messages and tests).
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub fn as_file(&self) -> &File {
        self.file.as_file()
    }

    pub fn as_file_mut(&mut self) -> &mut File {
        self.file.as_file_mut()
    }

    /// Flushes to disk and renames over `dest` (replacing what is there;
    /// a symbolic link at `dest` is replaced, not followed), then syncs the
    /// directory so the rename survives a crash.
    pub fn commit(self, dest: &Path) -> io::Result<()> {
        self.file.as_file().sync_all()?;
        self.file.persist(dest).map_err(|e| e.error)?;
        sync_parent(dest);
        Ok(())
    }

    /// Like [`PendingFile::commit`], but fails if `dest` exists.
    pub fn commit_new(self, dest: &Path) -> io::Result<()> {
        self.file.as_file().sync_all()?;
        self.file.persist_noclobber(dest).map_err(|e| e.error)?;
        sync_parent(dest);
        Ok(())
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_file_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_file_mut().flush()
    }
}

/// Writes `bytes` to `dest` atomically with `mode` (see [`PendingFile`]).
pub fn write_atomic(dest: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent_dir(dest);
    let hint = dest
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut f = PendingFile::new_in(&dir, &hint, mode)?;
    f.write_all(bytes)?;
    f.commit(dest)
}

/// The directory `path` is in ("." for a bare name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_parent(path: &Path) {
    if let Ok(d) = File::open(parent_dir(path)) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_link_at_the_destination_is_replaced_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs_write(&target, b"precious");
        let dest = dir.path().join("out.txt");
        symlink(&target, &dest).unwrap();
        write_atomic(&dest, b"new", PRIVATE_FILE).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"precious");
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&dest).unwrap().is_symlink());
    }

    #[test]
    fn exclusive_creation_refuses_links_even_dangling_ones() {
        let dir = tempfile::tempdir().unwrap();
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(create_exclusive(&dangling, PRIVATE_FILE).is_err());
        assert!(!dir.path().join("nowhere").exists());
    }

    fn fs_write(p: &Path, b: &[u8]) {
        std::fs::write(p, b).unwrap();
    }
}
