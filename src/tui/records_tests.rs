//! `update()` tests of the evidence, review, closing gate, report and
//! metrics screens: keys in, state and effects out, with a fixed clock and
//! data read from a real SQLite file.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::domain::review::ActionStatus;
use crate::domain::{Playbook, Policy, Role, Severity};
use crate::store::{NewIncident, Store};
use crate::tui::action::{Action, Command, Context};
use crate::tui::app::{App, Modal, Screen};
use crate::tui::fields::Purpose;
use crate::tui::metrics;
use crate::tui::review::{self, ReviewField};
use crate::tui::update::{Effect, update};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 0, 0).unwrap()
}

fn cmd(app: &mut App, c: Command) -> Vec<Effect> {
    update(app, Action::Command(c), now())
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Action::Input(KeyEvent::from(KeyCode::Char(c))), now());
    }
}

fn records(app: &mut App, r: RecordsLoaded) -> Vec<Effect> {
    update(app, Action::Records(Box::new(r)), now())
}

/// The records effects among `fx`.
fn recs(fx: &[Effect]) -> Vec<&RecordsEffect> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Records(r) => Some(r.as_ref()),
            _ => None,
        })
        .collect()
}

fn dialog(app: &App) -> &FieldsDialog {
    match &app.modal {
        Some(Modal::Fields(d)) => d,
        other => panic!("no dialog: {other:?}"),
    }
}

/// A store with one P2 and an app (acting as alice) with it open.
fn with_incident() -> (App, Store, IncidentId, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let i = store
        .create_incident(
            &NewIncident::new("Web shell", Severity::P2),
            &Playbook::builtin(),
            "alice",
            now() - Duration::hours(1),
        )
        .unwrap();
    let mut app = App::new("alice", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    cmd(&mut app, Command::Open);
    let detail = store.detail(&i.id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
    (app, store, i.id, dir)
}

fn evidence_loaded(store: &Store, id: &IncidentId) -> RecordsLoaded {
    RecordsLoaded::Evidence {
        id: id.clone(),
        items: store.evidence(id).unwrap(),
        custody: store.custody(id).unwrap(),
        hold: store.legal_hold(id).unwrap(),
    }
}

#[test]
fn opening_the_evidence_list_records_one_access_and_ticks_only_poll() {
    let (mut app, mut store, id, _dir) = with_incident();
    let fx = cmd(&mut app, Command::OpenEvidence);
    assert_eq!(app.screen, Screen::Evidence);
    assert_eq!(app.focus(), Context::Evidence);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::LoadEvidence { access: true, .. }]
    ));
    store
        .add_evidence(
            &id,
            &crate::store::NewEvidence {
                content: crate::store::EvidenceContent::Note("seen".into()),
                description: String::new(),
                source_host: "h".into(),
                tz: FixedOffset::east_opt(0).unwrap(),
            },
            "bob",
            now(),
        )
        .unwrap();
    records(&mut app, evidence_loaded(&store, &id));
    assert_eq!(
        app.evidence
            .as_ref()
            .unwrap()
            .data
            .as_ref()
            .unwrap()
            .items
            .len(),
        1
    );
    // Redraws and ticks never record another access: they only poll.
    for _ in 0..3 {
        let fx = update(&mut app, Action::Tick, now());
        for r in recs(&fx) {
            assert!(
                matches!(
                    r,
                    RecordsEffect::Poll {
                        evidence: Some(_),
                        ..
                    }
                ),
                "{r:?}"
            );
        }
    }
    // Esc goes back to the incident; opening again is a new access.
    cmd(&mut app, Command::Back);
    assert_eq!(app.screen, Screen::Incident);
    assert!(app.evidence.is_none());
    let fx = cmd(&mut app, Command::OpenEvidence);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::LoadEvidence { access: true, .. }]
    ));
}

