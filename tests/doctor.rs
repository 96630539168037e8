//! `warroom doctor`: a healthy setup passes (exit 0); each broken part of a
//! setup fails (exit 1) with the fix named.

mod common;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::Env;

/// A setup doctor finds healthy: a database made by warroom, a command
/// sink reaching customers, a watch.toml following a readable file with a
/// sound rule file.
struct Setup {
    env: Env,
}

const GOOD_RULES: &str = "events:\n  boom:\n    match: 'boom from (?P<src>\\S+)'\nrules:\n  - rule: Boom\n    condition: boom\n    severity: low\n";

impl Setup {
    fn healthy() -> Setup {
        let env = Env::new();
        env.new_incident("Doctor drill", "P3");
        let s = Setup { env };
        std::fs::create_dir_all(s.config()).unwrap();
        s.write("rules.yml", GOOD_RULES);
        std::fs::write(s.log(), "boom from 192.0.2.1\n").unwrap();
        s.write(
            "comms.toml",
            "[audiences.customers]\nto = [\"c@example.com\"]\n\n[[sinks]]\nname = \"mail\"\nkind = \"command\"\nargv = [\"/bin/cat\"]\n",
        );
        s.write_watch(&[s.log()], &[s.config().join("rules.yml")]);
        s
    }

    fn config(&self) -> PathBuf {
        self.env.dir.path().join("xdg-config/warroom")
    }

