//! `load_global`, `store_global`, `load_shared`, `store_shared`.
//!
//! Every thread moves its own slots: slot `s` holds tile index `L.index_of(t, s)`, whose
//! global element is `base + Σ (offset_d + idx_d) · stride_d`, masked by
//! `0 <= offset_d + idx_d < extent_d` in every global dimension (masked loads read 0,
//! masked stores are dropped); shared elements are at `SharedLayout::offset` of the
//! allocation. Runs of slots that hold consecutive elements of the last dimension become
//! one vector access when both sides allow it (see `index::vector_width`). Stores of a
//! replicated layout are done by the lowest holder of each element only.

use tilus_ir::expr::ExprId as TExprId;
use tilus_ir::program::{Out, TensorId};

use super::index::{global_run, register_run, shared_run, vector_width};
use super::{GlobalInfo, Lower, R};
use crate::thread_ir::{ExprId, LocalRef, MemRef, Space, Stmt};

/// The global dimension each tile dimension spans.
pub(super) fn tile_dims(
    cx: &Lower<'_>,
    g: &GlobalInfo,
    dims: Option<&[usize]>,
    tile_rank: usize,
) -> R<Vec<usize>> {
    let rank = g.shape.len();
    let d: Vec<usize> = match dims {
        Some(d) => d.to_vec(),
        None => (rank.saturating_sub(tile_rank)..rank).collect(),
    };
    if d.len() != tile_rank || d.iter().any(|&x| x >= rank) {
        return cx.invalid(format!(
            "dims {d:?} do not fit a rank-{tile_rank} tile of a rank-{rank} tensor"
        ));
    }
    Ok(d)
}

pub(super) fn lower_offsets(cx: &mut Lower<'_>, offsets: &[TExprId]) -> R<Vec<ExprId>> {
    offsets.iter().map(|&e| cx.index_expr(e)).collect()
}

/// `load_global`.
pub(super) fn load_global(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    src: TensorId,
    offsets: &[TExprId],
    shape: &[usize],
    dims: Option<&[usize]>,
) -> R<()> {
    let g = cx.global(src)?;
    let dims = tile_dims(cx, &g, dims, shape.len())?;
    if offsets.len() != g.shape.len() {
        return cx.invalid("one offset per global dimension is needed");
    }
    let (_, info) = cx.out_reg(out, g.dtype)?;
    let offs = lower_offsets(cx, offsets)?;
    let l = info.layout.clone();
    let w = vector_width(
        &[register_run(&l), global_run(cx.f, &g, offsets, &dims)],
        g.dtype.bits(),
    );
    let tp = cx.thread_part(&l);
    for s in (0..l.local_size()).step_by(w as usize) {
        let idx = cx.tile_index(&l, &tp, s)?;
        let (index, mask) = cx.global_access(&g, &offs, &dims, &idx);
        cx.b.push(Stmt::Load {
            dst: LocalRef {
                array: info.array,
                slot: s as u32,
            },
            src: MemRef {
                space: Space::Global(g.buffer),
                index,
            },
            width: w,
            mask: Some(mask),
        });
    }
    Ok(())
}

/// `store_global`.
pub(super) fn store_global(
    cx: &mut Lower<'_>,
    dst: TensorId,
    src: TensorId,
    offsets: &[TExprId],
    dims: Option<&[usize]>,
) -> R<()> {
    let g = cx.global(dst)?;
    let r = cx.reg(src)?;
    let l = r.layout.clone();
    let dims = tile_dims(cx, &g, dims, l.rank())?;
    if offsets.len() != g.shape.len() {
        return cx.invalid("one offset per global dimension is needed");
    }
    let offs = lower_offsets(cx, offsets)?;
    let w = vector_width(
        &[register_run(&l), global_run(cx.f, &g, offsets, &dims)],
        g.dtype.bits(),
    );
    let tp = cx.thread_part(&l);
    let first = cx.first_holder(&l);
    for s in (0..l.local_size()).step_by(w as usize) {
        let idx = cx.tile_index(&l, &tp, s)?;
        let (index, mut mask) = cx.global_access(&g, &offs, &dims, &idx);
        if let Some(p) = first {
            mask = cx.b.and(mask, p);
        }
        cx.b.push(Stmt::Store {
            dst: MemRef {
                space: Space::Global(g.buffer),
                index,
            },
            src: LocalRef {
                array: r.array,
                slot: s as u32,
            },
            width: w,
            mask: Some(mask),
        });
    }
    Ok(())
}

/// `load_shared`.
pub(super) fn load_shared(cx: &mut Lower<'_>, out: Option<Out>, src: TensorId) -> R<()> {
    let s = cx.shared(src)?;
    let dtype = cx.b.kernel.shared[s.alloc].dtype;
    let (_, info) = cx.out_reg(out, dtype)?;
    let l = info.layout.clone();
    if l.shape() != s.shape.as_slice() {
        return cx.invalid("load_shared result and shared tensor shapes differ");
    }
    if super::ldmatrix::try_ldmatrix(cx, &s, &info)? {
        return Ok(());
    }
    let w = vector_width(&[register_run(&l), shared_run(&s)], dtype.bits());
    let tp = cx.thread_part(&l);
    for slot in (0..l.local_size()).step_by(w as usize) {
        let idx = cx.tile_index(&l, &tp, slot)?;
        let index = cx.shared_index(&s, &idx);
        cx.b.push(Stmt::Load {
            dst: LocalRef {
                array: info.array,
                slot: slot as u32,
            },
            src: MemRef {
                space: Space::Shared(s.alloc),
                index,
            },
            width: w,
            mask: None,
        });
    }
    Ok(())
}

/// `store_shared`.
pub(super) fn store_shared(cx: &mut Lower<'_>, dst: TensorId, src: TensorId) -> R<()> {
    let s = cx.shared(dst)?;
    let r = cx.reg(src)?;
    let l = r.layout.clone();
    if l.shape() != s.shape.as_slice() {
        return cx.invalid("store_shared tile and shared tensor shapes differ");
    }
    let w = vector_width(&[register_run(&l), shared_run(&s)], r.dtype.bits());
    let tp = cx.thread_part(&l);
    let first = cx.first_holder(&l);
    for slot in (0..l.local_size()).step_by(w as usize) {
        let idx = cx.tile_index(&l, &tp, slot)?;
        let index = cx.shared_index(&s, &idx);
        cx.b.push(Stmt::Store {
            dst: MemRef {
                space: Space::Shared(s.alloc),
                index,
            },
            src: LocalRef {
                array: r.array,
                slot: slot as u32,
            },
            width: w,
            mask: first,
        });
    }
    Ok(())
}
