//! `copy_async` family: `copy_async`, `commit_group`, `wait_group`, `wait_all`.
//!
//! The typing rules check the global source, the shared destination, dtypes, ranks and
//! `dims`; the per-instruction check here is that offsets are integers. `wait_group(n)` with
//! no copy pending is fine.
//!
//! Then a path-sensitive pass over the whole body ([`check_pending`]): a `load_shared` of a
//! tile that a `copy_async` writes needs, on every path from the copy to the load (loop back
//! edges included), a `commit_group` followed by a `wait_group`/`wait_all`, or a
//! `wait_all`. The check is conservative in the direction that never rejects a correct
//! pipeline: any `wait_group(n)` counts as covering every committed copy, whatever `n`; and
//! a load is only reported when it certainly reads the copied memory — the same tile, or
//! slices of one buffer at equal constant indices or at one expression over parameters and
//! `blockIdx` (stages selected by loop variables, `s[k % 2]` and `s[(k + 1) % 2]`, are not
//! told apart statically). The interpreter checks the exact group arithmetic and addresses
//! when it runs.

use std::collections::{BTreeMap, HashSet};

use crate::expr::ExprId;
use crate::inst::InstKind;
use crate::program::{Block, InstId, Stmt, TensorId};

use super::context::Checker;
use super::transfer;

/// `copy_async`: integer offsets.
pub(super) fn copy_async(cx: &mut Checker<'_>, offsets: &[ExprId]) {
    transfer::offsets(cx, offsets);
}

/// The copy may not be committed yet.
const UNCOMMITTED: u8 = 1;
/// The copy may be committed but not waited for.
const COMMITTED: u8 = 2;

/// Copies in flight on some path: each `copy_async` instruction, its destination, and what
/// may be true of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Pending(BTreeMap<InstId, (TensorId, u8)>);

impl Pending {
    fn union(&self, other: &Pending) -> Pending {
        let mut out = self.clone();
        for (i, &(t, flags)) in &other.0 {
            out.0
                .entry(*i)
                .and_modify(|e| e.1 |= flags)
                .or_insert((t, flags));
        }
        out
    }
}

struct Walk<'c, 'a> {
    cx: &'c mut Checker<'a>,
    report: bool,
    reported: HashSet<InstId>,
}

impl Walk<'_, '_> {
    fn block(&mut self, block: &Block, st: &mut Pending) {
        for s in block {
            match s {
                Stmt::Inst(i) => self.inst(*i, st),
                Stmt::For { body, .. } => {
                    // The state at the loop head: the entry joined with the end of the body,
                    // to a fixed point (the lattice is finite, so this ends; the bound is a
                    // safety net).
                    let entry = st.clone();
                    let mut head = entry.clone();
                    let report = std::mem::replace(&mut self.report, false);
                    for _ in 0..16 {
                        let mut end = head.clone();
                        self.block(body, &mut end);
                        let next = entry.union(&end);
                        if next == head {
                            break;
                        }
                        head = next;
                    }
                    self.report = report;
                    let mut end = head.clone();
                    self.block(body, &mut end);
                    // The loop exits at its head, after zero or more iterations.
                    *st = head.union(&end);
                }
                Stmt::If {
                    then_body,
                    else_body,
                    ..
                } => {
                    let mut a = st.clone();
                    self.block(then_body, &mut a);
                    let mut b = st.clone();
                    self.block(else_body, &mut b);
                    *st = a.union(&b);
                }
                Stmt::Let { .. } | Stmt::Assign { .. } => {}
            }
        }
    }

    /// Whether tiles `a` and `b` certainly share memory: the same owner, and equal indices
    /// as far as both are sliced (a tile overlaps every slice of itself).
    fn overlap(&self, a: TensorId, b: TensorId) -> bool {
        let (ra, ia) = self.cx.slice_path(a);
        let (rb, ib) = self.cx.slice_path(b);
        ra == rb && ia.iter().zip(&ib).all(|(&x, &y)| self.cx.same_value(x, y))
    }

    fn inst(&mut self, i: InstId, st: &mut Pending) {
        let f = self.cx.f;
        match &f.insts[i].kind {
            InstKind::CopyAsync { dst, .. } => {
                let e = st.0.entry(i).or_insert((*dst, 0));
                e.1 |= UNCOMMITTED;
            }
            InstKind::CommitGroup => {
                for e in st.0.values_mut() {
                    if e.1 & UNCOMMITTED != 0 {
                        e.1 = (e.1 & !UNCOMMITTED) | COMMITTED;
                    }
                }
            }
            InstKind::WaitGroup { .. } => {
                for e in st.0.values_mut() {
                    e.1 &= !COMMITTED;
                }
                st.0.retain(|_, e| e.1 != 0);
            }
            InstKind::WaitAll => st.0.clear(),
            InstKind::FreeShared { tensor } => {
                let root = self.cx.root(*tensor);
                st.0.retain(|_, e| self.cx.root(e.0) != root);
            }
            InstKind::LoadShared { src } => {
                let Some((&copy, &(dst, flags))) =
                    st.0.iter().find(|(_, (dst, _))| self.overlap(*dst, *src))
                else {
                    return;
                };
                if !self.report || !self.reported.insert(i) {
                    return;
                }
                let cx = &mut *self.cx;
                let what = if dst == *src {
                    cx.name(dst)
                } else {
                    format!("{} (sharing memory with {})", cx.name(*src), cx.name(dst))
                };
                let copy = cx.describe_inst(copy);
                let msg = if flags & COMMITTED != 0 {
                    format!(
                        "{what} is written by {copy} with no `wait_group`/`wait_all` in \
                         between; wait for the copy before loading"
                    )
                } else {
                    format!(
                        "{what} is written by {copy} whose group is not committed; \
                         `commit_group` then `wait_group`, or `wait_all`, before loading"
                    )
                };
                cx.at_inst(i);
                cx.error(msg);
            }
            _ => {}
        }
    }
}

/// Reports loads of shared tiles whose asynchronous copies may still be in flight.
pub(super) fn check_pending(cx: &mut Checker<'_>) {
    let f = cx.f;
    let mut walk = Walk {
        cx,
        report: true,
        reported: HashSet::new(),
    };
    let mut st = Pending::default();
    walk.block(&f.body, &mut st);
}
