//! Rotations that land between two polls of a slow follower: a file it
//! opened empty (or restarted from empty) is filled, copied and cut before
//! it read a byte of it. Its first bytes are the only way to tell a
//! truncation, and it had none, so the copy is what must be found.

use super::*;

#[test]
fn a_file_opened_empty_then_filled_copied_and_cut_before_the_next_poll_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "");
    let mut f = reading_from_start(&log);
    append(&log, &lines(0, 10));
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    append(&log, &lines(10, 20));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 20));
    // The copy is not read a second time when the file rotates again.
    append(&log, &lines(20, 25));
    fs::rename(&log, dir.path().join("app.log.2")).unwrap();
    append(&log, &lines(25, 30));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 30));
}

#[test]
fn a_file_cut_to_empty_then_filled_copied_and_cut_again_before_the_next_poll_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 5));
    let mut f = reading_from_start(&log);
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    // Seen cut to nothing: restarted from its (empty) start.
    poll_all(&mut f);
    append(&log, &lines(5, 10));
    copy_and_truncate(&log, &dir.path().join("app.log.2"));
    append(&log, &lines(10, 15));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 15));
}

#[test]
fn a_file_that_appears_and_rotates_twice_before_it_is_read_loses_nothing() {
    // What the torture test's writer did to a slow follower: the file came,
    // was renamed away, the next one was opened while still empty, then
    // filled, copied and cut, all between two polls.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut f = follower(&[&log], &WatchState::default(), true);
    poll_all(&mut f);
    append(&log, &lines(0, 5));
    // File times may lag the system clock by a kernel tick; written after
    // the follower began waiting, it must say so.
    OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    fs::rename(&log, dir.path().join("app.log.r1")).unwrap();
    append(&log, "");
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 5));
    append(&log, &lines(5, 10));
    copy_and_truncate(&log, &dir.path().join("app.log.c2"));
    append(&log, &lines(10, 15));
    // Written to for a while after the copy (in one kernel tick, the copy
    // and the last write would look simultaneous).
    OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(1))
        .unwrap();
    fs::rename(&log, dir.path().join("app.log.r3")).unwrap();
    append(&log, &lines(15, 20));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 20));
}

#[test]
fn a_pending_half_line_is_finished_from_the_copy_after_a_copy_and_truncate() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "");
    let mut f = reading_from_start(&log);
    append(&log, "line 0\nline 1\nli");
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 2), "the half line waits");
    append(&log, "ne 2\nline 3\n");
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    append(&log, &lines(4, 6));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 6));
}

/// The same with commits and a restart in the middle: the copy read
/// before the restart is not read again after it.
#[test]
fn a_restart_after_the_copy_of_an_unread_file_was_read_reads_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let log = dir.path().join("app.log");
    append(&log, "");
    let mut f = follower(&[&log], &WatchState::default(), true);
    poll_all(&mut f);
    commit(&mut f, &mut s);
    append(&log, &lines(0, 10));
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    append(&log, &lines(10, 20));
    poll_all(&mut f);
    commit(&mut f, &mut s);
    drop(f);
    append(&log, &lines(20, 25));
    let f = resumed(&log, &mut s);
    drop(f);
    assert_eq!(stored_counts(&s), once(0, 25));
}

#[test]
fn a_restart_from_an_empty_file_checkpoint_reads_the_copy_of_what_it_held_while_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let log = dir.path().join("app.log");
    append(&log, "");
    let mut f = reading_from_start(&log);
    commit(&mut f, &mut s);
    drop(f);
    // While stopped: filled, copied and cut, and written again.
    append(&log, &lines(0, 5));
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    append(&log, &lines(5, 8));
    resumed(&log, &mut s);
    assert_eq!(stored_counts(&s), once(0, 8));
}

#[test]
fn a_new_file_caught_in_its_first_half_line_does_not_hide_the_files_rotated_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 5));
    let mut f = reading_from_start(&log);
    append(&log, &lines(5, 10));
    fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&log, &lines(10, 15));
    fs::rename(&log, dir.path().join("app.log.2")).unwrap();
    // Its writer has put down half a line: "line 1" begins app.log.2 too.
    append(&log, "line 1");
    poll_all(&mut f);
    append(&log, "5\n");
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 16));
}
