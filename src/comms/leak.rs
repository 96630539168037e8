//! Which internal-only passages a customer message quotes: the composer's
//! warning before a customer message goes out. Pure.
//!
//! Internal-only text is what the responders wrote for themselves: the
//! internal summary, the title, the affected systems, notes not marked for
//! customers, checklist item names and evidence descriptions and paths.
//! Text written for customers (the customer summary, the customer impact,
//! notes marked for customers) is not.
//!
//! A passage counts when the message repeats, word for word (case and the
//! punctuation around words aside), at least [`MIN_WORDS`] words in a row of
//! one internal text, or the whole of a shorter internal text of at least
//! [`MIN_SHORT_WORDS`] words and [`MIN_SHORT_CHARS`] characters (a checklist
//! item's name). Shorter runs are common phrasing ("the incident", "we
//! have"), which would make the warning noise.

use std::collections::HashSet;

use crate::domain::evidence::EvidenceItem;
use crate::store::IncidentDetail;

use super::fields::is_customer_note;
use crate::domain::event::kinds;

/// Words in a row that make a quote of a long internal text.
pub const MIN_WORDS: usize = 5;
/// A shorter internal text counts when quoted whole and at least this long
/// in words...
pub const MIN_SHORT_WORDS: usize = 3;
/// ...and in characters.
pub const MIN_SHORT_CHARS: usize = 20;

/// One text the responders wrote for themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalText {
    /// Where it is from: `internal summary`, `checklist item contain.isolate`.
    pub source: String,
    pub text: String,
}

/// A passage of the message that quotes internal-only text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Which internal text it quotes.
    pub source: String,
    /// The passage as it stands in the message (show it through
    /// `display_safe`).
    pub passage: String,
    /// 1-based line of the message where it starts.
    pub line: usize,
}

/// The internal-only texts of an incident as loaded with its whole
/// timeline, and of its evidence.
pub fn internal_texts(detail: &IncidentDetail, evidence: &[EvidenceItem]) -> Vec<InternalText> {
    let i = &detail.incident;
    let mut out = vec![
        InternalText {
            source: "internal summary".into(),
            text: i.summary.clone(),
        },
        InternalText {
            source: "title".into(),
            text: i.title.clone(),
        },
        InternalText {
            source: "affected systems".into(),
            text: i.affected.clone(),
        },
    ];
    for e in &detail.timeline {
        if e.kind == kinds::NOTE_ADDED && !is_customer_note(e) {
            out.push(InternalText {
                source: format!("internal note #{}", e.seq),
                text: e.detail.clone(),
            });
        }
    }
    for c in &detail.checklist {
        out.push(InternalText {
            source: format!("checklist item {}", c.id),
            text: c.text.clone(),
        });
    }
    for ev in evidence {
        out.push(InternalText {
            source: format!("evidence #{}", ev.id),
            text: ev.description.clone(),
        });
        if let Some(p) = &ev.source_path {
            out.push(InternalText {
                source: format!("evidence #{} path", ev.id),
                text: p.clone(),
            });
        }
    }
    out.retain(|t| !t.text.trim().is_empty());
    out
}

/// A word of a text, lower-cased with the punctuation around it trimmed,
/// and where it stands (bytes).
struct Word {
    norm: String,
    start: usize,
    end: usize,
}

fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut at = 0;
    for raw in text.split_inclusive(char::is_whitespace) {
        let start_raw = at;
        at += raw.len();
        let trimmed = raw.trim_end();
        let lead = trimmed.len()
            - trimmed
                .trim_start_matches(|c: char| !c.is_alphanumeric())
                .len();
        let core = trimmed
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .trim_end_matches(|c: char| !c.is_alphanumeric());
        if core.is_empty() {
            continue;
        }
        let start = start_raw + lead;
        out.push(Word {
            norm: core.to_lowercase(),
            start,
            end: start + core.len(),
        });
    }
    out
}

/// The internal-only passages `body` quotes, in the order they appear;
/// overlapping quotes of one source are one passage, and a stretch quoted
/// from several sources is named once (by the first).
pub fn internal_quotes(internal: &[InternalText], body: &str) -> Vec<Quote> {
    let b = words(body);
    // (first word, last word exclusive, source index)
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for (si, src) in internal.iter().enumerate() {
        let s: Vec<String> = words(&src.text).into_iter().map(|w| w.norm).collect();
        let mut covered: Vec<(usize, usize)> = Vec::new();
        if s.len() >= MIN_WORDS {
            let grams: HashSet<&[String]> = s.windows(MIN_WORDS).collect();
            for (i, win) in b.windows(MIN_WORDS).enumerate() {
                let key: Vec<String> = win.iter().map(|w| w.norm.clone()).collect();
                if grams.contains(key.as_slice()) {
                    covered.push((i, i + MIN_WORDS));
                }
            }
        } else if s.len() >= MIN_SHORT_WORDS && src.text.trim().chars().count() >= MIN_SHORT_CHARS {
            for (i, win) in b.windows(s.len()).enumerate() {
                if win.iter().zip(&s).all(|(w, n)| w.norm == *n) {
                    covered.push((i, i + s.len()));
                }
            }
        }
        // Overlapping windows are one passage.
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (a, z) in covered {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(z),
                _ => merged.push((a, z)),
            }
        }
        spans.extend(merged.into_iter().map(|(a, z)| (a, z, si)));
    }
    spans.sort_by_key(|&(a, z, si)| (a, std::cmp::Reverse(z), si));
    let mut out: Vec<Quote> = Vec::new();
    let mut reach = 0;
    for (a, z, si) in spans {
        if z <= reach {
            continue; // inside a passage already named
        }
        reach = z;
        let (start, end) = (b[a].start, b[z - 1].end);
        out.push(Quote {
            source: internal[si].source.clone(),
            passage: body[start..end].to_string(),
            line: body[..start].matches('\n').count() + 1,
        });
    }
    out
}

/// The quotes of an incident's internal-only text (as stored now) in a
/// message body.
pub fn quotes_in(
    store: &crate::store::Store,
    id: &crate::domain::IncidentId,
    body: &str,
) -> Result<Vec<Quote>, crate::store::StoreError> {
    let detail = store.detail(id, None)?;
    let evidence = store.evidence(id)?;
    Ok(internal_quotes(&internal_texts(&detail, &evidence), body))
}

/// The composer's warning line for the quotes found, or `None`.
pub fn warning(quotes: &[Quote]) -> Option<String> {
    let first = quotes.first()?;
    let shown: String = first.passage.chars().take(60).collect();
    let more = if first.passage.chars().count() > 60 {
        "..."
    } else {
        ""
    };
    Some(format!(
        "This customer message quotes internal-only text ({} passage{}); line {}: \"{}{more}\" is from the {}",
        quotes.len(),
        if quotes.len() == 1 { "" } else { "s" },
        first.line,
        crate::text::display_safe(&shown),
        first.source
    ))
}

#[cfg(test)]
#[path = "leak_tests.rs"]
mod tests;
