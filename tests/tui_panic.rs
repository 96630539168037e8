//! A panic inside the console puts the terminal back: the panic hook leaves
//! the alternate screen, shows the cursor and turns raw mode off. The
//! panicking side runs as a child copy of this test binary in a pty.

use std::io::Read;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const CHILD_VAR: &str = "WARROOM_TEST_PANIC_CHILD";

/// Runs only as the child: sets the terminal up as the console does, then panics.
#[test]
fn panicking_child() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    let _term = warroom::tui::shell::terminal::enter().expect("terminal");
    panic!("deliberate panic inside the console");
}

#[test]
fn a_panic_restores_the_terminal() {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let mut cmd = CommandBuilder::new(std::env::current_exe().expect("test binary"));
    cmd.args([
        "panicking_child",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env(CHILD_VAR, "1");
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).expect("spawn");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("reader");
    let collector = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&out).contains("test result") {
                break;
            }
        }
        out
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "child hung");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "the child was meant to panic");
    // Raw mode is off again: the line discipline is back to canonical/echo.
    if let Some(termios) = pair.master.get_termios() {
        let flags = format!("{:?}", termios.local_flags);
        assert!(flags.contains("ICANON"), "still raw after panic: {flags}");
        assert!(flags.contains("ECHO"), "echo off after panic: {flags}");
    }
    drop(pair.master);
    let raw = collector.join().expect("reader thread");
    let text = String::from_utf8_lossy(&raw);
    let entered = text
        .find("\x1b[?1049h")
        .expect("entered the alternate screen");
    let left = text
        .rfind("\x1b[?1049l")
        .expect("left the alternate screen");
    assert!(left > entered);
    assert!(text[left..].contains("\x1b[?25h") || text[entered..].contains("\x1b[?25h"));
    assert!(
        text[left..].contains("deliberate panic"),
        "the panic message shows after the restore, on the normal screen"
    );
}
