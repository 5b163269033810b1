//! `reduce` family: `sum`, `max`, `min` over one dimension.
//!
//! The typing rules check the dimension. Here: `sum` of a bool (`u1`) tile is rejected, since
//! it would wrap at 1 (a parity, rarely what is meant): `max` is "any", `min` is "all", and
//! a count needs a cast to an integer type first.

use crate::inst::ReduceOp;
use crate::program::TensorId;
use crate::typing::BOOL;

use super::context::Checker;

/// `sum` needs a tile wider than one bit.
pub(super) fn reduce(cx: &mut Checker<'_>, op: ReduceOp, x: TensorId, typed: bool) {
    if typed && op == ReduceOp::Sum && cx.f.tensors[x].ty.dtype() == BOOL {
        cx.error(format!(
            "`sum` of the bool (u1) tile {} wraps at 1; cast it to an integer type to count, \
             or use `max` (any) / `min` (all)",
            cx.name(x)
        ));
    }
}
