//! `--extract-firmware` for both OTA families: a whole image is queued as `DIR/<md5>.bin` for
//! the driver to write; anything else says in its event why not, and the family counts it.

use crate::artifact::Artifact;
use crate::classify::Context;
use crate::event::arduino_ota::OtaDetails;
use crate::event::{Body, Event};
use crate::stats::Counters;
use std::path::Path;

/// How one image fared (the caller counts it under its own family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extraction {
    Queued,
    /// Incomplete, or larger than `--max-firmware-bytes`.
    NotExtracted,
    /// Too many bytes of images already wait to be written.
    QueueFull,
}

impl Extraction {
    /// Adds this outcome to one family's `firmware_extracted`, `firmware_not_extracted` and
    /// `firmware_write_errors`.
    pub fn count(self, [extracted, not_extracted, write_errors]: [&mut u64; 3]) {
        *match self {
            Extraction::Queued => extracted,
            Extraction::NotExtracted => not_extracted,
            Extraction::QueueFull => write_errors,
        } += 1;
    }
}

/// The driver could not write `artifact`: the event that names it (still among `events`, of
/// either family) says why instead, and it counts as a write error, not an extracted image.
pub fn firmware_not_written(
    events: &mut [Event],
    counters: &mut Counters,
    artifact: &Artifact,
    error: &std::io::Error,
) {
    tracing::warn!("cannot write firmware {}: {error}", artifact.path.display());
    let shown = artifact.path.display().to_string();
    for event in events.iter_mut().rev() {
        let (extracted, written, errors) = match &mut event.body {
            Body::ArduinoOta(OtaDetails::Transfer(d)) => {
                let c = &mut counters.arduino_ota;
                (
                    &mut d.extracted,
                    &mut c.firmware_extracted,
                    &mut c.firmware_write_errors,
                )
            }
            Body::EsphomeOta(d) => {
                let c = &mut counters.esphome_ota;
                (
                    &mut d.extracted,
                    &mut c.firmware_extracted,
                    &mut c.firmware_write_errors,
                )
            }
            _ => continue,
        };
        if extracted.as_deref() == Some(shown.as_str()) {
            *extracted = Some(format!("not written: {error}"));
            *written = written.saturating_sub(1);
            *errors += 1;
            return;
        }
    }
}

/// Queues `image` (whole, or `None`) as `DIR/<md5>.bin`. Returns what the event's `extracted`
/// field says — the path, or why nothing will be written — and how it went. A skip is logged.
pub fn queue_image(
    cx: &mut Context<'_>,
    dir: &Path,
    image: Option<Vec<u8>>,
    md5: Option<&str>,
    over_cap: bool,
    what: &dyn std::fmt::Display,
) -> (String, Extraction) {
    let (Some(image), Some(md5)) = (image, md5) else {
        let why = if over_cap {
            "larger than --max-firmware-bytes"
        } else {
            "image incomplete"
        };
        tracing::warn!("{what}: firmware not extracted: {why}");
        return (format!("not written: {why}"), Extraction::NotExtracted);
    };
    let path = dir.join(format!("{md5}.bin"));
    let shown = path.display().to_string();
    match cx.queue_artifact(Artifact { path, bytes: image }) {
        Ok(()) => (shown, Extraction::Queued),
        Err(_) => {
            tracing::warn!("cannot write firmware {shown}: too many images waiting to be written");
            (
                "not written: too many images waiting to be written".to_string(),
                Extraction::QueueFull,
            )
        }
    }
}
