//! Snapshot tests of the console's views (ratatui TestBackend + insta) at
//! 80x24 and 120x40 with a fixed clock, and a size sweep that renders every
//! view at every small size without panicking.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

use warroom::comms::{Audience, CommsConfig, MessageFields, SinkConfig, SinkKind, Templates};
use warroom::domain::playbook::ItemState;
use warroom::domain::roles::{Person, Role};
use warroom::domain::{Playbook, Policy, Severity, Source, Status};
use warroom::store::SentMessage;
use warroom::store::{IncidentPatch, NewIncident, Store};
use warroom::tui::action::{Action, Command};
use warroom::tui::kit::editor::Editor;
use warroom::tui::records::RecordsLoaded;
use warroom::tui::screens::compose::state::{ComposeEnv, ComposeLoaded, SendReport};
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::{Effect, update};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).unwrap()
}

/// A database with a handful of incidents in different states, all written
/// at fixed times so the screens are the same on every run.
fn fixture() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let at = |m: i64| now() - Duration::minutes(m);
    for (handle, name) in [("alice", "Alice Chen"), ("bob", "Bob Okafor")] {
        let p = Person {
            handle: handle.into(),
            name: name.into(),
            contact: String::new(),
            roles: Vec::new(),
            on_call: false,
        };
        store.upsert_person(&p, "setup", at(600)).unwrap();
    }
    let mut p1 = NewIncident::new(
        "Credential stuffing against customer login API",
        Severity::P1,
    );
    p1.summary = "Over 4,000 failed logins a minute from a rotating pool.\nA few hundred accounts logged in.".into();
    p1.source = Source::RuleWatcher;
    p1.affected = "eu-west-1: auth-api, web".into();
    p1.personal_data_breach = true;
    let p1 = store.create_incident(&p1, &pb, "alice", at(20)).unwrap();
    store
        .assign_role(&p1.id, Role::Commander, "alice", "alice", at(18))
        .unwrap();
    store
        .assign_role(&p1.id, Role::Security, "bob", "alice", at(17))
        .unwrap();
    store
        .set_checklist_item(&p1.id, "detect.siem", ItemState::Done, None, "bob", at(15))
        .unwrap();
    store
        .set_checklist_item(
            &p1.id,
            "detect.reports",
            ItemState::NotApplicable,
            Some("no reports yet"),
            "alice",
            at(14),
        )
        .unwrap();
    let patch = IncidentPatch {
        status: Some(Status::Identified),
        phase: Some(warroom::domain::Phase::Triage),
        ..IncidentPatch::default()
    };
    store
        .update_incident(&p1.id, &patch, "alice", at(12))
        .unwrap();
    store
        .add_note(&p1.id, "Rate limiting raised on /login.", "bob", at(10))
        .unwrap();

    let mut drill = NewIncident::new(
        "Ransom note found on build server ci-runner-07",
        Severity::P2,
    );
    drill.drill = true;
    drill.source = Source::Siem;
    store.create_incident(&drill, &pb, "demo", at(50)).unwrap();

    let p3 = NewIncident::new("Phishing campaign targeting finance staff", Severity::P3);
    let p3 = store.create_incident(&p3, &pb, "carol", at(300)).unwrap();
    store
        .assign_role(&p3.id, Role::Commander, "carol", "carol", at(290))
        .unwrap();

    let p4 = NewIncident::new("Expired TLS certificate on status page", Severity::P4);
    let p4 = store.create_incident(&p4, &pb, "dave", at(200)).unwrap();
    let closed = IncidentPatch {
        status: Some(Status::Closed),
        ..IncidentPatch::default()
    };
    // The closing gate wants a finished review.
    let review = warroom::store::ReviewPatch {
        root_cause: Some("certificate renewal was manual".into()),
        no_action_reason: Some(Some("renewal automated since".into())),
        ..Default::default()
    };
    store
        .update_review(&p4.id, &review, "dave", at(101))
        .unwrap();
    // ...and its checklist settled.
    for item in store.checklist(&p4.id).unwrap() {
        store
            .set_checklist_item(&p4.id, &item.id, ItemState::Done, None, "dave", at(101))
            .unwrap();
    }
    store
        .update_incident(&p4.id, &closed, "dave", at(100))
        .unwrap();
    (dir, store)
}

