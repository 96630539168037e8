//! The detection engine: one for all three drivers (scan, watch, the
//! console). Feed it prepared lines with their time; it keeps a sliding
//! window of event times per rule and key, opens a detection when a rule's
//! threshold is passed, and attaches later hits to the open detection (one
//! detection per rule and key while it is open). The engine does no I/O:
//! the drivers persist what it reports.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::rules::{Allowlist, Counted, GroupBy, Matcher, Rule, RuleSet};

/// Evidence lines kept per detection (the first ones; the count goes on).
pub const MAX_EVIDENCE_LINES: usize = 50;

/// Default cap on keys (e.g. source addresses) tracked per rule.
pub const DEFAULT_MAX_KEYS: usize = 50_000;

/// The key used when a rule counts globally, or the capture is absent.
pub const GLOBAL_KEY: &str = "*";

/// A detection of a rule that opens no incident (it only notifies, or only
/// records) closes when a hit comes more than this long after its last one
/// (or its rule's window, if longer), so the next hit is a new detection,
/// with a new alert. Incidents close detections when they are resolved.
pub const QUIET_CLOSE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// How long past its rule's reach a window is kept before it is dropped
/// as expired ([`Engine::drop_expired`]): a source's lines can come a
/// little out of order (several processes writing one file).
pub const EXPIRY_GRACE: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// A detection: a rule that fired for a key, with what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub rule: String,
    pub key: String,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The first matching lines, as read (raw; sanitize to display).
    pub lines: Vec<String>,
}

/// What processing one line changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A rule fired for a key that had no open detection.
    Opened { rule: usize, key: String },
    /// More hits for an open detection.
    Attached {
        rule: usize,
        key: String,
        added: u64,
    },
    /// A detection without incident went quiet (see [`QUIET_CLOSE`]): how
    /// it stood when it closed.
    Closed { rule: usize, detection: Detection },
}

/// One entry of a window: when, how many events, and the line (None when
/// restored from a save that kept only the lines its evidence needed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowEntry {
    pub at_ms: i64,
    pub count: u32,
    pub line: Option<String>,
    /// For `distinct(FIELD)`: the field's value (one entry per value,
    /// at its latest time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A rule's state for one key. Persisted as JSON with the watcher's
/// checkpoints (new fields default, so older rows still load).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub entries: VecDeque<WindowEntry>,
    pub total: u64,
    /// For a sequence: when its count was last reached (log time, ms);
    /// the event after `then` fires within the rule's `within` of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armed_ms: Option<i64>,
    /// Changed since the last [`Engine::take_dirty`] (so a window is
    /// listed once per batch, not hashed again for every hit).
    #[serde(skip)]
    pub dirty: bool,
    /// The source whose line last added to it ([`Engine::set_source`]);
    /// None when restored, or the driver names no sources.
    #[serde(skip)]
    pub source: Option<u16>,
}

impl Window {
    fn last_ms(&self) -> i64 {
        self.entries.back().map_or(i64::MIN, |e| e.at_ms)
    }
}

#[derive(Debug, Default)]
struct RuleState {
    windows: HashMap<String, Window>,
    open: HashMap<String, Detection>,
}

/// Window keys changed or dropped since the last [`Engine::take_dirty`],
/// so a driver can persist only those.
#[derive(Debug, Default)]
pub struct Dirty {
    /// Each once, and only windows that still exist.
    pub windows: Vec<(usize, String)>,
    pub dropped: HashSet<(usize, String)>,
}

pub struct Engine {
    rules: Arc<RuleSet>,
    /// Scratch for matching pattern numbers (`RuleSet::patterns`).
    matched_patterns: Vec<usize>,
    /// For each event: the rules counting it, and whether it is the event
    /// after a sequence's `then` there.
    by_event: Vec<Vec<(usize, bool)>>,
    /// Per rule: how long a key's window state matters after its last
    /// entry, in ms (the window, or a sequence's `within` if longer).
    keep_ms: Vec<i64>,
    sigma: Vec<usize>,
    state: Vec<RuleState>,
    /// Per rule: how long a detection without incident stays open without
    /// hits, in ms (None: until its incident closes it).
    quiet_ms: Vec<Option<i64>>,
    max_keys: usize,
    dirty: Dirty,
    /// Whether to track changed windows (a replay persists none: tracking
    /// would keep every key ever seen).
    track_dirty: bool,
    /// Per-rule hit counts since start (matching lines, weighted).
    pub hits: Vec<u64>,
    /// Per rule: how many of those hits an allowlist left uncounted.
    pub ignored: Vec<u64>,
    /// Scratch for set matches, kept to avoid an allocation per line.
    matched_events: Vec<usize>,
    /// An allowlist for every rule besides the rule set's (watch.toml's).
    ignore: Allowlist,
    /// The source of the lines being processed ([`Engine::set_source`]),
    /// and the newest log time of each source (ms), so windows expire by
    /// their own source's clock.
    source: Option<u16>,
    source_high: Vec<i64>,
    /// The driver names its sources ([`Engine::by_source`]).
    by_source: bool,
}

