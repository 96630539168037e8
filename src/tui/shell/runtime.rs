//! The event loop. Keys, the once-a-second tick (aligned to the wall
//! clock), store results and signals become [`Action`]s for `update`; its
//! effects go to the store worker thread (`worker`) so a slow write
//! (another process holding the lock) never stalls typing. A frame is
//! drawn only after something happened, never at a fixed rate.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::config::AppContext;
use crate::store::Store;
use crate::tui::action::{Action, resolve};
use crate::tui::effect::Effect;
use crate::tui::screens::compose::state::ComposeEnv;
use crate::tui::shell::app::{App, say};
use crate::tui::shell::router::update;
use crate::tui::shell::terminal;
use crate::tui::shell::worker::{WorkerEnv, worker_loop};

/// NO_COLOR set to anything non-empty turns colour off (no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Builds the app with its first data loaded, so the first frame already
/// shows the board.
pub fn initial_app(ctx: &AppContext, store: &Store, now: DateTime<Utc>) -> Result<App> {
    let mut app = App::new(&ctx.actor, ctx.settings.policy.clone(), no_color());
    app.comms = ComposeEnv::load(&ctx.settings.comms, &ctx.db).0;
    match store.alert_subjects() {
        Ok(subjects) => {
            update(&mut app, Action::AlertSubjectsLoaded(subjects), now);
        }
        Err(e) => tracing::warn!("alert subjects not loaded: {e}"),
    }
    let rows = store.board(false)?;
    update(&mut app, Action::BoardLoaded(rows), now);
    let people = store.people()?;
    update(&mut app, Action::PeopleLoaded(people), now);
    // Which resolved incidents' reviews are done (overdue markers).
    match store.resolved_complete_reviews() {
        Ok(set) => {
            let loaded = crate::tui::records::RecordsLoaded::ReviewsComplete(set);
            update(&mut app, Action::Records(Box::new(loaded)), now);
        }
        Err(e) => tracing::warn!("review state not loaded: {e}"),
    }
    match store.drafts(&ctx.actor, "") {
        Ok(drafts) => {
            update(&mut app, Action::DraftsLoaded(drafts), now);
        }
        Err(e) => tracing::warn!("drafts not loaded: {e}"),
    }
    Ok(app)
}

