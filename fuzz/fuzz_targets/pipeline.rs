//! The whole per-packet pipeline (decode → flow table → classifiers → events) on arbitrary
//! frames of any link type, several packets per input so flows and per-flow state build up.
//! Input: byte 0 = link type (see `watch3232_fuzz::LINKS`), then `[len: u16 BE, dt_ms: u8, frame]`*.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::packet::Packet;
use watch3232::time::Timestamp;
use watch3232::engine::{Config, Engine};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let link = watch3232_fuzz::link(selector);
    // A small table and a short timeout, so eviction and expiry run too.
    let config = Config {
        max_flows: 8,
        flow_timeout_secs: 2,
        ..Config::default()
    };
    let mut engine = Engine::new(config);
    let mut ts = Timestamp::from_secs(1_795_982_400);
    for (i, (dt, frame)) in watch3232_fuzz::records(rest).enumerate() {
        ts = Timestamp(ts.micros() + i64::from(dt) * 1000);
        let packet = Packet {
            ts,
            wire_len: frame.len() as u32,
            data: frame,
            link,
            index: i as u64 + 1,
        };
        engine.process(&packet);
        for event in engine.drain_events() {
            serde_json::to_vec(&event).expect("events serialise");
        }
    }
    engine.finish();
    for event in engine.drain_events() {
        serde_json::to_vec(&event).expect("events serialise");
    }
});
