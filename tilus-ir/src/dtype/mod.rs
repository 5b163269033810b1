//! Data types: names, properties, scalar and bulk conversions, and bit-stream packing.
//!
//! This module implements `spec/dtypes.md` bit for bit:
//!
//! * [`DType`] names every supported element type: integers `i1`…`i8`, `i16`, `i32`, `i64`,
//!   `u1`…`u8`, `u16`, `u32`, `u64`; IEEE `f32`, `f16`, `bf16`; fp8 `f8e4m3fn`, `f8e5m2`;
//!   and the "fn" minifloats `f{n}e{E}m{M}` with `3 <= n <= 7` (no infinities, no NaN).
//! * A *code* is the bit pattern of one element, held in the low bits of a `u64`. Every
//!   function that takes a code ignores the bits above [`DType::bits`].
//! * Decoding is exact. Encoding from `f32`/`f64` rounds to nearest, ties to even (also in
//!   the subnormal range); minifloats saturate and map NaN to `+0`; `f8e4m3fn` overflows to
//!   NaN; `f8e5m2` overflows to infinity; integers follow Rust `as` (toward zero, saturating,
//!   NaN to 0).
//! * [`pack`] lays elements out as a little-endian bit stream.
//!
//! A `DType` built by hand with fields outside the supported set (see [`DType::is_valid`])
//! never makes these functions panic: its parameters are clamped (integer widths to 1..=64,
//! minifloat exponent to 1..=8 and mantissa to 0..=23), but the results are otherwise
//! unspecified. [`DType::parse`], [`DType::int`] and [`DType::minifloat`] only produce valid
//! values.

mod convert;
mod error;
mod float;
mod int;
mod name;
pub mod pack;

pub use error::DTypeError;

use float::SmallFloat;
use int::IntFormat;

/// An element data type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// Two's-complement (`signed`) or unsigned integer of `bits` bits: 1..=8, 16, 32 or 64.
    Int {
        /// Bit width.
        bits: u8,
        /// Whether the integer is signed (two's complement).
        signed: bool,
    },
    /// IEEE binary32.
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16 (8 exponent, 7 mantissa bits).
    BF16,
    /// OCP FP8 E4M3: bias 7, no infinities, NaN only at S.1111.111, max 448.
    F8E4M3FN,
    /// FP8 E5M2: bias 15, IEEE-like with infinities and NaNs, max 57344.
    F8E5M2,
    /// `f{n}e{E}m{M}`: sign, `exp` exponent bits, `mant` mantissa bits, `n = 1 + E + M` in
    /// 3..=7, `E >= 1`; bias `2^(E-1) - 1`; every code is finite.
    MiniFloat {
        /// Exponent bits `E`.
        exp: u8,
        /// Mantissa bits `M`.
        mant: u8,
    },
}

/// How a dtype is converted; internal.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Codec {
    Int(IntFormat),
    Small(SmallFloat),
    F16,
    BF16,
    F32,
}

impl DType {
    /// The integer dtype with `bits` bits (1..=8, 16, 32 or 64).
    pub fn int(bits: u8, signed: bool) -> Result<DType, DTypeError> {
        let d = DType::Int { bits, signed };
        d.validate().map(|()| d)
    }

    /// The minifloat `f{1+exp+mant}e{exp}m{mant}` (total 3..=7 bits, `exp >= 1`).
    pub fn minifloat(exp: u8, mant: u8) -> Result<DType, DTypeError> {
        let d = DType::MiniFloat { exp, mant };
        d.validate().map(|()| d)
    }

    /// Whether this value is one of the supported dtypes (always true for parsed values).
    pub fn is_valid(&self) -> bool {
        match *self {
            DType::Int { bits, .. } => matches!(bits, 1..=8 | 16 | 32 | 64),
            DType::MiniFloat { exp, mant } => {
                let n = 1 + u32::from(exp) + u32::from(mant);
                exp >= 1 && (3..=7).contains(&n)
            }
            _ => true,
        }
    }