#[test]
fn adding_evidence_validates_keeps_a_draft_and_drops_it_once_stored() {
    let (mut app, store, id, _dir) = with_incident();
    cmd(&mut app, Command::OpenEvidence);
    records(&mut app, evidence_loaded(&store, &id));
    cmd(&mut app, Command::AddEvidence);
    assert_eq!(app.focus(), Context::Fields);
    // Nothing typed: refused in the dialog.
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    assert!(dialog(&app).error.as_deref().unwrap().contains("required"));
    // An excerpt: kind chosen by its initial, lines pasted with newlines.
    cmd(&mut app, Command::PrevField);
    typed(&mut app, "e");
    assert_eq!(dialog(&app).fields[1].label, "Log lines");
    cmd(&mut app, Command::NextField);
    update(
        &mut app,
        Action::Paste("line one\nline two\n".into()),
        now(),
    );
    cmd(&mut app, Command::NextField);
    typed(&mut app, "/var/log/auth.log");
    // The tick saves the draft.
    let fx = update(&mut app, Action::Tick, now());
    let key = format!("evidence:{id}:add");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDraft { key: k, .. } if *k == key))
    );
    let fx = cmd(&mut app, Command::Submit);
    assert!(app.modal.is_none());
    match recs(&fx)[..] {
        [RecordsEffect::AddEvidence { spec, draft, .. }] => {
            assert_eq!(spec.kind, EvidenceKind::Excerpt);
            assert_eq!(spec.content, "line one\nline two\n");
            assert_eq!(spec.source_path.as_deref(), Some("/var/log/auth.log"));
            assert_eq!(draft.as_deref(), Some(key.as_str()));
        }
        ref other => panic!("{other:?}"),
    }
    // Until the store confirms, the draft stays (a failed write loses nothing).
    assert!(app.drafts.contains_key(&key));
    records(
        &mut app,
        RecordsLoaded::Done {
            message: "stored".into(),
            error: false,
            drop_draft: Some(key.clone()),
        },
    );
    assert!(!app.drafts.contains_key(&key));
}

#[test]
fn transfer_hold_and_export_need_their_fields() {
    let (mut app, mut store, id, _dir) = with_incident();
    store
        .add_evidence(
            &id,
            &crate::store::NewEvidence {
                content: crate::store::EvidenceContent::Note("n".into()),
                description: String::new(),
                source_host: "h".into(),
                tz: FixedOffset::east_opt(0).unwrap(),
            },
            "bob",
            now(),
        )
        .unwrap();
    cmd(&mut app, Command::OpenEvidence);
    records(&mut app, evidence_loaded(&store, &id));

    cmd(&mut app, Command::TransferEvidence);
    typed(&mut app, "forensics-lab");
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    assert!(dialog(&app).error.as_deref().unwrap().contains("purpose"));
    cmd(&mut app, Command::NextField);
    typed(&mut app, "imaging");
    let fx = cmd(&mut app, Command::Submit);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::TransferEvidence { item: 1, to, purpose, .. }] if to == "forensics-lab" && purpose == "imaging"
    ));

    // No hold yet: h sets one, and a reason is required.
    cmd(&mut app, Command::LegalHold);
    assert_eq!(dialog(&app).purpose, Purpose::SetHold);
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    typed(&mut app, "litigation");
    let fx = cmd(&mut app, Command::Submit);
    assert!(
        matches!(recs(&fx)[..], [RecordsEffect::SetHold { reason, .. }] if reason == "litigation")
    );
    // Held: h lifts it.
    store
        .set_legal_hold(&id, "litigation", "alice", now())
        .unwrap();
    records(&mut app, evidence_loaded(&store, &id));
    cmd(&mut app, Command::LegalHold);
    assert_eq!(dialog(&app).purpose, Purpose::ReleaseHold);
    assert!(dialog(&app).note[0].contains("litigation"));
    cmd(&mut app, Command::Cancel);

    // Export proposes a directory named after the incident.
    cmd(&mut app, Command::ExportEvidence);
    assert_eq!(dialog(&app).text(0), format!("{id}-evidence"));
    assert!(dialog(&app).note.iter().any(|n| n.contains("LEGAL HOLD")));
    let fx = cmd(&mut app, Command::Submit);
    assert!(
        matches!(recs(&fx)[..], [RecordsEffect::ExportEvidence { out, .. }] if out.ends_with(format!("{id}-evidence")))
    );

    let fx = cmd(&mut app, Command::VerifyEvidence);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::VerifyEvidence { .. }]
    ));
}

