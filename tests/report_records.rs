//! The report holds what was done and said: every checklist item's state
//! with who set it and when, and the full text of every message sent
//! (subject, body, deliveries), in each format.

use chrono::{DateTime, Duration, TimeZone, Utc};
use warroom::domain::comms::Audience;
use warroom::domain::playbook::ItemState;
use warroom::domain::{Playbook, Policy, Severity};
use warroom::report::model::{Report, ReportInput};
use warroom::report::{html, markdown};
use warroom::store::{NewIncident, NewMessage, Store};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

const BODY: &[&str] = &[
    "Dear customers",
    "We blocked the attacking addresses at the edge",
    "Sign in works again for everyone",
    "Next update within one hour",
];

#[test]
fn every_format_has_the_checklist_who_and_when_and_each_message_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let pb = Playbook::builtin();
    let i = store
        .create_incident(
            &NewIncident::new("Credential stuffing", Severity::P2),
            &pb,
            "alice",
            t(0),
        )
        .unwrap();
    let id = i.id;
    let (first, second) = (pb.items[0].id.clone(), pb.items[1].id.clone());
    store
        .set_checklist_item(&id, &first, ItemState::Done, None, "bob", t(5))
        .unwrap();
    store
        .set_checklist_item(&id, &first, ItemState::Open, None, "carol", t(6))
        .unwrap();
    store
        .set_checklist_item(&id, &first, ItemState::Done, None, "dave", t(7))
        .unwrap();
    store
        .set_checklist_item(
            &id,
            &second,
            ItemState::NotApplicable,
            Some("no VPN here"),
            "erin",
            t(8),
        )
        .unwrap();
    let msg = NewMessage {
        incident_id: id.clone(),
        audience: Audience::Customers,
        template: Some("customer".into()),
        body: BODY.join("\n"),
        author: "frank".into(),
    };
    let sent = store
        .send_message(&msg, &["outbox".to_string()], t(20))
        .unwrap();
    store
        .record_delivery(sent.id, "outbox", Ok("outbox/1.eml"), "frank", t(21))
        .unwrap();

    let input = ReportInput::load(&store, &id).unwrap();
    let report = Report::build(&input, &Policy::builtin(), t(60));

    let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let item = &v["checklist"][0];
    assert_eq!(item["id"], first.as_str());
    assert_eq!(item["state"], "done");
    assert_eq!(item["by"], "dave");
    assert_eq!(item["at"], "2026-03-01T09:07:00.000Z");
    let whos: Vec<&str> = item["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["actor"].as_str().unwrap())
        .collect();
    assert_eq!(whos, ["bob", "carol", "dave"]);
    assert_eq!(v["checklist"][1]["state"], "not_applicable");
    assert_eq!(v["checklist"][1]["reason"], "no VPN here");
    assert_eq!(v["checklist"][1]["by"], "erin");
    assert!(
        v["checklist"][2]["by"].is_null(),
        "untouched items have no setter"
    );
    let m = &v["messages"][0];
    assert_eq!(
        m["subject"],
        format!("[{id}] Security incident notification")
    );
    assert_eq!(m["body"], BODY.join("\n"));
    assert_eq!(m["author"], "frank");
    assert_eq!(m["deliveries"][0]["sink"], "outbox");
    assert_eq!(m["deliveries"][0]["state"], "delivered");
    assert_eq!(m["deliveries"][0]["detail"], "outbox/1.eml");

    let md = markdown::render(&report);
    let page = html::render(&report);
    for (name, text) in [("markdown", &md), ("html", &page)] {
        assert!(text.contains("Checklist"), "{name}");
        assert!(text.contains("Messages sent"), "{name}");
        assert!(text.contains("dave"), "{name}: who set the item");
        assert!(text.contains("09:07:00"), "{name}: when");
        assert!(text.contains("erin"), "{name}");
        assert!(text.contains("no VPN here"), "{name}");
        assert!(text.contains("carol"), "{name}: the item's changes");
        for line in BODY {
            assert!(text.contains(line), "{name} lacks the body line {line:?}");
        }
        assert!(
            text.contains("Security incident notification"),
            "{name}: subject"
        );
        assert!(text.contains("frank"), "{name}: author");
        assert!(text.contains("delivered"), "{name}: delivery state");
    }
}
