//! What knows no screen: text input and the gated editor, list cursor
//! arithmetic, layout and wrapping, the theme. Nothing here imports a
//! screen, the app or the views.

pub mod conflict;
pub mod cursor;
pub mod editor;
pub mod fields;
pub mod help;
pub mod input;
pub mod layout;
pub mod theme;
