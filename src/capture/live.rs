//! Live capture from an interface through libpcap, with a kernel BPF filter.

use super::{CaptureError, LinkType, Next, Packet};
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
    /// The last read found nothing: wait in poll(2) (up to `poll_ms`) before the next one.
    /// libpcap's own timeout does not fire on a quiet Linux TPACKET_V3 ring, so the capture
    /// is non-blocking and we wait here, where a signal also ends the wait.
    starved: bool,
    poll_ms: i32,
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
            // connects (ESP32: after preparing the flash; ESP8266: 100 ms after `OK`, §2).
            .immediate_mode(true)
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(open_err)?;
        let linktype = capture.get_datalink().0;
        let link = LinkType::from_linktype(linktype).ok_or(CaptureError::UnsupportedLink {
            name: name.clone(),
            linktype,
        })?;
        let mut source = LiveSource {
            name,
            capture,
            link,
            base_filter: opts.filter.clone(),
            read: 0,
            starved: false,
            poll_ms: opts.poll_ms,
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
        let expr = for_link(self.link, expr);
        self.capture
            .filter(expr, true)
            .map_err(|e| CaptureError::Filter {
                name: self.name.clone(),
                reason: format!("invalid capture filter {expr:?}: {e}"),
            })
    }

    /// Replaces the kernel filter at run time without losing packets. `pcap_setfilter` on Linux
    /// first attaches a reject-all program and drains the socket (libpcap's
    /// `set_kernel_filter`), so whatever arrives between its two `setsockopt` calls is lost,
    /// and counted nowhere. The kernel swaps a socket's filter atomically, so attaching the
    /// compiled program ourselves loses nothing; packets already in the ring passed the old
    /// filter, and the classifiers judge each packet anyway. Cooked (`any`) captures fall back to
    /// libpcap, which rewrites their offsets for the kernel.
    #[cfg(target_os = "linux")]
    pub fn replace_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        if matches!(self.link, LinkType::LinuxSll | LinkType::LinuxSll2) {
            return self.set_filter(expr);
        }
        let expr = for_link(self.link, expr);
        let program = self
            .capture
            .compile(expr, true)
            .map_err(|e| CaptureError::Filter {
                name: self.name.clone(),
                reason: format!("invalid capture filter {expr:?}: {e}"),
            })?;
        let Some(code) = kernel_program(program.get_instructions()) else {
            return self.set_filter(expr);
        };
        match attach_filter(&self.capture, &code) {
            Ok(()) => Ok(()),
            // E.g. a kernel without socket filters: libpcap knows the fallbacks.
            Err(e) => {
                tracing::debug!("attaching the filter directly failed ({e}); using libpcap's");
                self.set_filter(expr)
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn replace_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        self.set_filter(expr)
    }

    pub fn next_packet(&mut self) -> Result<Next<'_>, CaptureError> {
        if self.starved {
            use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
            use std::os::fd::AsFd;
            self.starved = false;
            let timeout = PollTimeout::try_from(self.poll_ms.max(0)).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.capture.as_fd(), PollFlags::POLLIN)];
            // Timeout or EINTR (a signal): let the caller look at its clock and flags.
            if !matches!(poll(&mut fds, timeout), Ok(n) if n > 0) {
                return Ok(Next::Idle);
            }
        }
        match self.capture.next_packet() {
            Ok(p) => {
                self.read += 1;
                Ok(Next::Packet(Packet::from_libpcap(&p, self.link, self.read)))
            }
            Err(pcap::Error::TimeoutExpired) => {
                self.starved = true;
                Ok(Next::Idle)
            }
            Err(pcap::Error::NoMorePackets) => Ok(Next::End),
            Err(e) => Err(CaptureError::Read {
                name: self.name.clone(),
                after: self.read,
                reason: e.to_string(),
            }),
        }
    }

    /// Joins AF_PACKET fanout group `group`, with defragmentation, so the kernel spreads
    /// packets over every socket of the group. The socket is chosen by a hash of the IP address
    /// pair ([`super::fanout::ip_pair_program`]), not of the 5-tuple: an OTA invitation (UDP,
    /// uploader → device) and the device's TCP connection back reach the same worker, which
    /// holds the session. Kernels without classic-BPF fanout (before 4.2) get the flow hash.
    /// Linux only.
    #[cfg(target_os = "linux")]
    pub fn join_fanout(&mut self, group: u16) -> Result<(), CaptureError> {
        // <linux/if_packet.h>
        const PACKET_FANOUT: libc::c_int = 18;
        const PACKET_FANOUT_DATA: libc::c_int = 22;
        const PACKET_FANOUT_HASH: u32 = 0;
        const PACKET_FANOUT_CBPF: u32 = 6;
        const PACKET_FANOUT_FLAG_DEFRAG: u32 = 0x8000;
        let join =
            |mode: u32| -> u32 { u32::from(group) | ((mode | PACKET_FANOUT_FLAG_DEFRAG) << 16) };
        let program = super::fanout::ip_pair_program();
        let fprog = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_ptr().cast_mut(),
        };
        let cbpf = join(PACKET_FANOUT_CBPF);
        let joined = match set_socket_option(&self.capture, libc::SOL_PACKET, PACKET_FANOUT, &cbpf)
        {
            // Joined: the group needs its program (a socket cannot join twice).
            Ok(()) => {
                set_socket_option(&self.capture, libc::SOL_PACKET, PACKET_FANOUT_DATA, &fprog)
            }
            Err(e) => {
                tracing::warn!("fanout by IP pair unavailable ({e}); using the flow hash");
                let hash = join(PACKET_FANOUT_HASH);
                set_socket_option(&self.capture, libc::SOL_PACKET, PACKET_FANOUT, &hash)
            }
        };
        joined.map_err(|err| CaptureError::Open {
            name: self.name.clone(),
            reason: format!("cannot join AF_PACKET fanout group {group}: {err}"),
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn join_fanout(&mut self, _group: u16) -> Result<(), CaptureError> {
        Err(CaptureError::Open {
            name: self.name.clone(),
            reason: "--workers needs Linux AF_PACKET fanout".into(),
        })
    }

    pub fn kernel_stats(&mut self) -> Option<KernelStats> {
        self.capture.stats().ok().map(|s| KernelStats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
        })
    }
}

