//! Canonical encoding of frames for clients: LF terminators only, `name: value` with one
//! space, one `data:` line per line of data, and every frame a complete block. No CR or LF
//! inside a value can reach the output raw, so a frame can never end early or smuggle a field.

use bytes::{BufMut, BytesMut};
use memchr::{memchr2, memchr2_iter, memchr3};

use super::{Event, Frame};

/// Writes any frame; see [`encode_event`], [`encode_last_event_id`] and [`encode_retry`].
pub fn encode_frame(frame: &Frame, out: &mut BytesMut) {
    match frame {
        Frame::Event(event) => encode_event(event, out),
        Frame::LastEventId(id) => encode_last_event_id(id, out),
        Frame::Retry(ms) => encode_retry(*ms, out),
    }
}

/// Writes one event block: `event: TYPE` (only for a non-empty type), `id: ID` (`id:` for an
/// empty id, which resets the client's last event ID), one `data:` line per line of data,
/// then a blank line.
///
/// Data is split at LF, CRLF and CR, the terminators a client's parser recognises, so a CR
/// in data (which the parser never produces) comes back as an LF after a round trip. A type
/// or id containing CR or LF cannot be written as one field and is dropped, as is an id
/// containing NUL, which clients ignore (case C08).
pub fn encode_event(ev: &Event, out: &mut BytesMut) {
    let event_type = ev.event_type.as_deref().filter(|t| writable_type(t));
    let id = ev.id.as_deref().filter(|id| writable_id(id));
    // Data is mostly one line: seeing no break in it is then the only pass before the copy.
    let first_break = memchr2(b'\r', b'\n', ev.data.as_bytes());
    out.reserve(event_len(ev, first_break, event_type, id));

    if let Some(event_type) = event_type {
        put_field(out, "event", event_type);
    }
    if let Some(id) = id {
        put_field(out, "id", id);
    }
    match first_break {
        None => put_field(out, "data", &ev.data),
        Some(_) => split_lines(&ev.data).for_each(|line| put_field(out, "data", line)),
    }
    out.put_u8(b'\n');
}

/// Writes a block that only sets the last event ID (`id: ID`, or `id:` to reset it). An id
/// containing CR, LF or NUL writes nothing: clients would not accept it as one id.
pub fn encode_last_event_id(id: &str, out: &mut BytesMut) {
    if !writable_id(id) {
        return;
    }
    out.reserve(id.len() + 6);
    put_field(out, "id", id);
    out.put_u8(b'\n');
}

/// Writes `retry: MS` as its own block, setting the client's reconnection time.
pub fn encode_retry(ms: u64, out: &mut BytesMut) {
    out.reserve(29);
    out.put_slice(b"retry: ");
    put_decimal(ms, out);
    out.put_slice(b"\n\n");
}

/// Writes a comment (`:TEXT`) and a blank line; with empty text this is the `:\n\n`
/// heartbeat. Text with line breaks becomes one comment line per line, so it cannot end the
/// comment and start a field.
pub fn encode_comment(text: &str, out: &mut BytesMut) {
    out.reserve(text.len() + 3);
    for line in split_lines(text) {
        out.put_u8(b':');
        out.put_slice(line.as_bytes());
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
}

/// `name: value` and LF; `name:` alone for an empty value. The single space is what the
/// parser strips, so a value that starts with a space keeps it (case C05).
fn put_field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_u8(b':');
    if !value.is_empty() {
        out.put_u8(b' ');
        out.put_slice(value.as_bytes());
    }
    out.put_u8(b'\n');
}

fn writable_type(event_type: &str) -> bool {
    !event_type.is_empty() && memchr2(b'\r', b'\n', event_type.as_bytes()).is_none()
}

fn writable_id(id: &str) -> bool {
    memchr3(b'\r', b'\n', b'\0', id.as_bytes()).is_none()
}

/// An upper bound on an event's encoded size, so the block needs at most one reservation.
/// `first_break` is where the data's first CR or LF is, if it has one.
fn event_len(
    ev: &Event,
    first_break: Option<usize>,
    event_type: Option<&str>,
    id: Option<&str>,
) -> usize {
    let breaks = first_break.map_or(0, |at| {
        1 + memchr2_iter(b'\n', b'\r', &ev.data.as_bytes()[at + 1..]).count()
    });
    let data = ev.data.len() + (breaks + 1) * "data: \n".len();
    let event_type = event_type.map_or(0, |t| t.len() + "event: \n".len());
    let id = id.map_or(0, |id| id.len() + "id: \n".len());
    data + event_type + id + 1
}

