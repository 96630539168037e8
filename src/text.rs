//! `display_safe`: the one place untrusted text (titles, summaries, names,
//! log lines) is made safe to show. Terminal control characters, C1
//! controls, bidirectional controls, invisible (default-ignorable) and
//! line-breaking characters become visible, inert text, so an incident
//! titled with OSC 52 or a screen clear shows the bytes instead of obeying
//! them, and `pay\u{AD}pal` does not pass for "paypal".
//!
//! Which characters are invisible is Unicode's own data (the
//! `Default_Ignorable_Code_Point` and `Bidi_Control` properties, general
//! categories Cf, Zl and Zp), read from the tables regex-syntax ships, not
//! a hand-written list. `json` writes `--json` output with the same
//! characters as `\u` escapes.

pub mod json;

use std::borrow::Cow;
use std::sync::LazyLock;

/// Returns `s` with every character that could steer a terminal, reorder
/// text or hide itself replaced by a visible stand-in: C0 controls by their
/// Unicode control pictures (ESC shows as `␛`), DEL as `␡`, C1 controls,
/// bidi controls, invisible and line/paragraph-separator characters as
/// `<U+XXXX>`. Newlines show as `⏎`, tabs as a space.
pub fn display_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_safe(&mut out, c);
    }
    Cow::Owned(out)
}

/// Splits on newlines and makes each line safe: for multi-line text such as
/// summaries and message drafts.
pub fn display_safe_lines(s: &str) -> Vec<String> {
    s.split('\n')
        .map(|l| display_safe(l.strip_suffix('\r').unwrap_or(l)).into_owned())
        .collect()
}

/// Text that will be *edited* (the message composer's editor draws its
/// text raw): line breaks are kept (CR LF and lone CR become LF), a tab
/// becomes four spaces, and every other character `display_safe` would
/// replace is replaced the same way. The result holds no control or
/// invisible format character but `\n`.
pub fn editable_safe(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            c => push_safe(&mut out, c),
        }
    }
    out
}

/// Whether `c` may be typed into an editor as it is (a printable
/// character: not a control, not an invisible or line-breaking character).
pub fn is_printable(c: char) -> bool {
    !needs_escape(c)
}

/// Whether `c` has Unicode's `Bidi_Control` property (embeddings,
/// overrides, isolates and marks that reorder the text around them).
pub fn is_bidi_control(c: char) -> bool {
    !c.is_ascii() && in_ranges(&TABLES.bidi, c)
}

/// Whether `c` must not reach a screen raw: a control character, or one
/// that is invisible, reorders text or breaks lines.
fn needs_escape(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control() || in_ranges(&TABLES.invisible, c)
}

struct Tables {
    /// Default_Ignorable_Code_Point, Bidi_Control, Cf, Zl, Zp.
    invisible: Vec<(char, char)>,
    bidi: Vec<(char, char)>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables {
    invisible: unicode_class(
        r"[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}\p{Cf}\p{Zl}\p{Zp}]",
    ),
    bidi: unicode_class(r"\p{Bidi_Control}"),
});

/// The ranges of a Unicode class. The patterns are fixed and tested; were
/// one ever refused, every non-ASCII character would count as inside it,
/// which shows too much rather than too little.
fn unicode_class(pattern: &str) -> Vec<(char, char)> {
    use regex_syntax::hir::{Class, HirKind};
    let all = vec![('\u{80}', char::MAX)];
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
        return all;
    };
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect(),
        _ => all,
    }
}

fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn push_safe(out: &mut String, c: char) {
    match c {
        '\n' => out.push('\u{23CE}'),
        '\t' => out.push(' '),
        '\u{0}'..='\u{1F}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
        '\u{7F}' => out.push('\u{2421}'),
        c if needs_escape(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            display_safe("DB down in eu-west-1 ✓"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escape_sequences_become_visible() {
        let osc52 = "\u{1b}]52;c;ZXZpbA==\u{7}pwned";
        let safe = display_safe(osc52);
        assert_eq!(safe, "␛]52;c;ZXZpbA==␇pwned");
        assert!(!safe.chars().any(|c| c.is_control()));

        let csi = "\u{1b}[2J\u{1b}[H";
        assert_eq!(display_safe(csi), "␛[2J␛[H");
        let c1_csi = "\u{9b}31m";
        assert_eq!(display_safe(c1_csi), "<U+009B>31m");
    }

    #[test]
    fn bidi_overrides_and_zero_width_become_visible() {
        assert_eq!(display_safe("evil\u{202E}gpj.exe"), "evil<U+202E>gpj.exe");
        assert_eq!(display_safe("a\u{200B}b"), "a<U+200B>b");
        assert_eq!(display_safe("\u{2067}x\u{2069}"), "<U+2067>x<U+2069>");
    }

    #[test]
    fn editable_text_keeps_line_breaks_only() {
        let s = editable_safe("a\r\nb\rc\n\u{1b}]52;c;eA==\u{7}\td\u{202E}\u{9b}");
        assert_eq!(s, "a\nb\nc\n␛]52;c;eA==␇    d<U+202E><U+009B>");
        assert!(
            s.chars()
                .all(|c| c == '\n' || (!c.is_control() && is_printable(c)))
        );
        assert!(is_printable('é') && !is_printable('\u{7f}') && !is_printable('\u{200B}'));
    }

    /// Every character the adversarial review found passing raw: invisible
    /// (default-ignorable), format and line-breaking characters.
    const INVISIBLES: &[char] = &[
        '\u{00AD}',
        '\u{034F}',
        '\u{0600}',
        '\u{0601}',
        '\u{0602}',
        '\u{0603}',
        '\u{0604}',
        '\u{0605}',
        '\u{06DD}',
        '\u{070F}',
        '\u{115F}',
        '\u{1160}',
        '\u{180E}',
        '\u{2028}',
        '\u{2029}',
        '\u{206A}',
        '\u{206B}',
        '\u{206C}',
        '\u{206D}',
        '\u{206E}',
        '\u{206F}',
        '\u{3164}',
        '\u{FFA0}',
        '\u{1D173}',
        '\u{1D17A}',
        '\u{E0001}',
        '\u{E0020}',
        '\u{E0041}',
        '\u{E007F}',
    ];

    #[test]
    fn invisible_and_line_breaking_characters_become_visible() {
        assert_eq!(display_safe("pay\u{ad}pal"), "pay<U+00AD>pal");
        assert_eq!(display_safe("a\u{2028}b"), "a<U+2028>b");
        for &c in INVISIBLES {
            let s = format!("x{c}y");
            let shown = display_safe(&s);
            assert_eq!(shown, format!("x<U+{:04X}>y", c as u32), "{c:?}");
            assert!(!is_printable(c), "{c:?}");
            assert!(!editable_safe(&s).contains(c), "{c:?}");
        }
        // Ordinary text of many scripts is untouched.
        let text = "Grüße, Σωκράτης, Привет, 東京, عربى, हिन्दी, 한국어 ✓";
        assert!(matches!(display_safe(text), Cow::Borrowed(_)), "{text}");
    }

    #[test]
    fn bidi_controls_come_from_unicode_data() {
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}',
        ] {
            assert!(is_bidi_control(c) && !is_printable(c), "{c:?}");
        }
        assert!(!is_bidi_control('a') && !is_bidi_control('\u{AD}') && !is_bidi_control('ع'));
        // The tables were read (a refused pattern would make every
        // non-ASCII character count, which the line above rules out).
        assert!(TABLES.invisible.len() > 10 && TABLES.bidi.len() < 10);
    }

    #[test]
    fn newlines_tabs_and_del() {
        assert_eq!(display_safe("a\nb\tc\u{7f}"), "a⏎b c␡");
        assert_eq!(display_safe_lines("one\r\ntwo\u{1b}"), vec!["one", "two␛"]);
    }
}
