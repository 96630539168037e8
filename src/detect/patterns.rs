//! Every event pattern of a rule set, matched against a line in as few
//! passes as possible. One `RegexSet` of all patterns is the fast path, but
//! a set has a size limit that patterns which each compile alone can
//! exceed together (one `\w{209}` is enough beside the shipped rules). So
//! the patterns are split into as many sets as it takes, and a pattern too
//! large to share a set is matched on its own: never an empty set, never a
//! pattern silently left out.
//!
//! Beside the sets, a literal gate: each pattern with literals every match
//! must contain (see `literals.rs`) can match only a line holding one of
//! them. A line holding none of any pattern's literals (most lines of a
//! log) is tried only against the patterns without literals; any other
//! line goes through the sets as above, which tell exactly which patterns
//! match (cheaper, measured on a flood, than trying each literal's
//! patterns one by one).
//!
//! And for captures on an ASCII line (nearly every log line), each pattern
//! has a build without Unicode classes: on ASCII text `\d`, `\s`, `\w`,
//! `.`, `\b` and case folding mean exactly what their Unicode forms do
//! there, and the automaton is a fraction of the size (the bounded
//! backtracker that finds the groups was most of a line's cost).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet};

use super::problem::{Position, Problem};

/// A named kind of log line, found by one or more regexes.
#[derive(Debug, Clone)]
pub struct EventDef {
    pub name: String,
    pub description: String,
    pub patterns: Vec<Regex>,
    pub at: Position,
}

impl EventDef {
    pub fn captures(&self, name: &str) -> bool {
        self.patterns
            .iter()
            .any(|p| p.capture_names().flatten().any(|c| c == name))
    }
}

/// The regex crate's default compiled-size limit (sets and single
/// patterns alike).
const SIZE_LIMIT: usize = 10 * (1 << 20);

/// The event patterns, grouped for matching. Pattern numbers are the
/// positions in the flat list given to [`PatternSets::build`].
#[derive(Debug, Clone, Default)]
pub struct PatternSets {
    /// Each set, with the pattern number of each of its members.
    sets: Vec<(RegexSet, Vec<usize>)>,
    /// Patterns matched one by one (each too large to share a set).
    alone: Vec<(Regex, usize)>,
    total: usize,
    filter: Option<Box<Filter>>,
    /// Per pattern: its build without Unicode, for ASCII lines (None: it
    /// needs Unicode, e.g. `\p{Greek}`; the Unicode build is used).
    ascii: Vec<Option<regex::bytes::Regex>>,
    /// Per pattern: its named groups and their numbers (a handful: a
    /// scan is cheaper than the regex's own name map, hashed per call).
    names: Vec<Vec<(Box<str>, usize)>>,
}

/// A pattern's groups in a line, from whichever build searched it.
pub struct Captures<'t, 'p> {
    found: Found<'t>,
    names: &'p [(Box<str>, usize)],
}

enum Found<'t> {
    Unicode(regex::Captures<'t>),
    Ascii(regex::bytes::Captures<'t>, &'t str),
}

impl<'t> Captures<'t, '_> {
    /// The text of group `name`, if it took part in the match.
    pub fn name(&self, name: &str) -> Option<&'t str> {
        let i = self.names.iter().find(|(n, _)| &**n == name)?.1;
        match &self.found {
            Found::Unicode(c) => c.get(i).map(|m| m.as_str()),
            // The line is ASCII: every offset is a character boundary.
            Found::Ascii(c, text) => c.get(i).and_then(|m| text.get(m.range())),
        }
    }

    /// Whether the ASCII build found them.
    pub fn is_ascii_build(&self) -> bool {
        matches!(self.found, Found::Ascii(..))
    }
}

/// The gate: every pattern's literals, and the patterns it cannot rule
/// out (no certain literal), grouped in sets of their own.
#[derive(Debug, Clone)]
struct Filter {
    literals: AhoCorasick,
    rest: PatternSets,
}

