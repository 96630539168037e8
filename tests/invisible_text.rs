//! Invisible, reordering and line-breaking characters in incident text and
//! log lines: every text output marks them (`<U+00AD>`), every `--json`
//! output escapes them (`\u00ad`), and an outgoing message cannot carry a
//! lone carriage return or a bidi control.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Env, assert_fails};
use serde_json::Value;

/// Characters the adversarial review saw pass raw: a soft hyphen (so
/// "pay\u{ad}pal" read as "paypal"), line and paragraph separators, a tag
/// character, a Mongolian vowel separator, a Hangul filler, a musical
/// symbol format character, an Arabic number sign, a combining grapheme
/// joiner.
const HIDDEN: &[char] = &[
    '\u{ad}',
    '\u{2028}',
    '\u{2029}',
    '\u{e0041}',
    '\u{180e}',
    '\u{3164}',
    '\u{1d173}',
    '\u{600}',
    '\u{34f}',
];

/// What JSON must escape beyond those: C1 controls, DEL, bidi controls.
const RAW_IN_JSON: &[char] = &['\u{9b}', '\u{85}', '\u{7f}', '\u{202e}', '\u{2067}'];

fn title() -> String {
    let mut t = String::from("pay\u{ad}pal login");
    for c in HIDDEN {
        t.push(' ');
        t.push(*c);
    }
    t
}

/// `text` holds none of the hidden characters raw, and shows the soft
/// hyphen as a visible mark.
fn assert_marked(what: &str, text: &str) {
    for c in HIDDEN.iter().chain(RAW_IN_JSON) {
        assert!(!text.contains(*c), "{what}: raw {c:?} in {text:?}");
    }
    assert!(
        text.contains("U+00AD"),
        "{what}: soft hyphen not shown: {text}"
    );
}

#[test]
fn cli_text_reports_custody_log_and_outbox_mark_invisible_characters() {
    let env = Env::new();
    let outbox = env.dir.path().join("outbox");
    let config = env.dir.path().join("xdg-config/warroom");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("comms.toml"),
        format!(
            "[[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"{}\"\n",
            outbox.display()
        ),
    )
    .unwrap();
    let title = title();
    let id = env.new_incident(&title, "P2");
    env.ok(&["incident", "note", &id, &title]);
    env.ok(&[
        "evidence",
        "add",
        &id,
        "--note",
        &title,
        "--description",
        &title,
    ]);
    env.ok(&[
        "evidence",
        "transfer",
        &id,
        "1",
        "--to",
        &title,
        "--purpose",
        &title,
    ]);

    assert_marked("incident list", &env.ok(&["incident", "list"]));
    let show = env.ok(&["incident", "show", &id]);
    assert_marked("incident show", &show);
    assert!(show.contains("pay<U+00AD>pal"), "{show}");
    assert_marked("evidence list", &env.ok(&["evidence", "list", &id]));
    for format in ["md", "html"] {
        let report = env.ok(&["report", &id, "--format", format]);
        assert_marked(format, &report);
    }
    let bundle = env.dir.path().join("bundle");
    env.ok(&["evidence", "export", &id, "--out", bundle.to_str().unwrap()]);
    let custody = std::fs::read_to_string(bundle.join("custody.log")).unwrap();
    assert_marked("custody.log", &custody);

    // A drafted message shows the title marked; sent as drafted, the
    // outbox file carries the mark, not the invisible character.
    let draft = env.ok(&["notify", "draft", &id, "--template", "internal"]);
    assert_marked("notify draft", &draft);
    let mut filled = draft.clone();
    while let Some(start) = filled.find("[FILL IN:") {
        let end = start + filled[start..].find(']').unwrap();
        filled.replace_range(start..=end, "filled in");
    }
    let body = env.dir.path().join("body.txt");
    std::fs::write(&body, &filled).unwrap();
    env.ok(&[
        "notify",
        "send",
        &id,
        "--audience",
        "internal",
        "--file",
        body.to_str().unwrap(),
        "--sink",
        "outbox",
    ]);
    let sent = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "eml"))
        .expect("an outbox file");
    // The outbox holds a whole mail message (its body may be encoded).
    let raw = std::fs::read(sent).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_marked("outbox", &mail.body_text(0).unwrap());
}

#[test]
fn json_output_escapes_c1_del_bidi_and_invisible_characters() {
    let env = Env::new();
    let mut title = title();
    title.extend(RAW_IN_JSON);
    let id = env.new_incident(&title, "P2");
    env.ok(&["evidence", "add", &id, "--note", &title]);
    let outputs = [
        vec!["incident", "show", id.as_str(), "--json"],
        vec!["incident", "list", "--json"],
        vec!["evidence", "list", id.as_str(), "--json"],
        vec!["report", id.as_str(), "--format", "json"],
    ];
    for args in outputs {
        let out = env.ok(&args);
        for c in HIDDEN.iter().chain(RAW_IN_JSON) {
            assert!(!out.contains(*c), "{args:?}: raw {c:?}");
        }
        for escape in [r"\u00ad", r"\u009b", r"\u007f", r"\u202e", r"\udb40\udc41"] {
            assert!(out.contains(escape), "{args:?}: no {escape} in {out}");
        }
        // The same data for a JSON reader.
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v.to_string().contains(&title), "{args:?}");
    }
    assert_eq!(env.json(&["incident", "show", &id])["title"], title);
}

