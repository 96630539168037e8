//! Message templates (minijinja). The shipped ones are compiled in from
//! `assets/templates/`; a file `NAME.txt` in the user's `templates/`
//! directory overrides the shipped template of that name or adds a new one.
//!
//! A template may start with header comments naming its audience and title:
//! `{# audience: customers #}` and `{# title: Customer notification #}`.
//! Rendering is strict: a name that is not a field (see `MessageFields`) is
//! an error naming the template, the line and the field, even inside a
//! branch the incident does not take.
//!
//! Rendering is bounded, so a template cannot hang or exhaust whoever
//! renders it (the CLI, the console): at most [`MAX_RENDER_STEPS`] engine
//! steps, [`MAX_OUTPUT_BYTES`] of output and [`MAX_NESTING`] levels of
//! nested blocks and macro calls. Past a bound the render stops with an
//! error naming the template, the line and the bound.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use super::{Audience, MessageFields};

/// The shipped templates: (name, path shown in errors, source).
const BUILTIN: [(&str, &str, &str); 4] = [
    (
        "customer",
        "assets/templates/customer.txt",
        include_str!("../../assets/templates/customer.txt"),
    ),
    (
        "internal",
        "assets/templates/internal.txt",
        include_str!("../../assets/templates/internal.txt"),
    ),
    (
        "executive",
        "assets/templates/executive.txt",
        include_str!("../../assets/templates/executive.txt"),
    ),
    (
        "regulator",
        "assets/templates/regulator.txt",
        include_str!("../../assets/templates/regulator.txt"),
    ),
];

/// A user template larger than this is refused (a template is a page).
const MAX_TEMPLATE_BYTES: u64 = 256 * 1024;

/// Engine steps (minijinja's fuel: about one per instruction) one render
/// may take. The shipped templates take a few thousand; a loop nested in a
/// loop over `range(100000)` would take ten billion.
pub const MAX_RENDER_STEPS: u64 = 2_000_000;

/// Output one render may produce: what a message may hold.
pub const MAX_OUTPUT_BYTES: usize = crate::store::MAX_MESSAGE_BYTES;

/// Nesting of blocks, loops and macro calls at render time (macro calls
/// count several levels each), well inside what a thread's stack holds.
pub const MAX_NESTING: usize = 100;

/// Why a template could not be loaded or rendered. Displays as
/// `TEMPLATE:LINE: problem` (or `TEMPLATE: problem` when no line applies),
/// where TEMPLATE is the file (the user's path, or `assets/templates/...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub problem: String,
    /// True for "no such template" (bad input rather than a broken file).
    pub unknown_template: bool,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.template, self.problem),
            None => write!(f, "{}: {}", self.template, self.problem),
        }
    }
}

/// What the composer's picker shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateInfo {
    pub name: String,
    pub audience: Audience,
    pub title: String,
    /// The file it comes from.
    pub path: String,
    /// True when the user's file replaces or adds it.
    pub user: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    info: TemplateInfo,
    /// The source, or why it could not be read.
    source: Result<String, TemplateError>,
}

/// The templates in force.
#[derive(Debug, Clone)]
pub struct Templates {
    entries: Vec<Entry>,
}

impl Templates {
    /// Only the shipped templates.
    pub fn builtin() -> Templates {
        let entries = BUILTIN
            .iter()
            .map(|(name, path, source)| {
                let header = header(source);
                Entry {
                    info: TemplateInfo {
                        name: (*name).into(),
                        audience: header.audience.unwrap_or(Audience::Internal),
                        title: header.title.unwrap_or_else(|| (*name).into()),
                        path: (*path).into(),
                        user: false,
                    },
                    source: Ok((*source).into()),
                }
            })
            .collect();
        Templates { entries }
    }

