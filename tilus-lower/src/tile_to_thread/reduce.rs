//! `sum`, `max`, `min` over one dimension.
//!
//! The tile interpreter combines the elements of the reduced dimension in ascending index
//! order from the first one (float sums rounded to the dtype after every addition; `max` /
//! `min` ignore NaN and order `-0 < +0`), so the lowering keeps that order exactly:
//! - when every thread holds, for each of its result slots, the whole reduced line in its
//!   own slots (the reduced dimension is local), it combines those slots in order;
//! - on targets with 32-lane warp shuffles, when every line lies within one warp — element
//!   `k` of a thread's line sits in the same slot of a lane whose reduced lane bits are a
//!   constant `P(s, k)` and whose other lane bits are the thread's own — each thread gathers
//!   its line with one `shuffle` per element (`lane = (lane & !M) | P`) and combines the
//!   values in order: exact like the other paths, with no shared memory and no barrier;
//! - otherwise every thread writes its elements to a row-major shared scratch tile (lowest
//!   holder only), a barrier, then each thread walks the line for each of its result slots
//!   in a loop, and a barrier before the scratch is released.

use tilus_ir::dtype::DType;
use tilus_ir::inst::ReduceOp;
use tilus_ir::layout::RegisterLayout;
use tilus_ir::program::{Out, TensorId};

use super::scalar::{as_f32, from_f32};
use super::{Lower, R};
use crate::error::LowerError;
use crate::thread_ir::{BinaryOp, ExprId, LocalId, LocalRef, MemRef, Space, Stmt, Ty, VarId};

/// The input index of reduced position `k` for result index `idx`.
fn input_index(idx: &[usize], dim: usize, keepdim: bool, k: usize) -> Vec<usize> {
    let mut v = idx.to_vec();
    if keepdim {
        v[dim] = k;
    } else {
        v.insert(dim, k);
    }
    v
}

/// For each result slot and reduced position, the input slot holding it in every thread;
/// `None` when some thread does not hold its lines.
fn local_table(
    lo: &RegisterLayout,
    li: &RegisterLayout,
    dim: usize,
    keepdim: bool,
    extent: usize,
) -> Option<Vec<Vec<u32>>> {
    let mut table = vec![vec![0u32; extent]; lo.local_size()];
    for (s, row) in table.iter_mut().enumerate() {
        for t in 0..lo.num_threads() {
            let idx = lo.index_of(t, s).ok()?;
            for (k, cell) in row.iter_mut().enumerate() {
                let ii = input_index(&idx, dim, keepdim, k);
                if !li.holds(t, &ii) {
                    return None;
                }
                let slot = li.slot_of(&ii).ok()? as u32;
                if t > 0 && *cell != slot {
                    return None;
                }
                *cell = slot;
            }
        }
    }
    Some(table)
}

/// Per result slot, per reduced position: (input slot, lane bits `P`).
type WarpTable = Vec<Vec<(u32, u32)>>;

/// For each result slot and reduced position: the input slot and the lane bits `P` of the
/// lane holding it, with the mask `M` of the lane bits the reduced dimension occupies
/// (see the module doc); `None` when some line is not spread that way within a warp.
fn warp_table(
    lo: &RegisterLayout,
    li: &RegisterLayout,
    dim: usize,
    keepdim: bool,
    extent: usize,
) -> Option<(u32, WarpTable)> {
    let threads = li.num_threads();
    if threads != lo.num_threads() || !threads.is_multiple_of(32) || extent > 32 {
        return None;
    }
    // The lowest holder lane (in thread 0's warp) of each (slot, k), from thread 0.
    let mut table = vec![vec![(0u32, 0u32); extent]; lo.local_size()];
    let mut mask = 0u32;
    for (s, row) in table.iter_mut().enumerate() {
        let idx = lo.index_of(0, s).ok()?;
        for (k, cell) in row.iter_mut().enumerate() {
            let ii = input_index(&idx, dim, keepdim, k);
            let lane = (0..32).find(|&l| li.holds(l, &ii))? as u32;
            *cell = (li.slot_of(&ii).ok()? as u32, lane);
        }
        for &(_, a) in row.iter() {
            mask |= a ^ row[0].1;
        }
    }
    // Every thread's line must be where the rule says.
    for t in 0..threads {
        let (warp, lane) = (t / 32 * 32, (t % 32) as u32);
        for (s, row) in table.iter().enumerate() {
            let idx = lo.index_of(t, s).ok()?;
            for (k, &(slot, p)) in row.iter().enumerate() {
                let ii = input_index(&idx, dim, keepdim, k);
                let src = warp + ((lane & !mask) | p) as usize;
                if !li.holds(src, &ii) || li.slot_of(&ii).ok()? as u32 != slot {
                    return None;
                }
            }
        }
    }
    Some((mask, table))
}

