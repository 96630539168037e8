//! One raw log line made ready for matching: decoded (invalid UTF-8 never
//! stops us), cut at a documented length, its timestamp read (with the year
//! inferred for syslog's year-less stamps) and `message repeated N times`
//! unfolded into N events.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use super::zone::LogZone;

/// Lines longer than this many bytes are cut here and flagged as truncated.
/// Log lines are rarely over a few hundred bytes; 64 KiB keeps a 10 MB line
/// from costing 10 MB per rule while still matching anything real.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// A line ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The text rules match against: the original line, or for a
    /// `message repeated` line the prefix plus the repeated message.
    pub text: Cow<'a, str>,
    /// The line as it was read (lossily decoded, possibly cut), for evidence.
    pub raw: Cow<'a, str>,
    /// When it was logged, if the line says.
    pub time: Option<DateTime<Utc>>,
    /// How many events the line stands for (`message repeated N times`).
    pub count: u32,
    /// The line was longer than [`MAX_LINE_BYTES`] and was cut.
    pub truncated: bool,
    /// The line was not valid UTF-8 (bad bytes shown as U+FFFD).
    pub lossy: bool,
}

/// Decodes, cuts and parses one line (without its newline).
pub fn prepare<'a>(bytes: &'a [u8], years: &mut YearInference) -> LogLine<'a> {
    let truncated = bytes.len() > MAX_LINE_BYTES;
    let bytes = if truncated {
        &bytes[..MAX_LINE_BYTES]
    } else {
        bytes
    };
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    // Valid UTF-8 (nearly every line) is checked by the fast validator;
    // only a line that fails it is decoded piece by piece.
    let raw = match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    // A character cut in two by the length limit shows as one U+FFFD but is
    // not bad input; anything else that needed replacing is.
    let lossy = matches!(raw, Cow::Owned(_))
        && match std::str::from_utf8(bytes) {
            Ok(_) => false,
            Err(e) => e.error_len().is_some() || !truncated,
        };
    let time = parse_timestamp(&raw, years);
    // RFC 5424 lines are matched in the classic form the rules are
    // written for: `STAMP HOST APP[PID]: MESSAGE`.
    let classic = super::rfc5424::to_classic(&raw);
    let base: &str = classic.as_deref().unwrap_or(&raw);
    let (text, count) = match unfold_repeated(base) {
        Some((text, n)) => (Cow::Owned(text), n),
        None => match classic {
            Some(c) => (Cow::Owned(c), 1),
            None => (raw.clone(), 1),
        },
    };
    LogLine {
        text,
        raw,
        time,
        count,
        truncated,
        lossy,
    }
}

/// The `group_by` key every event has: the host named in the line's
/// syslog header (a journal entry's `_HOSTNAME`), unless the event's own
/// pattern captures one.
pub const HOST_KEY: &str = "host";

/// The host field of a syslog line: after `Mmm dd HH:MM:SS` or after an
/// ISO 8601 stamp.
pub fn host_of(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let mut words = text.split_ascii_whitespace();
    if b.len() >= 15 && b[0].is_ascii_uppercase() && b.get(3) == Some(&b' ') {
        return words.nth(3);
    }
    if b.len() >= 19 && b[0].is_ascii_digit() && b[4] == b'-' {
        // `YYYY-MM-DD HH:MM:SS host` has its time as a second word.
        let skip = if b[10] == b' ' { 2 } else { 1 };
        return words.nth(skip);
    }
    None
}

/// `... message repeated 5 times: [ Failed password for root ...]` becomes
/// `... Failed password for root ...` standing for 5 events.
fn unfold_repeated(line: &str) -> Option<(String, u32)> {
    const MARK: &str = "message repeated ";
    let at = memchr::memmem::find(line.as_bytes(), MARK.as_bytes())?;
    let rest = &line[at + MARK.len()..];
    let (n, rest) = rest.split_once(' ')?;
    let n: u32 = n.parse().ok().filter(|n| *n > 0)?;
    let rest = rest.strip_prefix("times: [")?;
    let inner = rest.strip_suffix(']').unwrap_or(rest).trim_start();
    Some((format!("{}{}", &line[..at], inner), n))
}

