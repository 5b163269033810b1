//! `load_shared` of `mma` operand tiles as `ldmatrix` (targets with MMA atoms).
//!
//! A register tile of 16-bit elements whose layout is `Q * atom_a` (the m16n8k16 A
//! fragment) is four 8×8 matrices per atom tile: register `i` of a lane (slots `2i, 2i+1`)
//! is row `lane / 4`, columns `2·(lane % 4) ..` of matrix `i`, whose origin is
//! `(8·(i % 2), 8·(i / 2))` — exactly what `ldmatrix.x4` delivers. A tile `Q * atom_b` (the
//! B fragment, `k × n`) is two matrices per atom with `k` along the matrix rows, which
//! `ldmatrix.x2.trans` delivers from a `k`-major tile. Lane `8·i + r` supplies the address
//! of row `r` of matrix `i`: the element at the matrix row's start, whose holder (lane and
//! slot) in the fragment is fixed, so the address is the holder's tile index (computed for
//! that lane) through the shared layout.
//!
//! It applies when each 8-element matrix row is 16 contiguous, 16-byte aligned bytes of
//! shared memory: the shared region's innermost run is a multiple of 8 (`shared_run`, which
//! also requires every other stride to be one) and the allocation starts at a multiple of
//! 16 bytes. Otherwise the generic element loads run.

use tilus_ir::dtype::DType;
use tilus_ir::layout::atoms::{mma_m16n8k16_a, mma_m16n8k16_b};

use super::index::shared_run;
use super::{Lower, RegInfo, SharedInfo, R};
use crate::thread_ir::{ExprId, LocalRef, Stmt};

/// Which fragment a tile is.
#[derive(Clone, Copy)]
enum Operand {
    /// A (`atom_a`, 8 slots, `x4`).
    A,
    /// B (`atom_b`, 4 slots, `x2.trans`).
    B,
}

impl Operand {
    /// Slots per atom tile and matrices per `ldmatrix`.
    fn sizes(self) -> (usize, u32) {
        match self {
            Operand::A => (8, 4),
            Operand::B => (4, 2),
        }
    }

    /// For lane `8·i + r` (`i < matrices`): the atom slot holding the first element of row
    /// `r` of matrix `i`, which depends only on `i` and the parity of `r` (the holder's lane
    /// is `4r` for A and `r / 2` for B).
    fn holder_slot(self, i: usize, parity: usize) -> usize {
        match self {
            // Row r of matrix i starts at (8·(i%2) + r, 8·(i/2)): lane 4r, slot 2i.
            Operand::A => 2 * i,
            // Row r (k = 8i + r) of matrix i at n = 0: lane r/2, slot 2i + r%2.
            Operand::B => 2 * i + parity,
        }
    }
}

/// Loads `info` from `s` with `ldmatrix` when the layouts allow; `false` otherwise.
pub(super) fn try_ldmatrix(cx: &mut Lower<'_>, s: &SharedInfo, info: &RegInfo) -> R<bool> {
    if !cx.opts.mma || !matches!(info.dtype, DType::F16 | DType::BF16) {
        return Ok(false);
    }
    let l = &info.layout;
    if l.rank() != 2 || !l.num_threads().is_multiple_of(32) {
        return Ok(false);
    }
    let op = if l.divide(&mma_m16n8k16_a()).is_ok() {
        Operand::A
    } else if l.divide(&mma_m16n8k16_b()).is_ok() {
        Operand::B
    } else {
        return Ok(false);
    };
    let offset = cx.b.kernel.shared[s.alloc].offset;
    if !shared_run(s).is_multiple_of(8) || !offset.is_multiple_of(16) {
        return Ok(false);
    }
    let (per_atom, num) = op.sizes();
    if !l.local_size().is_multiple_of(per_atom) {
        return Ok(false);
    }
    // The lane, the matrix it addresses and the row within it.
    let tid = cx.b.thread_idx();
    let c32 = cx.b.i32(32);
    let lane = cx.b.rem(tid, c32);
    let warp_base = cx.b.sub(tid, lane);
    let c8 = cx.b.i32(8);
    let r = cx.b.rem(lane, c8);
    let i = cx.b.div(lane, c8);
    let nm = cx.b.i32(num as i32);
    let i = cx.b.rem(i, nm);
    // The holder lane as an expression of r (A: 4r; B: r/2).
    let holder_lane = match op {
        Operand::A => {
            let c4 = cx.b.i32(4);
            cx.b.mul(r, c4)
        }
        Operand::B => {
            let c2 = cx.b.i32(2);
            cx.b.div(r, c2)
        }
    };
    let holder_tid = cx.b.add(warp_base, holder_lane);
    let tp = cx.thread_part_of(l, holder_tid);
    for atom in 0..l.local_size() / per_atom {
        // The constant part of the tile index for every (matrix, row parity) case, selected
        // by the lane's (i, r % 2).
        let mut cases: Vec<(usize, usize, Vec<ExprId>)> = Vec::new();
        for mi in 0..num as usize {
            for parity in 0..2 {
                let slot = op.holder_slot(mi, parity);
                let idx = cx.tile_index(l, &tp, atom * per_atom + slot)?;
                cases.push((mi, parity, idx));
            }
        }
        let two = cx.b.i32(2);
        let par = cx.b.rem(r, two);
        // Case (0, 0) is the default; the others are selected over it.
        let Some((_, _, first)) = cases.first() else {
            return Ok(false);
        };
        let mut idx = first.clone();
        for (mi, parity, case) in cases.iter().skip(1) {
            let mi_c = cx.b.i32(*mi as i32);
            let pa_c = cx.b.i32(*parity as i32);
            let is_m = cx.b.eq(i, mi_c);
            let is_p = cx.b.eq(par, pa_c);
            let hit = cx.b.and(is_m, is_p);
            for (d, e) in idx.iter_mut().enumerate() {
                *e = cx.b.select(hit, case[d], *e);
            }
        }
        let row = cx.shared_index(s, &idx);
        cx.b.push(Stmt::LdMatrix {
            src: s.alloc,
            row,
            num,
            trans: matches!(op, Operand::B),
            dst: LocalRef {
                array: info.array,
                slot: (atom * per_atom) as u32,
            },
        });
    }
    Ok(true)
}
