//! `--write-matched`: after a read, a second pass over the capture files copies every packet of
//! a flow that had an event into one capture file. Classic pcap when every packet has the link
//! type of the first file (and fits its snap length), as before; otherwise pcapng, one
//! Interface Description Block per (input file, section, interface) with its own link type,
//! snap length and timestamp resolution, and each packet's timestamp copied exactly. The
//! pass starts as pcap and starts over as pcapng at the first packet pcap cannot hold.

use crate::capture::savefile::{Interface, PcapWriter, PcapngWriter};
use crate::capture::{NativeSource, Next, Origin};
use crate::decode::{decode, Outcome};
use crate::flow::FlowKey;
use crate::packet::{LinkType, Packet};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Which format the matched packets were written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveFormat {
    Pcap,
    Pcapng,
}

/// What the second pass wrote, and what it could not read.
#[derive(Debug)]
pub struct Written {
    pub packets: u64,
    pub format: SaveFormat,
    /// Inputs not read to their end in this pass (file, why): their packets after that point
    /// were not copied. The first pass reported the same problem.
    pub incomplete: Vec<(String, String)>,
}

/// Why the matched packets could not be written; fatal for the run.
#[derive(Debug, thiserror::Error)]
pub enum MatchedError {
    #[error("--write-matched needs capture files, not standard input (it reads them twice)")]
    Stdin,
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: io::Error },
    #[error("cannot write {path}: the inputs need pcapng (several link types) and a pcap was already started on a file that cannot be rewritten")]
    CannotRestart { path: String },
}