fn review_app() -> (App, Store, IncidentId, tempfile::TempDir) {
    let (mut app, store, id, dir) = with_incident();
    let fx = cmd(&mut app, Command::OpenReview);
    assert!(matches!(recs(&fx)[..], [RecordsEffect::LoadReview { .. }]));
    assert_eq!(app.focus(), Context::Review);
    records(
        &mut app,
        RecordsLoaded::Review {
            id: id.clone(),
            review: store.review(&id).unwrap(),
        },
    );
    (app, store, id, dir)
}

fn patch_of(fx: &[Effect]) -> crate::store::ReviewPatch {
    match recs(fx)[..] {
        [RecordsEffect::UpdateReview { patch, .. }] => patch.clone(),
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn the_five_whys_are_edited_one_field_at_a_time() {
    let (mut app, _store, id, _dir) = review_app();
    // Statement first.
    cmd(&mut app, Command::Edit);
    typed(&mut app, "Shell uploaded via plugin");
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(
        patch_of(&fx).statement.as_deref(),
        Some("Shell uploaded via plugin")
    );
    // Edits show at once.
    let r = app.review.as_ref().unwrap().review.clone().unwrap();
    assert_eq!(r.statement, "Shell uploaded via plugin");
    // The empty "Why 1" slot appends a why; a second slot appears.
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Edit);
    typed(&mut app, "plugin unpatched");
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(
        patch_of(&fx).whys,
        Some(vec!["plugin unpatched".to_string()])
    );
    let r = app.review.as_ref().unwrap().review.clone().unwrap();
    assert_eq!(review::rows(&r).len(), 1 + 2 + 4 + 1);
    // Emptying a why removes it.
    cmd(&mut app, Command::Edit);
    update(
        &mut app,
        Action::Input(KeyEvent::new(
            KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        )),
        now(),
    );
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(patch_of(&fx).whys, Some(vec![]));
    // "No action" (the last row): empty clears it, text sets it.
    cmd(&mut app, Command::Bottom);
    cmd(&mut app, Command::Edit);
    assert!(matches!(
        dialog(&app).purpose,
        Purpose::ReviewText {
            field: ReviewField::NoAction
        }
    ));
    typed(&mut app, "one-off misconfiguration, fixed");
    let fx = cmd(&mut app, Command::Submit);
    assert_eq!(
        patch_of(&fx).no_action_reason,
        Some(Some("one-off misconfiguration, fixed".into()))
    );
    let _ = id;
}

#[test]
fn a_review_edit_closed_with_esc_is_kept_and_restored() {
    let (mut app, _store, id, _dir) = review_app();
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down); // Root cause (no whys yet: one slot)
    cmd(&mut app, Command::Edit);
    typed(&mut app, "no per-account limit");
    let fx = cmd(&mut app, Command::Cancel);
    let key = format!("review:{id}:root-cause");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDraft { key: k, .. } if *k == key))
    );
    assert!(app.modal.is_none());
    // Quitting now asks (a draft is saved); staying, the edit comes back.
    assert!(cmd(&mut app, Command::Quit).is_empty());
    assert!(app.confirm_quit);
    cmd(&mut app, Command::ConfirmNo);
    cmd(&mut app, Command::Edit);
    assert_eq!(dialog(&app).text(0), "no per-account limit");
    assert!(dialog(&app).restored);
}