/// Turns syslog's year-less `Dec 10 06:55:46` into a full time, read in
/// the log's zone (see [`LogZone`]; UTC unless set with [`Self::in_zone`]).
/// The first
/// stamp gets the year that puts it at or before the reference time (a
/// file's modification time, or now), allowing a day of clock skew; after
/// that, a jump from late in the year to early in the year (Dec -> Jan)
/// moves to the next year, so files spanning New Year stay in order.
#[derive(Debug, Clone)]
pub struct YearInference {
    reference: DateTime<Utc>,
    year: Option<i32>,
    last_month: u32,
    zone: LogZone,
    /// The last zone-less stamp read (decides a repeated DST hour).
    previous: Option<DateTime<Utc>>,
    /// The last syslog stamp read (a line's first [`STAMP_KEY`] bytes, no
    /// fraction) and its time, while nothing else changed the state: a
    /// line with the same first bytes has the same time (a flood repeats
    /// each second's stamp thousands of times).
    last: Option<([u8; STAMP_KEY], DateTime<Utc>)>,
}

/// Bytes that hold a syslog stamp and the place of its fraction's dot.
const STAMP_KEY: usize = 16;

impl YearInference {
    pub fn new(reference: DateTime<Utc>) -> YearInference {
        YearInference {
            reference,
            year: None,
            last_month: 0,
            zone: LogZone::Utc,
            previous: None,
            last: None,
        }
    }

    /// Zone-less stamps are read in `zone`.
    pub fn in_zone(mut self, zone: LogZone) -> YearInference {
        self.zone = zone;
        self.last = None;
        self
    }

    /// A wall-clock time in the log's zone, as UTC.
    fn local(&mut self, t: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
        self.last = None;
        let at = self.zone.resolve(t, self.previous)?;
        self.previous = Some(at);
        Some(at)
    }

    fn year_for(&mut self, month: u32, day: u32) -> i32 {
        self.last = None;
        let year = match self.year {
            None => {
                let y = self.reference.year();
                let candidate = NaiveDate::from_ymd_opt(y, month, day)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| Utc.from_utc_datetime(&d));
                match candidate {
                    Some(c) if c > self.reference + Duration::days(1) => y - 1,
                    _ => y,
                }
            }
            Some(y) if self.last_month >= 10 && month <= 3 => y + 1,
            Some(y) if self.last_month <= 3 && month >= 10 => y - 1,
            Some(y) => y,
        };
        self.year = Some(year);
        self.last_month = month;
        year
    }
}

/// Reads the timestamp at the start of a line: syslog (`Dec 10 06:55:46`,
/// `Dec  1 ...`), RFC 3339 / ISO 8601 (`2026-11-22T18:09:17Z`, with
/// fractions and offsets, or a space for `T`), which also covers
/// high-precision syslog. Returns None for lines without one.
pub fn parse_timestamp(line: &str, years: &mut YearInference) -> Option<DateTime<Utc>> {
    let b = line.as_bytes();
    if b.len() >= 15 && b[0].is_ascii_uppercase() && b[3] == b' ' {
        // The same stamp as the line before, read in the same state, is
        // the same time (its year and zone state stay as they were).
        if let (Some(key), Some((last, at))) = (b.get(..STAMP_KEY), &years.last)
            && key == last
        {
            return Some(*at);
        }
        let at = parse_syslog(line, years);
        // Only a stamp without a fraction: its dot (byte 14 or 15) is then
        // not in the key, so an equal key means an equal stamp.
        if let (Some(t), Some(key)) = (at, b.get(..STAMP_KEY))
            && !key[14..].contains(&b'.')
            && let Ok(key) = <[u8; STAMP_KEY]>::try_from(key)
        {
            years.last = Some((key, t));
        }
        return at;
    }
    if b.len() >= 19 && b[0].is_ascii_digit() && b[4] == b'-' {
        return parse_iso(line, years);
    }
    if let Some(stamp) = super::rfc5424::stamp(line) {
        return parse_iso(stamp, years);
    }
    None
}

