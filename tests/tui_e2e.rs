//! End to end through a real pseudo-terminal: the built binary, keys typed
//! as a person would, the screen read back through a vt100 emulator, and the
//! database checked afterwards through the CLI.

mod common;

use std::time::Duration;

use common::Env;
use common::pty::find_id;

/// "Next update" countdown in the clocks pane, as seconds.
fn next_update_left(screen: &str) -> Option<i64> {
    let line = screen.lines().find(|l| l.contains("Next update"))?;
    // The due time comes first on the line; the countdown is the last time.
    line.split_whitespace()
        .rev()
        .find(|w| {
            w.contains(':')
                && w.len() >= 5
                && !w.starts_with('+')
                && w.chars().all(|c| c.is_ascii_digit() || c == ':')
        })
        .and_then(|w| {
            let parts: Vec<i64> = w.split(':').filter_map(|p| p.parse().ok()).collect();
            match parts[..] {
                [m, s] => Some(m * 60 + s),
                [h, m, s] => Some(h * 3600 + m * 60 + s),
                _ => None,
            }
        })
}

/// The parameter strings of every SGR (`CSI ... m`) sequence in `raw`.
fn sgr_params(raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < raw.len() {
        if raw[i] == 0x1b && raw[i + 1] == b'[' {
            let start = i + 2;
            let mut j = start;
            while j < raw.len() && !(0x40..=0x7e).contains(&raw[j]) {
                j += 1;
            }
            if j < raw.len() && raw[j] == b'm' {
                out.push(String::from_utf8_lossy(&raw[start..j]).into_owned());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The checklist item `id` of `incident show --json`.
fn checklist_item<'a>(incident: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    incident["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no checklist item {id} in {incident}"))
}

#[test]
fn declare_assign_tick_watch_the_clock_and_quit() {
    let sb = Env::new();
    let mut c = sb.console(120, 40, &[]);
    c.wait_text("No incidents yet");

    // Declare a P1 through the form.
    c.type_text("n");
    c.wait_text("New incident");
    c.type_text("Database exfiltration from prod replica");
    c.key_tab();
    c.type_text("1");
    c.key_tab();
    c.type_text("Large egress to an unknown ASN");
    c.key_enter();
    let screen = c.wait_text("Checklist");
    let id = find_id(&screen).expect("incident id on screen");
    assert!(
        screen.contains("Database exfiltration from prod replica"),
        "{screen}"
    );

    // Assign a commander by typing a name (the roster is empty): asked
    // whether to add it to the roster, n assigns it as typed.
    c.type_text("a");
    c.wait_text("Assign role");
    c.type_text("alice");
    c.key_enter();
    c.wait_text("Not in the roster: add alice?");
    c.type_text("n");
    c.wait_text("commander assigned: alice");

    // Tick the first checklist item.
    c.type_text(" ");
    c.wait_text("done: SIEM monitoring reviewed");
    let screen = c.wait_text("[x] SIEM monitoring reviewed");
    assert!(screen.contains("[x] SIEM monitoring reviewed"), "{screen}");

    // The clock counts down without a key press.
    let first = next_update_left(&screen).expect("next update countdown");
    let later = c.wait_for("the clock to tick", Duration::from_secs(8), |s| {
        next_update_left(s).is_some_and(|v| v < first)
    });
    assert!(next_update_left(&later).unwrap() < first);

    // Back to the board, where it is listed, then quit.
    c.key_esc();
    let board = c.wait_text("MOST URGENT CLOCK");
    assert!(board.contains(&id), "{board}");
    assert!(board.contains("alice"), "{board}");
    c.type_text("q");
    let status = c.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");

    // The database agrees.
    let v = sb.show_json(&id);
    assert_eq!(v["severity"], "P1");
    assert_eq!(v["title"], "Database exfiltration from prod replica");
    assert_eq!(v["summary"], "Large egress to an unknown ASN");
    assert_eq!(v["roles"]["commander"]["person"], "alice");
    assert_eq!(v["roles"]["commander"]["assigned_by"], "tester");
    let item = checklist_item(&v, "detect.siem");
    assert_eq!(item["state"], "done");
    assert_eq!(item["by"], "tester");
    // The terminal was restored: we left the alternate screen.
    let raw = c.raw();
    let tail = &raw[raw.len().saturating_sub(200)..];
    assert!(
        tail.windows(8).any(|w| w == b"\x1b[?1049l"),
        "no leave-alternate-screen at exit"
    );
}

#[test]
fn a_cli_change_appears_on_a_running_console() {
    let sb = Env::new();
    let id = sb.new_incident("Before the change", "P3");
    let mut c = sb.console(120, 40, &[]);
    c.wait_text("Before the change");
    sb.ok(&[
        "incident",
        "set",
        &id,
        "--title",
        "Changed from the CLI",
        "--severity",
        "P1",
    ]);
    // Polled once a second; allow a generous deadline on a busy machine.
    let screen = c.wait_for("the CLI change", Duration::from_secs(5), |s| {
        s.contains("Changed from the CLI")
    });
    assert!(screen.contains("P1"), "{screen}");

    // And in the incident view too.
    c.key_enter();
    c.wait_text("Checklist");
    sb.ok(&["incident", "assign", &id, "commander", "bob"]);
    c.wait_for("the assignment", Duration::from_secs(5), |s| {
        s.contains("commander assigned: bob")
    });
    c.key_esc();
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn sigterm_and_sighup_restore_the_terminal_and_keep_the_draft() {
    for signal in ["TERM", "HUP", "INT"] {
        let sb = Env::new();
        let mut c = sb.console(100, 30, &[]);
        c.wait_text("No incidents yet");
        c.type_text("n");
        c.wait_text("New incident");
        c.type_text("Half-typed when the link dropped");
        // Let an autosave tick pass, then signal.
        std::thread::sleep(Duration::from_millis(1300));
        let pid = c.pid().expect("pid").to_string();
        let ok = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        c.wait_exit(Duration::from_secs(10));
        let raw = c.raw();
        assert!(
            raw.windows(8).any(|w| w == b"\x1b[?1049l"),
            "SIG{signal}: terminal not restored"
        );
        // Next start restores the form with the text.
        let mut again = sb.console(100, 30, &[]);
        again.wait_text("Half-typed when the link dropped");
        again.wait_text("restored");
    }
}

#[test]
fn no_color_still_shows_state_in_text() {
    let sb = Env::new();
    // Detected ten minutes ago: the P1's customer notice is past its
    // five minutes' grace, so it is breached at once.
    sb.ok(&[
        "incident",
        "new",
        "--title",
        "Breached at once",
        "--severity",
        "P1",
        "--detected",
        "-10m",
    ]);
    let mut c = sb.console(120, 40, &[("NO_COLOR", "1")]);
    c.wait_text("BREACHED");
    std::thread::sleep(Duration::from_millis(300));
    let raw = c.raw();
    // No SGR sequence sets a foreground or background colour.
    let text = String::from_utf8_lossy(&raw);
    for params in sgr_params(&raw) {
        let first = params.split(';').next().unwrap_or("");
        let n: u32 = first.parse().unwrap_or(0);
        let colour = matches!(n, 30..=38 | 40..=48 | 90..=97 | 100..=107);
        assert!(!colour, "colour SGR {params:?} under NO_COLOR");
    }
    // The selection is visible by reverse video.
    assert!(
        text.contains("\x1b[7m"),
        "no reverse video for the selection"
    );
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));

    // Without NO_COLOR the same screen does use colour (so the check above
    // can tell the difference).
    let mut c = sb.console(120, 40, &[]);
    c.wait_text("BREACHED");
    std::thread::sleep(Duration::from_millis(300));
    let coloured = sgr_params(&c.raw()).iter().any(|p| {
        let n: u32 = p.split(';').next().unwrap_or("").parse().unwrap_or(0);
        matches!(n, 30..=38 | 90..=97)
    });
    assert!(coloured, "no colour without NO_COLOR");
    c.type_text("q");
    c.wait_exit(Duration::from_secs(10));
}

#[test]
fn two_consoles_editing_one_incident_keep_both_changes() {
    let sb = Env::new();
    let id = sb.new_incident("Shared incident", "P3");
    let mut a = sb.console_as("anna", 120, 40, &[]);
    let mut b = sb.console_as("ben", 120, 40, &[]);
    for c in [&mut a, &mut b] {
        c.wait_then_open("Shared incident");
    }
    // Anna raises the severity (P3 preselected; up twice is P1) ...
    a.type_text("s");
    a.wait_text("Set severity");
    a.type_text("kk");
    a.key_enter();
    // ... while Ben, whose screen still says P3, ticks an item.
    b.type_text(" ");
    a.wait_for("Ben's tick on Anna's screen", Duration::from_secs(5), |s| {
        s.contains("done: SIEM monitoring reviewed")
    });
    b.wait_for(
        "Anna's change on Ben's screen",
        Duration::from_secs(5),
        |s| s.contains("severity P3 → P1"),
    );
    for c in [&mut a, &mut b] {
        c.key_esc();
        c.type_text("q");
        assert!(c.wait_exit(Duration::from_secs(10)).success());
    }
    let v = sb.show_json(&id);
    assert_eq!(v["severity"], "P1");
    let siem = checklist_item(&v, "detect.siem").clone();
    assert_eq!(siem["state"], "done");
    assert_eq!(siem["by"], "ben");
    let actors: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["actor"].as_str())
        .collect();
    assert!(
        actors.contains(&"anna") && actors.contains(&"ben"),
        "{actors:?}"
    );
}

#[test]
fn resizing_mid_form_shows_too_small_then_the_form_again() {
    let sb = Env::new();
    let mut c = sb.console(100, 30, &[]);
    c.wait_text("No incidents yet");
    c.type_text("n");
    c.wait_text("New incident");
    c.type_text("Typed before the resize");
    c.resize(30, 10);
    c.wait_text("too small");
    c.resize(1, 1);
    std::thread::sleep(Duration::from_millis(300));
    c.resize(80, 24);
    c.wait_text("Typed before the resize");
    c.key_esc();
    c.type_text("q");
    c.wait_text("Quit warroom?");
    c.type_text("y");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}
