//! Helpers for end-to-end tests: run the built binary, parse its JSON Lines.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_watch3232"))
}

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// The result of one run: every event line parsed, stderr as text, the exit code.
pub struct Run {
    pub events: Vec<Value>,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Run {
    pub fn of_type<'a>(&'a self, event_type: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events
            .iter()
            .filter(move |e| e["event_type"] == event_type)
    }

    pub fn of_kind<'a>(&'a self, event_type: &'a str, kind: &'a str) -> Vec<&'a Value> {
        self.of_type(event_type)
            .filter(|e| e["kind"] == kind)
            .collect()
    }

    /// The final `stats` `summary` event's `stats` object.
    pub fn summary(&self) -> &Value {
        let last = self.events.last().expect("at least the summary event");
        assert_eq!(
            (last["event_type"].as_str(), last["kind"].as_str()),
            (Some("stats"), Some("summary"))
        );
        &last["stats"]
    }
}

pub fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn watch3232");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input).unwrap();
    }
    let out: Output = child.wait_with_output().expect("wait for watch3232");
    parse(out)
}

pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, None)
}

fn parse(out: Output) -> Run {
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    Run {
        events,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// Sends `sig` (a name, e.g. "TERM") to `child`.
pub fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Waits for `child`, killing it and failing the test after `limit`.
pub fn wait_with_timeout(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("watch3232 did not exit within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// True when this process runs as root (uid 0).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

/// True when `program` can be run (`program ARG` starts; its exit code does not matter).
pub fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Fails the test, saying what it needs, unless `ok`. For `#[ignore = "needs …"]` tests: run
/// with `--ignored` where the machine has what they need (`.ci/test` does when it can); run
/// without it, they fail rather than pass having checked nothing.
pub fn require(ok: bool, what: &str) {
    assert!(
        ok,
        "this test needs {what}; it is #[ignore]d for that reason: run it where the machine \
         has it (.ci/test runs the ignored tests as root with the tools of .ci/setup)"
    );
}

/// testdata/real/MANIFEST.json: the reference captures of real tools (docs/testing.md).
pub fn real_manifest() -> Value {
    let path = testdata("real/MANIFEST.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (part of the repository)", path.display()));
    serde_json::from_str(&text).expect("MANIFEST.json is JSON")
}

/// The path of reference capture `rel` (e.g. `mdt/frr_pim_plain.pcap`) after checking it against
/// testdata/real/MANIFEST.json: fails when it is not listed, missing, or its size or sha256
/// differs.
pub fn real_capture(rel: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let m = real_manifest();
    let entry = m["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .find(|c| c["file"] == rel)
        .unwrap_or_else(|| panic!("{rel} is not in testdata/real/MANIFEST.json"));
    let path = testdata("real").join(rel);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("reference capture {} is missing ({e})", path.display()));
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        (bytes.len() as u64, hex.as_str()),
        (
            entry["size"].as_u64().unwrap(),
            entry["sha256"].as_str().unwrap()
        ),
        "{rel}: size/sha256 differ from MANIFEST.json (altered reference capture)"
    );
    path
}

/// Which captures of `testdata/` a test walks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Captures {
    /// The ones `testdata/gen` writes (what `tests/golden.rs` pins).
    Generated,
    /// Those and the real tools' captures of `testdata/real/`.
    WithReal,
}

/// The pcap and pcapng files under `testdata/`, relative to the crate root, sorted.
pub fn bundled_captures(which: Captures) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut dirs = vec![root.join("testdata")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read testdata") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy();
                let skip = matches!(name.as_ref(), "gen" | "golden" | "make")
                    || (name == "real" && which == Captures::Generated);
                if !skip {
                    dirs.push(path);
                }
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            ) {
                found.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// A network namespace of the test's own with a veth pair `wa` → `wb`, both up; removed on drop.
/// Needs root and iproute2: the tests that use it are `#[ignore = "needs root …"]`.
pub struct VethNamespace {
    pub name: String,
    pub dir: tempfile::TempDir,
}

impl Drop for VethNamespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

impl VethNamespace {
    /// `label` keeps the namespaces of tests running at once apart.
    pub fn create(label: &str) -> VethNamespace {
        require(is_root(), "root (network namespaces)");
        require(ip(&["-V"]), "iproute2 (ip)");
        let name = format!("w3232-{label}-{}", std::process::id());
        require(
            ip(&["netns", "add", &name]),
            "permission to create a network namespace",
        );
        let ns = VethNamespace {
            name,
            dir: tempfile::tempdir().unwrap(),
        };
        let veth = ["link", "add", "wa", "type", "veth", "peer", "name", "wb"];
        for args in [
            &veth[..],
            &["link", "set", "wa", "up"],
            &["link", "set", "wb", "up"],
        ] {
            assert!(ns.ip(args), "ip {args:?}");
        }
        ns
    }

    /// `ip -n NAME ARGS…`; whether it succeeded.
    pub fn ip(&self, args: &[&str]) -> bool {
        ip(&[&["-n", self.name.as_str()][..], args].concat())
    }

    /// A program inside the namespace, its output discarded.
    pub fn spawn(&self, program: &str, args: &[&str]) -> std::process::Child {
        Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Python that sends each frame of a classic pcap out of `wa`, keeping the capture's gaps.
pub fn replay_script(pcap: &Path) -> String {
    format!(
        "import socket, struct, time\n\
         data = open({path:?}, 'rb').read()\n\
         s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
         s.bind(('wa', 0))\n\
         at, last = 24, None\n\
         while at + 16 <= len(data):\n \
          sec, usec, incl, orig = struct.unpack('<IIII', data[at:at + 16])\n \
          ts = sec + usec / 1e6\n \
          if last is not None and ts > last: time.sleep(ts - last)\n \
          last = ts\n \
          s.send(data[at + 16:at + 16 + incl])\n \
          at += 16 + incl\n",
        path = pcap.to_str().unwrap()
    )
}

/// Follows `child`'s stderr on a thread of its own: each line arrives on the receiver.
pub fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, log) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    log
}

/// Moves lines from `log` into `lines` until one contains `what`; fails after 10 s.
pub fn wait_for_line(log: &std::sync::mpsc::Receiver<String>, lines: &mut Vec<String>, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline && !lines.iter().any(|l| l.contains(what)) {
        lines.extend(log.recv_timeout(std::time::Duration::from_millis(100)));
    }
    assert!(
        lines.iter().any(|l| l.contains(what)),
        "no {what:?} in {lines:?}"
    );
}

/// A CA (`ca.pem`) and a server certificate for `localhost` and 127.0.0.1 that it signed
/// (`server.pem`, `server.key`), and a second CA that signed nothing (`other-ca.pem`).
pub fn make_certificates(dir: &Path) {
    require(have("openssl", "version"), "openssl");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=watch3232 test CA",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.pem",
    ]);
}

