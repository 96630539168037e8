//! The roster: the people roles can be handed to (handle, name, contact,
//! the roles they may hold, on call), listed from the console's loaded
//! roster; `a` adds, `e`/Enter edits in a field dialog, `o` puts the
//! selected person on or off call. Every save is based on the entry as
//! shown (`Store::upsert_person_based`): a change someone else made
//! meanwhile is refused, the roster reloads, and the dialog comes back
//! with the typed values and who changed the entry.
pub mod handle;
pub mod io;
pub mod state;
pub mod view;
pub mod work;

#[cfg(test)]
mod tests;
