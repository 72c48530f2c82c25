//! An event's data as the schema check reads it: a JSON document whose strings borrow from the
//! event's text wherever they hold no escape, so checking an event copies none of its text.
//!
//! A repeated member name keeps its last value, as in a `serde_json::Value`, so a check passes
//! or fails as it would against a `Value`. Member order cannot change whether an instance is
//! valid, so small objects keep document order rather than pay for sorting every event;
//! [`Instance::sort_members`] puts them in a `Value`'s order (its map is a `BTreeMap` in this
//! build) before an error is named, so the first error is the one a `Value` gives too.

use std::borrow::Cow;
use std::fmt;

use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use jsonschema::types::JsonType;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Objects with more members than this are sorted by name and searched; smaller ones are
/// scanned.
const SCANNED_MEMBERS: usize = 8;

/// The representation the event validators are compiled for.
#[derive(Debug)]
pub struct Borrowed;

/// One JSON value, borrowing from the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub enum Instance<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Instance<'a>>),
    /// Names unique. Sorted by name when there are more than [`SCANNED_MEMBERS`], else in
    /// document order until [`Instance::sort_members`].
    Object(Vec<Member<'a>>),
}

impl Instance<'_> {
    /// Puts every object's members in name order, as in a `serde_json::Value`.
    pub fn sort_members(&mut self) {
        match self {
            Instance::Array(elements) => elements.iter_mut().for_each(Instance::sort_members),
            Instance::Object(members) => {
                // Names are unique, so any sort gives the one order.
                members.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
                members
                    .iter_mut()
                    .for_each(|(_, value)| value.sort_members());
            }
            _ => {}
        }
    }
}

/// An object member: its name and value.
pub type Member<'a> = (Cow<'a, str>, Instance<'a>);

impl Json for Borrowed {
    type Node<'a> = &'a Instance<'a>;
    type PreparedKey = Box<str>;
    type StringBuffer = ();

    // A lookup compares whole names, one by one or (in a large object) by binary search;
    // a pass over the members beats it while there are at most two per lookup it replaces.
    const KEYS_PER_LOOKUP: usize = 2;
    // A parsed document is a tree.
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> Box<str> {
        key.into()
    }

    fn with_string_node<T>((): &mut (), string: &str, f: impl FnOnce(Self::Node<'_>) -> T) -> T {
        f(&Instance::String(Cow::Borrowed(string)))
    }
}

impl<'a> Node<'a, Borrowed> for &'a Instance<'a> {
    type Object = Members<'a>;
    type Array = Elements<'a>;
    type Number = &'a Number;

    fn as_object(&self) -> Option<Members<'a>> {
        match self {
            Instance::Object(members) => Some(Members(members)),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<Elements<'a>> {
        match self {
            Instance::Array(elements) => Some(Elements(elements)),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Instance::String(string) => Some(Cow::Borrowed(string)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self {
            Instance::Number(number) => Some(number),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self {
            Instance::Bool(boolean) => Some(*boolean),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Instance::Null)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Instance::Null => JsonType::Null,
            Instance::Bool(_) => JsonType::Boolean,
            Instance::Number(_) => JsonType::Number,
            Instance::String(_) => JsonType::String,
            Instance::Array(_) => JsonType::Array,
            Instance::Object(_) => JsonType::Object,
        }
    }

    /// Scalars (the usual `enum` and `const` values) compare without building a `Value`.
    fn equals_value(&self, expected: &Value) -> bool {
        match (self, expected) {
            (Instance::Null, Value::Null) => true,
            (Instance::Bool(left), Value::Bool(right)) => left == right,
            (Instance::Number(left), Value::Number(right)) => {
                jsonschema::json::cmp::equal_numbers(&left, right)
            }
            (Instance::String(left), Value::String(right)) => left == right,
            (Instance::Array(_), Value::Array(_)) | (Instance::Object(_), Value::Object(_)) => {
                jsonschema::json::cmp::equal(&self.to_value(), expected)
            }
            _ => false,
        }
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(Value::from(*self))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Instance<'_>>(self) as usize
        ))
    }
}

/// An object's members, for the validator.
#[derive(Debug, Clone, Copy)]
pub struct Members<'a>(&'a [Member<'a>]);

impl<'a> Object<'a, Borrowed> for Members<'a> {
    type Node = &'a Instance<'a>;
    type MemberName = &'a str;
    type MembersIter = MembersIter<'a>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, key: &Box<str>) -> Option<&'a Instance<'a>> {
        let key: &str = key;
        if self.0.len() <= SCANNED_MEMBERS {
            let (_, value) = self.0.iter().find(|(name, _)| name == key)?;
            return Some(value);
        }
        let at = self
            .0
            .binary_search_by(|(name, _)| (**name).cmp(key))
            .ok()?;
        Some(&self.0[at].1)
    }

