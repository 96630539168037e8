//! Reading a rule file: the same checks as a configuration file. Only a
//! regular file is read (a FIFO would block `rules check`, `scan` and
//! `watch` forever, `/dev/zero` would never end), opened without blocking
//! and checked again on the open handle, and read up to a bound.

use std::path::Path;

use super::problem::{Position, Problem};

/// The largest rule file read: far above any real one (the shipped rules
/// are a few KiB; 20,000 generated rules about 3 MiB), small enough that
/// a wrong path cannot exhaust memory.
pub const MAX_RULE_FILE_BYTES: u64 = 16 << 20;

/// What kind of thing a path names, for the error.
pub fn kind_of(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The text of the rule file at `path`, or the problem (at line 1, column 1
/// of the file) saying why it cannot be read.
pub fn read_rule_file(path: &Path) -> Result<String, Problem> {
    let problem = |message: String| Problem {
        at: Position {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
        },
        subject: None,
        message,
    };
    // Look before opening: opening some devices has effects of its own.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(problem(format!(
                "cannot read: {} is not a rule file (only regular files are read)",
                kind_of(m.file_type())
            )));
        }
        Ok(_) => {}
        Err(e) => return Err(problem(format!("cannot read: {e}"))),
    }
    // Opened without blocking and checked on the handle: something swapped
    // in after the look is refused too.
    let bytes = crate::config::read_user_file(path, MAX_RULE_FILE_BYTES).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidInput {
            problem(format!("cannot read: {e} (only regular files are read)"))
        } else {
            problem(format!("cannot read: {e}"))
        }
    })?;
    String::from_utf8(bytes).map_err(|e| {
        problem(format!(
            "not UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_directories_and_huge_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("rules.fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer: a blocking read would never return.
        let e = read_rule_file(&fifo).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
        let e = read_rule_file(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = read_rule_file(dir.path()).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let big = dir.path().join("big.yml");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_RULE_FILE_BYTES + 1).unwrap();
        let e = read_rule_file(&big).unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        let ok = dir.path().join("ok.yml");
        std::fs::write(&ok, "rules: []\n").unwrap();
        assert_eq!(read_rule_file(&ok).unwrap(), "rules: []\n");
    }
}
