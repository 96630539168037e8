//! The conflict dialog: an edit the store refused because the same thing
//! was changed after the view it was made from. It shows who changed what
//! and when, theirs and mine, and lets the user keep mine (sent again over
//! theirs), take theirs, or merge a text by hand. It knows no screen: it
//! holds the refused effect and gives back the one to send.

pub mod state;
pub mod view;

#[cfg(test)]
mod tests;
