//! The five response roles, their holders and the roster of people.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::incident::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Commander,
    Security,
    Ops,
    Comms,
    Legal,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Commander,
        Role::Security,
        Role::Ops,
        Role::Comms,
        Role::Legal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commander => "commander",
            Role::Security => "security",
            Role::Ops => "ops",
            Role::Comms => "comms",
            Role::Legal => "legal",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Role::Commander => "Incident commander",
            Role::Security => "Security lead",
            Role::Ops => "Operations lead",
            Role::Comms => "Communications lead",
            Role::Legal => "Legal / compliance",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Role, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "commander" | "ic" | "incident-commander" => Ok(Role::Commander),
            "security" | "sec" => Ok(Role::Security),
            "ops" | "operations" => Ok(Role::Ops),
            "comms" | "communications" => Ok(Role::Comms),
            "legal" | "compliance" | "legal-compliance" => Ok(Role::Legal),
            _ => Err(ParseError {
                what: "role",
                got: s.to_string(),
                expected: "commander, security, ops, comms or legal",
            }),
        }
    }
}

// As its name ("commander"), in the roster's JSON and its events.
impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One holding of a role: who, from when, and (once handed off) until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub role: Role,
    pub person: String,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub assigned_by: String,
}

/// Someone who can hold a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub handle: String,
    pub name: String,
    pub contact: String,
    /// The roles they may hold; empty: any role.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// On call now: offered first when a role is handed out.
    #[serde(default)]
    pub on_call: bool,
}

impl Person {
    /// Someone with only a handle, name and contact (any role, not on call).
    pub fn new(handle: &str, name: &str, contact: &str) -> Person {
        Person {
            handle: handle.to_string(),
            name: name.to_string(),
            contact: contact.to_string(),
            roles: Vec::new(),
            on_call: false,
        }
    }

    pub fn can_hold(&self, role: Role) -> bool {
        self.roles.is_empty() || self.roles.contains(&role)
    }

    /// The entry in one line: "Grace Hopper, grace@example.org, any role, not on call".
    pub fn summary(&self) -> String {
        let contact = if self.contact.is_empty() {
            "no contact"
        } else {
            &self.contact
        };
        let roles = if self.roles.is_empty() {
            "any role".to_string()
        } else {
            roles_text(&self.roles)
        };
        let on_call = if self.on_call {
            "on call"
        } else {
            "not on call"
        };
        format!("{}, {contact}, {roles}, {on_call}", self.name)
    }
}

/// Roles as the roster stores them: "commander,security" (empty: any).
pub fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The roster's stored roles back; a name not known is an error naming it.
pub fn parse_roles(text: &str) -> Result<Vec<Role>, ParseError> {
    let mut out: Vec<Role> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let role: Role = part.parse()?;
        if !out.contains(&role) {
            out.push(role);
        }
    }
    out.sort();
    Ok(out)
}

/// A person's handle: short, no spaces, so it can be typed in a command.
pub fn validate_handle(handle: &str) -> Result<String, String> {
    let h = handle.trim();
    if h.is_empty() {
        return Err("handle must not be empty".into());
    }
    if h.len() > 64
        || !h
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
    {
        return Err(format!(
            "handle '{h}' must be at most 64 letters, digits, '.', '-', '_' or '@'"
        ));
    }
    Ok(h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_with_aliases() {
        assert_eq!("IC".parse::<Role>().unwrap(), Role::Commander);
        assert_eq!("operations".parse::<Role>().unwrap(), Role::Ops);
        assert!(
            "janitor"
                .parse::<Role>()
                .unwrap_err()
                .to_string()
                .contains("janitor")
        );
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
    }

    #[test]
    fn handles_are_validated() {
        assert_eq!(validate_handle(" alice ").unwrap(), "alice");
        assert!(validate_handle("bob smith").is_err());
        assert!(validate_handle("").is_err());
    }
}