/// The fixture plus evidence, a legal hold and a review on the P1, and a
/// P2 resolved eight days ago whose review is overdue.
fn fixture_with_records() -> (TempDir, Store) {
    use chrono::FixedOffset;
    use warroom::store::{EvidenceContent, NewAction, NewEvidence, ReviewPatch};
    let (dir, mut store) = fixture();
    let at = |m: i64| now() - Duration::minutes(m);
    let p1 = store
        .board(false)
        .unwrap()
        .into_iter()
        .find(|r| r.incident.severity == Severity::P1)
        .unwrap()
        .incident
        .id;
    let tz = FixedOffset::east_opt(3600).unwrap();
    let excerpt = NewEvidence {
        content: EvidenceContent::Excerpt {
            text: "Nov 22 18:05:01 web1 sshd[811]: Failed password for \u{1b}[31mroot\u{1b}[0m from 203.0.113.9\nNov 22 18:05:02 web1 sshd[811]: Failed password for admin from 203.0.113.9\n".into(),
            source_path: Some("/var/log/auth.log".into()),
        },
        description: "auth log lines at onset".into(),
        source_host: "web1".into(),
        tz,
    };
    store.add_evidence(&p1, &excerpt, "bob", at(16)).unwrap();
    let note = NewEvidence {
        content: EvidenceContent::Note("Pool of 2,300 residential proxy IPs".into()),
        description: "source analysis".into(),
        source_host: "soc-ws4".into(),
        tz,
    };
    store.add_evidence(&p1, &note, "alice", at(13)).unwrap();
    store
        .transfer_evidence(&p1, 1, "forensics-lab", "timeline analysis", "alice", at(9))
        .unwrap();
    store.verify_evidence(Some(&p1), "bob", at(8)).unwrap();
    store
        .set_legal_hold(&p1, "regulator inquiry 2026-44", "alice", at(7))
        .unwrap();
    let review = ReviewPatch {
        statement: Some("Attackers replayed leaked credentials against /login".into()),
        whys: Some(vec![
            "No rate limit per account".into(),
            "The limit was per IP only".into(),
        ]),
        lessons: Some("Alert on login failure ratio, not volume".into()),
        ..ReviewPatch::default()
    };
    store.update_review(&p1, &review, "alice", at(6)).unwrap();
    let action = NewAction {
        description: "Per-account login rate limit".into(),
        owner: "bob".into(),
        due: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
    };
    store.add_action(&p1, &action, "alice", at(5)).unwrap();

    let days = |d: i64| now() - Duration::days(d);
    let old = store
        .create_incident(
            &NewIncident::new("Malware on a kiosk PC", Severity::P2),
            &Playbook::builtin(),
            "carol",
            days(8),
        )
        .unwrap();
    let resolved = IncidentPatch {
        status: Some(Status::Resolved),
        ..IncidentPatch::default()
    };
    store
        .update_incident(&old.id, &resolved, "carol", days(7))
        .unwrap();
    (dir, store)
}

/// Feeds what the store worker would report for the open screen.
fn records(app: &mut App, r: RecordsLoaded) {
    update(app, Action::Records(Box::new(r)), now());
}

fn records_board_app(store: &Store) -> App {
    let mut app = board_app(store);
    records(
        &mut app,
        RecordsLoaded::ReviewsComplete(store.resolved_complete_reviews().unwrap()),
    );
    app
}

fn evidence_app(store: &Store) -> App {
    let mut app = incident_app(store);
    cmd(&mut app, Command::OpenEvidence);
    let id = app.stack.evidence().unwrap().id.clone();
    records(
        &mut app,
        RecordsLoaded::Evidence {
            items: store.evidence(&id).unwrap(),
            custody: store.custody(&id).unwrap(),
            hold: store.legal_hold(&id).unwrap(),
            id,
        },
    );
    app
}

fn review_app(store: &Store) -> App {
    let mut app = incident_app(store);
    cmd(&mut app, Command::OpenReview);
    let id = app.stack.review().unwrap().id.clone();
    records(
        &mut app,
        RecordsLoaded::Review {
            review: store.review(&id).unwrap(),
            id,
        },
    );
    app
}

fn metrics_app(store: &Store) -> App {
    let mut app = records_board_app(store);
    cmd(&mut app, Command::OpenMetrics);
    records(
        &mut app,
        RecordsLoaded::Metrics {
            incidents: store.incidents(true).unwrap(),
            reviews: store.reviews().unwrap().into_iter().collect(),
        },
    );
    app
}

/// The P1 with two messages sent: the first delivered through the outbox
/// and the pager, the second delivered through the outbox but not the
/// pager, whose error text carries an escape sequence.
fn messages_app() -> (App, TempDir) {
    use warroom::store::NewMessage;
    let (dir, mut store) = fixture();
    let mut app = incident_app(&store);
    let id = app.stack.incident().unwrap().id.clone();
    let at = |m: i64| now() - Duration::minutes(m);
    let sinks = ["outbox".to_string(), "pager".to_string()];
    for (n, (body, pager)) in [
        (
            "We are investigating failed logins.\nNext update in 1 hour.\n",
            Ok("ran /usr/bin/page: exit 0"),
        ),
        (
            "Rate limits raised; logins recovering.\n",
            Err("pager is down \u{1b}[2J(exit 1)"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let sent_at = at(8 - 4 * n as i64);
        let msg = NewMessage {
            incident_id: id.clone(),
            audience: Audience::Internal,
            template: Some("internal".into()),
            body: body.into(),
            author: "bob".into(),
        };
        let m = store.send_message(&msg, &sinks, sent_at).unwrap();
        store
            .record_delivery(m.id, "outbox", Ok("outbox/1.txt"), "bob", sent_at)
            .unwrap();
        store
            .record_delivery(m.id, "pager", pager, "bob", sent_at)
            .unwrap();
    }
    cmd(&mut app, Command::OpenMessages);
    records(
        &mut app,
        RecordsLoaded::Messages {
            list: store.messages(&id).unwrap(),
            id,
        },
    );
    cmd(&mut app, Command::Down);
    (app, dir)
}

fn board_app(store: &Store) -> App {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(
        &mut app,
        Action::BoardLoaded(store.board(false).unwrap()),
        now(),
    );
    update(
        &mut app,
        Action::PeopleLoaded(store.people().unwrap()),
        now(),
    );
    app
}

fn cmd(app: &mut App, c: Command) {
    update(app, Action::Command(c), now());
}

fn incident_app(store: &Store) -> App {
    let mut app = board_app(store);
    // The P1 is on the board; select it by id and open it.
    let pos = app
        .board
        .order
        .iter()
        .position(|i| app.rows[*i].incident.severity == Severity::P1)
        .unwrap();
    app.board.selected = pos;
    cmd(&mut app, Command::Open);
    let id = app.stack.incident().unwrap().id.clone();
    let detail = store.detail(&id, None).unwrap();
    update(&mut app, Action::DetailLoaded(Box::new(detail)), now());
    app
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, now())).unwrap();
    // TestBackend's own Display cannot show a zero-width buffer.
    if w == 0 {
        return String::new();
    }
    t.backend().to_string()
}