    /// `Ok(())` if [`DType::is_valid`], else an [`DTypeError::InvalidDType`] saying why.
    pub fn validate(&self) -> Result<(), DTypeError> {
        if self.is_valid() {
            return Ok(());
        }
        let what = match *self {
            DType::Int { bits, signed } => format!(
                "{} integer with {bits} bits (supported: 1..=8, 16, 32, 64)",
                if signed { "signed" } else { "unsigned" }
            ),
            DType::MiniFloat { exp, mant } => format!(
                "minifloat with {exp} exponent and {mant} mantissa bits \
                 (need 1 + E + M in 3..=7 and E >= 1)"
            ),
            other => format!("{other:?}"),
        };
        Err(DTypeError::InvalidDType { what })
    }

    /// Every supported dtype in canonical order: `i1`..`i8`, `i16`, `i32`, `i64`, `u1`..`u8`,
    /// `u16`, `u32`, `u64`, `f32`, `f16`, `bf16`, `f8e4m3fn`, `f8e5m2`, then every minifloat
    /// ordered by total bits, then exponent bits descending.
    pub fn all() -> Vec<DType> {
        const INT_BITS: [u8; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64];
        let mut v = Vec::with_capacity(59);
        for signed in [true, false] {
            v.extend(INT_BITS.iter().map(|&bits| DType::Int { bits, signed }));
        }
        v.extend([
            DType::F32,
            DType::F16,
            DType::BF16,
            DType::F8E4M3FN,
            DType::F8E5M2,
        ]);
        for n in 3u8..=7 {
            for exp in (1..n).rev() {
                v.push(DType::MiniFloat {
                    exp,
                    mant: n - 1 - exp,
                });
            }
        }
        v
    }

    pub(crate) fn codec(&self) -> Codec {
        match *self {
            DType::Int { bits, signed } => Codec::Int(IntFormat::new(bits, signed)),
            DType::F32 => Codec::F32,
            DType::F16 => Codec::F16,
            DType::BF16 => Codec::BF16,
            DType::F8E4M3FN => Codec::Small(SmallFloat::F8E4M3FN),
            DType::F8E5M2 => Codec::Small(SmallFloat::F8E5M2),
            DType::MiniFloat { exp, mant } => Codec::Small(SmallFloat::minifloat(exp, mant)),
        }
    }

    /// Bits per element.
    pub fn bits(&self) -> u32 {
        match *self {
            DType::Int { bits, .. } => u32::from(bits),
            DType::F32 => 32,
            DType::F16 | DType::BF16 => 16,
            DType::F8E4M3FN | DType::F8E5M2 => 8,
            DType::MiniFloat { exp, mant } => 1 + u32::from(exp) + u32::from(mant),
        }
    }

    /// Whether this is a floating-point type.
    pub fn is_float(&self) -> bool {
        !self.is_int()
    }

    /// Whether this is an integer type.
    pub fn is_int(&self) -> bool {
        matches!(self, DType::Int { .. })
    }

    /// Whether values can be negative (all floats; signed integers).
    pub fn is_signed(&self) -> bool {
        match *self {
            DType::Int { signed, .. } => signed,
            _ => true,
        }
    }

    /// Exponent field width of a float type; `None` for integers.
    pub fn exponent_bits(&self) -> Option<u32> {
        match self.codec() {
            Codec::Int(_) => None,
            Codec::F32 | Codec::BF16 => Some(8),
            Codec::F16 => Some(5),
            Codec::Small(f) => Some(f.exp),
        }
    }

    /// Mantissa (fraction) field width of a float type; `None` for integers.
    pub fn mantissa_bits(&self) -> Option<u32> {
        match self.codec() {
            Codec::Int(_) => None,
            Codec::F32 => Some(23),
            Codec::BF16 => Some(7),
            Codec::F16 => Some(10),
            Codec::Small(f) => Some(f.mant),
        }
    }

    /// Exponent bias of a float type; `None` for integers.
    pub fn bias(&self) -> Option<i32> {
        match self.codec() {
            Codec::Int(_) => None,
            Codec::F32 | Codec::BF16 => Some(127),
            Codec::F16 => Some(15),
            Codec::Small(f) => Some(f.bias),
        }
    }

