//! journalctl's export format (`--output=export`), read as it streams. A
//! field is `NAME=value\n`, or, when its value is not printable UTF-8 (a
//! line break, a control character, invalid bytes), `NAME\n`, the value's
//! length as a little-endian u64, the bytes, and `\n`; an empty line ends
//! an entry. Only the fields a line is made of are kept, each in a buffer
//! reused from entry to entry and at most [`MAX_FIELD_BYTES`] of it (the
//! rest streams past): no value, however long, is held whole, and nothing
//! is allocated per entry once the buffers have grown.

use std::io::{self, BufRead};

use crate::detect::logline::MAX_LINE_BYTES;

/// What is kept of one field's value: a line longer than this is cut by
/// the engine anyway.
pub const MAX_FIELD_BYTES: usize = MAX_LINE_BYTES;

/// Longer than any journal field name (journald allows 64 bytes).
const MAX_NAME_BYTES: usize = 256;

/// The fields an entry's line is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Cursor,
    Realtime,
    SourceRealtime,
    Hostname,
    SyslogIdentifier,
    Comm,
    SyslogPid,
    Pid,
    Message,
}

const KEPT: [(&[u8], Field); 9] = [
    (b"__CURSOR", Field::Cursor),
    (b"__REALTIME_TIMESTAMP", Field::Realtime),
    (b"_SOURCE_REALTIME_TIMESTAMP", Field::SourceRealtime),
    (b"_HOSTNAME", Field::Hostname),
    (b"SYSLOG_IDENTIFIER", Field::SyslogIdentifier),
    (b"_COMM", Field::Comm),
    (b"SYSLOG_PID", Field::SyslogPid),
    (b"_PID", Field::Pid),
    (b"MESSAGE", Field::Message),
];

/// The kept fields, besides those journalctl always prints (the cursor
/// and the timestamps), as `--output-fields` takes them.
pub const OUTPUT_FIELDS: &str = "--output-fields=_SOURCE_REALTIME_TIMESTAMP,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,SYSLOG_PID,_PID,MESSAGE";

fn kept(name: &[u8]) -> Option<Field> {
    KEPT.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Why the export could not be read.
#[derive(Debug)]
pub enum ExportError {
    /// Reading failed.
    Io(io::Error),
    /// The bytes are not export format: which entry (counted from 1), the
    /// byte offset in the output where the broken part starts, and how.
    Malformed {
        entry: u64,
        offset: u64,
        reason: String,
    },
}

/// One entry's kept fields (the first value of a field given twice).
pub struct Fields<'a> {
    values: &'a [Vec<u8>; KEPT.len()],
    seen: u16,
    cut: u16,
}

impl Fields<'_> {
    pub fn get(&self, f: Field) -> Option<&[u8]> {
        (self.seen & (1 << f as u16) != 0).then(|| self.values[f as usize].as_slice())
    }

    /// Whether the field's value was longer than [`MAX_FIELD_BYTES`].
    pub fn was_cut(&self, f: Field) -> bool {
        self.cut & (1 << f as u16) != 0
    }
}

/// Reads entries from export output.
pub struct ExportReader<R> {
    inner: R,
    /// Bytes consumed so far.
    offset: u64,
    /// Entries begun so far.
    entries: u64,
    /// Where the current entry began.
    entry_start: u64,
    name: Vec<u8>,
    values: [Vec<u8>; KEPT.len()],
    seen: u16,
    cut: u16,
}

impl<R: BufRead> ExportReader<R> {
    pub fn new(inner: R) -> ExportReader<R> {
        ExportReader {
            inner,
            offset: 0,
            entries: 0,
            entry_start: 0,
            name: Vec::new(),
            values: Default::default(),
            seen: 0,
            cut: 0,
        }
    }

