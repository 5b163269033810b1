//! `sync` family: `sync`, `lock_semaphore`, `release_semaphore`.
//!
//! The typing rules check that the semaphore is a global `i32` tensor indexed in every
//! dimension. Here: the indices are integers and the value is an `i32`.

use crate::expr::{ExprId, ScalarType};

use super::context::Checker;
use super::exprs::Need;

/// Semaphore indices are integers; the value is `i32`.
pub(super) fn semaphore(cx: &mut Checker<'_>, index: &[ExprId], value: ExprId) {
    for (i, &e) in index.iter().enumerate() {
        cx.use_expr(e, Need::Int, &format!("index {i}"));
    }
    cx.use_expr(value, Need::Type(ScalarType::I32), "the value");
}
