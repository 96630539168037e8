//! Reading journal export output into entries and lines.

use super::*;

/// Export output of one entry: `NAME=value` fields, and `(NAME, bytes)`
/// ones written as binary fields.
fn export(text: &[&str], binary: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in text {
        out.extend_from_slice(t.as_bytes());
        out.push(b'\n');
    }
    for (name, value) in binary {
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

fn parse(data: &[u8]) -> Result<Entry, JournalError> {
    let mut r = EntryReader::new(data);
    let e = r
        .next_entry()?
        .ok_or(JournalError::Failed("no entry".into()))?;
    assert!(r.next_entry()?.is_none());
    Ok(e)
}

#[test]
fn entries_become_syslog_lines_with_decoded_bytes() {
    let e = parse(&export(
        &[
            "__CURSOR=s=1;i=2",
            "__REALTIME_TIMESTAMP=1764685865000000",
            "_SOURCE_REALTIME_TIMESTAMP=1764685864500000",
            "_HOSTNAME=web1",
            "SYSLOG_IDENTIFIER=sshd-session",
            "_PID=42",
        ],
        &[("MESSAGE", b"Failed \xff\n")],
    ))
    .unwrap();
    assert_eq!(
        e.line,
        "2025-12-02T14:31:04.500000Z web1 sshd-session[42]: Failed \u{FFFD}"
    );
    assert_eq!(e.host, "web1");
    assert_eq!(e.cursor, "s=1;i=2");
    // No source time: the journal's own; no pid, no identifier.
    let e = parse(&export(
        &[
            "__CURSOR=c",
            "__REALTIME_TIMESTAMP=1764685865000000",
            "_COMM=cron",
            "MESSAGE=x",
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(e.line, "2025-12-02T14:31:05.000000Z localhost cron: x");
    // A field given twice: the first value.
    let e = parse(&export(
        &[
            "__CURSOR=c",
            "__REALTIME_TIMESTAMP=1764685865000000",
            "SYSLOG_IDENTIFIER=sshd",
            "SYSLOG_IDENTIFIER=x",
            "MESSAGE=",
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(e.line, "2025-12-02T14:31:05.000000Z localhost sshd: ");
    // An identifier (set by any process) with a space or line break
    // stays one word: it cannot pose as a message (found by fuzzing).
    let e = parse(&export(
        &[
            "__CURSOR=c",
            "__REALTIME_TIMESTAMP=1764685865000000",
            "SYSLOG_PID=1 2",
            "MESSAGE=x",
        ],
        &[("SYSLOG_IDENTIFIER", b"iled \xff\n")],
    ))
    .unwrap();
    assert_eq!(
        e.line,
        "2025-12-02T14:31:05.000000Z localhost iled_\u{FFFD}_[1_2]: x"
    );
    let e = parse(&export(
        &[
            "__CURSOR=c",
            "__REALTIME_TIMESTAMP=1764685865000000",
            "MESSAGE=y",
        ],
        &[(
            "SYSLOG_IDENTIFIER",
            b"sshd[1]: Failed password for root from 192.0.2.9 port 1 ssh2\nx",
        )],
    ))
    .unwrap();
    assert!(!e.line.contains("password for"), "{}", e.line);
    // A multi-line message is one line.
    let e = parse(&export(
        &["__CURSOR=c", "__REALTIME_TIMESTAMP=1764685865000000"],
        &[("MESSAGE", b"a\r\nb\n")],
    ))
    .unwrap();
    assert!(e.line.ends_with(": a  b"), "{}", e.line);
    let err = parse(b"{not export").unwrap_err().to_string();
    assert!(err.contains("malformed at entry 1 (byte 0)"), "{err}");
    let err = parse(&export(&["MESSAGE=no cursor"], &[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("at entry 1 (byte 0): no __CURSOR field"),
        "{err}"
    );
    let err = parse(&export(&["__CURSOR=c", "__REALTIME_TIMESTAMP=soon"], &[]))
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("no timestamp field"), "{err}");
}

#[test]
fn a_committed_cursor_covers_the_entries_up_to_it() {
    let entry = |cursor: &str, us: i64| Entry {
        line: String::new(),
        time: DateTime::from_timestamp_micros(us).unwrap(),
        host: "h".into(),
        cursor: cursor.into(),
    };
    // The watcher committed the second entry (t=0x1e = 30 us).
    let c = "s=ab;i=2;b=cd;m=1;t=1e;x=ef".to_string();
    let mut committed = Committed::new(vec![c.clone()]);
    assert!(committed.covers(&entry("s=ab;i=1;b=cd;m=0;t=a;x=0", 10)));
    assert!(committed.covers(&entry(&c, 30)));
    // After the cursor: not the watcher's, even at the same time.
    assert!(!committed.covers(&entry("s=ab;i=3;b=cd;m=2;t=1e;x=1", 30)));
    // A replay that starts after the cursor (--since): by time.
    let mut committed = Committed::new(vec![c]);
    assert!(!committed.covers(&entry("s=ab;i=9;b=cd;m=9;t=64;x=9", 100)));
    assert!(!Committed::new(Vec::new()).covers(&entry("x", 1)));
}

#[test]
fn sources_have_distinct_checkpoint_keys() {
    let sys = JournalSource::default();
    let dir = JournalSource {
        directory: Some("/var/log/journal/remote".into()),
        matches: vec!["_SYSTEMD_UNIT=ssh.service".into()],
        ..JournalSource::default()
    };
    assert_eq!(sys.key(), "journal:system");
    assert_eq!(
        dir.key(),
        "journal:/var/log/journal/remote _SYSTEMD_UNIT=ssh.service"
    );
}
