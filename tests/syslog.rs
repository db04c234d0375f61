//! Syslog outputs against a real rsyslog started by the test (imuxsock on a socket of its own,
//! imtcp on a loopback port, omfile writing the fields it parsed), and the accounting of a
//! syslog receiver that goes away.

mod common;

use common::{bin, have, make_certificates, require, testdata, wait_with_timeout};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An rsyslogd of the test's own: `log` is its local socket, `port` its TCP port; every message
/// it parses goes to `out` as `APP-NAME|PROGRAMNAME|PROCID|MSG`.
struct Rsyslog {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Rsyslog {
    fn start() -> Rsyslog {
        Rsyslog::start_with(false)
    }

    /// With `tls`, its TCP port speaks TLS (RFC 5425) with a certificate for `localhost` signed
    /// by the CA `ca.pem` of its directory (made with openssl).
    fn start_with(tls: bool) -> Rsyslog {
        require(have("rsyslogd", "-v"), "rsyslogd (apt-get install rsyslog)");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path().display();
        let (tls_global, tls_module) = if tls {
            make_certificates(dir.path());
            (
                format!(
                    r#" DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{d}/ca.pem" DefaultNetstreamDriverCertFile="{d}/server.pem" DefaultNetstreamDriverKeyFile="{d}/server.key""#
                ),
                r#" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon""#,
            )
        } else {
            (String::new(), "")
        };
        let conf = format!(
            r#"global(workDirectory="{d}" maxMessageSize="64k"{tls_global})
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{d}/log" RateLimit.Interval="0")
input(type="imuxsock" Socket="{d}/log5424" RateLimit.Interval="0" UseSpecialParser="off")
module(load="imtcp"{tls_module})
input(type="imtcp" port="{port}" address="127.0.0.1")
template(name="fields" type="string" string="%app-name%|%programname%|%procid%|%msg%\n")
action(type="omfile" file="{d}/out" template="fields")
"#
        );
        std::fs::write(dir.path().join("rsyslog.conf"), conf).unwrap();
        let child = Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(dir.path().join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.path().join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        let r = Rsyslog { child, dir, port };
        let start = Instant::now();
        while !(r.log().exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "rsyslogd did not open its socket and port"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    /// The local socket, parsed as syslog(3) writes (RFC 3164).
    fn log(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// A local socket parsed by rsyslog's parser chain (RFC 5424 too): imuxsock's default
    /// parser takes RFC 5424's version `1` for the tag.
    fn log5424(&self) -> PathBuf {
        self.dir.path().join("log5424")
    }

    /// The `n` messages rsyslog wrote (waiting up to 60 s for them), split into fields.
    fn received(&self, n: usize) -> Vec<[String; 4]> {
        let out = self.dir.path().join("out");
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            let lines = text.lines().count();
            if lines >= n {
                // Anything beyond `n` would be a duplicate: give it a moment to show.
                std::thread::sleep(Duration::from_millis(300));
                let text = std::fs::read_to_string(&out).unwrap();
                return text
                    .lines()
                    .map(|l| {
                        let f: Vec<&str> = l.splitn(4, '|').collect();
                        assert_eq!(f.len(), 4, "{l}");
                        [f[0], f[1], f[2], f[3]].map(str::to_string)
                    })
                    .collect();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "rsyslog received {lines} of {n} messages"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Rsyslog {
    /// rsyslog parsed every event once, in order: app-name and programname `watch3232`, procid
    /// `pid`, msg the event after `msg_prefix`.
    fn assert_each_event_once(&self, events: &[String], pid: u32, msg_prefix: &str) {
        let got = self.received(events.len());
        assert_eq!(got.len(), events.len(), "every event exactly once");
        let pid = pid.to_string();
        for (g, e) in got.iter().zip(events) {
            assert_eq!(
                [&g[0], &g[1], &g[2], &g[3]],
                ["watch3232", "watch3232", &pid, &format!("{msg_prefix}{e}")]
            );
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `watch3232 read -o FILE ARGS…` and returns its pid, exit code, stderr and the events
/// of FILE (the same events every other output got).
fn read_to(file: &Path, args: &[&str]) -> (u32, Option<i32>, String, Vec<String>) {
    let mut child = Command::new(bin())
        .args(["read", "-o", file.to_str().unwrap()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let status = wait_with_timeout(&mut child, Duration::from_secs(300));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let events = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (pid, status.code(), stderr, events)
}

fn summary_outputs(events: &[String]) -> serde_json::Value {
    let last: serde_json::Value = serde_json::from_str(events.last().unwrap()).unwrap();
    last["stats"]["outputs"].clone()
}

#[test]
#[ignore = "needs rsyslogd"]
fn local_syslog_is_rfc3164_that_rsyslog_parses() {
    let rsyslog = Rsyslog::start();
    let file = rsyslog.dir.path().join("eve.json");
    let spec = format!("syslog:{}", rsyslog.log().display());
    let tour = testdata("tour.pcapng");
    let (pid, code, stderr, events) = read_to(&file, &["-o", &spec, tour.to_str().unwrap()]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert_eq!(events.len(), 160);
    // rsyslog keeps the space after `TAG[PID]:` in the RFC 3164 MSG.
    rsyslog.assert_each_event_once(&events, pid, " ");
    assert_eq!(
        summary_outputs(&events),
        serde_json::json!([{"output": spec, "written": 159, "dropped": 0, "retried": 0,
                            "buffered": 0}])
    );
}

#[test]
#[ignore = "needs rsyslogd"]
fn a_burst_over_tcp_arrives_whole_and_in_order() {
    let rsyslog = Rsyslog::start();
    let file = rsyslog.dir.path().join("eve.json");
    let spec = format!("syslog:tcp:127.0.0.1:{}", rsyslog.port);
    // The tour 200 times: over 20 000 events.
    let tour = testdata("tour.pcapng");
    let mut args = vec!["-o", spec.as_str()];
    args.extend(std::iter::repeat(tour.to_str().unwrap()).take(200));
    let (pid, code, stderr, events) = read_to(&file, &args);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert!(events.len() > 20_000, "{} events", events.len());
    rsyslog.assert_each_event_once(&events, pid, "");
    assert_eq!(
        summary_outputs(&events),
        serde_json::json!([{"output": spec, "written": events.len() - 1, "dropped": 0,
                            "retried": 0, "buffered": 0}])
    );
}

#[test]
#[ignore = "needs rsyslogd"]
fn rfc5424_on_the_local_socket_when_asked() {
    let rsyslog = Rsyslog::start();
    let file = rsyslog.dir.path().join("eve.json");
    let spec = format!("syslog:{}", rsyslog.log5424().display());
    let tour = testdata("tour.pcapng");
    let (pid, code, _, events) = read_to(
        &file,
        &[
            "--syslog-format",
            "rfc5424",
            "-o",
            &spec,
            tour.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0));
    let got = rsyslog.received(events.len());
    assert_eq!(got.len(), events.len());
    assert_eq!(
        got[0],
        [
            "watch3232".to_string(),
            "watch3232".to_string(),
            pid.to_string(),
            events[0].clone()
        ]
    );
}

/// A TCP receiver that accepts the connection and goes away: `read` exits 1 saying how many
/// events were lost, instead of 0.
#[test]
fn a_read_whose_syslog_receiver_goes_away_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let gone = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        drop(listener);
        drop(conn);
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eve.json");
    let spec = format!("syslog:tcp:127.0.0.1:{port}");
    let tour = testdata("tour.pcapng");
    let (_, code, stderr, _) = read_to(&file, &["-o", &spec, tour.to_str().unwrap()]);
    gone.join().unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    let prefix = format!("watch3232: error: cannot write events to {spec}: ");
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in {stderr}"));
    assert!(
        line.ends_with(
            "events could not be delivered (the receiver is away; --output-errors warn counts \
             them instead)"
        ),
        "{line}"
    );
}

/// `--output-errors warn`: the read goes on, the summary and stderr count what was lost.
#[test]
fn warn_counts_the_events_an_absent_receiver_lost() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eve.json");
    let spec = format!("syslog:tcp:127.0.0.1:{}", free_port());
    let tour = testdata("tour.pcapng");
    let (_, code, stderr, events) = read_to(
        &file,
        &[
            "--output-errors",
            "warn",
            "--output-buffer",
            "100",
            "-o",
            &spec,
            tour.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let outputs = summary_outputs(&events);
    assert_eq!(outputs[0]["output"], spec.as_str());
    assert_eq!(
        [
            &outputs[0]["written"],
            &outputs[0]["dropped"],
            &outputs[0]["buffered"]
        ],
        [0, 159, 0]
    );
    // Retried once a second while the end of the run waited for it (5 s).
    assert!(outputs[0]["retried"].as_u64().unwrap() >= 3, "{outputs}");
    assert!(
        stderr.contains(&format!(
            "watch3232: output {spec}: 0 events written, 160 dropped, "
        )),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs rsyslogd with rsyslog-gnutls, openssl"]
fn rfc5425_tls_to_rsyslog_checks_the_server_and_delivers_every_event() {
    let rsyslog = Rsyslog::start_with(true);
    let file = rsyslog.dir.path().join("eve.json");
    let spec = format!("syslog:tls:localhost:{}", rsyslog.port);
    let ca = rsyslog.dir.path().join("ca.pem");
    let tour = testdata("tour.pcapng");
    let (pid, code, stderr, events) = read_to(
        &file,
        &[
            "--syslog-ca",
            ca.to_str().unwrap(),
            "-o",
            &spec,
            tour.to_str().unwrap(),
        ],
    );
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    rsyslog.assert_each_event_once(&events, pid, "");
    // A server whose certificate another CA signed is refused before anything is read.
    let other = rsyslog.dir.path().join("other-ca.pem");
    let (_, code, stderr, _) = read_to(
        &rsyslog.dir.path().join("eve2.json"),
        &[
            "--syslog-ca",
            other.to_str().unwrap(),
            "-o",
            &spec,
            tour.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with(&format!(
            "watch3232: error: {spec}: invalid peer certificate: "
        )),
        "{stderr}"
    );
}
