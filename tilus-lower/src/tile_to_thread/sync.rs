//! `sync`, `lock_semaphore`, `release_semaphore`.
//!
//! `sync` is a block barrier. A semaphore lock is one thread spinning on the `i32` element
//! (acquire) followed by a barrier that holds the block back; a release is a barrier (every
//! thread's writes are done) followed by one thread storing the value.

use tilus_ir::expr::{ExprId as TExprId, ScalarType};
use tilus_ir::program::TensorId;

use super::{Lower, R};
use crate::thread_ir::{ExprId, MemRef, Space, Stmt};

/// `sync`.
pub(super) fn sync(cx: &mut Lower<'_>) -> R<()> {
    cx.b.push(Stmt::Barrier);
    Ok(())
}

/// The element of a semaphore tensor (not masked; the interpreter checks the bounds).
fn element(cx: &mut Lower<'_>, sem: TensorId, index: &[TExprId]) -> R<MemRef> {
    let g = cx.global(sem)?;
    if index.len() != g.shape.len() {
        return cx.invalid("one index per dimension of the semaphore tensor is needed");
    }
    let mut at = g.base;
    for (i, &e) in index.iter().enumerate() {
        let x = cx.index_expr(e)?;
        let term = cx.b.mul(x, g.strides[i]);
        at = cx.b.add(at, term);
    }
    Ok(MemRef {
        space: Space::Global(g.buffer),
        index: at,
    })
}

fn thread0(cx: &mut Lower<'_>) -> ExprId {
    let tid = cx.b.thread_idx();
    let zero = cx.b.i32(0);
    cx.b.eq(tid, zero)
}

/// `lock_semaphore`.
pub(super) fn lock_semaphore(
    cx: &mut Lower<'_>,
    sem: TensorId,
    index: &[TExprId],
    value: TExprId,
) -> R<()> {
    let m = element(cx, sem, index)?;
    let v = cx.scalar_as(value, ScalarType::I32)?;
    let cond = thread0(cx);
    cx.b.push(Stmt::If {
        cond,
        then_body: vec![Stmt::SemAcquire { sem: m, value: v }],
        else_body: Vec::new(),
    });
    cx.b.push(Stmt::Barrier);
    Ok(())
}

/// `release_semaphore`.
pub(super) fn release_semaphore(
    cx: &mut Lower<'_>,
    sem: TensorId,
    index: &[TExprId],
    value: TExprId,
) -> R<()> {
    let m = element(cx, sem, index)?;
    let v = cx.scalar_as(value, ScalarType::I32)?;
    cx.b.push(Stmt::Barrier);
    let cond = thread0(cx);
    cx.b.push(Stmt::If {
        cond,
        then_body: vec![Stmt::SemRelease { sem: m, value: v }],
        else_body: Vec::new(),
    });
    Ok(())
}
