//! Hardware fragment layouts (spec/layouts.md, "MMA fragment atoms"; tilus.md §2.5).

use super::error::LayoutError;
use super::ops::{column_local, column_spatial, local, spatial};
use super::register::{Entry, Parts, RegisterLayout};

/// Operand A (16×16, row-major m×k) of PTX `mma.sync.m16n8k16` with f16/bf16 operands:
/// `column_local(2,2).spatial(8,4).local(1,2)` (32 threads, 8 slots).
pub fn mma_m16n8k16_a() -> RegisterLayout {
    column_local(&[2, 2]).spatial(&[8, 4]).local(&[1, 2])
}

/// Operand B (16×8, k×n) of `mma.sync.m16n8k16`:
/// `local(2,1).column_spatial(4,8).local(2,1)` (32 threads, 4 slots).
pub fn mma_m16n8k16_b() -> RegisterLayout {
    local(&[2, 1])
        .compose(&column_spatial(&[4, 8]))
        .local(&[2, 1])
}

/// Accumulator C/D (16×8, m×n) of `mma.sync.m16n8k16`:
/// `local(2,1).spatial(8,4).local(1,2)` (32 threads, 4 slots).
pub fn mma_m16n8k16_c() -> RegisterLayout {
    local(&[2, 1]).spatial(&[8, 4]).local(&[1, 2])
}

/// The register layout of one 8×8 matrix loaded by `ldmatrix` for elements of
/// `elem_bytes` bytes (1, 2 or 4): `spatial(8,4).local(1, 4/elem_bytes)`, 32 bits per
/// thread.
pub fn ldmatrix(elem_bytes: usize) -> Result<RegisterLayout, LayoutError> {
    match elem_bytes {
        1 | 2 | 4 => Ok(spatial(&[8, 4]).local(&[1, 4 / elem_bytes])),
        _ => Err(LayoutError::UnsupportedAtom {
            atom: format!("ldmatrix({elem_bytes})"),
            reason: format!(
                "elements of {elem_bytes} bytes do not pack into 32-bit ldmatrix registers \
                 (expected 1, 2 or 4)"
            ),
        }),
    }
}

/// A `shape`-[a, b] layout whose only spatial entries are `entries` (on one mode per
/// dimension); used for the warp grids below.
fn warp_grid(shape: [usize; 2], spatial: Vec<Entry>) -> RegisterLayout {
    Parts {
        shape: shape.to_vec(),
        sizes: shape.to_vec(),
        dims: vec![vec![0], vec![1]],
        spatial,
        local: Vec::new(),
    }
    .finish()
}

/// Block-level m16n8k16 layouts (tilus.md §2.5, `cuda.mma_dot_config`) for a grid of
/// `warp_spatial = (wsm, wsn)` warps, each repeating the atom `warp_repeat = (wrm, wrn,
/// wrk)` times. Returns `(la, lb, lc)` for a block of `m = 16·wsm·wrm`, `n = 8·wsn·wrn`,
/// `k = 16·wrk`:
/// - `la = reduce(spatial(wsm,1,wsn, ranks=[1,0,2]), dims=[2]).local(wrm,wrk) * atom_a`
///   (A is replicated over the `wsn` warps of a row);
/// - `lb = reduce(spatial(1,wsn,wsm, ranks=[0,2,1]), dims=[2]).local(wrk,wrn) * atom_b`;
/// - `lc = spatial(wsm,wsn).local(wrm,wrn) * atom_c`.
///
/// Zero counts are treated as 1.
pub fn mma_block(
    warp_spatial: (usize, usize),
    warp_repeat: (usize, usize, usize),
) -> (RegisterLayout, RegisterLayout, RegisterLayout) {
    let (wsm, wsn) = (warp_spatial.0.max(1), warp_spatial.1.max(1));
    let (wrm, wrn, wrk) = (
        warp_repeat.0.max(1),
        warp_repeat.1.max(1),
        warp_repeat.2.max(1),
    );
    // reduce(spatial(wsm,1,wsn, ranks=[1,0,2]), dims=[2]): warp w = wm·wsn + wn holds row wm.
    let rows = warp_grid([wsm, 1], vec![Entry::Mode(0), Entry::Rep(wsn)]);
    // reduce(spatial(1,wsn,wsm, ranks=[0,2,1]), dims=[2]): warp w holds column wn.
    let cols = warp_grid([1, wsn], vec![Entry::Rep(wsm), Entry::Mode(1)]);
    let la = rows.local(&[wrm, wrk]).compose(&mma_m16n8k16_a());
    let lb = cols.local(&[wrk, wrn]).compose(&mma_m16n8k16_b());
    let lc = spatial(&[wsm, wsn])
        .local(&[wrm, wrn])
        .compose(&mma_m16n8k16_c());
    (la, lb, lc)
}
