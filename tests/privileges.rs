//! `capture --user` (issue 14): the user privileges are dropped to must be able to create files
//! where the sensor writes, checked before anything starts; a SIGHUP reopen that fails after
//! the drop is logged and counted, and the sensor goes on with the file it had. Root only.

mod common;

use common::{is_root, require, run, signal, stderr_lines, wait_for_line, wait_with_timeout};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
#[ignore = "needs root"]
fn a_capture_whose_user_cannot_write_an_output_directory_does_not_start() {
    require(is_root(), "root (switching to user nobody)");
    let closed = tempfile::tempdir().unwrap(); // 0700, root's
    let open = tempfile::tempdir().unwrap();
    chmod(open.path(), 0o777);
    let d = closed.path().display();
    let refused = |extra: &[&str], eve: &Path, option: String| {
        let mut args = vec!["capture", "-i", "lo", "--user", "nobody"];
        args.extend(["-o", eve.to_str().unwrap()]);
        args.extend(extra);
        let r = run(&args);
        assert_eq!(r.code, Some(1));
        assert_eq!(
            r.stderr,
            format!(
                "watch3232: error: user nobody cannot create files in {d} ({option}): Permission denied (os error 13); not started\n"
            )
        );
        assert!(!eve.exists(), "nothing opened");
    };
    let eve = closed.path().join("eve.json");
    refused(&[], &eve, format!("-o {}", eve.display()));
    // The output can be written, the image directory (not there yet) cannot be created.
    let images = closed.path().join("firmware");
    refused(
        &["--extract-firmware", images.to_str().unwrap()],
        &open.path().join("eve.json"),
        format!("--extract-firmware {}", images.display()),
    );
}

#[test]
#[ignore = "needs root"]
fn a_reopen_that_fails_after_the_drop_keeps_the_old_file() {
    require(is_root(), "root (capture on lo, switching to user nobody)");
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o777);
    let eve = dir.path().join("eve.json");
    let mut child = Command::new(common::bin())
        .args(["capture", "-i", "lo", "-v", "--user", "nobody"])
        .args(["-o", eve.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = stderr_lines(&mut child);
    let mut lines = Vec::new();
    wait_for_line(&log, &mut lines, "privileges dropped");
    // logrotate moves the file away; nobody may no longer create one in the directory.
    let moved = dir.path().join("eve.json.1");
    std::fs::rename(&eve, &moved).unwrap();
    chmod(dir.path(), 0o755);
    signal(&child, "HUP");
    wait_for_line(&log, &mut lines, "cannot reopen");
    signal(&child, "TERM");
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    lines.extend(log.try_iter());
    assert_eq!(status.code(), Some(143), "{lines:?}");
    let warning = lines.iter().find(|l| l.contains("cannot reopen")).unwrap();
    assert!(
        warning.ends_with(&format!(
            "cannot reopen {} after SIGHUP: Permission denied (os error 13); still writing to the file opened before",
            eve.display()
        )),
        "{warning}"
    );
    assert!(!eve.exists());
    let text = std::fs::read_to_string(&moved).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["event_type"].as_str(), last["kind"].as_str()),
        (Some("stats"), Some("summary"))
    );
    assert_eq!(last["stats"]["output"]["reopen_failures"], 1);
    assert_eq!(last["stats"]["output"]["reopens"], 1);
}
