//! The HTML report: one self-contained page (inline style, no scripts, a
//! Content-Security-Policy that forbids loading anything). Every piece of
//! text goes through `display_safe` and then HTML escaping.

use chrono::{DateTime, Utc};

use super::model::{Report, ReportInput};
use super::outline::{Block, outline};
use crate::domain::Policy;
use crate::text::display_safe;

/// Escapes one piece of untrusted text for HTML element content and
/// quoted attribute values.
pub fn escape(s: &str) -> String {
    let safe = display_safe(s);
    let mut out = String::with_capacity(safe.len() + 8);
    for c in safe.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#111}\
table{border-collapse:collapse;margin:.5rem 0 1rem}\
th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#eee}\
.banner{border:3px solid #b00;background:#fee;padding:.5rem 1rem;font-weight:bold}\
blockquote{border-left:4px solid #999;margin:.5rem 0;padding:0 1rem;font-family:monospace;white-space:pre-wrap}\
dt{font-weight:bold;float:left;clear:left;width:12rem}dd{margin-left:12.5rem}\
code{word-break:break-all}";

/// Renders a report as one HTML page.
pub fn render(r: &Report) -> String {
    let blocks = outline(r);
    let title = blocks
        .iter()
        .find_map(|b| match b {
            Block::Title(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&title)));
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    for b in blocks {
        match b {
            Block::Title(t) => out.push_str(&format!("<h1>{}</h1>\n", escape(&t))),
            Block::Banner(t) => out.push_str(&format!("<p class=\"banner\">{}</p>\n", escape(&t))),
            Block::Heading(t) => out.push_str(&format!("<h2>{}</h2>\n", escape(&t))),
            Block::Subheading(t) => out.push_str(&format!("<h3>{}</h3>\n", escape(&t))),
            Block::Para(t) => out.push_str(&format!("<p>{}</p>\n", escape(&t))),
            Block::Fields(fields) => {
                out.push_str("<dl>\n");
                for (k, v) in fields {
                    out.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(&k), escape(&v)));
                }
                out.push_str("</dl>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<table>\n<tr>");
                for h in &head {
                    out.push_str(&format!("<th>{}</th>", escape(h)));
                }
                out.push_str("</tr>\n");
                for row in &rows {
                    out.push_str("<tr>");
                    for c in row {
                        out.push_str(&format!("<td>{}</td>", escape(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::List { ordered, items } => {
                let tag = if ordered { "ol" } else { "ul" };
                out.push_str(&format!("<{tag}>\n"));
                for i in &items {
                    out.push_str(&format!("<li>{}</li>\n", escape(i)));
                }
                out.push_str(&format!("</{tag}>\n"));
            }
            Block::Quote(lines) => {
                out.push_str("<blockquote>");
                let body: Vec<String> = lines
                    .iter()
                    .map(|l| escape(l.trim_end_matches('\r')))
                    .collect();
                out.push_str(&body.join("\n"));
                out.push_str("</blockquote>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
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
        assert_eq!(
            escape("<img src=x onerror='a'>&\"\u{1b}]52;c;x\u{7}"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;␛]52;c;x␇"
        );
    }
}
