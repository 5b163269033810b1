//! Float codecs expanded to `u32` bit operations, so WGSL reproduces them bit for bit.
//!
//! WGSL leaves the rounding of `f32 → f16` and `int → float` conversions to the
//! implementation, may flush subnormals in float arithmetic and may assume that no NaN or
//! infinity occurs. Everything here therefore works on the *bits* of an `f32`
//! (`bitcast<u32>`) with integer operations only; the single float operation used — a
//! small integer times a power of two while decoding subnormal codes — is exact and stays
//! in the normal `f32` range.
//!
//! - [`decode`]: a code of a [`FloatSpec`] format → its exact `f32` value.
//! - [`encode`]: `f32` bits → the nearest code: round to nearest even (also into the
//!   subnormal range), overflow and NaN per the family's rule (spec/dtypes.md).
//! - [`int_to_f32_bits`]: an `i32`/`u32` → `f32` bits rounded to nearest even, or rounded
//!   to odd (sticky), which makes a later rounding to at most 22 significant bits correct.
//!
//! One routine serves every format: it is parameterized by a [`FloatSpec`] (exponent and
//! mantissa bits, bias, largest code, overflow and NaN rules).

use tilus_ir::dtype::DType;

use super::ops::{low_mask, Ops};
use crate::thread_ir::{BinaryOp, Const, ExprId, KernelBuilder, Ty};

/// What a NaN input encodes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NanEncode {
    /// `+0` (the minifloats, which have no NaN).
    Zero,
    /// This magnitude code with the input's sign (fp8).
    Signed(u32),
    /// IEEE style: the input's sign, an all-ones exponent and the top mantissa bits of the
    /// input; `quiet` also sets the top mantissa bit (what `half` does for `f16`/`bf16`).
    Payload {
        /// Set the quiet bit.
        quiet: bool,
    },
}

/// What a NaN code decodes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NanDecode {
    /// `±0x7fc00000` (the canonical quiet NaN with the code's sign; fp8).
    Canonical,
    /// The code's sign and mantissa bits, shifted into an `f32` NaN; `quiet` also sets the
    /// quiet bit (`half` does for `f16`/`bf16`).
    Payload {
        /// Set the quiet bit.
        quiet: bool,
    },
}

/// A binary float format with at most 8 exponent and 22 mantissa bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatSpec {
    /// Exponent bits.
    pub exp: u32,
    /// Mantissa bits.
    pub mant: u32,
    /// Exponent bias.
    pub bias: i32,
    /// Magnitude code of the largest finite value.
    pub max_code: u32,
    /// Magnitude code of overflow and ±inf (`max_code` when saturating).
    pub overflow_code: u32,
    /// NaN inputs when encoding.
    pub nan_encode: NanEncode,
    /// Magnitude code of infinity, if the format has one.
    pub inf_code: Option<u32>,
    /// Magnitude codes above this are NaN, if the format has NaNs.
    pub nan_above: Option<u32>,
    /// NaN codes when decoding.
    pub nan_decode: NanDecode,
}

