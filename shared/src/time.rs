//! Time as plain numbers. The core never reads a clock; every function that cares about
//! time takes `now` as [`UnixMillis`] so the same code runs on a Worker, in Lambda and in a test.

/// Milliseconds since the Unix epoch, UTC.
pub type UnixMillis = i64;

/// Milliseconds in one second, for readable conversions.
pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// The earliest time Gatehouse accepts or stores: the Unix epoch, 1970-01-01T00:00:00Z.
pub const EARLIEST: UnixMillis = 0;
/// The latest time Gatehouse accepts or stores: 9999-12-31T23:59:59.999Z, the last instant an
/// RFC 3339 four-digit year can write. Every time taken in (API bodies, config, records) is
/// checked against [`EARLIEST`]..=[`LATEST`] by [`serde_rfc3339`], so [`rfc3339`] only ever
/// writes text that [`parse_rfc3339`] reads back: one far-future value must never make a
/// stored record unreadable.
pub const LATEST: UnixMillis = 253_402_300_799_999;

/// Why a time was refused, in words a client can act on.
pub const RANGE_MESSAGE: &str = "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z";

/// Whether `millis` lies in the range every Gatehouse time must hold (see [`LATEST`]).
pub fn in_range(millis: UnixMillis) -> bool {
    (EARLIEST..=LATEST).contains(&millis)
}

/// Formats `millis` as an IMF-fixdate (RFC 9110 HTTP-date), e.g. for `Sunset`.
pub fn http_date(millis: UnixMillis) -> String {
    let secs = millis.div_euclid(SECOND).max(0) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Parses an HTTP-date (`Expires`, `Last-Modified`, `Date`) into Unix milliseconds.
pub fn parse_http_date(value: &str) -> Option<UnixMillis> {
    let t = httpdate::parse_http_date(value).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok().map(|s| s * SECOND)
}

/// Civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
/// Howard Hinnant's `civil_from_days`, exact for the proleptic Gregorian calendar.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day count since 1970-01-01 of a civil date; inverse of [`civil_from_days`].
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Number of days in a civil month.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    (days_from_civil(ny, nm, 1) - days_from_civil(year, month, 1)) as u32
}

/// Formats `millis` as RFC 3339 UTC, e.g. `2026-11-24T07:22:23Z`, with a `.mmm` fraction only
/// when the time is not on a whole second. For every time [`in_range`] it round-trips through
/// [`parse_rfc3339`] (a property test proves it); a time outside that range is clamped to it,
/// so even a value computed past the range writes text that reads back.
pub fn rfc3339(millis: UnixMillis) -> String {
    format_unclamped(millis.clamp(EARLIEST, LATEST))
}

fn format_unclamped(millis: UnixMillis) -> String {
    let secs = millis.div_euclid(SECOND);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let frac = match millis.rem_euclid(SECOND) {
        0 => String::new(),
        ms => format!(".{ms:03}"),
    };
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z", sod / 3600, sod / 60 % 60, sod % 60)
}

/// Parses RFC 3339 (`Z` or numeric offset, optional fraction) into Unix milliseconds; `None`
/// for anything malformed or outside [`EARLIEST`]..=[`LATEST`].
pub fn parse_rfc3339(s: &str) -> Option<UnixMillis> {
    parse_rfc3339_any(s).filter(|t| in_range(*t))
}

fn parse_rfc3339_any(s: &str) -> Option<UnixMillis> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > i64::from(days_in_month(y, mo as u32)) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest.get(1..3)?.parse::<i64>().ok()? * 3600 + rest.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset) * SECOND + millis)
}

/// Serde for times: written as RFC 3339 (the convention of every Gatehouse API and record),
/// read from RFC 3339 or from Unix milliseconds, so scripts may send either.
pub mod serde_rfc3339 {
    use serde::{de, Deserializer, Serializer};

    use super::{rfc3339, UnixMillis};

    pub fn serialize<S: Serializer>(millis: &UnixMillis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(*millis))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UnixMillis, D::Error> {
        d.deserialize_any(TimeVisitor)
    }

    pub(super) struct TimeVisitor;