    /// Smallest finite value (`-max_value()` for floats). Exact except for `i64`, whose
    /// minimum `-2^63` is exact too; `u64` minimum is 0.
    pub fn min_value(&self) -> f64 {
        match self.codec() {
            Codec::Int(f) => f.min() as f64,
            _ => -self.max_value(),
        }
    }

    /// Largest finite value. Exact for every float and for integers up to 53 bits; `i64` and
    /// `u64` round to the nearest `f64` (2^63 and 2^64).
    pub fn max_value(&self) -> f64 {
        match self.codec() {
            Codec::Int(f) => f.max() as f64,
            Codec::F32 => f64::from(f32::MAX),
            Codec::F16 => half::f16::MAX.to_f64(),
            Codec::BF16 => half::bf16::MAX.to_f64(),
            Codec::Small(f) => f.max_value(),
        }
    }

    /// Smallest positive normal value of a float type; `None` for integers.
    pub fn smallest_normal(&self) -> Option<f64> {
        let bias = self.bias()?;
        Some(float::exp2i(1 - bias))
    }

    /// Smallest positive subnormal value of a float type; `None` for integers and for
    /// floats without subnormals (minifloats with no mantissa bits, `f{n}e{n-1}m0`).
    pub fn smallest_subnormal(&self) -> Option<f64> {
        let bias = self.bias()?;
        let mant = self.mantissa_bits()?;
        if mant == 0 {
            return None;
        }
        Some(float::exp2i(1 - bias - mant as i32))
    }

    /// `(1 << bits) - 1`: the bits a code may occupy.
    pub fn code_mask(&self) -> u64 {
        match self.codec() {
            Codec::Int(f) => f.mask(),
            Codec::F32 => 0xFFFF_FFFF,
            Codec::F16 | Codec::BF16 => 0xFFFF,
            Codec::Small(f) => (f.sign_bit() << 1) - 1,
        }
    }

    /// The value of `code` as an `f32`. Exact for every float dtype and for integers of at
    /// most 24 bits; wider integers round to nearest.
    pub fn decode_f32(&self, code: u64) -> f32 {
        match self.codec() {
            Codec::Int(f) => f.value_i128(code) as f32,
            Codec::F32 => f32::from_bits(code as u32),
            Codec::F16 => half::f16::from_bits(code as u16).to_f32(),
            Codec::BF16 => half::bf16::from_bits(code as u16).to_f32(),
            // Every minifloat and fp8 value is an f32 (exponents within f32 range).
            Codec::Small(f) => f.decode_f64(code) as f32,
        }
    }

    /// The value of `code` as an `f64`. Exact except for 64-bit integers beyond 2^53, which
    /// round to nearest.
    pub fn decode_f64(&self, code: u64) -> f64 {
        match self.codec() {
            Codec::Int(f) => f.value_i128(code) as f64,
            Codec::F32 => f64::from(f32::from_bits(code as u32)),
            Codec::F16 => half::f16::from_bits(code as u16).to_f64(),
            Codec::BF16 => half::bf16::from_bits(code as u16).to_f64(),
            Codec::Small(f) => f.decode_f64(code),
        }
    }

    /// The code nearest to `x` (spec "Conversions"): floats round to nearest even, also in
    /// the subnormal range; minifloats saturate ±inf and overflow to ±max and map NaN to +0;
    /// `f8e4m3fn` turns overflow and ±inf into NaN (0x7F with the sign), NaN into NaN with
    /// its sign; `f8e5m2` overflows to ±inf and maps NaN to 0x7E / 0xFE; `f16`/`bf16` via
    /// `half` (IEEE). Integers: Rust `as` (toward zero, saturating, NaN → 0).
    /// A negative zero encodes to the negative zero code.
    pub fn encode_f32(&self, x: f32) -> u64 {
        match self.codec() {
            Codec::Int(f) => f.encode_f32(x),
            Codec::F32 => u64::from(x.to_bits()),
            Codec::F16 => u64::from(half::f16::from_f32(x).to_bits()),
            Codec::BF16 => u64::from(half::bf16::from_f32(x).to_bits()),
            Codec::Small(f) => f.encode_f64(f64::from(x)),
        }
    }

