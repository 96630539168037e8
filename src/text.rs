//! `display_safe`: the one place untrusted text (titles, summaries, names,
//! log lines) is made safe to show. Terminal control characters, C1
//! controls and bidirectional overrides become visible, inert text, so an
//! incident titled with OSC 52 or a screen clear shows the bytes instead of
//! obeying them.

use std::borrow::Cow;

/// Returns `s` with every character that could steer a terminal or reorder
/// text replaced by a visible stand-in: C0 controls by their Unicode control
/// pictures (ESC shows as `␛`), DEL as `␡`, C1 controls and invisible
/// format characters as `<U+XXXX>`. Newlines show as `⏎`, tabs as a space.
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
/// character: not a control, not an invisible format character).
pub fn is_printable(c: char) -> bool {
    !needs_escape(c)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Bidi embeddings, overrides and isolates, zero-width characters and the
/// BOM: they change how surrounding text reads without showing themselves.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
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

    #[test]
    fn newlines_tabs_and_del() {
        assert_eq!(display_safe("a\nb\tc\u{7f}"), "a⏎b c␡");
        assert_eq!(display_safe_lines("one\r\ntwo\u{1b}"), vec!["one", "two␛"]);
    }
}