fn typed(app: &mut App, text: &str) {
    use crossterm::event::{KeyCode, KeyEvent};
    for c in text.chars() {
        update(app, Action::Input(KeyEvent::from(KeyCode::Char(c))), now());
    }
}

/// Every view the sweep and snapshots cover, by name.
fn all_views() -> Vec<(&'static str, App, TempDir)> {
    let mut out = Vec::new();
    let (dir, store) = fixture();
    out.push(("board", board_app(&store), dir));

    let empty_dir = tempfile::tempdir().unwrap();
    let empty = Store::open(&empty_dir.path().join("e.db")).unwrap();
    out.push(("board_empty", board_app(&empty), empty_dir));

    let (dir, store) = fixture();
    out.push(("incident", incident_app(&store), dir));

    let (dir, store) = fixture();
    let mut help = incident_app(&store);
    cmd(&mut help, Command::Help);
    out.push(("help", help, dir));

    let (dir, store) = fixture();
    let mut form = board_app(&store);
    cmd(&mut form, Command::NewIncident);
    typed(&mut form, "Suspicious admin login from new country");
    cmd(&mut form, Command::NextField);
    cmd(&mut form, Command::NextField);
    cmd(&mut form, Command::Submit); // no severity: inline error
    out.push(("new_incident", form, dir));

    let (dir, store) = fixture();
    let mut picker = incident_app(&store);
    cmd(&mut picker, Command::SetSeverity);
    out.push(("severity_picker", picker, dir));

    let (dir, store) = fixture();
    let mut assign = incident_app(&store);
    cmd(&mut assign, Command::Assign);
    out.push(("assign", assign, dir));

    let (dir, store) = fixture();
    let mut edit = incident_app(&store);
    cmd(&mut edit, Command::EditTitle);
    out.push(("edit_title", edit, dir));

    let (dir, store) = fixture_with_records();
    out.push(("board_review_overdue", records_board_app(&store), dir));

    let (dir, store) = fixture_with_records();
    out.push(("evidence", evidence_app(&store), dir));

    let (dir, store) = fixture();
    out.push(("evidence_empty", evidence_app(&store), dir));

    let (dir, store) = fixture_with_records();
    out.push(("review", review_app(&store), dir));

    let (dir, store) = fixture_with_records();
    out.push(("metrics", metrics_app(&store), dir));

    let (app, dir) = messages_app();
    out.push(("messages", app, dir));

    let (dir, store) = fixture_with_records();
    let mut week = metrics_app(&store);
    cmd(&mut week, Command::NextPeriod);
    out.push(("metrics_7_days", week, dir));

    let (dir, store) = fixture_with_records();
    let mut add = evidence_app(&store);
    cmd(&mut add, Command::AddEvidence);
    cmd(&mut add, Command::PrevField);
    cmd(&mut add, Command::ChoiceNext);
    cmd(&mut add, Command::NextField);
    typed(
        &mut add,
        "Failed password for root \u{1b}]52;c;ZXZpbA==\u{7}",
    );
    out.push(("evidence_add", add, dir));

    let (dir, store) = fixture_with_records();
    let mut edit = review_app(&store);
    cmd(&mut edit, Command::Down);
    cmd(&mut edit, Command::Down);
    cmd(&mut edit, Command::Edit);
    out.push(("review_edit", edit, dir));

    let (dir, store) = fixture_with_records();
    let mut gate = incident_app(&store);
    let id = gate.stack.incident().unwrap().id.clone();
    records(
        &mut gate,
        RecordsLoaded::GateRefused {
            id: id.clone(),
            message: format!(
                "{id} cannot be closed: the review has no root cause; complete the review (root cause, and a corrective action or a \"no action\" reason), or the commander may override with a reason"
            ),
        },
    );
    out.push(("close_gate", gate, dir));

    let (dir, store) = fixture_with_records();
    let mut report = incident_app(&store);
    cmd(&mut report, Command::WriteReport);
    out.push(("report", report, dir));
    out.extend(composer_views());

    // An alert read from the alert log: a toast over the foot of the view,
    // its text (with a title someone typed) made safe.
    let (dir, store) = fixture();
    let mut toast = incident_app(&store);
    let alert = warroom::store::NewAlert {
        key: "clock:INC-2026-001:response:x:near".into(),
        incident_id: Some("INC-2026-001".into()),
        kind: "clock-near".into(),
        text: "INC-2026-001 P1 Login \u{1b}]52;c;eA==\u{7}: Response clock 80% used".into(),
        recipient: None,
        raised_by: "alice".into(),
        raised_at: now(),
    };
    let logged = |id| warroom::store::RaisedAlert {
        id,
        alert: alert.clone(),
        acknowledged_at: None,
    };
    let batch = warroom::tui::screens::alerts::io::FeedBatch {
        alerts: vec![logged(1), logged(2)],
        earlier: false,
        desktop: Vec::new(),
    };
    update(&mut toast, Action::AlertFeed(Box::new(batch)), now());
    out.push(("alert_toast", toast, dir));

    let (dir, store) = fixture();
    let mut quit = board_app(&store);
    cmd(&mut quit, Command::NewIncident);
    typed(&mut quit, "x");
    cmd(&mut quit, Command::Quit);
    out.push(("confirm_quit", quit, dir));
    out
}

