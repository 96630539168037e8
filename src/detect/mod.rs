//! The rule watcher's room: rule files (warroom's and a Sigma subset), log
//! lines made ready for matching, the one detection engine, and the drivers
//! that feed it (`scan` replays files by log time).

pub mod engine;
pub mod follow;
pub mod journal;
mod literals;
pub mod logfile;
pub mod logline;
pub mod patterns;
pub mod persist;
pub mod problem;
pub mod reader;
pub mod rfc5424;
pub mod rule_file;
pub mod rules;
pub mod scan;
pub mod setup;
pub mod sigma;
pub mod watch;
pub mod yaml;
pub mod zone;

pub use engine::{Change, DEFAULT_MAX_KEYS, Detection, Engine};
pub use rules::{Problem, Rule, RuleSet};
