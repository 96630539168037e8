//! The follower on real files: appended, rotated, truncated, deleted, and
//! resumed after a restart. Each test drives `poll` itself, so the order of
//! writes and reads is exact (no timing).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::*;
use crate::detect::RuleSet;
use crate::domain::Playbook;
use crate::store::Store;

/// Every line `line N` is one detection keyed by N (a record-only rule),
/// so counting detections per key counts how often each line was read.
const NUMBERED: &str = r#"
events:
  numbered:
    match: 'line (?P<n>\d+)'
  fail:
    match: 'Failed password for \S+ from (?P<src>\S+)'
rules:
  - rule: every line
    condition: numbered
    group_by: n
    action: []
  - rule: brute
    condition: fail > 2 in 1 minute
    severity: high
"#;

fn engine() -> Engine {
    let mut set = RuleSet::default();
    set.add_texts(&[(PathBuf::from("t.yml"), NUMBERED.to_string())]);
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    Engine::new(Arc::new(set), 1000)
}

fn clock() -> Clock {
    Arc::new(|| Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap())
}

fn follower(patterns: &[&Path], state: &WatchState, from_beginning: bool) -> Follower {
    let mut c = FollowConfig::new(patterns.iter().map(|p| p.to_path_buf()).collect());
    c.from_beginning = from_beginning;
    c.glob_interval = Duration::ZERO;
    Follower::new(engine(), c, state, clock())
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn lines(from: u32, to: u32) -> String {
    (from..to).map(|i| format!("line {i}\n")).collect()
}

/// How many times each numbered line was seen, by number.
fn seen(f: &Follower) -> Vec<(u32, u64)> {
    let mut v: Vec<(u32, u64)> = f
        .engine()
        .detections()
        .filter(|(r, _)| *r == 0)
        .map(|(_, d)| (d.key.parse().unwrap(), d.count))
        .collect();
    v.sort();
    v
}

fn once(from: u32, to: u32) -> Vec<(u32, u64)> {
    (from..to).map(|i| (i, 1)).collect()
}

fn poll_all(f: &mut Follower) {
    while f.poll() {}
}

/// A follower of `log` from its beginning that has read all there is.
fn reading_from_start(log: &Path) -> Follower {
    let mut f = follower(&[log], &WatchState::default(), true);
    poll_all(&mut f);
    f
}

/// What logrotate's copytruncate does: copies `log` to `copy`, then
/// empties `log` in place.
fn copy_and_truncate(log: &Path, copy: &Path) {
    fs::copy(log, copy).unwrap();
    OpenOptions::new()
        .write(true)
        .open(log)
        .unwrap()
        .set_len(0)
        .unwrap();
}

/// An sshd failed password from 7.7.7.7 at 10:00:`n` UTC (one hit of
/// the `brute` rule).
fn failed_password(n: u32) -> String {
    format!("2026-03-01T10:00:{n:02}Z sshd[1]: Failed password for root from 7.7.7.7 port 1 ssh2\n")
}

#[test]
fn appends_are_read_and_a_partial_line_waits_for_its_newline() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 3));
    let mut f = reading_from_start(&log);
    assert_eq!(seen(&f), once(0, 3));
    append(&log, "line 3\nline 4");
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 4), "line 4 has no newline yet");
    append(&log, "2\n");
    poll_all(&mut f);
    let mut want = once(0, 4);
    want.push((42, 1));
    assert_eq!(seen(&f), want);
    assert_eq!(f.status().files[0].lines, 5);
}

#[test]
fn an_existing_file_is_followed_from_its_end_on_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 5));
    let mut f = follower(&[&log], &WatchState::default(), false);
    poll_all(&mut f);
    assert!(seen(&f).is_empty());
    append(&log, &lines(5, 7));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(5, 7));
}

#[test]
fn rename_rotation_reads_the_rest_of_the_old_file_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 10));
    let mut f = reading_from_start(&log);
    // Written after our last read, then rotated, with a last line that
    // never got its newline.
    append(&log, &lines(10, 20));
    append(&log, "line 20");
    fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&log, &lines(21, 30));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 30));
    assert_eq!(f.status().files[0].rotations, 1);
}

