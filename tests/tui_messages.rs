//! The messages screen through a real pseudo-terminal: a message whose
//! delivery failed (a command sink exiting 1) is listed as not delivered,
//! and once the sink works again the retry key delivers it exactly once.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::Env;

/// `warroom notify send ID --audience internal --file -` with `body` on
/// stdin; returns whether it exited 0 (every delivery made).
fn send(sb: &Env, id: &str, body: &str) -> bool {
    use std::io::Write;
    let mut child = sb
        .cmd()
        .args(["--as", "alice", "notify", "send", id])
        .args(["--audience", "internal", "--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run warroom");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

#[test]
fn a_failed_delivery_is_listed_and_the_retry_key_delivers_it_once() {
    let sb = Env::new();
    let root = sb.dir.path();
    let config = sb.config_dir();
    std::fs::create_dir_all(&config).unwrap();
    let broken = root.join("pager-broken");
    let received = root.join("pager-received.txt");
    // The pager fails while `broken` exists, else appends what it gets.
    std::fs::write(
        config.join("comms.toml"),
        format!(
            r#"contact = "SOC, soc@example.com"

[[sinks]]
name = "pager"
kind = "command"
argv = ["/bin/sh", "-c", "if [ -e '{}' ]; then echo pager is down >&2; exit 1; fi; cat >> '{}'"]
"#,
            broken.display(),
            received.display()
        ),
    )
    .unwrap();
    let id = sb
        .ok(&[
            "incident",
            "new",
            "--title",
            "VPN gateway refusing logins",
            "--severity",
            "P2",
        ])
        .trim()
        .to_string();
    assert!(send(&sb, &id, "First update: VPN logins fail.\n"));
    std::fs::write(&broken, "").unwrap();
    assert!(!send(&sb, &id, "Second update: failover started.\n"));
    let times = |text: &str| {
        std::fs::read_to_string(&received)
            .unwrap_or_default()
            .matches(text)
            .count()
    };
    assert_eq!((times("First update"), times("Second update")), (1, 0));

    let mut c = sb.console(120, 40, &[]);
    c.wait_text("VPN gateway refusing logins");
    c.key_enter();
    c.wait_text("Checklist");
    c.type_text("S");
    let screen = c.wait_text("NOT DELIVERED");
    // Both messages, with audience, author, UTC time and each sink's state.
    assert!(
        screen.contains("Messages sent (2, oldest first)"),
        "{screen}"
    );
    let heads: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains(" UTC  internal   by alice "))
        .collect();
    assert_eq!(heads.len(), 2, "{screen}");
    assert!(
        heads[0].contains("#1") && heads[0].contains("delivered"),
        "{screen}"
    );
    assert!(
        heads[1].contains("#2") && heads[1].contains("NOT DELIVERED"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("pager") && l.contains("FAILED") && l.contains("pager is down")),
        "{screen}"
    );
    assert!(screen.contains("1 delivery FAILED"), "{screen}");

    // The pager works again; r retries through notify retry's code.
    std::fs::remove_file(&broken).unwrap();
    c.type_text("r");
    let screen = c.wait_text("Every message was sent through every sink.");
    assert!(!screen.contains("NOT DELIVERED"), "{screen}");
    assert!(screen.contains("retried: 1 delivered"), "{screen}");
    assert_eq!((times("First update"), times("Second update")), (1, 1));

    // Nothing left to retry: a second r delivers nothing again.
    c.type_text("r");
    c.wait_text("nothing to retry");
    assert_eq!((times("First update"), times("Second update")), (1, 1));
    let list: serde_json::Value =
        serde_json::from_str(&sb.ok(&["notify", "list", &id, "--json"])).unwrap();
    let second = &list[1]["deliveries"][0];
    assert_eq!(second["state"], "delivered", "{list}");
    assert_eq!(second["attempts"], 2, "{list}");
    // The timeline says who retried.
    let v = sb.show_json(&id);
    let delivered = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "comms.delivered")
        .count();
    assert_eq!(delivered, 2, "{v}");
    c.key_esc();
    c.wait_text("Checklist");
    c.type_text("q");
    assert!(c.wait_exit(Duration::from_secs(10)).success());
}
