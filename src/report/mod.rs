//! Turning what the store holds into documents: the stable JSON shapes (and,
//! later, Markdown and HTML reports and metrics).

pub mod json;
