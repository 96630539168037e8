//! Loading rule files: the seed's object, problems with their places,
//! allowlists, sequences and distinct counts, the shipped rules, Sigma.

use super::*;
use std::time::Duration;

const SEED: &str = r#"{"rule": "Multiple failed logins", "condition": "failed_logins > 10 in 5 minutes", "action": "create_incident", "severity": "high", "notify": ["security-team@example.com"]}"#;

fn load(files: &[(&str, &str)]) -> RuleSet {
    let mut set = RuleSet::default();
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .map(|(n, t)| (PathBuf::from(n), t.to_string()))
        .collect();
    set.add_texts(&texts);
    set
}

const EVENTS: &str = r#"
events:
  failed_logins:
    description: sshd rejected a login
    match:
      - 'Failed (?:password|none) for (?:invalid user )?(?P<user>\S+) from (?P<src>\S+)'
"#;

#[test]
fn the_seed_rule_object_loads_verbatim() {
    let set = load(&[("events.yml", EVENTS), ("seed.json", SEED)]);
    assert_eq!(set.problems, vec![], "{:?}", set.problems);
    let r = &set.rules[0];
    assert_eq!(r.name, "Multiple failed logins");
    assert_eq!(
        r.threshold,
        Some(Threshold {
            comparison: Comparison::Greater,
            count: 10,
            window: Duration::from_secs(300)
        })
    );
    assert_eq!(r.severity, Severity::P2);
    assert!(r.create_incident);
    assert_eq!(r.notify, ["security-team@example.com"]);
    assert_eq!(
        r.group_by,
        GroupBy::Capture("src".into()),
        "per source by default"
    );
}

#[test]
fn the_seed_object_inside_a_rules_list_loads_too() {
    let text = format!("{EVENTS}rules:\n  - {SEED}\n");
    let set = load(&[("r.yml", &text)]);
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    assert_eq!(set.rules.len(), 1);
}

