//! The review screen's store work, run on the store worker: the review,
//! its corrective actions, closing through the gate, and which resolved
//! incidents' reviews are complete (for the board).

use crate::domain::{IncidentId, Status};
use crate::store::{IncidentPatch, Store, StoreError};
use crate::tui::records::*;
use crate::tui::reply::Reply;

/// Runs this screen's effects; gives any other back.
pub fn run(store: &mut Store, effect: RecordsEffect, r: &Reply) -> Option<RecordsEffect> {
    match effect {
        RecordsEffect::LoadReview { id } => load(store, &id, r),
        RecordsEffect::UpdateReview { id, patch, draft } => {
            match store.update_review_based(&id, &patch, r.base, r.actor, r.now) {
                Ok(_) => {
                    r.drop_draft(store, draft.as_deref());
                    r.done(format!("{id}: review saved"), draft);
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                }
                Err(StoreError::Conflict(c)) => {
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                    r.conflict(c, RecordsEffect::UpdateReview { id, patch, draft });
                }
                Err(e) => {
                    r.kept(&e, draft.is_some());
                    load(store, &id, r);
                }
            }
        }
        RecordsEffect::AddAction { id, new, draft } => {
            match store.add_action(&id, &new, r.actor, r.now) {
                Ok(a) => {
                    r.drop_draft(store, draft.as_deref());
                    r.done(format!("{id}: corrective action #{} added", a.id), draft);
                    load(store, &id, r);
                    r.reload_incident(store, &id);
                }
                Err(e) => {
                    r.kept(&e, draft.is_some());
                    load(store, &id, r);
                }
            }
        }
        RecordsEffect::SetActionStatus {
            id,
            action,
            status,
            reason,
        } => {
            let set = store.set_action_status_based(
                &id,
                action,
                status,
                reason.as_deref(),
                r.base,
                r.actor,
                r.now,
            );
            match set {
                Ok(a) => {
                    r.done(
                        format!("{id}: corrective action #{} is {}", a.id, a.status),
                        None,
                    );
                    r.reload_incident(store, &id);
                }
                Err(StoreError::Conflict(c)) => {
                    r.reload_incident(store, &id);
                    let mine = RecordsEffect::SetActionStatus {
                        id: id.clone(),
                        action,
                        status,
                        reason,
                    };
                    r.conflict(c, mine);
                }
                Err(e) => r.fail(&e),
            }
            load(store, &id, r);
        }
        RecordsEffect::Close {
            id,
            override_reason,
        } => {
            // Which gate an override passes, named before the close.
            let overridden = override_reason
                .is_some()
                .then(|| store.close_blockers(&id).ok())
                .flatten()
                .filter(|b| !b.is_clear())
                .map(|b| b.gate());
            let patch = IncidentPatch {
                status: Some(Status::Closed),
                close_override: override_reason.clone(),
                ..IncidentPatch::default()
            };
            match store.update_incident_based(&id, &patch, r.base, r.actor, r.now) {
                Ok(_) => r.out(RecordsLoaded::Closed {
                    id: id.clone(),
                    message: if let Some(gate) = overridden {
                        format!("{id} closed: {gate} overridden (recorded in the timeline)")
                    } else {
                        format!("{id} closed")
                    },
                }),
                Err(StoreError::Conflict(c)) => {
                    let mine = RecordsEffect::Close {
                        id: id.clone(),
                        override_reason,
                    };
                    r.conflict(c, mine);
                }
                Err(e) => {
                    // Refused by the gate (an incomplete review or open
                    // checklist items): offer the override; anything else
                    // is an error.
                    let gate = matches!(e, StoreError::Invalid(_))
                        && store.close_blockers(&id).is_ok_and(|b| !b.is_clear());
                    let message = e.to_string();
                    r.out(if gate {
                        RecordsLoaded::GateRefused {
                            id: id.clone(),
                            message,
                        }
                    } else {
                        RecordsLoaded::CloseFailed {
                            id: id.clone(),
                            message,
                        }
                    });
                }
            }
            // Either way, show the status the store holds.
            r.reload_incident(store, &id);
        }
        RecordsEffect::LoadReviewState => match store.resolved_complete_reviews() {
            Ok(set) => r.out(RecordsLoaded::ReviewsComplete(set)),
            Err(e) => tracing::warn!("review state not loaded: {e}"),
        },
        other => return Some(other),
    }
    None
}

/// The incident's review.
pub fn load(store: &Store, id: &IncidentId, r: &Reply) {
    match store.review(id) {
        Ok(review) => r.out(RecordsLoaded::Review {
            id: id.clone(),
            review,
        }),
        Err(e) => r.fail(&e),
    }
}
