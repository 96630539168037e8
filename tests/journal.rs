//! journald as a source, on real journal files: built here from journal
//! export format by systemd-journal-remote (Debian package
//! `systemd-journal-remote`), with sshd, sshd-session and sudo entries from
//! two hosts, read by `scan --journal-file` and followed by `watch
//! --journal-dir` across an append while it runs and a SIGKILL. A fake
//! `journalctl` covers what a real one cannot be made to do on demand:
//! missing, permission denied, broken output.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use common::{Env, assert_fails};
use serde_json::Value;

/// systemd-journal-remote, which is not on PATH in Debian.
fn journal_remote() -> Option<PathBuf> {
    let found = [
        "/lib/systemd/systemd-journal-remote",
        "/usr/lib/systemd/systemd-journal-remote",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file());
    let journalctl = Command::new("journalctl").arg("--version").output().is_ok();
    match found {
        Some(p) if journalctl => Some(p),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "systemd-journal-remote or journalctl missing in CI: .ci/run installs systemd-journal-remote"
        ),
        _ => {
            eprintln!(
                "SKIPPED: systemd-journal-remote and journalctl are needed (apt-get install systemd-journal-remote)"
            );
            None
        }
    }
}

/// One entry in journal export format. `message` may be any bytes (a
/// non-UTF-8 one is written as a binary field).
fn export_entry(out: &mut Vec<u8>, seq: u64, host: &str, ident: &str, pid: u32, message: &[u8]) {
    // 2025-12-02T14:31:00Z plus a second per entry.
    let us = 1_764_685_860_000_000u64 + seq * 1_000_000;
    writeln!(out, "__REALTIME_TIMESTAMP={}", us + 500_000).unwrap();
    writeln!(out, "__MONOTONIC_TIMESTAMP={}", 1000 + seq).unwrap();
    writeln!(out, "_BOOT_ID=0123456789abcdef0123456789abcdef").unwrap();
    writeln!(out, "_HOSTNAME={host}").unwrap();
    writeln!(out, "SYSLOG_IDENTIFIER={ident}").unwrap();
    writeln!(out, "_PID={pid}").unwrap();
    writeln!(out, "_SOURCE_REALTIME_TIMESTAMP={us}").unwrap();
    if std::str::from_utf8(message).is_ok() {
        out.extend_from_slice(b"MESSAGE=");
        out.extend_from_slice(message);
        out.push(b'\n');
    } else {
        out.extend_from_slice(b"MESSAGE\n");
        out.extend_from_slice(&(message.len() as u64).to_le_bytes());
        out.extend_from_slice(message);
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// Writes (or appends to) a journal file from export format.
fn write_journal(remote: &Path, file: &Path, export: &[u8]) {
    let mut child = Command::new(remote)
        .arg(format!("--output={}", file.display()))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(export).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn failed(host: &str, ident: &str, from: &str, n: u32, start: u64, out: &mut Vec<u8>) {
    for i in 0..n {
        let msg = format!(
            "Failed password for root from {from} port {} ssh2",
            40000 + i
        );
        export_entry(
            out,
            start + u64::from(i),
            host,
            ident,
            7000 + i,
            msg.as_bytes(),
        );
    }
}

/// Two hosts: web1 (OpenSSH 9.8+, sshd-session, one message not UTF-8)
/// and web2 (sshd, and sudo failures).
fn fleet() -> Vec<u8> {
    let mut e = Vec::new();
    failed("web1", "sshd-session", "203.0.113.7", 12, 0, &mut e);
    export_entry(
        &mut e,
        12,
        "web1",
        "sshd-session",
        7100,
        b"Failed password for r\xffot from 203.0.113.7 port 41000 ssh2",
    );
    failed("web2", "sshd", "198.51.100.9", 12, 20, &mut e);
    for i in 0..3 {
        let msg = "   alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls";
        export_entry(&mut e, 40 + i, "web2", "sudo", 8000, msg.as_bytes());
    }
    e
}

fn detections(stdout: &str) -> Vec<(String, String, u64, String)> {
    let mut v: Vec<_> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["key"].as_str().unwrap().to_string(),
                d["count"].as_u64().unwrap(),
                d["lines"][0].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn scan_reads_forwarded_journal_files_with_their_hosts() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let env = Env::new();
    let file = env.dir.path().join("fleet.journal");
    write_journal(&remote, &file, &fleet());
    let f = file.to_str().unwrap();
    let out = env.ok(&["scan", "--journal-file", f, "--json"]);
    let d = detections(&out);
    let keys: Vec<(&str, &str, u64)> = d
        .iter()
        .map(|(r, k, c, _)| (r.as_str(), k.as_str(), *c))
        .collect();
    assert!(
        keys.contains(&("Multiple failed logins", "203.0.113.7", 13)),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("Multiple failed logins", "198.51.100.9", 12)),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("sudo authentication failures", "alice", 3)),
        "{keys:?}"
    );
    let web1 = d.iter().find(|x| x.1 == "203.0.113.7").unwrap();
    // Timed by the source timestamp, shown like a syslog line with its host.
    assert_eq!(
        web1.3,
        "2025-12-02T14:31:00.000000Z web1 sshd-session[7000]: Failed password for root from 203.0.113.7 port 40000 ssh2"
    );
    let json: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let brute = json
        .iter()
        .find(|j| j["key"] == "203.0.113.7" && j["rule"] == "Multiple failed logins")
        .unwrap();
    assert_eq!(brute["first_seen"], "2025-12-02T14:31:00.000Z");

    // `host` is a group_by key for every event.
    let rules = env.dir.path().join("per-host.yml");
    fs::write(
        &rules,
        "events:\n  ssh_fail:\n    match: ['sshd(?:-session)?\\[\\d+\\]: Failed password']\nrules:\n  - rule: Failures per host\n    condition: ssh_fail > 5 in 1 hour\n    group_by: host\n    severity: low\n",
    )
    .unwrap();
    let out = env.ok(&[
        "scan",
        "--rules",
        rules.to_str().unwrap(),
        "--journal-file",
        f,
        "--json",
    ]);
    let keys: Vec<String> = detections(&out).into_iter().map(|d| d.1).collect();
    assert_eq!(keys, ["web1", "web2"]);

    // Matches and --since narrow the entries, as journalctl's own do.
    let out = env.ok(&[
        "scan",
        "--journal",
        "_HOSTNAME=web2",
        "--journal-file",
        f,
        "--json",
    ]);
    assert!(detections(&out).iter().all(|d| d.3.contains(" web2 ")));
    let out = env.ok(&[
        "scan",
        "--journal-file",
        f,
        "--since",
        "2025-12-02 14:31:20",
        "--json",
    ]);
    assert!(!out.contains("203.0.113.7"), "{out}");
    assert!(out.contains("198.51.100.9"));
}

/// A running `warroom watch` and the lines it prints.
struct Watch {
    child: Child,
    lines: Receiver<String>,
}

impl Watch {
    fn start(env: &Env, args: &[&str]) -> Watch {
        let mut child = env
            .cmd()
            .arg("watch")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Watch { child, lines: rx }
    }

    /// Waits for a printed line containing `needle`.
    fn expect(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200))
                && l.contains(needle)
            {
                return l;
            }
        }
        panic!("watch never printed {needle:?}");
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
}

