//! Allowlists: hits a rule must not count (a bastion, a vulnerability
//! scanner, a monitoring probe), like fail2ban's `ignoreip` and
//! `ignoreregex`. `ignore` lists address ranges (CIDR, IPv4 and IPv6),
//! single addresses and exact keys; `ignore_lines` lists regexes matched
//! against the line. A rule file's top-level lists apply to every rule
//! loaded; a rule's own lists add to them.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::Regex;

/// What one `ignore` entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreEntry {
    /// An address range, or one address (a /32 or /128).
    Net(IpNet),
    /// Any other key, compared exactly (a host name, a user name).
    Key(String),
}

impl IgnoreEntry {
    /// Reads one entry: `10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`, or an
    /// exact key. What looks like an address or a range but is not one is
    /// an error, never silently an exact key that matches nothing.
    pub fn parse(text: &str) -> Result<IgnoreEntry, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty ignore entry".into());
        }
        if t.contains('/') {
            return t
                .parse::<IpNet>()
                .map(|n| IgnoreEntry::Net(n.trunc()))
                .map_err(|_| {
                    format!("'{t}' is not an address range (e.g. 10.0.0.0/8, 2001:db8::/32)")
                });
        }
        if let Some(ip) = address(t) {
            return Ok(IgnoreEntry::Net(IpNet::from(ip)));
        }
        let address_like = t.chars().all(|c| c.is_ascii_digit() || c == '.')
            || (t.contains(':')
                && t.chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'));
        if address_like {
            return Err(format!("'{t}' is not an IP address"));
        }
        Ok(IgnoreEntry::Key(t.to_string()))
    }
}

/// An address as logged, IPv4-mapped IPv6 (`::ffff:10.0.0.1`) read as the
/// IPv4 address it is.
fn address(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The `ignore` and `ignore_lines` of one scope (a rule, or every rule).
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    nets: Vec<IpNet>,
    keys: HashSet<String>,
    lines: Vec<Regex>,
}

impl Allowlist {
    pub fn add(&mut self, entry: IgnoreEntry) {
        match entry {
            IgnoreEntry::Net(n) => {
                if !self.nets.contains(&n) {
                    self.nets.push(n);
                }
            }
            IgnoreEntry::Key(k) => {
                self.keys.insert(k);
            }
        }
    }

    pub fn add_line(&mut self, regex: Regex) {
        self.lines.push(regex);
    }

    /// Adds every entry of `other` (watch.toml's list to a rule set's).
    pub fn extend(&mut self, other: &Allowlist) {
        for n in &other.nets {
            self.add(IgnoreEntry::Net(*n));
        }
        self.keys.extend(other.keys.iter().cloned());
        self.lines.extend(other.lines.iter().cloned());
    }

    /// How many entries it holds (addresses and ranges, keys, regexes).
    pub fn len(&self) -> usize {
        self.nets.len() + self.keys.len() + self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && self.keys.is_empty() && self.lines.is_empty()
    }

    /// Whether a hit is allowed to pass unseen: its key, or the source
    /// address the line names (`src`), is listed, or the line matches an
    /// `ignore_lines` regex.
    pub fn covers(&self, key: &str, src: Option<&str>, line: &str) -> bool {
        self.covers_value(key)
            || src.is_some_and(|s| s != key && self.covers_value(s))
            || self.lines.iter().any(|r| r.is_match(line))
    }

    fn covers_value(&self, value: &str) -> bool {
        if self.keys.contains(value) {
            return true;
        }
        if self.nets.is_empty() {
            return false;
        }
        address(value).is_some_and(|ip| self.nets.iter().any(|n| n.contains(&ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str], lines: &[&str]) -> Allowlist {
        let mut a = Allowlist::default();
        for e in entries {
            a.add(IgnoreEntry::parse(e).unwrap());
        }
        for l in lines {
            a.add_line(Regex::new(l).unwrap());
        }
        a
    }

    #[test]
    fn ranges_cover_their_edges_and_nothing_past_them() {
        let a = list(&["10.1.2.0/24", "2001:db8::/32"], &[]);
        assert!(a.covers("10.1.2.0", None, ""));
        assert!(a.covers("10.1.2.255", None, ""));
        assert!(!a.covers("10.1.3.0", None, ""));
        assert!(!a.covers("10.1.1.255", None, ""));
        assert!(a.covers("2001:db8::1", None, ""));
        assert!(a.covers("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", None, ""));
        assert!(!a.covers("2001:db9::", None, ""));
        // sshd may log an IPv4 client as IPv4-mapped IPv6.
        assert!(a.covers("::ffff:10.1.2.9", None, ""));
        // A range with host bits set means its network.
        let b = list(&["192.0.2.77/30"], &[]);
        assert!(b.covers("192.0.2.76", None, "") && b.covers("192.0.2.79", None, ""));
        assert!(!b.covers("192.0.2.80", None, ""));
    }

    #[test]
    fn single_addresses_and_exact_keys() {
        let a = list(&["192.0.2.7", "bastion-1", "2001:db8::7"], &[]);
        assert!(a.covers("192.0.2.7", None, ""));
        assert!(!a.covers("192.0.2.8", None, ""));
        assert!(
            a.covers("2001:db8:0::7", None, ""),
            "the same address written longer"
        );
        assert!(a.covers("bastion-1", None, ""));
        assert!(!a.covers("bastion-10", None, ""), "exact, not a prefix");
        assert!(!a.covers("Bastion-1", None, ""));
        // A rule keyed by user still skips the listed source address.
        assert!(a.covers("alice", Some("192.0.2.7"), ""));
        assert!(!a.covers("alice", Some("192.0.2.8"), ""));
    }

    #[test]
    fn lists_add_up_without_repeats() {
        let mut a = list(&["10.0.0.0/8", "bastion-1"], &["^x"]);
        a.extend(&list(&["10.0.0.0/8", "192.0.2.7"], &["^y"]));
        assert_eq!(a.len(), 5);
        assert!(a.covers("192.0.2.7", None, "") && a.covers("10.9.9.9", None, ""));
        assert!(a.covers("k", None, "y") && a.covers("bastion-1", None, ""));
        assert!(!a.covers("192.0.2.8", None, "z"));
    }

    #[test]
    fn line_regexes() {
        let a = list(&[], &[r"for nagios from", r"^health"]);
        assert!(a.covers("1.2.3.4", None, "Failed password for nagios from 1.2.3.4"));
        assert!(!a.covers("1.2.3.4", None, "Failed password for root from 1.2.3.4"));
        assert!(!a.is_empty());
        assert!(Allowlist::default().is_empty());
    }

    #[test]
    fn what_looks_like_an_address_must_be_one() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "10.0.0.300",
            "2001:db8::/129",
            "fe80:::1",
            "a/b",
            " ",
        ] {
            assert!(IgnoreEntry::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            IgnoreEntry::parse("scanner.example.com").unwrap(),
            IgnoreEntry::Key("scanner.example.com".into())
        );
        assert!(
            IgnoreEntry::parse("10.0.0.300")
                .unwrap_err()
                .contains("not an IP address")
        );
    }
}
