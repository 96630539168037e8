//! The report's text forms share one outline: the sections, tables and
//! lists of a [`Report`], as plain (untrusted, unescaped) text. The
//! Markdown and HTML writers each escape every piece of text they are
//! given, so nothing a person or a log typed can become markup or a
//! terminal command.

pub use super::block::Block;
use super::model::{Change, Report, clock_outcome};

/// Sources listed in the text forms of a report, at most (most events
/// first; the JSON report has them all).
const MAX_SOURCE_ROWS: usize = 200;

fn or_dash(s: &str) -> String {
    if s.trim().is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "-".into(), or_dash)
}

fn changes_table(changes: &[Change]) -> Block {
    Block::Table {
        head: vec!["When (UTC)".into(), "By".into(), "From".into(), "To".into()],
        rows: changes
            .iter()
            .map(|c| {
                vec![
                    c.at.clone(),
                    or_dash(&c.actor),
                    c.from.clone().unwrap_or_else(|| "(declared)".into()),
                    c.to.clone(),
                ]
            })
            .collect(),
    }
}

fn field(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => or_dash(s),
        Some(serde_json::Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        Some(serde_json::Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

/// The outline of a report.
pub fn outline(r: &Report) -> Vec<Block> {
    let i = &r.typed;
    let inc = &r.incident;
    let mut out = Vec::new();
    let drill = if r.drill { "DRILL: " } else { "" };
    out.push(Block::Title(format!(
        "{drill}Incident report {}: {}",
        i.id, i.title
    )));
    if r.drill {
        out.push(Block::Banner(
            "DRILL: this incident is an exercise, not a real incident.".into(),
        ));
    }
    if let Some(h) = &r.legal_hold {
        out.push(Block::Banner(format!(
            "LEGAL HOLD since {} (set by {}): {}",
            h.set_at, h.set_by, h.reason
        )));
    }
    out.push(Block::Para(format!(
        "Generated {} by warroom (report format {}).",
        r.generated_at, r.format
    )));

    out.push(Block::Heading("Summary".into()));
    let cia = inc.get("cia");
    out.push(Block::Fields(vec![
        ("Incident".into(), i.id.to_string()),
        ("Title".into(), i.title.clone()),
        (
            "Severity".into(),
            format!("{} {}", i.severity, r.severity_label),
        ),
        ("Criteria".into(), field(inc, "criteria")),
        ("Status".into(), i.status.to_string()),
        ("Phase".into(), i.phase.to_string()),
        ("Source".into(), i.source.to_string()),
        ("Drill".into(), if r.drill { "yes" } else { "no" }.into()),
        ("Affected".into(), or_dash(&i.affected)),
        (
            "CIA impact".into(),
            cia.map_or_else(
                || "-".into(),
                |c| {
                    format!(
                        "confidentiality {}, integrity {}, availability {}",
                        field(c, "confidentiality"),
                        field(c, "integrity"),
                        field(c, "availability")
                    )
                },
            ),
        ),
        ("Customer impact".into(), or_dash(&i.customer_impact)),
        (
            "Personal data breach".into(),
            field(inc, "personal_data_breach"),
        ),
        ("Detected".into(), field(inc, "detected_at")),
        ("Declared".into(), field(inc, "declared_at")),
        ("Acknowledged".into(), field(inc, "acknowledged_at")),
        ("Contained".into(), field(inc, "contained_at")),
        ("Resolved".into(), field(inc, "resolved_at")),
        ("Closed".into(), field(inc, "closed_at")),
        (
            "Customers notified".into(),
            field(inc, "customer_notified_at"),
        ),
    ]));
    if !i.summary.trim().is_empty() {
        out.push(Block::Quote(
            i.summary.lines().map(str::to_string).collect(),
        ));
    }

    out.push(Block::Heading("Severity history".into()));
    out.push(changes_table(&r.severity_history));
    out.push(Block::Heading("Status history".into()));
    out.push(changes_table(&r.status_history));
    out.push(Block::Heading("Phase history".into()));
    out.push(changes_table(&r.phase_history));

    out.push(Block::Heading("Roles and handoffs".into()));
    if r.role_history.is_empty() {
        out.push(Block::Para("No roles were assigned.".into()));
    } else {
        out.push(Block::Table {
            head: vec![
                "Role".into(),
                "Person".into(),
                "Since (UTC)".into(),
                "Until (UTC)".into(),
                "Assigned by".into(),
            ],
            rows: r
                .role_history
                .iter()
                .map(|h| {
                    vec![
                        h.role.clone(),
                        h.person.clone(),
                        h.since.clone(),
                        h.until.clone().unwrap_or_else(|| "(holds it)".into()),
                        h.assigned_by.clone(),
                    ]
                })
                .collect(),
        });
    }

    out.push(Block::Heading("Clocks".into()));
    out.push(Block::Table {
        head: vec![
            "Clock".into(),
            "Started (UTC)".into(),
            "Due (UTC)".into(),
            "Met at (UTC)".into(),
            "Outcome".into(),
        ],
        rows: r
            .clocks
            .iter()
            .map(|c| {
                vec![
                    c.label.clone(),
                    c.started.clone(),
                    c.due.clone(),
                    opt(c.met_at.as_deref()),
                    clock_outcome(c),
                ]
            })
            .collect(),
    });

    out.extend(super::records::checklist_blocks(&r.checklist));

    for (title, events, none) in [
        (
            "Communications",
            &r.communications,
            "No communications recorded.",
        ),
        ("Detections", &r.detections, "No detections recorded."),
    ] {
        out.push(Block::Heading(title.into()));
        if events.is_empty() {
            out.push(Block::Para(none.into()));
        } else {
            out.push(Block::Table {
                head: vec![
                    "When (UTC)".into(),
                    "By".into(),
                    "Kind".into(),
                    "Detail".into(),
                ],
                rows: events
                    .iter()
                    .map(|e| {
                        vec![
                            e.at.clone(),
                            e.actor.clone(),
                            e.kind.clone(),
                            e.detail.clone(),
                        ]
                    })
                    .collect(),
            });
        }
        if title == "Communications" {
            // What was said, in full, beside when it was said.
            out.extend(super::records::message_blocks(&r.messages));
        }
    }

    if !r.sources.is_empty() {
        out.push(Block::Heading("Sources".into()));
        let shown = r.sources.len().min(MAX_SOURCE_ROWS);
        out.push(Block::Table {
            head: vec![
                "Key".into(),
                "Events".into(),
                "First seen (UTC)".into(),
                "Last seen (UTC)".into(),
            ],
            rows: r.sources[..shown]
                .iter()
                .map(|s| {
                    vec![
                        s.key.clone(),
                        s.count.to_string(),
                        crate::domain::event::format_time(s.first_seen),
                        crate::domain::event::format_time(s.last_seen),
                    ]
                })
                .collect(),
        });
        if r.sources.len() > shown {
            out.push(Block::Para(format!(
                "{} more source(s) with fewer events: all of them are in the JSON report.",
                r.sources.len() - shown
            )));
        }
    }

    out.push(Block::Heading("Evidence".into()));
    if !r.legal_hold_history.is_empty() {
        out.push(Block::Subheading("Legal hold".into()));
        out.push(Block::List {
            ordered: false,
            items: r
                .legal_hold_history
                .iter()
                .map(|e| format!("{} {}: {}", e.at, e.actor, e.detail))
                .collect(),
        });
    }
    if r.evidence.is_empty() {
        out.push(Block::Para("No evidence collected.".into()));
    } else {
        out.push(Block::Table {
            head: vec![
                "#".into(),
                "Kind".into(),
                "SHA-256".into(),
                "Bytes".into(),
                "Collected".into(),
                "By".into(),
                "Source".into(),
                "Description".into(),
            ],
            rows: r
                .evidence
                .iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        e.kind.clone(),
                        e.sha256.clone(),
                        e.size.to_string(),
                        e.collected_at_local.clone(),
                        e.collected_by.clone(),
                        format!(
                            "{}:{}",
                            e.source_host,
                            e.source_path.as_deref().unwrap_or("-")
                        ),
                        or_dash(&e.description),
                    ]
                })
                .collect(),
        });
        for e in r.evidence.iter().filter(|e| e.content.is_some()) {
            out.push(Block::Subheading(format!("Item {} ({})", e.id, e.kind)));
            out.push(Block::Quote(
                e.content
                    .as_deref()
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_string)
                    .collect(),
            ));
        }
        out.push(Block::Subheading("Chain of custody".into()));
        out.push(Block::Table {
            head: vec![
                "When (UTC)".into(),
                "Item".into(),
                "Action".into(),
                "From".into(),
                "To".into(),
                "Purpose".into(),
                "Result".into(),
                "By".into(),
            ],
            rows: r
                .evidence
                .iter()
                .flat_map(|e| e.custody.iter())
                .map(|c| {
                    vec![
                        crate::domain::event::format_time(c.at),
                        c.item.to_string(),
                        c.action.clone(),
                        c.from.clone(),
                        c.to.clone(),
                        c.purpose.clone(),
                        opt(c.result.as_deref()),
                        c.actor.clone(),
                    ]
                })
                .collect(),
        });
    }

    let rv = &r.review;
    out.push(Block::Heading("Post-incident review".into()));
    let state = if rv.complete {
        "complete".to_string()
    } else {
        format!("incomplete: {}", rv.gate_problem.as_deref().unwrap_or("-"))
    };
    out.push(Block::Fields(vec![
        (
            "Due".into(),
            format!(
                "{}{}",
                opt(rv.due.as_deref()),
                if rv.overdue { " (OVERDUE)" } else { "" }
            ),
        ),
        ("State".into(), state),
        ("Incident statement".into(), or_dash(&rv.statement)),
    ]));
    out.push(Block::Subheading("5 whys".into()));
    if rv.whys.is_empty() {
        out.push(Block::Para("None recorded.".into()));
    } else {
        out.push(Block::List {
            ordered: true,
            items: rv.whys.clone(),
        });
    }
    out.push(Block::Fields(vec![(
        "Root cause".into(),
        or_dash(&rv.root_cause),
    )]));
    out.push(Block::Subheading("Corrective actions".into()));
    if rv.actions.is_empty() {
        out.push(Block::Para("None.".into()));
    } else {
        out.push(Block::Table {
            head: vec![
                "#".into(),
                "Action".into(),
                "Owner".into(),
                "Due".into(),
                "Status".into(),
                "Reason".into(),
            ],
            rows: rv
                .actions
                .iter()
                .map(|a| {
                    vec![
                        a.id.to_string(),
                        a.description.clone(),
                        a.owner.clone(),
                        format!(
                            "{}{}",
                            opt(a.due.as_deref()),
                            if a.overdue { " (overdue)" } else { "" }
                        ),
                        a.status.clone(),
                        opt(a.reason.as_deref()),
                    ]
                })
                .collect(),
        });
    }
    if let Some(reason) = &rv.no_action_reason {
        out.push(Block::Fields(vec![(
            "No corrective action".into(),
            reason.clone(),
        )]));
    }
    out.push(Block::Fields(vec![
        ("Lessons learned".into(), or_dash(&rv.lessons)),
        ("What went well".into(), or_dash(&rv.went_well)),
        ("What did not".into(), or_dash(&rv.went_badly)),
    ]));

    out.push(Block::Heading("Timeline".into()));
    out.push(Block::Table {
        head: vec![
            "#".into(),
            "When (UTC)".into(),
            "Actor".into(),
            "Kind".into(),
            "Detail".into(),
        ],
        rows: r
            .timeline
            .iter()
            .map(|e| {
                vec![
                    e.seq.to_string(),
                    e.at.clone(),
                    e.actor.clone(),
                    e.kind.clone(),
                    e.detail.clone(),
                ]
            })
            .collect(),
    });
    if r.drill {
        out.push(Block::Banner("DRILL: end of exercise report.".into()));
    }
    out
}
