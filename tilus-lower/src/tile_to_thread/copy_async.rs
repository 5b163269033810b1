//! `copy_async`, `commit_group`, `wait_group`, `wait_all`.
//!
//! The tile is spread over the block with `auto_local_spatial(threads, shape)` (each thread
//! owning runs of `w` consecutive elements of the last dimension when both the shared
//! layout and the global view allow `w`-wide copies); each thread issues `cp.async` for its
//! elements, zero-filling those outside the view's extents. Replicated owners are skipped
//! (only the lowest holder copies). Groups and waits are per thread, as on the GPU; the
//! tile program's `sync` after the wait makes every thread's copies visible to all.

use tilus_ir::expr::ExprId as TExprId;
use tilus_ir::layout::{auto_local_spatial, local};
use tilus_ir::program::TensorId;

use super::index::{global_run, shared_run, vector_width};
use super::transfer::{lower_offsets, tile_dims};
use super::{Lower, R};
use crate::thread_ir::{MemRef, Space, Stmt};

/// `copy_async`.
pub(super) fn copy_async(
    cx: &mut Lower<'_>,
    dst: TensorId,
    src: TensorId,
    offsets: &[TExprId],
    dims: Option<&[usize]>,
) -> R<()> {
    let s = cx.shared(dst)?;
    let g = cx.global(src)?;
    let shape = s.shape.clone();
    let dims = tile_dims(cx, &g, dims, shape.len())?;
    if offsets.len() != g.shape.len() {
        return cx.invalid("one offset per global dimension is needed");
    }
    let offs = lower_offsets(cx, offsets)?;
    let last = shape.last().copied().unwrap_or(1);
    let w = vector_width(
        &[shared_run(&s), global_run(cx.f, &g, offsets, &dims), last],
        g.dtype.bits(),
    );
    let threads = cx.f.num_threads();
    let l = if w > 1 {
        let mut outer = shape.clone();
        if let Some(x) = outer.last_mut() {
            *x /= w as usize;
        }
        let mut inner = vec![1usize; shape.len()];
        if let Some(x) = inner.last_mut() {
            *x = w as usize;
        }
        auto_local_spatial(threads, &outer).compose(&local(&inner))
    } else {
        auto_local_spatial(threads, &shape)
    };
    let tp = cx.thread_part(&l);
    let first = cx.first_holder(&l);
    cx.b.open();
    for slot in (0..l.local_size()).step_by(w as usize) {
        let idx = cx.tile_index(&l, &tp, slot)?;
        let dst_index = cx.shared_index(&s, &idx);
        let (src_index, mask) = cx.global_access(&g, &offs, &dims, &idx);
        cx.b.push(Stmt::CopyAsync {
            dst: MemRef {
                space: Space::Shared(s.alloc),
                index: dst_index,
            },
            src: MemRef {
                space: Space::Global(g.buffer),
                index: src_index,
            },
            width: w,
            mask: Some(mask),
        });
    }
    let body = cx.b.close();
    match first {
        Some(cond) => cx.b.push(Stmt::If {
            cond,
            then_body: body,
            else_body: Vec::new(),
        }),
        None => {
            for st in body {
                cx.b.push(st);
            }
        }
    }
    Ok(())
}

/// `commit_group`.
pub(super) fn commit_group(cx: &mut Lower<'_>) -> R<()> {
    cx.b.push(Stmt::CommitGroup);
    Ok(())
}

/// `wait_group`.
pub(super) fn wait_group(cx: &mut Lower<'_>, n: u32) -> R<()> {
    cx.b.push(Stmt::WaitGroup(n));
    Ok(())
}

/// `wait_all`.
pub(super) fn wait_all(cx: &mut Lower<'_>) -> R<()> {
    cx.b.push(Stmt::WaitAll);
    Ok(())
}
