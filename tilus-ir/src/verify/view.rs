//! `view` family: reinterpret each thread's register bits with a new dtype, shape and layout.
//!
//! The typing rules check that the input is a register tile and that the new layout has the
//! new shape. Here (Tilus's `validation_rules/view.py`): the input's layout must be known
//! (declared, annotated anywhere in the function, or made by an earlier `view`), both layouts
//! span the same number of threads (the block's), and every thread holds the same number of
//! bits before and after: `in.local_size × in.bits == out.local_size × out.bits`. A layout
//! declared or annotated for the result must be the view's own.

use crate::dtype::DType;
use crate::program::{InstId, LayoutId, TensorId};

use super::context::{Checker, LayoutSource};

/// Checks a `view` of `x` as `dtype` with `layout`.
pub(super) fn view(
    cx: &mut Checker<'_>,
    id: InstId,
    x: TensorId,
    dtype: DType,
    layout: LayoutId,
    typed: bool,
) {
    if !typed {
        return;
    }
    let f = cx.f;
    let out = &f.layouts[layout];
    let block = f.num_threads();
    // The result's layout, when fixed elsewhere, must be this one.
    if let Some(o) = f.insts[id].out.map(|o| o.tensor()) {
        if let (Some(known), Some(src)) = (cx.info.layout_of(o), cx.layout_sources.get(&o)) {
            if *src != LayoutSource::Inst(id) && f.layouts[known] != *out {
                let by = match src {
                    LayoutSource::Declared => "its type".to_string(),
                    LayoutSource::Inst(i) => cx.describe_inst(*i),
                };
                cx.error(format!(
                    "{} is given the layout {} by {by}, but the view makes it {out}",
                    cx.name(o),
                    f.layouts[known]
                ));
            }
        }
    }
    let Some(in_id) = cx.info.layout_of(x) else {
        cx.error(format!(
            "the layout of {} is not known: annotate it (`annotate_layout`) or make it with a \
             `view`; a view reinterprets each thread's registers, so both layouts must be fixed",
            cx.name(x)
        ));
        if out.num_threads() != block {
            cx.error(format!(
                "the view's layout spans {} threads but the block has {block} ({} warps)",
                out.num_threads(),
                f.warps
            ));
        }
        return;
    };
    let input = &f.layouts[in_id];
    let in_dtype = f.tensors[x].ty.dtype();
    if input.num_threads() != out.num_threads() {
        cx.error(format!(
            "thread counts differ: {} is laid out over {} threads, the view's layout over {}",
            cx.name(x),
            input.num_threads(),
            out.num_threads()
        ));
    }
    let in_bits = input.local_size() as u64 * u64::from(in_dtype.bits());
    let out_bits = out.local_size() as u64 * u64::from(dtype.bits());
    if in_bits != out_bits {
        cx.error(format!(
            "bits per thread differ: {} holds {} × {in_dtype} = {in_bits} bits per thread, the \
             view {} × {dtype} = {out_bits} bits",
            cx.name(x),
            input.local_size(),
            out.local_size()
        ));
    }
}
