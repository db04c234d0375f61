//! Packet time: microseconds since the Unix epoch, rendered as RFC 3339 in events.

use serde::{Serialize, Serializer};

/// A packet timestamp in microseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MICROS_PER_SEC: i64 = 1_000_000;

    pub fn from_timeval(sec: i64, usec: i64) -> Self {
        Timestamp(
            sec.saturating_mul(Self::MICROS_PER_SEC)
                .saturating_add(usec),
        )
    }

    pub fn from_secs(sec: i64) -> Self {
        Timestamp(sec.saturating_mul(Self::MICROS_PER_SEC))
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// Seconds elapsed since `earlier`, never negative (captures can step back in time).
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        self.0.saturating_sub(earlier.0).max(0) as f64 / 1e6
    }

    /// Microseconds elapsed since `earlier`: negative when time stepped back, saturating at
    /// the ends of the range (a damaged capture can carry any timestamp).
    pub fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    pub fn saturating_add_secs(self, secs: u64) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add((secs as i64).saturating_mul(Self::MICROS_PER_SEC)),
        )
    }
}

/// `2026-11-24T23:48:33.123456Z`: the length of a timestamp of years 0–9999.
pub const RFC3339_LEN: usize = 27;

/// A timestamp's calendar fields, UTC: the year; month, day, hour, minute, second; microseconds.
struct Civil {
    year: i64,
    fields: [u32; 5],
    micros: u32,
}

impl Timestamp {
    fn civil(self) -> Civil {
        let secs = self.0.div_euclid(Self::MICROS_PER_SEC);
        let sod = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        Civil {
            year,
            fields: [month, day, sod / 3600, sod / 60 % 60, sod % 60],
            micros: self.0.rem_euclid(Self::MICROS_PER_SEC) as u32,
        }
    }

    /// The RFC 3339 text written into `buf` by hand, or `None` outside years 0–9999 (those
    /// take the general path). Every event carries one or more timestamps: `write!` with
    /// padded fields cost ~3 500 instructions each, this ~100.
    pub fn rfc3339_in(self, buf: &mut [u8; RFC3339_LEN]) -> Option<&str> {
        let c = self.civil();
        if !(0..=9999).contains(&c.year) {
            return None;
        }
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        let [month, day, hour, minute, second] = c.fields;
        put(0, 4, c.year as u32);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, hour);
        put(14, 2, minute);
        put(17, 2, second);
        put(20, 6, c.micros);
        for (at, sep) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (26, b'Z'),
        ] {
            buf[at] = sep;
        }
        std::str::from_utf8(buf).ok()
    }

    /// The general path, for any year.
    fn write_rfc3339(self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        let c = self.civil();
        let [month, day, hour, minute, second] = c.fields;
        write!(
            f,
            "{:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:06}Z",
            c.year, c.micros
        )
    }
}

impl std::fmt::Display for Timestamp {
    /// RFC 3339, UTC, microsecond precision: `2026-11-24T23:48:33.123456Z`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.rfc3339_in(&mut [0; RFC3339_LEN]) {
            Some(text) => f.write_str(text),
            None => self.write_rfc3339(f),
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.rfc3339_in(&mut [0; RFC3339_LEN]) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

/// A timestamp is an RFC 3339 UTC string with microseconds, wherever it appears in an event.
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_string()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, SchemaObject, StringValidation};
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            string: Some(Box::new(StringValidation {
                pattern: Some(
                    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"
                        .to_string(),
                ),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

/// The wall clock now (a run with no packet stamps its summary with it; syslog stamps sending).
pub fn wall_clock() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_timeval(d.as_secs() as i64, i64::from(d.subsec_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_rfc3339_micros() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            Timestamp::from_timeval(1_795_996_113, 123_456).to_string(),
            "2026-11-29T23:48:33.123456Z"
        );
        assert_eq!(
            Timestamp::from_timeval(951_782_400, 1).to_string(),
            "2000-02-29T00:00:00.000001Z"
        );
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
        assert_eq!(
            Timestamp::from_secs(253_402_300_800).to_string(),
            "10000-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn the_hand_written_path_matches_the_general_one() {
        let year_0 = -62_167_219_200 * Timestamp::MICROS_PER_SEC;
        let year_10000 = 253_402_300_800 * Timestamp::MICROS_PER_SEC;
        let mut t = year_0 - 5;
        let mut checked = 0;
        while t < year_10000 + 5 {
            let mut general = String::new();
            Timestamp(t).write_rfc3339(&mut general).unwrap();
            let fast = Timestamp(t)
                .rfc3339_in(&mut [0; RFC3339_LEN])
                .map(str::to_string);
            match fast {
                Some(fast) => assert_eq!(fast, general),
                None => assert!(!(year_0..year_10000).contains(&t), "{t}: {general}"),
            }
            assert_eq!(
                serde_json::to_string(&Timestamp(t)).unwrap(),
                format!("\"{general}\"")
            );
            // Steps that visit every field's carries over the whole range.
            t += if checked % 2 == 0 {
                999_999
            } else {
                2_592_000_017_003
            };
            checked += 1;
        }
        assert!(checked > 100_000);
    }
}
