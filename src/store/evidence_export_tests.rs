//! Evidence leaving (and entering) the store: no write through planted
//! links, owner-only modes, holes kept, links recorded with their target.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use chrono::FixedOffset;

use super::*;
use crate::domain::{Incident, Severity};
use crate::store::test_fixtures::{t0, with_incident};
use crate::store::{EvidenceContent, NewEvidence};

fn setup() -> (tempfile::TempDir, Store, Incident) {
    with_incident("Exfil", Severity::P2)
}

fn add(s: &mut Store, i: &Incident, path: &Path) -> EvidenceItem {
    s.add_evidence(
        &i.id,
        &NewEvidence {
            content: EvidenceContent::File(path.to_path_buf()),
            description: "f".into(),
            source_host: "web1".into(),
            tz: FixedOffset::east_opt(0).unwrap(),
        },
        "alice",
        t0(),
    )
    .unwrap()
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_tar_export_never_writes_through_a_link_at_its_temporary_name() {
    let (dir, mut s, i) = setup();
    let src = dir.path().join("a.log");
    fs::write(&src, b"line\n").unwrap();
    add(&mut s, &i, &src);
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    for planted in ["b.tar.partial", ".b.tar.partial", "b.partial"] {
        symlink(&victim, dir.path().join(planted)).unwrap();
    }
    let out = dir.path().join("b.tar");
    s.export_evidence(&i.id, &out, "bob", t0()).unwrap();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(mode(&out), 0o600);
    // Entries are owner-only too.
    let mut ar = tar::Archive::new(fs::File::open(&out).unwrap());
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let m = e.header().mode().unwrap();
        assert!(m == 0o600 || m == 0o700, "{:?} {m:o}", e.path());
    }
}

#[test]
fn a_directory_export_is_owner_only_and_refuses_links_inside() {
    let (dir, mut s, i) = setup();
    let src = dir.path().join("a.log");
    fs::write(&src, b"line\n").unwrap();
    add(&mut s, &i, &src);
    let out = dir.path().join("bundle");
    s.export_evidence(&i.id, &out, "bob", t0()).unwrap();
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("items")), 0o700);
    for f in ["manifest.json", "SHA256SUMS", "custody.log"] {
        assert_eq!(mode(&out.join(f)), 0o600, "{f}");
    }
    for e in fs::read_dir(out.join("items")).unwrap() {
        assert_eq!(mode(&e.unwrap().path()), 0o600);
    }
    // A link already in the target folder is refused, not written through.
    let out2 = dir.path().join("bundle2");
    fs::create_dir(&out2).unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    symlink(&victim, out2.join("manifest.json")).unwrap();
    assert!(s.export_evidence(&i.id, &out2, "bob", t0()).is_err());
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn copies_out_are_owner_only_and_refuse_an_existing_link() {
    let (dir, mut s, i) = setup();
    let src = dir.path().join("a.log");
    fs::write(&src, b"line\n").unwrap();
    let item = add(&mut s, &i, &src);
    let out = dir.path().join("copy");
    s.copy_evidence_out(&i.id, item.id, &out, "look", "bob", t0())
        .unwrap();
    assert_eq!(fs::read(&out).unwrap(), b"line\n");
    assert_eq!(mode(&out), 0o600);
    let link = dir.path().join("link");
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    symlink(&victim, &link).unwrap();
    assert!(
        s.copy_evidence_out(&i.id, item.id, &link, "look", "bob", t0())
            .is_err()
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn sparse_items_stay_sparse_in_the_store_and_in_copies() {
    let (dir, mut s, i) = setup();
    let src = dir.path().join("disk.img");
    let f = fs::File::create(&src).unwrap();
    f.set_len(64 << 20).unwrap();
    drop(f);
    let item = add(&mut s, &i, &src);
    assert_eq!(item.size, 64 << 20);
    let stored = s.evidence_dir().join(&item.stored_path);
    let blocks = |p: &Path| fs::metadata(p).unwrap().blocks() * 512;
    assert!(
        blocks(&stored) < 1 << 20,
        "stored: {} bytes on disk",
        blocks(&stored)
    );
    let out = dir.path().join("copy.img");
    s.copy_evidence_out(&i.id, item.id, &out, "look", "bob", t0())
        .unwrap();
    assert_eq!(fs::metadata(&out).unwrap().len(), 64 << 20);
    assert!(
        blocks(&out) < 1 << 20,
        "copy: {} bytes on disk",
        blocks(&out)
    );
}

#[test]
fn a_link_is_collected_as_its_target_and_recorded_as_both() {
    let (dir, mut s, i) = setup();
    let target = dir.path().join("real.log");
    fs::write(&target, b"real\n").unwrap();
    let link = dir.path().join("current.log");
    symlink(&target, &link).unwrap();
    let item = add(&mut s, &i, &link);
    assert_eq!(item.source_path.as_deref(), link.to_str());
    let collected = s
        .custody(&i.id)
        .unwrap()
        .into_iter()
        .find(|c| c.action == "collected")
        .unwrap();
    let real = fs::canonicalize(&target).unwrap();
    assert!(
        collected.from.contains(link.to_str().unwrap()),
        "{}",
        collected.from
    );
    assert!(
        collected.from.contains(real.to_str().unwrap()),
        "{}",
        collected.from
    );
    let data: serde_json::Value = serde_json::from_str(
        &s.timeline(i.id.as_str(), None)
            .unwrap()
            .into_iter()
            .find(|e| e.kind == kinds::COLLECTED)
            .unwrap()
            .data,
    )
    .unwrap();
    assert_eq!(data["resolved_path"], real.to_str().unwrap());
}
