//! `memory` family: `global_view`, `alloc_global`, `alloc_shared`, `free_shared`,
//! `alloc_register`, `slice`.
//!
//! Beyond the typing rules: extents, strides and indices are integers; a global workspace's
//! extents come from parameters only (every block sees the same workspace); `global_view`
//! takes a pointer *parameter*; `free_shared` frees a tile made by `alloc_shared` (not a
//! slice of it) once, and not inside a loop when the tile was allocated outside that loop
//! (the next iteration would use it after free); constant slice indices are in range.

use crate::dtype::DType;
use crate::expr::ExprId;
use crate::program::{InstId, TensorId, TensorType, VarId, VarKind};

use super::context::Checker;
use super::exprs::{const_int, fmt_expr, Need};

/// `global_view`: the pointer is a parameter; extents and strides are integers.
pub(super) fn global_view(
    cx: &mut Checker<'_>,
    ptr: VarId,
    shape: &[ExprId],
    strides: Option<&[ExprId]>,
) {
    let f = cx.f;
    if f.vars[ptr].kind != VarKind::Param {
        let kind = cx.var_kind_name(ptr);
        cx.error(format!(
            "`global_view` needs a pointer parameter, but `{}` is a {kind}",
            f.vars[ptr].name
        ));
    }
    for (i, &e) in shape.iter().enumerate() {
        cx.use_expr(e, Need::Int, &format!("extent {i}"));
        if let Some(v) = const_int(f, e) {
            if v < 0 {
                cx.error(format!("extent {i} is {v}; extents cannot be negative"));
            }
        }
    }
    for (i, &e) in strides.into_iter().flatten().enumerate() {
        cx.use_expr(e, Need::Int, &format!("stride {i}"));
    }
}

/// `alloc_global`: integer extents computed from parameters only.
pub(super) fn alloc_global(cx: &mut Checker<'_>, shape: &[ExprId]) {
    for (i, &e) in shape.iter().enumerate() {
        let role = format!("extent {i}");
        cx.use_expr(e, Need::Int, &role);
        cx.params_only(e, &role);
    }
}

/// `alloc_register`: the initial value converts to the tile's dtype.
pub(super) fn alloc_register(cx: &mut Checker<'_>, dtype: DType, init: Option<ExprId>) {
    if let Some(e) = init {
        cx.use_expr(e, Need::Convert(dtype), "the initial value");
    }
}

/// `free_shared`: once, of the allocated tile, in the loop that allocated it.
pub(super) fn free_shared(cx: &mut Checker<'_>, id: InstId, tensor: TensorId, typed: bool) {
    if !typed {
        return;
    }
    let root = cx.root(tensor);
    if root != tensor {
        cx.error(format!(
            "`free_shared` releases the tile made by `alloc_shared`, but {} is a slice of {}",
            cx.name(tensor),
            cx.name(root)
        ));
        return;
    }
    if let Some(&first) = cx.freed.get(&root) {
        cx.error(format!(
            "{} is freed twice (first by {})",
            cx.name(root),
            cx.describe_inst(first)
        ));
        return;
    }
    if let Some(&depth) = cx.def_depth.get(&root) {
        if cx.loop_depth > depth {
            cx.error(format!(
                "{} is allocated outside this `for` loop and freed inside it: the next \
                 iteration would use it after free (free it after the loop)",
                cx.name(root)
            ));
        }
    }
    cx.freed.insert(root, id);
}

/// `slice`: integer indices, in range when constant.
pub(super) fn slice(cx: &mut Checker<'_>, src: TensorId, indices: &[ExprId], typed: bool) {
    let f = cx.f;
    for (i, &e) in indices.iter().enumerate() {
        cx.use_expr(e, Need::Int, &format!("index {i}"));
    }
    if !typed {
        return;
    }
    for (i, &e) in indices.iter().enumerate() {
        let Some(v) = const_int(f, e) else { continue };
        let extent = match &f.tensors[src].ty {
            TensorType::Shared { shape, .. } | TensorType::Register { shape, .. } => {
                shape.get(i).and_then(|&s| i64::try_from(s).ok())
            }
            TensorType::Global { shape, .. } => shape.get(i).and_then(|&s| const_int(f, s)),
        };
        let out_of_range = v < 0 || extent.is_some_and(|x| v >= x);
        if out_of_range {
            let bound = extent.map_or_else(
                || "must not be negative".to_string(),
                |x| format!("must be in 0..{x} (dimension {i} of {})", cx.name(src)),
            );
            cx.error(format!(
                "index {i} `{}` is out of range: it {bound}",
                fmt_expr(f, e)
            ));
        }
    }
}
