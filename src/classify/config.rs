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
        }
    }
}
