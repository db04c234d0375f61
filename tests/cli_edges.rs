//! The edges of the command line (issue 14): inputs are never overwritten, usage mistakes
//! exit 2 with one line naming what is wrong.

mod common;

use common::{run, testdata};
use std::path::Path;

/// The bytes of a file, to show it was not touched.
fn contents(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// A copy of the demo capture in `dir` (tests must never risk the bundled one).
fn demo_copy(dir: &Path) -> std::path::PathBuf {
    let copy = dir.join("in.pcapng");
    std::fs::copy(testdata("demo.pcapng"), &copy).unwrap();
    copy
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = demo_copy(dir.path());
    let before = contents(&input);
    let symlink = dir.path().join("link.pcapng");
    std::os::unix::fs::symlink(&input, &symlink).unwrap();
    let hard = dir.path().join("hard.pcapng");
    std::fs::hard_link(&input, &hard).unwrap();
    let input_s = input.to_str().unwrap();
    for target in [&input, &symlink, &hard] {
        let target_s = target.to_str().unwrap();
        for flag in ["-o", "--write-matched", "--extract-firmware"] {
            let r = run(&["read", flag, target_s, input_s]);
            let expected = format!(
                "watch3232: error: {flag} {target_s} is the input {input_s}: refusing to overwrite it\n"
            );
            assert_eq!(r.code, Some(2), "{flag} {target_s}: {}", r.stderr);
            assert_eq!(r.stderr, expected);
            assert!(r.events.is_empty());
            assert_eq!(
                contents(&input),
                before,
                "{flag} {target_s} left the input intact"
            );
        }
    }
    // The input named through the link, the output by its own name: the same file still.
    let r = run(&["read", "-o", input_s, symlink.to_str().unwrap()]);
    assert_eq!(r.code, Some(2));
    assert_eq!(contents(&input), before);
}

#[test]
fn an_extract_firmware_target_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("notes.txt");
    std::fs::write(&not_a_dir, b"keep me").unwrap();
    let demo = testdata("demo.pcapng");
    let r = run(&[
        "read",
        "--extract-firmware",
        not_a_dir.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        format!(
            "watch3232: error: --extract-firmware {}: exists and is not a directory\n",
            not_a_dir.display()
        )
    );
    assert_eq!(contents(&not_a_dir), b"keep me");
}

#[test]
fn distinct_outputs_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = demo_copy(dir.path());
    let before = contents(&input);
    let out = dir.path().join("eve.json");
    let r = run(&["read", "-o", out.to_str().unwrap(), input.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!contents(&out).is_empty());
    assert_eq!(contents(&input), before);
}