/// The composer's configuration, fixed: the shipped templates, no
/// contact, the default outbox and a clipboard sink.
fn compose_env() -> ComposeEnv {
    let config = CommsConfig::builtin(std::path::Path::new("/etc/warroom"));
    let mut sinks = config.effective_sinks(std::path::Path::new("/srv/warroom/warroom.db"));
    sinks.push(SinkConfig {
        name: "clipboard".into(),
        kind: SinkKind::Osc52 { max_bytes: 75_000 },
        audiences: None,
        default: false,
    });
    ComposeEnv {
        config,
        templates: Templates::builtin().list(),
        templates_error: None,
        sinks,
    }
}

/// What the store worker answers when the composer asks for a render.
fn compose_loaded(store: &Store, app: &App, last: Option<SentMessage>) -> Action {
    let c = app.stack.compose().expect("composer");
    let detail = store.detail(&c.id, None).unwrap();
    let fields =
        MessageFields::for_config(&detail, &Policy::builtin(), &compose_env().config, now());
    let rendered = c.template.as_ref().map(|t| {
        Templates::builtin()
            .render(t, &fields)
            .map_err(|e| e.to_string())
    });
    Action::ComposeLoaded(Box::new(ComposeLoaded {
        id: c.id.clone(),
        audience: c.audience,
        rendered,
        last: Ok(last),
        internal: warroom::tui::screens::compose::io::internal(store, &c.id, c.audience),
    }))
}

/// A message "sent" an hour before, to diff against.
fn last_sent(id: &str, body: &str) -> SentMessage {
    SentMessage {
        id: 1,
        incident_id: id.to_string(),
        audience: Audience::Customers,
        template: Some("customer".into()),
        body: body.to_string(),
        sha256: warroom::store::body_sha256(body),
        author: "carol".into(),
        sent_at: now() - Duration::hours(1),
        event_seq: 12,
        drill: false,
        deliveries: Vec::new(),
    }
}

/// The composer at each of its steps, over the P1 of the fixture.
fn composer_views() -> Vec<(&'static str, App, TempDir)> {
    let mut out = Vec::new();
    let open = || {
        let (dir, store) = fixture();
        let mut app = incident_app(&store);
        app.comms = compose_env();
        cmd(&mut app, Command::Compose);
        (dir, store, app)
    };
    let (dir, _store, picker) = open();
    out.push(("compose_picker", picker, dir));

    // A user's template that does not render: file, line and problem.
    let (dir, _store, mut broken) = open();
    cmd(&mut broken, Command::Submit);
    let id = broken.stack.compose().unwrap().id.clone();
    update(
        &mut broken,
        Action::ComposeLoaded(Box::new(ComposeLoaded {
            id,
            audience: Audience::Customers,
            rendered: Some(Err(
                "/home/alice/.config/warroom/templates/customer.txt:3: syntax error: unexpected `}`, expected end of variable block".into(),
            )),
            last: Ok(None),
            internal: Ok(Vec::new()),
        })),
        now(),
    );
    out.push(("compose_template_error", broken, dir));

    let edit = |last: Option<&str>| {
        let (dir, store, mut app) = open();
        cmd(&mut app, Command::Submit);
        let id = app.stack.compose().unwrap().id.to_string();
        let last = last.map(|b| last_sent(&id, b));
        let loaded = compose_loaded(&store, &app, last);
        update(&mut app, loaded, now());
        (dir, store, app)
    };
    let (dir, _store, editor) = edit(None);
    out.push(("compose_editor", editor, dir));

    let (dir, _store, mut help) = edit(None);
    cmd(&mut help, Command::Help);
    out.push(("compose_help", help, dir));

    let (dir, _store, mut preview) = edit(None);
    cmd(&mut preview, Command::NextView);
    out.push(("compose_preview", preview, dir));

    let (dir, _store, mut diff) = edit(Some(
        "SECURITY INCIDENT NOTIFICATION\n\nIncident ID: INC-2026-001\nSeverity: P2 - High\nStatus: Investigating\n\nSUMMARY:\nFailed logins rising.\n",
    ));
    cmd(&mut diff, Command::NextView);
    cmd(&mut diff, Command::NextView);
    out.push(("compose_diff", diff, dir));

    let (dir, _store, mut confirm) = edit(None);
    confirm.stack.compose_mut().unwrap().editor = Editor::new(
        "Login is restored.\nWe will write again within 2 hours.",
        (1, 0),
    );
    cmd(&mut confirm, Command::Send);
    out.push(("compose_confirm", confirm, dir));

    let (dir, mut store, mut sent) = edit(None);
    sent.stack.compose_mut().unwrap().editor = Editor::new("Login is restored.", (0, 0));
    cmd(&mut sent, Command::Send);
    let fx = update(&mut sent, Action::Command(Command::Submit), now());
    let Some(Effect::SendMessage { message, sinks }) = fx
        .into_iter()
        .find(|e| matches!(e, Effect::SendMessage { .. }))
    else {
        panic!("no send")
    };
    let m = store.send_message(&message, &sinks, now()).unwrap();
    store
        .record_delivery(
            m.id,
            "outbox",
            Err("/srv/warroom/warroom.outbox: No space left on device (os error 28)"),
            "alice",
            now(),
        )
        .unwrap();
    let m = store.message(m.id).unwrap().unwrap();
    update(
        &mut sent,
        Action::MessageSent {
            report: Box::new(SendReport {
                message: m,
                clipboard: Vec::new(),
            }),
            retry: false,
        },
        now(),
    );
    out.push(("compose_sent", sent, dir));
    out
}

