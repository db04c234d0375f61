//! Files that classifiers produce next to their events (`--extract-firmware` images). The engine
//! does no I/O: a classifier queues an artifact, bounded and counted, and the driver writes it
//! before it writes the events that name it.

use std::path::PathBuf;

/// Most bytes of artifacts waiting to be written at once; past it an artifact is refused (and
/// its event says so). The driver writes them after every packet, so one image is the usual
/// most.
pub const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;

/// A file to write: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Artifacts queued since the driver last took them.
#[derive(Debug, Default)]
pub struct Artifacts {
    pending: Vec<Artifact>,
    bytes: usize,
}

impl Artifacts {
    /// Queues `artifact`, or hands it back when the queue is full.
    pub fn push(&mut self, artifact: Artifact) -> Result<(), Artifact> {
        let after = self.bytes.saturating_add(artifact.bytes.len());
        if after > MAX_PENDING_BYTES && !self.pending.is_empty() {
            return Err(artifact);
        }
        self.bytes = after;
        self.pending.push(artifact);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Everything queued, oldest first.
    pub fn take(&mut self) -> Vec<Artifact> {
        self.bytes = 0;
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded_but_takes_one_of_any_size() {
        let big = |n| Artifact {
            path: PathBuf::from(format!("{n}.bin")),
            bytes: vec![0; MAX_PENDING_BYTES / 2 + 1],
        };
        let mut q = Artifacts::default();
        assert!(q.push(big(1)).is_ok());
        assert!(q.push(big(2)).is_err(), "over the bound");
        assert_eq!(q.take().len(), 1);
        assert!(q.is_empty());
        assert!(q.push(big(3)).is_ok(), "room again");
    }
}
