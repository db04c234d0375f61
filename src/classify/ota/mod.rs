//! What both OTA families (ArduinoOTA `arduino_ota`, ESPHome `esphome`) share: their settings,
//! the firmware image parser, `--extract-firmware`, the subject of their `alert` events, and number formatting.
//! Neither family imports the other; both import this.

pub mod alert;
pub mod config;
pub mod extract;
pub mod firmware;

pub use config::{IdSequence, OtaConfig};

/// Seconds rounded to the microsecond, as events carry them.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
