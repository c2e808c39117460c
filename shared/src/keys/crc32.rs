//! CRC-32/IEEE (the zlib/PNG polynomial), table-driven, for key checksums.
//!
//! Why CRC-32 rather than truncated SHA-256: the checksum only has to catch typos and let
//! secret scanners recognise a real key offline, not resist forgery (a forger can compute
//! either). CRC-32 *guarantees* detection of every error burst up to 32 bits, so any single
//! changed character and any swap of two adjacent characters is always caught, which a
//! truncated hash only catches with high probability. It is also the checksum GitHub's token
//! format uses, so scanners already know it.

const POLY: u32 = 0xEDB8_8320;

const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// CRC-32/IEEE of `data` (init and final XOR `0xFFFFFFFF`, reflected).
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8))
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn matches_the_published_check_value() {
        // The standard check value for CRC-32/IEEE over "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }
}
