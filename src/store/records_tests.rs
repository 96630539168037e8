//! Tampering with the database behind warroom's back (as someone with
//! `sqlite3` and write access could), and what `verify` and the evidence
//! checks then say; drill purges against checkpoints; files written
//! beside planted links.

use std::os::unix::fs::{PermissionsExt, symlink};

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use rusqlite::{Connection, params};

use super::*;
use crate::comms::Audience;
use crate::domain::event::{GENESIS_HASH, HashInput, event_hash};
use crate::domain::evidence::{CheckResult, blob_path, sha256_hex};
use crate::domain::{Cia, Impact, Incident, Phase, Playbook, Role, Severity, Status};
use crate::store::test_fixtures::open_temp;
use crate::store::{EvidenceContent, IncidentPatch, NewEvidence, NewIncident, NewMessage};

fn t(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap() + Duration::minutes(min)
}

fn new(store: &mut Store, title: &str, drill: bool) -> Incident {
    let mut n = NewIncident::new(title, Severity::P3);
    n.drill = drill;
    store
        .create_incident(&n, &Playbook::builtin(), "alice", t(0))
        .unwrap()
}

fn file_evidence(path: &std::path::Path) -> NewEvidence {
    NewEvidence {
        content: EvidenceContent::File(path.to_path_buf()),
        description: "log".into(),
        source_host: "web1".into(),
        tz: FixedOffset::east_opt(0).unwrap(),
    }
}

/// A raw connection to the same file, as `sqlite3` would be.
fn raw(s: &Store) -> Connection {
    Connection::open(s.path()).unwrap()
}

/// An incident taken through every kind of change that touches its row.
fn busy_incident(s: &mut Store) -> Incident {
    let i = new(s, "Busy", false);
    let patch = IncidentPatch {
        severity: Some(Severity::P1),
        summary: Some("  lots happened ".into()),
        phase: Some(Phase::Containment),
        cia: Some(Cia {
            confidentiality: Impact::High,
            integrity: Impact::None,
            availability: Impact::Low,
        }),
        personal_data_breach: Some(true),
        affected: Some("eu-west-1".into()),
        title: Some("Busy incident ".into()),
        customer_summary: Some(" We stopped an attack. ".into()),
        ..Default::default()
    };
    s.update_incident(&i.id, &patch, "alice", t(1)).unwrap();
    s.assign_role(&i.id, Role::Commander, "bob", "alice", t(2))
        .unwrap();
    s.acknowledge(&i.id, "bob", t(3)).unwrap();
    let status = |st| IncidentPatch {
        status: Some(st),
        ..Default::default()
    };
    s.update_incident(&i.id, &status(Status::Contained), "bob", t(4))
        .unwrap();
    s.record_customer_notice(&i.id, "bob", t(5)).unwrap();
    for (audience, m) in [(Audience::Regulator, 6), (Audience::Internal, 7)] {
        s.send_message(
            &NewMessage {
                incident_id: i.id.clone(),
                audience,
                template: None,
                body: "Status: contained\n".into(),
                author: "carol".into(),
            },
            &[],
            t(m),
        )
        .unwrap();
    }
    s.update_incident(&i.id, &status(Status::Resolved), "bob", t(8))
        .unwrap();
    s.update_incident(&i.id, &status(Status::Investigating), "bob", t(9))
        .unwrap();
    let mut close = status(Status::Closed);
    close.close_override = Some("review held elsewhere".into());
    s.update_incident(&i.id, &close, "bob", t(10)).unwrap();
    s.incident(&i.id).unwrap()
}

#[test]
fn every_change_an_incident_goes_through_replays_to_its_row() {
    let (_dir, mut s) = open_temp();
    busy_incident(&mut s);
    new(&mut s, "Quiet", false);
    new(&mut s, "Drill", true);
    let report = s.verify(None).unwrap();
    assert!(report.is_ok(), "{:?} {:?}", report.failure, report.records);
}

