//! For the person at the terminal and for the service: progress bar, end-of-run summary,
//! memory use, privilege drop, and the `--write-matched` second pass.

use super::summary::Summary;
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};
use watch3232::capture::CaptureError;
use watch3232::driver::Frontend;
use watch3232::event::stats::KernelDrops;
use watch3232::event::Event;
use watch3232::flow::FlowKey;

/// What a `read` or `capture` shows the person at the terminal: the progress bar, one line per
/// input that failed, the kernel's drop counters, and the summary table's counts.
pub struct Terminal {
    no_progress: bool,
    progress: Option<Progress>,
    privileges: Option<(Option<String>, Option<String>)>,
    pub summary: Summary,
    /// How far a read got: the file being read and the packets read from all files so far.
    pub current_file: Option<String>,
    pub packets_read: u64,
}

impl Terminal {
    /// `privileges`: the user and group to drop to once the capture is open.
    pub fn new(no_progress: bool, privileges: Option<(Option<String>, Option<String>)>) -> Self {
        Terminal {
            no_progress,
            progress: None,
            privileges,
            summary: Summary::default(),
            current_file: None,
            packets_read: 0,
        }
    }
}

impl Frontend for Terminal {
    fn file_started(&mut self, path: &str) {
        self.current_file = Some(path.to_string());
        self.progress = Progress::for_file(path, self.no_progress);
    }

    fn packets_read(&mut self, packets: u64, captured_bytes: u64) {
        self.packets_read += packets;
        if let Some(bar) = &mut self.progress {
            bar.packets(packets, captured_bytes);
        }
    }

    fn file_finished(&mut self) {
        if let Some(bar) = self.progress.take() {
            bar.finish();
        }
    }

    fn input_error(&mut self, error: &CaptureError) {
        eprintln!("watch3232: error: {error}");
    }

    fn capture_opened(&mut self) -> Result<(), String> {
        match &self.privileges {
            Some((user, group)) => drop_privileges(user.as_deref(), group.as_deref()),
            None => Ok(()),
        }
    }

    fn kernel_drops(&mut self, worker: Option<usize>, k: &KernelDrops) {
        let who = worker.map_or(String::new(), |w| format!("worker {w}: "));
        eprintln!(
            "watch3232: {who}{} packets received by filter, {} dropped by kernel, {} dropped by interface",
            k.received, k.dropped, k.if_dropped
        );
    }

    fn event_written(&mut self, event: &Event) {
        self.summary.add(event);
    }
}

/// A one-line progress bar on stderr for offline reads: only when stderr is a terminal.
pub struct Progress {
    total: u64,
    done: u64,
    started: Instant,
    last_draw: Instant,
    name: String,
}

const DRAW_EVERY: Duration = Duration::from_millis(200);
/// Per-record overhead assumed when counting bytes (pcap record header; pcapng blocks are close).
const RECORD_OVERHEAD: u64 = 16;

impl Progress {
    /// A bar for `path`, or `None` when stderr is not a terminal or the size is unknown.
    pub fn for_file(path: &str, disabled: bool) -> Option<Progress> {
        if disabled || path == "-" || !std::io::stderr().is_terminal() {
            return None;
        }
        let total = std::fs::metadata(path).ok().filter(|m| m.is_file())?.len();
        let now = Instant::now();
        let bar = Progress {
            total: total.max(1),
            done: 0,
            started: now,
            last_draw: now,
            name: path.to_string(),
        };
        bar.draw();
        Some(bar)
    }

    /// Counts `packets` records of `captured_bytes` bytes in all.
    pub fn packets(&mut self, packets: u64, captured_bytes: u64) {
        self.done += captured_bytes + packets * RECORD_OVERHEAD;
        if self.last_draw.elapsed() >= DRAW_EVERY {
            self.last_draw = Instant::now();
            self.draw();
        }
    }

