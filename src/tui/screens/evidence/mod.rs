//! The evidence screen's state and keys: an incident's items with their
//! hashes and verification state, the chain of custody of the selected
//! one, and dialogs to add, transfer, hold and export. Opening the screen
//! records one access per item in the chain of custody (a reload does not).
pub mod handle;
pub mod io;
pub mod state;
pub mod view;
