//! The bridge call, in the console only, through a real pseudo-terminal:
//! declare a P1 for a possible exfiltration, name the commander, hand
//! security and comms to people on the roster, tick the first checklist
//! items, say what customers are told, and send the first customer
//! notice. Structural keys (every key that is not typed text) are counted
//! and bounded; the notice ends as a complete `.eml` in the outbox that a
//! mail parser reads and that carries none of the internal summary.

mod common;

use common::Env;
use common::pty::{Console, find_id, path_str};

const TITLE: &str = "Possible exfiltration from the customer database";
const INTERNAL: &str = "Egress spike from db-7 to AS64500 via the backup VPN; Hydra seen";
const FOR_CUSTOMERS: &str = "We are investigating unusual activity on one of our databases.";
const IMPACT: &str = "None known so far; no action is needed on your side.";
const ACTIONS: &str = "We closed the connections the activity came through.";

/// A console whose structural keys are counted; typed text is not.
struct Counted {
    c: Console,
    keys: usize,
}

impl Counted {
    fn key(&mut self, bytes: &[u8]) {
        self.keys += 1;
        self.c.send(bytes);
    }

    fn typed(&mut self, text: &str) {
        self.c.type_text(text);
    }

    fn wait(&mut self, text: &str) -> String {
        self.c.wait_text(text)
    }
}

#[test]
fn the_bridge_call_in_at_most_thirty_keys_ends_with_a_customer_eml_without_internal_text() {
    let env = Env::new();
    let outbox = env.dir.path().join("outbox");
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(
        env.config_dir().join("comms.toml"),
        format!(
            "contact = \"security@example.com\"\n\n[[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"{}\"\n",
            path_str(&outbox)
        ),
    )
    .unwrap();
    for (handle, name, roles) in [
        ("alice", "Alice Chen", "commander"),
        ("bob", "Bob Okafor", "security"),
        ("carol", "Carol Diaz", "comms"),
    ] {
        env.ok(&[
            "roster",
            "add",
            handle,
            "--name",
            name,
            "--contact",
            &format!("{handle}@example.com"),
            "--roles",
            roles,
        ]);
    }
    let mut k = Counted {
        c: env.console(120, 40, &[]),
        keys: 0,
    };
    k.wait("No incidents yet");

    // Declare: title, severity 1, the internal summary.
    k.key(b"n");
    k.wait("New incident");
    k.typed(TITLE);
    k.key(b"\t");
    k.key(b"1");
    k.key(b"\t");
    k.typed(INTERNAL);
    k.key(b"\r");
    let screen = k.wait("Checklist");
    let id = find_id(&screen).expect("incident id on screen");

    // The commander, from the roster.
    k.key(b"a");
    k.wait("Assign role");
    k.typed("alice");
    k.key(b"\r");
    k.wait("commander assigned: alice");

    // Security and comms, from the roles pane.
    k.key(b"\t");
    k.key(b"j");
    k.key(b"a");
    k.wait("Assign role");
    k.typed("bob");
    k.key(b"\r");
    k.wait("security assigned: bob");
    k.key(b"j");
    k.key(b"j");
    k.key(b"a");
    k.wait("Assign role");
    k.typed("carol");
    k.key(b"\r");
    k.wait("comms assigned: carol");

    // The first two checklist items.
    k.key(b"\x1b[Z"); // Shift-Tab: back to the checklist
    k.key(b" ");
    k.wait("done: SIEM monitoring reviewed");
    k.key(b"j");
    k.key(b" ");
    k.wait("done: Automated alerts correlated");

    // What customers are told, apart from the internal summary.
    k.key(b"C");
    k.typed(FOR_CUSTOMERS);
    k.key(b"\r");
    k.wait("For customers");

    // The first customer notice.
    k.key(b"c");
    k.wait("Write a message");
    k.key(b"\r");
    k.wait(FOR_CUSTOMERS);
    // The editor opens on the first placeholder: Ctrl-K takes it away,
    // the text goes in its place; Ctrl-N goes to the next one.
    k.key(b"\x0b");
    k.typed(IMPACT);
    k.key(b"\x0e");
    k.key(b"\x0b");
    k.typed(ACTIONS);
    k.wait(ACTIONS);
    k.key(b"\x13"); // Ctrl-S
    k.wait("Send this message?");
    k.key(b"\r");
    k.wait("outbox");

    assert!(k.keys <= 30, "{} structural keys", k.keys);

    // The record: roles, ticks, the customer summary and the message.
    let v = env.show_json(&id);
    assert_eq!(v["severity"], "P1");
    assert_eq!(v["roles"]["commander"]["person"], "alice");
    assert_eq!(v["roles"]["security"]["person"], "bob");
    assert_eq!(v["roles"]["comms"]["person"], "carol");
    assert_eq!(v["customer_summary"], FOR_CUSTOMERS);
    let done = v["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["state"] == "done")
        .count();
    assert_eq!(done, 2, "{v}");

    // The outbox: one complete mail message, read by a real parser.
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(path_str(&files[0]).ends_with(".eml"), "{files:?}");
    let raw = std::fs::read(&files[0]).unwrap();
    let mail = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("the outbox file parses as mail");
    assert!(mail.subject().is_some_and(|s| !s.is_empty()));
    let body = mail.body_text(0).expect("a text body").into_owned();
    for told in [FOR_CUSTOMERS, IMPACT, ACTIONS] {
        assert!(body.contains(told), "{told} missing: {body}");
    }
    assert!(!body.contains("[FILL IN"), "{body}");
    for internal in [
        INTERNAL,
        "AS64500",
        "Hydra",
        "backup VPN",
        "SIEM monitoring reviewed",
    ] {
        assert!(!body.contains(internal), "{internal} leaked: {body}");
        let whole = String::from_utf8_lossy(&raw);
        assert!(!whole.contains(internal), "{internal} leaked: {whole}");
    }
    // Nobody was sent it: the record says so plainly.
    let list = env.ok(&["notify", "list", &id]);
    assert!(list.contains("written to outbox, not sent"), "{list}");
    k.c.type_text("q");
}
