//! `cast`, unary and binary elementwise operations, `where`.
//!
//! Float tiles are decoded exactly to `f32`, computed with one `f32` operation and encoded
//! back with round-to-nearest-even (spec rules for overflow and NaN). For `f16`, `bf16`, fp8
//! and the minifloats this equals the correctly rounded result of `+ - * / sqrt` (f32 has
//! more than twice their precision plus two bits, so the double rounding is innocuous); the
//! transcendental functions are those of Rust's `f32`. Integer tiles compute in `i64`
//! (`u64` in `u64`) and wrap to their dtype; division by zero is an error. Scalar operands
//! are converted to the tile's dtype first (integers wrap, floats round). Comparisons give
//! bool (`u1`) tiles.

use std::borrow::Cow;

use crate::dtype::DType;
use crate::inst::{Operand, TileBinaryOp, TileUnaryOp};
use crate::program::TensorId;
use crate::typing::{self, BOOL};

use super::error::{fail, InterpError, InterpErrorKind};
use super::exec::Cx;
use super::scalar::{fmax, fmin, int_binary, int_cmp, int_to_f64_odd, to_code, IntOp};
use super::tile::{broadcast, decode_f32, encode_f32, int_values, RegTile, TensorVal};

fn program_error<T>(msg: String) -> Result<T, InterpError> {
    fail(InterpErrorKind::InvalidProgram, msg)
}

/// `cast`: elementwise conversion (spec/dtypes.md): float → float through `f32` with
/// round-to-nearest-even; int → int wraps; float → int rounds toward zero and saturates,
/// NaN → 0; int → float is exact then rounded to nearest even.
pub(super) fn cast(cx: &mut Cx<'_, '_>, x: TensorId, to: DType) -> Result<TensorVal, InterpError> {
    let t = cx.reg(x)?;
    let from = t.dtype;
    let codes = if from == to {
        t.codes.clone()
    } else {
        match (from.is_float(), to.is_float()) {
            (true, _) => encode_f32(to, &t.decode_f32()),
            (false, false) => t
                .codes
                .iter()
                .map(|&c| to.wrap_int(from.int_value(c)))
                .collect(),
            (false, true) => t
                .codes
                .iter()
                .map(|&c| to.encode_f64(int_to_f64_odd(from.int_value_i128(c))))
                .collect(),
        }
    };
    Ok(TensorVal::Reg(RegTile {
        dtype: to,
        shape: t.shape.clone(),
        codes,
    }))
}

fn float_unary(op: TileUnaryOp) -> Option<fn(f32) -> f32> {
    Some(match op {
        TileUnaryOp::Neg => |x: f32| -x,
        TileUnaryOp::Abs => f32::abs,
        TileUnaryOp::Exp => f32::exp,
        TileUnaryOp::Exp2 => f32::exp2,
        TileUnaryOp::Log => f32::ln,
        TileUnaryOp::Sqrt => f32::sqrt,
        TileUnaryOp::Rsqrt => |x: f32| 1.0 / x.sqrt(),
        TileUnaryOp::Round => f32::round_ties_even,
        TileUnaryOp::Floor => f32::floor,
        TileUnaryOp::Ceil => f32::ceil,
        TileUnaryOp::Square => |x: f32| x * x,
        TileUnaryOp::Sigmoid => |x: f32| 1.0 / (1.0 + (-x).exp()),
        TileUnaryOp::BitNot => return None,
    })
}

