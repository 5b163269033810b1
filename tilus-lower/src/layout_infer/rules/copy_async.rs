//! `copy_async` (and `commit_group`, `wait_group`, `wait_all`, which need no layout): the
//! shared destination is row-major unless annotated.

use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::program::{Inst, TensorId};

use super::{invalid, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

/// `copy_async`: the destination gets a row-major layout.
pub(super) fn copy_async(
    ctx: &Ctx<'_>,
    inst: &Inst,
    dst: TensorId,
) -> Result<Vec<Assign>, LayoutInferError> {
    if ctx.shared(dst).is_some() {
        return Ok(Vec::new());
    }
    let (_, shape) = ctx.tile(dst)?;
    let l =
        SharedLayout::row_major(shape).map_err(|e| invalid(ctx.f, inst, &[dst], e.to_string()))?;
    Ok(vec![Assign::Shared(dst, l)])
}

/// Any shared layout can be the target of a copy; it only has to exist.
pub(super) fn validate(ctx: &Ctx<'_>, inst: &Inst, dst: TensorId) -> Result<(), LayoutInferError> {
    ctx.need_shared(inst, dst).map(|_| ())
}
