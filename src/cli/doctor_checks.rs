//! The checks `warroom doctor` runs, one function per part of the setup.
//! Each returns findings (see `finding::Finding`); none changes anything it
//! looks at (the database is opened read-only, files are only opened for
//! reading).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::doctor_host::{effective_uid, find_program, my_groups, user};
use super::finding::Finding;
use crate::comms::{Audience, CommsConfig, SinkKind, Templates};
use crate::detect::setup::WatchSetup;
use crate::domain::{Playbook, Policy};
use crate::store::{StoreError, peek};

/// The largest configuration file read, as the loaders allow.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The database file (and its -wal/-shm companions): owner-only mode,
/// owned by whoever runs warroom, a warroom database, sound.
pub fn database(db: &Path) -> Vec<Finding> {
    const C: &str = "database";
    let mut out = Vec::new();
    let shown = db.display();
    let meta = match std::fs::metadata(db) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = db.parent().filter(|d| !d.as_os_str().is_empty());
            return match dir.map(nearest_existing) {
                Some(Some(d)) if !writable_by_me(&d) => vec![Finding::fail(
                    C,
                    format!(
                        "{shown} does not exist and {} is not writable by {}",
                        d.display(),
                        user()
                    ),
                    format!(
                        "create it as its owner: sudo install -d -o {} -m 700 {}",
                        user(),
                        db.parent().map_or(d.clone(), Path::to_path_buf).display()
                    ),
                )],
                _ => vec![Finding::note(
                    C,
                    format!(
                        "{shown} does not exist yet; warroom creates it (mode 0600) on first use"
                    ),
                )],
            };
        }
        Err(e) => {
            return vec![Finding::fail(
                C,
                format!("{shown}: cannot read its metadata: {e}"),
                "check the path given by --db or WARROOM_DB and the directories' permissions",
            )];
        }
    };
    if !meta.is_file() {
        return vec![Finding::fail(
            C,
            format!("{shown} is not a regular file"),
            "point --db (or WARROOM_DB) at warroom's database file",
        )];
    }
    let mut files = vec![db.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if p.exists() {
            files.push(p);
        }
    }
    let me = effective_uid();
    let mut modes_ok = true;
    for f in &files {
        let Ok(m) = std::fs::metadata(f) else {
            continue;
        };
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            modes_ok = false;
            out.push(Finding::fail(
                C,
                format!(
                    "{} has mode {mode:04o}: others can read the incident record",
                    f.display()
                ),
                format!("chmod 600 {}", f.display()),
            ));
        }
        if m.uid() != me {
            modes_ok = false;
            out.push(Finding::fail(
                C,
                format!("{} is owned by uid {}, not by {} (uid {me}) who runs warroom", f.display(), m.uid(), user()),
                format!(
                    "run warroom (and doctor) as the owner, e.g. sudo -u '#{}' warroom doctor, or give it to this user: sudo chown {} {}",
                    m.uid(),
                    user(),
                    f.display()
                ),
            ));
        }
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(m) = std::fs::metadata(dir)
        && m.permissions().mode() & 0o022 != 0
    {
        modes_ok = false;
        out.push(Finding::fail(
            C,
            format!(
                "{} is writable by others: they could replace the database",
                dir.display()
            ),
            format!("chmod go-w {}", dir.display()),
        ));
    }
    match peek(db) {
        Ok(p) if !p.damage.is_empty() => out.push(Finding::fail(
            C,
            format!("{shown} is damaged: {}", p.damage.join("; ")),
            "restore the newest backup; then run warroom verify",
        )),
        Ok(p) if p.schema > p.known => out.push(Finding::fail(
            C,
            format!(
                "{shown} was written by a newer warroom (schema {}, this one knows {})",
                p.schema, p.known
            ),
            "upgrade warroom on this host",
        )),
        Ok(p) => {
            if modes_ok {
                out.push(Finding::ok(
                    C,
                    format!(
                        "{shown}: warroom database, schema {}, mode 0600, owned by {}",
                        p.schema,
                        user()
                    ),
                ));
            }
        }
        Err(e @ StoreError::Corrupt { .. }) => out.push(Finding::fail(
            C,
            e.to_string(),
            "point --db (or WARROOM_DB) at warroom's database, or restore the newest backup of it",
        )),
        Err(e @ StoreError::NotWarroom { .. }) => out.push(Finding::fail(
            C,
            e.to_string(),
            "point --db (or WARROOM_DB) at warroom's database, not another program's",
        )),
        Err(e) => out.push(Finding::fail(
            C,
            format!("{shown}: cannot be read: {e}"),
            "run as the database's owner, or fix the permissions of the file and its directory",
        )),
    }
    out
}

fn nearest_existing(p: &Path) -> Option<PathBuf> {
    p.ancestors().find(|a| a.exists()).map(Path::to_path_buf)
}

/// Whether the current user may create files in `dir` (owner, group or
/// other write bit that applies; root always may).
fn writable_by_me(dir: &Path) -> bool {
    let Ok(m) = std::fs::metadata(dir) else {
        return false;
    };
    let me = effective_uid();
    let mode = m.permissions().mode();
    me == 0
        || (m.uid() == me && mode & 0o200 != 0)
        || (my_groups().contains(&m.gid()) && mode & 0o020 != 0)
        || mode & 0o002 != 0
}

