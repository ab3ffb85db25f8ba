//! Kubernetes resource quantities (`100m`, `1.5Gi`, `2k`, `1e3`) as plain numbers.

use crate::yaml::Json;

/// The quantity in base units (cores, bytes), or `None` when it is not a valid quantity.
pub fn parse(text: &str) -> Option<f64> {
    let s = text.trim();
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, f)| {
            s.strip_suffix(suffix)
                .filter(|n| !n.is_empty() && !n.ends_with(['e', 'E']))
                .map(|n| (n, *f))
        })
        .unwrap_or((s, 1.0));
    // Exponent form (`1e3`, `5E-3`) is only valid without a suffix.
    let valid = number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'));
    if !valid || (factor != 1.0 && number.contains(['e', 'E'])) {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(value * factor)
}

/// Binary suffixes first, so `Mi` is not read as `M` + garbage.
const SUFFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1024.0 * 1024.0),
    ("Gi", 1024.0 * 1024.0 * 1024.0),
    ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Ei", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
];

/// A quantity field as JSON: a string or a plain number.
pub fn of(value: &Json) -> Option<f64> {
    match value {
        Json::String(s) => parse(s),
        Json::Number(n) => n.as_f64().filter(|v| *v >= 0.0),
        _ => None,
    }
}

/// CPU in millicores, rounded up as the API server does.
pub fn millicores(value: f64) -> u64 {
    (value * 1000.0 - 1e-9).ceil().max(0.0) as u64
}

/// Bytes, rounded up.
pub fn bytes(value: f64) -> u64 {
    (value - 1e-9).ceil().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_scale_as_kubernetes_does() {
        assert_eq!(parse("100m").map(millicores), Some(100));
        assert_eq!(parse("0.5").map(millicores), Some(500));
        assert_eq!(parse("2").map(millicores), Some(2000));
        assert_eq!(parse("128Mi").map(bytes), Some(128 * 1024 * 1024));
        assert_eq!(parse("1.5Gi").map(bytes), Some(1536 * 1024 * 1024));
        assert_eq!(parse("1k").map(bytes), Some(1000));
        assert_eq!(parse("2M").map(bytes), Some(2_000_000));
        assert_eq!(parse("1G").map(bytes), Some(1_000_000_000));
        assert_eq!(parse("1e3").map(bytes), Some(1000));
        assert_eq!(parse("1Ki").map(bytes), Some(1024));
    }

    #[test]
    fn garbage_is_not_a_quantity() {
        for bad in ["", "Mi", "abc", "1x", "-1", "1e3Mi", "1 Gi"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(of(&Json::from(2)).map(millicores), Some(2000));
        assert_eq!(of(&Json::Null), None);
    }
}
