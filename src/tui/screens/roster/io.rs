//! The roster screen's store work, run on the store worker: reading the
//! roster when another process changed it, and saving an entry based on
//! the one shown. The roster read goes to the whole console (the role
//! pickers use it too) before the screen's own answer.

use super::work::{RosterEffect, RosterLoaded};
use crate::store::{Store, StoreError};
use crate::tui::action::Action;
use crate::tui::records::{RecordsEffect, RecordsLoaded};
use crate::tui::reply::Reply;

/// Runs a roster effect; hands any other back.
pub fn run(store: &mut Store, effect: RecordsEffect, r: &Reply) -> Option<RecordsEffect> {
    let RecordsEffect::Roster(e) = effect else {
        return Some(effect);
    };
    match e {
        RosterEffect::Load { since } => {
            let version = store.data_version().ok();
            if since.is_none() || version != since {
                read(store, version, r);
            }
        }
        RosterEffect::Save {
            person,
            based_on,
            typed,
        } => {
            let answer = match store.upsert_person_based(&person, based_on.as_ref(), r.actor, r.now)
            {
                Ok(p) => RosterLoaded::Saved {
                    handle: p.handle,
                    typed,
                },
                Err(StoreError::Conflict(c)) => {
                    let current = store
                        .people()
                        .ok()
                        .and_then(|all| all.into_iter().find(|p| p.handle == person.handle));
                    RosterLoaded::Conflict {
                        message: StoreError::Conflict(c).to_string(),
                        current,
                        typed,
                    }
                }
                Err(e) => RosterLoaded::Failed {
                    message: e.to_string(),
                    typed,
                },
            };
            // Saved or refused, the roster as it is now comes first.
            read(store, store.data_version().ok(), r);
            r.out(RecordsLoaded::Roster(answer));
        }
    }
    None
}

fn read(store: &Store, version: Option<i64>, r: &Reply) {
    match store.people() {
        Ok(people) => {
            (r.send)(Action::PeopleLoaded(people));
            r.out(RecordsLoaded::Roster(RosterLoaded::Read { version }));
        }
        Err(e) => r.fail(&e),
    }
}
