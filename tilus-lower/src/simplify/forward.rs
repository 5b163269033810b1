//! Forwarding of register slots: a local-array slot that is written with an expression and
//! read exactly once is replaced, at its read, by that expression, and arrays nobody reads
//! any more lose their writes.
//!
//! Lowering gives every tile its own local array and every elementwise step its own slot
//! writes, so a dequantize-multiply-accumulate chain is four statements per element
//! (`q = f32(code)`, `qz = q - 7.5`, `p = qz * a`, `acc += p`). After forwarding it is one
//! expression per element, which is what the backends print: a quarter of the WGSL, a
//! fraction of the driver's compile time, the same values.
//!
//! Soundness. The thread IR evaluates an expression when its statement runs, reading the
//! current values of variables and slots, so `a[s] = e; …; use(a[s])` may become
//! `use(e)` when nothing `e` reads (a variable, a slot) and `a[s]` itself changes in
//! between. That is tracked in straight-line code; entering a loop or a branch drops every
//! fact about what the loop or branch writes (so no value crosses an iteration), and facts
//! made inside do not leave it. Only arrays whose slot writes keep the whole value are
//! forwarded: `f32`, `f16`, 32-bit integers (a narrower slot would keep only its low bits).
//! Only single-use slots are forwarded, so no expression is computed twice.

use std::collections::{HashMap, HashSet};

use tilus_ir::dtype::DType;

use crate::thread_ir::{Expr, ExprId, LocalId, LocalRef, Stmt, ThreadKernel, VarId};

type Slot = (LocalId, u32);

/// What an expression reads that statements may change.
#[derive(Clone, Default)]
struct Reads {
    vars: Vec<VarId>,
    slots: Vec<Slot>,
}

/// The forwarding state of one program point.
#[derive(Clone, Default)]
struct Avail {
    /// The slot's current value, as an expression that reads only unchanged things.
    value: HashMap<Slot, ExprId>,
    /// For each variable and array, the slots whose value reads it.
    by_var: HashMap<VarId, Vec<Slot>>,
    by_array: HashMap<LocalId, Vec<Slot>>,
}

impl Avail {
    fn kill_slot(&mut self, s: Slot) {
        self.value.remove(&s);
    }

    fn kill_var(&mut self, v: VarId) {
        for s in self.by_var.remove(&v).unwrap_or_default() {
            self.value.remove(&s);
        }
    }

    /// Something wrote `array` (all of it, or one slot): its facts and the facts that read
    /// it are gone.
    fn kill_array(&mut self, array: LocalId, slot: Option<u32>) {
        match slot {
            Some(s) => self.kill_slot((array, s)),
            None => self.value.retain(|k, _| k.0 != array),
        }
        for s in self.by_array.remove(&array).unwrap_or_default() {
            self.value.remove(&s);
        }
    }

    fn set(&mut self, s: Slot, e: ExprId, reads: &Reads) {
        self.value.insert(s, e);
        for &v in &reads.vars {
            self.by_var.entry(v).or_default().push(s);
        }
        for &(a, _) in &reads.slots {
            self.by_array.entry(a).or_default().push(s);
        }
    }
}

/// The variables and arrays a block writes (anywhere inside it).
#[derive(Default)]
struct Writes {
    vars: HashSet<VarId>,
    arrays: HashSet<LocalId>,
}

fn writes(body: &[Stmt], w: &mut Writes) {
    for s in body {
        match s {
            Stmt::Assign { var, .. } => {
                w.vars.insert(*var);
            }
            Stmt::For { var, body, .. } => {
                w.vars.insert(*var);
                writes(body, w);
            }
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                writes(then_body, w);
                writes(else_body, w);
            }
            Stmt::SetLocal { dst, .. }
            | Stmt::Load { dst, .. }
            | Stmt::LdMatrix { dst, .. }
            | Stmt::Shuffle { dst, .. } => {
                w.arrays.insert(dst.array);
            }
            Stmt::View { dst, .. } => {
                w.arrays.insert(*dst);
            }
            Stmt::Mma { d, .. } => {
                w.arrays.insert(d.array);
            }
            Stmt::Store { .. }
            | Stmt::CopyAsync { .. }
            | Stmt::CommitGroup
            | Stmt::WaitGroup(_)
            | Stmt::WaitAll
            | Stmt::Barrier
            | Stmt::SharedBarrier
            | Stmt::SemAcquire { .. }
            | Stmt::SemRelease { .. }
            | Stmt::Atomic { .. } => {}
        }
    }
}

