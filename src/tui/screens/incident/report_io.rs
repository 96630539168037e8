//! The incident report's store work, run on the store worker: the file
//! written (evidence included is recorded as an access).

use crate::report::file::write_report;
use crate::store::Store;
use crate::tui::action::Action;
use crate::tui::records::*;
use crate::tui::reply::Reply;

/// Runs this screen's effects; gives any other back.
pub fn run(store: &mut Store, effect: RecordsEffect, r: &Reply) -> Option<RecordsEffect> {
    match effect {
        RecordsEffect::WriteReport {
            id,
            format,
            path,
            policy,
        } => match write_report(store, &id, format, &path, &policy, r.actor, r.now) {
            Ok(w) => {
                r.done(
                    format!(
                        "{id}: {} report written to {}{}",
                        format.label(),
                        w.path.display(),
                        if w.replaced { " (replaced)" } else { "" }
                    ),
                    None,
                );
                if w.evidence_items > 0 {
                    r.reload_incident(store, &id);
                }
            }
            Err(e) => (r.send)(Action::StoreFailed(format!("report not written: {e}"))),
        },
        other => return Some(other),
    }
    None
}
