//! The comms room through the real binary on real SQLite files: templates,
//! sending through each sink, failed deliveries and retries, clock effects,
//! and alerts raised once across processes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{Env, assert_fails};
use serde_json::Value;

const T0: &str = "2024-01-15T14:30:00Z";

/// The test environment with a fixed clock and a config dir we write to.
struct Room {
    env: Env,
}

impl Room {
    fn new() -> Room {
        let r = Room { env: Env::new() };
        std::fs::create_dir_all(r.config_dir()).unwrap();
        r
    }

    fn dir(&self) -> &Path {
        self.env.dir.path()
    }

    /// `$XDG_CONFIG_HOME/warroom` of the sandbox.
    fn config_dir(&self) -> PathBuf {
        self.dir().join("xdg-config/warroom")
    }

    fn write_config(&self, toml: &str) {
        std::fs::write(self.config_dir().join("comms.toml"), toml).unwrap();
    }

    /// The shipped policy with one escalation step: comms.toml's contacts
    /// at the breach, repeating only after a day (these tests are about
    /// delivery, not the steps).
    fn contacts_only_escalation(&self) {
        let shipped = include_str!("../assets/policy.toml");
        let levels = shipped
            .split("\n# Escalation while")
            .next()
            .expect("the shipped policy");
        let policy = format!("{levels}\n[[escalation]]\nnotify = []\nwait = \"24h\"\n");
        std::fs::write(self.config_dir().join("policy.toml"), policy).unwrap();
    }

    fn cmd_at(&self, now: &str) -> Command {
        let mut c = self.env.cmd();
        c.env("WARROOM_NOW", now);
        c
    }

    fn run_at(&self, now: &str, args: &[&str]) -> Output {
        self.cmd_at(now).args(args).output().expect("run warroom")
    }

    fn ok_at(&self, now: &str, args: &[&str]) -> String {
        let out = self.run_at(now, args);
        assert!(
            out.status.success(),
            "warroom {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn json_at(&self, now: &str, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok_at(now, &a)).expect("json")
    }

    fn incident(&self, severity: &str, title: &str) -> String {
        self.ok_at(
            T0,
            &[
                "incident",
                "new",
                "--title",
                title,
                "--severity",
                severity,
                "--summary",
                "Repeated failed logins against the login API from one address.",
                "--customer-impact",
                "Some customers cannot log in.",
            ],
        )
        .trim()
        .to_string()
    }

    fn message_file(&self, name: &str, body: &str) -> PathBuf {
        let p = self.dir().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }
}

/// The arguments of `notify send ID --audience AUDIENCE --file FILE`.
fn send_args<'a>(id: &'a str, audience: &'a str, file: &'a Path) -> [&'a str; 7] {
    let file = file.to_str().expect("a UTF-8 path");
    ["notify", "send", id, "--audience", audience, "--file", file]
}

fn at(minutes: i64) -> String {
    let t: chrono::DateTime<chrono::Utc> = T0.parse().unwrap();
    (t + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn clock<'a>(show: &'a Value, kind: &str) -> &'a Value {
    show["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {}", show["clocks"]))
}

#[test]
fn every_template_renders_for_every_severity_and_the_customer_one_has_every_field() {
    let r = Room::new();
    r.write_config("contact = \"Security Operations: security@example.com, +1 555 0100\"\n");
    let cadence = [
        ("P1", "Critical", "1 hour"),
        ("P2", "High", "2 hours"),
        ("P3", "Medium", "8 hours"),
        ("P4", "Low", "24 hours"),
    ];
    for (sev, label, every) in cadence {
        let id = r.incident(sev, &format!("Login API under attack ({sev})"));
        r.ok_at(&at(2), &["incident", "check", &id, "detect.siem"]);
        r.ok_at(
            &at(3),
            &[
                "incident",
                "note",
                &id,
                "--action",
                "Blocked 203.0.113.7 at the edge",
            ],
        );
        r.ok_at(
            &at(4),
            &["incident", "note", &id, "an ordinary note, not an action"],
        );
        // What customers are told is written for them.
        r.ok_at(
            &at(4),
            &[
                "incident",
                "set",
                &id,
                "--customer-summary",
                "Some sign-ins failed while we stopped an attack on our login service.",
            ],
        );
        r.ok_at(
            &at(4),
            &[
                "incident",
                "note",
                &id,
                "--customer",
                "We blocked the address the attack came from.",
            ],
        );
        for t in ["customer", "internal", "executive", "regulator"] {
            let out = r.ok_at(&at(5), &["notify", "draft", &id, "--template", t]);
            assert!(out.contains(&id), "{t} {sev}: {out}");
            assert!(!out.contains("{{") && !out.contains("{%"), "{t}: {out}");
        }
        let customer = r.ok_at(&at(5), &["notify", "draft", &id, "--audience", "customers"]);
        let expected = format!(
            "SECURITY INCIDENT NOTIFICATION\n\
             \n\
             Incident ID: {id}\n\
             Severity: {sev} - {label}\n\
             Status: Investigating\n\
             Date Detected: 2024-01-15 14:30 UTC\n\
             \n\
             SUMMARY:\n\
             Some sign-ins failed while we stopped an attack on our login service.\n\
             \n\
             CUSTOMER IMPACT:\n\
             Some customers cannot log in.\n\
             \n\
             ACTIONS TAKEN:\n\
             - We blocked the address the attack came from.\n\
             \n\
             NEXT UPDATE:\n\
             Within {every} or sooner if status changes\n\
             \n\
             CONTACT:\n\
             Security Operations: security@example.com, +1 555 0100\n"
        );
        assert_eq!(customer, expected);
        // The internal update still has the internal summary and actions.
        let internal = r.ok_at(&at(5), &["notify", "draft", &id, "--audience", "internal"]);
        assert!(internal.contains("Repeated failed logins"), "{internal}");
        assert!(internal.contains("- 2024-01-15 14:32 UTC  SIEM monitoring reviewed"));
    }
}

#[test]
fn broken_templates_and_config_name_file_line_and_problem() {
    let r = Room::new();
    let id = r.incident("P2", "Login API down");
    let templates = r.config_dir().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let file = templates.join("customer.txt");

    std::fs::write(&file, "Hello\n{% if drill %}\nno end tag\n").unwrap();
    let out = r.run_at(T0, &["notify", "draft", &id, "--template", "customer"]);
    assert_fails(&out, 1, &format!("{}:", file.display()));
    assert_fails(&out, 1, "syntax error");

    std::fs::write(&file, "Hello\n\nDear {{ customer_name }},\n").unwrap();
    let out = r.run_at(T0, &["notify", "draft", &id, "--template", "customer"]);
    assert_fails(
        &out,
        1,
        &format!("{}:3: unknown field 'customer_name'", file.display()),
    );

    // The other templates still work, and an unknown name is bad input.
    r.ok_at(T0, &["notify", "draft", &id, "--template", "internal"]);
    let out = r.run_at(T0, &["notify", "draft", &id, "--template", "press"]);
    assert_fails(&out, 2, "no such template");

    std::fs::write(
        r.config_dir().join("comms.toml"),
        "contact = \"x\"\n[[sinks]]\nname = \"mail\"\nkind = \"pigeon\"\n",
    )
    .unwrap();
    let out = r.run_at(T0, &["notify", "list", &id]);
    assert_fails(&out, 1, "comms.toml:4:8: sink 'mail': kind 'pigeon'");
}