#[test]
fn several_rotations_while_behind_are_all_read_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 5));
    let mut f = reading_from_start(&log);
    append(&log, &lines(5, 10));
    fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&log, &lines(10, 20));
    fs::rename(&log, dir.path().join("app.log.2")).unwrap();
    append(&log, &lines(20, 30));
    // copy-and-truncate on top
    copy_and_truncate(&log, &dir.path().join("app.log.3"));
    append(&log, &lines(30, 40));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 40));
}

#[test]
fn copy_and_truncate_reads_the_unread_rest_from_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 10));
    let mut f = reading_from_start(&log);
    append(&log, &lines(10, 20));
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    // Refilled past where we were: only the first bytes tell.
    append(&log, &lines(100, 130));
    poll_all(&mut f);
    let mut want = once(0, 20);
    want.extend(once(100, 130));
    assert_eq!(seen(&f), want);
}

#[test]
fn a_file_filled_copied_and_truncated_before_its_first_read_is_read_from_the_copy() {
    // Opened empty (as after a rename rotation), then filled, copied and
    // truncated and refilled before the follower read a byte of it: the
    // first bytes it had are unknown, so the copy made since it was
    // opened holds the first lines.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "");
    let mut f = reading_from_start(&log);
    assert!(seen(&f).is_empty());
    append(&log, &lines(0, 10));
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    append(&log, &lines(10, 20));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 20));
    // And the copy is not read again when the next rotation catches up.
    append(&log, &lines(20, 25));
    fs::rename(&log, dir.path().join("app.log.2")).unwrap();
    append(&log, &lines(25, 30));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 30));
}

#[test]
fn the_same_before_the_file_is_renamed_away_is_read_in_full_too() {
    // As above, and then renamed away with a new file at the path before
    // the follower looks again: the copy, then the renamed file, then the
    // new one.
    // Modification times a second apart, as on a host where the writes
    // are not all in one clock tick.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let ago = |s: u64| std::time::SystemTime::now() - Duration::from_secs(s);
    let touch = |p: &Path, s: u64| {
        fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(ago(s))
            .unwrap()
    };
    append(&log, "");
    touch(&log, 30);
    let mut f = reading_from_start(&log);
    append(&log, &lines(0, 10));
    let copy = dir.path().join("app.log.c1");
    copy_and_truncate(&log, &copy);
    touch(&copy, 20);
    append(&log, &lines(10, 20));
    touch(&log, 10);
    fs::rename(&log, dir.path().join("app.log.r2")).unwrap();
    append(&log, &lines(20, 30));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 30));
}

#[test]
fn part_of_a_first_line_does_not_pass_a_refill_off_as_the_same_file() {
    // The follower first saw "line 1" (no newline): a refill starting
    // "line 12" begins with the same bytes, yet is another file's content.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, "line 1");
    let mut f = reading_from_start(&log);
    assert!(seen(&f).is_empty(), "no whole line yet");
    append(&log, "0\nline 11\n");
    copy_and_truncate(&log, &dir.path().join("app.log.1"));
    append(&log, &lines(12, 20));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(10, 20));
}

#[test]
fn a_followed_neighbour_is_never_taken_for_a_copy() {
    // app.log.extra is followed under its own name and written while
    // app.log waits for its first line: it is not a rotated copy of
    // app.log, so app.log does not read it.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let extra = dir.path().join("app.log.extra");
    append(&log, "");
    append(&extra, "");
    let mut f = follower(&[&log, &extra], &WatchState::default(), true);
    poll_all(&mut f);
    append(&extra, &lines(100, 110));
    append(&log, &lines(0, 10));
    poll_all(&mut f);
    let mut want = once(0, 10);
    want.extend(once(100, 110));
    assert_eq!(seen(&f), want);
}

#[test]
fn plain_truncation_starts_over_and_deletion_waits_for_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 10));
    let mut f = reading_from_start(&log);
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &lines(10, 12));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 12));
    append(&log, &lines(12, 14));
    fs::remove_file(&log).unwrap();
    poll_all(&mut f);
    assert_eq!(
        seen(&f),
        once(0, 14),
        "the deleted file was read to its end"
    );
    append(&log, &lines(14, 16));
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 16));
}

