//! `warroom completions SHELL`: each script generates, the bash one loads,
//! and the binary answers a shell's completion request with live values
//! (incident ids from the database, template names from the config).

mod common;

use std::process::Command;

use common::Env;

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[test]
fn every_shell_gets_a_script_that_names_warroom() {
    let env = Env::new();
    for (shell, marker) in [
        ("bash", "complete -o"),
        ("zsh", "#compdef warroom"),
        ("fish", "complete --keep-order"),
    ] {
        let script = env.ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("WARROOM_COMPLETE="), "{shell}: {script}");
    }
    let out = env.run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_bash_script_loads_and_registers_warroom() {
    let Some(bash) = which("bash") else {
        eprintln!("SKIP: no bash");
        return;
    };
    let env = Env::new();
    let file = env.dir.path().join("warroom.bash");
    std::fs::write(&file, env.ok(&["completions", "bash"])).unwrap();
    let out = Command::new(bash)
        .arg("-c")
        .arg(format!("source {}; complete -p warroom", file.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("-F _clap_complete_warroom warroom"),
        "{stdout}"
    );
}

/// What the binary offers for the words typed so far, as the fish script
/// asks (the last word is the one being completed).
fn candidates(env: &Env, words: &[&str]) -> Vec<String> {
    let out = env
        .cmd()
        .env("WARROOM_COMPLETE", "fish")
        .arg("--")
        .arg("warroom")
        .args(words)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn subcommands_and_live_values_complete() {
    let env = Env::new();
    assert!(candidates(&env, &["doc"]).contains(&"doctor".to_string()));
    // No database yet: nothing offered, nothing created.
    assert!(
        !candidates(&env, &["incident", "show", ""])
            .iter()
            .any(|c| c.starts_with("INC-"))
    );
    assert!(
        !env.db().exists(),
        "completion must not create the database"
    );

    let a = env.new_incident("First", "P2");
    let b = env.new_incident("Second", "P3");
    env.ok(&["incident", "set", &b, "--status", "resolved"]);
    let ids = candidates(&env, &["incident", "show", ""]);
    assert!(ids.contains(&a) && ids.contains(&b), "{ids:?}");
    let ids = candidates(&env, &["notify", "draft", ""]);
    assert!(ids.contains(&a), "{ids:?}");

    let templates = candidates(&env, &["notify", "draft", &a, "--template", ""]);
    for t in ["customer", "internal", "executive", "regulator"] {
        assert!(templates.contains(&t.to_string()), "{templates:?}");
    }
    // A user template shows up too.
    let dir = env.dir.path().join("xdg-config/warroom/templates");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("board.txt"), "{# audience: executives #}\nHi\n").unwrap();
    let templates = candidates(&env, &["notify", "draft", &a, "--template", "bo"]);
    assert_eq!(templates, vec!["board".to_string()]);
}

#[test]
fn the_db_on_the_command_line_being_completed_is_the_one_read() {
    let env = Env::new();
    let other = Env::new();
    let id = other.new_incident("Elsewhere", "P4");
    let db = other.db().display().to_string();
    let ids = candidates(&env, &["--db", &db, "incident", "show", ""]);
    assert!(ids.contains(&id), "{ids:?}");
    assert!(!candidates(&env, &["incident", "show", ""]).contains(&id));
}