#[test]
fn a_runaway_template_fails_fast_naming_file_and_limit() {
    let r = Room::new();
    let id = r.incident("P2", "Login API down");
    let templates = r.config_dir().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let file = templates.join("customer.txt");
    std::fs::write(
        &file,
        "Hello\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n",
    )
    .unwrap();
    // Without a bound this ran for ten minutes and took 4.4 GB.
    let out = r.run_at(T0, &["notify", "draft", &id, "--template", "customer"]);
    assert_fails(&out, 1, &format!("{}:2: stopped after", file.display()));
    assert_fails(&out, 1, "steps, the most one render may take");

    std::fs::write(
        &file,
        "{% for a in range(99999) %}{{ title * 100 }}{% endfor %}\n",
    )
    .unwrap();
    let out = r.run_at(T0, &["notify", "draft", &id, "--template", "customer"]);
    assert_fails(
        &out,
        1,
        &format!("{}: the output grew past", file.display()),
    );
}

#[test]
fn the_outbox_gets_a_complete_eml_with_the_recipients_or_a_placeholder() {
    let r = Room::new();
    let outbox = r.dir().join("outbox");
    r.write_config(&format!(
        "from = \"Sécurité Exemple <secu@example.com>\"\n\
         [audiences.customers]\n\
         to = [\"Zoë Client <zoe@example.org>\", \"ops@example.org\"]\n\
         [[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"{}\"\n",
        outbox.display()
    ));
    let id = r.incident("P2", "Login API down");
    let body = "Bonjour,\nnous enquêtons sur un incident; une ligne assez longue pour que l'encodage la coupe en plusieurs morceaux.\n";
    let f = r.message_file("m.txt", body);
    let out = r.ok_at(&at(10), &send_args(&id, "customers", &f));
    assert!(out.contains("written to outbox, not sent"), "{out}");

    let eml = outbox.join(format!("{id}-000001-customers.eml"));
    let raw = std::fs::read(&eml).unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.is_ascii(), "non-ASCII is encoded: {text}");
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "CRLF line ends only"
    );
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    for h in [
        "Date: ",
        "From: ",
        "To: ",
        "Subject: ",
        "Message-ID: ",
        "MIME-Version: 1.0",
    ] {
        assert!(
            head.contains(&format!("\r\n{h}")) || head.starts_with(h),
            "{h} in {head}"
        );
    }
    assert!(
        head.contains("Content-Type: text/plain; charset=\"utf-8\""),
        "{head}"
    );

    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        m.subject(),
        Some(format!("[{id}] Security incident notification").as_str())
    );
    assert_eq!(
        m.from().unwrap().first().unwrap().name(),
        Some("Sécurité Exemple")
    );
    let to: Vec<(Option<&str>, &str)> = m
        .to()
        .unwrap()
        .iter()
        .map(|a| (a.name(), a.address().unwrap()))
        .collect();
    assert_eq!(
        to,
        [
            (Some("Zoë Client"), "zoe@example.org"),
            (None, "ops@example.org")
        ]
    );
    assert_eq!(m.date().unwrap().to_rfc3339(), "2024-01-15T14:40:00Z");
    assert!(m.message_id().unwrap().ends_with("@example.com"));
    assert_eq!(m.body_text(0).unwrap().replace("\r\n", "\n"), body);

    // Internal has no recipients: still a whole message, to a placeholder
    // that cannot be delivered and says what to set.
    let f = r.message_file("i.txt", "Internal: all hands on deck.");
    r.ok_at(&at(11), &send_args(&id, "internal", &f));
    let raw = std::fs::read(outbox.join(format!("{id}-000002-internal.eml"))).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("internal@recipients.invalid"));
    assert!(
        to.name().unwrap().contains("[audiences.internal]"),
        "{to:?}"
    );
    assert_eq!(
        m.subject(),
        Some(format!("[{id}] Incident status update").as_str())
    );
    assert_eq!(m.body_text(0).unwrap(), "Internal: all hands on deck.");

    let list = r.json_at(&at(12), &["notify", "list", &id]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["audience"], "customers");
    assert_eq!(list[0]["author"], "tester");
    assert_eq!(list[0]["sent_at"], "2024-01-15T14:40:00.000Z");
    assert_eq!(list[0]["body"], body);
    assert_eq!(list[0]["deliveries"][0]["sink"], "outbox");
    assert_eq!(list[0]["deliveries"][0]["state"], "delivered");
    assert_eq!(list[0]["deliveries"][0]["handover"], "outbox");
}