/// `e` with its children replaced.
fn with_children(e: &Expr, c: &[ExprId]) -> Expr {
    match *e {
        Expr::Unary(op, _) => Expr::Unary(op, c[0]),
        Expr::Cast(t, _) => Expr::Cast(t, c[0]),
        Expr::Bitcast(t, _) => Expr::Bitcast(t, c[0]),
        Expr::Decode(d, _) => Expr::Decode(d, c[0]),
        Expr::Encode(d, _) => Expr::Encode(d, c[0]),
        Expr::Binary(op, _, _) => Expr::Binary(op, c[0], c[1]),
        Expr::Select(..) => Expr::Select(c[0], c[1], c[2]),
        Expr::Fma(..) => Expr::Fma(c[0], c[1], c[2]),
        leaf => leaf,
    }
}

struct Forward<'k> {
    k: &'k mut ThreadKernel,
    /// Slots read exactly once in the whole kernel (the candidates).
    single: HashSet<Slot>,
    /// Arrays whose writes keep the whole value.
    exact: HashSet<LocalId>,
}

impl Forward<'_> {
    /// The expression with every available single-use slot read replaced; also what the
    /// result reads.
    fn rewrite(&mut self, e: ExprId, avail: &Avail, memo: &mut HashMap<ExprId, ExprId>) -> ExprId {
        if let Some(&r) = memo.get(&e) {
            return r;
        }
        let Some(node) = self.k.exprs.try_get(e).copied() else {
            return e;
        };
        let r = match node {
            Expr::Local { array, slot } if self.single.contains(&(array, slot)) => {
                avail.value.get(&(array, slot)).copied().unwrap_or(e)
            }
            _ => {
                let kids = node.operands();
                if kids.is_empty() {
                    e
                } else {
                    let new: Vec<ExprId> =
                        kids.iter().map(|&c| self.rewrite(c, avail, memo)).collect();
                    if new == kids {
                        e
                    } else {
                        self.k.exprs.alloc(with_children(&node, &new))
                    }
                }
            }
        };
        memo.insert(e, r);
        r
    }

    fn reads(&self, e: ExprId) -> Reads {
        let mut out = Reads::default();
        let mut seen = HashSet::new();
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            match self.k.exprs.try_get(x) {
                Some(Expr::Var(v)) => out.vars.push(*v),
                Some(Expr::Local { array, slot }) => out.slots.push((*array, *slot)),
                Some(n) => stack.extend(n.operands()),
                None => {}
            }
        }
        out
    }

    fn block(&mut self, body: Vec<Stmt>, avail: &mut Avail) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(body.len());
        for s in body {
            // The statement's own operands read the values available before it runs (a
            // loop's bounds are evaluated once, before its body).
            let mut memo = HashMap::new();
            let s = s.map_operands(|e| self.rewrite(e, avail, &mut memo));
            let s = match s {
                Stmt::Assign { var, value } => {
                    avail.kill_var(var);
                    Stmt::Assign { var, value }
                }
                Stmt::SetLocal { dst, value } => {
                    avail.kill_array(dst.array, Some(dst.slot));
                    let key = (dst.array, dst.slot);
                    if self.exact.contains(&dst.array) && self.single.contains(&key) {
                        let reads = self.reads(value);
                        avail.set(key, value, &reads);
                    }
                    Stmt::SetLocal { dst, value }
                }
                Stmt::Load {
                    dst,
                    src,
                    width,
                    mask,
                } => {
                    for i in 0..width {
                        avail.kill_array(dst.array, Some(dst.slot + i));
                    }
                    Stmt::Load {
                        dst,
                        src,
                        width,
                        mask,
                    }
                }
                Stmt::For {
                    var,
                    start,
                    end,
                    step,
                    body,
                } => {
                    let mut w = Writes::default();
                    w.vars.insert(var);
                    writes(&body, &mut w);
                    forget(avail, &w);
                    let body = self.block(body, &mut avail.clone());
                    Stmt::For {
                        var,
                        start,
                        end,
                        step,
                        body,
                    }
                }
                Stmt::If {
                    cond,
                    then_body,
                    else_body,
                } => {
                    let mut w = Writes::default();
                    writes(&then_body, &mut w);
                    writes(&else_body, &mut w);
                    let then_body = self.block(then_body, &mut avail.clone());
                    let else_body = self.block(else_body, &mut avail.clone());
                    forget(avail, &w);
                    Stmt::If {
                        cond,
                        then_body,
                        else_body,
                    }
                }
                other => {
                    let mut w = Writes::default();
                    writes(std::slice::from_ref(&other), &mut w);
                    forget(avail, &w);
                    other
                }
            };
            out.push(s);
        }
        out
    }
}

