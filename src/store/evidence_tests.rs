//! Evidence, legal hold, drill purge and review store tests on real SQLite
//! files in temporary directories.

use chrono::{Duration, FixedOffset};

use super::*;
use crate::domain::evidence::{CheckResult, EvidenceKind};
use crate::domain::review::ActionStatus;
use crate::domain::{Incident, Playbook, Role, Severity, Status};
use crate::store::test_fixtures::{open_temp, t0};
use crate::store::{IncidentPatch, NewAction, NewIncident, ReviewPatch};

fn new(store: &mut Store, title: &str, drill: bool) -> Incident {
    let mut n = NewIncident::new(title, Severity::P2);
    n.drill = drill;
    store
        .create_incident(&n, &Playbook::builtin(), "alice", t0())
        .unwrap()
}

fn note(text: &str) -> NewEvidence {
    NewEvidence {
        content: EvidenceContent::Note(text.into()),
        description: String::new(),
        source_host: "host1".into(),
        tz: FixedOffset::east_opt(2 * 3600).unwrap(),
    }
}

#[test]
fn files_are_copied_read_only_hashed_and_custody_is_recorded() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, mut s) = open_temp();
    let i = new(&mut s, "a", false);
    let src = dir.path().join("auth.log");
    std::fs::write(&src, b"Failed password for root\n").unwrap();
    let item = s
        .add_evidence(
            &i.id,
            &NewEvidence {
                content: EvidenceContent::File(src.clone()),
                description: "auth log".into(),
                source_host: "web1".into(),
                tz: FixedOffset::east_opt(2 * 3600).unwrap(),
            },
            "alice",
            t0(),
        )
        .unwrap();
    assert_eq!(item.kind, EvidenceKind::File);
    assert_eq!(
        item.sha256,
        crate::domain::evidence::sha256_hex(b"Failed password for root\n")
    );
    assert_eq!(item.size, 25);
    assert_eq!(item.collected_at_local, "2026-03-01T12:00:00.000+02:00");
    let stored = s.evidence_dir().join(&item.stored_path);
    assert_eq!(dir.path().join("w.evidence"), s.evidence_dir());
    assert_eq!(
        std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
        0o444
    );
    let custody = s.custody(&i.id).unwrap();
    assert_eq!(custody.len(), 1);
    assert_eq!(custody[0].action, "collected");
    assert_eq!(custody[0].to, STORE_CUSTODIAN);
    assert!(custody[0].from.starts_with("web1:"), "{:?}", custody[0]);

    // Rows are append-only.
    let err = s
        .conn
        .execute("UPDATE evidence SET sha256 = 'x'", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = s.conn.execute("DELETE FROM evidence", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(s.conn.execute("DELETE FROM events", []).is_err());
}

#[test]
fn verify_reports_changed_and_missing_files_and_records_the_checks() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, mut s) = open_temp();
    let i = new(&mut s, "a", false);
    let a = s.add_evidence(&i.id, &note("one"), "alice", t0()).unwrap();
    let b = s.add_evidence(&i.id, &note("two"), "alice", t0()).unwrap();
    let checks = s.verify_evidence(Some(&i.id), "bob", t0()).unwrap();
    assert!(checks.iter().all(|c| c.result == CheckResult::Ok));

    let pa = s.evidence_dir().join(&a.stored_path);
    std::fs::set_permissions(&pa, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&pa, "ONE").unwrap();
    std::fs::remove_file(s.evidence_dir().join(&b.stored_path)).unwrap();
    let checks = s.verify_evidence(None, "bob", t0()).unwrap();
    assert_eq!(checks[0].result, CheckResult::Mismatch);
    assert_eq!(checks[1].result, CheckResult::Missing);
    let verified: Vec<_> = s
        .custody(&i.id)
        .unwrap()
        .into_iter()
        .filter(|c| c.action == "verified")
        .collect();
    assert_eq!(verified.len(), 4);
    assert_eq!(verified[2].result.as_deref(), Some("mismatch"));
    assert_eq!(verified[3].result.as_deref(), Some("missing"));
    // A damaged store refuses to export.
    let out = s.evidence_dir().with_file_name("bundle");
    assert!(s.export_evidence(&i.id, &out, "bob", t0()).is_err());
    assert!(s.verify_chain().unwrap().failure.is_none());
}

