//! The outbox sink: one file per message or alert, written whole (never
//! half a message for a reader of the directory).

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::store::SentMessage;

/// `INC-2026-001-000042-customers.eml`
pub fn outbox_file_name(msg: &SentMessage, eml: bool) -> String {
    format!(
        "{}-{:06}-{}.{}",
        msg.incident_id,
        msg.id,
        msg.audience,
        if eml { "eml" } else { "txt" }
    )
}

/// Writes the file whole or not at all (temporary file, fsync, rename), so
/// a reader of the outbox never sees half a message. A retry rewrites the
/// same name.
pub(super) fn write_outbox(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let shown = dir.display();
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("outbox {shown}: cannot create: {e}"))?;
    let dest = dir.join(name);
    crate::newfile::write_atomic(&dest, bytes, crate::newfile::PRIVATE_FILE)
        .map_err(|e| format!("outbox {}: cannot write: {e}", dest.display()))?;
    Ok(dest)
}
