//! The evidence, review, report, closing gate and metrics screens end to
//! end: the built binary in a pseudo-terminal on a real database, keys typed
//! as a person would, the screen read back through vt100, and the database
//! checked afterwards through the CLI.

mod common;

use std::time::Duration;

use common::Env;
use common::pty::Console;
use serde_json::Value;

fn json(sb: &Env, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&sb.ok(&a)).expect("json")
}

/// Custody events of item `n` (1-based position) with `action`.
fn custody<'a>(list: &'a Value, n: usize, action: &str) -> Vec<&'a Value> {
    list["items"][n - 1]["custody"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .collect()
}

/// u on an incident page, then closed (the last status) and Enter.
fn choose_status_closed(c: &mut Console) {
    c.type_text("u");
    c.wait_text("Set status");
    for _ in 0..6 {
        c.type_text("j");
    }
    c.key_enter();
}

#[test]
fn evidence_review_and_report_from_the_console() {
    let sb = Env::new();
    let id = sb.new_incident("Web shell on www-3", "P2");
    let log = sb.dir.path().join("access.log");
    std::fs::write(&log, "GET /uploads/shell.php?c=id 200\n").unwrap();
    sb.ok(&["evidence", "add", &id, "--file", log.to_str().unwrap()]);
    sb.ok(&["evidence", "add", &id, "--note", "seen by the WAF first"]);

    let mut c = sb.console(120, 40, &[]);
    c.wait_then_open("Web shell on www-3");

    // e: the evidence list, with hashes, the custody log, and its opening
    // recorded once (not on every redraw or poll: stay a few ticks).
    c.type_text("e");
    c.wait_text("Chain of custody of #1");
    let screen = c.wait_text("access.log");
    assert!(screen.contains("unchecked"), "{screen}");
    std::thread::sleep(Duration::from_millis(2500));

    // a: add a note through the dialog.
    c.type_text("a");
    c.wait_text("Add evidence to");
    c.type_text("Attacker used VPN exit 198.51.100.7");
    c.key_enter();
    c.wait_text("evidence #3 stored");
    // A file by its path: the kind chosen by its initial, the path typed.
    let dump = sb.dir.path().join("proc-dump.bin");
    std::fs::write(&dump, b"\x00\x01binary\xff").unwrap();
    c.type_text("a");
    c.wait_text("Add evidence to");
    c.send(b"\x1b[Z"); // Shift-Tab: to the kind
    c.type_text("f");
    c.wait_text("File path");
    c.key_tab();
    c.type_text(dump.to_str().unwrap());
    c.key_enter();
    c.wait_text("evidence #4 stored");
    // v: verify every item; the result shows per item.
    c.type_text("v");
    c.wait_text("4 item(s) verified, every hash matches");
    c.wait_text("ok ");
    // t: transfer the selected item.
    c.type_text("t");
    c.wait_text("Transfer evidence #1");
    c.type_text("forensics-lab");
    c.key_tab();
    c.type_text("disk imaging");
    c.key_enter();
    c.wait_text("transferred evidence-store → forensics-lab");
    // h: a legal hold needs a reason.
    c.type_text("h");
    c.wait_text("under legal hold");
    c.key_enter();
    c.wait_text("a reason is required");
    c.type_text("litigation: case 17");
    c.key_enter();
    c.wait_text("LEGAL HOLD");

    // r: the review, edited field by field.
    c.key_esc();
    c.wait_text("Checklist");
    c.type_text("r");
    c.wait_text("Closing gate");
    c.key_enter();
    c.wait_text("Incident statement (");
    c.type_text("Web shell uploaded through a CMS plugin");
    c.send(b"\x13"); // Ctrl-S: review texts take several lines
    c.wait_text("review saved");
    c.type_text("j");
    c.key_enter();
    c.wait_text("Why 1 (");
    c.type_text("The plugin was two years out of date");
    c.send(b"\x13"); // Ctrl-S
    c.wait_for("the why", Duration::from_secs(10), |s| {
        s.contains("Why 1:") && s.contains("two years out of date")
    });
    // a: a corrective action with an owner and a due date.
    c.type_text("a");
    c.wait_text("Add a corrective action");
    c.type_text("Patch CMS plugins weekly");
    c.key_tab();
    c.type_text("ops-team");
    c.key_tab();
    c.type_text("2026-13-01");
    c.key_enter();
    c.wait_text("is not a date");
    for _ in 0..5 {
        c.send(b"\x7f");
    }
    c.type_text("12-01");
    c.key_enter();
    c.wait_text("corrective action #1 added");
    c.wait_text("[open] Patch CMS plugins weekly");

    // R: the report, HTML chosen in the picker, named after the incident
    // in the directory warroom was started in.
    c.key_esc();
    c.wait_text("Checklist");
    c.type_text("R");
    c.wait_text("Write the report of");
    c.send(b"\x1b[Z"); // Shift-Tab: to the format
    c.send(b"\x1b[C"); // →: HTML
    c.wait_text(&format!("{id}.html"));
    c.key_enter();
    let html = sb.dir.path().join(format!("{id}.html"));
    c.wait_text("HTML report written to");
    c.key_esc();
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());

    let page = std::fs::read_to_string(&html).expect("report written");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Web shell uploaded through a CMS plugin"));

    let list = json(&sb, &["evidence", "list", &id]);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[3]["kind"], "file");
    assert_eq!(items[3]["source_path"], dump.to_str().unwrap());
    assert_eq!(items[3]["size"], 9);
    assert_eq!(
        items[3]["sha256"],
        warroom::domain::evidence::sha256_hex(&std::fs::read(&dump).unwrap()).as_str()
    );
    assert_eq!(items[2]["kind"], "note");
    assert_eq!(items[2]["content"], "Attacker used VPN exit 198.51.100.7");
    assert_eq!(items[2]["collected_by"], "tester");
    // One access per item for the one opening of the list; items 1 and 2
    // existed then, item 3 did not.
    for n in [1, 2] {
        let viewed: Vec<_> = custody(&list, n, "accessed")
            .into_iter()
            .filter(|c| c["purpose"] == "viewed in the console's evidence list")
            .collect();
        assert_eq!(viewed.len(), 1, "item {n}: {list}");
        assert_eq!(viewed[0]["to"], "tester");
    }
    // The report was an access to every item too.
    for n in [1, 2, 3, 4] {
        let reported = custody(&list, n, "accessed")
            .into_iter()
            .filter(|c| {
                c["purpose"]
                    .as_str()
                    .unwrap()
                    .starts_with("included in a report (html) written to ")
            })
            .count();
        assert_eq!(reported, 1, "item {n}");
        assert_eq!(custody(&list, n, "verified").len(), 1);
    }
    let moved = custody(&list, 1, "transferred");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["to"], "forensics-lab");
    assert_eq!(moved[0]["purpose"], "disk imaging");
    assert_eq!(list["legal_hold"]["reason"], "litigation: case 17");

    let review = json(&sb, &["review", "show", &id]);
    assert_eq!(
        review["statement"], "Web shell uploaded through a CMS plugin",
        "{review}"
    );
    assert_eq!(review["whys"][0], "The plugin was two years out of date");
    assert_eq!(review["actions"][0]["owner"], "ops-team");
    assert_eq!(review["actions"][0]["due"], "2026-12-01");
    sb.ok(&["verify"]);
}

