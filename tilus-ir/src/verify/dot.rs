//! `dot` family: `a[m,k] @ b[k,n] + c[m,n]`.
//!
//! The typing rules check ranks, the shared `k`, one operand dtype and the addend. Here: the
//! accumulator dtype suits the operands, as tensor cores accumulate: float operands
//! accumulate in `f32` (or `f16`), integer operands in `i32`.

use crate::dtype::DType;
use crate::program::TensorId;

use super::context::Checker;

const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

/// The accumulator dtype suits the operand dtype.
pub(super) fn dot(cx: &mut Checker<'_>, a: TensorId, acc: DType, typed: bool) {
    if !typed {
        return;
    }
    let operand = cx.f.tensors[a].ty.dtype();
    let (ok, expected) = if operand.is_float() {
        (matches!(acc, DType::F32 | DType::F16), "f32 (or f16)")
    } else {
        (acc == I32, "i32")
    };
    if !ok {
        cx.error(format!(
            "accumulator dtype {acc} does not suit {operand} operands: expected {expected}"
        ));
    }
}
