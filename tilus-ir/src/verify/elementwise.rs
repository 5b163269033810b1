//! `elementwise` family: `cast`, unary operations, binary operations, `where`.
//!
//! The typing rules check tile kinds, dtypes (float-only and integer-only operations) and
//! broadcasting. Here: scalar operands are numbers or bools, converted to the tile's dtype
//! (a literal of the dtype's class takes the dtype itself, so `x_u8 + 300` is an error), and
//! an integer division by the constant 0 is rejected.

use crate::dtype::DType;
use crate::inst::{Operand, TileBinaryOp};

use super::context::Checker;
use super::exprs::{const_int, Need};

/// The dtype of the first register tensor among `operands`.
fn tile_dtype(cx: &Checker<'_>, operands: &[Operand]) -> Option<DType> {
    operands.iter().find_map(|o| match o {
        Operand::Tensor(t) if cx.f.tensors[*t].ty.is_register() => {
            Some(cx.f.tensors[*t].ty.dtype())
        }
        _ => None,
    })
}

fn scalar(cx: &mut Checker<'_>, o: Operand, tile: Option<DType>, role: &str) {
    if let Operand::Scalar(e) = o {
        let need = tile.map_or(Need::Any, Need::Convert);
        cx.use_expr(e, need, role);
    }
}

/// Binary operations: scalar operands, and no integer division by a constant 0.
pub(super) fn binary(cx: &mut Checker<'_>, op: TileBinaryOp, a: Operand, b: Operand, typed: bool) {
    let tile = tile_dtype(cx, &[a, b]);
    scalar(cx, a, tile, "scalar operand a");
    scalar(cx, b, tile, "scalar operand b");
    if !typed || !matches!(op, TileBinaryOp::Div | TileBinaryOp::Rem) {
        return;
    }
    if let (Operand::Scalar(e), Some(d)) = (b, tile) {
        if d.is_int() && const_int(cx.f, e) == Some(0) {
            cx.error(format!(
                "`{}` of an integer tile by the constant 0",
                op.name()
            ));
        }
    }
}

/// `where`: scalar operands convert to the dtype of the tile operand.
pub(super) fn where_(cx: &mut Checker<'_>, x: Operand, y: Operand, _typed: bool) {
    let tile = tile_dtype(cx, &[x, y]);
    scalar(cx, x, tile, "scalar operand x");
    scalar(cx, y, tile, "scalar operand y");
}
