//! The intake listener on a loopback port, driven by the real binary:
//! retries deduplicated, resolutions recorded, tokens and body limits
//! enforced, a kill between commit and reply losing and doubling nothing,
//! and many concurrent senders.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Env;

const TOKEN: &str = "s3cret-token-for-tests";

fn token_file(env: &Env) -> PathBuf {
    let p = env.dir.path().join("token");
    std::fs::write(&p, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// Starts `warroom ingest --listen 127.0.0.1:0` (the OS picks a free port)
/// and returns it with the address it reports.
fn start(env: &Env, extra: &[&str], hold_ms: Option<u64>) -> (Child, SocketAddr) {
    let tf = token_file(env);
    let mut cmd = env.cmd();
    cmd.args(["ingest", "--listen", "127.0.0.1:0", "--token-file"])
        .arg(&tf)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ms) = hold_ms {
        cmd.env("WARROOM_TEST_INTAKE_HOLD_MS", ms.to_string());
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

fn stop(mut child: Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("listener did not stop on SIGTERM");
}

/// One HTTP/1.1 POST; returns (status, body), or an error when the
/// connection ended without a reply.
fn post(addr: SocketAddr, token: Option<&str>, body: &[u8]) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "POST /alerts HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    read_reply(s)
}

fn read_reply(mut s: TcpStream) -> std::io::Result<(u16, String)> {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP reply: {text:?}")))?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((status, body))
}

fn payload(fingerprint: &str, status: &str) -> String {
    let ends = if status == "resolved" {
        "2026-11-30T09:00:00Z"
    } else {
        "0001-01-01T00:00:00Z"
    };
    format!(
        r#"{{"version":"4","groupKey":"{{}}:{{alertname=\"{fingerprint}\"}}","status":"{status}","receiver":"warroom","groupLabels":{{}},"commonLabels":{{}},"commonAnnotations":{{}},"externalURL":"http://am:9093","alerts":[{{"status":"{status}","labels":{{"alertname":"{fingerprint}","severity":"critical"}},"annotations":{{"summary":"Service {fingerprint} down"}},"startsAt":"2026-11-30T08:00:00Z","endsAt":"{ends}","generatorURL":"http://prom:9090/g","fingerprint":"{fingerprint}"}}]}}"#
    )
}

fn incidents(env: &Env) -> Vec<serde_json::Value> {
    env.json(&["incident", "list", "--all"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_payload_posted_twice_is_one_incident_and_its_resolution_is_recorded() {
    let env = Env::new();
    let (child, addr) = start(&env, &[], None);
    let (code, body) = post(addr, Some(TOKEN), payload("api1", "firing").as_bytes()).unwrap();
    assert_eq!(code, 200, "{body}");
    let (code, body) = post(addr, Some(TOKEN), payload("api1", "firing").as_bytes()).unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"deduplicated\":1"), "{body}");
    let list = incidents(&env);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["title"], "Service api1 down");
    assert_eq!(list[0]["source"], "automated-alert");
    assert_eq!(list[0]["severity"], "P1");
    let (code, body) = post(addr, Some(TOKEN), payload("api1", "resolved").as_bytes()).unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"ended\":1"), "{body}");
    stop(child);
    let id = list[0]["id"].as_str().unwrap().to_string();
    let show = env.json(&["incident", "show", &id]);
    let text = show.to_string();
    assert!(text.contains("detect.ended"), "{text}");
    let list = incidents(&env);
    assert_eq!(
        list[0]["status"], "investigating",
        "never resolved by the sender"
    );
}

#[test]
fn a_missing_or_wrong_token_is_401_and_records_nothing() {
    let env = Env::new();
    let (child, addr) = start(&env, &[], None);
    let body = payload("x", "firing");
    assert_eq!(post(addr, None, body.as_bytes()).unwrap().0, 401);
    assert_eq!(post(addr, Some("wrong"), body.as_bytes()).unwrap().0, 401);
    assert_eq!(
        post(addr, Some(&format!("{TOKEN}x")), body.as_bytes())
            .unwrap()
            .0,
        401
    );
    stop(child);
    assert!(incidents(&env).is_empty());
}

#[test]
fn an_oversized_body_is_413_and_a_bad_payload_is_422_with_the_reason() {
    let env = Env::new();
    let (child, addr) = start(&env, &["--max-body", "4096"], None);
    // Announced too large: refused before the body is sent.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 100000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let (code, body) = read_reply(s).unwrap();
    assert_eq!(code, 413, "{body}");
    let (code, body) = post(
        addr,
        Some(TOKEN),
        br#"{"version":"4","alerts":[{"status":"firing"}]}"#,
    )
    .unwrap();
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("alerts[0].labels is missing"), "{body}");
    stop(child);
    assert!(incidents(&env).is_empty());
    let stats = env.json(&["ingest", "--stats"]);
    assert_eq!(stats[0]["name"], "alertmanager");
    assert_eq!(stats[0]["refused"], 1);
    assert_eq!(stats[0]["last_error"], "alerts[0].labels is missing");
}

