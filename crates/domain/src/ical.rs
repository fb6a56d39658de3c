//! iCalendar (RFC 5545) output for on-call feeds: a VCALENDAR of VEVENTs with CRLF line
//! ends, lines folded at 75 octets, escaped text, and a UID and DTSTAMP on every event.
//!
//! Choices the RFC leaves to us:
//! - Times are written in the UTC form `YYYYMMDDTHHMMSSZ`. Milliseconds are dropped by
//!   flooring to the whole second (toward the earlier second, also before 1970), for
//!   DTSTAMP, DTSTART and DTEND alike.
//! - An event is skipped (not written) when, after flooring, DTEND would not be after
//!   DTSTART (an empty, inverted or sub-second shift), when its start or end lies outside
//!   the four-digit years 0000–9999, or when its UID is empty once control characters are
//!   removed. A calendar whose events were all skipped is still a valid, empty calendar.
//! - A DTSTAMP outside the representable range is clamped to its nearest end.

use jiff::Timestamp;
use jiff::tz::Offset;

use crate::Millis;

/// One event of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Globally unique and stable for the same shift (`…@triad`).
    pub uid: String,
    pub start: Millis,
    pub end: Millis,
    pub summary: String,
    pub description: Option<String>,
}

/// The longest physical line, in octets, not counting its CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// 0000-01-01T00:00:00Z, the earliest instant with a four-digit year.
const MIN_MILLIS: Millis = -62_167_219_200_000;

/// The calendar named `name` holding `events`, stamped `stamp` (DTSTAMP, UTC).
pub fn calendar(name: &str, events: &[Event], stamp: Millis) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(&fold(text));
        out.push_str("\r\n");
    };
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Triad//On-call//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    let max = Timestamp::MAX.as_millisecond();
    let dtstamp = utc(stamp.clamp(MIN_MILLIS, max)).unwrap_or_default();
    for event in events {
        let uid = strip_controls(&event.uid);
        let (Some(start), Some(end)) = (utc(event.start), utc(event.end)) else {
            continue;
        };
        if uid.is_empty() || floor_second(event.end) <= floor_second(event.start) {
            continue;
        }
        line("BEGIN:VEVENT");
        line(&format!("UID:{uid}"));
        line(&format!("DTSTAMP:{dtstamp}"));
        line(&format!("DTSTART:{start}"));
        line(&format!("DTEND:{end}"));
        line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if let Some(description) = &event.description {
            line(&format!("DESCRIPTION:{}", escape_text(description)));
        }
        line("TRANSP:OPAQUE");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// Whole seconds since the epoch, rounded toward the earlier second.
fn floor_second(millis: Millis) -> i64 {
    millis.div_euclid(1000)
}

/// `millis` as a UTC DATE-TIME (`20261124T070000Z`), floored to the second; `None`
/// outside the years 0000–9999.
fn utc(millis: Millis) -> Option<String> {
    let at = Timestamp::from_second(floor_second(millis)).ok()?;
    let dt = Offset::UTC.to_datetime(at);
    if !(0..=9999).contains(&dt.year()) {
        return None;
    }
    Some(format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    ))
}

