//! The pieces a report's text forms are made of, below both the outline
//! of a whole report and the records' own sections (checklist, messages),
//! so neither has to import the other.

/// One block of a document. All text is raw and must be escaped by the
/// writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Title(String),
    /// A prominent warning line (DRILL, LEGAL HOLD).
    Banner(String),
    Heading(String),
    /// A smaller heading inside a section.
    Subheading(String),
    Para(String),
    /// `label: value` lines.
    Fields(Vec<(String, String)>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    List {
        ordered: bool,
        items: Vec<String>,
    },
    /// Verbatim lines of untrusted text (an excerpt), shown as a quote.
    Quote(Vec<String>),
}