    fn members(&self) -> MembersIter<'a> {
        MembersIter(self.0.iter())
    }
}

/// Members in the object's order (see [`Instance::Object`]).
#[derive(Debug)]
pub struct MembersIter<'a>(std::slice::Iter<'a, Member<'a>>);

impl<'a> Iterator for MembersIter<'a> {
    type Item = (&'a str, &'a Instance<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(name, value)| (&**name, value))
    }
}

/// An array's elements, for the validator.
#[derive(Debug, Clone, Copy)]
pub struct Elements<'a>(&'a [Instance<'a>]);

impl<'a> Array<'a, Borrowed> for Elements<'a> {
    type Node = &'a Instance<'a>;
    type ElementsIter = std::slice::Iter<'a, Instance<'a>>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn elements(&self) -> Self::ElementsIter {
        self.0.iter()
    }
}

/// For error reports and the rare keyword that compares whole containers.
impl From<&Instance<'_>> for Value {
    fn from(instance: &Instance<'_>) -> Value {
        match instance {
            Instance::Null => Value::Null,
            Instance::Bool(boolean) => Value::Bool(*boolean),
            Instance::Number(number) => Value::Number(number.clone()),
            Instance::String(string) => Value::String(string.clone().into_owned()),
            Instance::Array(elements) => elements.iter().map(Value::from).collect(),
            Instance::Object(members) => {
                let members = members.iter().map(|(name, value)| {
                    let name: String = name.clone().into_owned();
                    (name, Value::from(value))
                });
                Value::Object(members.collect::<Map<_, _>>())
            }
        }
    }
}

impl<'de> Deserialize<'de> for Instance<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InstanceVisitor)
    }
}

/// Builds an [`Instance`] the way `serde_json::Value`'s own visitor builds a `Value`.
struct InstanceVisitor;

