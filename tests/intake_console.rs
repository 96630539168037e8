//! The webhook listener as a task of the console: intake.toml's [listen]
//! starts it with the console, an Alertmanager POST becomes an incident
//! the board shows, and a listener that cannot start says so on screen.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::Env;

const TOKEN: &str = "s3cret-console-token";

fn write_config(env: &Env, token_file: &std::path::Path) {
    let dir = env.config_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("intake.toml"),
        format!(
            "[listen]\naddress = \"127.0.0.1:0\"\ntoken_file = \"{}\"\n",
            token_file.display()
        ),
    )
    .unwrap();
}

fn post(addr: SocketAddr, token: &str, body: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /alerts HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP reply: {reply:?}"))
}

const FIRING: &str = r#"{"version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","status":"firing","receiver":"warroom","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093","alerts":[{"status":"firing","labels":{"alertname":"DiskFull","severity":"critical"},"annotations":{"summary":"Disk full on db-7"},"startsAt":"2026-11-30T08:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom:9090/g","fingerprint":"f00d"}]}"#;

#[test]
fn the_console_runs_the_configured_listener_and_shows_what_it_takes_in() {
    let env = Env::new();
    let token_file = env.dir.path().join("intake.token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    write_config(&env, &token_file);
    let mut c = env.console(120, 40, &[]);
    let screen = c.wait_text("intake listener on 127.0.0.1:");
    let addr: SocketAddr = screen
        .split("intake listener on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address on screen:\n{screen}"));
    assert_eq!(post(addr, "wrong-token", FIRING), 401);
    assert_eq!(post(addr, TOKEN, FIRING), 200);
    assert_eq!(post(addr, TOKEN, FIRING), 200, "a retried webhook");
    c.wait_for(
        "the alert's incident on the board",
        Duration::from_secs(30),
        |s| s.contains("Disk full on db-7"),
    );
    let list = env.json(&["incident", "list", "--all"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "a retried POST is one incident: {list:?}");
    assert_eq!(list[0]["source"], "automated-alert");
    c.send(b"q");
    c.wait_exit(Duration::from_secs(20));
    // The listener ended with the console.
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening after exit"
    );
}

#[test]
fn a_listener_that_cannot_start_says_so_on_screen() {
    let env = Env::new();
    // Readable by every user: refused, as `ingest --listen` refuses it.
    let token_file = env.dir.path().join("intake.token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    write_config(&env, &token_file);
    let mut c = env.console(120, 40, &[]);
    let screen = c.wait_text("intake listener NOT running");
    assert!(screen.contains("readable by every user"), "{screen}");
    c.send(b"q");
    c.wait_exit(Duration::from_secs(20));
}
