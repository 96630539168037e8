use chrono::{TimeZone, Utc};

use super::state::{Choice, ConflictDialog};
use crate::domain::IncidentId;
use crate::domain::roles::Role;
use crate::domain::version::{Conflict, Theirs, Version};
use crate::store::IncidentPatch;
use crate::tui::command::{Command, Context};
use crate::tui::effect::Effect;
use crate::tui::kit::theme::Theme;
use crate::tui::testkit::lines_text as text;

fn id() -> IncidentId {
    "INC-2026-001".parse().unwrap()
}

fn conflict(field: &str, what: &str, theirs: &str, mine: &str, actor: &str) -> Conflict {
    Conflict {
        incident: "INC-2026-001".into(),
        field: field.into(),
        what: what.into(),
        base: Version(55),
        theirs: Theirs {
            seq: 57,
            actor: actor.into(),
            at: Utc.with_ymd_and_hms(2026, 12, 3, 10, 42, 7).unwrap(),
            old: None,
            new: Some(theirs.into()),
        },
        mine: Some(mine.into()),
    }
}

fn title_edit(title: &str) -> Effect {
    Effect::Update(
        id(),
        Box::new(IncidentPatch {
            title: Some(title.into()),
            ..IncidentPatch::default()
        }),
    )
}

fn title_dialog() -> ConflictDialog {
    ConflictDialog::new(
        conflict(
            "title",
            "title",
            "DB down (alice)",
            "DB down (bob)",
            "alice",
        ),
        title_edit("DB down (bob)"),
    )
}

fn sent_title(choice: Choice) -> (Version, String) {
    let Choice::Send(Effect::Based { base, effect }) = choice else {
        panic!("expected a based send, got {choice:?}");
    };
    let Effect::Update(_, patch) = *effect else {
        panic!("expected an update");
    };
    (base, patch.title.unwrap_or_default())
}

#[test]
fn keep_mine_sends_my_edit_again_based_on_their_version() {
    let mut d = title_dialog();
    let (base, title) = sent_title(d.command(Command::KeepMine));
    assert_eq!(base, Version(57));
    assert_eq!(title, "DB down (bob)");
}

#[test]
fn take_theirs_drops_mine() {
    let mut d = title_dialog();
    assert!(matches!(d.command(Command::TakeTheirs), Choice::TakeTheirs));
}

#[test]
fn merge_by_hand_starts_from_mine_and_sends_the_merged_text() {
    let mut d = title_dialog();
    assert!(matches!(d.command(Command::MergeByHand), Choice::Stay));
    assert_eq!(d.context(), Context::ConflictMerge);
    let input = d.input_mut().expect("merging");
    assert_eq!(input.text(), "DB down (bob)");
    input.insert_str(" + alice");
    let (base, title) = sent_title(d.command(Command::Submit));
    assert_eq!(base, Version(57));
    assert_eq!(title, "DB down (bob) + alice");
}

#[test]
fn a_blank_merged_title_is_refused_in_the_dialog_and_esc_goes_back() {
    let mut d = title_dialog();
    d.command(Command::MergeByHand);
    d.merge = Some(crate::tui::kit::input::LineInput::new("   "));
    assert!(matches!(d.command(Command::Submit), Choice::Stay));
    assert!(d.error.as_deref().is_some_and(|e| e.contains("title")));
    assert!(matches!(d.command(Command::Cancel), Choice::Stay));
    assert_eq!(d.context(), Context::Conflict);
    assert!(d.merge.is_none());
}

#[test]
fn a_role_handover_asks_first_and_is_not_merged() {
    let mine = Effect::Assign {
        id: id(),
        role: Role::Commander,
        person: "dave".into(),
    };
    let mut d = ConflictDialog::new(
        conflict("role:commander", "role commander", "bob", "dave", "carol"),
        mine,
    );
    assert!(d.is_handover());
    assert_eq!(d.context(), Context::ConflictHandover);
    assert!(matches!(d.command(Command::MergeByHand), Choice::Stay));
    assert!(d.merge.is_none());
    assert!(d.error.is_some());
    let shown = text(&super::view::lines(&d, &Theme::new(true), 100));
    assert!(
        shown.contains(
            "commander was handed to bob by carol at 10:42:07 UTC (event #57): hand it to dave anyway?"
        ),
        "{shown}"
    );
    assert!(!shown.contains("merge"), "{shown}");
    let Choice::Send(Effect::Based { base, effect }) = d.command(Command::KeepMine) else {
        panic!("k hands it over");
    };
    assert_eq!(base, Version(57));
    assert!(matches!(*effect, Effect::Assign { ref person, .. } if person == "dave"));
}

#[test]
fn the_dialog_names_who_when_and_both_values() {
    let d = title_dialog();
    let shown = text(&super::view::lines(&d, &Theme::new(true), 100));
    assert!(
        shown.contains("title was changed by alice at 10:42:07 UTC (event #57)"),
        "{shown}"
    );
    assert!(shown.contains("Theirs   DB down (alice)"), "{shown}");
    assert!(shown.contains("Mine     DB down (bob)"), "{shown}");
    assert!(shown.contains("m merge by hand"), "{shown}");
}

