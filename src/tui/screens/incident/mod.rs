//! The incident view and its dialogs: the new-incident form, the severity
//! and status pickers, one-field edits, role assignment and the clock
//! corrections.

pub mod clocks;
pub mod dialogs;
pub mod dialogs_view;
pub mod glance;
pub mod handle;
pub mod report;
pub mod report_io;
pub mod sources;
pub mod state;
pub mod view;
