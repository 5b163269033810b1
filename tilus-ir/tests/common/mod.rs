//! Independent reference codecs for the dtype tests.
//!
//! Nothing here calls the library's encoders or decoders: values come from the textbook
//! formula, encoding is a nearest-value search over the sorted table of representable values.
#![allow(dead_code)]

use tilus_ir::dtype::DType;

/// Which special-value rules a small float follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `f{n}e{E}m{M}`: all codes finite, saturate, NaN -> +0.
    Mini,
    /// `f8e4m3fn`: NaN at S.1111.111, overflow -> NaN.
    E4M3FN,
    /// `f8e5m2`: IEEE-like, overflow -> inf.
    E5M2,
}

/// A small float (at most 8 bits) described independently of the library.
#[derive(Clone, Debug)]
pub struct RefFloat {
    /// The dtype under test.
    pub dtype: DType,
    /// Exponent bits.
    pub exp: u32,
    /// Mantissa bits.
    pub mant: u32,
    /// Special-value family.
    pub family: Family,
    /// Non-negative finite values with their codes, strictly increasing.
    pub table: Vec<(f64, u64)>,
    /// For fp8: the value one step above max and the code rounding onto it gives.
    pub top: Option<(f64, u64)>,
}

/// Textbook value of a code: `(-1)^s 2^(e - bias) (1 + m / 2^M)`, subnormal
/// `(-1)^s 2^(1 - bias) (m / 2^M)`; fp8 specials handled per family.
pub fn formula_decode(exp: u32, mant: u32, family: Family, code: u64) -> f64 {
    let bias = 2f64.powi(exp as i32 - 1) - 1.0;
    let s = (code >> (exp + mant)) & 1;
    let e = (code >> mant) & ((1 << exp) - 1);
    let m = code & ((1 << mant) - 1);
    let sign = if s == 1 { -1.0 } else { 1.0 };
    let emax = (1u64 << exp) - 1;
    match family {
        Family::E4M3FN if e == emax && m == (1 << mant) - 1 => return f64::NAN,
        Family::E5M2 if e == emax && m == 0 => return sign * f64::INFINITY,
        Family::E5M2 if e == emax => return f64::NAN,
        _ => {}
    }
    let frac = m as f64 / 2f64.powi(mant as i32);
    if e == 0 {
        sign * 2f64.powf(1.0 - bias) * frac
    } else {
        sign * 2f64.powf(e as f64 - bias) * (1.0 + frac)
    }
}

impl RefFloat {
    /// The reference for a minifloat or fp8 dtype; `None` for anything else.
    pub fn new(dtype: DType) -> Option<RefFloat> {
        let (exp, mant, family) = match dtype {
            DType::MiniFloat { exp, mant } => (u32::from(exp), u32::from(mant), Family::Mini),
            DType::F8E4M3FN => (4, 3, Family::E4M3FN),
            DType::F8E5M2 => (5, 2, Family::E5M2),
            _ => return None,
        };
        let half = 1u64 << (exp + mant);
        let mut table: Vec<(f64, u64)> = (0..half)
            .map(|c| (formula_decode(exp, mant, family, c), c))
            .filter(|(v, _)| v.is_finite())
            .collect();
        table.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
        let top = match family {
            Family::Mini => None,
            Family::E4M3FN => Some((480.0, 0x7F)),
            Family::E5M2 => Some((65536.0, 0x7C)),
        };
        Some(RefFloat {
            dtype,
            exp,
            mant,
            family,
            table,
            top,
        })
    }

    /// Sign bit of a code.
    pub fn sign_bit(&self) -> u64 {
        1 << (self.exp + self.mant)
    }

    /// Code for a NaN input with the given sign.
    pub fn nan_code(&self, negative: bool) -> u64 {
        let s = if negative { self.sign_bit() } else { 0 };
        match self.family {
            Family::Mini => 0,
            Family::E4M3FN => 0x7F | s,
            Family::E5M2 => 0x7E | s,
        }
    }