#[test]
fn closing_gate_refuses_then_the_commander_overrides_and_metrics_show() {
    let sb = Env::new();
    let id = sb.new_incident("Phished finance mailbox", "P3");
    sb.ok(&["incident", "assign", &id, "commander", "tester"]);

    let mut c = sb.console(100, 30, &[]);
    c.wait_then_open("Phished finance mailbox");
    // u: status; closed is the last choice.
    choose_status_closed(&mut c);
    // The store's refusal, and the override offered to the commander.
    c.wait_text("cannot be closed");
    c.wait_text("You are the commander");
    c.key_enter();
    c.wait_text("an override needs a reason");
    c.type_text("Customer asked; review tracked in FIN-12");
    c.key_enter();
    c.wait_text("closed: review and checklist gate overridden");

    // M: metrics from the board (the closed incident is hidden there),
    // with the drill toggle.
    c.key_esc();
    c.wait_text("Sort urgency");
    c.type_text("M");
    c.wait_text("By severity");
    c.wait_text("SLA compliance");
    c.wait_text("drills excluded");
    c.type_text("d");
    c.wait_text("drills included");
    c.key_esc();
    c.wait_text("Sort urgency");
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());

    let v = sb.show_json(&id);
    assert_eq!(v["status"], "closed");
    let over: Vec<&Value> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "review.gate_overridden")
        .collect();
    assert_eq!(over.len(), 1, "{v}");
    assert_eq!(over[0]["actor"], "tester");
    assert!(
        over[0]["detail"]
            .as_str()
            .unwrap()
            .contains("Customer asked; review tracked in FIN-12")
    );
}

