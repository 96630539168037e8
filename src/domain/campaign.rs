//! How a rule's detections become incidents (one per key, or one campaign
//! per rule or per rule and host), how a campaign's title counts its
//! sources, and the bounded form its matching lines are kept in. Pure.

use std::fmt;

/// `incident:` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncidentGrouping {
    /// One incident per key (a single root login).
    #[default]
    PerKey,
    /// Every key of the rule joins one open incident (a brute force from
    /// thousands of addresses is one attack).
    PerRule,
    /// One open incident per rule and host the lines came from.
    PerHost,
}

impl IncidentGrouping {
    pub const NAMES: &'static str = "per_key, per_rule, per_host";

    pub fn parse(s: &str) -> Option<IncidentGrouping> {
        match s.trim() {
            "per_key" => Some(IncidentGrouping::PerKey),
            "per_rule" => Some(IncidentGrouping::PerRule),
            "per_host" => Some(IncidentGrouping::PerHost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentGrouping::PerKey => "per_key",
            IncidentGrouping::PerRule => "per_rule",
            IncidentGrouping::PerHost => "per_host",
        }
    }

    /// Several keys share one incident.
    pub fn is_campaign(self) -> bool {
        self != IncidentGrouping::PerKey
    }
}

impl fmt::Display for IncidentGrouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Matching lines kept as evidence per incident unless its rule says
/// otherwise (`evidence_lines`): the first ones and the latest ones; the
/// rest are counted.
pub const DEFAULT_EVIDENCE_LINES: usize = 20;
/// The most `evidence_lines` may ask for: what the engine and a detection
/// row keep of a detection's lines.
pub const EVIDENCE_LINES_LIMIT: usize = 50;
/// The first lines kept by default...
pub const FIRST_LINES: usize = DEFAULT_EVIDENCE_LINES;
/// ... and the latest ones.
pub const LATEST_LINES: usize = DEFAULT_EVIDENCE_LINES;
/// New keys named in one digest, at most (the rest are counted).
pub const DIGEST_KEYS: usize = 20;
/// A digest comes at most this often (`digest:` below it is refused)...
pub const DIGEST_MIN_SECONDS: u64 = 60;
/// ... and at least this often (a day).
pub const DIGEST_MAX_SECONDS: u64 = 86_400;
/// A detection's timeline and evidence are brought up to date at most this
/// often (and always when the watcher stops).
pub const REPORT_EVERY_SECONDS: i64 = 60;

/// "addresses" for `src`, "users" for `user`...: what a campaign's keys are.
fn key_noun(group_by: &str, n: u64) -> String {
    let (one, many) = match group_by {
        "src" | "ip" | "src_ip" | "addr" | "address" => ("address", "addresses"),
        "user" | "username" | "account" => ("user", "users"),
        "host" => ("host", "hosts"),
        other => return format!("{other} value{}", if n == 1 { "" } else { "s" }),
    };
    if n == 1 { one } else { many }.to_string()
}

/// A number with thousands separators: 5,000.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A campaign incident's title: "SSH brute force against bastion-1 from
/// 5,000 addresses" (the host for per-host campaigns).
pub fn campaign_title(rule: &str, group_by: &str, host: Option<&str>, keys: u64) -> String {
    let against = host
        .filter(|h| !h.is_empty())
        .map(|h| format!(" against {h}"))
        .unwrap_or_default();
    format!(
        "{rule}{against} from {} {}",
        thousands(keys),
        key_noun(group_by, keys)
    )
}

/// The bounded excerpt of an incident's matching lines: the first lines,
/// how many are not kept, and the latest lines.
pub fn excerpt_text(first: &[String], latest: &[String], not_kept: u64) -> String {
    let mut out = first.join("\n");
    if not_kept > 0 {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "[... {} more matching line(s) not kept ...]",
            thousands(not_kept)
        ));
    }
    if !latest.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&latest.join("\n"));
    }
    out
}

/// The text of a digest alert: how many new keys joined the campaign
/// since `since`, the first [`DIGEST_KEYS`] of them, and how many more.
pub fn digest_text(
    rule: &str,
    group_by: &str,
    title: &str,
    keys: &[String],
    total: u64,
    since: &str,
) -> String {
    let shown: Vec<&str> = keys.iter().take(DIGEST_KEYS).map(String::as_str).collect();
    let more = total.saturating_sub(shown.len() as u64);
    let mut text = format!(
        "rule \"{rule}\": {} new {} joined \"{title}\" since {since}: {}",
        thousands(total),
        key_noun(group_by, total),
        shown.join(", ")
    );
    if more > 0 {
        text.push_str(&format!(" and {} more", thousands(more)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_count_sources_with_separators_and_name_the_host() {
        assert_eq!(
            campaign_title("SSH brute force", "src", Some("bastion-1"), 5000),
            "SSH brute force against bastion-1 from 5,000 addresses"
        );
        assert_eq!(
            campaign_title("Probe", "src", None, 1),
            "Probe from 1 address"
        );
        assert_eq!(
            campaign_title("Spray", "user", None, 1_234_567),
            "Spray from 1,234,567 users"
        );
        assert_eq!(campaign_title("X", "port", None, 2), "X from 2 port values");
    }

    #[test]
    fn groupings_parse_by_name_only() {
        assert_eq!(
            IncidentGrouping::parse("per_rule"),
            Some(IncidentGrouping::PerRule)
        );
        assert_eq!(IncidentGrouping::parse("campaign"), None);
        assert!(!IncidentGrouping::default().is_campaign());
    }

    #[test]
    fn a_digest_names_a_bounded_number_of_keys_and_counts_the_rest() {
        let keys: Vec<String> = (1..=25).map(|i| format!("10.0.0.{i}")).collect();
        let t = digest_text(
            "Brute",
            "src",
            "Brute from 40 addresses",
            &keys,
            40,
            "10:00",
        );
        assert!(
            t.starts_with("rule \"Brute\": 40 new addresses joined \"Brute from 40 addresses\" since 10:00: 10.0.0.1, "),
            "{t}"
        );
        assert!(t.contains("10.0.0.20 and 20 more"), "{t}");
        assert!(!t.contains("10.0.0.21"), "{t}");
        let one = digest_text("Spray", "user", "T", &keys[..1], 1, "x");
        assert!(
            one.ends_with("1 new user joined \"T\" since x: 10.0.0.1"),
            "{one}"
        );
    }

    #[test]
    fn an_excerpt_says_how_many_lines_are_left_out() {
        let l = |s: &str| s.to_string();
        assert_eq!(
            excerpt_text(&[l("a"), l("b")], &[l("y"), l("z")], 1000),
            "a\nb\n[... 1,000 more matching line(s) not kept ...]\ny\nz"
        );
        assert_eq!(excerpt_text(&[l("a")], &[], 0), "a");
    }
}