impl PatternSets {
    /// Groups `patterns` (each already compiled on its own) into sets that
    /// fit the size limit: the whole list if it fits, else halves, and so
    /// on down to single patterns, which are then matched alone.
    pub fn build(patterns: &[Regex]) -> PatternSets {
        let all: Vec<usize> = (0..patterns.len()).collect();
        let mut out = PatternSets::grouped(patterns, &all);
        out.ascii = patterns
            .iter()
            .map(|p| {
                regex::bytes::RegexBuilder::new(p.as_str())
                    .unicode(false)
                    .build()
                    .ok()
            })
            .collect();
        out.names = patterns
            .iter()
            .map(|p| {
                p.capture_names()
                    .enumerate()
                    .filter_map(|(i, n)| n.map(|n| (n.into(), i)))
                    .collect()
            })
            .collect();
        let mut literals = Vec::new();
        let mut rest = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            match super::literals::required(p.as_str()) {
                Some(set) => literals.extend(set),
                None => rest.push(i),
            }
        }
        if !literals.is_empty()
            && let Ok(ac) = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                // A few hundred literals at most: the DFA's memory is
                // small and its search the fastest.
                .kind(Some(AhoCorasickKind::DFA))
                .build(&literals)
        {
            out.filter = Some(Box::new(Filter {
                literals: ac,
                rest: PatternSets::grouped(patterns, &rest),
            }));
        }
        out
    }

    /// `members` of `patterns` in sets (no prefilter).
    fn grouped(patterns: &[Regex], members: &[usize]) -> PatternSets {
        let mut out = PatternSets {
            total: patterns.len(),
            ..PatternSets::default()
        };
        out.split(patterns, members);
        out
    }

    fn split(&mut self, patterns: &[Regex], members: &[usize]) {
        if members.is_empty() {
            return;
        }
        match RegexSet::new(members.iter().map(|&i| patterns[i].as_str())) {
            Ok(set) => self.sets.push((set, members.to_vec())),
            Err(_) if members.len() == 1 => {
                self.alone.push((patterns[members[0]].clone(), members[0]));
            }
            Err(_) => {
                let (a, b) = members.split_at(members.len() / 2);
                self.split(patterns, a);
                self.split(patterns, b);
            }
        }
    }

    /// The pattern numbers matching `text`, in ascending order, into `out`
    /// (cleared first).
    pub fn matches(&self, text: &str, out: &mut Vec<usize>) {
        out.clear();
        for (set, members) in &self.sets {
            let m = set.matches(text);
            if m.matched_any() {
                out.extend(m.iter().map(|i| members[i]));
            }
        }
        for (re, i) in &self.alone {
            if re.is_match(text) {
                out.push(*i);
            }
        }
        if self.sets.len() + self.alone.len() > 1 {
            out.sort_unstable();
        }
    }

    /// The pattern numbers matching `text`, like [`Self::matches`], but
    /// a line without any pattern's literal is tried only against the
    /// patterns that have none.
    pub fn candidates(&self, text: &str, out: &mut Vec<usize>) {
        match &self.filter {
            Some(f) if !f.literals.is_match(text) => f.rest.matches(text, out),
            _ => self.matches(text, out),
        }
    }

    /// The groups of pattern number `p` (compiled as `regex`) in `text`;
    /// `ascii` says the text is ASCII (its ASCII build then searches).
    pub fn captures<'t>(
        &self,
        p: usize,
        regex: &Regex,
        text: &'t str,
        ascii: bool,
    ) -> Option<Captures<'t, '_>> {
        let found = match self.ascii.get(p) {
            Some(Some(fast)) if ascii => Found::Ascii(fast.captures(text.as_bytes())?, text),
            _ => Found::Unicode(regex.captures(text)?),
        };
        let names = self.names.get(p).map_or(&[][..], Vec::as_slice);
        Some(Captures { found, names })
    }

    /// All patterns fit one set: one pass per line.
    pub fn is_single_set(&self) -> bool {
        self.sets.len() <= 1 && self.alone.is_empty()
    }

    /// How many sets, and how many patterns are matched alone.
    pub fn shape(&self) -> (usize, usize) {
        (self.sets.len(), self.alone.len())
    }

    /// Pattern numbers outside the first set (they overflowed it), lowest
    /// first.
    pub fn overflow(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .sets
            .iter()
            .skip(1)
            .flat_map(|(_, m)| m.iter().copied())
            .chain(self.alone.iter().map(|(_, i)| *i))
            .collect();
        v.sort_unstable();
        v
    }

    /// Every pattern is in exactly one group.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// The event patterns of `events`, grouped for matching, with the owner