/// The accumulator's type and the value of an element in it.
fn acc_ty(d: DType) -> Ty {
    if d.is_float() {
        Ty::F32
    } else {
        Ty::carrier(d)
    }
}

fn to_acc(cx: &mut Lower<'_>, v: ExprId, d: DType) -> ExprId {
    if d.is_float() {
        as_f32(&mut cx.b, v, d)
    } else {
        v
    }
}

/// `acc ⊕ x` with the interpreter's rounding.
fn combine(cx: &mut Lower<'_>, op: ReduceOp, acc: ExprId, x: ExprId, d: DType) -> ExprId {
    match op {
        ReduceOp::Max => cx.b.binary(BinaryOp::Max, acc, x),
        ReduceOp::Min => cx.b.binary(BinaryOp::Min, acc, x),
        ReduceOp::Sum => {
            let r = cx.b.add(acc, x);
            if d.is_float() && d != DType::F32 {
                let c = from_f32(&mut cx.b, r, d);
                as_f32(&mut cx.b, c, d)
            } else {
                r
            }
        }
    }
}

fn from_acc(cx: &mut Lower<'_>, acc: ExprId, d: DType) -> ExprId {
    if d.is_float() {
        from_f32(&mut cx.b, acc, d)
    } else {
        acc
    }
}

fn assign(cx: &mut Lower<'_>, var: VarId, value: ExprId) {
    cx.b.push(Stmt::Assign { var, value });
}

/// `dst = line[0] ⊕ line[1] ⊕ …` in index order through the accumulator `acc`, with the
/// interpreter's rounding; `line` names the slots holding the elements.
fn combine_line(
    cx: &mut Lower<'_>,
    op: ReduceOp,
    d: DType,
    acc: VarId,
    line: &[(LocalId, u32)],
    dst: LocalRef,
) {
    let accv = cx.b.read_var(acc);
    for (k, &(array, slot)) in line.iter().enumerate() {
        let v = cx.b.read_local(array, slot);
        let v = to_acc(cx, v, d);
        let nv = if k == 0 {
            v
        } else {
            combine(cx, op, accv, v, d)
        };
        assign(cx, acc, nv);
    }
    let value = from_acc(cx, accv, d);
    cx.b.push(Stmt::SetLocal { dst, value });
}

