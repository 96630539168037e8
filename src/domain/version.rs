//! Versions and conflicts: no lost update. An edit made from a view says
//! which version of the incident it was based on (the sequence number of
//! the incident's newest timeline event when the view was read); the store
//! looks at the events after it, and if one of them changed the same thing
//! the edit is refused with a [`Conflict`] naming that change. Edits of
//! different things never conflict. Pure: the events are given.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::event::{Event, format_time, kinds};
use super::review::kinds as review_kinds;

/// An incident's version: the `seq` of its newest timeline event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Version(pub i64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Version(n)),
            _ => Err(format!(
                "'{s}' is not a version (a whole number, as `incident show --json` prints it)"
            )),
        }
    }
}

/// The one thing an edit changes, as the timeline names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// An incident field, by the name `incident.updated` records
    /// (`title`, `severity`, ...); `detected_at` for the detection time.
    Field(&'a str),
    /// A checklist item, by its id.
    ChecklistItem(&'a str),
    /// A role, by its stored name (`commander`, ...).
    Role(&'a str),
    /// A review text, by its stored field name (`root_cause`, `whys`, ...).
    Review(&'a str),
    /// A corrective action's status, by its number.
    Action(i64),
}

impl Target<'_> {
    /// A stable key for programs (the console's conflict dialog): `title`,
    /// `checklist:ID`, `role:commander`, `review:root_cause`, `action:N`.
    pub fn key(&self) -> String {
        match self {
            Target::Field(name) => (*name).to_string(),
            Target::ChecklistItem(id) => format!("checklist:{id}"),
            Target::Role(role) => format!("role:{role}"),
            Target::Review(name) => format!("review:{name}"),
            Target::Action(n) => format!("action:{n}"),
        }
    }
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Field(name) => write!(f, "{}", name.replace('_', " ")),
            Target::ChecklistItem(id) => write!(f, "checklist item {id}"),
            Target::Role(role) => write!(f, "role {role}"),
            Target::Review(name) => write!(f, "review {}", name.replace('_', " ")),
            Target::Action(n) => write!(f, "corrective action #{n}"),
        }
    }
}

/// The change that came in between: who made it, when, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Theirs {
    pub seq: i64,
    pub actor: String,
    #[serde(serialize_with = "ser_time")]
    pub at: DateTime<Utc>,
    /// The value before their change, when the timeline recorded it.
    pub old: Option<String>,
    /// The value their change set.
    pub new: Option<String>,
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

/// A stale edit: `what` was changed by `theirs` after `base`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub incident: String,
    /// What both edits change, as a key ([`Target::key`]).
    pub field: String,
    /// What both edits change, as a person reads it ("title", "role commander").
    pub what: String,
    /// The version the refused edit was based on.
    pub base: Version,
    /// The newest change of the same thing after `base`.
    pub theirs: Theirs,
    /// The value the refused edit wanted.
    pub mine: Option<String>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} was changed by {} at {} (event #{}",
            self.what,
            self.theirs.actor,
            format_time(self.theirs.at),
            self.theirs.seq
        )?;
        if let Some(new) = &self.theirs.new {
            write!(f, ", now {}", short(new))?;
        }
        write!(f, ") after version {}", self.base)
    }
}

/// A value quoted in one line: long texts are cut, newlines shown as spaces.
fn short(v: &str) -> String {
    const MAX: usize = 60;
    let one: String = v
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one.chars().count() > MAX {
        let cut: String = one.chars().take(MAX).collect();
        format!("\"{cut}...\"")
    } else {
        format!("\"{one}\"")
    }
}

/// What an event changed of `target`, as (old, new), or `None` if it did
/// not touch it. Reads the event's data as the store wrote it.
fn touches(e: &Event, target: &Target<'_>) -> Option<(Option<String>, Option<String>)> {
    let data: serde_json::Value = serde_json::from_str(&e.data).ok()?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    let from_to = |c: &serde_json::Value| Some((text(&c["from"]), text(&c["to"])));
    match (*target, e.kind.as_str()) {
        (Target::Field(name), kinds::INCIDENT_UPDATED) => from_to(data["changes"].get(name)?),
        (Target::Field(name), kinds::INCIDENT_DETECTION_CHANGED) => from_to(data.get(name)?),
        (Target::ChecklistItem(id), kinds::CHECKLIST_CHANGED) if data["item"] == id => {
            let to = match (text(&data["to"]), text(&data["reason"])) {
                (Some(to), Some(reason)) => Some(format!("{to} ({reason})")),
                (to, _) => to,
            };
            Some((text(&data["from"]), to))
        }
        (Target::Role(role), kinds::ROLE_ASSIGNED) if data["role"] == role => from_to(&data),
        (Target::Review(name), review_kinds::UPDATED) => {
            let changed = data["changed"].as_array()?;
            let label = review_label(name);
            changed
                .iter()
                .any(|c| c.as_str() == Some(label))
                .then(|| (None, text(&data[name])))
        }
        (Target::Action(n), review_kinds::ACTION_CHANGED) if data["action"] == n => from_to(&data),
        _ => None,
    }
}

