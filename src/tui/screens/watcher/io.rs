//! The watcher screen: the thread running the same loop as `warroom
//! watch`, reporting its status back as actions.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc::UnboundedSender;

use crate::comms::CommsConfig;
use crate::detect::follow::{FollowConfig, Follower, system_clock};
use crate::detect::setup::WatchSetup;
use crate::detect::watch::{WatchEvent, WatchOptions, run_leased, this_run};
use crate::detect::{DEFAULT_MAX_KEYS, Engine, RuleSet};
use crate::domain::Playbook;
use crate::domain::event::format_time;
use crate::store::Store;
use crate::tui::action::Action;

/// The running watcher: stop it (it commits what it read) when the
/// console quits.
pub struct WatcherHandle {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

impl WatcherHandle {
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the watcher on its own thread and database connection. Status
/// goes to the UI at most a few times a second (and after each detection).
pub fn spawn(
    setup: &WatchSetup,
    db: &Path,
    playbook: Playbook,
    comms: CommsConfig,
    actor: String,
    to_ui: UnboundedSender<Action>,
) -> std::io::Result<WatcherHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let setup = setup.clone();
    let db = db.to_path_buf();
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("warroom-watcher".into())
        .spawn(move || {
            if let Err(e) = watch_thread(&setup, &db, &playbook, &comms, actor, &flag, &to_ui) {
                tracing::error!("console watcher stopped: {e:#}");
                let _ = to_ui.send(Action::WatcherFailed(format!("watcher stopped: {e:#}")));
            }
        })?;
    Ok(WatcherHandle {
        stop,
        thread: Some(thread),
    })
}

fn watch_thread(
    setup: &WatchSetup,
    db: &Path,
    playbook: &Playbook,
    comms: &CommsConfig,
    actor: String,
    stop: &AtomicBool,
    to_ui: &UnboundedSender<Action>,
) -> anyhow::Result<()> {
    let set = if setup.rules.is_empty() {
        RuleSet::builtin()
    } else {
        RuleSet::load(&setup.rules)
    };
    if !set.problems.is_empty() || !set.warnings.is_empty() {
        let _ = to_ui.send(Action::WatcherProblems(
            set.problems
                .iter()
                .chain(&set.warnings)
                .map(ToString::to_string)
                .collect(),
        ));
    }
    if set.rules.is_empty() {
        anyhow::bail!("no rules loaded; nothing to watch for");
    }
    let mut store = Store::open(db)?;
    let patterns = setup
        .logs
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut config = FollowConfig::new(patterns);
    config.from_beginning = setup.from_beginning;
    config.access = setup.access().map_err(anyhow::Error::msg)?;
    setup.apply(&mut config);
    // As in `warroom watch`: a notify rule's alert is committed with one
    // pending delivery per alert sink, delivered after the commit.
    let sinks = comms.escalation_sinks(db);
    config.notify_sinks = sinks.iter().map(|s| s.name.clone()).collect();
    // One delivery thread for the run, as in `warroom watch`: a flood of
    // commits never becomes a flood of threads.
    let delivery = crate::comms::delivery_queue::DeliveryQueue::start(
        db,
        sinks,
        comms,
        &actor,
        crate::comms::delivery_queue::QUEUE_BATCHES,
    );
    let rules = Arc::new(set);
    let host = crate::detect::watch::host_name();
    let opts = WatchOptions {
        name: setup.name.clone(),
        poll: Duration::from_millis(500),
        lease: Some(this_run(&actor, &host)),
        actor,
        host,
    };
    let last_sent = std::cell::Cell::new(Instant::now());
    let unshown = std::cell::Cell::new(false);
    run_leased(
        &mut store,
        playbook,
        &opts,
        stop,
        |state| {
            let engine = Engine::new(Arc::clone(&rules), DEFAULT_MAX_KEYS);
            Follower::new(engine, config.clone(), state, system_clock())
        },
        |event| {
            let action = match event {
                // Another console (or `warroom watch`) runs this name: say
                // who, and take over when it stops.
                WatchEvent::StandingBy(lease) => Action::WatcherStandby(Some(format!(
                    "standing by: watcher \"{}\" is run by {} (lease until {}); this console takes over when it stops",
                    lease.name,
                    lease.holder,
                    format_time(lease.expires_at)
                ))),
                WatchEvent::Following(f) => {
                    let _ = to_ui.send(Action::WatcherStandby(None));
                    last_sent.set(Instant::now());
                    Action::WatcherStatus(Box::new(f.status()))
                }
                // Quiet now: show a commit the throttle below held back.
                WatchEvent::CaughtUp(f) => {
                    if !unshown.replace(false) {
                        return;
                    }
                    last_sent.set(Instant::now());
                    Action::WatcherStatus(Box::new(f.status()))
                }
                WatchEvent::Lost(e) => Action::WatcherProblems(vec![e.to_string()]),
            };
            let _ = to_ui.send(action);
        },
        |f, outcome| {
            // Off this thread; what a full queue or a crash leaves stays
            // pending for `warroom alerts` to retry.
            delivery.push(outcome.deliver.clone(), Utc::now());
            // At most four updates a second while lines pour in, but a
            // detection at once.
            if !outcome.opened.is_empty() || last_sent.get().elapsed() >= Duration::from_millis(250)
            {
                last_sent.set(Instant::now());
                unshown.set(false);
                let _ = to_ui.send(Action::WatcherStatus(Box::new(f.status())));
            } else {
                unshown.set(true);
            }
        },
    )?;
    if !delivery.finish(Duration::from_secs(5)) {
        tracing::warn!("alert deliveries still running at exit; left pending for a retry");
    }
    Ok(())
}
