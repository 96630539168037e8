//! Alert files followed like logs (a Wazuh `alerts.json`, one JSON alert
//! per line): the follower tails them with its usual checkpoints and
//! rotation handling, but their lines are not matched by rules: each
//! complete line is decoded and mapped as an alert (`intake.toml`), and
//! the alerts go into the same batch as the file's checkpoint, so one
//! commit records both (nothing missed, nothing repeated across a crash).
//! A line that is not an alert is counted as dropped, with the reason kept
//! as the source's last error; it never stops the watcher.

use std::path::{Path, PathBuf};

use super::pattern_matches;
use crate::intake::config::{Format, Mapping};
use crate::intake::ingest::{batch, decode_line};
use crate::store::{IntakeBatch, intake_channels};

/// An alert file to follow and how its alerts are mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeFollow {
    /// The file (absolute, as checkpoints name it).
    pub path: PathBuf,
    /// A line format: Wazuh or generic JSON.
    pub format: Format,
    pub mapping: Mapping,
}

impl IntakeFollow {
    /// A Wazuh `alerts.json` mapped with `mapping` (intake.toml's `[wazuh]`).
    pub fn wazuh(path: PathBuf, mapping: Mapping) -> IntakeFollow {
        IntakeFollow {
            path,
            format: Format::Wazuh,
            mapping,
        }
    }
}

/// One followed alert file and the alerts read since the last batch.
struct Tail {
    follow: IntakeFollow,
    /// The path as the follower keys it.
    key: String,
    pending: IntakeBatch,
}

/// The alert files the follower routes lines to instead of the engine.
pub(super) struct IntakeLines {
    tails: Vec<Tail>,
}

impl IntakeLines {
    pub(super) fn new(follows: &[IntakeFollow]) -> IntakeLines {
        IntakeLines {
            tails: follows
                .iter()
                .map(|f| {
                    let key = f.path.to_string_lossy().into_owned();
                    Tail {
                        pending: empty(f, &key),
                        follow: f.clone(),
                        key,
                    }
                })
                .collect(),
        }
    }

    /// The alert file a line belongs to: read for the followed path
    /// `followed` (also when it comes from a rotated file such as
    /// `alerts.json.1` read while catching up), or from `source`, a
    /// compressed rotation beside it read once on a first start (then
    /// `followed` is that file).
    pub(super) fn route(&self, followed: &str, source: &str) -> Option<usize> {
        if self.tails.is_empty() {
            return None;
        }
        self.tails.iter().position(|t| {
            t.key == followed
                || pattern_matches(&t.follow.path, Path::new(followed))
                || (followed == source && rotated_sibling(&t.follow.path, Path::new(source)))
        })
    }

    /// Takes one complete line of tail `i`.
    pub(super) fn line(&mut self, i: usize, bytes: &[u8], cut: bool, source: &str) {
        let Some(t) = self.tails.get_mut(i) else {
            return;
        };
        let text = String::from_utf8_lossy(bytes);
        if text.trim().is_empty() {
            return;
        }
        let decoded = if cut {
            Err(format!(
                "a line longer than {} KiB was cut: not read as an alert",
                crate::detect::logline::MAX_LINE_BYTES / 1024
            ))
        } else {
            decode_line(t.follow.format, &t.follow.mapping, &text).map_err(|e| e.to_string())
        };
        match decoded {
            Ok(alert) => {
                let one = batch(
                    t.follow.format,
                    &t.follow.mapping,
                    std::slice::from_ref(&alert),
                    &[],
                );
                t.pending.dropped += one.dropped;
                t.pending.alerts.extend(one.alerts);
            }
            Err(e) => {
                let problem = format!("{source}: line not read as an alert: {e}");
                tracing::warn!("{}", crate::text::display_safe(&problem));
                t.pending.dropped += 1;
                t.pending.last_error = Some(problem);
            }
        }
    }

    /// The alerts read since the last call, one batch per file that had
    /// any (its responder alerts delivered through `notify_sinks`).
    pub(super) fn take(&mut self, notify_sinks: &[String]) -> Vec<IntakeBatch> {
        let mut out = Vec::new();
        for t in &mut self.tails {
            if t.pending.alerts.is_empty() && t.pending.dropped == 0 {
                continue;
            }
            let mut b = std::mem::replace(&mut t.pending, empty(&t.follow, &t.key));
            b.notify_sinks = notify_sinks.to_vec();
            out.push(b);
        }
        out
    }
}

fn empty(f: &IntakeFollow, key: &str) -> IntakeBatch {
    IntakeBatch {
        intake: f.mapping.name.clone(),
        format: f.format.as_str().into(),
        channel: intake_channels::follow(key),
        ..IntakeBatch::default()
    }
}

/// `alerts.json.1`, `alerts.json-20261202` beside `alerts.json`.
fn rotated_sibling(followed: &Path, source: &Path) -> bool {
    let (Some(dir), Some(name)) = (followed.parent(), followed.file_name()) else {
        return false;
    };
    source.parent() == Some(dir)
        && source.file_name().is_some_and(|n| {
            n.as_encoded_bytes().len() > name.as_encoded_bytes().len()
                && n.as_encoded_bytes().starts_with(name.as_encoded_bytes())
        })
}

/// The config with each alert file among the paths followed.
pub(super) fn with_intake_paths(mut config: super::FollowConfig) -> super::FollowConfig {
    for f in &config.intake {
        if !config.patterns.contains(&f.path) {
            config.patterns.push(f.path.clone());
        }
    }
    config
}