#[test]
fn a_missing_file_is_waited_for_and_globs_pick_up_new_files_once() {
    let dir = tempfile::tempdir().unwrap();
    let later = dir.path().join("later.log");
    let pattern = dir.path().join("svc-*.log");
    let mut f = follower(&[&later, &pattern], &WatchState::default(), false);
    poll_all(&mut f);
    assert_eq!(f.status().files[0].state, FileState::Waiting);
    append(&later, &lines(0, 3));
    append(&dir.path().join("svc-a.log"), &lines(3, 5));
    poll_all(&mut f);
    append(&dir.path().join("svc-b.log"), &lines(5, 7));
    poll_all(&mut f);
    // A file rotated to a name the glob matches is not read again.
    fs::rename(dir.path().join("svc-a.log"), dir.path().join("svc-a-1.log")).unwrap();
    poll_all(&mut f);
    poll_all(&mut f);
    assert_eq!(seen(&f), once(0, 7));
}

#[test]
fn lines_without_a_timestamp_take_the_arrival_time() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let mut f = follower(&[&log], &WatchState::default(), false);
    poll_all(&mut f);
    append(
        &log,
        &"sshd[1]: Failed password for root from 9.9.9.9 port 1 ssh2\n".repeat(3),
    );
    poll_all(&mut f);
    let d = f.engine().detection(1, "9.9.9.9").expect("brute fired");
    assert_eq!(d.first_seen, clock()());
}

/// Commits through a real store and restarts from it.
fn commit(f: &mut Follower, s: &mut Store) {
    let batch = f.take_batch("default");
    let out = s
        .commit_watch_batch(&batch, &Playbook::builtin(), "w", "h", clock()())
        .unwrap();
    f.committed(&out);
}

/// A follower of `log` resumed from the store's checkpoint, as after a
/// restart, that has read all there is and committed it.
fn resumed(log: &Path, s: &mut Store) -> Follower {
    let state = s.load_watch_state("default").unwrap();
    let mut f = follower(&[log], &state, true);
    poll_all(&mut f);
    commit(&mut f, s);
    f
}

fn stored_counts(s: &Store) -> Vec<(u32, u64)> {
    let mut v: Vec<(u32, u64)> = s
        .detections(false)
        .unwrap()
        .into_iter()
        .filter(|d| d.rule == "every line")
        .map(|d| (d.key.parse().unwrap(), d.count))
        .collect();
    v.sort();
    v
}

#[test]
fn a_restart_resumes_at_the_checkpoint_even_after_rotations_while_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 10));
    append(&log, "line 10");
    let mut f = reading_from_start(&log);
    commit(&mut f, &mut s);
    // Read but never committed (the partial line completed, and more): a
    // crash here must read them again.
    append(&log, "0\n");
    append(&log, &lines(11, 15));
    poll_all(&mut f);
    drop(f);

    // While stopped: more lines, two rotations.
    append(&log, &lines(15, 20));
    fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&log, &lines(20, 25));
    fs::rename(&log, dir.path().join("app.log.2")).unwrap();
    append(&log, &lines(25, 30));

    resumed(&log, &mut s);
    let mut want = once(0, 10);
    want.push((100, 1));
    want.extend(once(11, 30));
    want.sort();
    assert_eq!(stored_counts(&s), want);

    // A path that vanished while stopped, its file renamed away.
    append(&log, &lines(30, 32));
    fs::rename(&log, dir.path().join("app.log.3")).unwrap();
    let mut f = resumed(&log, &mut s);
    append(&log, &lines(32, 33));
    poll_all(&mut f);
    commit(&mut f, &mut s);
    want.extend(once(30, 33));
    want.sort();
    assert_eq!(stored_counts(&s), want);
}

#[test]
fn a_restart_after_a_copy_and_truncate_reads_the_rest_from_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 10));
    let mut f = reading_from_start(&log);
    commit(&mut f, &mut s);
    drop(f);
    append(&log, &lines(10, 20));
    copy_and_truncate(&log, &dir.path().join("app.log-20260301"));
    append(&log, &lines(20, 22));
    resumed(&log, &mut s);
    assert_eq!(stored_counts(&s), once(0, 22));
}

