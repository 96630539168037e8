//! Between the engine and the store: turns what the engine reported since
//! the last commit into one batch (detections with what each gained, the
//! windows that changed), and restores an engine from what was committed.
//! Used by `scan --commit` and by the follow driver.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::engine::{Change, Detection, Engine, window_of};
use crate::domain::campaign::EVIDENCE_LINES_LIMIT;
use crate::store::{DetectionChange, DetectionRecord, RuleFacts, SavedWindow, WatchState};

mod windows;

use windows::evidence_lines;
pub use windows::{decode_window, encode_window};

/// What is committed of one open detection.
#[derive(Debug, Clone, Copy, Default)]
struct Committed {
    count: u64,
    lines: usize,
}

/// One detection touched since the last batch.
#[derive(Debug)]
struct Pending {
    rule: usize,
    key: String,
    /// The engine opened it since the last batch.
    new: bool,
    /// What was committed of it before (None when new).
    before: Option<Committed>,
    /// How it stood when the engine closed it (quiet).
    closed: Option<Detection>,
    sources: BTreeSet<String>,
    /// The latest matching lines since the last batch (bounded).
    latest: VecDeque<String>,
    /// The host the latest line names (per-host campaigns).
    host: Option<String>,
}

/// Tracks engine changes between commits.
#[derive(Debug, Default)]
pub struct Recorder {
    committed: HashMap<(usize, String), Committed>,
    pending: Vec<Pending>,
    /// Per rule: key -> index in `pending` of its open detection (looked
    /// up by `&str` for every matching line, so no key is copied to ask).
    current: Vec<HashMap<String, usize>>,
    /// Open detections a watcher recorded already (opened by lines it
    /// committed): a replay commits only what later lines add to them.
    recorded: HashSet<(usize, String)>,
    /// Per rule: the latest lines kept between commits (its
    /// `evidence_lines`; set by `restore`, the most any rule keeps before).
    keep: Vec<usize>,
}

impl Recorder {
    /// Notes one engine change made by the line `raw` of `source`: the line
    /// is kept among the detection's latest (bounded) and names its host.
    pub fn note_line(&mut self, change: &Change, source: &str, raw: &str) {
        self.note(change, source);
        let (Change::Opened { rule, key } | Change::Attached { rule, key, .. }) = change else {
            return;
        };
        let Some(i) = self.current_of(*rule, key) else {
            return;
        };
        let keep = self
            .keep
            .get(*rule)
            .copied()
            .unwrap_or(EVIDENCE_LINES_LIMIT);
        let p = &mut self.pending[i];
        // The oldest line's buffer takes the newest (no allocation per line
        // once the rule's bound is reached).
        let keep = keep.max(1);
        while p.latest.len() > keep {
            p.latest.pop_front();
        }
        let mut line = if p.latest.len() == keep {
            p.latest.pop_front().unwrap_or_default()
        } else {
            String::new()
        };
        line.clear();
        line.push_str(raw);
        p.latest.push_back(line);
        if let Some(h) = super::logline::host_of(raw)
            && p.host.as_deref() != Some(h)
        {
            p.host = Some(h.to_string());
        }
    }

    fn current_of(&self, rule: usize, key: &str) -> Option<usize> {
        self.current.get(rule)?.get(key).copied()
    }

    fn set_current(&mut self, rule: usize, key: &str, i: usize) {
        if self.current.len() <= rule {
            self.current.resize_with(rule + 1, HashMap::new);
        }
        self.current[rule].insert(key.to_string(), i);
    }

    fn clear_current(&mut self, rule: usize, key: &str) {
        if let Some(m) = self.current.get_mut(rule) {
            m.remove(key);
        }
    }

    /// Notes one engine change, from a line of `source`.
    pub fn note(&mut self, change: &Change, source: &str) {
        match change {
            Change::Opened { rule, key } => {
                self.pending.push(Pending {
                    rule: *rule,
                    key: key.clone(),
                    new: true,
                    before: None,
                    closed: None,
                    sources: BTreeSet::from([source.to_string()]),
                    latest: VecDeque::new(),
                    host: None,
                });
                self.set_current(*rule, key, self.pending.len() - 1);
            }
            Change::Attached { rule, key, .. } => {
                let i = self.entry(*rule, key);
                let sources = &mut self.pending[i].sources;
                if !sources.contains(source) {
                    sources.insert(source.to_string());
                }
            }
            Change::Closed { rule, detection } => {
                let k = (*rule, detection.key.clone());
                // A watcher's detection that nothing new reached: its
                // closing is the watcher's to record.
                if self.current_of(*rule, &detection.key).is_none() && self.recorded.remove(&k) {
                    self.committed.remove(&k);
                    return;
                }
                let i = self.entry(*rule, &detection.key);
                self.pending[i].closed = Some(detection.clone());
                self.clear_current(*rule, &detection.key);
            }
        }
    }

