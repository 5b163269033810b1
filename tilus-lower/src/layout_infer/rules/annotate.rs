//! `annotate_layout`, `annotate_shared_layout` (and `print`, which needs nothing): an
//! annotation fixes its tensor's layout before inference, and the final layout must be it.

use tilus_ir::program::{Function, Inst, LayoutId, SharedLayoutId, TensorId};

use super::{invalid, register_layout, shared_layout, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

/// `annotate_layout`: the tensor's register layout is fixed.
pub(super) fn fixed_register(
    f: &Function,
    tensor: TensorId,
    layout: LayoutId,
) -> Result<Vec<Assign>, LayoutInferError> {
    Ok(vec![Assign::Register(
        tensor,
        register_layout(f, layout)?.clone(),
    )])
}

/// `annotate_shared_layout`: the tensor's shared layout is fixed.
pub(super) fn fixed_shared(
    f: &Function,
    tensor: TensorId,
    layout: SharedLayoutId,
) -> Result<Vec<Assign>, LayoutInferError> {
    Ok(vec![Assign::Shared(
        tensor,
        shared_layout(f, layout)?.clone(),
    )])
}

/// Annotations were applied before the rounds; nothing more to propose.
pub(super) fn infer() -> Result<Vec<Assign>, LayoutInferError> {
    Ok(Vec::new())
}

/// The final register layout is the annotated one.
pub(super) fn validate_register(
    ctx: &Ctx<'_>,
    inst: &Inst,
    tensor: TensorId,
    layout: LayoutId,
) -> Result<(), LayoutInferError> {
    let want = register_layout(ctx.f, layout)?;
    let got = ctx.need_reg(inst, tensor)?;
    if got != want {
        return Err(invalid(
            ctx.f,
            inst,
            &[tensor],
            format!("annotated `{want}` but laid out as `{got}`"),
        ));
    }
    Ok(())
}

/// The final shared layout is the annotated one.
pub(super) fn validate_shared(
    ctx: &Ctx<'_>,
    inst: &Inst,
    tensor: TensorId,
    layout: SharedLayoutId,
) -> Result<(), LayoutInferError> {
    let want = shared_layout(ctx.f, layout)?;
    let got = ctx.need_shared(inst, tensor)?;
    if got != want {
        return Err(invalid(
            ctx.f,
            inst,
            &[tensor],
            format!("annotated `{want}` but laid out as `{got}`"),
        ));
    }
    Ok(())
}
