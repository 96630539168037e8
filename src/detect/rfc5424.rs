//! RFC 5424 syslog lines (`<38>1 2019-07-08T17:40:16.954167-04:00 host sshd
//! 57915 - - message`), as some relays and appliances write them: their
//! time, host, app and pid are read like a classic line's, and rules match
//! them in the classic form `STAMP HOST APP[PID]: MESSAGE`.

/// The parts of an RFC 5424 line.
struct Parts<'a> {
    stamp: &'a str,
    host: &'a str,
    app: &'a str,
    pid: &'a str,
    msg: &'a str,
}

/// `<PRI>1 ` then the header fields; None for anything else.
fn parts(line: &str) -> Option<Parts<'_>> {
    let rest = line.strip_prefix('<')?;
    let close = rest.find('>')?;
    if close == 0 || close > 3 || !rest[..close].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest[close + 1..].strip_prefix("1 ")?;
    let mut fields = rest.splitn(6, ' ');
    let stamp = fields.next()?;
    let host = fields.next()?;
    let app = fields.next()?;
    let pid = fields.next()?;
    let _msgid = fields.next()?;
    let rest = fields.next().unwrap_or("");
    let msg = skip_structured_data(rest)?;
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    if !stamp.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    Some(Parts {
        stamp,
        host,
        app,
        pid,
        msg,
    })
}

/// `-` or `[id k="v" ...][...]`, then the message. A `]` inside a quoted
/// value does not close the element (escaped as `\]` or not: writers
/// differ).
fn skip_structured_data(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix('-') {
        return Some(rest.strip_prefix(' ').unwrap_or(rest));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let (mut escaped, mut quoted) = (false, false);
        loop {
            i += 1;
            match b.get(i)? {
                b'\\' if !escaped => escaped = true,
                b'"' if !escaped => quoted = !quoted,
                b']' if !escaped && !quoted => break,
                _ => escaped = false,
            }
        }
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let rest = &s[i..];
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// The timestamp field of an RFC 5424 line, with what follows it.
pub fn stamp(line: &str) -> Option<&str> {
    let p = parts(line)?;
    let at = p.stamp.as_ptr() as usize - line.as_ptr() as usize;
    Some(&line[at..])
}

/// The line in classic form, for matching.
pub fn to_classic(line: &str) -> Option<String> {
    let p = parts(line)?;
    let host = if p.host == "-" { "localhost" } else { p.host };
    Some(if p.pid == "-" {
        format!("{} {host} {}: {}", p.stamp, p.app, p.msg)
    } else {
        format!("{} {host} {}[{}]: {}", p.stamp, p.app, p.pid, p.msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5424_lines_become_classic_ones() {
        let l = "<38>1 2019-07-08T17:40:16.954167-04:00 host sshd 57915 - - Failed password for root from 192.0.2.1 port 22 ssh2";
        assert_eq!(
            to_classic(l).unwrap(),
            "2019-07-08T17:40:16.954167-04:00 host sshd[57915]: Failed password for root from 192.0.2.1 port 22 ssh2"
        );
        assert!(stamp(l).unwrap().starts_with("2019-07-08T17:40:16"));
        let sd = r#"<13>1 2026-01-01T00:00:00Z h app - ID [x a="1\]2" b="[c]"][y] hello"#;
        assert_eq!(to_classic(sd).unwrap(), "2026-01-01T00:00:00Z h app: hello");
        assert_eq!(to_classic("Dec 10 06:55:46 host sshd[1]: x"), None);
        assert_eq!(to_classic("<38>1 "), None);
        assert_eq!(to_classic("<38>1 a b c d e [unterminated"), None);
    }
}