/// A TEXT value (RFC 5545 §3.3.11): `\`, `;` and `,` are backslash-escaped, each line
/// break (CRLF, LF or a lone CR) becomes a literal `\n`, and other control characters
/// except TAB are dropped.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` without any control characters (CR, LF, TAB and the rest), for UIDs.
fn strip_controls(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// One content line folded (RFC 5545 §3.1): no physical line longer than 75 octets,
/// each continuation starting with CRLF and a single space (so holding at most 74
/// octets of content), and never a break inside a UTF-8 character. No trailing CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 64 * 3);
    let mut room = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > room {
            out.push_str("\r\n ");
            room = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: Millis = 3_600_000;
    /// 2026-11-24T07:00:00Z.
    const STAMP: Millis = 1_795_503_600_000;

    fn event(uid: &str, start: Millis, end: Millis, summary: &str) -> Event {
        Event {
            uid: uid.into(),
            start,
            end,
            summary: summary.into(),
            description: None,
        }
    }

    /// Undoes folding: removes every CRLF followed by a space.
    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    /// The logical lines of `text` as (name, raw value); none of ours carry parameters.
    fn parse(text: &str) -> Vec<(String, String)> {
        let unfolded = unfold(text);
        let body = unfolded.strip_suffix("\r\n").expect("ends with CRLF");
        body.split("\r\n")
            .map(|l| {
                let (name, value) = l.split_once(':').expect("NAME:value");
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// Reverses `escape_text`.
    fn unescape(value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => panic!("dangling backslash in {value:?}"),
            }
        }
        out
    }

    fn value<'a>(lines: &'a [(String, String)], name: &str) -> Vec<&'a str> {
        lines
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn sample() -> String {
        let mut second = event("b@triad", STAMP + HOUR, STAMP + 9 * HOUR, "Día; late");
        second.description = Some("Line one\r\nline two, with \\ and 日本".into());
        calendar(
            "Ops, primary",
            &[
                event("a@triad", STAMP, STAMP + HOUR, "Alice on call"),
                second,
            ],
            STAMP,
        )
    }

    #[test]
    fn calendar_has_the_expected_structure() {
        let lines = parse(&sample());
        let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
        let event = [
            "BEGIN", "UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "TRANSP", "END",
        ];
        let mut expected = vec!["BEGIN", "VERSION", "PRODID", "CALSCALE", "METHOD"];
        expected.push("X-WR-CALNAME");
        expected.extend(event);
        expected.extend(&event[..6]);
        expected.extend(["DESCRIPTION", "TRANSP", "END", "END"]);
        assert_eq!(names, expected);
        assert_eq!(lines[0].1, "VCALENDAR");
        assert_eq!(lines[1].1, "2.0");
        assert_eq!(lines[2].1, "-//Triad//On-call//EN");
        assert_eq!(lines[5].1, "Ops\\, primary");
        assert_eq!(value(&lines, "UID"), ["a@triad", "b@triad"]);
        assert_eq!(value(&lines, "DTSTAMP"), ["20261124T070000Z"; 2]);
        assert_eq!(
            value(&lines, "DTSTART"),
            ["20261124T070000Z", "20261124T080000Z"]
        );
        assert_eq!(
            value(&lines, "DTEND"),
            ["20261124T080000Z", "20261124T160000Z"]
        );
        assert_eq!(value(&lines, "TRANSP"), ["OPAQUE"; 2]);
        assert_eq!(lines.last().unwrap().1, "VCALENDAR");
    }

    #[test]
    fn every_line_ends_with_crlf() {
        let text = sample();
        assert!(text.ends_with("\r\n"));
        assert!(!text.replace("\r\n", "").contains(['\r', '\n']));
    }

    #[test]
    fn empty_event_list_is_a_valid_calendar() {
        let text = calendar("Empty", &[], STAMP);
        assert_eq!(
            text,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Triad//On-call//EN\r\n\
             CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Empty\r\nEND:VCALENDAR\r\n"
        );
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(sample(), sample());
    }

    #[test]
    fn milliseconds_are_floored_and_empty_shifts_skipped() {
        let events = [
            event("trunc", STAMP + 999, STAMP + 2_500, "kept"),
            event("before-1970", -1, 1_000, "kept"),
            event("same-second", STAMP + 100, STAMP + 900, "skipped"),
            event("inverted", STAMP + HOUR, STAMP, "skipped"),
            event("\r\n\t", STAMP, STAMP + HOUR, "skipped: empty uid"),
            event("far", STAMP, 300_000_000_000_000, "skipped: year 11476"),
        ];
        let lines = parse(&calendar("x", &events, STAMP + 999));
        assert_eq!(value(&lines, "UID"), ["trunc", "before-1970"]);
        assert_eq!(
            value(&lines, "DTSTART"),
            ["20261124T070000Z", "19691231T235959Z"]
        );
        assert_eq!(
            value(&lines, "DTEND"),
            ["20261124T070002Z", "19700101T000001Z"]
        );
        assert_eq!(value(&lines, "DTSTAMP")[0], "20261124T070000Z");
    }

    #[test]
    fn out_of_range_stamp_is_clamped() {
        let lines = parse(&calendar("x", &[event("u", 0, HOUR, "s")], i64::MAX));
        assert!(value(&lines, "DTSTAMP")[0].starts_with("9999"));
        let lines = parse(&calendar("x", &[event("u", 0, HOUR, "s")], i64::MIN));
        assert_eq!(value(&lines, "DTSTAMP"), ["00000101T000000Z"]);
    }

    #[test]
    fn uid_loses_control_characters_but_is_not_escaped() {
        let e = event("a\r\nb\u{7}c;d,e@triad", 0, HOUR, "s");
        let lines = parse(&calendar("x", &[e], 0));
        assert_eq!(value(&lines, "UID"), ["abc;d,e@triad"]);
    }

    #[test]
    fn escaping_handles_specials_and_controls() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(escape_text("1\r\n2\n3\r4"), r"1\n2\n3\n4");
        assert_eq!(escape_text("t\tx\u{0}\u{1b}\u{7f}\u{85}y"), "t\txy");
        assert_eq!(escape_text("\\n"), "\\\\n");
    }

    #[test]
    fn fold_leaves_short_lines_alone() {
        assert_eq!(fold(""), "");
        assert_eq!(fold(&"a".repeat(75)), "a".repeat(75));
    }

    #[test]
    fn fold_ascii_at_76_and_beyond() {
        let folded = fold(&"a".repeat(76));
        assert_eq!(folded, format!("{}\r\n a", "a".repeat(75)));
        let folded = fold(&"b".repeat(75 + 74 + 1));
        let parts: Vec<&str> = folded.split("\r\n").collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [75, 75, 2]
        );
    }

    #[test]
    fn fold_never_splits_multibyte_characters() {
        // 74 ASCII octets leave one octet of room: a 2-, 3- or 4-octet character moves on.
        for wide in ["é", "日", "本", "😀"] {
            let line = format!("{}{wide}{}", "a".repeat(74), "z".repeat(80));
            let folded = fold(&line);
            let parts: Vec<&str> = folded.split("\r\n").collect();
            assert_eq!(parts[0], "a".repeat(74), "{wide}");
            assert!(parts[1].starts_with(&format!(" {wide}")), "{wide}");
            assert!(parts.iter().all(|p| p.len() <= 75), "{wide}");
            assert_eq!(unfold(&folded), line);
        }
        // Exactly 75 octets with a character ending on the boundary stays whole.
        let line = format!("{}日本", "a".repeat(69));
        assert_eq!(line.len(), 75);
        assert_eq!(fold(&line), line);
        let line = format!("{}日本", "a".repeat(70));
        assert_eq!(fold(&line), format!("{}日\r\n 本", "a".repeat(70)));
    }

    #[test]
    fn long_text_is_folded_and_unfolds_to_the_logical_lines() {
        let long = "Rotation für 日本 😀, Montag; ".repeat(20);
        let mut e = event("long@triad", 0, HOUR, &long);
        e.description = Some(long.clone());
        let text = calendar(&long, &[e], 0);
        for physical in text.split_terminator("\r\n") {
            assert!(physical.len() <= MAX_LINE_OCTETS, "{physical:?}");
        }
        let lines = parse(&text);
        assert_eq!(unescape(&lines[5].1), long);
        assert_eq!(unescape(value(&lines, "SUMMARY")[0]), long);
        assert_eq!(unescape(value(&lines, "DESCRIPTION")[0]), long);
    }

    proptest! {
        #[test]
        fn text_round_trips_through_escape_fold_unfold(text in "\\PC*") {
            let mut e = event("p@triad", 0, HOUR, &text);
            e.description = Some(format!("{text}\n{text}"));
            let out = calendar(&text, &[e], 0);
            for physical in out.split_terminator("\r\n") {
                prop_assert!(physical.len() <= MAX_LINE_OCTETS);
            }
            let lines = parse(&out);
            prop_assert_eq!(unescape(value(&lines, "SUMMARY")[0]), text.clone());
            prop_assert_eq!(
                unescape(value(&lines, "DESCRIPTION")[0]),
                format!("{text}\n{text}")
            );
        }

        #[test]
        fn fold_respects_limits_and_unfolds(line in "\\PC{0,300}") {
            let folded = fold(&line);
            for physical in folded.split("\r\n") {
                prop_assert!(physical.len() <= MAX_LINE_OCTETS);
            }
            prop_assert_eq!(unfold(&folded), line);
        }
    }
}