#[test]
fn a_command_sink_receives_exactly_the_message_bytes_on_stdin() {
    let r = Room::new();
    let got = r.dir().join("got.bin");
    let env_seen = r.dir().join("env.txt");
    r.write_config(&format!(
        "[[sinks]]\nname = \"pipe\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"cat > \\\"$1\\\"; printf '%s %s' \\\"$WARROOM_INCIDENT\\\" \\\"$WARROOM_AUDIENCE\\\" > \\\"$2\\\"\", \"sink\", \"{}\", \"{}\"]\n",
        got.display(),
        env_seen.display()
    ));
    let id = r.incident("P3", "Disk full on db-2");
    // Non-ASCII, a tab, CRLF and no final newline: all must pass unchanged.
    let body = "Status: contained \u{2713}\r\n\tnext: rotate logs\nend";
    let f = r.message_file("m.txt", body);
    let out = r.ok_at(&at(5), &send_args(&id, "executives", &f));
    assert!(out.contains("pipe") && out.contains("delivered"), "{out}");
    assert_eq!(std::fs::read(&got).unwrap(), body.as_bytes());
    assert_eq!(
        std::fs::read_to_string(&env_seen).unwrap(),
        format!("{id} executives")
    );

    // The same text from standard input.
    let mut child = r
        .cmd_at(&at(6))
        .args([
            "notify",
            "send",
            &id,
            "--audience",
            "internal",
            "--file",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(std::fs::read(&got).unwrap(), b"from stdin\n");
}

#[test]
fn a_failing_sink_leaves_the_message_undelivered_and_a_retry_delivers_it() {
    let r = Room::new();
    let ok = r.dir().join("relay-up");
    let got = r.dir().join("relayed.txt");
    let outbox = r.dir().join("outbox");
    r.write_config(&format!(
        "[[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"{}\"\n\
         [[sinks]]\nname = \"relay\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"if [ -e \\\"$1\\\" ]; then cat > \\\"$2\\\"; else echo 'relay refused: 554' >&2; exit 1; fi\", \"sink\", \"{}\", \"{}\"]\n",
        outbox.display(),
        ok.display(),
        got.display()
    ));
    let id = r.incident("P2", "Login API down");
    let f = r.message_file("m.txt", "First update.\n");
    let out = r.run_at(&at(10), &send_args(&id, "internal", &f));
    assert_fails(&out, 1, "1 of 2 deliveries failed; message #1 is recorded");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("relay refused: 554"), "{stdout}");

    let list = r.json_at(&at(11), &["notify", "list", &id]);
    let d = &list[0]["deliveries"];
    assert_eq!(
        (d[0]["sink"].as_str(), d[0]["state"].as_str()),
        (Some("outbox"), Some("delivered"))
    );
    assert_eq!(
        (d[1]["sink"].as_str(), d[1]["state"].as_str()),
        (Some("relay"), Some("failed"))
    );
    assert!(
        d[1]["detail"]
            .as_str()
            .unwrap()
            .contains("relay refused: 554")
    );
    let show = r.json_at(&at(11), &["incident", "show", &id]);
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"comms.delivery_failed"), "{kinds:?}");

    // Still down: the retry fails again and the message stays retryable.
    let out = r.run_at(&at(12), &["notify", "retry", &id]);
    assert_fails(&out, 1, "failed again");

    // The relay is back: the retry delivers exactly the message.
    std::fs::write(&ok, "").unwrap();
    let out = r.ok_at(&at(13), &["notify", "retry", &id]);
    assert!(out.contains("relay") && out.contains("delivered"), "{out}");
    assert_eq!(std::fs::read(&got).unwrap(), b"First update.\n");
    let list = r.json_at(&at(14), &["notify", "list", &id]);
    assert_eq!(list[0]["deliveries"][1]["state"], "delivered");
    assert_eq!(list[0]["deliveries"][1]["attempts"], 3);
    assert_eq!(
        r.ok_at(&at(14), &["notify", "retry", &id]).trim(),
        format!("{id}: nothing to retry")
    );

    // A failure is also retried by the next send.
    std::fs::remove_file(&ok).unwrap();
    let f2 = r.message_file("m2.txt", "Second update.\n");
    let out = r.run_at(&at(20), &send_args(&id, "internal", &f2));
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(&ok, "").unwrap();
    let f3 = r.message_file("m3.txt", "Third update.\n");
    let out = r.ok_at(&at(21), &send_args(&id, "internal", &f3));
    assert!(out.contains("retry of message #2"), "{out}");
    let list = r.json_at(&at(22), &["notify", "list", &id]);
    assert!(
        list.as_array().unwrap().iter().all(|m| m["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "delivered")),
        "{list}"
    );
}

#[test]
fn unfilled_placeholders_and_bad_input_are_refused_with_nothing_recorded() {
    let r = Room::new();
    let id = r.incident("P1", "Customer data exposed");
    // The regulator template leaves what warroom does not know to fill in.
    let draft = r.ok_at(&at(5), &["notify", "draft", &id, "--template", "regulator"]);
    assert!(draft.contains("[FILL IN: categories of people"), "{draft}");
    let f = r.message_file("reg.txt", &draft);
    let out = r.run_at(&at(6), &send_args(&id, "regulator", &f));
    assert_fails(&out, 2, "placeholder(s) to fill in");

    let bad = r.dir().join("bad.txt");
    std::fs::write(&bad, b"caf\xe9").unwrap();
    let out = r.run_at(&at(6), &send_args(&id, "customers", &bad));
    assert_fails(&out, 2, "not valid UTF-8 (byte 3)");
    let out = r.run_at(&at(6), &send_args(&id, "press", &bad));
    assert_fails(&out, 2, "invalid audience 'press'");
    let out = r.run_at(
        &at(6),
        &send_args(&id, "customers", Path::new("/nonexistent/m.txt")),
    );
    assert_fails(&out, 1, "/nonexistent/m.txt: cannot read");
    let ok = r.message_file("ok.txt", "fine");
    let out = r.run_at(
        &at(6),
        &[
            "notify",
            "send",
            &id,
            "--audience",
            "customers",
            "--sink",
            "fax",
            "--file",
            ok.to_str().unwrap(),
        ],
    );
    assert_fails(&out, 2, "no sink 'fax'");
    let out = r.run_at(&at(6), &send_args("INC-2024-099", "customers", &ok));
    assert_fails(&out, 1, "no incident INC-2024-099");

    assert_eq!(
        r.json_at(&at(7), &["notify", "list", &id]),
        serde_json::json!([])
    );
    let show = r.json_at(&at(7), &["incident", "show", &id]);
    assert_eq!(clock(&show, "customer_notice")["met_at"], Value::Null);
}

#[test]
fn sending_to_customers_meets_the_notice_clock_and_restarts_the_update_clock() {
    let r = Room::new();
    let id = r.incident("P2", "Login API degraded");
    r.ok_at(&at(5), &["incident", "ack", &id]);

    let show = r.json_at(&at(30), &["incident", "show", &id]);
    assert_eq!(clock(&show, "customer_notice")["state"], "running");
    assert_eq!(
        clock(&show, "next_update")["due"],
        "2024-01-15T16:30:00.000Z"
    );

    let body = "We are investigating degraded logins.\n";
    let f = r.message_file("m.txt", body);
    r.ok_at(&at(60), &send_args(&id, "customers", &f));

    let show = r.json_at(&at(90), &["incident", "show", &id]);
    let notice = clock(&show, "customer_notice");
    assert_eq!(notice["state"], "met");
    assert_eq!(notice["met_at"], "2024-01-15T15:30:00.000Z");
    let update = clock(&show, "next_update");
    assert_eq!(update["started"], "2024-01-15T15:30:00.000Z");
    assert_eq!(update["due"], "2024-01-15T17:30:00.000Z");
    assert_eq!(update["state"], "running");
    let sent = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "comms.sent")
        .unwrap();
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    assert_eq!(sent["data"]["sha256"], sha.as_str());
    assert_eq!(sent["data"]["audience"], "customers");
    assert_eq!(sent["actor"], "tester");

    // An internal update restarts the cadence again; the notice stays met
    // at the first customer message.
    let f = r.message_file("i.txt", "Internal update.\n");
    r.ok_at(&at(100), &send_args(&id, "internal", &f));
    let show = r.json_at(&at(101), &["incident", "show", &id]);
    assert_eq!(
        clock(&show, "customer_notice")["met_at"],
        "2024-01-15T15:30:00.000Z"
    );
    assert_eq!(
        clock(&show, "next_update")["due"],
        "2024-01-15T18:10:00.000Z"
    );
    r.ok_at(&at(102), &["verify"]);
}

#[test]
fn alerts_fire_once_across_processes_and_restarts() {
    let r = Room::new();
    r.write_config("[alerts]\nescalation = [\"ciso@example.com\"]\n");
    r.contacts_only_escalation();
    let id = r.incident("P1", "Login API down");
    r.ok_at(
        &at(1),
        &[
            "--as", "alice", "incident", "assign", &id, "security", "carol",
        ],
    );

    // Two processes check at the same moment (a console and a watcher
    // host, say): every alert is raised by exactly one of them.
    let now = at(20);
    let spawn = |who: &str| {
        r.cmd_at(&now)
            .args(["--as", who, "alerts", "--json", "--no-desktop"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("carol"), spawn("dave"));
    let keys = |c: std::process::Child| -> Vec<String> {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["key"].as_str().unwrap().to_string())
            .collect()
    };
    let (ka, kb) = (keys(a), keys(b));
    assert!(
        ka.iter().all(|k| !kb.contains(k)),
        "raised twice: {ka:?} / {kb:?}"
    );
    let mut all: Vec<String> = ka.iter().chain(&kb).cloned().collect();
    all.sort();
    let mut expected = vec![
        format!("clock:{id}:response:2024-01-15T14:45:00.000Z:breached"),
        // Due at once, breached after the 5 minutes' grace.
        format!("clock:{id}:customer_notice:2024-01-15T14:35:00.000Z:breached"),
        format!("escalate:{id}:response:2024-01-15T14:45:00.000Z:0:ciso@example.com"),
    ];
    // Carol's role alert is hers alone: only her process raises it.
    let role = format!("role:{id}:security:2024-01-15T14:31:00.000Z:carol");
    assert!(ka.contains(&role) && !kb.contains(&role), "{ka:?}");
    expected.push(role);
    expected.sort();
    assert_eq!(all, expected);

    // Restarted later: nothing again; the history keeps them.
    assert_eq!(
        r.json_at(&at(21), &["--as", "carol", "alerts", "--no-desktop"]),
        serde_json::json!([])
    );
    let history = r.json_at(&at(21), &["alerts", "--history"]);
    assert_eq!(history.as_array().unwrap().len(), expected.len());

    // Nearing: the next update clock (1h for P1, from declaration) at 75%.
    let near = r.json_at(&at(45), &["alerts", "--no-desktop"]);
    let near_keys: Vec<&str> = near
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        near_keys,
        [format!(
            "clock:{id}:next_update:2024-01-15T15:30:00.000Z:near"
        )]
    );
    assert!(
        near[0]["text"]
            .as_str()
            .unwrap()
            .contains("Next update clock 75% used"),
        "{near}"
    );
}

#[test]
fn the_osc52_sink_writes_base64_of_the_message_to_the_terminal_only() {
    use base64::Engine;
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;

    let r = Room::new();
    r.write_config("[[sinks]]\nname = \"clip\"\nkind = \"osc52\"\n");
    let id = r.incident("P2", "Login API down");
    let body = "Copy me: \u{e9}t\u{e9} update\nline two\n";
    let f = r.message_file("m.txt", body);

    // In a terminal: the sequence reaches it.
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_warroom"));
    cmd.env_clear();
    for (k, v) in r.env.cmd().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("WARROOM_NOW", at(5));
    cmd.args([
        "notify",
        "send",
        &id,
        "--audience",
        "internal",
        "--sink",
        "clip",
        "--file",
        f.to_str().unwrap(),
    ]);
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let collector = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    let status = child.wait().unwrap();
    drop(pty.master);
    let output = collector.join().unwrap();
    assert!(status.success(), "{}", String::from_utf8_lossy(&output));
    let text = String::from_utf8_lossy(&output);
    let start = text.find("\x1b]52;c;").expect("OSC 52 sequence") + 7;
    let end = start + text[start..].find('\x07').expect("BEL ends it");
    let b64 = &text[start..end];
    assert!(
        b64.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c)),
        "{b64}"
    );
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(decoded, body.as_bytes());

    // Without a terminal (a new session, output to a pipe) the escape
    // sequence goes nowhere: the delivery fails and stays retryable.
    let out = Command::new("setsid")
        .arg(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "notify",
            "send",
            &id,
            "--audience",
            "internal",
            "--sink",
            "clip",
            "--file",
            f.to_str().unwrap(),
        ])
        .env_clear()
        .envs(
            r.env
                .cmd()
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .env("WARROOM_NOW", at(6))
        .stdin(Stdio::null())
        .output()
        .expect("setsid (util-linux)");
    assert_fails(&out, 1, "1 of 1 deliveries failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains('\x1b'),
        "no escape sequence in a pipe: {stdout:?}"
    );
    assert!(stdout.contains("no terminal to copy to"), "{stdout}");
}

