//! `annotate` family: `annotate_layout`, `annotate_shared_layout`, `print`.
//!
//! The typing rules check the tensor kind, that the layout's shape is the tensor's and that a
//! register layout spans the block's threads (32 × warps). Here: a tensor has one layout.
//! Annotating after the tensor's first use is fine (a layout is a property of the tensor, not
//! of a point in the program), but every annotation, the declared type and the defining
//! `view` must agree; a conflict is reported at the later annotation.

use crate::program::{InstId, LayoutId, SharedLayoutId, TensorId};

use super::context::{Checker, LayoutSource};

fn source(cx: &Checker<'_>, src: Option<&LayoutSource>) -> String {
    match src {
        Some(LayoutSource::Inst(i)) => cx.describe_inst(*i),
        Some(LayoutSource::Declared) | None => "its type".to_string(),
    }
}

/// `annotate_layout`: agrees with every other layout given to the tensor.
pub(super) fn layout(cx: &mut Checker<'_>, id: InstId, t: TensorId, l: LayoutId, typed: bool) {
    if !typed {
        return;
    }
    let f = cx.f;
    let Some(known) = cx.info.layout_of(t) else {
        return;
    };
    let src = cx.layout_sources.get(&t);
    if src != Some(&LayoutSource::Inst(id)) && f.layouts[known] != f.layouts[l] {
        cx.error(format!(
            "{} already has the layout {} (from {}); it cannot also be {}",
            cx.name(t),
            f.layouts[known],
            source(cx, src),
            f.layouts[l]
        ));
    }
}

/// `annotate_shared_layout`: agrees with every other shared layout given to the tensor.
pub(super) fn shared_layout(
    cx: &mut Checker<'_>,
    id: InstId,
    t: TensorId,
    l: SharedLayoutId,
    typed: bool,
) {
    if !typed {
        return;
    }
    let f = cx.f;
    let Some(known) = cx.info.shared_layout_of(t) else {
        return;
    };
    let src = cx.shared_layout_sources.get(&t);
    if src != Some(&LayoutSource::Inst(id)) && f.shared_layouts[known] != f.shared_layouts[l] {
        cx.error(format!(
            "{} already has the shared layout {} (from {}); it cannot also be {}",
            cx.name(t),
            f.shared_layouts[known],
            source(cx, src),
            f.shared_layouts[l]
        ));
    }
}