    fn log(&self) -> PathBuf {
        self.env.dir.path().join("auth.log")
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.config().join(name), text).unwrap();
    }

    fn write_watch(&self, logs: &[PathBuf], rules: &[PathBuf]) {
        let list = |v: &[PathBuf]| {
            v.iter()
                .map(|p| format!("{:?}", p.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.write(
            "watch.toml",
            &format!("logs = [{}]\nrules = [{}]\n", list(logs), list(rules)),
        );
    }

    fn doctor(&self, args: &[&str]) -> Output {
        let mut c = self.env.cmd();
        c.env("TZ", "UTC").arg("doctor").args(args);
        c.output().expect("run warroom doctor")
    }
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit 1, and a FAIL line mentioning `problem` followed by a fix naming `fix`.
fn assert_fix(out: &Output, problem: &str, fix: &str) {
    let t = text(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{t}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = t.lines().collect();
    let found = lines.windows(2).any(|w| {
        w[0].starts_with("FAIL")
            && w[0].contains(problem)
            && w[1].trim_start().starts_with("fix:")
            && w[1].contains(fix)
    });
    assert!(found, "no FAIL with {problem:?} and fix {fix:?} in:\n{t}");
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn a_healthy_setup_passes() {
    let s = Setup::healthy();
    let out = s.doctor(&[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("all well"), "{t}");
    assert!(!t.contains("FAIL"), "{t}");
    assert!(t.contains("mode 0600"), "{t}");
    assert!(t.contains("auth.log is readable"), "{t}");
    assert!(t.contains("1 rules load, none refused"), "{t}");
    assert!(t.contains("sink mail reaches customers"), "{t}");
}

#[test]
fn json_lists_every_finding_with_its_fix() {
    let s = Setup::healthy();
    std::fs::set_permissions(s.env.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = s.doctor(&["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ok"], false);
    let findings = v["findings"].as_array().unwrap();
    let fail = findings
        .iter()
        .find(|f| f["status"] == "fail")
        .expect("a failure");
    assert_eq!(fail["check"], "database");
    assert!(
        fail["fix"].as_str().unwrap().starts_with("chmod 600"),
        "{fail}"
    );
    // The desktop bus is reported, never a failure.
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "desktop" && f["status"] == "note"),
        "{v}"
    );
}

#[test]
fn a_database_others_can_read_is_named_with_chmod() {
    let s = Setup::healthy();
    std::fs::set_permissions(s.env.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = s.doctor(&[]);
    assert_fix(
        &out,
        "mode 0644",
        &format!("chmod 600 {}", s.env.db().display()),
    );
}

#[test]
fn a_database_owned_by_someone_else_is_named_with_chown() {
    if !running_as_root() {
        eprintln!("SKIP: changing a file's owner needs root");
        return;
    }
    let s = Setup::healthy();
    std::os::unix::fs::chown(s.env.db(), Some(65534), None).unwrap();
    let out = s.doctor(&[]);
    assert_fix(&out, "owned by uid 65534", "sudo chown");
}

#[test]
fn a_file_that_is_not_a_warroom_database_is_named() {
    let s = Setup::healthy();
    std::fs::write(s.env.db(), b"not sqlite at all, just text").unwrap();
    std::fs::set_permissions(s.env.db(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = s.doctor(&[]);
    assert_fix(&out, "not an SQLite database", "restore the newest backup");
}

#[test]
fn a_broken_policy_is_named_at_file_line_col() {
    let s = Setup::healthy();
    s.write(
        "policy.toml",
        "[levels.P1]\nresponse = \"soon\"\ncustomer_notice = \"1h\"\n",
    );
    let out = s.doctor(&[]);
    let path = s.config().join("policy.toml");
    assert_fix(&out, &format!("{}:2:", path.display()), "edit");
}

#[test]
fn a_broken_comms_file_is_named_and_sinks_are_not_guessed() {
    let s = Setup::healthy();
    s.write("comms.toml", "[[sinks]]\nname = \"x\"\nkind = \"pigeon\"\n");
    let out = s.doctor(&[]);
    assert_fix(&out, "comms.toml:3:", "edit");
    assert_fix(&out, "comms.toml does not parse", "fix comms.toml first");
}

#[test]
fn a_refused_rule_is_named_with_rules_check() {
    let s = Setup::healthy();
    s.write(
        "rules.yml",
        &GOOD_RULES.replace("condition: boom", "condition: boom > ten in 5m"),
    );
    let out = s.doctor(&[]);
    assert_fix(&out, "(rule refused)", "warroom rules check");
}

#[test]
fn a_missing_watched_file_is_named() {
    let s = Setup::healthy();
    let gone = s.env.dir.path().join("nowhere/auth.log");
    s.write_watch(std::slice::from_ref(&gone), &[]);
    let out = s.doctor(&[]);
    assert_fix(
        &out,
        &format!("{} does not exist", gone.display()),
        "journal",
    );
}

#[test]
fn an_unreadable_watched_file_names_the_group_or_acl() {
    let s = Setup::healthy();
    std::fs::set_permissions(s.log(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = if running_as_root() {
        // Root reads every file: ask as an unprivileged user, who may read
        // the config (made readable) but not the log.
        let Some(setpriv) = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| Path::new(p).exists())
        else {
            eprintln!("SKIP: running as root without setpriv");
            return;
        };
        let mut dirs = vec![s.env.dir.path().to_path_buf()];
        dirs.extend(["xdg-config", "xdg-config/warroom", "data"].map(|d| s.env.dir.path().join(d)));
        for d in dirs {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        for f in ["watch.toml", "rules.yml", "comms.toml"] {
            std::fs::set_permissions(s.config().join(f), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        let mut c = s.env.cmd();
        c.env("TZ", "UTC");
        let program = c.get_program().to_owned();
        let mut wrapped = std::process::Command::new(setpriv);
        wrapped
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(program)
            .arg("doctor")
            .env_clear()
            .envs(c.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
        wrapped.output().unwrap()
    } else {
        s.doctor(&[])
    };
    let t = text(&out);
    assert_fix(
        &out,
        "is not readable by",
        if t.contains("usermod") {
            "usermod -aG"
        } else {
            "setfacl"
        },
    );
}

/// A directory with a fake `journalctl` that answers as given.
fn fake_journalctl(dir: &Path, script: &str) -> PathBuf {
    let bin = dir.join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("journalctl");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn a_journal_this_user_cannot_read_names_the_group() {
    let s = Setup::healthy();
    let bin = fake_journalctl(
        s.env.dir.path(),
        "echo 'No journal files were opened due to insufficient permissions.' >&2; exit 1",
    );
    let mut c = s.env.cmd();
    c.env("TZ", "UTC")
        .env("PATH", &bin)
        .args(["doctor", "--journal"]);
    let out = c.output().unwrap();
    assert_fix(
        &out,
        "insufficient permissions",
        "usermod -aG systemd-journal",
    );
}

#[test]
fn a_journal_named_in_watch_toml_is_checked_without_asking() {
    let s = Setup::healthy();
    let rules = s.config().join("rules.yml");
    s.write(
        "watch.toml",
        &format!(
            "rules = [{:?}]\n\n[[journal]]\nmatches = [\"_SYSTEMD_UNIT=ssh.service\"]\n",
            rules.display().to_string()
        ),
    );
    let bin = fake_journalctl(
        s.env.dir.path(),
        "echo 'No journal files were opened due to insufficient permissions.' >&2; exit 1",
    );
    let mut c = s.env.cmd();
    c.env("TZ", "UTC").env("PATH", &bin).arg("doctor");
    let out = c.output().unwrap();
    assert_fix(
        &out,
        "insufficient permissions",
        "usermod -aG systemd-journal",
    );
}

#[test]
fn a_missing_journalctl_is_named() {
    let s = Setup::healthy();
    let empty = s.env.dir.path().join("emptybin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut c = s.env.cmd();
    c.env("TZ", "UTC")
        .env("PATH", &empty)
        .args(["doctor", "--journal"]);
    let out = c.output().unwrap();
    assert_fix(&out, "journalctl is not installed", "apt install systemd");
}

#[test]
fn a_readable_journal_passes_only_with_the_group() {
    let s = Setup::healthy();
    let bin = fake_journalctl(s.env.dir.path(), "exit 0");
    let mut c = s.env.cmd();
    c.env("TZ", "UTC")
        .env("PATH", &bin)
        .args(["doctor", "--journal"]);
    let out = c.output().unwrap();
    if running_as_root() {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("the system journal is readable"));
    } else if out.status.code() == Some(0) {
        assert!(text(&out).contains("the system journal is readable"));
    } else {
        // An ordinary user outside systemd-journal/adm sees only their own
        // entries, and journalctl says so only as a hint.
        assert_fix(
            &out,
            "sees only their own journal entries",
            "systemd-journal",
        );
    }
}

#[test]
fn an_outbox_only_setup_is_told_to_add_a_sink_that_reaches_someone() {
    let s = Setup::healthy();
    std::fs::remove_file(s.config().join("comms.toml")).unwrap();
    let out = s.doctor(&[]);
    assert_fix(&out, "no sink reaches customers", "kind = \"command\"");
}

#[test]
fn a_sink_whose_program_is_missing_is_named() {
    let s = Setup::healthy();
    s.write(
        "comms.toml",
        "[[sinks]]\nname = \"mail\"\nkind = \"command\"\nargv = [\"/nonexistent/sendmail\", \"-t\"]\n",
    );
    let out = s.doctor(&[]);
    assert_fix(
        &out,
        "/nonexistent/sendmail is not an executable",
        "install /nonexistent/sendmail",
    );
}

#[test]
fn an_unknown_time_zone_is_named() {
    let s = Setup::healthy();
    let mut c = s.env.cmd();
    c.env("TZ", "Nowhere/Atlantis").arg("doctor");
    let out = c.output().unwrap();
    let t = text(&out);
    let fix = if t.contains("no zone database") {
        "apt install tzdata"
    } else {
        "timedatectl list-timezones"
    };
    assert_fix(&out, "TZ=Nowhere/Atlantis", fix);
}

#[test]
fn a_terminal_smaller_than_the_console_is_named() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let s = Setup::healthy();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 20,
            cols: 60,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_warroom"));
    cmd.env_clear();
    for (k, v) in s.env.cmd().get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("TZ", "UTC");
    cmd.env("TERM", "xterm-256color");
    cmd.arg("doctor");
    let mut child = pty.slave.spawn_command(cmd).expect("spawn");
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut output = String::new();
    let mut buf = [0u8; 4096];
    // The pty ends (EIO) once the child has exited and its side is closed.
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        output.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let status = child.wait().unwrap();
    assert_eq!(status.exit_code(), 1, "{output}");
    assert!(
        output.contains("60x20 is smaller than the console's 80x24"),
        "{output}"
    );
    assert!(output.contains("enlarge the window"), "{output}");
}
