//! Lower-case hex, by table: digests and signatures are encoded on every request, where
//! `format!("{:02x}")` per byte costs more than the hashing itself.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push(&mut out, bytes);
    out
}

/// Appends the lower-case hex of `bytes` to `out`, for callers that build a larger string
/// around it (one allocation instead of two).
pub fn push(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// Writes the lower-case hex of `bytes` into `out`, which must be twice as long (the rest of
/// a longer `out` is left as is), for fixed-size results that need no allocation.
pub fn encode_into(bytes: &[u8], out: &mut [u8]) {
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
}

/// Decodes hex of either case; `None` for odd length or a non-hex character.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_garbage() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        let mut out = String::from("k:");
        push(&mut out, &[0x0f, 0xf0]);
        assert_eq!(out, "k:0ff0");
        assert_eq!(decode("00abFF"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("zz"), None);
    }
}