impl Engine {
    pub fn new(rules: Arc<RuleSet>, max_keys: usize) -> Engine {
        let mut by_event = vec![Vec::new(); rules.events.len()];
        let mut sigma = Vec::new();
        for (ri, r) in rules.rules.iter().enumerate() {
            match &r.matcher {
                Matcher::Event(e) => by_event[*e].push((ri, false)),
                Matcher::Sigma(_) => sigma.push(ri),
            }
            if let Counted::Then { event, .. } = r.counted {
                by_event[event].push((ri, true));
            }
        }
        let n = rules.rules.len();
        let quiet_ms = rules
            .rules
            .iter()
            .map(|r| {
                (!r.create_incident).then(|| {
                    let mut window = r.threshold.map_or(std::time::Duration::ZERO, |t| t.window);
                    if let Counted::Then { within, .. } = r.counted {
                        window = window.max(within);
                    }
                    i64::try_from(window.max(QUIET_CLOSE).as_millis()).unwrap_or(i64::MAX)
                })
            })
            .collect();
        let keep_ms = rules
            .rules
            .iter()
            .map(|r| {
                let window = r.threshold.map_or(std::time::Duration::ZERO, |t| t.window);
                let keep = match r.counted {
                    Counted::Then { within, .. } => window.max(within),
                    _ => window,
                };
                i64::try_from(keep.as_millis()).unwrap_or(i64::MAX)
            })
            .collect();
        Engine {
            quiet_ms,
            keep_ms,
            matched_patterns: Vec::new(),
            by_event,
            sigma,
            state: (0..n).map(|_| RuleState::default()).collect(),
            max_keys: max_keys.max(1),
            dirty: Dirty::default(),
            track_dirty: true,
            hits: vec![0; n],
            ignored: vec![0; n],
            matched_events: Vec::new(),
            ignore: Allowlist::default(),
            source: None,
            source_high: Vec::new(),
            by_source: false,
            rules,
        }
    }

