//! JSON for a terminal: serde_json writes C1 controls, DEL, bidi controls
//! and invisible characters raw inside strings, where a terminal showing
//! `--json` output would obey or hide them. These writers escape every
//! character `display_safe` would mark as `\uXXXX` (surrogate pairs above
//! U+FFFF): the same data for a JSON parser, inert on a screen. Every
//! `--json` output and the JSON report are written through here.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// One JSON value on one line.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(w: W, v: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Inert(CompactFormatter));
    v.serialize(&mut ser)
}

/// One JSON value, indented.
pub fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(w: W, v: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Inert(PrettyFormatter::new()));
    v.serialize(&mut ser)
}

/// One JSON value, indented, as a string.
pub fn to_string_pretty<T: Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    to_writer_pretty(&mut out, v)?;
    // The formatter writes only what serde_json gives it (UTF-8) and ASCII.
    String::from_utf8(out).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// Wraps a formatter: strings' unescaped fragments go out with the risky
/// characters escaped; everything else is the inner formatter's.
struct Inert<F>(F);

impl<F: Formatter> Formatter for Inert<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if super::needs_escape(c) {
                self.0.write_string_fragment(w, &fragment[start..i])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        self.0.write_string_fragment(w, &fragment[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn check(v: &Value, text: &str) {
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && !super::super::is_printable(c)),
            "{text:?}"
        );
        assert_eq!(&serde_json::from_str::<Value>(text).unwrap(), v);
    }

    #[test]
    fn risky_characters_become_u_escapes_and_the_data_is_kept() {
        let v = json!({
            "t\u{202e}": "a\u{9b}31m\u{202e}b\u{7f}\u{1b}\u{85}",
            "invisible": "pay\u{ad}pal \u{2028} \u{e0041}\u{180e}\u{3164}",
            "plain": ["Grüße ✓", 1, null, {"x": "東京"}],
        });
        let mut compact = Vec::new();
        to_writer(&mut compact, &v).unwrap();
        let compact = String::from_utf8(compact).unwrap();
        check(&v, &compact);
        assert!(
            compact.contains(r"a\u009b31m\u202eb\u007f\u001b\u0085"),
            "{compact}"
        );
        assert!(
            compact.contains(r"\udb40\udc41"),
            "tag as a surrogate pair: {compact}"
        );
        assert!(compact.contains("Grüße ✓") && !compact.contains('\n'));

        let pretty = to_string_pretty(&v).unwrap();
        check(&v, &pretty);
        assert!(pretty.contains("pay\\u00adpal") && pretty.contains("\n  \"plain\": ["));
        // Text without risky characters is exactly serde_json's.
        let plain = json!({"a": [1, "Grüße"], "b": {"c": null}});
        assert_eq!(
            to_string_pretty(&plain).unwrap(),
            serde_json::to_string_pretty(&plain).unwrap()
        );
    }
}
