//! The ArduinoOTA (espota) parsers: invitation, device replies, auth answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watch3232::classify::arduino_ota::parser::{
    parse_auth_answer, parse_device_reply, parse_invitation,
};
use watch3232::classify::arduino_ota::probe::looks_like_invitation;

fuzz_target!(|data: &[u8]| {
    match parse_invitation(data) {
        Ok(inv) => {
            assert!(looks_like_invitation(data));
            let _ = (
                inv.command.as_str(),
                inv.command.code(),
                inv.host_port,
                inv.image_size,
            );
            assert!(inv.image_md5.len() <= data.len());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match parse_device_reply(data) {
        Ok(r) => {
            let _ = format!("{r:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Some(a) = parse_auth_answer(data) {
        let _ = format!("{a:?}");
    }
});
