//! Names carried between AsyncAPI and Sluice: channel ids become route names, message and
//! schema ids become schema names, and each side's names become valid keys on the other.

/// Longest route name Sluice accepts.
const MAX_ROUTE_NAME: usize = 63;

/// A route name from a channel id or address: lower-case `a-z0-9_-`, a camel-case hump or
/// any other character becoming one `-` (`orderEvents` → `order-events`, `/orders/{id}` →
/// `orders-id`), starting with a letter or digit, at most 63 characters. `None` when
/// nothing usable is left.
pub(super) fn route_name(id: &str) -> Option<String> {
    let mut name = String::with_capacity(id.len());
    let mut previous_lower = false;
    for c in id.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            name.push('-');
        }
        match c.to_ascii_lowercase() {
            kept @ ('a'..='z' | '0'..='9' | '_' | '-') => name.push(kept),
            _ if name.ends_with('-') => {}
            _ => name.push('-'),
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    let name = name.trim_matches(|c| c == '-' || c == '_');
    let end = name.len().min(MAX_ROUTE_NAME);
    // Only ASCII was pushed, so every index is a character boundary.
    let name = name.get(..end)?.trim_end_matches(['-', '_']);
    (!name.is_empty()).then(|| name.to_owned())
}

/// Whether `name` is a valid tenant or route name: 1 to 63 of `a-z0-9_-`, starting with a
/// letter or digit.
pub(super) fn valid_name(name: &str) -> bool {
    let starts_well = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
    starts_well && name.len() <= MAX_ROUTE_NAME && name.bytes().all(allowed)
}

/// A key valid in AsyncAPI components and as a Sluice schema name: `A-Za-z0-9._-`, any
/// other character becoming `_`. An empty name becomes `schema`.
pub(super) fn component_key(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    if key.is_empty() { "schema".into() } else { key }
}

/// `base`, or `base_2`, `base_3`, … : the first that `taken` does not hold.
pub(super) fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| base.to_owned())
}

/// Whether `name` can be an SSE event type: not empty and free of CR, LF and NUL, which
/// would end or corrupt the `event:` line (WHATWG HTML, server-sent events, §9.2.6).
pub(super) fn valid_event_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['\r', '\n', '\0'])
}

/// Whether `scope` is a scope token (RFC 6749 §3.3: printable ASCII except space, `"`, `\`).
pub(super) fn valid_scope(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_names_are_lower_case_kebab() {
        let cases = [
            ("orders", Some("orders")),
            ("orderEvents", Some("order-events")),
            ("OrderEvents", Some("order-events")),
            ("/orders/{region}", Some("orders-region")),
            ("order.created v2", Some("order-created-v2")),
            ("__x__", Some("x")),
            ("HTTPStream", Some("httpstream")),
            ("{}/", None),
            ("", None),
        ];
        for (id, expected) in cases {
            assert_eq!(route_name(id).as_deref(), expected, "{id}");
        }
        let long = "a".repeat(70);
        assert_eq!(route_name(&long), Some("a".repeat(63)));
        assert_eq!(
            route_name(&format!("{}-b", "a".repeat(62))),
            Some("a".repeat(62))
        );
    }

    #[test]
    fn names_follow_the_tenant_and_route_rule() {
        for good in ["acme", "a_", "0-x"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "Acme", "_a", "a.b", &"a".repeat(64)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn component_keys_keep_dots_and_case() {
        assert_eq!(component_key("order.v2"), "order.v2");
        assert_eq!(component_key("orderCreated"), "orderCreated");
        assert_eq!(component_key("a/b c"), "a_b_c");
        assert_eq!(component_key("ordér"), "ord_r");
        assert_eq!(component_key(""), "schema");
    }

    #[test]
    fn unique_appends_the_first_free_number() {
        let taken = ["a", "a_2"];
        assert_eq!(unique("a", |n| taken.contains(&n)), "a_3");
        assert_eq!(unique("b", |n| taken.contains(&n)), "b");
    }

    #[test]
    fn event_names_and_scopes_are_checked() {
        assert!(valid_event_name("order.created"));
        assert!(valid_event_name("*"));
        assert!(!valid_event_name(""));
        assert!(!valid_event_name("a\nb"));
        assert!(valid_scope("orders:read"));
        assert!(!valid_scope("a b"));
        assert!(!valid_scope("a\"b"));
        assert!(!valid_scope(""));
    }
}