    fn draw(&self) {
        let done = self.done.min(self.total);
        let frac = done as f64 / self.total as f64;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / secs;
        let eta = if rate > 0.0 {
            (self.total - done) as f64 / rate
        } else {
            0.0
        };
        let width = 30;
        let filled = (frac * width as f64) as usize;
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        eprint!(
            "\r\x1b[2K{} [{bar}] {:>3.0}% {}/{} {}/s ETA {:.0}s",
            short(&self.name),
            frac * 100.0,
            human(done),
            human(self.total),
            human(rate as u64),
            eta
        );
        let _ = std::io::stderr().flush();
    }

    /// Erases the bar.
    pub fn finish(self) {
        eprint!("\r\x1b[2K");
        let _ = std::io::stderr().flush();
    }
}

fn short(name: &str) -> &str {
    Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name)
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Switches to `user` / `group` (supplementary groups cleared) for good.
pub fn drop_privileges(user: Option<&str>, group: Option<&str>) -> Result<(), String> {
    use nix::unistd::{setgid, setgroups, setuid, Gid, Group, Uid, User};
    let u = match user {
        Some(name) => Some(
            User::from_name(name)
                .map_err(|e| format!("cannot look up user {name}: {e}"))?
                .ok_or_else(|| format!("no such user: {name}"))?,
        ),
        None => None,
    };
    let gid: Option<Gid> = match group {
        Some(name) => Some(
            Group::from_name(name)
                .map_err(|e| format!("cannot look up group {name}: {e}"))?
                .ok_or_else(|| format!("no such group: {name}"))?
                .gid,
        ),
        None => u.as_ref().map(|u| u.gid),
    };
    if let Some(gid) = gid {
        setgroups(&[gid]).map_err(|e| format!("cannot drop supplementary groups: {e}"))?;
        setgid(gid).map_err(|e| format!("cannot switch to group {gid}: {e}"))?;
    }
    if let Some(u) = &u {
        setuid(u.uid).map_err(|e| format!("cannot switch to user {}: {e}", u.name))?;
        if u.uid != Uid::from_raw(0) && setuid(Uid::from_raw(0)).is_ok() {
            return Err("privileges could be regained after dropping them; refusing to run".into());
        }
    }
    tracing::info!(
        user = user.unwrap_or("-"),
        group = group.unwrap_or("-"),
        "privileges dropped"
    );
    Ok(())
}

/// The second pass of `--write-matched`: copies every packet of a matched flow from `files`
/// into `out` (pcap, the link type of the first file; files of another link type are skipped
/// with a warning). Returns the number of packets written.
pub fn write_matched(
    files: &[String],
    keys: &HashSet<FlowKey>,
    out: &Path,
    max_depth: u8,
) -> Result<u64, String> {
    use watch3232::decode::{decode, Outcome};
    use watch3232::packet::LinkType;
    let mut save: Option<(pcap::Savefile, i32)> = None;
    let mut written = 0;
    for path in files {
        if path == "-" {
            return Err("--write-matched needs capture files, not standard input".into());
        }
        let Ok(mut cap) = pcap::Capture::from_file(path) else {
            continue;
        };
        let dl = cap.get_datalink().0;
        let Some(link) = LinkType::from_linktype(dl) else {
            continue;
        };
        if save.is_none() {
            let s = cap
                .savefile(out)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            save = Some((s, dl));
        }
        let (s, first_dl) = save.as_mut().expect("opened above");
        if *first_dl != dl {
            tracing::warn!("{path}: link type {dl} differs from the first file's; not copied to --write-matched");
            continue;
        }
        while let Ok(p) = cap.next_packet() {
            let Ok(Outcome::Ip(d)) = decode(link, p.data, max_depth) else {
                continue;
            };
            let (sp, dp) = d.ports().unwrap_or((0, 0));
            let (key, _) = FlowKey::new(d.net.src, d.net.dst, sp, dp, d.net.proto);
            if keys.contains(&key) {
                s.write(&p);
                written += 1;
            }
        }
    }
    if let Some((mut s, _)) = save {
        s.flush()
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    Ok(written)
}
