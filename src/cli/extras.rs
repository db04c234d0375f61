//! For the person at the terminal and for the service: progress bar, end-of-run summary,
//! memory use and privilege drop.

use super::summary::Summary;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};
use watch3232::capture::CaptureError;
use watch3232::driver::Frontend;
use watch3232::event::stats::KernelDrops;
use watch3232::event::Event;

/// What a `read` or `capture` shows the person at the terminal: the progress bar, one line per
/// input that failed, the kernel's drop counters, and the summary table's counts.
pub struct Terminal {
    no_progress: bool,
    progress: Option<Progress>,
    privileges: Option<(Option<String>, Option<String>)>,
    /// The summary table's counts, kept only when the table will be shown (a terminal without
    /// `-q`): naming who was behind each finding costs a formatted string per event.
    pub summary: Option<Summary>,
    /// How far a read got: the file being read and the packets read from all files so far.
    pub current_file: Option<String>,
    pub packets_read: u64,
}

impl Terminal {
    /// `privileges`: the user and group to drop to once the capture is open; `summary`: the
    /// table's counts, when it is to be shown.
    pub fn new(
        no_progress: bool,
        privileges: Option<(Option<String>, Option<String>)>,
        summary: Option<Summary>,
    ) -> Self {
        Terminal {
            no_progress,
            progress: None,
            privileges,
            summary,
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
        if let Some(summary) = &mut self.summary {
            summary.add(event);
        }
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

/// The account `--user` / `--group` name: the user, and the group (the user's own by default).
fn lookup(
    user: Option<&str>,
    group: Option<&str>,
) -> Result<(Option<nix::unistd::User>, Option<nix::unistd::Gid>), String> {
    use nix::unistd::{Group, User};
    let u = match user {
        Some(name) => Some(
            User::from_name(name)
                .map_err(|e| format!("cannot look up user {name}: {e}"))?
                .ok_or_else(|| format!("no such user: {name}"))?,
        ),
        None => None,
    };
    let gid = match group {
        Some(name) => Some(
            Group::from_name(name)
                .map_err(|e| format!("cannot look up group {name}: {e}"))?
                .ok_or_else(|| format!("no such group: {name}"))?
                .gid,
        ),
        None => u.as_ref().map(|u| u.gid),
    };
    Ok((u, gid))
}

/// Where a capture that drops privileges will create or reopen files: (what the user typed, the
/// path the dropped user must reach).
pub enum WriteTarget {
    /// Files are created here (rotation, a reopen after logrotate moved the file, images).
    Directory {
        flag: String,
        dir: std::path::PathBuf,
    },
    /// An existing file a SIGHUP reopens for appending.
    File {
        flag: String,
        file: std::path::PathBuf,
    },
}

/// The write targets of `-o FILE` outputs and `--extract-firmware DIR`. An existing output
/// that is not a regular file (`/dev/null`, a FIFO) is only reopened, never created or rotated;
/// an extraction directory not there yet is created in its nearest existing ancestor.
pub fn write_targets(files: &[&Path], extract_dir: Option<&Path>) -> Vec<WriteTarget> {
    let mut targets = Vec::new();
    for file in files {
        let flag = format!("-o {}", file.display());
        let existing = std::fs::metadata(file).ok();
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            targets.push(WriteTarget::File {
                flag,
                file: file.to_path_buf(),
            });
            continue;
        }
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        targets.push(WriteTarget::Directory {
            flag: flag.clone(),
            dir,
        });
        if existing.is_some() {
            targets.push(WriteTarget::File {
                flag,
                file: file.to_path_buf(),
            });
        }
    }
    if let Some(dir) = extract_dir {
        let reachable = dir
            .ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new("."));
        let reachable = if reachable.as_os_str().is_empty() {
            Path::new(".")
        } else {
            reachable
        };
        targets.push(WriteTarget::Directory {
            flag: format!("--extract-firmware {}", dir.display()),
            dir: reachable.to_path_buf(),
        });
    }
    targets
}

/// Before anything is opened: can `user` (and `group`) create files in every directory of
/// `targets` and reopen every file? A real attempt, not a reading of mode bits (ACLs, read-only
/// mounts, SELinux all count): the effective ids are switched to theirs, a file is created and
/// removed (or the file opened for appending), and the ids switched back. Needs root, as
/// dropping does. The error is one line naming the user, the path and the option.
pub fn check_writable_as(
    user: Option<&str>,
    group: Option<&str>,
    targets: &[WriteTarget],
) -> Result<(), String> {
    use nix::unistd::{getegid, geteuid, getgroups, setegid, seteuid, setgroups};
    let (u, gid) = lookup(user, group)?;
    if targets.is_empty() || (u.is_none() && gid.is_none()) {
        return Ok(());
    }
    let who = match (user, group) {
        (Some(u), Some(g)) => format!("user {u} (group {g})"),
        (Some(u), None) => format!("user {u}"),
        (None, Some(g)) => format!("group {g}"),
        (None, None) => unreachable!("checked above"),
    };
    let (euid, egid) = (geteuid(), getegid());
    let groups = getgroups().map_err(|e| format!("cannot read supplementary groups: {e}"))?;
    let switch = || -> nix::Result<()> {
        if let Some(gid) = gid {
            setgroups(&[gid])?;
            setegid(gid)?;
        }
        if let Some(u) = &u {
            seteuid(u.uid)?;
        }
        Ok(())
    };
    let switched = switch();
    let attempt = switched
        .map_err(|e| format!("cannot switch to {who} to check the outputs: {e}"))
        .and_then(|()| targets.iter().try_for_each(|t| try_as_user(t, &who)));
    // Back to root whatever happened; failing that, nothing may run with mixed ids.
    seteuid(euid)
        .and_then(|()| setegid(egid))
        .and_then(|()| setgroups(&groups))
        .map_err(|e| format!("cannot switch back after checking the outputs: {e}"))?;
    attempt
}

/// One target, with the effective ids already switched.
fn try_as_user(target: &WriteTarget, who: &str) -> Result<(), String> {
    match target {
        WriteTarget::Directory { flag, dir } => {
            let probe = dir.join(format!(".watch3232-write-check.{}", std::process::id()));
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
                .and_then(|_| std::fs::remove_file(&probe))
                .map_err(|e| {
                    format!(
                        "{who} cannot create files in {} ({flag}): {e}; not started",
                        dir.display()
                    )
                })
        }
        WriteTarget::File { flag, file } => std::fs::OpenOptions::new()
            .append(true)
            .open(file)
            .map(drop)
            .map_err(|e| {
                format!(
                    "{who} cannot reopen {} ({flag}): {e}; not started",
                    file.display()
                )
            }),
    }
}

/// Switches to `user` / `group` (supplementary groups cleared) for good.
pub fn drop_privileges(user: Option<&str>, group: Option<&str>) -> Result<(), String> {
    use nix::unistd::{setgid, setgroups, setuid, Uid};
    let (u, gid) = lookup(user, group)?;
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
