//! `f32` arithmetic and comparison: IEEE binary32, round to nearest even, denormals kept.

use super::val32;
use crate::ir::{Cmp, FloatBin, FloatOp, FloatUn};

/// The canonical NaN the GPU produces for NaN results.
pub(crate) const CANONICAL_NAN: u32 = 0x7fff_ffff;

/// The bits of an arithmetic result, with NaN made canonical.
pub(crate) fn canon(x: f32) -> u32 {
    if x.is_nan() {
        CANONICAL_NAN
    } else {
        x.to_bits()
    }
}

/// `min.f32`: a NaN operand yields the other; `min(-0, +0) = -0`.
pub(crate) fn min(a: f32, b: f32) -> u32 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => CANONICAL_NAN,
        (true, false) => b.to_bits(),
        (false, true) => a.to_bits(),
        _ if a == b => (a.to_bits() | b.to_bits()) & 0x8000_0000 | (a.to_bits() & 0x7fff_ffff),
        _ if a < b => a.to_bits(),
        _ => b.to_bits(),
    }
}

/// `max.f32`: a NaN operand yields the other; `max(-0, +0) = +0`.
pub(crate) fn max(a: f32, b: f32) -> u32 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => CANONICAL_NAN,
        (true, false) => b.to_bits(),
        (false, true) => a.to_bits(),
        _ if a == b => a.to_bits() & b.to_bits() & 0x8000_0000 | (a.to_bits() & 0x7fff_ffff),
        _ if a > b => a.to_bits(),
        _ => b.to_bits(),
    }
}

/// `setp.CMP.f32`: ordered comparisons are false on NaN; `neu` is true on NaN.
pub(crate) fn compare(cmp: Cmp, a: f32, b: f32) -> bool {
    match cmp {
        Cmp::Eq => a == b,
        // Ordered not-equal: false when either is NaN.
        Cmp::Ne => !a.is_nan() && !b.is_nan() && a != b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        Cmp::Neu => a != b,
    }
}

/// Executes `op` on the registers `r`.
pub(crate) fn exec(op: &FloatOp, r: &mut [u64]) {
    let f = |r: &[u64], s| f32::from_bits(val32(r, s));
    match *op {
        FloatOp::Bin { op, d, a, b } => {
            let (x, y) = (f(r, a), f(r, b));
            r[d as usize] = match op {
                FloatBin::Add => canon(x + y),
                FloatBin::Sub => canon(x - y),
                FloatBin::Mul => canon(x * y),
                FloatBin::Div => canon(x / y),
                FloatBin::Min => min(x, y),
                FloatBin::Max => max(x, y),
            } as u64;
        }
        FloatOp::Fma { d, a, b, c } => {
            r[d as usize] = canon(f(r, a).mul_add(f(r, b), f(r, c))) as u64;
        }
        FloatOp::Un { op, d, a } => {
            let bits = val32(r, a);
            let x = f32::from_bits(bits);
            r[d as usize] = match op {
                FloatUn::Neg => bits ^ 0x8000_0000,
                FloatUn::Abs => bits & 0x7fff_ffff,
                FloatUn::Sqrt => canon(x.sqrt()),
                FloatUn::Ex2 => canon(x.exp2()),
                FloatUn::Lg2 => canon(x.log2()),
            } as u64;
        }
        FloatOp::Setp { cmp, d, a, b } => {
            r[d as usize] = compare(cmp, f(r, a), f(r, b)) as u64;
        }
    }
}
