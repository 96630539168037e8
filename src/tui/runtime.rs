//! The event loop. Keys, the once-a-second tick (aligned to the wall
//! clock), store results and signals become [`Action`]s for `update`; its
//! effects go to a store worker thread so a slow write (another process
//! holding the lock) never stalls typing. A frame is drawn only after
//! something happened, never at a fixed rate.

use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::action::{Action, resolve};
use super::app::{App, TIMELINE_LIMIT};
use super::terminal;
use super::update::{Effect, update};
use crate::cli::AppContext;
use crate::domain::IncidentId;
use crate::domain::Playbook;
use crate::store::Store;

/// NO_COLOR set to anything non-empty turns colour off (no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Builds the app with its first data loaded, so the first frame already
/// shows the board.
pub fn initial_app(ctx: &AppContext, store: &Store, now: DateTime<Utc>) -> Result<App> {
    let mut app = App::new(&ctx.actor, ctx.settings.policy.clone(), no_color());
    let rows = store.board(false)?;
    update(&mut app, Action::BoardLoaded(rows), now);
    let people = store.people()?;
    update(&mut app, Action::PeopleLoaded(people), now);
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
    let watch = super::watcher::WatchSetup::load(&ctx.config_dir)?;
    app.watcher.setup = watch.clone();
    let watch = watch.map(|w| (w, ctx.db.clone()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the console's runtime")?;
    let mut term = terminal::enter().context("cannot set up the terminal")?;
    let result = rt.block_on(event_loop(
        &mut term,
        app,
        store,
        ctx.settings.playbook.clone(),
        ctx.actor.clone(),
        started,
        watch,
    ));
    terminal::restore();
    result
}

/// Milliseconds until just after the next whole wall-clock second.
fn until_next_second() -> Duration {
    let ms = u64::from(Utc::now().timestamp_subsec_millis() % 1000);
    Duration::from_millis(1000 - ms + 2)
}

async fn event_loop(
    term: &mut terminal::Term,
    mut app: App,
    store: Store,
    playbook: Playbook,
    actor: String,
    started: std::time::Instant,
    watch: Option<(super::watcher::WatchSetup, std::path::PathBuf)>,
) -> Result<()> {
    let (to_ui, mut from_worker) = mpsc::unbounded_channel::<Action>();
    let watcher = watch.and_then(|(setup, db)| {
        super::watcher::spawn(&setup, &db, playbook.clone(), actor.clone(), to_ui.clone())
            .map_err(|e| tracing::error!("cannot start the rule watcher: {e}"))
            .ok()
    });
    let (to_worker, worker_rx) = std_mpsc::channel::<Effect>();
    let include_closed = app.board.show_closed;
    let worker = thread::Builder::new()
        .name("warroom-store".into())
        .spawn(move || worker_loop(store, playbook, actor, include_closed, worker_rx, to_ui))
        .context("cannot start the store worker")?;

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
        dispatch(&mut app, action, &to_worker);
        // Fold in whatever else already arrived, then draw once.
        while let Ok(more) = from_worker.try_recv() {
            dispatch(&mut app, more, &to_worker);
        }
        if app.quit {
            break;
        }
        if let Err(e) = terminal::draw(term, &app, Utc::now()) {
            tracing::warn!("drawing failed ({e}); saving drafts and leaving");
            dispatch(&mut app, Action::Terminate, &to_worker);
            break;
        }
    }
    // Let the worker finish queued writes (drafts above all) before leaving.
    let _ = to_worker.send(Effect::Quit);
    drop(to_worker);
    let _ = worker.join();
    // The watcher commits what it read, then stops.
    if let Some(w) = watcher {
        w.stop();
    }
    Ok(())
}

fn dispatch(app: &mut App, action: Action, to_worker: &std_mpsc::Sender<Effect>) {
    for effect in update(app, action, Utc::now()) {
        if to_worker.send(effect).is_err() {
            tracing::error!("store worker is gone");
        }
    }
}

/// Runs effects against the store, one at a time, and reports back.
fn worker_loop(
    mut store: Store,
    playbook: Playbook,
    actor: String,
    mut include_closed: bool,
    effects: std_mpsc::Receiver<Effect>,
    to_ui: mpsc::UnboundedSender<Action>,
) {
    let mut last_version = store.data_version().ok();
    let send = |a: Action| {
        let _ = to_ui.send(a);
    };
    let reload = |store: &Store, include_closed: bool, id: Option<&IncidentId>| {
        match store.board(include_closed) {
            Ok(rows) => send(Action::BoardLoaded(rows)),
            Err(e) => send(Action::StoreFailed(e.to_string())),
        }
        if let Some(id) = id {
            match store.detail(id, Some(TIMELINE_LIMIT)) {
                Ok(d) => send(Action::DetailLoaded(Box::new(d))),
                Err(e) => send(Action::StoreFailed(e.to_string())),
            }
        }
    };
    while let Ok(effect) = effects.recv() {
        let now = Utc::now();
        let written: Result<(IncidentId, String), crate::store::StoreError> = match effect {
            Effect::Quit => break,
            Effect::LoadBoard { include_closed: c } => {
                include_closed = c;
                reload(&store, include_closed, None);
                continue;
            }
            Effect::LoadDetail(id) => {
                match store.detail(&id, Some(TIMELINE_LIMIT)) {
                    Ok(d) => send(Action::DetailLoaded(Box::new(d))),
                    Err(e) => send(Action::StoreFailed(e.to_string())),
                }
                if let Ok(people) = store.people() {
                    send(Action::PeopleLoaded(people));
                }
                continue;
            }
            Effect::Poll {
                include_closed: c,
                open,
            } => {
                let version = store.data_version().ok();
                if version != last_version || c != include_closed {
                    last_version = version;
                    include_closed = c;
                    reload(&store, include_closed, open.as_ref());
                }
                continue;
            }
            Effect::SaveDraft { key, body } => {
                if let Err(e) = store.save_draft(&actor, &key, &body, now) {
                    send(Action::StoreFailed(format!("draft not saved: {e}")));
                }
                continue;
            }
            Effect::DeleteDraft { key } => {
                if let Err(e) = store.delete_draft(&actor, &key) {
                    tracing::warn!("draft {key} not deleted: {e}");
                }
                continue;
            }
            Effect::Create(new) => match store.create_incident(&new, &playbook, &actor, now) {
                Ok(incident) => {
                    let id = incident.id.clone();
                    send(Action::Created(Box::new(incident)));
                    Ok((id.clone(), format!("{id} declared")))
                }
                Err(e) => Err(e),
            },
            Effect::Update(id, patch) => store
                .update_incident(&id, &patch, &actor, now)
                .map(|_| (id.clone(), format!("{id} updated"))),
            Effect::SetItem {
                id,
                item,
                state,
                reason,
            } => store
                .set_checklist_item(&id, &item, state, reason.as_deref(), &actor, now)
                .map(|c| {
                    (
                        id.clone(),
                        format!("{id}: {} is {}", c.id, c.state.as_str()),
                    )
                }),
            Effect::Assign { id, role, person } => store
                .assign_role(&id, role, &person, &actor, now)
                .map(|a| (id.clone(), format!("{id}: {} is {}", a.person, a.role))),
            Effect::AddNote { id, text } => store
                .add_note(&id, &text, &actor, now)
                .map(|_| (id.clone(), format!("{id}: note added"))),
        };
        match written {
            Ok((id, message)) => {
                send(Action::Saved(message));
                reload(&store, include_closed, Some(&id));
            }
            Err(e) => {
                tracing::warn!("store write failed: {e}");
                send(Action::StoreFailed(e.to_string()));
            }
        }
    }
}
