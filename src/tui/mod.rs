//! The console. (Being built: see issue 3.)

use crate::cli::AppContext;

pub fn run(_ctx: &AppContext) -> anyhow::Result<()> {
    anyhow::bail!("the console is not built yet; use the incident subcommands")
}