    /// The shipped templates overridden by `user_dir/NAME.txt` files. A
    /// missing directory is fine; an unreadable one is an error. A broken
    /// file (not UTF-8, too large, bad header) does not stop the others:
    /// rendering it gives its error.
    pub fn load(user_dir: &Path) -> Result<Templates, TemplateError> {
        let mut t = Templates::builtin();
        let dir_err = |problem: String| TemplateError {
            template: user_dir.display().to_string(),
            line: None,
            problem,
            unknown_template: false,
        };
        let read = match std::fs::read_dir(user_dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(t),
            Err(e) => return Err(dir_err(format!("cannot read the directory: {e}"))),
        };
        let mut files: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        for path in files {
            let Some(name) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                continue;
            }
            let shown = path.display().to_string();
            let source = read_template(&path).map_err(|problem| TemplateError {
                template: shown.clone(),
                line: None,
                problem,
                unknown_template: false,
            });
            let builtin = t.entries.iter().position(|e| e.info.name == name);
            let (mut audience, mut title) = match builtin {
                Some(i) => (t.entries[i].info.audience, t.entries[i].info.title.clone()),
                None => (Audience::Internal, name.clone()),
            };
            let source = source.and_then(|s| {
                let h = header(&s);
                if let Some((line, problem)) = h.problem {
                    return Err(TemplateError {
                        template: shown.clone(),
                        line: Some(line),
                        problem,
                        unknown_template: false,
                    });
                }
                audience = h.audience.unwrap_or(audience);
                title = h.title.unwrap_or(title.clone());
                Ok(s)
            });
            let entry = Entry {
                info: TemplateInfo {
                    name: name.clone(),
                    audience,
                    title,
                    path: shown,
                    user: true,
                },
                source,
            };
            match builtin {
                Some(i) => t.entries[i] = entry,
                None => t.entries.push(entry),
            }
        }
        Ok(t)
    }

    pub fn list(&self) -> Vec<TemplateInfo> {
        self.entries.iter().map(|e| e.info.clone()).collect()
    }

    pub fn info(&self, name: &str) -> Option<&TemplateInfo> {
        self.entries
            .iter()
            .find(|e| e.info.name == name)
            .map(|e| &e.info)
    }

    /// The template an audience starts from: the one named like the
    /// audience's default, else the first one for that audience.
    pub fn for_audience(&self, audience: Audience) -> Option<&TemplateInfo> {
        self.info(audience.default_template()).or_else(|| {
            self.entries
                .iter()
                .map(|e| &e.info)
                .find(|i| i.audience == audience)
        })
    }

    /// Renders template `name` with `fields`.
    pub fn render(&self, name: &str, fields: &MessageFields) -> Result<String, TemplateError> {
        let Some(entry) = self.entries.iter().find(|e| e.info.name == name) else {
            let names: Vec<&str> = self.entries.iter().map(|e| e.info.name.as_str()).collect();
            return Err(TemplateError {
                template: name.into(),
                line: None,
                problem: format!("no such template (templates: {})", names.join(", ")),
                unknown_template: true,
            });
        };
        let source = entry.source.as_ref().map_err(Clone::clone)?;
        render_source(&entry.info.path, source, fields)
    }
}

fn read_template(path: &Path) -> Result<String, String> {
    let bytes = crate::config::read_user_file(path, MAX_TEMPLATE_BYTES).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidInput {
            e.to_string()
        } else {
            format!("cannot read: {e}")
        }
    })?;
    String::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()))
}

#[derive(Default)]
struct Header {
    audience: Option<Audience>,
    title: Option<String>,
    /// (line, problem) of a bad header value.
    problem: Option<(usize, String)>,
}

/// Reads the leading `{# key: value #}` lines.
fn header(source: &str) -> Header {
    let mut h = Header::default();
    for (n, line) in source.lines().enumerate() {
        let t = line.trim();
        let Some(inner) = t.strip_prefix("{#").and_then(|r| r.strip_suffix("#}")) else {
            break;
        };
        let inner = inner.trim_matches('-').trim();
        let Some((key, value)) = inner.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "audience" => match value.parse() {
                Ok(a) => h.audience = Some(a),
                Err(e) => {
                    h.problem.get_or_insert((n + 1, format!("header: {e}")));
                }
            },
            "title" if !value.is_empty() => h.title = Some(value.to_string()),
            _ => {}
        }
    }
    h
}