    /// The entry last returned (counted from 1) and the byte offset it
    /// began at, for an error found in its fields.
    pub fn position(&self) -> (u64, u64) {
        (self.entries, self.entry_start)
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The next entry's kept fields; None at the end of the output. An
    /// entry the output ends without its closing empty line still counts.
    pub fn next_entry(&mut self) -> Result<Option<Fields<'_>>, ExportError> {
        self.seen = 0;
        self.cut = 0;
        let mut fields = 0u64;
        loop {
            let field_start = self.offset;
            let Some(end) = self.read_name(field_start)? else {
                // The output ended between fields.
                if fields == 0 {
                    return Ok(None);
                }
                break;
            };
            if end == b'\n' && self.name.is_empty() {
                if fields == 0 {
                    // Blank lines between entries say nothing.
                    continue;
                }
                break;
            }
            if fields == 0 {
                self.entries += 1;
                self.entry_start = field_start;
            }
            fields += 1;
            if !valid_name(&self.name) {
                return Err(malformed(
                    self.entries,
                    field_start,
                    format!("{} is not a journal field name", shown(&self.name)),
                ));
            }
            // A field given twice: the first value counts.
            let slot = kept(&self.name).filter(|f| self.seen & (1 << *f as u16) == 0);
            if let Some(f) = slot {
                self.values[f as usize].clear();
            }
            if end == b'=' {
                self.read_text(slot, field_start)?;
            } else {
                self.read_binary(slot, field_start)?;
            }
            if let Some(f) = slot {
                self.seen |= 1 << f as u16;
            }
        }
        Ok(Some(Fields {
            values: &self.values,
            seen: self.seen,
            cut: self.cut,
        }))
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.offset += n as u64;
    }

    /// A field's name into `self.name`, and what ended it (`=` or `\n`);
    /// None at the end of the output before any byte of a name.
    fn read_name(&mut self, start: u64) -> Result<Option<u8>, ExportError> {
        self.name.clear();
        loop {
            let buf = fill(&mut self.inner)?;
            if buf.is_empty() {
                if self.name.is_empty() {
                    return Ok(None);
                }
                return Err(malformed(
                    self.entries,
                    start,
                    format!(
                        "the output ends inside the field name {}",
                        shown(&self.name)
                    ),
                ));
            }
            let found = memchr::memchr2(b'=', b'\n', buf);
            let take = found.unwrap_or(buf.len());
            let end = found.map(|i| buf[i]);
            if self.name.len() + take > MAX_NAME_BYTES {
                let mut name = self.name.clone();
                name.extend_from_slice(&buf[..take.min(MAX_NAME_BYTES)]);
                return Err(malformed(
                    self.entries,
                    start,
                    format!(
                        "a field name longer than {MAX_NAME_BYTES} bytes ({}...)",
                        shown(&name[..MAX_NAME_BYTES.min(name.len())])
                    ),
                ));
            }
            self.name.extend_from_slice(&buf[..take]);
            self.consume(take + usize::from(end.is_some()));
            if end.is_some() {
                return Ok(end);
            }
        }
    }

    /// A `NAME=value` field's value, up to its line end.
    fn read_text(&mut self, slot: Option<Field>, start: u64) -> Result<(), ExportError> {
        loop {
            let buf = fill(&mut self.inner)?;
            if buf.is_empty() {
                return Err(malformed(
                    self.entries,
                    start,
                    format!("the output ends inside the value of {}", shown(&self.name)),
                ));
            }
            let found = memchr::memchr(b'\n', buf);
            let take = found.unwrap_or(buf.len());
            if let Some(f) = slot {
                let value = &mut self.values[f as usize];
                let room = MAX_FIELD_BYTES.saturating_sub(value.len());
                value.extend_from_slice(&buf[..take.min(room)]);
                if take > room {
                    self.cut |= 1 << f as u16;
                }
            }
            self.consume(take + usize::from(found.is_some()));
            if found.is_some() {
                return Ok(());
            }
        }
    }

