//! Conversions and bit moves.
//!
//! # Dequantization by bit tricks
//! An integer `q` in `[0, 2^23)` placed in the mantissa of the `f32` `2^23` (bits
//! `0x4B000000 | q`) is the float `2^23 + q` exactly, so `f32(q) = bits(0x4B000000 | q) −
//! 2^23`: one `lop3` (which also applies the extraction mask: `(x & m) | magic`) and one
//! `sub`, instead of an `and` and a quarter-rate `cvt`. A signed `q` in `[−2^22, 2^22)` is
//! added to the bits of `1.5·2^23` (`0x4B400000`) as an integer and `1.5·2^23` subtracted
//! as a float. The rule fires on any width from 1 to 23 bits, for every weight type: it
//! looks only at the range the extraction proves (`(x >> s) & m`, `x >> s` unsigned with
//! `s ≥ 9`, or `(x << a) >> s` signed with `s ≥ 10`); everything else uses `cvt.rn`, which
//! rounds like the thread IR.

use super::{class_of, illegal, Selector, R};
use crate::backend::ptx::mir::{Class, Operand, Reg};
use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, Ty};

/// `2^23` and `1.5·2^23` as `f32` bits.
const MAGIC_U: u32 = 0x4B00_0000;
const MAGIC_S: u32 = 0x4B40_0000;
/// `lop3` table for `(a & b) | c`.
const LUT_AND_OR: i64 = 0xEA;

/// What the extraction proves about an integer before its conversion.
enum Range {
    /// `(x & mask)` with `mask < 2^23`: select `x`, fold the mask into the `lop3`.
    Masked(ExprId, u32),
    /// A value already in `[0, 2^23)`.
    Small,
    /// A signed value in `[−2^22, 2^22)`.
    SignedSmall,
    /// Nothing useful.
    Any,
}

impl Selector<'_> {
    fn range(&self, e: ExprId) -> Range {
        let node = self.k.exprs.try_get(e);
        match node {
            Some(Expr::Binary(BinaryOp::And, x, m)) => match self.konst(*m) {
                Some(m) if (0..(1 << 23)).contains(&m) => Range::Masked(*x, m as u32),
                _ => Range::Any,
            },
            Some(Expr::Binary(BinaryOp::Shr, x, s)) => {
                let signed = self.k.ty(*x) == Some(Ty::I32);
                match (self.konst(*s), signed) {
                    (Some(s), false) if (9..32).contains(&s) => Range::Small,
                    (Some(s), true) if (10..32).contains(&s) => Range::SignedSmall,
                    _ => Range::Any,
                }
            }
            Some(Expr::Const(Const::U32(v))) if *v < (1 << 23) => Range::Small,
            _ => Range::Any,
        }
    }

    pub(super) fn cast(&mut self, to: Ty, a: ExprId) -> R<Reg> {
        let from = self.ty(a)?;
        match (from, to) {
            _ if from == to => self.value(a),
            // Same bits, other interpretation.
            (Ty::I32 | Ty::U32, Ty::I32 | Ty::U32) => self.value(a),
            (Ty::I32 | Ty::U32, Ty::F32) => self.int_to_f32(from, a),
            (Ty::F32, Ty::I32) => {
                let x = self.value(a)?;
                Ok(self.op1(Class::B32, "cvt.rzi.s32.f32", vec![Operand::Reg(x)]))
            }
            (Ty::F32, Ty::U32) => {
                let x = self.value(a)?;
                Ok(self.op1(Class::B32, "cvt.rzi.u32.f32", vec![Operand::Reg(x)]))
            }
            _ => Err(illegal(format!(
                "a cast from {} to {}",
                from.name(),
                to.name()
            ))),
        }
    }

    fn int_to_f32(&mut self, from: Ty, a: ExprId) -> R<Reg> {
        let bits = match self.range(a) {
            Range::Masked(x, m) => {
                let x = self.value(x)?;
                Some(self.op1(
                    Class::B32,
                    "lop3.b32",
                    vec![
                        Operand::Reg(x),
                        Operand::Imm(i64::from(m)),
                        Operand::Imm(i64::from(MAGIC_U)),
                        Operand::Imm(LUT_AND_OR),
                    ],
                ))
                .map(|r| (r, MAGIC_U))
            }
            Range::Small => {
                let x = self.value(a)?;
                Some((
                    self.op1(
                        Class::B32,
                        "or.b32",
                        vec![Operand::Reg(x), Operand::Imm(i64::from(MAGIC_U))],
                    ),
                    MAGIC_U,
                ))
            }
            Range::SignedSmall => {
                let x = self.value(a)?;
                Some((
                    self.op1(
                        Class::B32,
                        "add.s32",
                        vec![Operand::Reg(x), Operand::Imm(i64::from(MAGIC_S))],
                    ),
                    MAGIC_S,
                ))
            }
            Range::Any => None,
        };
        if let Some((bits, magic)) = bits {
            let f = self.op1(Class::F32, "mov.b32", vec![Operand::Reg(bits)]);
            return Ok(self.op1(
                Class::F32,
                "sub.rn.f32",
                vec![Operand::Reg(f), Operand::F32(magic)],
            ));
        }
        let x = self.value(a)?;
        let op = if from == Ty::I32 {
            "cvt.rn.f32.s32"
        } else {
            "cvt.rn.f32.u32"
        };
        Ok(self.op1(Class::F32, op, vec![Operand::Reg(x)]))
    }

    pub(super) fn bitcast(&mut self, to: Ty, a: ExprId) -> R<Reg> {
        let from = self.ty(a)?;
        let (cf, ct) = (class_of(from)?, class_of(to)?);
        if cf == Class::Pred || ct == Class::Pred {
            return Err(illegal("a bitcast of a bool"));
        }
        let x = self.value(a)?;
        if cf == ct {
            return Ok(x);
        }
        Ok(self.op1(ct, "mov.b32", vec![Operand::Reg(x)]))
    }
}