#[test]
fn incident_rows_changed_outside_warroom_fail_verify_naming_the_field() {
    let (_dir, mut s) = open_temp();
    let i = busy_incident(&mut s);
    let quiet = new(&mut s, "Quiet", false);
    let cases = [
        (
            "status",
            "UPDATE incidents SET status = 'investigating' WHERE id = ?1",
        ),
        (
            "severity",
            "UPDATE incidents SET severity = 'P4' WHERE id = ?1",
        ),
        (
            "title",
            "UPDATE incidents SET title = 'Nothing to see' WHERE id = ?1",
        ),
        (
            "phase",
            "UPDATE incidents SET phase = 'review' WHERE id = ?1",
        ),
        (
            "customer_summary",
            "UPDATE incidents SET customer_summary = 'All fine, nothing happened' WHERE id = ?1",
        ),
        (
            "detected_at",
            "UPDATE incidents SET detected_at = '2026-03-01T11:00:00.000Z' WHERE id = ?1",
        ),
        (
            "acknowledged_at",
            "UPDATE incidents SET acknowledged_at = NULL WHERE id = ?1",
        ),
        (
            "closed_at",
            "UPDATE incidents SET closed_at = '2026-03-02T00:00:00.000Z' WHERE id = ?1",
        ),
        (
            "regulator_notified_at",
            "UPDATE incidents SET regulator_notified_at = NULL WHERE id = ?1",
        ),
        (
            "customer_notified_at",
            "UPDATE incidents SET customer_notified_at = '2026-03-01T10:00:00.000Z' WHERE id = ?1",
        ),
    ];
    for (field, sql) in cases {
        let db = raw(&s);
        let before: Incident = s.incident(&i.id).unwrap();
        db.execute(sql, params![i.id.as_str()]).unwrap();
        let report = s.verify(None).unwrap();
        assert!(
            report
                .records
                .iter()
                .any(|r| r.contains(i.id.as_str()) && r.contains(&format!("{field}:"))),
            "{field}: {:?}",
            report.records
        );
        assert!(!report.records.iter().any(|r| r.contains(quiet.id.as_str())));
        // Put it back through the same door.
        let mut stmt = db
            .prepare(
                "UPDATE incidents SET status = ?2, severity = ?3, title = ?4, phase = ?5,
                 detected_at = ?6, acknowledged_at = ?7, closed_at = ?8,
                 regulator_notified_at = ?9, customer_notified_at = ?10, customer_summary = ?11
                 WHERE id = ?1",
            )
            .unwrap();
        let ts = |t: Option<DateTime<Utc>>| t.map(crate::domain::event::format_time);
        stmt.execute(params![
            i.id.as_str(),
            before.status.as_str(),
            before.severity.as_str(),
            before.title,
            before.phase.as_str(),
            ts(Some(before.detected_at)),
            ts(before.acknowledged_at),
            ts(before.closed_at),
            ts(before.regulator_notified_at),
            ts(before.customer_notified_at),
            before.customer_summary,
        ])
        .unwrap();
        assert!(s.verify(None).unwrap().is_ok(), "{field} restored");
    }
}

#[test]
fn clock_changes_replay_to_the_clock_history_and_an_edited_history_fails_verify() {
    use crate::domain::sla::ClockKind;
    let (_dir, mut s) = open_temp();
    let i = new(&mut s, "Clocks", false);
    // Writers stamp the full `now`; the chain keeps milliseconds.
    let odd = |m: i64| t(m) + Duration::nanoseconds(123_456_789);
    let up = IncidentPatch {
        severity: Some(Severity::P1),
        ..Default::default()
    };
    s.update_incident(&i.id, &up, "alice", odd(1)).unwrap();
    s.pause_clock(
        &i.id,
        &ClockKind::Response,
        "waiting on the hoster",
        "alice",
        odd(2),
    )
    .unwrap();
    s.resume_clock(&i.id, &ClockKind::Response, "alice", odd(10))
        .unwrap();
    let down = IncidentPatch {
        severity: Some(Severity::P4),
        reason: Some("false positive".into()),
        ..Default::default()
    };
    s.update_incident(&i.id, &down, "alice", odd(40)).unwrap();
    s.set_detected(&i.id, t(-15), "SIEM alert came first", "alice", odd(41))
        .unwrap();
    let row = s.incident(&i.id).unwrap();
    assert_eq!(
        row.clock_history.periods.len(),
        4,
        "{:?}",
        row.clock_history
    );
    assert_eq!(row.clock_history.pauses.len(), 1);
    let report = s.verify(None).unwrap();
    assert!(report.is_ok(), "{:?} {:?}", report.failure, report.records);

    // A history rewritten to drop the breach-era P1 period is caught.
    raw(&s)
        .execute(
            "UPDATE incidents SET clock_history = '{}' WHERE id = ?1",
            params![i.id.as_str()],
        )
        .unwrap();
    let report = s.verify(None).unwrap();
    assert!(
        report
            .records
            .iter()
            .any(|r| r.contains(i.id.as_str()) && r.contains("clock_history:")),
        "{:?}",
        report.records
    );
}

