//! Rule and log files that could make detection go blind or hang, through
//! the real binary: patterns too large for one set, rule files that are
//! FIFOs or devices, log paths that are not files, conditions that cannot
//! fire, and symbolic links planted where the watcher looks.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::Env;

const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/rules/linux.yml");

const TOKEN_RULE: &str = "events:\n  token_leak:\n    match: 'token=(?P<tok>\\w{209})'\nrules:\n  - rule: token leaked\n    condition: token_leak\n    action: []\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Runs warroom, failing the test (not hanging it) if it does not end.
fn run_bounded(env: &Env, args: &[&str]) -> Output {
    let mut child = env
        .cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("warroom {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_huge_custom_event_beside_the_shipped_rules_is_a_warning_and_detection_goes_on() {
    let env = Env::new();
    let custom = write(env.dir.path(), "custom.yml", TOKEN_RULE);
    let custom = custom.to_str().unwrap();
    let out = run_bounded(&env, &["rules", "check", SHIPPED, custom]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // The count of patterns grows with the shipped rules; the warning names
    // the custom rule's place and what overflowed.
    assert!(
        stdout.lines().any(
            |l| l.starts_with(&format!("warning  {custom}:2:3: token_leak: the "))
                && l.contains(" event patterns together exceed the regex size limit")
        ),
        "{stdout}"
    );
    assert!(stdout.contains("0 problem(s), 1 warning(s)"), "{stdout}");

    let mut log = String::new();
    for s in 0..11 {
        log.push_str(&format!(
            "Dec 10 08:24:{s:02} h sshd[1]: Failed password for invalid user x from 10.1.1.1 port 36279 ssh2\n"
        ));
    }
    log.push_str(&format!(
        "Dec 10 08:25:00 h app[2]: token={}\n",
        "a".repeat(209)
    ));
    let log = write(env.dir.path(), "auth.log", &log);
    let out = run_bounded(
        &env,
        &[
            "scan",
            "--rules",
            SHIPPED,
            custom,
            "--",
            log.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("exceed the regex size limit"), "{stderr}");
    // Both the shipped rules and the huge one still detect.
    for rule in ["Multiple failed logins", "token leaked"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(rule) && l.trim_end().ends_with(" 1")),
            "{rule}: {stdout}"
        );
    }
    assert!(
        std::fs::read_to_string(env.dir.path().join("warroom.log"))
            .unwrap_or_default()
            .contains("exceed the regex size limit"),
        "the log file says so too"
    );
}

#[test]
fn rule_files_that_are_fifos_devices_or_directories_are_refused_without_hanging() {
    let env = Env::new();
    let fifo = env.dir.path().join("rules.fifo");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    for (path, what) in [
        (fifo, "a FIFO"),
        ("/dev/zero", "a character device"),
        (env.dir.path().to_str().unwrap(), "a directory"),
    ] {
        let out = run_bounded(&env, &["rules", "check", path]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains(&format!("refused  {path}:1:1: cannot read: {what}")),
            "{stdout}"
        );
    }
    let log = write(env.dir.path(), "a.log", "x\n");
    let out = run_bounded(
        &env,
        &["scan", "--rules", fifo, "--", log.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("a FIFO"),
        "{}",
        text(&out.stderr)
    );
    let out = run_bounded(
        &env,
        &["watch", "--rules", fifo, "--", log.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no rules loaded"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn log_paths_that_are_not_files_are_a_clear_error_for_scan_and_watch() {
    let env = Env::new();
    let fifo = env.dir.path().join("log.fifo");
    mkfifo(&fifo);
    let dir = env.dir.path().join("logdir");
    std::fs::create_dir(&dir).unwrap();
    for (path, what) in [
        (fifo.to_str().unwrap(), "a FIFO"),
        ("/dev/zero", "a character device"),
        (dir.to_str().unwrap(), "a directory"),
    ] {
        for cmd in ["scan", "watch"] {
            let out = run_bounded(&env, &[cmd, path]);
            common::assert_fails(&out, 1, &format!("{what}, not a regular file"));
        }
    }
}

#[test]
fn a_condition_that_cannot_fire_as_written_is_a_warning() {
    let env = Env::new();
    let rules = write(
        env.dir.path(),
        "r.yml",
        "events:\n  fail:\n    match: 'Failed password from (?P<src>\\S+)'\nrules:\n  - rule: never\n    condition: fail > 1 in 1ns\n  - rule: fine\n    condition: fail > 1 in 1s\n",
    );
    let out = run_bounded(&env, &["rules", "check", rules.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "warning  {}:6:16: never: condition cannot fire as written",
            rules.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 rule(s) loaded, 0 problem(s), 1 warning(s)"),
        "{stdout}"
    );
}

/// stderr lines of a running child, as they come.
fn stderr_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn watch_warns_about_a_symlink_planted_in_a_globbed_directory_and_reads_nothing_through_it() {
    let env = Env::new();
    let logs = env.dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("a.log"), "").unwrap();
    let secret = write(
        env.dir.path(),
        "shadow",
        "Dec 10 08:24:35 h sshd[1]: Accepted password for root from 10.9.9.9 port 1 ssh2\n",
    );
    std::os::unix::fs::symlink(&secret, logs.join("b.log")).unwrap();
    let pattern = logs.join("*.log");
    let mut child = env
        .cmd()
        .args(["watch", "--from-beginning", "--poll-ms", "50"])
        .arg(&pattern)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let started = Instant::now();
    let mut said = Vec::new();
    while !said
        .iter()
        .any(|l: &String| l.contains("refused: a symbolic link"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no warning: {said:?}"
        );
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            said.push(l);
        }
    }
    let line = said.iter().find(|l| l.contains("refused")).unwrap();
    assert!(
        line.starts_with("warning: ") && line.contains("b.log"),
        "{line}"
    );
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let out = env.ok(&["incident", "list", "--json"]);
    assert!(!out.contains("10.9.9.9"), "{out}");
}
