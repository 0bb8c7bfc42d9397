//! Variable-length lists in a model file without a heap.
//!
//! * [`F32s`] and [`U16s`] — little-endian numbers borrowed from the file (`&[u8]`, decoded
//!   zero-copy), or borrowed from the caller's `&[f32]` / `&[u16]` when encoding. On the wire both
//!   are postcard byte strings: a varint length, then the raw little-endian bytes.
//! * [`Bounded`] — a short list (hidden widths, metrics) held inline with a fixed capacity; on
//!   the wire a postcard sequence.

use core::fmt;
use core::marker::PhantomData;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

/// `f32` values: little-endian bytes from a model file, or native values to encode.
#[derive(Clone, Copy)]
pub enum F32s<'a> {
    /// Little-endian bytes (a decoded file); the length is checked by the decoder.
    Le(&'a [u8]),
    /// Native values (for encoding).
    Native(&'a [f32]),
}

impl<'a> F32s<'a> {
    /// Number of values (whole 4-byte groups).
    pub fn len(&self) -> usize {
        match self {
            F32s::Le(b) => b.len() / 4,
            F32s::Native(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes on the wire (without the length prefix).
    pub(crate) fn byte_len(&self) -> usize {
        match self {
            F32s::Le(b) => b.len(),
            F32s::Native(v) => 4 * v.len(),
        }
    }

    /// The values in order.
    pub fn iter(&self) -> F32Iter<'a> {
        match *self {
            F32s::Le(b) => F32Iter::Le(b.chunks_exact(4)),
            F32s::Native(v) => F32Iter::Native(v.iter()),
        }
    }

    /// Value `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<f32> {
        match self {
            F32s::Le(b) => b
                .get(4 * i..4 * i + 4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            F32s::Native(v) => v.get(i).copied(),
        }
    }

    /// The values as an array, if there are exactly `N`.
    pub fn to_array<const N: usize>(&self) -> Option<[f32; N]> {
        if self.len() != N || self.byte_len() != 4 * N {
            return None;
        }
        let mut out = [0.0; N];
        for (o, v) in out.iter_mut().zip(self.iter()) {
            *o = v;
        }
        Some(out)
    }
}

/// Iterator over [`F32s`].
#[derive(Clone, Debug)]
pub enum F32Iter<'a> {
    /// Over little-endian bytes.
    Le(core::slice::ChunksExact<'a, u8>),
    /// Over native values.
    Native(core::slice::Iter<'a, f32>),
}

impl Iterator for F32Iter<'_> {
    type Item = f32;
    #[inline]
    fn next(&mut self) -> Option<f32> {
        match self {
            F32Iter::Le(c) => c
                .next()
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            F32Iter::Native(v) => v.next().copied(),
        }
    }
}

impl PartialEq for F32s<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.byte_len() == other.byte_len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl fmt::Debug for F32s<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for F32s<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            F32s::Le(b) => s.serialize_bytes(b),
            F32s::Native(v) => {
                // A byte sequence encodes exactly like a byte string in postcard.
                let mut seq = s.serialize_seq(Some(4 * v.len()))?;
                for x in v.iter() {
                    for byte in x.to_le_bytes() {
                        seq.serialize_element(&byte)?;
                    }
                }
                seq.end()
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for F32s<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de [u8]>::deserialize(d).map(F32s::Le)
    }
}

/// `u16` values: little-endian bytes from a model file, or native values to encode.
#[derive(Clone, Copy)]
pub enum U16s<'a> {
    /// Little-endian bytes (a decoded file).
    Le(&'a [u8]),
    /// Native values (for encoding).
    Native(&'a [u16]),
}

impl<'a> U16s<'a> {
    /// Number of values (whole 2-byte groups).
    pub fn len(&self) -> usize {
        match self {
            U16s::Le(b) => b.len() / 2,
            U16s::Native(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes on the wire (without the length prefix).
    pub(crate) fn byte_len(&self) -> usize {
        match self {
            U16s::Le(b) => b.len(),
            U16s::Native(v) => 2 * v.len(),
        }
    }

    /// The values in order.
    pub fn iter(&self) -> U16Iter<'a> {
        match *self {
            U16s::Le(b) => U16Iter::Le(b.chunks_exact(2)),
            U16s::Native(v) => U16Iter::Native(v.iter()),
        }
    }

    /// Value `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<u16> {
        match self {
            U16s::Le(b) => b
                .get(2 * i..2 * i + 2)
                .map(|c| u16::from_le_bytes([c[0], c[1]])),
            U16s::Native(v) => v.get(i).copied(),
        }
    }

    /// Values `start..start + len` (empty where out of range).
    pub fn window(&self, start: usize, len: usize) -> U16s<'a> {
        match *self {
            U16s::Le(b) => U16s::Le(b.get(2 * start..2 * (start + len)).unwrap_or(&[])),
            U16s::Native(v) => U16s::Native(v.get(start..start + len).unwrap_or(&[])),
        }
    }
}

/// Iterator over [`U16s`].
#[derive(Clone, Debug)]
pub enum U16Iter<'a> {
    /// Over little-endian bytes.
    Le(core::slice::ChunksExact<'a, u8>),
    /// Over native values.
    Native(core::slice::Iter<'a, u16>),
}

impl Iterator for U16Iter<'_> {
    type Item = u16;
    #[inline]
    fn next(&mut self) -> Option<u16> {
        match self {
            U16Iter::Le(c) => c.next().map(|c| u16::from_le_bytes([c[0], c[1]])),
            U16Iter::Native(v) => v.next().copied(),
        }
    }
}

impl PartialEq for U16s<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.byte_len() == other.byte_len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for U16s<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for U16s<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            U16s::Le(b) => s.serialize_bytes(b),
            U16s::Native(v) => {
                let mut seq = s.serialize_seq(Some(2 * v.len()))?;
                for x in v.iter() {
                    for byte in x.to_le_bytes() {
                        seq.serialize_element(&byte)?;
                    }
                }
                seq.end()
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for U16s<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de [u8]>::deserialize(d).map(U16s::Le)
    }
}

/// At most `N` items held inline (no heap); a postcard sequence on the wire.
#[derive(Clone, Copy)]
pub struct Bounded<T, const N: usize> {
    len: usize,
    items: [T; N],
}

impl<T: Copy + Default, const N: usize> Bounded<T, N> {
    /// No items.
    pub fn new() -> Self {
        Self {
            len: 0,
            items: [T::default(); N],
        }
    }

    /// The items of `items`, or `None` if there are more than `N`.
    pub fn from_slice(items: &[T]) -> Option<Self> {
        let mut out = Self::new();
        for &item in items {
            out.push(item).ok()?;
        }
        Some(out)
    }

    /// Append `item`; gives it back when full.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
                Ok(())
            }
            None => Err(item),
        }
    }
}

