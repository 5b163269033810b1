//! `dot`: `d[m,n] = a[m,k] @ b[k,n] (+ c[m,n])` accumulated in `acc_dtype`.
//!
//! The defined fallback (the only path on WGSL), bit-exact with the tile interpreter for
//! operands of at most 24 significant bits (every dtype but `f32`, `i32`/`u32`/`i64`/`u64`):
//! every thread writes its A and B elements to row-major shared scratch tiles (lowest holder
//! only), a barrier, then each thread sets its result slots to `c` (or 0) and, for `k`
//! ascending, `acc = round_acc(acc + a·b)`: one `fma` in `f32` for an `f32` accumulator
//! (the product of two such operands is exact, so this equals the interpreter's rounding),
//! `f32` then rounded to the accumulator for other float accumulators, wrapping integer
//! arithmetic for integer operands and accumulators; a barrier before the scratch is freed.
//! A thread loads each A row and B column element it needs once per `k`.
//!
//! When every thread holds, for each of its result slots, the whole `k` extent of its row
//! of `a` and column of `b` in its own slots (the SIMT layouts layout inference picks on
//! targets without matrix instructions), the dot is thread-local instead: the same `fma`
//! sequence on registers, with no shared memory and no barrier.
//!
//! With [`super::LowerOptions::mma`], `f16`/`bf16` operands, an `f32` accumulator and
//! layouts that divide by the `m16n8k16` atoms (`a = Qa * atom_a`, …) with every warp's
//! atom tiles in warp-independent slots, the dot becomes `mma` intrinsics instead, in the
//! same k order (so the thread interpreter gives the same bits).

use std::collections::BTreeMap;

use tilus_ir::dtype::DType;
use tilus_ir::layout::atoms::{mma_m16n8k16_a, mma_m16n8k16_b, mma_m16n8k16_c};
use tilus_ir::layout::RegisterLayout;
use tilus_ir::program::{Out, TensorId};

use super::scalar::{as_f32, from_f32};
use super::{Lower, RegInfo, R};
use crate::thread_ir::{
    Const, ExprId, LocalId, LocalRef, MemRef, MmaShape, SharedId, Space, Stmt, Ty,
};