#[test]
fn hostile_names_and_values_are_shown_inert() {
    let mut d = ConflictDialog::new(
        conflict(
            "title",
            "title",
            "\u{1b}]52;c;cm0gLXJmIC8=\u{7}pwned",
            "mine\u{202e}gnp.exe",
            "eve\u{1b}[2J",
        ),
        title_edit("mine\u{202e}gnp.exe"),
    );
    d.command(Command::MergeByHand);
    let shown = text(&super::view::lines(&d, &Theme::new(true), 100));
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(!shown.contains('\u{7}'), "{shown:?}");
    assert!(!shown.contains('\u{202e}'), "{shown:?}");
    assert!(shown.contains("eve␛[2J"), "{shown}");
}

#[test]
fn a_one_value_edit_is_kept_or_dropped_not_merged() {
    let mine = Effect::SetItem {
        id: id(),
        item: "detect.siem".into(),
        state: crate::domain::playbook::ItemState::Done,
        reason: None,
    };
    let mut d = ConflictDialog::new(
        conflict(
            "checklist:detect.siem",
            "checklist item detect.siem",
            "not_applicable (no SIEM)",
            "done",
            "alice",
        ),
        mine,
    );
    assert_eq!(d.context(), Context::ConflictPick);
    assert!(matches!(d.command(Command::MergeByHand), Choice::Stay));
    assert!(d.merge.is_none());
    let shown = text(&super::view::lines(&d, &Theme::new(true), 100));
    assert!(!shown.contains("merge by hand"), "{shown}");
    assert!(matches!(
        d.command(Command::KeepMine),
        Choice::Send(Effect::Based { .. })
    ));
}

#[test]
fn a_review_text_is_merged_by_hand_and_keeps_its_draft_key() {
    use crate::store::ReviewPatch;
    use crate::tui::records::RecordsEffect;
    let mine = Effect::Records(Box::new(RecordsEffect::UpdateReview {
        id: id(),
        patch: ReviewPatch {
            root_cause: Some("a full disk".into()),
            ..ReviewPatch::default()
        },
        draft: Some("review-draft".into()),
    }));
    let mut d = ConflictDialog::new(
        conflict(
            "review:root_cause",
            "review root cause",
            "expired certificate",
            "a full disk",
            "alice",
        ),
        mine,
    );
    assert_eq!(d.context(), Context::Conflict);
    d.command(Command::MergeByHand);
    // Review texts may have several lines: merged in the editor for them.
    assert_eq!(d.context(), Context::ConflictMergeLines);
    let input = d.lines_mut().expect("merging");
    assert_eq!(input.text(), "a full disk");
    input.paste(" after an expired certificate");
    let Choice::Send(Effect::Based { base, effect }) = d.command(Command::Submit) else {
        panic!("the merge is sent");
    };
    assert_eq!(base, Version(57));
    let Effect::Records(r) = *effect else {
        panic!("a review edit")
    };
    let RecordsEffect::UpdateReview { patch, draft, .. } = *r else {
        panic!("a review edit")
    };
    assert_eq!(
        patch.root_cause.as_deref(),
        Some("a full disk after an expired certificate")
    );
    assert_eq!(draft.as_deref(), Some("review-draft"));
}

#[test]
fn a_summary_is_merged_in_an_editor_of_several_lines_and_keeps_its_newlines() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mine = Effect::Update(
        id(),
        Box::new(IncidentPatch {
            summary: Some("Egress seen.\nBlocked at fw-2.".into()),
            ..IncidentPatch::default()
        }),
    );
    let mut d = ConflictDialog::new(
        conflict(
            "summary",
            "summary",
            "Egress seen.",
            "Egress seen.",
            "alice",
        ),
        mine,
    );
    assert!(matches!(d.command(Command::MergeByHand), Choice::Stay));
    assert_eq!(d.context(), Context::ConflictMergeLines);
    let lines = d.lines_mut().expect("an editor of several lines");
    assert_eq!(lines.text(), "Egress seen.\nBlocked at fw-2.");
    // Enter is a new line here, not a save.
    lines.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    for c in "Owner told.".chars() {
        lines.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let drawn = text(&super::view::lines(&d, &Theme::new(true), 60));
    assert!(drawn.contains("Owner told."), "{drawn}");
    match d.command(Command::Submit) {
        Choice::Send(Effect::Based { base, effect }) => {
            assert_eq!(base, Version(57));
            let Effect::Update(_, p) = *effect else {
                panic!("not an update")
            };
            assert_eq!(
                p.summary.as_deref(),
                Some("Egress seen.\nBlocked at fw-2.\nOwner told.")
            );
        }
        other => panic!("{other:?}"),
    }
    // Esc from the editor goes back to the choice, the editor dropped.
    let mut again = d.clone();
    again.command(Command::Cancel);
    assert_eq!(again.context(), Context::Conflict);
}
