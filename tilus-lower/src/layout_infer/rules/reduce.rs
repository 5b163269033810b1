//! `sum`, `max`, `min` over one dimension: the result lives where the reduction leaves it,
//! `reduce(x, [dim], keepdim)` (reduced spatial modes become replication digits, reduced
//! local modes disappear).

use tilus_ir::layout::RegisterLayout;
use tilus_ir::program::{Inst, TensorId};

use super::{invalid, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

fn reduced(
    ctx: &Ctx<'_>,
    inst: &Inst,
    x: TensorId,
    lx: &RegisterLayout,
    dim: usize,
    keepdim: bool,
    out: TensorId,
) -> Result<RegisterLayout, LayoutInferError> {
    lx.reduce(&[dim], keepdim)
        .map_err(|e| invalid(ctx.f, inst, &[x, out], e.to_string()))
}

/// The result gets the reduced layout of the input.
pub(super) fn infer(
    ctx: &Ctx<'_>,
    inst: &Inst,
    x: TensorId,
    dim: usize,
    keepdim: bool,
    out: TensorId,
) -> Result<Vec<Assign>, LayoutInferError> {
    match (ctx.reg(x), ctx.reg(out)) {
        (Some(lx), None) => Ok(vec![Assign::Register(
            out,
            reduced(ctx, inst, x, lx, dim, keepdim, out)?,
        )]),
        _ => Ok(Vec::new()),
    }
}

/// The result is laid out as the reduced input.
pub(super) fn validate(
    ctx: &Ctx<'_>,
    inst: &Inst,
    x: TensorId,
    dim: usize,
    keepdim: bool,
    out: TensorId,
) -> Result<(), LayoutInferError> {
    let lx = ctx.need_reg(inst, x)?;
    let lo = ctx.need_reg(inst, out)?;
    let want = reduced(ctx, inst, x, lx, dim, keepdim, out)?;
    if *lo != want {
        return Err(invalid(
            ctx.f,
            inst,
            &[x, out],
            format!("reducing `{lx}` over dim {dim} gives `{want}`, but the result is `{lo}`"),
        ));
    }
    Ok(())
}
