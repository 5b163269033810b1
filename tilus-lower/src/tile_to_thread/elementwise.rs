//! `cast`, unary and binary elementwise operations, `where`.
//!
//! Per result slot: each tile operand's element comes from the slot that holds it in the
//! same thread (found at compile time, broadcasting included; an error names the operand
//! when the layouts do not provide it); a scalar operand is converted to the tile's dtype
//! first. Floats are decoded to `f32`, computed with one `f32` operation and encoded back
//! (round to nearest even), exactly as the tile interpreter does; integers compute in their
//! carrier type and wrap when stored. Comparisons give `u1` tiles (0 or 1).

use tilus_ir::dtype::DType;
use tilus_ir::expr::ScalarType;
use tilus_ir::inst::{Operand, TileBinaryOp, TileUnaryOp};
use tilus_ir::program::{Out, TensorId};
use tilus_ir::typing::BOOL;

use super::scalar::{as_f32, convert, from_f32};
use super::{Lower, R};
use crate::thread_ir::{BinaryOp, Const, ExprId, LocalRef, Stmt, Ty, UnaryOp};

/// Per-slot values of an operand for a result laid out as `out`.
pub(super) enum Values {
    /// A tile: (array, slot per result slot).
    Tile(crate::thread_ir::LocalId, Vec<u32>),
    /// A scalar already converted to the tile's dtype.
    Scalar(ExprId),
}

impl Values {
    pub(super) fn at(&self, cx: &mut Lower<'_>, s: usize) -> R<ExprId> {
        match self {
            Values::Tile(a, slots) => match slots.get(s) {
                Some(&slot) => Ok(cx.b.read_local(*a, slot)),
                None => cx.invalid(format!(
                    "an operand has {} slots per thread, the result more ({})",
                    slots.len(),
                    s + 1
                )),
            },
            Values::Scalar(e) => Ok(*e),
        }
    }
}

/// The values of an operand (tile or scalar) in dtype `d` for a result laid out as `out`.
pub(super) fn operand(
    cx: &mut Lower<'_>,
    o: Operand,
    out: &tilus_ir::layout::RegisterLayout,
    d: DType,
    what: &str,
) -> R<Values> {
    match o {
        Operand::Tensor(t) => {
            let r = cx.reg(t)?;
            let name = format!("operand {what} %{}", cx.tensor_name(t));
            let slots = cx.operand_slots(out, &r.layout, &name)?;
            Ok(Values::Tile(r.array, slots))
        }
        Operand::Scalar(e) => {
            let (v, t) = cx.scalar_natural(e)?;
            Ok(Values::Scalar(convert(
                &mut cx.b,
                v,
                t,
                ScalarType::Data(d),
                true,
            )))
        }
    }
}

fn tensors(ops: &[Operand]) -> Vec<TensorId> {
    ops.iter()
        .filter_map(|o| match o {
            Operand::Tensor(t) => Some(*t),
            Operand::Scalar(_) => None,
        })
        .collect()
}

fn set(cx: &mut Lower<'_>, array: crate::thread_ir::LocalId, slot: usize, value: ExprId) {
    cx.b.push(Stmt::SetLocal {
        dst: LocalRef {
            array,
            slot: slot as u32,
        },
        value,
    });
}

/// `cast`.
pub(super) fn cast(cx: &mut Lower<'_>, out: Option<Out>, x: TensorId, to: DType) -> R<()> {
    let from = cx.reg(x)?.dtype;
    let o = cx.out_array(out, to, &[x])?;
    let l = o.info.layout.clone();
    let xs = operand(cx, Operand::Tensor(x), &l, from, "x")?;
    for s in 0..l.local_size() {
        let v = xs.at(cx, s)?;
        let c = convert(
            &mut cx.b,
            v,
            ScalarType::Data(from),
            ScalarType::Data(to),
            false,
        );
        set(cx, o.array, s, c);
    }
    cx.commit_out(&o);
    Ok(())
}

/// Elementwise unary operations.
pub(super) fn unary(cx: &mut Lower<'_>, out: Option<Out>, op: TileUnaryOp, x: TensorId) -> R<()> {
    let d = cx.reg(x)?.dtype;
    let o = cx.out_array(out, d, &[x])?;
    let l = o.info.layout.clone();
    let xs = operand(cx, Operand::Tensor(x), &l, d, "x")?;
    for s in 0..l.local_size() {
        let v = xs.at(cx, s)?;
        let r = if d.is_float() {
            let f = as_f32(&mut cx.b, v, d);
            let r = match op {
                TileUnaryOp::Square => cx.b.mul(f, f),
                TileUnaryOp::BitNot => return cx.invalid("bitnot of a float tile"),
                _ => cx.b.unary(float_unary(op), f),
            };
            from_f32(&mut cx.b, r, d)
        } else {
            match op {
                TileUnaryOp::Neg => cx.b.unary(UnaryOp::Neg, v),
                TileUnaryOp::Abs => cx.b.unary(UnaryOp::Abs, v),
                TileUnaryOp::Square => cx.b.mul(v, v),
                TileUnaryOp::BitNot => cx.b.unary(UnaryOp::Not, v),
                _ => return cx.invalid(format!("{} of an integer tile", op.name())),
            }
        };
        set(cx, o.array, s, r);
    }
    cx.commit_out(&o);
    Ok(())
}

