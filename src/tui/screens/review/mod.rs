//! The review screen's state and keys: the 5 whys (statement, up to five
//! whys, root cause), what was learned, corrective actions and the
//! "no action" reason, each edited in a dialog whose text is autosaved as a
//! draft and committed through the store. Also the closing gate's
//! refusal and the commander's override.
pub mod handle;
pub mod io;
pub mod state;
pub mod view;
