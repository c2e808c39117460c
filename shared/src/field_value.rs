//! Header field values from the strings the pipeline builds for each response or upstream
//! request (`Cache-Status`, `RateLimit`, lifecycle fields, the signed identity).

use http::HeaderValue;

/// `s` as a field value, `None` if it is not a valid one. Takes the string to reuse its
/// buffer: one without spare capacity becomes the value's `Bytes` as is, where one with spare
/// capacity would cost `Bytes` a second allocation (shrinking within the allocator's size
/// class happens in place).
pub fn from_string(mut s: String) -> Option<HeaderValue> {
    s.shrink_to_fit();
    HeaderValue::try_from(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_strings_become_values_and_invalid_ones_none() {
        let mut built = String::with_capacity(64);
        built.push_str("Gatehouse; hit; ttl=5");
        assert_eq!(from_string(built).as_ref().map(HeaderValue::as_bytes), Some(&b"Gatehouse; hit; ttl=5"[..]));
        assert_eq!(from_string("line\nbreak".into()), None);
    }
}
