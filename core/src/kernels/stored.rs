//! [`Stored`]: a weight as a model file stores it (f32, int16 or int8, aligned in memory or as
//! little-endian bytes), read as the f32 it stands for.

/// A stored weight: f32 (4 little-endian bytes), int16 (2) or int8 (1), read as the f32 it
/// stands for (the quantised integer `q` for int16 and int8; the scale is applied per row).
pub(crate) trait Stored: Copy {
    /// The f32 this weight stands for.
    fn get(self) -> f32;
}

impl Stored for f32 {
    #[inline(always)]
    fn get(self) -> f32 {
        self
    }
}

impl Stored for i16 {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from(self)
    }
}

impl Stored for [u8; 4] {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from_le_bytes(self)
    }
}

impl Stored for [u8; 2] {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from(i16::from_le_bytes(self))
    }
}

impl Stored for u8 {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from(self as i8)
    }
}
