//! Byte sizes as written in scenario files: "64kB", "1MB", "512B", "16384". Units are
//! 1024-based, as in PostgreSQL's own size settings (kB = 1024 bytes, MB = 1024 kB, ...).

const UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("kB", 1 << 10),
    ("KB", 1 << 10),
    ("MB", 1 << 20),
    ("GB", 1 << 30),
    ("TB", 1 << 40),
];

/// What a size must look like, for error messages.
pub const EXPECTED: &str =
    "a size like \"64kB\" or \"1MB\" (units B, kB, MB, GB, TB; 1 kB = 1024 B)";

/// Parses a size; `None` if `text` is not one (or does not fit in 64 bits).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let unit = unit.trim();
    let factor = if unit.is_empty() {
        1
    } else {
        UNITS.iter().find(|(name, _)| *name == unit)?.1
    };
    number.checked_mul(factor)
}

/// A size in the largest unit that divides it exactly ("64kB", "1536B").
pub fn format_size(bytes: u64) -> String {
    let (name, factor) = UNITS
        .iter()
        .filter(|(name, _)| *name != "KB")
        .rev()
        .find(|(_, factor)| bytes >= *factor && bytes.is_multiple_of(*factor))
        .copied()
        .unwrap_or(("B", 1));
    format!("{}{name}", bytes / factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn units_are_powers_of_1024() {
        assert_eq!(parse_size("64kB"), Some(65536));
        assert_eq!(parse_size("64KB"), Some(65536));
        assert_eq!(parse_size("1MB"), Some(1 << 20));
        assert_eq!(parse_size("2 GB"), Some(2 << 30));
        assert_eq!(parse_size("512B"), Some(512));
        assert_eq!(parse_size("16384"), Some(16384));
    }

    #[test]
    fn anything_else_is_not_a_size() {
        for bad in [
            "",
            "MB",
            "1.5MB",
            "-1MB",
            "1 mb",
            "1MiB",
            "99999999999999999999",
            "1TB1",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
        assert_eq!(parse_size("99999999TB"), None, "overflow");
    }

    proptest! {
        #[test]
        fn formatting_parses_back(bytes in any::<u32>()) {
            prop_assert_eq!(parse_size(&format_size(bytes as u64)), Some(bytes as u64));
        }
    }
}
