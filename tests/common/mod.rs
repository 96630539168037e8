//! The one sandbox for driving the real binary: a temporary directory
//! holding the database, the log, HOME and the XDG directories, and the
//! binary run against it with a private environment. Headless commands run
//! through [`Env::cmd`] and its shorthands; the console runs in a
//! pseudo-terminal through [`Env::console`] (see `pty`).
#![allow(dead_code)]

pub mod pty;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data/warroom.db")
    }

    /// The log file every run writes to.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("warroom.log")
    }

    /// Where warroom reads comms.toml, watch.toml, templates and the rest.
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("xdg-config/warroom")
    }

    /// `warroom` with HOME, XDG dirs, the log and the user all pointing into
    /// the temp dir, and the database given through WARROOM_DB.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_warroom"));
        let home = self.dir.path();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("xdg-data"))
            .env("XDG_CONFIG_HOME", home.join("xdg-config"))
            .env("XDG_STATE_HOME", home.join("xdg-state"))
            .env("WARROOM_LOG", self.log())
            .env("WARROOM_DB", self.db())
            .env("USER", "tester")
            // Zone-less log stamps are read in the local zone: fixed here
            // so expected times do not depend on the machine.
            .env("TZ", "UTC");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run warroom")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "warroom {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).expect("valid JSON")
    }

    /// `incident show ID --json`.
    pub fn show_json(&self, id: &str) -> serde_json::Value {
        self.json(&["incident", "show", id])
    }

    /// Marks every open checklist item done: the closing gate wants the
    /// checklist settled as well as the review.
    pub fn settle_checklist(&self, id: &str) {
        let shown = self.show_json(id);
        for item in shown["checklist"].as_array().into_iter().flatten() {
            if item["state"] == "open"
                && let Some(item) = item["id"].as_str()
            {
                self.ok(&["incident", "check", id, item]);
            }
        }
    }

    pub fn new_incident(&self, title: &str, severity: &str) -> String {
        self.ok(&["incident", "new", "--title", title, "--severity", severity])
            .trim()
            .to_string()
    }
}

/// Asserts a failed run: the exit code, one line on stderr containing
/// `needle`, and no panic or backtrace.
pub fn assert_fails(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line expected: {stderr}"
    );
    assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

pub fn corpus(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(rel);
    p.exists().then_some(p)
}
