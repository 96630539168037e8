//! The console's rule watcher: its screen (insta snapshots at 120x40 and
//! 80x24, hostile log text shown inert, every small size without a panic),
//! its key, its configuration file, and the watcher task itself on real
//! files reporting to the console.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use warroom::comms::CommsConfig;
use warroom::detect::follow::{FileState, FileStatus, FollowStatus, RecentMatch};
use warroom::detect::setup::WatchSetup;
use warroom::domain::{Playbook, Policy};
use warroom::tui::action::{Action, Command, Context, resolve};
use warroom::tui::screens::watcher::io::spawn;
use warroom::tui::shell::app::App;
use warroom::tui::shell::render::render;
use warroom::tui::shell::router::update;
use warroom::tui::shell::stack::Screen;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 0).unwrap()
}

fn setup() -> WatchSetup {
    WatchSetup {
        logs: vec![PathBuf::from("/var/log/auth.log")],
        rules: vec![],
        name: "console".into(),
        from_beginning: false,
        ..WatchSetup::default()
    }
}

fn status() -> FollowStatus {
    let at = |s: i64| now() - chrono::Duration::seconds(s);
    FollowStatus {
        files: vec![
            FileStatus {
                path: "/var/log/auth.log".into(),
                state: FileState::Following,
                offset: 1_048_576,
                lines: 12_004,
                truncated: 1,
                lossy: 2,
                rotations: 1,
            },
            FileStatus {
                path: "/var/log/app/api.log".into(),
                state: FileState::Waiting,
                offset: 0,
                lines: 0,
                truncated: 0,
                lossy: 0,
                rotations: 0,
            },
            FileStatus {
                path: "/var/log/secure".into(),
                state: FileState::Error("/var/log/secure: Permission denied (os error 13)".into()),
                offset: 0,
                lines: 0,
                truncated: 0,
                lossy: 0,
                rotations: 0,
            },
        ],
        rules: vec![
            ("Multiple failed logins".into(), 41),
            ("Failed login burst".into(), 41),
            ("Invalid user probing".into(), 7),
            ("Root login over SSH".into(), 0),
            ("Crontab changed".into(), 0),
        ],
        ignored: vec![],
        recent: vec![
            RecentMatch {
                at: at(30),
                rule: "Invalid user probing".into(),
                key: "5.188.10.180".into(),
                line: "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 5.188.10.180".into(),
            },
            RecentMatch {
                at: at(12),
                rule: "Multiple failed logins".into(),
                key: "173.234.31.186".into(),
                line: "Dec 10 06:55:48 LabSZ sshd[24203]: Failed password for invalid user r\u{1b}]52;c;ZXZpbA==\u{7}oot from 173.234.31.186 port 38926 ssh2".into(),
            },
            RecentMatch {
                at: at(2),
                rule: "Multiple failed logins".into(),
                key: "173.234.31.186".into(),
                line: "Dec 10 06:55:50 LabSZ sshd[24205]: Failed password for \u{202e}toor from 173.234.31.186 port 38951 ssh2\u{1b}[2J".into(),
            },
        ],
        open_detections: 2,
    }
}

fn watcher_app(configured: bool) -> App {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(&mut app, Action::BoardLoaded(vec![]), now());
    if configured {
        app.watcher.setup = Some(setup());
        update(&mut app, Action::WatcherStatus(Box::new(status())), now());
    }
    update(&mut app, Action::Command(Command::OpenWatcher), now());
    app
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, now())).unwrap();
    if w == 0 {
        return String::new();
    }
    t.backend().to_string()
}

#[test]
fn watcher_screen_snapshots() {
    let app = watcher_app(true);
    insta::assert_snapshot!("watcher_120x40", draw(&app, 120, 40));
    insta::assert_snapshot!("watcher_80x24", draw(&app, 80, 24));
    insta::assert_snapshot!(
        "watcher_unconfigured_80x24",
        draw(&watcher_app(false), 80, 24)
    );
}

#[test]
fn log_lines_on_the_watcher_screen_are_shown_inert() {
    let screen = draw(&watcher_app(true), 200, 40);
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}'));
    assert!(!screen.contains('\u{202e}'));
    assert!(screen.contains("\u{241b}]52;c;"), "{screen}");
    assert!(screen.contains("<U+202E>toor"), "{screen}");
}

fn intake() -> Vec<warroom::store::IntakeChannelStats> {
    vec![
        warroom::store::IntakeChannelStats {
            name: "alertmanager".into(),
            channel: "listener".into(),
            format: "alertmanager".into(),
            received: 42,
            deduplicated: 7,
            dropped: 2,
            refused: 1,
            last_received_at: Some(now()),
            last_error: None,
            last_error_at: None,
        },
        warroom::store::IntakeChannelStats {
            name: "wazuh".into(),
            channel: "follow:/var/ossec/logs/alerts/alerts.json".into(),
            format: "wazuh".into(),
            received: 5,
            deduplicated: 0,
            dropped: 1,
            refused: 0,
            last_received_at: Some(now()),
            last_error: Some("line 9: not JSON \u{1b}[31m".into()),
            last_error_at: Some(now()),
        },
    ]
}