#[test]
fn drill_purge_removes_drills_and_their_chain_only() {
    let (_dir, mut s) = open_temp();
    let live = new(&mut s, "live", false);
    let drill = new(&mut s, "drill", true);
    s.add_evidence(&live.id, &note("kept"), "alice", t0())
        .unwrap();
    let d = s
        .add_evidence(&drill.id, &note("exercise"), "alice", t0())
        .unwrap();
    s.set_legal_hold(&drill.id, "auditor asked", "alice", t0())
        .unwrap();
    let err = s.purge_drills("alice", t0()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref m) if m.contains("legal hold")));
    s.release_legal_hold(&drill.id, "audit done", "alice", t0())
        .unwrap();
    let preview = s.drill_purge_preview().unwrap();
    assert_eq!(preview.incidents, vec![drill.id.to_string()]);
    let summary = s.purge_drills("alice", t0()).unwrap();
    assert_eq!(summary.incidents.len(), 1);
    assert_eq!(summary.evidence, 1);
    assert!(summary.events >= 4);
    assert!(s.incident(&drill.id).is_err());
    assert!(s.incident(&live.id).is_ok());
    assert_eq!(s.evidence(&live.id).unwrap().len(), 1);
    assert!(!s.evidence_dir().join(&d.stored_path).exists());
    let report = s.verify_chain().unwrap();
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert_eq!(report.heads.len(), 1, "only the live chain is left");
    let last = s.recent_events(1).unwrap();
    assert_eq!(last[0].kind, "drill.purged");
    // A drill made after the purge starts a new drill chain.
    new(&mut s, "drill 2", true);
    assert!(s.verify_chain().unwrap().failure.is_none());
}

