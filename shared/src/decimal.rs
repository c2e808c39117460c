//! Decimal digits without the `fmt` machinery, which shows up in profiles of the hot path
//! (`Cache-Status` members, `RateLimit` fields, identity timestamps, `Content-Length` of
//! upstream requests).

/// The decimal digits of `n`, written into the end of `buf`.
pub fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// Appends the decimal digits of `n` to `out`, as `write!(out, "{n}")` would.
pub fn push(out: &mut String, n: u64) {
    for &d in digits(n, &mut [0; 20]) {
        out.push(char::from(d));
    }
}

/// Appends `n` in decimal, with a leading `-` when negative, as `write!(out, "{n}")` would.
pub fn push_signed(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push(out, n.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_match_display() {
        for n in [0, 7, 10, 80, 65_535, 31_536_000_123, u64::MAX] {
            assert_eq!(digits(n, &mut [0; 20]), n.to_string().as_bytes());
            let mut out = String::from("x");
            push(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
        for n in [0, -1, 9, -10, i64::MIN, i64::MAX] {
            let mut out = String::new();
            push_signed(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}
