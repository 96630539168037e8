//! `warroom ingest`: alerts from SIEM and monitoring tools become
//! detections. From a file or standard input (`--format`), or as a webhook
//! listener (`--listen`) for Alertmanager and Grafana.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;

use super::AppContext;
use super::watch::status_lines;
use crate::comms::{SinkConfig, alerts};
use crate::detect::watch::host_name;
use crate::domain::event::format_time;
use crate::intake::config::{Format, IntakeConfig, Mapping};
use crate::intake::decode::{self, DecodeError, RawAlert};
use crate::intake::ingest::{batch, decode_line};
use crate::intake::listen::{DEFAULT_MAX_BODY, Listener, serve};
use crate::store::{Store, intake_channels};

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
    let (name, input): (String, Box<dyn BufRead>) = if path == Path::new("-") {
        ("<stdin>".into(), Box::new(std::io::stdin().lock()))
    } else {
        let name = path.display().to_string();
        let f = std::fs::File::open(&path).with_context(|| format!("{name}: cannot read"))?;
        (name, Box::new(std::io::BufReader::new(f)))
    };
    let store = ctx.open_store()?;
    let sinks = ctx.settings.comms.escalation_sinks(store.path());
    let mut taker = Taker {
        ctx,
        format: args.format,
        names: sinks.iter().map(|s| s.name.clone()).collect(),
        sinks,
        mapping,
        store,
        host: host_name(),
        now,
        pending: Vec::with_capacity(CHUNK),
        delivering: Vec::new(),
        totals: Totals::default(),
    };
    read_input(&mut taker, input, &name)?;
    taker.flush()?;
    for h in std::mem::take(&mut taker.delivering) {
        let _ = h.join();
    }
    let t = &taker.totals;
    writeln!(
        std::io::stdout().lock(),
        "{} alert(s): {} detection(s) opened, {} added to open ones, {} already recorded, {} resolution(s) recorded, {} dropped, {} refused",
        t.alerts,
        t.opened,
        t.attached,
        t.deduplicated,
        t.ended,
        t.dropped,
        t.refused
    )?;
    Ok(if t.refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Debug, Default)]
struct Totals {
    alerts: u64,
    opened: usize,
    attached: u64,
    deduplicated: u64,
    ended: u64,
    dropped: u64,
    refused: u64,
}

/// Commits alerts as they are read, a chunk per transaction, so a large
/// `alerts.json` is never held in memory whole.
struct Taker<'a> {
    ctx: &'a AppContext,
    format: Format,
    mapping: Mapping,
    store: Store,
    sinks: Vec<SinkConfig>,
    names: Vec<String>,
    host: String,
    now: DateTime<Utc>,
    pending: Vec<RawAlert>,
    delivering: Vec<std::thread::JoinHandle<()>>,
    totals: Totals,
}

impl Taker<'_> {
    fn push(&mut self, a: RawAlert) -> Result<()> {
        self.totals.alerts += 1;
        self.pending.push(a);
        if self.pending.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// A part of the input refused: said on stderr, counted, recorded as
    /// the source's last error; the rest is still taken.
    fn refuse(&mut self, problem: String) -> Result<()> {
        eprintln!("error: {}", display_safe(&problem));
        tracing::warn!("{}", display_safe(&problem));
        self.totals.refused += 1;
        self.store.record_intake_error(
            &self.mapping.name,
            intake_channels::INGEST,
            self.format.as_str(),
            &problem,
            self.now,
        )?;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut b = batch(self.format, &self.mapping, &self.pending, &self.names);
        b.channel = intake_channels::INGEST.into();
        self.pending.clear();
        let settings = &self.ctx.settings;
        let out = self.store.commit_intake(
            &b,
            &settings.playbook,
            &self.ctx.actor,
            &self.host,
            self.now,
        )?;
        let t = &mut self.totals;
        t.dropped += b.dropped;
        t.opened += out.commit.opened.len();
        t.attached += out.commit.attached;
        t.deduplicated += out.deduplicated;
        t.ended += out.ended;
        let mut o = std::io::stdout().lock();
        for line in status_lines(&out.commit) {
            writeln!(o, "{}", display_safe(&line))?;
        }
        if !out.commit.deliver.is_empty()
            && let Some(h) = alerts::deliver_in_background(
                self.store.path(),
                out.commit.deliver.clone(),
                self.sinks.clone(),
                &settings.comms,
                &self.ctx.actor,
                self.now,
            )
        {
            self.delivering.push(h);
        }
        Ok(())
    }
}