pub fn run(ctx: &AppContext) -> Result<()> {
    let started = std::time::Instant::now();
    let store = ctx.open_store()?;
    let mut app = initial_app(ctx, &store, Utc::now())?;
    // The rule watcher, when watch.toml configures one.
    let watch = crate::detect::setup::WatchSetup::load(&ctx.config_dir)?;
    app.watcher.setup = watch.clone();
    let watch = watch.map(|w| (w, ctx.db.clone()));
    // The webhook listener, when intake.toml's [listen] asks for one. A
    // broken file stops nothing else: the console says so on its first
    // frame (and the log has it).
    let intake = crate::intake::IntakeConfig::load(&ctx.config_dir).map_err(|e| format!("{e:#}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the console's runtime")?;
    let mut term = terminal::enter().context("cannot set up the terminal")?;
    let env = WorkerEnv {
        playbook: ctx.settings.playbook.clone(),
        policy: ctx.settings.policy.clone(),
        templates: Arc::new(ComposeEnv::load(&ctx.settings.comms, &ctx.db).1),
        comms: ctx.settings.comms.clone(),
        db: ctx.db.clone(),
        actor: ctx.actor.clone(),
    };
    let result = rt.block_on(event_loop(
        &mut term, app, store, env, started, watch, intake,
    ));
    terminal::restore();
    result
}

/// Milliseconds until just after the next whole wall-clock second.
fn until_next_second() -> Duration {
    let ms = u64::from(Utc::now().timestamp_subsec_millis() % 1000);
    Duration::from_millis(1000 - ms + 2)
}

/// Where `update`'s effects go: the store worker, the desktop notifier,
/// or bytes the loop itself writes to the terminal it owns (the bell and
/// OSC 52), between frames.
struct Outlets {
    worker: std_mpsc::Sender<Effect>,
    notifier: Option<std_mpsc::Sender<(String, String, bool)>>,
    terminal: Vec<u8>,
}

/// A desktop notifier thread: D-Bus calls may take a while (or time out),
/// so they never run on the UI thread or hold up the store worker.
fn spawn_notifier() -> Option<std_mpsc::Sender<(String, String, bool)>> {
    let (tx, rx) = std_mpsc::channel::<(String, String, bool)>();
    let spawned = thread::Builder::new()
        .name("warroom-notify".into())
        .spawn(move || {
            while let Ok((summary, body, urgent)) = rx.recv() {
                match crate::comms::desktop::notify_with(&summary, &body, urgent) {
                    Ok(true) => tracing::debug!("desktop notification shown"),
                    Ok(false) => {}
                    // Never shown to the user: the console's toast and bell
                    // carry the alert anyway.
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::warn!("no desktop notifier: {e}");
            None
        }
    }
}

/// An OSC 52 clipboard sequence as the sinks build it: `ESC ] 52 ; c ;`,
/// base64, BEL. Anything else is refused rather than written raw.
fn is_osc52(seq: &str) -> bool {
    seq.strip_prefix("\x1b]52;c;")
        .and_then(|rest| rest.strip_suffix('\x07'))
        .is_some_and(|b64| {
            b64.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        })
}

async fn event_loop(
    term: &mut terminal::Term,
    mut app: App,
    store: Store,
    env: WorkerEnv,
    started: std::time::Instant,
    watch: Option<(crate::detect::setup::WatchSetup, std::path::PathBuf)>,
    intake: std::result::Result<crate::intake::IntakeConfig, String>,
) -> Result<()> {
    let (to_ui, mut from_worker) = mpsc::unbounded_channel::<Action>();
    let listener = start_listener(&mut app, intake, &env);
    let watcher = watch.and_then(|(setup, db)| {
        crate::tui::screens::watcher::io::spawn(
            &setup,
            &db,
            env.playbook.clone(),
            env.comms.clone(),
            env.actor.clone(),
            to_ui.clone(),
        )
        .map_err(|e| tracing::error!("cannot start the rule watcher: {e}"))
        .ok()
    });
    let (to_worker, worker_rx) = std_mpsc::channel::<Effect>();
    let include_closed = app.board.show_closed;
    let worker = thread::Builder::new()
        .name("warroom-store".into())
        .spawn(move || worker_loop(store, env, include_closed, worker_rx, to_ui))
        .context("cannot start the store worker")?;
    let mut out = Outlets {
        worker: to_worker,
        notifier: spawn_notifier(),
        terminal: Vec::new(),
    };

    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // Raw mode turns Ctrl-C into a key, but `kill -INT` still arrives.
    let mut sigint = signal(SignalKind::interrupt())?;

    terminal::draw(term, &app, Utc::now())?;
    tracing::info!("console: first frame after {:?}", started.elapsed());

    loop {
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    resolve(app.focus(), key)
                }
                Some(Ok(Event::Paste(text))) => Some(Action::Paste(text)),
                Some(Ok(Event::Resize(_, _))) => Some(Action::Resize),
                Some(Ok(_)) => None,
                // The terminal went away (e.g. the SSH link dropped).
                Some(Err(_)) | None => Some(Action::Terminate),
            },
            _ = tokio::time::sleep(until_next_second()) => Some(Action::Tick),
            Some(action) = from_worker.recv() => Some(action),
            _ = sigterm.recv() => Some(Action::Terminate),
            _ = sighup.recv() => Some(Action::Terminate),
            _ = sigint.recv() => Some(Action::Terminate),
        };
        let Some(action) = action else { continue };
        dispatch(&mut app, action, &mut out);
        // Fold in whatever else already arrived, then draw once.
        while let Ok(more) = from_worker.try_recv() {
            dispatch(&mut app, more, &mut out);
        }
        if app.quit {
            break;
        }
        if let Err(e) = terminal::draw(term, &app, Utc::now()) {
            tracing::warn!("drawing failed ({e}); saving drafts and leaving");
            dispatch(&mut app, Action::Terminate, &mut out);
            break;
        }
        if !out.terminal.is_empty() {
            let bytes = std::mem::take(&mut out.terminal);
            let backend = term.backend_mut();
            if let Err(e) = backend.write_all(&bytes).and_then(|()| backend.flush()) {
                tracing::warn!("bell/clipboard not written: {e}");
            }
        }
    }
    // Let the worker finish queued writes (drafts above all) before leaving.
    let _ = out.worker.send(Effect::Quit);
    drop(out);
    let _ = worker.join();
    // The watcher commits what it read, then stops.
    if let Some(w) = watcher {
        w.stop();
    }
    if let Some(l) = listener {
        l.stop();
    }
    Ok(())
}

/// Starts the configured webhook listener on this runtime and says on the
/// status line whether it runs; one that cannot is never silent.
fn start_listener(
    app: &mut App,
    intake: std::result::Result<crate::intake::IntakeConfig, String>,
    env: &WorkerEnv,
) -> Option<crate::intake::task::ListenerTask> {
    use crate::intake::task::{ListenState, ListenerTask, TaskEnv};
    let started = intake.and_then(|config| {
        ListenerTask::start(
            &config,
            TaskEnv {
                db: env.db.clone(),
                playbook: env.playbook.clone(),
                actor: env.actor.clone(),
                host: crate::detect::watch::host_name(),
                comms: env.comms.clone(),
            },
        )
    });
    match started {
        Ok(Some(task)) => {
            if let ListenState::Listening(addr) = task.state() {
                say(app, format!("intake listener on {addr}"), false);
            }
            Some(task)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::error!("intake listener NOT running: {e}");
            say(app, format!("intake listener NOT running: {e}"), true);
            None
        }
    }
}

fn dispatch(app: &mut App, action: Action, out: &mut Outlets) {
    for effect in update(app, action, Utc::now()) {
        match effect {
            Effect::Bell => out.terminal.push(0x07),
            Effect::Clipboard(seq) if is_osc52(&seq) => {
                out.terminal.extend_from_slice(seq.as_bytes())
            }
            Effect::Clipboard(_) => tracing::error!("refused a malformed clipboard sequence"),
            Effect::DesktopNotify {
                summary,
                body,
                urgent,
            } => {
                if let Some(n) = &out.notifier {
                    let _ = n.send((summary, body, urgent));
                }
            }
            effect => {
                if out.worker.send(effect).is_err() {
                    tracing::error!("store worker is gone");
                }
            }
        }
    }
}