/// A checkpoint taken while the file was empty has no first bytes to
/// recognise it by: after a restart only its inode tells which rotated
/// file it was, never any sibling (an old rotation read long ago would
/// match "no bytes" too).
#[test]
fn a_restart_from_an_empty_file_checkpoint_finds_the_file_by_inode_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let log = dir.path().join("app.log");
    // An old rotation from before the watcher, and the file, empty.
    append(&dir.path().join("app.log.1"), &lines(0, 3));
    append(&log, "");
    let mut f = reading_from_start(&log);
    commit(&mut f, &mut s);
    let cp = &s.watch_checkpoints("default").unwrap()[0];
    assert_eq!(
        (cp.fp_len, cp.offset),
        (0, 0),
        "checkpoint of the empty file"
    );
    drop(f);

    // While stopped the empty file is deleted (what it gained is lost to
    // every tailer) and a new one written: app.log.1 is not the
    // checkpoint's file and is not read.
    append(&log, &lines(3, 5));
    // Held open, so the new file cannot reuse its inode number.
    let _deleted = fs::File::open(&log).unwrap();
    fs::remove_file(&log).unwrap();
    append(&log, &lines(5, 7));
    let mut f = resumed(&log, &mut s);
    let mut want = once(5, 7);
    assert_eq!(stored_counts(&s), want);

    // Empty again at the checkpoint (truncated), then renamed away while
    // stopped: the renamed file (same inode) is finished first, whichever
    // sibling the directory lists first.
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    poll_all(&mut f);
    commit(&mut f, &mut s);
    let cp = &s.watch_checkpoints("default").unwrap()[0];
    assert_eq!(
        (cp.fp_len, cp.offset),
        (0, 0),
        "checkpoint of the emptied file"
    );
    drop(f);
    append(&log, &lines(7, 9));
    fs::rename(&log, dir.path().join("app.log.3")).unwrap();
    append(&log, &lines(9, 10));
    resumed(&log, &mut s);
    want.extend(once(7, 10));
    assert_eq!(stored_counts(&s), want);
}

#[test]
fn windows_survive_a_restart_so_counting_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let log = dir.path().join("auth.log");
    append(&log, &(failed_password(0) + &failed_password(1)));
    let mut f = reading_from_start(&log);
    commit(&mut f, &mut s);
    drop(f);
    append(&log, &failed_password(2));
    assert_eq!(s.load_watch_state("default").unwrap().windows.len(), 1);
    resumed(&log, &mut s);
    let d = s.detections(false).unwrap();
    let brute: Vec<_> = d.iter().filter(|d| d.rule == "brute").collect();
    assert_eq!(brute.len(), 1);
    assert_eq!(brute[0].count, 3);
    assert!(s.load_watch_state("default").unwrap().windows.is_empty());
    assert_eq!(s.incidents(true).unwrap().len(), 1);
}

#[test]
fn resolving_the_incident_closes_the_detection_and_the_next_hits_count_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let log = dir.path().join("auth.log");
    let mut f = follower(&[&log], &WatchState::default(), true);
    append(&log, &(0..3).map(failed_password).collect::<String>());
    poll_all(&mut f);
    commit(&mut f, &mut s);
    let first = s.incidents(true).unwrap();
    assert_eq!(first.len(), 1);
    // Attached while open.
    append(&log, &failed_password(3));
    poll_all(&mut f);
    commit(&mut f, &mut s);
    assert_eq!(s.incidents(true).unwrap().len(), 1);
    s.update_incident(
        &first[0].id,
        &crate::store::IncidentPatch {
            status: Some(crate::domain::Status::Resolved),
            ..Default::default()
        },
        "alice",
        clock()(),
    )
    .unwrap();
    // The next commit learns it; the engine forgets the detection.
    commit(&mut f, &mut s);
    append(&log, &(10..12).map(failed_password).collect::<String>());
    poll_all(&mut f);
    commit(&mut f, &mut s);
    assert_eq!(
        s.incidents(true).unwrap().len(),
        1,
        "two hits: under the threshold"
    );
    append(&log, &failed_password(12));
    poll_all(&mut f);
    commit(&mut f, &mut s);
    let brute: Vec<_> = s
        .detections(false)
        .unwrap()
        .into_iter()
        .filter(|d| d.rule == "brute")
        .map(|d| (d.number, d.count, d.open))
        .collect();
    assert_eq!(brute, [(1, 4, false), (2, 3, true)]);
    assert_eq!(s.incidents(true).unwrap().len(), 2);
}

