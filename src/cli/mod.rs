//! Command-line definition and the glue from arguments to the engine.

mod run;
mod workers;

pub use run::run;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Some input could not be read (the rest was); or a fatal error.
pub const EXIT_ERROR: u8 = 1;

const ABOUT: &str = "Passive classifier for port 3232: ArduinoOTA/ESPHome firmware updates, \
multicast-VPN MDT, and everything else on the port. Writes one JSON event per finding.";

const EXAMPLES: &str = "\
Examples:
  watch3232 read capture.pcapng                 events as JSON Lines on stdout
  watch3232 read -o events.json a.pcap b.pcap   several files, in order, to a file
  tcpdump -w - -i eth0 | watch3232 read -        a capture on standard input
  sudo watch3232 capture -i eth0                 live, with the default kernel filter
  watch3232 read x.pcap | jq 'select(.event_type==\"arduino_ota\")'";

#[derive(Debug, Parser)]
#[command(name = "watch3232", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,

    /// Write events to FILE instead of standard output.
    #[arg(short, long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// More log detail on stderr (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// UDP ports ArduinoOTA devices listen on (ESP32 3232, ESP8266 8266, RP2040 2040).
    #[arg(long, global = true, value_delimiter = ',', default_value = "3232,8266,2040", value_name = "PORTS")]
    pub ota_ports: Vec<u16>,

    /// Most flows tracked at once; past it the least recently seen flow is ended early.
    #[arg(long, global = true, default_value_t = 500_000, value_name = "N")]
    pub max_flows: usize,

    /// Seconds of (packet) time after which an idle flow is ended.
    #[arg(long, global = true, default_value_t = 120, value_name = "SECS")]
    pub flow_timeout: u64,

    /// Seed of the Community ID flow hash (must match your other sensors).
    #[arg(long, global = true, default_value_t = 0, value_name = "SEED")]
    pub community_id_seed: u16,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read pcap or pcapng files (in the order given; `-` is standard input).
    Read {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// How files are read: `auto` (our own pcap/pcapng reader for regular files, libpcap
        /// for standard input), `native` (ours, standard input too) or `libpcap`.
        #[arg(long, value_enum, default_value = "auto", value_name = "READER")]
        reader: watch3232::capture::Reader,
    },
    /// Capture live from an interface (needs root or CAP_NET_RAW).
    Capture {
        /// Interface to capture on (e.g. eth0, or `any`).
        #[arg(short, long, value_name = "IFACE")]
        interface: String,
        /// BPF filter replacing the default (which passes only what watch3232 classifies).
        #[arg(short, long, value_name = "EXPR")]
        filter: Option<String>,
        /// Bytes captured per packet.
        #[arg(long, default_value_t = 65535)]
        snaplen: i32,
        /// Kernel capture buffer, bytes.
        #[arg(long, default_value_t = 32 * 1024 * 1024)]
        buffer_size: i32,
        /// Put the interface in promiscuous mode (default: yes, as tcpdump does).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
        promisc: bool,
        /// Worker threads, each with its own socket and flow table; the kernel spreads packets
        /// over them by flow hash (AF_PACKET fanout, Linux). Events are merged into one stream.
        #[arg(long, default_value_t = 1, value_name = "N")]
        workers: usize,
    },
}

pub fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
}
