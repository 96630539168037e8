//! Parsing a rule file's YAML without letting its shape exhaust the stack.
//! The YAML loader recurses once per nesting level; flow collections are
//! capped at 255 levels by its scanner, block nesting not at all (each
//! `- ` on a line, each deeper indentation is a level). A rule file nests a
//! handful of levels, so block nesting past [`MAX_BLOCK_DEPTH`] is refused
//! before parsing, and parsing runs on a thread whose stack holds the rest.

use marked_yaml::{LoadError, LoaderOptions, Node};

/// Block nesting (indentation levels plus `- ` and `? ` indicators on one
/// line) refused before parsing.
pub const MAX_BLOCK_DEPTH: usize = 64;

/// Stack for the parsing thread: room for 255 flow levels inside
/// [`MAX_BLOCK_DEPTH`] block levels, even in a debug build. Reserved, not
/// used: pages are touched only as deep as the file goes.
const PARSE_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Why a text is not loaded.
pub enum YamlFailure {
    Load(LoadError),
    /// Nested deeper than [`MAX_BLOCK_DEPTH`] at (line, column), 1-based.
    TooDeep(usize, usize),
    /// The parsing thread could not be started or failed.
    Internal(String),
}

/// Parses `text` as source number `source`.
pub fn parse(source: usize, text: &str, options: LoaderOptions) -> Result<Node, YamlFailure> {
    if let Some((line, column)) = too_deep(text, MAX_BLOCK_DEPTH) {
        return Err(YamlFailure::TooDeep(line, column));
    }
    std::thread::scope(|s| {
        let parser = std::thread::Builder::new()
            .name("yaml".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(s, move || {
                marked_yaml::parse_yaml_with_options(source, text, options)
                    .map_err(YamlFailure::Load)
            })
            .map_err(|e| YamlFailure::Internal(format!("cannot start the parser: {e}")))?;
        parser
            .join()
            .map_err(|_| YamlFailure::Internal("the YAML parser failed".into()))?
    })
}

/// Where `text` first nests its blocks deeper than `max` levels, if it
/// does. Over-estimates (never under-estimates) the nesting: a stack of
/// the indentations of the lines above that are still open, plus the `- `
/// and `? ` indicators that open a nested block on the same line.
pub fn too_deep(text: &str, max: usize) -> Option<(usize, usize)> {
    let mut open: Vec<usize> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if rest.trim().is_empty() || rest.starts_with('#') {
            continue;
        }
        while open.last().is_some_and(|&i| i >= indent) {
            open.pop();
        }
        open.push(indent);
        let mut depth = open.len();
        let mut col = indent;
        let mut r = rest;
        while let Some(after) = r
            .strip_prefix("- ")
            .or_else(|| r.strip_prefix("? "))
            .or_else(|| r.strip_prefix("-\t"))
        {
            let skipped = after.len() - after.trim_start_matches([' ', '\t']).len();
            col += r.len() - after.len() + skipped;
            r = &after[skipped..];
            depth += 1;
            if depth > max {
                return Some((n + 1, col + 1));
            }
        }
        if depth > max {
            return Some((n + 1, indent + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_rule_files_are_shallow() {
        for (_, text) in super::super::rules::DEFAULT_RULES {
            assert_eq!(too_deep(text, 8), None);
        }
        assert_eq!(too_deep("a:\n  b:\n    - c\n    - d\n  e: f\n", 4), None);
    }

    #[test]
    fn deep_blocks_are_found_with_their_position() {
        assert_eq!(too_deep("a:\n - - - - x\n", 4), Some((2, 8)));
        let stairs: String = (0..10)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(too_deep(&stairs, 5), Some((6, 6)));
        assert_eq!(too_deep(&stairs, 10), None);
    }
}
