//! Opcode tables: which PTX instruction computes a thread-IR operator on a register class.
//! Data, one row per (operator, operand kind); a missing row is an operator the word-legal
//! form never contains on that kind (the legalizer expanded it), reported as illegal.

use crate::thread_ir::{BinaryOp, UnaryOp};

/// What the operands of an operator are, as selection distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `i32`.
    S32,
    /// `u32`.
    U32,
    /// `f32`.
    F32,
    /// `bool`.
    Pred,
}

/// Binary operators: (operator, operand kind, opcode). Comparisons are in [`COMPARE`].
pub const BINARY: &[(BinaryOp, Kind, &str)] = &[
    // Integer arithmetic wraps, like the thread IR.
    (BinaryOp::Add, Kind::S32, "add.s32"),
    (BinaryOp::Add, Kind::U32, "add.s32"),
    (BinaryOp::Sub, Kind::S32, "sub.s32"),
    (BinaryOp::Sub, Kind::U32, "sub.s32"),
    (BinaryOp::Mul, Kind::S32, "mul.lo.s32"),
    (BinaryOp::Mul, Kind::U32, "mul.lo.s32"),
    // Truncating division and remainder (a zero divisor is undefined in PTX; lowering never
    // divides by zero for verified programs).
    (BinaryOp::Div, Kind::S32, "div.s32"),
    (BinaryOp::Div, Kind::U32, "div.u32"),
    (BinaryOp::Rem, Kind::S32, "rem.s32"),
    (BinaryOp::Rem, Kind::U32, "rem.u32"),
    (BinaryOp::Min, Kind::S32, "min.s32"),
    (BinaryOp::Min, Kind::U32, "min.u32"),
    (BinaryOp::Max, Kind::S32, "max.s32"),
    (BinaryOp::Max, Kind::U32, "max.u32"),
    // Bitwise.
    (BinaryOp::And, Kind::S32, "and.b32"),
    (BinaryOp::And, Kind::U32, "and.b32"),
    (BinaryOp::Or, Kind::S32, "or.b32"),
    (BinaryOp::Or, Kind::U32, "or.b32"),
    (BinaryOp::Xor, Kind::S32, "xor.b32"),
    (BinaryOp::Xor, Kind::U32, "xor.b32"),
    // Shifts: the legalizer keeps amounts below 32, where PTX and the thread IR agree.
    (BinaryOp::Shl, Kind::S32, "shl.b32"),
    (BinaryOp::Shl, Kind::U32, "shl.b32"),
    (BinaryOp::Shr, Kind::S32, "shr.s32"),
    (BinaryOp::Shr, Kind::U32, "shr.u32"),
    // Logic on predicates.
    (BinaryOp::And, Kind::Pred, "and.pred"),
    (BinaryOp::Or, Kind::Pred, "or.pred"),
    (BinaryOp::Xor, Kind::Pred, "xor.pred"),
    (BinaryOp::Ne, Kind::Pred, "xor.pred"),
    // IEEE binary32, round to nearest even, subnormals kept (no .ftz).
    (BinaryOp::Add, Kind::F32, "add.rn.f32"),
    (BinaryOp::Sub, Kind::F32, "sub.rn.f32"),
    (BinaryOp::Mul, Kind::F32, "mul.rn.f32"),
    (BinaryOp::Div, Kind::F32, "div.rn.f32"),
];

/// Comparisons: (operator, operand kind, opcode). Ordered float comparisons are false on
/// NaN; `!=` is true on NaN (`neu`), like the thread IR.
pub const COMPARE: &[(BinaryOp, Kind, &str)] = &[
    (BinaryOp::Eq, Kind::S32, "setp.eq.s32"),
    (BinaryOp::Ne, Kind::S32, "setp.ne.s32"),
    (BinaryOp::Lt, Kind::S32, "setp.lt.s32"),
    (BinaryOp::Le, Kind::S32, "setp.le.s32"),
    (BinaryOp::Gt, Kind::S32, "setp.gt.s32"),
    (BinaryOp::Ge, Kind::S32, "setp.ge.s32"),
    (BinaryOp::Eq, Kind::U32, "setp.eq.u32"),
    (BinaryOp::Ne, Kind::U32, "setp.ne.u32"),
    (BinaryOp::Lt, Kind::U32, "setp.lt.u32"),
    (BinaryOp::Le, Kind::U32, "setp.le.u32"),
    (BinaryOp::Gt, Kind::U32, "setp.gt.u32"),
    (BinaryOp::Ge, Kind::U32, "setp.ge.u32"),
    (BinaryOp::Eq, Kind::F32, "setp.eq.f32"),
    (BinaryOp::Ne, Kind::F32, "setp.neu.f32"),
    (BinaryOp::Lt, Kind::F32, "setp.lt.f32"),
    (BinaryOp::Le, Kind::F32, "setp.le.f32"),
    (BinaryOp::Gt, Kind::F32, "setp.gt.f32"),
    (BinaryOp::Ge, Kind::F32, "setp.ge.f32"),
];

/// Unary operators with a one-instruction form: (operator, operand kind, opcode).
/// `exp`, `log`, `rsqrt` and `sigmoid` are sequences (see `exprs.rs`).
pub const UNARY: &[(UnaryOp, Kind, &str)] = &[
    (UnaryOp::Neg, Kind::S32, "neg.s32"),
    (UnaryOp::Neg, Kind::U32, "neg.s32"),
    (UnaryOp::Neg, Kind::F32, "neg.f32"),
    (UnaryOp::Not, Kind::S32, "not.b32"),
    (UnaryOp::Not, Kind::U32, "not.b32"),
    (UnaryOp::Not, Kind::Pred, "not.pred"),
    (UnaryOp::Abs, Kind::S32, "abs.s32"),
    (UnaryOp::Abs, Kind::F32, "abs.f32"),
    // Approximate, as the thread IR allows for transcendental functions.
    (UnaryOp::Exp2, Kind::F32, "ex2.approx.f32"),
    (UnaryOp::Sqrt, Kind::F32, "sqrt.rn.f32"),
    (UnaryOp::Round, Kind::F32, "cvt.rni.f32.f32"),
    (UnaryOp::Floor, Kind::F32, "cvt.rmi.f32.f32"),
    (UnaryOp::Ceil, Kind::F32, "cvt.rpi.f32.f32"),
];

/// The opcode of a row, if any.
pub fn find<O: PartialEq + Copy>(
    table: &[(O, Kind, &'static str)],
    op: O,
    kind: Kind,
) -> Option<&'static str> {
    table
        .iter()
        .find(|(o, k, _)| *o == op && *k == kind)
        .map(|(_, _, s)| *s)
}
