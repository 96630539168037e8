//! Opening the database: what is refused, and how failures read.

use std::os::unix::fs::symlink;

use super::*;

#[test]
fn a_dangling_link_at_the_database_path_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("planted-target.db");
    let link = dir.path().join("w.db");
    symlink(&target, &link).unwrap();
    let err = Store::open(&link).err().expect("refused");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(!target.exists(), "the link's target was created");
    // A link to a database that is there is still fine.
    Store::open(&target).unwrap();
    Store::open(&link).unwrap();
}

#[test]
fn a_full_disk_is_said_plainly() {
    let path = Path::new("/srv/w.db");
    // What SQLite returns when growing its shared memory fails with ENOSPC.
    let shm = || StoreError::Sqlite {
        path: path.to_path_buf(),
        source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(4874), None),
    };
    let e = classify_io(shm(), libc::ENOSPC);
    assert!(matches!(e, StoreError::DiskFull { .. }), "{e}");
    assert!(e.to_string().contains("the disk is full"), "{e}");
    // Another cause stays what it was.
    assert!(matches!(
        classify_io(shm(), libc::EIO),
        StoreError::Sqlite { .. }
    ));
    // SQLITE_FULL itself.
    let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(13), None);
    assert!(
        sqlite_error(path, full)
            .to_string()
            .contains("the disk is full")
    );
    // And files the store writes (evidence copies) on a full disk.
    let io = StoreError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::from_raw_os_error(libc::ENOSPC),
    };
    assert!(io.to_string().contains("the disk is full"), "{io}");
}
