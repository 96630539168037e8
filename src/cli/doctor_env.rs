//! The checks of `warroom doctor` that look at the operator's session
//! rather than warroom's files: the desktop bus, the terminal and the
//! clock's time zone.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::finding::Finding;

/// The smallest terminal the console draws in.
const MIN_COLS: u16 = 80;
const MIN_ROWS: u16 = 24;

/// The desktop bus: present or not. Never a failure: without one, alerts
/// still show in every console and go out through the sinks.
pub fn desktop_bus() -> Finding {
    const C: &str = "desktop";
    let Some(addr) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|a| !a.is_empty()) else {
        return Finding::note(
            C,
            "no session bus: no desktop notifications (alerts still show in consoles and go to the sinks)",
        );
    };
    let addr = addr.to_string_lossy().into_owned();
    let socket = addr
        .split([';', ','])
        .find_map(|part| part.split_once("path=").map(|(_, p)| PathBuf::from(p)));
    match socket {
        Some(p) if !p.exists() => Finding::note(
            C,
            format!(
                "session bus {addr} is configured but its socket is gone: no desktop notifications"
            ),
        ),
        _ => Finding::ok(
            C,
            format!("session bus present ({addr}): alerts also show as desktop notifications"),
        ),
    }
}

/// The terminal the console would draw in: size and colour.
pub fn terminal() -> Vec<Finding> {
    const C: &str = "terminal";
    if !std::io::stdout().is_terminal() {
        return vec![Finding::note(
            C,
            "stdout is not a terminal; run doctor in the terminal you open the console in to check it",
        )];
    }
    let mut out = Vec::new();
    let term = std::env::var("TERM").unwrap_or_default();
    if term.is_empty() || term == "dumb" {
        out.push(Finding::fail(
            C,
            format!(
                "TERM is {}: the console cannot draw",
                if term.is_empty() { "not set" } else { "dumb" }
            ),
            "set TERM to your terminal's type, e.g. export TERM=xterm-256color",
        ));
    }
    match crossterm::terminal::size() {
        Ok((cols, rows)) if cols < MIN_COLS || rows < MIN_ROWS => out.push(Finding::fail(
            C,
            format!("{cols}x{rows} is smaller than the console's {MIN_COLS}x{MIN_ROWS}"),
            format!("enlarge the window (or the tmux pane) to at least {MIN_COLS}x{MIN_ROWS}"),
        )),
        Ok((cols, rows)) => out.push(Finding::ok(
            C,
            format!("{cols}x{rows}, {}", colour_support(&term)),
        )),
        Err(e) => out.push(Finding::fail(
            C,
            format!("cannot read the terminal's size: {e}"),
            "run doctor in a real terminal",
        )),
    }
    out
}

fn colour_support(term: &str) -> String {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return "NO_COLOR set: no colour (state is never shown by colour alone)".into();
    }
    let truecolor = std::env::var("COLORTERM").is_ok_and(|c| c == "truecolor" || c == "24bit");
    if truecolor {
        "24-bit colour".into()
    } else if term.contains("256color") {
        "256 colours".into()
    } else {
        format!("basic colours (TERM={term})")
    }
}

/// The clock's time zone: a `TZ` that names no zone makes local times
/// (and zone-less log stamps read in them) silently UTC.
pub fn time_zone() -> Finding {
    const C: &str = "time zone";
    let zoneinfo = Path::new("/usr/share/zoneinfo");
    let offset = chrono::Local::now().format("%:z").to_string();
    if let Some(tz) = std::env::var_os("TZ") {
        let tz = tz.to_string_lossy().into_owned();
        let name = tz.strip_prefix(':').unwrap_or(&tz);
        let known = if name.starts_with('/') {
            Path::new(name).is_file()
        } else {
            // A POSIX rule such as "CET-1CEST" carries its offset itself.
            zoneinfo.join(name).is_file() || name.chars().any(|c| c.is_ascii_digit())
        };
        return if name.is_empty() || known {
            Finding::ok(
                C,
                format!("TZ={tz} (UTC{offset} now); warroom stores and shows UTC"),
            )
        } else if !zoneinfo.is_dir() {
            Finding::fail(
                C,
                format!("TZ={tz} but this host has no zone database"),
                "install it: apt install tzdata",
            )
        } else {
            Finding::fail(
                C,
                format!("TZ={tz} names no known zone: local times are taken as UTC"),
                "set TZ to a zone from timedatectl list-timezones (e.g. TZ=Europe/Berlin), or unset it",
            )
        };
    }
    match std::fs::read_link("/etc/localtime") {
        Ok(target) => {
            let t = target.to_string_lossy();
            let name = t.split("zoneinfo/").nth(1).unwrap_or(&t);
            Finding::ok(
                C,
                format!("{name} (UTC{offset} now); warroom stores and shows UTC"),
            )
        }
        Err(_) if Path::new("/etc/localtime").exists() => Finding::ok(
            C,
            format!("/etc/localtime (UTC{offset} now); warroom stores and shows UTC"),
        ),
        Err(_) => Finding::note(
            C,
            "no /etc/localtime: the local zone is UTC (zone-less log stamps are read as UTC)",
        ),
    }
}
