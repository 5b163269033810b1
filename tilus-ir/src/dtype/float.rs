//! Codec for the small binary floats: every `f{n}e{E}m{M}` minifloat and the two fp8 types.
//!
//! Encoding works on the bits of an `f64` (an `f32` widens exactly, so the result is the same
//! as rounding the `f32` directly): round to nearest, ties to even, in the normal and in the
//! subnormal range, with no loop over bits. Ties go to the code whose least significant bit is
//! 0, which is the IEEE rule (for `M = 0` the last code bit is the exponent's).

/// What a value too large for the format (after rounding) or an infinity becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// Clamp to the largest finite magnitude (the minifloats).
    Saturate,
    /// Become this magnitude code (NaN for `f8e4m3fn`, infinity for `f8e5m2`), with the sign.
    Code(u64),
}

/// The parameters of one small float format (at most 31 bits; in practice at most 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SmallFloat {
    /// Exponent bits `E` (1..=8).
    pub exp: u32,
    /// Mantissa bits `M` (0..=23).
    pub mant: u32,
    /// Exponent bias.
    pub bias: i32,
    /// Magnitude code (code without sign) of the largest finite value.
    pub max_code: u64,
    /// What overflow and infinities become.
    pub overflow: Overflow,
    /// Magnitude code a NaN input becomes.
    pub nan_code: u64,
    /// Whether a NaN input keeps its sign.
    pub nan_signed: bool,
    /// Codes whose magnitude is above this are NaN (`u64::MAX` when there is no NaN).
    pub nan_above: u64,
    /// Magnitude code of infinity, if the format has one.
    pub inf_code: Option<u64>,
}

/// `2^k` as an exact `f64`, for `k` in `-1022..=1023`.
#[inline]
pub(crate) fn exp2i(k: i32) -> f64 {
    let biased = (k + 1023).clamp(1, 2046);
    f64::from_bits((biased as u64) << 52)
}

/// Shift `sig` right by `shift` (1..=63) rounding to nearest, ties to even.
#[inline]
fn shr_rne(sig: u64, shift: u32) -> u64 {
    let q = sig >> shift;
    let rem = sig & ((1u64 << shift) - 1);
    let half = 1u64 << (shift - 1);
    if rem > half || (rem == half && (q & 1) == 1) {
        q + 1
    } else {
        q
    }
}

impl SmallFloat {
    /// A saturating "fn" minifloat with `exp` exponent and `mant` mantissa bits.
    /// Out-of-range parameters are clamped to `exp` in 1..=8 and `mant` in 0..=23.
    pub(crate) fn minifloat(exp: u8, mant: u8) -> SmallFloat {
        let exp = u32::from(exp).clamp(1, 8);
        let mant = u32::from(mant).min(23);
        SmallFloat {
            exp,
            mant,
            bias: (1i32 << (exp - 1)) - 1,
            max_code: (1u64 << (exp + mant)) - 1,
            overflow: Overflow::Saturate,
            nan_code: 0,
            nan_signed: false,
            nan_above: u64::MAX,
            inf_code: None,
        }
    }

    /// OCP `f8e4m3fn`: no infinities, NaN at S.1111.111, max 448.
    pub(crate) const F8E4M3FN: SmallFloat = SmallFloat {
        exp: 4,
        mant: 3,
        bias: 7,
        max_code: 0x7E,
        overflow: Overflow::Code(0x7F),
        nan_code: 0x7F,
        nan_signed: true,
        nan_above: 0x7E,
        inf_code: None,
    };

    /// `f8e5m2`: IEEE-like, infinities and NaNs at exponent 31, max 57344.
    pub(crate) const F8E5M2: SmallFloat = SmallFloat {
        exp: 5,
        mant: 2,
        bias: 15,
        max_code: 0x7B,
        overflow: Overflow::Code(0x7C),
        nan_code: 0x7E,
        nan_signed: true,
        nan_above: 0x7C,
        inf_code: Some(0x7C),
    };

    /// IEEE binary16, for single-rounding conversions from `f64` (the `half` crate rounds
    /// `f64` inputs through their top bits on some CPUs).
    pub(crate) const F16: SmallFloat = SmallFloat {
        exp: 5,
        mant: 10,
        bias: 15,
        max_code: 0x7BFF,
        overflow: Overflow::Code(0x7C00),
        nan_code: 0x7E00,
        nan_signed: true,
        nan_above: 0x7C00,
        inf_code: Some(0x7C00),
    };

    /// bfloat16, for single-rounding conversions from `f64`.
    pub(crate) const BF16: SmallFloat = SmallFloat {
        exp: 8,
        mant: 7,
        bias: 127,
        max_code: 0x7F7F,
        overflow: Overflow::Code(0x7F80),
        nan_code: 0x7FC0,
        nan_signed: true,
        nan_above: 0x7F80,
        inf_code: Some(0x7F80),
    };

    /// The sign bit of a code.
    #[inline]
    pub(crate) fn sign_bit(&self) -> u64 {
        1u64 << (self.exp + self.mant)
    }

    /// Unbiased exponent of the smallest normal number.
    #[inline]
    pub(crate) fn emin(&self) -> i32 {
        1 - self.bias
    }

    /// Whether `code` (masked to the format) is a NaN.
    #[inline]
    pub(crate) fn is_nan(&self, code: u64) -> bool {
        (code & (self.sign_bit() - 1)) > self.nan_above
    }

    /// Whether `code` (masked to the format) is an infinity.
    #[inline]
    pub(crate) fn is_inf(&self, code: u64) -> bool {
        Some(code & (self.sign_bit() - 1)) == self.inf_code
    }