#[test]
fn errors_carry_file_line_column_and_one_bad_rule_spares_the_others() {
    let text = r#"events:
  failed_logins:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
  broken:
    match: '(unclosed'
rules:
  - rule: good
    condition: failed_logins > 5 in 1 minute
  - rule: bad severity
    condition: failed_logins
    severity: P9
  - rule: bad condition
    condition: failed_logins ~ 5
  - rule: unknown event
    condition: nothing_like_it > 1 in 1m
  - rule: bad group
    condition: failed_logins > 1 in 1m
    group_by: port
"#;
    let set = load(&[("r.yml", text)]);
    assert_eq!(
        set.rules
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["good"]
    );
    let msgs: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
    let expect = [
        "r.yml:5:12: broken: bad regex",
        "r.yml:11:15: bad severity: invalid severity 'P9'",
        "r.yml:13:16: bad condition: cannot read condition",
        "r.yml:15:16: unknown event: condition counts unknown event 'nothing_like_it'",
        "r.yml:18:15: bad group: group_by 'port' is not a named capture",
    ];
    for e in expect {
        assert!(
            msgs.iter().any(|m| m.starts_with(e)),
            "missing {e:?} in {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), expect.len(), "{msgs:#?}");
}

#[test]
fn allowlists_load_and_bad_entries_are_located() {
    let text = format!(
        "{EVENTS}ignore: [10.0.0.0/8, 'bastion-1']\nignore_lines: ['for nagios from']\nrules:\n  - rule: good\n    condition: failed_logins\n    ignore: ['2001:db8::/32', 192.0.2.7]\n    ignore_lines: 'scanner'\n  - rule: bad range\n    condition: failed_logins\n    ignore: [10.0.0.0/33]\n  - rule: bad regex\n    condition: failed_logins\n    ignore_lines: ['(unclosed']\n  - rule: bad address\n    condition: failed_logins\n    ignore:\n      - 10.0.0.300\n"
    );
    let set = load(&[("r.yml", &text)]);
    let msgs: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
    let expect = [
        "r.yml:16:14: bad range: '10.0.0.0/33' is not an address range",
        "r.yml:19:20: bad regex: bad regex",
        "r.yml:23:9: bad address: '10.0.0.300' is not an IP address",
    ];
    for e in expect {
        assert!(
            msgs.iter().any(|m| m.starts_with(e)),
            "missing {e:?} in {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), expect.len(), "{msgs:#?}");
    assert_eq!(set.rules.len(), 1, "the bad ones are refused");
    assert!(set.ignore.covers("10.9.9.9", None, ""));
    assert!(set.ignore.covers("bastion-1", None, ""));
    assert!(
        set.ignore
            .covers("1.2.3.4", None, "Failed password for nagios from 1.2.3.4")
    );
    assert!(
        !set.ignore.covers("192.0.2.7", None, ""),
        "a rule's own, not global"
    );
    let own = &set.rules[0].ignore;
    assert!(own.covers("192.0.2.7", None, "") && own.covers("2001:db8::9", None, ""));
    assert!(own.covers("1.1.1.1", None, "a scanner line"));
    assert!(!own.covers("10.9.9.9", None, ""));
    // A bad global entry is a problem too, with its place.
    let set = load(&[("g.yml", &format!("{EVENTS}ignore: [fe80::/200]\n"))]);
    assert!(
        set.problems[0]
            .to_string()
            .starts_with("g.yml:7:10: 'fe80::/200' is not an address range"),
        "{:?}",
        set.problems
    );
}

#[test]
fn sequences_and_distinct_counts_are_checked_against_their_events() {
    let text = format!(
        "{EVENTS}  accepted:\n    match: 'Accepted \\S+ for (?P<user>\\S+) from (?P<src>\\S+)'\n  cron:\n    match: 'CRON (?P<user>\\S+)'\nrules:\n  - rule: worked\n    condition: failed_logins >= 5 in 10m then accepted within 10m\n  - rule: many\n    condition: failed_logins distinct(user) >= 10 in 10m\n  - rule: no such field\n    condition: failed_logins distinct(port) >= 10 in 10m\n  - rule: no such next\n    condition: failed_logins >= 5 in 10m then nothing within 1m\n  - rule: next lacks the key\n    condition: failed_logins >= 5 in 10m then cron within 1m\n"
    );
    let set = load(&[("s.yml", &text)]);
    let msgs: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
    let expect = [
        "s.yml:17:16: no such field: distinct(port): 'port' is not a named capture of event 'failed_logins'",
        "s.yml:19:16: no such next: condition's 'then' names unknown event 'nothing'",
        "s.yml:21:16: next lacks the key: event 'cron' after 'then' does not capture 'src'",
    ];
    for e in expect {
        assert!(
            msgs.iter().any(|m| m.starts_with(e)),
            "missing {e:?} in {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), expect.len(), "{msgs:#?}");
    let worked = &set.rules[0];
    let accepted = set.event_index("accepted").unwrap();
    assert_eq!(
        worked.counted,
        Counted::Then {
            event: accepted,
            within: Duration::from_secs(600)
        }
    );
    assert_eq!(set.rules[1].counted, Counted::Distinct("user".into()));
    // Grouped by user, which both events capture: fine.
    let text = format!(
        "{EVENTS}  accepted:\n    match: 'Accepted \\S+ for (?P<user>\\S+)'\nrules:\n  - rule: by user\n    condition: failed_logins >= 5 in 10m then accepted within 10m\n    group_by: user\n"
    );
    let set = load(&[("u.yml", &text)]);
    assert_eq!(set.problems, vec![], "{:#?}", set.problems);
}

#[test]
fn yaml_syntax_errors_are_located() {
    let set = load(&[("bad.yml", "rules:\n  - rule: x\n    condition: [unclosed\n")]);
    assert_eq!(set.problems.len(), 1);
    let p = &set.problems[0];
    assert!(p.to_string().starts_with("bad.yml:"), "{p}");
    assert!(p.message.contains("YAML syntax error"), "{p}");
    assert!(p.at.line >= 3, "{p}");
}

#[test]
fn unknown_keys_and_actions_are_refused() {
    let text = format!(
        "{EVENTS}rules:\n  - rule: r\n    condition: failed_logins\n    action: [create_incident, page_everyone]\n    colour: red\n"
    );
    let set = load(&[("r.yml", &text)]);
    let msgs: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("unknown action 'page_everyone'")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("unknown key 'colour'")),
        "{msgs:?}"
    );
    assert!(set.rules.is_empty());
}

#[test]
fn notify_action_without_recipients_raises_an_alert_for_nobody() {
    let text = format!(
        "{EVENTS}rules:\n  - rule: r\n    condition: failed_logins\n    action: notify\n  - rule: s\n    condition: failed_logins\n    notify: [a@example.com]\n  - rule: t\n    condition: failed_logins\n"
    );
    let set = load(&[("r.yml", &text)]);
    assert_eq!(set.problems, vec![], "{:#?}", set.problems);
    let r = &set.rules[0];
    assert!(r.alert && r.notify.is_empty() && !r.create_incident);
    let s = &set.rules[1];
    assert!(s.alert && s.create_incident);
    assert_eq!(s.notify, ["a@example.com"]);
    let t = &set.rules[2];
    assert!(!t.alert && t.notify.is_empty());
}

#[test]
fn the_shipped_rules_load_cleanly() {
    let set = RuleSet::builtin();
    assert_eq!(set.problems, vec![], "{:#?}", set.problems);
    assert!(set.rules.len() >= 10);
    for r in &set.rules {
        assert!(!r.description.is_empty(), "{} says what it detects", r.name);
        assert!(!r.why.is_empty(), "{} says why its threshold", r.name);
    }
}

#[test]
fn sigma_unsupported_constructs_are_named() {
    let field = "title: t\nlogsource: {product: linux}\ndetection:\n  selection:\n    Image|endswith: '/bash'\n  condition: selection\nlevel: high\n";
    let set = load(&[("f.yml", field)]);
    assert_eq!(set.rules.len(), 0);
    let m = set.problems[0].to_string();
    assert!(m.starts_with("f.yml:5:5: t: selection 'selection': unsupported Sigma construct: field selection 'Image|endswith'"), "{m}");
    let agg = "title: t\ndetection:\n  selection: ['x']\n  condition: selection | count() > 5\n";
    let set = load(&[("a.yml", agg)]);
    assert!(
        set.problems[0].to_string().contains("aggregations"),
        "{:?}",
        set.problems
    );
}

#[test]
fn incident_grouping_is_read_and_an_unknown_one_is_refused_where_it_stands() {
    let text = format!(
        "{EVENTS}rules:\n  - rule: r\n    condition: failed_logins\n    incident: per_rule\n  - rule: s\n    condition: failed_logins\n  - rule: t\n    condition: failed_logins\n    incident: campaign\n"
    );
    let set = load(&[("r.yml", &text)]);
    assert_eq!(set.rules.len(), 2);
    assert_eq!(set.rules[0].incident, IncidentGrouping::PerRule);
    assert_eq!(set.rules[1].incident, IncidentGrouping::PerKey);
    let p = &set.problems[0];
    assert!(
        p.message.contains("unknown incident grouping 'campaign'"),
        "{p}"
    );
    assert!(p.at.line > 3, "{p}");
    let shipped = RuleSet::builtin();
    let grouping = |name: &str| {
        shipped
            .rules
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.incident)
    };
    assert_eq!(
        grouping("Multiple failed logins"),
        Some(IncidentGrouping::PerRule)
    );
    assert_eq!(
        grouping("Invalid user probing"),
        Some(IncidentGrouping::PerRule)
    );
    assert_eq!(
        grouping("Root login over SSH"),
        Some(IncidentGrouping::PerKey)
    );
}