    /// A binary field's length, bytes and closing line end.
    fn read_binary(&mut self, slot: Option<Field>, start: u64) -> Result<(), ExportError> {
        let mut len = [0u8; 8];
        let mut got = 0;
        while got < len.len() {
            let buf = fill(&mut self.inner)?;
            if buf.is_empty() {
                return Err(malformed(
                    self.entries,
                    start,
                    format!(
                        "the output ends inside the length of the binary field {}",
                        shown(&self.name)
                    ),
                ));
            }
            let n = buf.len().min(len.len() - got);
            len[got..got + n].copy_from_slice(&buf[..n]);
            got += n;
            self.consume(n);
        }
        let len = u64::from_le_bytes(len);
        let mut left = len;
        while left > 0 {
            let buf = fill(&mut self.inner)?;
            if buf.is_empty() {
                return Err(malformed(
                    self.entries,
                    start,
                    format!(
                        "the output ends {left} bytes short of the {len}-byte binary field {}",
                        shown(&self.name)
                    ),
                ));
            }
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            if let Some(f) = slot {
                let value = &mut self.values[f as usize];
                let room = MAX_FIELD_BYTES.saturating_sub(value.len());
                value.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    self.cut |= 1 << f as u16;
                }
            }
            self.consume(n);
            left -= n as u64;
        }
        match fill(&mut self.inner)?.first() {
            Some(b'\n') => {
                self.consume(1);
                Ok(())
            }
            _ => Err(malformed(
                self.entries,
                start,
                format!(
                    "no line end after the {len} bytes of the binary field {}",
                    shown(&self.name)
                ),
            )),
        }
    }
}

fn malformed(entries: u64, offset: u64, reason: String) -> ExportError {
    ExportError::Malformed {
        entry: entries.max(1),
        offset,
        reason,
    }
}

fn fill<R: BufRead>(inner: &mut R) -> Result<&[u8], ExportError> {
    // Retried until not interrupted; the second call hands out what the
    // first one buffered (returning the first borrow from the loop is what
    // the borrow checker cannot yet prove sound).
    loop {
        match inner.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ExportError::Io(e)),
        }
    }
    inner.fill_buf().map_err(ExportError::Io)
}

