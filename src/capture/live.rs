//! Live capture from an interface through libpcap, with a kernel BPF filter.

use super::{CaptureError, LinkType, Next, Packet, Timestamp};
use pcap::{Active, Capture};

/// How to open an interface; defaults follow tcpdump's.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    pub interface: String,
    pub filter: String,
    pub snaplen: i32,
    pub buffer_size: i32,
    pub promisc: bool,
    /// How long a read may wait before returning `Idle`, so signals and timers are seen.
    pub poll_ms: i32,
}

pub struct LiveSource {
    name: String,
    capture: Capture<Active>,
    link: LinkType,
    base_filter: String,
    read: u64,
}

/// Kernel-side counters, as libpcap reports them.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelStats {
    pub received: u32,
    pub dropped: u32,
    pub if_dropped: u32,
}

impl LiveSource {
    pub fn open(opts: &LiveOptions) -> Result<Self, CaptureError> {
        let name = opts.interface.clone();
        let open_err = |e: pcap::Error| CaptureError::Open {
            name: name.clone(),
            reason: describe_live_error(&e),
        };
        let capture = Capture::from_device(opts.interface.as_str())
            .map_err(open_err)?
            .snaplen(opts.snaplen)
            .buffer_size(opts.buffer_size)
            .promisc(opts.promisc)
            .timeout(opts.poll_ms)
            .open()
            .map_err(open_err)?;
        let linktype = capture.get_datalink().0;
        let link = LinkType::from_linktype(linktype)
            .ok_or(CaptureError::UnsupportedLink { name: name.clone(), linktype })?;
        let mut source = LiveSource {
            name,
            capture,
            link,
            base_filter: opts.filter.clone(),
            read: 0,
        };
        source.set_filter(&opts.filter)?;
        Ok(source)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The filter given at start-up (flows announced at run time are added to it).
    pub fn base_filter(&self) -> &str {
        &self.base_filter
    }

    /// Installs a BPF program in the kernel; an invalid expression is an error naming it.
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        self.capture.filter(expr, true).map_err(|e| CaptureError::Filter {
            name: self.name.clone(),
            reason: format!("invalid capture filter {expr:?}: {e}"),
        })
    }

    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        match self.capture.next_packet() {
            Ok(p) => {
                self.read += 1;
                Ok(Next::Packet(Packet {
                    ts: Timestamp::from_timeval(p.header.ts.tv_sec, p.header.ts.tv_usec),
                    wire_len: p.header.len,
                    data: p.data,
                    link: self.link,
                    index: self.read,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => Ok(Next::Idle),
            Err(pcap::Error::NoMorePackets) => Ok(Next::End),
            Err(e) => Err(CaptureError::Read {
                name: self.name.clone(),
                after: self.read,
                reason: e.to_string(),
            }),
        }
    }

    /// Switches to non-blocking reads: `next_packet` returns `Idle` at once when nothing is
    /// queued, and [`LiveSource::wait`] does the waiting. (With TPACKET_V3 a blocking read's
    /// timeout only runs once a packet has arrived, so a worker on a quiet link would never see
    /// a stop request.)
    pub fn into_nonblocking(self) -> Result<Self, CaptureError> {
        let LiveSource { name, capture, link, base_filter, read } = self;
        let capture = capture.setnonblock().map_err(|e| CaptureError::Open {
            name: name.clone(),
            reason: format!("cannot switch to non-blocking reads: {e}"),
        })?;
        Ok(LiveSource { name, capture, link, base_filter, read })
    }

    /// Waits up to `timeout_ms` for a packet to be readable; false on timeout or interruption.
    #[cfg(unix)]
    pub fn wait(&self, timeout_ms: i32) -> bool {
        use std::os::unix::io::AsRawFd;
        let mut pfd = libc::pollfd { fd: self.capture.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: `pfd` is one valid, initialised pollfd that lives across the call, and nfds is 1;
        // the descriptor is libpcap's open socket, owned by `self.capture`.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        rc > 0
    }

    #[cfg(not(unix))]
    pub fn wait(&self, timeout_ms: i32) -> bool {
        std::thread::sleep(std::time::Duration::from_millis(timeout_ms.max(0) as u64));
        false
    }

    /// Joins AF_PACKET fanout group `group` in hash mode (with defragmentation), so the kernel
    /// spreads packets over every socket of the group by flow hash: all packets of one flow (both
    /// directions) reach the same socket. Linux only.
    #[cfg(target_os = "linux")]
    pub fn join_fanout(&mut self, group: u16) -> Result<(), CaptureError> {
        use std::os::unix::io::AsRawFd;
        // <linux/if_packet.h>
        const PACKET_FANOUT: libc::c_int = 18;
        const PACKET_FANOUT_HASH: u32 = 0;
        const PACKET_FANOUT_FLAG_DEFRAG: u32 = 0x8000;
        let arg: u32 = u32::from(group) | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
        let fd = self.capture.as_raw_fd();
        // SAFETY: `fd` is the AF_PACKET socket libpcap opened and bound for `self.capture`, open
        // for as long as `self` lives; `arg` is a live 4-byte integer that setsockopt only reads,
        // and the length passed is its size.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                PACKET_FANOUT,
                (&arg as *const u32).cast::<libc::c_void>(),
                std::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            return Err(CaptureError::Open {
                name: self.name.clone(),
                reason: format!("cannot join AF_PACKET fanout group {group}: {err}"),
            });
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    pub fn join_fanout(&mut self, _group: u16) -> Result<(), CaptureError> {
        Err(CaptureError::Open { name: self.name.clone(), reason: "--workers needs Linux AF_PACKET fanout".into() })
    }

    pub fn kernel_stats(&mut self) -> Option<KernelStats> {
        self.capture.stats().ok().map(|s| KernelStats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
        })
    }
}

fn describe_live_error(err: &pcap::Error) -> String {
    let text = err.to_string();
    if text.contains("No such device") || text.contains("doesn't exist") {
        "no such interface (list them with `ip link`)".to_string()
    } else if text.contains("ermission") || text.contains("Operation not permitted") {
        format!("no permission to capture ({text}); run as root or grant CAP_NET_RAW: `sudo setcap cap_net_raw,cap_net_admin=eip $(command -v watch3232)`")
    } else {
        text
    }
}
