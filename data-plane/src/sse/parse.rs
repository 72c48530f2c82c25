//! The incremental event-stream parser: WHATWG HTML 9.2.5 "Parsing an event stream" (leading
//! BOM, CR / LF / CRLF lines) and 9.2.6 "Interpreting an event stream" (fields, dispatch),
//! plus the memory limits that keep a hostile upstream from growing a stream's buffers.

use std::borrow::Cow;
use std::mem;

use memchr::{memchr, memchr2};

use super::{Event, Frame, ParseError};

/// Default limit for [`Parser::new`]: 1 MiB per line and per event's data.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// U+FEFF in UTF-8. One is stripped at the very start of a stream (the spec decodes the stream
/// with "UTF-8 decode", which drops a single leading BOM).
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Line-buffer capacity kept after a long buffered line, so one large line does not pin its
/// memory for the rest of a long-lived stream.
const RETAINED_LINE_CAPACITY: usize = 8 * 1024;

/// Where the parser stands with respect to the optional leading BOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// At the stream start; this many bytes of a BOM have arrived so far (0 to 2). Empty reads
    /// leave this untouched, so a BOM split across reads or after an empty read is still found.
    Expecting(usize),
    /// Past the start: any further U+FEFF is ordinary text.
    Done,
}

/// An incremental `text/event-stream` parser for one upstream response body at a time.
///
/// Bytes may be fed in any split; the frames are the same as for the body in one read. A CR
/// ends its line as soon as it arrives (so a CR-terminated event is dispatched without waiting
/// for the next read); an LF at the start of the next read is then recognised as the second
/// half of a CRLF rather than an empty line (case C01).
///
/// After [`feed`](Self::feed) returns an error the parser refuses all further input with the
/// same error and has dropped its buffers; [`finish`](Self::finish) makes it usable again for
/// a new response.
#[derive(Debug)]
pub struct Parser {
    /// Maximum bytes in one line (without terminator) and in one event's data.
    max: usize,
    start: Start,
    /// The previous read ended in a CR, which already ended its line: an LF opening the next
    /// read completes that CRLF and is skipped.
    skip_lf: bool,
    /// The start of a line whose terminator has not arrived yet.
    line: Vec<u8>,
    /// The spec's data buffer: each data value followed by LF.
    data: String,
    /// The spec's event type buffer; `None` when empty.
    event_type: Option<String>,
    /// The id set by the current block, if any.
    block_id: Option<String>,
    /// The last event ID as of the last dispatched block, i.e. what a reconnect would send.
    last_event_id: String,
    failed: Option<ParseError>,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl Parser {
    /// A parser at the start of a stream. `max_line_bytes` bounds both one line (without its
    /// terminator) and one event's data as dispatched; see [`ParseError`].
    pub fn new(max_line_bytes: usize) -> Self {
        Self {
            max: max_line_bytes,
            start: Start::Expecting(0),
            skip_lf: false,
            line: Vec::new(),
            data: String::new(),
            event_type: None,
            block_id: None,
            last_event_id: String::new(),
            failed: None,
        }
    }

    /// Parses one read of the body, appending the frames it completes to `out`.
    ///
    /// On error, the frames completed before the offending line are already in `out`; the
    /// parser then stays failed until [`finish`](Self::finish).
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Frame>) -> Result<(), ParseError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let result = self.feed_lines(chunk, out);
        if let Err(error) = result {
            self.fail(error);
        }
        result
    }

    /// Ends the current response body. As the spec says for end of file, an unterminated line
    /// and an undispatched block are discarded. The parser is then ready for the next response
    /// of the same stream (a reconnect): BOM handling restarts, an earlier error is cleared,
    /// and [`last_event_id`](Self::last_event_id) is kept.
    ///
    /// This parser never adds frames to `_out`: a trailing CR has already ended its line when
    /// it arrived, so nothing complete can be pending. The parameter keeps callers from
    /// depending on that.
    pub fn finish(&mut self, _out: &mut Vec<Frame>) {
        let last_event_id = mem::take(&mut self.last_event_id);
        *self = Self {
            last_event_id,
            ..Self::new(self.max)
        };
    }

    /// The last event ID as of the last dispatched block (empty if none was set or it was
    /// reset): the value a reconnecting client sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    fn fail(&mut self, error: ParseError) {
        self.failed = Some(error);
        self.line = Vec::new();
        self.data = String::new();
        self.event_type = None;
        self.block_id = None;
    }

    /// Splits `chunk` into lines: complete ones are processed straight from the chunk (or
    /// from the line buffer when they began in an earlier read); the rest is buffered.
    fn feed_lines(&mut self, chunk: &[u8], out: &mut Vec<Frame>) -> Result<(), ParseError> {
        let mut rest = self.strip_bom(chunk);
        if self.skip_lf && !rest.is_empty() {
            self.skip_lf = false;
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        }

        while let Some(end) = memchr2(b'\r', b'\n', rest) {
            self.end_line(&rest[..end], out)?;
            let after = &rest[end + 1..];
            rest = if rest[end] == b'\r' {
                self.after_cr(after)
            } else {
                after
            };
        }

        self.hold(rest)
    }

    /// Consumes a leading BOM, which may arrive a byte per read, and returns the rest.
    fn strip_bom<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
        let Start::Expecting(mut seen) = self.start else {
            return chunk;
        };
        for (i, &byte) in chunk.iter().enumerate() {
            if BOM.get(seen) != Some(&byte) {
                // Not a BOM after all: the bytes held back so far begin the first line. They
                // are never CR or LF, so no line ends inside them.
                self.line.extend_from_slice(&BOM[..seen]);
                self.start = Start::Done;
                return &chunk[i..];
            }
            seen += 1;
            if seen == BOM.len() {
                self.start = Start::Done;
                return &chunk[i + 1..];
            }
        }
        self.start = Start::Expecting(seen);
        &[]
    }

    /// After a CR: an LF right behind it belongs to the same CRLF. If the read ends here,
    /// the next read decides.
    fn after_cr<'a>(&mut self, after: &'a [u8]) -> &'a [u8] {
        if after.is_empty() {
            self.skip_lf = true;
        }
        after.strip_prefix(b"\n").unwrap_or(after)
    }

    /// Completes a line whose last bytes are `tail`.
    fn end_line(&mut self, tail: &[u8], out: &mut Vec<Frame>) -> Result<(), ParseError> {
        self.check_line(self.line.len() + tail.len())?;
        if self.line.is_empty() {
            return self.process_line(tail, out);
        }

        let mut line = mem::take(&mut self.line);
        reserve_within(&mut line, tail.len(), self.max);
        line.extend_from_slice(tail);
        let result = self.process_line(&line, out);

        line.clear();
        line.shrink_to(RETAINED_LINE_CAPACITY);
        self.line = line;
        result
    }

    /// Buffers the start of a line until its terminator arrives.
    fn hold(&mut self, rest: &[u8]) -> Result<(), ParseError> {
        if rest.is_empty() {
            return Ok(());
        }
        self.check_line(self.line.len() + rest.len())?;
        reserve_within(&mut self.line, rest.len(), self.max);
        self.line.extend_from_slice(rest);
        Ok(())
    }

    fn check_line(&self, len: usize) -> Result<(), ParseError> {
        if len > self.max {
            return Err(ParseError::LineTooLong { limit: self.max });
        }
        Ok(())
    }

    /// One line, without its terminator: blank dispatches, a leading colon is a comment,
    /// otherwise a field, split at the first colon with one following space removed.
    fn process_line(&mut self, line: &[u8], out: &mut Vec<Frame>) -> Result<(), ParseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.starts_with(b":") {
            return Ok(());
        }

        let (name, value) = match memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        self.field(name, value, out)
    }

    /// Applies one field. Names are compared as bytes: a name with invalid UTF-8 decodes to
    /// text containing U+FFFD, which matches no known field either.
    fn field(&mut self, name: &[u8], value: &[u8], out: &mut Vec<Frame>) -> Result<(), ParseError> {
        match name {
            b"data" => return self.append_data(value),
            b"event" => self.event_type = (!value.is_empty()).then(|| decode(value).into_owned()),
            b"id" if memchr(0, value).is_none() => self.block_id = Some(decode(value).into_owned()),
            b"retry" => {
                if let Some(ms) = parse_retry(value) {
                    out.push(Frame::Retry(ms));
                }
            }
            // Unknown fields, and ids containing NUL, are ignored.
            _ => {}
        }
        Ok(())
    }

    fn append_data(&mut self, value: &[u8]) -> Result<(), ParseError> {
        let value = decode(value);
        // The buffer already ends in LF when non-empty, so this is the length the event
        // would be dispatched with.
        if self.data.len() + value.len() > self.max {
            return Err(ParseError::EventTooLarge { limit: self.max });
        }

        // Room for the LF too, so a one-line event costs a single allocation.
        let extra = value.len() + 1;
        let cap = self.max.saturating_add(1);
        let additional = capped_growth(self.data.len(), self.data.capacity(), extra, cap);
        self.data.reserve_exact(additional);
        self.data.push_str(&value);
        self.data.push('\n');
        Ok(())
    }

    /// A blank line: commit the block's id, then dispatch if the block had data.
    fn dispatch(&mut self, out: &mut Vec<Frame>) {
        let id = self.block_id.take();
        let event_type = self.event_type.take();
        if let Some(id) = &id {
            self.last_event_id.clear();
            self.last_event_id.push_str(id);
        }

        if self.data.is_empty() {
            // No data line: the spec dispatches nothing, but the last event ID has changed
            // and a client must learn it (case C08).
            if let Some(id) = id {
                out.push(Frame::LastEventId(id));
            }
            return;
        }

        let mut data = mem::take(&mut self.data);
        data.pop(); // the LF after the last data line
        out.push(Frame::Event(Event {
            id,
            event_type,
            data,
        }));
    }
}

