//! Opening a log file to read: regular files only, and for the watcher,
//! no symbolic links and no files of untrusted owners. A watcher often runs
//! as root over directories others can write to; a link planted there (or
//! put in place of a followed log) must not make it read a root-only file
//! into detections, evidence and outgoing mail. Every check is made on the
//! opened handle (`fstat`), and the open itself refuses a link
//! (`O_NOFOLLOW`), so nothing swapped in between a look and the open gets
//! through. The open never blocks (`O_NONBLOCK`): a FIFO is refused, not
//! waited on.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use super::rule_file::kind_of;

/// Which log files may be read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogAccess {
    /// Follow a symbolic link at the log's path (default: refuse it).
    pub allow_symlinks: bool,
    /// Check the owner: root, the owner of the log's directory, the user
    /// running warroom, or one of `trusted_owners`.
    pub check_owner: bool,
    /// More owners (user ids) whose files are read.
    pub trusted_owners: Vec<u32>,
}

impl LogAccess {
    /// Files named on the command line (`scan`): whatever the user names,
    /// as long as it is a regular file.
    pub fn named() -> LogAccess {
        LogAccess {
            allow_symlinks: true,
            check_owner: false,
            trusted_owners: Vec::new(),
        }
    }

    /// Files the watcher follows: no links, trusted owners only, unless
    /// configured otherwise.
    pub fn followed(allow_symlinks: bool, trusted_owners: Vec<u32>) -> LogAccess {
        LogAccess {
            allow_symlinks,
            check_owner: true,
            trusted_owners,
        }
    }

    /// Opens `path` for reading under these rules; the error says what was
    /// refused and which setting would allow it.
    pub fn open(&self, path: &Path) -> io::Result<(File, Metadata)> {
        let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        if !self.allow_symlinks {
            flags |= libc::O_NOFOLLOW;
        }
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) && !self.allow_symlinks => {
                return Err(not_a_log(std::fs::symlink_metadata(path)?.file_type()));
            }
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(not_a_log(meta.file_type()));
        }
        if self.check_owner {
            self.check_owner(path, &meta)?;
        }
        Ok((file, meta))
    }

    /// Refuses a file not owned by root, the directory's owner, the user
    /// running warroom or a trusted owner.
    pub fn check_owner(&self, path: &Path, meta: &Metadata) -> io::Result<()> {
        let uid = meta.uid();
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if uid == 0 || uid == me || self.trusted_owners.contains(&uid) {
            return Ok(());
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if std::fs::metadata(dir).is_ok_and(|d| d.uid() == uid || may_write_in(uid, &d)) {
            return Ok(());
        }
        Err(refused(&format!(
            "owned by user id {uid}, which is neither root, the owner of its directory, a member of the group that may write in it, nor a trusted owner; not read (trusted_owners = [{uid}] in watch.toml, or watch --trusted-owner {uid}, to read it)"
        )))
    }
}

/// Whether `uid` may create files in the directory anyway through its
/// group (Ubuntu's rsyslog writes `/var/log/auth.log` as user `syslog` into
/// `/var/log`, which is `root:syslog 0775`): such a writer could plant
/// files there regardless, so its files are no less trusted than the
/// directory itself.
fn may_write_in(uid: u32, dir: &Metadata) -> bool {
    if dir.mode() & 0o020 == 0 {
        return false;
    }
    let Some((name, primary_gid)) = user_entry(uid) else {
        return false;
    };
    primary_gid == dir.gid() || group_members(dir.gid()).contains(&name)
}

/// A user's name and primary group, from the password database.
fn user_entry(uid: u32) -> Option<(String, u32)> {
    // SAFETY: passwd is plain data; all zeros is valid until getpwuid_r fills it.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives it.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string in `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some((name.to_string_lossy().into_owned(), pwd.pw_gid))
}

