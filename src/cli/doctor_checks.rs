//! The checks `warroom doctor` runs, one function per part of the setup.
//! Each returns findings (see `finding::Finding`); none changes anything it
//! looks at (the database is opened read-only, files are only opened for
//! reading).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::finding::Finding;
use crate::comms::{Audience, CommsConfig, SinkKind, Templates};
use crate::detect::RuleSet;
use crate::detect::setup::WatchSetup;
use crate::domain::{Playbook, Policy};
use crate::store::{StoreError, peek};

/// The largest configuration file read, as the loaders allow.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn user() -> String {
    super::os_user()
}

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

/// The process's group ids (effective and supplementary), from
/// /proc/self/status.
fn my_groups() -> Vec<u32> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mut gids = Vec::new();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("Gid:") {
            gids.extend(
                rest.split_whitespace()
                    .nth(1)
                    .and_then(|g| g.parse::<u32>().ok()),
            );
        }
        if let Some(rest) = line.strip_prefix("Groups:") {
            gids.extend(
                rest.split_whitespace()
                    .filter_map(|g| g.parse::<u32>().ok()),
            );
        }
    }
    gids
}

/// The id of a group by name, from /etc/group.
fn group_id(name: &str) -> Option<u32> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

fn group_name(gid: u32) -> Option<String> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.get(2)?.parse::<u32>().ok()? == gid).then(|| f[0].to_string())
    })
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

/// The rule files watch.toml names (or the shipped ones) and any given with
/// `--rules` load, and none is refused.
pub fn rules(watch: Option<&WatchSetup>, extra: &[PathBuf]) -> Vec<Finding> {
    const C: &str = "rules";
    let mut sets: Vec<(String, RuleSet)> = Vec::new();
    match watch.map(|w| w.rules.clone()).filter(|r| !r.is_empty()) {
        Some(files) => sets.push((list(&files), RuleSet::load(&files))),
        None => sets.push(("the shipped rules".into(), RuleSet::builtin())),
    }
    if !extra.is_empty() {
        sets.push((list(extra), RuleSet::load(extra)));
    }
    let mut out = Vec::new();
    for (what, set) in sets {
        if set.problems.is_empty() && !set.rules.is_empty() {
            out.push(Finding::ok(
                C,
                format!("{what}: {} rules load, none refused", set.rules.len()),
            ));
            continue;
        }
        if set.rules.is_empty() && set.problems.is_empty() {
            out.push(Finding::fail(
                C,
                format!("{what}: no rules"),
                "give rule files that hold rules (see man 5 warroom-rules)",
            ));
        }
        for p in &set.problems {
            out.push(Finding::fail(
                C,
                format!("{p} (rule refused)"),
                format!("correct the rule at the place named; warroom rules check {what} lists every problem (see man 5 warroom-rules)"),
            ));
        }
    }
    out
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each file the watcher follows (watch.toml's `logs`, and `--log`)
/// exists and is readable by this user.
pub fn sources(watch: Option<&WatchSetup>, extra: &[PathBuf]) -> Vec<Finding> {
    let mut patterns: Vec<PathBuf> = watch.map(|w| w.logs.clone()).unwrap_or_default();
    patterns.extend(extra.iter().cloned());
    let mut out = Vec::new();
    for pattern in patterns {
        let text = pattern.to_string_lossy().into_owned();
        if text.contains(['*', '?', '[']) {
            let matches: Vec<PathBuf> = glob::glob(&text)
                .map(|g| g.filter_map(Result::ok).collect())
                .unwrap_or_default();
            if matches.is_empty() {
                out.push(Finding::fail(
                    "source",
                    format!("{text} matches no file"),
                    "check the pattern; on a host without rsyslog (no /var/log/auth.log) follow the journal instead",
                ));
            }
            out.extend(matches.iter().map(|m| log_file(m)));
        } else {
            out.push(log_file(&pattern));
        }
    }
    out
}

fn log_file(path: &Path) -> Finding {
    const C: &str = "source";
    let shown = path.display();
    match std::fs::File::open(path) {
        Ok(f) => match f.metadata() {
            Ok(m) if m.is_file() => Finding::ok(C, format!("{shown} is readable")),
            _ => Finding::fail(
                C,
                format!("{shown} is not a regular file"),
                "follow log files only",
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Finding::fail(
            C,
            format!("{shown} does not exist"),
            "fix the path; on a host without rsyslog (no /var/log/auth.log) follow the journal instead",
        ),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let group = std::fs::metadata(path)
                .ok()
                .and_then(|m| group_name(m.gid()));
            let fix = match group {
                Some(g) if g != "root" => format!(
                    "add {u} to the group {g} that may read it: sudo usermod -aG {g} {u} (then log in again)",
                    u = user()
                ),
                _ => format!(
                    "let {} read it: sudo setfacl -m u:{}:r {shown}",
                    user(),
                    user()
                ),
            };
            Finding::fail(C, format!("{shown} is not readable by {}", user()), fix)
        }
        Err(e) => Finding::fail(
            C,
            format!("{shown}: cannot open: {e}"),
            "check the path and its directories",
        ),
    }
}

/// Whether this user can read the whole system journal: `journalctl -n 0
/// -q` runs cleanly, and the user is root or in `systemd-journal` or `adm`
/// (without either, journalctl shows only the user's own entries and says
/// so only as a hint). One function, so a journal source in watch.toml can
/// call it too.
pub fn journal() -> Finding {
    const C: &str = "journal";
    let fix_group = format!(
        "add {u} to the systemd-journal group: sudo usermod -aG systemd-journal {u} (then log in again; for the service, SupplementaryGroups=systemd-journal)",
        u = user()
    );
    let run = Command::new("journalctl")
        .args(["-n", "0", "-q", "--no-pager"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let out = match run {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Finding::fail(
                C,
                "journalctl is not installed",
                "install systemd's journalctl (apt install systemd), or follow log files instead",
            );
        }
        Err(e) => {
            return Finding::fail(
                C,
                format!("journalctl cannot run: {e}"),
                "check that journalctl is executable",
            );
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    if !out.status.success() {
        let detail = if first.is_empty() {
            format!("journalctl failed ({})", out.status)
        } else {
            format!("journalctl failed: {first}")
        };
        return Finding::fail(C, detail, fix_group);
    }
    let privileged = effective_uid() == 0
        || ["systemd-journal", "adm"]
            .iter()
            .filter_map(|g| group_id(g))
            .any(|gid| my_groups().contains(&gid));
    if !privileged || stderr.contains("not seeing messages from other users") {
        return Finding::fail(
            C,
            format!(
                "{} sees only their own journal entries, not sshd's or sudo's",
                user()
            ),
            fix_group,
        );
    }
    Finding::ok(C, "the system journal is readable")
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

fn find_program(program: &str) -> Option<PathBuf> {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| executable(p))
}
