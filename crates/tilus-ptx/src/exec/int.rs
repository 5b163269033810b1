//! Integer, predicate, move and 64-bit address instructions.

use super::{val, val32};
use crate::ir::{Cmp, IntBin, IntOp, IntUn, PredBin};

/// `lop3`: bit `k` of the result is bit `(a_k << 2 | b_k << 1 | c_k)` of `lut`.
pub(crate) fn lop3(a: u32, b: u32, c: u32, lut: u8) -> u32 {
    let mut d = 0u32;
    for k in 0..8u32 {
        if (lut >> k) & 1 == 1 {
            let pick = |x: u32, bit: u32| if (k >> bit) & 1 == 1 { x } else { !x };
            d |= pick(a, 2) & pick(b, 1) & pick(c, 0);
        }
    }
    d
}

/// `prmt` in the default mode: byte `i` of the result is byte `sel[4i..4i+3] & 7` of the
/// 8-byte value `{b, a}` (a is bytes 0-3); bit 3 of a selector nibble replicates that
/// byte's sign bit.
pub(crate) fn prmt(a: u32, b: u32, sel: u32) -> u32 {
    let bytes = ((b as u64) << 32) | a as u64;
    let mut d = 0u32;
    for i in 0..4 {
        let nibble = (sel >> (4 * i)) & 0xf;
        let byte = ((bytes >> (8 * (nibble & 7))) & 0xff) as u32;
        let byte = if nibble & 8 != 0 {
            if byte & 0x80 != 0 {
                0xff
            } else {
                0
            }
        } else {
            byte
        };
        d |= byte << (8 * i);
    }
    d
}

/// A 32-bit two-operand operation; `None` for division or remainder by zero.
pub(crate) fn bin(op: IntBin, a: u32, b: u32) -> Option<u32> {
    let (sa, sb) = (a as i32, b as i32);
    Some(match op {
        IntBin::Add => a.wrapping_add(b),
        IntBin::Sub => a.wrapping_sub(b),
        IntBin::MulLo => a.wrapping_mul(b),
        IntBin::DivS => (sb != 0).then(|| sa.wrapping_div(sb))? as u32,
        IntBin::DivU => a.checked_div(b)?,
        IntBin::RemS => (sb != 0).then(|| sa.wrapping_rem(sb))? as u32,
        IntBin::RemU => a.checked_rem(b)?,
        IntBin::MinS => sa.min(sb) as u32,
        IntBin::MinU => a.min(b),
        IntBin::MaxS => sa.max(sb) as u32,
        IntBin::MaxU => a.max(b),
        IntBin::And => a & b,
        IntBin::Or => a | b,
        IntBin::Xor => a ^ b,
        IntBin::Shl => a.checked_shl(b).unwrap_or(0),
        IntBin::ShrU => a.checked_shr(b).unwrap_or(0),
        IntBin::ShrS => sa.checked_shr(b).unwrap_or(sa >> 31) as u32,
    })
}

fn compare<T: PartialOrd>(cmp: Cmp, a: T, b: T) -> bool {
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne | Cmp::Neu => a != b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
    }
}

/// Executes `op` on the registers `r`; `Err` names what went wrong.
pub(crate) fn exec(op: &IntOp, r: &mut [u64]) -> Result<(), String> {
    match *op {
        IntOp::Bin { op, d, a, b } => {
            let (x, y) = (val32(r, a), val32(r, b));
            let v = bin(op, x, y).ok_or_else(|| format!("division by zero ({x} / 0)"))?;
            r[d as usize] = v as u64;
        }
        IntOp::Un { op, d, a } => {
            let x = val32(r, a);
            r[d as usize] = match op {
                IntUn::Neg => (x as i32).wrapping_neg() as u32,
                IntUn::Abs => (x as i32).wrapping_abs() as u32,
                IntUn::Not => !x,
            } as u64;
        }
        IntOp::Lop3 { d, a, b, c, lut } => {
            r[d as usize] = lop3(val32(r, a), val32(r, b), val32(r, c), lut) as u64;
        }
        IntOp::Prmt { d, a, b, sel } => {
            r[d as usize] = prmt(val32(r, a), val32(r, b), val32(r, sel)) as u64;
        }
        IntOp::Mov32 { d, a } => r[d as usize] = val32(r, a) as u64,
        IntOp::Mov64 { d, a } => r[d as usize] = val(r, a),
        IntOp::Setp {
            cmp,
            signed,
            d,
            a,
            b,
        } => {
            let (x, y) = (val32(r, a), val32(r, b));
            let t = if signed {
                compare(cmp, x as i32, y as i32)
            } else {
                compare(cmp, x, y)
            };
            r[d as usize] = t as u64;
        }
        IntOp::Selp { d, a, b, p } => {
            let v = if r[p as usize] != 0 {
                val32(r, a)
            } else {
                val32(r, b)
            };
            r[d as usize] = v as u64;
        }
        IntOp::PredBin { op, d, a, b } => {
            let (x, y) = (r[a as usize] != 0, r[b as usize] != 0);
            r[d as usize] = match op {
                PredBin::And => x & y,
                PredBin::Or => x | y,
                PredBin::Xor => x ^ y,
            } as u64;
        }
        IntOp::PredNot { d, a } => r[d as usize] = (r[a as usize] == 0) as u64,
        IntOp::PredMov { d, a } => r[d as usize] = (r[a as usize] != 0) as u64,
        IntOp::MulWide { signed, d, a, b } => {
            let (x, y) = (val32(r, a), val32(r, b));
            r[d as usize] = if signed {
                ((x as i32 as i64) * (y as i32 as i64)) as u64
            } else {
                (x as u64) * (y as u64)
            };
        }
        IntOp::Add64 { d, a, b } => r[d as usize] = val(r, a).wrapping_add(val(r, b)),
    }
    Ok(())
}