#[test]
fn watch_follows_a_journal_directory_across_appends_and_a_sigkill() {
    let Some(remote) = journal_remote() else {
        return;
    };
    let env = Env::new();
    let dir = env.dir.path().join("remote");
    fs::create_dir(&dir).unwrap();
    write_journal(&remote, &dir.join("fleet.journal"), &fleet());
    let d = dir.to_str().unwrap();
    let args = ["--journal-dir", d, "--name", "j", "--poll-ms", "100"];

    let mut first: Vec<&str> = args.to_vec();
    first.push("--from-beginning");
    let w = Watch::start(&env, &first);
    w.expect("key=203.0.113.7");
    w.expect("key=198.51.100.9");
    // Appended while it runs, in a file of its own (a third host).
    let mut more = Vec::new();
    failed("web3", "sshd-session", "192.0.2.33", 6, 100, &mut more);
    write_journal(&remote, &dir.join("web3.journal"), &more);
    std::thread::sleep(Duration::from_millis(800));
    w.kill();

    // More while it is down, appended to the same file.
    let mut later = Vec::new();
    failed("web3", "sshd-session", "192.0.2.33", 6, 106, &mut later);
    write_journal(&remote, &dir.join("web3.journal"), &later);
    let w = Watch::start(&env, &args);
    w.expect("key=192.0.2.33");
    w.stop();

    let store = warroom::store::Store::open(&env.db()).unwrap();
    let mut got: Vec<(String, String, u64)> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.rule, d.key, d.count))
        .collect();
    got.sort();
    let count = |rule: &str, key: &str| -> Vec<u64> {
        got.iter()
            .filter(|(r, k, _)| r == rule && k == key)
            .map(|x| x.2)
            .collect()
    };
    // Each once, with every entry counted once.
    assert_eq!(
        count("Multiple failed logins", "203.0.113.7"),
        [13],
        "{got:?}"
    );
    assert_eq!(
        count("Multiple failed logins", "198.51.100.9"),
        [12],
        "{got:?}"
    );
    assert_eq!(
        count("Multiple failed logins", "192.0.2.33"),
        [12],
        "{got:?}"
    );
    assert_eq!(
        count("sudo authentication failures", "alice"),
        [3],
        "{got:?}"
    );

    // A replay of the same journal with --commit leaves what the watcher
    // committed to it: no detection, incident or message a second time.
    let incidents = store.board(true).unwrap().len();
    let detections = got.len();
    drop(store);
    let out = env
        .cmd()
        .args(["scan", "--commit", "--journal-dir", d])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = warroom::store::Store::open(&env.db()).unwrap();
    let mut again: Vec<(String, String, u64)> = store
        .detections(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.rule, d.key, d.count))
        .collect();
    again.sort();
    assert_eq!(again, got, "the replay counted the watcher's entries again");
    assert_eq!(again.len(), detections);
    assert_eq!(store.board(true).unwrap().len(), incidents);
}