/// Lines of a file that must never be read (`line 9xx`, so a leak shows as
/// detections keyed 900 and up).
fn secret_file(dir: &Path) -> PathBuf {
    let secret = dir.join("shadow");
    fs::write(&secret, lines(900, 905)).unwrap();
    secret
}

#[test]
fn a_followed_log_replaced_by_a_symlink_is_not_read_through() {
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path());
    let log = dir.path().join("app.log");
    append(&log, &lines(0, 3));
    let mut f = follower(&[&log], &WatchState::default(), true);
    f.poll();
    assert_eq!(seen(&f), once(0, 3));
    // Replaced (rename over it) by a link to a file we must not read.
    let link = dir.path().join("app.log.new");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    fs::rename(&link, &log).unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < ROTATE_GRACE + Duration::from_millis(500) {
        f.poll();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(seen(&f), once(0, 3), "nothing read through the link");
    let problems = f.file_problems();
    assert!(
        problems.len() == 1 && problems[0].contains("refused: a symbolic link"),
        "{problems:?}"
    );
    assert!(matches!(f.status().files[0].state, FileState::Error(_)));
}

#[test]
fn a_symlink_planted_in_a_globbed_directory_is_refused_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(dir.path());
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    append(&logs.join("a.log"), &lines(0, 2));
    let pattern = logs.join("*.log");
    let mut f = follower(&[&pattern], &WatchState::default(), true);
    f.poll();
    std::os::unix::fs::symlink(&secret, logs.join("b.log")).unwrap();
    // And a rotated sibling that is a link: not read when catching up.
    std::os::unix::fs::symlink(&secret, logs.join("a.log.1")).unwrap();
    for _ in 0..3 {
        f.poll();
    }
    append(&logs.join("a.log"), &lines(2, 4));
    f.poll();
    assert_eq!(seen(&f), once(0, 4));
    let problems = f.file_problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("b.log: refused: a symbolic link")),
        "{problems:?}"
    );
    // Configured to follow links, it reads the linked file.
    let mut c = FollowConfig::new(vec![pattern.clone()]);
    c.from_beginning = true;
    c.glob_interval = Duration::ZERO;
    c.access = LogAccess::followed(true, Vec::new());
    let mut f = Follower::new(engine(), c, &WatchState::default(), clock());
    f.poll();
    assert!(seen(&f).contains(&(900, 1)), "{:?}", seen(&f));
}

#[test]
fn a_fifo_or_directory_at_a_followed_path_is_an_error_not_a_silent_wait() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.log");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let sub = dir.path().join("dir.log");
    fs::create_dir(&sub).unwrap();
    let mut f = follower(&[&fifo, &sub], &WatchState::default(), true);
    f.poll();
    let problems = f.file_problems();
    assert!(
        problems.iter().any(|p| p.contains("a FIFO")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("a directory")),
        "{problems:?}"
    );
}

#[test]
fn a_file_whose_clock_runs_behind_keeps_its_windows() {
    let dir = tempfile::tempdir().unwrap();
    let (behind, ahead) = (dir.path().join("a.log"), dir.path().join("b.log"));
    append(&behind, &(failed_password(0) + &failed_password(1)));
    append(&ahead, "2026-03-01T11:30:00Z cron[2]: (root) CMD (true)\n");
    let mut f = follower(&[&behind, &ahead], &WatchState::default(), true);
    poll_all(&mut f);
    // The newest time read is 11:30; the window's own file is at 10:00.
    f.sweep();
    assert!(f.engine().window(1, "7.7.7.7").is_some());
    append(&behind, &failed_password(30));
    poll_all(&mut f);
    assert_eq!(f.engine().detection(1, "7.7.7.7").map(|d| d.count), Some(3));
    // Its own file moving past the window's reach drops it.
    append(&behind, &failed_password(31).replace("7.7.7.7", "8.8.8.8"));
    append(&behind, "2026-03-01T10:30:00Z cron[2]: (root) CMD (true)\n");
    poll_all(&mut f);
    f.sweep();
    assert!(f.engine().window(1, "8.8.8.8").is_none());
}
