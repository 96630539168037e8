//! The watch loop shared by `warroom watch` and the console's watcher task:
//! poll the follower when files change (inotify through the `notify` crate)
//! or every poll interval (the fallback, and for filesystems without
//! notifications), commit each round's batch in one transaction, and on a
//! stop request commit what was read and return.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use super::follow::Follower;
use crate::domain::Playbook;
use crate::store::{CommitOutcome, Store, StoreError};

/// Wakes the loop when something changes in a watched directory.
pub struct Waker {
    watcher: Option<RecommendedWatcher>,
    rx: Receiver<()>,
    watched: HashSet<PathBuf>,
}

impl Default for Waker {
    fn default() -> Self {
        Waker::new()
    }
}

impl Waker {
    /// File notifications if the system has them; polling alone otherwise.
    pub fn new() -> Waker {
        Waker::ignoring(None)
    }

    /// Like [`Waker::new`], not woken by changes to files whose path starts
    /// with `ignore` (the database and its -wal, when it sits beside the
    /// logs: every commit would wake the loop again).
    pub fn ignoring(ignore: Option<PathBuf>) -> Waker {
        let (tx, rx) = channel();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            let ours = ignore.as_ref().is_some_and(|db| {
                let db = db.as_os_str().as_encoded_bytes();
                !event.paths.is_empty()
                    && event
                        .paths
                        .iter()
                        .all(|p| p.as_os_str().as_encoded_bytes().starts_with(db))
            });
            if !ours {
                let _ = tx.send(());
            }
        });
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("file notifications unavailable ({e}); polling only");
                None
            }
        };
        Waker {
            watcher,
            rx,
            watched: HashSet::new(),
        }
    }

    /// Watches directories not watched yet (those that exist; missing ones
    /// are tried again next time).
    pub fn watch(&mut self, dirs: &[PathBuf]) {
        let Some(w) = self.watcher.as_mut() else {
            return;
        };
        for d in dirs {
            if self.watched.contains(d) || !d.is_dir() {
                continue;
            }
            match w.watch(d, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(d.clone());
                }
                Err(e) => tracing::warn!(
                    "cannot watch {}: {e}; polling it",
                    crate::text::display_safe(&d.to_string_lossy())
                ),
            }
        }
    }

    /// Waits for a notification or the timeout; true if something changed.
    pub fn wait(&self, timeout: Duration) -> bool {
        let got = match self.rx.recv_timeout(timeout) {
            Ok(()) => true,
            Err(RecvTimeoutError::Timeout) => false,
            // No watcher: a plain sleep.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout);
                false
            }
        };
        while self.rx.try_recv().is_ok() {}
        got
    }
}

/// This host's name, recorded with evidence excerpts.
pub fn host_name() -> String {
    whoami::fallible::hostname().unwrap_or_else(|_| "localhost".into())
}

/// Who commits, and how often to poll without notifications.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Scopes checkpoints and windows (`watch --name`).
    pub name: String,
    pub poll: Duration,
    pub actor: String,
    pub host: String,
}

/// Commits the follower's pending batch (retrying while the database is
/// unavailable, unless asked to stop).
pub fn commit(
    follower: &mut Follower,
    store: &mut Store,
    playbook: &Playbook,
    opts: &WatchOptions,
    stop: &AtomicBool,
) -> Result<Option<CommitOutcome>, StoreError> {
    let batch = follower.take_batch(&opts.name);
    if batch.checkpoints.is_empty()
        && batch.windows.is_empty()
        && batch.dropped_windows.is_empty()
        && batch.detections.is_empty()
        && batch.forget_paths.is_empty()
    {
        return Ok(None);
    }
    loop {
        let now = chrono::Utc::now();
        match store.commit_watch_batch(&batch, playbook, &opts.actor, &opts.host, now) {
            Ok(outcome) => {
                follower.committed(&outcome);
                return Ok(Some(outcome));
            }
            // Passing troubles (another writer holding the lock, a full
            // disk, an I/O error): the engine is ahead of the store, so
            // keep the batch and try again; nothing is read meanwhile.
            Err(
                e @ (StoreError::Busy { .. } | StoreError::DiskFull { .. } | StoreError::Io { .. }),
            ) if !stop.load(Ordering::Relaxed) => {
                tracing::error!("commit failed, retrying in 1 s: {e}");
                std::thread::sleep(Duration::from_secs(1));
            }
            // A read-only, corrupt or foreign database will not get better.
            Err(e) => return Err(e),
        }
    }
}

/// Follows until `stop` is set, then commits what was read and returns.
/// `on_commit` hears about every commit that opened or closed something.
pub fn run(
    follower: &mut Follower,
    store: &mut Store,
    playbook: &Playbook,
    opts: &WatchOptions,
    stop: &AtomicBool,
    mut on_commit: impl FnMut(&Follower, &CommitOutcome),
) -> Result<(), StoreError> {
    let db = std::path::absolute(store.path()).ok();
    let mut waker = Waker::ignoring(db);
    let mut last_dirs = Instant::now() - Duration::from_secs(60);
    loop {
        if last_dirs.elapsed() >= Duration::from_secs(1) {
            waker.watch(&follower.watch_dirs());
            last_dirs = Instant::now();
        }
        let more = follower.poll();
        let stopping = stop.load(Ordering::Relaxed);
        if stopping {
            follower.sweep();
        }
        if let Some(outcome) = commit(follower, store, playbook, opts, stop)? {
            on_commit(follower, &outcome);
        }
        if stopping {
            return Ok(());
        }
        if !more {
            waker.wait(opts.poll);
        }
    }
}
