//! `load_global`, `store_global`, `load_shared`, `store_shared`.
//!
//! The register tile gets the vectorized default ([`super::default_layout`]): vectors along
//! the tile's last dimension when that dimension is provably contiguous in memory (global:
//! the spanned global dimension has stride literally 1, or is the last dimension of a
//! row-major tensor whose later extents are literally 1; shared: always, since the shared
//! side defaults to row-major). The shared tile is row-major unless annotated.

use tilus_ir::expr::Expr;
use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::program::{Function, Inst, TensorId, TensorType};

use super::{default_layout, invalid, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

fn is_one(f: &Function, e: tilus_ir::expr::ExprId) -> bool {
    matches!(f.exprs.try_get(e), Some(Expr::Int(1)))
}

/// Whether the global dimension spanned by the tile's last dimension has stride 1.
fn unit_stride(f: &Function, global: TensorId, dims: Option<&[usize]>) -> bool {
    let Some(TensorType::Global { shape, strides, .. }) = f.tensors.try_get(global).map(|t| &t.ty)
    else {
        return false;
    };
    let Some(last_global) = shape.len().checked_sub(1) else {
        return false;
    };
    let g = match dims {
        Some(d) => match d.last() {
            Some(&g) => g,
            None => return false,
        },
        None => last_global,
    };
    match strides {
        Some(s) => s.get(g).is_some_and(|&e| is_one(f, e)),
        // Row-major: the stride of `g` is the product of the later extents.
        None => shape
            .get(g + 1..)
            .is_some_and(|later| later.iter().all(|&e| is_one(f, e))),
    }
}

/// `load_global`: the result gets the vectorized default.
pub(super) fn load_global(
    ctx: &Ctx<'_>,
    out: TensorId,
    src: TensorId,
    dims: Option<&[usize]>,
) -> Result<Vec<Assign>, LayoutInferError> {
    if ctx.reg(out).is_some() {
        return Ok(Vec::new());
    }
    let (dtype, shape) = ctx.tile(out)?;
    let unit = unit_stride(ctx.f, src, dims);
    Ok(vec![Assign::Register(
        out,
        default_layout(ctx.threads, shape, dtype, unit),
    )])
}

/// `store_global`: the stored tile gets the vectorized default.
pub(super) fn store_global(
    ctx: &Ctx<'_>,
    dst: TensorId,
    src: TensorId,
    dims: Option<&[usize]>,
) -> Result<Vec<Assign>, LayoutInferError> {
    if ctx.reg(src).is_some() {
        return Ok(Vec::new());
    }
    let (dtype, shape) = ctx.tile(src)?;
    let unit = unit_stride(ctx.f, dst, dims);
    Ok(vec![Assign::Register(
        src,
        default_layout(ctx.threads, shape, dtype, unit),
    )])
}

/// `load_shared` / `store_shared`: the register side gets the vectorized default, the shared
/// side row-major.
pub(super) fn shared_pair(
    ctx: &Ctx<'_>,
    inst: &Inst,
    shared: TensorId,
    reg: TensorId,
) -> Result<Vec<Assign>, LayoutInferError> {
    let mut out = Vec::new();
    if ctx.reg(reg).is_none() {
        let (dtype, shape) = ctx.tile(reg)?;
        out.push(Assign::Register(
            reg,
            default_layout(ctx.threads, shape, dtype, true),
        ));
    }
    if ctx.shared(shared).is_none() {
        let (_, shape) = ctx.tile(shared)?;
        let l = SharedLayout::row_major(shape)
            .map_err(|e| invalid(ctx.f, inst, &[shared], e.to_string()))?;
        out.push(Assign::Shared(shared, l));
    }
    Ok(out)
}

/// Any register layout can be loaded or stored; it only has to exist.
pub(super) fn validate_register(
    ctx: &Ctx<'_>,
    inst: &Inst,
    reg: TensorId,
) -> Result<(), LayoutInferError> {
    ctx.need_reg(inst, reg).map(|_| ())
}

/// Both sides of a shared transfer are laid out.
pub(super) fn validate_shared_pair(
    ctx: &Ctx<'_>,
    inst: &Inst,
    shared: TensorId,
    reg: TensorId,
) -> Result<(), LayoutInferError> {
    ctx.need_shared(inst, shared)?;
    ctx.need_reg(inst, reg).map(|_| ())
}