fn float_unary(op: TileUnaryOp) -> UnaryOp {
    match op {
        TileUnaryOp::Neg => UnaryOp::Neg,
        TileUnaryOp::Abs => UnaryOp::Abs,
        TileUnaryOp::Exp => UnaryOp::Exp,
        TileUnaryOp::Exp2 => UnaryOp::Exp2,
        TileUnaryOp::Log => UnaryOp::Log,
        TileUnaryOp::Sqrt => UnaryOp::Sqrt,
        TileUnaryOp::Rsqrt => UnaryOp::Rsqrt,
        TileUnaryOp::Round => UnaryOp::Round,
        TileUnaryOp::Floor => UnaryOp::Floor,
        TileUnaryOp::Ceil => UnaryOp::Ceil,
        TileUnaryOp::Sigmoid => UnaryOp::Sigmoid,
        // Handled by the caller.
        TileUnaryOp::Square | TileUnaryOp::BitNot => UnaryOp::Neg,
    }
}

/// The thread-IR operator of a tile binary operator.
pub(super) fn binary_op(op: TileBinaryOp) -> BinaryOp {
    match op {
        TileBinaryOp::Add => BinaryOp::Add,
        TileBinaryOp::Sub => BinaryOp::Sub,
        TileBinaryOp::Mul => BinaryOp::Mul,
        TileBinaryOp::Div => BinaryOp::Div,
        TileBinaryOp::Rem => BinaryOp::Rem,
        TileBinaryOp::Min => BinaryOp::Min,
        TileBinaryOp::Max => BinaryOp::Max,
        TileBinaryOp::Eq => BinaryOp::Eq,
        TileBinaryOp::Ne => BinaryOp::Ne,
        TileBinaryOp::Lt => BinaryOp::Lt,
        TileBinaryOp::Le => BinaryOp::Le,
        TileBinaryOp::Gt => BinaryOp::Gt,
        TileBinaryOp::Ge => BinaryOp::Ge,
        TileBinaryOp::BitAnd => BinaryOp::And,
        TileBinaryOp::BitOr => BinaryOp::Or,
        TileBinaryOp::BitXor => BinaryOp::Xor,
        TileBinaryOp::Shl => BinaryOp::Shl,
        TileBinaryOp::Shr => BinaryOp::Shr,
    }
}

/// The dtype of the first tile operand.
fn tile_dtype(cx: &Lower<'_>, ops: &[Operand]) -> R<DType> {
    for o in ops {
        if let Operand::Tensor(t) = o {
            return Ok(cx.reg(*t)?.dtype);
        }
    }
    cx.invalid("at least one operand must be a tile")
}

/// Elementwise binary operations (NumPy broadcasting).
pub(super) fn binary(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    op: TileBinaryOp,
    a: Operand,
    b: Operand,
) -> R<()> {
    let d = tile_dtype(cx, &[a, b])?;
    let rd = if op.is_comparison() { BOOL } else { d };
    let o = cx.out_array(out, rd, &tensors(&[a, b]))?;
    let l = o.info.layout.clone();
    let xa = operand(cx, a, &l, d, "a")?;
    let xb = operand(cx, b, &l, d, "b")?;
    let bop = binary_op(op);
    for s in 0..l.local_size() {
        let (va, vb) = (xa.at(cx, s)?, xb.at(cx, s)?);
        let r = if d.is_float() {
            let fa = as_f32(&mut cx.b, va, d);
            let fb = as_f32(&mut cx.b, vb, d);
            let r = cx.b.binary(bop, fa, fb);
            if op.is_comparison() {
                cx.b.cast(Ty::U32, r)
            } else {
                from_f32(&mut cx.b, r, d)
            }
        } else {
            let r = cx.b.binary(bop, va, vb);
            if op.is_comparison() {
                cx.b.cast(Ty::U32, r)
            } else {
                r
            }
        };
        set(cx, o.array, s, r);
    }
    cx.commit_out(&o);
    Ok(())
}

/// `where`: `cond ? x : y` per element.
pub(super) fn where_(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    cond: TensorId,
    x: Operand,
    y: Operand,
) -> R<()> {
    let d = tile_dtype(cx, &[x, y])?;
    let mut inputs = tensors(&[x, y]);
    inputs.push(cond);
    let o = cx.out_array(out, d, &inputs)?;
    let l = o.info.layout.clone();
    let xc = operand(cx, Operand::Tensor(cond), &l, BOOL, "cond")?;
    let xx = operand(cx, x, &l, d, "x")?;
    let xy = operand(cx, y, &l, d, "y")?;
    let zero = cx.b.konst(Const::U32(0));
    for s in 0..l.local_size() {
        let c = xc.at(cx, s)?;
        let c = cx.b.binary(BinaryOp::Ne, c, zero);
        let (vx, vy) = (xx.at(cx, s)?, xy.at(cx, s)?);
        let r = cx.b.select(c, vx, vy);
        set(cx, o.array, s, r);
    }
    cx.commit_out(&o);
    Ok(())
}
