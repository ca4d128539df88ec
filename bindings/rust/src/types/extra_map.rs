//! Deserialization of the streamed types without `#[serde(flatten)]`'s cost.
//!
//! With `flatten`, serde first buffers every member of the object as a generic value and then
//! reads the fields out of that buffer; for a plain content chunk that was most of the binding's
//! time per chunk (about 2 µs). The hand-written visitor here reads each member once: a known
//! field straight into its type, anything else into `extra`. The semantics are those of the
//! derived code: missing fields take their defaults, `null` is `None` for `Option` fields, a
//! wrong type is an error. A repeated key keeps its first value, as libanyllm's own reader does.
//! (Serialization stays derived, with `flatten`: it is not on the hot path.)

/// Implements `Deserialize` for a struct with `Default`, named fields and `extra: Map<String, Value>`.
macro_rules! deserialize_with_extra {
    ($ty:ident, $what:literal, { $($field:ident),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const FIELDS: &[&str] = &[$(stringify!($field)),*];
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = <$ty>::default();
                        let mut seen: u64 = 0;
                        while let Some(key) = map.next_key_seed($crate::types::extra_map::Key(FIELDS))? {
                            match key {
                                Ok(i) => {
                                    if seen & (1 << i) != 0 {
                                        map.next_value::<serde::de::IgnoredAny>()?;
                                        continue;
                                    }
                                    seen |= 1 << i;
                                    let mut n = 0usize;
                                    $(
                                        if n == i {
                                            out.$field = map.next_value()?;
                                            continue;
                                        }
                                        n += 1;
                                    )*
                                    let _ = n;
                                    unreachable!("field index out of range");
                                }
                                Err(name) => {
                                    let v: serde_json::Value = map.next_value()?;
                                    out.extra.entry(name).or_insert(v);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}
pub(crate) use deserialize_with_extra;

/// Reads an object key: the index of a known field (no allocation), or the key itself.
pub(crate) struct Key(pub &'static [&'static str]);

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = Result<usize, String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key {
    type Value = Result<usize, String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|f| *f == s).ok_or_else(|| s.to_owned()))
    }
}