impl FloatSpec {
    /// The format of a float dtype other than `f32`; `None` for `f32` and integers.
    pub fn of(dtype: DType) -> Option<FloatSpec> {
        Some(match dtype {
            DType::MiniFloat { exp, mant } => {
                let (exp, mant) = (u32::from(exp), u32::from(mant));
                if !(1..=8).contains(&exp) || exp + mant > 22 {
                    return None;
                }
                let max = low_mask(exp + mant);
                FloatSpec {
                    exp,
                    mant,
                    bias: (1 << (exp - 1)) - 1,
                    max_code: max,
                    overflow_code: max,
                    nan_encode: NanEncode::Zero,
                    inf_code: None,
                    nan_above: None,
                    nan_decode: NanDecode::Canonical,
                }
            }
            DType::F8E4M3FN => FloatSpec {
                exp: 4,
                mant: 3,
                bias: 7,
                max_code: 0x7E,
                overflow_code: 0x7F,
                nan_encode: NanEncode::Signed(0x7F),
                inf_code: None,
                nan_above: Some(0x7E),
                nan_decode: NanDecode::Canonical,
            },
            DType::F8E5M2 => FloatSpec {
                exp: 5,
                mant: 2,
                bias: 15,
                max_code: 0x7B,
                overflow_code: 0x7C,
                nan_encode: NanEncode::Signed(0x7E),
                inf_code: Some(0x7C),
                nan_above: Some(0x7C),
                nan_decode: NanDecode::Canonical,
            },
            DType::F16 => FloatSpec {
                exp: 5,
                mant: 10,
                bias: 15,
                max_code: 0x7BFF,
                overflow_code: 0x7C00,
                nan_encode: NanEncode::Payload { quiet: true },
                inf_code: Some(0x7C00),
                nan_above: Some(0x7C00),
                nan_decode: NanDecode::Payload { quiet: true },
            },
            DType::BF16 => FloatSpec {
                exp: 8,
                mant: 7,
                bias: 127,
                max_code: 0x7F7F,
                overflow_code: 0x7F80,
                nan_encode: NanEncode::Payload { quiet: true },
                inf_code: Some(0x7F80),
                nan_above: Some(0x7F80),
                nan_decode: NanDecode::Payload { quiet: true },
            },
            DType::F32 | DType::Int { .. } => return None,
        })
    }

    /// `f16` as the carrier of `f16` values in a legalized kernel: NaN payloads pass through
    /// unchanged both ways, so moving an `f16` code through the `f32` carrier is lossless.
    pub fn f16_exact() -> FloatSpec {
        FloatSpec {
            nan_encode: NanEncode::Payload { quiet: false },
            nan_decode: NanDecode::Payload { quiet: false },
            ..F16_SPEC
        }
    }

    /// Bits of a code.
    pub fn bits(&self) -> u32 {
        1 + self.exp + self.mant
    }

    fn emin(&self) -> i32 {
        1 - self.bias
    }
}

const F16_SPEC: FloatSpec = FloatSpec {
    exp: 5,
    mant: 10,
    bias: 15,
    max_code: 0x7BFF,
    overflow_code: 0x7C00,
    nan_encode: NanEncode::Payload { quiet: true },
    inf_code: Some(0x7C00),
    nan_above: Some(0x7C00),
    nan_decode: NanDecode::Payload { quiet: true },
};

/// `2^k` as `f32` bits (`k` in the normal range).
fn pow2_bits(k: i32) -> u32 {
    (((k + 127).clamp(1, 254)) as u32) << 23
}

/// The exact `f32` value of the code in the low bits of the `u32` expression `code` (bits
/// above the format are ignored).
pub fn decode(b: &mut KernelBuilder, spec: &FloatSpec, code: ExprId) -> ExprId {
    let (m_bits, width) = (spec.mant, spec.exp + spec.mant);
    let c = b.and_k(code, low_mask(width + 1));
    let mag = b.and_k(c, low_mask(width));
    let sign = b.shr_k(c, width);
    let sign = b.shl_k(sign, 31);
    let man = b.and_k(mag, low_mask(m_bits));
    let shifted = b.shl_k(mag, 23 - m_bits);
    let mut bits = if spec.bias == 127 && spec.exp == 8 {
        // Same exponent range as f32: the code is the top of the f32 bits.
        shifted
    } else {
        let rebias = b.u32(((127 - spec.bias) as u32) << 23);
        let normal = b.op(BinaryOp::Add, shifted, rebias);
        // Subnormal: man · 2^(emin - M), an exact product in the normal f32 range.
        let is_sub = b.op_k(BinaryOp::Lt, mag, 1 << m_bits);
        let man_f = b.cast(Ty::F32, man);
        let scale = b.konst(Const::F32(pow2_bits(spec.emin() - m_bits as i32)));
        let sub = b.op(BinaryOp::Mul, man_f, scale);
        let sub = b.bits_as(Ty::U32, sub);
        b.sel(is_sub, sub, normal)
    };
    if let Some(inf) = spec.inf_code {
        let is_inf = b.eq_k(mag, inf);
        let inf_bits = b.u32(0x7f80_0000);
        bits = b.sel(is_inf, inf_bits, bits);
    }
    if let Some(above) = spec.nan_above {
        let is_nan = b.gt_k(mag, above);
        let nan_bits = match spec.nan_decode {
            NanDecode::Canonical => b.u32(0x7fc0_0000),
            NanDecode::Payload { quiet } => {
                let payload = b.shl_k(man, 23 - m_bits);
                b.or_k(payload, if quiet { 0x7fc0_0000 } else { 0x7f80_0000 })
            }
        };
        bits = b.sel(is_nan, nan_bits, bits);
    }
    let bits = b.or_(bits, sign);
    b.bits_as(Ty::F32, bits)
}

