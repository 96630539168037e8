//! Evidence leaving the store: export bundles (a directory or a tar file)
//! and single copies out. Items are streamed (memory does not grow with
//! their size), re-hashed on the way against the hash their collection
//! event recorded, and every file and folder written is owner-only
//! (0600/0700) whatever the umask.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::changes::load_in_tx;
use super::evidence::{ExportSummary, STORE_CUSTODIAN};
use super::evidence_check::ItemCheck;
use super::evidence_files::{copy_sparse, io_err, private_dir};
use super::rows::non_blank;
use super::timeline::{NewEvent, append};
use super::{Result, Store, StoreError};
use crate::domain::IncidentId;
use crate::domain::event::format_time;
use crate::domain::evidence::{CheckResult, CustodyEvent, EvidenceItem, kinds, sha256_hex};
use crate::newfile::{PRIVATE_DIR, PRIVATE_FILE, PendingFile, create_exclusive, parent_dir};

/// One file of a bundle: a stored item (streamed from the store) or text
/// made for the bundle.
enum BundleFile {
    Item {
        id: i64,
        path: std::path::PathBuf,
        sha256: String,
        size: u64,
    },
    Text(Vec<u8>),
}

/// The error for an item whose copy or record no longer matches.
fn damaged(c: &ItemCheck, what: &str) -> StoreError {
    let why = match c.result {
        CheckResult::Altered => c.problem.clone().unwrap_or_default(),
        CheckResult::Missing => format!("evidence #{}'s stored copy is missing", c.item),
        _ => format!("evidence #{} no longer matches its recorded hash", c.item),
    };
    StoreError::Io {
        path: c.path.clone(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{why}; nothing {what} (run `warroom evidence verify`)"),
        ),
    }
}

/// The error for content that changed while it was being copied.
fn changed_in_copy(path: &Path, item: i64) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!("evidence #{item} changed while it was being copied; nothing kept"),
        ),
    }
}