/// The events of every bundled capture (real ones too) in `format` (`eve` or `ecs`), with the
/// optional fields on (`--stats-interval 1`, `--sensor-name span1`), each with its capture.
pub fn events_of_every_capture(format: &str) -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for cap in bundled_captures(Captures::WithReal) {
        let run = Command::new(bin())
            .current_dir(root)
            .args(["read", "-F", format, "--stats-interval", "1"])
            .args(["--sensor-name", "span1"])
            .arg(&cap)
            .output()
            .expect("run watch3232");
        assert!(run.status.success(), "{}", cap.display());
        for line in String::from_utf8(run.stdout).unwrap().lines() {
            let event = serde_json::from_str(line).unwrap();
            out.push((cap.display().to_string(), event));
        }
    }
    out
}

/// tshark's `-T fields` of every frame of `path`: one row per frame, one entry per field, each
/// the field's occurrences in order (outermost first). Fails, naming the package, without tshark.
pub fn tshark_fields(path: &str, fields: &[&str]) -> Vec<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r", path, "-T", "fields", "-E", "occurrence=a"]);
    cmd.args(["-E", "aggregator=,"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = match cmd.output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!("tshark failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            require(false, &format!("tshark ({e}; apt-get install tshark)"));
            unreachable!()
        }
    };
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let cols: Vec<Vec<String>> = line
                .split('\t')
                .map(|c| {
                    c.split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .collect();
            assert_eq!(cols.len(), fields.len(), "{line}");
            cols
        })
        .collect()
}

/// Compares what `render` makes of every generated capture with its golden file under
/// `testdata/<dir>/` (the capture's path, `.<ext>` appended), byte for byte; with
/// `UPDATE_GOLDEN` set, writes the files instead. `what` names the output in the failure.
pub fn compare_with_golden(dir: &str, ext: &str, what: &str, render: impl Fn(&Path) -> Vec<u8>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let captures = bundled_captures(Captures::Generated);
    assert!(captures.len() >= 15, "found only {captures:?}");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut differ = Vec::new();
    for capture in &captures {
        let got = render(capture);
        let rel = capture.strip_prefix("testdata").unwrap();
        let golden = root
            .join("testdata")
            .join(dir)
            .join(rel)
            .with_extension(format!(
                "{}.{ext}",
                rel.extension().unwrap().to_string_lossy()
            ));
        if update {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", golden.display()));
        if want != got {
            let got = String::from_utf8_lossy(&got);
            let want = String::from_utf8_lossy(&want);
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
            differ.push(format!(
                "{}: line {}:\n  got  {}\n  want {}",
                capture.display(),
                first + 1,
                got.lines().nth(first).unwrap_or("<end>"),
                want.lines().nth(first).unwrap_or("<end>")
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{what} changed (UPDATE_GOLDEN=1 regenerates if meant):\n{}",
        differ.join("\n")
    );
}
