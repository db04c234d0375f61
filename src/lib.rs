//! watch3232: a passive classifier for the traffic that shares TCP/UDP port 3232.
//!
//! The modules follow the path a packet takes:
//! [`capture`] (pcap files, live interfaces) → [`decode`] (link → IP → GRE → transport)
//! → [`flow`] (one bounded table of conversations) → [`classify`] (one module per protocol
//! family) → [`event`] (the JSON contract) → [`output`] (sinks). [`engine`] wires them together.

pub mod aggregate;
pub mod audit;
pub mod capture;
pub mod classify;
pub mod decode;
pub mod engine;
pub mod event;
pub mod flow;
pub mod output;
pub mod packet;
pub mod stats;
pub mod time;
