//! A serializer that only checks: does a value hold a non-finite float?
//! JSON has no NaN or infinity, and `serde_json` writes them as `null`,
//! silently changing the data; requests refuses them (`allow_nan=False`).
//! No crate offers this check, so it is a small `Serializer` that walks
//! the value and fails at the first NaN or infinity.

use std::fmt;

use serde::ser::{self, Serialize};

/// The check: `value.serialize(Finite)` is `Ok` when every float is finite.
pub(crate) struct Finite;

/// The first non-finite float, or a serializer's own error.
#[derive(Debug)]
pub(crate) struct NotFinite(String);

impl fmt::Display for NotFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFinite {}

impl ser::Error for NotFinite {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        NotFinite(msg.to_string())
    }
}

type R = Result<(), NotFinite>;

fn float(v: f64) -> R {
    if v.is_finite() {
        Ok(())
    } else {
        Err(NotFinite(format!(
            "{v} is not a JSON number (NaN and infinities cannot be sent)"
        )))
    }
}

macro_rules! fine {
    ($($name:ident: $t:ty),*) => {$(
        fn $name(self, _: $t) -> R { Ok(()) }
    )*};
}

impl ser::Serializer for Finite {
    type Ok = ();
    type Error = NotFinite;
    type SerializeSeq = Finite;
    type SerializeTuple = Finite;
    type SerializeTupleStruct = Finite;
    type SerializeTupleVariant = Finite;
    type SerializeMap = Finite;
    type SerializeStruct = Finite;
    type SerializeStructVariant = Finite;

    fine!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8]);

    fn serialize_f32(self, v: f32) -> R {
        float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R {
        float(v)
    }
    fn serialize_none(self) -> R {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> R {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Finite, NotFinite> {
        Ok(Finite)
    }
    fn serialize_tuple(self, _: usize) -> Result<Finite, NotFinite> {
        Ok(Finite)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Finite, NotFinite> {
        Ok(Finite)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Finite, NotFinite> {
        Ok(Finite)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Finite, NotFinite> {
        Ok(Finite)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Finite, NotFinite> {
        Ok(Finite)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Finite, NotFinite> {
        Ok(Finite)
    }
}

/// One impl body for every compound kind: check each element.
macro_rules! compound {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Finite {
            type Ok = ();
            type Error = NotFinite;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
                v.serialize(Finite)
            }
            fn end(self) -> R {
                Ok(())
            }
        }
    )*};
}

compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Finite {
    type Ok = ();
    type Error = NotFinite;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> R {
        k.serialize(Finite)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(Finite)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStruct for Finite {
    type Ok = ();
    type Error = NotFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, v: &T) -> R {
        v.serialize(Finite)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Finite {
    type Ok = ();
    type Error = NotFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, v: &T) -> R {
        v.serialize(Finite)
    }
    fn end(self) -> R {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn finds_non_finite_floats_anywhere() {
        assert!(1.5f64.serialize(Finite).is_ok());
        assert!(vec![Some(1.0f32), None].serialize(Finite).is_ok());
        assert!(f64::NAN.serialize(Finite).is_err());
        assert!(vec![vec![1.0, f64::INFINITY]].serialize(Finite).is_err());
        let mut m = BTreeMap::new();
        m.insert("a", (1u8, Some(f32::NEG_INFINITY)));
        assert!(m.serialize(Finite).is_err());
        assert!(
            serde_json::json!({"x": [1, 2.5, "s", null]})
                .serialize(Finite)
                .is_ok()
        );
    }
}
