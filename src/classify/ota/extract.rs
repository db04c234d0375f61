//! `--extract-firmware` for both OTA families: a whole image is queued as `DIR/<md5>.bin` for
//! the driver to write; anything else says in its event why not, and the family counts it.

use crate::artifact::Artifact;
use crate::classify::Context;
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