#[test]
fn corrective_actions_are_added_done_and_dropped_with_a_reason() {
    let (mut app, mut store, id, _dir) = review_app();
    cmd(&mut app, Command::AddAction);
    typed(&mut app, "Patch plugins weekly");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "ops");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "2026-02-30");
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    assert!(
        dialog(&app)
            .error
            .as_deref()
            .unwrap()
            .contains("not a date")
    );
    for _ in 0..2 {
        update(
            &mut app,
            Action::Input(KeyEvent::from(KeyCode::Backspace)),
            now(),
        );
    }
    typed(&mut app, "28");
    let fx = cmd(&mut app, Command::Submit);
    match recs(&fx)[..] {
        [RecordsEffect::AddAction { new, draft, .. }] => {
            assert_eq!(new.description, "Patch plugins weekly");
            assert_eq!(new.owner, "ops");
            assert_eq!(new.due, chrono::NaiveDate::from_ymd_opt(2026, 2, 28));
            assert_eq!(
                draft.as_deref(),
                Some(format!("review:{id}:new-action").as_str())
            );
        }
        ref other => panic!("{other:?}"),
    }
    // The store's answer lists it; select it (after the learning rows).
    let new = crate::store::NewAction {
        description: "Patch plugins weekly".into(),
        owner: "ops".into(),
        due: None,
    };
    store.add_action(&id, &new, "alice", now()).unwrap();
    records(
        &mut app,
        RecordsLoaded::Review {
            id: id.clone(),
            review: store.review(&id).unwrap(),
        },
    );
    // d on a field row asks for an action.
    cmd(&mut app, Command::Top);
    assert!(recs(&cmd(&mut app, Command::ActionDone)).is_empty());
    assert!(app.message.as_ref().unwrap().error);
    cmd(&mut app, Command::Bottom);
    cmd(&mut app, Command::Up);
    let fx = cmd(&mut app, Command::ActionDone);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::SetActionStatus {
            action: 1,
            status: ActionStatus::Done,
            reason: None,
            ..
        }]
    ));
    let r = app.review.as_ref().unwrap().review.as_ref().unwrap();
    assert_eq!(r.actions[0].status, ActionStatus::Done);
    // Dropping asks why.
    cmd(&mut app, Command::ActionDrop);
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    typed(&mut app, "superseded by WAF rule");
    let fx = cmd(&mut app, Command::Submit);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::SetActionStatus { status: ActionStatus::Dropped, reason: Some(r), .. }] if r == "superseded by WAF rule"
    ));
}

/// Chooses "closed" in the status picker.
fn choose_closed(app: &mut App) -> Vec<Effect> {
    cmd(app, Command::SetStatus);
    for _ in 0..6 {
        cmd(app, Command::Down);
    }
    cmd(app, Command::Submit)
}

#[test]
fn closing_goes_through_the_gate_and_a_refusal_offers_the_override() {
    let (mut app, mut store, id, _dir) = with_incident();
    store
        .assign_role(&id, Role::Commander, "alice", "alice", now())
        .unwrap();
    update(
        &mut app,
        Action::DetailLoaded(Box::new(store.detail(&id, None).unwrap())),
        now(),
    );
    let fx = choose_closed(&mut app);
    // Closing is not a plain status update: it goes through the gate, and
    // nothing is shown as closed before the store says so.
    assert!(!fx.iter().any(|e| matches!(e, Effect::Update(..))));
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::Close {
            override_reason: None,
            ..
        }]
    ));
    assert_eq!(
        app.detail().unwrap().incident.status,
        crate::domain::Status::Investigating
    );

    // The store's own refusal (run it for real) comes back.
    let patch = crate::store::IncidentPatch {
        status: Some(crate::domain::Status::Closed),
        ..Default::default()
    };
    let refusal = store
        .update_incident(&id, &patch, "alice", now())
        .unwrap_err();
    records(
        &mut app,
        RecordsLoaded::GateRefused {
            id: id.clone(),
            message: refusal.to_string(),
        },
    );
    let d = dialog(&app);
    assert_eq!(d.purpose, Purpose::CloseOverride);
    assert!(d.note[0].contains("cannot be closed: the review has no root cause"));
    assert!(d.note.iter().any(|n| n.contains("You are the commander")));
    // A reason is required.
    assert!(recs(&cmd(&mut app, Command::Submit)).is_empty());
    assert!(dialog(&app).error.is_some());
    typed(&mut app, "customer asked");
    let fx = cmd(&mut app, Command::Submit);
    assert!(matches!(
        recs(&fx)[..],
        [RecordsEffect::Close { override_reason: Some(r), .. }] if r == "customer asked"
    ));
    // Open until the store answers; a second refusal shows inside it.
    assert!(dialog(&app).note.last().unwrap().contains("Closing"));
    records(
        &mut app,
        RecordsLoaded::CloseFailed {
            id: id.clone(),
            message: "database is locked".into(),
        },
    );
    assert_eq!(dialog(&app).error.as_deref(), Some("database is locked"));
    assert!(!dialog(&app).note.last().unwrap().contains("Closing"));
    assert_eq!(dialog(&app).text(0), "customer asked", "the reason is kept");
    cmd(&mut app, Command::Submit);
    records(
        &mut app,
        RecordsLoaded::Closed {
            id: id.clone(),
            message: format!("{id} closed: review gate overridden"),
        },
    );
    assert!(app.modal.is_none());
    assert!(app.message.as_ref().unwrap().text.contains("overridden"));
}

