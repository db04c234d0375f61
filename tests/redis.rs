//! The Redis output against a real redis-server started by the test on a loopback port: every
//! event of the tour arrives once in each mode, and a restart of Redis in the middle of a
//! streamed read, and in the middle of a live capture, loses nothing within the backlog's bound
//! and counts what it dropped beyond it.

mod common;

use common::{bin, have, make_certificates, require, testdata, wait_with_timeout};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server of the test's own, saving nothing unless told (`SHUTDOWN SAVE`).
struct Redis {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    /// Speaks TLS only, with a certificate for `localhost` signed by `ca.pem` of its directory.
    tls: bool,
}

impl Redis {
    fn start() -> Redis {
        Redis::start_with(false)
    }

    fn start_with(tls: bool) -> Redis {
        require(
            have("redis-server", "--version"),
            "redis-server (apt-get install redis-server)",
        );
        let mut r = Redis {
            child: None,
            dir: tempfile::tempdir().unwrap(),
            port: TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
            tls,
        };
        if tls {
            make_certificates(r.dir.path());
        }
        r.restart();
        r
    }

    /// Starts the server (again), loading what a `SHUTDOWN SAVE` left in its directory.
    fn restart(&mut self) {
        let port = self.port.to_string();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1"]);
        if self.tls {
            cmd.args([
                "--port",
                "0",
                "--tls-port",
                &port,
                "--tls-auth-clients",
                "no",
            ])
            .args([
                "--tls-cert-file",
                "server.pem",
                "--tls-key-file",
                "server.key",
            ])
            .args(["--tls-ca-cert-file", "ca.pem"]);
        } else {
            cmd.args(["--port", &port]);
        }
        let child = cmd
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(self.dir.path())
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let start = Instant::now();
        while self.connection().is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not answer"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `SHUTDOWN SAVE`: the data survives the restart that follows.
    fn shutdown(&mut self) {
        let _ = redis::cmd("SHUTDOWN")
            .arg("SAVE")
            .query::<()>(&mut self.connection().unwrap());
        let mut child = self.child.take().unwrap();
        wait_with_timeout(&mut child, Duration::from_secs(10));
    }

    fn url(&self, key_and_query: &str) -> String {
        format!("redis://127.0.0.1:{}/{key_and_query}", self.port)
    }

    fn connection(&self) -> redis::RedisResult<redis::Connection> {
        let client = if self.tls {
            let certs = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(std::fs::read(self.dir.path().join("ca.pem")).unwrap()),
            };
            redis::Client::build_with_tls(format!("rediss://localhost:{}/", self.port), certs)?
        } else {
            redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?
        };
        client.get_connection_with_timeout(Duration::from_secs(2))
    }

