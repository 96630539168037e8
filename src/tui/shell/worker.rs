//! The store worker: one thread that runs every screen's effects against
//! the store, one at a time, and reports back as actions. A slow write
//! (another process holding the lock) never stalls typing.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::comms::{CommsConfig, MessageFields, Templates};
use crate::domain::IncidentId;
use crate::domain::version::Version;
use crate::domain::{Playbook, Policy};
use crate::store::Store;
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::screens::alerts::io::Feed;
use crate::tui::screens::compose::io as compose_io;
use crate::tui::screens::compose::state::{ComposeLoaded, SendReport};
use crate::tui::screens::incident::state::{Origins, TIMELINE_LIMIT};

/// What the store worker needs besides the store.
pub struct WorkerEnv {
    pub playbook: Playbook,
    pub policy: Policy,
    pub templates: Arc<Templates>,
    pub comms: CommsConfig,
    pub db: PathBuf,
    pub actor: String,
}

/// Runs effects against the store, one at a time, and reports back.
pub fn worker_loop(
    mut store: Store,
    env: WorkerEnv,
    mut include_closed: bool,
    effects: std_mpsc::Receiver<Effect>,
    to_ui: mpsc::UnboundedSender<Action>,
) {
    let mut last_version = store.data_version().ok();
    let mut beat = super::presence::Beat::new(&env.actor, Utc::now());
    let mut records = crate::tui::shell::record_work::Worker::new(&store)
        .with_comms(env.comms.clone(), env.db.clone());
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
            send_origins(store, id, &send);
        }
        match store.alert_subjects() {
            Ok(s) => send(Action::AlertSubjectsLoaded(s)),
            Err(e) => tracing::warn!("alert subjects not loaded: {e}"),
        }
        match store.intake_channel_stats() {
            Ok(s) => send(Action::IntakeLoaded(s)),
            Err(e) => tracing::warn!("intake counts not loaded: {e}"),
        }
    };
    let actor = env.actor.as_str();
    // This console's cursor into the alert log: it shows every alert
    // raised from now on, by whichever process.
    let user = crate::tui::screens::alerts::io::desktop_user(actor);
    let mut feed = match Feed::start(&store, actor, &user) {
        Ok((feed, recent)) => {
            tracing::info!("alert feed: from #{} for {user}", feed.cursor());
            send(Action::AlertFeed(Box::new(recent)));
            Some(feed)
        }
        Err(e) => {
            send(Action::StoreFailed(format!("alerts not followed: {e}")));
            None
        }
    };
    let poll_alerts = |store: &mut Store, feed: &mut Option<Feed>, now: DateTime<Utc>| {
        let Some(f) = feed.as_mut() else { return };
        match f.poll(store, now) {
            Ok(Some(batch)) => send(Action::AlertFeed(Box::new(batch))),
            Ok(None) => {}
            // Read again on the next poll: the cursor did not move.
            Err(e) => tracing::warn!("alerts not read: {e}"),
        }
    };
    let mut own = super::own_writes::OwnWrites::default();
    // An edit refused only by this console's own earlier one, sent again.
    let mut again: Option<Effect> = None;
    while let Some(effect) = again.take().or_else(|| effects.recv().ok()) {
        let now = Utc::now();
        // A based edit runs with the store's check; on a conflict the
        // edit comes back to the console as it was asked for.
        let (effect, base) = effect.unbased();
        let refused = base.map(|_| effect.clone());
        let before = super::own_writes::target(&effect)
            .and_then(|id| Some((id.clone(), store.version(id).ok()?)));
        let written: Result<(IncidentId, String), crate::store::StoreError> = match effect {
            Effect::Quit => break,
            Effect::Records(e) => {
                records.perform(&mut store, *e, base, actor, include_closed, now, &send);
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
                send_origins(&store, &id, &send);
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
                // Every poll, not only on a change: one indexed read, and
                // a claim that failed is retried without another change.
                poll_alerts(&mut store, &mut feed, now);
                if let Some(present) = beat.poll(&mut store, open.as_ref(), now) {
                    send(Action::PresenceLoaded {
                        me: beat.console_id().to_string(),
                        present,
                    });
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
                    let internal = compose_io::internal(&store, &id, audience);
                    send(Action::ComposeLoaded(Box::new(ComposeLoaded {
                        id,
                        audience,
                        rendered: None,
                        last,
                        internal,
                    })));
                    continue;
                };
                // The whole timeline: actions taken may be older than the
                // part the incident view loads.
                match store.detail(&id, None) {
                    Ok(d) => {
                        let fields = MessageFields::for_config(&d, &env.policy, &env.comms, now);
                        let base = ComposeLoaded {
                            internal: compose_io::internal_of(&store, &d, audience),
                            id,
                            audience,
                            rendered: None,
                            last,
                        };
                        render_off_worker(&env.templates, name, fields, base, &to_ui);
                    }
                    Err(e) => send(Action::ComposeLoaded(Box::new(ComposeLoaded {
                        id,
                        audience,
                        rendered: Some(Err(e.to_string())),
                        last,
                        internal: Err(e.to_string()),
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
                        // Shown through the feed, as every console shows them.
                        if !won.is_empty() {
                            poll_alerts(&mut store, &mut feed, now);
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
            // Unwrapped above.
            Effect::Based { .. } => continue,
            Effect::Bell | Effect::Clipboard(_) | Effect::DesktopNotify { .. } => {
                // The runtime handles these itself; never sent here.
                continue;
            }
            Effect::AddPerson { person, said } => {
                match store.upsert_person(&person, actor, now) {
                    Ok(_) => {
                        if let Ok(people) = store.people() {
                            send(Action::PeopleLoaded(people));
                        }
                        send(Action::Saved(said));
                    }
                    Err(e) => send(Action::StoreFailed(e.to_string())),
                }
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
            Effect::Update(id, patch) => {
                match store.update_incident_based(&id, &patch, base, actor, now) {
                    Ok(_) => Ok((id.clone(), format!("{id} updated"))),
                    Err(e) => match refused_downgrade(&store, &id, &patch, &env.policy, &e, now) {
                        Some(to) => {
                            send(Action::DowngradeRefused {
                                id: id.clone(),
                                to,
                                message: e.to_string(),
                            });
                            reload(&store, include_closed, Some(&id));
                            continue;
                        }
                        None => Err(e),
                    },
                }
            }
            Effect::SetItem {
                id,
                item,
                state,
                reason,
            } => store
                .set_checklist_item_based(&id, &item, state, reason.as_deref(), base, actor, now)
                .map(|c| {
                    (
                        id.clone(),
                        format!("{id}: {} is {}", c.id, c.state.as_str()),
                    )
                }),
            Effect::Assign { id, role, person } => store
                .assign_role_based(&id, role, &person, base, actor, now)
                .map(|(a, acknowledged)| {
                    let mut said = format!("{id}: {} is {}", a.person, a.role);
                    if acknowledged {
                        said.push_str(&format!(
                            "; this acknowledged {id} at {}",
                            now.format("%H:%M UTC")
                        ));
                    }
                    (id.clone(), said)
                }),
            Effect::SetDetected { id, at, reason } => store
                .set_detected_based(&id, at, &reason, base, actor, now)
                .map(|i| {
                    let at = i.detected_at.format("%Y-%m-%d %H:%M UTC");
                    (id.clone(), format!("{id}: detected at {at} (recorded)"))
                }),
            Effect::Acknowledge(id) => {
                acknowledge(&mut store, &id, actor, now).map(|said| (id.clone(), said))
            }
            Effect::AddNote { id, text } => store
                .add_note(&id, &text, actor, now)
                .map(|_| (id.clone(), format!("{id}: note added"))),
        };
        match written {
            Ok((id, message)) => {
                if let Some((edited, v)) = &before
                    && let Ok(after) = store.version(edited)
                {
                    own.record(edited, *v, after);
                }
                send(Action::Saved(message));
                reload(&store, include_closed, Some(&id));
            }
            Err(crate::store::StoreError::Conflict(c)) if refused.is_some() => {
                let Some(mine) = refused else { continue };
                if own.wrote(&c, actor) {
                    // This console's own earlier edit: mine goes after it.
                    again = Some(Effect::based(Version(c.theirs.seq), mine));
                    continue;
                }
                tracing::info!("edit refused: {c}");
                let id = c.incident.parse::<IncidentId>().ok();
                send(Action::Conflict(c, Box::new(mine)));
                reload(&store, include_closed, id.as_ref());
            }
            Err(e) => {
                tracing::warn!("store write failed: {e}");
                send(Action::StoreFailed(e.to_string()));
            }
        }
    }
    // Quit or the channel closed: this console leaves the bridge now.
    beat.leave(&mut store);
}

/// The severity a refused update lowered to, when the refusal was the
/// store's "a breach needs a reason" (the same test the store makes).
fn refused_downgrade(
    store: &Store,
    id: &IncidentId,
    patch: &crate::store::IncidentPatch,
    policy: &Policy,
    error: &crate::store::StoreError,
    now: DateTime<Utc>,
) -> Option<crate::domain::Severity> {
    let to = patch.severity?;
    if patch
        .reason
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty())
        || !matches!(error, crate::store::StoreError::Invalid(_))
    {
        return None;
    }
    let incident = store.incident(id).ok()?;
    let breached = crate::domain::sla::clocks(&incident, policy, now)
        .iter()
        .any(|c| c.breached_at.is_some());
    (to > incident.severity && breached).then_some(to)
}

/// Acknowledges the incident, or says by whom and when it already was
/// (then nothing new is recorded).
fn acknowledge(
    store: &mut Store,
    id: &IncidentId,
    actor: &str,
    now: DateTime<Utc>,
) -> crate::store::Result<String> {
    if let Some(at) = store.incident(id)?.acknowledged_at {
        let by = store
            .timeline(id.as_str(), None)?
            .into_iter()
            .rev()
            .find(|e| e.kind == crate::domain::event::kinds::INCIDENT_ACKNOWLEDGED)
            .map(|e| e.actor);
        let by = by.map(|b| format!(" by {b}")).unwrap_or_default();
        return Ok(format!(
            "{id} was already acknowledged{by} at {}",
            at.format("%H:%M UTC")
        ));
    }
    store.acknowledge(id, actor, now)?;
    Ok(format!(
        "{id} acknowledged by {actor} at {}",
        now.format("%H:%M UTC")
    ))
}

/// Renders a template on a thread of its own: a slow template holds up
/// neither the store worker (drafts, sends, polling) nor the keys. The
/// result comes back to the loop like any store result.
fn render_off_worker(
    templates: &Arc<Templates>,
    name: String,
    fields: MessageFields,
    mut loaded: ComposeLoaded,
    to_ui: &mpsc::UnboundedSender<Action>,
) {
    let templates = Arc::clone(templates);
    let to_ui = to_ui.clone();
    let spawned = thread::Builder::new()
        .name("warroom-render".into())
        .spawn(move || {
            let rendered = templates.render(&name, &fields).map_err(|e| e.to_string());
            loaded.rendered = Some(rendered);
            let _ = to_ui.send(Action::ComposeLoaded(Box::new(loaded)));
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

/// Where an incident's detections came from, for its view: loaded beside
/// its detail; a failure costs the view that line only.
fn send_origins(store: &Store, id: &IncidentId, send: &impl Fn(Action)) {
    let origins = store.incident_intake(id.as_str()).and_then(|intake| {
        Ok(Origins {
            intake,
            sources: store.incident_sources(id)?,
            last_customer_update: store.last_customer_update(id)?,
        })
    });
    match origins {
        Ok(o) => send(Action::OriginsLoaded(id.clone(), Box::new(o))),
        Err(e) => tracing::warn!("incident origins not loaded: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Severity;
    use crate::store::{IncidentPatch, NewIncident};
    use crate::tui::testkit::now;

    #[test]
    fn the_stores_downgrade_refusal_is_told_apart_and_a_reason_passes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        let policy = Policy::builtin();
        let new = NewIncident::new("DB down", Severity::P1);
        let two_hours_ago = now() - chrono::Duration::hours(2);
        let i = store
            .create_incident(&new, &Playbook::builtin(), "alice", two_hours_ago)
            .unwrap();
        let mut patch = IncidentPatch {
            severity: Some(Severity::P3),
            ..IncidentPatch::default()
        };
        let e = store
            .update_incident(&i.id, &patch, "alice", now())
            .unwrap_err();
        assert_eq!(
            refused_downgrade(&store, &i.id, &patch, &policy, &e, now()),
            Some(Severity::P3)
        );
        // Another failure of a severity change is not mistaken for it.
        let locked = crate::store::StoreError::Busy {
            path: dir.path().join("w.db"),
        };
        assert_eq!(
            refused_downgrade(&store, &i.id, &patch, &policy, &locked, now()),
            None
        );
        patch.reason = Some("one test host only".into());
        let i = store
            .update_incident(&i.id, &patch, "alice", now())
            .unwrap();
        assert_eq!(i.severity, Severity::P3);
    }
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod conflict_tests;
