//! `transfer` family: `load_global`, `store_global`, `load_shared`, `store_shared`.
//!
//! The typing rules check kinds, dtypes, ranks, `dims` and shapes. Here: offsets are
//! integers. (Loading a shared tile that a pending `copy_async` writes is checked by the
//! path-sensitive pass in `copy_async.rs`.)

use crate::expr::ExprId;

use super::context::Checker;
use super::exprs::Need;

/// The offsets of a global access (`load_global`, `store_global`, `copy_async`) are integers.
pub(super) fn offsets(cx: &mut Checker<'_>, offsets: &[ExprId]) {
    for (i, &e) in offsets.iter().enumerate() {
        cx.use_expr(e, Need::Int, &format!("offset {i}"));
    }
}
