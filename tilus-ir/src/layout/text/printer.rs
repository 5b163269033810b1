//! The printer: the shortest primitive chain equal to a layout, else `register_layout(...)`.
//!
//! A chain `P1.P2...Pk` concatenates, per dimension, the primitives' modes, and likewise
//! their spatial and local lists. So a chain is a way of cutting the canonical spatial and
//! local lists into runs, where each run takes at most one mode per dimension and every
//! mode it takes is the next unconsumed mode of its dimension. A run of the spatial list is
//! a `spatial`/`column_spatial` primitive (or `spatial(.., ranks=..)` when its dimensions
//! are in neither order), a run of the local list a `local`/`column_local` one, and a
//! replication digit together with a row-major run of the local list a `replicated` one.
//! A dynamic program over (consumed spatial entries, consumed local entries) finds the
//! chain with the fewest primitives, then the fewest `ranks=` arguments (ties: local runs
//! before replication digits before spatial runs, longer runs first). The chain is
//! rebuilt with the algebra and compared with the input before it is used, so the printer
//! never prints something that parses to a different layout.

use crate::layout::{
    column_local, column_spatial, local, local_ranked, replicated, spatial, spatial_ranked,
    RegisterLayout,
};

/// One primitive of a chain.
#[derive(Clone, Debug)]
struct Prim {
    /// `local`, `spatial`, `column_local`, `column_spatial` or `replicated`.
    name: &'static str,
    /// Full-rank extents.
    shape: Vec<usize>,
    /// `ranks=` argument, if the order is neither row- nor column-major.
    ranks: Option<Vec<usize>>,
    /// `threads=` for `replicated`.
    threads: usize,
}

impl Prim {
    fn build(&self) -> Option<RegisterLayout> {
        Some(match (self.name, &self.ranks) {
            ("local", None) => local(&self.shape),
            ("local", Some(r)) => local_ranked(&self.shape, r).ok()?,
            ("spatial", None) => spatial(&self.shape),
            ("spatial", Some(r)) => spatial_ranked(&self.shape, r).ok()?,
            ("column_local", None) => column_local(&self.shape),
            ("column_spatial", None) => column_spatial(&self.shape),
            ("replicated", None) => replicated(&self.shape, self.threads),
            _ => return None,
        })
    }

    fn write(&self, out: &mut String) {
        out.push_str(self.name);
        out.push('(');
        out.push_str(&join(&self.shape));
        if let Some(r) = &self.ranks {
            out.push_str(", ranks=[");
            out.push_str(&join(r));
            out.push(']');
        }
        if self.name == "replicated" {
            out.push_str(&format!(", threads={}", self.threads));
        }
        out.push(')');
    }
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The raw form `register_layout(shape=[..], modes=[..], spatial=[..], local=[..])`.
pub(crate) fn raw(l: &RegisterLayout) -> String {
    format!(
        "register_layout(shape=[{}], modes=[{}], spatial=[{}], local=[{}])",
        join(l.shape()),
        join(l.mode_shape()),
        join(l.spatial_modes()),
        join(l.local_modes())
    )
}

/// Prints `l` canonically (see the module documentation).
pub(crate) fn print(l: &RegisterLayout) -> String {
    match chain(l) {
        Some(prims) => {
            let mut out = String::new();
            for (i, p) in prims.iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                p.write(&mut out);
            }
            out
        }
        None => raw(l),
    }
}

/// Where a mode sits: its dimension, and its predecessor in that dimension.
struct ModeInfo {
    dim: usize,
    pred: Option<usize>,
}

/// Cost of a chain: (primitives, `ranks=` arguments).
type Cost = (usize, usize);

#[derive(Clone, Copy, Debug)]
enum Step {
    /// Take `len` spatial entries.
    Spatial(usize),
    /// Take `len` local entries.
    Local(usize),
    /// Take one replication digit and `len` local entries.
    Replicated(usize),
}

