//! Logs as hosts write them: zone-less stamps in the writer's zone (TZ,
//! --log-tz, across a daylight-saving change), RFC 5424 lines, and
//! gzip-compressed rotations (by content, not name) in `scan`, never tailed
//! by `watch`.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::Env;
use serde_json::Value;
use warroom::detect::follow::{FileState, FollowConfig, Follower, system_clock};
use warroom::detect::{Engine, RuleSet};
use warroom::store::WatchState;

/// Twelve failed sshd-session logins from one address, one per `stamps`.
fn failures(stamps: &[String]) -> String {
    stamps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{s} web1 sshd-session[{}]: Failed password for root from 203.0.113.5 port {} ssh2\n",
                4000 + i,
                50000 + i
            )
        })
        .collect()
}

/// Writes a log whose modification time is the end of 2026 (syslog stamps
/// carry no year: they get the one before the file's time).
fn write_log(path: &Path, text: &[u8]) {
    fs::write(path, text).unwrap();
    let end_2026 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_798_675_200);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(end_2026)
        .unwrap();
}

/// (first_seen, last_seen, count) of the brute-force detection.
fn brute(env: &Env, tz: &str, args: &[&str]) -> (String, String, u64) {
    let out = env
        .cmd()
        .env("TZ", tz)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let d: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|d| d["rule"] == "Multiple failed logins")
        .unwrap_or_else(|| panic!("no brute-force detection in {text}"));
    (
        d["first_seen"].as_str().unwrap().to_string(),
        d["last_seen"].as_str().unwrap().to_string(),
        d["count"].as_u64().unwrap(),
    )
}

fn syslog_stamps(month_day: &str, hour: u32) -> Vec<String> {
    (0..12)
        .map(|i| format!("{month_day} {hour:02}:00:{:02}", i * 5))
        .collect()
}

#[test]
fn zone_less_stamps_are_read_in_the_writers_zone() {
    let env = Env::new();
    let winter = env.dir.path().join("winter.log");
    let summer = env.dir.path().join("summer.log");
    write_log(&winter, failures(&syslog_stamps("Jan 10", 12)).as_bytes());
    write_log(&summer, failures(&syslog_stamps("Jul 10", 12)).as_bytes());
    let w = winter.to_str().unwrap();
    let s = summer.to_str().unwrap();
    let cases = [
        ("UTC", w, "2026-01-10T12:00:00.000Z"),
        ("Europe/Berlin", w, "2026-01-10T11:00:00.000Z"),
        ("Europe/Berlin", s, "2026-07-10T10:00:00.000Z"),
        ("America/New_York", w, "2026-01-10T17:00:00.000Z"),
        ("America/New_York", s, "2026-07-10T16:00:00.000Z"),
        // A POSIX rule that names no IANA zone: the C library's local time.
        ("CET-1CEST,M3.5.0,M10.5.0/3", s, "2026-07-10T10:00:00.000Z"),
    ];
    for (tz, log, first) in cases {
        let (got, _, count) = brute(&env, tz, &["scan", log]);
        assert_eq!((got.as_str(), count), (first, 12), "TZ={tz} {log}");
    }
    // --log-tz names the writer's zone whatever this host's is.
    let (got, _, _) = brute(
        &env,
        "America/New_York",
        &["scan", "--log-tz", "Europe/Berlin", w],
    );
    assert_eq!(got, "2026-01-10T11:00:00.000Z");
    // Stamps with an offset keep it, whatever the zone.
    let iso = env.dir.path().join("iso.log");
    let stamps: Vec<String> = (0..12)
        .map(|i| format!("2026-01-10T12:00:{:02}.000000+02:00", i * 5))
        .collect();
    write_log(&iso, failures(&stamps).as_bytes());
    for tz in ["UTC", "America/New_York"] {
        let (got, _, _) = brute(&env, tz, &["scan", iso.to_str().unwrap()]);
        assert_eq!(got, "2026-01-10T10:00:00.000Z", "TZ={tz}");
    }
    let out = env.run(&["scan", "--log-tz", "Mars/Olympus", w]);
    common::assert_fails(&out, 1, "unknown time zone 'Mars/Olympus'");
}

#[test]
fn a_repeated_autumn_hour_follows_the_order_of_the_log() {
    let env = Env::new();
    // Berlin leaves summer time at 03:00 CEST on 2026-10-25: 02:00-02:59
    // happens twice. Six lines at the end of the first pass, six at the
    // start of the second; read naively, the second six would go back an
    // hour.
    let mut stamps: Vec<String> = (0..6)
        .map(|i| format!("Oct 25 02:58:{:02}", i * 10))
        .collect();
    stamps.extend((0..6).map(|i| format!("Oct 25 02:00:{:02}", i * 10)));
    let log = env.dir.path().join("dst.log");
    write_log(&log, failures(&stamps).as_bytes());
    let (first, last, count) = brute(&env, "Europe/Berlin", &["scan", log.to_str().unwrap()]);
    assert_eq!(first, "2026-10-25T00:58:00.000Z");
    assert_eq!(last, "2026-10-25T01:00:50.000Z");
    assert_eq!(count, 12);
    // The spring gap (02:00-03:00 on 2026-03-29 never shown): read with
    // the offset before it, so 02:30 is 01:30 UTC.
    let gap = env.dir.path().join("gap.log");
    write_log(&gap, failures(&syslog_stamps("Mar 29", 2)).as_bytes());
    let (first, _, _) = brute(&env, "Europe/Berlin", &["scan", gap.to_str().unwrap()]);
    assert_eq!(first, "2026-03-29T01:00:00.000Z");
}

