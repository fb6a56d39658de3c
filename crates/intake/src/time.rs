//! The one timestamp parser every format shares: ISO 8601 / RFC 3339 instants → epoch ms.

use triad_domain::Millis;

/// Go's zero `time.Time` as epoch ms (`0001-01-01T00:00:00Z`): Alertmanager's `endsAt`
/// while an alert fires, and what Go clients send for "not set".
const GO_ZERO_TIME: Millis = -62_135_596_800_000;

/// A timestamp that is not an ISO 8601 / RFC 3339 instant with an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidTimestamp;

/// Parses `2015-07-17T08:42:58.315+0000`, `…+00:00`, `…Z` (any offset, with or without a
/// colon, fractional seconds up to nanoseconds) into epoch milliseconds, truncating
/// sub-millisecond digits. Go's zero time means "not set" and gives `Ok(None)`. A time
/// without an offset is refused: it names no instant.
pub(crate) fn parse(text: &str) -> Result<Option<Millis>, InvalidTimestamp> {
    let text = text.trim();
    let parsed = match text.parse::<jiff::Timestamp>() {
        Ok(parsed) => parsed,
        Err(_) => with_offset_colon(text)
            .ok_or(InvalidTimestamp)?
            .parse::<jiff::Timestamp>()
            .map_err(|_| InvalidTimestamp)?,
    };
    let millis = parsed.as_millisecond();
    Ok((millis != GO_ZERO_TIME).then_some(millis))
}

/// `…+0000` → `…+00:00`, for parsers that want the extended offset form. `None` when the
/// text does not end in a basic-format offset.
fn with_offset_colon(text: &str) -> Option<String> {
    let split = text.len().checked_sub(5)?;
    let (head, offset) = (text.get(..split)?, text.get(split..)?);
    let bytes = offset.as_bytes();
    let sign_ok = matches!(bytes.first(), Some(b'+' | b'-'));
    let digits_ok = bytes
        .get(1..)
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(sign_ok && digits_ok && head.ends_with(|c: char| c.is_ascii_digit())) {
        return None;
    }
    Some(format!("{head}{}:{}", offset.get(..3)?, offset.get(3..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Millis = 1_437_122_578_315; // 2015-07-17T08:42:58.315Z

    #[test]
    fn offset_forms_all_parse_to_the_same_instant() {
        for text in [
            "2015-07-17T08:42:58.315Z",
            "2015-07-17T08:42:58.315+00:00",
            "2015-07-17T08:42:58.315+0000",
            "2015-07-17T10:42:58.315+02:00",
            "2015-07-17T10:42:58.315+0200",
            "2015-07-17T03:42:58.315-0500",
            "2015-07-17T08:42:58.315123456Z",
            " 2015-07-17T08:42:58.315Z ",
        ] {
            assert_eq!(parse(text), Ok(Some(T)), "{text}");
        }
    }

    #[test]
    fn whole_seconds_and_nanoseconds() {
        assert_eq!(parse("2015-07-17T08:42:58Z"), Ok(Some(T - 315)));
        assert_eq!(
            parse("2024-03-01T12:00:00.999999999Z"),
            Ok(Some(1_709_294_400_999))
        );
    }

    #[test]
    fn go_zero_time_is_not_set() {
        assert_eq!(parse("0001-01-01T00:00:00Z"), Ok(None));
        assert_eq!(parse("0001-01-01T00:00:00.000+0000"), Ok(None));
    }

    #[test]
    fn refuses_what_names_no_instant() {
        for text in [
            "",
            "yesterday",
            "2015-07-17",
            "2015-07-17T08:42:58",
            "2015-07-17T08:42:58.315+000",
            "2015-07-17T25:42:58Z",
            "1437122578315",
            "+0000",
            "é+0000",
            "2015-07-17T08:42:58.1234567891Z",
        ] {
            assert_eq!(parse(text), Err(InvalidTimestamp), "{text:?}");
        }
    }
}
