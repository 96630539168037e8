//! A rule's campaign options: how many matching lines its incidents keep
//! as evidence (`evidence_lines`, per rule or for every rule of a file)
//! and how often a digest of the new keys that joined its campaign is
//! sent (`digest`). Each value is checked where it is written.

use std::time::Duration;

use crate::domain::campaign::{DIGEST_MAX_SECONDS, DIGEST_MIN_SECONDS, EVIDENCE_LINES_LIMIT};

/// `evidence_lines: N`: the first N and latest N lines, 1 to
/// [`EVIDENCE_LINES_LIMIT`].
pub fn parse_evidence_lines(text: &str) -> Result<usize, String> {
    let t = text.trim();
    match t.parse::<usize>() {
        Ok(n) if (1..=EVIDENCE_LINES_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "evidence_lines '{t}' must be a whole number from 1 to {EVIDENCE_LINES_LIMIT} (the first and latest lines kept)"
        )),
    }
}

/// `digest: 10m`: how often at most, a minute to a day.
pub fn parse_digest(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let compact: String = t.split_whitespace().collect();
    let d = humantime::parse_duration(&compact)
        .map_err(|_| format!("digest '{t}' is not a duration (e.g. 10m, 1h)"))?;
    if d.as_secs() < DIGEST_MIN_SECONDS || d.as_secs() > DIGEST_MAX_SECONDS {
        return Err(format!(
            "digest '{t}' must be from 1 minute to 24 hours (it says how often at most new keys are listed)"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_lines_are_bounded_whole_numbers() {
        assert_eq!(parse_evidence_lines("20"), Ok(20));
        assert_eq!(parse_evidence_lines(" 1 "), Ok(1));
        assert_eq!(parse_evidence_lines("50"), Ok(50));
        for bad in [
            "0",
            "51",
            "-3",
            "2.5",
            "twenty",
            "",
            "99999999999999999999999",
        ] {
            let e = parse_evidence_lines(bad).unwrap_err();
            assert!(e.contains("from 1 to 50"), "{bad}: {e}");
        }
    }

    #[test]
    fn digests_are_a_minute_to_a_day() {
        assert_eq!(parse_digest("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_digest("1 h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_digest("60s"), Ok(Duration::from_secs(60)));
        assert!(
            parse_digest("59s")
                .unwrap_err()
                .contains("1 minute to 24 hours")
        );
        assert!(
            parse_digest("2d")
                .unwrap_err()
                .contains("1 minute to 24 hours")
        );
        assert!(parse_digest("soon").unwrap_err().contains("not a duration"));
    }
}