#[test]
fn a_closing_refused_to_someone_else_is_explained_and_nothing_changes() {
    let sb = Env::new();
    let id = sb.new_incident("Lost laptop", "P4");
    sb.ok(&["incident", "assign", &id, "commander", "alice"]);
    let mut c = sb.console(100, 30, &[]);
    c.wait_then_open("Lost laptop");
    choose_status_closed(&mut c);
    c.wait_text("Only the commander (alice) may close anyway");
    c.type_text("I want it closed");
    c.key_enter();
    c.wait_text("review and checklist gate, not tester");
    c.key_esc();
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
    let v = sb.show_json(&id);
    assert_eq!(v["status"], "investigating");
}

#[test]
fn hostile_text_in_evidence_and_review_never_reaches_the_terminal() {
    const OSC52: &str = "\u{1b}]52;c;ZXZpbA==\u{7}clip";
    const CSI: &str = "\u{1b}[2J\u{1b}[31mwiped";
    const BIDI: &str = "invoice\u{202E}fdp.exe";
    const C1: &str = "\u{9b}2Jc1";
    let sb = Env::new();
    let id = sb.new_incident("Hostile records", "P3");
    let lines = format!("{OSC52}\n{CSI}\n{BIDI}\n{C1}\n");
    sb.ok(&[
        "evidence",
        "add",
        &id,
        "--excerpt",
        &lines,
        "--source-path",
        OSC52,
        "--description",
        CSI,
    ]);
    sb.ok(&["evidence", "add", &id, "--note", BIDI, "--description", C1]);
    sb.ok(&[
        "evidence",
        "transfer",
        &id,
        "1",
        "--to",
        OSC52,
        "--purpose",
        CSI,
    ]);
    sb.ok(&["incident", "hold", &id, "--reason", OSC52]);
    sb.ok(&[
        "review",
        "set",
        &id,
        "--statement",
        OSC52,
        "--why",
        CSI,
        "--why",
        BIDI,
        "--root-cause",
        C1,
        "--lessons",
        &lines,
    ]);
    sb.ok(&[
        "review",
        "action",
        "add",
        &id,
        "--description",
        CSI,
        "--owner",
        OSC52,
    ]);

    let mut c = sb.console(120, 40, &[]);
    c.wait_then_open("Hostile records");
    c.type_text("e");
    // Made visible: ESC as ␛, bidi as <U+202E>.
    c.wait_text("␛]52;c;ZXZpbA==␇clip");
    c.type_text("j");
    c.wait_text("<U+202E>fdp.exe");
    c.key_esc();
    c.wait_text("Checklist");
    c.type_text("r");
    c.wait_text("Closing gate");
    for _ in 0..12 {
        c.type_text("j");
    }
    c.wait_text("[open]");
    c.key_esc();
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));

    let raw = c.raw();
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"\x1b]"), "an OSC sequence reached the terminal");
    assert!(!raw.contains(&0x07), "a BEL reached the terminal");
    assert!(!contains(b"\x1b[2J\x1b[31mwiped"));
    assert!(!contains("\u{202E}".as_bytes()));
    assert!(!contains("\u{9b}".as_bytes()));
}
