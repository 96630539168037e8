//! The demo drill: a handful of exercise incidents in different phases and
//! states, so a newcomer sees a live war room in one command. Everything is
//! drill-flagged (kept out of metrics, on its own timeline chain) and written
//! through the ordinary store calls, with "now" moved back in time for each
//! step, so its timelines read like a real morning.

use chrono::{DateTime, Duration, Utc};

use crate::domain::playbook::{ItemState, Playbook};
use crate::domain::roles::{Person, Role};
use crate::domain::{Cia, Impact, IncidentId, Phase, Severity, Source, Status};
use crate::store::{IncidentPatch, NewIncident, Result, Store};

const ACTOR: &str = "demo";

const ROSTER: &[(&str, &str, &str)] = &[
    ("alice", "Alice Chen", "alice@example.com"),
    ("bob", "Bob Okafor", "bob@example.com"),
    ("carol", "Carol Diaz", "carol@example.com"),
    ("dave", "Dave Kim", "dave@example.com"),
    ("erin", "Erin Walsh", "legal@example.com"),
];

/// One step of a scripted incident, `minutes` after its detection.
enum Step {
    Assign(Role, &'static str),
    Check(&'static str),
    NotApplicable(&'static str, &'static str),
    Set(Status, Phase),
    Note(&'static str),
    CustomerNotified,
}

struct Scenario {
    title: &'static str,
    severity: Severity,
    source: Source,
    summary: &'static str,
    affected: &'static str,
    customer_impact: &'static str,
    cia: Cia,
    personal_data: bool,
    detected_minutes_ago: i64,
    steps: &'static [(i64, Step)],
}

fn cia(c: Impact, i: Impact, a: Impact) -> Cia {
    Cia {
        confidentiality: c,
        integrity: i,
        availability: a,
    }
}

fn scenarios() -> Vec<Scenario> {
    use Impact::{High, Low, None as No};
    vec![
        Scenario {
            title: "Credential stuffing against customer login API",
            severity: Severity::P1,
            source: Source::RuleWatcher,
            summary: "Over 4,000 failed logins a minute from a rotating pool of addresses; a few hundred accounts logged in successfully.",
            affected: "eu-west-1: auth-api, web",
            customer_impact: "Some customers may see their sessions revoked and be asked to reset passwords.",
            cia: cia(High, Low, Low),
            personal_data: true,
            detected_minutes_ago: 12,
            steps: &[
                (2, Step::Assign(Role::Commander, "alice")),
                (3, Step::Check("detect.alerts")),
                (4, Step::Assign(Role::Security, "bob")),
                (5, Step::Check("detect.siem")),
                (6, Step::Set(Status::Identified, Phase::Triage)),
                (
                    7,
                    Step::Note("Rate limiting raised on /login; watching for the pool to rotate."),
                ),
                (8, Step::Check("triage.severity")),
            ],
        },
        Scenario {
            title: "Ransom note found on build server ci-runner-07",
            severity: Severity::P2,
            source: Source::Siem,
            summary: "EDR flagged mass file renames and a README_RESTORE.txt on one CI runner.",
            affected: "build infrastructure",
            customer_impact: "None known; releases are paused.",
            cia: cia(Low, High, High),
            personal_data: false,
            detected_minutes_ago: 50,
            steps: &[(5, Step::Check("detect.siem"))],
        },
        Scenario {
            title: "Customer export bucket readable without authentication",
            severity: Severity::P2,
            source: Source::CustomerReport,
            summary: "A customer reported that export links still worked after sign-out. The bucket policy allowed anonymous reads for six days.",
            affected: "us-east-1: exports",
            customer_impact: "Customer export files (names, e-mail addresses) may have been read by third parties.",
            cia: cia(High, No, No),
            personal_data: true,
            detected_minutes_ago: 200,
            steps: &[
                (10, Step::Assign(Role::Commander, "carol")),
                (12, Step::Check("detect.reports")),
                (15, Step::Assign(Role::Legal, "erin")),
                (20, Step::Assign(Role::Comms, "dave")),
                (25, Step::Check("triage.severity")),
                (30, Step::Check("triage.impact")),
                (31, Step::Check("triage.assign")),
                (40, Step::Check("contain.isolate")),
                (45, Step::Set(Status::Contained, Phase::Containment)),
                (60, Step::CustomerNotified),
                (70, Step::Check("contain.evidence")),
                (90, Step::Set(Status::Contained, Phase::Eradication)),
            ],
        },
        Scenario {
            title: "Phishing campaign targeting finance staff",
            severity: Severity::P3,
            source: Source::AutomatedAlert,
            summary: "Look-alike invoice domain; two users entered credentials, both reset.",
            affected: "corporate mail",
            customer_impact: "None.",
            cia: cia(Low, No, No),
            personal_data: false,
            detected_minutes_ago: 26 * 60,
            steps: &[
                (20, Step::Assign(Role::Commander, "dave")),
                (30, Step::Check("detect.alerts")),
                (60, Step::Set(Status::Contained, Phase::Containment)),
                (120, Step::Check("contain.isolate")),
                (180, Step::Set(Status::Monitoring, Phase::Recovery)),
                (
                    200,
                    Step::NotApplicable("recover.services", "no service was affected"),
                ),
                // Its last status update went out half an hour ago.
                (26 * 60 - 30, Step::CustomerNotified),
            ],
        },
    ]
}

/// Loads the demo drill into `store`; returns the ids of its incidents. Safe
/// to run again: open demo incidents that already exist are left alone.
pub fn load(store: &mut Store, playbook: &Playbook, now: DateTime<Utc>) -> Result<Vec<String>> {
    let known = store.people()?;
    for (handle, name, contact) in ROSTER {
        if !known.iter().any(|p| p.handle == *handle) {
            let person = Person {
                handle: handle.to_string(),
                name: name.to_string(),
                contact: contact.to_string(),
                roles: Vec::new(),
                on_call: false,
            };
            store.upsert_person(&person, ACTOR, now - Duration::days(1))?;
        }
    }
    let existing = store.incidents(false)?;
    let mut ids = Vec::new();
    for s in scenarios() {
        if let Some(i) = existing.iter().find(|i| i.drill && i.title == s.title) {
            ids.push(i.id.to_string());
            continue;
        }
        let detected = now - Duration::minutes(s.detected_minutes_ago);
        let new = NewIncident {
            title: s.title.into(),
            severity: s.severity,
            summary: s.summary.into(),
            source: s.source,
            affected: s.affected.into(),
            cia: s.cia,
            customer_impact: s.customer_impact.into(),
            personal_data_breach: s.personal_data,
            drill: true,
            detected_at: Some(detected),
        };
        let declared = detected + Duration::minutes(1);
        let incident = store.create_incident(&new, playbook, ACTOR, declared)?;
        for (minutes, step) in s.steps {
            let at = detected + Duration::minutes(*minutes);
            apply(store, &incident.id, step, at)?;
        }
        ids.push(incident.id.to_string());
    }
    Ok(ids)
}

fn apply(store: &mut Store, id: &IncidentId, step: &Step, at: DateTime<Utc>) -> Result<()> {
    match step {
        Step::Assign(role, who) => {
            store.assign_role(id, *role, who, ACTOR, at)?;
        }
        Step::Check(item) => {
            store.set_checklist_item(id, item, ItemState::Done, None, ACTOR, at)?;
        }
        Step::NotApplicable(item, reason) => {
            store.set_checklist_item(
                id,
                item,
                ItemState::NotApplicable,
                Some(reason),
                ACTOR,
                at,
            )?;
        }
        Step::Set(status, phase) => {
            let patch = IncidentPatch {
                status: Some(*status),
                phase: Some(*phase),
                ..IncidentPatch::default()
            };
            store.update_incident(id, &patch, ACTOR, at)?;
        }
        Step::Note(text) => {
            store.add_note(id, text, ACTOR, at)?;
        }
        Step::CustomerNotified => {
            store.record_customer_notice(id, ACTOR, at)?;
        }
    }
    Ok(())
}
