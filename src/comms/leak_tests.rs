//! The internal-text detector: quotes found with their source and line,
//! common phrasing and customer-facing text never flagged.

use super::*;
use crate::comms::{MessageFields, Templates};
use crate::domain::playbook::ItemState;
use crate::domain::{Policy, Severity};
use crate::store::test_fixtures::{t0, with_incident};
use crate::store::{IncidentPatch, NoteFlags};

fn texts(pairs: &[(&str, &str)]) -> Vec<InternalText> {
    pairs
        .iter()
        .map(|(s, t)| InternalText {
            source: (*s).into(),
            text: (*t).into(),
        })
        .collect()
}

#[test]
fn a_run_of_five_words_from_an_internal_text_is_found_with_its_line() {
    let internal = texts(&[(
        "internal summary",
        "Attacker reused the leaked deploy key from the CI runner to read the billing DB.",
    )]);
    let body = "Hello,\nWe found that someone REUSED the leaked deploy-key... no:\nthe attacker reused the leaked deploy key, and we revoked it.\n";
    let q = internal_quotes(&internal, body);
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].source, "internal summary");
    assert_eq!(q[0].passage, "attacker reused the leaked deploy key");
    assert_eq!(q[0].line, 3);
    let w = warning(&q).unwrap();
    assert!(
        w.contains("line 3") && w.contains("internal summary"),
        "{w}"
    );
}

#[test]
fn common_phrasing_shorter_than_the_minimum_is_not_a_quote() {
    let internal = texts(&[
        (
            "internal summary",
            "We are investigating the incident with the vendor now.",
        ),
        ("checklist item contain.evidence", "Evidence preserved"),
    ]);
    let body = "We are investigating the cause. Evidence preserved. The incident is contained.";
    assert!(internal_quotes(&internal, body).is_empty());
    assert_eq!(warning(&[]), None);
}

#[test]
fn a_checklist_name_quoted_whole_is_found_and_overlaps_are_one_passage() {
    let internal = texts(&[
        ("checklist item detect.siem", "SIEM monitoring reviewed"),
        ("internal note #7", "one two three four five six seven"),
    ]);
    let body = "- SIEM monitoring reviewed\nsaid: one two three four five six seven eight";
    let q = internal_quotes(&internal, body);
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(
        (q[0].source.as_str(), q[0].passage.as_str(), q[0].line),
        ("checklist item detect.siem", "SIEM monitoring reviewed", 1)
    );
    assert_eq!(q[1].passage, "one two three four five six seven");
}

#[test]
fn the_customer_template_quotes_nothing_internal_and_the_internal_one_does() {
    let (_d, mut s, i) = with_incident("db-3 brute force from 203.0.113.7", Severity::P2);
    let patch = IncidentPatch {
        summary: Some(
            "Hydra run against db-3 sshd from 203.0.113.7; root login was enabled.".into(),
        ),
        customer_summary: Some("Someone tried to guess passwords on one of our servers.".into()),
        customer_impact: Some("None known.".into()),
        ..Default::default()
    };
    s.update_incident(&i.id, &patch, "alice", t0()).unwrap();
    let note = |s: &mut crate::store::Store, text: &str, customer: bool| {
        let flags = NoteFlags {
            action: !customer,
            customer,
        };
        s.note(&i.id, text, flags, "alice", t0()).unwrap();
    };
    note(
        &mut s,
        "Blocked 203.0.113.7 at the edge firewall on fw-2",
        false,
    );
    note(
        &mut s,
        "We blocked the addresses the attempts came from.",
        true,
    );
    s.set_checklist_item(&i.id, "detect.siem", ItemState::Done, None, "alice", t0())
        .unwrap();
    let detail = s.detail(&i.id, None).unwrap();
    let f = MessageFields::from_incident(&detail, &Policy::builtin(), "soc@example.com", t0());
    let t = Templates::builtin();
    let internal = internal_texts(&detail, &[]);
    assert!(
        internal
            .iter()
            .any(|x| x.source.starts_with("internal note"))
    );
    assert!(
        !internal
            .iter()
            .any(|x| x.text.contains("addresses the attempts")),
        "a customer note is not internal"
    );

    let customer = t.render("customer", &f).unwrap();
    assert!(
        customer.contains("Someone tried to guess passwords"),
        "{customer}"
    );
    assert!(
        customer.contains("- We blocked the addresses"),
        "{customer}"
    );
    assert!(
        !customer.contains("Hydra") && !customer.contains("SIEM"),
        "{customer}"
    );
    assert_eq!(internal_quotes(&internal, &customer), Vec::new());

    // The internal update is full of it: the detector sees it.
    let inside = t.render("internal", &f).unwrap();
    let q = internal_quotes(&internal, &inside);
    let sources: Vec<&str> = q.iter().map(|q| q.source.as_str()).collect();
    assert!(sources.contains(&"internal summary"), "{sources:?}");
    assert!(
        sources.contains(&"checklist item detect.siem"),
        "{sources:?}"
    );
    assert!(
        sources.iter().any(|s| s.starts_with("internal note")),
        "{sources:?}"
    );
}
