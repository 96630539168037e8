//! `warroom ingest`: alerts from SIEM and monitoring tools become
//! detections. From a file or standard input (`--format`), or as a webhook
//! listener (`--listen`) for Alertmanager and Grafana.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;

use super::AppContext;
use super::watch::status_lines;
use crate::comms::alerts;
use crate::detect::watch::host_name;
use crate::domain::event::format_time;
use crate::intake::config::{Format, IntakeConfig, Mapping};
use crate::intake::decode::{self, DecodeError, RawAlert};
use crate::intake::ingest::{batch, decode_line};
use crate::intake::listen::{DEFAULT_MAX_BODY, Listener, serve};

use crate::text::display_safe;

/// Alerts committed per transaction when reading a file.
const CHUNK: usize = 500;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// What the input is
    #[arg(long, value_enum, default_value = "alertmanager")]
    pub format: Format,
    /// File to read ("-": standard input)
    #[arg(value_name = "FILE", conflicts_with = "listen")]
    pub file: Option<PathBuf>,
    /// Listen for webhook POSTs on this address [default: 127.0.0.1:9095]
    /// (plain HTTP: put a TLS-terminating proxy in front for other hosts)
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:9095")]
    pub listen: Option<SocketAddr>,
    /// File holding the bearer token senders must present (required with --listen)
    #[arg(long, value_name = "FILE", requires = "listen")]
    pub token_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes (larger: 413)
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY, requires = "listen")]
    pub max_body: usize,
    /// Show what each intake source has received, deduplicated, dropped
    /// and refused, and its last error; take nothing in
    #[arg(long, conflicts_with_all = ["listen", "file"])]
    pub stats: bool,
    /// With --stats: as JSON
    #[arg(long, requires = "stats")]
    pub json: bool,
}

pub fn run(ctx: &AppContext, args: IngestArgs, now: DateTime<Utc>) -> Result<ExitCode> {
    if args.stats {
        return stats(ctx, args.json);
    }
    let config = IntakeConfig::load(&ctx.config_dir)?;
    let mapping = config.mapping(args.format).clone();
    match args.listen {
        Some(addr) => listen(ctx, &args, addr, mapping),
        None => from_file(ctx, &args, mapping, now),
    }
}

fn from_file(
    ctx: &AppContext,
    args: &IngestArgs,
    mapping: Mapping,
    now: DateTime<Utc>,
) -> Result<ExitCode> {
    let path = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    let name = if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        bytes = std::fs::read(&path).with_context(|| format!("{name}: cannot read"))?;
    }
    let (alerts, problems) = decode_all(args.format, &mapping, &bytes, &name);
    let mut store = ctx.open_store()?;
    for p in &problems {
        eprintln!("error: {}", display_safe(p));
        tracing::warn!("{}", display_safe(p));
        store.record_intake_error(&mapping.name, p, now)?;
    }
    let sinks = ctx.settings.comms.escalation_sinks(store.path());
    let names: Vec<String> = sinks.iter().map(|s| s.name.clone()).collect();
    let host = host_name();
    let (mut opened, mut attached, mut dup, mut ended, mut dropped) = (0, 0, 0, 0, 0);
    let mut delivering = Vec::new();
    let stdout = std::io::stdout();
    for chunk in alerts.chunks(CHUNK) {
        let b = batch(args.format, &mapping, chunk, &names);
        dropped += b.dropped;
        let out = store.commit_intake(&b, &ctx.settings.playbook, &ctx.actor, &host, now)?;
        opened += out.commit.opened.len();
        attached += out.commit.attached;
        dup += out.deduplicated;
        ended += out.ended;
        let mut o = stdout.lock();
        for line in status_lines(&out.commit) {
            writeln!(o, "{}", display_safe(&line))?;
        }
        if !out.commit.deliver.is_empty()
            && let Some(h) = alerts::deliver_in_background(
                store.path(),
                out.commit.deliver.clone(),
                sinks.clone(),
                &ctx.settings.comms,
                &ctx.actor,
                now,
            )
        {
            delivering.push(h);
        }
    }
    for h in delivering {
        let _ = h.join();
    }
    writeln!(
        stdout.lock(),
        "{} alert(s): {opened} detection(s) opened, {attached} added to open ones, {dup} already recorded, {ended} resolution(s) recorded, {dropped} dropped, {} refused",
        alerts.len(),
        problems.len()
    )?;
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Every alert of the input, and a located reason for each part refused
/// (the rest is still taken: one bad line loses nothing else).
fn decode_all(
    format: Format,
    mapping: &Mapping,
    bytes: &[u8],
    name: &str,
) -> (Vec<RawAlert>, Vec<String>) {
    let mut alerts = Vec::new();
    let mut problems = Vec::new();
    match format {
        Format::Alertmanager => {
            // One payload, or several one after another (a log of
            // webhook bodies).
            let stream =
                serde_json::Deserializer::from_slice(bytes).into_iter::<serde_json::Value>();
            for (n, v) in stream.enumerate() {
                let decoded = v
                    .map_err(|e| DecodeError(format!("not JSON: {e}")))
                    .and_then(decode::alertmanager_value);
                match decoded {
                    Ok(a) => alerts.extend(a),
                    Err(e) => {
                        problems.push(format!("{name}: payload {}: {e}", n + 1));
                        // A stream that is not JSON cannot be resynchronized.
                        break;
                    }
                }
            }
        }
        Format::Wazuh | Format::Json => {
            let text = String::from_utf8_lossy(bytes);
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match decode_line(format, mapping, line) {
                    Ok(a) => alerts.push(a),
                    Err(e) => problems.push(format!("{name}:{}: {e}", n + 1)),
                }
            }
        }
    }
    (alerts, problems)
}

