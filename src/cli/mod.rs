//! Command-line definition and the glue from arguments to the engine.

mod anomaly;
mod audit;
mod config;
mod extras;
mod inputs;
mod ota_args;
mod report;
mod run;
mod summary;
mod view;

pub use config::args_with_config;
pub use run::run;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use watch3232::output::{Format, OutputSpec};

/// Some input could not be read (the rest was); or a fatal error.
pub const EXIT_ERROR: u8 = 1;

/// A mistake in the command line or configuration (clap's own code for usage errors).
pub const EXIT_USAGE: u8 = 2;

/// A usage mistake found after parsing: reported on one line, exit [`EXIT_USAGE`].
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

const ABOUT: &str = "Passive classifier for port 3232: ArduinoOTA/ESPHome firmware updates, \
multicast-VPN MDT, and everything else on the port. Writes one JSON event per finding.";

const EXAMPLES: &str = "\
Examples:
  watch3232 read capture.pcapng                 events on stdout (text on a terminal, else EVE JSON)
  watch3232 read -o events.json a.pcap b.pcap   several files, in order, to a file (EVE JSON)
  watch3232 read --format ecs x.pcap > ecs.json Elastic Common Schema instead of EVE
  tcpdump -w - -i eth0 | watch3232 read -        a capture on standard input
  sudo watch3232 capture -i eth0 --user watch3232 -o /var/log/watch3232/eve.json --stats-interval 60
  watch3232 capture -i eth0 -o eve.json --rotate-size 100M -o syslog -o unix-dgram:/run/siem.sock
  watch3232 read --write-matched evidence.pcap big.pcap   the packets of every flow with an event
  watch3232 read x.pcap --format eve | jq 'select(.event_type==\"arduino_ota\")'
  watch3232 schema > events.schema.json          JSON Schema of every event
  watch3232 audit --wordlist words.txt x.pcap    which devices use a listed OTA password
  watch3232 report x.pcap -o report.html         one HTML file: devices, sessions, findings, MDT

Outputs (-o, repeatable): `-` (stdout), PATH or file:PATH, unix-stream:PATH, unix-dgram:PATH,
syslog (= /dev/log), syslog:PATH, syslog:udp:HOST:PORT. Files rotate into PATH.1, PATH.2, ...
and are reopened on SIGHUP (logrotate). Settings can also come from a TOML file: --config FILE,
else /etc/watch3232/config.toml when it exists (keys are the long flag names).";

#[derive(Debug, Parser)]
#[command(name = "watch3232", version, about = ABOUT, after_help = EXAMPLES, args_override_self = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,

    /// TOML configuration file (default /etc/watch3232/config.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// More log detail on stderr (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// What `read` does when an output cannot be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputErrors {
    Fail,
    Warn,
}