#[test]
fn rfc5424_lines_are_matched_and_timed() {
    let env = Env::new();
    let text: String = (0..12)
        .map(|i| {
            format!(
                "<38>1 2019-07-08T17:40:{:02}.954167-04:00 host.example.com sshd {} - - Failed password for invalid user redmond from 192.0.2.1 port {} ssh2\n",
                10 + i,
                57000 + i,
                59000 + i
            )
        })
        .collect();
    let log = env.dir.path().join("relay.log");
    write_log(&log, text.as_bytes());
    let (first, _, count) = brute(&env, "UTC", &["scan", log.to_str().unwrap()]);
    assert_eq!((first.as_str(), count), ("2019-07-08T21:40:10.954Z", 12));
}

fn gzip(lines: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(lines.as_bytes()).unwrap();
    e.finish().unwrap()
}

#[test]
fn scan_reads_gzip_rotations_by_content() {
    let env = Env::new();
    let dir = env.dir.path();
    let stamps: Vec<String> = (0..12)
        .map(|i| format!("Dec  1 10:00:{:02}", i * 5))
        .collect();
    let all = failures(&stamps);
    let (older, newer) = all.split_at(all.match_indices('\n').nth(5).unwrap().0 + 1);
    write_log(&dir.join("auth.log.2.gz"), &gzip(older));
    write_log(&dir.join("auth.log.1"), newer.as_bytes());
    let (_, _, count) = brute(
        &env,
        "UTC",
        &[
            "scan",
            dir.join("auth.log.2.gz").to_str().unwrap(),
            dir.join("auth.log.1").to_str().unwrap(),
        ],
    );
    assert_eq!(count, 12, "six lines from the .gz, six from the plain file");
    // A gzip file named like a plain log is read by its content.
    write_log(&dir.join("named-plain.log"), &gzip(&all));
    let (first, _, count) = brute(
        &env,
        "UTC",
        &["scan", dir.join("named-plain.log").to_str().unwrap()],
    );
    assert_eq!((first.as_str(), count), ("2026-12-01T10:00:00.000Z", 12));
    // A truncated gzip file is an error naming it, not a silent stop.
    let mut cut = gzip(&all);
    cut.truncate(cut.len() / 2);
    write_log(&dir.join("cut.gz"), &cut);
    let out = env.run(&["scan", dir.join("cut.gz").to_str().unwrap()]);
    common::assert_fails(&out, 1, "cut.gz");
}

#[test]
fn watch_never_tails_a_compressed_file_and_reads_unseen_rotations_on_a_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let stamps: Vec<String> = (0..12)
        .map(|i| format!("Dec  1 10:00:{:02}", i * 5))
        .collect();
    let all = failures(&stamps);
    let (older, newer) = all.split_at(all.match_indices('\n').nth(5).unwrap().0 + 1);
    write_log(&dir.path().join("auth.log.2.gz"), &gzip(older));
    write_log(&dir.path().join("auth.log"), newer.as_bytes());
    let rules = Arc::new(RuleSet::builtin());
    let run = |patterns: Vec<std::path::PathBuf>, from_beginning: bool| {
        let mut config = FollowConfig::new(patterns);
        config.from_beginning = from_beginning;
        config.zone = warroom::detect::zone::LogZone::Utc;
        let mut f = Follower::new(
            Engine::new(Arc::clone(&rules), 100),
            config,
            &WatchState::default(),
            system_clock(),
        );
        while f.poll() {}
        let count = f
            .engine()
            .detections()
            .find(|(r, _)| f.engine().rule(*r).name == "Multiple failed logins")
            .map_or(0, |(_, d)| d.count);
        (count, f.status())
    };
    // First start from the beginning: the compressed rotation first, then
    // the live file; the glob's .gz match is not tailed as text.
    let (count, status) = run(vec![dir.path().join("auth.log")], true);
    assert_eq!(count, 12);
    assert!(status.files.iter().all(|f| !f.path.ends_with(".gz")));
    let (count, _) = run(vec![dir.path().join("auth.log*")], true);
    assert_eq!(count, 12);
    // Not from the beginning: nothing old is read.
    let (count, _) = run(vec![dir.path().join("auth.log*")], false);
    assert_eq!(count, 0);
    // A compressed file named on the command line is refused, visibly.
    let (_, status) = run(vec![dir.path().join("auth.log.2.gz")], true);
    assert!(
        matches!(&status.files[0].state, FileState::Error(e) if e.contains("gzip")),
        "{:?}",
        status.files
    );
}