/// Unary operations. Floats: `rsqrt(x) = 1 / sqrt(x)` and
/// `sigmoid(x) = 1 / (1 + exp(-x))`, each step in `f32`; `round` is half to even. Integers:
/// `neg`, `abs`, `square` wrap; `bitnot` flips the bits of the code.
pub(super) fn unary(
    cx: &mut Cx<'_, '_>,
    op: TileUnaryOp,
    x: TensorId,
) -> Result<TensorVal, InterpError> {
    let t = cx.reg(x)?;
    let d = t.dtype;
    let codes = if d.is_float() {
        let Some(f) = float_unary(op) else {
            return program_error(format!("{} needs an integer tile, got {d}", op.name()));
        };
        let v: Vec<f32> = t.decode_f32().into_iter().map(f).collect();
        encode_f32(d, &v)
    } else {
        let vals = int_values(d, &t.codes);
        let f: fn(i64, bool) -> i64 = match op {
            TileUnaryOp::Neg => |v, _| v.wrapping_neg(),
            TileUnaryOp::Abs => |v, signed| if signed { v.wrapping_abs() } else { v },
            TileUnaryOp::Square => |v, _| v.wrapping_mul(v),
            TileUnaryOp::BitNot => |v, _| !v,
            _ => return program_error(format!("{} needs a float tile, got {d}", op.name())),
        };
        let signed = d.is_signed();
        vals.into_iter().map(|v| d.wrap_int(f(v, signed))).collect()
    };
    Ok(TensorVal::Reg(RegTile {
        dtype: d,
        shape: t.shape.clone(),
        codes,
    }))
}

/// An operand: a tile, or a scalar already converted to a code.
enum Opnd<'a> {
    Tile(&'a RegTile),
    Scalar(crate::interp::scalar::Val, crate::expr::ScalarType),
}

fn operand<'a>(cx: &'a Cx<'_, '_>, o: Operand) -> Result<Opnd<'a>, InterpError> {
    match o {
        Operand::Tensor(t) => cx.reg(t).map(Opnd::Tile),
        Operand::Scalar(e) => {
            let (v, t) = cx.eval().eval(e)?;
            Ok(Opnd::Scalar(v, t))
        }
    }
}

/// The dtype of the first tile operand.
fn tile_dtype(ops: &[&Opnd<'_>], what: &str) -> Result<DType, InterpError> {
    for o in ops {
        if let Opnd::Tile(t) = o {
            return Ok(t.dtype);
        }
    }
    program_error(format!("{what} needs at least one tile operand"))
}

/// Shape and codes of an operand in dtype `d` (a scalar has rank 0).
fn materialize<'a>(o: &Opnd<'a>, d: DType) -> (Cow<'a, [usize]>, Cow<'a, [u64]>) {
    match o {
        Opnd::Tile(t) => (Cow::Borrowed(&t.shape[..]), Cow::Borrowed(&t.codes[..])),
        Opnd::Scalar(v, t) => (Cow::Owned(Vec::new()), Cow::Owned(vec![to_code(*v, *t, d)])),
    }
}

fn shape_of(a: &[usize], b: &[usize]) -> Result<Vec<usize>, InterpError> {
    typing::broadcast(a, b).or_else(|e| program_error(e.0))
}

fn int_op(op: TileBinaryOp) -> Option<IntOp> {
    Some(match op {
        TileBinaryOp::Add => IntOp::Add,
        TileBinaryOp::Sub => IntOp::Sub,
        TileBinaryOp::Mul => IntOp::Mul,
        TileBinaryOp::Div => IntOp::Div,
        TileBinaryOp::Rem => IntOp::Rem,
        TileBinaryOp::Min => IntOp::Min,
        TileBinaryOp::Max => IntOp::Max,
        TileBinaryOp::BitAnd => IntOp::And,
        TileBinaryOp::BitOr => IntOp::Or,
        TileBinaryOp::BitXor => IntOp::Xor,
        TileBinaryOp::Shl => IntOp::Shl,
        TileBinaryOp::Shr => IntOp::Shr,
        _ => return None,
    })
}

fn float_op(op: TileBinaryOp) -> Option<fn(f32, f32) -> f32> {
    Some(match op {
        TileBinaryOp::Add => |a, b| a + b,
        TileBinaryOp::Sub => |a, b| a - b,
        TileBinaryOp::Mul => |a, b| a * b,
        TileBinaryOp::Div => |a, b| a / b,
        TileBinaryOp::Rem => |a, b| a % b,
        TileBinaryOp::Min => fmin,
        TileBinaryOp::Max => fmax,
        _ => return None,
    })
}