/// Letters, digits and underscores, as journald's field names are.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Bytes from a broken output, quoted and escaped for an error message.
fn shown(bytes: &[u8]) -> String {
    format!(
        "{:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(64)])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(data: &[u8], capacity: usize) -> Result<Vec<Vec<Option<Vec<u8>>>>, String> {
        let mut r = ExportReader::new(io::BufReader::with_capacity(capacity, data));
        let mut out = Vec::new();
        loop {
            match r.next_entry() {
                Ok(Some(f)) => out.push(
                    KEPT.iter()
                        .map(|(_, k)| f.get(*k).map(<[u8]>::to_vec))
                        .collect(),
                ),
                Ok(None) => return Ok(out),
                Err(ExportError::Malformed {
                    entry,
                    offset,
                    reason,
                }) => return Err(format!("entry {entry} byte {offset}: {reason}")),
                Err(ExportError::Io(e)) => return Err(e.to_string()),
            }
        }
    }

    fn binary(name: &str, value: &[u8]) -> Vec<u8> {
        let mut v = format!("{name}\n").into_bytes();
        v.extend_from_slice(&(value.len() as u64).to_le_bytes());
        v.extend_from_slice(value);
        v.push(b'\n');
        v
    }

    #[test]
    fn text_and_binary_fields_read_alike_at_any_buffer_size() {
        let mut data = b"__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=10\n_BOOT_ID=x\n".to_vec();
        data.extend(binary("MESSAGE", b"two\nlines \xff"));
        data.extend(b"MESSAGE=second value of a repeated field\n\n\n");
        data.extend(b"__CURSOR=c2\n_HOSTNAME=\n");
        data.extend(binary("SYSLOG_IDENTIFIER", b""));
        data.extend(b"\n");
        // The last entry without its closing empty line.
        data.extend(b"__CURSOR=c3\n");
        let whole = entries(&data, data.len()).unwrap();
        for cap in 1..=16 {
            assert_eq!(entries(&data, cap).unwrap(), whole, "capacity {cap}");
        }
        assert_eq!(whole.len(), 3);
        let get = |e: usize, f: Field| whole[e][f as usize].as_deref();
        assert_eq!(get(0, Field::Cursor), Some(&b"s=1;i=1"[..]));
        assert_eq!(get(0, Field::Realtime), Some(&b"10"[..]));
        assert_eq!(get(0, Field::Message), Some(&b"two\nlines \xff"[..]));
        assert_eq!(get(0, Field::Hostname), None);
        assert_eq!(get(1, Field::Hostname), Some(&b""[..]));
        assert_eq!(get(1, Field::SyslogIdentifier), Some(&b""[..]));
        assert_eq!(get(1, Field::Message), None);
        assert_eq!(get(2, Field::Cursor), Some(&b"c3"[..]));
    }

    #[test]
    fn long_values_keep_their_first_bytes_and_stream_the_rest() {
        let long = vec![b'a'; MAX_FIELD_BYTES + 10];
        let mut data = b"__CURSOR=c\nMESSAGE=".to_vec();
        data.extend(&long);
        data.extend(b"\n_PID=1\n");
        data.extend(binary("SYSLOG_IDENTIFIER", &long));
        data.extend(b"\n");
        let mut r = ExportReader::new(io::BufReader::with_capacity(4096, &data[..]));
        let f = r.next_entry().unwrap().unwrap();
        assert_eq!(f.get(Field::Message).unwrap().len(), MAX_FIELD_BYTES);
        assert!(f.was_cut(Field::Message) && f.was_cut(Field::SyslogIdentifier));
        assert!(!f.was_cut(Field::Cursor));
        assert_eq!(f.get(Field::Pid), Some(&b"1"[..]));
        assert_eq!(
            f.get(Field::SyslogIdentifier).unwrap().len(),
            MAX_FIELD_BYTES
        );
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn broken_output_says_which_entry_and_byte() {
        let err = |data: &[u8]| entries(data, 3).unwrap_err();
        // JSON is not export format.
        let e = err(b"{\"__CURSOR\": \"s=1\", broken\n");
        assert!(e.starts_with("entry 1 byte 0:"), "{e}");
        assert!(e.contains("not a journal field name"), "{e}");
        let e = err(b"__CURSOR=a\n\n__CURSOR=b\nMESS");
        assert!(e.starts_with("entry 2 byte 23:"), "{e}");
        assert!(e.contains("inside the field name \"MESS\""), "{e}");
        let e = err(b"__CURSOR=a\nMESSAGE=no line end");
        assert!(
            e.starts_with("entry 1 byte 11:") && e.contains("value of"),
            "{e}"
        );
        let mut short = b"__CURSOR=a\nMESSAGE\n\x05\0\0".to_vec();
        assert!(err(&short).contains("inside the length"));
        short.extend(b"\0\0\0\0\0ab");
        let e = err(&short);
        assert!(
            e.contains("3 bytes short of the 5-byte binary field"),
            "{e}"
        );
        short.extend(b"cde");
        assert!(err(&short).contains("no line end after the 5 bytes"));
        // A length no output holds ends in an error, not an allocation.
        let mut huge = b"__CURSOR=a\nMESSAGE\n".to_vec();
        huge.extend(u64::MAX.to_le_bytes());
        huge.extend(b"abc\n\n");
        assert!(err(&huge).contains("bytes short of"));
        let e = err(&[b'A'; 300]);
        assert!(e.contains("longer than 256 bytes"), "{e}");
        assert_eq!(entries(b"", 3).unwrap().len(), 0);
        assert_eq!(entries(b"\n\n", 3).unwrap().len(), 0);
    }
}
