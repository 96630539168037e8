//! What the follower hands over: the batch to commit, and its status.

use super::*;

impl Follower {
    /// Anything to commit: changed checkpoints, windows or detections.
    pub fn take_batch(&mut self, watcher: &str) -> WatchBatch {
        let mut checkpoints = Vec::new();
        for t in &mut self.files {
            let cp = match &t.cur {
                Some(open) => open.checkpoint(&t.key),
                // Known path without a file: read it whole when it comes.
                None if t.known => FileCheckpoint {
                    path: t.key.clone(),
                    dev: 0,
                    inode: 0,
                    fp_len: 0,
                    fingerprint: String::new(),
                    offset: 0,
                },
                None => continue,
            };
            // A restart that has not reached a file yet keeps its checkpoint.
            if t.resume.is_some() {
                continue;
            }
            if t.saved.as_ref() != Some(&cp) {
                t.saved = Some(cp.clone());
                checkpoints.push(cp);
            }
        }
        let mut reads = std::mem::take(&mut self.finished_reads);
        reads.extend(
            checkpoints
                .iter()
                .filter(|c| c.dev != 0 || c.inode != 0)
                .map(|c| SourceRead {
                    source: SourceRead::file_source(c.dev, c.inode),
                    check_len: c.fp_len,
                    check_hash: c.fingerprint.clone(),
                    position: c.offset,
                }),
        );
        checkpoints.extend(self.journal_checkpoints());
        let (windows, dropped_windows) = take_windows(&mut self.sink.engine);
        WatchBatch {
            watcher: watcher.to_string(),
            replay: false,
            checkpoints,
            reads,
            forget_paths: std::mem::take(&mut self.forget),
            windows,
            dropped_windows,
            detections: self.sink.recorder.take_changes(&self.sink.engine),
            high_water: self.sink.high_water,
            notify_sinks: self.config.notify_sinks.clone(),
            lease: None,
            intake: self.sink.intake.take(&self.config.notify_sinks),
            flush: false,
        }
    }

    pub fn status(&self) -> FollowStatus {
        FollowStatus {
            files: self
                .files
                .iter()
                .map(|t| t.status.clone())
                .chain(self.journals.iter().map(|(_, st)| st.clone()))
                .collect(),
            rules: self
                .sink
                .engine
                .rules()
                .rules
                .iter()
                .zip(&self.sink.engine.hits)
                .map(|(r, h)| (r.name.clone(), *h))
                .collect(),
            ignored: self
                .sink
                .engine
                .rules()
                .rules
                .iter()
                .zip(&self.sink.engine.ignored)
                .map(|(r, n)| (r.name.clone(), *n))
                .collect(),
            recent: self
                .sink
                .recent
                .iter()
                .map(|r| RecentMatch {
                    at: r.at,
                    rule: self.sink.engine.rule(r.rule).name.clone(),
                    key: r.key.clone(),
                    line: r.line.to_string(),
                })
                .collect(),
            open_detections: self.sink.engine.detections().count(),
        }
    }
}
