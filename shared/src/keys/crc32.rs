//! CRC-32/IEEE (the zlib/PNG polynomial), for key checksums.
//!
//! Why CRC-32 rather than truncated SHA-256: the checksum only has to catch typos and let
//! secret scanners recognise a real key offline, not resist forgery (a forger can compute
//! either). CRC-32 *guarantees* detection of every error burst up to 32 bits, so any single
//! changed character and any swap of two adjacent characters is always caught, which a
//! truncated hash only catches with high probability. It is also the checksum GitHub's token
//! format uses, so scanners already know it.

/// CRC-32/IEEE of `data` (init and final XOR `0xFFFFFFFF`, reflected). `crc32fast` because
/// every request's key is checked: its slice-by-16 tables take a key's 40 bytes in a few
/// steps instead of one table lookup per byte (and it uses carry-less multiply on longer
/// inputs where the CPU has it; on wasm32 it is the same portable code).
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
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