#[test]
fn the_watcher_screen_shows_what_each_intake_way_in_took_with_or_without_watch_toml() {
    for configured in [true, false] {
        let mut app = watcher_app(configured);
        update(&mut app, Action::IntakeLoaded(intake()), now());
        let screen = draw(&app, 120, 40);
        assert!(
            screen.contains("Intake (2 way(s) in, 47 alert(s) received)"),
            "{screen}"
        );
        let listener = screen
            .lines()
            .find(|l| l.contains("listener"))
            .unwrap_or("");
        for cell in ["alertmanager", "42", "7", "3"] {
            assert!(listener.contains(cell), "{cell} in {listener:?}");
        }
        let wazuh = screen
            .lines()
            .find(|l| l.contains("follow:/var/ossec"))
            .unwrap_or("");
        assert!(wazuh.contains("line 9: not JSON"), "{screen}");
        assert!(!screen.contains('\u{1b}'), "the error is shown inert");
        for w in 0..=90 {
            for h in [0, 1, 5, 19, 24] {
                draw(&app, w, h);
            }
        }
    }
    let mut app = watcher_app(true);
    update(&mut app, Action::IntakeLoaded(intake()), now());
    insta::assert_snapshot!("watcher_intake_120x40", draw(&app, 120, 40));
    insta::assert_snapshot!("watcher_intake_80x24", draw(&app, 80, 24));
}

#[test]
fn every_small_size_draws_without_panic() {
    for configured in [true, false] {
        let app = watcher_app(configured);
        for w in 0..=90 {
            for h in [0, 1, 5, 19, 20, 24] {
                draw(&app, w, h);
            }
        }
    }
}

#[test]
fn w_opens_the_watcher_from_the_board_and_esc_goes_back() {
    use crossterm::event::{KeyCode, KeyEvent};
    let mut app = App::new("alice", Policy::builtin(), true);
    update(&mut app, Action::BoardLoaded(vec![]), now());
    let a = resolve(app.focus(), KeyEvent::from(KeyCode::Char('w'))).unwrap();
    update(&mut app, a, now());
    assert_eq!(app.stack.screen(), Screen::Watcher);
    assert_eq!(app.focus(), Context::Watcher);
    // j/k scroll the matches there; the help lists the key.
    app.watcher.setup = Some(setup());
    update(&mut app, Action::WatcherStatus(Box::new(status())), now());
    let a = resolve(app.focus(), KeyEvent::from(KeyCode::Char('j'))).unwrap();
    update(&mut app, a, now());
    assert_eq!(app.stack.watcher().map(|w| w.scroll), Some(1));
    let help = warroom::tui::action::help_for(Context::Board);
    assert!(
        help.iter()
            .flat_map(|(_, rows)| rows)
            .any(|(k, what)| k == "w" && what.contains("rule watcher"))
    );
    let a = resolve(app.focus(), KeyEvent::from(KeyCode::Esc)).unwrap();
    update(&mut app, a, now());
    assert_eq!(app.stack.screen(), Screen::Board);
}

#[test]
fn watch_toml_is_read_and_its_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(WatchSetup::load(dir.path()).unwrap(), None);
    std::fs::write(
        dir.path().join("watch.toml"),
        "logs = [\"/var/log/auth.log\"]\nrules = [\"/etc/warroom/rules.yml\"]\n",
    )
    .unwrap();
    let s = WatchSetup::load(dir.path()).unwrap().unwrap();
    assert_eq!(s.logs, [PathBuf::from("/var/log/auth.log")]);
    assert_eq!(s.name, "console");
    std::fs::write(
        dir.path().join("watch.toml"),
        "logs = [\"/var/log/auth.log\"]\nfollow = true\n",
    )
    .unwrap();
    let err = WatchSetup::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("watch.toml:2:1: unknown field `follow`"),
        "{err}"
    );
    std::fs::write(dir.path().join("watch.toml"), "logs = []\n").unwrap();
    let err = WatchSetup::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("lists no file to follow"), "{err}");
}

