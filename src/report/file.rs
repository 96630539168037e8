//! Writing an incident report to a file, shared by `warroom report --out`
//! and the console's report key: the report is rendered, written to a
//! temporary file beside the target, the access to the evidence it includes
//! is recorded in the chain of custody, and only then is the file moved
//! into place, so a failure never leaves half a report behind and a report
//! on disk always has its access recorded.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::model::{Report, ReportInput};
use super::{html, markdown};
use crate::domain::{IncidentId, Policy};
use crate::newfile::{PRIVATE_FILE, PendingFile};
use crate::store::{Store, StoreError};

/// The report's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Md,
    Html,
    Json,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Md, ReportFormat::Html, ReportFormat::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Md => "md",
            ReportFormat::Html => "html",
            ReportFormat::Json => "json",
        }
    }

    /// The file name extension (the same as the name).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportFormat::Md => "Markdown",
            ReportFormat::Html => "HTML",
            ReportFormat::Json => "JSON",
        }
    }

    /// Renders a built report in this form.
    pub fn render(self, report: &Report) -> String {
        match self {
            ReportFormat::Md => markdown::render(report),
            ReportFormat::Html => html::render(report),
            ReportFormat::Json => report.to_json(),
        }
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(ReportFormat::Md),
            "html" => Ok(ReportFormat::Html),
            "json" => Ok(ReportFormat::Json),
            _ => Err(format!("'{s}' is not a report format (md, html, json)")),
        }
    }
}

/// The default file name of a report: the incident's id and the form's
/// extension, e.g. `INC-2026-001.md`.
pub fn default_file_name(id: &IncidentId, format: ReportFormat) -> String {
    format!("{id}.{}", format.extension())
}

/// What the access to the evidence is recorded as.
pub fn access_purpose(format: ReportFormat, destination: &str) -> String {
    format!("included in a report ({format}) written to {destination}")
}

/// Where a report went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The absolute path written.
    pub path: PathBuf,
    pub bytes: usize,
    /// An older file at that path was replaced.
    pub replaced: bool,
    /// Evidence items whose access was recorded.
    pub evidence_items: usize,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Builds the report of `id` at `now` and writes it to `path` (relative
/// paths are taken from the current directory), replacing an older file
/// there. The access to the incident's evidence is recorded before the
/// file appears.
pub fn write_report(
    store: &mut Store,
    id: &IncidentId,
    format: ReportFormat,
    path: &Path,
    policy: &Policy,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Written, StoreError> {
    if path.as_os_str().is_empty() {
        return Err(StoreError::Invalid(
            "give a file to write the report to".into(),
        ));
    }
    let path = std::path::absolute(path).map_err(io(path))?;
    if path.is_dir() {
        return Err(StoreError::Invalid(format!(
            "{} is a directory; give a file name",
            path.display()
        )));
    }
    let input = ReportInput::load(store, id)?;
    let text = format.render(&Report::build(&input, policy, now));
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    // Written beside the destination under an unpredictable name, never
    // through a link planted there; dropped (removed) on any failure.
    let pending = (|| {
        let mut f = PendingFile::new_in(dir, &name, PRIVATE_FILE)?;
        f.write_all(text.as_bytes())?;
        Ok(f)
    })()
    .map_err(io(&path))?;
    let evidence_items = store.record_evidence_access(
        id,
        &access_purpose(format, &path.display().to_string()),
        actor,
        now,
    )?;
    let replaced = path.exists();
    pending.commit(&path).map_err(io(&path))?;
    Ok(Written {
        path,
        bytes: text.len(),
        replaced,
        evidence_items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Playbook, Severity};
    use crate::store::{EvidenceContent, NewEvidence, NewIncident};
    use chrono::{FixedOffset, TimeZone};
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_link_planted_at_the_temporary_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        let i = store
            .create_incident(
                &NewIncident::new("Report me", Severity::P2),
                &Playbook::builtin(),
                "alice",
                now,
            )
            .unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        // The name the report used to be written under, and guesses.
        for name in [
            format!(".r.md.partial-{}", std::process::id()),
            ".r.md.partial".into(),
            ".r.md.tmp".into(),
        ] {
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        let out = dir.path().join("r.md");
        let policy = Policy::builtin();
        write_report(
            &mut store,
            &i.id,
            ReportFormat::Md,
            &out,
            &policy,
            "bob",
            now,
        )
        .unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(fs::read_to_string(&out).unwrap().contains("Report me"));
        let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn writes_in_place_records_the_access_and_replaces_an_older_report() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("w.db")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        let i = store
            .create_incident(
                &NewIncident::new("Report me", Severity::P2),
                &Playbook::builtin(),
                "alice",
                now,
            )
            .unwrap();
        let policy = Policy::builtin();
        let out = dir.path().join(default_file_name(&i.id, ReportFormat::Md));
        let w = write_report(
            &mut store,
            &i.id,
            ReportFormat::Md,
            &out,
            &policy,
            "bob",
            now,
        )
        .unwrap();
        assert_eq!(w.path, out);
        assert!(!w.replaced);
        assert_eq!(w.evidence_items, 0, "no evidence, no access recorded");
        assert!(fs::read_to_string(&out).unwrap().contains("Report me"));

        store
            .add_evidence(
                &i.id,
                &NewEvidence {
                    content: EvidenceContent::Note("seen".into()),
                    description: String::new(),
                    source_host: "h".into(),
                    tz: FixedOffset::east_opt(0).unwrap(),
                },
                "alice",
                now,
            )
            .unwrap();
        let w = write_report(
            &mut store,
            &i.id,
            ReportFormat::Md,
            &out,
            &policy,
            "bob",
            now,
        )
        .unwrap();
        assert!(w.replaced);
        assert_eq!(w.evidence_items, 1);
        let access = store
            .custody(&i.id)
            .unwrap()
            .into_iter()
            .find(|c| c.action == "accessed")
            .expect("access recorded");
        assert_eq!(access.to, "bob");
        assert!(access.purpose.contains("report (md)"), "{}", access.purpose);
        assert!(access.purpose.contains(&out.display().to_string()));
        // No temporary file is left beside it.
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".partial"))
            .collect();
        assert!(left.is_empty());

        // A directory is refused; a missing parent is an I/O error; both
        // leave no access behind.
        let before = store.custody(&i.id).unwrap().len();
        assert!(
            write_report(
                &mut store,
                &i.id,
                ReportFormat::Html,
                dir.path(),
                &policy,
                "bob",
                now
            )
            .is_err()
        );
        let missing = dir.path().join("no/such/dir/r.html");
        assert!(
            write_report(
                &mut store,
                &i.id,
                ReportFormat::Html,
                &missing,
                &policy,
                "bob",
                now
            )
            .is_err()
        );
        assert_eq!(store.custody(&i.id).unwrap().len(), before);
    }

    #[test]
    fn formats_parse_and_name_files() {
        assert_eq!("HTML".parse::<ReportFormat>().unwrap(), ReportFormat::Html);
        assert_eq!(
            "markdown".parse::<ReportFormat>().unwrap(),
            ReportFormat::Md
        );
        assert!("pdf".parse::<ReportFormat>().is_err());
        assert_eq!(
            default_file_name(&IncidentId::new(2026, 7), ReportFormat::Json),
            "INC-2026-007.json"
        );
    }
}