#[test]
fn composer_snapshots_at_80x24_and_120x40() {
    for (name, app, _dir) in composer_views() {
        for (w, h) in [(80, 24), (120, 40)] {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&app, w, h));
        }
    }
}

#[test]
fn snapshots_at_80x24_and_120x40() {
    for (name, app, _dir) in all_views() {
        if !matches!(
            name,
            "board" | "board_empty" | "incident" | "help" | "new_incident"
        ) {
            continue;
        }
        for (w, h) in [(80, 24), (120, 40)] {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&app, w, h));
        }
    }
}

#[test]
fn dialogs_at_80x24() {
    for (name, app, _dir) in all_views() {
        if matches!(
            name,
            "severity_picker" | "assign" | "edit_title" | "confirm_quit" | "alert_toast"
        ) {
            insta::assert_snapshot!(format!("{name}_80x24"), draw(&app, 80, 24));
        }
        // The review text's editor of several lines, at the larger size too.
        if name == "review_edit" {
            insta::assert_snapshot!(format!("{name}_120x40"), draw(&app, 120, 40));
        }
    }
}

#[test]
fn evidence_review_and_metrics_at_80x24_and_120x40() {
    for (name, app, _dir) in all_views() {
        if matches!(
            name,
            "board_review_overdue"
                | "evidence"
                | "evidence_empty"
                | "review"
                | "metrics"
                | "metrics_7_days"
                | "messages"
        ) {
            for (w, h) in [(80, 24), (120, 40)] {
                insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&app, w, h));
            }
        }
        if matches!(
            name,
            "evidence_add" | "review_edit" | "close_gate" | "report"
        ) {
            insta::assert_snapshot!(format!("{name}_80x24"), draw(&app, 80, 24));
        }
    }
}

#[test]
fn the_metrics_title_names_the_period_and_counts_only_incidents_in_it() {
    let views = all_views();
    let get = |n: &str| &views.iter().find(|v| v.0 == n).unwrap().1;
    // All time: the four real incidents (the drill is left out), the P2
    // resolved eight days ago among them; the last 7 days start on
    // 2026-11-16 00:00 UTC, so it is not counted there.
    for (w, h) in [(80, 24), (120, 40)] {
        let all = draw(get("metrics"), w, h);
        assert!(all.contains(" Metrics: all time "), "{all}");
        assert!(all.contains(" 4 incidents detected in the period"), "{all}");
        let week = draw(get("metrics_7_days"), w, h);
        assert!(
            week.contains(" Metrics: last 7 days, 2026-11-16 to now UTC "),
            "{week}"
        );
        assert!(
            week.contains(" 3 incidents detected in the period"),
            "{week}"
        );
    }
    let wide = draw(get("metrics_7_days"), 120, 40);
    assert!(
        wide.contains("as warroom metrics --since 2026-11-16"),
        "{wide}"
    );
}

