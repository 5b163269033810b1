//! Register values and the scalar semantics of the thread IR's operators.

use half::f16;
use tilus_ir::dtype::DType;

use super::super::{BinaryOp, Const, Ty, UnaryOp};
use super::error::{ThreadInterpError, ThreadInterpErrorKind};

/// A register value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A truth value.
    Bool(bool),
    /// An `i32`.
    I32(i32),
    /// A `u32`.
    U32(u32),
    /// An `f32`.
    F32(f32),
    /// An `f16`.
    F16(f16),
    /// An `i64`.
    I64(i64),
    /// A `u64`.
    U64(u64),
}

type R<T> = Result<T, ThreadInterpError>;

fn err<T>(kind: ThreadInterpErrorKind, msg: impl Into<String>) -> R<T> {
    Err(ThreadInterpError::new(kind, msg))
}

/// A value as an exact integer or float, for conversions.
#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Value {
    /// The value's type.
    pub fn ty(self) -> Ty {
        match self {
            Value::Bool(_) => Ty::Bool,
            Value::I32(_) => Ty::I32,
            Value::U32(_) => Ty::U32,
            Value::F32(_) => Ty::F32,
            Value::F16(_) => Ty::F16,
            Value::I64(_) => Ty::I64,
            Value::U64(_) => Ty::U64,
        }
    }

    /// The value of a constant.
    pub fn of_const(c: Const) -> Value {
        match c {
            Const::Bool(b) => Value::Bool(b),
            Const::I32(v) => Value::I32(v),
            Const::U32(v) => Value::U32(v),
            Const::F32(b) => Value::F32(f32::from_bits(b)),
            Const::F16(b) => Value::F16(f16::from_bits(b)),
            Const::I64(v) => Value::I64(v),
            Const::U64(v) => Value::U64(v),
        }
    }

    /// The zero of a type.
    pub fn zero(ty: Ty) -> Value {
        Value::of_const(Const::zero(ty))
    }

    /// The carrier value of element code `code` of `dtype` (module doc of `thread_ir`).
    pub fn of_code(dtype: DType, code: u64) -> Value {
        Value::of_const(Const::of_code(dtype, code))
    }

    /// The element code of `dtype` this value stores: its low `bits(dtype)` bits (the bits
    /// of `f32`/`f16`, two's complement for integers, 0/1 for bools).
    pub fn to_code(self, dtype: DType) -> u64 {
        let raw = match self {
            Value::Bool(b) => u64::from(b),
            Value::I32(v) => u64::from(v as u32),
            Value::U32(v) => u64::from(v),
            Value::F32(x) => u64::from(x.to_bits()),
            Value::F16(x) => u64::from(x.to_bits()),
            Value::I64(v) => v as u64,
            Value::U64(v) => v,
        };
        raw & dtype.code_mask()
    }

    /// The value as an `i64` index (integers and bools), or an error naming what it is.
    pub fn as_index(self) -> R<i64> {
        match self {
            Value::I32(v) => Ok(i64::from(v)),
            Value::U32(v) => Ok(i64::from(v)),
            Value::I64(v) => Ok(v),
            Value::U64(v) => i64::try_from(v).or_else(|_| {
                err(
                    ThreadInterpErrorKind::InvalidValue,
                    format!("index {v} too large"),
                )
            }),
            Value::Bool(b) => Ok(i64::from(b)),
            other => err(
                ThreadInterpErrorKind::InvalidKernel,
                format!("expected an integer, got {other:?}"),
            ),
        }
    }

    /// The value as a truth value (`bool` only).
    pub fn as_bool(self) -> R<bool> {
        match self {
            Value::Bool(b) => Ok(b),
            other => err(
                ThreadInterpErrorKind::InvalidKernel,
                format!("expected a bool, got {other:?}"),
            ),
        }
    }

    fn num(self) -> Num {
        match self {
            Value::Bool(b) => Num::Int(i128::from(b)),
            Value::I32(v) => Num::Int(i128::from(v)),
            Value::U32(v) => Num::Int(i128::from(v)),
            Value::I64(v) => Num::Int(i128::from(v)),
            Value::U64(v) => Num::Int(i128::from(v)),
            Value::F32(x) => Num::Float(f64::from(x)),
            Value::F16(x) => Num::Float(f64::from(x)),
        }
    }

    fn from_i128_wrapping(v: i128, ty: Ty) -> Value {
        match ty {
            Ty::Bool => Value::Bool(v != 0),
            Ty::I32 => Value::I32(v as i32),
            Ty::U32 => Value::U32(v as u32),
            Ty::I64 => Value::I64(v as i64),
            Ty::U64 => Value::U64(v as u64),
            Ty::F32 => Value::F32(int_to_f64_odd(v) as f32),
            Ty::F16 => Value::F16(f16::from_f64(int_to_f64_odd(v))),
        }
    }
}