/// Like [`decode`], for targets whose `f32` multiply keeps subnormals (PTX without `.ftz`):
/// the magnitude bits moved to the top of an `f32` are the value times `2^(bias - 127)`
/// (a subnormal code lands on the `f32` subnormal with the same fraction), so one exact
/// multiply by `2^(127 - bias)` gives normals and subnormals alike: shift, mask, scale, no
/// select. Infinities and NaNs keep their selects.
pub fn decode_scaled(b: &mut KernelBuilder, spec: &FloatSpec, code: ExprId) -> ExprId {
    if spec.bias == 127 && spec.exp == 8 {
        return decode(b, spec, code);
    }
    let (m_bits, width) = (spec.mant, spec.exp + spec.mant);
    let c = b.and_k(code, low_mask(width + 1));
    let mag = b.and_k(c, low_mask(width));
    let sign = b.shr_k(c, width);
    let sign = b.shl_k(sign, 31);
    let shifted = b.shl_k(mag, 23 - m_bits);
    let signed = b.or_(shifted, sign);
    let f = b.bits_as(Ty::F32, signed);
    let scale = b.konst(Const::F32(pow2_bits(127 - spec.bias)));
    let value = b.op(BinaryOp::Mul, f, scale);
    if spec.inf_code.is_none() && spec.nan_above.is_none() {
        return value;
    }
    let mut bits = b.bits_as(Ty::U32, value);
    if let Some(inf) = spec.inf_code {
        let is_inf = b.eq_k(mag, inf);
        let inf_bits = b.or_k(sign, 0x7f80_0000);
        bits = b.sel(is_inf, inf_bits, bits);
    }
    if let Some(above) = spec.nan_above {
        let is_nan = b.gt_k(mag, above);
        let nan_bits = match spec.nan_decode {
            NanDecode::Canonical => b.u32(0x7fc0_0000),
            NanDecode::Payload { quiet } => {
                let man = b.and_k(mag, low_mask(m_bits));
                let payload = b.shl_k(man, 23 - m_bits);
                b.or_k(payload, if quiet { 0x7fc0_0000 } else { 0x7f80_0000 })
            }
        };
        let nan_bits = b.or_(nan_bits, sign);
        bits = b.sel(is_nan, nan_bits, bits);
    }
    b.bits_as(Ty::F32, bits)
}