/// `expr` as libpcap compiles it on `link`: our default filter's `vlan` half only where libpcap
/// has `vlan` (Ethernet, 802.11); cooked `any`, tun (raw IP) and loopback captures see frames
/// whose tags the kernel already took off, and libpcap refuses `vlan` for them.
fn for_link(link: LinkType, expr: &str) -> &str {
    match link {
        LinkType::Ethernet | LinkType::Ieee80211 | LinkType::Radiotap | LinkType::Ppi => expr,
        _ => crate::prefilter::bpf::without_vlan_half(expr),
    }
}

/// libpcap's instructions as the kernel's `sock_filter`s. The pcap crate shows an instruction only
/// through `Display` ("code jt jf k", the fields of `struct bpf_insn`), which we parse rather
/// than transmute; `None` if that ever changes.
#[cfg(target_os = "linux")]
fn kernel_program(insns: &[pcap::BpfInstruction]) -> Option<Vec<libc::sock_filter>> {
    insns
        .iter()
        .map(|insn| {
            let text = insn.to_string();
            let mut fields = text.split(' ');
            let code = fields.next()?.parse().ok()?;
            let jt = fields.next()?.parse().ok()?;
            let jf = fields.next()?.parse().ok()?;
            let k = fields.next()?.parse().ok()?;
            fields
                .next()
                .is_none()
                .then_some(libc::sock_filter { code, jt, jf, k })
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn attach_filter(capture: &Capture<Active>, code: &[libc::sock_filter]) -> std::io::Result<()> {
    let len = u16::try_from(code.len())
        .map_err(|_| std::io::Error::other("filter longer than the kernel accepts"))?;
    let program = libc::sock_fprog {
        len,
        filter: code.as_ptr().cast_mut(),
    };
    set_socket_option(capture, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &program)
}

/// `setsockopt(2)` on the capture's socket: the one place this module passes memory to the
/// kernel itself.
#[cfg(target_os = "linux")]
fn set_socket_option<T>(
    capture: &Capture<Active>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: the descriptor is the AF_PACKET socket libpcap opened for `capture`, open while
    // `capture` lives. `value` is a live, initialised `T` borrowed for the whole call, and the
    // length passed is its size. The options used here (fanout, fanout data, attach filter)
    // only read it, and copy what they keep, including the instructions a `sock_fprog` points
    // to, which its owner keeps alive across the call.
    let rc = unsafe {
        libc::setsockopt(
            capture.as_raw_fd(),
            level,
            name,
            (value as *const T).cast::<libc::c_void>(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `tcpdump -i any -d` and `-i tun0 -d` check: the default filter compiles on every
    /// link a live interface may have, cooked `any` (SLL, SLL2), tun (raw IP) and loopback
    /// included, and keeps its `vlan` half where libpcap has one.
    #[test]
    fn the_default_filter_compiles_on_every_live_link() {
        let expr = crate::prefilter::bpf::default_filter(&[3232, 8266]);
        for link in [
            LinkType::Ethernet,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Raw,
            LinkType::Null,
            LinkType::Radiotap,
        ] {
            // libpcap opens DLT numbers: raw IP is DLT_RAW (12 on Linux), not LINKTYPE_RAW.
            let dlt = if link == LinkType::Raw {
                12
            } else {
                link.linktype()
            };
            let dead = Capture::dead(pcap::Linktype(dlt)).unwrap();
            let text = for_link(link, &expr);
            assert_eq!(
                text.contains("vlan"),
                matches!(link, LinkType::Ethernet | LinkType::Radiotap),
                "{link:?}"
            );
            if let Err(e) = dead.compile(text, true) {
                panic!("{link:?}: {e}");
            }
        }
    }
}
