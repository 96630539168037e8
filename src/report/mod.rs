//! Turning what the store holds into documents: the stable JSON shapes, the
//! incident report (JSON, Markdown, HTML) and metrics.

pub mod block;
pub mod file;
pub mod html;
pub mod json;
pub mod markdown;
pub mod metrics;
pub mod model;
pub mod outline;
pub mod records;