#[test]
fn closing_needs_a_review_or_the_commanders_override() {
    let (_dir, mut s) = open_temp();
    let i = new(&mut s, "a", false);
    let close = IncidentPatch {
        status: Some(Status::Closed),
        ..Default::default()
    };
    let err = s.update_incident(&i.id, &close, "alice", t0()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref m) if m.contains("no root cause")));

    // An override needs the commander.
    let mut over = close.clone();
    over.close_override = Some("customer asked to close".into());
    let err = s.update_incident(&i.id, &over, "alice", t0()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(ref m) if m.contains("only the commander")));
    s.assign_role(&i.id, Role::Commander, "carol", "alice", t0())
        .unwrap();
    let err = s.update_incident(&i.id, &over, "alice", t0()).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    let closed = s.update_incident(&i.id, &over, "carol", t0()).unwrap();
    assert_eq!(closed.status, Status::Closed);
    let tl = s.timeline(i.id.as_str(), Some(2)).unwrap();
    assert_eq!(tl[1].kind, "review.gate_overridden");
    assert!(tl[1].detail.contains("customer asked to close"));

    // A second incident: a root cause and an action open the gate.
    let j = new(&mut s, "b", false);
    s.update_review(
        &j.id,
        &ReviewPatch {
            statement: Some("login failed".into()),
            whys: Some(vec!["cert expired".into(), "no alert".into()]),
            root_cause: Some("no expiry monitoring".into()),
            ..Default::default()
        },
        "alice",
        t0(),
    )
    .unwrap();
    assert!(s.update_incident(&j.id, &close, "alice", t0()).is_err());
    let a = s
        .add_action(
            &j.id,
            &NewAction {
                description: "monitor expiry".into(),
                owner: "bob".into(),
                due: None,
            },
            "alice",
            t0(),
        )
        .unwrap();
    let err = s
        .set_action_status(&j.id, a.id, ActionStatus::Dropped, None, "alice", t0())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(_)),
        "dropping needs a reason"
    );
    // A complete review still leaves the open checklist items in the way.
    let err = s.update_incident(&j.id, &close, "alice", t0()).unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref m) if m.contains("checklist items are open")),
        "{err}"
    );
    crate::store::test_fixtures::settle_checklist(&mut s, &j.id, t0());
    let closed = s
        .update_incident(&j.id, &close, "alice", t0() + Duration::minutes(1))
        .unwrap();
    assert_eq!(closed.status, Status::Closed);
    let r = s.review(&j.id).unwrap();
    assert_eq!(r.whys.len(), 2);
    assert_eq!(r.actions.len(), 1);
    assert_eq!(s.reviews().unwrap().len(), 1);
    // Six whys are refused.
    let six = ReviewPatch {
        whys: Some((0..6).map(|n| format!("why {n}")).collect()),
        ..Default::default()
    };
    assert!(matches!(
        s.update_review(&j.id, &six, "alice", t0()),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let (dir, mut s) = open_temp();
    let i = new(&mut s, "a", false);
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let file = |p: &std::path::Path| NewEvidence {
        content: EvidenceContent::File(p.to_path_buf()),
        ..note("x")
    };
    // Nobody writes to the FIFO: reading it would wait forever.
    let e = s
        .add_evidence(&i.id, &file(&fifo), "alice", t0())
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    assert!(e.to_string().contains("FIFO"), "{e}");
    let e = s
        .add_evidence(
            &i.id,
            &file(std::path::Path::new("/dev/zero")),
            "alice",
            t0(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("character device"), "{e}");
    let e = s
        .add_evidence(&i.id, &file(dir.path()), "alice", t0())
        .unwrap_err();
    assert!(e.to_string().contains("directory"), "{e}");
    // A symbolic link to a regular file is followed and collected.
    let real = dir.path().join("real.log");
    std::fs::write(&real, b"line\n").unwrap();
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let item = s.add_evidence(&i.id, &file(&link), "alice", t0()).unwrap();
    assert_eq!(item.size, 5);
    // Nothing was recorded for the refused ones.
    assert_eq!(s.evidence(&i.id).unwrap().len(), 1);
}

#[test]
fn an_access_is_one_custody_event_per_item() {
    let (_dir, mut s) = open_temp();
    let i = new(&mut s, "a", false);
    assert_eq!(
        s.record_evidence_access(&i.id, "viewed", "bob", t0())
            .unwrap(),
        0,
        "no evidence, nothing recorded"
    );
    let before = s.timeline(i.id.as_str(), None).unwrap().len();
    assert_eq!(before, 1);
    s.add_evidence(&i.id, &note("one"), "alice", t0()).unwrap();
    s.add_evidence(&i.id, &note("two"), "alice", t0()).unwrap();
    let later = t0() + Duration::minutes(5);
    assert_eq!(
        s.record_evidence_access(&i.id, "viewed in the console", "bob", later)
            .unwrap(),
        2
    );
    let accesses: Vec<_> = s
        .custody(&i.id)
        .unwrap()
        .into_iter()
        .filter(|c| c.action == "accessed")
        .collect();
    assert_eq!(accesses.len(), 2);
    assert_eq!(accesses[0].item, 1);
    assert_eq!(accesses[1].item, 2);
    assert_eq!(accesses[0].to, "bob");
    assert_eq!(accesses[0].from, STORE_CUSTODIAN);
    assert_eq!(accesses[0].purpose, "viewed in the console");
    assert_eq!(accesses[0].at, later);
    assert!(s.record_evidence_access(&i.id, " ", "bob", later).is_err());
    // The chain still verifies.
    assert!(s.verify_chain().unwrap().failure.is_none());
}
