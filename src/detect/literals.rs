//! Literals a regex cannot match without: for a pattern, a set of strings
//! such that every match contains at least one of them. A line holding
//! none of a pattern's literals cannot match it, so the pattern need not
//! be tried. Derived from the parsed pattern (regex-syntax's HIR, the same
//! parse the regex crate compiles), keeping only what is certain: case
//! folding and small classes are spelled out in full, anything that can be
//! skipped (`?`, `*`, a wide class) contributes nothing, and a pattern with
//! no certain literal gets none (it is always tried).

use regex_syntax::hir::{Class, Hir, HirKind};

/// The most strings a set may hold (spelled-out classes multiply).
const MAX_SET: usize = 64;

/// The most characters a class may hold to be spelled out (case variants,
/// `[Aa]`, `[Kk\u{212A}]`).
const MAX_CLASS: u32 = 4;

/// What a sub-pattern tells about its matches.
struct Facts {
    /// Every string it can match is one of these (None: too many or
    /// unbounded). May include the empty string.
    exact: Option<Vec<Vec<u8>>>,
    /// Every match contains one of these, none empty (None: unknown).
    within: Option<Vec<Vec<u8>>>,
}

impl Facts {
    fn unknown() -> Facts {
        Facts {
            exact: None,
            within: None,
        }
    }

    fn exactly(set: Vec<Vec<u8>>) -> Facts {
        let within = usable(&set).then(|| set.clone());
        Facts {
            exact: Some(set),
            within,
        }
    }
}

/// A set that can stand for "contains one of these": non-empty strings.
fn usable(set: &[Vec<u8>]) -> bool {
    !set.is_empty() && set.iter().all(|s| !s.is_empty())
}

/// Which of two "contains one of" sets tells more: longer shortest
/// literal first (rarer in text), then fewer literals.
fn better(a: &[Vec<u8>], b: &[Vec<u8>]) -> bool {
    let shortest = |s: &[Vec<u8>]| s.iter().map(Vec::len).min().unwrap_or(0);
    (shortest(a), std::cmp::Reverse(a.len())) > (shortest(b), std::cmp::Reverse(b.len()))
}

fn keep_best(best: &mut Option<Vec<Vec<u8>>>, candidate: Vec<Vec<u8>>) {
    if usable(&candidate) && best.as_ref().is_none_or(|b| better(&candidate, b)) {
        *best = Some(candidate);
    }
}

/// Every concatenation of one string from `a` and one from `b`, or None
/// if there would be more than [`MAX_SET`].
fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Some(out)
}

fn class_strings(class: &Class) -> Option<Vec<Vec<u8>>> {
    match class {
        Class::Unicode(c) => {
            let size: u32 = c
                .ranges()
                .iter()
                .map(|r| u32::from(r.end()) - u32::from(r.start()) + 1)
                .sum();
            if size == 0 || size > MAX_CLASS {
                return None;
            }
            let mut out = Vec::new();
            for r in c.ranges() {
                for ch in r.start()..=r.end() {
                    let mut b = [0u8; 4];
                    out.push(ch.encode_utf8(&mut b).as_bytes().to_vec());
                }
            }
            Some(out)
        }
        Class::Bytes(c) => {
            let size: u32 = c
                .ranges()
                .iter()
                .map(|r| u32::from(r.end()) - u32::from(r.start()) + 1)
                .sum();
            if size == 0 || size > MAX_CLASS {
                return None;
            }
            Some(
                c.ranges()
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).map(|b| vec![b]))
                    .collect(),
            )
        }
    }
}