/// An integer as an `f64`: exact below 2^53, otherwise rounded to odd (sticky low bit), so
/// that one more rounding to a format of at most 51 significant bits is correct.
pub(crate) fn int_to_f64_odd(v: i128) -> f64 {
    let m = v.unsigned_abs();
    let top_bit = 128 - m.leading_zeros();
    let r = if top_bit <= 53 {
        m as f64
    } else {
        let shift = top_bit - 53;
        let sticky = u128::from(m & ((1u128 << shift) - 1) != 0);
        let kept = (m >> shift) | sticky;
        // kept < 2^53 is exact; scaling by a power of two is exact.
        (kept as f64) * f64::powi(2.0, shift as i32)
    };
    if v < 0 {
        -r
    } else {
        r
    }
}

/// `min` with a NaN operand ignored and `-0 < +0` (the first operand wins ties).
pub(crate) fn fmin(a: f32, b: f32) -> f32 {
    let b_wins = a.is_nan() || b < a || (b == a && b.is_sign_negative());
    if b_wins {
        b
    } else {
        a
    }
}

/// `max` with a NaN operand ignored and `-0 < +0`.
pub(crate) fn fmax(a: f32, b: f32) -> f32 {
    let b_wins = a.is_nan() || b > a || (b == a && b.is_sign_positive());
    if b_wins {
        b
    } else {
        a
    }
}

/// `cast<ty>(v)` (see [`crate::thread_ir::Expr::Cast`]).
pub fn cast(v: Value, ty: Ty) -> Value {
    if v.ty() == ty {
        return v;
    }
    match (v.num(), ty) {
        (Num::Int(i), _) => Value::from_i128_wrapping(i, ty),
        (Num::Float(x), Ty::Bool) => Value::Bool(x != 0.0),
        (Num::Float(x), Ty::I32) => Value::I32(x as i32),
        (Num::Float(x), Ty::U32) => Value::U32(x as u32),
        (Num::Float(x), Ty::I64) => Value::I64(x as i64),
        (Num::Float(x), Ty::U64) => Value::U64(x as u64),
        // x is an exact f16 or f32 value, so one rounding.
        (Num::Float(x), Ty::F32) => Value::F32(x as f32),
        (Num::Float(x), Ty::F16) => Value::F16(f16::from_f64(x)),
    }
}

/// `bitcast<ty>(v)`.
pub fn bitcast(v: Value, ty: Ty) -> R<Value> {
    let bits: u64 = match v {
        Value::I32(x) => u64::from(x as u32),
        Value::U32(x) => u64::from(x),
        Value::F32(x) => u64::from(x.to_bits()),
        Value::F16(x) => u64::from(x.to_bits()),
        Value::I64(x) => x as u64,
        Value::U64(x) => x,
        Value::Bool(_) => {
            return err(ThreadInterpErrorKind::InvalidKernel, "bitcast of a bool");
        }
    };
    Ok(match ty {
        Ty::I32 => Value::I32(bits as u32 as i32),
        Ty::U32 => Value::U32(bits as u32),
        Ty::F32 => Value::F32(f32::from_bits(bits as u32)),
        Ty::F16 => Value::F16(f16::from_bits(bits as u16)),
        Ty::I64 => Value::I64(bits as i64),
        Ty::U64 => Value::U64(bits),
        Ty::Bool => return err(ThreadInterpErrorKind::InvalidKernel, "bitcast to bool"),
    })
}

/// `decode<dtype>(code)`.
pub fn decode(dtype: DType, v: Value) -> R<Value> {
    match v {
        Value::U32(c) => Ok(Value::F32(dtype.decode_f32(u64::from(c)))),
        other => err(
            ThreadInterpErrorKind::InvalidKernel,
            format!("decode<{dtype}> of {other:?} (expected a u32 code)"),
        ),
    }
}

