//! The watch loop shared by `warroom watch` and the console's watcher task:
//! poll the follower when files change (inotify through the `notify` crate)
//! or every poll interval (the fallback, and for filesystems without
//! notifications), commit what a group of rounds read (up to
//! [`GROUP_TIME`] or [`GROUP_LINES`]; at once when nothing more waits) in
//! one transaction, and on a stop request commit what was read and return.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use super::follow::Follower;
use super::rules::RuleSet;
use crate::domain::Playbook;
use crate::store::{
    CommitOutcome, DigestRule, LeaseClaim, LeaseHolder, LeaseTerm, Store, StoreError, WatchLease,
    WatchState,
};

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
    /// The lease on `name` this watcher holds ([`run_leased`]); None for a
    /// caller that guarantees it runs alone (tests driving [`run`]).
    pub lease: Option<LeaseTerm>,
}

/// How long a watcher's lease lasts without renewal: one that stops
/// renewing (hung, cut off from the disk, killed on another host) is
/// replaced after this. A watcher on this host that died is replaced at
/// once.
pub const LEASE_TTL: Duration = Duration::from_secs(15);

/// A lease term naming this process, unique to this call.
pub fn this_run(actor: &str, host: &str) -> LeaseTerm {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let pid = std::process::id();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    LeaseTerm {
        holder: LeaseHolder {
            actor: actor.to_string(),
            host: host.to_string(),
            pid,
            token: format!("{pid}-{started:x}-{n}"),
        },
        ttl: LEASE_TTL,
    }
}

/// Whether the run holding a lease has ended: only known for a process on
/// this host (gone, or a zombie nobody reaped). Elsewhere, its lease
/// running out tells.
pub fn holder_gone(holder: &LeaseHolder, this_host: &str) -> bool {
    if holder.host != this_host || holder.pid == std::process::id() {
        return false;
    }
    let Ok(pid) = libc::pid_t::try_from(holder.pid) else {
        return false;
    };
    // SAFETY: signal 0 only asks whether the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !alive {
        return true;
    }
    // The state after the command name in /proc/PID/stat: Z is a zombie.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 1..];
            rest.split_whitespace().next().map(|s| s == "Z" || s == "X")
        })
        .unwrap_or(false)
}