    /// Adds an allowlist for every rule (watch.toml's `[ignore]`); its
    /// hits are counted as ignored like the rule files' own.
    pub fn add_ignore(&mut self, list: &Allowlist) {
        self.ignore.extend(list);
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn rule(&self, i: usize) -> &Rule {
        &self.rules.rules[i]
    }

    /// Matches one line (its `text`, for `count` events) at time `at`,
    /// appending what changed to `out`. `raw` is the line kept as evidence.
    pub fn process(
        &mut self,
        text: &str,
        raw: &str,
        count: u32,
        at: DateTime<Utc>,
        out: &mut Vec<Change>,
    ) {
        let count = count.max(1);
        if let Some(s) = self.source {
            let high = &mut self.source_high[usize::from(s)];
            *high = (*high).max(at.timestamp_millis());
        }
        // The patterns the line may match (sized when the rules were
        // loaded; a line without any pattern's literal skips the sets).
        self.rules
            .patterns
            .candidates(text, &mut self.matched_patterns);
        if !self.matched_patterns.is_empty() {
            let ascii = text.is_ascii();
            // Borrowed apart from `self`, which the hits change.
            let rules = Arc::clone(&self.rules);
            self.matched_events.clear();
            for i in 0..self.matched_patterns.len() {
                let p = self.matched_patterns[i];
                let (event, pattern) = self.rules.pattern_owners[p];
                // One match per event: its first matching pattern.
                if self.matched_events.contains(&event) || self.by_event[event].is_empty() {
                    continue;
                }
                let regex = &rules.events[event].patterns[pattern];
                // The set said it matches: the groups are there.
                let Some(caps) = rules.patterns.captures(p, regex, text, ascii) else {
                    continue;
                };
                self.matched_events.push(event);
                for k in 0..self.by_event[event].len() {
                    let (ri, then) = self.by_event[event][k];
                    let key = match &self.rules.rules[ri].group_by {
                        GroupBy::Global => GLOBAL_KEY,
                        GroupBy::Capture(name) => match caps.name(name) {
                            Some(m) => m,
                            None if name == super::logline::HOST_KEY => {
                                super::logline::host_of(text).unwrap_or(GLOBAL_KEY)
                            }
                            None => GLOBAL_KEY,
                        },
                    };
                    if self.any_allowlist(ri) && self.allowlisted(ri, key, caps.name("src"), text) {
                        self.hits[ri] += u64::from(count);
                        self.ignored[ri] += u64::from(count);
                        continue;
                    }
                    let value = match &self.rules.rules[ri].counted {
                        Counted::Distinct(field) => caps.name(field),
                        _ => None,
                    };
                    if then {
                        self.then_hit(ri, key, raw, count, at, out);
                    } else {
                        self.hit(ri, key, value, raw, count, at, out);
                    }
                }
            }
        }
        for i in 0..self.sigma.len() {
            let ri = self.sigma[i];
            let fires = match &self.rules.rules[ri].matcher {
                Matcher::Sigma(d) => d.matches(text),
                Matcher::Event(_) => false,
            };
            if fires && self.allowlisted(ri, GLOBAL_KEY, None, text) {
                self.hits[ri] += u64::from(count);
                self.ignored[ri] += u64::from(count);
            } else if fires {
                self.hit(ri, GLOBAL_KEY, None, raw, count, at, out);
            }
        }
    }

    /// Whether any allowlist applies to rule `ri` (most rule sets have
    /// none: a hit then needs no `src`).
    fn any_allowlist(&self, ri: usize) -> bool {
        !self.rules.ignore.is_empty()
            || !self.rules.rules[ri].ignore.is_empty()
            || !self.ignore.is_empty()
    }

    /// Whether the global or the rule's allowlist covers a hit.
    fn allowlisted(&self, ri: usize, key: &str, src: Option<&str>, text: &str) -> bool {
        let global = &self.rules.ignore;
        let own = &self.rules.rules[ri].ignore;
        (!global.is_empty() && global.covers(key, src, text))
            || (!own.is_empty() && own.covers(key, src, text))
            || (!self.ignore.is_empty() && self.ignore.covers(key, src, text))
    }

    /// Closes a quiet detection without incident, then attaches the hit
    /// to the open detection of the key if there is one (suppression).
    /// Returns whether it attached.
    fn attach(
        &mut self,
        ri: usize,
        key: &str,
        raw: &str,
        count: u32,
        at: DateTime<Utc>,
        out: &mut Vec<Change>,
    ) -> bool {
        let state = &mut self.state[ri];
        // A detection without incident that went quiet closes; this hit
        // counts afresh.
        if let (Some(quiet), Some(d)) = (self.quiet_ms[ri], state.open.get(key))
            && at
                .timestamp_millis()
                .saturating_sub(d.last_seen.timestamp_millis())
                > quiet
            && let Some(detection) = state.open.remove(key)
        {
            out.push(Change::Closed {
                rule: ri,
                detection,
            });
        }
        let Some(d) = state.open.get_mut(key) else {
            return false;
        };
        d.count += u64::from(count);
        d.last_seen = d.last_seen.max(at);
        if d.lines.len() < MAX_EVIDENCE_LINES {
            d.lines.push(raw.to_string());
        }
        out.push(Change::Attached {
            rule: ri,
            key: key.to_string(),
            added: u64::from(count),
        });
        true
    }

    /// A hit of the event a rule counts; `value` is the `distinct(FIELD)`
    /// capture of the line, for a rule that counts distinct values.
    #[allow(clippy::too_many_arguments)]
    fn hit(
        &mut self,
        ri: usize,
        key: &str,
        value: Option<&str>,
        raw: &str,
        count: u32,
        at: DateTime<Utc>,
        out: &mut Vec<Change>,
    ) {
        self.hits[ri] += u64::from(count);
        if self.attach(ri, key, raw, count, at, out) {
            return;
        }
        // Owned only now: most hits of a flood attach.
        let key = key.to_string();
        let state = &mut self.state[ri];
        let rule = &self.rules.rules[ri];
        let Some(threshold) = rule.threshold else {
            state.open.insert(
                key.clone(),
                Detection {
                    rule: rule.name.clone(),
                    key: key.clone(),
                    count: u64::from(count),
                    first_seen: at,
                    last_seen: at,
                    lines: vec![raw.to_string()],
                },
            );
            out.push(Change::Opened { rule: ri, key });
            return;
        };
        let distinct = matches!(rule.counted, Counted::Distinct(_));
        if distinct && value.is_none() {
            // The line lacks the field: nothing to count.
            return;
        }
        let window_ms = i64::try_from(threshold.window.as_millis()).unwrap_or(i64::MAX);
        let at_ms = at.timestamp_millis();
        let track = self.track_dirty;
        let w = state.windows.entry(key.clone()).or_default();
        let first_touch = track && !std::mem::replace(&mut w.dirty, true);
        w.source = self.source;
        // Keep entries within the window, inclusive: t - e <= window.
        while let Some(front) = w.entries.front() {
            if at_ms.saturating_sub(front.at_ms) > window_ms {
                w.total -= u64::from(front.count);
                w.entries.pop_front();
            } else {
                break;
            }
        }
        let mut entry = WindowEntry {
            at_ms,
            count,
            line: Some(raw.to_string()),
            value: value.map(str::to_string),
        };
        // One entry per distinct value, moved to its latest time.
        if distinct
            && let Some(i) = w.entries.iter().position(|e| e.value == entry.value)
            && let Some(old) = w.entries.remove(i)
        {
            entry.count = entry.count.saturating_add(old.count);
            w.total -= u64::from(old.count);
        }
        w.total += u64::from(entry.count);
        w.entries.push_back(entry);
        let reached = match rule.counted {
            Counted::Events => threshold.reached(w.total),
            Counted::Distinct(_) => threshold.reached(w.entries.len() as u64),
            Counted::Then { .. } => {
                // Armed, not fired: the event after `then` fires it. Only
                // the newest entries that reach the count are kept.
                let needs = threshold.needs().max(1);
                while w.entries.len() as u64 > needs {
                    if let Some(front) = w.entries.pop_front() {
                        w.total -= u64::from(front.count);
                    }
                }
                if threshold.reached(w.total) {
                    w.armed_ms = Some(at_ms);
                }
                false
            }
        };
        if reached {
            let w = state.windows.remove(&key).unwrap_or_default();
            self.open_from(ri, key, w, None, at, out);
            return;
        }
        let over = state.windows.len() > self.max_keys;
        if first_touch {
            self.dirty.dropped.remove(&(ri, key.clone()));
            self.dirty.windows.push((ri, key));
        }
        if over {
            self.evict(ri, at_ms, self.keep_ms[ri]);
        }
    }

    /// A hit of the event after a sequence's `then`: fires when the key's
    /// count was reached (armed) at most `within` before it; otherwise the
    /// earlier events are explained (a login that worked without the
    /// count reached, or too long after it) and counting starts afresh.
    fn then_hit(
        &mut self,
        ri: usize,
        key: &str,
        raw: &str,
        count: u32,
        at: DateTime<Utc>,
        out: &mut Vec<Change>,
    ) {
        self.hits[ri] += u64::from(count);
        if self.attach(ri, key, raw, count, at, out) {
            return;
        }
        let Counted::Then { within, .. } = self.rules.rules[ri].counted else {
            return;
        };
        let within_ms = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        let at_ms = at.timestamp_millis();
        let Some(w) = self.state[ri].windows.remove(key) else {
            return;
        };
        let key = key.to_string();
        if self.track_dirty {
            self.dirty.dropped.insert((ri, key.clone()));
        }
        let fires = w
            .armed_ms
            .is_some_and(|armed| at_ms >= armed && at_ms.saturating_sub(armed) <= within_ms);
        if fires {
            self.open_from(ri, key, w, Some((raw, count)), at, out);
        }
    }

    /// Opens a detection from a window that reached its condition (and the
    /// line that completed a sequence).
    fn open_from(
        &mut self,
        ri: usize,
        key: String,
        w: Window,
        last: Option<(&str, u32)>,
        at: DateTime<Utc>,
        out: &mut Vec<Change>,
    ) {
        let at_ms = at.timestamp_millis();
        let first_ms = w.entries.front().map_or(at_ms, |e| e.at_ms);
        let mut lines: Vec<String> = w
            .entries
            .into_iter()
            .filter_map(|e| e.line)
            .take(MAX_EVIDENCE_LINES)
            .collect();
        let mut count = w.total;
        if let Some((raw, n)) = last {
            count += u64::from(n);
            if lines.len() >= MAX_EVIDENCE_LINES {
                lines.pop();
            }
            // The line that completed the sequence is always kept.
            lines.push(raw.to_string());
        }
        let detection = Detection {
            rule: self.rules.rules[ri].name.clone(),
            key: key.clone(),
            count,
            first_seen: from_ms(first_ms),
            last_seen: at,
            lines,
        };
        self.state[ri].open.insert(key.clone(), detection);
        if self.track_dirty {
            self.dirty.dropped.insert((ri, key.clone()));
        }
        out.push(Change::Opened { rule: ri, key });
    }

    pub fn rule_index(&self, name: &str) -> Option<usize> {
        self.rules.rule_index(name)
    }
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(|| Utc.timestamp_nanos(0))
}

/// `Duration` of a window as chrono, for display.
pub fn window_of(rule: &Rule) -> Option<Duration> {
    rule.threshold
        .and_then(|t| Duration::from_std(t.window).ok())
}

#[path = "engine_state.rs"]
mod state;

#[cfg(test)]
#[path = "engine_conditions_tests.rs"]
mod conditions_tests;

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