/// `encode<dtype>(x)`: one rounding from the exact value.
pub fn encode(dtype: DType, v: Value) -> R<Value> {
    let code = match v.num() {
        _ if matches!(v, Value::Bool(_)) => {
            return err(ThreadInterpErrorKind::InvalidKernel, "encode of a bool")
        }
        Num::Float(x) => dtype.encode_f64(x),
        Num::Int(i) => dtype.encode_f64(int_to_f64_odd(i)),
    };
    Ok(Value::U32(code as u32))
}

fn float_unary(op: UnaryOp, x: f32) -> f32 {
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Abs => x.abs(),
        UnaryOp::Exp => x.exp(),
        UnaryOp::Exp2 => x.exp2(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Rsqrt => 1.0 / x.sqrt(),
        UnaryOp::Round => x.round_ties_even(),
        UnaryOp::Floor => x.floor(),
        UnaryOp::Ceil => x.ceil(),
        UnaryOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        // Not is rejected for floats by the caller.
        UnaryOp::Not => x,
    }
}

/// A unary operator.
pub fn unary(op: UnaryOp, v: Value) -> R<Value> {
    let bad = || {
        err(
            ThreadInterpErrorKind::InvalidKernel,
            format!("{} does not apply to {v:?}", op.name()),
        )
    };
    Ok(match (op, v) {
        (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnaryOp::Not, Value::I32(x)) => Value::I32(!x),
        (UnaryOp::Not, Value::U32(x)) => Value::U32(!x),
        (UnaryOp::Not, Value::I64(x)) => Value::I64(!x),
        (UnaryOp::Not, Value::U64(x)) => Value::U64(!x),
        (UnaryOp::Neg, Value::I32(x)) => Value::I32(x.wrapping_neg()),
        (UnaryOp::Neg, Value::U32(x)) => Value::U32(x.wrapping_neg()),
        (UnaryOp::Neg, Value::I64(x)) => Value::I64(x.wrapping_neg()),
        (UnaryOp::Neg, Value::U64(x)) => Value::U64(x.wrapping_neg()),
        (UnaryOp::Abs, Value::I32(x)) => Value::I32(x.wrapping_abs()),
        (UnaryOp::Abs, Value::I64(x)) => Value::I64(x.wrapping_abs()),
        (UnaryOp::Abs, Value::U32(_) | Value::U64(_)) => v,
        (UnaryOp::Not, Value::F32(_) | Value::F16(_)) => return bad(),
        (_, Value::F32(x)) => Value::F32(float_unary(op, x)),
        (_, Value::F16(x)) => Value::F16(f16::from_f32(float_unary(op, x.to_f32()))),
        _ => return bad(),
    })
}

macro_rules! int_arith {
    ($op:expr, $a:expr, $b:expr, $t:ty, $ut:ty, $bits:expr, $signed:expr) => {{
        let (a, b): ($t, $t) = ($a, $b);
        let out_of_range = ($signed && (b as i128) < 0) || (b as $ut as u64) >= $bits;
        match $op {
            BinaryOp::Add => Some(a.wrapping_add(b)),
            BinaryOp::Sub => Some(a.wrapping_sub(b)),
            BinaryOp::Mul => Some(a.wrapping_mul(b)),
            BinaryOp::Div | BinaryOp::Rem if b == 0 => None,
            BinaryOp::Div => Some(a.wrapping_div(b)),
            BinaryOp::Rem => Some(a.wrapping_rem(b)),
            BinaryOp::Min => Some(a.min(b)),
            BinaryOp::Max => Some(a.max(b)),
            BinaryOp::And => Some(a & b),
            BinaryOp::Or => Some(a | b),
            BinaryOp::Xor => Some(a ^ b),
            BinaryOp::Shl if out_of_range => Some(0),
            BinaryOp::Shl => Some(a.wrapping_shl(b as u32)),
            BinaryOp::Shr if out_of_range => Some(if $signed && (a as i128) < 0 { !0 } else { 0 }),
            BinaryOp::Shr => Some(a.wrapping_shr(b as u32)),
            // Comparisons are handled by the caller.
            _ => Some(a),
        }
    }};
}

