//! `cvt`: integer ↔ float conversions, rounding to integral values, 32 → 64-bit extension.

use super::{float::canon, val32};
use crate::ir::{CvtKind, CvtOp};

/// The result bits of converting the 32-bit source `a`.
pub(crate) fn convert(kind: CvtKind, a: u32) -> u64 {
    let x = f32::from_bits(a);
    match kind {
        // Rust's integer → float casts round to nearest even.
        CvtKind::F32S32 => (a as i32 as f32).to_bits() as u64,
        CvtKind::F32U32 => (a as f32).to_bits() as u64,
        // Rust's float → integer casts truncate, saturate and send NaN to 0.
        CvtKind::S32F32 => (x as i32) as u32 as u64,
        CvtKind::U32F32 => (x as u32) as u64,
        CvtKind::Rni => canon(x.round_ties_even()) as u64,
        CvtKind::Rmi => canon(x.floor()) as u64,
        CvtKind::Rpi => canon(x.ceil()) as u64,
        CvtKind::U64U32 => a as u64,
        CvtKind::S64S32 => a as i32 as i64 as u64,
    }
}

/// Executes `op` on the registers `r`.
pub(crate) fn exec(op: &CvtOp, r: &mut [u64]) {
    r[op.d as usize] = convert(op.kind, val32(r, op.a));
}