    /// Notes a change made by a line whose effects a watcher committed
    /// already (`scan --commit` over what `watch` read): nothing to commit,
    /// but what the detection holds now is the baseline later lines add to.
    pub fn note_recorded(&mut self, change: &Change, engine: &Engine) {
        match change {
            Change::Opened { rule, key } | Change::Attached { rule, key, .. } => {
                // Opened by a line not recorded (another file first): it
                // stays one change, with what it holds.
                if self.current_of(*rule, key).is_some() {
                    return;
                }
                let k = (*rule, key.clone());
                if let Some(d) = engine.detection(*rule, key) {
                    self.committed.insert(
                        k.clone(),
                        Committed {
                            count: d.count,
                            lines: d.lines.len(),
                        },
                    );
                    self.recorded.insert(k);
                }
            }
            Change::Closed { rule, detection } => {
                let k = (*rule, detection.key.clone());
                if self.current_of(*rule, &detection.key).is_some() {
                    self.note(change, "");
                } else {
                    self.committed.remove(&k);
                    self.recorded.remove(&k);
                }
            }
        }
    }

    fn entry(&mut self, rule: usize, key: &str) -> usize {
        if let Some(i) = self.current_of(rule, key) {
            return i;
        }
        let k = (rule, key.to_string());
        self.pending.push(Pending {
            rule,
            key: key.to_string(),
            new: false,
            before: Some(self.committed.get(&k).copied().unwrap_or_default()),
            closed: None,
            sources: BTreeSet::new(),
            latest: VecDeque::new(),
            host: None,
        });
        self.set_current(rule, key, self.pending.len() - 1);
        self.pending.len() - 1
    }

    /// Nothing waits to be committed.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The detections changed since the last call, in the order they were
    /// first touched, with what each gained. Call once per commit attempt;
    /// if the commit fails, the process must not go on (the engine is ahead
    /// of the store).
    pub fn take_changes(&mut self, engine: &Engine) -> Vec<DetectionChange> {
        let mut out = Vec::with_capacity(self.pending.len());
        // Each rule's facts made once per commit, shared by its changes.
        let mut facts_of: Vec<Option<Arc<RuleFacts>>> = vec![None; engine.rules().rules.len()];
        for m in &mut self.current {
            m.clear();
        }
        for p in std::mem::take(&mut self.pending) {
            let k = (p.rule, p.key.clone());
            let closed = p.closed.is_some();
            let Some(d) = p
                .closed
                .as_ref()
                .or_else(|| engine.detection(p.rule, &p.key))
            else {
                continue;
            };
            let before = p.before.unwrap_or_default();
            let lines_before = before.lines.min(d.lines.len());
            out.push(DetectionChange {
                facts: facts_of
                    .get_mut(p.rule)
                    .map(|f| {
                        f.get_or_insert_with(|| Arc::new(facts(engine, p.rule)))
                            .clone()
                    })
                    .unwrap_or_else(|| Arc::new(facts(engine, p.rule))),
                key: p.key.clone(),
                count: d.count,
                first_seen: d.first_seen,
                last_seen: d.last_seen,
                added: d.count.saturating_sub(before.count),
                new: p.new,
                new_lines: d.lines[lines_before..].to_vec(),
                latest_lines: if p.latest.is_empty() {
                    // Opened by lines noted without their text (a
                    // replay): the newest the engine kept.
                    let keep = engine.rule(p.rule).evidence_lines;
                    let from = d.lines.len().saturating_sub(keep);
                    d.lines[from..].to_vec()
                } else {
                    p.latest.into_iter().collect()
                },
                host: p.host,
                lines_before,
                sources: p.sources.into_iter().collect(),
                closed_after: closed,
            });
            if closed {
                self.committed.remove(&k);
            } else {
                self.committed.insert(
                    k,
                    Committed {
                        count: d.count,
                        lines: d.lines.len(),
                    },
                );
            }
        }
        out
    }

    /// Forgets a detection the store closed (its incident was resolved).
    pub fn forget(&mut self, rule: usize, key: &str) {
        self.committed.remove(&(rule, key.to_string()));
    }

