//! The demo's events as `text/event-stream` bytes (WHATWG HTML §9.2.6 "Server-sent events").

use bytes::Bytes;

/// A timer event: `id: N`, `event: tick`, and one line of JSON naming the stream and tenant.
pub(crate) fn tick(id: u64, stream: &str, tenant: Option<&str>) -> Bytes {
    let tenant = tenant.map_or_else(|| "null".to_owned(), json_string);
    let stream = json_string(stream);
    let text = format!(
        "id: {id}\nevent: tick\ndata: {{\"n\":{id},\"stream\":{stream},\"tenant\":{tenant}}}\n\n"
    );
    Bytes::from(text)
}

/// A published event. Each line of `data` becomes its own `data:` field, since a raw line
/// break inside a field would end it; CRLF, LF and CR all count as breaks, as a parser sees them.
pub(crate) fn message(id: u64, event: &str, data: &str) -> Bytes {
    let mut text = format!("id: {id}\nevent: {event}\n");
    for line in data.split("\r\n").flat_map(|part| part.split(['\r', '\n'])) {
        // Always one space after the colon: a parser strips exactly one, so a line that
        // starts with a space keeps it (WHATWG "process the field").
        text.push_str("data: ");
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    Bytes::from(text)
}

/// `value` as a JSON string literal (RFC 8259 §7): quotes, backslashes and control
/// characters escaped, everything else as is.
pub(crate) fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_names_stream_and_tenant() {
        let event = tick(7, "orders", Some("acme"));
        let expected =
            "id: 7\nevent: tick\ndata: {\"n\":7,\"stream\":\"orders\",\"tenant\":\"acme\"}\n\n";
        assert_eq!(event, expected);
    }

    #[test]
    fn tick_without_tenant_says_null() {
        let event = tick(1, "a", None);
        assert_eq!(
            event,
            "id: 1\nevent: tick\ndata: {\"n\":1,\"stream\":\"a\",\"tenant\":null}\n\n"
        );
    }

    #[test]
    fn tick_escapes_quotes_in_names() {
        let event = tick(2, "a\"b", Some("t\\x"));
        let expected =
            "id: 2\nevent: tick\ndata: {\"n\":2,\"stream\":\"a\\\"b\",\"tenant\":\"t\\\\x\"}\n\n";
        assert_eq!(event, expected);
    }

    #[test]
    fn message_on_one_line_is_one_data_field() {
        let event = message(3, "message", "{\"a\":1}");
        assert_eq!(event, "id: 3\nevent: message\ndata: {\"a\":1}\n\n");
    }

    #[test]
    fn message_lines_split_on_every_terminator() {
        let event = message(4, "order.created", "{\r\n \"a\": 1,\r\"b\": 2\n}");
        let expected =
            "id: 4\nevent: order.created\ndata: {\ndata:  \"a\": 1,\ndata: \"b\": 2\ndata: }\n\n";
        assert_eq!(event, expected);
    }

    #[test]
    fn empty_message_has_one_empty_data_field() {
        assert_eq!(
            message(5, "message", ""),
            "id: 5\nevent: message\ndata: \n\n"
        );
    }

    #[test]
    fn json_string_escapes_control_characters() {
        assert_eq!(json_string("a\u{1}\t\u{0}é"), "\"a\\u0001\\t\\u0000é\"");
    }
}