/// Renders one template source; `shown` names it in errors.
pub fn render_source(
    shown: &str,
    source: &str,
    fields: &MessageFields,
) -> Result<String, TemplateError> {
    let mut env = Environment::new();
    env.set_fuel(Some(MAX_RENDER_STEPS));
    env.set_recursion_limit(MAX_NESTING);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    let error = |line: Option<usize>, problem: String| TemplateError {
        template: shown.to_string(),
        line,
        problem,
        unknown_template: false,
    };
    let tmpl = env
        .template_from_named_str(shown, source)
        .map_err(|e| error(e.line(), problem_of(&e)))?;

    // Every name the template reads must be a field or a built-in, even in
    // branches this incident does not take.
    let known = field_names(fields);
    let globals: BTreeSet<String> = env.globals().map(|(k, _)| k.to_string()).collect();
    let mut unknown: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !known.contains(v) && !globals.contains(v))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        let (line, name) = unknown
            .iter()
            .filter_map(|name| line_of(source, name).map(|l| (l, name)))
            .min()
            .map_or((None, &unknown[0]), |(l, n)| (Some(l), n));
        return Err(error(
            line,
            format!(
                "unknown field '{name}' (fields: {})",
                known.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let mut out = Bounded {
        text: Vec::new(),
        over: false,
    };
    let rendered = tmpl.render_captured_to(fields, &mut out).map(|_| ());
    if out.over {
        return Err(error(
            None,
            format!(
                "the output grew past {MAX_OUTPUT_BYTES} bytes, the most a message may hold; stopped"
            ),
        ));
    }
    rendered.map_err(|e| error(e.line(), problem_of(&e)))?;
    // The engine writes only the template's text and values: UTF-8.
    String::from_utf8(out.text).map_err(|e| {
        error(
            None,
            format!(
                "output is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Collects a render's output and refuses to grow past [`MAX_OUTPUT_BYTES`],
/// which stops the render.
struct Bounded {
    text: Vec<u8>,
    over: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.over = true;
            return Err(std::io::Error::other("output too large"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn problem_of(e: &minijinja::Error) -> String {
    let what = match e.kind() {
        ErrorKind::UndefinedError => "undefined value (an unknown field or attribute)".to_string(),
        ErrorKind::InvalidOperation if e.detail() == Some("recursion limit exceeded") => {
            return format!(
                "nested more than {MAX_NESTING} levels deep (blocks, loops, macro calls), the most one render may go; stopped"
            );
        }
        ErrorKind::OutOfFuel => {
            return format!(
                "stopped after {MAX_RENDER_STEPS} steps, the most one render may take (a loop that runs too long?)"
            );
        }
        k => k.to_string(),
    };
    match e.detail() {
        Some(d) => format!("{what}: {d}"),
        None => what,
    }
}

fn field_names(fields: &MessageFields) -> BTreeSet<String> {
    match serde_json::to_value(fields) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

/// The first line (1-based) where `name` appears as a whole word, preferring
/// lines where it follows a `{{` or `{%` tag opening.
fn line_of(source: &str, name: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let word_at = |line: &str| {
        let mut from = 0;
        while let Some(at) = line[from..].find(name) {
            let start = from + at;
            let end = start + name.len();
            let before = line[..start].chars().next_back();
            let after = line[end..].chars().next();
            if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
                return Some(start);
            }
            from = end;
        }
        None
    };
    let lines: Vec<&str> = source.lines().collect();
    let in_tag = lines
        .iter()
        .position(|l| word_at(l).is_some_and(|s| l[..s].contains("{{") || l[..s].contains("{%")));
    in_tag
        .or_else(|| lines.iter().position(|l| word_at(l).is_some()))
        .map(|n| n + 1)
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