/// Runs `warroom` and fails the test (rather than hanging it) if the run
/// has not ended after a minute.
fn run_bounded(mut cmd: Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("warroom hung");
        }
    }
}

#[test]
fn a_fifo_or_device_among_the_config_files_is_an_error_not_a_hang() {
    let r = Room::new();
    let id = r.incident("P2", "Login API down");
    let templates = r.config_dir().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let fifo = templates.join("customer.txt");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // /dev/zero never ends: read whole, it would eat all memory.
    std::os::unix::fs::symlink("/dev/zero", templates.join("internal.txt")).unwrap();

    let mut c = r.cmd_at(T0);
    c.args(["notify", "templates"]);
    let out = run_bounded(c);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, shown) in [
        ("customer", &fifo),
        ("internal", &templates.join("internal.txt")),
    ] {
        let mut c = r.cmd_at(T0);
        c.args(["notify", "draft", &id, "--template", name]);
        let out = run_bounded(c);
        assert_fails(&out, 1, &format!("{}: not a regular file", shown.display()));
    }
    // The shipped ones still work.
    r.ok_at(T0, &["notify", "draft", &id, "--template", "executive"]);

    let comms = r.config_dir().join("comms.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&comms)
            .status()
            .unwrap()
            .success()
    );
    let mut c = r.cmd_at(T0);
    c.args(["notify", "list", &id]);
    let out = run_bounded(c);
    assert_fails(&out, 1, &format!("{}: not a regular file", comms.display()));
}

#[test]
fn a_fifo_as_policy_or_playbook_is_an_error_not_a_hang() {
    for name in ["policy.toml", "playbook.toml"] {
        let r = Room::new();
        let id = r.incident("P2", "Login API down");
        let path = r.config_dir().join(name);
        std::fs::create_dir_all(r.config_dir()).unwrap();
        assert!(
            Command::new("mkfifo")
                .arg(&path)
                .status()
                .unwrap()
                .success()
        );
        let mut c = r.cmd_at(T0);
        c.args(["incident", "show", &id]);
        let out = run_bounded(c);
        assert_fails(
            &out,
            1,
            &format!("{}: cannot read: not a regular file", path.display()),
        );
    }
}