/// What [`run_leased`] tells its caller besides commits.
pub enum WatchEvent<'a> {
    /// Another run holds the name: standing by until it is free.
    StandingBy(&'a WatchLease),
    /// The lease is ours and the follower built: following now.
    Following(&'a Follower),
    /// Everything readable is read and committed; waiting for more. (A
    /// caller that shows progress at most every so often shows it now, so
    /// the last commit before a quiet spell is never left unshown.)
    CaughtUp(&'a Follower),
    /// Another run took the name over (this one stalled past its lease):
    /// what was read since the last commit is left to it; standing by.
    Lost(&'a StoreError),
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
    let mut batch = follower.take_batch(&opts.name);
    batch.lease = opts.lease.clone();
    // The last commit of a run reports every incident's pending hits.
    batch.flush = stop.load(Ordering::Relaxed);
    if batch.checkpoints.is_empty()
        && batch.reads.is_empty()
        && batch.windows.is_empty()
        && batch.dropped_windows.is_empty()
        && batch.detections.is_empty()
        && batch.forget_paths.is_empty()
        && batch.intake.is_empty()
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
    on_commit: impl FnMut(&Follower, &CommitOutcome),
) -> Result<(), StoreError> {
    follow(follower, store, playbook, opts, stop, on_commit, |_| {})
}

fn follow(
    follower: &mut Follower,
    store: &mut Store,
    playbook: &Playbook,
    opts: &WatchOptions,
    stop: &AtomicBool,
    mut on_commit: impl FnMut(&Follower, &CommitOutcome),
    mut on_event: impl FnMut(WatchEvent<'_>),
) -> Result<(), StoreError> {
    let db = std::path::absolute(store.path()).ok();
    let mut waker = Waker::ignoring(db);
    let mut last_dirs = Instant::now() - Duration::from_secs(60);
    let mut last_renewal = Instant::now();
    let mut last_report = Instant::now();
    let mut digests = digest_rules(follower.engine().rules());
    if let Some(every) = test_digest_period() {
        for d in &mut digests {
            d.every = every;
        }
    }
    let mut last_digest = Instant::now();
    let mut group_time = GROUP_TIME;
    loop {
        if last_dirs.elapsed() >= Duration::from_secs(1) {
            waker.watch(&follower.watch_dirs());
            last_dirs = Instant::now();
        }
        let more = poll_group(follower, stop, group_time);
        let stopping = stop.load(Ordering::Relaxed);
        if stopping {
            follower.sweep();
        }
        let started = Instant::now();
        let committed = commit(follower, store, playbook, opts, stop)?;
        // Behind (a flood): the next group reads longer, so commits take a
        // small share of the time.
        let took = started.elapsed();
        // Only groups that committed something: a log file in a followed
        // directory would wake the loop with each line of its own.
        if committed.is_some() {
            tracing::debug!(
                read_ms = group_time.as_millis() as u64,
                commit_ms = took.as_millis() as u64,
                lines = follower.lines(),
                more,
                "group committed"
            );
        }
        group_time = if more {
            (took * GROUP_COMMIT_RATIO).clamp(GROUP_TIME, MAX_GROUP_TIME)
        } else {
            GROUP_TIME
        };
        if let Some(outcome) = committed {
            // The commit renewed the lease.
            last_renewal = Instant::now();
            on_commit(follower, &outcome);
        }
        if !digests.is_empty() && (stopping || last_digest.elapsed() >= Duration::from_secs(1)) {
            last_digest = Instant::now();
            send_digests(follower, store, &digests, opts, &mut on_commit);
        }
        if stopping {
            // Whatever the incidents have not been told yet (an empty last
            // batch commits nothing, so it is told here).
            store.report_watch_incidents(&opts.actor, &opts.host, chrono::Utc::now(), true)?;
            return Ok(());
        }
        if let Some(term) = &opts.lease
            && last_renewal.elapsed() >= term.ttl / 3
        {
            match store.renew_watch_lease(&opts.name, term, chrono::Utc::now()) {
                Ok(()) => last_renewal = Instant::now(),
                Err(e @ StoreError::LeaseLost { .. }) => return Err(e),
                // Passing troubles: try again next round; if they last
                // past the lease, a successor takes over and our next
                // commit is refused.
                Err(e) => tracing::warn!("renewing the watcher lease failed: {e}"),
            }
        }
        if !more {
            // Quiet: incidents whose last report is a minute old hear what
            // they gained since, without waiting for another hit.
            if last_report.elapsed() >= Duration::from_secs(1) {
                last_report = Instant::now();
                if let Err(e) =
                    store.report_watch_incidents(&opts.actor, &opts.host, chrono::Utc::now(), false)
                {
                    tracing::warn!("reporting detections to their incidents failed: {e}");
                }
            }
            on_event(WatchEvent::CaughtUp(follower));
            // A long poll interval must not outlast the lease.
            let renew_every = opts.lease.as_ref().map_or(opts.poll, |t| t.ttl / 3);
            waker.wait(opts.poll.min(renew_every));
        }
    }
}

/// The rules that ask for digests of their campaigns' new keys.
pub fn digest_rules(rules: &RuleSet) -> Vec<DigestRule> {
    rules
        .rules
        .iter()
        .filter_map(|r| {
            let every = chrono::Duration::from_std(r.digest?).ok()?;
            Some(DigestRule {
                rule: r.name.clone(),
                every,
                severity: r.severity,
                notify: r.notify.clone(),
            })
        })
        .collect()
}

/// Test hook: `WARROOM_TEST_DIGEST_SECONDS` replaces every digest period
/// (a rule file cannot ask for less than a minute), so a test of the whole
/// watch loop sees a digest without waiting that minute. Read only here,
/// from the environment, never from rules or watch.toml.
fn test_digest_period() -> Option<chrono::Duration> {
    std::env::var("WARROOM_TEST_DIGEST_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|s| *s > 0)
        .map(|s| chrono::Duration::seconds(i64::from(s)))
}

/// Raises the campaign digests due now; their deliveries go the way a
/// commit's alerts do (`on_commit`). A failure is tried again next round:
/// what a digest lists is derived from the committed detections.
fn send_digests(
    follower: &Follower,
    store: &mut Store,
    digests: &[DigestRule],
    opts: &WatchOptions,
    on_commit: &mut impl FnMut(&Follower, &CommitOutcome),
) {
    let now = chrono::Utc::now();
    match store.send_campaign_digests(digests, follower.notify_sinks(), &opts.actor, now) {
        Ok(deliver) if !deliver.is_empty() => {
            let outcome = CommitOutcome {
                deliver,
                ..CommitOutcome::default()
            };
            on_commit(follower, &outcome);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("sending campaign digests failed, retrying later: {e}"),
    }
}

/// A commit groups what was read for at most this long (while behind,
/// [`GROUP_COMMIT_RATIO`] times as long as the last commit took, at most
/// [`MAX_GROUP_TIME`])...
pub const GROUP_TIME: Duration = Duration::from_millis(50);
/// A flood's commit touches most of its keys however many lines it
/// carries, so while behind the commits take a fifth of the time: the
/// 200,000-line flood of `benches/flood.sh` was 4 commits taking 1.0 of
/// its 2.4 s at twice, 3 taking 0.8 of 2.2 s at four times.
const GROUP_COMMIT_RATIO: u32 = 4;
/// The longest a group reads while behind before its commit.
pub const MAX_GROUP_TIME: Duration = Duration::from_secs(1);
/// ... or this many lines, whichever comes first. A quiet line (nothing
/// more to read) commits at once.
pub const GROUP_LINES: u64 = 250_000;
/// ... or until this many windows changed: each is saved by the commit, so
/// a flood of distinct keys would hold them all in memory until then.
pub const GROUP_WINDOWS: usize = 50_000;

/// Polls the follower until it has read everything there is, or a group's
/// time or lines are used up: one commit then carries the whole group
/// (a flood is a few commits, not one per round of reading). True when
/// there is more to read.
fn poll_group(follower: &mut Follower, stop: &AtomicBool, time: Duration) -> bool {
    let started = Instant::now();
    let first = follower.lines();
    loop {
        let more = follower.poll();
        if !more
            || started.elapsed() >= time
            || follower.lines().saturating_sub(first) >= GROUP_LINES
            || follower.changed_windows() >= GROUP_WINDOWS
            || stop.load(Ordering::Relaxed)
        {
            return more;
        }
    }
}

/// Waits until the lease on `opts.name` is ours (telling `on_event` once
/// per holder while standing by). False if asked to stop first.
fn acquire(
    store: &mut Store,
    opts: &WatchOptions,
    term: &LeaseTerm,
    stop: &AtomicBool,
    on_event: &mut impl FnMut(WatchEvent<'_>),
) -> Result<bool, StoreError> {
    let mut told: Option<String> = None;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let claim = store.claim_watch_lease(&opts.name, term, chrono::Utc::now(), |h| {
            holder_gone(h, &opts.host)
        });
        match claim {
            Ok(LeaseClaim::Held(_)) => return Ok(true),
            Ok(LeaseClaim::Busy(lease)) => {
                if told.as_deref() != Some(lease.holder.token.as_str()) {
                    tracing::info!(
                        watcher = %opts.name,
                        holder = %lease.holder,
                        "standing by: another watcher runs this name"
                    );
                    on_event(WatchEvent::StandingBy(&lease));
                    told = Some(lease.holder.token.clone());
                }
            }
            Err(
                e @ (StoreError::Busy { .. } | StoreError::DiskFull { .. } | StoreError::Io { .. }),
            ) => {
                tracing::warn!("claiming the watcher lease failed, retrying: {e}");
            }
            Err(e) => return Err(e),
        }
        // A second between claims, a tenth at a time to notice a stop.
        for _ in 0..10 {
            if stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The watcher as `warroom watch` and the console run it: holds the lease
/// on its name (standing by while another run holds it), builds the
/// follower from the committed state with `follower_from`, follows until
/// `stop`, and gives the lease back. A lease lost midway (this run stalled
/// and was replaced) means standing by again, then resuming from the
/// successor's checkpoints. `opts.lease` must be set.
pub fn run_leased(
    store: &mut Store,
    playbook: &Playbook,
    opts: &WatchOptions,
    stop: &AtomicBool,
    mut follower_from: impl FnMut(&WatchState) -> Follower,
    mut on_event: impl FnMut(WatchEvent<'_>),
    mut on_commit: impl FnMut(&Follower, &CommitOutcome),
) -> Result<(), StoreError> {
    let Some(term) = opts.lease.clone() else {
        return Err(StoreError::Invalid(format!(
            "watcher {} started without a lease",
            opts.name
        )));
    };
    loop {
        if !acquire(store, opts, &term, stop, &mut on_event)? {
            return Ok(());
        }
        let result = store.load_watch_state(&opts.name).and_then(|state| {
            let mut follower = follower_from(&state);
            on_event(WatchEvent::Following(&follower));
            follow(
                &mut follower,
                store,
                playbook,
                opts,
                stop,
                &mut on_commit,
                &mut on_event,
            )
        });
        match result {
            Err(e @ StoreError::LeaseLost { .. }) => {
                tracing::warn!("{e}");
                on_event(WatchEvent::Lost(&e));
            }
            other => {
                if let Err(e) = store.release_watch_lease(&opts.name, &term.holder) {
                    tracing::warn!("giving the watcher lease back failed: {e}");
                }
                return other;
            }
        }
    }
}