    /// Open detections held (for status).
    pub fn open_count(&self) -> usize {
        self.committed.len()
    }
}

/// What the store records about a rule.
pub fn facts(engine: &Engine, rule: usize) -> RuleFacts {
    let r = engine.rule(rule);
    RuleFacts {
        rule: r.name.clone(),
        description: r.description.clone(),
        why: r.why.clone(),
        condition: r.condition.clone(),
        severity: r.severity,
        group_by: r.group_by.describe().to_string(),
        window_seconds: window_of(r).map(|w| w.num_seconds()),
        create_incident: r.create_incident,
        notify: r.notify.clone(),
        alert: r.alert,
        incident: r.incident,
        evidence_lines: r.evidence_lines,
    }
}

/// The windows changed since the last call, and those dropped, by rule name.
pub fn take_windows(engine: &mut Engine) -> (Vec<SavedWindow>, Vec<(String, String)>) {
    let dirty = engine.take_dirty();
    let mut windows = Vec::with_capacity(dirty.windows.len());
    for (ri, key) in dirty.windows {
        if let Some(w) = engine.window(ri, &key) {
            windows.push(SavedWindow {
                rule: engine.rule(ri).name.clone(),
                state: encode_window(w, evidence_lines(engine, ri)),
                key,
            });
        }
    }
    let dropped = dirty
        .dropped
        .into_iter()
        .map(|(ri, key)| (engine.rule(ri).name.clone(), key))
        .collect();
    (windows, dropped)
}

/// Restores windows and open detections into a fresh engine (and what is
/// committed of them into the recorder). State of rules no longer loaded is
/// left alone. Returns how many windows and detections were restored.
pub fn restore(engine: &mut Engine, recorder: &mut Recorder, state: &WatchState) -> (usize, usize) {
    recorder.keep = engine
        .rules()
        .rules
        .iter()
        .map(|r| r.evidence_lines)
        .collect();
    let mut windows = 0;
    for w in &state.windows {
        let (Some(ri), Some(window)) = (engine.rule_index(&w.rule), decode_window(&w.state)) else {
            continue;
        };
        engine.restore_window(ri, w.key.clone(), window);
        windows += 1;
    }
    let mut open = 0;
    for d in &state.open {
        let Some(ri) = engine.rule_index(&d.rule) else {
            continue;
        };
        restore_detection(engine, recorder, ri, d);
        open += 1;
    }
    (windows, open)
}

