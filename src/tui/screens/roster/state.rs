//! The roster screen: its state and its dialog's purpose (the store work
//! and its answers are in `work`); pure helpers. Nothing here imports the app.

use crate::domain::IncidentId;
use crate::domain::roles::{Person, Role, parse_roles, roles_text, validate_handle};
use crate::tui::kit::fields::state::{Field, FieldsDialog, Purpose};

/// The roster screen: the cursor into the roster (as the console loaded
/// it, sorted by handle) and the edit sent to the store, kept until the
/// store answers so a refusal loses nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RosterState {
    pub cursor: usize,
    /// The dialog as submitted, while its save is with the store.
    pub pending: Option<FieldsDialog>,
    /// A refused edit's dialog that could not be shown (another dialog
    /// was open): `a` or `e` brings it back.
    pub kept: Option<FieldsDialog>,
    /// The worker's `data_version` when the roster was last read.
    pub seen: Option<i64>,
}

/// What the roster's field dialog is for: adding someone, or editing the
/// entry as it was shown (the base of the save).
#[derive(Debug, Clone, PartialEq)]
pub enum RosterAsk {
    Add,
    Edit { based_on: Person },
}

impl Purpose for RosterAsk {
    fn verb(&self) -> &'static str {
        match self {
            RosterAsk::Add => "add",
            RosterAsk::Edit { .. } => "save",
        }
    }
}

/// The field dialog names no incident; its id is never read here.
fn no_incident() -> IncidentId {
    IncidentId::new(0, 0)
}

pub const ROLES_HINT: &str = "empty: any role; or commander, security, ops, comms, legal";

/// The add dialog, its name (and a handle made from it) filled in.
pub fn add_dialog(name: &str) -> FieldsDialog {
    let handle = handle_from(name);
    let mut d = FieldsDialog::new(
        RosterAsk::Add,
        no_incident(),
        "Add to the roster",
        vec![
            Field::text("Handle", &handle, "short, no spaces: alice, j.doe"),
            Field::text("Name", name.trim(), "full name"),
            Field::text("Contact", "", "mail or phone: escalations use it"),
            Field::text("Roles", "", ROLES_HINT),
            Field::choice("On call", &["no", "yes"], 0),
        ],
    );
    if !name.trim().is_empty() {
        // The name was typed elsewhere: the contact is what is missing.
        d.focus = 2;
    }
    d
}

/// The edit dialog of `p` as shown.
pub fn edit_dialog(p: &Person) -> FieldsDialog {
    FieldsDialog::new(
        RosterAsk::Edit {
            based_on: p.clone(),
        },
        no_incident(),
        &format!("Edit {}", p.handle),
        vec![
            Field::text("Name", &p.name, "full name"),
            Field::text("Contact", &p.contact, "mail or phone: escalations use it"),
            Field::text("Roles", &roles_text(&p.roles), ROLES_HINT),
            Field::choice("On call", &["no", "yes"], usize::from(p.on_call)),
        ],
    )
}

/// A handle made from a typed name: lower case, spaces as dots, other
/// characters a handle cannot hold left out.
pub fn handle_from(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(".")
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
        .take(64)
        .collect()
}

/// The typed roles, or an error naming the one not known and every valid one.
pub fn typed_roles(text: &str) -> Result<Vec<Role>, String> {
    parse_roles(text).map_err(|e| {
        let valid: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!(
            "roles: '{}' is not a role; valid roles are {} (comma-separated; empty: any role)",
            e.got.trim(),
            valid.join(", ")
        )
    })
}

/// The person the dialog's values describe, checked (the store checks
/// again); the base of the save comes with it.
pub fn typed_person(d: &FieldsDialog) -> Result<(Person, Option<Person>), String> {
    let ask = d
        .purpose::<RosterAsk>()
        .ok_or_else(|| "not a roster dialog".to_string())?;
    let (handle, base, first) = match ask {
        RosterAsk::Add => (d.text(0).to_string(), None, 1),
        RosterAsk::Edit { based_on } => (based_on.handle.clone(), Some(based_on.clone()), 0),
    };
    let handle = validate_handle(&handle)?;
    let name = d.text(first).trim().to_string();
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    let person = Person {
        handle,
        name,
        contact: d.text(first + 1).trim().to_string(),
        roles: typed_roles(d.text(first + 2))?,
        on_call: d.choice(first + 3) == 1,
    };
    Ok((person, base))
}

/// A refused dialog made an edit of the entry as it is now (or an
/// addition again if there is none), with the values as typed.
pub fn rebased(d: &FieldsDialog, current: Option<&Person>) -> FieldsDialog {
    let first = match d.purpose::<RosterAsk>() {
        Some(RosterAsk::Add) => 1,
        _ => 0,
    };
    let typed_handle = match (d.purpose::<RosterAsk>(), current) {
        (_, Some(p)) => p.handle.clone(),
        (Some(RosterAsk::Edit { based_on }), None) => based_on.handle.clone(),
        _ => d.text(0).to_string(),
    };
    let mut out = match current {
        Some(p) => edit_dialog(p),
        None => {
            let mut a = add_dialog("");
            set_text(&mut a, 0, &typed_handle);
            a
        }
    };
    let to = match current {
        Some(_) => 0,
        None => 1,
    };
    for k in 0..3 {
        set_text(&mut out, to + k, d.text(first + k));
    }
    if let Some(crate::tui::kit::fields::state::FieldValue::Choice { selected, .. }) =
        out.fields.get_mut(to + 3).map(|f| &mut f.value)
    {
        *selected = d.choice(first + 3);
    }
    out
}

fn set_text(d: &mut FieldsDialog, i: usize, text: &str) {
    if let Some(input) = d.input_mut(i) {
        *input = crate::tui::kit::input::LineInput::new(text);
    }
}
