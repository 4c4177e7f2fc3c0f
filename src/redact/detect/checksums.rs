//! Checksums, calendar dates and allocated ranges: pure functions of ASCII digits, each citing its standard.

/// Luhn (mod 10) over ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID (GB 11643-1999).
pub fn id_check_char(first17: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHARS: &[u8; 11] = b"10X98765432";
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    Some(CHARS[(sum % 11) as usize])
}

/// The value of a run of ASCII digits.
pub fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &c| acc * 10 + u32::from(c - b'0'))
}

/// A real calendar date (Gregorian leap years).
pub fn date_valid(year: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Province-level codes that begin a resident ID (GB/T 2260), plus 71/81/82/83 (Taiwan, Hong Kong, Macao
/// and residence permits) and 91 (foreigners' permanent residence).
pub fn id_region_valid(d: &[u8]) -> bool {
    if d.len() < 2 {
        return false;
    }
    matches!(
        num(&d[..2]),
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83 | 91
    )
}

/// Region and birth date of an 18-char ID are plausible (whatever the check digit says).
pub fn id18_shaped(chars: &[u8], max_birth_year: u32) -> bool {
    if chars.len() != 18 || !chars[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let year = num(&chars[6..10]);
    id_region_valid(chars)
        && (1900..=max_birth_year).contains(&year)
        && date_valid(year, num(&chars[10..12]), num(&chars[12..14]))
}

/// An 18-char resident ID: region, real birth date, and the MOD 11-2 check character (X or x allowed).
pub fn id18_valid(chars: &[u8], max_birth_year: u32) -> bool {
    id18_shaped(chars, max_birth_year)
        && id_check_char(&chars[..17]) == Some(chars[17].to_ascii_uppercase())
}

/// A 15-digit legacy ID (issued before 1999): region and a real 19YYMMDD birth date.
pub fn id15_valid(d: &[u8]) -> bool {
    d.len() == 15
        && d.iter().all(u8::is_ascii_digit)
        && id_region_valid(d)
        && date_valid(1900 + num(&d[6..8]), num(&d[8..10]), num(&d[10..12]))
}

/// The first three digits of an 11-digit number are an allocated CN mobile prefix (MIIT numbering plan:
/// 13x, 145-149, 15x but 154, 162/165-167, 170-178, 18x, 19x but 194).
pub fn mobile_valid(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] != b'1' || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let third = d[2] - b'0';
    match d[1] {
        b'3' | b'8' => true,
        b'4' => (5..=9).contains(&third),
        b'5' => third != 4,
        b'6' => matches!(third, 2 | 5 | 6 | 7),
        b'7' => third <= 8,
        b'9' => third != 4,
        _ => false,
    }
}

/// A card number: 13-19 digits, Luhn, and an issuer prefix of a real scheme. Prefixes 0, 1, 7 and 8 (where
/// epoch milli/micro/nanosecond timestamps and snowflake ids live) and 2 outside Mastercard's 2221-2720 (where
/// compact dates such as 20261125... live) are not cards.
pub fn card_valid(d: &[u8]) -> bool {
    let n = d.len();
    if !(13..=19).contains(&n) || !luhn_valid(d) {
        return false;
    }
    match d[0] {
        b'4' => true,
        b'3' => n >= 14,
        b'5' | b'6' | b'9' => n >= 16,
        b'2' => n == 16 && (2221..=2720).contains(&num(&d[..4])),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_public_vectors() {
        // Wikipedia's example and the card networks' published test numbers.
        for ok in [
            "79927398713",
            "4111111111111111",
            "5500000000000004",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "6200000000000005",
        ] {
            assert!(luhn_valid(ok.as_bytes()), "{ok}");
        }
        for bad in ["79927398710", "4111111111111112", "1234567812345678", ""] {
            assert!(!luhn_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn id_check_digit_gb11643_vectors() {
        // GB 11643-1999's own example, and the widely published sample numbers.
        assert_eq!(id_check_char(b"11010519491231002"), Some(b'X'));
        assert_eq!(id_check_char(b"44052418800101001"), Some(b'4'));
        assert!(id18_valid(b"11010519491231002X", 2026));
        assert!(id18_valid(b"11010519491231002x", 2026));
        assert!(
            !id18_valid(b"440524188001010014", 2026),
            "born 1880: before 1900"
        );
        assert!(
            !id18_valid(b"110105194912310021", 2026),
            "wrong check digit"
        );
        assert!(!id18_valid(b"11010519491331002X", 2026), "month 13");
        assert!(
            !id18_valid(b"11010520990101002X", 2026),
            "born in the future"
        );
        assert!(!id18_valid(b"00010519491231002X", 2026), "region 00");
    }

    #[test]
    fn legacy_15_digit_id_needs_region_and_real_date() {
        assert!(id15_valid(b"110105491231002"));
        assert!(!id15_valid(b"110105491331002"), "month 13");
        assert!(!id15_valid(b"110105490230002"), "30 February");
        assert!(!id15_valid(b"990105491231002"), "region 99");
    }

    #[test]
    fn dates_know_leap_years() {
        assert!(date_valid(2000, 2, 29));
        assert!(!date_valid(1900, 2, 29));
        assert!(date_valid(2024, 2, 29));
        assert!(!date_valid(2023, 2, 29));
        assert!(!date_valid(2023, 4, 31));
        assert!(!date_valid(2023, 0, 1));
    }

    #[test]
    fn mobile_ranges_are_the_allocated_ones() {
        for ok in [
            "13812345678",
            "14512345678",
            "15012345678",
            "16612345678",
            "17012345678",
            "18912345678",
            "19912345678",
            "19212345678",
        ] {
            assert!(mobile_valid(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "10012345678",
            "11012345678",
            "12012345678",
            "15412345678",
            "19412345678",
            "14212345678",
            "17912345678",
            "1381234567",
            "23812345678",
        ] {
            assert!(!mobile_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn cards_need_a_real_scheme_prefix() {
        assert!(card_valid(b"4111111111111111"));
        assert!(card_valid(b"6200000000000005"));
        assert!(card_valid(b"378282246310005"));
        assert!(card_valid(b"2223000048400011"));
        // Luhn-valid timestamps and ids are not cards.
        let epoch_ms = b"1514038535000";
        assert!(
            luhn_valid(epoch_ms),
            "the trap: this epoch-ms timestamp passes Luhn"
        );
        assert!(!card_valid(epoch_ms), "... and still is not a card");
        for not_card in [
            &b"1000000000009"[..],
            b"2026112510300001",
            b"7000000000000000",
            b"0000000000000000",
        ] {
            assert!(
                !card_valid(not_card),
                "{}",
                String::from_utf8_lossy(not_card)
            );
        }
    }
}
