//! `warroom man DIR`: a page for warroom and every subcommand, plus the
//! file-format pages, each rendering with groff without a warning.

mod common;

use std::process::Command;

use common::Env;

#[test]
fn every_page_is_written_and_renders_without_warnings() {
    let env = Env::new();
    let dir = env.dir.path().join("man");
    let listed = env.ok(&["man", dir.to_str().unwrap()]);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in [
        "warroom.1",
        "warroom-incident.1",
        "warroom-incident-new.1",
        "warroom-watch.1",
        "warroom-doctor.1",
        "warroom-completions.1",
        "warroom-rules-check.1",
        "warroom-rules.5",
        "warroom-policy.5",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert_eq!(listed.lines().count(), names.len(), "{listed}");
    // The hidden page generator has no page of its own.
    assert!(!names.iter().any(|n| n == "warroom-man.1"), "{names:?}");
    let main = std::fs::read_to_string(dir.join("warroom.1")).unwrap();
    assert!(main.contains(".BR warroom\\-rules (5)"), "SEE ALSO missing");

    if Command::new("groff").arg("--version").output().is_err() {
        eprintln!("SKIP: groff is not installed (.ci/run installs it); pages not rendered");
        return;
    }
    for name in &names {
        let out = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(dir.join(name))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{name}: {stderr}"
        );
    }
}