#[test]
fn a_long_chain_of_custody_scrolls_to_its_first_and_last_event() {
    use chrono::FixedOffset;
    use warroom::store::{EvidenceContent, NewEvidence};
    let (_dir, mut store) = fixture();
    let p1 = store
        .board(false)
        .unwrap()
        .into_iter()
        .find(|r| r.incident.severity == Severity::P1)
        .unwrap()
        .incident
        .id;
    let start = now() - Duration::days(3);
    let note = NewEvidence {
        content: EvidenceContent::Note("Pool of 2,300 residential proxy IPs".into()),
        description: "source analysis".into(),
        source_host: "soc-ws4".into(),
        tz: FixedOffset::east_opt(0).unwrap(),
    };
    store.add_evidence(&p1, &note, "alice", start).unwrap();
    // 50 checks, a minute apart, then a last hand-over: 52 events.
    for m in 1..=50 {
        store
            .verify_evidence(Some(&p1), "bob", start + Duration::minutes(m))
            .unwrap();
    }
    store
        .transfer_evidence(
            &p1,
            1,
            "archive-vault",
            "final hand-over",
            "alice",
            start + Duration::hours(2),
        )
        .unwrap();
    let mut app = evidence_app(&store);
    let custody_rows = |screen: &str| {
        screen
            .lines()
            .filter(|l| {
                l.contains(" verified ") || l.contains(" collected ") || l.contains(" transferred ")
            })
            .count()
    };
    // At first the newest events show, and the title says which.
    let screen = draw(&app, 80, 24);
    assert!(screen.contains(" transferred "), "{screen}");
    assert!(!screen.contains(" collected "), "{screen}");
    let rows = custody_rows(&screen);
    assert!(rows >= 3, "{screen}");
    assert!(
        screen.contains(&format!("Chain of custody of #1: {}–52 of 52", 53 - rows)),
        "{screen}"
    );
    // Tab moves into the chain; g goes to its first event.
    cmd(&mut app, Command::NextPane);
    cmd(&mut app, Command::Top);
    let screen = draw(&app, 80, 24);
    assert!(screen.contains(" collected "), "{screen}");
    assert!(screen.contains("event 1 of 52"), "{screen}");
    assert!(!screen.contains(" transferred "), "{screen}");
    // j and PgDn walk down to the last event, one screen at a time.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let screen = draw(&app, 80, 24);
        for l in screen.lines().filter(|l| l.contains(" verified ")) {
            seen.insert(l.get(1..12).unwrap_or_default().to_string());
        }
        if screen.contains("event 52 of 52") {
            break;
        }
        cmd(&mut app, Command::Down);
    }
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("event 52 of 52"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains(" transferred ") && l.contains("→ archive-vault")),
        "{screen}"
    );
    assert_eq!(seen.len(), 50, "every check was on screen once: {seen:?}");
    cmd(&mut app, Command::PageUp);
    assert!(draw(&app, 80, 24).contains("event 42 of 52"));
    // Back in the item list, the chain says how to scroll it again.
    cmd(&mut app, Command::NextPane);
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("Tab, then j/k/PgUp/g scroll it"),
        "{screen}"
    );
    assert!(!screen.contains("event 42 of 52"), "{screen}");
}

#[test]
fn messages_show_audience_author_time_and_each_sinks_state_safely() {
    let (app, _dir) = messages_app();
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = draw(&app, w, h);
        let line = |needle: &str| {
            screen
                .lines()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no {needle:?} in\n{screen}"))
        };
        assert!(line("#1").contains("2026-11-22 18:22:00 UTC  internal   by bob"));
        assert!(line("#1").contains("delivered") && !line("#1").contains("NOT"));
        assert!(line("▶ #2").contains("18:26:00 UTC  internal   by bob  NOT DELIVERED"));
        assert!(line("1 delivery FAILED").contains("r retries them"));
        let failed = line("pager        FAILED");
        assert!(failed.contains("1 attempt, 18:26:00"), "{screen}");
        // The sink's error passed through display_safe.
        assert!(failed.contains("pager is down ␛[2J"), "{screen}");
        assert!(!screen.contains('\u{1b}'));
        assert!(line("#2 to internal, from internal").contains("sha256"));
        assert!(screen.contains("Rate limits raised; logins recovering."));
    }
}

#[test]
fn text_panes_wrap_at_spaces_and_cut_long_words_and_wide_characters() {
    use warroom::tui::kit::layout::wrap;
    let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(wrap(&l(&["one two three"]), 8), l(&["one two", "three"]));
    assert_eq!(wrap(&l(&["abcdefghij"]), 4), l(&["abcd", "efgh", "ij"]));
    assert_eq!(wrap(&l(&["漢字漢字漢"]), 4), l(&["漢字", "漢字", "漢"]));
    assert_eq!(wrap(&l(&["", "x"]), 1), l(&["", "x"]));
    // A character wider than the pane still moves on.
    assert_eq!(wrap(&l(&["漢a"]), 1), l(&["漢", "a"]));
}

#[test]
fn a_long_review_text_scrolls_to_its_end() {
    use warroom::store::ReviewPatch;
    let (_dir, mut store) = fixture_with_records();
    let p1 = store
        .board(false)
        .unwrap()
        .into_iter()
        .find(|r| r.incident.severity == Severity::P1)
        .unwrap()
        .incident
        .id;
    let cause: Vec<String> = (1..=40)
        .map(|n| format!("Cause sentence {n} of forty."))
        .collect();
    let patch = ReviewPatch {
        root_cause: Some(cause.join(" ")),
        ..ReviewPatch::default()
    };
    store
        .update_review(&p1, &patch, "alice", now() - Duration::minutes(1))
        .unwrap();
    let mut app = review_app(&store);
    // Statement, the two whys and the empty why slot, then the root cause.
    for _ in 0..4 {
        cmd(&mut app, Command::Down);
    }
    let screen = draw(&app, 80, 24);
    assert!(screen.contains(" Root cause · lines 1–"), "{screen}");
    assert!(screen.contains("Tab, then j/k scroll it"), "{screen}");
    assert!(!screen.contains("sentence 40 of forty."), "{screen}");
    cmd(&mut app, Command::NextPane);
    cmd(&mut app, Command::Bottom);
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("Cause sentence 40 of forty."), "{screen}");
    assert!(
        screen.contains(" Root cause · lines 12–15 of 15 "),
        "{screen}"
    );
    cmd(&mut app, Command::Top);
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains(" Root cause · lines 1–4 of 15 "),
        "{screen}"
    );
    assert!(!screen.contains("Cause sentence 40 of forty."), "{screen}");
    // Back in the list, moving to another row starts its text at the top.
    cmd(&mut app, Command::PrevPane);
    cmd(&mut app, Command::Bottom);
    cmd(&mut app, Command::NextPane);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::PrevPane);
    cmd(&mut app, Command::Top);
    assert_eq!(app.stack.review().unwrap().text_scroll, 0);
}

