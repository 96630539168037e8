//! The clock a delivery is claimed and renewed by: a slow sink must not
//! make the deliveries waiting behind it look abandoned.

use std::time::Instant;

use chrono::{DateTime, Utc};

/// The time a delivery is claimed or renewed at: `now` as given, plus
/// the time spent since (each sink may take up to its timeout).
pub(super) struct Lease {
    now: DateTime<Utc>,
    started: Instant,
}

impl Lease {
    pub(super) fn start(now: DateTime<Utc>) -> Lease {
        Lease {
            now,
            started: Instant::now(),
        }
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.now + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }
}