#[test]
fn someone_other_than_the_commander_is_told_who_may_override() {
    let (mut app, mut store, id, _dir) = with_incident();
    store
        .assign_role(&id, Role::Commander, "carol", "carol", now())
        .unwrap();
    update(
        &mut app,
        Action::DetailLoaded(Box::new(store.detail(&id, None).unwrap())),
        now(),
    );
    records(
        &mut app,
        RecordsLoaded::GateRefused {
            id,
            message: "cannot be closed".into(),
        },
    );
    assert!(
        dialog(&app)
            .note
            .iter()
            .any(|n| n.contains("Only the commander (carol) may close anyway; you are alice"))
    );
}

#[test]
fn the_report_dialog_names_the_file_after_the_incident_and_format() {
    let (mut app, _store, id, _dir) = with_incident();
    cmd(&mut app, Command::WriteReport);
    assert_eq!(dialog(&app).text(1), format!("{id}.md"));
    cmd(&mut app, Command::PrevField);
    cmd(&mut app, Command::ChoiceNext);
    assert_eq!(dialog(&app).text(1), format!("{id}.html"));
    cmd(&mut app, Command::ChoiceNext);
    assert_eq!(dialog(&app).text(1), format!("{id}.json"));
    // A name the user typed is theirs: it no longer follows the format.
    cmd(&mut app, Command::NextField);
    typed(&mut app, ".bak");
    cmd(&mut app, Command::PrevField);
    cmd(&mut app, Command::ChoicePrev);
    assert_eq!(dialog(&app).text(1), format!("{id}.json.bak"));
    let fx = cmd(&mut app, Command::Submit);
    match recs(&fx)[..] {
        [RecordsEffect::WriteReport { format, path, .. }] => {
            assert_eq!(*format, ReportFormat::Html);
            assert_eq!(path, &PathBuf::from(format!("{id}.json.bak")));
        }
        ref other => panic!("{other:?}"),
    }
    assert!(app.modal.is_none());
}

#[test]
fn metrics_load_compute_and_toggle_drills() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let mut drill = NewIncident::new("drill", Severity::P1);
    drill.drill = true;
    store
        .create_incident(&drill, &pb, "a", now() - Duration::days(2))
        .unwrap();
    store
        .create_incident(&NewIncident::new("real", Severity::P3), &pb, "a", now())
        .unwrap();
    let mut app = App::new("alice", Policy::builtin(), true);
    let fx = cmd(&mut app, Command::OpenMetrics);
    assert_eq!(app.screen, Screen::Metrics);
    assert!(matches!(recs(&fx)[..], [RecordsEffect::LoadMetrics]));
    records(
        &mut app,
        RecordsLoaded::Metrics {
            incidents: store.incidents(true).unwrap(),
            reviews: store.reviews().unwrap().into_iter().collect(),
        },
    );
    let m = app.metrics.as_ref().unwrap();
    let computed = m.metrics.as_ref().unwrap();
    assert_eq!(computed.incidents, 1, "drills excluded by default");
    assert_eq!(computed.by_severity["P3"], 1);
    assert_eq!(computed.generated_at, "2026-11-22T18:00:00.000Z");
    assert_eq!(m.per_day.len(), metrics::SPARK_DAYS);
    assert_eq!(*m.per_day.last().unwrap(), 1);
    cmd(&mut app, Command::ToggleDrills);
    let m = app.metrics.as_ref().unwrap();
    assert_eq!(m.metrics.as_ref().unwrap().incidents, 2);
    assert_eq!(m.metrics.as_ref().unwrap().drills, 1);
    assert_eq!(
        m.per_day[metrics::SPARK_DAYS - 3],
        1,
        "the drill, two days ago"
    );
    // The tick recomputes at the new time and polls for changes.
    let later = now() + Duration::hours(1);
    let fx = update(&mut app, Action::Tick, later);
    assert!(
        recs(&fx)
            .iter()
            .any(|r| matches!(r, RecordsEffect::Poll { metrics: true, .. }))
    );
    assert_eq!(
        app.metrics
            .as_ref()
            .unwrap()
            .metrics
            .as_ref()
            .unwrap()
            .generated_at,
        "2026-11-22T19:00:00.000Z"
    );
    cmd(&mut app, Command::Back);
    assert_eq!(app.screen, Screen::Board);
}

