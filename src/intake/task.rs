//! The webhook listener as a task of a process that already runs a tokio
//! runtime (the console): started from `[listen]` in intake.toml, stopped
//! with the process, its state readable by the watcher view. The requests
//! go through the same `Listener` as `ingest --listen` (commit before the
//! reply, token, body limit, store work off the runtime's thread).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::config::IntakeConfig;
use super::listen::{Listener, serve};
use super::listen_config::read_token;
use crate::comms::CommsConfig;
use crate::domain::Playbook;

/// What the listener is doing, for a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenState {
    Listening(SocketAddr),
    /// It stopped on an error (the socket failed): the text says what.
    Failed(String),
}

/// A running listener; dropping it (or `stop`) ends it.
pub struct ListenerTask {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    state: Arc<Mutex<ListenState>>,
}

/// Who the listener's incidents are recorded as, and where.
pub struct TaskEnv {
    pub db: PathBuf,
    pub playbook: Playbook,
    pub actor: String,
    pub host: String,
    pub comms: CommsConfig,
}

impl ListenerTask {
    /// Starts the listener `config` asks for, on the current runtime (call
    /// from inside it). `Ok(None)`: none configured. An error says what
    /// stops it (token file, store, address in use) in one line.
    pub fn start(config: &IntakeConfig, env: TaskEnv) -> Result<Option<ListenerTask>, String> {
        let Some(listen) = &config.listen else {
            return Ok(None);
        };
        let token = read_token(&listen.token_file).map_err(|e| format!("{e:#}"))?;
        let mut listener = Listener::new(
            env.db,
            listen.format,
            config.mapping(listen.format).clone(),
            &token,
            env.playbook,
            env.actor,
            env.host,
            env.comms,
        );
        listener.max_body = listen.max_body;
        listener.open_store().map_err(|e| e.to_string())?;
        // Bound here, not in the task: an address in use is reported now.
        let socket = std::net::TcpListener::bind(listen.address)
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .and_then(tokio::net::TcpListener::from_std)
            .map_err(|e| format!("cannot listen on {}: {e}", listen.address))?;
        let bound = socket.local_addr().unwrap_or(listen.address);
        if !bound.ip().is_loopback() {
            tracing::warn!(%bound, "intake listener on a non-loopback address: plain HTTP, put TLS in front");
        }
        let state = Arc::new(Mutex::new(ListenState::Listening(bound)));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task_state = Arc::clone(&state);
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = serve(socket, Arc::new(listener), shutdown).await {
                tracing::error!("intake listener stopped: {e}");
                if let Ok(mut s) = task_state.lock() {
                    *s = ListenState::Failed(format!("stopped: {e}"));
                }
            }
        });
        tracing::info!(%bound, "intake listener running in the console");
        Ok(Some(ListenerTask {
            stop: Some(stop),
            state,
        }))
    }

    pub fn state(&self) -> ListenState {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Stops accepting; requests in flight finish on the runtime.
    pub fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for ListenerTask {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
