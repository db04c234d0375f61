//! Golden output: the exact EVE lines of every bundled capture, byte for byte, against
//! `testdata/golden/`. A change to the code's shape must not change one byte of what a SIEM
//! receives; a change meant to alter findings regenerates the files and shows up in review:
//!
//!     UPDATE_GOLDEN=1 cargo test --test golden

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn every_bundled_capture_gives_its_golden_events() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    common::compare_with_golden("golden", "jsonl", "events", |capture| {
        let out = Command::new(common::bin())
            .current_dir(root)
            .args(["read", "-F", "eve"])
            .arg(capture)
            .output()
            .expect("run watch3232");
        assert!(
            out.status.success(),
            "{}: exit {:?}: {}",
            capture.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    });
}