    impl de::Visitor<'_> for TimeVisitor {
        type Value = UnixMillis;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 time such as 2026-11-24T07:22:23Z, or Unix milliseconds")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<UnixMillis, E> {
            checked(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<UnixMillis, E> {
            checked(i64::try_from(v).unwrap_or(i64::MAX))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<UnixMillis, E> {
            // A float never names an exact millisecond (e.g. 1e300); say so instead of rounding.
            Err(E::custom(format!("{v} is not a time: send RFC 3339 text or whole Unix milliseconds")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<UnixMillis, E> {
            match super::parse_rfc3339_any(v).or_else(|| v.parse::<i64>().ok()) {
                Some(t) => checked(t),
                None => Err(E::custom(format!("{v:?} is not an RFC 3339 time (e.g. 2026-11-24T07:22:23Z)"))),
            }
        }
    }

    /// Every time read passes here: outside the range, the value is refused with words that
    /// say which range (see [`super::LATEST`] for why).
    fn checked<E: de::Error>(t: UnixMillis) -> Result<UnixMillis, E> {
        match super::in_range(t) {
            true => Ok(t),
            false => Err(E::custom(format!("time {}", super::RANGE_MESSAGE))),
        }
    }
}

/// [`serde_rfc3339`] for optional times (`null` or absent means none).
pub mod serde_rfc3339_opt {
    use serde::{de, Deserializer, Serializer};

    use super::{rfc3339, UnixMillis};

    pub fn serialize<S: Serializer>(millis: &Option<UnixMillis>, s: S) -> Result<S::Ok, S::Error> {
        match millis {
            Some(m) => s.serialize_str(&rfc3339(*m)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UnixMillis>, D::Error> {
        d.deserialize_option(OptVisitor)
    }

    struct OptVisitor;

    impl<'de> de::Visitor<'de> for OptVisitor {
        type Value = Option<UnixMillis>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 time, Unix milliseconds, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(super::serde_rfc3339::TimeVisitor).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_across_leap_years_and_centuries() {
        for days in (-800_000..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
    }

    #[test]
    fn rfc3339_round_trips_and_rejects_garbage() {
        let t = parse_rfc3339("2026-11-24T07:22:23Z").expect("valid");
        assert_eq!(rfc3339(t), "2026-11-24T07:22:23Z");
        assert_eq!(parse_rfc3339("2026-11-24T08:22:23.5+01:00"), Some(t + 500));
        for bad in ["", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "yesterday", "2026-11-24T07:22:23"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_serialise_as_rfc3339_and_read_either_form() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct T {
            #[serde(with = "serde_rfc3339")]
            at: UnixMillis,
            #[serde(default, with = "serde_rfc3339_opt")]
            until: Option<UnixMillis>,
        }
        let t = T { at: 1_795_504_943_250, until: None };
        let json = serde_json::to_string(&t).expect("json");
        assert_eq!(json, r#"{"at":"2026-11-24T07:22:23.250Z","until":null}"#);
        assert_eq!(serde_json::from_str::<T>(&json).expect("back"), t);
        let from_ms: T = serde_json::from_str(r#"{"at":1795504943250,"until":"2026-11-24T07:22:23Z"}"#).expect("ms");
        assert_eq!(from_ms.until, Some(1_795_504_943_000));
        assert_eq!(serde_json::from_str::<T>(r#"{"at":1795504943250}"#).expect("absent").until, None);
        assert!(serde_json::from_str::<T>(r#"{"at":"yesterday"}"#).is_err());
    }

    proptest::proptest! {
        #[test]
        fn every_time_in_range_round_trips_as_text_and_as_json(t in EARLIEST..=LATEST) {
            proptest::prop_assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
            #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
            struct T {
                #[serde(with = "serde_rfc3339")]
                at: UnixMillis,
            }
            let json = serde_json::to_string(&T { at: t }).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(serde_json::from_str::<T>(&json).ok(), Some(T { at: t }));
            let millis = format!(r#"{{"at":{t}}}"#);
            proptest::prop_assert!(serde_json::from_str::<T>(&millis).is_ok());
        }

        #[test]
        fn no_time_outside_the_range_is_accepted_in_any_form(
            t in proptest::prop_oneof![i64::MIN..EARLIEST, (LATEST + 1)..=i64::MAX, (LATEST + 1)..(LATEST + 1_000 * 365 * DAY)],
        ) {
            #[derive(serde::Deserialize, Debug)]
            #[allow(dead_code)]
            struct T {
                #[serde(with = "serde_rfc3339")]
                at: UnixMillis,
            }
            #[derive(serde::Deserialize, Debug)]
            #[allow(dead_code)]
            struct O {
                #[serde(default, with = "serde_rfc3339_opt")]
                at: Option<UnixMillis>,
            }
            let text = format_unclamped(t);
            proptest::prop_assert_eq!(parse_rfc3339(&text), None, "{}", text);
            for json in [format!(r#"{{"at":{t}}}"#), format!(r#"{{"at":"{t}"}}"#), format!(r#"{{"at":"{text}"}}"#)] {
                proptest::prop_assert!(serde_json::from_str::<T>(&json).is_err(), "{}", json);
                proptest::prop_assert!(serde_json::from_str::<O>(&json).is_err(), "{}", json);
            }
        }
    }

    #[test]
    fn the_range_ends_are_exactly_the_epoch_and_the_last_four_digit_year() {
        assert_eq!(rfc3339(EARLIEST), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(LATEST), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(LATEST + 1), rfc3339(LATEST), "a computed time past the range is clamped, never unreadable");
        for far in ["10000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "9223372036854775807"] {
            assert_eq!(parse_rfc3339(far), None, "{far}");
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            #[serde(with = "serde_rfc3339")]
            at: UnixMillis,
        }
        let err = serde_json::from_str::<T>(r#"{"at":9223372036854775807}"#).expect_err("i64::MAX is refused");
        assert!(err.to_string().contains("9999-12-31"), "{err}");
        assert!(serde_json::from_str::<T>(r#"{"at":1e300}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"at":18446744073709551615}"#).is_err());
    }

    #[test]
    fn http_date_is_imf_fixdate() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
    }
}
