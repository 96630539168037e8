//! Screens that take a `Ctx` and give an `Outcome`, driven through
//! `update`: what they ask of the shell is done, and what the app keeps
//! for them between visits is kept.

use crate::detect::follow::{FollowStatus, RecentMatch};
use crate::domain::Policy;
use crate::tui::action::Action;
use crate::tui::command::Command;
use crate::tui::shell::app::App;
use crate::tui::shell::stack::{Screen, ScreenState};
use crate::tui::testkit::{cmd, now};

use super::update;

fn status(matches: usize) -> FollowStatus {
    FollowStatus {
        recent: (0..matches)
            .map(|i| RecentMatch {
                at: now(),
                rule: "ssh-brute".into(),
                key: format!("10.0.0.{i}"),
                line: format!("line {i}"),
            })
            .collect(),
        ..FollowStatus::default()
    }
}

#[test]
fn the_watchers_scroll_is_kept_between_visits_and_held_inside_its_list() {
    let mut app = App::new("alice", Policy::builtin(), true);
    update(&mut app, Action::WatcherStatus(Box::new(status(5))), now());
    cmd(&mut app, Command::OpenWatcher);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    assert_eq!(app.stack.watcher().map(|w| w.scroll), Some(2));
    // Esc goes home; opened again, it is where it was left.
    cmd(&mut app, Command::Back);
    assert_eq!(app.stack.screen(), Screen::Board);
    cmd(&mut app, Command::OpenWatcher);
    assert_eq!(app.stack.watcher().map(|w| w.scroll), Some(2));
    // The list shrank under it: the next key moves from its last line.
    update(&mut app, Action::WatcherStatus(Box::new(status(2))), now());
    let w = app.stack.watcher().copied().unwrap_or_default();
    assert_eq!(w.scroll(2), 1);
    cmd(&mut app, Command::Up);
    assert_eq!(app.stack.watcher().map(|w| w.scroll), Some(0));
}

#[test]
fn what_a_screen_says_and_asks_for_is_done_by_the_shell() {
    let mut app = App::new("alice", Policy::builtin(), true);
    let fx = cmd(&mut app, Command::OpenMetrics);
    assert_eq!(app.stack.screen(), Screen::Metrics);
    assert!(
        fx.iter().any(|e| format!("{e:?}").contains("LoadMetrics")),
        "{fx:?}"
    );
    cmd(&mut app, Command::ToggleDrills);
    let said = app.message.as_ref().map(|m| (m.text.as_str(), m.error));
    assert_eq!(said, Some(("drills included", false)));
    // The tick polls through the screen on top.
    let fx = update(&mut app, Action::Tick, now());
    assert!(
        fx.iter()
            .any(|e| format!("{e:?}").contains("metrics: true")),
        "{fx:?}"
    );
    // Back keeps the toggle for the next opening.
    cmd(&mut app, Command::Back);
    cmd(&mut app, Command::OpenMetrics);
    assert!(matches!(
        app.stack.top(),
        Some(ScreenState::Metrics(m)) if m.include_drills
    ));
}

#[test]
fn the_form_floats_over_the_screen_it_was_opened_on_which_keeps_ticking() {
    use crate::domain::Severity;
    use crate::store::NewIncident;
    use crate::tui::effect::Effect;
    let new = NewIncident::new("DB down", Severity::P2);
    let app = App::new("alice", Policy::builtin(), true);
    let (mut app, _store, _id, _dir) = crate::tui::testkit::with_incident(&new, now(), app);
    cmd(&mut app, Command::OpenEvidence);
    cmd(&mut app, Command::NewIncident);
    assert_eq!(app.stack.screen(), Screen::Declare);
    assert_eq!(app.focus(), crate::tui::command::Context::Form);
    // The evidence under the form still polls for other processes' changes.
    let fx = update(&mut app, Action::Tick, now());
    let polls = |fx: &[Effect]| fx.iter().any(|e| matches!(e, Effect::Records(_)));
    assert!(polls(&fx), "{fx:?}");
    // Typed text goes to the form, not to a screen under it.
    crate::tui::testkit::typed(&mut app, "Second incident");
    let title = crate::tui::testkit::form(&app).map(|f| f.title.text().to_string());
    assert_eq!(title.as_deref(), Some("Second incident"));
    // Closed, the screen under it has the keys again; the text is kept.
    let fx = cmd(&mut app, Command::Cancel);
    assert!(matches!(&fx[..], [Effect::SaveDraft { .. }]), "{fx:?}");
    assert_eq!(app.stack.screen(), Screen::Evidence);
    assert!(app.drafts.contains_key("new-incident"));
}

#[test]
fn a_second_form_opened_while_the_first_is_declared_stays_open_as_typed() {
    use crate::tui::effect::Effect;
    use crate::tui::testkit::{form, typed};
    let mut app = App::new("alice", Policy::builtin(), true);
    cmd(&mut app, Command::NewIncident);
    typed(&mut app, "First");
    cmd(&mut app, Command::NextField);
    typed(&mut app, "2");
    cmd(&mut app, Command::Submit);
    cmd(&mut app, Command::NewIncident);
    typed(&mut app, " second");
    update(&mut app, Action::Tick, now());
    let typed_in = form(&app).map(|f| f.title.text().to_string());
    // The first is declared while the second form is open.
    let dir = tempfile::tempdir().unwrap();
    let mut store = crate::store::Store::open(&dir.path().join("w.db")).unwrap();
    let new = crate::store::NewIncident::new("First", crate::domain::Severity::P2);
    let first = store
        .create_incident(&new, &crate::domain::Playbook::builtin(), "alice", now())
        .unwrap();
    update(&mut app, Action::Created(Box::new(first.clone())), now());
    assert_eq!(form(&app).map(|f| f.title.text().to_string()), typed_in);
    assert_eq!(
        app.stack.under_top().map(|s| s.kind()),
        Some(Screen::Incident)
    );
    // Its draft, deleted as the first one's, is saved again.
    let fx = update(&mut app, Action::Tick, now());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveDraft { body, .. } if body.contains(" second"))),
        "{fx:?}"
    );
}
