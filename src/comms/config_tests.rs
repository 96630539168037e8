//! comms.toml: a full file, sink selection, defaults, errors with
//! line and column, shares and mailboxes.

use super::*;

const SAMPLE: &str = r#"
contact = """Security Operations
security@example.com, +1 555 0100"""
organization = "Example Corp"
from = "Example Security <security@example.com>"

[alerts]
near = "80%"
escalation = ["carol", "ciso@example.com"]

[audiences.customers]
to = ["customers@example.com", "Ops List <ops@example.com>"]

[[sinks]]
name = "outbox"
kind = "outbox"
dir = "outbox"

[[sinks]]
name = "mail"
kind = "command"
argv = ["/usr/sbin/sendmail", "-t", "-oi"]
timeout = "10s"
audiences = ["customers", "regulator"]

[[sinks]]
name = "clipboard"
kind = "osc52"
"#;

#[test]
fn a_full_file_parses() {
    let dir = Path::new("/etc/warroom");
    let c = CommsConfig::from_toml(SAMPLE, dir).unwrap();
    assert_eq!(
        c.contact,
        "Security Operations\nsecurity@example.com, +1 555 0100"
    );
    assert_eq!(
        c.from.to_string(),
        "Example Security <security@example.com>"
    );
    assert!((c.near_threshold - 0.8).abs() < 1e-9);
    assert_eq!(c.escalation, vec!["carol", "ciso@example.com"]);
    assert_eq!(c.recipients(Audience::Customers).len(), 2);
    assert_eq!(
        c.recipients(Audience::Customers)[1].name.as_deref(),
        Some("Ops List")
    );
    assert!(c.recipients(Audience::Internal).is_empty());
    assert_eq!(
        c.sinks[0].kind,
        SinkKind::Outbox {
            dir: PathBuf::from("/etc/warroom/outbox")
        }
    );
    assert_eq!(
        c.sinks[1].kind,
        SinkKind::Command {
            argv: vec!["/usr/sbin/sendmail".into(), "-t".into(), "-oi".into()],
            timeout: Duration::from_secs(10)
        }
    );
    assert!(c.sinks[1].serves(Audience::Regulator) && !c.sinks[1].serves(Audience::Internal));
    assert!(!c.sinks[2].default, "OSC 52 is used only when named");
    let db = Path::new("/data/w.db");
    let names = |v: Vec<SinkConfig>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(
        names(c.select_sinks(&[], Audience::Internal, db).unwrap()),
        ["outbox"]
    );
    assert_eq!(
        names(c.select_sinks(&[], Audience::Customers, db).unwrap()),
        ["outbox", "mail"]
    );
    assert_eq!(
        names(
            c.select_sinks(&["clipboard".into()], Audience::Internal, db)
                .unwrap()
        ),
        ["clipboard"]
    );
    let err = c
        .select_sinks(&["fax".into()], Audience::Internal, db)
        .unwrap_err();
    assert!(
        err.contains("no sink 'fax'") && err.contains("outbox, mail, clipboard"),
        "{err}"
    );
}

#[test]
fn escalations_go_through_the_internal_defaults_or_the_named_sinks() {
    let db = Path::new("/data/w.db");
    let names = |v: Vec<SinkConfig>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
    let c = CommsConfig::from_toml(SAMPLE, Path::new("/etc/warroom")).unwrap();
    // "mail" serves customers and regulator only; OSC 52 never.
    assert_eq!(names(c.escalation_sinks(db)), ["outbox"]);
    let named = SAMPLE.replace("[alerts]\n", "[alerts]\nsinks = [\"mail\", \"outbox\"]\n");
    let c = CommsConfig::from_toml(&named, Path::new("/etc/warroom")).unwrap();
    assert_eq!(names(c.escalation_sinks(db)), ["mail", "outbox"]);
    let c = CommsConfig::builtin(Path::new("/cfg"));
    assert_eq!(names(c.escalation_sinks(db)), ["outbox"]);

    let people = [crate::domain::Person {
        handle: "dana".into(),
        name: "Dana Scully".into(),
        contact: "dana@example.com".into(),
        roles: Vec::new(),
        on_call: false,
    }];
    let m = |w: &str| CommsConfig::escalation_mailbox(w, &people).map(|m| m.to_string());
    assert_eq!(m("ciso@example.com").as_deref(), Some("ciso@example.com"));
    assert_eq!(m("dana").as_deref(), Some("Dana Scully <dana@example.com>"));
    assert_eq!(m("erin"), None, "not on the roster: plain text");
}

