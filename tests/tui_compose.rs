//! The message composer through a real pseudo-terminal: a draft that
//! survives SIGKILL and reopens where it was left, a send through an
//! outbox, a failing command and OSC 52 (written by the console itself),
//! then a retry; and incident text carrying escape sequences that enters
//! the editor (pre-filled and pasted) without any of it reaching the
//! terminal raw.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::Env;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// "line L col C" from the editor's title.
fn editor_position(screen: &str) -> Option<String> {
    let at = screen.find("Edit  line ")?;
    let rest = &screen[at + "Edit  ".len()..];
    let end = rest.find("  ")?;
    Some(rest[..end].to_string())
}

/// Opens the only incident and its composer's picker.
fn open_composer(c: &mut common::pty::Console, title: &str) {
    c.wait_then_open(title);
    c.type_text("c");
    c.wait_text("Write a message");
}

#[test]
fn a_draft_survives_sigkill_and_reopens_where_it_was_left() {
    let sb = Env::new();
    sb.ok(&[
        "incident",
        "new",
        "--title",
        "Disk full on db-3",
        "--severity",
        "P3",
        "--summary",
        "Replica stopped applying WAL",
    ]);
    let mut c = sb.console(100, 30, &[]);
    open_composer(&mut c, "Disk full on db-3");
    c.key_enter();
    c.wait_text("new from the template customer");
    c.type_text("Typed before the crash 4711 ");
    c.wait_text("4711");
    // The autosave runs every two seconds while the text changes; by then
    // every typed key has been taken (the screen showing "4711" may still
    // be one key short of the trailing space).
    let screen = c.wait_for("the autosave", Duration::from_secs(10), |s| {
        s.contains("draft saved")
    });
    let position = editor_position(&screen).expect("cursor position in the title");
    let pid = c.pid().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    c.wait_exit(Duration::from_secs(10));

    let mut again = sb.console(100, 30, &[]);
    open_composer(&mut again, "Disk full on db-3");
    again.wait_text("a draft is saved");
    again.key_enter();
    let screen = again.wait_text("continuing your draft");
    assert!(screen.contains("Typed before the crash 4711"), "{screen}");
    assert_eq!(editor_position(&screen).as_deref(), Some(position.as_str()));
    again.key_esc();
    again.key_esc();
    again.type_text("q");
    again.wait_text("Quit warroom?");
    again.type_text("y");
    assert!(again.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn send_through_outbox_failing_command_and_osc52_then_retry() {
    let sb = Env::new();
    let root = sb.dir.path();
    let config = sb.config_dir();
    std::fs::create_dir_all(&config).unwrap();
    let outbox = root.join("outbox");
    let pager = root.join("pager.txt");
    std::fs::write(
        config.join("comms.toml"),
        format!(
            r#"contact = "SOC, soc@example.com"

[[sinks]]
name = "outbox"
kind = "outbox"
dir = "{}"

[[sinks]]
name = "pager"
kind = "command"
argv = ["/bin/sh", "-c", "cat > '{}'; echo pager is down >&2; exit 3"]

[[sinks]]
name = "clipboard"
kind = "osc52"
"#,
            outbox.display(),
            pager.display()
        ),
    )
    .unwrap();
    let id = sb
        .ok(&[
            "incident",
            "new",
            "--title",
            "Login API returning 500s",
            "--severity",
            "P2",
            "--summary",
            "Logins fail for about a third of users.",
            "--customer-impact",
            "Some customers cannot log in.",
        ])
        .trim()
        .to_string();
    // The customer template says what was written for customers.
    sb.ok(&[
        "incident",
        "set",
        &id,
        "--customer-summary",
        "Some customers could not log in.",
    ]);
    sb.ok(&[
        "incident",
        "note",
        &id,
        "Rolled back deploy 4411",
        "--customer",
    ]);
    let mut c = sb.console(120, 40, &[]);
    open_composer(&mut c, "Login API returning 500s");
    c.key_enter();
    c.wait_text("Rolled back deploy 4411");
    c.send(b"\x13"); // Ctrl-S
    c.wait_text("Send this message?");
    let screen = c.wait_text("[ ] clipboard");
    assert!(screen.contains("[x] outbox"), "{screen}");
    assert!(screen.contains("[x] pager"), "{screen}");
    c.type_text("jj ");
    c.wait_text("[x] clipboard");
    c.key_enter();
    let screen = c.wait_text("FAILED");
    assert!(screen.contains("pager is down"), "{screen}");
    assert!(screen.contains("NOT delivered via pager"), "{screen}");

    // Recorded once, with what went where.
    let list: serde_json::Value =
        serde_json::from_str(&sb.ok(&["notify", "list", &id, "--json"])).unwrap();
    let m = &list[0];
    let body = m["body"].as_str().unwrap().to_string();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(m["audience"], "customers");
    assert_eq!(m["author"], "tester");
    assert!(body.contains("SECURITY INCIDENT NOTIFICATION"), "{body}");
    let state = |sink: &str| {
        m["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["sink"] == sink)
            .map(|d| (d["state"].clone(), d["attempts"].clone()))
            .unwrap()
    };
    assert_eq!(state("outbox").0, "delivered");
    assert_eq!(state("clipboard").0, "delivered");
    assert_eq!(state("pager"), ("failed".into(), 1.into()));
    // The outbox file and the command's stdin hold the message.
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().collect();
    assert_eq!(files.len(), 1);
    // The outbox file is a whole mail message with the body.
    let file = std::fs::read(files[0].as_ref().unwrap().path()).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&file).unwrap();
    assert_eq!(mail.body_text(0).unwrap().replace("\r\n", "\n"), body);
    assert_eq!(std::fs::read_to_string(&pager).unwrap(), body);
    // The console wrote one well-formed OSC 52 carrying exactly the body.
    let raw = c.raw();
    let start = raw
        .windows(7)
        .position(|w| w == b"\x1b]52;c;")
        .expect("an OSC 52 sequence");
    let end = start
        + raw[start..]
            .iter()
            .position(|b| *b == 0x07)
            .expect("BEL ends it");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&raw[start + 7..end])
        .expect("base64");
    assert_eq!(String::from_utf8(decoded).unwrap(), body);

    // r retries the failed delivery (still failing: attempt 2).
    c.type_text("r");
    c.wait_text("(attempt 2)");
    let list: serde_json::Value =
        serde_json::from_str(&sb.ok(&["notify", "list", &id, "--json"])).unwrap();
    let pager_attempts = list[0]["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["sink"] == "pager")
        .unwrap()["attempts"]
        .clone();
    assert_eq!(pager_attempts, 2);

    // Back on the incident: the customer notice clock is met.
    c.key_esc();
    let screen = c.wait_for("the notice clock met", Duration::from_secs(5), |s| {
        s.lines()
            .any(|l| l.contains("Customer notice") && l.contains("met"))
    });
    assert!(screen.contains("Next update"), "{screen}");
    let v = sb.show_json(&id);
    let notice = v["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "customer_notice")
        .unwrap()
        .clone();
    assert_eq!(notice["state"], "met", "{notice}");
    // The draft is gone: the next message starts from the template.
    c.type_text("c");
    c.wait_text("Enter writes from the template");
    c.key_esc();
    c.key_esc();
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}

const OSC52: &str = "\u{1b}]52;c;ZXZpbA==\u{7}clip";
const OSC0: &str = "\u{1b}]0;owned-title\u{7}title";
const CSI_CLEAR: &str = "\u{1b}[2J\u{1b}[31mwiped";
const BIDI: &str = "invoice\u{202E}fdp.exe";
const C1_CSI: &str = "\u{9b}2Jc1";

#[test]
fn escape_sequences_in_incident_text_never_reach_the_terminal_through_the_composer() {
    let sb = Env::new();
    let all = [OSC52, OSC0, CSI_CLEAR, BIDI, C1_CSI].concat();
    sb.ok(&[
        "incident",
        "new",
        "--title",
        &format!("Evil {all}"),
        "--severity",
        "P3",
        "--summary",
        &format!("S {all}\nsecond line {all}"),
        "--customer-impact",
        &format!("I {all}"),
        "--affected",
        &all,
    ]);
    // A saved draft holding raw escapes (drafts are only ever saved made
    // safe, but the editor does not rely on it): it opens made safe.
    {
        let mut store = warroom::store::Store::open(&sb.db()).unwrap();
        let body = serde_json::json!({
            "text": format!("D {all}\nend"),
            "cursor": [0, 3],
            "template": "internal",
            "audience": "internal",
        });
        store
            .save_draft(
                "tester",
                "compose:INC-2026-001:internal",
                &body.to_string(),
                chrono::Utc::now(),
            )
            .unwrap();
    }
    // Narrower than the side-by-side layout, so the editor alone shows
    // the text in the edit view: its visible stand-ins prove the text was
    // made safe before it entered the textarea.
    let mut c = sb.console(100, 40, &[]);
    c.wait_text("Evil ␛]52;c;ZXZpbA==␇clip");
    c.key_enter();
    c.wait_text("Checklist");
    // Every template, each pre-filled from the incident, in every view.
    for (i, template) in ["customer", "internal", "executive", "regulator"]
        .iter()
        .enumerate()
    {
        c.type_text("c");
        c.wait_text("Write a message");
        // To the top (the picker starts on the audience of a saved
        // draft), then down to the template.
        c.type_text("kkk");
        for _ in 0..i {
            c.type_text("j");
        }
        c.key_enter();
        if *template == "internal" {
            c.wait_text("continuing your saved draft");
            c.wait_text("D ␛]52;c;ZXZpbA==␇clip␛]0;owned-title␇title");
        } else {
            c.wait_text(&format!("new from the template {template}"));
            c.wait_text("␛]52;c;ZXZpbA==␇clip");
        }
        c.wait_text("<U+202E>fdp.exe");
        c.key_tab();
        c.wait_text("[Preview]");
        c.key_tab();
        c.wait_text("[Diff]");
        c.key_tab();
        c.wait_text("[Edit]");
        if i == 0 {
            // Pasted text (bracketed paste) is made safe on its way in.
            let mut paste = b"\x1b[200~".to_vec();
            paste.extend_from_slice(format!("P {OSC0}{CSI_CLEAR}").as_bytes());
            paste.extend_from_slice(b"\x1b[201~");
            c.send(&paste);
            c.wait_text("P ␛]0;owned-title␇title␛[2J␛[31mwiped");
        }
        c.key_esc();
        c.wait_text("Checklist");
    }
    std::thread::sleep(Duration::from_millis(300));
    c.key_esc();
    c.type_text("q");
    // The pasted edit was kept as a draft, so quitting asks.
    c.wait_text("Quit warroom?");
    c.type_text("y");
    c.wait_exit(Duration::from_secs(10));

    let raw = c.raw();
    assert!(!raw.is_empty());
    assert!(
        !contains(&raw, b"\x1b]"),
        "an OSC sequence reached the terminal"
    );
    assert!(!raw.contains(&0x07), "a BEL reached the terminal");
    assert!(!contains(&raw, b"\x1b[2J\x1b[31mwiped"));
    assert!(!contains(&raw, "\u{202E}".as_bytes()));
    assert!(!contains(&raw, "\u{9b}".as_bytes()));
    for (i, w) in raw.windows(2).enumerate() {
        if w[0] == 0x1b {
            assert!(
                matches!(w[1], b'[' | b'(' | b')' | b'7' | b'8' | b'=' | b'>'),
                "unexpected ESC {:?} at {i}",
                String::from_utf8_lossy(&raw[i..(i + 16).min(raw.len())])
            );
        }
    }
}

#[test]
fn a_broken_user_template_shows_file_line_and_problem_and_the_console_keeps_running() {
    let sb = Env::new();
    let templates = sb.config_dir().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let broken = templates.join("customer.txt");
    std::fs::write(
        &broken,
        "{# audience: customers #}\nSECURITY INCIDENT NOTIFICATION\nIncident: {{ id }\n",
    )
    .unwrap();
    sb.new_incident("Broken template day", "P3");
    let mut c = sb.console(120, 40, &[]);
    open_composer(&mut c, "Broken template day");
    c.wait_text("your file");
    c.key_enter();
    let screen = c.wait_text("✗");
    let want = format!("{}:3:", broken.display());
    assert!(screen.contains(&want), "{want} not in\n{screen}");
    // Still running: another template renders.
    c.type_text("j");
    c.key_enter();
    c.wait_text("new from the template internal");
    c.key_esc();
    c.key_esc();
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}

/// "N chars" from the editor's title.
fn editor_chars(screen: &str) -> Option<usize> {
    let at = screen.find("Edit  line ")?;
    let rest = &screen[at..];
    let end = rest.find(" chars")?;
    rest[..end].rsplit(' ').next()?.parse().ok()
}

#[test]
fn ctrl_n_goes_to_the_next_placeholder_and_one_ctrl_z_brings_back_a_killed_line() {
    let sb = Env::new();
    sb.ok(&[
        "incident",
        "new",
        "--title",
        "VPN gateway flapping",
        "--severity",
        "P2",
    ]);
    // Narrower than the side-by-side layout: the editor alone shows the text.
    let mut c = sb.console(100, 40, &[]);
    open_composer(&mut c, "VPN gateway flapping");
    c.key_enter();
    let screen = c.wait_text("new from the template customer");
    let start = editor_position(&screen).expect("the editor's position");
    // The editor opens on the first placeholder; typing goes there.
    c.type_text("Noted 4711 ");
    let screen = c.wait_text("Noted 4711 [FILL IN");
    let typed_at = editor_position(&screen).expect("position");
    assert_ne!(typed_at, start);
    // Ctrl-N: to the next placeholder, on a line further down.
    c.send(b"\x0e");
    let screen = c.wait_for("the next placeholder", Duration::from_secs(10), |s| {
        editor_position(s).is_some_and(|p| p != typed_at)
    });
    let at = editor_position(&screen).expect("position");
    let line = |p: &str| -> usize {
        p.trim_start_matches("line ")
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(line(&at) > line(&typed_at), "{typed_at} -> {at}");
    let before = editor_chars(&screen).expect("chars");
    let placeholders = screen.matches("[FILL IN").count();
    // Ctrl-K deletes the placeholder's line from the cursor on...
    c.send(b"\x0b");
    let screen = c.wait_for("the line killed", Duration::from_secs(10), |s| {
        editor_chars(s).is_some_and(|n| n < before)
    });
    assert!(
        screen.matches("[FILL IN").count() < placeholders,
        "{screen}"
    );
    // ...and one Ctrl-Z brings all of it back.
    c.send(b"\x1a");
    let screen = c.wait_for("the line back", Duration::from_secs(10), |s| {
        editor_chars(s) == Some(before)
    });
    assert_eq!(screen.matches("[FILL IN").count(), placeholders, "{screen}");
    assert_eq!(editor_position(&screen).as_deref(), Some(at.as_str()));
    assert!(screen.contains("Noted 4711 [FILL IN"), "{screen}");
    c.key_esc();
    c.key_esc();
    c.type_text("q");
    c.wait_text("Quit warroom?");
    c.type_text("y");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}
