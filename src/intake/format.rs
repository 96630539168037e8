//! The formats alerts come in: the words every part of intake shares
//! (config, decoding, the listener and its `[listen]` table).

/// The three formats `ingest` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Prometheus Alertmanager webhook v4 (also Grafana's webhook)
    Alertmanager,
    /// Wazuh alerts.json, one alert per line
    Wazuh,
    /// One JSON object per line, fields mapped in intake.toml
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Alertmanager => "alertmanager",
            Format::Wazuh => "wazuh",
            Format::Json => "json",
        }
    }
}
