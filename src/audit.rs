//! Offline password audit for device owners: which captured OTA challenge/response exchanges
//! were answered with a password from a wordlist.
//!
//! The exchanges come from the events watch3232 already writes (`arduino_ota` `auth_challenge` +
//! `auth_result` of one session; `esphome_ota` `session`), so the audit sees exactly what the
//! classifiers saw. The checks are pure functions; facts: shared/docs/arduino-ota.md §1.4, §1.5,
//! §3.3.

use md5::Md5;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// How the device checks the uploader's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scheme {
    /// espota ≤ 3.3.0, ESP8266, RP2040: `MD5(MD5hex(pw) ":" nonce ":" cnonce)` (§1.4).
    EspotaMd5,
    /// espota 3.3.1+: `SHA256(hex(PBKDF2-HMAC-SHA256(H(pw), nonce ":" cnonce, 10000)) ":" nonce
    /// ":" cnonce)` with H = SHA-256 hex, or MD5 hex for a legacy `setPasswordHash()` (§1.5).
    EspotaPbkdf2,
    /// ESPHome: `MD5(pw ‖ nonce ‖ cnonce)` (§3.3, MD5 era).
    EsphomeMd5,
    /// ESPHome: `SHA256(pw ‖ nonce ‖ cnonce)`.
    EsphomeSha256,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::EspotaMd5 => "md5",
            Scheme::EspotaPbkdf2 => "pbkdf2_sha256",
            Scheme::EsphomeMd5 => "md5",
            Scheme::EsphomeSha256 => "sha256",
        }
    }

    pub fn protocol(self) -> &'static str {
        match self {
            Scheme::EspotaMd5 | Scheme::EspotaPbkdf2 => "arduino_ota",
            Scheme::EsphomeMd5 | Scheme::EsphomeSha256 => "esphome_ota",
        }
    }
}

/// One captured challenge and the answer to it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exchange {
    pub device: IpAddr,
    pub device_port: u16,
    pub uploader: IpAddr,
    pub scheme: Scheme,
    pub nonce: String,
    pub cnonce: String,
    pub response: String,
    /// Whether the device accepted the answer, when the capture shows it.
    pub accepted: Option<bool>,
}

/// Which form of a candidate password produced the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The password as typed.
    Plain,
    /// espota 3.3.1+ after its "Retrying with MD5 password" (a device whose sketch stores an
    /// MD5 password hash).
    Md5Hashed,
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn espota_pbkdf2(password_hash: &str, nonce: &str, cnonce: &str) -> String {
    let mut key = [0u8; 32];
    let salt = format!("{nonce}:{cnonce}");
    pbkdf2::pbkdf2_hmac::<Sha256>(password_hash.as_bytes(), salt.as_bytes(), 10_000, &mut key);
    sha256_hex(format!("{}:{nonce}:{cnonce}", hex::encode(key)).as_bytes())
}

/// Whether `password` answers the exchange, and in which form.
pub fn check(x: &Exchange, password: &str) -> Option<Form> {
    let (nonce, cnonce) = (x.nonce.as_str(), x.cnonce.as_str());
    let response = x.response.to_ascii_lowercase();
    let pw = password.as_bytes();
    let matches = |computed: String| computed == response;
    match x.scheme {
        Scheme::EspotaMd5 => matches(md5_hex(
            format!("{}:{nonce}:{cnonce}", md5_hex(pw)).as_bytes(),
        ))
        .then_some(Form::Plain),
        Scheme::EspotaPbkdf2 => {
            if matches(espota_pbkdf2(&sha256_hex(pw), nonce, cnonce)) {
                Some(Form::Plain)
            } else if matches(espota_pbkdf2(&md5_hex(pw), nonce, cnonce)) {
                Some(Form::Md5Hashed)
            } else {
                None
            }
        }
        Scheme::EsphomeMd5 => {
            matches(md5_hex(format!("{password}{nonce}{cnonce}").as_bytes())).then_some(Form::Plain)
        }
        Scheme::EsphomeSha256 => {
            matches(sha256_hex(format!("{password}{nonce}{cnonce}").as_bytes()))
                .then_some(Form::Plain)
        }
    }
}