#[test]
fn overdue_reviews_legal_holds_and_hostile_text_are_marked_in_text() {
    let views = all_views();
    let get = |n: &str| &views.iter().find(|v| v.0 == n).unwrap().1;
    let board = draw(get("board_review_overdue"), 120, 40);
    assert!(
        board.contains("REVIEW OVERDUE Malware on a kiosk PC"),
        "{board}"
    );
    let evidence = draw(get("evidence"), 120, 40);
    assert!(evidence.contains("LEGAL HOLD"), "{evidence}");
    // The excerpt's escape shows as a visible ␛, never raw.
    assert!(evidence.contains("␛[31mroot"), "{evidence}");
    assert!(!evidence.contains('\u{1b}'));
    let add = draw(get("evidence_add"), 80, 24);
    assert!(add.contains("␛]52;c;ZXZpbA==␇"), "{add}");
    let review = draw(get("review"), 120, 40);
    assert!(
        review.contains("✗ the review has no root cause"),
        "{review}"
    );
}

/// Sizes the sweep draws every view at, in two halves of about the same
/// work (each its own test, so the two run side by side): the tiny ones and
/// the extremes, then the grid around the minimum.
fn sweep_sizes(tiny: bool) -> Vec<(u16, u16)> {
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    if tiny {
        for w in 0..=40 {
            for h in 0..=15 {
                sizes.push((w, h));
            }
        }
        sizes.extend([
            (400, 120),
            (1, 120),
            (400, 1),
            (70, 20),
            (69, 20),
            (70, 19),
            (255, 255),
        ]);
        return sizes;
    }
    // Around the minimum, where the real layouts get tight.
    for w in (60..=130).step_by(7) {
        for h in (16..=44).step_by(4) {
            sizes.push((w, h));
        }
    }
    sizes
}

/// Draws every view at every size in `sizes` (only drawn: the text of the
/// screen is not needed to see a panic).
fn sweep(sizes: &[(u16, u16)]) {
    for (name, app, _dir) in &all_views() {
        for (w, h) in sizes {
            // The composer's textarea keeps its scroll in a Cell.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut t = Terminal::new(TestBackend::new(*w, *h)).unwrap();
                t.draw(|f| render(app, f, now())).unwrap();
            }));
            assert!(result.is_ok(), "{name} panicked at {w}x{h}");
        }
    }
}

#[test]
fn every_view_at_tiny_and_extreme_sizes_without_panic() {
    sweep(&sweep_sizes(true));
}

#[test]
fn every_view_at_sizes_around_the_minimum_without_panic() {
    sweep(&sweep_sizes(false));
}

#[test]
fn too_small_says_so() {
    let (_dir, store) = fixture();
    let app = board_app(&store);
    let screen = draw(&app, 40, 15);
    assert!(screen.contains("too small"), "{screen}");
}

#[test]
fn resizing_in_the_middle_of_a_form_keeps_the_text() {
    let (_dir, store) = fixture();
    let mut app = board_app(&store);
    cmd(&mut app, Command::NewIncident);
    typed(&mut app, "Half typed");
    for (w, h) in [(120, 40), (10, 5), (0, 0), (80, 24)] {
        update(&mut app, Action::Resize, now());
        draw(&app, w, h);
    }
    assert!(draw(&app, 80, 24).contains("Half typed"));
}

#[test]
fn closed_incidents_are_behind_a_toggle() {
    let (_dir, store) = fixture();
    let mut app = board_app(&store);
    assert!(!draw(&app, 120, 40).contains("Expired TLS"));
    cmd(&mut app, Command::ToggleClosed);
    update(
        &mut app,
        Action::BoardLoaded(store.board(true).unwrap()),
        now(),
    );
    assert!(draw(&app, 120, 40).contains("Expired TLS"));
}

#[test]
fn drill_and_breached_are_marked_in_text() {
    let (_dir, store) = fixture();
    let app = board_app(&store);
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("DRILL Ransom note"), "{screen}");
    assert!(screen.contains("BREACHED"), "{screen}");
}

