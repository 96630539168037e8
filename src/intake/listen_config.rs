//! `[listen]` in `intake.toml`: the webhook listener the console runs as a
//! task of its own (the headless `ingest --listen` takes the same values as
//! flags). The token is read from a file, never written in this one.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::format::Format;
use crate::domain::SourceError;

/// Default cap of a request body. Alertmanager caps a notification's
/// alerts (`max_alerts`), but a group of a few hundred alerts with long
/// annotations fits comfortably.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// Where and how the console's listener listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenConfig {
    pub address: SocketAddr,
    pub token_file: PathBuf,
    pub format: Format,
    pub max_body: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListen {
    address: Spanned<String>,
    token_file: Spanned<String>,
    format: Option<Spanned<String>>,
    max_body: Option<Spanned<i64>>,
}

impl ListenConfig {
    pub(super) fn from_raw(raw: RawListen) -> Result<ListenConfig, SourceError> {
        let at = |start: usize| Some(start);
        let address = raw.address.get_ref().parse::<SocketAddr>().map_err(|_| {
            SourceError::new(
                format!(
                    "listen.address '{}' is not an address and port (e.g. 127.0.0.1:9095)",
                    raw.address.get_ref()
                ),
                at(raw.address.span().start),
            )
        })?;
        if raw.token_file.get_ref().trim().is_empty() {
            return Err(SourceError::new(
                "listen.token_file is empty: senders must present the token it holds".into(),
                at(raw.token_file.span().start),
            ));
        }
        let format = match &raw.format {
            None => Format::Alertmanager,
            Some(f) => match f.get_ref().as_str() {
                "alertmanager" => Format::Alertmanager,
                // Grafana's webhook contact point speaks the same payload.
                "grafana" => Format::Alertmanager,
                "json" => Format::Json,
                other => {
                    return Err(SourceError::new(
                        format!(
                            "listen.format '{other}' is not a webhook format (expected alertmanager, grafana or json)"
                        ),
                        at(f.span().start),
                    ));
                }
            },
        };
        let max_body = match &raw.max_body {
            None => DEFAULT_MAX_BODY,
            Some(m) => usize::try_from(*m.get_ref())
                .ok()
                .filter(|n| *n >= 1024)
                .ok_or_else(|| {
                    SourceError::new(
                        format!("listen.max_body {} is below 1024 bytes", m.get_ref()),
                        at(m.span().start),
                    )
                })?,
        };
        Ok(ListenConfig {
            address,
            token_file: PathBuf::from(raw.token_file.into_inner()),
            format,
            max_body,
        })
    }
}

/// The bearer token senders must present, from its file: private to its
/// owner, one word on one line.
pub fn read_token(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    use std::os::unix::fs::PermissionsExt;
    let meta =
        std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.permissions().mode() & 0o004 != 0 {
        anyhow::bail!(
            "{}: the token file is readable by every user; make it private (chmod 600)",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        anyhow::bail!("{}: the token file is empty", path.display());
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        anyhow::bail!("{}: the token must be one word on one line", path.display());
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::IntakeConfig;
    use super::*;

    #[test]
    fn a_listen_table_is_read_with_defaults() {
        let c = IntakeConfig::parse(
            "[listen]\naddress = \"127.0.0.1:9095\"\ntoken_file = \"/etc/warroom/token\"\n",
        )
        .unwrap();
        let l = c.listen.unwrap();
        assert_eq!(l.address, "127.0.0.1:9095".parse().unwrap());
        assert_eq!(l.token_file, PathBuf::from("/etc/warroom/token"));
        assert_eq!(l.format, Format::Alertmanager);
        assert_eq!(l.max_body, DEFAULT_MAX_BODY);
        assert!(IntakeConfig::parse("").unwrap().listen.is_none());
    }

    #[test]
    fn bad_listen_values_are_located() {
        let text = "[listen]\naddress = \"localhost\"\ntoken_file = \"t\"\n";
        let e = IntakeConfig::parse(text).unwrap_err();
        assert!(e.message.contains("'localhost'"), "{}", e.message);
        assert_eq!(e.line_col(text), Some((2, 11)));
        let text = "[listen]\naddress = \"127.0.0.1:1\"\ntoken_file = \"t\"\nformat = \"wazuh\"\n";
        let e = IntakeConfig::parse(text).unwrap_err();
        assert!(e.message.contains("'wazuh'"), "{}", e.message);
        assert_eq!(e.line_col(text), Some((4, 10)));
        let text = "[listen]\naddress = \"127.0.0.1:1\"\n";
        let e = IntakeConfig::parse(text).unwrap_err();
        assert!(e.message.contains("token_file"), "{}", e.message);
        let text = "[listen]\naddress = \"127.0.0.1:1\"\ntoken_file = \"t\"\nmax_body = 10\n";
        let e = IntakeConfig::parse(text).unwrap_err();
        assert!(e.message.contains("1024"), "{}", e.message);
    }
}