/// How `review.updated` lists a changed field (its detail's words).
pub fn review_label(field: &str) -> &str {
    match field {
        "root_cause" => "root cause",
        "went_well" => "went well",
        "went_badly" => "went badly",
        "no_action_reason" => "no action",
        other => other,
    }
}

/// The conflict an edit of `target` based on `base` meets among `after`
/// (the incident's events after `base`, oldest first): the newest event
/// that changed the same thing, or none.
pub fn find_conflict(
    incident: &str,
    base: Version,
    after: &[Event],
    target: Target<'_>,
    mine: Option<&str>,
) -> Option<Conflict> {
    after
        .iter()
        .filter(|e| e.seq > base.0)
        .rev()
        .find_map(|e| touches(e, &target).map(|change| (e, change)))
        .map(|(e, (old, new))| Conflict {
            incident: incident.to_string(),
            field: target.key(),
            what: target.to_string(),
            base,
            theirs: Theirs {
                seq: e.seq,
                actor: e.actor.clone(),
                at: e.at,
                old,
                new,
            },
            mine: mine.map(str::to_string),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn event(seq: i64, kind: &str, data: serde_json::Value) -> Event {
        Event {
            seq,
            at: Utc
                .with_ymd_and_hms(2026, 3, 1, 10, 0, 0)
                .single()
                .unwrap_or_default(),
            actor: "alice".into(),
            incident: Some("INC-2026-001".into()),
            kind: kind.into(),
            detail: String::new(),
            data: data.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_same_field_conflicts_and_another_does_not() {
        let after = [
            event(
                5,
                kinds::INCIDENT_UPDATED,
                json!({"changes": {"title": {"from": "a", "to": "b"}}}),
            ),
            event(6, kinds::NOTE_ADDED, json!({})),
        ];
        let c = find_conflict(
            "INC-2026-001",
            Version(4),
            &after,
            Target::Field("title"),
            Some("c"),
        );
        let c = c.expect("a conflict on the title");
        assert_eq!(c.theirs.seq, 5);
        assert_eq!(c.theirs.new.as_deref(), Some("b"));
        assert_eq!(
            c.to_string(),
            "title was changed by alice at 2026-03-01T10:00:00.000Z (event #5, now \"b\") after version 4"
        );
        assert!(find_conflict("I", Version(4), &after, Target::Field("phase"), None).is_none());
        // Events up to the base were seen by whoever made the edit.
        assert!(find_conflict("I", Version(5), &after, Target::Field("title"), None).is_none());
    }

    #[test]
    fn items_roles_review_and_actions_are_told_apart() {
        let after = [
            event(
                7,
                kinds::CHECKLIST_CHANGED,
                json!({"item": "triage.scope", "from": "open", "to": "done", "reason": null}),
            ),
            event(
                8,
                kinds::ROLE_ASSIGNED,
                json!({"role": "commander", "from": "alice", "to": "bob"}),
            ),
            event(
                9,
                review_kinds::UPDATED,
                json!({"changed": ["root cause"], "root_cause": "weak password"}),
            ),
            event(
                10,
                review_kinds::ACTION_CHANGED,
                json!({"action": 2, "from": "open", "to": "done"}),
            ),
        ];
        let hit = |t| find_conflict("I", Version(1), &after, t, None).map(|c| c.theirs.seq);
        let key = |t| find_conflict("I", Version(1), &after, t, None).map(|c| c.field);
        assert_eq!(
            key(Target::ChecklistItem("triage.scope")).as_deref(),
            Some("checklist:triage.scope")
        );
        assert_eq!(
            key(Target::Role("commander")).as_deref(),
            Some("role:commander")
        );
        assert_eq!(
            key(Target::Review("root_cause")).as_deref(),
            Some("review:root_cause")
        );
        assert_eq!(key(Target::Action(2)).as_deref(), Some("action:2"));
        assert_eq!(hit(Target::ChecklistItem("triage.scope")), Some(7));
        assert_eq!(hit(Target::ChecklistItem("contain.isolate")), None);
        assert_eq!(hit(Target::Role("commander")), Some(8));
        assert_eq!(hit(Target::Role("comms")), None);
        assert_eq!(hit(Target::Review("root_cause")), Some(9));
        assert_eq!(hit(Target::Review("lessons")), None);
        assert_eq!(hit(Target::Action(2)), Some(10));
        assert_eq!(hit(Target::Action(3)), None);
    }

    #[test]
    fn the_newest_change_is_named() {
        let upd = |seq, to: &str| {
            event(
                seq,
                kinds::INCIDENT_UPDATED,
                json!({"changes": {"severity": {"from": "P3", "to": to}}}),
            )
        };
        let after = [upd(3, "P2"), upd(4, "P1")];
        let c = find_conflict("I", Version(2), &after, Target::Field("severity"), None);
        assert_eq!(c.map(|c| c.theirs.seq), Some(4));
    }

    #[test]
    fn versions_parse_whole_numbers_only() {
        assert_eq!("42".parse::<Version>(), Ok(Version(42)));
        assert!("-1".parse::<Version>().is_err());
        assert!("x".parse::<Version>().is_err());
    }
}