#[test]
fn the_metrics_period_cycles_and_counts_only_incidents_detected_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let ago = |d: i64| now() - Duration::days(d);
    // now is 2026-11-22 18:00 UTC: the last 7 days start 2026-11-16 00:00,
    // the last 30 on 2026-10-24, the last 90 on 2026-08-25, Q4 on 2026-10-01.
    for (title, sev, days) in [
        ("yesterday", Severity::P1, 1),
        ("six days ago", Severity::P2, 6),
        ("seven days ago", Severity::P3, 7),
        ("forty days ago", Severity::P3, 40),
        ("a hundred days ago", Severity::P4, 100),
    ] {
        store
            .create_incident(&NewIncident::new(title, sev), &pb, "a", ago(days))
            .unwrap();
    }
    let mut drill = NewIncident::new("drill", Severity::P2);
    drill.drill = true;
    store.create_incident(&drill, &pb, "a", ago(2)).unwrap();
    let mut app = App::new("alice", Policy::builtin(), true);
    cmd(&mut app, Command::OpenMetrics);
    records(
        &mut app,
        RecordsLoaded::Metrics {
            incidents: store.incidents(true).unwrap(),
            reviews: store.reviews().unwrap().into_iter().collect(),
        },
    );
    let shown = |app: &App| {
        let m = app.metrics.as_ref().unwrap();
        let c = m.metrics.as_ref().unwrap();
        (m.window, c.incidents, c.since.clone(), c.until.clone())
    };
    assert_eq!(shown(&app), (metrics::Window::AllTime, 5, None, None));
    cmd(&mut app, Command::NextPeriod);
    assert_eq!(
        shown(&app),
        (
            metrics::Window::Last7Days,
            2,
            Some("2026-11-16T00:00:00.000Z".into()),
            None
        )
    );
    let m = app.metrics.as_ref().unwrap().metrics.clone().unwrap();
    assert_eq!((m.by_severity["P1"], m.by_severity["P2"]), (1, 1));
    assert_eq!(m.by_severity["P3"], 0, "seven days ago is outside");
    assert!(app.message.as_ref().unwrap().text.contains("last 7 days"));
    cmd(&mut app, Command::ToggleDrills);
    assert_eq!(shown(&app).1, 3, "the drill of two days ago");
    cmd(&mut app, Command::ToggleDrills);
    cmd(&mut app, Command::NextPeriod);
    assert_eq!(shown(&app).1, 3, "last 30 days");
    cmd(&mut app, Command::NextPeriod);
    assert_eq!(shown(&app).1, 4, "last 90 days");
    cmd(&mut app, Command::NextPeriod);
    assert_eq!(
        shown(&app),
        (
            metrics::Window::ThisQuarter,
            4,
            Some("2026-10-01T00:00:00.000Z".into()),
            Some("2027-01-01T00:00:00.000Z".into())
        )
    );
    cmd(&mut app, Command::NextPeriod);
    assert_eq!(shown(&app).0, metrics::Window::AllTime);
    cmd(&mut app, Command::PrevPeriod);
    assert_eq!(shown(&app).0, metrics::Window::ThisQuarter);
    // The same figures as the CLI's code given the CLI's bounds.
    let cli = crate::report::metrics::compute(
        &store.incidents(true).unwrap(),
        &store.reviews().unwrap().into_iter().collect(),
        &Policy::builtin(),
        crate::report::metrics::Period {
            since: Some(crate::report::metrics::parse_bound("2026-10-01", false).unwrap()),
            until: Some(crate::report::metrics::parse_bound("2026-12-31", true).unwrap()),
            include_drills: false,
        },
        now(),
    );
    assert_eq!(app.metrics.as_ref().unwrap().metrics.as_ref(), Some(&cli));
    // Leaving and coming back keeps the period.
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::OpenMetrics);
    assert_eq!(
        app.metrics.as_ref().unwrap().window,
        metrics::Window::ThisQuarter
    );
}

