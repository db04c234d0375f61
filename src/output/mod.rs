//! Sinks for events: JSON Lines to standard output or a file, with a large buffer.

use crate::event::Event;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

const BUFFER: usize = 256 * 1024;

/// Where events go. A closed standard output (`| head`) is not an error: writing stops quietly.
pub struct JsonLines {
    out: BufWriter<Box<dyn Write + Send>>,
    line: Vec<u8>,
    is_stdout: bool,
    closed: bool,
    written: u64,
}

impl JsonLines {
    pub fn stdout() -> Self {
        Self::new(Box::new(io::stdout()), true)
    }

    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(Self::new(Box::new(file), false))
    }

    pub fn new(out: Box<dyn Write + Send>, is_stdout: bool) -> Self {
        JsonLines {
            out: BufWriter::with_capacity(BUFFER, out),
            line: Vec::with_capacity(1024),
            is_stdout,
            closed: false,
            written: 0,
        }
    }

    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, event).map_err(io::Error::other)?;
        self.line.push(b'\n');
        let result = self.out.write_all(&self.line);
        self.written += 1;
        self.check(result)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.out.flush();
        self.check(result)
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Whether the reader went away (standard output closed).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn check(&mut self, result: io::Result<()>) -> io::Result<()> {
        match result {
            Err(e) if self.is_stdout && e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}
