//! The host quantizer and dequantizer.
//!
//! Weights `w` are `[N, K]` row-major `f32` (one row per output channel, `K` the reduction
//! length). They are split along `K` into `G` groups ([`GroupSize`]); each (group, column)
//! has a scale `s > 0`, already rounded to the activation dtype, and a zero point `z`. A
//! code `q` stands for the value `(q − z)·s` ([`dequantize`], exact in `f64`).
//!
//! | weight type | mode | `z` | `s` | code |
//! |---|---|---|---|---|
//! | float | symmetric | 0 | `maxabs / max` | `encode(clamp(w/s, ±max))` (RNE) |
//! | `iN`, N ≥ 2 | symmetric | 0 | `maxabs / (2^(N−1) − 1)` | `clamp(rne(w/s))` |
//! | `i1` | symmetric | −0.5 | `2·maxabs` | `clamp(rne(w/s + z))` ∈ {−1, 0} |
//! | `uN` | symmetric | `(2^N − 1)/2` | `maxabs / z` | `clamp(rne(w/s + z))` |
//! | ints | asymmetric | `clamp(qmin − rne(lo/s))` | `(hi − lo)/(qmax − qmin)` | `clamp(rne(w/s) + z)` |
//!
//! Here `maxabs` is the group's largest |w|, and for the asymmetric mode `lo = min(w, 0)`,
//! `hi = max(w, 0)` (the range always contains 0, so `z` is a valid code and zero is
//! represented exactly). The unsigned symmetric levels are `−z..z` in steps of 1 (u4:
//! −7.5, −6.5, …, 7.5). Floats cannot be quantized asymmetrically.
//!
//! **Scales** are rounded to the activation dtype *upward* (to the nearest representable
//! value that is ≥ the exact scale), so `|w/s|` never exceeds the code range and the
//! clamp never adds error. Codes are computed with the
//! rounded scale, so [`dequantize`] is consistent with what the kernel computes. A group of
//! zeros gets `s = 1`, except for the types without a zero level in symmetric mode (`uN`,
//! `i1`), which get the smallest positive value of the activation dtype (error `s/2`).
//!
//! **Error bound** (per element; tested with proptest): integer types:
//! `|w − deq| ≤ s/2`; float types: `|w − deq| ≤ s · ulp_T(w/s)/2`, half a unit in the last
//! place of the weight type at `w/s` (for `|w/s|` below the smallest normal, half the
//! smallest subnormal; types without subnormals round to zero or the smallest normal, so
//! the bound there is half the smallest normal).

use tilus_ir::dtype::DType;

use crate::config::{is_activation_type, is_weight_type, GroupSize, QuantMode};
use crate::error::{KernelError, Result};

/// Quantized weights: codes, scales and zero points.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// The weight dtype.
    pub wtype: DType,
    /// The activation dtype the scales (and zero points) are rounded to.
    pub act: DType,
    /// Symmetric or asymmetric.
    pub mode: QuantMode,
    /// Output channels (rows of `w`).
    pub n: usize,
    /// Reduction length (columns of `w`).
    pub k: usize,
    /// The group size along `k`.
    pub group: GroupSize,
    /// `[N, K]` row-major codes of `wtype` (low bits of each `u64`).
    pub codes: Vec<u64>,
    /// `[G, N]` row-major scales, exactly representable in `act`.
    pub scales: Vec<f32>,
    /// `[G, N]` row-major integer zero points (asymmetric mode only).
    pub zeros: Option<Vec<f32>>,
}

impl Quantized {
    /// The number of groups `G`.
    pub fn num_groups(&self) -> usize {
        self.group.num_groups(self.k)
    }

    /// The zero point of (group `g`, column `n`): the stored one in asymmetric mode, else
    /// the constant [`symmetric_zero`] of the weight type.
    pub fn zero(&self, g: usize, n: usize) -> f64 {
        match &self.zeros {
            Some(z) => z.get(g * self.n + n).copied().map_or(0.0, f64::from),
            None => symmetric_zero(self.wtype),
        }
    }
}

