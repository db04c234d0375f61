//! espota sessions: one upload attempt from an uploader to a device, across UDP flows and the
//! TCP connection back.
//!
//! Sessions are keyed by (uploader IP, device IP, device port), not by UDP flow: espota 3.3.1+
//! sends its auth answer from a new socket (new source port), espota retries an unanswered
//! invitation from a fresh socket each time (§1.6 "Timeouts summary"), and after a failed
//! PBKDF2 answer it sends a fresh invitation with an MD5-hashed password (§1.5). The connect-back
//! is expected at (device IP → uploader IP : host_port) (§1.1). The table is bounded; the
//! least recently active session is ended first when it is full.

use super::parser::AuthScheme;
use crate::event::arduino_ota::InvitationDetails;
use crate::event::{FlowFields, TunnelFields};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub uploader: IpAddr,
    pub device: IpAddr,
    pub device_port: u16,
}

/// Where the device will connect: (device IP, uploader IP, uploader host_port).
pub type Expectation = (IpAddr, IpAddr, u16);

/// The flow an event can be written against after that flow has gone.
#[derive(Clone, Debug)]
pub struct FlowRef {
    pub flow_id: u64,
    pub fields: FlowFields,
    pub tunnel: Option<TunnelFields>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Invitation sent, no answer yet.
    Invited,
    Challenged {
        scheme: AuthScheme,
        nonce: String,
    },
    /// The uploader answered the challenge.
    Answered {
        scheme: AuthScheme,
        cnonce: String,
        response: String,
    },
    /// `OK`: the device will connect back.
    Accepted,
    AuthFailed,
    /// `ERR: …` on UDP (ESP8266/RP2040 `Update.begin()` failure, §2).
    DeviceError(String),
}

#[derive(Debug)]
pub struct Session {
    pub id: u64,
    pub key: SessionKey,
    pub invitation: InvitationDetails,
    pub invitations: u32,
    pub stage: Stage,
    pub auth_scheme: Option<AuthScheme>,
    /// Accepted without a challenge.
    pub unauthenticated: bool,
    pub auth_failures: u32,
    pub weak_auth_reported: bool,
    pub started: Timestamp,
    pub last_seen: Timestamp,
    pub last_pcap_cnt: u64,
    pub udp: FlowRef,
}

impl Session {
    pub fn expectation(&self) -> Expectation {
        (
            self.key.device,
            self.key.uploader,
            self.invitation.host_port,
        )
    }

    /// The scheme as events name it; `None` when the device never answered.
    pub fn reported_scheme(&self) -> Option<crate::event::AuthScheme> {
        if self.unauthenticated {
            Some(crate::event::AuthScheme::None)
        } else {
            self.auth_scheme.map(AuthScheme::reported)
        }
    }
}

#[derive(Debug, Default)]
pub struct Sessions {
    by_key: HashMap<SessionKey, Session>,
    expected: HashMap<Expectation, SessionKey>,
    capacity: usize,
    next_id: u64,
}

impl Sessions {
    pub fn new(capacity: usize) -> Self {
        Sessions {
            capacity: capacity.max(1),
            next_id: 1,
            ..Sessions::default()
        }
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn get_mut(&mut self, key: &SessionKey) -> Option<&mut Session> {
        self.by_key.get_mut(key)
    }

    /// The session waiting for a connection from `device` to `uploader:port`.
    pub fn expecting(&self, device: IpAddr, uploader: IpAddr, port: u16) -> Option<SessionKey> {
        self.expected.get(&(device, uploader, port)).copied()
    }

    /// Whether a new session fits; if not, the least recently active one to end first.
    pub fn victim(&self) -> Option<SessionKey> {
        if self.by_key.len() < self.capacity {
            return None;
        }
        self.by_key
            .values()
            .min_by_key(|s| (s.last_seen, s.id))
            .map(|s| s.key)
    }

    /// A fresh session id (1, 2, … in order of first invitation).
    pub fn alloc_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Adds a session (the caller made room and removed any session of the same key).
    pub fn insert(&mut self, s: Session) {
        self.expected.insert(s.expectation(), s.key);
        self.by_key.insert(s.key, s);
    }

    pub fn remove(&mut self, key: &SessionKey) -> Option<Session> {
        let s = self.by_key.remove(key)?;
        if self.expected.get(&s.expectation()) == Some(key) {
            self.expected.remove(&s.expectation());
        }
        Some(s)
    }

    /// Sessions idle since before `now - timeout` (a session in its TCP phase is not here:
    /// it moved to its connection's flow state).
    pub fn idle(&self, now: Timestamp, timeout_secs: u64) -> Vec<SessionKey> {
        let limit = (timeout_secs as i64).saturating_mul(1_000_000);
        let mut keys: Vec<(Timestamp, u64, SessionKey)> = self
            .by_key
            .values()
            .filter(|s| now.micros_since(s.last_seen) > limit)
            .map(|s| (s.last_seen, s.id, s.key))
            .collect();
        keys.sort_by_key(|k| (k.0, k.1));
        keys.into_iter().map(|k| k.2).collect()
    }

    /// Every session, oldest first (end of input).
    pub fn all(&self) -> Vec<SessionKey> {
        let mut keys: Vec<(u64, SessionKey)> =
            self.by_key.values().map(|s| (s.id, s.key)).collect();
        keys.sort_by_key(|k| k.0);
        keys.into_iter().map(|k| k.1).collect()
    }
}