fn compare(op: TileBinaryOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    match op {
        TileBinaryOp::Eq => ord == Some(Equal),
        TileBinaryOp::Ne => ord != Some(Equal),
        TileBinaryOp::Lt => ord == Some(Less),
        TileBinaryOp::Le => matches!(ord, Some(Less | Equal)),
        TileBinaryOp::Gt => ord == Some(Greater),
        TileBinaryOp::Ge => matches!(ord, Some(Greater | Equal)),
        _ => false,
    }
}

/// Binary operations with NumPy broadcasting. Floats: `rem` is `fmod`; `min`/`max` ignore
/// a NaN operand and order `-0 < +0`; comparisons are IEEE (NaN compares unequal to
/// everything). Integers: `/` and `%` truncate, shifts by amounts outside `[0, bits)` give
/// 0 or the sign fill.
pub(super) fn binary(
    cx: &mut Cx<'_, '_>,
    op: TileBinaryOp,
    a: Operand,
    b: Operand,
) -> Result<TensorVal, InterpError> {
    let oa = operand(cx, a)?;
    let ob = operand(cx, b)?;
    let d = tile_dtype(&[&oa, &ob], op.name())?;
    let (sa, ca) = materialize(&oa, d);
    let (sb, cb) = materialize(&ob, d);
    let shape = shape_of(&sa, &sb)?;
    let ca = broadcast(&ca, &sa, &shape)?;
    let cb = broadcast(&cb, &sb, &shape)?;
    let n = ca.len().min(cb.len());
    let codes: Vec<u64> = if op.is_comparison() {
        if d.is_float() {
            let (fa, fb) = (decode_f32(d, &ca), decode_f32(d, &cb));
            (0..n)
                .map(|i| u64::from(compare(op, fa[i].partial_cmp(&fb[i]))))
                .collect()
        } else {
            let (ia, ib) = (int_values(d, &ca), int_values(d, &cb));
            (0..n)
                .map(|i| u64::from(compare(op, Some(int_cmp(ia[i], ib[i], d)))))
                .collect()
        }
    } else if d.is_float() {
        let Some(f) = float_op(op) else {
            return program_error(format!("{} needs integer tiles, got {d}", op.name()));
        };
        let (fa, fb) = (decode_f32(d, &ca), decode_f32(d, &cb));
        let r: Vec<f32> = (0..n).map(|i| f(fa[i], fb[i])).collect();
        encode_f32(d, &r)
    } else {
        let Some(iop) = int_op(op) else {
            return program_error(format!("{} does not apply to {d}", op.name()));
        };
        let (ia, ib) = (int_values(d, &ca), int_values(d, &cb));
        let mut r = Vec::with_capacity(n);
        for i in 0..n {
            r.push(d.wrap_int(int_binary(iop, ia[i], ib[i], d)?));
        }
        r
    };
    Ok(TensorVal::Reg(RegTile {
        dtype: if op.is_comparison() { BOOL } else { d },
        shape,
        codes,
    }))
}

/// `where`: `cond ? x : y` elementwise, selecting codes, with broadcasting of all three.
pub(super) fn where_(
    cx: &mut Cx<'_, '_>,
    cond: TensorId,
    x: Operand,
    y: Operand,
) -> Result<TensorVal, InterpError> {
    let c = cx.reg(cond)?;
    let ox = operand(cx, x)?;
    let oy = operand(cx, y)?;
    let d = tile_dtype(&[&ox, &oy], "where")?;
    let (sx, cxs) = materialize(&ox, d);
    let (sy, cys) = materialize(&oy, d);
    let shape = shape_of(&c.shape, &shape_of(&sx, &sy)?)?;
    let cc = broadcast(&c.codes, &c.shape, &shape)?;
    let xs = broadcast(&cxs, &sx, &shape)?;
    let ys = broadcast(&cys, &sy, &shape)?;
    let codes = cc
        .iter()
        .zip(xs.iter().zip(ys.iter()))
        .map(|(&c, (&x, &y))| if c & 1 != 0 { x } else { y })
        .collect();
    Ok(TensorVal::Reg(RegTile {
        dtype: d,
        shape,
        codes,
    }))
}