/// The code nearest to the `f32` whose bits are the `u32` expression `bits` (round to
/// nearest even; overflow, infinities and NaN per the format's rules).
pub fn encode(b: &mut KernelBuilder, spec: &FloatSpec, bits: ExprId) -> ExprId {
    let (m_bits, width) = (spec.mant, spec.exp + spec.mant);
    let sign = b.and_k(bits, 0x8000_0000);
    let sign_code = b.shr_k(sign, 31 - width);
    let a = b.and_k(bits, 0x7fff_ffff);
    let emin = spec.emin();
    let min_normal = ((emin + 127).max(1) as u32) << 23;

    // Normal in the target: round the 23-bit fraction to M bits; a carry bumps the exponent.
    let s = 23 - m_bits;
    let lsb = b.shr_k(a, s);
    let lsb = b.and_k(lsb, 1);
    let r = b.add_k(a, (1u32 << (s - 1)) - 1);
    let r = b.op(BinaryOp::Add, r, lsb);
    let r = b.shr_k(r, s);
    let rebias = b.u32(((127 - spec.bias) as u32) << m_bits);
    let mag_normal = b.op(BinaryOp::Sub, r, rebias);

    // Subnormal (or zero) in the target: RNE(sig / 2^shift), shift clamped to 25 (every
    // significand is below 2^24, so shifts of 25 and more all give 0).
    let e = b.shr_k(a, 23);
    let frac = b.and_k(a, 0x7f_ffff);
    let e_zero = b.eq_k(e, 0);
    let with_hidden = b.or_k(frac, 0x80_0000);
    let sig = b.sel(e_zero, frac, with_hidden);
    let one = b.u32(1);
    let e1 = b.sel(e_zero, one, e);
    let c = b.u32((150 + emin - m_bits as i32) as u32);
    let shift = b.op(BinaryOp::Sub, c, e1);
    let k25 = b.u32(25);
    let sh = b.op(BinaryOp::Min, shift, k25);
    let q = b.op(BinaryOp::Shr, sig, sh);
    let unit = b.op(BinaryOp::Shl, one, sh);
    let rem_mask = b.op(BinaryOp::Sub, unit, one);
    let rem = b.and_(sig, rem_mask);
    let half = b.shr_k(unit, 1);
    let up = round_up(b, q, rem, half);
    let mag_sub = b.op(BinaryOp::Add, q, up);

    let is_sub = b.op_k(BinaryOp::Lt, a, min_normal);
    let mag = b.sel(is_sub, mag_sub, mag_normal);
    let over = b.gt_k(mag, spec.max_code);
    let over_code = b.u32(spec.overflow_code);
    let mag = b.sel(over, over_code, mag);
    let code = b.or_(mag, sign_code);

    let is_nan = b.gt_k(a, 0x7f80_0000);
    let nan = match spec.nan_encode {
        NanEncode::Zero => b.u32(0),
        NanEncode::Signed(c) => b.or_k(sign_code, c),
        NanEncode::Payload { quiet } => {
            let payload = b.and_k(a, 0x7f_ffff);
            let payload = b.shr_k(payload, s);
            let quiet_bit = if quiet { 1u32 << (m_bits - 1) } else { 0 };
            let head = b.or_k(payload, spec.overflow_code | quiet_bit);
            b.or_(head, sign_code)
        }
    };
    b.sel(is_nan, nan, code)
}

/// `1u` when a quotient `q` with remainder `rem` rounds up (RNE against `half`), else `0u`.
fn round_up(b: &mut KernelBuilder, q: ExprId, rem: ExprId, half: ExprId) -> ExprId {
    let above = b.op(BinaryOp::Gt, rem, half);
    let tie = b.op(BinaryOp::Eq, rem, half);
    let odd = b.and_k(q, 1);
    let odd = b.eq_k(odd, 1);
    let tie_odd = b.and_(tie, odd);
    let up = b.or_(above, tie_odd);
    let (one, zero) = (b.u32(1), b.u32(0));
    b.sel(up, one, zero)
}

/// `(clz(u), u << clz(u))` for a `u32` (`clz(0) = 32`, normalized `0`), by a 5-step binary
/// search of selects.
fn normalize(b: &mut KernelBuilder, u: ExprId) -> (ExprId, ExprId) {
    let mut n = b.u32(0);
    let mut x = u;
    for step in [16u32, 8, 4, 2, 1] {
        let limit = low_mask(32 - step);
        let small = b.op_k(BinaryOp::Le, x, limit);
        let add = b.u32(step);
        let zero = b.u32(0);
        let inc = b.sel(small, add, zero);
        n = b.op(BinaryOp::Add, n, inc);
        let shifted = b.shl_k(x, step);
        x = b.sel(small, shifted, x);
    }
    // All five steps shift a zero; one more count makes clz(0) = 32.
    let is_zero = b.eq_k(x, 0);
    let (one, zero) = (b.u32(1), b.u32(0));
    let extra = b.sel(is_zero, one, zero);
    (b.op(BinaryOp::Add, n, extra), x)
}

