//! espota sessions: one upload attempt from an uploader to a device, across UDP flows and the
//! TCP connection back.
//!
//! Sessions are keyed by (uploader IP, device IP, device port), not by UDP flow: espota 3.3.1+
//! sends its auth answer from a new socket (new source port), espota retries an unanswered
//! invitation from a fresh socket each time (§1.6 "Timeouts summary"), and after a failed
//! PBKDF2 answer it sends a fresh invitation with an MD5-hashed password (§1.5). The connect-back
//! is expected at (device IP → uploader IP : host_port) (§1.1). The table is bounded; the
//! least recently active session is ended first when it is full, and every session that leaves
//! is handed back to be ended.
//!
//! The pre-filter follows a connect-back only once the device has answered the invitation (`OK`
//! or `AUTH`): a device connects back only after it said `OK` (§1.1), so an invitation nobody
//! answers — a spoofed spray — costs one session entry and never widens the pre-filter or the
//! live kernel filter. At most [`MAX_HELD_PER_DEVICE`] connect-backs per device and
//! [`MAX_HELD`] in all are followed at once; past that a session is counted
//! (`arduino_ota.connect_backs_not_held`) and its connect-back goes unseen.

use super::parser::AuthScheme;
use crate::classify::ota::IdSequence;
use crate::event::arduino_ota::InvitationDetails;
use crate::event::{FlowFields, TunnelFields};
use crate::flow::{BoundedMap, FastMap};
use crate::prefilter::{ConnectBack, Interest};
use crate::time::Timestamp;
use std::net::IpAddr;
use std::time::Duration;

/// Most connect-backs followed at once for one device: an ESP uploads one image at a time, a
/// few cover retries to new host ports.
pub const MAX_HELD_PER_DEVICE: u32 = 4;

/// Most connect-backs followed at once in all (each one is a TCP port the pre-filter passes
/// for one address pair, and a port the live kernel filter passes).
pub const MAX_HELD: usize = 1024;

/// What [`Sessions::hold`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// The pre-filter now passes the session's connect-back.
    Held,
    /// It already did, or there is no such session.
    Unchanged,
    /// A bound ([`MAX_HELD_PER_DEVICE`], [`MAX_HELD`]) was reached: not followed.
    OverBound,
}

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
    /// The pre-filter passes this session's connect-back ([`Sessions::hold`]).
    pub holds_connect_back: bool,
}

impl Session {
    /// The connection the device opens back to the uploader, as the pre-filter holds it.
    pub fn connect_back(&self) -> ConnectBack {
        ConnectBack {
            device: self.key.device,
            uploader: self.key.uploader,
            port: self.invitation.host_port,
        }
    }

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

/// The session table: a [`BoundedMap`] keyed by [`SessionKey`] (O(1) eviction of the least
/// recently active session, idle expiry) plus the index of expected connect-backs, kept in step
/// with every session that leaves.
pub struct Sessions {
    by_key: BoundedMap<SessionKey, Session>,
    expected: FastMap<Expectation, SessionKey>,
    /// Connect-backs held per device (sessions in their TCP phase included), and in all.
    held_by_device: FastMap<IpAddr, u32>,
    held: usize,
    next_id: u64,
    id_step: u64,
}

impl Sessions {
    pub fn new(capacity: usize, idle_timeout: Duration, ids: IdSequence) -> Self {
        Sessions {
            by_key: BoundedMap::new(capacity, idle_timeout),
            expected: FastMap::default(),
            held_by_device: FastMap::default(),
            held: 0,
            next_id: ids.first,
            id_step: ids.step.max(1),
        }
    }

    /// The device answered: the pre-filter passes the session's connect-back from now on,
    /// within the bounds.
    pub fn hold(&mut self, key: &SessionKey, interest: &mut Interest) -> Hold {
        let Some(s) = self.by_key.get_mut(key) else {
            return Hold::Unchanged;
        };
        if s.holds_connect_back {
            return Hold::Unchanged;
        }
        let per_device = self.held_by_device.get(&key.device).copied().unwrap_or(0);
        if per_device >= MAX_HELD_PER_DEVICE || self.held >= MAX_HELD {
            return Hold::OverBound;
        }
        s.holds_connect_back = true;
        interest.hold(s.connect_back());
        *self.held_by_device.entry(key.device).or_insert(0) += 1;
        self.held += 1;
        Hold::Held
    }

    /// Ends the session's hold, if it has one (it ended, or its connection back did).
    pub fn release(&mut self, s: &mut Session, interest: &mut Interest) {
        if !std::mem::take(&mut s.holds_connect_back) {
            return;
        }
        interest.release(s.connect_back());
        self.held -= 1;
        if let std::collections::hash_map::Entry::Occupied(mut n) =
            self.held_by_device.entry(s.key.device)
        {
            *n.get_mut() -= 1;
            if *n.get() == 0 {
                n.remove();
            }
        }
    }

    /// Connect-backs held now.
    pub fn held(&self) -> usize {
        self.held
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The session, without marking it active.
    pub fn get(&self, key: &SessionKey) -> Option<&Session> {
        self.by_key.get(key)
    }

    /// The session, marked active at `now`.
    pub fn touch(&mut self, key: &SessionKey, now: Timestamp) -> Option<&mut Session> {
        let s = self.by_key.touch(key, now)?;
        s.last_seen = now;
        Some(s)
    }

    /// The session waiting for a connection from `device` to `uploader:port`.
    pub fn expecting(&self, device: IpAddr, uploader: IpAddr, port: u16) -> Option<SessionKey> {
        self.expected.get(&(device, uploader, port)).copied()
    }

    /// A fresh session id (1, 2, … in order of first invitation; the engine's own sequence
    /// with workers).
    pub fn alloc_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(self.id_step);
        id
    }

    /// Adds a session (the caller removed any session of the same key); hands back the least
    /// recently active session if the table was full, for the caller to end.
    pub fn insert(&mut self, s: Session) -> Option<Session> {
        self.expected.insert(s.expectation(), s.key);
        let now = s.last_seen;
        let departed = self.by_key.insert(s.key, s, now)?;
        Some(self.forget(departed.value))
    }

    pub fn remove(&mut self, key: &SessionKey) -> Option<Session> {
        let departed = self.by_key.remove(key)?;
        Some(self.forget(departed.value))
    }

    /// Sessions idle for longer than the timeout at `now`, taken out of the table, ordered by
    /// (last seen, id) (a session in its TCP phase is not here: it moved to its connection's
    /// flow state).
    pub fn take_idle(&mut self, now: Timestamp) -> Vec<Session> {
        let mut departed = Vec::new();
        self.by_key.expire(now, &mut departed);
        let mut idle: Vec<Session> = departed.into_iter().map(|d| self.forget(d.value)).collect();
        idle.sort_by_key(|s| (s.last_seen, s.id));
        idle
    }

    /// Every session, taken out of the table, in id order (end of input).
    pub fn take_all(&mut self) -> Vec<Session> {
        let mut departed = Vec::new();
        self.by_key.drain(&mut departed);
        let mut all: Vec<Session> = departed.into_iter().map(|d| self.forget(d.value)).collect();
        all.sort_by_key(|s| s.id);
        all
    }

    /// Drops a departing session's connect-back expectation, unless a newer session holds it.
    fn forget(&mut self, s: Session) -> Session {
        if self.expected.get(&s.expectation()) == Some(&s.key) {
            self.expected.remove(&s.expectation());
        }
        s
    }
}
