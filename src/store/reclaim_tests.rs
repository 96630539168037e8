//! Space a flood freed goes back to the file system when the watcher stops
//! (a new file is made with incremental auto-vacuum).

use crate::domain::Playbook;
use crate::store::Store;
use crate::store::test_fixtures::t0;
use crate::store::watcher::{SavedWindow, WatchBatch};

fn pragma(s: &Store, p: &str) -> i64 {
    s.conn
        .query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
        .unwrap()
}

/// `n` saved windows of about 900 bytes each, in one batch.
fn windows(n: usize) -> WatchBatch {
    WatchBatch {
        watcher: "default".into(),
        windows: (0..n)
            .map(|i| SavedWindow {
                rule: "Wide".into(),
                key: format!("10.0.{}.{}", i / 256, i % 256),
                state: vec![b'x'; 900 + i % 7],
            })
            .collect(),
        ..WatchBatch::default()
    }
}

fn commit(s: &mut Store, b: &WatchBatch) {
    s.commit_watch_batch(b, &Playbook::builtin(), "w", "h", t0())
        .unwrap();
}

#[test]
fn pages_a_flood_freed_are_given_back_when_the_watcher_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    assert_eq!(pragma(&s, "auto_vacuum"), 2, "incremental");
    let mut b = windows(3000);
    commit(&mut s, &b);
    let full = pragma(&s, "page_count");
    assert!(full > 700, "{full} pages");
    // Two fifths of the windows fired: their pages are free, kept for the
    // next commits to reuse while the watcher runs.
    b.dropped_windows = b.windows.drain(..1200).map(|w| (w.rule, w.key)).collect();
    b.windows.clear();
    commit(&mut s, &b);
    let free = pragma(&s, "freelist_count");
    assert!(free > 256, "{free} free pages");
    // The watcher stops: its empty last batch commits nothing, its final
    // report gives them back.
    s.report_watch_incidents("w", "h", t0(), true).unwrap();
    assert_eq!(pragma(&s, "freelist_count"), 0);
    assert!(
        pragma(&s, "page_count") <= full - free,
        "{full} pages before"
    );
}

#[test]
fn a_file_made_without_auto_vacuum_keeps_its_free_pages_for_reuse() {
    // Files made by earlier versions have no auto-vacuum (it can only be
    // chosen before the first table): they reuse their free pages, and
    // stopping the watcher on them is no error.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    s.conn
        .execute_batch("PRAGMA auto_vacuum = NONE; VACUUM")
        .unwrap();
    assert_eq!(pragma(&s, "auto_vacuum"), 0);
    let mut b = windows(1000);
    commit(&mut s, &b);
    b.dropped_windows = b.windows.drain(..).map(|w| (w.rule, w.key)).collect();
    commit(&mut s, &b);
    let free = pragma(&s, "freelist_count");
    assert!(free > 200, "{free} free pages");
    s.report_watch_incidents("w", "h", t0(), true).unwrap();
    assert_eq!(pragma(&s, "freelist_count"), free, "kept for reuse");
}
