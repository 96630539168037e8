//! Logging with `tracing`, always to a file: the console owns the terminal,
//! and a script reading our stdout wants only our output.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Logs to `$WARROOM_LOG` or the XDG state directory, at the level in
/// `$WARROOM_LOG_LEVEL` (default `info`). If the file cannot be opened the
/// program runs without a log rather than failing.
pub fn init() {
    let path = std::env::var_os("WARROOM_LOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(crate::config::default_log_path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
    else {
        return;
    };
    let filter =
        EnvFilter::try_from_env("WARROOM_LOG_LEVEL").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
}
