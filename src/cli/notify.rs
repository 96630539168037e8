//! `warroom notify ...` and `warroom alerts`: the comms room headless. The
//! same path as the console's composer: templates render the draft,
//! `comms::sinks::send` records and delivers, `comms::alerts::check` raises.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::{AppContext, Failure, human_time, print_json, stdout};
use crate::comms::{self, Audience, MessageFields, Templates, alerts, sinks};
use crate::domain::IncidentId;
use crate::store::{NewMessage, SentMessage};
use crate::text::{display_safe, display_safe_lines};

#[derive(Debug, Subcommand)]
pub enum NotifyCmd {
    /// Print a message rendered from a template, to edit and then send
    Draft {
        id: IncidentId,
        /// Template name (`notify templates` lists them) [default: the audience's]
        #[arg(long, short)]
        template: Option<String>,
        /// customers, internal, executives or regulator
        #[arg(long)]
        audience: Option<Audience>,
    },
    /// Send a prepared message: recorded in the timeline (with its hash),
    /// clocks met, then delivered through the sinks
    Send(SendArgs),
    /// What was sent for an incident: when, to whom, delivery state
    List {
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
    /// Deliver again what failed (or was left pending by a crash)
    Retry {
        id: IncidentId,
        #[arg(long)]
        json: bool,
    },
    /// The message templates: shipped ones and the user's overrides
    Templates {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SendArgs {
    pub id: IncidentId,
    /// customers, internal, executives or regulator
    #[arg(long)]
    pub audience: Audience,
    /// The message text (UTF-8); `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// Deliver through this sink (repeatable) [default: the audience's default sinks]
    #[arg(long = "sink", value_name = "NAME")]
    pub sinks: Vec<String>,
    /// The template the text started from, for the record
    #[arg(long)]
    pub template: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Print the alerts as JSON
    #[arg(long)]
    pub json: bool,
    /// Do not show desktop notifications
    #[arg(long)]
    pub no_desktop: bool,
    /// List the alerts already raised (by anyone) instead of checking
    #[arg(long)]
    pub history: bool,
    /// With --history: only alerts raised at or after this time (RFC 3339)
    #[arg(long, value_name = "TIME", requires = "history")]
    pub since: Option<DateTime<Utc>>,
}

pub fn run(ctx: &AppContext, cmd: NotifyCmd, now: DateTime<Utc>) -> Result<ExitCode, Failure> {
    match cmd {
        NotifyCmd::Draft {
            id,
            template,
            audience,
        } => draft(ctx, &id, template, audience, now),
        NotifyCmd::Send(a) => send(ctx, a, now),
        NotifyCmd::List { id, json } => list(ctx, &id, json),
        NotifyCmd::Retry { id, json } => retry(ctx, &id, json, now),
        NotifyCmd::Templates { json } => {
            let t = templates(ctx)?;
            if json {
                print_json(&t.list())?;
            } else {
                let mut out = stdout();
                for i in t.list() {
                    writeln!(
                        out,
                        "{:<12} {:<11} {:<44} {}",
                        display_safe(&i.name),
                        i.audience.as_str(),
                        display_safe(&i.title),
                        display_safe(&i.path)
                    )
                    .map_err(anyhow::Error::from)?;
                }
                out.flush().map_err(anyhow::Error::from)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn templates(ctx: &AppContext) -> Result<Templates, Failure> {
    Templates::load(&ctx.settings.comms.templates_dir)
        .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))
}

fn draft(
    ctx: &AppContext,
    id: &IncidentId,
    template: Option<String>,
    audience: Option<Audience>,
    now: DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    let t = templates(ctx)?;
    let name = match (template, audience) {
        (Some(name), _) => name,
        (None, Some(a)) => t
            .for_audience(a)
            .map(|i| i.name.clone())
            .ok_or_else(|| Failure::Usage(format!("no template for the {a} audience")))?,
        (None, None) => {
            return Err(Failure::Usage(
                "name a --template (see `warroom notify templates`) or an --audience".into(),
            ));
        }
    };
    let store = ctx.open_store()?;
    let detail = store.detail(id, None)?;
    let fields = MessageFields::for_config(&detail, &ctx.settings.policy, &ctx.settings.comms, now);
    let text = t.render(&name, &fields).map_err(|e| {
        if e.unknown_template {
            Failure::Usage(e.to_string())
        } else {
            Failure::Runtime(anyhow::anyhow!("{e}"))
        }
    })?;
    let mut out = stdout();
    let lines = display_safe_lines(&text);
    let n = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        // Keep the text's own last line end (or lack of one).
        if i + 1 < n {
            writeln!(out, "{line}").map_err(anyhow::Error::from)?;
        } else {
            write!(out, "{line}").map_err(anyhow::Error::from)?;
        }
    }
    out.flush().map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}

fn read_message(file: &std::path::Path) -> Result<String, Failure> {
    let shown = if file.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        file.display().to_string()
    };
    let mut bytes = Vec::new();
    let limit = crate::store::MAX_MESSAGE_BYTES as u64 + 1;
    let read = if file.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| Failure::Runtime(anyhow::anyhow!("{shown}: cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Failure::Usage(format!(
            "{shown}: not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Writes an OSC 52 sequence to the user's terminal: standard output when
/// it is one, else the controlling terminal. Never into a pipe or file.
fn write_to_terminal(seq: &str) -> std::io::Result<()> {
    let out = std::io::stdout();
    if out.is_terminal() {
        let mut out = out.lock();
        out.write_all(seq.as_bytes())?;
        return out.flush();
    }
    let mut tty = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/tty")
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("no terminal to copy to (standard output is not one, /dev/tty: {e})"),
            )
        })?;
    tty.write_all(seq.as_bytes())?;
    tty.flush()
}

fn send(ctx: &AppContext, a: SendArgs, now: DateTime<Utc>) -> Result<ExitCode, Failure> {
    let body = read_message(&a.file)?;
    let mut store = ctx.open_store()?;
    if a.audience == Audience::Customers
        && let Some(w) = comms::leak::warning(&comms::leak::quotes_in(&store, &a.id, &body)?)
    {
        eprintln!("warning: {w}");
    }
    let new = NewMessage {
        incident_id: a.id.clone(),
        audience: a.audience,
        template: a.template,
        body,
        author: ctx.actor.clone(),
    };
    let outcome = sinks::send(
        &mut store,
        &new,
        &a.sinks,
        &ctx.settings.comms,
        &ctx.db,
        now,
        &mut write_to_terminal,
    )?;
    let m = &outcome.message;
    if a.json {
        print_json(&outcome)?;
    } else {
        let mut out = stdout();
        let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(anyhow::Error::from);
        w(
            &mut out,
            format!(
                "{}: message #{} to {} recorded ({} bytes, sha256 {})",
                m.incident_id,
                m.id,
                m.audience,
                m.body.len(),
                short_hash(&m.sha256)
            ),
        )?;
        if outcome.results.is_empty() {
            w(&mut out, "  no sink selected: recorded only".into())?;
        }
        for r in outcome.retried.iter().chain(&outcome.results) {
            let again = if r.message_id == m.id {
                String::new()
            } else {
                format!(" (retry of message #{})", r.message_id)
            };
            w(
                &mut out,
                format!(
                    "  {:<12} {:<10} {}{again}",
                    display_safe(&r.sink),
                    sinks::result_state(r, &ctx.settings.comms, &ctx.db),
                    display_safe(&r.detail)
                ),
            )?;
        }
        out.flush().map_err(anyhow::Error::from)?;
    }
    let (summary, attention) = comms::reach::sent_summary(m);
    if attention && outcome.failures() == 0 {
        eprintln!("warning: {summary}");
    }
    let failed = outcome.failures();
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} deliveries failed; message #{} is recorded and stays retryable (warroom notify retry {})",
            outcome.results.len(),
            m.id,
            m.incident_id
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn list(ctx: &AppContext, id: &IncidentId, as_json: bool) -> Result<ExitCode, Failure> {
    let store = ctx.open_store()?;
    let messages = store.messages(id)?;
    if as_json {
        print_json(&messages)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = stdout();
    let mut put = |s: String| writeln!(out, "{s}").map_err(anyhow::Error::from);
    if messages.is_empty() {
        put(format!("{id}: no messages sent"))?;
    }
    for m in &messages {
        put(message_line(m))?;
        for d in &m.deliveries {
            let state = d.state_text();
            put(format!(
                "      {:<12} {:<10} {} attempt(s), {}  {}",
                display_safe(&d.sink),
                state,
                d.attempts,
                human_time(d.updated_at),
                display_safe(&d.detail)
            ))?;
        }
    }
    out.flush().map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}

fn message_line(m: &SentMessage) -> String {
    format!(
        "#{:<4} {}  {:<10} by {:<12} {:>6} bytes  sha256 {}  {}",
        m.id,
        human_time(m.sent_at),
        m.audience.as_str(),
        display_safe(&m.author),
        m.body.len(),
        short_hash(&m.sha256),
        comms::reach::message_state(m)
    )
}

fn retry(
    ctx: &AppContext,
    id: &IncidentId,
    as_json: bool,
    now: DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    let mut store = ctx.open_store()?;
    // Name a missing incident rather than report nothing to retry.
    store.incident(id)?;
    let results = sinks::retry(
        &mut store,
        Some(id),
        &ctx.settings.comms,
        &ctx.db,
        &ctx.actor,
        now,
        &mut write_to_terminal,
    )?;
    let escalations = sinks::retry_alerts(
        &mut store,
        Some(id),
        &ctx.settings.comms,
        &ctx.db,
        &ctx.actor,
        now,
    )?;
    if as_json {
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum Retried<'a> {
            Message(&'a sinks::SinkResult),
            Escalation(&'a sinks::AlertResult),
        }
        let all: Vec<Retried> = results
            .iter()
            .map(Retried::Message)
            .chain(escalations.iter().map(Retried::Escalation))
            .collect();
        print_json(&all)?;
    } else if results.is_empty() && escalations.is_empty() {
        println!("{id}: nothing to retry");
    } else {
        for r in &results {
            println!(
                "  message #{:<4} {:<12} {:<10} {}",
                r.message_id,
                display_safe(&r.sink),
                sinks::result_state(r, &ctx.settings.comms, &ctx.db),
                display_safe(&r.detail)
            );
        }
        for r in &escalations {
            println!(
                "  {} {:<12} {:<10} {}",
                r.describe(),
                display_safe(&r.sink),
                if r.delivered { "delivered" } else { "FAILED" },
                display_safe(&r.detail)
            );
        }
    }
    let total = results.len() + escalations.len();
    let failed = results.iter().filter(|r| !r.delivered).count()
        + escalations.iter().filter(|r| !r.delivered).count();
    if failed > 0 {
        eprintln!("error: {failed} of {total} deliveries failed again; they stay retryable");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `warroom alerts`: raises the alerts due now (each once across every
/// process), prints those this run raised and shows them on the desktop.
pub fn alerts(ctx: &AppContext, a: AlertsArgs, now: DateTime<Utc>) -> Result<ExitCode, Failure> {
    let mut store = ctx.open_store()?;
    let (list, desktop, mut escalations) = if a.history {
        let since = a.since.unwrap_or(DateTime::<Utc>::MIN_UTC);
        (store.alerts_since(since)?, false, Vec::new())
    } else {
        let checked = alerts::check_and_deliver(
            &mut store,
            &ctx.settings.policy,
            &ctx.settings.comms,
            &ctx.actor,
            now,
        )?;
        (checked.raised, !a.no_desktop, checked.escalations)
    };
    // Escalations that failed earlier (or were abandoned by a crash) are
    // retried by every check, after the new ones.
    let retried = if a.history {
        Vec::new()
    } else {
        sinks::retry_alerts(
            &mut store,
            None,
            &ctx.settings.comms,
            &ctx.db,
            &ctx.actor,
            now,
        )?
    };
    let delivered_with = |key: &str| -> Vec<&sinks::AlertResult> {
        escalations.iter().filter(|e| e.alert_key == key).collect()
    };
    // Printed first: a slow desktop never holds up the record on stdout.
    if a.json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            alert: &'a crate::store::NewAlert,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            deliveries: Vec<&'a sinks::AlertResult>,
        }
        let shown: Vec<Shown> = list
            .iter()
            .map(|al| Shown {
                alert: al,
                deliveries: delivered_with(&al.key),
            })
            .collect();
        print_json(&shown)?;
    } else {
        let mut out = stdout();
        for al in &list {
            let to = al
                .recipient
                .as_deref()
                .map_or(String::new(), |r| format!(" -> {}", display_safe(r)));
            let via: Vec<String> = delivered_with(&al.key)
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        display_safe(&e.sink),
                        if e.delivered { "delivered" } else { "FAILED" }
                    )
                })
                .collect();
            let via = if via.is_empty() {
                String::new()
            } else {
                format!(" [{}]", via.join(", "))
            };
            writeln!(
                out,
                "{}  {:<15} {}{to}{via}",
                human_time(al.raised_at),
                al.kind,
                display_safe(&al.text)
            )
            .context("writing alerts")?;
        }
        for r in &retried {
            writeln!(
                out,
                "  {} via {}: {} (retry) {}",
                r.describe(),
                display_safe(&r.sink),
                if r.delivered { "delivered" } else { "FAILED" },
                display_safe(&r.detail)
            )
            .context("writing alerts")?;
        }
        out.flush().context("writing alerts")?;
    }
    escalations.extend(retried);
    let failed: Vec<&sinks::AlertResult> = escalations.iter().filter(|e| !e.delivered).collect();
    if desktop {
        for al in &list {
            let summary = format!("warroom: {}", kind_title(&al.kind));
            match comms::desktop::notify_with(&summary, &al.text, alerts::is_urgent(&al.kind)) {
                Ok(true) => tracing::debug!(key = %al.key, "desktop notification shown"),
                Ok(false) => {}
                Err(e) => tracing::warn!(key = %al.key, "{e}"),
            }
        }
    }
    if let Some(first) = failed.first() {
        let what = if failed.iter().all(|f| f.kind == alerts::ESCALATION) {
            "escalation"
        } else {
            "alert"
        };
        eprintln!(
            "error: {} {what} deliveries failed (first: to {} via {}: {}); they stay retryable (warroom alerts, warroom notify retry INCIDENT)",
            failed.len(),
            display_safe(&first.recipient),
            display_safe(&first.sink),
            display_safe(&first.detail)
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn kind_title(kind: &str) -> &str {
    match kind {
        alerts::CLOCK_NEAR => "clock nearing its deadline",
        alerts::CLOCK_BREACHED => "clock breached",
        alerts::CLOCK_DUE => "clock due now",
        alerts::ESCALATION => "escalation",
        alerts::INCIDENT_NEW => "new incident",
        alerts::ROLE_ASSIGNED => "role assigned to you",
        alerts::DETECTION => "detection",
        other => other,
    }
}

/// The first 16 hex digits of a stored hash (all of it if shorter).
fn short_hash(h: &str) -> &str {
    h.get(..16).unwrap_or(h)
}
