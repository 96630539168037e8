//! A mail address as comms.toml and the roster give it: `Name <addr>` or
//! a bare address, checked to be ASCII and one line, so headers built from
//! it cannot be bent.

use std::fmt;

/// An email address with an optional display name: `Name <a@b.example>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// Parses `a@b.example` or `Display Name <a@b.example>`.
    pub fn parse(s: &str) -> Result<Mailbox, String> {
        let s = s.trim();
        let (name, address) = match (s.rfind('<'), s.ends_with('>')) {
            (Some(open), true) => {
                let name = s[..open].trim().trim_matches('"').trim();
                (
                    (!name.is_empty()).then(|| name.to_string()),
                    s[open + 1..s.len() - 1].trim(),
                )
            }
            _ => (None, s),
        };
        let valid = address
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'))
            && !address
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c));
        if !valid {
            return Err(format!("'{s}' is not an email address (user@domain)"));
        }
        // A display name can be encoded in a header; an address cannot
        // (without SMTPUTF8), so it must be ASCII.
        if !address.is_ascii() {
            return Err(format!(
                "'{s}': the address must be ASCII (write an international domain in its xn-- form)"
            ));
        }
        if name
            .as_deref()
            .is_some_and(|n| n.chars().any(char::is_control))
        {
            return Err(format!("'{s}': control characters in the name"));
        }
        Ok(Mailbox {
            name,
            address: address.to_string(),
        })
    }

    /// The part after `@`, for Message-IDs.
    pub fn domain(&self) -> &str {
        self.address.rsplit('@').next().unwrap_or("localhost")
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{n} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}