/// The constant zero point of symmetric quantization: `(2^N − 1)/2` for `uN`, −0.5 for
/// `i1`, 0 otherwise.
pub fn symmetric_zero(wtype: DType) -> f64 {
    match wtype {
        DType::Int {
            bits,
            signed: false,
        } => ((1u64 << bits.min(63)) - 1) as f64 / 2.0,
        DType::Int {
            bits: 1,
            signed: true,
        } => -0.5,
        _ => 0.0,
    }
}

/// The largest `|q − z|` of symmetric quantization (what `maxabs` maps to).
fn symmetric_half_range(wtype: DType) -> f64 {
    match wtype {
        DType::Int { signed: false, .. } => symmetric_zero(wtype),
        DType::Int {
            bits: 1,
            signed: true,
        } => 0.5,
        _ => wtype.max_value(),
    }
}

/// The smallest value of `act` that is ≥ `x` (`x` finite and > 0), or `None` on overflow.
pub fn round_up_to(act: DType, x: f64) -> Option<f64> {
    let code = act.encode_f64(x);
    let mut v = act.decode_f64(code);
    if v < x {
        // Positive finite codes of IEEE-like formats are ordered: the next code is the next
        // value up.
        v = act.decode_f64(code + 1);
    }
    (v.is_finite() && v > 0.0).then_some(v)
}

/// Quantizes `[n, k]` row-major weights `w` to `wtype` with scales in `act`.
///
/// Errors: a length mismatch, zero `n`/`k`/group size, an unsupported dtype, asymmetric
/// floats, a non-finite weight, or a scale that overflows `act`.
pub fn quantize(
    w: &[f32],
    n: usize,
    k: usize,
    wtype: DType,
    group: GroupSize,
    mode: QuantMode,
    act: DType,
) -> Result<Quantized> {
    if !is_weight_type(wtype) {
        return Err(KernelError::UnsupportedDType {
            role: "weight",
            dtype: wtype,
            expected: "an integer of 1 to 8 bits, a minifloat, f8e4m3fn or f8e5m2",
        });
    }
    if !is_activation_type(act) {
        return Err(KernelError::UnsupportedDType {
            role: "activation",
            dtype: act,
            expected: "f16 or bf16",
        });
    }
    if mode == QuantMode::Asymmetric && !wtype.is_int() {
        return Err(KernelError::AsymmetricFloat(wtype));
    }
    if n == 0 || k == 0 {
        return Err(KernelError::InvalidSize {
            what: if n == 0 { "n" } else { "k" },
            value: 0,
            reason: "weights need at least one row and one column",
        });
    }
    if group == GroupSize::Size(0) {
        return Err(KernelError::InvalidSize {
            what: "group",
            value: 0,
            reason: "a group holds at least one element",
        });
    }
    let expected = n.checked_mul(k).ok_or(KernelError::InvalidSize {
        what: "n·k",
        value: usize::MAX,
        reason: "overflows",
    })?;
    if w.len() != expected {
        return Err(KernelError::ShapeMismatch {
            what: "weights",
            expected,
            got: w.len(),
        });
    }
    if let Some(i) = w.iter().position(|x| !x.is_finite()) {
        return Err(KernelError::NonFiniteWeight {
            row: i / k,
            col: i % k,
            value: w[i],
        });
    }
    let glen = group.len(k);
    let groups = group.num_groups(k);
    let mut codes = vec![0u64; n * k];
    let mut scales = vec![0f32; groups * n];
    let mut zeros = (mode == QuantMode::Asymmetric).then(|| vec![0f32; groups * n]);
    let (qmin, qmax) = (wtype.min_value(), wtype.max_value());
    for row in 0..n {
        for g in 0..groups {
            let lo_k = g * glen;
            let hi_k = ((g + 1) * glen).min(k);
            let vals = &w[row * k + lo_k..row * k + hi_k];
            let (s, z) = match mode {
                QuantMode::Symmetric => {
                    let maxabs = vals.iter().fold(0f64, |m, &x| m.max(f64::from(x).abs()));
                    let exact = if maxabs == 0.0 {
                        zero_group_scale(wtype, act)
                    } else {
                        maxabs / symmetric_half_range(wtype)
                    };
                    (scale(act, exact, g, row)?, symmetric_zero(wtype))
                }
                QuantMode::Asymmetric => {
                    let lo = vals.iter().fold(0f64, |m, &x| m.min(f64::from(x)));
                    let hi = vals.iter().fold(0f64, |m, &x| m.max(f64::from(x)));
                    let exact = if hi == lo {
                        1.0
                    } else {
                        (hi - lo) / (qmax - qmin)
                    };
                    let s = scale(act, exact, g, row)?;
                    let z = (qmin - (lo / s).round_ties_even()).clamp(qmin, qmax);
                    (s, z)
                }
            };
            scales[g * n + row] = s as f32;
            if let Some(zs) = zeros.as_mut() {
                zs[g * n + row] = z as f32;
            }
            for (j, &x) in vals.iter().enumerate() {
                let r = f64::from(x) / s;
                let code = if wtype.is_int() {
                    // `qmin..=qmax` are exact integers of at most 8 bits, so the cast is exact.
                    let q = (r + z).round_ties_even().clamp(qmin, qmax) as i64;
                    wtype.wrap_int(q)
                } else {
                    wtype.encode_f64(r.clamp(-qmax, qmax))
                };
                codes[row * k + lo_k + j] = code;
            }
        }
    }
    Ok(Quantized {
        wtype,
        act,
        mode,
        n,
        k,
        group,
        codes,
        scales,
        zeros,
    })
}

