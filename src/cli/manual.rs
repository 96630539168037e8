//! `warroom man DIR` (hidden): writes the manual pages, generated from the
//! clap definitions (`warroom.1` and one page per subcommand, such as
//! `warroom-incident-new.1`) and the hand-written file-format pages
//! `warroom-rules.5` and `warroom-policy.5` (in `assets/man/`). Generated on
//! demand by the packaging script rather than by a build script, so no
//! ordinary build pays for it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use clap_mangen::Man;

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// The hand-written pages of section 5: (file name, roff source).
pub const FORMAT_PAGES: &[(&str, &str)] = &[
    (
        "warroom-rules.5",
        include_str!("../../assets/man/warroom-rules.5"),
    ),
    (
        "warroom-policy.5",
        include_str!("../../assets/man/warroom-policy.5"),
    ),
];

const MANUAL: &str = "warroom manual";

/// Pages every generated page points at: (name, section).
const SEE_ALSO: &[(&str, &str)] = &[("warroom-rules", "5"), ("warroom-policy", "5")];

pub fn run(args: &ManArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("{}: cannot create the directory", args.dir.display()))?;
    let mut written = Vec::new();
    let mut cmd = super::completions::command().disable_help_subcommand(true);
    cmd.build();
    generate(&cmd, &args.dir, &mut written)?;
    for (name, source) in FORMAT_PAGES {
        let path = args.dir.join(name);
        write_file(&path, source.as_bytes())?;
        written.push(path);
    }
    for p in &written {
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// One page for `cmd` and, recursively, one for each visible subcommand.
fn generate(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        generate(sub, dir, written)?;
    }
    let man = Man::new(cmd.clone())
        .manual(MANUAL)
        .source(concat!("warroom ", env!("CARGO_PKG_VERSION")));
    let mut page = Vec::new();
    man.render(&mut page).context("rendering a manual page")?;
    // clap_mangen has no SEE ALSO; every page points at its parent command
    // and the file formats.
    let parent = cmd
        .get_display_name()
        .and_then(|n| n.rsplit_once('-'))
        .map(|(p, _)| (p.to_string(), "1"));
    let refs: Vec<(String, &str)> = parent
        .into_iter()
        .chain(SEE_ALSO.iter().map(|(n, s)| (n.to_string(), *s)))
        .collect();
    writeln!(page, ".SH \"SEE ALSO\"")?;
    for (i, (name, section)) in refs.iter().enumerate() {
        let comma = if i + 1 < refs.len() { "," } else { "" };
        writeln!(page, ".BR {} ({section}){comma}", name.replace('-', "\\-"))?;
    }
    let path = dir.join(man.get_filename());
    write_file(&path, &page)?;
    written.push(path);
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}