fn month_number(m: &[u8]) -> Option<u32> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// `Mmm dd HH:MM:SS` (day space-padded or not).
fn parse_syslog(line: &str, years: &mut YearInference) -> Option<DateTime<Utc>> {
    let b = line.as_bytes();
    let month = month_number(&b[0..3])?;
    let rest = &b[4..];
    let (day, rest) = match rest {
        [b' ', d, b' ', rest @ ..] => (digits(&[*d])?, rest),
        [d1, d2, b' ', rest @ ..] => (digits(&[*d1, *d2])?, rest),
        [d, b' ', rest @ ..] => (digits(&[*d])?, rest),
        _ => return None,
    };
    if rest.len() < 8 || rest[2] != b':' || rest[5] != b':' {
        return None;
    }
    let (h, m, s) = (
        digits(&rest[0..2])?,
        digits(&rest[3..5])?,
        digits(&rest[6..8])?,
    );
    // Optional fraction (some syslog daemons add one).
    let mut nanos = 0;
    if rest.len() > 9 && rest[8] == b'.' {
        let frac: Vec<u8> = rest[9..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .take(9)
            .copied()
            .collect();
        if let Some(f) = digits(&frac) {
            nanos = f * 10u32.pow(9 - frac.len() as u32);
        }
    }
    let year = years.year_for(month, day);
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let t = date.and_hms_nano_opt(h, m, s, nanos)?;
    years.local(t)
}

/// RFC 3339 / ISO 8601 at the start of the line, up to the first space
/// after the time (or the first space if `T` is written as a space).
fn parse_iso(line: &str, years: &mut YearInference) -> Option<DateTime<Utc>> {
    let b = line.as_bytes();
    // Accept "YYYY-MM-DD HH:MM:SS..." by treating the space as 'T'.
    let end = if b.get(10) == Some(&b' ') {
        19 + b[19..]
            .iter()
            .position(|c| *c == b' ')
            .unwrap_or(b.len() - 19)
    } else {
        b.iter().position(|c| *c == b' ').unwrap_or(b.len())
    };
    let stamp = &line[..end];
    let normalised: Cow<'_, str> = if b.get(10) == Some(&b' ') {
        Cow::Owned(format!("{}T{}", &stamp[..10], &stamp[11..]))
    } else {
        Cow::Borrowed(stamp)
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&normalised) {
        return Some(t.with_timezone(&Utc));
    }
    // No offset: ISO 8601 local time, read in the log's zone.
    let t = chrono::NaiveDateTime::parse_from_str(&normalised, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    years.local(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn syslog_stamps_get_a_sensible_year() {
        let mut y = YearInference::new(at(2026, 11, 22, 0, 0, 0));
        // December is after November 22nd: it must have been last year's.
        assert_eq!(
            parse_timestamp("Dec 10 06:55:46 LabSZ sshd[1]: x", &mut y),
            Some(at(2025, 12, 10, 6, 55, 46))
        );
        let mut y = YearInference::new(at(2026, 11, 22, 0, 0, 0));
        assert_eq!(
            parse_timestamp("Nov  2 01:02:03 host x", &mut y),
            Some(at(2026, 11, 2, 1, 2, 3))
        );
        assert_eq!(
            parse_timestamp("Nov 2 01:02:03 host x", &mut y),
            Some(at(2026, 11, 2, 1, 2, 3))
        );
    }

    #[test]
    fn a_file_spanning_new_year_stays_in_order() {
        let mut y = YearInference::new(at(2027, 1, 1, 0, 10, 0));
        let a = parse_timestamp("Dec 31 23:59:58 h x", &mut y).unwrap();
        let b = parse_timestamp("Jan  1 00:00:02 h x", &mut y).unwrap();
        assert_eq!(a, at(2026, 12, 31, 23, 59, 58));
        assert_eq!(b, at(2027, 1, 1, 0, 0, 2));
        assert!(a < b);
    }

    #[test]
    fn iso_and_high_precision_stamps() {
        let mut y = YearInference::new(Utc::now());
        assert_eq!(
            parse_timestamp("2026-11-22T18:09:17Z sshd: x", &mut y),
            Some(at(2026, 11, 22, 18, 9, 17))
        );
        let hp =
            parse_timestamp("2026-11-22T18:09:17.123456+01:00 host sshd[1]: x", &mut y).unwrap();
        assert_eq!(
            hp,
            at(2026, 11, 22, 17, 9, 17) + Duration::microseconds(123_456)
        );
        assert_eq!(
            parse_timestamp("2026-11-22 18:09:17 x", &mut y),
            Some(at(2026, 11, 22, 18, 9, 17))
        );
        assert_eq!(
            parse_timestamp("2026-11-22T18:09:17.5", &mut y),
            Some(at(2026, 11, 22, 18, 9, 17) + Duration::milliseconds(500))
        );
        assert_eq!(parse_timestamp("no stamp here", &mut y), None);
        assert_eq!(parse_timestamp("Foo 10 06:55:46 x", &mut y), None);
        assert_eq!(parse_timestamp("Dec 99 06:55:46 x", &mut y), None);
        assert_eq!(parse_timestamp("2026-13-40T99:00:00Z", &mut y), None);
    }

    #[test]
    fn a_repeated_stamp_reads_as_if_read_afresh() {
        let zone = LogZone::parse("Europe/Berlin").unwrap();
        let lines = [
            "Dec 31 23:59:59 h a",
            "Dec 31 23:59:59 h b",
            "Jan  1 00:00:00 h c",
            "Jan  1 00:00:00 h d",
            "Dec 31 23:59:59 h e",
            "Oct 25 02:30:00 h f",
            "Oct 25 02:59:59 h g",
            "Oct 25 02:30:00 h h",
            "Oct 25 02:30:00 h i",
            "Oct 25 02:30:00.5 h j",
            "Oct 25 02:30:00.7 h k",
            "2026-10-25T02:10:00 h l",
            "Oct 25 02:30:00 h m",
            "Oct 5 02:30:00 h n",
            "Oct 5 02:30:00.25 h o",
            "Oct 5 02:30:00 h p",
        ];
        let reference = at(2026, 12, 31, 0, 0, 0);
        let mut cached = YearInference::new(reference).in_zone(zone);
        let mut fresh = YearInference::new(reference).in_zone(zone);
        let mut hits = 0;
        for line in lines {
            hits += usize::from(cached.last.is_some_and(|(k, _)| line.as_bytes()[..16] == k));
            fresh.last = None;
            assert_eq!(
                parse_timestamp(line, &mut cached),
                parse_timestamp(line, &mut fresh),
                "{line}"
            );
        }
        assert!(hits >= 3, "the cache was used: {hits}");
    }

    #[test]
    fn repeated_messages_count_as_n_events() {
        let mut y = YearInference::new(at(2026, 1, 1, 0, 0, 0));
        let l = prepare(
            b"Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
            &mut y,
        );
        assert_eq!(l.count, 5);
        assert_eq!(
            l.text,
            "Dec 10 07:13:56 LabSZ sshd[24227]: Failed password for root from 5.36.59.76 port 42393 ssh2"
        );
        assert!(l.raw.contains("message repeated"));
    }

    #[test]
    fn hostile_bytes_never_stop_a_line() {
        let mut y = YearInference::new(Utc::now());
        let l = prepare(
            b"Dec 10 07:13:56 h sshd: bad \xff\xfe bytes \x00 and \x1b[2J",
            &mut y,
        );
        assert!(l.lossy);
        assert!(l.text.contains('\u{FFFD}'));
        assert!(
            l.text.contains('\u{1b}'),
            "stored raw; the sanitizer is for display"
        );

        let mut huge = b"Dec 10 07:13:56 h x ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
        let l = prepare(&huge, &mut y);
        assert!(l.truncated);
        assert_eq!(l.raw.len(), MAX_LINE_BYTES);
        assert!(l.time.is_some());

        // A multi-byte character cut by the limit is not "invalid input".
        let mut cut = vec![b'a'; MAX_LINE_BYTES - 1];
        cut.extend("é".as_bytes());
        let l = prepare(&cut, &mut y);
        assert!(l.truncated && !l.lossy);
    }
}
