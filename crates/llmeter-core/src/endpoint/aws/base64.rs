//! Standard base64 (RFC 4648 alphabet, `=` padding optional) decoding into a reused buffer:
//! Bedrock's InvokeModelWithResponseStream sends each model chunk as `{"bytes": "<base64>"}`.

/// Decodes `input` into `out` (cleared first). `Err` on a character outside the alphabet or
/// a length no encoder produces.
pub fn decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    out.clear();
    let input = match input {
        [rest @ .., b'=', b'='] => rest,
        [rest @ .., b'='] => rest,
        all => all,
    };
    if input.len() % 4 == 1 {
        return Err("base64 length is not valid");
    }
    out.reserve(input.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err("not base64"),
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Result<Vec<u8>, &'static str> {
        let mut out = vec![9, 9];
        decode_into(s.as_bytes(), &mut out).map(|_| out)
    }

    #[test]
    fn rfc4648_vectors() {
        for (enc, dec) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
            ("Zm9vYg", "foob"),
        ] {
            assert_eq!(decode(enc).unwrap(), dec.as_bytes(), "{enc}");
        }
        assert_eq!(decode("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert!(decode("Zm9v!").is_err());
        assert!(decode("Zm9vY").is_err());
        assert!(decode("Zm=v").is_err());
    }
}
