//! The incident view and its dialogs: the severity and status pickers,
//! one-field edits, role assignment, the impact and customer-facing
//! summary, the clock corrections and the report.

pub mod clocks;
pub mod dialogs;
pub mod dialogs_view;
pub mod edits;
pub mod glance;
pub mod handle;
pub mod report;
pub mod report_io;
pub mod sources;
pub mod state;
pub mod view;