/// of each pattern number (event index, pattern index in the event), and a
/// warning (at the first overflowing event) when they do not fit one set:
/// detection still sees every pattern, each line just costs more passes.
pub fn plan(events: &[EventDef]) -> (PatternSets, Vec<(usize, usize)>, Option<Problem>) {
    let mut owners = Vec::new();
    let mut flat = Vec::new();
    for (ei, e) in events.iter().enumerate() {
        for (pi, p) in e.patterns.iter().enumerate() {
            owners.push((ei, pi));
            flat.push(p.clone());
        }
    }
    let sets = PatternSets::build(&flat);
    if sets.is_single_set() {
        return (sets, owners, None);
    }
    let (n_sets, alone) = sets.shape();
    // Name the culprits: patterns that alone take a good part of the limit
    // (a wide repetition of a Unicode class), else the overflowing ones.
    let large: Vec<usize> = (0..flat.len())
        .filter(|&i| {
            regex::RegexBuilder::new(flat[i].as_str())
                .size_limit(SIZE_LIMIT / 4)
                .build()
                .is_err()
        })
        .collect();
    let blamed = if large.is_empty() {
        sets.overflow()
    } else {
        large
    };
    let first = blamed.first().map_or(0, |&i| owners[i].0);
    let mut names: Vec<&str> = blamed
        .iter()
        .map(|&i| events[owners[i].0].name.as_str())
        .collect();
    names.dedup();
    let more = names.len().saturating_sub(5);
    names.truncate(5);
    let warning = Problem {
        at: events[first].at.clone(),
        subject: Some(events[first].name.clone()),
        message: format!(
            "the {} event patterns together exceed the regex size limit: they are matched in {n_sets} group(s){}, so every line costs more passes ({}: {}{}); shorten wide repetitions such as \\w{{209}} to keep one pass",
            flat.len(),
            if alone > 0 {
                format!(" and {alone} pattern(s) one by one")
            } else {
                String::new()
            },
            if blamed.len() < flat.len() && sets.overflow() != blamed {
                "largest"
            } else {
                "overflowing"
            },
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
    };
    (sets, owners, Some(warning))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::engine::{Change, Engine};
    use crate::detect::rules::{DEFAULT_RULES, RuleSet};
    use chrono::{TimeZone, Utc};
    use std::path::PathBuf;
    use std::sync::Arc;

    fn fired(e: &mut Engine, line: &str, times: i64) -> Vec<String> {
        let mut out = Vec::new();
        for s in 0..times {
            let at = Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap();
            e.process(line, line, 1, at, &mut out);
        }
        out.iter()
            .filter_map(|c| match c {
                Change::Opened { rule, .. } => Some(e.rule(*rule).name.clone()),
                _ => None,
            })
            .collect()
    }

    const SSHD: &str = "Dec 10 08:24:35 h sshd[1]: Failed password for invalid user x from 10.1.1.1 port 36279 ssh2";

    #[test]
    fn one_huge_custom_event_beside_the_shipped_rules_switches_nothing_off() {
        let custom = "events:\n  token_leak:\n    match: 'token=(?P<tok>\\w{209})'\nrules:\n  - rule: token leaked\n    condition: token_leak\n";
        let mut texts: Vec<(PathBuf, String)> = DEFAULT_RULES
            .iter()
            .map(|(n, t)| (PathBuf::from(n), t.to_string()))
            .collect();
        texts.push((PathBuf::from("custom.yml"), custom.to_string()));
        let mut set = RuleSet::default();
        set.add_texts(&texts);
        assert_eq!(set.problems, vec![], "every rule compiles alone");
        let w: Vec<String> = set.warnings.iter().map(ToString::to_string).collect();
        assert!(
            w.iter()
                .any(|w| w.starts_with("custom.yml:2:3: token_leak:")
                    && w.contains("exceed the regex size limit")),
            "{w:#?}"
        );
        let mut e = Engine::new(Arc::new(set), 100);
        assert!(
            fired(&mut e, SSHD, 11).contains(&"Multiple failed logins".to_string()),
            "the shipped rules still fire"
        );
        let tok = format!("x token={} y", "a".repeat(209));
        assert_eq!(fired(&mut e, &tok, 1), ["token leaked"]);
    }

    #[test]
    fn two_thousand_ordinary_events_all_still_match() {
        let mut text = String::from("events:\n");
        for i in 0..2000 {
            text.push_str(&format!(
                "  fail_{i}:\n    match: 'sshd\\[\\d+\\]: Failed password for (?:invalid user )?(?P<user>user{i}) from (?P<src>\\S+) port \\d+'\n"
            ));
        }
        text.push_str("rules:\n");
        for i in [0, 999, 1999] {
            text.push_str(&format!(
                "  - rule: r{i}\n    condition: fail_{i} > 2 in 1 minute\n"
            ));
        }
        let mut set = RuleSet::default();
        set.add_texts(&[(PathBuf::from("many.yml"), text)]);
        assert_eq!(set.problems, vec![]);
        assert_eq!(set.warnings.len(), 1, "{:?}", set.warnings);
        let mut e = Engine::new(Arc::new(set), 100);
        for i in [0, 999, 1999] {
            let line = format!(
                "Dec 10 08:24:35 h sshd[1]: Failed password for user{i} from 10.0.0.1 port 22 ssh2"
            );
            assert_eq!(fired(&mut e, &line, 3), [format!("r{i}")]);
        }
    }

    fn custom(text: &str) -> Engine {
        let mut set = RuleSet::default();
        set.add_texts(&[(PathBuf::from("custom.yml"), text.to_string())]);
        assert_eq!(set.problems, vec![]);
        Engine::new(Arc::new(set), 100)
    }

    #[test]
    fn the_literal_gate_drops_lines_without_a_literal_and_keeps_every_spelling() {
        let rules = "events:\n  refused:\n    match: '(?i)login refused for (?P<user>\\S+)'\n  bad:\n    match: '(?:Bad|Wrong) (?:key|token) from (?P<src>\\S+)'\nrules:\n  - rule: refused\n    condition: refused\n  - rule: bad\n    condition: bad\n";
        // A fresh engine per line: each line opens its own detection.
        let fires = |line: &str| fired(&mut custom(rules), line, 1);
        // Case-insensitive: any spelling, even the long s that folds to s.
        for line in [
            "LOGIN REFUSED FOR a",
            "Login Refused for b",
            "login refu\u{17f}ed for c",
        ] {
            assert_eq!(fires(line), ["refused"], "{line}");
        }
        // Alternations: every branch.
        for line in [
            "Bad key from 1.1.1.1",
            "Wrong token from 2.2.2.2",
            "Bad token from 3.3.3.3",
        ] {
            assert_eq!(fires(line), ["bad"], "{line}");
        }
        for line in [
            "login accepted for d",
            "Bad thing from 4.4.4.4",
            "Wrong keys to 5.5.5.5",
        ] {
            assert_eq!(fires(line), Vec::<String>::new(), "{line}");
        }
        let e = custom(rules);
        // The gate is on (both patterns have literals) and a line without
        // them reaches no set: nothing left to try.
        let gate = e.rules().patterns.filter.as_ref();
        assert!(gate.is_some_and(|f| f.rest.sets.is_empty() && f.rest.alone.is_empty()));
        assert!(gate.is_some_and(|f| !f.literals.is_match("login accepted for d")));
        assert!(gate.is_some_and(|f| f.literals.is_match("lOgIn ReFuSeD fOr x")));
        let mut out = Vec::new();
        e.rules()
            .patterns
            .candidates("login accepted for d", &mut out);
        assert_eq!(out, Vec::<usize>::new());
        e.rules()
            .patterns
            .candidates("LOGIN REFUSED FOR x", &mut out);
        assert_eq!(out, [0]);
    }

    #[test]
    fn the_shipped_patterns_all_have_literals_and_lose_no_match() {
        let set = RuleSet::builtin();
        let lines = [
            SSHD,
            "Dec 10 08:24:35 h sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2",
            "Dec 10 08:24:35 h sshd-session[1]: Failed publickey for invalid user x from ::ffff:10.0.0.1 port 22 ssh2: RSA SHA256:x",
            "Dec 10 08:24:35 h sshd[1]: Invalid user admin from 10.0.0.2 port 22",
            "Dec 10 08:24:35 h sshd[1]: Accepted password for root from 10.0.0.3 port 22 ssh2",
            "Dec 10 08:24:35 h sshd[1]: error: PAM: Authentication failure for root from h.example",
            "Dec 10 08:24:35 h sudo:   bob : 3 incorrect password attempts ; TTY=pts/0",
            "Dec 10 08:24:35 h kernel: [UFW BLOCK] IN=eth0 SRC=10.0.0.4 DST=10.0.0.5",
            "Dec 10 08:24:35 h kernel: IPTables-Dropped: IN=eth0 SRC=10.0.0.6",
            "Dec 10 08:24:35 h dropbear[1]: Bad password attempt for 'root' from 10.0.0.7:22",
            "Dec 10 08:24:35 h useradd[1]: new user: name=evil, UID=0",
            "Dec 10 08:24:35 h cron[1]: (root) CMD (true)",
        ];
        let mut matched = Vec::new();
        let mut candidates = Vec::new();
        let mut seen = 0;
        for line in lines {
            set.patterns.matches(line, &mut matched);
            set.patterns.candidates(line, &mut candidates);
            assert!(
                matched.iter().all(|p| candidates.contains(p)),
                "{line}: {matched:?} not all in {candidates:?}"
            );
            seen += matched.len();
        }
        assert!(seen >= 10, "the sample lines match: {seen}");
        // The ASCII builds find the same groups as the Unicode ones.
        let flat: Vec<&Regex> = set.events.iter().flat_map(|e| &e.patterns).collect();
        for line in lines {
            for (p, regex) in flat.iter().enumerate() {
                let unicode = regex.captures(line);
                let ascii = set.patterns.captures(p, regex, line, true);
                assert!(ascii.as_ref().is_none_or(Captures::is_ascii_build));
                assert_eq!(unicode.is_some(), ascii.is_some(), "{p}: {line}");
                if let (Some(u), Some(a)) = (unicode, ascii) {
                    for name in regex.capture_names().flatten() {
                        assert_eq!(
                            u.name(name).map(|m| m.as_str()),
                            a.name(name),
                            "{name}: {line}"
                        );
                    }
                }
            }
        }

        let rest =
            set.patterns.filter.as_ref().map(|f| {
                f.rest.sets.iter().map(|(_, m)| m.len()).sum::<usize>() + f.rest.alone.len()
            });
        assert_eq!(rest, Some(0), "every shipped pattern has literals");
    }

    #[test]
    fn a_line_with_unicode_is_searched_by_the_unicode_build() {
        let e = custom(
            "events:\n  who:\n    match: 'user (?P<user>\\w+) from (?P<src>\\S+)'\nrules:\n  - rule: who\n    condition: who\n",
        );
        let p = &e.rules().patterns;
        let regex = &e.rules().events[0].patterns[0];
        // `\w` takes the accented letters on a non-ASCII line.
        let line = "user jos\u{e9}\u{e9} from 10.0.0.1";
        let caps = p.captures(0, regex, line, line.is_ascii());
        assert!(caps.as_ref().is_some_and(|c| !c.is_ascii_build()));
        assert_eq!(caps.and_then(|c| c.name("user")), Some("jos\u{e9}\u{e9}"));
        let caps = p.captures(0, regex, "user jose from 10.0.0.1", true);
        assert!(caps.as_ref().is_some_and(Captures::is_ascii_build));
        assert_eq!(caps.and_then(|c| c.name("src")), Some("10.0.0.1"));
        // A pattern that needs Unicode has no ASCII build.
        let e = custom(
            "events:\n  greek:\n    match: '(?P<w>\\p{Greek}+)|x'\nrules:\n  - rule: greek\n    condition: greek\n",
        );
        let regex = &e.rules().events[0].patterns[0];
        let caps = e.rules().patterns.captures(0, regex, "x", true);
        assert!(caps.is_some_and(|c| !c.is_ascii_build()));
    }

    #[test]
    fn small_sets_stay_one_set_and_big_ones_split_without_losing_a_pattern() {
        let small = vec![Regex::new("a").unwrap(), Regex::new("b").unwrap()];
        let s = PatternSets::build(&small);
        assert!(s.is_single_set());
        let mut out = Vec::new();
        s.matches("ab", &mut out);
        assert_eq!(out, [0, 1]);

        let big = Regex::new(r"token=(?P<tok>\w{209})").unwrap();
        let mut many: Vec<Regex> = (0..40)
            .map(|i| Regex::new(&format!(r"user{i} from (?P<src>\S+)")).unwrap())
            .collect();
        many.insert(20, big.clone());
        many.push(big);
        let s = PatternSets::build(&many);
        assert!(!s.is_single_set(), "{:?}", s.shape());
        assert_eq!(s.len(), 42);
        let tok = format!("token={}", "x".repeat(209));
        s.matches(&tok, &mut out);
        assert_eq!(out, [20, 41]);
        s.matches("user7 from 1.2.3.4", &mut out);
        assert_eq!(out, [7]);
        s.matches("user39 from 1.2.3.4", &mut out);
        assert_eq!(out, [40]);
    }
}
