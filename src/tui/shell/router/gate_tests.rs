//! `update()` tests of the closing gate, the report dialog, and the
//! metrics and messages screens.

use chrono::Duration;

use super::records_tests::{dialog, records, recs, with_incident};
use crate::domain::{Playbook, Policy, Role, Severity};
use crate::report::file::ReportFormat;
use crate::store::{NewIncident, Store};
use crate::tui::action::Action;
use crate::tui::records::*;
use crate::tui::screens::metrics::state as metrics;
use crate::tui::screens::review::state::ReviewAsk;
use crate::tui::shell::app::App;
use crate::tui::shell::keymap::{Command, Context};
use crate::tui::shell::router::{Effect, update};
use crate::tui::shell::stack::Screen;
use crate::tui::testkit::{cmd, now, typed};
use std::path::PathBuf;

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
    assert_eq!(d.purpose::<ReviewAsk>(), Some(&ReviewAsk::CloseOverride));
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
    assert_eq!(app.stack.screen(), Screen::Metrics);
    assert!(matches!(recs(&fx)[..], [RecordsEffect::LoadMetrics]));
    records(
        &mut app,
        RecordsLoaded::Metrics {
            incidents: store.incidents(true).unwrap(),
            reviews: store.reviews().unwrap().into_iter().collect(),
        },
    );
    let m = app.stack.metrics().unwrap();
    let computed = m.metrics.as_ref().unwrap();
    assert_eq!(computed.incidents, 1, "drills excluded by default");
    assert_eq!(computed.by_severity["P3"], 1);
    assert_eq!(computed.generated_at, "2026-11-22T18:00:00.000Z");
    assert_eq!(m.per_day.len(), metrics::SPARK_DAYS);
    assert_eq!(*m.per_day.last().unwrap(), 1);
    cmd(&mut app, Command::ToggleDrills);
    let m = app.stack.metrics().unwrap();
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
        app.stack
            .metrics()
            .unwrap()
            .metrics
            .as_ref()
            .unwrap()
            .generated_at,
        "2026-11-22T19:00:00.000Z"
    );
    cmd(&mut app, Command::Back);
    assert_eq!(app.stack.screen(), Screen::Board);
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
        let m = app.stack.metrics().unwrap();
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
    let m = app.stack.metrics().unwrap().metrics.clone().unwrap();
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
    assert_eq!(app.stack.metrics().unwrap().metrics.as_ref(), Some(&cli));
    // Leaving and coming back keeps the period.
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::OpenMetrics);
    assert_eq!(
        app.stack.metrics().unwrap().window,
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
    assert_eq!(app.stack.screen(), Screen::Messages);
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
    let state = app.stack.messages().unwrap();
    assert_eq!(state.undelivered(), (1, 0));
    assert_eq!(state.cursor, 0);
    cmd(&mut app, Command::Bottom);
    assert_eq!(app.stack.messages().unwrap().selected().unwrap().id, m2.id);
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
    assert!(!app.stack.messages().unwrap().retrying);
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
    assert_eq!(app.stack.screen(), Screen::Incident);
    assert!(app.stack.messages().is_none());
}
