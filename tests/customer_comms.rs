//! A customer message from start to finish through the built binary: an
//! internal summary and internal actions, a customer summary and customer
//! notes, no recipients and no sinks configured; ending with an outbox
//! `.eml` that parses as mail and contains none of the internal summary.

mod common;

use common::Env;
use mail_parser::MimeHeaders;

const INTERNAL_SUMMARY: &str =
    "Hydra run against db-3 sshd from 203.0.113.7; root login was enabled on the jump host.";
const CUSTOMER_SUMMARY: &str =
    "Someone tried to guess passwords on one of our servers; we stopped it within the hour.";

fn write_comms(env: &Env, toml: &str) {
    let dir = env.config_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("comms.toml"), toml).unwrap();
}

#[test]
fn a_customer_message_with_no_recipients_is_a_complete_eml_in_the_outbox_and_says_not_sent() {
    let env = Env::new();
    write_comms(&env, "contact = \"security@example.com\"\n");
    // A title with CR LF: it must never become a header.
    let id = env
        .ok(&[
            "incident",
            "new",
            "--title",
            "db-3 brute force\r\nBcc: attacker@evil.example\r\nX-Evil: 1",
            "--severity",
            "P2",
            "--summary",
            INTERNAL_SUMMARY,
            "--customer-impact",
            "None known.",
        ])
        .trim()
        .to_string();
    env.ok(&[
        "incident",
        "set",
        &id,
        "--customer-summary",
        CUSTOMER_SUMMARY,
    ]);
    env.ok(&["incident", "check", &id, "detect.siem"]);
    env.ok(&[
        "incident",
        "note",
        &id,
        "--action",
        "Blocked 203.0.113.7 on fw-2 and disabled root login on jump-1",
    ]);
    env.ok(&[
        "incident",
        "note",
        &id,
        "--customer",
        "We blocked the addresses the attempts came from.",
    ]);
    assert!(
        env.ok(&["incident", "show", &id])
            .contains(CUSTOMER_SUMMARY)
    );

    let draft = env.ok(&["notify", "draft", &id, "--audience", "customers"]);
    assert!(draft.contains(CUSTOMER_SUMMARY), "{draft}");
    assert!(draft.contains("- We blocked the addresses"), "{draft}");
    for internal in ["Hydra", "SIEM monitoring reviewed", "fw-2", "brute force"] {
        assert!(!draft.contains(internal), "{internal} leaked: {draft}");
    }
    let file = env.dir.path().join("customer.txt");
    std::fs::write(&file, &draft).unwrap();
    let sent = env.run(&[
        "notify",
        "send",
        &id,
        "--audience",
        "customers",
        "--file",
        file.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&sent.stdout);
    let err = String::from_utf8_lossy(&sent.stderr);
    assert!(sent.status.success(), "{out}{err}");
    assert!(out.contains("written to outbox, not sent"), "{out}");
    assert!(!out.contains("delivered"), "{out}");
    assert!(err.contains("nobody has received it"), "{err}");
    assert!(
        !err.contains("internal-only"),
        "nothing internal quoted: {err}"
    );
    let list = env.ok(&["notify", "list", &id]);
    assert!(list.contains("written to outbox, not sent"), "{list}");
    let shown = env.show_json(&id);
    let recorded = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "comms.delivered")
        .unwrap();
    assert!(
        recorded["detail"]
            .as_str()
            .unwrap()
            .contains("written to outbox, not sent"),
        "{recorded}"
    );

    // The outbox file: a complete message, parsed by a real mail parser.
    let outbox = env.db().with_extension("outbox");
    let eml = outbox.join(format!("{id}-000001-customers.eml"));
    let raw = std::fs::read(&eml).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        m.subject(),
        Some(format!("[{id}] Security incident notification").as_str())
    );
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("customers@recipients.invalid"));
    assert!(to.name().unwrap().contains("no recipients"), "{to:?}");
    assert_eq!(
        m.from().unwrap().first().unwrap().address(),
        Some("warroom@localhost")
    );
    assert!(m.date().is_some(), "Date");
    assert!(
        m.message_id()
            .unwrap()
            .starts_with(&format!("warroom.{id}.1.")),
        "{:?}",
        m.message_id()
    );
    assert_eq!(
        m.header_raw("MIME-Version").map(str::trim),
        Some("1.0"),
        "MIME-Version"
    );
    let ct = m.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("plain")));
    assert_eq!(ct.attribute("charset"), Some("utf-8"));
    let body = m.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(body, draft);
    assert!(body.contains(CUSTOMER_SUMMARY));
    assert!(!body.contains(INTERNAL_SUMMARY) && !body.contains("Hydra"));

    // No header came from the title: exactly the headers warroom writes.
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(!text.contains("attacker@evil.example") && !text.contains("X-Evil"));
    let mut names: Vec<String> = m
        .headers()
        .iter()
        .map(|h| h.name().to_ascii_lowercase())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "content-transfer-encoding",
            "content-type",
            "date",
            "from",
            "message-id",
            "mime-version",
            "subject",
            "to",
            "x-warroom-incident"
        ]
    );
    assert!(m.header("Bcc").is_none());

    // A second, strict parser: Python's email package with its strict
    // policy raises on any malformed header and lists defects otherwise.
    let script = "import email, email.policy, sys\n\
        m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.strict)\n\
        bad = list(m.defects) + [d for k in m.keys() for d in m[k].defects]\n\
        print(len(bad), m['To'].addresses[0].addr_spec, m['Subject'], m.get_content_type(), sep='|')\n";
    let py = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&eml)
        .output()
        .expect("python3 (its email package checks the .eml)");
    let said = String::from_utf8_lossy(&py.stdout);
    assert!(
        py.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(
        said.trim(),
        format!("0|customers@recipients.invalid|[{id}] Security incident notification|text/plain")
    );
}

#[test]
fn recipients_configured_address_the_outbox_file_and_a_quote_of_internal_text_is_warned() {
    let env = Env::new();
    write_comms(
        &env,
        "contact = \"security@example.com\"\n\
         [audiences.customers]\n\
         to = [\"Customer Desk <desk@example.org>\"]\n",
    );
    let id = env
        .ok(&[
            "incident",
            "new",
            "--title",
            "leak",
            "--severity",
            "P3",
            "--summary",
            INTERNAL_SUMMARY,
        ])
        .trim()
        .to_string();
    // Someone pasted the internal summary into a customer message.
    let file = env.dir.path().join("m.txt");
    std::fs::write(&file, format!("Dear customer,\n{INTERNAL_SUMMARY}\n")).unwrap();
    let sent = env.run(&[
        "notify",
        "send",
        &id,
        "--audience",
        "customers",
        "--file",
        file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&sent.stderr);
    assert!(sent.status.success(), "{err}");
    assert!(
        err.contains("quotes internal-only text") && err.contains("internal summary"),
        "{err}"
    );
    assert!(err.contains("line 2"), "{err}");
    let raw = std::fs::read(
        env.db()
            .with_extension("outbox")
            .join(format!("{id}-000001-customers.eml")),
    )
    .unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(
        (to.name(), to.address()),
        (Some("Customer Desk"), Some("desk@example.org"))
    );
}