    /// Like [`DType::encode_f32`], but from an `f64` with a single rounding (`f32` targets
    /// round like `x as f32`).
    pub fn encode_f64(&self, x: f64) -> u64 {
        match self.codec() {
            Codec::Int(f) => f.encode_f64(x),
            Codec::F32 => u64::from((x as f32).to_bits()),
            // NaNs keep their payload the way `half` (and so `encode_f32`) keeps it.
            Codec::F16 if x.is_nan() => u64::from(half::f16::from_f64(x).to_bits()),
            Codec::BF16 if x.is_nan() => u64::from(half::bf16::from_f64(x).to_bits()),
            Codec::F16 => SmallFloat::F16.encode_f64(x),
            Codec::BF16 => SmallFloat::BF16.encode_f64(x),
            Codec::Small(f) => f.encode_f64(x),
        }
    }

    /// Integer value of `code`: sign- or zero-extended for integer dtypes. A `u64` code above
    /// `i64::MAX` comes back as its two's-complement reinterpretation (negative); use
    /// [`DType::int_value_i128`] for the exact value. For float dtypes: the decoded value
    /// converted like Rust `as` (toward zero, saturating, NaN → 0).
    pub fn int_value(&self, code: u64) -> i64 {
        match self.codec() {
            Codec::Int(f) => f.value_i128(code) as i64,
            _ => self.decode_f64(code) as i64,
        }
    }

    /// Exact integer value of `code` for every integer dtype (including `u64`); for float
    /// dtypes, the decoded value converted like Rust `as` (toward zero, saturating, NaN → 0).
    pub fn int_value_i128(&self, code: u64) -> i128 {
        match self.codec() {
            Codec::Int(f) => f.value_i128(code),
            _ => self.decode_f64(code) as i128,
        }
    }

    /// Integer → this dtype as a `cast`: two's-complement wrap for integer dtypes
    /// (9 → `i4` gives code 0b1001, value −7); for float dtypes, `encode_f64(v as f64)`.
    pub fn wrap_int(&self, v: i64) -> u64 {
        match self.codec() {
            Codec::Int(f) => f.wrap(v),
            _ => self.encode_f64(v as f64),
        }
    }

    /// The code of the integer `v`, range-checked: an error names the type and its range
    /// (`value 16 out of range for u4 [0, 15]`). Float dtypes give [`DTypeError::NotAnInt`].
    pub fn code_of_int(&self, v: i64) -> Result<u64, DTypeError> {
        self.code_of_int_i128(i128::from(v))
    }

    /// Like [`DType::code_of_int`] for any `i128` (so the whole `u64` range is reachable).
    pub fn code_of_int_i128(&self, v: i128) -> Result<u64, DTypeError> {
        match self.codec() {
            Codec::Int(f) => f.code_of(*self, v),
            _ => Err(DTypeError::NotAnInt { dtype: self.name() }),
        }
    }

    /// Whether `code` is a NaN (never for integers and minifloats).
    pub fn is_nan_code(&self, code: u64) -> bool {
        match self.codec() {
            Codec::Int(_) => false,
            Codec::F32 => f32::from_bits(code as u32).is_nan(),
            Codec::F16 => half::f16::from_bits(code as u16).is_nan(),
            Codec::BF16 => half::bf16::from_bits(code as u16).is_nan(),
            Codec::Small(f) => f.is_nan(code),
        }
    }

    /// Whether `code` is an infinity (only `f32`, `f16`, `bf16`, `f8e5m2` have them).
    pub fn is_inf_code(&self, code: u64) -> bool {
        match self.codec() {
            Codec::Int(_) => false,
            Codec::F32 => f32::from_bits(code as u32).is_infinite(),
            Codec::F16 => half::f16::from_bits(code as u16).is_infinite(),
            Codec::BF16 => half::bf16::from_bits(code as u16).is_infinite(),
            Codec::Small(f) => f.is_inf(code),
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::str::FromStr for DType {
    type Err = DTypeError;

    fn from_str(s: &str) -> Result<DType, DTypeError> {
        DType::parse(s)
    }
}

#[cfg(test)]
mod tests;