#[test]
fn a_board_with_resolved_incidents_asks_which_reviews_are_done() {
    let (mut app, mut store, id, _dir) = with_incident();
    let fx = update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    assert!(recs(&fx).is_empty(), "nothing resolved: nothing to ask");
    let patch = crate::store::IncidentPatch {
        status: Some(crate::domain::Status::Resolved),
        ..Default::default()
    };
    store.update_incident(&id, &patch, "alice", now()).unwrap();
    let fx = update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    assert!(matches!(recs(&fx)[..], [RecordsEffect::LoadReviewState]));
    assert!(store.resolved_complete_reviews().unwrap().is_empty());
}

#[test]
fn the_messages_screen_lists_what_was_sent_and_retries_only_what_failed() {
    use crate::comms::Audience;
    use crate::comms::sinks::SinkResult;
    use crate::store::NewMessage;
    let (mut app, mut store, id, _dir) = with_incident();
    let fx = cmd(&mut app, Command::OpenMessages);
    assert_eq!(app.screen, Screen::Messages);
    assert_eq!(app.focus(), Context::Messages);
    assert!(matches!(recs(&fx)[..], [RecordsEffect::LoadMessages { id: i }] if *i == id));
    let new = NewMessage {
        incident_id: id.clone(),
        audience: Audience::Internal,
        template: None,
        body: "Update one".into(),
        author: "bob".into(),
    };
    let m = store
        .send_message(&new, &["pager".to_string()], now())
        .unwrap();
    store
        .record_delivery(m.id, "pager", Ok("sent"), "bob", now())
        .unwrap();
    let loaded = |store: &Store| RecordsLoaded::Messages {
        id: id.clone(),
        list: store.messages(&id).unwrap(),
    };
    records(&mut app, loaded(&store));
    // Everything delivered: r has nothing to do.
    let fx = cmd(&mut app, Command::Retry);
    assert!(recs(&fx).is_empty());
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .text
            .contains("nothing to retry")
    );
    let m2 = store
        .send_message(&new, &["pager".to_string()], now())
        .unwrap();
    store
        .record_delivery(m2.id, "pager", Err("exit 1"), "bob", now())
        .unwrap();
    // The tick polls the list; the reload keeps the cursor.
    let fx = update(&mut app, Action::Tick, now());
    assert!(
        recs(&fx)
            .iter()
            .any(|r| matches!(r, RecordsEffect::Poll { messages: Some(i), .. } if *i == id))
    );
    records(&mut app, loaded(&store));
    let state = app.messages.as_ref().unwrap();
    assert_eq!(state.undelivered(), (1, 0));
    assert_eq!(state.cursor, 0);
    cmd(&mut app, Command::Bottom);
    assert_eq!(app.messages.as_ref().unwrap().selected().unwrap().id, m2.id);
    let fx = cmd(&mut app, Command::Retry);
    assert!(matches!(recs(&fx)[..], [RecordsEffect::RetryMessages { id: i }] if *i == id));
    // A second r while it runs asks for nothing more.
    assert!(recs(&cmd(&mut app, Command::Retry)).is_empty());
    let fx = records(
        &mut app,
        RecordsLoaded::Retried {
            id: id.clone(),
            results: Ok(vec![SinkResult {
                message_id: m2.id,
                sink: "pager".into(),
                delivered: true,
                detail: "sent".into(),
            }]),
            clipboard: vec!["\u{1b}]52;c;eA==\u{7}".into()],
        },
    );
    assert!(matches!(&fx[..], [Effect::Clipboard(s)] if s.starts_with("\u{1b}]52;c;")));
    assert!(!app.messages.as_ref().unwrap().retrying);
    assert_eq!(app.message.as_ref().unwrap().text, "retried: 1 delivered");
    records(
        &mut app,
        RecordsLoaded::Retried {
            id: id.clone(),
            results: Ok(vec![SinkResult {
                message_id: m2.id,
                sink: "pager".into(),
                delivered: false,
                detail: "exit 1".into(),
            }]),
            clipboard: vec![],
        },
    );
    let said = app.message.as_ref().unwrap();
    assert!(said.error && said.text.contains("1 FAILED (#2 via pager: exit 1)"));
    cmd(&mut app, Command::Back);
    assert_eq!(app.screen, Screen::Incident);
    assert!(app.messages.is_none());
}