#[test]
fn a_policy_duration_too_long_for_the_calendar_is_an_error_not_a_panic() {
    let r = Room::new();
    let id = r.incident("P2", "Login API down");
    let policy = include_str!("../assets/policy.toml");
    let (line, _) = policy
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("response = "))
        .nth(1)
        .expect("the P2 response line");
    let edited: Vec<String> = policy
        .lines()
        .enumerate()
        .map(|(n, l)| {
            if n == line {
                "response = \"300000years\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let file = r.config_dir().join("policy.toml");
    std::fs::write(&file, edited.join("\n")).unwrap();
    for args in [
        vec!["alerts", "--no-desktop"],
        vec!["notify", "draft", &id, "--template", "customer"],
    ] {
        let out = r.run_at(&at(5), &args);
        assert_fails(
            &out,
            1,
            &format!("{}:{}:12: levels.P2.response", file.display(), line + 1),
        );
        assert_fails(&out, 1, "longer than 100 years");
    }
}

#[test]
fn addresses_that_cannot_go_into_a_plain_ascii_header_are_refused_in_comms_toml() {
    // Non-ASCII display names are encoded (RFC 2047), but an address has no
    // such encoding: it went raw into From, To and the Message-ID, making an
    // .eml that is not RFC 5322.
    let r = Room::new();
    let id = r.incident("P2", "Login API down");
    let file = r.config_dir().join("comms.toml");
    r.write_config("from = \"Sécurité <secu@exämple.com>\"\n");
    let out = r.run_at(T0, &["notify", "list", &id]);
    assert_fails(
        &out,
        1,
        &format!(
            "{}:1:8: from: 'Sécurité <secu@exämple.com>'",
            file.display()
        ),
    );
    assert_fails(&out, 1, "ASCII");
    r.write_config("[audiences.customers]\nto = [\"ok@example.org\", \"zoë@example.org\"]\n");
    let out = r.run_at(T0, &["notify", "list", &id]);
    assert_fails(&out, 1, &format!("{}:2:25: to:", file.display()));
}

#[test]
fn a_command_timeout_must_end_before_a_pending_delivery_counts_as_abandoned() {
    // A delivery left pending for 5 minutes is taken to be abandoned and is
    // retried by any process. A command allowed to run longer than that
    // would still be delivering when another process delivered it again.
    let r = Room::new();
    let id = r.incident("P2", "Login API down");
    let file = r.config_dir().join("comms.toml");
    r.write_config(
        "[[sinks]]\nname = \"mail\"\nkind = \"command\"\nargv = [\"true\"]\ntimeout = \"10m\"\n",
    );
    let out = r.run_at(T0, &["notify", "list", &id]);
    assert_fails(
        &out,
        1,
        &format!("{}:5:11: sink 'mail': timeout", file.display()),
    );
    assert_fails(&out, 1, "at most 4m");
    r.write_config(
        "[[sinks]]\nname = \"mail\"\nkind = \"command\"\nargv = [\"true\"]\ntimeout = \"4m\"\n",
    );
    r.ok_at(T0, &["notify", "list", &id]);
}

#[test]
fn a_new_message_goes_out_before_older_failures_are_retried() {
    let r = Room::new();
    let up = r.dir().join("relay-up");
    let log = r.dir().join("relayed.log");
    r.write_config(&format!(
        "[[sinks]]\nname = \"relay\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"[ -e \\\"$1\\\" ] || exit 1; cat >> \\\"$2\\\"\", \"sink\", \"{}\", \"{}\"]\n",
        up.display(),
        log.display()
    ));
    let id = r.incident("P2", "Login API down");
    let send = |minute: i64, body: &str| {
        let f = r.message_file("m.txt", body);
        r.run_at(&at(minute), &send_args(&id, "internal", &f))
    };
    assert_eq!(send(10, "old update\n").status.code(), Some(1));
    std::fs::write(&up, "").unwrap();
    let out = send(20, "new update\n");
    assert!(out.status.success());
    // The fresh message does not wait behind old failures (each of which
    // may take a whole command timeout).
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "new update\nold update\n"
    );
}

#[test]
fn a_delivery_taken_over_by_another_process_is_not_delivered_again() {
    // Process A sends through two command sinks; the first stalls. Another
    // process retrying at a time when A's deliveries look abandoned takes
    // them over and delivers. When A gets to its second sink it must see
    // the delivery is no longer its own, and not deliver it a second time.
    // (Its stalled first sink was delivered twice here only because the
    // test's clock jumps 6 minutes; in real time the command's timeout,
    // at most 4 minutes, stops it before it can look abandoned.)
    let r = Room::new();
    let gate = r.dir().join("gate");
    let lock = r.dir().join("first-run");
    let out1 = r.dir().join("out1.log");
    let out2 = r.dir().join("out2.log");
    r.write_config(&format!(
        "[[sinks]]\nname = \"slow\"\nkind = \"command\"\ntimeout = \"4m\"\n\
         argv = [\"sh\", \"-c\", \"if mkdir \\\"$1\\\" 2>/dev/null; then while [ ! -e \\\"$2\\\" ]; do sleep 0.05; done; fi; cat >> \\\"$3\\\"\", \"sink\", \"{}\", \"{}\", \"{}\"]\n\
         [[sinks]]\nname = \"fast\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"cat >> \\\"$1\\\"\", \"sink\", \"{}\"]\n",
        lock.display(),
        gate.display(),
        out1.display(),
        out2.display()
    ));
    let id = r.incident("P2", "Login API down");
    let f = r.message_file("m.txt", "the update\n");
    let a = r
        .cmd_at(&at(10))
        .args(send_args(&id, "internal", &f))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until A is inside its first sink.
    wait_for("process A to reach its first sink", || lock.exists());

    let b = r.run_at(&at(16), &["notify", "retry", &id]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(std::fs::read_to_string(&out2).unwrap(), "the update\n");

    std::fs::write(&gate, "").unwrap();
    let a = a.wait_with_output().unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(
        std::fs::read_to_string(&out2).unwrap(),
        "the update\n",
        "delivered twice through 'fast'"
    );
    let list = r.json_at(&at(17), &["notify", "list", &id]);
    let fast = &list[0]["deliveries"][0];
    assert_eq!(
        (fast["sink"].as_str(), fast["state"].as_str()),
        (Some("fast"), Some("delivered"))
    );
    assert_eq!(fast["attempts"], 1);
}

/// An .eml parsed back: (To as (name, address) pairs, subject, body).
type Mail = (Vec<(Option<String>, String)>, String, String);

/// The .eml files in `dir`, parsed, sorted.
fn emls(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "eml"));
    files.sort();
    let mut out: Vec<_> = files
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            assert!(raw.is_ascii(), "{}", p.display());
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let to = m
                .to()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        a.name().map(str::to_string),
                        a.address().unwrap().to_string(),
                    )
                })
                .collect();
            (
                to,
                m.subject().unwrap().to_string(),
                m.body_text(0).unwrap().replace("\r\n", "\n"),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_response_breach_escalation_reaches_each_contact_through_the_sinks_once() {
    let r = Room::new();
    let outbox = r.dir().join("outbox");
    let pager = r.dir().join("pager.log");
    r.write_config(&format!(
        "from = \"Security <security@example.com>\"\n\
         [alerts]\nescalation = [\"ciso@example.com\", \"dana\"]\nsinks = [\"outbox\", \"pager\"]\n\
         [[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"{}\"\n\
         [[sinks]]\nname = \"pager\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"printf '%s %s %s\\\\n' \\\"$WARROOM_RECIPIENT\\\" \\\"$WARROOM_FORMAT\\\" \\\"$(wc -c)\\\" >> \\\"$1\\\"\", \"sink\", \"{}\"]\n",
        outbox.display(),
        pager.display()
    ));
    r.contacts_only_escalation();
    r.ok_at(
        T0,
        &[
            "roster",
            "add",
            "dana",
            "--name",
            "Dana Scully",
            "--contact",
            "dana@example.com",
        ],
    );
    r.ok_at(
        T0,
        &[
            "roster",
            "add",
            "erin",
            "--name",
            "Erin Hale",
            "--contact",
            "Erin <erin@example.com>",
        ],
    );
    let id = r.incident("P1", "Login API down\u{1b}[2J");

    // Before the breach (response due 14:45): nothing escalates.
    r.ok_at(&at(14), &["alerts", "--no-desktop"]);
    assert!(!outbox.exists() && !pager.exists());

    // At the breach two processes check at once: each contact is told
    // exactly once, through each escalation sink.
    let spawn = |who: &str| {
        r.cmd_at(&at(16))
            .args(["--as", who, "alerts", "--json", "--no-desktop"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("carol"), spawn("dave"));
    let mut escalations = Vec::new();
    for c in [a, b] {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for al in v.as_array().unwrap() {
            if al["kind"] == "escalation" {
                let sinks: Vec<(&str, bool)> = al["deliveries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| {
                        (
                            d["sink"].as_str().unwrap(),
                            d["delivered"].as_bool().unwrap(),
                        )
                    })
                    .collect();
                assert_eq!(sinks, [("outbox", true), ("pager", true)], "{al}");
                escalations.push(al["recipient"].as_str().unwrap().to_string());
            }
        }
    }
    escalations.sort();
    assert_eq!(escalations, ["ciso@example.com", "dana"]);

    let mails = emls(&outbox);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[0].0, [(None, "ciso@example.com".to_string())]);
    assert_eq!(
        mails[1].0,
        [(
            Some("Dana Scully".to_string()),
            "dana@example.com".to_string()
        )],
        "a roster handle goes to the person's contact address"
    );
    for (_, subject, body) in &mails {
        assert_eq!(
            subject,
            &format!("[{id}] ESCALATION: response time breached")
        );
        assert!(
            body.contains(&format!(
                "{id} P1 Login API down␛[2J not acknowledged; response was due 14:45 UTC"
            )),
            "{body}"
        );
        assert!(!body.contains('\u{1b}'), "{body:?}");
    }
    let paged = std::fs::read_to_string(&pager).unwrap();
    let mut lines: Vec<&str> = paged.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{paged}");
    assert!(lines[0].starts_with("ciso@example.com eml "), "{paged}");
    assert!(lines[1].starts_with("dana eml "), "{paged}");

    // The timeline says who was told, and how.
    let show = r.json_at(&at(17), &["incident", "show", &id]);
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "comms.escalated").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "comms.escalation_delivered")
            .count(),
        4,
        "{kinds:?}"
    );

    // A commander named late acknowledges (late): nothing more is sent,
    // to the commander or anyone (this used to page "acknowledged late").
    r.ok_at(&at(20), &["incident", "assign", &id, "commander", "erin"]);
    for minute in [21, 22, 90] {
        r.ok_at(&at(minute), &["alerts", "--no-desktop"]);
    }
    assert_eq!(emls(&outbox).len(), 2);
    assert_eq!(std::fs::read_to_string(&pager).unwrap().lines().count(), 2);
    r.ok_at(&at(23), &["verify"]);
}

