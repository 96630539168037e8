//! Attacks and accidents from the adversarial review, through the built
//! binary: tampering with `sqlite3`, a drill purge against a checkpoint,
//! exports under any umask, and open errors said once.

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::Path;

use common::Env;
use rusqlite::{Connection, params};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn open_errors_are_one_line_that_says_each_thing_once() {
    let env = Env::new();
    let dir = env.dir.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let dangling = env.dir.path().join("dangling.db");
    let target = env.dir.path().join("elsewhere.db");
    symlink(&target, &dangling).unwrap();
    for db in [
        dir.clone(),
        file.join("x.db"),
        env.dir.path().join("missing/../a-file/x.db"),
        dangling.clone(),
    ] {
        let out = env
            .cmd()
            .env("WARROOM_DB", &db)
            .args(["incident", "list"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let text = stderr(&out);
        assert_eq!(text.lines().count(), 1, "{text}");
        // No part of the message is said twice.
        let body = text.trim().trim_start_matches("error: ");
        for part in body.split(": ").filter(|p| p.len() > 3) {
            assert_eq!(body.matches(part).count(), 1, "{part:?} repeated in {text}");
        }
    }
    // The dangling link was refused, not followed to create its target.
    assert!(!target.exists());
    let out = env
        .cmd()
        .env("WARROOM_DB", &dangling)
        .args(["incident", "list"])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn exports_are_owner_only_under_any_umask() {
    for umask in [0o000, 0o022] {
        let env = Env::new();
        let id = env.new_incident("Exfil", "P2");
        let src = env.dir.path().join("a.log");
        std::fs::write(&src, b"line\n").unwrap();
        env.ok(&["evidence", "add", &id, "--file", src.to_str().unwrap()]);
        let bundle = env.dir.path().join("bundle");
        let tar = env.dir.path().join("bundle.tar");
        let copy = env.dir.path().join("copy.log");
        for args in [
            vec!["evidence", "export", &id, "--out", bundle.to_str().unwrap()],
            vec!["evidence", "export", &id, "--out", tar.to_str().unwrap()],
            vec![
                "evidence",
                "copy",
                &id,
                "1",
                "--out",
                copy.to_str().unwrap(),
                "--purpose",
                "look",
            ],
        ] {
            let mut cmd = env.cmd();
            // SAFETY: umask is async-signal-safe and touches no memory.
            unsafe {
                cmd.pre_exec(move || {
                    libc::umask(umask);
                    Ok(())
                });
            }
            let out = cmd.args(&args).output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        }
        assert_eq!(mode(&tar), 0o600, "umask {umask:o}");
        assert_eq!(mode(&copy), 0o600, "umask {umask:o}");
        assert_eq!(mode(&bundle), 0o700, "umask {umask:o}");
        assert_eq!(mode(&bundle.join("items")), 0o700, "umask {umask:o}");
        let mut files = vec![bundle.join("manifest.json"), bundle.join("SHA256SUMS")];
        files.extend(
            std::fs::read_dir(bundle.join("items"))
                .unwrap()
                .map(|e| e.unwrap().path()),
        );
        for f in files {
            assert_eq!(mode(&f), 0o600, "{} under umask {umask:o}", f.display());
        }
    }
}

#[test]
fn verify_names_a_swapped_evidence_item_and_a_row_edited_with_sqlite() {
    let env = Env::new();
    let id = env.new_incident("Exfil", "P2");
    let src = env.dir.path().join("a.log");
    std::fs::write(&src, b"Failed password for root\n").unwrap();
    env.ok(&["evidence", "add", &id, "--file", src.to_str().unwrap()]);
    env.ok(&["verify"]);

    // The swap: new content in the store, the row repointed at it.
    let forged = b"nothing to see\n";
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(forged));
    let rel = format!("sha256/{}/{}", &sha[..2], &sha[2..]);
    let blob = env.db().with_file_name("warroom.evidence").join(&rel);
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, forged).unwrap();
    let db = Connection::open(env.db()).unwrap();
    db.execute_batch("DROP TRIGGER evidence_append_only_update")
        .unwrap();
    db.execute(
        "UPDATE evidence SET sha256 = ?1, stored_path = ?2, size = ?3",
        params![sha, rel, forged.len() as i64],
    )
    .unwrap();
    let checkpoint = env.dir.path().join("cp.json");
    for args in [
        vec!["verify"],
        vec!["verify", "--checkpoint", checkpoint.to_str().unwrap()],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains("evidence #1"), "{}", stderr(&out));
    }
    let out = env.run(&["evidence", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ALTERED"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A status edited behind warroom's back.
    let env = Env::new();
    let id = env.new_incident("Quiet", "P3");
    env.ok(&["verify"]);
    let db = Connection::open(env.db()).unwrap();
    db.execute(
        "UPDATE incidents SET status = 'closed' WHERE id = ?1",
        [&id],
    )
    .unwrap();
    let out = env.run(&["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("incident {id}: status")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_drill_purge_keeps_the_checkpoint_verifiable_and_advancing() {
    let env = Env::new();
    let live = env.new_incident("Live", "P2");
    let drill = env
        .ok(&[
            "incident",
            "new",
            "--title",
            "Drill",
            "--severity",
            "P3",
            "--drill",
        ])
        .trim()
        .to_string();
    env.ok(&["incident", "note", &drill, "step one"]);
    let cp = env.dir.path().join("cp.json");
    let cp_arg = cp.to_str().unwrap();
    env.ok(&["verify", "--checkpoint", cp_arg]);
    env.ok(&["incident", "note", &drill, "step two"]);
    env.ok(&["incident", "note", &live, "meanwhile"]);
    env.ok(&["drill", "purge", "--yes"]);
    let out = env.ok(&["verify", "--checkpoint", cp_arg]);
    assert!(out.contains("matches checkpoint"), "{out}");
    // It advanced: the drill chain is no longer in it.
    let text = std::fs::read_to_string(&cp).unwrap();
    assert!(!text.contains("\"drill\""), "{text}");
    env.ok(&["verify", "--checkpoint", cp_arg]);
}