fn ip(v: &Value) -> Option<IpAddr> {
    v.as_str()?.parse().ok()
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Collects exchanges from events (EVE form, in the order written). Answers without the
/// challenge (or the other way round) are skipped: there is nothing to test.
#[derive(Default)]
pub struct Collector {
    /// espota challenges by session id: (device, port, uploader, scheme, nonce).
    challenges: BTreeMap<u64, (IpAddr, u16, IpAddr, Scheme, String)>,
    exchanges: Vec<Exchange>,
}

impl Collector {
    pub fn add(&mut self, event: &Value) {
        let kind = event["kind"].as_str().unwrap_or_default();
        match (event["event_type"].as_str().unwrap_or_default(), kind) {
            ("arduino_ota", "auth_challenge") => self.challenge(event),
            ("arduino_ota", "auth_result") => self.result(event),
            ("esphome_ota", "session") => self.esphome(event),
            _ => {}
        }
    }

    fn challenge(&mut self, e: &Value) {
        let d = &e["arduino_ota"];
        let scheme = match d["auth_scheme"].as_str() {
            Some("md5") => Scheme::EspotaMd5,
            Some("pbkdf2_sha256") => Scheme::EspotaPbkdf2,
            _ => return,
        };
        let (Some(session), Some(device), Some(port), Some(uploader), Some(nonce)) = (
            d["session_id"].as_u64(),
            ip(&e["dest_ip"]),
            e["dest_port"].as_u64(),
            ip(&e["src_ip"]),
            text(&d["nonce"]),
        ) else {
            return;
        };
        self.challenges
            .insert(session, (device, port as u16, uploader, scheme, nonce));
    }

    fn result(&mut self, e: &Value) {
        let d = &e["arduino_ota"];
        let Some(session) = d["session_id"].as_u64() else {
            return;
        };
        let (Some(cnonce), Some(response)) = (text(&d["cnonce"]), text(&d["response"])) else {
            return;
        };
        let Some((device, device_port, uploader, scheme, nonce)) =
            self.challenges.get(&session).cloned()
        else {
            return;
        };
        self.exchanges.push(Exchange {
            device,
            device_port,
            uploader,
            scheme,
            nonce,
            cnonce,
            response,
            accepted: d["accepted"].as_bool(),
        });
    }

    fn esphome(&mut self, e: &Value) {
        let d = &e["esphome_ota"];
        let scheme = match d["auth"].as_str() {
            Some("md5") => Scheme::EsphomeMd5,
            Some("sha256") => Scheme::EsphomeSha256,
            _ => return,
        };
        // The uploader connects to the device: the device is the flow's destination.
        let (Some(device), Some(port), Some(uploader)) =
            (ip(&e["dest_ip"]), e["dest_port"].as_u64(), ip(&e["src_ip"]))
        else {
            return;
        };
        let (Some(nonce), Some(cnonce), Some(response)) =
            (text(&d["nonce"]), text(&d["cnonce"]), text(&d["response"]))
        else {
            return;
        };
        self.exchanges.push(Exchange {
            device,
            device_port: port as u16,
            uploader,
            scheme,
            nonce,
            cnonce,
            response,
            accepted: d["accepted"].as_bool(),
        });
    }

    /// The distinct exchanges seen, in a stable order.
    pub fn finish(mut self) -> Vec<Exchange> {
        self.exchanges.sort();
        self.exchanges.dedup();
        self.exchanges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(scheme: Scheme, nonce: &str, cnonce: &str, response: &str) -> Exchange {
        Exchange {
            device: "10.232.0.2".parse().unwrap(),
            device_port: 3232,
            uploader: "10.232.0.1".parse().unwrap(),
            scheme,
            nonce: nonce.into(),
            cnonce: cnonce.into(),
            response: response.into(),
            accepted: Some(true),
        }
    }

    /// Vectors from real espota.py runs (password `otapass`), as recorded in the reference
    /// captures' MANIFEST.json and reproduced independently by Python's hashlib.
    #[test]
    fn espota_vectors_of_both_eras() {
        let md5 = exchange(
            Scheme::EspotaMd5,
            "c0660c9fcf0c1c0903f532db645b4550",
            "b7c2514541200be40e84c019ddd6d28d",
            "0260e67378b39f8bb732144d93ecbcda",
        );
        assert_eq!(check(&md5, "otapass"), Some(Form::Plain));
        assert_eq!(check(&md5, "otapas"), None);
        let pbkdf2 = exchange(
            Scheme::EspotaPbkdf2,
            "64ed8e5ed90f41dd57437687ec917444cb4e4c7a1bd4aee8f03c8db8b1e46e82",
            "4e63ab9221b034de990861d9c7afe256e0bfbbc5c8087910a26a8d839ae6c4b1",
            "f3fafebc062affebc54aa3f5c513b0241d0bbae8517244aadb9ef69b0bcb232d",
        );
        assert_eq!(check(&pbkdf2, "otapass"), Some(Form::Plain));
        assert_eq!(check(&pbkdf2, "wrongpw"), None);
    }

    #[test]
    fn pbkdf2_with_an_md5_hashed_password() {
        // espota 3.3.1+ retries with md5(password) as the PBKDF2 password (§1.5).
        let (nonce, cnonce) = ("a".repeat(64), "b".repeat(64));
        let response = espota_pbkdf2(&md5_hex(b"legacy"), &nonce, &cnonce);
        let x = exchange(Scheme::EspotaPbkdf2, &nonce, &cnonce, &response);
        assert_eq!(check(&x, "legacy"), Some(Form::Md5Hashed));
    }

    #[test]
    fn esphome_both_hashes() {
        // hashlib.sha256(b"esphomepw" + b"n0nce" + b"cn0nce").hexdigest(), and md5 likewise.
        let sha = exchange(
            Scheme::EsphomeSha256,
            "n0nce",
            "cn0nce",
            &sha256_hex(b"esphomepwn0ncecn0nce"),
        );
        assert_eq!(check(&sha, "esphomepw"), Some(Form::Plain));
        let md5 = exchange(
            Scheme::EsphomeMd5,
            "n0nce",
            "cn0nce",
            &md5_hex(b"esphomepwn0ncecn0nce"),
        );
        assert_eq!(check(&md5, "esphomepw"), Some(Form::Plain));
        assert_eq!(check(&md5, "nope"), None);
    }

    #[test]
    fn rfc7914_pbkdf2_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64) starts 55 ac 04 6e 56 e3 08 9f.
        let mut key = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"passwd", b"salt", 1, &mut key);
        assert_eq!(hex::encode(&key[..8]), "55ac046e56e3089f");
    }

    #[test]
    fn collector_joins_challenge_and_result_by_session() {
        let challenge: Value = serde_json::json!({
            "event_type": "arduino_ota", "kind": "auth_challenge",
            "src_ip": "192.0.2.10", "dest_ip": "192.0.2.50", "dest_port": 3232,
            "arduino_ota": {"session_id": 7, "auth_scheme": "md5", "nonce": "n"}
        });
        let result: Value = serde_json::json!({
            "event_type": "arduino_ota", "kind": "auth_result",
            "arduino_ota": {"session_id": 7, "auth_scheme": "md5", "accepted": false, "cnonce": "c", "response": "r"}
        });
        let orphan: Value = serde_json::json!({
            "event_type": "arduino_ota", "kind": "auth_result",
            "arduino_ota": {"session_id": 8, "accepted": true, "cnonce": "c", "response": "r"}
        });
        let mut c = Collector::default();
        for e in [&challenge, &result, &result, &orphan] {
            c.add(e);
        }
        let x = c.finish();
        assert_eq!(x.len(), 1, "deduplicated, orphan skipped");
        assert_eq!(
            (x[0].device_port, x[0].accepted, x[0].scheme),
            (3232, Some(false), Scheme::EspotaMd5)
        );
    }
}
