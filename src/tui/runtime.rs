//! The event loop. Keys, the once-a-second tick (aligned to the wall
//! clock), store results and signals become [`Action`]s for `update`; its
//! effects go to a store worker thread so a slow write (another process
//! holding the lock) never stalls typing. A frame is drawn only after
//! something happened, never at a fixed rate.

use std::io::Write as _;
use std::path::PathBuf;
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

use super::action::{Action, resolve};
use super::app::{App, TIMELINE_LIMIT};
use super::effect::Effect;
use super::terminal;
use super::update::update;
use crate::comms::{CommsConfig, MessageFields, Templates};
use crate::config::AppContext;
use crate::domain::IncidentId;
use crate::domain::{Playbook, Policy};
use crate::store::Store;
use crate::tui::screens::compose::state::{ComposeEnv, ComposeLoaded, SendReport};

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
            let loaded = crate::tui::records::effects::RecordsLoaded::ReviewsComplete(set);
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
    let result = rt.block_on(event_loop(&mut term, app, store, env, started, watch));
    terminal::restore();
    result
}

/// Milliseconds until just after the next whole wall-clock second.
fn until_next_second() -> Duration {
    let ms = u64::from(Utc::now().timestamp_subsec_millis() % 1000);
    Duration::from_millis(1000 - ms + 2)
}