fn facts(h: &Hir) -> Facts {
    match h.kind() {
        // A look-around matches the empty string (at some position).
        HirKind::Empty | HirKind::Look(_) => Facts {
            exact: Some(vec![Vec::new()]),
            within: None,
        },
        HirKind::Literal(l) => Facts::exactly(vec![l.0.to_vec()]),
        HirKind::Class(c) => match class_strings(c) {
            Some(set) => Facts::exactly(set),
            None => Facts::unknown(),
        },
        HirKind::Capture(c) => facts(&c.sub),
        HirKind::Repetition(r) => {
            let sub = facts(&r.sub);
            match (r.min, r.max) {
                (0, Some(1)) => Facts {
                    exact: sub.exact.map(|mut set| {
                        if !set.contains(&Vec::new()) {
                            set.push(Vec::new());
                        }
                        set
                    }),
                    within: None,
                },
                (1, Some(1)) => sub,
                // At least once: each match holds a match of `sub`.
                (min, _) if min >= 1 => Facts {
                    exact: None,
                    within: sub.within,
                },
                _ => Facts::unknown(),
            }
        }
        HirKind::Alternation(alts) => {
            let all: Vec<Facts> = alts.iter().map(facts).collect();
            let mut exact = Some(Vec::new());
            let mut within = Some(Vec::new());
            for f in all {
                exact = match (exact, f.exact) {
                    (Some(mut set), Some(more)) if set.len() + more.len() <= MAX_SET => {
                        for s in more {
                            if !set.contains(&s) {
                                set.push(s);
                            }
                        }
                        Some(set)
                    }
                    _ => None,
                };
                within = match (within, f.within) {
                    (Some(mut set), Some(more)) => {
                        for s in more {
                            if !set.contains(&s) {
                                set.push(s);
                            }
                        }
                        Some(set)
                    }
                    _ => None,
                };
            }
            let mut f = Facts { exact, within };
            if let Some(set) = f.exact.clone() {
                keep_best(&mut f.within, set);
            }
            f
        }
        HirKind::Concat(parts) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            // The product of the current run of parts with exact sets.
            let mut run: Option<Vec<Vec<u8>>> = None;
            let mut whole = Some(vec![Vec::new()]);
            for part in parts {
                let f = facts(part);
                if let Some(w) = f.within {
                    keep_best(&mut best, w);
                }
                whole = match (&whole, &f.exact) {
                    (Some(a), Some(b)) => product(a, b),
                    _ => None,
                };
                run = match (run, f.exact) {
                    (Some(a), Some(b)) => match product(&a, &b) {
                        Some(p) => Some(p),
                        None => {
                            keep_best(&mut best, a);
                            Some(b)
                        }
                    },
                    (Some(a), None) => {
                        keep_best(&mut best, a);
                        None
                    }
                    (None, b) => b,
                };
            }
            if let Some(a) = run {
                keep_best(&mut best, a);
            }
            Facts {
                exact: whole,
                within: best,
            }
        }
    }
}

/// Literals every match of `pattern` contains one of (None: no such set
/// is certain, or the pattern does not parse: always try it).
pub fn required(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::parse(pattern).ok()?;
    facts(&hir).within.filter(|set| usable(set))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(p: &str) -> Option<Vec<String>> {
        required(p).map(|set| {
            let mut v: Vec<String> = set
                .into_iter()
                .map(|s| String::from_utf8_lossy(&s).into_owned())
                .collect();
            v.sort();
            v
        })
    }

    #[test]
    fn plain_and_alternated_literals() {
        assert_eq!(
            lits("Failed password"),
            Some(vec!["Failed password".into()])
        );
        assert_eq!(
            lits(r"sshd(?:-session)?\[\d+\]: (?:Accepted|Failed) "),
            Some(vec!["]: Accepted ".into(), "]: Failed ".into()])
        );
        assert_eq!(
            lits("(?:foo|bar)x"),
            Some(vec!["barx".into(), "foox".into()])
        );
    }

    #[test]
    fn case_folding_is_spelled_out_not_lost() {
        let set = lits("(?i)ssh").unwrap_or_default();
        // `s` folds to the long s as well: every spelling is kept.
        assert!(set.contains(&"ssh".to_string()) && set.contains(&"SSH".to_string()));
        assert!(set.contains(&"\u{17f}sh".to_string()), "{set:?}");
    }

    #[test]
    fn what_can_be_skipped_gives_nothing() {
        assert_eq!(lits(r"\d+"), None);
        assert_eq!(lits("(?:foo)?"), None);
        assert_eq!(lits("foo|.*"), None);
        assert_eq!(lits("a*"), None);
        assert_eq!(lits(""), None);
        assert_eq!(lits("(?:abc)+"), Some(vec!["abc".into()]));
        // One alternative without a literal leaves the whole without one.
        assert_eq!(lits(r"foo|\w+"), None);
    }
}