/// `reduce`.
pub(super) fn reduce(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    op: ReduceOp,
    x: TensorId,
    dim: usize,
    keepdim: bool,
) -> R<()> {
    let r = cx.reg(x)?;
    let d = r.dtype;
    let li = r.layout.clone();
    let Some(&extent) = li.shape().get(dim) else {
        return cx.invalid(format!(
            "reduce over dim {dim} of a rank-{} tile",
            li.rank()
        ));
    };
    let o = cx.out_array(out, d, &[x])?;
    let lo = o.info.layout.clone();
    if lo.rank() + usize::from(!keepdim) != li.rank() {
        return Err(LowerError::InvalidProgram(format!(
            "{}: the result's rank does not fit the reduction",
            cx.here()
        )));
    }
    let name = cx.tensor_name(x);
    let acc = cx.b.var(&format!("{name}_acc"), acc_ty(d));
    let accv = cx.b.read_var(acc);
    if let Some(table) = local_table(&lo, &li, dim, keepdim, extent) {
        for (s, row) in table.iter().enumerate() {
            let line: Vec<(LocalId, u32)> = row.iter().map(|&slot| (r.array, slot)).collect();
            combine_line(
                cx,
                op,
                d,
                acc,
                &line,
                LocalRef {
                    array: o.array,
                    slot: s as u32,
                },
            );
        }
        cx.commit_out(&o);
        return Ok(());
    }
    if cx.opts.shuffle && d.bits() <= 32 {
        if let Some((mask, table)) = warp_table(&lo, &li, dim, keepdim, extent) {
            let tmp = cx.b.local(&format!("{name}_line"), d, extent as u32);
            let tid = cx.b.thread_idx();
            let c32 = cx.b.i32(32);
            let lane = cx.b.rem(tid, c32);
            let keep = cx.b.i32(!(mask as i32));
            let own = cx.b.and(lane, keep);
            for (s, row) in table.iter().enumerate() {
                for (k, &(slot, p)) in row.iter().enumerate() {
                    let value = cx.b.read_local(r.array, slot);
                    let pc = cx.b.i32(p as i32);
                    let src = cx.b.binary(BinaryOp::Or, own, pc);
                    cx.b.push(Stmt::Shuffle {
                        dst: LocalRef {
                            array: tmp,
                            slot: k as u32,
                        },
                        value,
                        lane: src,
                    });
                }
                let line: Vec<(LocalId, u32)> = (0..extent as u32).map(|k| (tmp, k)).collect();
                combine_line(
                    cx,
                    op,
                    d,
                    acc,
                    &line,
                    LocalRef {
                        array: o.array,
                        slot: s as u32,
                    },
                );
            }
            cx.commit_out(&o);
            return Ok(());
        }
    }
    // Through shared memory.
    let shape = li.shape().to_vec();
    let mut row_strides = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        row_strides[i] = row_strides[i + 1] * shape[i + 1];
    }
    let numel: usize = shape.iter().product();
    let scratch = cx.new_shared(&format!("{name}_reduce"), d, numel)?;
    let lin = |cx: &mut Lower<'_>, idx: &[ExprId]| -> ExprId {
        let mut at = cx.b.i32(0);
        for (&i, &st) in idx.iter().zip(&row_strides) {
            let c = cx.b.i32(st as i32);
            let term = cx.b.mul(i, c);
            at = cx.b.add(at, term);
        }
        at
    };
    // Every element once into the scratch tile.
    let tp = cx.thread_part(&li);
    let first = cx.first_holder(&li);
    for s in 0..li.local_size() {
        let idx = cx.tile_index(&li, &tp, s)?;
        let index = lin(cx, &idx);
        cx.b.push(Stmt::Store {
            dst: MemRef {
                space: Space::Shared(scratch),
                index,
            },
            src: LocalRef {
                array: r.array,
                slot: s as u32,
            },
            width: 1,
            mask: first,
        });
    }
    cx.b.push(Stmt::Barrier);
    let tmp = cx.b.local(&format!("{name}_elem"), d, 1);
    let k = cx.b.var(&format!("{name}_k"), Ty::I32);
    let kv = cx.b.read_var(k);
    let tpo = cx.thread_part(&lo);
    let dim_stride = cx.b.i32(row_strides[dim] as i32);
    for s in 0..lo.local_size() {
        let oidx = cx.tile_index(&lo, &tpo, s)?;
        let zero = cx.b.i32(0);
        let mut iidx = oidx.clone();
        if keepdim {
            iidx[dim] = zero;
        } else {
            iidx.insert(dim, zero);
        }
        let base = lin(cx, &iidx);
        let elem = cx.b.read_local(tmp, 0);
        let load = |at: ExprId| Stmt::Load {
            dst: LocalRef {
                array: tmp,
                slot: 0,
            },
            src: MemRef {
                space: Space::Shared(scratch),
                index: at,
            },
            width: 1,
            mask: None,
        };
        cx.b.push(load(base));
        let v0 = to_acc(cx, elem, d);
        assign(cx, acc, v0);
        let off = cx.b.mul(kv, dim_stride);
        let at = cx.b.add(base, off);
        let v = to_acc(cx, elem, d);
        let nv = combine(cx, op, accv, v, d);
        let (start, end, step) = (cx.b.i32(1), cx.b.i32(extent as i32), cx.b.i32(1));
        cx.b.push(Stmt::For {
            var: k,
            start,
            end,
            step,
            body: vec![
                load(at),
                Stmt::Assign {
                    var: acc,
                    value: nv,
                },
            ],
        });
        let res = from_acc(cx, accv, d);
        cx.b.push(Stmt::SetLocal {
            dst: LocalRef {
                array: o.array,
                slot: s as u32,
            },
            value: res,
        });
    }
    cx.b.push(Stmt::Barrier);
    cx.free_shared_alloc(scratch);
    cx.commit_out(&o);
    Ok(())
}