/// Copies every packet of `files` whose flow is in `keys` into `out`.
pub fn write_matched(
    files: &[String],
    keys: &HashSet<FlowKey>,
    out: &Path,
    max_depth: u8,
) -> Result<Written, MatchedError> {
    if files.iter().any(|f| f == "-") {
        return Err(MatchedError::Stdin);
    }
    let write_error = |error| MatchedError::Write {
        path: out.display().to_string(),
        error,
    };
    let pcap = files.iter().find_map(|path| {
        let src = open(path).ok()?;
        let o = src.origin();
        Some(Plan::Pcap {
            link: src.link(),
            linktype: o.linktype,
            // libpcap's rule: none declared means its maximum.
            snaplen: if o.snaplen == 0 {
                MAXIMUM_SNAPLEN
            } else {
                o.snaplen
            },
        })
    });
    let plan = pcap.unwrap_or(Plan::Pcapng);
    match pass(files, keys, out, plan, max_depth) {
        Ok(w) => Ok(w),
        Err(Stop::Write(e)) => Err(write_error(e)),
        Err(Stop::NeedsPcapng { started }) => {
            if started && !std::fs::metadata(out).is_ok_and(|m| m.is_file()) {
                return Err(MatchedError::CannotRestart {
                    path: out.display().to_string(),
                });
            }
            match pass(files, keys, out, Plan::Pcapng, max_depth) {
                Ok(w) => Ok(w),
                Err(Stop::Write(e)) => Err(write_error(e)),
                Err(Stop::NeedsPcapng { .. }) => unreachable!("pcapng holds every packet"),
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Plan {
    Pcap {
        link: LinkType,
        linktype: i32,
        snaplen: u32,
    },
    Pcapng,
}

enum Stop {
    Write(io::Error),
    /// A packet pcap cannot hold (another link type, longer than the snap length); `started`:
    /// bytes of the pcap have left the buffer.
    NeedsPcapng {
        started: bool,
    },
}

/// libpcap's MAXIMUM_SNAPLEN, the snap length of a pcap whose first input declared none.
const MAXIMUM_SNAPLEN: u32 = 262_144;

/// The output file, counting what reached it (a pcap not yet flushed can still be replaced).
struct Output {
    file: File,
    bytes: u64,
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Write(e)
    }
}

enum Sink {
    Pcap {
        writer: PcapWriter<BufWriter<Output>>,
        link: LinkType,
        snaplen: u32,
    },
    Pcapng {
        writer: PcapngWriter<BufWriter<Output>>,
        /// (input file, section, interface) → its interface id in the output.
        ids: HashMap<(usize, u32, u32), u32>,
    },
}

fn open(path: &str) -> Result<NativeSource, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    match NativeSource::open(path, Box::new(file)) {
        Ok(Some(src)) => Ok(src),
        Ok(None) => Err("not a pcap or pcapng capture".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn pass(
    files: &[String],
    keys: &HashSet<FlowKey>,
    out: &Path,
    plan: Plan,
    max_depth: u8,
) -> Result<Written, Stop> {
    let output = BufWriter::with_capacity(
        1 << 16,
        Output {
            file: File::create(out)?,
            bytes: 0,
        },
    );
    let mut sink = match plan {
        Plan::Pcap {
            link,
            linktype,
            snaplen,
        } => Sink::Pcap {
            writer: PcapWriter::new(output, linktype, snaplen)?,
            link,
            snaplen,
        },
        Plan::Pcapng => Sink::Pcapng {
            writer: PcapngWriter::new(output, concat!("watch3232 ", env!("CARGO_PKG_VERSION")))?,
            ids: HashMap::new(),
        },
    };
    let mut written = Written {
        packets: 0,
        format: match plan {
            Plan::Pcap { .. } => SaveFormat::Pcap,
            Plan::Pcapng => SaveFormat::Pcapng,
        },
        incomplete: Vec::new(),
    };
    // A matched packet, copied out of the reader's buffer so its origin can be asked for.
    let mut data = Vec::new();
    for (file_no, path) in files.iter().enumerate() {
        let mut src = match open(path) {
            Ok(s) => s,
            Err(why) => {
                written.incomplete.push((path.clone(), why));
                continue;
            }
        };
        loop {
            let matched = match src.next_packet() {
                Ok(Next::Packet(p)) => {
                    if let Sink::Pcap { link, writer, .. } = &sink {
                        if p.link != *link {
                            return Err(Stop::NeedsPcapng {
                                started: writer.get_ref().get_ref().bytes > 0,
                            });
                        }
                    }
                    is_matched(&p, keys, max_depth).then(|| {
                        data.clear();
                        data.extend_from_slice(p.data);
                        (p.ts, p.wire_len)
                    })
                }
                Ok(Next::End | Next::Idle) => break,
                Err(e) => {
                    written.incomplete.push((path.clone(), e.to_string()));
                    break;
                }
            };
            let origin = src.origin();
            match &mut sink {
                Sink::Pcap {
                    writer, snaplen, ..
                } => {
                    if let Some((ts, wire_len)) = matched {
                        if data.len() > *snaplen as usize {
                            return Err(Stop::NeedsPcapng {
                                started: writer.get_ref().get_ref().bytes > 0,
                            });
                        }
                        writer.write(ts, wire_len, &data)?;
                        written.packets += 1;
                    }
                }
                Sink::Pcapng { writer, ids } => {
                    // Every interface that carries packets, matched or not.
                    let id = interface_id(writer, ids, file_no, path, &origin)?;
                    if let Some((_, wire_len)) = matched {
                        writer.write(id, origin.raw_ts, wire_len, &data)?;
                        written.packets += 1;
                    }
                }
            }
        }
    }
    match sink {
        Sink::Pcap { writer, .. } => drop(writer.finish()?),
        Sink::Pcapng { writer, .. } => drop(writer.finish()?),
    }
    Ok(written)
}

/// Whether `p` belongs to a flow that had an event.
fn is_matched(p: &Packet<'_>, keys: &HashSet<FlowKey>, max_depth: u8) -> bool {
    let Ok(Outcome::Ip(d)) = decode(p.link, p.data, max_depth) else {
        return false;
    };
    let (sp, dp) = d.ports().unwrap_or((0, 0));
    let (key, _) = FlowKey::new(d.net.src, d.net.dst, sp, dp, d.net.proto);
    keys.contains(&key)
}

/// The output interface of the input's (file, section, interface), described when first met.
fn interface_id(
    writer: &mut PcapngWriter<BufWriter<Output>>,
    ids: &mut HashMap<(usize, u32, u32), u32>,
    file_no: usize,
    path: &str,
    origin: &Origin,
) -> io::Result<u32> {
    let key = (file_no, origin.section, origin.interface);
    if let Some(id) = ids.get(&key) {
        return Ok(*id);
    }
    let description = if origin.section > 1 {
        format!(
            "{path} section {} interface {}",
            origin.section, origin.interface
        )
    } else {
        format!("{path} interface {}", origin.interface)
    };
    let id = writer.add_interface(&Interface {
        linktype: origin.linktype,
        snaplen: origin.snaplen,
        tsresol: origin.tsresol,
        tsoffset: origin.tsoffset,
        description: Some(description),
    })?;
    ids.insert(key, id);
    Ok(id)
}