    /// Exact value of a code (bits above the format are ignored).
    pub(crate) fn decode_f64(&self, code: u64) -> f64 {
        let sign_bit = self.sign_bit();
        let mag = code & (sign_bit - 1);
        let negative = code & sign_bit != 0;
        let v = if mag > self.nan_above {
            f64::NAN
        } else if Some(mag) == self.inf_code {
            f64::INFINITY
        } else {
            let m = mag & ((1u64 << self.mant) - 1);
            let e = (mag >> self.mant) as i32;
            let mant = self.mant as i32;
            if e == 0 {
                m as f64 * exp2i(self.emin() - mant)
            } else {
                (m + (1u64 << self.mant)) as f64 * exp2i(e - self.bias - mant)
            }
        };
        if negative {
            -v
        } else {
            v
        }
    }

    /// Largest finite value.
    pub(crate) fn max_value(&self) -> f64 {
        self.decode_f64(self.max_code)
    }

    /// Round `x` to this format (see the module docs for the rules).
    #[inline]
    pub(crate) fn encode_f64(&self, x: f64) -> u64 {
        let bits = x.to_bits();
        let sign = if bits >> 63 != 0 { self.sign_bit() } else { 0 };
        let a = bits & 0x7FFF_FFFF_FFFF_FFFF;
        if a >= 0x7FF0_0000_0000_0000 {
            if a > 0x7FF0_0000_0000_0000 {
                return if self.nan_signed {
                    self.nan_code | sign
                } else {
                    self.nan_code
                };
            }
            return self.overflow_code() | sign;
        }
        let mant = self.mant;
        let emin = self.emin();
        // Biased f64 exponent of the format's smallest normal number.
        let min_normal_bits = ((emin + 1023) as u64) << 52;
        let mag = if a < min_normal_bits {
            // Zero or subnormal in the target: q = RNE(|x| / 2^(emin - M)). The carry into
            // the smallest normal (q == 2^M) is the right code as it stands.
            let e = (a >> 52) as i32;
            let frac = a & ((1u64 << 52) - 1);
            let (sig, e) = if e == 0 {
                (frac, 1)
            } else {
                (frac | (1u64 << 52), e)
            };
            // |x| = sig * 2^(e - 1075); |x| < 2^emin keeps the shift above 52 - M > 0.
            let shift = (1075 + emin - mant as i32 - e) as u32;
            if shift >= 54 {
                0 // below half the smallest subnormal (sig < 2^53)
            } else {
                shr_rne(sig, shift)
            }
        } else {
            // Normal: round the 52-bit fraction to M bits; a carry bumps the exponent.
            let s = 52 - mant;
            let r = a + ((1u64 << (s - 1)) - 1) + ((a >> s) & 1);
            (r >> s) - (((1023 - self.bias) as u64) << mant)
        };
        if mag > self.max_code {
            return self.overflow_code() | sign;
        }
        mag | sign
    }

    #[inline]
    fn overflow_code(&self) -> u64 {
        match self.overflow {
            Overflow::Saturate => self.max_code,
            Overflow::Code(c) => c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f6e3m2_decodes() {
        let f = SmallFloat::minifloat(3, 2);
        let vals: Vec<f64> = (0..32).map(|c| f.decode_f64(c)).collect();
        assert_eq!(vals[..4], [0.0, 0.0625, 0.125, 0.1875]);
        assert_eq!(vals[31], 28.0);
    }

    #[test]
    fn f16_and_bf16_round_f64_once() {
        // 1 + 2^-11 + 2^-40 is just above the f16 tie between 1 and 1 + 2^-10.
        let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
        assert_eq!(SmallFloat::F16.encode_f64(x), 0x3C01);
        assert_eq!(SmallFloat::F16.encode_f64(1.0 + 2f64.powi(-11)), 0x3C00);
        assert_eq!(SmallFloat::F16.encode_f64(65520.0), 0x7C00);
        assert_eq!(SmallFloat::F16.encode_f64(-65504.0), 0xFBFF);
        assert_eq!(SmallFloat::F16.encode_f64(2f64.powi(-25)), 0);
        assert_eq!(SmallFloat::F16.encode_f64(2f64.powi(-24)), 1);
        // bf16: 0x36a001c5 as an integer value must round up (it is above the tie).
        let v = f64::from(0x36a0_01c5_u32);
        assert_eq!(SmallFloat::BF16.encode_f64(v), 0x4E5B);
        assert_eq!(SmallFloat::BF16.encode_f64(f64::INFINITY), 0x7F80);
        assert_eq!(SmallFloat::BF16.encode_f64(f64::NAN), 0x7FC0);
        for bits in (0..=u16::MAX).step_by(7) {
            let h = half::f16::from_bits(bits);
            if !h.is_nan() {
                assert_eq!(SmallFloat::F16.encode_f64(h.to_f64()), u64::from(bits));
            }
            let b = half::bf16::from_bits(bits);
            if !b.is_nan() {
                assert_eq!(SmallFloat::BF16.encode_f64(b.to_f64()), u64::from(bits));
            }
        }
    }

    #[test]
    fn shr_rne_ties() {
        assert_eq!(shr_rne(0b1010, 2), 0b10); // 2.5 -> 2
        assert_eq!(shr_rne(0b1110, 2), 0b100); // 3.5 -> 4
        assert_eq!(shr_rne(0b1011, 2), 0b11); // 2.75 -> 3
    }
}
