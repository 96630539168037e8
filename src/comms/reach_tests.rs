//! Whether a send reaches anyone, and how listings word it.

use std::path::Path;

use chrono::TimeZone;

use super::*;
use crate::comms::CommsConfig;
use crate::store::Delivery;

fn config(toml: &str) -> CommsConfig {
    CommsConfig::from_toml(toml, Path::new("/c")).unwrap()
}

const SINKS: &str = "[[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"/o\"\n\
     [[sinks]]\nname = \"mail\"\nkind = \"command\"\nargv = [\"/usr/sbin/sendmail\", \"-t\"]\ndefault = false\n\
     [[sinks]]\nname = \"clip\"\nkind = \"osc52\"\n";

#[test]
fn only_a_command_sink_reaches_anyone_and_the_confirmation_says_so() {
    let db = Path::new("/d/w.db");
    // Nothing configured: the default outbox only.
    let none = Reach::for_send(&config(""), &[], Audience::Customers, db).unwrap();
    assert!(!none.reaches_anyone());
    let w = none.warning().unwrap();
    assert!(w.starts_with("NOT SENT to customers"), "{w}");
    assert!(w.contains("written to the outbox (outbox)"), "{w}");

    let cfg = config(SINKS);
    let held = Reach::for_send(
        &cfg,
        &["outbox".into(), "clip".into()],
        Audience::Customers,
        db,
    )
    .unwrap();
    let w = held.warning().unwrap();
    assert!(
        w.contains("outbox (outbox) and copied to the clipboard (clip)"),
        "{w}"
    );

    // A command sends on; with no customer recipients the text goes without To.
    let mail = Reach::for_send(&cfg, &["mail".into()], Audience::Customers, db).unwrap();
    assert!(mail.reaches_anyone());
    assert!(mail.warning().unwrap().contains("without a To address"));
    let cfg = config(&format!(
        "[audiences.customers]\nto = [\"a@example.org\"]\n{SINKS}"
    ));
    let mail = Reach::for_send(&cfg, &["mail".into()], Audience::Customers, db).unwrap();
    assert_eq!(mail.warning(), None);
    assert!(Reach::for_send(&cfg, &["nope".into()], Audience::Customers, db).is_err());
}

fn message(deliveries: &[(&str, DeliveryState, Option<Handover>)]) -> SentMessage {
    let t = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
    SentMessage {
        id: 4,
        incident_id: "INC-2026-001".into(),
        audience: Audience::Customers,
        template: None,
        body: "x".into(),
        sha256: String::new(),
        author: "alice".into(),
        sent_at: t,
        event_seq: 1,
        drill: false,
        deliveries: deliveries
            .iter()
            .map(|(sink, state, handover)| Delivery {
                message_id: 4,
                sink: (*sink).into(),
                state: *state,
                handover: *handover,
                detail: String::new(),
                attempts: 1,
                updated_at: t,
            })
            .collect(),
    }
}

#[test]
fn an_outbox_file_is_never_reported_as_delivered() {
    use DeliveryState::*;
    let outbox = message(&[("outbox", Delivered, Some(Handover::Outbox))]);
    assert_eq!(message_state(&outbox), "written to outbox, not sent");
    assert_eq!(
        outbox.deliveries[0].state_text(),
        "written to outbox, not sent"
    );
    let (line, attention) = sent_summary(&outbox);
    assert!(attention);
    assert_eq!(
        line,
        "message #4 to customers written to outbox, not sent (outbox): nobody has received it"
    );

    let both = message(&[
        ("mail", Delivered, Some(Handover::Sent)),
        ("outbox", Delivered, Some(Handover::Outbox)),
    ]);
    assert_eq!(message_state(&both), "delivered");
    assert_eq!(
        sent_summary(&both),
        ("message #4 to customers sent via mail".into(), false)
    );

    let failed = message(&[
        ("mail", Failed, None),
        ("outbox", Delivered, Some(Handover::Outbox)),
    ]);
    assert_eq!(message_state(&failed), "NOT DELIVERED");
    assert!(sent_summary(&failed).0.contains("NOT delivered via mail"));
    // Recorded before handovers were kept: as it was reported then.
    let old = message(&[("outbox", Delivered, None)]);
    assert_eq!(message_state(&old), "delivered");
    assert_eq!(message_state(&message(&[])), "recorded only, not sent");
}

#[test]
fn the_messages_summary_never_claims_delivery_over_nothing_or_an_outbox() {
    use DeliveryState::*;
    assert_eq!(
        messages_summary(&[]),
        ("No messages sent yet.".into(), false)
    );
    let sent = message(&[("mail", Delivered, Some(Handover::Sent))]);
    let outbox = message(&[("outbox", Delivered, Some(Handover::Outbox))]);
    assert_eq!(
        messages_summary(std::slice::from_ref(&sent)),
        ("Every message was sent through every sink.".into(), false)
    );
    let (line, attention) = messages_summary(&[sent.clone(), outbox]);
    assert!(attention);
    assert!(
        line.starts_with("1 of 2 message(s): 1 written to outbox, not sent"),
        "{line}"
    );
    let failed = message(&[("mail", Pending, None)]);
    assert_eq!(
        messages_summary(&[sent, failed]),
        ("1 of 2 message(s) NOT delivered.".into(), true)
    );
}
