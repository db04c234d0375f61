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
            // Packets reach the engine at once, so a filter extended at run time (an OTA
            // connect-back port learnt from an invitation) is in place before the device
            // connects, milliseconds later.
            .immediate_mode(true)
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