/// The supplementary members of a group, from the group database.
fn group_members(gid: u32) -> Vec<String> {
    // SAFETY: group is plain data; all zeros is valid until getgrgid_r fills it.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 64 * 1024];
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives it.
    let rc = unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut out) };
    let mut members = Vec::new();
    if rc != 0 || out.is_null() || grp.gr_mem.is_null() {
        return members;
    }
    let mut p = grp.gr_mem;
    // SAFETY: gr_mem is a NULL-terminated array of NUL-terminated strings
    // in `buf`, valid while `buf` lives.
    unsafe {
        while !(*p).is_null() {
            members.push(std::ffi::CStr::from_ptr(*p).to_string_lossy().into_owned());
            p = p.add(1);
        }
    }
    members
}

/// Up to which position `reads` (a watcher's committed reads of the same
/// file identity) cover `file`: the furthest whose first bytes are this
/// file's (an inode reused by another file does not count). 0: none.
pub fn recorded_upto(file: &File, reads: &[crate::store::SourceRead]) -> u64 {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::FileExt;
    let mut best = 0;
    for r in reads {
        let mut head = vec![0u8; r.check_len as usize];
        let mut got = 0;
        while got < head.len() {
            match file.read_at(&mut head[got..], got as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        if got == head.len() && hex::encode(Sha256::digest(&head)) == r.check_hash {
            best = best.max(r.position);
        }
    }
    best
}

/// Why something that is not a regular file (or is a link the watcher
/// does not follow) is not read as a log.
pub fn not_a_log(ft: std::fs::FileType) -> io::Error {
    if ft.is_symlink() {
        return refused(
            "a symbolic link; not followed (allow_symlinks = true in watch.toml, or watch --allow-symlinks, to follow links)",
        );
    }
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{}, not a regular file: only regular log files are read",
            kind_of(ft)
        ),
    )
}

/// A refusal by policy (as opposed to a failure to read).
fn refused(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, format!("refused: {what}"))
}

/// A user name or number as a user id ("syslog", "104").
pub fn user_id(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return Some(n);
    }
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: passwd is plain data (integers and pointers); all zeros is a
    // valid value, filled in by getpwnam_r.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives it and
    // its length is passed.
    let rc =
        unsafe { libc::getpwnam_r(c.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out) };
    (rc == 0 && !out.is_null()).then_some(pwd.pw_uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_fifos_and_directories_are_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "root:$6$hash\n").unwrap();
        let link = dir.path().join("app.log");
        symlink(&secret, &link).unwrap();
        let watch = LogAccess::followed(false, Vec::new());
        let e = watch.open(&link).unwrap_err();
        assert!(e.to_string().contains("a symbolic link"), "{e}");
        assert!(LogAccess::followed(true, Vec::new()).open(&link).is_ok());
        assert!(LogAccess::named().open(&link).is_ok());

        let fifo = dir.path().join("fifo.log");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = LogAccess::named().open(&fifo).unwrap_err();
        assert!(e.to_string().contains("a FIFO, not a regular file"), "{e}");
        let e = LogAccess::named().open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let e = LogAccess::named().open(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
    }

    #[test]
    fn files_of_other_owners_are_refused_unless_trusted() {
        // SAFETY: no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: giving a file to another owner needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("planted.log");
        std::fs::write(&log, "x\n").unwrap();
        std::os::unix::fs::chown(&log, Some(65534), None).unwrap();
        let e = LogAccess::followed(false, Vec::new())
            .open(&log)
            .unwrap_err();
        assert!(e.to_string().contains("owned by user id 65534"), "{e}");
        assert!(LogAccess::followed(false, vec![65534]).open(&log).is_ok());
        // A user who may write in the directory through its group (as
        // `syslog` may in Ubuntu's `root:syslog 0775` /var/log) is trusted;
        // without the group's write bit, not. nobody's primary group is 65534.
        use std::os::unix::fs::PermissionsExt;
        std::os::unix::fs::chown(dir.path(), None, Some(65534)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(LogAccess::followed(false, Vec::new()).open(&log).is_err());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o775)).unwrap();
        assert!(LogAccess::followed(false, Vec::new()).open(&log).is_ok());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // The directory's owner is trusted.
        std::os::unix::fs::chown(dir.path(), Some(65534), None).unwrap();
        assert!(LogAccess::followed(false, Vec::new()).open(&log).is_ok());
        assert_eq!(user_id("root"), Some(0));
        assert_eq!(user_id("104"), Some(104));
        assert_eq!(user_id("no-such-user-here"), None);
    }
}
