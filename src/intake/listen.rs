//! The webhook listener: Alertmanager and Grafana POST their notifications
//! here. Plain HTTP on a loopback (or explicitly given) address: TLS, when
//! the sender is on another host, is terminated in front (a reverse
//! proxy). Every request needs `Authorization: Bearer <token>`; the body is
//! capped; a 200 is sent only after the alerts are committed, so a sender
//! that retries on anything else loses nothing, and its retries are
//! deduplicated by the store.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::config::{Format, Mapping};
use super::ingest::{batch, decode_payload};
use crate::comms::{CommsConfig, SinkConfig, alerts};
use crate::domain::Playbook;
use crate::store::{IntakeOutcome, Store, intake_channels};

pub use super::listen_config::DEFAULT_MAX_BODY;

/// What the listener works with, shared by all requests.
pub struct Listener {
    pub db: PathBuf,
    pub format: Format,
    pub mapping: Mapping,
    /// SHA-256 of the token: compared in constant time, and both sides of
    /// the comparison have the same length whatever was sent.
    token: [u8; 32],
    pub max_body: usize,
    pub playbook: Playbook,
    pub actor: String,
    pub host: String,
    pub sinks: Vec<SinkConfig>,
    pub comms: CommsConfig,
    /// Test hook: wait this long between the commit and the reply.
    pub hold_after_commit: Option<Duration>,
    /// One connection, reopened after a failure; SQLite serializes
    /// writers anyway.
    store: Mutex<Option<Store>>,
}

impl Listener {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: PathBuf,
        format: Format,
        mapping: Mapping,
        token: &str,
        playbook: Playbook,
        actor: String,
        host: String,
        comms: CommsConfig,
    ) -> Listener {
        let sinks = comms.escalation_sinks(&db);
        Listener {
            token: Sha256::digest(token.as_bytes()).into(),
            db,
            format,
            mapping,
            max_body: DEFAULT_MAX_BODY,
            playbook,
            actor,
            host,
            sinks,
            comms,
            hold_after_commit: None,
            store: Mutex::new(None),
        }
    }

    /// Opens the store now, so a listener that cannot reach it fails at
    /// start rather than on the first alert.
    pub fn open_store(&self) -> crate::store::Result<()> {
        let s = Store::open(&self.db)?;
        if let Ok(mut slot) = self.store.lock() {
            *slot = Some(s);
        }
        Ok(())
    }

    fn authorized(&self, value: Option<&HeaderValue>) -> bool {
        let Some(v) = value.and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some((scheme, token)) = v.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return false;
        }
        let sent: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        sent.ct_eq(&self.token).into()
    }

    /// Decodes and commits one payload (blocking: call off the runtime).
    fn take(&self, body: &[u8]) -> Result<IntakeOutcome, Refusal> {
        let now = chrono::Utc::now();
        // Decoded before the store is taken: other requests wait only for
        // the commit.
        let decoded = decode_payload(self.format, &self.mapping, body);
        let mut slot = self
            .store
            .lock()
            .map_err(|_| Refusal::Unavailable("store lock poisoned".into()))?;
        if slot.is_none() {
            *slot = Some(Store::open(&self.db).map_err(|e| Refusal::Unavailable(e.to_string()))?);
        }
        let Some(store) = slot.as_mut() else {
            return Err(Refusal::Unavailable("no store".into()));
        };
        let raw = match decoded {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                if let Err(se) = store.record_intake_error(
                    &self.mapping.name,
                    intake_channels::LISTENER,
                    self.format.as_str(),
                    &msg,
                    now,
                ) {
                    tracing::warn!("recording a refused payload: {se}");
                }
                return Err(Refusal::Bad(msg));
            }
        };
        let names: Vec<String> = self.sinks.iter().map(|s| s.name.clone()).collect();
        let mut b = batch(self.format, &self.mapping, &raw, &names);
        b.channel = intake_channels::LISTENER.into();
        match store.commit_intake(&b, &self.playbook, &self.actor, &self.host, now) {
            Ok(out) => {
                if !out.commit.deliver.is_empty() {
                    // Pending deliveries are committed with the alerts:
                    // one not made here is retried by `warroom alerts`.
                    let _ = alerts::deliver_in_background(
                        &self.db,
                        out.commit.deliver.clone(),
                        self.sinks.clone(),
                        &self.comms,
                        &self.actor,
                        now,
                    );
                }
                Ok(out)
            }
            Err(e) => {
                // Reopen on the next request: the file may come back.
                *slot = None;
                Err(Refusal::Unavailable(e.to_string()))
            }
        }
    }
}

enum Refusal {
    Bad(String),
    Unavailable(String),
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, msg: &str) -> Response {
    reply(status, serde_json::json!({ "error": msg }))
}

async fn handle(State(l): State<Arc<Listener>>, req: Request) -> Response {
    if req.method() != Method::POST {
        let mut r = error(StatusCode::METHOD_NOT_ALLOWED, "POST alerts here");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    if !l.authorized(req.headers().get(header::AUTHORIZATION)) {
        let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let too_big = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is larger than {} bytes", l.max_body),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > l.max_body as u64) {
        return too_big();
    }
    let mut body = Vec::with_capacity(declared.map_or(8192, |n| n as usize));
    let mut stream = req.into_body().into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                if body.len() + c.len() > l.max_body {
                    return too_big();
                }
                body.extend_from_slice(&c);
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("reading the body: {e}")),
        }
    }
    let worker = Arc::clone(&l);
    let taken = tokio::task::spawn_blocking(move || worker.take(&body)).await;
    match taken {
        Ok(Ok(out)) => {
            if let Some(hold) = l.hold_after_commit {
                tokio::time::sleep(hold).await;
            }
            tracing::info!(
                opened = out.commit.opened.len(),
                attached = out.commit.attached,
                deduplicated = out.deduplicated,
                ended = out.ended,
                "alerts committed"
            );
            reply(
                StatusCode::OK,
                serde_json::json!({
                    "opened": out.commit.opened.len(),
                    "incidents": out.commit.opened.iter().filter_map(|o| o.incident.as_ref().map(|i| i.as_str().to_string())).collect::<Vec<_>>(),
                    "attached": out.commit.attached,
                    "deduplicated": out.deduplicated,
                    "ended": out.ended,
                }),
            )
        }
        Ok(Err(Refusal::Bad(msg))) => {
            tracing::warn!("payload refused: {}", crate::text::display_safe(&msg));
            error(StatusCode::UNPROCESSABLE_ENTITY, &msg)
        }
        Ok(Err(Refusal::Unavailable(msg))) => {
            tracing::error!("store unavailable: {msg}");
            let mut r = error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("the store is unavailable; nothing was recorded, retry: {msg}"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
        Err(e) => {
            tracing::error!("intake worker failed: {e}");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the alert could not be recorded; retry",
            )
        }
    }
}

/// Serves until `shutdown` completes; requests in flight finish first.
pub async fn serve(
    socket: tokio::net::TcpListener,
    listener: Arc<Listener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(handle).with_state(listener);
    axum::serve(socket, app)
        .with_graceful_shutdown(shutdown)
        .await
}
