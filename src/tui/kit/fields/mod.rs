//! A dialog of a few labelled fields (one-line text inputs, texts of
//! several lines in the composer's editor, and choices),
//! used by the evidence, review, report and closing-gate screens: add
//! evidence, transfer, legal hold, export, edit a review field, add or drop
//! a corrective action, override the closing gate, write a report. Text is
//! edited with the console's own [`LineInput`] and drawn through
//! `display_safe`. Long edits are saved as drafts on the tick and restored
//! when the same dialog opens again. What the values mean is for the
//! code that opened it: it carries its own [`state::Purpose`] tag.
pub mod dialog;
pub mod lines;
pub mod state;
pub mod view;
