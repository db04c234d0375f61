//! Builds the synthetic captures watch3232 is tested and benchmarked on.
//!
//! - [`capture`]: pcap and pcapng writers (any link type, several interfaces in pcapng).
//! - [`frame`]: link, IP and transport builders (checksums correct unless asked otherwise).
//! - [`espota`]: ArduinoOTA exchanges as the upstream espota.py and device code produce them.
//! - [`ota`]: whole OTA sessions (auth of both eras, TCP data phase, ESPHome) for `testdata/ota/`.
//! - [`scenarios`]: the bundled captures in `testdata/`.
//! - [`anomaly`]: `testdata/anomaly/` (what the anomaly path must and must not report).
//! - [`relink`]: reference OTA sessions on cooked and 802.11 links (`testdata/links/`).
//! - [`pcapng_skips`]: a pcapng with an unsupported interface and impossible blocks.
//! - [`corrupt`]: damaged and hostile mutants of valid captures (built at test time).
//! - [`bench`]: the large benchmark captures (`testgen bench-mixed|bench-small OUT`).
//!
//! Everything is deterministic: the same build writes the same bytes.

pub mod anomaly;
pub mod bench;
pub mod capture;
pub mod corrupt;
pub mod espota;
pub mod frame;
pub mod mdt;
pub mod ota;
pub mod pcapng_skips;
pub mod relink;
pub mod rng;
pub mod scenarios;
pub mod tunnels;
