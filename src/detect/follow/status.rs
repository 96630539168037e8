//! What the follower shows: each path's state, recent matches.

use super::*;

/// Where a followed path stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// No file at the path yet.
    Waiting,
    Following,
    /// The last attempt failed (permissions, I/O); retried every poll.
    Error(String),
}

/// One followed path, for status views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    pub path: String,
    pub state: FileState,
    /// Committed-or-not read position in the current file.
    pub offset: u64,
    pub lines: u64,
    pub truncated: u64,
    pub lossy: u64,
    pub rotations: u64,
}

/// A matching line, for status views (raw: sanitize to show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentMatch {
    pub at: DateTime<Utc>,
    pub rule: String,
    pub key: String,
    pub line: String,
}

/// Everything a status view shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowStatus {
    pub files: Vec<FileStatus>,
    /// (rule, hits since start).
    pub rules: Vec<(String, u64)>,
    /// (rule, hits since start an allowlist left uncounted), in the order
    /// of `rules`; part of its hits.
    pub ignored: Vec<(String, u64)>,
    /// Newest last.
    pub recent: Vec<RecentMatch>,
    pub open_detections: usize,
}