fn hostile_log(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let rules = dir.join("rules.yml");
    std::fs::write(
        &rules,
        "events:\n  refused:\n    match:\n      - 'login refused for (?P<user>.+)$'\n\
         rules:\n  - rule: Refused login\n    condition: refused\n    group_by: user\n    severity: high\n",
    )
    .unwrap();
    let log = dir.join("app.log");
    std::fs::write(
        &log,
        "2026-03-01T10:00:00Z h app: login refused for pay\u{ad}pal\u{2028}x\u{e0041}\u{202e}y\u{85}\n",
    )
    .unwrap();
    (rules, log)
}

#[test]
fn scan_output_marks_and_scan_json_escapes_invisible_characters() {
    let env = Env::new();
    let (rules, log) = hostile_log(env.dir.path());
    let (rules, log) = (rules.to_str().unwrap(), log.to_str().unwrap());
    let text = env.ok(&["scan", "--rules", rules, "--", log]);
    assert_marked("scan", &text);
    assert!(text.contains("pay<U+00AD>pal<U+2028>x<U+E0041>"), "{text}");
    let json = env.ok(&["scan", "--json", "--rules", rules, "--", log]);
    assert!(
        !json
            .chars()
            .any(|c| HIDDEN.contains(&c) || RAW_IN_JSON.contains(&c))
    );
    assert!(
        json.contains(r"pay\u00adpal\u2028x\udb40\udc41\u202ey\u0085"),
        "{json}"
    );
}

fn stop(child: Child) -> String {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn watch_output_marks_invisible_characters() {
    let env = Env::new();
    let (rules, log) = hostile_log(env.dir.path());
    let child = env
        .cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50", "--rules"])
        .arg(&rules)
        .arg("--")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The detection is committed (with its incident) once it is read.
    let started = Instant::now();
    loop {
        let list = env.ok(&["incident", "list"]);
        if list.contains("Refused login") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{list}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = stop(child);
    assert_marked("watch", &out);
}

#[test]
fn the_console_marks_invisible_characters() {
    let sb = Env::new();
    sb.ok(&["incident", "new", "--title", &title(), "--severity", "P2"]);
    let mut c = sb.console(120, 40, &[]);
    c.wait_text("pay<U+00AD>pal");
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));
    let raw = String::from_utf8_lossy(&c.raw()).into_owned();
    for ch in HIDDEN {
        assert!(!raw.contains(*ch), "raw {ch:?} reached the terminal");
    }
}

#[test]
fn messages_with_a_lone_carriage_return_or_bidi_control_are_refused() {
    let env = Env::new();
    let config = env.dir.path().join("xdg-config/warroom");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("comms.toml"),
        format!(
            "[[sinks]]\nname = \"outbox\"\nkind = \"outbox\"\ndir = \"{}\"\n",
            env.dir.path().join("outbox").display()
        ),
    )
    .unwrap();
    let id = env.new_incident("Login API down", "P2");
    let body = env.dir.path().join("body.txt");
    for (text, needle) in [
        (
            "Status: all good\rStatus: BREACH\n",
            "line 1: a carriage return without a line feed",
        ),
        (
            "See \u{202e}fdp.exe\n",
            "line 1: bidirectional control U+202E",
        ),
    ] {
        std::fs::write(&body, text).unwrap();
        let out = env.run(&[
            "notify",
            "send",
            &id,
            "--audience",
            "internal",
            "--file",
            body.to_str().unwrap(),
        ]);
        assert_fails(&out, 2, needle);
    }
    let sent = env.json(&["notify", "list", &id]);
    assert_eq!(
        sent.as_array().map(Vec::len),
        Some(0),
        "nothing recorded: {sent}"
    );
}

#[test]
fn checklist_text_from_a_playbook_file_is_shown_marked() {
    let env = Env::new();
    let config = env.dir.path().join("xdg-config/warroom");
    std::fs::create_dir_all(&config).unwrap();
    let playbook = include_str!("../assets/playbook.toml").replace(
        "SIEM monitoring reviewed",
        "SIEM \\u001b]0;owned\\u0007 pay\\u00adpal",
    );
    std::fs::write(config.join("playbook.toml"), playbook).unwrap();
    let id = env.new_incident("Login API down", "P2");
    let show = env.ok(&["incident", "show", &id]);
    assert!(
        !show.contains('\u{1b}') && !show.contains('\u{7}'),
        "{show:?}"
    );
    assert_marked("checklist", &show);
    assert!(show.contains("SIEM ␛]0;owned␇ pay<U+00AD>pal"), "{show}");
}
