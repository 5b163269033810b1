//! Integer dtypes: range, wrap-around and saturating conversions.
//!
//! Bit widths outside `1..=64` (only reachable through a hand-built invalid [`DType`]) are
//! clamped into that range here so that nothing panics.

use super::{DType, DTypeError};

/// Parameters of an integer dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IntFormat {
    /// Bit width, 1..=64.
    pub bits: u32,
    /// Two's complement (true) or unsigned.
    pub signed: bool,
}

impl IntFormat {
    /// The format of `Int { bits, signed }`, with `bits` clamped to 1..=64.
    pub(crate) fn new(bits: u8, signed: bool) -> IntFormat {
        IntFormat {
            bits: u32::from(bits).clamp(1, 64),
            signed,
        }
    }

    /// `(1 << bits) - 1`.
    #[inline]
    pub(crate) fn mask(&self) -> u64 {
        u64::MAX >> (64 - self.bits)
    }

    /// Smallest value.
    #[inline]
    pub(crate) fn min(&self) -> i128 {
        if self.signed {
            -(1i128 << (self.bits - 1))
        } else {
            0
        }
    }

    /// Largest value.
    #[inline]
    pub(crate) fn max(&self) -> i128 {
        if self.signed {
            (1i128 << (self.bits - 1)) - 1
        } else {
            (1i128 << self.bits) - 1
        }
    }

    /// The value of a code: sign- or zero-extended (bits above the width are ignored).
    #[inline]
    pub(crate) fn value_i128(&self, code: u64) -> i128 {
        let code = code & self.mask();
        if self.signed {
            let sh = 64 - self.bits;
            i128::from(((code << sh) as i64) >> sh)
        } else {
            i128::from(code)
        }
    }

    /// Two's-complement wrap of `v` into the width.
    #[inline]
    pub(crate) fn wrap(&self, v: i64) -> u64 {
        (v as u64) & self.mask()
    }

    /// Rust `as` semantics from a float: toward zero, saturate to the range, NaN -> 0.
    #[inline]
    pub(crate) fn encode_f64(&self, x: f64) -> u64 {
        if self.signed {
            let lo = self.min() as i64;
            let hi = self.max() as i64;
            ((x as i64).clamp(lo, hi) as u64) & self.mask()
        } else {
            (x as u64).min(self.mask())
        }
    }

    /// Rust `as` semantics from an `f32` (same result as [`IntFormat::encode_f64`]).
    #[inline]
    pub(crate) fn encode_f32(&self, x: f32) -> u64 {
        if self.signed {
            let lo = self.min() as i64;
            let hi = self.max() as i64;
            ((x as i64).clamp(lo, hi) as u64) & self.mask()
        } else {
            (x as u64).min(self.mask())
        }
    }

    /// The code of `v`, or an error naming the type and its range.
    pub(crate) fn code_of(&self, dtype: DType, v: i128) -> Result<u64, DTypeError> {
        if v < self.min() || v > self.max() {
            return Err(DTypeError::ValueOutOfRange {
                value: v,
                dtype: dtype.name(),
                min: self.min(),
                max: self.max(),
            });
        }
        Ok((v as u64) & self.mask())
    }
}