/// What the configuration files held, for the checks that use them.
pub struct Config {
    pub findings: Vec<Finding>,
    pub watch: Option<WatchSetup>,
    pub comms: Option<CommsConfig>,
}

/// Every configuration file parses; each problem names file:line:col.
pub fn config_files(dir: &Path) -> Config {
    const C: &str = "config";
    let mut findings = Vec::new();
    let fix_for = |file: &str| {
        format!(
            "edit {} at the place named (see man 5 warroom-policy)",
            dir.join(file).display()
        )
    };
    for (file, parse) in [
        (
            "policy.toml",
            (|t: &str| Policy::from_toml(t).map(drop)) as fn(&str) -> _,
        ),
        ("playbook.toml", |t: &str| Playbook::from_toml(t).map(drop)),
    ] {
        let path = dir.join(file);
        match crate::config::read_user_file(&path, MAX_CONFIG_BYTES) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                findings.push(Finding::note(
                    C,
                    format!(
                        "{file}: none in {}; the built-in one applies",
                        dir.display()
                    ),
                ));
            }
            Err(e) => findings.push(Finding::fail(
                C,
                format!("{}: cannot read: {e}", path.display()),
                fix_for(file),
            )),
            Ok(bytes) => match String::from_utf8(bytes) {
                Err(e) => findings.push(Finding::fail(
                    C,
                    format!(
                        "{}: not valid UTF-8 (byte {})",
                        path.display(),
                        e.utf8_error().valid_up_to()
                    ),
                    fix_for(file),
                )),
                Ok(text) => match parse(&text) {
                    Ok(()) => findings.push(Finding::ok(C, format!("{} parses", path.display()))),
                    Err(e) => {
                        findings.push(Finding::fail(C, e.located(&path, &text), fix_for(file)))
                    }
                },
            },
        }
    }
    let comms_path = dir.join("comms.toml");
    let comms = match CommsConfig::load(dir) {
        Ok(c) => {
            findings.push(if comms_path.exists() {
                Finding::ok(C, format!("{} parses", comms_path.display()))
            } else {
                Finding::note(
                    C,
                    format!("comms.toml: none in {}; no sinks configured", dir.display()),
                )
            });
            Some(c)
        }
        Err(e) => {
            findings.push(Finding::fail(C, format!("{e:#}"), fix_for("comms.toml")));
            None
        }
    };
    let templates = dir.join("templates");
    match Templates::load(&templates) {
        Ok(_) if templates.exists() => {
            findings.push(Finding::ok(C, format!("{} loads", templates.display())))
        }
        Ok(_) => {}
        Err(e) => findings.push(Finding::fail(
            C,
            e.to_string(),
            format!("fix or remove the template in {}", templates.display()),
        )),
    }
    let watch = match WatchSetup::load(dir) {
        Ok(Some(w)) => {
            findings.push(Finding::ok(
                C,
                format!("{} parses", dir.join("watch.toml").display()),
            ));
            Some(w)
        }
        Ok(None) => {
            findings.push(Finding::note(
                C,
                format!(
                    "watch.toml: none in {}; the console runs no watcher",
                    dir.display()
                ),
            ));
            None
        }
        Err(e) => {
            findings.push(Finding::fail(C, format!("{e:#}"), fix_for("watch.toml")));
            None
        }
    };
    Config {
        findings,
        watch,
        comms,
    }
}

/// Messages can reach customers: some sink serving the customers
/// audience by default is a command (an outbox or the clipboard reaches
/// nobody by itself), and its program exists.
pub fn sinks(comms: Option<&CommsConfig>, db: &Path) -> Vec<Finding> {
    const C: &str = "sinks";
    let Some(comms) = comms else {
        return vec![Finding::fail(
            C,
            "not checked: comms.toml does not parse",
            "fix comms.toml first",
        )];
    };
    let sinks = comms.effective_sinks(db);
    let reaching: Vec<_> = sinks
        .iter()
        .filter(|s| s.default && s.serves(Audience::Customers))
        .filter_map(|s| match &s.kind {
            SinkKind::Command { argv, .. } => Some((s.name.clone(), argv.clone())),
            _ => None,
        })
        .collect();
    if reaching.is_empty() {
        let kinds: Vec<String> = sinks
            .iter()
            .map(|s| format!("{} ({})", s.name, s.kind.as_str()))
            .collect();
        return vec![Finding::fail(
            C,
            format!("no sink reaches customers: only {}", kinds.join(", ")),
            "add a command sink in comms.toml, e.g. [[sinks]] name = \"mail\" kind = \"command\" argv = [\"/usr/sbin/sendmail\", \"-t\", \"-oi\"], and [audiences.customers] to = [...] (see man 5 warroom-policy)",
        )];
    }
    let mut out = Vec::new();
    for (name, argv) in reaching {
        let Some(program) = argv.first() else {
            continue;
        };
        if find_program(program).is_some() {
            out.push(Finding::ok(
                C,
                format!("sink {name} reaches customers through {program}"),
            ));
        } else {
            out.push(Finding::fail(
                C,
                format!("sink {name}: {program} is not an executable program"),
                format!("install {program} or correct argv of sink {name} in comms.toml"),
            ));
        }
    }
    if comms.recipients(Audience::Customers).is_empty() {
        out.push(Finding::note(
            C,
            "the customers audience has no recipients ([audiences.customers] to = [...]): messages go out as plain text, not mail",
        ));
    }
    out
}
