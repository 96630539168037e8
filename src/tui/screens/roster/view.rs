//! The roster: one person a row (handle, name, contact, roles, on call),
//! the selected one in full below. Someone without a contact is marked:
//! escalations cannot reach them. Every entry was typed by someone, so
//! all of it goes through `display_safe`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::state::RosterState;
use crate::domain::roles::{Person, roles_text};
use crate::text::display_safe;
use crate::tui::kit::theme::Theme;
use crate::tui::screens::ctx::Ctx;

/// What the contact cell says when there is none.
pub const NO_CONTACT: &str = "NONE: not reachable";

pub fn render(state: &RosterState, ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let t = Theme::new(ctx.no_color);
    let people = ctx.people;
    let [head, list, detail] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(if area.height >= 30 { 4 } else { 3 }),
    ])
    .areas(area);
    let on_call = people.iter().filter(|p| p.on_call).count();
    let unreachable = people.iter().filter(|p| p.contact.is_empty()).count();
    let mut lines = vec![Line::from(vec![
        Span::styled(" Roster ", t.bold()),
        Span::styled(
            format!(
                "{} {}, {on_call} on call · a add · e edit · o on/off call",
                people.len(),
                if people.len() == 1 {
                    "person"
                } else {
                    "people"
                }
            ),
            t.dim(),
        ),
    ])];
    if unreachable > 0 {
        lines.push(Line::styled(
            format!(
                " {unreachable} without a contact: escalations cannot reach {}",
                if unreachable == 1 { "them" } else { "those" }
            ),
            t.breached(),
        ));
    }
    frame.render_widget(Paragraph::new(lines), head);
    if people.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(""),
                Line::from("  Nobody on the roster yet. a adds someone (or"),
                Line::from("  `warroom roster add HANDLE --name NAME --contact ...`)."),
            ])
            .block(Block::new().borders(Borders::TOP)),
            list.union(detail),
        );
        return;
    }
    let roles_w = if area.width >= 100 { 24 } else { 12 };
    let rows: Vec<Row> = people
        .iter()
        .map(|p| {
            let contact = if p.contact.is_empty() {
                Cell::from(NO_CONTACT).style(t.breached())
            } else {
                Cell::from(display_safe(&p.contact).into_owned())
            };
            Row::new(vec![
                Cell::from(display_safe(&p.handle).into_owned()),
                Cell::from(display_safe(&p.name).into_owned()),
                contact,
                Cell::from(roles(p)),
                if p.on_call {
                    Cell::from("ON CALL").style(t.met())
                } else {
                    Cell::from("-")
                },
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Length(roles_w),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(["Handle", "Name", "Contact", "Roles", "On call"]).style(t.bold()))
    .row_highlight_style(t.selected())
    .highlight_symbol("▶ ")
    .block(Block::new().borders(Borders::TOP | Borders::BOTTOM));
    let selected = state.cursor.min(people.len().saturating_sub(1));
    let mut ts = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, list, &mut ts);
    if let Some(p) = people.get(selected) {
        render_detail(&t, p, frame, detail);
    }
}

fn roles(p: &Person) -> String {
    if p.roles.is_empty() {
        "any".into()
    } else {
        roles_text(&p.roles)
    }
}

fn render_detail(t: &Theme, p: &Person, frame: &mut Frame, area: Rect) {
    let contact = if p.contact.is_empty() {
        Span::styled(
            "no contact: escalations cannot reach them (e to add one)",
            t.breached(),
        )
    } else {
        Span::raw(display_safe(&p.contact).into_owned())
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(format!(" {} ", display_safe(&p.handle)), t.bold()),
            Span::raw(display_safe(&p.name).into_owned()),
            Span::styled(if p.on_call { " · on call" } else { "" }, t.met()),
        ]),
        Line::from(vec![Span::styled(" contact ", t.dim()), contact]),
        Line::from(vec![
            Span::styled(" may hold ", t.dim()),
            Span::raw(if p.roles.is_empty() {
                "any role".to_string()
            } else {
                roles_text(&p.roles).replace(',', ", ")
            }),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