/// UTF-8 decode with replacement. Line terminators are ASCII, so decoding line by line equals
/// decoding the whole stream, and `from_utf8_lossy` replaces maximal invalid subparts exactly
/// as the WHATWG decoder does. Valid input, the usual case, takes `from_utf8`'s faster check.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A `retry` value: only non-empty, all-ASCII-digit values count. Values past `u64::MAX`
/// saturate rather than wrap.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ms = value.iter().fold(0u64, |ms, &digit| {
        ms.saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    });
    Some(ms)
}

/// Grows `buf` for `extra` more bytes like `Vec` would (doubling), but never past `cap`.
fn reserve_within(buf: &mut Vec<u8>, extra: usize, cap: usize) {
    let additional = capped_growth(buf.len(), buf.capacity(), extra, cap);
    buf.reserve_exact(additional);
}

/// The `additional` to pass to `reserve_exact` so that `extra` more bytes fit after `len`,
/// growing geometrically but to at most `cap` (unless `len + extra` itself is larger).
fn capped_growth(len: usize, capacity: usize, extra: usize, cap: usize) -> usize {
    let needed = len + extra;
    if needed <= capacity {
        return 0;
    }
    let target = capacity.saturating_mul(2).min(cap).max(needed);
    target - len
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `reads` in order, then ends the body; stops at the first error.
    fn parse_reads(max: usize, reads: &[&[u8]]) -> (Vec<Frame>, Option<ParseError>, String) {
        let mut parser = Parser::new(max);
        let mut frames = Vec::new();
        for read in reads {
            if let Err(error) = parser.feed(read, &mut frames) {
                return (frames, Some(error), parser.last_event_id().to_owned());
            }
        }
        parser.finish(&mut frames);
        (frames, None, parser.last_event_id().to_owned())
    }

    fn parse(input: &[u8]) -> Vec<Frame> {
        let (frames, error, _) = parse_reads(DEFAULT_MAX_LINE, &[input]);
        assert_eq!(error, None);
        frames
    }

    fn event(id: Option<&str>, event_type: Option<&str>, data: &str) -> Frame {
        Frame::Event(Event {
            id: id.map(str::to_owned),
            event_type: event_type.map(str::to_owned),
            data: data.to_owned(),
        })
    }

    fn message(data: &str) -> Frame {
        event(None, None, data)
    }

    /// The last event ID a client holds after each event, as EventSource computes it.
    fn last_ids_per_event(frames: &[Frame]) -> Vec<String> {
        let mut last = String::new();
        let mut ids = Vec::new();
        for frame in frames {
            match frame {
                Frame::Event(ev) => {
                    if let Some(id) = &ev.id {
                        last.clone_from(id);
                    }
                    ids.push(last.clone());
                }
                Frame::LastEventId(id) => last.clone_from(id),
                Frame::Retry(_) => {}
            }
        }
        ids
    }

    const C01: &[u8] = b"data: {\"n\":\r\ndata: 1}\r\n\r\n";

    #[test]
    fn crlf_split_across_reads_gives_one_event() {
        let (first, second) = C01.split_at(12);
        assert_eq!(first, b"data: {\"n\":\r");
        let (frames, error, _) = parse_reads(DEFAULT_MAX_LINE, &[first, second]);
        assert_eq!(error, None);
        assert_eq!(frames, vec![message("{\"n\":\n1}")]);
    }

    #[test]
    fn c01_gives_one_event_for_every_split_into_two_or_three_reads() {
        for i in 0..=C01.len() {
            for j in i..=C01.len() {
                let reads = [&C01[..i], &C01[i..j], &C01[j..]];
                let (frames, error, _) = parse_reads(DEFAULT_MAX_LINE, &reads);
                assert_eq!(error, None);
                assert_eq!(frames, vec![message("{\"n\":\n1}")], "split at {i}, {j}");
            }
        }
    }

    #[test]
    fn cr_ending_a_read_dispatches_without_waiting_for_the_next_read() {
        let mut parser = Parser::default();
        let mut frames = Vec::new();
        assert_eq!(parser.feed(b"data: x\r\r", &mut frames), Ok(()));
        assert_eq!(frames, vec![message("x")]);

        assert_eq!(parser.feed(b"\ndata: y\n\n", &mut frames), Ok(()));
        assert_eq!(frames, vec![message("x"), message("y")]);
    }

    #[test]
    fn lf_after_cr_in_a_later_read_is_not_a_blank_line() {
        let reads: [&[u8]; 4] = [b"data: a\r", b"", b"\n", b"data: b\n\n"];
        let (frames, _, _) = parse_reads(DEFAULT_MAX_LINE, &reads);
        assert_eq!(frames, vec![message("a\nb")]);
    }

    #[test]
    fn trailing_lone_cr_at_end_of_body_still_ends_the_line() {
        let (frames, _, _) = parse_reads(DEFAULT_MAX_LINE, &[b"data: x\n", b"\r"]);
        assert_eq!(frames, vec![message("x")]);
    }

    #[test]
    fn mixed_terminators_give_two_events_with_last_event_id_one() {
        let (frames, _, last) = parse_reads(
            DEFAULT_MAX_LINE,
            &[b"id: 1\r\ndata: {\"x\":1}\n\ndata: {\"x\":2}\r\r"],
        );
        let expected = vec![event(Some("1"), None, "{\"x\":1}"), message("{\"x\":2}")];
        assert_eq!(frames, expected);
        assert_eq!(last_ids_per_event(&frames), ["1", "1"]);
        assert_eq!(last, "1");
    }

    #[test]
    fn cr_only_and_crlf_blank_lines_both_dispatch() {
        assert_eq!(parse(b"data: a\rdata: b\r\r"), vec![message("a\nb")]);
        assert_eq!(
            parse(b"data: a\r\n\r\ndata: b\n\r\n"),
            vec![message("a"), message("b")]
        );
    }

    #[test]
    fn leading_bom_is_stripped() {
        assert_eq!(
            parse(b"\xEF\xBB\xBFdata:1\n\ndata:2\n\n"),
            vec![message("1"), message("2")]
        );
    }

    #[test]
    fn second_bom_becomes_part_of_the_first_field_name() {
        let input = b"\xEF\xBB\xBF\xEF\xBB\xBFdata:1\n\ndata:2\n\ndata:3\n\n";
        assert_eq!(parse(input), vec![message("2"), message("3")]);
    }

    #[test]
    fn bom_split_across_reads_is_stripped() {
        let reads: [&[u8]; 2] = [b"\xEF", b"\xBB\xBFdata:1\n\n"];
        assert_eq!(parse_reads(DEFAULT_MAX_LINE, &reads).0, vec![message("1")]);
        let reads: [&[u8]; 4] = [b"\xEF", b"", b"\xBB", b"\xBFdata:1\n\n"];
        assert_eq!(parse_reads(DEFAULT_MAX_LINE, &reads).0, vec![message("1")]);
    }

    #[test]
    fn bom_after_an_empty_first_read_is_stripped() {
        let reads: [&[u8]; 2] = [b"", b"\xEF\xBB\xBFdata:1\n\n"];
        assert_eq!(parse_reads(DEFAULT_MAX_LINE, &reads).0, vec![message("1")]);
    }

    #[test]
    fn bom_later_in_the_stream_is_ordinary_text() {
        let input = b"data:1\n\n\xEF\xBB\xBFdata:2\n\ndata:\xEF\xBB\xBF3\n\n";
        assert_eq!(parse(input), vec![message("1"), message("\u{FEFF}3")]);
    }

    #[test]
    fn partial_bom_is_kept_as_text_of_the_first_line() {
        // EF BB alone is an incomplete sequence, decoded as one U+FFFD in the field name.
        let input = b"\xEF\xBBdata:1\n\ndata:2\n\n";
        assert_eq!(parse(input), vec![message("2")]);
        assert_eq!(parse(b"\xEF\xBB\xBE\n\ndata:2\n\n"), vec![message("2")]);
    }

    #[test]
    fn bom_handling_restarts_after_finish() {
        let mut parser = Parser::default();
        let mut frames = Vec::new();
        assert_eq!(parser.feed(b"\xEF\xBB\xBFdata:1\n\n", &mut frames), Ok(()));
        parser.finish(&mut frames);
        assert_eq!(parser.feed(b"\xEF\xBB", &mut frames), Ok(()));
        assert_eq!(parser.feed(b"\xBFdata:2\n\n", &mut frames), Ok(()));
        assert_eq!(frames, vec![message("1"), message("2")]);
    }

    #[test]
    fn only_one_space_after_the_colon_is_removed() {
        let input = b"data:{\"v\":\" a\"}\n\ndata:  {\"v\":1}\n\nevent:tick\ndata: {\"v\":2}\n\n";
        let expected = vec![
            message("{\"v\":\" a\"}"),
            message(" {\"v\":1}"),
            event(None, Some("tick"), "{\"v\":2}"),
        ];
        assert_eq!(parse(input), expected);
        assert_eq!(parse(b"data: a b  \n\n"), vec![message("a b  ")]);
        assert_eq!(parse(b"data:\ta\n\n"), vec![message("\ta")]);
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        let input =
            b"data: {\ndata:   \"a\": 1,\ndata:   \"b\": [2]\ndata: }\n\ndata:\ndata:\ndata: 7\n\n";
        let expected = vec![message("{\n  \"a\": 1,\n  \"b\": [2]\n}"), message("\n\n7")];
        assert_eq!(parse(input), expected);
    }

    #[test]
    fn field_without_colon_empty_data_and_nul_follow_the_spec() {
        let input = b"data:\n\ndata\ndata\n\ndata:test\n\ndata:\x00\n\n";
        let expected = vec![message(""), message("\n"), message("test"), message("\0")];
        assert_eq!(parse(input), expected);
    }

    #[test]
    fn id_rules_and_id_only_block_follow_the_spec() {
        let input = b"id: 1\ndata: {\"n\":1}\n\ndata: {\"n\":2}\n\nid\ndata: {\"n\":3}\n\n\
            id: 7\ndata: {\"n\":4}\n\nid: a\x00b\ndata: {\"n\":5}\n\nid: 9\n\n";
        let (frames, error, last) = parse_reads(DEFAULT_MAX_LINE, &[input]);
        let expected = vec![
            event(Some("1"), None, "{\"n\":1}"),
            message("{\"n\":2}"),
            event(Some(""), None, "{\"n\":3}"),
            event(Some("7"), None, "{\"n\":4}"),
            message("{\"n\":5}"),
            Frame::LastEventId("9".to_owned()),
        ];
        assert_eq!(error, None);
        assert_eq!(frames, expected);
        assert_eq!(last_ids_per_event(&frames), ["1", "1", "", "7", "7"]);
        assert_eq!(last, "9");
    }

    #[test]
    fn last_id_field_of_a_block_wins_and_a_nul_id_keeps_the_earlier_one() {
        let input = b"id: 1\nid: 2\nid: x\x00\ndata: a\n\n";
        assert_eq!(parse(input), vec![event(Some("2"), None, "a")]);
    }

    #[test]
    fn block_without_data_or_id_dispatches_nothing() {
        assert_eq!(parse(b"event: x\n\nid: a\x00\n\nretry: x\n\n\n\n"), vec![]);
    }

    #[test]
    fn event_type_is_per_block_last_wins_and_empty_means_default() {
        let input = b"event: a\nevent: b\ndata: 1\n\ndata: 2\n\nevent: c\nevent:\ndata: 3\n\n";
        let expected = vec![event(None, Some("b"), "1"), message("2"), message("3")];
        assert_eq!(parse(input), expected);
    }

    #[test]
    fn event_type_of_a_block_without_data_does_not_leak() {
        assert_eq!(parse(b"event: x\n\ndata: 1\n\n"), vec![message("1")]);
    }

    #[test]
    fn comments_unknown_fields_and_other_cases_are_ignored() {
        let input = b": hi\ndata: a\n:\nfoo: b\nDATA: c\n data: d\n\n";
        assert_eq!(parse(input), vec![message("a")]);
    }

    #[test]
    fn retry_needs_all_ascii_digits() {
        let input = b"retry: 3000\nretry: 30x\nretry:\nretry: -1\nretry:  5\nretry: 1.5\n\n";
        assert_eq!(parse(input), vec![Frame::Retry(3000)]);
        assert_eq!(parse(b"retry:0\n"), vec![Frame::Retry(0)]);
    }

    #[test]
    fn retry_beyond_u64_saturates() {
        let input = b"retry: 99999999999999999999999\n";
        assert_eq!(parse(input), vec![Frame::Retry(u64::MAX)]);
    }

    #[test]
    fn retry_is_yielded_before_the_event_of_its_block() {
        let input = b"data: a\nretry: 5\ndata: b\n\n";
        assert_eq!(parse(input), vec![Frame::Retry(5), message("a\nb")]);
    }

    #[test]
    fn incomplete_event_at_end_of_body_is_discarded() {
        let (frames, _, last) = parse_reads(DEFAULT_MAX_LINE, &[b"data: a\n\nid: 5\ndata: b\n"]);
        assert_eq!(frames, vec![message("a")]);
        assert_eq!(last, "");
        let (frames, _, _) = parse_reads(DEFAULT_MAX_LINE, &[b"data: a\n\ndata: b"]);
        assert_eq!(frames, vec![message("a")]);
    }

    #[test]
    fn finish_discards_the_block_but_keeps_last_event_id() {
        let mut parser = Parser::default();
        let mut frames = Vec::new();
        let body = b"id: 4\ndata: a\n\nevent: x\ndata: b\n";
        assert_eq!(parser.feed(body, &mut frames), Ok(()));
        parser.finish(&mut frames);
        assert_eq!(parser.feed(b"data: c\n\n", &mut frames), Ok(()));
        assert_eq!(frames, vec![event(Some("4"), None, "a"), message("c")]);
        assert_eq!(parser.last_event_id(), "4");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let input = b"data: a\xFFb\xE2\x82\n\n";
        assert_eq!(parse(input), vec![message("a\u{FFFD}b\u{FFFD}")]);
    }

    #[test]
    fn valid_and_invalid_utf8_split_across_reads_decode_exactly() {
        // Valid lines take the `from_utf8` path, lines with bad bytes the lossy one.
        let reads: [&[u8]; 4] = [
            b"data: caf\xC3",
            b"\xA9\ndata: bad \xE2\x82",
            b" \xFF end\nid: \xF0\x9F",
            b"\xA6\x80\nevent: t\xC3\n\n",
        ];
        let (frames, error, last) = parse_reads(DEFAULT_MAX_LINE, &reads);
        let expected = event(
            Some("🦀"),
            Some("t\u{FFFD}"),
            "café\nbad \u{FFFD} \u{FFFD} end",
        );
        assert_eq!((frames, error), (vec![expected], None));
        assert_eq!(last, "🦀");
    }

    #[test]
    fn multibyte_character_split_across_reads_survives() {
        let reads: [&[u8]; 2] = [b"data: \xC3", b"\xA9\n\n"];
        assert_eq!(parse_reads(DEFAULT_MAX_LINE, &reads).0, vec![message("é")]);
    }

    #[test]
    fn line_at_the_limit_passes_and_one_byte_more_is_refused() {
        let (frames, error, _) = parse_reads(8, &[b"data: 12\n\n"]);
        assert_eq!((frames, error), (vec![message("12")], None));

        let (frames, error, _) = parse_reads(8, &[b"data: 1\n\ndata: 123\n\n"]);
        assert_eq!(frames, vec![message("1")]);
        assert_eq!(error, Some(ParseError::LineTooLong { limit: 8 }));
    }

    #[test]
    fn long_line_across_reads_is_refused_without_buffering_past_the_limit() {
        let mut parser = Parser::new(10);
        let mut frames = Vec::new();
        for _ in 0..3 {
            assert_eq!(parser.feed(b"aaa", &mut frames), Ok(()));
            assert!(parser.line.capacity() <= 10);
        }
        let error = parser.feed(b"aa", &mut frames);
        assert_eq!(error, Err(ParseError::LineTooLong { limit: 10 }));
        assert_eq!(parser.line.capacity(), 0);
    }

    #[test]
    fn huge_read_is_refused_without_copying_it() {
        let mut parser = Parser::new(1024);
        let mut frames = Vec::new();
        let error = parser.feed(&vec![b'a'; 64 * 1024], &mut frames);
        assert_eq!(error, Err(ParseError::LineTooLong { limit: 1024 }));
        assert_eq!(parser.line.capacity(), 0);

        let mut parser = Parser::new(1024);
        let mut huge_line = vec![b'a'; 64 * 1024];
        huge_line.push(b'\n');
        let error = parser.feed(&huge_line, &mut frames);
        assert_eq!(error, Err(ParseError::LineTooLong { limit: 1024 }));
        assert_eq!(parser.line.capacity(), 0);
    }

    #[test]
    fn event_data_over_the_limit_is_refused_without_growing_past_it() {
        let (frames, error, _) = parse_reads(10, &[b"data:12345\ndata:1234\n\n"]);
        assert_eq!((frames, error), (vec![message("12345\n1234")], None));
        let (frames, error, _) = parse_reads(10, &[b"data:12345\ndata:12345\n\n"]);
        assert_eq!(
            (frames, error),
            (vec![], Some(ParseError::EventTooLarge { limit: 10 }))
        );

        let mut parser = Parser::new(100);
        let mut frames = Vec::new();
        for _ in 0..50 {
            assert_eq!(parser.feed(b"data: x\n", &mut frames), Ok(()));
            assert!(parser.data.capacity() <= 101);
        }
        let error = parser.feed(b"data: x\n", &mut frames);
        assert_eq!(error, Err(ParseError::EventTooLarge { limit: 100 }));
        assert_eq!(parser.data.capacity(), 0);
        assert_eq!(frames, vec![]);
    }

    #[test]
    fn failed_parser_refuses_input_until_finish() {
        let mut parser = Parser::new(4);
        let mut frames = Vec::new();
        let error = Err(ParseError::LineTooLong { limit: 4 });
        assert_eq!(parser.feed(b"data: 1\n\n", &mut frames), error);
        assert_eq!(parser.feed(b"\n", &mut frames), error);

        parser.finish(&mut frames);
        assert_eq!(parser.feed(b"id:3\n\n", &mut frames), Ok(()));
        assert_eq!(frames, vec![Frame::LastEventId("3".to_owned())]);
    }

    #[test]
    fn long_buffered_line_does_not_pin_its_capacity() {
        let mut parser = Parser::default();
        let mut frames = Vec::new();
        let long = vec![b'a'; 100 * 1024];
        assert_eq!(parser.feed(b"data: ", &mut frames), Ok(()));
        assert_eq!(parser.feed(&long, &mut frames), Ok(()));
        assert_eq!(parser.feed(b"\n\n", &mut frames), Ok(()));
        assert_eq!(frames.len(), 1);
        assert!(parser.line.capacity() <= RETAINED_LINE_CAPACITY);
    }

    /// Byte soup biased towards what the parser cares about.
    fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            4 => prop::sample::select(vec![
                &b"data"[..], b"id", b"event", b"retry", b":", b" ", b"\r", b"\n", b"\r\n",
                b"\xEF\xBB\xBF", b"\xEF", b"\xBB", b"\0", b"12", b"x", b"\xC3\xA9",
            ])
            .prop_map(<[u8]>::to_vec),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ];
        prop::collection::vec(token, 0..64).prop_map(|tokens| tokens.concat())
    }

    /// The input cut at the given points (sorted; repeats give empty reads).
    fn split_at_points(input: &[u8], mut points: Vec<usize>) -> Vec<&[u8]> {
        points.iter_mut().for_each(|p| *p %= input.len() + 1);
        points.sort_unstable();
        let mut reads = Vec::new();
        let mut start = 0;
        for point in points {
            reads.push(&input[start..point]);
            start = point;
        }
        reads.push(&input[start..]);
        reads
    }

    proptest! {
        #[test]
        fn frames_do_not_depend_on_read_boundaries(
            input in stream_bytes(),
            points in prop::collection::vec(any::<usize>(), 0..12),
        ) {
            let one_shot = parse_reads(DEFAULT_MAX_LINE, &[&input]);
            let split = parse_reads(DEFAULT_MAX_LINE, &split_at_points(&input, points));
            prop_assert_eq!(split, one_shot);
        }

        #[test]
        fn limit_errors_do_not_depend_on_read_boundaries(
            input in stream_bytes(),
            points in prop::collection::vec(any::<usize>(), 0..12),
            max in 0usize..24,
        ) {
            let one_shot = parse_reads(max, &[&input]);
            let split = parse_reads(max, &split_at_points(&input, points));
            prop_assert_eq!(split, one_shot);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            input in prop::collection::vec(any::<u8>(), 0..512),
            points in prop::collection::vec(any::<usize>(), 0..8),
            max in prop_oneof![Just(DEFAULT_MAX_LINE), 0usize..64],
        ) {
            parse_reads(max, &split_at_points(&input, points));
        }

        #[test]
        fn buffers_stay_within_the_limit(
            input in stream_bytes(),
            points in prop::collection::vec(any::<usize>(), 0..12),
            max in 0usize..24,
        ) {
            let mut parser = Parser::new(max);
            let mut frames = Vec::new();
            for read in split_at_points(&input, points) {
                let _ = parser.feed(read, &mut frames);
                prop_assert!(parser.line.capacity() <= max.max(RETAINED_LINE_CAPACITY));
                prop_assert!(parser.line.len() <= max);
                prop_assert!(parser.data.len() <= max + 1);
            }
        }
    }
}