/// The scale of a group of zeros: 1 when the weight type has an exact zero level (so the
/// group dequantizes to exact zeros); for the symmetric unsigned types and `i1`, whose
/// levels are ±0.5, ±1.5, … (no zero), the smallest positive value of `act`, so the error
/// `s/2` is as small as possible.
fn zero_group_scale(wtype: DType, act: DType) -> f64 {
    if symmetric_zero(wtype).fract() == 0.0 {
        1.0
    } else {
        act.smallest_subnormal().unwrap_or(1.0)
    }
}

fn scale(act: DType, exact: f64, group: usize, column: usize) -> Result<f64> {
    round_up_to(act, exact).ok_or(KernelError::ScaleOverflow {
        group,
        column,
        scale: exact,
        act,
    })
}

/// The values the codes stand for: `[N, K]` row-major `(q − z)·s`, exact in `f64` from the
/// decoded code, the (rounded) scale and the zero point.
pub fn dequantize(q: &Quantized) -> Vec<f64> {
    let glen = q.group.len(q.k);
    let mut out = vec![0f64; q.codes.len()];
    for (i, (o, &code)) in out.iter_mut().zip(&q.codes).enumerate() {
        let (row, col) = (i / q.k.max(1), i % q.k.max(1));
        let g = col / glen.max(1);
        let s = q.scales.get(g * q.n + row).copied().map_or(0.0, f64::from);
        *o = (q.wtype.decode_f64(code) - q.zero(g, row)) * s;
    }
    out
}

/// The per-element error bound of [`quantize`] for a weight `w` quantized with scale `s`
/// (see the module documentation).
pub fn element_error_bound(wtype: DType, w: f64, s: f64) -> f64 {
    if wtype.is_int() {
        return s / 2.0;
    }
    let (Some(mant), Some(min_normal)) = (wtype.mantissa_bits(), wtype.smallest_normal()) else {
        return s / 2.0;
    };
    let r = (w / s).abs().min(wtype.max_value());
    let ulp = if r < min_normal {
        // Subnormal range: spacing of the subnormals, or (no mantissa bits) the gap to the
        // smallest normal.
        wtype.smallest_subnormal().unwrap_or(min_normal)
    } else {
        // r is a normal f64 here, so its biased exponent field gives floor(log2(r)) exactly.
        let e = ((r.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        2f64.powi(e - mant as i32)
    };
    s * ulp / 2.0
}
