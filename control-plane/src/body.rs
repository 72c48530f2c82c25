//! JSON objects as the control plane stores and serves them: top-level fields in a sorted map,
//! each value kept verbatim, so nested maps whose order matters to the node (upstream headers,
//! event mappings) keep the order the client wrote.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

/// A JSON object's fields, each value as written.
pub type Fields = BTreeMap<String, Box<RawValue>>;

/// Why a body is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON at all (a 400).
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// JSON, but not an object (a 422 at the root).
    #[error("the body must be a JSON object")]
    NotAnObject,
}

/// Reads `bytes` as a JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Fields, BodyError> {
    let value: Box<RawValue> =
        serde_json::from_slice(bytes).map_err(|e| BodyError::Malformed(e.to_string()))?;
    if !value.get().trim_start().starts_with('{') {
        return Err(BodyError::NotAnObject);
    }
    serde_json::from_str(value.get()).map_err(|e| BodyError::Malformed(e.to_string()))
}

/// Reads stored text back as fields; stored text was written by [`to_text`].
pub fn from_text(text: &str) -> Result<Fields, serde_json::Error> {
    serde_json::from_str(text)
}

/// The fields as compact JSON object text.
pub fn to_text(fields: &Fields) -> String {
    // A map of strings to raw JSON always serializes.
    serde_json::to_string(fields).unwrap_or_else(|_| "{}".to_owned())
}

/// A value as raw JSON.
pub fn raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    // Invariant: callers pass strings, numbers, raw JSON and lists or string-keyed maps of
    // them, which always serialize.
    serde_json::value::to_raw_value(value).expect("string-keyed JSON values serialize")
}

/// Raw JSON text read back from the store.
pub fn raw_text(text: String) -> Result<Box<RawValue>, serde_json::Error> {
    RawValue::from_string(text)
}

/// The string a field holds, if it is a JSON string.
pub fn string_field(fields: &Fields, key: &str) -> Option<String> {
    fields
        .get(key)
        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_order_is_kept_and_top_level_sorted() {
        let fields = parse_object(br#"{"z": 1, "a": {"y": 1, "b": 2}}"#).unwrap();
        assert_eq!(to_text(&fields), r#"{"a":{"y": 1, "b": 2},"z":1}"#);
    }

    #[test]
    fn non_objects_and_bad_json_are_told_apart() {
        assert!(matches!(parse_object(b"[1]"), Err(BodyError::NotAnObject)));
        assert!(matches!(parse_object(b" 3"), Err(BodyError::NotAnObject)));
        assert!(matches!(parse_object(b"{"), Err(BodyError::Malformed(_))));
    }

    #[test]
    fn string_fields_are_read_only_when_strings() {
        let fields = parse_object(br#"{"kid": "k1", "n": 2}"#).unwrap();
        assert_eq!(string_field(&fields, "kid"), Some("k1".to_owned()));
        assert_eq!(string_field(&fields, "n"), None);
        assert_eq!(raw("x").get(), r#""x""#);
    }
}