fn shift_amount(b: Value) -> Option<i128> {
    match b.num() {
        Num::Int(i) => Some(i),
        Num::Float(_) => None,
    }
}

/// A binary operator.
pub fn binary(op: BinaryOp, a: Value, b: Value) -> R<Value> {
    let bad = || {
        err(
            ThreadInterpErrorKind::InvalidKernel,
            format!("`{}` does not apply to {a:?} and {b:?}", op.symbol()),
        )
    };
    if op.is_comparison() {
        use std::cmp::Ordering::*;
        let ord = match (a, b) {
            (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(&y)),
            (Value::F32(x), Value::F32(y)) => x.partial_cmp(&y),
            (Value::F16(x), Value::F16(y)) => x.partial_cmp(&y),
            _ if a.ty() == b.ty() => match (a.num(), b.num()) {
                (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
                _ => None,
            },
            _ => return bad(),
        };
        return Ok(Value::Bool(match op {
            BinaryOp::Eq => ord == Some(Equal),
            BinaryOp::Ne => ord != Some(Equal),
            BinaryOp::Lt => ord == Some(Less),
            BinaryOp::Le => matches!(ord, Some(Less | Equal)),
            BinaryOp::Gt => ord == Some(Greater),
            _ => matches!(ord, Some(Greater | Equal)),
        }));
    }
    let zero = || {
        ThreadInterpError::new(
            ThreadInterpErrorKind::DivisionByZero,
            format!("integer {} by zero", op.symbol()),
        )
    };
    // Shifts take any integer amount: bring it to the left operand's type, keeping range.
    let b = if matches!(op, BinaryOp::Shl | BinaryOp::Shr) && a.ty() != b.ty() {
        let Some(s) = shift_amount(b) else {
            return bad();
        };
        let s = s.clamp(-1, 255);
        Value::from_i128_wrapping(s, a.ty())
    } else {
        b
    };
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => match op {
            BinaryOp::And => Value::Bool(x & y),
            BinaryOp::Or => Value::Bool(x | y),
            BinaryOp::Xor => Value::Bool(x ^ y),
            _ => return bad(),
        },
        (Value::I32(x), Value::I32(y)) => {
            Value::I32(int_arith!(op, x, y, i32, u32, 32, true).ok_or_else(zero)?)
        }
        (Value::U32(x), Value::U32(y)) => {
            Value::U32(int_arith!(op, x, y, u32, u32, 32, false).ok_or_else(zero)?)
        }
        (Value::I64(x), Value::I64(y)) => {
            Value::I64(int_arith!(op, x, y, i64, u64, 64, true).ok_or_else(zero)?)
        }
        (Value::U64(x), Value::U64(y)) => {
            Value::U64(int_arith!(op, x, y, u64, u64, 64, false).ok_or_else(zero)?)
        }
        (Value::F32(x), Value::F32(y)) => match float_binary(op, x, y) {
            Some(r) => Value::F32(r),
            None => return bad(),
        },
        (Value::F16(x), Value::F16(y)) => match float_binary(op, x.to_f32(), y.to_f32()) {
            Some(r) => Value::F16(f16::from_f32(r)),
            None => return bad(),
        },
        _ => return bad(),
    })
}

fn float_binary(op: BinaryOp, x: f32, y: f32) -> Option<f32> {
    Some(match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Rem => x % y,
        BinaryOp::Min => fmin(x, y),
        BinaryOp::Max => fmax(x, y),
        _ => return None,
    })
}

/// `fma(a, b, c)` with a single rounding.
pub fn fma(a: Value, b: Value, c: Value) -> R<Value> {
    match (a, b, c) {
        (Value::F32(x), Value::F32(y), Value::F32(z)) => Ok(Value::F32(x.mul_add(y, z))),
        // The f16 product is exact in f64; the sum is rounded to f64 and then to f16 (a
        // double rounding, which can differ from a fused f16 fma only on rare ties).
        (Value::F16(x), Value::F16(y), Value::F16(z)) => Ok(Value::F16(f16::from_f64(
            f64::from(x) * f64::from(y) + f64::from(z),
        ))),
        _ => err(
            ThreadInterpErrorKind::InvalidKernel,
            format!("fma of {a:?}, {b:?}, {c:?}"),
        ),
    }
}
