//! Decimal digits without the `fmt` machinery, which shows up in profiles of the hot path
//! (`Cache-Status` TTLs, `Content-Length` of upstream requests).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_match_display() {
        for n in [0, 7, 10, 80, 65_535, 31_536_000_123, u64::MAX] {
            assert_eq!(digits(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }
}
