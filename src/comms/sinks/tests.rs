//! The sinks' tests: payloads, OSC 52, commands (timeouts, process
//! groups) and the outbox (whole files, never through a planted link).

use std::path::Path;

use super::outbox::write_outbox;
use super::*;
use crate::comms::Audience;
use crate::store::{Delivery, DeliveryState};
use std::fs;

fn message(audience: Audience, body: &str) -> SentMessage {
    SentMessage {
        id: 7,
        incident_id: "INC-2026-001".into(),
        audience,
        template: None,
        body: body.into(),
        sha256: crate::store::body_sha256(body),
        author: "alice".into(),
        sent_at: "2026-03-01T10:30:00Z".parse().unwrap(),
        event_seq: 3,
        drill: false,
        deliveries: vec![Delivery {
            message_id: 7,
            sink: "x".into(),
            state: DeliveryState::Pending,
            handover: None,
            detail: String::new(),
            attempts: 0,
            updated_at: "2026-03-01T10:30:00Z".parse().unwrap(),
        }],
    }
}

fn config() -> CommsConfig {
    CommsConfig::from_toml(
        "from = \"Sécurité Exemple <secu@example.com>\"\n[audiences.customers]\nto = [\"Zoë Client <zoe@example.org>\", \"b@example.org\"]\n",
        Path::new("/c"),
    )
    .unwrap()
}

#[test]
fn osc52_is_base64_of_the_body_between_esc_52_and_bel() {
    let seq = osc52_sequence("héllo\nworld");
    assert!(seq.starts_with("\x1b]52;c;") && seq.ends_with('\x07'));
    let b64 = &seq[7..seq.len() - 1];
    let back = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(back, "héllo\nworld".as_bytes());
}

#[test]
fn osc52_refuses_messages_over_its_cap() {
    let sink = SinkConfig {
        name: "clip".into(),
        kind: SinkKind::Osc52 { max_bytes: 4 },
        audiences: None,
        default: false,
    };
    let err = deliver(&sink, &message(Audience::Internal, "12345"), &config()).unwrap_err();
    assert!(
        err.contains("5 bytes") && err.contains("at most 4"),
        "{err}"
    );
    let ok = deliver(&sink, &message(Audience::Internal, "1234"), &config()).unwrap();
    assert_eq!(ok.terminal.unwrap(), osc52_sequence("1234"));
}

#[test]
fn email_audiences_get_rfc5322_and_others_plain_text() {
    let c = config();
    let text = payload(&message(Audience::Internal, "plain\n"), &c);
    assert_eq!(
        (text.bytes.as_slice(), text.eml),
        (b"plain\n".as_slice(), false)
    );

    let body = "Bonjour,\nnous enquêtons.\n";
    let p = payload(&message(Audience::Customers, body), &c);
    assert!(p.eml);
    let raw = String::from_utf8(p.bytes.clone()).unwrap();
    assert!(raw.is_ascii(), "headers and body are encoded: {raw}");
    assert!(
        !raw.replace("\r\n", "").contains('\n'),
        "CRLF only: {raw:?}"
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(&p.bytes)
        .unwrap();
    assert_eq!(
        parsed.subject(),
        Some("[INC-2026-001] Security incident notification")
    );
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Sécurité Exemple"));
    let to: Vec<_> = parsed
        .to()
        .unwrap()
        .iter()
        .map(|a| a.address().unwrap().to_string())
        .collect();
    assert_eq!(to, ["zoe@example.org", "b@example.org"]);
    assert_eq!(
        parsed.message_id(),
        Some(message_id(&message(Audience::Customers, body), &c).as_str())
    );
    assert_eq!(parsed.date().unwrap().to_rfc3339(), "2026-03-01T10:30:00Z");
    assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), body);
}

#[test]
fn commands_get_the_bytes_and_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("got");
    let argv = |script: &str| {
        vec![
            "sh".to_string(),
            "-c".to_string(),
            script.to_string(),
            "sink".to_string(),
        ]
    };
    let ok = run_command(
        &argv(&format!("cat > '{}'", out.display())),
        b"exact \xc3\xa9 bytes\n",
        &[],
        Duration::from_secs(10),
    )
    .unwrap();
    assert!(ok.contains("exit status 0"), "{ok}");
    assert_eq!(fs::read(&out).unwrap(), b"exact \xc3\xa9 bytes\n");

    let err = run_command(
        &argv("echo 'no route to host' >&2; exit 3"),
        b"x",
        &[],
        Duration::from_secs(10),
    )
    .unwrap_err();
    assert_eq!(err, "sh: exit status 3: no route to host");

    let err = run_command(
        &["/nonexistent/sendmail".into()],
        b"x",
        &[],
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(err.starts_with("cannot run /nonexistent/sendmail"), "{err}");

    let err = run_command(&argv("sleep 5"), b"", &[], Duration::from_millis(200)).unwrap_err();
    assert!(err.contains("did not finish within 0.2s"), "{err}");

    // A program that ignores its input still succeeds.
    run_command(
        &argv("exit 0"),
        &vec![b'x'; 1 << 20],
        &[],
        Duration::from_secs(10),
    )
    .unwrap();
}

/// Whether process `pid` is gone (or a zombie waiting for its parent).
fn gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

#[test]
fn a_timeout_stops_everything_the_command_started_even_one_holding_its_input() {
    // The program starts a helper that keeps the program's standard
    // input open without reading it, then waits. At the timeout the
    // whole process group is stopped: the writer of the 1 MiB message
    // is not left blocked on a pipe nobody reads, and no helper lives
    // on (before the fix, this call never returned).
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("helper.pid");
    let argv = vec![
        "sh".to_string(),
        "-c".to_string(),
        "exec 3<&0; sleep 1000 <&3 & echo $! > \"$1\"; wait".to_string(),
        "sink".to_string(),
        pid_file.display().to_string(),
    ];
    let err =
        run_command(&argv, &vec![b'x'; 1 << 20], &[], Duration::from_millis(300)).unwrap_err();
    assert!(err.contains("did not finish within 0.3s"), "{err}");
    let pid: u32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SIGKILL is delivered asynchronously: give the kernel a moment.
    for _ in 0..200 {
        if gone(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone(pid), "the helper {pid} outlived the timeout");
}

#[test]
fn outbox_files_are_written_whole_with_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("new/outbox");
    let msg = message(Audience::Internal, "hello\n");
    let p = write_outbox(&outbox, &outbox_file_name(&msg, false), b"hello\n").unwrap();
    assert_eq!(p, outbox.join("INC-2026-001-000007-internal.txt"));
    assert_eq!(fs::read(&p).unwrap(), b"hello\n");
    let names: Vec<_> = fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");

    fs::write(dir.path().join("file"), "").unwrap();
    let err = write_outbox(&dir.path().join("file/sub"), "x.txt", b"x").unwrap_err();
    assert!(err.contains("cannot create"), "{err}");
}

#[test]
fn outbox_never_writes_through_a_link_planted_at_its_temporary_name() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    fs::create_dir(&outbox).unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    let name = "INC-2026-001-000007-internal.txt";
    for planted in [format!(".{name}.tmp"), format!(".{name}.partial")] {
        std::os::unix::fs::symlink(&victim, outbox.join(planted)).unwrap();
    }
    write_outbox(&outbox, name, b"hello\n").unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"precious");
    assert_eq!(fs::read(outbox.join(name)).unwrap(), b"hello\n");
}