/// Stores a register tile into a row-major shared scratch tile.
fn spill(cx: &mut Lower<'_>, r: &RegInfo, scratch: SharedId, cols: usize) -> R<()> {
    let l = r.layout.clone();
    let tp = cx.thread_part(&l);
    let first = cx.first_holder(&l);
    let cols = cx.b.i32(cols as i32);
    for s in 0..l.local_size() {
        let idx = cx.tile_index(&l, &tp, s)?;
        let row = cx.b.mul(idx[0], cols);
        let index = cx.b.add(row, idx[1]);
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
    Ok(())
}

/// `dot`.
pub(super) fn dot(
    cx: &mut Lower<'_>,
    out: Option<Out>,
    a: TensorId,
    b: TensorId,
    c: Option<TensorId>,
    acc: DType,
) -> R<()> {
    let ra = cx.reg(a)?;
    let rb = cx.reg(b)?;
    let (sa, sb) = (ra.layout.shape().to_vec(), rb.layout.shape().to_vec());
    let (&[m, k], &[k2, n]) = (sa.as_slice(), sb.as_slice()) else {
        return cx.invalid("dot operands must be 2-D");
    };
    if k != k2 {
        return cx.invalid("dot operand shapes disagree");
    }
    let int_path = ra.dtype.is_int() && rb.dtype.is_int() && acc.is_int();
    if acc.is_int() && !int_path {
        return cx.unsupported(format!(
            "a {acc} accumulator for {} × {} operands",
            ra.dtype, rb.dtype
        ));
    }
    let o = cx.out_array(out, acc, &[a, b])?;
    let lo = o.info.layout.clone();
    if lo.shape() != [m, n] {
        return cx.invalid("dot result shape disagrees with its operands");
    }
    // acc = c (or 0).
    let out_tensor = out.map(|o| o.tensor());
    match c {
        Some(ct) if Some(ct) == out_tensor && o.array == o.info.array => {}
        Some(ct) => {
            let rc = cx.reg(ct)?;
            let name = format!("addend %{}", cx.tensor_name(ct));
            let slots = cx.operand_slots(&lo, &rc.layout, &name)?;
            for (s, &sl) in slots.iter().enumerate() {
                let v = cx.b.read_local(rc.array, sl);
                set(cx, o.array, s, v);
            }
        }
        None => {
            let z = cx.b.konst(Const::zero(Ty::carrier(acc)));
            for s in 0..lo.local_size() {
                set(cx, o.array, s, z);
            }
        }
    }
    let mma_ok = cx.opts.mma
        && acc == DType::F32
        && ra.dtype == rb.dtype
        && matches!(ra.dtype, DType::F16 | DType::BF16);
    if !(mma_ok && try_mma(cx, &ra, &rb, o.array, &lo)?) {
        match local_slots(&ra.layout, &rb.layout, &lo, k) {
            Some(table) => thread_local(cx, &ra, &rb, o.array, &table, acc, int_path),
            None => fallback(cx, &ra, &rb, o.array, &lo, (m, n, k), acc, int_path)?,
        }
    }
    cx.commit_out(&o);
    Ok(())
}

/// For each result slot and each `k`, the `a` and `b` slots that hold its operands in every
/// thread; `None` unless every thread holds all of them itself, in the same slots (SIMT
/// layouts, see `layout_infer::rules::dot`).
fn local_slots(
    la: &RegisterLayout,
    lb: &RegisterLayout,
    lo: &RegisterLayout,
    k: usize,
) -> Option<Vec<Vec<(u32, u32)>>> {
    // Every thread checks the same table; bounded by threads × slots × k holds queries.
    let mut table = vec![vec![(0u32, 0u32); k]; lo.local_size()];
    for t in 0..lo.num_threads() {
        for (s, row) in table.iter_mut().enumerate() {
            let idx = lo.index_of(t, s).ok()?;
            let [i, j] = idx[..] else { return None };
            for (kk, cell) in row.iter_mut().enumerate() {
                if !la.holds(t, &[i, kk]) || !lb.holds(t, &[kk, j]) {
                    return None;
                }
                let pair = (
                    la.slot_of(&[i, kk]).ok()? as u32,
                    lb.slot_of(&[kk, j]).ok()? as u32,
                );
                if t > 0 && *cell != pair {
                    return None;
                }
                *cell = pair;
            }
        }
    }
    Some(table)
}

/// The thread-local dot: for `k` ascending, every result slot accumulates its own operands
/// (the interpreter's order and rounding, like [`fallback`], without shared memory).
fn thread_local(
    cx: &mut Lower<'_>,
    ra: &RegInfo,
    rb: &RegInfo,
    out: LocalId,
    table: &[Vec<(u32, u32)>],
    acc: DType,
    int_path: bool,
) {
    let k = table.first().map_or(0, Vec::len);
    for kk in 0..k {
        for (s, row) in table.iter().enumerate() {
            let (sa, sb) = row[kk];
            let va = cx.b.read_local(ra.array, sa);
            let vb = cx.b.read_local(rb.array, sb);
            let vc = cx.b.read_local(out, s as u32);
            let r = mac(cx, (va, ra.dtype), (vb, rb.dtype), vc, acc, int_path);
            set(cx, out, s, r);
        }
    }
}

/// `c + a·b` with the interpreter's rounding: wrapping integers, or one `fma` in `f32`
/// rounded to the accumulator.
fn mac(
    cx: &mut Lower<'_>,
    (va, da): (ExprId, DType),
    (vb, db): (ExprId, DType),
    vc: ExprId,
    acc: DType,
    int_path: bool,
) -> ExprId {
    if int_path {
        let t = Ty::carrier(acc);
        let x = cx.b.cast(t, va);
        let y = cx.b.cast(t, vb);
        let p = cx.b.mul(x, y);
        cx.b.add(vc, p)
    } else {
        let x = as_f32(&mut cx.b, va, da);
        let y = as_f32(&mut cx.b, vb, db);
        let z = as_f32(&mut cx.b, vc, acc);
        let f = cx.b.fma(x, y, z);
        from_f32(&mut cx.b, f, acc)
    }
}

fn set(cx: &mut Lower<'_>, array: LocalId, slot: usize, value: ExprId) {
    cx.b.push(Stmt::SetLocal {
        dst: LocalRef {
            array,
            slot: slot as u32,
        },
        value,
    });
}

#[allow(clippy::too_many_arguments)]
fn fallback(
    cx: &mut Lower<'_>,
    ra: &RegInfo,
    rb: &RegInfo,
    out: LocalId,
    lo: &RegisterLayout,
    (m, n, k): (usize, usize, usize),
    acc: DType,
    int_path: bool,
) -> R<()> {
    let sa = cx.new_shared("dot_a", ra.dtype, m * k)?;
    let sb = cx.new_shared("dot_b", rb.dtype, k * n)?;
    spill(cx, ra, sa, k)?;
    spill(cx, rb, sb, n)?;
    cx.b.push(Stmt::Barrier);
    // Rows and columns this thread needs: thread part + a constant per slot.
    let tp = cx.thread_part(lo);
    let mut rows: BTreeMap<usize, u32> = BTreeMap::new();
    let mut cols: BTreeMap<usize, u32> = BTreeMap::new();
    let mut slot_rc = Vec::with_capacity(lo.local_size());
    for s in 0..lo.local_size() {
        let c = lo
            .index_of(0, s)
            .map_err(|e| crate::error::LowerError::InvalidProgram(e.to_string()))?;
        let nr = rows.len() as u32;
        let r = *rows.entry(c[0]).or_insert(nr);
        let nc = cols.len() as u32;
        let cc = *cols.entry(c[1]).or_insert(nc);
        slot_rc.push((r, cc));
    }
    let ta = cx.b.local("dot_a_elems", ra.dtype, rows.len() as u32);
    let tb = cx.b.local("dot_b_elems", rb.dtype, cols.len() as u32);
    let kv = cx.b.var("dot_k", Ty::I32);
    let kx = cx.b.read_var(kv);
    cx.b.open();
    let kc = cx.b.i32(k as i32);
    let nc = cx.b.i32(n as i32);
    for (&row, &i) in &rows {
        let rc = cx.b.i32(row as i32);
        let r = cx.b.add(tp[0], rc);
        let base = cx.b.mul(r, kc);
        let index = cx.b.add(base, kx);
        load(cx, ta, i, sa, index);
    }
    for (&col, &j) in &cols {
        let ccon = cx.b.i32(col as i32);
        let cidx = cx.b.add(tp[1], ccon);
        let base = cx.b.mul(kx, nc);
        let index = cx.b.add(base, cidx);
        load(cx, tb, j, sb, index);
    }
    for (s, &(i, j)) in slot_rc.iter().enumerate() {
        let va = cx.b.read_local(ta, i);
        let vb = cx.b.read_local(tb, j);
        let vc = cx.b.read_local(out, s as u32);
        let r = mac(cx, (va, ra.dtype), (vb, rb.dtype), vc, acc, int_path);
        set(cx, out, s, r);
    }
    let body = cx.b.close();
    let (start, end, step) = (cx.b.i32(0), cx.b.i32(k as i32), cx.b.i32(1));
    cx.b.push(Stmt::For {
        var: kv,
        start,
        end,
        step,
        body,
    });
    cx.b.push(Stmt::Barrier);
    cx.free_shared_alloc(sb);
    cx.free_shared_alloc(sa);
    Ok(())
}

fn load(cx: &mut Lower<'_>, dst: LocalId, slot: u32, src: SharedId, index: ExprId) {
    cx.b.push(Stmt::Load {
        dst: LocalRef { array: dst, slot },
        src: MemRef {
            space: Space::Shared(src),
            index,
        },
        width: 1,
        mask: None,
    });
}

/// The `mma` path; `false` when the layouts do not fit it.
fn try_mma(
    cx: &mut Lower<'_>,
    ra: &RegInfo,
    rb: &RegInfo,
    out: LocalId,
    lo: &RegisterLayout,
) -> R<bool> {
    let (Ok(qa), Ok(qb), Ok(qc)) = (
        ra.layout.divide(&mma_m16n8k16_a()),
        rb.layout.divide(&mma_m16n8k16_b()),
        lo.divide(&mma_m16n8k16_c()),
    ) else {
        return Ok(false);
    };
    let warps = qc.num_threads();
    if qa.num_threads() != warps || qb.num_threads() != warps {
        return Ok(false);
    }
    // For each C tile slot and k tile, the A and B slots every warp uses must agree.
    let Some(&kt) = qa.shape().get(1) else {
        return Ok(false);
    };
    let mut plan = Vec::new();
    for sc in 0..qc.local_size() {
        for kb in 0..kt {
            let mut pair: Option<(usize, usize)> = None;
            for w in 0..warps {
                let Ok(c) = qc.index_of(w, sc) else {
                    return Ok(false);
                };
                let (ia, ib) = ([c[0], kb], [kb, c[1]]);
                if !qa.holds(w, &ia) || !qb.holds(w, &ib) {
                    return Ok(false);
                }
                let (Ok(sa), Ok(sb)) = (qa.slot_of(&ia), qb.slot_of(&ib)) else {
                    return Ok(false);
                };
                match pair {
                    Some(p) if p != (sa, sb) => return Ok(false),
                    _ => pair = Some((sa, sb)),
                }
            }
            if let Some((sa, sb)) = pair {
                plan.push((sc, sa, sb));
            }
        }
    }
    // Issue in k order per C tile (kb ascending within each tile).
    for (sc, sa, sb) in plan {
        let d = LocalRef {
            array: out,
            slot: (sc * 4) as u32,
        };
        cx.b.push(Stmt::Mma {
            shape: MmaShape::M16N8K16,
            dtype: ra.dtype,
            a: LocalRef {
                array: ra.array,
                slot: (sa * 8) as u32,
            },
            b: LocalRef {
                array: rb.array,
                slot: (sb * 4) as u32,
            },
            c: d,
            d,
        });
    }
    Ok(true)
}