    /// Magnitude code of `a >= 0` (may be +inf) given `j`, the index of the largest table
    /// value `<= a`.
    fn pick(&self, a: f64, j: usize) -> u64 {
        let (lo, lo_code) = self.table[j];
        let (hi, hi_code) = match self.table.get(j + 1) {
            Some(&next) => next,
            None => match self.top {
                Some(t) => t,
                None => return lo_code, // above max: saturate
            },
        };
        if a >= hi {
            return hi_code; // only reachable for fp8 at or beyond the virtual top
        }
        let mid = (lo + hi) / 2.0;
        if a < mid || (a == mid && lo_code % 2 == 0) {
            lo_code
        } else {
            hi_code
        }
    }

    /// Index of the largest table value `<= a` (`a >= 0`).
    pub fn index_of(&self, a: f64) -> usize {
        self.table.partition_point(|&(v, _)| v <= a) - 1
    }

    /// Reference encoding of `x`.
    pub fn encode(&self, x: f32) -> u64 {
        let negative = x.is_sign_negative();
        if x.is_nan() {
            return self.nan_code(negative);
        }
        let a = f64::from(x.abs());
        let mag = self.pick(a, self.index_of(a));
        if negative {
            mag | self.sign_bit()
        } else {
            mag
        }
    }

    /// A walker for non-decreasing magnitudes, starting at `a0`.
    pub fn walker(&self, a0: f64) -> Walker<'_> {
        Walker {
            r: self,
            j: self.index_of(a0),
        }
    }

    /// Interesting inputs: every value, every midpoint and quarter point, each ±1 f32 ulp,
    /// values beyond max, both signs.
    pub fn dense_inputs(&self) -> Vec<f32> {
        let mut pts: Vec<f64> = self.table.iter().map(|p| p.0).collect();
        let n = pts.len();
        let step = pts[n - 1] - pts[n - 2];
        let top = self.top.map_or(pts[n - 1] + step, |t| t.0);
        pts.extend([top, 2.0 * top, 1e30]);
        let mut base = Vec::new();
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let m = (a + b) / 2.0;
            base.extend([a, m, (a + m) / 2.0, (m + b) / 2.0]);
        }
        base.push(*pts.last().unwrap());
        let mut out = Vec::new();
        for v in base {
            let f = v as f32;
            for g in [f, next_up(f), next_down(f)] {
                if g >= 0.0 {
                    out.extend([g, -g]);
                }
            }
        }
        out.extend([
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::MAX,
        ]);
        out.extend([f32::from_bits(1), f32::from_bits(0x8000_0001), -0.0]);
        out
    }
}

/// Moving-pointer reference encoder for a non-decreasing sequence of magnitudes.
pub struct Walker<'a> {
    r: &'a RefFloat,
    j: usize,
}

impl Walker<'_> {
    /// Magnitude code of `a`, which must be `>=` every earlier argument (may be +inf).
    #[inline]
    pub fn encode_mag(&mut self, a: f64) -> u64 {
        let t = &self.r.table;
        while self.j + 1 < t.len() && t[self.j + 1].0 <= a {
            self.j += 1;
        }
        self.r.pick(a, self.j)
    }
}

/// Next f32 toward +inf (for finite non-NaN input).
pub fn next_up(x: f32) -> f32 {
    if x == 0.0 {
        return f32::from_bits(1);
    }
    let b = x.to_bits();
    f32::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

/// Next f32 toward -inf (for finite non-NaN input).
pub fn next_down(x: f32) -> f32 {
    -next_up(-x)
}

/// Reference float -> int conversion: toward zero, saturate, NaN -> 0, as a code.
pub fn ref_int(bits: u32, signed: bool, x: f32) -> u64 {
    if x.is_nan() {
        return 0;
    }
    let t = f64::from(x).trunc();
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let v: i128 = if signed {
        let lim = 2f64.powi(bits as i32 - 1);
        if t >= lim {
            (1i128 << (bits - 1)) - 1
        } else if t < -lim {
            -(1i128 << (bits - 1))
        } else {
            t as i128
        }
    } else {
        let lim = 2f64.powi(bits as i32);
        if t >= lim {
            (1i128 << bits) - 1
        } else if t < 0.0 {
            0
        } else {
            t as i128
        }
    };
    (v as u64) & mask
}

/// Deterministic splitmix64 generator.
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