/// The `f32` bits of an `i32` or `u32` expression, rounded to nearest even, or to odd when
/// `odd` (the last kept bit is ORed with "inexact").
pub fn int_to_f32_bits(b: &mut KernelBuilder, x: ExprId, odd: bool) -> ExprId {
    let signed = b.ty(x) == Ty::I32;
    let (u, sign) = if signed {
        let zero = b.i32(0);
        let neg = b.op(BinaryOp::Lt, x, zero);
        let ux = b.cast(Ty::U32, x);
        let z = b.u32(0);
        let minus = b.op(BinaryOp::Sub, z, ux);
        let u = b.sel(neg, minus, ux);
        let (s1, s0) = (b.u32(0x8000_0000), b.u32(0));
        (u, Some(b.sel(neg, s1, s0)))
    } else {
        (x, None)
    };
    let (lz, n) = normalize(b, u);
    let sig = b.shr_k(n, 8);
    let rem = b.and_k(n, 0xff);
    let mant = if odd {
        let inexact = b.op_k(BinaryOp::Ne, rem, 0);
        let (one, zero) = (b.u32(1), b.u32(0));
        let sticky = b.sel(inexact, one, zero);
        b.or_(sig, sticky)
    } else {
        let half = b.u32(0x80);
        let up = round_up(b, sig, rem, half);
        b.op(BinaryOp::Add, sig, up)
    };
    // value = sig · 2^(e - 23) with e = 31 - lz; the hidden bit adds one to the exponent.
    let k157 = b.u32(157);
    let exp = b.op(BinaryOp::Sub, k157, lz);
    let exp = b.shl_k(exp, 23);
    let bits = b.op(BinaryOp::Add, exp, mant);
    let is_zero = b.eq_k(u, 0);
    let zero = b.u32(0);
    let bits = b.sel(is_zero, zero, bits);
    match sign {
        Some(s) => b.or_(bits, s),
        None => bits,
    }
}

/// An `f32` value rounded to the nearest `f16` (ties to even; overflow to infinity; NaN
/// quieted), still as an `f32`: the arithmetic of `f16` values carried in `f32`.
pub fn round_to_f16(b: &mut KernelBuilder, x: ExprId) -> ExprId {
    let bits = b.bits_as(Ty::U32, x);
    let code = encode(b, &F16_SPEC, bits);
    decode(b, &FloatSpec::f16_exact(), code)
}

/// The `f32` carrier value of an `f16` code (exact; NaN payloads kept).
pub fn f16_code_to_f32(b: &mut KernelBuilder, code: ExprId) -> ExprId {
    decode(b, &FloatSpec::f16_exact(), code)
}

/// [`f16_code_to_f32`] by [`decode_scaled`], for targets that keep `f32` subnormals.
pub fn f16_code_to_f32_scaled(b: &mut KernelBuilder, code: ExprId) -> ExprId {
    decode_scaled(b, &FloatSpec::f16_exact(), code)
}

/// The `f16` code of an `f32` carrier value that is an `f16` value (exact; NaN payloads
/// kept).
pub fn f32_to_f16_code(b: &mut KernelBuilder, x: ExprId) -> ExprId {
    let bits = b.bits_as(Ty::U32, x);
    encode(b, &FloatSpec::f16_exact(), bits)
}

/// `x` with the quiet bit set when it is a NaN: what an `f16` operation computed through
/// `f32` (as the thread interpreter does) returns for a NaN, even a signaling one.
pub fn quiet_if_nan(b: &mut KernelBuilder, x: ExprId) -> ExprId {
    let bits = b.bits_as(Ty::U32, x);
    let mag = b.and_k(bits, 0x7fff_ffff);
    let is_nan = b.gt_k(mag, 0x7f80_0000);
    let quiet = b.or_k(bits, 0x0040_0000);
    let bits = b.sel(is_nan, quiet, bits);
    b.bits_as(Ty::F32, bits)
}
