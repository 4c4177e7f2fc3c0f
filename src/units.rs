//! Human units in config and flags: durations (`90d`, `1h30m`) and sizes (`64MiB`).

use std::time::Duration;

/// Parses `90d`, `1h`, `1h30m`, `45s`, `2w`, `1500ms`. Every number needs its unit: a bare `90` is an
/// error (seconds by default would make `--max-age 90` delete everything older than a minute and a half).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text:?} has no unit: {s}s? {s}m? {s}h? {s}d? (units: ms, s, m, h, d, w)"
        ));
    }
    if s.starts_with('-') {
        return Err(format!("{text:?}: a duration cannot be negative"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(format!("{text:?}: expected a number before {rest:?}"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let part = match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" | "sec" | "secs" | "second" | "seconds" => {
                n.checked_mul(1).map(Duration::from_secs)
            }
            "m" | "min" | "mins" | "minute" | "minutes" => {
                n.checked_mul(60).map(Duration::from_secs)
            }
            "h" | "hr" | "hour" | "hours" => n.checked_mul(3600).map(Duration::from_secs),
            "d" | "day" | "days" => n.checked_mul(86_400).map(Duration::from_secs),
            "w" | "week" | "weeks" => n.checked_mul(7 * 86_400).map(Duration::from_secs),
            "" => return Err(format!("{text:?}: missing unit (ms, s, m, h, d, w)")),
            other => {
                return Err(format!(
                    "{text:?}: unknown unit {other:?} (ms, s, m, h, d, w)"
                ))
            }
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| format!("{text:?}: duration too large"))?;
    }
    Ok(total)
}

/// As [`parse_duration`], for an age or an interval that must not be zero (a retention of `0s` would
/// delete everything as soon as it is sealed).
pub fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!("{text:?}: must be greater than 0"));
    }
    Ok(d)
}

/// Formats a duration the way [`parse_duration`] reads it (largest units first).
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{}", secs / size, unit));
            secs %= size;
        }
    }
    out
}

/// Parses `64MiB`, `64M`, `1G`, `512k`, `1000000` (bytes). K/M/G are binary (1024) multiples,
/// as in logrotate's `size`; `KB`/`MB`/`GB` are decimal.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let digits = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(format!("{text:?}: expected a size such as 64MiB"));
    }
    let n: u64 = s[..digits]
        .parse()
        .map_err(|_| format!("{text:?}: number too large"))?;
    let mult: u64 = match s[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => return Err(format!("{text:?}: unknown size unit {other:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{text:?}: size too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_combination() {
        assert_eq!(
            parse_duration("90d").unwrap(),
            Duration::from_secs(90 * 86_400)
        );
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("45s").unwrap(), Duration::from_secs(45));
        assert_eq!(
            parse_duration("2w").unwrap(),
            Duration::from_secs(14 * 86_400)
        );
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("1s250ms").unwrap(),
            Duration::from_millis(1250)
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn a_bare_number_is_not_a_duration_and_ages_are_positive() {
        let err = parse_duration("90").unwrap_err();
        assert!(err.contains("no unit") && err.contains("90d?"), "{err}");
        assert!(parse_duration("-1d").unwrap_err().contains("negative"));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert!(parse_positive_duration("0s")
            .unwrap_err()
            .contains("greater than 0"));
        assert!(parse_positive_duration("0d").is_err());
        assert_eq!(
            parse_positive_duration("1s").unwrap(),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn duration_format_round_trips() {
        for s in ["1d2h3m4s", "90d", "1h", "59s"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(format_duration(d), s);
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }

    #[test]
    fn sizes_use_binary_for_k_m_g_and_decimal_for_kb_mb_gb() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("1 GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("3 bananas").is_err());
    }
}
