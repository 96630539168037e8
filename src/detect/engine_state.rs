//! The engine's open detections and windows as the watcher sees them
//! between commits: read, closed when quiet, restored after a restart, and
//! the changed windows each commit saves, and windows dropped: over the
//! key cap, or expired by their source's clock.

use super::*;

impl Engine {
    /// The open detection of a rule for a key.
    pub fn detection(&self, rule: usize, key: &str) -> Option<&Detection> {
        self.state.get(rule)?.open.get(key)
    }

    /// Every open detection, by rule index.
    pub fn detections(&self) -> impl Iterator<Item = (usize, &Detection)> {
        self.state
            .iter()
            .enumerate()
            .flat_map(|(ri, s)| s.open.values().map(move |d| (ri, d)))
    }

    /// Closes the detections without incident that have been quiet for
    /// their rule's quiet time at `now` (log time: the newest line seen), so
    /// a long-running watcher's memory stays bounded. Hits after the quiet
    /// time would have closed them anyway.
    pub fn close_quiet(&mut self, now: DateTime<Utc>, out: &mut Vec<Change>) {
        let now_ms = now.timestamp_millis();
        for (ri, state) in self.state.iter_mut().enumerate() {
            let Some(quiet) = self.quiet_ms[ri] else {
                continue;
            };
            let gone: Vec<String> = state
                .open
                .iter()
                .filter(|(_, d)| now_ms.saturating_sub(d.last_seen.timestamp_millis()) > quiet)
                .map(|(k, _)| k.clone())
                .collect();
            for k in gone {
                if let Some(detection) = state.open.remove(&k) {
                    out.push(Change::Closed {
                        rule: ri,
                        detection,
                    });
                }
            }
        }
    }

    /// The driver will name the source of its lines ([`Engine::set_source`])
    /// before it processes them: until one has been read, restored windows
    /// are kept.
    pub fn by_source(&mut self) {
        self.by_source = true;
    }

    /// The lines processed next come from source `id` (a driver's small
    /// number for a file or journal): windows are expired by the newest
    /// time of the source that last added to them, so one whose times run
    /// behind the others (a host's clock, a file caught up late) keeps
    /// its windows as long as its own lines need them.
    pub fn set_source(&mut self, id: u16) {
        self.by_source = true;
        let i = usize::from(id);
        if self.source_high.len() <= i {
            self.source_high.resize(i + 1, i64::MIN);
        }
        self.source = Some(id);
    }

    /// Keeps a rule's window map under the cap: first drop windows that
    /// have expired, then the least recently seen tenth.
    pub(super) fn evict(&mut self, ri: usize, now_ms: i64, window_ms: i64) {
        let state = &mut self.state[ri];
        let mut gone: Vec<String> = state
            .windows
            .iter()
            .filter(|(_, w)| now_ms.saturating_sub(w.last_ms()) > window_ms)
            .map(|(k, _)| k.clone())
            .collect();
        let target = self.max_keys - self.max_keys / 10;
        if state.windows.len() - gone.len() > target {
            let mut by_age: Vec<(i64, &String)> = state
                .windows
                .iter()
                .filter(|(_, w)| now_ms.saturating_sub(w.last_ms()) <= window_ms)
                .map(|(k, w)| (w.last_ms(), k))
                .collect();
            let excess = state.windows.len() - gone.len() - target;
            if excess < by_age.len() {
                by_age.select_nth_unstable(excess);
            }
            gone.extend(by_age.into_iter().take(excess).map(|(_, k)| k.clone()));
        }
        for k in gone {
            state.windows.remove(&k);
            if self.track_dirty {
                self.dirty.dropped.insert((ri, k));
            }
        }
    }

    /// Drops the windows that can no longer count anything: their last
    /// entry is further back than their rule's reach (its window, or a
    /// sequence's `within`) plus [`EXPIRY_GRACE`] (lines a little out of
    /// order), by the newest log time of the source that last added to
    /// them. A restored window goes by the oldest of the sources read
    /// since (kept while none has been); with a driver that names no
    /// sources, windows go by `now`. A hit after that would have emptied
    /// them anyway. Without this a flood's windows stayed saved until the
    /// cap pushed them out: 10,000 rows kept for the 5,000 addresses of one
    /// flood.
    pub fn drop_expired(&mut self, now: DateTime<Utc>) {
        let now_ms = now.timestamp_millis();
        let grace = i64::try_from(EXPIRY_GRACE.as_millis()).unwrap_or(i64::MAX);
        let track = self.track_dirty;
        let highs = &self.source_high;
        let by_source = self.by_source;
        let oldest = highs.iter().copied().filter(|&h| h != i64::MIN).min();
        for (ri, state) in self.state.iter_mut().enumerate() {
            let reach = self.keep_ms[ri].saturating_add(grace);
            let dropped = &mut self.dirty.dropped;
            state.windows.retain(|key, w| {
                let clock = match w.source {
                    Some(s) => highs.get(usize::from(s)).copied().unwrap_or(i64::MIN),
                    None if by_source => oldest.unwrap_or(i64::MIN),
                    None => now_ms,
                };
                let live = clock.saturating_sub(w.last_ms()) <= reach;
                if !live && track {
                    dropped.insert((ri, key.clone()));
                }
                live
            });
        }
    }

    /// Forgets an open detection (its incident was closed), so the next
    /// hits for that key start counting afresh.
    pub fn close(&mut self, rule: usize, key: &str) {
        if let Some(s) = self.state.get_mut(rule) {
            s.open.remove(key);
        }
    }

    /// Restores an open detection (from the database, after a restart).
    pub fn restore_open(&mut self, rule: usize, detection: Detection) {
        if let Some(s) = self.state.get_mut(rule) {
            s.open.insert(detection.key.clone(), detection);
        }
    }

    /// Restores a window (from the database, after a restart).
    pub fn restore_window(&mut self, rule: usize, key: String, window: Window) {
        if let Some(s) = self.state.get_mut(rule) {
            s.windows.insert(key, window);
        }
    }

    pub fn window(&self, rule: usize, key: &str) -> Option<&Window> {
        self.state.get(rule)?.windows.get(key)
    }

    pub fn tracked_keys(&self) -> usize {
        self.state.iter().map(|s| s.windows.len()).sum()
    }

    /// Stops (or resumes) tracking changed windows: a driver that persists
    /// no windows (the replay) keeps memory bounded by the key cap.
    pub fn set_track_dirty(&mut self, track: bool) {
        self.track_dirty = track;
        if !track {
            self.dirty = Dirty::default();
        }
    }

    /// How many windows changed since the last [`Engine::take_dirty`], at
    /// most (some may have been dropped since).
    pub fn dirty_windows(&self) -> usize {
        self.dirty.windows.len()
    }

    /// Windows changed since the last call, for persisting.
    pub fn take_dirty(&mut self) -> Dirty {
        let mut dirty = std::mem::take(&mut self.dirty);
        // A window dropped after its change is not saved (its drop is); one
        // dropped and made again is listed again, and kept once.
        let state = &mut self.state;
        dirty.windows.retain(|(ri, key)| {
            state[*ri]
                .windows
                .get_mut(key)
                .is_some_and(|w| std::mem::replace(&mut w.dirty, false))
        });
        dirty
    }
}