#[test]
fn the_console_watcher_task_follows_files_and_reports_to_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    let db = dir.path().join("w.db");
    let setup = WatchSetup {
        logs: vec![log.clone()],
        rules: vec![],
        name: "console".into(),
        from_beginning: true,
        ..WatchSetup::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = spawn(
        &setup,
        &db,
        Playbook::builtin(),
        CommsConfig::builtin(dir.path()),
        "alice".into(),
        tx,
    )
    .unwrap();
    let mut app = App::new("alice", Policy::builtin(), true);
    app.watcher.setup = Some(setup);
    update(&mut app, Action::Command(Command::OpenWatcher), now());
    let mut lines = String::new();
    for i in 0..12 {
        lines.push_str(&format!(
            "2026-03-01T10:00:{i:02}Z web sshd[1]: Failed password for root from 203.0.113.9 port {i} ssh2\n"
        ));
    }
    std::fs::write(&log, lines).unwrap();
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(30), "no status");
        let Ok(a) = rx.try_recv() else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        update(&mut app, a, now());
        let Some(s) = &app.watcher.status else {
            continue;
        };
        if s.files.first().is_some_and(|f| f.lines == 12)
            && s.rules
                .iter()
                .any(|(r, h)| r == "Multiple failed logins" && *h == 12)
        {
            break;
        }
    }
    handle.stop();
    let s = app.watcher.status.as_ref().unwrap();
    assert!(s.recent.iter().any(|m| m.key == "203.0.113.9"));
    assert_eq!(s.open_detections, 2, "the burst rule and the incident rule");
    // The same store the rest of the console reads: the incident is there.
    let store = warroom::store::Store::open(&db).unwrap();
    assert_eq!(store.incidents(true).unwrap().len(), 1);
    let screen = draw(&app, 120, 40);
    assert!(
        screen.contains("following") && screen.contains("203.0.113.9"),
        "{screen}"
    );
    // The shipped rules notify security-team@example.com: the console's
    // watcher delivers that, like `warroom watch`, to the default outbox.
    let outbox = warroom::comms::config::default_outbox_dir(&db);
    let started = Instant::now();
    let eml = loop {
        let found: Vec<_> = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        if !found.is_empty() {
            break found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no notify delivery in {}",
            outbox.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&eml[0]).unwrap();
    assert!(text.contains("security-team@example.com"), "{text}");
    assert!(text.contains("203.0.113.9"), "{text}");
}

/// Feeds a watcher task's actions to `app` until `done` says so.
fn pump(
    app: &mut App,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>,
    what: &str,
    done: impl Fn(&App) -> bool,
) {
    let started = Instant::now();
    while !done(app) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: {:?}",
            app.watcher
        );
        match rx.try_recv() {
            Ok(a) => drop(update(app, a, now())),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn a_second_console_watcher_on_one_name_stands_by_then_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").unwrap();
    let db = dir.path().join("w.db");
    let setup = WatchSetup {
        logs: vec![log.clone()],
        rules: vec![],
        name: "console".into(),
        from_beginning: true,
        ..WatchSetup::default()
    };
    let start = |who: &str, tx| {
        spawn(
            &setup,
            &db,
            Playbook::builtin(),
            CommsConfig::builtin(dir.path()),
            who.into(),
            tx,
        )
        .unwrap()
    };
    let consoles = |who| {
        let mut app = App::new(who, Policy::builtin(), true);
        app.watcher.setup = Some(setup.clone());
        update(&mut app, Action::Command(Command::OpenWatcher), now());
        app
    };
    let (tx_a, mut rx_a) = tokio::sync::mpsc::unbounded_channel();
    let a = start("alice", tx_a);
    let mut app_a = consoles("alice");
    pump(
        &mut app_a,
        &mut rx_a,
        "alice's watcher never followed",
        |app| {
            app.watcher
                .status
                .as_ref()
                .is_some_and(|s| !s.files.is_empty())
        },
    );

    // Bob's console, same watch.toml: it stands by and says who runs it.
    let (tx_b, mut rx_b) = tokio::sync::mpsc::unbounded_channel();
    let b = start("bob", tx_b);
    let mut app_b = consoles("bob");
    pump(
        &mut app_b,
        &mut rx_b,
        "bob's watcher did not stand by",
        |app| app.watcher.standby.is_some(),
    );
    let screen = draw(&app_b, 120, 30);
    assert!(
        screen.contains("standing by") && screen.contains("run by alice on"),
        "{screen}"
    );
    assert!(app_b.watcher.status.is_none(), "bob followed too");

    // Alice quits: bob takes over and follows from her checkpoints.
    a.stop();
    pump(&mut app_b, &mut rx_b, "bob never took over", |app| {
        app.watcher.standby.is_none() && app.watcher.status.is_some()
    });
    let mut lines = String::new();
    for i in 0..3 {
        lines.push_str(&format!(
            "2026-03-01T10:00:{i:02}Z web sshd[1]: Failed password for root from 203.0.113.7 port {i} ssh2\n"
        ));
    }
    std::fs::write(&log, lines).unwrap();
    pump(&mut app_b, &mut rx_b, "bob's watcher missed lines", |app| {
        app.watcher
            .status
            .as_ref()
            .is_some_and(|s| s.files.first().is_some_and(|f| f.lines == 3))
    });
    b.stop();
    assert!(draw(&app_b, 120, 30).contains("following"));
}

#[test]
fn standby_snapshot() {
    let mut app = watcher_app(false);
    app.watcher.setup = Some(setup());
    update(
        &mut app,
        Action::WatcherStandby(Some(
            "standing by: watcher \"console\" is run by anna on bastion (pid 4242) (lease until 2026-03-01T10:00:15.000Z); this console takes over when it stops".into(),
        )),
        now(),
    );
    insta::assert_snapshot!("watcher_standby_80x24", draw(&app, 80, 24));
}