#[test]
fn killed_between_commit_and_reply_the_senders_retry_makes_exactly_one_incident() {
    let env = Env::new();
    let (mut child, addr) = start(&env, &[], Some(600_000));
    let body = payload("db9", "firing");
    let sender = {
        let body = body.clone();
        std::thread::spawn(move || post(addr, Some(TOKEN), body.as_bytes()))
    };
    // The commit is visible while the reply is held back.
    let deadline = Instant::now() + Duration::from_secs(60);
    while incidents(&env).is_empty() {
        assert!(Instant::now() < deadline, "the alert was never committed");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        sender.join().unwrap().is_err(),
        "the sender got no reply, so it retries"
    );
    let (child, addr) = start(&env, &[], None);
    let (code, reply) = post(addr, Some(TOKEN), body.as_bytes()).unwrap();
    assert_eq!(code, 200, "{reply}");
    assert!(reply.contains("\"deduplicated\":1"), "{reply}");
    stop(child);
    assert_eq!(incidents(&env).len(), 1);
}

#[test]
fn two_hundred_concurrent_posts_lose_nothing_and_double_nothing() {
    let env = Env::new();
    let (child, addr) = start(&env, &[], None);
    // 150 distinct alerts; 50 of them sent twice at once (a retry racing
    // the original).
    let mut threads = Vec::new();
    for i in 0..200 {
        let fp = format!("svc{:03}", i % 150);
        threads.push(std::thread::spawn(move || {
            post(addr, Some(TOKEN), payload(&fp, "firing").as_bytes())
        }));
    }
    for t in threads {
        let (code, body) = t.join().unwrap().unwrap();
        assert_eq!(code, 200, "{body}");
    }
    stop(child);
    let list = incidents(&env);
    assert_eq!(list.len(), 150);
    let mut titles: Vec<String> = list
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 150);
    let stats = env.json(&["ingest", "--stats"]);
    assert_eq!(
        (
            stats[0]["received"].as_u64(),
            stats[0]["deduplicated"].as_u64()
        ),
        (Some(200), Some(50))
    );
}

#[test]
fn a_locked_store_is_503_and_the_retry_after_it_frees_is_taken() {
    let env = Env::new();
    let (child, addr) = start(&env, &[], None);
    // Another writer holds the database past the busy timeout.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let body = payload("cache3", "firing");
    let (code, reply) = post(addr, Some(TOKEN), body.as_bytes()).unwrap();
    assert_eq!(code, 503, "{reply}");
    assert!(reply.contains("nothing was recorded"), "{reply}");
    conn.execute_batch("ROLLBACK").unwrap();
    let (code, reply) = post(addr, Some(TOKEN), body.as_bytes()).unwrap();
    assert_eq!(code, 200, "{reply}");
    assert!(reply.contains("\"opened\":1"), "{reply}");
    stop(child);
    assert_eq!(incidents(&env).len(), 1);
}

#[test]
fn a_file_with_a_bad_line_takes_the_rest_and_names_the_line() {
    let env = Env::new();
    let line = |id: &str, level: u32| {
        format!(
            r#"{{"timestamp":"2026-11-30T10:00:00.123+0000","rule":{{"level":{level},"description":"sshd: brute force","id":"5712"}},"agent":{{"id":"003","name":"web-01"}},"id":"{id}","full_log":"Failed password","data":{{"srcip":"203.0.113.9"}}}}"#
        )
    };
    let file = env.dir.path().join("alerts.json");
    std::fs::write(
        &file,
        format!(
            "{}\n{{\"rule\":{{\"id\":\"1\"}}}}\n{}\n",
            line("1.1", 12),
            line("1.2", 12)
        ),
    )
    .unwrap();
    let out = env.run(&["ingest", "--format", "wazuh", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("alerts.json:2: 'rule.level' is missing"),
        "{stderr}"
    );
    let list = incidents(&env);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["source"], "siem");
    assert_eq!(list[0]["detected_at"], "2026-11-30T10:00:00.123Z");
    // Read again: nothing new.
    let stdout = env
        .run(&["ingest", "--format", "wazuh", file.to_str().unwrap()])
        .stdout;
    assert!(
        String::from_utf8_lossy(&stdout).contains("2 already recorded"),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    assert_eq!(incidents(&env).len(), 1);
}

#[test]
fn a_broken_intake_toml_is_refused_naming_file_line_and_column() {
    let env = Env::new();
    let cfg = env.dir.path().join("cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("intake.toml"),
        "[wazuh]\nsource = \"customer-report\"\n",
    )
    .unwrap();
    let out = env
        .cmd()
        .env("WARROOM_CONFIG_DIR", &cfg)
        .args(["ingest", "--format", "wazuh", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    common::assert_fails(&out, 1, "intake.toml:2:10: 'source' is \"customer-report\"");
}
