//! The checks of what the watcher reads: rule files, log files (type,
//! owner, readable by this user) and the journal (`journalctl` found and
//! readable). Like the other checks, none changes anything it looks at.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::doctor_host::{effective_uid, group_id, group_name, my_groups, user};
use super::finding::Finding;
use crate::detect::RuleSet;
use crate::detect::setup::WatchSetup;

/// The rule files watch.toml names (or the shipped ones) and any given with
/// `--rules` load, and none is refused.
pub fn rules(watch: Option<&WatchSetup>, extra: &[PathBuf]) -> Vec<Finding> {
    const C: &str = "rules";
    let mut sets: Vec<(String, RuleSet)> = Vec::new();
    match watch.map(|w| w.rules.clone()).filter(|r| !r.is_empty()) {
        Some(files) => sets.push((list(&files), RuleSet::load(&files))),
        None => sets.push(("the shipped rules".into(), RuleSet::builtin())),
    }
    if !extra.is_empty() {
        sets.push((list(extra), RuleSet::load(extra)));
    }
    let mut out = Vec::new();
    for (what, set) in sets {
        if set.problems.is_empty() && !set.rules.is_empty() {
            out.push(Finding::ok(
                C,
                format!("{what}: {} rules load, none refused", set.rules.len()),
            ));
            continue;
        }
        if set.rules.is_empty() && set.problems.is_empty() {
            out.push(Finding::fail(
                C,
                format!("{what}: no rules"),
                "give rule files that hold rules (see man 5 warroom-rules)",
            ));
        }
        for p in &set.problems {
            out.push(Finding::fail(
                C,
                format!("{p} (rule refused)"),
                format!("correct the rule at the place named; warroom rules check {what} lists every problem (see man 5 warroom-rules)"),
            ));
        }
    }
    out
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each file the watcher follows (watch.toml's `logs`, and `--log`)
/// exists and is readable by this user.
pub fn sources(watch: Option<&WatchSetup>, extra: &[PathBuf]) -> Vec<Finding> {
    let mut patterns: Vec<PathBuf> = watch.map(|w| w.logs.clone()).unwrap_or_default();
    patterns.extend(extra.iter().cloned());
    let mut out = Vec::new();
    for pattern in patterns {
        let text = pattern.to_string_lossy().into_owned();
        if text.contains(['*', '?', '[']) {
            let matches: Vec<PathBuf> = glob::glob(&text)
                .map(|g| g.filter_map(Result::ok).collect())
                .unwrap_or_default();
            if matches.is_empty() {
                out.push(Finding::fail(
                    "source",
                    format!("{text} matches no file"),
                    "check the pattern; on a host without rsyslog (no /var/log/auth.log) follow the journal instead",
                ));
            }
            out.extend(matches.iter().map(|m| log_file(m)));
        } else {
            out.push(log_file(&pattern));
        }
    }
    out
}

fn log_file(path: &Path) -> Finding {
    const C: &str = "source";
    let shown = path.display();
    match std::fs::File::open(path) {
        Ok(f) => match f.metadata() {
            Ok(m) if m.is_file() => Finding::ok(C, format!("{shown} is readable")),
            _ => Finding::fail(
                C,
                format!("{shown} is not a regular file"),
                "follow log files only",
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Finding::fail(
            C,
            format!("{shown} does not exist"),
            "fix the path; on a host without rsyslog (no /var/log/auth.log) follow the journal instead",
        ),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let group = std::fs::metadata(path)
                .ok()
                .and_then(|m| group_name(m.gid()));
            let fix = match group {
                Some(g) if g != "root" => format!(
                    "add {u} to the group {g} that may read it: sudo usermod -aG {g} {u} (then log in again)",
                    u = user()
                ),
                _ => format!(
                    "let {} read it: sudo setfacl -m u:{}:r {shown}",
                    user(),
                    user()
                ),
            };
            Finding::fail(C, format!("{shown} is not readable by {}", user()), fix)
        }
        Err(e) => Finding::fail(
            C,
            format!("{shown}: cannot open: {e}"),
            "check the path and its directories",
        ),
    }
}

/// Whether this user can read the whole system journal: `journalctl -n 0
/// -q` runs cleanly, and the user is root or in `systemd-journal` or `adm`
/// (without either, journalctl shows only the user's own entries and says
/// so only as a hint). One function, so a journal source in watch.toml can
/// call it too.
pub fn journal() -> Finding {
    const C: &str = "journal";
    let fix_group = format!(
        "add {u} to the systemd-journal group: sudo usermod -aG systemd-journal {u} (then log in again; for the service, SupplementaryGroups=systemd-journal)",
        u = user()
    );
    let run = Command::new("journalctl")
        .args(["-n", "0", "-q", "--no-pager"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let out = match run {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Finding::fail(
                C,
                "journalctl is not installed",
                "install systemd's journalctl (apt install systemd), or follow log files instead",
            );
        }
        Err(e) => {
            return Finding::fail(
                C,
                format!("journalctl cannot run: {e}"),
                "check that journalctl is executable",
            );
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    if !out.status.success() {
        let detail = if first.is_empty() {
            format!("journalctl failed ({})", out.status)
        } else {
            format!("journalctl failed: {first}")
        };
        return Finding::fail(C, detail, fix_group);
    }
    let privileged = effective_uid() == 0
        || ["systemd-journal", "adm"]
            .iter()
            .filter_map(|g| group_id(g))
            .any(|gid| my_groups().contains(&gid));
    if !privileged || stderr.contains("not seeing messages from other users") {
        return Finding::fail(
            C,
            format!(
                "{} sees only their own journal entries, not sshd's or sudo's",
                user()
            ),
            fix_group,
        );
    }
    Finding::ok(C, "the system journal is readable")
}
