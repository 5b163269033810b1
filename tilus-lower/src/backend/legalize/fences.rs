//! Barriers that need to order only workgroup memory: a barrier is emitted with
//! `storageBarrier()` only when a global write (store, atomic, semaphore release) may have
//! run before it in the block, in program order or in an earlier iteration of an enclosing
//! loop; every other barrier becomes [`Stmt::SharedBarrier`] (`workgroupBarrier()` alone).

use crate::thread_ir::{Space, Stmt};

fn writes_global(s: &Stmt) -> bool {
    match s {
        Stmt::Store { dst, .. } | Stmt::Atomic { dst, .. } => {
            matches!(dst.space, Space::Global(_))
        }
        Stmt::SemRelease { .. } | Stmt::SemAcquire { .. } => true,
        Stmt::For { body, .. } => body.iter().any(writes_global),
        Stmt::If {
            then_body,
            else_body,
            ..
        } => then_body.iter().chain(else_body).any(writes_global),
        _ => false,
    }
}

/// Rewrites the barriers of `body`; `seen` says whether a global write may precede it.
/// Returns whether one may have run by its end.
pub(super) fn relax(body: &mut [Stmt], mut seen: bool) -> bool {
    for s in body.iter_mut() {
        match s {
            Stmt::Barrier if !seen => *s = Stmt::SharedBarrier,
            Stmt::For { body, .. } => {
                // A write in the body precedes every barrier of later iterations.
                let inner = seen || body.iter().any(writes_global);
                relax(body, inner);
                seen = inner;
            }
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                let a = relax(then_body, seen);
                let b = relax(else_body, seen);
                seen = a || b;
            }
            other => seen |= writes_global(other),
        }
    }
    seen
}
