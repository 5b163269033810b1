//! `view`: the result's layout is the one the instruction names (fixed before inference);
//! the input needs a layout from elsewhere. Both must span the same threads, and every thread
//! must hold as many bits before as after (`L_in · bits_in == L_out · bits_out`).

use tilus_ir::dtype::DType;
use tilus_ir::program::{Function, Inst, LayoutId, TensorId};

use super::{invalid, register_layout, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

/// The result of a `view` is laid out as the instruction says.
pub(super) fn fixed(
    f: &Function,
    out: TensorId,
    layout: LayoutId,
) -> Result<Vec<Assign>, LayoutInferError> {
    Ok(vec![Assign::Register(
        out,
        register_layout(f, layout)?.clone(),
    )])
}

/// Same threads, same bits per thread.
pub(super) fn validate(
    ctx: &Ctx<'_>,
    inst: &Inst,
    x: TensorId,
    dtype: DType,
    out: TensorId,
) -> Result<(), LayoutInferError> {
    let lx = ctx.need_reg(inst, x)?;
    let lo = ctx.need_reg(inst, out)?;
    let (dx, _) = ctx.tile(x)?;
    if lx.num_threads() != lo.num_threads() {
        return Err(invalid(
            ctx.f,
            inst,
            &[x, out],
            format!(
                "the input `{lx}` spans {} threads but the view `{lo}` spans {}",
                lx.num_threads(),
                lo.num_threads()
            ),
        ));
    }
    let bits_in = lx.local_size().saturating_mul(dx.bits() as usize);
    let bits_out = lo.local_size().saturating_mul(dtype.bits() as usize);
    if bits_in != bits_out {
        return Err(invalid(
            ctx.f,
            inst,
            &[x, out],
            format!(
                "each thread holds {bits_in} bits of the input ({} × {dx} in `{lx}`) but \
                 {bits_out} bits of the view ({} × {dtype} in `{lo}`)",
                lx.local_size(),
                lo.local_size()
            ),
        ));
    }
    Ok(())
}
