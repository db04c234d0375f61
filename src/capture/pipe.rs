//! Inputs that can block for ever (standard input, a FIFO, a socket): read on a helper thread,
//! so that the run wakes up every [`IDLE_WAKE`] to look at its stop flag and flush its events
//! even while the writer is silent. A regular file never blocks and is read directly.

use super::{CaptureError, FileSource, LinkType, Next, Packet, Reader, SkippedPackets, Timestamp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long a read waits before reporting `Idle`.
pub const IDLE_WAKE: Duration = Duration::from_millis(100);

/// Packets read ahead of the run: a bound, so a slow run slows the reader (back-pressure on the
/// pipe) instead of buffering without end.
const QUEUE: usize = 1024;

/// Whether reading `path` can block indefinitely: `-` (unless it is a redirected regular file),
/// a FIFO, a character device or a socket.
pub fn may_block(path: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let target = if path == "-" { "/dev/stdin" } else { path };
        match std::fs::metadata(target) {
            Ok(m) => {
                let t = m.file_type();
                t.is_fifo() || t.is_char_device() || t.is_socket() || (path == "-" && !t.is_file())
            }
            Err(_) => path == "-",
        }
    }
    #[cfg(not(unix))]
    {
        path == "-"
    }
}

/// Where a packet of a [`Batch`] lies in its `data`, with its header fields.
struct Meta {
    ts: Timestamp,
    wire_len: u32,
    link: LinkType,
    index: u64,
    start: usize,
    end: usize,
}

/// Packets read but not yet taken, with how the input opened and ended.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    packets: Vec<Meta>,
}

#[derive(Default)]
struct State {
    batch: Batch,
    /// The capture header was read (the input's name), or opening failed.
    opened: Option<Result<String, CaptureError>>,
    /// The input ended (`Ok`) or failed; delivered after the last packet.
    ended: Option<Result<(), CaptureError>>,
    /// The run dropped its [`PipeSource`]: the reader stops at its next packet.
    abandoned: bool,
    /// What the reader skipped, set when the input ends.
    skipped: SkippedPackets,
}

/// Double buffering between the reader thread and the run: the reader appends to the shared
/// batch; the run swaps it for its own empty one when it has used up the last. Everything read
/// is visible to the run at once (nothing waits in the reader while it blocks on the pipe), and
/// the buffers are reused rather than allocated per packet.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when the state gains something for the run.
    readable: Condvar,
    /// Signalled when the run has taken the batch (or gone).
    writable: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A [`FileSource`] read on its own thread. The thread may stay blocked in `read(2)` after the
/// run has stopped; it holds nothing the run needs and ends with the process.
pub struct PipeSource {
    name: String,
    shared: Arc<Shared>,
    /// The batch being handed out, and the next packet in it.
    local: Batch,
    next: usize,
    done: bool,
}

impl PipeSource {
    /// Starts reading `path` and waits for its capture header. `Ok(None)`: `stop` was raised
    /// before the header arrived (a signal on a silent pipe), which is not an error.
    pub fn open(
        path: &str,
        reader: Reader,
        stop: &AtomicBool,
    ) -> Result<Option<Self>, CaptureError> {
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let owned = path.to_string();
        std::thread::Builder::new()
            .name("pipe-reader".into())
            .spawn(move || read_all(&owned, reader, &theirs))
            .map_err(|e| CaptureError::Open {
                name: path.to_string(),
                reason: format!("cannot start a reader thread: {e}"),
            })?;
        let mut state = shared.lock();
        let opened = loop {
            if let Some(opened) = state.opened.take() {
                break opened;
            }
            if stop.load(Ordering::Relaxed) {
                state.abandoned = true;
                return Ok(None);
            }
            state = shared
                .readable
                .wait_timeout(state, IDLE_WAKE)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        };
        drop(state);
        Ok(Some(PipeSource {
            name: opened?,
            shared,
            local: Batch::default(),
            next: 0,
            done: false,
        }))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the reader skipped (known once the input has ended).
    pub fn skipped(&self) -> SkippedPackets {
        self.shared.lock().skipped
    }

    /// The next packet, `Idle` after [`IDLE_WAKE`] without one, `End`, or the reader's error.
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        if self.next == self.local.packets.len() {
            if self.done {
                return Ok(Next::End);
            }
            let mut state = self.shared.lock();
            while state.batch.packets.is_empty() && state.ended.is_none() {
                let (s, waited) = self
                    .shared
                    .readable
                    .wait_timeout(state, IDLE_WAKE)
                    .unwrap_or_else(|p| p.into_inner());
                state = s;
                if waited.timed_out() && state.batch.packets.is_empty() && state.ended.is_none() {
                    return Ok(Next::Idle);
                }
            }
            self.local.data.clear();
            self.local.packets.clear();
            self.next = 0;
            std::mem::swap(&mut self.local, &mut state.batch);
            if self.local.packets.is_empty() {
                self.done = true;
                let ended = state.ended.take().unwrap_or(Ok(()));
                drop(state);
                return ended.map(|()| Next::End);
            }
            drop(state);
            self.shared.writable.notify_one();
        }
        let m = &self.local.packets[self.next];
        self.next += 1;
        Ok(Next::Packet(Packet {
            ts: m.ts,
            wire_len: m.wire_len,
            data: &self.local.data[m.start..m.end],
            link: m.link,
            index: m.index,
        }))
    }
}

impl Drop for PipeSource {
    fn drop(&mut self) {
        self.shared.lock().abandoned = true;
        self.shared.writable.notify_one();
    }
}

/// The reader thread: opens `path`, then appends each packet to the shared batch, waiting while
/// it holds [`QUEUE`] packets (back-pressure on the pipe instead of unbounded buffering).
fn read_all(path: &str, reader: Reader, shared: &Shared) {
    let mut source = match FileSource::open(path, reader) {
        Ok(s) => s,
        Err(e) => {
            shared.lock().opened = Some(Err(e));
            shared.readable.notify_one();
            return;
        }
    };
    shared.lock().opened = Some(Ok(source.name().to_string()));
    shared.readable.notify_one();
    loop {
        let read = source.next_packet();
        let mut state = shared.lock();
        while state.batch.packets.len() >= QUEUE && !state.abandoned {
            state = shared
                .writable
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        if state.abandoned {
            return;
        }
        match read {
            Ok(Next::Packet(p)) => {
                let start = state.batch.data.len();
                state.batch.data.extend_from_slice(p.data);
                let end = state.batch.data.len();
                state.batch.packets.push(Meta {
                    ts: p.ts,
                    wire_len: p.wire_len,
                    link: p.link,
                    index: p.index,
                    start,
                    end,
                });
                if state.batch.packets.len() == 1 {
                    shared.readable.notify_one();
                }
            }
            Ok(Next::Idle) => {}
            Ok(Next::End) => {
                state.skipped = source.skipped();
                state.ended = Some(Ok(()));
                shared.readable.notify_one();
                return;
            }
            Err(e) => {
                state.skipped = source.skipped();
                state.ended = Some(Err(e));
                shared.readable.notify_one();
                return;
            }
        }
    }
}