/// What the store worker needs besides the store.
struct WorkerEnv {
    playbook: Playbook,
    policy: Policy,
    templates: Arc<Templates>,
    comms: CommsConfig,
    db: PathBuf,
    actor: String,
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
) -> Result<()> {
    let (to_ui, mut from_worker) = mpsc::unbounded_channel::<Action>();
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
    Ok(())
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

/// Runs effects against the store, one at a time, and reports back.
fn worker_loop(
    mut store: Store,
    env: WorkerEnv,
    mut include_closed: bool,
    effects: std_mpsc::Receiver<Effect>,
    to_ui: mpsc::UnboundedSender<Action>,
) {
    let mut last_version = store.data_version().ok();
    let mut records =
        crate::tui::records::io::Worker::new(&store).with_comms(env.comms.clone(), env.db.clone());
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
        match store.alert_subjects() {
            Ok(s) => send(Action::AlertSubjectsLoaded(s)),
            Err(e) => tracing::warn!("alert subjects not loaded: {e}"),
        }
    };
    let actor = env.actor.as_str();
    while let Ok(effect) = effects.recv() {
        let now = Utc::now();
        let written: Result<(IncidentId, String), crate::store::StoreError> = match effect {
            Effect::Quit => break,
            Effect::Records(e) => {
                records.perform(&mut store, *e, actor, include_closed, now, &send);
                continue;
            }
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
                match store.save_draft(actor, &key, &body, now) {
                    Ok(()) => send(Action::DraftSaved(key, now)),
                    Err(e) => {
                        send(Action::StoreFailed(format!("draft not saved: {e}")));
                        send(Action::DraftNotSaved(key));
                    }
                }
                continue;
            }
            Effect::DeleteDraft { key } => {
                if let Err(e) = store.delete_draft(actor, &key) {
                    tracing::warn!("draft {key} not deleted: {e}");
                }
                continue;
            }
            Effect::ComposeLoad {
                id,
                audience,
                template,
            } => {
                let last = store.last_message(&id, audience).map_err(|e| e.to_string());
                let Some(name) = template else {
                    send(Action::ComposeLoaded(Box::new(ComposeLoaded {
                        id,
                        audience,
                        rendered: None,
                        last,
                    })));
                    continue;
                };
                // The whole timeline: actions taken may be older than the
                // part the incident view loads.
                match store.detail(&id, None) {
                    Ok(d) => {
                        let fields = MessageFields::for_config(&d, &env.policy, &env.comms, now);
                        render_off_worker(&env.templates, name, fields, id, audience, last, &to_ui);
                    }
                    Err(e) => send(Action::ComposeLoaded(Box::new(ComposeLoaded {
                        id,
                        audience,
                        rendered: Some(Err(e.to_string())),
                        last,
                    }))),
                }
                continue;
            }
            Effect::SendMessage { message, sinks } => {
                let id = message.incident_id.clone();
                let mut clipboard = Vec::new();
                let result = if sinks.is_empty() {
                    // Recorded only (sinks::send would take "none named" as
                    // "the defaults").
                    store.send_message(&message, &[], now)
                } else {
                    let mut terminal = |seq: &str| {
                        clipboard.push(seq.to_string());
                        Ok(())
                    };
                    crate::comms::sinks::send(
                        &mut store,
                        &message,
                        &sinks,
                        &env.comms,
                        &env.db,
                        now,
                        &mut terminal,
                    )
                    .map(|o| o.message)
                };
                match result {
                    Ok(m) => {
                        send(Action::MessageSent {
                            report: Box::new(SendReport {
                                message: m,
                                clipboard,
                            }),
                            retry: false,
                        });
                        reload(&store, include_closed, Some(&id));
                    }
                    Err(e) => {
                        tracing::warn!("send failed: {e}");
                        send(Action::SendFailed(e.to_string()));
                    }
                }
                continue;
            }
            Effect::RetryDeliveries { message_id } => {
                let mut clipboard = Vec::new();
                let result = retry(&mut store, &env, message_id, now, &mut clipboard);
                match result {
                    Ok((m, id)) => {
                        send(Action::MessageSent {
                            report: Box::new(SendReport {
                                message: m,
                                clipboard,
                            }),
                            retry: true,
                        });
                        reload(&store, include_closed, Some(&id));
                    }
                    Err(e) => send(Action::SendFailed(e)),
                }
                continue;
            }
            Effect::RaiseAlerts(alerts) => {
                // The same path as `warroom alerts`: all keys in one
                // transaction, escalations with their deliveries.
                let asked = alerts.len();
                let keys: Vec<String> = alerts.iter().map(|a| a.key.clone()).collect();
                match crate::comms::alerts::raise_due(&mut store, alerts, &env.comms, actor, now) {
                    Ok(won) => {
                        tracing::info!(
                            "alerts checked: {asked} asked, {} raised here, 0 failed",
                            won.len()
                        );
                        if !won.is_empty() {
                            send(Action::AlertsRaised(won));
                        }
                    }
                    Err(e) => {
                        tracing::warn!("{asked} alerts not raised: {e}");
                        tracing::info!(
                            "alerts checked: {asked} asked, 0 raised here, {asked} failed"
                        );
                        send(Action::AlertsNotRaised(keys));
                    }
                }
                continue;
            }
            Effect::Bell | Effect::Clipboard(_) | Effect::DesktopNotify { .. } => {
                // The runtime handles these itself; never sent here.
                continue;
            }
            Effect::Create(new) => match store.create_incident(&new, &env.playbook, actor, now) {
                Ok(incident) => {
                    let id = incident.id.clone();
                    send(Action::Created(Box::new(incident)));
                    Ok((id.clone(), format!("{id} declared")))
                }
                Err(e) => Err(e),
            },
            Effect::Update(id, patch) => store
                .update_incident(&id, &patch, actor, now)
                .map(|_| (id.clone(), format!("{id} updated"))),
            Effect::SetItem {
                id,
                item,
                state,
                reason,
            } => store
                .set_checklist_item(&id, &item, state, reason.as_deref(), actor, now)
                .map(|c| {
                    (
                        id.clone(),
                        format!("{id}: {} is {}", c.id, c.state.as_str()),
                    )
                }),
            Effect::Assign { id, role, person } => store
                .assign_role(&id, role, &person, actor, now)
                .map(|a| (id.clone(), format!("{id}: {} is {}", a.person, a.role))),
            Effect::AddNote { id, text } => store
                .add_note(&id, &text, actor, now)
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

/// Renders a template on a thread of its own: a slow template holds up
/// neither the store worker (drafts, sends, polling) nor the keys. The
/// result comes back to the loop like any store result.
fn render_off_worker(
    templates: &Arc<Templates>,
    name: String,
    fields: MessageFields,
    id: IncidentId,
    audience: crate::comms::Audience,
    last: Result<Option<crate::store::SentMessage>, String>,
    to_ui: &mpsc::UnboundedSender<Action>,
) {
    let templates = Arc::clone(templates);
    let to_ui = to_ui.clone();
    let spawned = thread::Builder::new()
        .name("warroom-render".into())
        .spawn(move || {
            let rendered = templates.render(&name, &fields).map_err(|e| e.to_string());
            let _ = to_ui.send(Action::ComposeLoaded(Box::new(ComposeLoaded {
                id,
                audience,
                rendered: Some(rendered),
                last,
            })));
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start a render thread: {e}");
    }
}

/// Retries a message's failed deliveries through `comms::sinks::retry`,
/// the path `warroom notify retry` and the messages screen take (each
/// delivery claimed under a lease, a delivery another process took over
/// reported as such); it covers the incident's other failed deliveries
/// too. Returns the message as it now stands and its incident.
fn retry(
    store: &mut Store,
    env: &WorkerEnv,
    message_id: i64,
    now: DateTime<Utc>,
    clipboard: &mut Vec<String>,
) -> Result<(crate::store::SentMessage, IncidentId), String> {
    let msg = store
        .message(message_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no message #{message_id}"))?;
    let id: IncidentId = msg.incident_id.parse().map_err(|e| format!("{e}"))?;
    let mut terminal = |seq: &str| {
        clipboard.push(seq.to_string());
        Ok(())
    };
    let results = crate::comms::sinks::retry(
        store,
        Some(&id),
        &env.comms,
        &env.db,
        &env.actor,
        now,
        &mut terminal,
    )
    .map_err(|e| e.to_string())?;
    for r in results.iter().filter(|r| !r.delivered) {
        tracing::warn!(message = r.message_id, sink = %r.sink, "retry: {}", r.detail);
    }
    let msg = store
        .message(message_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no message #{message_id}"))?;
    Ok((msg, id))
}
