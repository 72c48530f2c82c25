//! Durations and byte sizes as an operator writes them: `500ms`, `15s`, `2m`, `1h`; `512B`,
//! `64KiB`, `1MiB`. Each value is one integer and one unit, with nothing in between.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A span of time, written `<integer><unit>` with unit `ms`, `s`, `m` or `h`: `500ms`, `15s`.
///
/// A bare number is refused rather than read as seconds: whether `30` meant seconds or
/// milliseconds is exactly the kind of guess that turns into a production incident.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Self(std::time::Duration::from_millis(millis))
    }

    /// The value as a standard library duration.
    pub const fn get(self) -> std::time::Duration {
        self.0
    }

    /// True for `0s` (or `0ms`, `0m`, `0h`).
    pub const fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<Duration> for std::time::Duration {
    fn from(value: Duration) -> Self {
        value.0
    }
}

/// Parses a duration as written in the file (`500ms`, `15s`, `2m`, `1h`), for command-line
/// flags that should read the same way.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, UnitError> {
    text.parse::<Duration>().map(Duration::get)
}

/// Why a duration or size was refused; the text is meant for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitError(String);

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnitError {}

/// Splits `15s` into (15, "s"); `None` when it does not start with a digit.
fn split_number(text: &str) -> Option<(&str, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    (end > 0).then(|| text.split_at(end))
}

impl FromStr for Duration {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = || {
            UnitError(format!(
                "invalid duration `{text}`: write an integer and a unit (ms, s, m or h), e.g. `15s`"
            ))
        };
        let (digits, unit) = split_number(text).ok_or_else(refuse)?;
        let millis_per_unit = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(refuse()),
        };
        let too_long = || UnitError(format!("duration `{text}` is too long"));
        let number: u64 = digits.parse().map_err(|_| too_long())?;
        let millis = number.checked_mul(millis_per_unit).ok_or_else(too_long)?;
        Ok(Self::from_millis(millis))
    }
}

/// Writes the largest unit that keeps the value exact: `90s`, `2m`, `1500ms`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        let units = [(3_600_000, "h"), (60_000, "m"), (1_000, "s")];
        let exact = units
            .iter()
            .find(|(per, _)| millis != 0 && millis.is_multiple_of(*per));
        match exact {
            Some((per, unit)) => write!(f, "{}{unit}", millis / per),
            None => write!(f, "{millis}ms"),
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `500ms`, `15s`, `2m` or `1h`")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "duration `{number}` has no unit: write e.g. `{number}s` or `{number}ms`"
        )))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Duration, E> {
        Err(E::custom(format!("duration `{number}` is negative")))
    }
}

/// Reads an interval that may be switched off: `off` gives `None`, a duration gives `Some`.
pub(crate) fn duration_or_off<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    deserializer.deserialize_any(DurationOrOff)
}

struct DurationOrOff;

impl Visitor<'_> for DurationOrOff {
    type Value = Option<Duration>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `15s`, or `off`")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        match text {
            "off" => Ok(None),
            _ => DurationVisitor.visit_str(text).map(Some),
        }
    }

    /// `false` reads as `off`, as does `off` under YAML 1.1 rules, which make it a boolean.
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        match value {
            false => Ok(None),
            true => Err(E::custom("write a duration such as `15s`, or `off`")),
        }
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        DurationVisitor.visit_u64(number).map(Some)
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        DurationVisitor.visit_i64(number).map(Some)
    }
}

/// A number of bytes, written as a plain integer (`4096`) or an integer and a unit: `B`,
/// `KiB` (1024), `MiB` (1024²) or `GiB` (1024³). Decimal units (`KB`, `MB`) are refused so
/// nobody has to guess whether they meant 1000 or 1024.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(u64);

impl Size {
    /// One kibibyte, 1024 bytes.
    pub const KIB: Size = Size(1024);
    /// One mebibyte, 1024² bytes.
    pub const MIB: Size = Size(1024 * 1024);

    /// A size of `bytes` bytes.
    pub const fn from_bytes(bytes: u64) -> Self {
        Self(bytes)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for Size {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = || {
            UnitError(format!(
                "invalid size `{text}`: write bytes, or an integer and a unit \
                 (B, KiB, MiB or GiB), e.g. `64KiB`"
            ))
        };
        let (digits, unit) = split_number(text).ok_or_else(refuse)?;
        let per_unit: u64 = match unit {
            "" | "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            _ => return Err(refuse()),
        };
        let too_large = || UnitError(format!("size `{text}` is too large"));
        let number: u64 = digits.parse().map_err(|_| too_large())?;
        number.checked_mul(per_unit).map(Size).ok_or_else(too_large)
    }
}

/// Writes the largest binary unit that keeps the value exact: `1MiB`, `1536B`.
impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        let exact = units
            .iter()
            .find(|(per, _)| self.0 != 0 && self.0.is_multiple_of(*per));
        match exact {
            Some((per, unit)) => write!(f, "{}{unit}", self.0 / per),
            None => write!(f, "{}B", self.0),
        }
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor)
    }
}

struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = Size;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a size such as `4096`, `64KiB` or `1MiB`")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Size, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<Size, E> {
        Ok(Size(bytes))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Size, E> {
        u64::try_from(number)
            .map(Size)
            .map_err(|_| E::custom(format!("size `{number}` is negative")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_by_unit() {
        let table = [
            ("0s", 0),
            ("500ms", 500),
            ("15s", 15_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("90s", 90_000),
        ];
        for (text, millis) in table {
            assert_eq!(
                text.parse::<Duration>(),
                Ok(Duration::from_millis(millis)),
                "{text}"
            );
        }
    }

    #[test]
    fn durations_without_a_known_unit_are_refused() {
        for text in [
            "", "15", "s", "1.5s", "-1s", " 1s", "1 s", "1S", "1d", "1m30s", "2min",
        ] {
            let error = text.parse::<Duration>().expect_err("should fail");
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid duration `{text}`: write an integer and a unit (ms, s, m or h), \
                     e.g. `15s`"
                ),
            );
        }
    }

    #[test]
    fn durations_that_overflow_are_refused() {
        let error = "99999999999999999999h"
            .parse::<Duration>()
            .expect_err("should fail");
        assert_eq!(
            error.to_string(),
            "duration `99999999999999999999h` is too long"
        );
        let error = "18446744073709551615h"
            .parse::<Duration>()
            .expect_err("should fail");
        assert_eq!(
            error.to_string(),
            "duration `18446744073709551615h` is too long"
        );
    }

    #[test]
    fn parse_duration_gives_a_std_duration() {
        assert_eq!(
            parse_duration("250ms"),
            Ok(std::time::Duration::from_millis(250))
        );
        assert!(parse_duration("250").is_err());
    }

    #[test]
    fn durations_display_in_the_largest_exact_unit() {
        let table = [
            (0, "0ms"),
            (1_500, "1500ms"),
            (90_000, "90s"),
            (120_000, "2m"),
        ];
        for (millis, text) in table {
            assert_eq!(Duration::from_millis(millis).to_string(), text);
        }
        assert_eq!(Duration::from_secs(7_200).to_string(), "2h");
    }

    #[test]
    fn sizes_parse_by_unit() {
        let table = [
            ("0", 0),
            ("512", 512),
            ("512B", 512),
            ("64KiB", 65_536),
            ("1MiB", 1_048_576),
            ("2GiB", 2_147_483_648),
        ];
        for (text, bytes) in table {
            assert_eq!(text.parse::<Size>(), Ok(Size::from_bytes(bytes)), "{text}");
        }
    }

    #[test]
    fn sizes_with_decimal_or_unknown_units_are_refused() {
        for text in ["", "KiB", "64KB", "1MB", "1 MiB", "1.5MiB", "1kib", "-1"] {
            let error = text.parse::<Size>().expect_err("should fail");
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid size `{text}`: write bytes, or an integer and a unit \
                     (B, KiB, MiB or GiB), e.g. `64KiB`"
                ),
            );
        }
    }

    #[test]
    fn sizes_that_overflow_are_refused() {
        let error = "17179869184GiB".parse::<Size>().expect_err("should fail");
        assert_eq!(error.to_string(), "size `17179869184GiB` is too large");
    }

    #[test]
    fn sizes_display_in_the_largest_exact_unit() {
        let table = [
            (0, "0B"),
            (1_536, "1536B"),
            (65_536, "64KiB"),
            (1 << 20, "1MiB"),
        ];
        for (bytes, text) in table {
            assert_eq!(Size::from_bytes(bytes).to_string(), text);
        }
    }

    #[derive(Debug, Deserialize)]
    struct Doc {
        wait: Option<Duration>,
        size: Option<Size>,
        #[serde(default, deserialize_with = "duration_or_off")]
        beat: Option<Duration>,
    }

    fn doc(yaml: &str) -> Result<Doc, String> {
        serde_saphyr::from_str(yaml).map_err(|e| e.without_snippet().to_string())
    }

    #[test]
    fn yaml_values_deserialize() {
        let parsed = doc("wait: 2m\nsize: 64KiB\nbeat: 5s\n").expect("should succeed");
        assert_eq!(parsed.wait, Some(Duration::from_secs(120)));
        assert_eq!(parsed.size, Some(Size::from_bytes(65_536)));
        assert_eq!(parsed.beat, Some(Duration::from_secs(5)));
        assert_eq!(
            doc("size: 1024\n").expect("should succeed").size,
            Some(Size::from_bytes(1024))
        );
        assert_eq!(doc("beat: off\n").expect("should succeed").beat, None);
        assert_eq!(doc("beat: false\n").expect("should succeed").beat, None);
        let error = doc("beat: true\n").expect_err("should fail");
        assert!(
            error.starts_with("write a duration such as `15s`, or `off`"),
            "{error}"
        );
    }

    #[test]
    fn bare_numbers_are_refused_as_durations() {
        let error = doc("wait: 30\n").expect_err("should fail");
        assert!(error.starts_with("duration `30` has no unit: write e.g. `30s` or `30ms`"));
        let error = doc("beat: 30\n").expect_err("should fail");
        assert!(error.starts_with("duration `30` has no unit"));
    }

    #[test]
    fn negative_sizes_are_refused() {
        let error = doc("size: -5\n").expect_err("should fail");
        assert!(error.starts_with("size `-5` is negative"), "{error}");
    }
}