/// A directory holding only a fake `journalctl` running `script`.
fn fake_journalctl(env: &Env, script: &str) -> PathBuf {
    let bin = env.dir.path().join("fake-bin");
    fs::create_dir_all(&bin).unwrap();
    let path = bin.join("journalctl");
    fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn with_path(env: &Env, path: &Path, args: &[&str]) -> std::process::Output {
    env.cmd().env("PATH", path).args(args).output().unwrap()
}

#[test]
fn a_journal_that_cannot_be_read_is_one_clear_line_and_exit_1() {
    let env = Env::new();
    let empty = env.dir.path().join("empty-bin");
    fs::create_dir(&empty).unwrap();
    let out = with_path(&env, &empty, &["watch", "--journal"]);
    assert_fails(&out, 1, "journalctl not found");
    let out = with_path(&env, &empty, &["scan", "--journal"]);
    assert_fails(&out, 1, "journalctl not found");

    let denied = fake_journalctl(
        &env,
        "echo 'Failed to open files: Permission denied' >&2; exit 1",
    );
    let out = with_path(
        &env,
        &denied,
        &["watch", "--journal", "_SYSTEMD_UNIT=ssh.service"],
    );
    assert_fails(&out, 1, "systemd-journal or adm group");

    // Without the group, journalctl shows a user their own entries only
    // and says so: blind to sshd, so refused the same way.
    let hint = fake_journalctl(
        &env,
        "echo 'Hint: You are currently not seeing messages from other users and the system.' >&2; exit 0",
    );
    let out = with_path(&env, &hint, &["watch", "--journal"]);
    assert_fails(&out, 1, "systemd-journal or adm group");

    // Output that is not export format (here JSON, as journalctl prints
    // with --output=json), and an entry cut inside a binary field: which
    // entry, and where in the output.
    let broken = fake_journalctl(&env, "echo '{\"__CURSOR\": \"s=1\", broken'");
    let out = with_path(&env, &broken, &["scan", "--journal"]);
    assert_fails(&out, 1, "malformed at entry 1 (byte 0)");
    let cut = fake_journalctl(
        &env,
        "printf '__CURSOR=s=1\\n__REALTIME_TIMESTAMP=1\\nMESSAGE=a\\n\\n__CURSOR=s=2\\nMESSAGE\\n\\011\\0\\0\\0\\0\\0\\0\\0abc'",
    );
    let out = with_path(&env, &cut, &["scan", "--journal"]);
    assert_fails(
        &out,
        1,
        "malformed at entry 2 (byte 60): the output ends 6 bytes short of the 9-byte binary field \"MESSAGE\"",
    );
}

#[test]
fn byte_array_fields_from_journalctl_are_decoded() {
    let env = Env::new();
    // "Failed password for r\xffot from 203.0.113.8 port N ssh2" as a
    // binary field, the way journalctl prints a field that is not UTF-8;
    // the identifier in the binary form too (valid for any value).
    let mut out = Vec::new();
    for i in 0..11u64 {
        let mut msg: Vec<u8> = b"Failed password for r\xffot from 203.0.113.8 port ".to_vec();
        msg.extend(format!("{} ssh2", 40000 + i).bytes());
        write!(
            out,
            "__CURSOR=s=1;i={i}\n__REALTIME_TIMESTAMP={}\n_HOSTNAME=h\nSYSLOG_IDENTIFIER\n",
            1_764_685_860_000_000u64 + i * 1_000_000
        )
        .unwrap();
        out.extend_from_slice(&4u64.to_le_bytes());
        out.extend_from_slice(b"sshd\n_PID=9\nMESSAGE\n");
        out.extend_from_slice(&(msg.len() as u64).to_le_bytes());
        out.extend_from_slice(&msg);
        out.extend_from_slice(b"\n\n");
    }
    let data = env.dir.path().join("entries.export");
    fs::write(&data, out).unwrap();
    let bin = fake_journalctl(&env, &format!("exec /bin/cat '{}'", data.display()));
    let out = with_path(&env, &bin, &["scan", "--journal", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = detections(&String::from_utf8(out.stdout).unwrap());
    let brute = d.iter().find(|x| x.0 == "Multiple failed logins").unwrap();
    assert_eq!((brute.1.as_str(), brute.2), ("203.0.113.8", 11));
    assert!(
        brute
            .3
            .contains("h sshd[9]: Failed password for r\u{FFFD}ot"),
        "{}",
        brute.3
    );
}
