//! What the classifiers are told: the ports they own, their tunables and the Community ID
//! seed. The engine's own settings (flow table, tunnel depth) compose around it in
//! `engine::Config`; each classifier's constructor takes only its part.

use super::anomaly::AnomalyConfig;
use super::ota::OtaConfig;

#[derive(Clone, Debug)]
pub struct Config {
    /// UDP ports an ArduinoOTA device listens on (3232 ESP32, 8266 ESP8266, 2040 RP2040).
    pub ota_ports: Vec<u16>,
    pub community_id_seed: u16,
    /// Bound on each MDT table (default MDTs, PIM neighbours, C-flows, P-groups).
    pub mdt_max_entries: usize,
    /// ArduinoOTA sessions, firmware, ESPHome and OTA alerts.
    pub ota: OtaConfig,
    /// TCP and UDP ports whose unclaimed flows the anomaly path reports (`--watch-ports`).
    pub watch_ports: Vec<u16>,
    pub anomaly: AnomalyConfig,
    /// UDP destination ports decoded as VXLAN (`--vxlan-ports`); the pre-filter and the live
    /// filter pass them, as they pass GRE and GENEVE, so mirrored traffic reaches the decoder.
    pub vxlan_ports: Vec<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ota_ports: vec![3232, 8266, 2040],
            community_id_seed: 0,
            mdt_max_entries: super::mdt::DEFAULT_MAX_ENTRIES,
            ota: OtaConfig::default(),
            watch_ports: vec![3232, 8266, 2040],
            anomaly: AnomalyConfig::default(),
            vxlan_ports: crate::decode::DEFAULT_VXLAN_PORTS.to_vec(),
        }
    }
}

impl Config {
    /// What the aggregator of the cross-flow tables is told; `flow_timeout_secs` is the
    /// engine's idle timeout (scan windows wait past it for their last probe to end).
    pub fn aggregate_settings(&self, flow_timeout_secs: u64) -> crate::aggregate::Settings {
        let a = &self.anomaly;
        crate::aggregate::Settings {
            scan: crate::aggregate::scan::ScanConfig {
                hosts: a.scan_hosts,
                ports: a.scan_ports,
                window_secs: a.scan_window_secs,
                max_sources: a.max_scan_sources,
            },
            scan_grace_secs: flow_timeout_secs + 2,
            silencer: a
                .allowlist
                .clone()
                .map(|l| l as std::sync::Arc<dyn crate::aggregate::Silence>),
            max_sources: self.ota.max_sessions,
            bruteforce_threshold: self.ota.bruteforce_threshold,
            bruteforce_window_secs: self.ota.bruteforce_window_secs,
            mdt_max_entries: self.mdt_max_entries,
        }
    }
}
