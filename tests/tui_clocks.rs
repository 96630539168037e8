//! The clocks in a real pseudo-terminal: acknowledging from the board, and
//! the acknowledgement in the incident's timeline (once, however often the
//! key is pressed).

mod common;

use std::time::Duration;

use common::Env;
use serde_json::Value;

fn acknowledgements(show: &Value) -> usize {
    show["timeline"].as_array().map_or(0, |t| {
        t.iter()
            .filter(|e| e["kind"] == "incident.acknowledged")
            .count()
    })
}

#[test]
fn ack_key_on_the_board_records_it_in_the_timeline_once() {
    let sb = Env::new();
    let id = sb.new_incident("Login API down", "P2");
    assert_eq!(acknowledgements(&sb.show_json(&id)), 0);

    let mut c = sb.console(120, 40, &[]);
    c.wait_text("Login API down");
    c.type_text("A");
    c.wait_text(&format!("{id} acknowledged by"));

    // The incident view's timeline shows the event itself (a line without
    // the id, unlike the status message).
    c.key_enter();
    c.wait_text("Checklist");
    c.wait_for(
        "the acknowledgement in the timeline",
        Duration::from_secs(10),
        |s| {
            s.lines()
                .any(|l| l.contains("acknowledged by") && !l.contains(&id))
        },
    );

    // Again, from the incident view: said, not recorded twice.
    c.type_text("A");
    c.wait_text(&format!("{id} was already acknowledged by"));
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));

    let show = sb.show_json(&id);
    assert_eq!(acknowledgements(&show), 1, "{}", show["timeline"]);
    assert!(show["acknowledged_at"].is_string(), "{show}");
}

#[test]
fn naming_the_first_commander_in_the_console_says_it_acknowledged() {
    let sb = Env::new();
    let id = sb.new_incident("Login API down", "P1");
    let mut c = sb.console(120, 40, &[]);
    c.wait_then_open("Login API down");
    c.type_text("a");
    c.wait_text("Assign");
    c.type_text("dana");
    c.key_enter();
    // Not on the roster: assigned as typed, without adding.
    c.wait_text("Not in the roster");
    c.type_text("n");
    c.wait_text("this acknowledged");
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));

    let show = sb.show_json(&id);
    assert_eq!(acknowledgements(&show), 1, "{}", show["timeline"]);
    let detail = show["timeline"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["kind"] == "incident.acknowledged"))
        .map(|e| e["detail"].to_string())
        .unwrap_or_default();
    assert!(detail.contains("dana named incident commander"), "{detail}");
}