#[test]
fn a_failed_or_abandoned_escalation_delivery_is_retried_and_never_lost() {
    let r = Room::new();
    let up = r.dir().join("pager-up");
    let pager = r.dir().join("pager.log");
    let lock = r.dir().join("first-run");
    let pid = r.dir().join("stuck.pid");
    // The pager fails while `up` is missing; on its very first run it
    // instead hangs (standing in for a process that crashes mid-delivery).
    r.write_config(&format!(
        "[alerts]\nescalation = [\"ciso@example.com\"]\n\
         [[sinks]]\nname = \"pager\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"if mkdir \\\"$1\\\" 2>/dev/null; then echo $$ > \\\"$4\\\"; exec sleep 1000; fi; [ -e \\\"$2\\\" ] || {{ echo 'pager gateway down' >&2; exit 1; }}; cat >> \\\"$3\\\"\", \"sink\", \"{}\", \"{}\", \"{}\", \"{}\"]\n",
        lock.display(),
        up.display(),
        pager.display(),
        pid.display()
    ));
    r.contacts_only_escalation();
    let id = r.incident("P1", "Login API down");

    // The process that takes the escalation dies while delivering it.
    let mut a = r
        .cmd_at(&at(16))
        .args(["alerts", "--no-desktop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the stuck pager's pid", || {
        std::fs::read_to_string(&pid).is_ok_and(|p| !p.is_empty())
    });
    a.kill().unwrap();
    a.wait().unwrap();
    let stuck = std::fs::read_to_string(&pid).unwrap();
    Command::new("kill")
        .args(["-KILL", stuck.trim()])
        .status()
        .unwrap();

    // Within 5 minutes it may still be in flight: nobody repeats it.
    let out = r.ok_at(&at(18), &["alerts", "--no-desktop"]);
    assert_eq!(out, "");
    // Past that it counts as abandoned: the next check retries it; the
    // pager is down, so the failure is reported and stays retryable.
    let out = r.run_at(&at(22), &["alerts", "--no-desktop"]);
    assert_fails(
        &out,
        1,
        "1 escalation deliveries failed (first: to ciso@example.com via pager: sh: exit status 1: pager gateway down)",
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED (retry)"));
    let out = r.run_at(&at(23), &["notify", "retry", &id]);
    assert_fails(&out, 1, "1 of 1 deliveries failed again");

    // The pager is back: the retry delivers it, once.
    std::fs::write(&up, "").unwrap();
    let out = r.ok_at(&at(24), &["notify", "retry", &id]);
    assert!(
        out.contains("escalation to ciso@example.com") && out.contains("delivered"),
        "{out}"
    );
    let paged = std::fs::read_to_string(&pager).unwrap();
    assert!(
        paged.contains(&format!(
            "Subject: [{id}] ESCALATION: response time breached\r\n"
        )),
        "{paged}"
    );
    assert_eq!(paged.matches("Message-ID: ").count(), 1, "{paged}");
    assert_eq!(
        r.ok_at(&at(25), &["notify", "retry", &id]).trim(),
        format!("{id}: nothing to retry")
    );
    assert_eq!(r.ok_at(&at(25), &["alerts", "--no-desktop"]), "");
    assert_eq!(std::fs::read_to_string(&pager).unwrap(), paged);
}

#[test]
fn escalation_sinks_must_exist_and_be_able_to_reach_someone() {
    let r = Room::new();
    let id = r.incident("P2", "Login API down");
    let file = r.config_dir().join("comms.toml");
    r.write_config("[alerts]\nsinks = [\"clip\"]\n[[sinks]]\nname = \"clip\"\nkind = \"osc52\"\n");
    let out = r.run_at(T0, &["notify", "list", &id]);
    assert_fails(
        &out,
        1,
        &format!(
            "{}:2:10: alerts.sinks: 'clip' is an OSC 52 sink",
            file.display()
        ),
    );
    r.write_config("[alerts]\nsinks = [\"pager\"]\n");
    let out = r.run_at(T0, &["notify", "list", &id]);
    assert_fails(
        &out,
        1,
        "alerts.sinks: no sink 'pager' (configured: outbox)",
    );
}

#[test]
fn a_drill_message_is_marked_as_a_drill_for_every_sink() {
    // A hand-written drill message need not say DRILL in its text; a
    // script behind a command sink (a chat webhook, say) must still be able
    // to tell it from a real notice, and so must a mail filter.
    let r = Room::new();
    let seen = r.dir().join("seen.txt");
    let outbox = r.dir().join("outbox");
    r.write_config(&format!(
        "[audiences.customers]\nto = [\"c@example.org\"]\n\
         [[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"{}\"\n\
         [[sinks]]\nname = \"hook\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"printf '%s' \\\"$WARROOM_DRILL\\\" >> \\\"$1\\\"\", \"sink\", \"{}\"]\n",
        outbox.display(),
        seen.display()
    ));
    let real = r.incident("P3", "Real one");
    let drill = r
        .ok_at(
            T0,
            &[
                "incident",
                "new",
                "--title",
                "Exercise",
                "--severity",
                "P3",
                "--drill",
            ],
        )
        .trim()
        .to_string();
    let f = r.message_file("m.txt", "Logins are slow; we are on it.\n");
    for id in [&real, &drill] {
        r.ok_at(&at(5), &send_args(id, "customers", &f));
    }
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "01");
    let eml =
        std::fs::read_to_string(outbox.join(format!("{drill}-000002-customers.eml"))).unwrap();
    assert!(eml.contains("\r\nX-Warroom-Drill: yes\r\n"), "{eml}");
    assert!(
        eml.contains(&format!("Subject: [DRILL] [{drill}]")),
        "{eml}"
    );
    let eml = std::fs::read_to_string(outbox.join(format!("{real}-000001-customers.eml"))).unwrap();
    assert!(!eml.contains("X-Warroom-Drill"), "{eml}");
}

/// A notify rule (the seed's rule object, with two recipients) and a rule
/// whose `notify` action has nobody listed.
const NOTIFY_RULES: &str = r#"events:
  failed_logins:
    description: sshd rejected a login
    match:
      - 'sshd\[\d+\]: Failed password for (?P<user>\S+) from (?P<src>[0-9.]+) port \d+'
rules:
  - {"rule": "Multiple failed logins", "condition": "failed_logins > 10 in 5 minutes", "action": "create_incident", "severity": "high", "notify": ["security-team@example.com", "Duty Officer <duty@example.com>"]}
  - rule: Login noise
    condition: failed_logins > 10 in 5 minutes
    action: notify
    severity: low
"#;

/// Writes the rules and a log of 12 failed logins from one address within
/// a minute; returns (rules, log).
fn notify_rule_files(r: &Room) -> (String, String) {
    let rules = r.dir().join("rules.yml");
    std::fs::write(&rules, NOTIFY_RULES).unwrap();
    let log = r.dir().join("auth.log");
    let lines: String = (1..=12)
        .map(|i| {
            format!(
                "2024-01-15T14:20:{i:02}Z web1 sshd[4242]: Failed password for root from 203.0.113.7 port {} ssh2\n",
                50000 + i
            )
        })
        .collect();
    std::fs::write(&log, lines).unwrap();
    (
        rules.to_str().unwrap().to_string(),
        log.to_str().unwrap().to_string(),
    )
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_notify_rule_detection_reaches_its_recipients_through_the_outbox_once() {
    let r = Room::new();
    let (rules, log) = notify_rule_files(&r);
    // No comms.toml: the default outbox beside the database.
    let outbox = r.dir().join("data/warroom.outbox");

    let out = r.ok_at(T0, &["scan", "--commit", &log, "--rules", &rules]);
    assert!(
        out.contains("committed: 2 new detection(s) (1 incident(s) opened)"),
        "{out}"
    );
    assert!(
        out.contains(
            "alert to security-team@example.com, Duty Officer <duty@example.com> via outbox: delivered (wrote "
        ),
        "{out}"
    );
    let id = r.json_at(T0, &["incident", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // One message, addressed to every recipient of the rule; the rule
    // without recipients raised its alert but sent nothing.
    assert_eq!(files_in(&outbox).len(), 1, "{:?}", files_in(&outbox));
    let mails = emls(&outbox);
    let (to, subject, body) = &mails[0];
    assert_eq!(
        to,
        &[
            (None, "security-team@example.com".to_string()),
            (
                Some("Duty Officer".to_string()),
                "duty@example.com".to_string()
            )
        ]
    );
    assert_eq!(
        subject,
        &format!("[{id}] P2 DETECTION: Multiple failed logins (src=203.0.113.7), 12 event(s)")
    );
    for needle in [
        "Rule:         Multiple failed logins\n",
        "Key:          src=203.0.113.7\n",
        "Events:       12 (when this was sent)\n",
        "Window:       2024-01-15T14:20:01.000Z .. 2024-01-15T14:20:12.000Z (rule window 300 s)\n",
        "Severity:     P2\n",
        &format!("Incident:     {id}\n"),
        "Notify:       security-team@example.com, Duty Officer <duty@example.com>\n",
        "Failed password for root from 203.0.113.7 port 50001 ssh2",
    ] {
        assert!(body.contains(needle), "{needle:?} not in:\n{body}");
    }
    let raised = r.json_at(T0, &["alerts", "--history"]);
    let raised = raised.as_array().unwrap();
    assert_eq!(raised.len(), 2, "{raised:?}");
    assert!(raised.iter().all(|a| a["kind"] == "detection"));
    assert!(
        raised
            .iter()
            .any(|a| a["key"] == "detect:Login noise:203.0.113.7:1" && a["recipient"].is_null()),
        "{raised:?}"
    );

    // The same log again, and a check: nothing is delivered twice.
    let first = std::fs::read(&files_in(&outbox)[0]).unwrap();
    let again = r.ok_at(&at(1), &["scan", "--commit", &log, "--rules", &rules]);
    assert!(again.contains("2 already recorded"), "{again}");
    assert!(!again.contains("alert to"), "{again}");
    r.ok_at(&at(2), &["alerts", "--no-desktop"]);
    assert_eq!(files_in(&outbox).len(), 1);
    assert_eq!(std::fs::read(&files_in(&outbox)[0]).unwrap(), first);

    let show = r.json_at(&at(2), &["incident", "show", &id]);
    let events: Vec<&Value> = show["timeline"].as_array().unwrap().iter().collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "comms.alert_delivered")
            .count(),
        1,
        "{kinds:?}"
    );
    let notify = events
        .iter()
        .find(|e| e["kind"] == "detect.notify")
        .unwrap();
    assert!(
        notify["detail"]
            .as_str()
            .unwrap()
            .ends_with("; delivering via outbox"),
        "{notify}"
    );
    r.ok_at(&at(3), &["verify"]);
}

#[test]
fn a_failed_notify_rule_delivery_stays_retryable_and_is_delivered_later() {
    let r = Room::new();
    let (rules, log) = notify_rule_files(&r);
    let up = r.dir().join("relay-up");
    let mail = r.dir().join("mail.log");
    // The only sink: a mail command that fails while `up` is missing.
    r.write_config(&format!(
        "[[sinks]]\nname = \"mailer\"\nkind = \"command\"\n\
         argv = [\"sh\", \"-c\", \"[ -e \\\"$1\\\" ] || {{ echo 'mail relay down' >&2; exit 1; }}; printf '%s|%s|%s\\\\n' \\\"$WARROOM_AUDIENCE\\\" \\\"$WARROOM_RULE\\\" \\\"$WARROOM_RECIPIENT\\\" >> \\\"$2\\\"; cat >> \\\"$2\\\"\", \"sink\", \"{}\", \"{}\"]\n",
        up.display(),
        mail.display()
    ));

    // The detection is committed; its delivery fails, and says so.
    let out = r.run_at(T0, &["scan", "--commit", &log, "--rules", &rules]);
    assert_fails(
        &out,
        1,
        "1 alert deliveries failed (first: alert to security-team@example.com, Duty Officer <duty@example.com> via mailer: sh: exit status 1: mail relay down)",
    );
    assert!(!mail.exists());
    let id = r.json_at(T0, &["incident", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let show = r.json_at(T0, &["incident", "show", &id]);
    assert!(
        show["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "comms.alert_failed"),
        "{show}"
    );

    // Still down: `warroom alerts` tries again and reports it.
    let out = r.run_at(&at(1), &["alerts", "--no-desktop"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("via mailer: FAILED (retry)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!mail.exists());

    // The relay is back: the next check delivers it, once.
    std::fs::write(&up, "").unwrap();
    let out = r.ok_at(&at(2), &["alerts", "--no-desktop"]);
    assert!(
        out.contains("alert to security-team@example.com, Duty Officer <duty@example.com> via mailer: delivered (retry)"),
        "{out}"
    );
    let sent = std::fs::read_to_string(&mail).unwrap();
    assert!(
        sent.starts_with(
            "detection|Multiple failed logins|security-team@example.com, Duty Officer <duty@example.com>\n"
        ),
        "{sent}"
    );
    let eml = sent.split_once('\n').unwrap().1;
    let parsed = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .unwrap();
    assert_eq!(
        parsed.subject().unwrap(),
        format!("[{id}] P2 DETECTION: Multiple failed logins (src=203.0.113.7), 12 event(s)")
    );
    assert_eq!(sent.matches("Message-ID: ").count(), 1, "{sent}");
    assert_eq!(
        r.ok_at(&at(3), &["notify", "retry", &id]).trim(),
        format!("{id}: nothing to retry")
    );
    r.ok_at(&at(3), &["alerts", "--no-desktop"]);
    assert_eq!(std::fs::read_to_string(&mail).unwrap(), sent);
}

/// `warroom watch` following `log` from its beginning with `rules`.
fn spawn_watch(r: &Room, log: &str, rules: &str) -> std::process::Child {
    r.env
        .cmd()
        .args([
            "watch",
            "--from-beginning",
            "--poll-ms",
            "50",
            log,
            "--rules",
            rules,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start warroom watch")
}

/// SIGTERM, then the exit status must be 0.
fn stop_watch(child: std::process::Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls `done` for up to 60 s.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn detection_count(r: &Room, rule: &str) -> u64 {
    warroom::store::Store::open(&r.env.db())
        .and_then(|s| s.detections(false))
        .map(|ds| ds.iter().filter(|d| d.rule == rule).map(|d| d.count).sum())
        .unwrap_or(0)
}

#[test]
fn the_watcher_delivers_a_notify_rule_detection_after_its_commit_and_never_again() {
    let r = Room::new();
    let (rules, log) = notify_rule_files(&r);
    let outbox = r.dir().join("data/warroom.outbox");

    let w = spawn_watch(&r, &log, &rules);
    wait_for("the .eml", || !files_in(&outbox).is_empty());
    stop_watch(w);
    let mails = emls(&outbox);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0]
            .1
            .contains("DETECTION: Multiple failed logins (src=203.0.113.7)"),
        "{mails:?}"
    );
    let first = files_in(&outbox);

    // Restarted, with more hits attached to the open detection: they are
    // recorded, nothing is delivered again, nothing is left to retry.
    let w = spawn_watch(&r, &log, &rules);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(
        &mut f,
        b"2024-01-15T14:20:30Z web1 sshd[4242]: Failed password for root from 203.0.113.7 port 50100 ssh2\n",
    )
    .unwrap();
    drop(f);
    wait_for("the hit attached", || {
        detection_count(&r, "Multiple failed logins") == 13
    });
    stop_watch(w);
    assert_eq!(files_in(&outbox), first);
    let store = warroom::store::Store::open(&r.env.db()).unwrap();
    let deliveries = store
        .alert_deliveries("detect:Multiple failed logins:203.0.113.7:1")
        .unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].sink, "outbox");
    assert_eq!(deliveries[0].state.as_str(), "delivered");
    assert_eq!(deliveries[0].attempts, 1);
    // The alert without recipients was raised, with nothing to deliver.
    assert!(
        store
            .alert("detect:Login noise:203.0.113.7:1")
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .alert_deliveries("detect:Login noise:203.0.113.7:1")
            .unwrap()
            .is_empty()
    );
}
