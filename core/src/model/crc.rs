//! CRC-32 as in zlib, PNG and IEEE 802.3: reflected polynomial `0xEDB88320`, initial value and
//! final XOR `0xFFFFFFFF`. Four bits at a time from a 64-byte table built at compile time (a
//! microcontroller keeps the 1 KiB of a byte-wise table for other things; a model file is
//! checked once, at start-up); no dependencies.

const POLY: u32 = 0xEDB8_8320;

/// The CRC register after four bit steps from each value of its low nibble.
const TABLE: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 != 0 { POLY ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        c = TABLE[(c & 0xf) as usize] ^ (c >> 4);
        c = TABLE[(c & 0xf) as usize] ^ (c >> 4);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard check value of CRC-32/ISO-HDLC (the "123456789" test vector of the CRC
    /// catalogue, also `zlib.crc32(b"123456789")` in Python).
    #[test]
    fn check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// The same as the definition, one bit at a time.
    #[test]
    fn matches_the_bitwise_definition() {
        let bitwise = |bytes: &[u8]| {
            let mut c = !0u32;
            for &b in bytes {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 != 0 { POLY ^ (c >> 1) } else { c >> 1 };
                }
            }
            !c
        };
        let bytes: [u8; 1000] = core::array::from_fn(|i| (i * 7919 % 251) as u8);
        for n in [0, 1, 2, 3, 17, 256, 1000] {
            assert_eq!(crc32(&bytes[..n]), bitwise(&bytes[..n]));
        }
    }
}
