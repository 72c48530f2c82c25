//! The Server-Sent Events codec: upstream bytes are parsed by the WHATWG event-stream rules
//! (HTML Living Standard, sections 9.2.5 and 9.2.6) into [`Frame`]s, and frames are
//! written back out in one canonical form with LF terminators only.
//!
//! The parser ([`Parser`]) is incremental and gives the same frames however the upstream body is
//! split into reads; the encoders ([`encode_event`] and friends) can never emit a raw CR or LF
//! inside a field, so a frame always re-encodes as whole lines.

mod encode;
mod parse;

use std::fmt;

pub use encode::{encode_comment, encode_event, encode_frame, encode_last_event_id, encode_retry};
pub use parse::{DEFAULT_MAX_LINE, Parser};

/// One dispatched event: a block that had at least one `data` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `Some` when this block had a valid `id` field (the last one wins); `Some("")` resets
    /// the last event ID. `None` means the last event ID is unchanged.
    pub id: Option<String>,
    /// The event type; `None` is the default type `message` (an empty `event:` value also
    /// means the default).
    pub event_type: Option<String>,
    /// The data lines joined with LF, without a trailing LF. Never contains CR.
    pub data: String,
}

/// What the parser yields, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A block with data was dispatched.
    Event(Event),
    /// A block ended with no data but set the last event ID (case C08). It must be forwarded
    /// so that a client reconnecting afterwards sends this ID.
    LastEventId(String),
    /// A `retry:` field whose value is all ASCII digits: the reconnection time in
    /// milliseconds (saturating at `u64::MAX`). Yielded as soon as the line is read, as the
    /// spec applies it at once rather than at dispatch.
    Retry(u64),
}

/// Why the parser refused a stream. Both keep memory bounded against a hostile upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// A line, without its terminator, is longer than `limit` bytes.
    LineTooLong {
        /// The configured maximum, in bytes.
        limit: usize,
    },
    /// An event's data (LF-joined, as it would be dispatched) is longer than `limit` bytes.
    EventTooLarge {
        /// The configured maximum, in bytes.
        limit: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => {
                write!(f, "event stream line longer than {limit} bytes")
            }
            Self::EventTooLarge { limit } => {
                write!(f, "event stream event data longer than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_display_their_limit() {
        assert_eq!(
            ParseError::LineTooLong { limit: 10 }.to_string(),
            "event stream line longer than 10 bytes"
        );
        assert_eq!(
            ParseError::EventTooLarge { limit: 7 }.to_string(),
            "event stream event data longer than 7 bytes"
        );
    }
}