impl<'de> Visitor<'de> for InstanceVisitor {
    type Value = Instance<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Instance<'de>, E> {
        Ok(Instance::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Instance<'de>, E> {
        Ok(Instance::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Instance<'de>, E> {
        Ok(Instance::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Instance<'de>, E> {
        // As `Value` does; serde_json's parser never yields a non-finite number.
        Ok(Number::from_f64(value).map_or(Instance::Null, Instance::Number))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Instance<'de>, E> {
        Ok(Instance::String(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Instance<'de>, E> {
        Ok(Instance::String(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Instance<'de>, E> {
        Ok(Instance::String(Cow::Owned(value)))
    }

    fn visit_unit<E>(self) -> Result<Instance<'de>, E> {
        Ok(Instance::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Instance<'de>, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(element) = seq.next_element()? {
            elements.push(element);
        }
        Ok(Instance::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Instance<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(Name(name)) = map.next_key()? {
            members.push((name, map.next_value()?));
        }
        Ok(Instance::Object(unique_members(members)))
    }
}

/// Drops repeated names, keeping the last value as `Map::insert` does, and sorts an object too
/// large to scan.
fn unique_members(mut members: Vec<Member<'_>>) -> Vec<Member<'_>> {
    if members.len() > SCANNED_MEMBERS {
        return sorted_members(members);
    }
    let mut i = 1;
    while i < members.len() {
        match members[..i]
            .iter()
            .position(|(name, _)| *name == members[i].0)
        {
            Some(first) => members[first].1 = members.remove(i).1,
            None => i += 1,
        }
    }
    members
}

/// Sorts members by name; of repeated names the last value stays.
fn sorted_members(mut members: Vec<Member<'_>>) -> Vec<Member<'_>> {
    // Stable, so repeated names stay in document order for the dedup below.
    members.sort_by(|(a, _), (b, _)| a.cmp(b));
    members.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        std::mem::swap(&mut later.1, &mut kept.1);
        true
    });
    members
}

/// A member name, borrowed when it holds no escape.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object member name")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(value)))
    }
}

#[cfg(test)]
mod tests {
    use jsonschema::Validator;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Schemas touching every kind of node access: lookups, member scans, name nodes, lengths,
    /// numbers, and the `Value` comparisons behind `enum`, `const` and `uniqueItems`.
    fn schemas() -> Vec<Value> {
        vec![
            json!({"type": "object", "required": ["a", "b"],
                   "properties": {"a": {"type": "integer", "minimum": 0},
                                  "b": {"type": "string"}}}),
            json!({"additionalProperties": {"type": ["integer", "array"]},
                   "patternProperties": {"^b": {"type": "string", "maxLength": 2}}}),
            json!({"propertyNames": {"enum": ["a", "b", "c"]}, "minProperties": 2}),
            json!({"items": {"enum": [1, "a", null, [1], {"a": 1}]}, "uniqueItems": true}),
            json!({"contains": {"const": {"a": [1, 2.0]}}, "maxItems": 4}),
            json!({"anyOf": [{"type": "number", "multipleOf": 0.5}, {"type": "boolean"},
                             {"type": "object", "dependentRequired": {"a": ["b"]}}]}),
            json!({"properties": {"a": {"$ref": "#"}}, "unevaluatedProperties": false,
                   "patternProperties": {"^[bc]": true}}),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3i64..4).prop_map(Value::from),
            prop::sample::select(vec![0.5, 1.0, 2.0, -1.5, 1e300]).prop_map(Value::from),
            "[abc\"é]{0,3}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec(("[abc]{1,2}", inner), 0..12)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// `{"a": …, "a": …}` keeps the last value in a `Value`; written out by hand to repeat names.
    fn with_repeated_name(value: &Value, repeat: &Value) -> String {
        match value {
            Value::Object(members) if !members.is_empty() => {
                let text = value.to_string();
                let (name, _) = members.iter().next().expect("not empty");
                format!("{{{}:{repeat},{}", json!(name), &text[1..])
            }
            _ => value.to_string(),
        }
    }

    proptest! {
        #[test]
        fn checks_agree_with_a_value_validator(
            value in json_value(),
            earlier in json_value(),
            pretty: bool,
        ) {
            let text = match pretty {
                true => serde_json::to_string_pretty(&value).expect("serialises"),
                false => with_repeated_name(&value, &earlier),
            };
            let reference_value: Value = serde_json::from_str(&text).expect("valid JSON");
            let mut instance: Instance<'_> = serde_json::from_str(&text).expect("valid JSON");
            for schema in schemas() {
                let reference = Validator::new(&schema).expect("compiles");
                let ours = jsonschema::options_for::<Borrowed>().build(&schema).expect("compiles");
                prop_assert_eq!(
                    ours.is_valid(&instance),
                    reference.is_valid(&reference_value),
                    "{} against {}", text, schema
                );
                let first_error = |error: jsonschema::ValidationError<'_>| {
                    (error.kind().keyword().to_owned(), error.instance_path().to_string())
                };
                instance.sort_members();
                prop_assert_eq!(
                    ours.validate(&instance).map_err(first_error),
                    reference.validate(&reference_value).map_err(first_error),
                    "{} against {}", text, schema
                );
            }
        }
    }
}