/// Where events go and how they look: the options of `read` and `capture`.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Where events go (repeatable): -, PATH, file:PATH, unix-stream:PATH, unix-dgram:PATH,
    /// syslog (/dev/log), syslog:PATH, syslog:tcp:HOST:PORT (RFC 5424, octet-counted),
    /// syslog:tls:HOST:PORT (the same over TLS, RFC 5425; --syslog-ca),
    /// syslog:udp:HOST:PORT (lossy: a busy receiver drops datagrams and nobody is told),
    /// redis://[:PASSWORD@]HOST:PORT/KEY?mode=list|rpush|channel|stream (rediss://…&ca=FILE.pem
    /// for TLS). Default: standard output.
    #[arg(short, long, help_heading = "Output", value_name = "OUTPUT")]
    pub output: Vec<OutputSpec>,

    /// Event format: eve (Suricata-compatible JSON), ecs (Elastic Common Schema), text (one short
    /// line per finding, in words), text-full (every field as key=value; also `text` with -v).
    /// Default: text when standard output is a terminal, eve otherwise.
    #[arg(
        short = 'F',
        long,
        help_heading = "Output",
        value_enum,
        value_name = "FORMAT"
    )]
    pub format: Option<Format>,

    /// Rotate output files before they pass SIZE (bytes; K, M, G suffixes; at least 1), into
    /// PATH.N.
    #[arg(long, help_heading = "Output", value_name = "SIZE", value_parser = parse_size)]
    pub rotate_size: Option<u64>,

    /// Rotate output files every SECS seconds (s, m, h, d suffixes; wall time; at least 1).
    #[arg(long, help_heading = "Output", value_name = "SECS", value_parser = parse_secs)]
    pub rotate_interval: Option<u64>,

    /// Append to existing output files instead of truncating them (always on for `capture`).
    #[arg(long, help_heading = "Output")]
    pub append: bool,

    /// Write a `stats` event every SECS seconds (packet time for files, wall time live; at
    /// least 1).
    #[arg(long, help_heading = "Output", value_name = "SECS", value_parser = parse_secs)]
    pub stats_interval: Option<u64>,

    /// Name of this sensor, on every event: `host` in EVE (Suricata's sensor-name),
    /// `observer.name` in ECS. Omitted when not set.
    #[arg(
        long,
        help_heading = "Output",
        value_name = "NAME",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub sensor_name: Option<String>,

    /// Syslog facility of syslog outputs (user, daemon, local0..local7).
    #[arg(
        long,
        help_heading = "Output",
        default_value = "local0",
        value_name = "FACILITY"
    )]
    pub syslog_facility: String,

    /// CA certificates (PEM) that a `syslog:tls:` server's certificate must chain to.
    #[arg(long, help_heading = "Output", value_name = "FILE.pem")]
    pub syslog_ca: Option<PathBuf>,

    /// Syslog message format: rfc3164 (`<PRI>Mmm dd hh:mm:ss watch3232[PID]: MSG`, what
    /// rsyslog and journald expect on /dev/log) or rfc5424. Default: rfc3164 for local sockets,
    /// rfc5424 over TCP and UDP.
    #[arg(long, help_heading = "Output", value_enum, value_name = "FORMAT")]
    pub syslog_format: Option<watch3232::output::SyslogFormat>,

    /// Events each socket, syslog or Redis output keeps while its receiver is away (1 to
    /// 1000000); past it the oldest are dropped and counted in `stats.outputs`.
    #[arg(long, help_heading = "Output", value_name = "EVENTS",
          default_value_t = watch3232::output::sink::DEFAULT_BACKLOG as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub output_buffer: u64,

    /// Never show the progress bar (it only appears when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,

    /// Colour the severity of the text view: auto (on a terminal, unless NO_COLOR is set),
    /// always, never.
    #[arg(
        long,
        help_heading = "Output",
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,

    /// Write only events of at least this severity (info, low, medium, high, critical), in every format;
    /// `stats` events always pass.
    #[arg(long, help_heading = "Output", value_name = "LEVEL",
          value_parser = watch3232::output::filter::parse_severity)]
    pub min_severity: Option<watch3232::event::Severity>,

    /// Write only these event types or kinds (e.g. alert,transfer,scan), in every format;
    /// `stats` events always pass.
    #[arg(long, help_heading = "Output", value_name = "TYPE[,TYPE]", value_delimiter = ',',
          value_parser = watch3232::output::filter::parse_only)]
    pub only: Vec<String>,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// How the engine classifies: the options of every subcommand that runs it.
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// UDP ports ArduinoOTA devices listen on (ESP32 3232, ESP8266 8266, RP2040 2040);
    /// each 1 to 65535.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "3232,8266,2040",
        value_name = "PORTS",
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub ota_ports: Vec<u16>,

    /// Most flows tracked at once (1 to 100000000); past it the least recently seen flow is
    /// ended early.
    #[arg(long, default_value_t = 100_000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_flows: u64,

    /// Seconds of (packet) time after which an idle flow is ended (1 to 604800, a week).
    #[arg(long, default_value_t = 120, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub flow_timeout: u64,

    /// Seed of the Community ID flow hash (must match your other sensors).
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub community_id_seed: u16,

    /// Most entries in each MDT table (default MDTs, PIM neighbours, C-flows, P-groups; 1 to
    /// 10000000); past it the entries seen longest ago are dropped and counted.
    #[arg(long, default_value_t = 10_000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub mdt_max_entries: u64,

    /// UDP destination ports decoded as VXLAN (RFC 7348: 4789; Linux kernels once used 8472).
    /// GRE (ERSPAN, Ethernet bridging) and GENEVE on 6081 are always decoded.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "4789",
        value_name = "PORTS",
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    pub vxlan_ports: Vec<u16>,
    #[command(flatten)]
    pub ota: ota_args::OtaArgs,
    #[command(flatten)]
    pub anomaly: anomaly::AnomalyArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read pcap or pcapng files (in the order given; `-` is standard input).
    #[command(args_override_self = true)]
    Read {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// How files are read: `auto` (our own pcap/pcapng reader for regular files, libpcap
        /// for standard input), `native` (ours, standard input too) or `libpcap`.
        #[arg(long, value_enum, default_value = "auto", value_name = "READER")]
        reader: watch3232::capture::Reader,
        /// Engines in parallel: one reader thread deals packets to N engines by IP pair (both
        /// directions of every conversation between two hosts on one engine), on one clock.
        /// Events are merged into one stream, with one `stats` summary. 1 to 256.
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        workers: u16,
        /// Also write the packets of every flow that produced an event to FILE (`read` only: a
        /// second pass over the inputs): pcap when all share one link type, else pcapng with
        /// every input interface.
        #[arg(long, help_heading = "Output", value_name = "FILE.pcap")]
        write_matched: Option<PathBuf>,

        /// When a socket, syslog or Redis output cannot be reached: `fail` (the default: exit 1
        /// before reading, or as soon as an event is lost; events wait in the backlog while the
        /// receiver is briefly away) or `warn` (read anyway, counting lost events in
        /// `stats.outputs` and on stderr).
        #[arg(
            long,
            value_enum,
            default_value = "fail",
            help_heading = "Output",
            value_name = "HOW"
        )]
        output_errors: OutputErrors,
        /// `capture` only: accepted here to say so clearly.
        #[arg(long, hide = true, value_name = "USER")]
        user: Option<String>,
        /// `capture` only: accepted here to say so clearly.
        #[arg(long, hide = true, value_name = "GROUP")]
        group: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Capture live from an interface (needs root or CAP_NET_RAW).
    #[command(args_override_self = true)]
    Capture {
        /// Interface to capture on (e.g. eth0, or `any`).
        #[arg(short, long, value_name = "IFACE")]
        interface: String,
        /// BPF filter replacing the default (which passes only what watch3232 classifies).
        #[arg(short, long, value_name = "EXPR")]
        filter: Option<String>,
        /// Bytes captured per packet (64 to 262144).
        #[arg(long, default_value_t = 65535, value_parser = clap::value_parser!(i32).range(64..=262_144))]
        snaplen: i32,
        /// Kernel capture buffer, bytes (65536 to 2147483647).
        #[arg(long, default_value_t = 32 * 1024 * 1024, value_parser = clap::value_parser!(i32).range(65_536..))]
        buffer_size: i32,
        /// Put the interface in promiscuous mode (default: yes, as tcpdump does).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
        promisc: bool,
        /// Worker threads, each with its own socket and flow table; the kernel spreads packets
        /// over them by flow hash (AF_PACKET fanout, Linux). Events are merged into one stream.
        /// 1 to 256.
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        workers: u16,
        /// Drop privileges to USER once the capture is open (`capture` only). First checks, as
        /// USER, that it can create files in every output directory; exits 1 if not.
        #[arg(long, value_name = "USER")]
        user: Option<String>,

        /// Drop privileges to GROUP (default: USER's primary group).
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,

        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Write one self-contained HTML report (devices, OTA sessions, security findings, the
    /// multicast VPN, anomalies) from captures, or from EVE JSON files written earlier.
    #[command(args_override_self = true)]
    Report {
        /// Captures (pcap, pcapng) or EVE JSON Lines files (`read -o events.json`).
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<String>,
        /// The HTML file to write.
        #[arg(short, long, default_value = "report.html", value_name = "FILE.html")]
        output: PathBuf,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Print the JSON Schema (draft-07) of every event (EVE form).
    Schema,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) generated from this command line.
    Manpage,
    /// Audit OTA passwords: try each word of a list against every challenge/response captured
    /// (ArduinoOTA MD5 and PBKDF2 eras, ESPHome) and report which devices use one of them.
    #[command(args_override_self = true)]
    Audit {
        /// One candidate password per line.
        #[arg(long, value_name = "FILE")]
        wordlist: PathBuf,
        #[arg(required = true, value_name = "CAPTURE")]
        files: Vec<String>,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

/// `100`, `64K`, `100M`, `2G` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("unknown size suffix `{c}` (use K, M or G)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 100M"))?;
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("`{s}` is not a usable size")),
        Some(v) => Ok(v),
    }
}

/// `30`, `30s`, `5m`, `1h`, `1d`.
fn parse_secs(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        Some('d') => (&s[..s.len() - 1], 86_400),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 60 or 5m"))?;
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("`{s}` is not a usable duration")),
        Some(v) => Ok(v),
    }
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("64K"), Ok(65_536));
        assert_eq!(parse_size("100M"), Ok(104_857_600));
        assert_eq!(parse_size("2g"), Ok(2_147_483_648));
        assert!(parse_size("0").is_err());
        assert!(parse_size("10X").is_err());
        assert_eq!(parse_secs("90"), Ok(90));
        assert_eq!(parse_secs("5m"), Ok(300));
        assert_eq!(parse_secs("1d"), Ok(86_400));
        assert!(parse_secs("m").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
