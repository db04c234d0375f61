//! Flags of the anomaly path (`--watch-ports`, `--allowlist`, scan thresholds).

use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use watch3232::classify::anomaly::{allowlist::Allowlist, AnomalyConfig};

#[derive(Debug, Args)]
pub struct AnomalyArgs {
    /// TCP and UDP ports whose unclaimed flows are reported as anomalies; each 1 to 65535.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "3232,8266,2040",
        value_name = "PORTS",
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub watch_ports: Vec<u16>,

    /// File of hosts, networks and ports whose anomalies are silenced (counted in stats).
    /// Lines: `host IP`, `net CIDR` or `port N[/tcp|/udp]`, then optionally the findings to
    /// silence (e.g. `scan,beacon`), then `# note`.
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<PathBuf>,

    /// Horizontal scan: distinct hosts one source probes on watched ports within the window
    /// (2 to 1000000).
    #[arg(long, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub scan_hosts: u64,

    /// Vertical scan: distinct watched ports one source probes on one host within the window
    /// (2 to 65535).
    #[arg(long, default_value_t = 3, value_name = "N",
          value_parser = clap::value_parser!(u64).range(2..=65_535))]
    pub scan_ports: u64,

    /// Length of a scan window, seconds of packet time (1 to 86400).
    #[arg(long, default_value_t = 60, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub scan_window: u64,
}

impl AnomalyArgs {
    /// The anomaly configuration; reads and checks the allowlist file.
    pub fn config(&self) -> Result<AnomalyConfig, String> {
        let allowlist = match &self.allowlist {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read allowlist {}: {e}", path.display()))?;
                let list = Allowlist::parse(&text)
                    .map_err(|e| format!("allowlist {}: {e}", path.display()))?;
                Some(Arc::new(list))
            }
        };
        // The ranges are checked by clap (at least 2 each).
        Ok(AnomalyConfig {
            scan_hosts: usize::try_from(self.scan_hosts).unwrap_or(usize::MAX),
            scan_ports: usize::try_from(self.scan_ports).unwrap_or(usize::MAX),
            scan_window_secs: self.scan_window,
            allowlist,
            ..AnomalyConfig::default()
        })
    }
}