#[test]
fn an_event_forged_at_the_head_outside_the_sequence_fails_verify() {
    let (_dir, mut s) = open_temp();
    let i = new(&mut s, "a", false);
    s.add_note(&i.id, "real", "alice", t(1)).unwrap();
    let db = raw(&s);
    let (chain_seq, prev): (i64, String) = db
        .query_row(
            "SELECT chain_seq, hash FROM events WHERE chain = 'live' ORDER BY chain_seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // A well-formed, correctly hashed event, but with row number -1.
    let (at, data) = ("2026-03-01T10:05:00.000Z", "{}");
    let hash = event_hash(&HashInput {
        seq: -1,
        chain: "live",
        chain_seq: chain_seq + 1,
        at,
        actor: "mallory",
        incident: Some(i.id.as_str()),
        kind: "note.added",
        detail: "all clear",
        data,
        prev_hash: &prev,
    });
    db.execute(
        "INSERT INTO events (seq, chain, chain_seq, at, actor, incident_id, kind, detail, data, prev_hash, hash)
         VALUES (-1, 'live', ?1, ?2, 'mallory', ?3, 'note.added', 'all clear', ?4, ?5, ?6)",
        params![chain_seq + 1, at, i.id.as_str(), data, prev, hash],
    )
    .unwrap();
    let report = s.verify(None).unwrap();
    let f = report.failure.expect("the forged event is caught");
    assert_eq!(f.seq, Some(-1));
    assert!(f.problem.contains("outside the chain's sequence"), "{f}");
    assert_ne!(prev, GENESIS_HASH);
}

#[test]
fn an_evidence_item_swapped_for_other_content_is_named_by_every_check() {
    let (dir, mut s) = open_temp();
    let i = new(&mut s, "a", false);
    let src = dir.path().join("auth.log");
    std::fs::write(&src, b"Failed password for root\n").unwrap();
    let item = s
        .add_evidence(&i.id, &file_evidence(&src), "alice", t(1))
        .unwrap();
    // The swap: a new blob, and the row pointed at it (trigger dropped).
    let forged = b"nothing happened\n";
    let sha = sha256_hex(forged);
    let blob = s.evidence_dir().join(blob_path(&sha));
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, forged).unwrap();
    let db = raw(&s);
    db.execute_batch("DROP TRIGGER evidence_append_only_update")
        .unwrap();
    db.execute(
        "UPDATE evidence SET sha256 = ?1, stored_path = ?2, size = ?3 WHERE id = ?4",
        params![sha, blob_path(&sha), forged.len() as i64, item.id],
    )
    .unwrap();

    let report = s.verify(None).unwrap();
    assert!(report.failure.is_none());
    assert!(
        report
            .records
            .iter()
            .any(|r| r.contains(&format!("evidence #{}", item.id)) && r.contains("altered")),
        "{:?}",
        report.records
    );
    let checks = s.verify_evidence(Some(&i.id), "bob", t(2)).unwrap();
    assert_eq!(checks[0].result, CheckResult::Altered);
    assert_eq!(
        checks[0].expected, item.sha256,
        "the collected hash is expected"
    );
    let err = s
        .export_evidence(&i.id, &dir.path().join("b.tar"), "bob", t(3))
        .unwrap_err();
    assert!(err.to_string().contains("altered"), "{err}");
    let err = s
        .copy_evidence_out(&i.id, item.id, &dir.path().join("c"), "look", "bob", t(3))
        .unwrap_err();
    assert!(err.to_string().contains("altered"), "{err}");
    assert!(!dir.path().join("c").exists());
}

#[test]
fn a_checkpoint_taken_before_a_drill_purge_verifies_after_it_and_advances() {
    let (_dir, mut s) = open_temp();
    let live = new(&mut s, "live", false);
    let drill = new(&mut s, "drill", true);
    s.add_note(&drill.id, "step 1", "alice", t(1)).unwrap();
    let before = Checkpoint {
        chains: s.verify_chain().unwrap().heads,
    };
    assert_eq!(before.chains.len(), 2);
    // More drill events after the checkpoint, then the purge.
    s.add_note(&drill.id, "step 2", "alice", t(2)).unwrap();
    s.add_note(&live.id, "meanwhile", "alice", t(2)).unwrap();
    s.purge_drills("alice", t(3)).unwrap();
    let report = s.verify(Some(&before)).unwrap();
    assert!(report.is_ok(), "{:?} {:?}", report.failure, report.records);

    // The checkpoint advances (no drill chain now), and a new drill chain
    // starts without confusing either checkpoint.
    let after = Checkpoint {
        chains: report.heads.clone(),
    };
    let drill2 = new(&mut s, "drill 2", true);
    s.add_note(&drill2.id, "again", "alice", t(4)).unwrap();
    assert!(s.verify(Some(&after)).unwrap().is_ok());
    assert!(s.verify(Some(&before)).unwrap().is_ok());

    // A checkpoint that disagrees with what the purge removed still fails.
    let mut forged = before.clone();
    for c in &mut forged.chains {
        if c.chain == "drill" {
            c.hash = "0".repeat(64);
        }
    }
    let f = s.verify(Some(&forged)).unwrap().failure.expect("caught");
    assert!(f.problem.contains("purge"), "{f}");
}

#[test]
fn checkpoint_files_are_never_written_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let path = dir.path().join("cp.json");
    symlink(&victim, dir.path().join("cp.tmp")).unwrap();
    symlink(&victim, dir.path().join(".cp.json.partial")).unwrap();
    Checkpoint { chains: vec![] }.write(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(Checkpoint::read(&path).unwrap().is_some());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn the_demo_drill_replays_to_its_rows() {
    let (_dir, mut s) = open_temp();
    crate::demo::load(&mut s, &Playbook::builtin(), t(600)).unwrap();
    let report = s.verify(None).unwrap();
    assert!(report.is_ok(), "{:?} {:?}", report.failure, report.records);
}