/// The lines of `text` split at LF, CRLF or CR. Always yields at least one (possibly empty)
/// line, and an empty line after a trailing break.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        let Some(end) = memchr2(b'\r', b'\n', current.as_bytes()) else {
            rest = None;
            return Some(current);
        };
        // CR and LF are ASCII, so both sides of either are on character boundaries.
        let break_len = if current[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = Some(&current[end + break_len..]);
        Some(&current[..end])
    })
}

/// Writes `n` in decimal without going through a formatter or an allocation.
fn put_decimal(mut n: u64, out: &mut BytesMut) {
    let mut digits = [0u8; 20]; // u64::MAX has 20 digits
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::super::Parser;
    use super::*;
    use proptest::prelude::*;

    fn event(id: Option<&str>, event_type: Option<&str>, data: &str) -> Event {
        Event {
            id: id.map(str::to_owned),
            event_type: event_type.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    fn encoded(write: impl FnOnce(&mut BytesMut)) -> String {
        let mut out = BytesMut::new();
        write(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn parse(bytes: &[u8]) -> Vec<Frame> {
        let mut parser = Parser::default();
        let mut frames = Vec::new();
        assert_eq!(parser.feed(bytes, &mut frames), Ok(()));
        parser.finish(&mut frames);
        frames
    }

    #[test]
    fn event_is_written_in_canonical_form() {
        let ev = event(Some("7"), Some("tick"), "a\n b\n");
        let text = encoded(|out| encode_event(&ev, out));
        assert_eq!(text, "event: tick\nid: 7\ndata: a\ndata:  b\ndata:\n\n");
    }

    #[test]
    fn default_type_and_missing_id_write_only_data() {
        assert_eq!(
            encoded(|out| encode_event(&event(None, None, "x"), out)),
            "data: x\n\n"
        );
        let ev = event(None, Some(""), "");
        assert_eq!(encoded(|out| encode_event(&ev, out)), "data:\n\n");
    }

    #[test]
    fn empty_id_is_written_bare_to_reset_the_last_event_id() {
        let ev = event(Some(""), None, "x");
        assert_eq!(encoded(|out| encode_event(&ev, out)), "id:\ndata: x\n\n");
    }

    #[test]
    fn type_or_id_that_would_break_framing_is_dropped() {
        let ev = event(Some("1\r\ndata: evil"), Some("a\nb"), "x");
        assert_eq!(encoded(|out| encode_event(&ev, out)), "data: x\n\n");
        let ev = event(Some("a\0b"), Some("t\0"), "x");
        assert_eq!(
            encoded(|out| encode_event(&ev, out)),
            "event: t\0\ndata: x\n\n"
        );
    }

    #[test]
    fn cr_and_crlf_in_data_become_line_breaks() {
        let ev = event(None, None, "a\rb\r\nc\n\rd");
        let text = encoded(|out| encode_event(&ev, out));
        assert_eq!(text, "data: a\ndata: b\ndata: c\ndata:\ndata: d\n\n");
        assert_eq!(
            parse(text.as_bytes()),
            vec![Frame::Event(event(None, None, "a\nb\nc\n\nd"))]
        );
    }

    #[test]
    fn last_event_id_block_is_written_alone() {
        assert_eq!(encoded(|out| encode_last_event_id("9", out)), "id: 9\n\n");
        assert_eq!(encoded(|out| encode_last_event_id("", out)), "id:\n\n");
        assert_eq!(encoded(|out| encode_last_event_id("a\0b", out)), "");
        assert_eq!(encoded(|out| encode_last_event_id("a\nb", out)), "");
    }

    #[test]
    fn retry_is_written_in_decimal() {
        assert_eq!(encoded(|out| encode_retry(0, out)), "retry: 0\n\n");
        assert_eq!(encoded(|out| encode_retry(3000, out)), "retry: 3000\n\n");
        let max = encoded(|out| encode_retry(u64::MAX, out));
        assert_eq!(max, "retry: 18446744073709551615\n\n");
    }

    #[test]
    fn comment_with_line_breaks_stays_a_comment() {
        assert_eq!(encoded(|out| encode_comment("", out)), ":\n\n");
        assert_eq!(encoded(|out| encode_comment("ok", out)), ":ok\n\n");
        let text = encoded(|out| encode_comment("a\ndata: x\r\nb\r", out));
        assert_eq!(text, ":a\n:data: x\n:b\n:\n\n");
        assert_eq!(parse(text.as_bytes()), vec![]);
    }

    #[test]
    fn frames_are_written_by_kind() {
        let frames = [
            Frame::Retry(5),
            Frame::LastEventId("4".to_owned()),
            Frame::Event(event(None, Some("t"), "d")),
        ];
        let text = encoded(|out| frames.iter().for_each(|f| encode_frame(f, out)));
        assert_eq!(text, "retry: 5\n\nid: 4\n\nevent: t\ndata: d\n\n");
    }

    /// Re-encodes what the parser read from `input`.
    fn reencode(input: &[u8]) -> String {
        encoded(|out| parse(input).iter().for_each(|f| encode_frame(f, out)))
    }

    #[test]
    fn mixed_terminators_are_reemitted_with_lf_only() {
        let text = reencode(b"id: 1\r\ndata: {\"x\":1}\n\ndata: {\"x\":2}\r\r");
        assert_eq!(text, "id: 1\ndata: {\"x\":1}\n\ndata: {\"x\":2}\n\n");
    }

    #[test]
    fn leading_space_in_a_value_is_reemitted_after_the_separator_space() {
        let input = b"data:{\"v\":\" a\"}\n\ndata:  {\"v\":1}\n\nevent:tick\ndata: {\"v\":2}\n\n";
        let expected =
            "data: {\"v\":\" a\"}\n\ndata:  {\"v\":1}\n\nevent: tick\ndata: {\"v\":2}\n\n";
        assert_eq!(reencode(input), expected);
    }

    #[test]
    fn multi_line_data_is_reemitted_one_line_per_data_field() {
        let input = b"data: {\ndata:   \"a\": 1,\ndata: }\n\ndata:\ndata:\ndata: 7\n\n";
        let expected = "data: {\ndata:   \"a\": 1,\ndata: }\n\ndata:\ndata:\ndata: 7\n\n";
        assert_eq!(reencode(input), expected);
    }

    #[test]
    fn id_only_block_and_nul_id_are_reemitted_per_c08() {
        let text = reencode(b"id: a\x00b\ndata: 5\n\nid: 9\n\n");
        assert_eq!(text, "data: 5\n\nid: 9\n\n");
    }

    /// Text as the parser can produce it: no CR, anything else (LF, spaces, NUL, colons,
    /// U+FEFF, non-ASCII).
    fn data_text() -> impl Strategy<Value = String> {
        "[a-z \n\u{0}:é🦀\u{FEFF}\t]{0,24}"
    }

    /// A type or id: never CR or LF (and, for ids, never NUL).
    fn field_text() -> impl Strategy<Value = String> {
        "[a-z :é🦀\u{FEFF}\t]{0,8}"
    }

    fn canonical_frame() -> impl Strategy<Value = Frame> {
        let event_type = prop::option::of(field_text()).prop_map(|t| t.filter(|t| !t.is_empty()));
        let ev = (prop::option::of(field_text()), event_type, data_text()).prop_map(
            |(id, event_type, data)| {
                Frame::Event(Event {
                    id,
                    event_type,
                    data,
                })
            },
        );
        prop_oneof![
            6 => ev,
            1 => field_text().prop_map(Frame::LastEventId),
            1 => any::<u64>().prop_map(Frame::Retry),
        ]
    }

    proptest! {
        #[test]
        fn parse_of_encode_returns_the_frames(
            frames in prop::collection::vec(canonical_frame(), 0..8),
            comments in prop::collection::vec("[a-z\r\n :]{0,8}", 0..8),
        ) {
            let mut out = BytesMut::new();
            for (i, frame) in frames.iter().enumerate() {
                if let Some(comment) = comments.get(i) {
                    encode_comment(comment, &mut out);
                }
                encode_frame(frame, &mut out);
            }
            prop_assert_eq!(parse(&out), frames);
        }

        #[test]
        fn any_event_encodes_as_exactly_one_event(
            id in prop::option::of("[a\r\n\0 ]{0,4}"),
            event_type in prop::option::of("[a\r\n\0 ]{0,4}"),
            data in "[a\r\n\0 ]{0,12}",
        ) {
            let ev = Event { id, event_type, data };
            let mut out = BytesMut::new();
            encode_event(&ev, &mut out);
            let frames = parse(&out);
            prop_assert_eq!(frames.len(), 1);
            let Frame::Event(parsed) = &frames[0] else {
                return Err(TestCaseError::fail("not an event"));
            };
            let normalised = ev.data.replace("\r\n", "\n").replace('\r', "\n");
            prop_assert_eq!(&parsed.data, &normalised);
        }

        #[test]
        fn the_reservation_covers_the_whole_block(
            id in prop::option::of("[a\r\n ]{0,4}"),
            event_type in prop::option::of("[a\r\n ]{0,4}"),
            data in "[a\r\n ]{0,12}",
        ) {
            let ev = Event { id, event_type, data };
            let event_type = ev.event_type.as_deref().filter(|t| writable_type(t));
            let id = ev.id.as_deref().filter(|id| writable_id(id));
            let first_break = memchr2(b'\r', b'\n', ev.data.as_bytes());
            let bound = event_len(&ev, first_break, event_type, id);
            let mut out = BytesMut::new();
            encode_event(&ev, &mut out);
            prop_assert!(out.len() <= bound, "{} > {bound}", out.len());
        }
    }
}
