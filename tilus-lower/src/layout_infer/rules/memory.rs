//! `alloc_shared`, `alloc_register`, `slice` (the rest of the family needs no layout).
//!
//! - `alloc_shared`: row-major unless annotated (lowest priority but one, so that slices,
//!   annotations and transfers decide first).
//! - `alloc_register`: the vectorized default, only when no user of the tile decided (lowest
//!   priority).
//! - `slice` of a shared tensor `p[i, …]`: the slice has `p`'s modes and strides of the
//!   trailing dimensions and its swizzle; a laid-out slice gives an unlaid parent a row-major
//!   stack of copies of it, each starting at a multiple of the swizzle period so that the
//!   swizzle of the parent, restricted to one slice, is the slice's swizzle.

use tilus_ir::dtype::DType;
use tilus_ir::layout::shared::SharedLayout;
use tilus_ir::program::{Inst, TensorId};

use super::{default_layout, invalid, Assign, Ctx};
use crate::layout_infer::LayoutInferError;

/// `alloc_shared`: row-major.
pub(super) fn alloc_shared(
    ctx: &Ctx<'_>,
    inst: &Inst,
    out: TensorId,
    shape: &[usize],
) -> Result<Vec<Assign>, LayoutInferError> {
    if ctx.shared(out).is_some() {
        return Ok(Vec::new());
    }
    let l =
        SharedLayout::row_major(shape).map_err(|e| invalid(ctx.f, inst, &[out], e.to_string()))?;
    Ok(vec![Assign::Shared(out, l)])
}

/// `alloc_register`: the vectorized default.
pub(super) fn alloc_register(
    ctx: &Ctx<'_>,
    out: TensorId,
    dtype: DType,
    shape: &[usize],
) -> Result<Vec<Assign>, LayoutInferError> {
    if ctx.reg(out).is_some() {
        return Ok(Vec::new());
    }
    Ok(vec![Assign::Register(
        out,
        default_layout(ctx.threads, shape, dtype, true),
    )])
}

/// The period of a swizzle: offsets that are multiples of it are left alone, and adding one
/// commutes with the swizzle.
fn swizzle_period(l: &SharedLayout) -> usize {
    l.swizzle().map_or(1, |s| {
        1usize
            .checked_shl(s.base + s.bits + s.shift)
            .unwrap_or(usize::MAX)
    })
}

/// The layout of `parent[i_0, …, i_{fixed-1}]`: the trailing dimensions' modes and strides,
/// and the parent's swizzle.
pub(crate) fn slice_layout(parent: &SharedLayout, fixed: usize) -> Result<SharedLayout, String> {
    let groups = parent.dim_modes();
    let shape = parent.shape().get(fixed..).unwrap_or_default();
    let mut modes = Vec::new();
    let mut strides = Vec::new();
    // `dim_modes` holds indices into this layout's `mode_shape` and `mode_strides`.
    for g in groups.iter().skip(fixed) {
        for &m in g {
            modes.push(parent.mode_shape()[m]);
            strides.push(parent.mode_strides()[m]);
        }
    }
    SharedLayout::new(shape, &modes, &strides, parent.swizzle()).map_err(|e| e.to_string())
}

/// A parent of shape `lead ++ child.shape` made of row-major copies of `child`.
fn stack_layout(child: &SharedLayout, lead: &[usize]) -> Result<SharedLayout, String> {
    let period = swizzle_period(child);
    let step = child.size().div_ceil(period).saturating_mul(period);
    let mut shape = lead.to_vec();
    shape.extend_from_slice(child.shape());
    let mut modes = Vec::new();
    let mut strides = Vec::new();
    let mut s = step;
    let mut lead_strides = vec![0; lead.len()];
    for d in (0..lead.len()).rev() {
        lead_strides[d] = s;
        s = s.saturating_mul(lead[d]);
    }
    for (d, &e) in lead.iter().enumerate() {
        modes.push(e);
        strides.push(lead_strides[d]);
    }
    modes.extend_from_slice(child.mode_shape());
    strides.extend_from_slice(child.mode_strides());
    SharedLayout::new(&shape, &modes, &strides, child.swizzle()).map_err(|e| e.to_string())
}

/// `slice`: between a shared tensor and its slice, in either direction.
pub(super) fn slice(
    ctx: &Ctx<'_>,
    inst: &Inst,
    src: TensorId,
    fixed: usize,
    out: TensorId,
) -> Result<Vec<Assign>, LayoutInferError> {
    if !ctx.is_shared(src) {
        return Ok(Vec::new());
    }
    let fail = |e: String| invalid(ctx.f, inst, &[src, out], e);
    match (ctx.shared(src), ctx.shared(out)) {
        (Some(p), None) => Ok(vec![Assign::Shared(
            out,
            slice_layout(p, fixed).map_err(fail)?,
        )]),
        (None, Some(c)) => {
            let (_, shape) = ctx.tile(src)?;
            let lead = shape.get(..fixed).unwrap_or_default();
            Ok(vec![Assign::Shared(
                src,
                stack_layout(c, lead).map_err(fail)?,
            )])
        }
        _ => Ok(Vec::new()),
    }
}

/// A shared slice has the parent's trailing layout, and the parent's leading strides keep
/// the swizzle within one slice.
pub(super) fn validate_slice(
    ctx: &Ctx<'_>,
    inst: &Inst,
    src: TensorId,
    fixed: usize,
    out: TensorId,
) -> Result<(), LayoutInferError> {
    if !ctx.is_shared(src) {
        return Ok(());
    }
    let p = ctx.need_shared(inst, src)?;
    let c = ctx.need_shared(inst, out)?;
    let fail = |e: String| invalid(ctx.f, inst, &[src, out], e);
    let expected = slice_layout(p, fixed).map_err(fail)?;
    if *c != expected {
        return Err(fail(format!(
            "the slice is laid out as `{c}` but the parent `{p}` gives `{expected}`"
        )));
    }
    let period = swizzle_period(p);
    let groups = p.dim_modes();
    for g in groups.iter().take(fixed) {
        for &m in g {
            // `dim_modes` holds indices into `mode_strides`.
            let stride = p.mode_strides()[m];
            if !stride.is_multiple_of(period) {
                return Err(fail(format!(
                    "the parent `{p}` steps {stride} elements between slices, not a multiple \
                     of its swizzle period {period}, so slices are swizzled differently"
                )));
            }
        }
    }
    Ok(())
}
