//! Inputs that can block for ever (standard input, a FIFO, a socket): read on a helper thread,
//! so that the run wakes up every [`IDLE_WAKE`] to look at its stop flag and flush its events
//! even while the writer is silent. A regular file never blocks and is read directly.

use super::{CaptureError, FileSource, Next, Packet, Reader, Timestamp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How long a read waits before reporting `Idle`.
pub const IDLE_WAKE: Duration = Duration::from_millis(100);

/// Packets in flight between the reader thread and the run: a bound, so a slow run slows the
/// reader (back-pressure on the pipe) instead of buffering without end.
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

enum Message {
    Opened(Result<String, CaptureError>),
    Packet {
        ts: Timestamp,
        wire_len: u32,
        data: Vec<u8>,
        link: super::LinkType,
        index: u64,
    },
    End,
    Failed(CaptureError),
}

/// A [`FileSource`] read on its own thread. The thread may stay blocked in `read(2)` after the
/// run has stopped; it holds nothing the run needs and ends with the process.
pub struct PipeSource {
    name: String,
    rx: Receiver<Message>,
    current: Vec<u8>,
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
        let (tx, rx) = sync_channel(QUEUE);
        let owned = path.to_string();
        std::thread::Builder::new()
            .name("pipe-reader".into())
            .spawn(move || {
                let mut source = match FileSource::open(&owned, reader) {
                    Ok(s) => {
                        let _ = tx.send(Message::Opened(Ok(s.name().to_string())));
                        s
                    }
                    Err(e) => {
                        let _ = tx.send(Message::Opened(Err(e)));
                        return;
                    }
                };
                loop {
                    let message = match source.next_packet() {
                        Ok(Next::Packet(p)) => Message::Packet {
                            ts: p.ts,
                            wire_len: p.wire_len,
                            data: p.data.to_vec(),
                            link: p.link,
                            index: p.index,
                        },
                        Ok(Next::Idle) => continue,
                        Ok(Next::End) => Message::End,
                        Err(e) => Message::Failed(e),
                    };
                    let last = !matches!(message, Message::Packet { .. });
                    // A closed channel: the run has stopped reading.
                    if tx.send(message).is_err() || last {
                        return;
                    }
                }
            })
            .map_err(|e| CaptureError::Open {
                name: path.to_string(),
                reason: format!("cannot start a reader thread: {e}"),
            })?;
        loop {
            match rx.recv_timeout(IDLE_WAKE) {
                Ok(Message::Opened(Ok(name))) => {
                    return Ok(Some(PipeSource {
                        name,
                        rx,
                        current: Vec::new(),
                        done: false,
                    }))
                }
                Ok(Message::Opened(Err(e))) => return Err(e),
                Ok(_) | Err(RecvTimeoutError::Disconnected) => {
                    return Err(CaptureError::Open {
                        name: path.to_string(),
                        reason: "the reader thread ended before the capture header".into(),
                    })
                }
                Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Relaxed) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next packet, `Idle` after [`IDLE_WAKE`] without one, `End`, or the reader's error.
    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        if self.done {
            return Ok(Next::End);
        }
        match self.rx.recv_timeout(IDLE_WAKE) {
            Ok(Message::Packet {
                ts,
                wire_len,
                data,
                link,
                index,
            }) => {
                self.current = data;
                Ok(Next::Packet(Packet {
                    ts,
                    wire_len,
                    data: &self.current,
                    link,
                    index,
                }))
            }
            Ok(Message::Failed(e)) => {
                self.done = true;
                Err(e)
            }
            Ok(Message::End | Message::Opened(_)) | Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                Ok(Next::End)
            }
            Err(RecvTimeoutError::Timeout) => Ok(Next::Idle),
        }
    }
}