    fn list(&self, key: &str) -> Vec<String> {
        redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query(&mut self.connection().unwrap())
            .unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs `watch3232 read -o FILE ARGS… tour.pcapng`; returns the exit code, stderr and FILE's
/// events (what the Redis output got too).
fn read_tour(file: &Path, args: &[&str]) -> (Option<i32>, String, Vec<String>) {
    let out = Command::new(bin())
        .args(["read", "-o", file.to_str().unwrap()])
        .args(args)
        .arg(testdata("tour.pcapng"))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        lines(file),
    )
}

fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn outputs(events: &[String]) -> serde_json::Value {
    let last: serde_json::Value = serde_json::from_str(events.last().unwrap()).unwrap();
    last["stats"]["outputs"][0].clone()
}

#[test]
#[ignore = "needs redis-server"]
fn list_mode_pushes_at_the_head_like_suricata() {
    let redis = Redis::start();
    let file = redis.dir.path().join("eve.json");
    let (code, stderr, events) = read_tour(&file, &["-o", &redis.url("eve")]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    let mut got = redis.list("eve");
    got.reverse();
    assert_eq!(got, events);
    assert_eq!(
        outputs(&events),
        serde_json::json!({"output": redis.url("eve?mode=list"), "written": 159,
                           "dropped": 0, "retried": 0, "buffered": 0})
    );
}

#[test]
#[ignore = "needs redis-server"]
fn rpush_mode_appends_at_the_tail() {
    let redis = Redis::start();
    let file = redis.dir.path().join("eve.json");
    let (code, _, events) = read_tour(&file, &["-o", &redis.url("eve?mode=rpush")]);
    assert_eq!(code, Some(0));
    assert_eq!(redis.list("eve"), events);
}

#[test]
#[ignore = "needs redis-server"]
fn stream_mode_adds_one_entry_per_event_in_field_eve() {
    let redis = Redis::start();
    let file = redis.dir.path().join("eve.json");
    let (code, _, events) = read_tour(
        &file,
        &["-F", "ecs", "-o", &redis.url("eve?mode=stream&maxlen=1000")],
    );
    assert_eq!(code, Some(0));
    let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
        .arg("eve")
        .arg("-")
        .arg("+")
        .query(&mut redis.connection().unwrap())
        .unwrap();
    let got: Vec<String> = entries
        .into_iter()
        .map(|(_, fields)| {
            assert_eq!(fields.len(), 2);
            assert_eq!(fields[0], "eve");
            fields[1].clone()
        })
        .collect();
    assert_eq!(got, events);
    assert!(events[0].contains("\"@timestamp\""), "{}", events[0]);
}

#[test]
#[ignore = "needs redis-server"]
fn channel_mode_publishes_every_event_to_a_subscriber() {
    let redis = Redis::start();
    let mut con = redis.connection().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let subscriber = std::thread::spawn(move || {
        let mut ps = con.as_pubsub();
        ps.subscribe("eve").unwrap();
        ps.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tx.send(()).unwrap();
        let mut got = Vec::new();
        while got.len() < 160 {
            match ps.get_message() {
                Ok(m) => got.push(m.get_payload::<String>().unwrap()),
                Err(_) => break,
            }
        }
        got
    });
    rx.recv().unwrap();
    let file = redis.dir.path().join("eve.json");
    let (code, _, events) = read_tour(&file, &["-o", &redis.url("eve?mode=channel")]);
    assert_eq!(code, Some(0));
    assert_eq!(subscriber.join().unwrap(), events);
}

#[test]
#[ignore = "needs redis-server"]
fn a_read_without_its_redis_exits_1_before_reading() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}/eve", redis.port);
    drop(redis);
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, events) = read_tour(&dir.path().join("eve.json"), &["-o", &url]);
    assert_eq!(code, Some(1));
    assert!(events.is_empty());
    assert!(
        stderr.starts_with(&format!("watch3232: error: {url}?mode=list: ")),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "; nothing read (--output-errors warn reads anyway, counting its events as dropped)\n"
        ),
        "{stderr}"
    );
}

/// Streams the tour into `read -` in three parts, with Redis shut down (saving) after the
/// first and started again after the second; returns FILE's events and stderr.
fn read_through_a_restart(redis: &mut Redis, file: &Path, args: &[&str]) -> (Vec<String>, String) {
    let bytes = std::fs::read(testdata("tour.pcapng")).unwrap();
    let third = bytes.len() / 3;
    let mut child = Command::new(bin())
        .args(["read", "-o", file.to_str().unwrap()])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&bytes[..third]).unwrap();
    stdin.flush().unwrap();
    let start = Instant::now();
    while redis.list("eve").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "nothing arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    // What the first part produced is delivered (the reader flushes when the pipe idles).
    std::thread::sleep(Duration::from_millis(1500));
    redis.shutdown();
    stdin.write_all(&bytes[third..2 * third]).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    redis.restart();
    stdin.write_all(&bytes[2 * third..]).unwrap();
    drop(stdin);
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    (lines(file), stderr)
}

#[test]
#[ignore = "needs redis-server"]
fn a_redis_restart_mid_read_loses_nothing_within_the_buffer() {
    let mut redis = Redis::start();
    let file = redis.dir.path().join("eve.json");
    let url = redis.url("eve?mode=rpush");
    let (events, _) = read_through_a_restart(&mut redis, &file, &["-o", &url]);
    assert_eq!(redis.list("eve"), events, "every event once, in order");
    let o = outputs(&events);
    assert_eq!(
        [&o["written"], &o["dropped"], &o["buffered"]],
        [events.len() - 1, 0, 0]
    );
    assert!(o["retried"].as_u64().unwrap() >= 1, "{o}");
}