/// The best chain for `l`, verified against the algebra.
fn chain(l: &RegisterLayout) -> Option<Vec<Prim>> {
    let rank = l.rank();
    if rank == 0 {
        return None;
    }
    let nmodes = l.mode_shape().len();
    let mut info: Vec<ModeInfo> = (0..nmodes)
        .map(|_| ModeInfo { dim: 0, pred: None })
        .collect();
    for (d, ids) in l.dim_modes().iter().enumerate() {
        for (k, &m) in ids.iter().enumerate() {
            let slot = info.get_mut(m)?;
            slot.dim = d;
            slot.pred = if k == 0 { None } else { Some(ids[k - 1]) };
        }
    }
    let sp = l.spatial_modes();
    let lo = l.local_modes();
    // Position of each mode in its list: (is_spatial, index).
    let mut place = vec![(false, 0usize); nmodes];
    for (k, &e) in sp.iter().enumerate() {
        if e >= 0 {
            *place.get_mut(e as usize)? = (true, k);
        }
    }
    for (k, &m) in lo.iter().enumerate() {
        *place.get_mut(m)? = (false, k);
    }
    // Is mode m the next unconsumed mode of its dimension in state (i, j)?
    let is_head = |m: usize, i: usize, j: usize| match info[m].pred {
        None => true,
        Some(p) => {
            let (in_sp, k) = place[p];
            if in_sp {
                k < i
            } else {
                k < j
            }
        }
    };
    // Longest run of heads with distinct dimensions starting at `start` of `list`.
    let max_run = |list: &[usize], start: usize, i: usize, j: usize, row_major: bool| {
        let mut used: Vec<usize> = Vec::new();
        let mut n = 0;
        for &m in &list[start..] {
            let d = info[m].dim;
            if used.contains(&d) || !is_head(m, i, j) {
                break;
            }
            if row_major && used.last().is_some_and(|&last| last > d) {
                break;
            }
            used.push(d);
            n += 1;
        }
        n
    };
    let sp_ids: Vec<Option<usize>> = sp.iter().map(|&e| usize::try_from(e).ok()).collect();
    let spatial_run = |i: usize, j: usize| -> usize {
        let ids: Vec<usize> = sp_ids[i..].iter().map_while(|x| *x).collect();
        max_run(&ids, 0, i, j, false)
    };
    // Needs `ranks=` if the order is neither increasing nor decreasing.
    let needs_ranks = |dims: &[usize]| {
        let inc = dims.windows(2).all(|w| w[0] < w[1]);
        let dec = dims.windows(2).all(|w| w[0] > w[1]);
        !(inc || dec)
    };
    let dims_of = |ids: &[usize]| ids.iter().map(|&m| info[m].dim).collect::<Vec<_>>();

    let (ns, nl) = (sp.len(), lo.len());
    // best[i][j] = cheapest cost from state (i, j) to the end, and the first step.
    let mut best: Vec<Vec<Option<(Cost, Step)>>> = vec![vec![None; nl + 1]; ns + 1];
    let done: (Cost, Step) = ((0, 0), Step::Local(0));
    for i in (0..=ns).rev() {
        for j in (0..=nl).rev() {
            if i == ns && j == nl {
                best[i][j] = Some(done);
                continue;
            }
            let mut cand: Option<(Cost, Step)> = None;
            let mut consider = |cost: Option<Cost>, extra: Cost, step: Step| {
                if let Some(c) = cost {
                    let total = (c.0 + extra.0, c.1 + extra.1);
                    if cand.is_none_or(|(b, _)| total < b) {
                        cand = Some((total, step));
                    }
                }
            };
            // Options in order of preference on ties: local runs, replication digits,
            // spatial runs; longer runs first.
            if j < nl {
                let run = max_run(lo, j, i, j, false);
                for k in (1..=run).rev() {
                    let r = usize::from(needs_ranks(&dims_of(&lo[j..j + k])));
                    consider(best[i][j + k].map(|b| b.0), (1, r), Step::Local(k));
                }
            }
            if i < ns {
                if sp[i] < 0 {
                    let run = max_run(lo, j, i, j, true);
                    for k in (0..=run).rev() {
                        consider(best[i + 1][j + k].map(|b| b.0), (1, 0), Step::Replicated(k));
                    }
                } else {
                    let run = spatial_run(i, j);
                    for k in (1..=run).rev() {
                        let ids: Vec<usize> = sp_ids[i..i + k].iter().map_while(|x| *x).collect();
                        let r = usize::from(needs_ranks(&dims_of(&ids)));
                        consider(best[i + k][j].map(|b| b.0), (1, r), Step::Spatial(k));
                    }
                }
            }
            best[i][j] = cand;
        }
    }

    // Walk the best steps and build the primitives.
    let mut prims = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < ns || j < nl {
        let (_, step) = best[i][j]?;
        let mut shape = vec![1usize; rank];
        let prim = match step {
            Step::Spatial(k) => {
                let ids: Vec<usize> = sp_ids[i..i + k].iter().map_while(|x| *x).collect();
                i += k;
                make_run(
                    "spatial",
                    "column_spatial",
                    &ids,
                    &info,
                    l.mode_shape(),
                    shape,
                )
            }
            Step::Local(k) => {
                let ids = &lo[j..j + k];
                j += k;
                make_run("local", "column_local", ids, &info, l.mode_shape(), shape)
            }
            Step::Replicated(k) => {
                let threads = usize::try_from(sp[i].unsigned_abs()).ok()?;
                for &m in &lo[j..j + k] {
                    shape[info[m].dim] = l.mode_shape()[m];
                }
                i += 1;
                j += k;
                Prim {
                    name: "replicated",
                    shape,
                    ranks: None,
                    threads,
                }
            }
        };
        prims.push(prim);
    }
    if prims.is_empty() {
        prims.push(Prim {
            name: "local",
            shape: vec![1; rank],
            ranks: None,
            threads: 0,
        });
    }
    // Verify with the algebra.
    let mut acc: Option<RegisterLayout> = None;
    for p in &prims {
        let b = p.build()?;
        acc = Some(match acc {
            None => b,
            Some(a) => a.compose(&b),
        });
    }
    (acc.as_ref() == Some(l)).then_some(prims)
}

/// A `local`/`spatial` primitive taking the modes `ids` (most significant first).
fn make_run(
    row: &'static str,
    col: &'static str,
    ids: &[usize],
    info: &[ModeInfo],
    sizes: &[usize],
    mut shape: Vec<usize>,
) -> Prim {
    let dims: Vec<usize> = ids.iter().map(|&m| info[m].dim).collect();
    for &m in ids {
        shape[info[m].dim] = sizes[m];
    }
    let inc = dims.windows(2).all(|w| w[0] < w[1]);
    let dec = dims.windows(2).all(|w| w[0] > w[1]);
    if inc {
        Prim {
            name: row,
            shape,
            ranks: None,
            threads: 0,
        }
    } else if dec {
        Prim {
            name: col,
            shape,
            ranks: None,
            threads: 0,
        }
    } else {
        // ranks[d] = significance of d: the run's dims first, then the others in order.
        let rank = shape.len();
        let mut ranks = vec![usize::MAX; rank];
        let mut next = 0;
        for &d in &dims {
            ranks[d] = next;
            next += 1;
        }
        for r in ranks.iter_mut() {
            if *r == usize::MAX {
                *r = next;
                next += 1;
            }
        }
        Prim {
            name: row,
            shape,
            ranks: Some(ranks),
            threads: 0,
        }
    }
}
