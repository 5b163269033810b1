//! Division: `L / R` (the Q with `L = Q * R`) and `left_divide(L, D)` (the Q with
//! `L = D * Q`).
//!
//! In the canonical form of `Q * R`, Q's modes and list entries are followed by R's; the
//! only merges that can happen are at the boundary (Q's last mode of a dimension with R's
//! first mode of that dimension when they are also adjacent in one list, and Q's last
//! replication digit with R's first one). So R must be a suffix of every dimension's modes
//! and of both lists, except that the first suffix entry may be the product of a Q part and
//! the R part: such a mode (or replication digit) is split in place. The split is forced
//! (a canonical Q has no size-1 parts), so the result is unique. The result is checked by
//! recomposing it.

use super::super::error::{show, LayoutError};
use super::super::register::{Entry, Parts, RegisterLayout};
use super::compose_parts;

/// Describes list entries by size and dimension, for messages.
fn describe(p: &Parts, entries: &[Entry]) -> String {
    let dim_of = |m: usize| p.dims.iter().position(|d| d.contains(&m));
    let items: Vec<String> = entries
        .iter()
        .map(|&e| match e {
            Entry::Mode(m) => match dim_of(m) {
                Some(d) => format!("{}@dim{d}", p.sizes[m]),
                None => format!("{}", p.sizes[m]),
            },
            Entry::Rep(r) => format!("-{r}"),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn sizes_of(p: &Parts, modes: &[usize]) -> Vec<usize> {
    modes.iter().map(|&m| p.sizes[m]).collect()
}

fn locals(v: &[usize]) -> Vec<Entry> {
    v.iter().map(|&m| Entry::Mode(m)).collect()
}

/// Which end of the lists the divisor sits at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// `L / R`: R is a suffix.
    Right,
    /// `left_divide(L, D)`: D is a prefix.
    Left,
}

/// Matches `want` (the divisor's list, in L's mode ids) against the end (Right) or start
/// (Left) of `list`, splitting a replication digit at the boundary if needed. Returns the
/// quotient's part of the list.
fn match_list(
    lp: &Parts,
    list: &[Entry],
    want: &[Entry],
    side: Side,
    name: &str,
) -> Result<Vec<Entry>, String> {
    let n = want.len();
    let mismatch = || {
        format!(
            "the {name} list {} does not {} the divisor's {name} list {}{}",
            describe(lp, list),
            if side == Side::Right {
                "end with"
            } else {
                "start with"
            },
            describe(lp, want),
            if side == Side::Right {
                " (`/` divides off an inner factor, L = Q * R; for an outer factor use left_divide)"
            } else {
                " (left_divide divides off an outer factor, L = D * Q; for an inner factor use `/`)"
            }
        )
    };
    if n == 0 {
        return Ok(list.to_vec());
    }
    if list.len() < n {
        return Err(mismatch());
    }
    match side {
        Side::Right => {
            let start = list.len() - n;
            if list[start + 1..] != want[1..] {
                return Err(mismatch());
            }
            let mut rest = list[..start].to_vec();
            match (list[start], want[0]) {
                (a, b) if a == b => {}
                (Entry::Rep(p), Entry::Rep(q)) if p.is_multiple_of(q) => {
                    rest.push(Entry::Rep(p / q))
                }
                _ => return Err(mismatch()),
            }
            Ok(rest)
        }
        Side::Left => {
            if list[..n - 1] != want[..n - 1] {
                return Err(mismatch());
            }
            let mut rest = Vec::new();
            match (list[n - 1], want[n - 1]) {
                (a, b) if a == b => {}
                (Entry::Rep(p), Entry::Rep(q)) if p.is_multiple_of(q) => {
                    rest.push(Entry::Rep(p / q))
                }
                _ => return Err(mismatch()),
            }
            rest.extend_from_slice(&list[n..]);
            Ok(rest)
        }
    }
}

fn divide_impl(
    l: &RegisterLayout,
    r: &RegisterLayout,
    side: Side,
) -> Result<RegisterLayout, LayoutError> {
    let fail = |reason: String| match side {
        Side::Right => LayoutError::NotDivisible {
            lhs: show(l),
            rhs: show(r),
            reason,
        },
        Side::Left => LayoutError::NotLeftDivisible {
            lhs: show(l),
            rhs: show(r),
            reason,
        },
    };
    if r.rank() > l.rank() {
        return Err(fail(format!(
            "the divisor has rank {} but the layout only {}",
            r.rank(),
            l.rank()
        )));
    }
    let mut lp = l.parts();
    let mut rp = r.parts();
    rp.prepend_unit_dims(l.rank() - r.rank());
    let mut map = vec![usize::MAX; rp.sizes.len()]; // divisor mode -> L mode
    let mut q_dims = Vec::with_capacity(lp.rank());
    let mut q_shape = Vec::with_capacity(lp.rank());
    for d in 0..lp.rank() {
        let (ls, rs) = (lp.shape[d], rp.shape[d]);
        if !ls.is_multiple_of(rs) {
            return Err(fail(format!(
                "dim {d} has extent {ls}, not a multiple of the divisor's {rs}"
            )));
        }
        q_shape.push(ls / rs);
        let rm = rp.dims[d].clone();
        let lm = lp.dims[d].clone();
        let k = rm.len();
        if k == 0 {
            q_dims.push(lm);
            continue;
        }
        let lsz = sizes_of(&lp, &lm);
        let rsz = sizes_of(&rp, &rm);
        let what = if side == Side::Right {
            "suffix"
        } else {
            "prefix"
        };
        let shown = if k == 1 {
            format!("{}", rsz[0])
        } else {
            format!("{rsz:?}")
        };
        if lm.len() < k {
            return Err(fail(format!(
                "dim {d} has modes {lsz:?} whose {what} cannot be {shown} (too few modes)"
            )));
        }
        // Positions in lm of the exact matches and of the boundary mode.
        let (boundary, exact): (usize, Vec<(usize, usize)>) = match side {
            Side::Right => {
                let start = lm.len() - k;
                (start, (1..k).map(|j| (start + j, j)).collect())
            }
            Side::Left => (k - 1, (0..k - 1).map(|j| (j, j)).collect()),
        };
        let rb = if side == Side::Right { 0 } else { k - 1 };
        for (li, ri) in exact {
            if lp.sizes[lm[li]] != rp.sizes[rm[ri]] {
                return Err(fail(format!(
                    "dim {d} has modes {lsz:?} whose {what} cannot be {shown}"
                )));
            }
            map[rm[ri]] = lm[li];
        }
        let (p, q) = (lp.sizes[lm[boundary]], rp.sizes[rm[rb]]);
        if p == q {
            map[rm[rb]] = lm[boundary];
        } else if p.is_multiple_of(q) {
            match side {
                Side::Right => {
                    let n = lp.split_mode(lm[boundary], p / q, q);
                    map[rm[rb]] = n;
                }
                Side::Left => {
                    lp.split_mode(lm[boundary], q, p / q);
                    map[rm[rb]] = lm[boundary];
                }
            }
        } else {
            return Err(fail(format!(
                "dim {d} has modes {lsz:?} whose {what} cannot be {shown} \
                 ({p} is not a multiple of {q})"
            )));
        }
        // The quotient keeps the other modes of the dimension (after the split).
        let mapped: Vec<usize> = rm.iter().map(|&m| map[m]).collect();
        q_dims.push(
            lp.dims[d]
                .iter()
                .copied()
                .filter(|m| !mapped.contains(m))
                .collect(),
        );
    }
    let want_spatial: Vec<Entry> = rp
        .spatial
        .iter()
        .map(|&e| match e {
            Entry::Mode(m) => Entry::Mode(map[m]),
            rep => rep,
        })
        .collect();
    let want_local: Vec<Entry> = rp.local.iter().map(|&m| Entry::Mode(map[m])).collect();
    let q_spatial = match_list(&lp, &lp.spatial, &want_spatial, side, "spatial").map_err(fail)?;
    let q_local = match_list(&lp, &locals(&lp.local), &want_local, side, "local")
        .map_err(fail)?
        .into_iter()
        .filter_map(|e| match e {
            Entry::Mode(m) => Some(m),
            Entry::Rep(_) => None,
        })
        .collect();
    let q = Parts {
        shape: q_shape,
        sizes: lp.sizes.clone(),
        dims: q_dims,
        spatial: q_spatial,
        local: q_local,
    }
    .finish();
    // Safety net: the construction above is exact, but never return a wrong quotient.
    let back = match side {
        Side::Right => compose_parts(q.parts(), r.parts()).finish(),
        Side::Left => compose_parts(r.parts(), q.parts()).finish(),
    };
    if back != *l {
        return Err(fail(format!(
            "the candidate quotient {} does not recompose to the layout",
            show(&q)
        )));
    }
    Ok(q)
}

/// `L / R`.
pub(crate) fn divide(
    l: &RegisterLayout,
    r: &RegisterLayout,
) -> Result<RegisterLayout, LayoutError> {
    divide_impl(l, r, Side::Right)
}

/// `left_divide(L, D)`: the Q with `L == D * Q`, or an error saying why none exists.
/// D's modes must be a prefix of each dimension's modes and of the spatial and local lists
/// (the last prefix entry may be split, e.g. `left_divide(spatial(6), spatial(2)) ==
/// spatial(3)`).
pub fn left_divide(l: &RegisterLayout, d: &RegisterLayout) -> Result<RegisterLayout, LayoutError> {
    divide_impl(l, d, Side::Left)
}
