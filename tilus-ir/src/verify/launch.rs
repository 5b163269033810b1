//! Launch attributes and declarations: warps, grid, parameters, variable and tensor
//! declarations (names, dtypes, static shapes, declared layouts).

use std::collections::{HashMap, HashSet};

use crate::expr::ScalarType;
use crate::inst::InstKind;
use crate::program::{Out, TensorType, VarKind, VarType};
use crate::typing;

use super::context::Checker;
use super::exprs::Need;

/// Checks the kernel's launch attributes and declarations.
pub(super) fn check(cx: &mut Checker<'_>) {
    let f = cx.f;
    cx.at_kernel();
    if !(1..=32).contains(&f.warps) {
        cx.error(format!(
            "warps must be 1 to 32 (32 to 1024 threads per block), got {}",
            f.warps
        ));
    }
    if f.grid.is_empty() || f.grid.len() > 3 {
        cx.error(format!(
            "the grid needs 1 to 3 extents (x, y, z), got {}",
            f.grid.len()
        ));
    }
    for (i, &e) in f.grid.iter().enumerate() {
        let role = format!("grid extent {i}");
        cx.use_expr(e, Need::Int, &role);
        cx.params_only(e, &role);
    }
    for a in &f.assumes {
        match f.vars.try_get(a.var) {
            Some(v)
                if v.kind == VarKind::Param && matches!(v.ty, VarType::Scalar(t) if t.is_int()) => {
            }
            Some(v) => cx.error(format!(
                "`assume({} % {} == 0)`: only integer scalar parameters can be assumed divisible",
                v.name, a.divisor
            )),
            None => cx.error("an assumption names a variable that does not exist".into()),
        }
        if a.divisor == 0 {
            cx.error("an assumption divides by 0".into());
        }
    }
    params(cx);
    tensors(cx);
}

fn params(cx: &mut Checker<'_>) {
    let f = cx.f;
    let mut names: HashMap<&str, VarKind> = HashMap::new();
    for &p in &f.params {
        let var = &f.vars[p];
        if var.kind != VarKind::Param {
            let kind = cx.var_kind_name(p);
            cx.error(format!(
                "`{}` is in the parameter list but is a {kind}",
                var.name
            ));
        }
        if names.insert(var.name.as_str(), VarKind::Param).is_some() {
            cx.error(format!("two parameters are named `{}`", var.name));
        }
    }
    for (v, var) in f.vars.iter() {
        if var.kind == VarKind::Param && !f.params.contains(&v) {
            cx.error(format!(
                "`{}` is marked as a parameter but is not in the parameter list",
                var.name
            ));
        }
        let valid = match var.ty {
            VarType::Scalar(ScalarType::Bool) => true,
            VarType::Scalar(ScalarType::Data(d)) | VarType::Pointer(d) => d.is_valid(),
        };
        if !valid {
            cx.error(format!(
                "variable `{}` has an invalid type ({:?})",
                var.name, var.ty
            ));
        }
        if var.kind == VarKind::Let {
            if let Some(kind) = names.insert(var.name.as_str(), VarKind::Let) {
                let other = if kind == VarKind::Param {
                    "a parameter"
                } else {
                    "another `let` variable"
                };
                cx.error(format!(
                    "`let` variable `{}` has the name of {other}; names must be unique",
                    var.name
                ));
            }
        }
    }
}

fn tensors(cx: &mut Checker<'_>) {
    let f = cx.f;
    let mut names: HashMap<&str, ()> = HashMap::new();
    let mut view_results = HashSet::new();
    f.for_each_inst(|i| {
        if let (InstKind::View { .. }, Some(Out::New(t))) = (&f.insts[i].kind, f.insts[i].out) {
            view_results.insert(t);
        }
    });
    for (t, tensor) in f.tensors.iter() {
        cx.at_definition(t);
        let name = cx.name(t);
        if tensor.name.is_empty() {
            cx.error(format!("tensor {t:?} has an empty name"));
        } else if names.insert(tensor.name.as_str(), ()).is_some() {
            cx.error(format!("two tensors are named {name}"));
        }
        let dtype = tensor.ty.dtype();
        if !dtype.is_valid() {
            cx.error(format!("{name} has an invalid dtype ({dtype:?})"));
        }
        match &tensor.ty {
            TensorType::Global { shape, .. } => {
                if shape.is_empty() {
                    cx.error(format!("global tensor {name} needs at least one dimension"));
                }
            }
            TensorType::Shared { shape, layout, .. } => {
                if let Err(e) = typing::check_static_shape(shape) {
                    cx.error(format!("{name}: {e}"));
                }
                if let Some(l) = layout {
                    let l = &f.shared_layouts[*l];
                    if l.shape() != shape.as_slice() {
                        cx.error(format!(
                            "the declared layout of {name} has shape {:?} but the tensor is {shape:?}",
                            l.shape()
                        ));
                    }
                }
            }
            TensorType::Register { shape, layout, .. } => {
                // A reduction of a 1-D tile gives a rank-0 tile (one element).
                if !shape.is_empty() {
                    if let Err(e) = typing::check_static_shape(shape) {
                        cx.error(format!("{name}: {e}"));
                    }
                }
                // The layout of a `view`'s result is the view's, checked by `view.rs`.
                let by_view = view_results.contains(&t);
                if let Some(l) = layout.filter(|_| !by_view) {
                    let l = &f.layouts[l];
                    if l.shape() != shape.as_slice() {
                        cx.error(format!(
                            "the declared layout of {name} has shape {:?} but the tensor is {shape:?}",
                            l.shape()
                        ));
                    }
                    if l.num_threads() != f.num_threads() {
                        cx.error(format!(
                            "the declared layout of {name} spans {} threads but the block has {} \
                             ({} warps)",
                            l.num_threads(),
                            f.num_threads(),
                            f.warps
                        ));
                    }
                }
            }
        }
    }
}