/// Reads the input, handing each alert to `taker` and each refused part
/// with where it is (one bad line loses nothing else).
fn read_input(taker: &mut Taker<'_>, mut input: Box<dyn BufRead>, name: &str) -> Result<()> {
    match taker.format {
        Format::Alertmanager => {
            // One payload, or several one after another (a log of webhook
            // bodies).
            let stream =
                serde_json::Deserializer::from_reader(input).into_iter::<serde_json::Value>();
            for (n, v) in stream.enumerate() {
                let decoded = v
                    .map_err(|e| DecodeError(format!("not JSON: {e}")))
                    .and_then(decode::alertmanager_value);
                match decoded {
                    Ok(alerts) => {
                        for a in alerts {
                            taker.push(a)?;
                        }
                    }
                    Err(e) => {
                        // A stream that is not JSON cannot be resynchronized.
                        return taker.refuse(format!("{name}: payload {}: {e}", n + 1));
                    }
                }
            }
        }
        Format::Wazuh | Format::Json => {
            let mut buf = Vec::new();
            let mut n = 0u64;
            loop {
                buf.clear();
                let read = input
                    .read_until(b'\n', &mut buf)
                    .with_context(|| format!("{name}: reading"))?;
                if read == 0 {
                    break;
                }
                n += 1;
                // Invalid UTF-8 is replaced, never a reason to stop.
                let line = String::from_utf8_lossy(&buf);
                if line.trim().is_empty() {
                    continue;
                }
                match decode_line(taker.format, &taker.mapping, &line) {
                    Ok(a) => taker.push(a)?,
                    Err(e) => taker.refuse(format!("{name}:{n}: {e}"))?,
                }
            }
        }
    }
    Ok(())
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
    let token = crate::intake::listen_config::read_token(token_file)?;
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
    let ways = store.intake_channel_stats()?;
    let mut out = std::io::stdout().lock();
    if as_json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let channels: Vec<serde_json::Value> = ways
                    .iter()
                    .filter(|c| c.name == r.name)
                    .map(|c| {
                        serde_json::json!({
                            "channel": c.channel,
                            "format": c.format,
                            "received": c.received,
                            "deduplicated": c.deduplicated,
                            "dropped": c.dropped,
                            "refused": c.refused,
                            "last_received_at": c.last_received_at.map(format_time),
                            "last_error": c.last_error,
                            "last_error_at": c.last_error_at.map(format_time),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "name": r.name,
                    "received": r.received,
                    "deduplicated": r.deduplicated,
                    "dropped": r.dropped,
                    "refused": r.refused,
                    "last_received_at": r.last_received_at.map(format_time),
                    "last_error": r.last_error,
                    "last_error_at": r.last_error_at.map(format_time),
                    "channels": channels,
                })
            })
            .collect();
        writeln!(out, "{}", crate::text::json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        writeln!(out, "no alerts taken in yet")?;
    }
    let counts = |received, deduplicated, dropped, refused, last: Option<DateTime<Utc>>| {
        format!(
            "{received} received, {deduplicated} deduplicated, {dropped} dropped, {refused} refused; last {}",
            last.map_or("never".into(), format_time)
        )
    };
    let error = |e: &Option<String>, at: Option<DateTime<Utc>>| {
        e.as_ref()
            .map(|e| {
                let at = at
                    .map(|t| format!(" at {}", format_time(t)))
                    .unwrap_or_default();
                format!("; last error{at}: {e}")
            })
            .unwrap_or_default()
    };
    for r in rows {
        let line = format!(
            "{}: {}{}",
            r.name,
            counts(
                r.received,
                r.deduplicated,
                r.dropped,
                r.refused,
                r.last_received_at
            ),
            error(&r.last_error, r.last_error_at)
        );
        writeln!(out, "{}", display_safe(&line))?;
        for c in ways.iter().filter(|c| c.name == r.name) {
            let line = format!(
                "  via {}: {}{}",
                c.channel,
                counts(
                    c.received,
                    c.deduplicated,
                    c.dropped,
                    c.refused,
                    c.last_received_at
                ),
                error(&c.last_error, c.last_error_at)
            );
            writeln!(out, "{}", display_safe(&line))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