impl Store {
    /// Writes an incident's evidence as a bundle a third party can check
    /// with `sha256sum -c SHA256SUMS`: `items/`, `custody.log`,
    /// `manifest.json` (with the legal hold, if any) and `SHA256SUMS`. `out`
    /// ending in `.tar` is written as a tar archive (one top folder named
    /// after the file), anything else as a new (or empty) directory. Every
    /// item is checked first; a damaged store refuses the export. Each item
    /// gets an `evidence.exported` custody event.
    pub fn export_evidence(
        &mut self,
        id: &IncidentId,
        out: &Path,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ExportSummary> {
        let incident = self.incident(id)?;
        let items = self.evidence(id)?;
        let hold = self.legal_hold(id)?;
        let custody = self.custody(id)?;
        let hold_history: Vec<_> = {
            let mut tl = self.timeline(id.as_str(), None)?;
            tl.reverse();
            tl.into_iter()
                .filter(|e| e.kind == kinds::HOLD_SET || e.kind == kinds::HOLD_RELEASED)
                .map(|e| {
                    json!({
                        "at": format_time(e.at),
                        "actor": e.actor,
                        "kind": e.kind,
                        "detail": e.detail,
                    })
                })
                .collect()
        };
        if let Some(bad) = self
            .check_items(&items)?
            .iter()
            .find(|c| c.result != CheckResult::Ok)
        {
            return Err(damaged(bad, "exported"));
        }
        let dir = self.evidence_dir();
        let mut files: Vec<(String, BundleFile)> = Vec::new();
        let mut sums = String::new();
        let mut manifest_items = Vec::new();
        for it in &items {
            let name = format!("items/{}", it.bundle_name());
            sums.push_str(&format!("{}  {name}\n", it.sha256));
            manifest_items.push(json!({
                "id": it.id,
                "file": name,
                "kind": it.kind.as_str(),
                "sha256": it.sha256,
                "size": it.size,
                "collected_by": it.collected_by,
                "collected_at": format_time(it.collected_at),
                "collected_at_local": it.collected_at_local,
                "source_host": it.source_host,
                "source_path": it.source_path,
                "description": it.description,
            }));
            files.push((
                name,
                BundleFile::Item {
                    id: it.id,
                    path: dir.join(&it.stored_path),
                    sha256: it.sha256.clone(),
                    size: it.size,
                },
            ));
        }
        let log = custody_log(id, incident.drill, &custody);
        let custody_json: Vec<_> = custody
            .iter()
            .map(|c| serde_json::to_value(c).unwrap_or_default())
            .collect();
        let manifest = json!({
            "format": "warroom-evidence-bundle/1",
            "incident": id.as_str(),
            "title": incident.title,
            "drill": incident.drill,
            "exported_at": format_time(now),
            "exported_by": actor,
            "legal_hold": hold.as_ref().map(|h| json!({
                "reason": h.reason,
                "set_by": h.set_by,
                "set_at": format_time(h.set_at),
            })),
            "legal_hold_history": hold_history,
            "items": manifest_items,
            "custody": custody_json,
        });
        let manifest_text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            + "\n";
        sums.push_str(&format!("{}  custody.log\n", sha256_hex(log.as_bytes())));
        files.push(("custody.log".into(), BundleFile::Text(log.into_bytes())));
        if let Some(h) = &hold {
            let text = format!(
                "{id} is under LEGAL HOLD since {} (set by {}): {}\nThis bundle was exported while the hold was in force.\n",
                format_time(h.set_at),
                crate::text::display_safe(&h.set_by),
                crate::text::display_safe(&h.reason)
            );
            sums.push_str(&format!(
                "{}  LEGAL_HOLD.txt\n",
                sha256_hex(text.as_bytes())
            ));
            files.push(("LEGAL_HOLD.txt".into(), BundleFile::Text(text.into_bytes())));
        }
        sums.push_str(&format!(
            "{}  manifest.json\n",
            sha256_hex(manifest_text.as_bytes())
        ));
        files.push((
            "manifest.json".into(),
            BundleFile::Text(manifest_text.into_bytes()),
        ));
        files.push(("SHA256SUMS".into(), BundleFile::Text(sums.into_bytes())));

        let is_tar = out.extension().is_some_and(|e| e == "tar");
        if is_tar {
            write_tar(out, &files, now)?;
        } else {
            write_dir(out, &files)?;
        }
        let to = format!("bundle {}", out.display());
        self.write(|tx| {
            for it in &items {
                append(
                    tx,
                    NewEvent {
                        drill: incident.drill,
                        at: now,
                        actor,
                        incident: Some(id.as_str()),
                        kind: kinds::EXPORTED,
                        detail: format!("evidence #{} exported to {}", it.id, out.display()),
                        data: json!({
                            "item": it.id,
                            "sha256": it.sha256,
                            "from": STORE_CUSTODIAN,
                            "to": to,
                            "purpose": "export",
                            "legal_hold": hold.is_some(),
                        }),
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(ExportSummary {
            incident: id.as_str().to_string(),
            out: out.to_path_buf(),
            items: items.len(),
            legal_hold: hold.is_some(),
            files: files.into_iter().map(|(n, _)| n).collect(),
        })
    }

    /// Copies one stored item out to `out` (a new file, 0600) for someone
    /// to work on, checking its hash as it streams, and records the access
    /// as a custody event. The stored copy never leaves the store.
    pub fn copy_evidence_out(
        &mut self,
        id: &IncidentId,
        item: i64,
        out: &Path,
        purpose: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CustodyEvent> {
        let purpose = non_blank(purpose, "accessing evidence needs a purpose")?;
        let ev = self.evidence_item(id, item)?;
        let check = self.check_items(std::slice::from_ref(&ev))?;
        if let Some(bad) = check.iter().find(|c| c.result != CheckResult::Ok) {
            return Err(damaged(bad, "copied"));
        }
        if fs::symlink_metadata(out).is_ok() {
            return Err(StoreError::Io {
                path: out.to_path_buf(),
                source: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "already exists; nothing was overwritten",
                ),
            });
        }
        copy_item_to(&self.evidence_dir().join(&ev.stored_path), &ev, out)?;
        let to = format!("{actor}: {}", out.display());
        self.write(|tx| {
            let incident = load_in_tx(tx, id.as_str())?;
            let e = append(
                tx,
                NewEvent {
                    drill: incident.drill,
                    at: now,
                    actor,
                    incident: Some(id.as_str()),
                    kind: kinds::ACCESSED,
                    detail: format!(
                        "evidence #{item} copied out to {} ({purpose})",
                        out.display()
                    ),
                    data: json!({
                        "item": item,
                        "sha256": ev.sha256,
                        "from": STORE_CUSTODIAN,
                        "to": to,
                        "purpose": purpose,
                    }),
                },
            )?;
            CustodyEvent::from_event(&e)
                .ok_or_else(|| StoreError::Invalid("custody event not readable".into()).into())
        })
    }
}

/// Streams a stored item to a new file at `out` (written under a
/// temporary name and renamed, so a failed copy leaves nothing), keeping
/// holes, and checks the hash of what was copied.
fn copy_item_to(src: &Path, it: &EvidenceItem, out: &Path) -> Result<()> {
    let mut input = File::open(src).map_err(io_err(src))?;
    let hint = out
        .file_name()
        .map_or_else(|| "evidence".into(), |n| n.to_string_lossy().into_owned());
    let mut tmp =
        PendingFile::new_in(&parent_dir(out), &hint, PRIVATE_FILE).map_err(io_err(out))?;
    let mut h = Sha256::new();
    copy_sparse(&mut input, &mut h, tmp.as_file_mut()).map_err(io_err(out))?;
    if hex::encode(h.finalize()) != it.sha256 {
        return Err(changed_in_copy(src, it.id));
    }
    tmp.commit_new(out).map_err(io_err(out))
}

fn custody_log(id: &IncidentId, drill: bool, custody: &[CustodyEvent]) -> String {
    let mut log = String::new();
    log.push_str(&format!(
        "# Chain of custody: {id}{}\n# at (UTC)\titem\taction\tfrom\tto\tpurpose\tresult\tactor\n",
        if drill { " (DRILL)" } else { "" }
    ));
    for c in custody {
        log.push_str(&format!(
            "{}\t#{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            format_time(c.at),
            c.item,
            c.action,
            crate::text::display_safe(&c.from),
            crate::text::display_safe(&c.to),
            crate::text::display_safe(&c.purpose),
            c.result.as_deref().unwrap_or("-"),
            crate::text::display_safe(&c.actor),
        ));
    }
    log
}

fn write_dir(out: &Path, files: &[(String, BundleFile)]) -> Result<()> {
    if fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(StoreError::Invalid(format!(
            "{} is a symbolic link; give a new directory or a .tar file",
            out.display()
        )));
    }
    if out.exists() {
        let empty = fs::read_dir(out).map_err(io_err(out))?.next().is_none();
        if !empty {
            return Err(StoreError::Invalid(format!(
                "{} exists and is not empty; give a new directory or a .tar file",
                out.display()
            )));
        }
        fs::set_permissions(
            out,
            std::os::unix::fs::PermissionsExt::from_mode(PRIVATE_DIR),
        )
        .map_err(io_err(out))?;
    }
    private_dir(out)?;
    let items = out.join("items");
    private_dir(&items)?;
    // The modes asked for at creation are narrowed by the umask, never
    // widened; set them exactly.
    for d in [out, items.as_path()] {
        fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(PRIVATE_DIR))
            .map_err(io_err(d))?;
    }
    for (name, file) in files {
        let path = out.join(name);
        // Exclusive: a link planted in the folder is refused, not followed.
        let mut f = create_exclusive(&path, PRIVATE_FILE).map_err(io_err(&path))?;
        match file {
            BundleFile::Text(bytes) => f.write_all(bytes).map_err(io_err(&path))?,
            BundleFile::Item {
                id,
                path: src,
                sha256,
                ..
            } => {
                let mut input = File::open(src).map_err(io_err(src))?;
                let mut h = Sha256::new();
                copy_sparse(&mut input, &mut h, &mut f).map_err(io_err(&path))?;
                if hex::encode(h.finalize()) != *sha256 {
                    let _ = fs::remove_file(&path);
                    return Err(changed_in_copy(src, *id));
                }
            }
        }
        f.sync_all().map_err(io_err(&path))?;
    }
    Ok(())
}

/// Hashes what is read through it, so a tar entry is checked as it is
/// streamed into the archive.
struct Hashing<R> {
    inner: R,
    h: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.h.update(&buf[..n]);
        Ok(n)
    }
}

fn write_tar(out: &Path, files: &[(String, BundleFile)], now: DateTime<Utc>) -> Result<()> {
    if fs::symlink_metadata(out).is_ok() {
        return Err(StoreError::Invalid(format!(
            "{} already exists; nothing was overwritten",
            out.display()
        )));
    }
    let top = out
        .file_stem()
        .map_or_else(|| "evidence".into(), |s| s.to_string_lossy().into_owned());
    let hint = out.file_name().map_or_else(
        || "evidence.tar".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = PendingFile::new_in(&parent_dir(out), &hint, PRIVATE_FILE).map_err(io_err(out))?;
    let mut b = tar::Builder::new(tmp);
    let mtime = u64::try_from(now.timestamp()).unwrap_or(0);
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(PRIVATE_DIR);
    dir.set_size(0);
    dir.set_mtime(mtime);
    let io = io_err(out);
    let header = |size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(PRIVATE_FILE);
        h.set_mtime(mtime);
        h
    };
    let written = (|| -> Result<()> {
        let e = io_err(out);
        b.append_data(&mut dir.clone(), format!("{top}/"), io::empty())
            .and_then(|()| b.append_data(&mut dir, format!("{top}/items/"), io::empty()))
            .map_err(e)?;
        for (name, file) in files {
            let path = format!("{top}/{name}");
            match file {
                BundleFile::Text(bytes) => b
                    .append_data(&mut header(bytes.len() as u64), path, bytes.as_slice())
                    .map_err(io_err(out))?,
                BundleFile::Item {
                    id,
                    path: src,
                    sha256,
                    size,
                } => {
                    let input = File::open(src).map_err(io_err(src))?;
                    // The header states the size: an entry that turns out
                    // shorter or longer fails the append.
                    let mut reader = Hashing {
                        inner: input.take(*size),
                        h: Sha256::new(),
                    };
                    b.append_data(&mut header(*size), path, &mut reader)
                        .map_err(io_err(out))?;
                    if hex::encode(reader.h.finalize()) != *sha256 {
                        return Err(changed_in_copy(src, *id));
                    }
                }
            }
        }
        Ok(())
    })();
    written?;
    let tmp = b.into_inner().map_err(io)?;
    tmp.commit_new(out).map_err(io_err(out))
}

#[cfg(test)]
#[path = "evidence_export_tests.rs"]
mod tests;