#[test]
fn without_sinks_messages_go_to_an_outbox_beside_the_database() {
    let c = CommsConfig::builtin(Path::new("/cfg"));
    let sinks = c.effective_sinks(Path::new("/data/warroom.db"));
    assert_eq!(
        sinks[0].kind,
        SinkKind::Outbox {
            dir: PathBuf::from("/data/warroom.outbox")
        }
    );
    assert_eq!(c.near_threshold, DEFAULT_NEAR_THRESHOLD);
}

fn error_at(text: &str) -> (String, usize, usize) {
    let e = CommsConfig::from_toml(text, Path::new("/c")).unwrap_err();
    let (l, c) = e.line_col(text).expect("position");
    (e.message, l, c)
}

#[test]
fn errors_name_line_and_column() {
    let (msg, l, c) = error_at("[alerts]\nnear = \"175%\"\n");
    assert!(msg.contains("alerts.near"), "{msg}");
    assert_eq!((l, c), (2, 8));
    let (msg, l, _) = error_at("[[sinks]]\nname = \"x\"\nkind = \"pigeon\"\n");
    assert!(msg.contains("kind 'pigeon'"), "{msg}");
    assert_eq!(l, 3);
    let (msg, l, _) = error_at("[[sinks]]\nname = \"x\"\nkind = \"command\"\nargv = []\n");
    assert!(msg.contains("argv must name a program"), "{msg}");
    assert_eq!(l, 4);
    let (msg, l, _) = error_at("[audiences.customers]\nto = [\"not an address\"]\n");
    assert!(msg.contains("not an email address"), "{msg}");
    assert_eq!(l, 2);
    let (msg, l, _) = error_at("[audiences.press]\nto = []\n");
    assert!(msg.contains("audience"), "{msg}");
    assert_eq!(l, 1);
    let (msg, _, _) = error_at("colour = 1\n");
    assert!(msg.contains("colour"), "{msg}");
    let twice =
        "[[sinks]]\nname = \"a\"\nkind = \"osc52\"\n[[sinks]]\nname = \"a\"\nkind = \"osc52\"\n";
    let (msg, l, _) = error_at(twice);
    assert!(msg.contains("defined twice"), "{msg}");
    assert_eq!(l, 5);
}

#[test]
fn shares_parse_in_every_spelling() {
    assert_eq!(
        parse_share(&toml::Value::String("75%".into())).unwrap(),
        0.75
    );
    assert_eq!(parse_share(&toml::Value::Float(0.5)).unwrap(), 0.5);
    assert_eq!(parse_share(&toml::Value::Integer(90)).unwrap(), 0.9);
    assert!(parse_share(&toml::Value::Integer(100)).is_err());
    assert!(parse_share(&toml::Value::String("soon".into())).is_err());
}

#[test]
fn mailboxes_parse() {
    let m = Mailbox::parse("\"Ops\" <ops@example.com>").unwrap();
    assert_eq!(
        (m.name.as_deref(), m.address.as_str()),
        (Some("Ops"), "ops@example.com")
    );
    assert_eq!(m.domain(), "example.com");
    assert!(Mailbox::parse("ops@").is_err());
    assert!(Mailbox::parse("a b@example.com").is_err());
    assert!(Mailbox::parse("x <a@b@c>").is_err());
    assert!(Mailbox::parse("Zoë <zoe@example.org>").is_ok());
    assert!(Mailbox::parse("zoë@example.org").is_err());
    assert!(Mailbox::parse("a@exämple.org").is_err());
}
