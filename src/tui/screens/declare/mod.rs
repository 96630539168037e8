//! The new-incident form: a small screen of its own, drawn over whatever
//! was shown when `n` was pressed (so it floats). Its draft autosaves;
//! submitted, it closes and the shell keeps it until the store answers,
//! reopening it if the write fails.
pub mod handle;
pub mod state;
pub mod view;
