//! The zone a log's zone-less stamps were written in (classic syslog's
//! `Dec  2 14:31:05`, ISO 8601 without an offset): the local zone by
//! default (`TZ`, else the system's), or one named per source
//! (`--log-tz`, `timezone` in watch.toml). Stamps that carry an offset
//! keep it; journal entries carry absolute times.
//!
//! Daylight-saving changes: a local time in the spring gap (which no clock
//! showed) is read with the offset in force before the gap; a local time in
//! the repeated autumn hour takes the earlier offset, unless the line
//! before it was already later than that (the log is in order, so it must
//! be the second pass through the hour).

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A zone to read zone-less stamps in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogZone {
    Utc,
    /// An IANA zone (`Europe/Berlin`), from chrono-tz's built-in database.
    Named(Tz),
    /// The C library's idea of local time (a POSIX `TZ` rule such as
    /// `CET-1CEST,M3.5.0,M10.5.0/3` that names no IANA zone).
    System,
}

impl LogZone {
    /// `UTC`, `local`, or an IANA name such as `Europe/Berlin`.
    pub fn parse(name: &str) -> Result<LogZone, String> {
        let name = name.trim();
        match name {
            "" => Err("empty time zone name".into()),
            "local" | "LOCAL" | "Local" => Ok(LogZone::local()),
            "UTC" | "utc" | "Z" | "Etc/UTC" | "GMT" => Ok(LogZone::Utc),
            _ => name.parse::<Tz>().map(LogZone::Named).map_err(|_| {
                format!("unknown time zone '{name}' (use an IANA name such as Europe/Berlin, or UTC, or local)")
            }),
        }
    }

    /// This host's zone: `TZ` if set, else /etc/timezone or the zone
    /// /etc/localtime links to, else the C library's local time.
    pub fn local() -> LogZone {
        match std::env::var("TZ") {
            // POSIX: an empty TZ is UTC.
            Ok(tz) if tz.trim().is_empty() => return LogZone::Utc,
            Ok(tz) => {
                let name = tz.trim().trim_start_matches(':');
                let name = name.rsplit_once("zoneinfo/").map_or(name, |(_, zone)| zone);
                return LogZone::parse(name).unwrap_or(LogZone::System);
            }
            Err(_) => {}
        }
        if let Ok(name) = std::fs::read_to_string("/etc/timezone")
            && let Ok(zone) = LogZone::parse(name.trim())
            && !name.trim().eq_ignore_ascii_case("local")
        {
            return zone;
        }
        if let Ok(target) = std::fs::read_link("/etc/localtime")
            && let Some((_, name)) = target.to_string_lossy().rsplit_once("zoneinfo/")
            && let Ok(zone) = LogZone::parse(name)
        {
            return zone;
        }
        LogZone::System
    }

    /// How the zone is shown (`Europe/Berlin`, `UTC`, `local`).
    pub fn name(&self) -> String {
        match self {
            LogZone::Utc => "UTC".into(),
            LogZone::Named(tz) => tz.name().into(),
            LogZone::System => "local".into(),
        }
    }

    /// The UTC time of a local wall-clock time in this zone. `previous` is
    /// the time of the line before (it decides the repeated hour).
    pub fn resolve(
        &self,
        local: NaiveDateTime,
        previous: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        match self {
            LogZone::Utc => Some(Utc.from_utc_datetime(&local)),
            LogZone::Named(tz) => pick(tz, local, previous),
            LogZone::System => pick(&chrono::Local, local, previous),
        }
    }
}

fn pick<Z: TimeZone>(
    zone: &Z,
    local: NaiveDateTime,
    previous: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            let (early, late) = if a <= b { (a, b) } else { (b, a) };
            match previous {
                Some(p) if early < p && late >= p => Some(late),
                _ => Some(early),
            }
        }
        LocalResult::None => {
            // In a gap: the offset in force a few hours before it.
            let before = local.checked_sub_signed(Duration::hours(3))?;
            let offset = zone
                .from_local_datetime(&before)
                .earliest()?
                .offset()
                .fix()
                .local_minus_utc();
            let utc = local.checked_sub_signed(Duration::seconds(i64::from(offset)))?;
            Some(Utc.from_utc_datetime(&utc))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn named_zones_winter_summer_gap_and_repeated_hour() {
        let berlin = LogZone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            berlin.resolve(naive(2026, 1, 10, 12, 0), None),
            Some(utc(2026, 1, 10, 11, 0))
        );
        assert_eq!(
            berlin.resolve(naive(2026, 7, 10, 12, 0), None),
            Some(utc(2026, 7, 10, 10, 0))
        );
        // 2026-03-29 02:30 does not exist in Berlin: read at +01:00.
        assert_eq!(
            berlin.resolve(naive(2026, 3, 29, 2, 30), None),
            Some(utc(2026, 3, 29, 1, 30))
        );
        // 2026-10-25 02:30 happens twice: the first pass unless the line
        // before was already past it.
        assert_eq!(
            berlin.resolve(naive(2026, 10, 25, 2, 30), None),
            Some(utc(2026, 10, 25, 0, 30))
        );
        assert_eq!(
            berlin.resolve(naive(2026, 10, 25, 2, 30), Some(utc(2026, 10, 25, 0, 59))),
            Some(utc(2026, 10, 25, 1, 30))
        );
        let ny = LogZone::parse("America/New_York").unwrap();
        assert_eq!(
            ny.resolve(naive(2026, 12, 2, 14, 31), None),
            Some(utc(2026, 12, 2, 19, 31))
        );
        assert!(LogZone::parse("Mars/Olympus").is_err());
        assert_eq!(LogZone::parse("UTC"), Ok(LogZone::Utc));
    }
}