fn forget(avail: &mut Avail, w: &Writes) {
    for &v in &w.vars {
        avail.kill_var(v);
    }
    for &a in &w.arrays {
        avail.kill_array(a, None);
    }
}

/// Counts, for every slot, the statements that read it (a slot read twice by one statement
/// counts twice); arrays read whole by a statement (stores, views, mma) are `whole`.
fn count_reads(
    k: &ThreadKernel,
    body: &[Stmt],
    n: &mut HashMap<Slot, u32>,
    whole: &mut HashSet<LocalId>,
) {
    for s in body {
        let mut stack = s.operands();
        let mut seen = HashSet::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            match k.exprs.try_get(x) {
                Some(Expr::Local { array, slot }) => *n.entry((*array, *slot)).or_default() += 1,
                Some(e) => stack.extend(e.operands()),
                None => {}
            }
        }
        match s {
            Stmt::Store { src, .. } => {
                whole.insert(src.array);
            }
            Stmt::View { src, .. } => {
                whole.insert(*src);
            }
            Stmt::Mma { a, b, c, .. } => {
                whole.extend([a.array, b.array, c.array]);
            }
            Stmt::For { body, .. } => count_reads(k, body, n, whole),
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                count_reads(k, then_body, n, whole);
                count_reads(k, else_body, n, whole);
            }
            _ => {}
        }
    }
}

/// Drops the writes to arrays that no statement reads any more.
fn drop_dead(body: Vec<Stmt>, live: &HashSet<LocalId>, exact: &HashSet<LocalId>) -> Vec<Stmt> {
    let dead = |r: &LocalRef| exact.contains(&r.array) && !live.contains(&r.array);
    body.into_iter()
        .filter_map(|s| match s {
            Stmt::SetLocal { dst, .. } if dead(&dst) => None,
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => Some(Stmt::For {
                var,
                start,
                end,
                step,
                body: drop_dead(body, live, exact),
            }),
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => Some(Stmt::If {
                cond,
                then_body: drop_dead(then_body, live, exact),
                else_body: drop_dead(else_body, live, exact),
            }),
            other => Some(other),
        })
        .collect()
}

/// Forwards single-use register slots in `kernel` (see the module documentation).
pub fn forward_slots(kernel: &ThreadKernel) -> ThreadKernel {
    let mut k = kernel.clone();
    let exact: HashSet<LocalId> = k
        .locals
        .iter()
        .filter(|(_, a)| {
            matches!(
                a.dtype,
                DType::F32 | DType::F16 | DType::Int { bits: 32, .. }
            )
        })
        .map(|(h, _)| h)
        .collect();
    let mut counts = HashMap::new();
    let mut whole = HashSet::new();
    count_reads(&k, &k.body, &mut counts, &mut whole);
    let single: HashSet<Slot> = counts
        .into_iter()
        .filter(|(s, c)| *c == 1 && !whole.contains(&s.0))
        .map(|(s, _)| s)
        .collect();
    let body = std::mem::take(&mut k.body);
    let mut fw = Forward {
        k: &mut k,
        single,
        exact: exact.clone(),
    };
    let body = fw.block(body, &mut Avail::default());
    // What is still read, after forwarding.
    let mut counts = HashMap::new();
    let mut live = HashSet::new();
    count_reads(&k, &body, &mut counts, &mut live);
    live.extend(counts.keys().map(|s| s.0));
    k.body = drop_dead(body, &live, &exact);
    k
}