fn restore_detection(engine: &mut Engine, recorder: &mut Recorder, ri: usize, d: &DetectionRecord) {
    engine.restore_open(
        ri,
        Detection {
            rule: d.rule.clone(),
            key: d.key.clone(),
            count: d.count,
            first_seen: d.first_seen,
            last_seen: d.last_seen,
            lines: d.lines.clone(),
        },
    );
    recorder.committed.insert(
        (ri, d.key.clone()),
        Committed {
            count: d.count,
            lines: d.lines.len(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::RuleSet;
    use chrono::{DateTime, TimeZone, Utc};
    use std::path::PathBuf;
    use std::sync::Arc;

    const RULES: &str = r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
rules:
  - rule: brute
    condition: fail > 2 in 1 minute
  - rule: note
    condition: fail
    action: notify
    notify: [oncall]
"#;

    fn engine() -> Engine {
        let mut set = RuleSet::default();
        set.add_texts(&[(PathBuf::from("t.yml"), RULES.to_string())]);
        Engine::new(Arc::new(set), 100)
    }

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    fn feed(e: &mut Engine, r: &mut Recorder, s: i64) {
        let mut out = Vec::new();
        let line = "Failed password for root from 1.2.3.4";
        e.process(line, line, 1, t(s), &mut out);
        for c in &out {
            r.note(c, "auth.log");
        }
    }

    #[test]
    fn each_batch_carries_what_was_gained_since_the_last() {
        let mut e = engine();
        let mut r = Recorder::default();
        for s in 0..3 {
            feed(&mut e, &mut r, s);
        }
        let b = r.take_changes(&e);
        let brute = b.iter().find(|c| c.facts.rule == "brute").unwrap();
        assert!(brute.new);
        assert_eq!((brute.count, brute.added, brute.new_lines.len()), (3, 3, 3));
        assert!(r.take_changes(&e).is_empty(), "nothing new");
        feed(&mut e, &mut r, 10);
        let b = r.take_changes(&e);
        let brute = b.iter().find(|c| c.facts.rule == "brute").unwrap();
        assert!(!brute.new);
        assert_eq!((brute.count, brute.added), (4, 1));
        assert_eq!((brute.lines_before, brute.new_lines.len()), (3, 1));
        assert_eq!(brute.sources, ["auth.log"]);
    }

    #[test]
    fn a_batch_keeps_as_many_latest_lines_as_the_rule_asks() {
        let mut set = RuleSet::default();
        let text = RULES.replace(
            "condition: fail > 2 in 1 minute",
            "condition: fail > 2 in 1 minute\n    evidence_lines: 3",
        );
        set.add_texts(&[(PathBuf::from("t.yml"), text)]);
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let mut e = Engine::new(Arc::new(set), 100);
        let mut r = Recorder::default();
        restore(&mut e, &mut r, &WatchState::default());
        let mut out = Vec::new();
        for s in 0..30 {
            let line = format!("Failed password for root from 1.2.3.4 #{s}");
            e.process(&line, &line, 1, t(s), &mut out);
            for c in out.drain(..) {
                r.note_line(&c, "auth.log", &line);
            }
        }
        let b = r.take_changes(&e);
        let brute = b.iter().find(|c| c.facts.rule == "brute").unwrap();
        assert_eq!(brute.facts.evidence_lines, 3);
        assert_eq!(brute.latest_lines.len(), 3);
        assert!(brute.latest_lines[2].ends_with("#29"));
        // The other rule keeps the default 20 of its 30 hits.
        let note = b.iter().find(|c| c.facts.rule == "note").unwrap();
        assert_eq!(note.latest_lines.len(), 20);
    }

    #[test]
    fn a_quiet_close_and_a_reopen_in_one_batch_are_two_changes_in_order() {
        let mut e = engine();
        let mut r = Recorder::default();
        feed(&mut e, &mut r, 0);
        r.take_changes(&e);
        feed(&mut e, &mut r, 5000);
        let notes: Vec<_> = r
            .take_changes(&e)
            .into_iter()
            .filter(|c| c.facts.rule == "note")
            .map(|c| (c.new, c.count, c.added, c.closed_after))
            .collect();
        assert_eq!(notes, [(false, 1, 0, true), (true, 1, 1, false)]);
    }

    #[test]
    fn a_campaign_rule_saves_two_lines_and_its_detection_after_a_restart_has_them() {
        let rules = r#"
events:
  fail:
    match: 'Failed password for (?P<user>\S+) from (?P<src>\S+)'
rules:
  - rule: wide
    condition: fail > 3 in 1 minute
    incident: per_rule
"#;
        let new = || {
            let mut set = RuleSet::default();
            set.add_texts(&[(PathBuf::from("t.yml"), rules.to_string())]);
            Engine::new(Arc::new(set), 100)
        };
        let mut e = new();
        let mut out = Vec::new();
        for s in 0..3 {
            let line = format!("Failed password for u{s} from 1.2.3.4");
            e.process(&line, &line, 1, t(s), &mut out);
        }
        let (windows, _) = take_windows(&mut e);
        assert_eq!(windows.len(), 1);
        let saved = &windows[0].state;
        assert!(!saved.windows(2).any(|b| b == b"u2"), "{saved:?}");
        let state = WatchState {
            windows,
            ..WatchState::default()
        };
        let mut again = new();
        restore(&mut again, &mut Recorder::default(), &state);
        let line = "Failed password for u3 from 1.2.3.4";
        again.process(line, line, 1, t(3), &mut out);
        let d = again.detection(0, "1.2.3.4").unwrap();
        assert_eq!(d.count, 4);
        assert_eq!(
            d.lines,
            [
                "Failed password for u0 from 1.2.3.4",
                "Failed password for u1 from 1.2.3.4",
                line
            ]
        );
    }

    #[test]
    fn a_restored_engine_continues_counting_where_the_store_stood() {
        let mut e = engine();
        let mut r = Recorder::default();
        feed(&mut e, &mut r, 0);
        feed(&mut e, &mut r, 1);
        let (windows, _) = take_windows(&mut e);
        let state = WatchState {
            windows,
            ..WatchState::default()
        };
        let mut e2 = engine();
        let mut r2 = Recorder::default();
        assert_eq!(restore(&mut e2, &mut r2, &state), (1, 0));
        feed(&mut e2, &mut r2, 2);
        assert_eq!(e2.detection(0, "1.2.3.4").map(|d| d.count), Some(3));
    }
}
