//! The record screens' effects on the store worker: each is handed to the
//! screen's own `io.rs` in turn (evidence, review, the incident report,
//! messages, metrics); what is left is the one change poll they share,
//! which keeps its own `data_version` so it is independent of the board's.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::comms::CommsConfig;
use crate::store::Store;
use crate::tui::action::Action;
use crate::tui::records::RecordsEffect;
use crate::tui::reply::Reply;
use crate::tui::screens::incident::state::TIMELINE_LIMIT;
use crate::tui::screens::{evidence, incident, messages, metrics, review, roster};

pub struct Worker {
    last_version: Option<i64>,
    /// The comms settings and database path message retries deliver with.
    comms: Option<(CommsConfig, PathBuf)>,
}

impl Worker {
    pub fn new(store: &Store) -> Worker {
        Worker {
            last_version: store.data_version().ok(),
            comms: None,
        }
    }

    /// Lets the worker retry message deliveries through these settings.
    pub fn with_comms(mut self, comms: CommsConfig, db: PathBuf) -> Worker {
        self.comms = Some((comms, db));
        self
    }

    /// Runs one effect; `base` is the version a view's edit was based on.
    /// `include_closed` is the board's setting, for the board reload that
    /// follows a write.
    #[allow(clippy::too_many_arguments)]
    pub fn perform(
        &mut self,
        store: &mut Store,
        effect: RecordsEffect,
        base: Option<crate::domain::version::Version>,
        actor: &str,
        include_closed: bool,
        now: DateTime<Utc>,
        send: &dyn Fn(Action),
    ) {
        let r = Reply {
            actor,
            include_closed,
            now,
            timeline: TIMELINE_LIMIT,
            send,
            base,
        };
        let Some(effect) = evidence::io::run(store, effect, &r) else {
            return;
        };
        let Some(effect) = review::io::run(store, effect, &r) else {
            return;
        };
        let Some(effect) = incident::report_io::run(store, effect, &r) else {
            return;
        };
        let Some(effect) = roster::io::run(store, effect, &r) else {
            return;
        };
        match effect {
            RecordsEffect::LoadMetrics => load_metrics(store, &r),
            RecordsEffect::LoadMessages { id } => r.out(messages::io::load(store, &id)),
            RecordsEffect::RetryMessages { id } => {
                let (answer, wrote) =
                    messages::io::retry(store, &id, self.comms.as_ref(), actor, now);
                r.out(answer);
                r.out(messages::io::load(store, &id));
                if wrote {
                    r.reload_incident(store, &id);
                }
            }
            RecordsEffect::Poll {
                evidence,
                review,
                metrics,
                messages,
            } => {
                let version = store.data_version().ok();
                if version == self.last_version {
                    return;
                }
                self.last_version = version;
                if let Some(id) = evidence {
                    evidence::io::load(store, &id, &r);
                }
                if let Some(id) = review {
                    review::io::load(store, &id, &r);
                }
                if metrics {
                    load_metrics(store, &r);
                }
                if let Some(id) = messages {
                    r.out(messages::io::load(store, &id));
                }
            }
            // Every other effect is a screen's, run above.
            _ => {}
        }
    }
}

fn load_metrics(store: &Store, r: &Reply) {
    match metrics::io::load(store) {
        Ok(l) => r.out(l),
        Err(e) => r.fail(&e),
    }
}
