//! The glance lines with fixed times: an incident declared at t0 (10:00),
//! its title changed by bob at 10:20, looked at from 10:23.

use chrono::{DateTime, Duration, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::domain::Severity;
use crate::store::IncidentPatch;
use crate::store::test_fixtures::{t0, with_incident};

fn at(mins: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(mins)
}

fn seat(console: &str, actor: &str, incident: Option<&str>) -> Presence {
    Presence {
        console_id: console.into(),
        actor: actor.into(),
        pid: 1,
        host: "h".into(),
        incident: incident.map(str::to_string),
        started_at: t0(),
        seen_at: t0(),
    }
}

fn event(detail: &str, actor: &str, when: DateTime<Utc>) -> Event {
    Event {
        seq: 7,
        at: when,
        actor: actor.into(),
        incident: Some("INC-2026-001".into()),
        kind: "incident.updated".into(),
        detail: detail.into(),
        data: "{}".into(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// The incident as the view would have loaded it at 10:23.
fn detail() -> (tempfile::TempDir, IncidentDetail) {
    let (dir, mut s, i) = with_incident("Login API down", Severity::P2);
    let patch = IncidentPatch {
        title: Some("Login API down in eu-west-1".into()),
        ..IncidentPatch::default()
    };
    s.update_incident(&i.id, &patch, "bob", at(20)).unwrap();
    let d = s.detail(&i.id, Some(100)).unwrap();
    (dir, d)
}

fn text(line: &Line) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

#[test]
fn ago_counts_minutes_then_hours_then_days_and_never_goes_negative() {
    let now = at(0);
    assert_eq!(ago(now, now), "just now");
    assert_eq!(ago(now - Duration::seconds(59), now), "just now");
    assert_eq!(ago(now - Duration::minutes(23), now), "23 min ago");
    assert_eq!(ago(now - Duration::minutes(60), now), "1 h ago");
    assert_eq!(ago(now - Duration::minutes(185), now), "3 h 5 min ago");
    assert_eq!(ago(now - Duration::hours(24), now), "1 d ago");
    assert_eq!(ago(now - Duration::hours(52), now), "2 d 4 h ago");
    assert_eq!(ago(now + Duration::seconds(1), now), "in the future");
    assert_eq!(ago(now + Duration::days(3), now), "in the future");
}

#[test]
fn viewers_are_the_other_consoles_on_this_incident_each_user_once() {
    let present = [
        seat("h:1:1", "alice", Some("INC-1")), // this console
        seat("h:2:1", "bob", Some("INC-1")),
        seat("h:3:1", "carol", Some("INC-1")),
        seat("h:4:1", "bob", Some("INC-1")), // bob's second console
        seat("h:5:1", "dave", Some("INC-2")),
        seat("h:6:1", "erin", None), // on the board
    ];
    assert_eq!(viewers(&present, "h:1:1", "INC-1"), ["bob", "carol"]);
    assert_eq!(viewers(&present, "h:1:1", "INC-2"), ["dave"]);
    assert!(viewers(&present, "h:1:1", "INC-3").is_empty());
    // From bob's first console: alice, and bob on his second one.
    assert_eq!(
        viewers(&present, "h:2:1", "INC-1"),
        ["alice", "carol", "bob"]
    );
}

#[test]
fn viewing_names_them_while_they_fit_then_some_then_counts() {
    let who: Vec<String> = ["bob", "carol", "dave"].map(String::from).to_vec();
    assert_eq!(viewing_text(&who, 40), "bob, carol, dave");
    assert_eq!(viewing_text(&who, 16), "bob, carol, dave");
    assert_eq!(viewing_text(&who, 15), "bob +2 more");
    let four: Vec<String> = ["bob", "carol", "dave", "erin"].map(String::from).to_vec();
    assert_eq!(viewing_text(&four, 20), "bob, carol +2 more");
    assert_eq!(viewing_text(&who, 12), "bob +2 more");
    assert_eq!(viewing_text(&who, 8), "3 others");
    assert_eq!(viewing_text(&who[..1], 2), "1 other");
    assert_eq!(viewing_text(&[], 40), "only you");
    let sly = vec!["eve\u{1b}[2J".to_string()];
    assert_eq!(viewing_text(&sly, 40), "eve␛[2J");
}

#[test]
fn the_glance_says_who_views_when_detected_last_customer_update_and_latest() {
    let (_dir, d) = detail();
    let id = d.incident.id.to_string();
    let present = [
        seat("me", "alice", Some(&id)),
        seat("h:2:1", "bob", Some(&id)),
        seat("h:3:1", "carol", Some(&id)),
    ];
    let g = Glance {
        detail: &d,
        present: &present,
        me: "me",
        last_customer_update: Some(at(11)),
    };
    let got = text(&strip(&g, at(23), 200, true));
    assert_eq!(
        got,
        "detected 23 min ago · last customer update 12 min ago · viewing: bob, carol · \
         latest: title → \"Login API down in eu-west-1\" by bob 3 min ago"
    );
}

#[test]
fn no_customer_update_yet_and_nobody_else_viewing() {
    let (_dir, d) = detail();
    let g = Glance {
        detail: &d,
        present: &[],
        me: "me",
        last_customer_update: None,
    };
    let got = text(&strip(&g, at(23), 100, true));
    // Nobody else: no "viewing" part at all.
    assert!(!got.contains("viewing"), "{got}");
    assert!(got.contains(" · no customer update yet · "), "{got}");
}

#[test]
fn a_detection_time_after_now_says_so_instead_of_a_negative_age() {
    let (_dir, d) = detail();
    let g = Glance {
        detail: &d,
        present: &[],
        me: "me",
        last_customer_update: Some(at(5)),
    };
    let got = text(&strip(&g, at(-2), 100, true));
    assert!(got.starts_with("detected in the future · "), "{got}");
    assert!(got.contains("last customer update in the future"), "{got}");
}

#[test]
fn the_latest_change_is_made_safe_and_cut_keeping_who_and_when() {
    let now = at(23);
    let long = format!("note \u{1b}]52;c;aGk=\u{7} {}", "x".repeat(200));
    let timeline = [event(&long, "bob", at(20)), event("older", "carol", at(1))];
    let got = latest_text(&timeline, now, 50);
    assert!(got.starts_with("note ␛]52;c;aGk=␇ xx"), "{got}");
    assert!(got.ends_with("… by bob 3 min ago"), "{got}");
    assert_eq!(got.width(), 50);
    assert!(!got.contains('\u{1b}'));
    assert_eq!(latest_text(&[], now, 50), "nothing recorded yet");
    assert_eq!(
        latest_text(&timeline[1..], now, 50),
        "older by carol 22 min ago"
    );
}

#[test]
fn every_line_fits_its_width_however_narrow() {
    let (_dir, d) = detail();
    let id = d.incident.id.to_string();
    let present = [seat("h:2:1", "bartholomew", Some(&id))];
    let g = Glance {
        detail: &d,
        present: &present,
        me: "me",
        last_customer_update: Some(at(11)),
    };
    for w in [0u16, 1, 5, 12, 30, 60] {
        let l = strip(&g, at(23), w, true);
        assert!(l.width() <= usize::from(w), "{w}: {:?}", text(&l));
    }
    assert_eq!(cut("abcdef", 4), "abc…");
    assert_eq!(cut("abcdef", 0), "");
    assert_eq!(cut("abc", 3), "abc");
}

fn drawn(g: &Glance, now: DateTime<Utc>, w: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, 1)).unwrap();
    t.draw(|f| {
        let area = f.area();
        f.render_widget(
            ratatui::widgets::Paragraph::new(strip(g, now, w, true)),
            area,
        )
    })
    .unwrap();
    t.backend().to_string()
}

#[test]
fn glance_snapshots_at_60_and_100_columns() {
    let (_dir, d) = detail();
    let id = d.incident.id.to_string();
    let present = [
        seat("me", "alice", Some(&id)),
        seat("h:2:1", "bob", Some(&id)),
        seat("h:3:1", "carol", Some(&id)),
        seat("h:4:1", "dave", Some(&id)),
        seat("h:5:1", "erin", None),
    ];
    let g = Glance {
        detail: &d,
        present: &present,
        me: "me",
        last_customer_update: Some(at(11)),
    };
    insta::assert_snapshot!("glance_strip_60", drawn(&g, at(23), 60));
    insta::assert_snapshot!("glance_strip_100", drawn(&g, at(23), 100));
}
