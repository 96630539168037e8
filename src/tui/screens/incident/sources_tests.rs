//! The sources table: totals, order, scrolling, cutting, safe keys.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 17, 4, 0).unwrap()
}

fn source(key: &str, count: u64, first: i64, last: i64) -> IncidentSource {
    IncidentSource {
        rule: "ssh-brute".into(),
        key: key.into(),
        count,
        first_seen: t0() + Duration::minutes(first),
        last_seen: t0() + Duration::minutes(last),
        open: true,
    }
}

/// Three addresses, not in count order (the table keeps the order given).
fn three() -> Vec<IncidentSource> {
    vec![
        source("203.0.113.7", 12, 0, 55),
        source("198.51.100.23", 1_204, 3, 58),
        source("2001:db8::1", 1, 40, 40),
    ]
}

/// 5,000 addresses with 40 hits each: 200,000 hits.
fn five_thousand() -> Vec<IncidentSource> {
    (0..5_000u32)
        .map(|i| {
            let key = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
            source(&key, 40, i64::from(i % 60), 60 + i64::from(i % 600))
        })
        .collect()
}

fn text(l: &Line) -> String {
    l.spans.iter().map(|s| s.content.as_ref()).collect()
}

fn texts(l: &[Line]) -> Vec<String> {
    l.iter().map(text).collect()
}

#[test]
fn totals_count_sources_and_hits_with_separators() {
    assert_eq!(totals(&five_thousand()), "5,000 sources, 200,000 hits");
    assert_eq!(totals(&three()), "3 sources, 1,217 hits");
    assert_eq!(totals(&three()[2..]), "1 source, 1 hit");
    assert_eq!(totals(&[]), "0 sources, 0 hits");
}

#[test]
fn a_short_list_is_shown_whole_in_the_order_given() {
    let got = texts(&lines(&three(), 0, 80, 10, true));
    assert_eq!(got.len(), 5, "{got:#?}");
    assert_eq!(got[0], "3 sources, 1,217 hits");
    assert!(got[1].starts_with("key "), "{}", got[1]);
    assert!(got[2].starts_with("203.0.113.7 "), "{}", got[2]);
    assert!(got[3].starts_with("198.51.100.23 "), "{}", got[3]);
    assert!(
        got[3].contains("1,204  11-22 17:07  11-22 18:02"),
        "{}",
        got[3]
    );
    assert!(got[4].starts_with("2001:db8::1 "), "{}", got[4]);
    assert!(got.iter().all(|l| !l.contains("more")));
}

#[test]
fn a_long_list_is_cut_with_how_many_more_and_scrolls() {
    let all = five_thousand();
    let got = texts(&lines(&all, 0, 80, 12, true));
    assert_eq!(got.len(), 12);
    assert_eq!(got[0], "5,000 sources, 200,000 hits · showing 1–9");
    assert!(got[2].starts_with("10.0.0.0 "), "{}", got[2]);
    assert!(got[10].starts_with("10.0.0.8 "), "{}", got[10]);
    assert_eq!(got[11], "… 4,991 more");

    let got = texts(&lines(&all, 256, 80, 12, true));
    assert_eq!(got[0], "5,000 sources, 200,000 hits · showing 257–265");
    assert!(got[2].starts_with("10.0.1.0 "), "{}", got[2]);
    assert_eq!(got[11], "… 4,735 more");

    // The last page fills the table and needs no "more".
    let last = max_offset(all.len(), 12);
    assert_eq!(last, 4_990);
    let got = texts(&lines(&all, last, 80, 12, true));
    assert_eq!(got.len(), 12);
    assert_eq!(got[0], "5,000 sources, 200,000 hits · showing 4,991–5,000");
    assert!(got[11].starts_with("10.0.19.135 "), "{}", got[11]);

    // An offset past the end shows the last source rather than nothing.
    let got = texts(&lines(&all, 99_999, 80, 12, true));
    assert_eq!(got[0], "5,000 sources, 200,000 hits · showing 5,000–5,000");
    assert!(got[2].starts_with("10.0.19.135 "), "{}", got[2]);
}

#[test]
fn keys_are_made_safe_and_cut_and_every_line_fits() {
    let sly = vec![
        source("evil\u{1b}]52;c;aGk=\u{7}", 3, 0, 1),
        source(&"k".repeat(300), 2, 0, 1),
    ];
    let got = texts(&lines(&sly, 0, 80, 10, true));
    assert!(got[2].starts_with("evil␛]52;c;aGk=␇ "), "{}", got[2]);
    assert!(
        got.iter()
            .all(|l| !l.contains('\u{1b}') && !l.contains('\u{7}'))
    );
    assert!(got[3].contains("k…  "), "{}", got[3]);
    for w in [0u16, 1, 10, 40, 80, 120] {
        for h in [0u16, 1, 2, 3, 12] {
            let l = lines(&five_thousand(), 0, w, h, true);
            assert!(l.len() <= usize::from(h), "{w}x{h}: {} lines", l.len());
            for line in &l {
                assert!(line.width() <= usize::from(w), "{w}x{h}: {:?}", text(line));
            }
        }
    }
}

#[test]
fn a_table_too_short_for_rows_still_says_how_many() {
    let all = five_thousand();
    assert_eq!(
        texts(&lines(&all, 0, 80, 1, true)),
        ["5,000 sources, 200,000 hits"]
    );
    let got = texts(&lines(&all, 0, 80, 3, true));
    assert_eq!(got[0], "5,000 sources, 200,000 hits");
    assert_eq!(got[2], "… 5,000 more");
}

fn drawn(sources: &[IncidentSource], offset: usize, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, f.area(), sources, offset, true))
        .unwrap();
    t.backend().to_string()
}

#[test]
fn sources_snapshots_at_80_and_120_columns() {
    let (small, large) = (three(), five_thousand());
    insta::assert_snapshot!("sources_3_80", drawn(&small, 0, 80, 8));
    insta::assert_snapshot!("sources_3_120", drawn(&small, 0, 120, 8));
    insta::assert_snapshot!("sources_5000_80", drawn(&large, 0, 80, 12));
    insta::assert_snapshot!("sources_5000_120", drawn(&large, 40, 120, 12));
}