fn read_token(path: &Path) -> Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta =
        std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.permissions().mode() & 0o004 != 0 {
        anyhow::bail!(
            "{}: the token file is readable by every user; make it private (chmod 600)",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        anyhow::bail!("{}: the token file is empty", path.display());
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        anyhow::bail!("{}: the token must be one word on one line", path.display());
    }
    Ok(token.to_string())
}

fn listen(
    ctx: &AppContext,
    args: &IngestArgs,
    addr: SocketAddr,
    mapping: Mapping,
) -> Result<ExitCode> {
    let Some(token_file) = &args.token_file else {
        anyhow::bail!("--listen needs --token-file FILE (senders must present its token)");
    };
    let token = read_token(token_file)?;
    let mut listener = Listener::new(
        ctx.db.clone(),
        args.format,
        mapping,
        &token,
        ctx.settings.playbook.clone(),
        ctx.actor.clone(),
        host_name(),
        ctx.settings.comms.clone(),
    );
    listener.max_body = args.max_body.max(1024);
    // Test hook: hold each reply after its commit, so a test can kill the
    // process between the two.
    listener.hold_after_commit = std::env::var("WARROOM_TEST_INTAKE_HOLD_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis);
    listener.open_store().map_err(anyhow::Error::new)?;
    let listener = Arc::new(listener);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        let socket = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let bound = socket.local_addr().unwrap_or(addr);
        if !bound.ip().is_loopback() {
            tracing::warn!(%bound, "listening on a non-loopback address: plain HTTP, put TLS in front");
            eprintln!(
                "warning: listening on {bound}, which is not loopback: this is plain HTTP; terminate TLS in front"
            );
        }
        tracing::info!(%bound, "intake listening");
        println!("listening on {bound}");
        let _ = std::io::stdout().flush();
        serve(socket, listener, stop_signal()).await.context("serving")
    })?;
    tracing::info!("intake listener stopped");
    Ok(ExitCode::SUCCESS)
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without handlers the default action (exit) still stops us.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn stats(ctx: &AppContext, as_json: bool) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let rows = store.intake_stats()?;
    let mut out = std::io::stdout().lock();
    if as_json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name,
                    "received": r.received,
                    "deduplicated": r.deduplicated,
                    "dropped": r.dropped,
                    "refused": r.refused,
                    "last_received_at": r.last_received_at.map(format_time),
                    "last_error": r.last_error,
                    "last_error_at": r.last_error_at.map(format_time),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        writeln!(out, "no alerts taken in yet")?;
    }
    for r in rows {
        let line = format!(
            "{}: {} received, {} deduplicated, {} dropped, {} refused; last {}{}",
            r.name,
            r.received,
            r.deduplicated,
            r.dropped,
            r.refused,
            r.last_received_at.map_or("never".into(), format_time),
            r.last_error
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        );
        writeln!(out, "{}", display_safe(&line))?;
    }
    Ok(ExitCode::SUCCESS)
}
