//! The Markdown report. Every piece of text is made safe twice over:
//! `display_safe` turns control characters (terminal escapes, newlines,
//! bidi overrides) into visible stand-ins, then the punctuation Markdown
//! acts on is backslash-escaped and `<`, `>`, `&` become entities, so no
//! untrusted text can become a link, an image, raw HTML or a table break.

use chrono::{DateTime, Utc};

use super::model::{Report, ReportInput};
use super::outline::{Block, outline};
use crate::domain::Policy;
use crate::text::display_safe;

/// Escapes one piece of untrusted text for Markdown (inline, one line).
pub fn escape(s: &str) -> String {
    let safe = display_safe(s);
    let mut out = String::with_capacity(safe.len() + 8);
    for (n, c) in safe.chars().enumerate() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // Everything that can start emphasis, a link, an image, code,
            // a heading, a table cell or an escape anywhere in a line...
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '~' | '{' | '}'
            | '$' => {
                out.push('\\');
                out.push(c);
            }
            // ...and what starts a list, a quote or a rule at a line's start.
            '-' | '+' | '=' if n == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Renders a report as Markdown (CommonMark with GFM tables).
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for b in outline(r) {
        match b {
            Block::Title(t) => out.push_str(&format!("# {}\n\n", escape(&t))),
            Block::Banner(t) => out.push_str(&format!("> **{}**\n\n", escape(&t))),
            Block::Heading(t) => out.push_str(&format!("## {}\n\n", escape(&t))),
            Block::Subheading(t) => out.push_str(&format!("### {}\n\n", escape(&t))),
            Block::Para(t) => out.push_str(&format!("{}\n\n", escape(&t))),
            Block::Fields(fields) => {
                for (k, v) in fields {
                    out.push_str(&format!("- **{}:** {}\n", escape(&k), escape(&v)));
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                let line = |cells: &[String]| {
                    format!(
                        "| {} |\n",
                        cells
                            .iter()
                            .map(|c| escape(c))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    )
                };
                out.push_str(&line(&head));
                out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                for row in &rows {
                    out.push_str(&line(row));
                }
                out.push('\n');
            }
            Block::List { ordered, items } => {
                for (n, item) in items.iter().enumerate() {
                    if ordered {
                        out.push_str(&format!("{}. {}\n", n + 1, escape(item)));
                    } else {
                        out.push_str(&format!("- {}\n", escape(item)));
                    }
                }
                out.push('\n');
            }
            Block::Quote(lines) => {
                for l in lines {
                    out.push_str(&format!("> {}  \n", escape(l.trim_end_matches('\r'))));
                }
                out.push('\n');
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Builds and renders in one step.
pub fn report(input: &ReportInput, policy: &Policy, now: DateTime<Utc>) -> String {
    render(&Report::build(input, policy, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_escapes_are_inert() {
        let e = escape("<script>x</script> [a](javascript:b) *c* | d \u{1b}[2J\nnext");
        assert_eq!(
            e,
            "&lt;script&gt;x&lt;/script&gt; \\[a\\]\\(javascript:b\\) \\*c\\* \\| d ␛\\[2J⏎next"
        );
    }
}