#[test]
#[ignore = "needs redis-server"]
fn what_overflows_the_buffer_while_redis_is_down_is_counted() {
    let mut redis = Redis::start();
    let file = redis.dir.path().join("eve.json");
    let url = redis.url("eve?mode=rpush");
    let (events, stderr) = read_through_a_restart(
        &mut redis,
        &file,
        &[
            "--output-errors",
            "warn",
            "--output-buffer",
            "2",
            "-o",
            &url,
        ],
    );
    let got = redis.list("eve");
    let o = outputs(&events);
    let dropped = o["dropped"].as_u64().unwrap() as usize;
    assert!(dropped > 0, "{o}");
    assert_eq!(got.len() + dropped, events.len(), "{o}");
    assert_eq!(o["written"].as_u64().unwrap() as usize, got.len() - 1);
    // What arrived is what was sent, in order, less the dropped (the oldest queued ones).
    let mut rest = events.iter();
    for g in &got {
        assert!(
            rest.any(|e| e == g),
            "{g} arrived out of order or was never sent"
        );
    }
    assert!(
        stderr.contains(&format!(
            "watch3232: output {url}: {} events written, {dropped} dropped, ",
            got.len()
        )),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs redis-server built with TLS, openssl"]
fn rediss_checks_the_server_against_the_ca_and_delivers_every_event() {
    let redis = Redis::start_with(true);
    let file = redis.dir.path().join("eve.json");
    let ca = redis.dir.path().join("ca.pem");
    let url = format!(
        "rediss://localhost:{}/eve?mode=rpush&ca={}",
        redis.port,
        ca.display()
    );
    let (code, stderr, events) = read_tour(&file, &["-o", &url]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert_eq!(redis.list("eve"), events);
    // A server whose certificate another CA signed is refused before anything is read.
    let other = format!(
        "rediss://localhost:{}/eve?mode=rpush&ca={}",
        redis.port,
        redis.dir.path().join("other-ca.pem").display()
    );
    let (code, stderr, _) = read_tour(&redis.dir.path().join("eve2.json"), &["-o", &other]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("watch3232: error: {other}: ")),
        "{stderr}"
    );
    assert!(stderr.contains("certificate"), "{stderr}");
}

/// `watch3232 capture` live on the host's end of a veth pair (the other end, in a namespace of
/// the test's own, sends the OTA captures), writing every event to a file and to Redis.
struct LiveToRedis {
    ns: common::VethNamespace,
    child: Child,
    log: std::sync::mpsc::Receiver<String>,
    lines: Vec<String>,
    file: std::path::PathBuf,
}

impl LiveToRedis {
    fn start(label: &str, args: &[&str]) -> LiveToRedis {
        require(have("python3", "-V"), "python3");
        let ns = common::VethNamespace::create(label);
        // The namespace's `wb` comes out to the host (where Redis listens on 127.0.0.1) under
        // a name of this run's own; deleting the namespace removes the pair.
        let host = format!("w3{label}{}", std::process::id() % 100_000);
        assert!(ns.ip(&["link", "set", "wb", "name", &host]));
        assert!(ns.ip(&["link", "set", &host, "netns", "1"]));
        let up = Command::new("ip")
            .args(["link", "set", &host, "up"])
            .status()
            .unwrap();
        assert!(up.success(), "ip link set {host} up");
        let file = ns.dir.path().join("eve.json");
        let mut child = Command::new(bin())
            .args(["capture", "-i", &host, "-v", "-o", file.to_str().unwrap()])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = common::stderr_lines(&mut child);
        let mut lines = Vec::new();
        common::wait_for_line(&log, &mut lines, "capturing");
        LiveToRedis {
            ns,
            child,
            log,
            lines,
            file,
        }
    }

    /// Sends `testdata/ota/NAME` out of the namespace's end, keeping its gaps; returns once sent.
    fn replay(&self, name: &str) {
        let script = common::replay_script(&testdata(&format!("ota/{name}")));
        let mut sender = self.ns.spawn("python3", &["-c", &script]);
        assert!(wait_with_timeout(&mut sender, Duration::from_secs(30)).success());
    }

    /// The events in the file so far.
    fn events(&self) -> Vec<String> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Waits (at most 20 s) until the file holds an event containing each of `what`.
    fn wait_for_events(&self, what: &[&str]) {
        let start = Instant::now();
        while !what
            .iter()
            .all(|w| self.events().iter().any(|e| e.contains(w)))
        {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no {what:?} in {:?}",
                self.events()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, a clean exit (143); the file's events and every stderr line.
    fn stop(mut self) -> (Vec<String>, Vec<String>) {
        common::signal(&self.child, "TERM");
        let status = wait_with_timeout(&mut self.child, Duration::from_secs(30));
        // The stderr thread ends with the child's stderr: every line is on the channel now.
        self.lines.extend(self.log.iter());
        assert_eq!(status.code(), Some(143), "{:?}", self.lines);
        (self.events(), self.lines)
    }
}

/// Waits (at most 20 s) until Redis's list `eve` holds as many events as the capture's file,
/// and at least `least`: what was produced so far is delivered.
fn wait_until_delivered(redis: &Redis, live: &LiveToRedis, least: usize) {
    let start = Instant::now();
    loop {
        let (got, sent) = (redis.list("eve").len(), live.events().len());
        if got >= least && got == sent {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{got} of {sent} events in Redis"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A live capture into Redis (`mode=list`) with Redis shut down after one OTA session has
/// been delivered and started again once the next session's events have been produced.
fn capture_through_a_restart(
    label: &str,
    args: &[&str],
) -> (Redis, String, Vec<String>, Vec<String>) {
    let mut redis = Redis::start();
    let url = redis.url("eve?mode=list");
    let live = LiveToRedis::start(label, &[&["-o", url.as_str()][..], args].concat());
    live.replay("esp32_pbkdf2_reordered.pcap");
    live.wait_for_events(&["\"kind\":\"transfer\""]);
    wait_until_delivered(&redis, &live, 4);
    redis.shutdown();
    let before = live.events().len();
    live.replay("esp8266_md5_failed.pcap");
    // The second session's events are produced while Redis is down.
    live.wait_for_events(&["ota_weak_auth"]);
    let start = Instant::now();
    while live.events().len() < before + 5 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            live.events()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    redis.restart();
    let (events, lines) = live.stop();
    (redis, url, events, lines)
}

#[test]
#[ignore = "needs root, network namespaces, iproute2, python3, redis-server"]
fn a_redis_restart_mid_capture_loses_nothing_within_the_buffer() {
    let (redis, _, events, lines) = capture_through_a_restart("rl", &[]);
    let mut got = redis.list("eve");
    got.reverse();
    // Nothing was in flight when Redis went down (all delivered first): every event once.
    assert_eq!(got, events, "every event once, in order: {lines:?}");
    assert!(
        events.iter().any(|e| e.contains("ota_weak_auth")),
        "{events:?}"
    );
    let o = outputs(&events);
    assert_eq!(
        [&o["written"], &o["dropped"], &o["buffered"]],
        [events.len() - 1, 0, 0],
        "{o}"
    );
    assert!(o["retried"].as_u64().unwrap() >= 1, "{o}");
}

#[test]
#[ignore = "needs root, network namespaces, iproute2, python3, redis-server"]
fn what_overflows_the_buffer_while_redis_is_down_mid_capture_is_counted() {
    let (redis, url, events, lines) = capture_through_a_restart("ro", &["--output-buffer", "4"]);
    let mut got = redis.list("eve");
    got.reverse();
    let o = outputs(&events);
    let dropped = o["dropped"].as_u64().unwrap() as usize;
    assert!(dropped >= 1, "at least 5 events met a buffer of 4: {o}");
    assert_eq!(got.len() + dropped, events.len(), "{o}");
    assert_eq!(
        o["written"].as_u64().unwrap() as usize,
        got.len() - 1,
        "{o}"
    );
    assert_eq!(o["buffered"], 0, "{o}");
    // What arrived is what was sent, in order, less the dropped ones.
    let mut rest = events.iter();
    for g in &got {
        assert!(
            rest.any(|e| e == g),
            "{g} arrived out of order or was never sent"
        );
    }
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "watch3232: output {url}: {} events written, {dropped} dropped, ",
            got.len()
        ))),
        "{lines:?}"
    );
}