#[test]
fn the_incident_view_says_where_its_alerts_and_sources_came_from() {
    use warroom::tui::screens::incident::state::Origins;
    let (_dir, store) = fixture();
    let mut app = incident_app(&store);
    let id = app.stack.incident().unwrap().id.clone();
    let before = draw(&app, 120, 40);
    assert!(!before.contains("Alerts from") && !before.contains("Sources:"));
    let source = |key: &str, count: u64| warroom::store::IncidentSource {
        rule: "Multiple failed logins".into(),
        key: key.into(),
        count,
        first_seen: now(),
        last_seen: now(),
        open: true,
    };
    let origins = Origins {
        intake: vec![warroom::store::IncidentIntake {
            intake: "alertmanager".into(),
            format: "alertmanager".into(),
            channel: "listener".into(),
            alerts: 3,
            first_received_at: Some(now()),
            last_received_at: Some(now()),
        }],
        sources: vec![
            source("203.0.113.9", 312),
            source("198.51.100.7\u{1b}[2J", 40),
            source("192.0.2.1", 5),
            source("192.0.2.2", 1),
        ],
        last_customer_update: None,
    };
    update(
        &mut app,
        Action::OriginsLoaded(id.clone(), Box::new(origins)),
        now(),
    );
    let screen = draw(&app, 160, 40);
    assert!(
        screen.contains("Alerts from: alertmanager via listener (3 alert(s), last"),
        "{screen}"
    );
    assert!(
        screen.contains("Sources: 4 keys, 358 hits; busiest 203.0.113.9 ×312"),
        "{screen}"
    );
    assert!(
        !screen.contains('\u{1b}'),
        "keys come from logs: shown inert"
    );
    // A campaign's sources table shares the bottom with the timeline.
    assert!(screen.contains("4 sources, 358 hits"), "{screen}");
    assert!(screen.contains("192.0.2.2"), "{screen}");
    // Who else views it, and when customers were last told.
    let seen = |console: &str, actor: &str, on: Option<&str>| warroom::store::Presence {
        console_id: console.into(),
        actor: actor.into(),
        pid: 1,
        host: "bastion".into(),
        incident: on.map(str::to_string),
        started_at: now(),
        seen_at: now(),
    };
    update(
        &mut app,
        Action::PresenceLoaded {
            me: "me".into(),
            present: vec![
                seen("me", "alice", Some(id.as_str())),
                seen("c2", "bob", Some(id.as_str())),
                seen("c3", "carol", None),
            ],
        },
        now(),
    );
    let mut told = app.stack.incident().unwrap().origins.clone();
    told.last_customer_update = Some(now() - chrono::Duration::minutes(12));
    update(
        &mut app,
        Action::OriginsLoaded(id.clone(), Box::new(told)),
        now(),
    );
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("campaign_incident_{w}x{h}"), draw(&app, w, h));
    }
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("last customer update 12 min ago"),
        "{screen}"
    );
    let glance = screen.lines().find(|l| l.contains("viewing:")).unwrap();
    assert!(glance.contains("viewing: bob ·"), "{glance}");
    assert!(
        !glance.contains("carol"),
        "carol is on the board, not here: {glance}"
    );
    for w in 0..=90 {
        for h in [0, 1, 5, 19, 24] {
            draw(&app, w, h);
        }
    }
}

/// A long message is read whole: Space pages through its text, `b` comes
/// back, Enter gives it the screen, and the last line can be reached.
#[test]
fn a_long_sent_message_scrolls_to_its_last_line_and_reads_whole() {
    use warroom::store::NewMessage;
    let (dir, mut store) = fixture();
    let mut app = incident_app(&store);
    let id = app.stack.incident().unwrap().id.clone();
    let body: String = (1..=60)
        .map(|n| format!("Paragraph line {n:02}.\n"))
        .collect();
    let msg = NewMessage {
        incident_id: id.clone(),
        audience: Audience::Internal,
        template: None,
        body,
        author: "bob".into(),
    };
    store
        .send_message(&msg, &["outbox".to_string()], now())
        .unwrap();
    cmd(&mut app, Command::OpenMessages);
    records(
        &mut app,
        RecordsLoaded::Messages {
            list: store.messages(&id).unwrap(),
            id,
        },
    );
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("Paragraph line 01."), "{screen}");
    assert!(!screen.contains("Paragraph line 60."), "{screen}");
    assert!(screen.contains("lines 1–"), "{screen}");
    assert!(screen.contains("of 60 · Space more"), "{screen}");

    cmd(&mut app, Command::TextDown);
    let screen = draw(&app, 80, 24);
    assert!(!screen.contains("Paragraph line 01."), "{screen}");
    assert!(screen.contains("Paragraph line 09."), "{screen}");
    cmd(&mut app, Command::TextUp);
    assert!(draw(&app, 80, 24).contains("Paragraph line 01."));

    // Paging on stops at the end, with the last line in view.
    for _ in 0..20 {
        cmd(&mut app, Command::TextDown);
    }
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("Paragraph line 60."), "{screen}");
    assert!(screen.contains("of 60"), "{screen}");

    // Reading whole: the list goes, far more of the text shows.
    cmd(&mut app, Command::Top);
    cmd(&mut app, Command::ToggleReading);
    let screen = draw(&app, 120, 40);
    assert!(!screen.contains("Messages sent ("), "{screen}");
    let shown = (1..=60)
        .filter(|n| screen.contains(&format!("Paragraph line {n:02}.")))
        .count();
    assert!(shown >= 30, "{shown} lines shown:\n{screen}");
    assert!(screen.contains("Enter the list"), "{screen}");
    cmd(&mut app, Command::ToggleReading);
    assert!(draw(&app, 120, 40).contains("Messages sent ("));
    drop(dir);
}