impl<T: Copy, const N: usize> Bounded<T, N> {
    /// The `M` items of `items` (`M ≤ N`, checked when the constant is evaluated), the unused
    /// places set to `unused`; a `const fn`, for lists known at compile time.
    pub const fn from_array<const M: usize>(items: [T; M], unused: T) -> Self {
        assert!(M <= N, "more items than a Bounded list holds");
        let mut out = [unused; N];
        let mut i = 0;
        while i < M {
            out[i] = items[i];
            i += 1;
        }
        Self { len: M, items: out }
    }
}

impl<T, const N: usize> Bounded<T, N> {
    /// The items.
    pub fn as_slice(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Copy + Default, const N: usize> Default for Bounded<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: PartialEq, const N: usize> PartialEq for Bounded<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for Bounded<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<T: Serialize, const N: usize> Serialize for Bounded<T, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for item in self.as_slice() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de> + Copy + Default, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Copy + Default, const N: usize> Visitor<'de> for V<T, N> {
            type Value = Bounded<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a sequence of at most {N} items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Bounded::new();
                while let Some(item) = seq.next_element()? {
                    if out.push(item).is_err() {
                        return Err(de::Error::invalid_length(N + 1, &self));
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V::<T, N>(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_and_le_encode_alike() {
        let v = [1.5f32, -2.0, 0.0];
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        let na = postcard::to_slice(&F32s::Native(&v), &mut a).unwrap().len();
        let mut le = [0u8; 12];
        for (c, x) in le.chunks_exact_mut(4).zip(v) {
            c.copy_from_slice(&x.to_le_bytes());
        }
        let nb = postcard::to_slice(&F32s::Le(&le), &mut b).unwrap().len();
        assert_eq!(a[..na], b[..nb]);
        let back: F32s<'_> = postcard::from_bytes(&a[..na]).unwrap();
        assert_eq!(back, F32s::Native(&v));
        assert_eq!(back.to_array::<3>(), Some(v));
        assert_eq!(back.get(3), None);
    }

    #[test]
    fn bounded_rejects_overflow() {
        let mut buf = [0u8; 32];
        let n = postcard::to_slice(&[1u16, 2, 3][..], &mut buf)
            .unwrap()
            .len();
        let ok: Bounded<u16, 3> = postcard::from_bytes(&buf[..n]).unwrap();
        assert_eq!(ok.as_slice(), &[1, 2, 3]);
        assert!(postcard::from_bytes::<Bounded<u16, 2>>(&buf[..n]).is_err());
    }
}
