//! Builds the synthetic captures watch3232 is tested and benchmarked on.
//!
//! - [`capture`]: pcap and pcapng writers (any link type, several interfaces in pcapng).
//! - [`frame`]: link, IP and transport builders (checksums correct unless asked otherwise).
//! - [`espota`]: ArduinoOTA exchanges as the upstream espota.py and device code produce them.
//! - [`scenarios`]: the bundled captures in `testdata/`.
//! - [`bench`]: the large benchmark captures (`testgen bench-mixed|bench-small OUT`).
//!
//! Everything is deterministic: the same build writes the same bytes.

pub mod bench;
pub mod capture;
pub mod espota;
pub mod frame;
pub mod rng;
pub mod scenarios;
