//! `cast`, unary and binary operations, `where`: elementwise with NumPy broadcasting.
//!
//! Every thread computes the result elements it holds, so it must hold the operand elements
//! they read: an operand of the result's shape has the result's layout, and a broadcast
//! operand has the result's layout reduced over the dimensions it is stretched along (with
//! the leading dimensions it lacks dropped), see [`super::broadcast_source`].
//!
//! Inference goes both ways: a laid-out result gives every operand its layout; an operand of
//! the result's shape gives the result its layout.

use tilus_ir::layout::RegisterLayout;
use tilus_ir::program::{Inst, TensorId};

use super::{broadcast_source, invalid, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

fn source_layout(
    ctx: &Ctx<'_>,
    inst: &Inst,
    lo: &RegisterLayout,
    op: TensorId,
    out: TensorId,
) -> Result<RegisterLayout, LayoutInferError> {
    let (_, shape) = ctx.tile(op)?;
    broadcast_source(lo, shape).map_err(|e| invalid(ctx.f, inst, &[op, out], e.to_string()))
}

/// Result → operands, else a same-shape operand → result.
pub(super) fn infer(
    ctx: &Ctx<'_>,
    inst: &Inst,
    ops: &[TensorId],
    out: TensorId,
) -> Result<Vec<Assign>, LayoutInferError> {
    if let Some(lo) = ctx.reg(out) {
        let mut props = Vec::new();
        for &op in ops {
            if ctx.reg(op).is_none()
                && !props
                    .iter()
                    .any(|a| matches!(a, Assign::Register(t, _) if *t == op))
            {
                props.push(Assign::Register(op, source_layout(ctx, inst, lo, op, out)?));
            }
        }
        return Ok(props);
    }
    let (_, out_shape) = ctx.tile(out)?;
    for &op in ops {
        if let Some(l) = ctx.reg(op) {
            if l.shape() == out_shape {
                return Ok(vec![Assign::Register(out, l.clone())]);
            }
        }
    }
    Ok(Vec::new())
}

/// Every tile operand is laid out as the result, reduced over its broadcast dimensions.
pub(super) fn validate(
    ctx: &Ctx<'_>,
    inst: &Inst,
    ops: &[TensorId],
    out: TensorId,
) -> Result<(), LayoutInferError> {
    let lo = ctx.need_reg(inst, out)?;
    for &op in ops {
        let got = ctx.need_reg(inst, op)?;
        let want = source_layout(ctx, inst, lo, op, out)?;
        if *got != want {
            return Err(invalid(
                ctx.f,
                inst,
                &[op, out],
                format!("the operand is laid out as `{got}`, but the result `{lo}` needs `{want}`"),
            ));
        }
    }
    Ok(())
}
