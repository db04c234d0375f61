//! watch3232: a passive classifier for the traffic that shares TCP/UDP port 3232.
//!
//! The modules follow the path a packet takes:
//! [`capture`] (pcap files, live interfaces) → [`decode`] (link → IP → GRE → transport)
//! → [`prefilter`] (is anyone interested? also the live kernel filter) → [`flow`] (one bounded
//! table of conversations, TCP reassembly) → [`classify`] (one module per protocol family)
//! → [`event`] (the JSON contract) → [`output`] (sinks). [`engine`] runs one packet through
//! them; [`driver`] owns the run loop around engines (files, live, workers). Leaf types:
//! [`time`], [`packet`].

pub mod aggregate;
pub mod artifact;
pub mod audit;
pub mod capture;
pub mod classify;
pub mod decimal;
pub mod decode;
pub mod driver;
pub mod engine;
pub mod event;
pub mod flow;
pub mod hex;
pub mod output;
pub mod packet;
pub mod prefilter;
pub mod report;
pub mod stats;
pub mod time;
