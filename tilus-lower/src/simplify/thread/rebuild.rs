//! Range resolution, the batch, and the rebuild of the kernel (see the parent module).

use std::time::Instant;

use egg::{CostFunction, Id, Language, RecExpr, Symbol};
use tilus_ir::arena::Arena;
use tilus_ir::expr::Axis;

use super::{
    clean_expr, map_children, node_cost, type_range, Arg, Conv, Cx, FastMap, FastSet, Key,
    SimplifyReport, Sym,
};
use crate::error::LowerError;
use crate::simplify::{simplify_batch, Facts, IndexCost, IndexLang, Limits, StopReason};
use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, Special, Stmt, ThreadKernel, Ty, UnaryOp};

/// Simplifies the `i32`/`bool` index, mask and bound arithmetic of `kernel` with one
/// [`simplify_batch`] run under `limits` (module doc: what is converted, and why it is sound
/// under wrap-around). The result computes the same values; every expression operand of a
/// statement costs at most what it did. Fails only on a malformed kernel (an operand that
/// does not precede its user, a dangling handle) or a simplifier error.
pub fn simplify_kernel(
    kernel: &ThreadKernel,
    limits: &Limits,
) -> Result<(ThreadKernel, SimplifyReport), LowerError> {
    let start = Instant::now();
    let mut cx = Cx::new(kernel)?;
    cx.collect(&kernel.body, 0)?;
    cx.compute_loopy();
    cx.resolve_ranges();
    for (e, s) in cx.roots.clone() {
        cx.ensure(e, s);
    }
    let (items, mut needed) = cx.items();

    // One RecExpr per distinct maximal subtree.
    let mut syms = Symbols::default();
    let mut batch: Vec<RecExpr<IndexLang>> = Vec::new();
    let mut batch_of: FastMap<RecExpr<IndexLang>, usize> = FastMap::default();
    let mut item_batch: FastMap<Key, usize> = FastMap::default();
    for key in items {
        if let Some(rec) = cx.build(key, &mut syms) {
            let next = batch.len();
            let idx = *batch_of.entry(rec.clone()).or_insert(next);
            if idx == next {
                batch.push(rec);
            }
            item_batch.insert(key, idx);
        }
    }
    let facts = cx.facts(&syms);
    let (results, stop_reason, batch_elapsed) = if batch.is_empty() {
        (Vec::new(), StopReason::Saturated, std::time::Duration::ZERO)
    } else {
        let out = simplify_batch(&batch, &facts, limits)?;
        let analysis = facts.analysis()?;
        let mut cost = IndexCost;
        // A result is used when it is clean and strictly better by the simplifier's own
        // measure (so a mere reordering does not replace the input).
        let results: Vec<Option<RecExpr<IndexLang>>> = batch
            .iter()
            .zip(out.exprs)
            .map(|(input, s)| {
                let better = cost.cost_rec(&s.expr) < cost.cost_rec(input);
                (better && clean_expr(input, &analysis) && clean_expr(&s.expr, &analysis))
                    .then_some(s.expr)
            })
            .collect();
        (results, out.stop_reason, out.stats.elapsed)
    };

    // Rebuild every needed node, children first.
    needed.sort_unstable();
    let mut out = Out::default();
    let mut map: FastMap<Key, ExprId> = FastMap::default();
    let mut replaced = 0;
    for key @ (e, s) in needed {
        let Some(node) = cx.node(e) else {
            return Err(super::invalid(format!("expression {e} does not exist")));
        };
        let structural = map_children(node, |c| map.get(&cx.key(c.index(), s)).copied())
            .ok_or_else(|| super::invalid(format!("expression {e}: an operand was not rebuilt")))?;
        let mut id = out.add(structural);
        let result = item_batch
            .get(&key)
            .and_then(|&b| results.get(b))
            .and_then(Option::as_ref);
        if let (Some(rec), Some(want)) = (result, cx.ty(e)) {
            if let Some(cand) = cx.emit(&mut out, &map, &syms, rec, s, want) {
                if cand != id && out.cost(cand) <= out.cost(id) {
                    replaced += 1;
                    id = cand;
                }
            }
        }
        map.insert(key, id);
    }

    // Root operands, in collection order, then a compact arena of what they reach.
    let new_roots = cx
        .roots
        .iter()
        .map(|&(e, s)| map.get(&cx.key(e, s)).copied())
        .collect::<Option<Vec<ExprId>>>()
        .ok_or_else(|| super::invalid("a statement operand was not rebuilt"))?;
    let cost_before = cx
        .roots
        .iter()
        .fold(0u64, |acc, &(e, _)| acc.saturating_add(cx.tree_cost(e)));
    let cost_after = new_roots
        .iter()
        .fold(0u64, |acc, &id| acc.saturating_add(out.cost(id)));
    let (exprs, remap) = out.compact(&new_roots);
    let mut next = 0usize;
    let roots = new_roots
        .iter()
        .map(|r| remap.get(r).copied())
        .collect::<Option<Vec<ExprId>>>()
        .ok_or_else(|| super::invalid("a statement operand was lost in compaction"))?;
    let body = rebuild_body(&kernel.body, &roots, &mut next)
        .ok_or_else(|| super::invalid("statement operands do not match the rebuilt operands"))?;
    let mut simplified = kernel.clone();
    simplified.exprs = exprs;
    simplified.body = body;
    let report = SimplifyReport {
        roots: cx.roots.len(),
        subtrees: batch.len(),
        replaced,
        cost_before,
        cost_after,
        stop_reason,
        elapsed: start.elapsed(),
        batch_elapsed,
    };
    Ok((simplified, report))
}

/// The statement with its expression operands replaced, in [`Stmt::operands`] order, and its
/// nested bodies replaced by `bodies` (then, else; or the loop body).
fn with_exprs(s: &Stmt, new: &[ExprId], mut bodies: Vec<Vec<Stmt>>) -> Option<Stmt> {
    let mut it = new.iter().copied();
    let mut next = || it.next();
    let mut s = s.clone();
    match &mut s {
        Stmt::Assign { value, .. } | Stmt::SetLocal { value, .. } => *value = next()?,
        Stmt::Load { src: m, mask, .. } | Stmt::Store { dst: m, mask, .. } => {
            m.index = next()?;
            if mask.is_some() {
                *mask = Some(next()?);
            }
        }
        Stmt::CopyAsync { dst, src, mask, .. } => {
            dst.index = next()?;
            src.index = next()?;
            if mask.is_some() {
                *mask = Some(next()?);
            }
        }
        Stmt::LdMatrix { row, .. } => *row = next()?,
        Stmt::Shuffle { value, lane, .. } => {
            *value = next()?;
            *lane = next()?;
        }
        Stmt::SemAcquire { sem, value }
        | Stmt::SemRelease { sem, value }
        | Stmt::Atomic {
            dst: sem, value, ..
        } => {
            sem.index = next()?;
            *value = next()?;
        }
        Stmt::For {
            start,
            end,
            step,
            body,
            ..
        } => {
            (*start, *end, *step) = (next()?, next()?, next()?);
            *body = bodies.pop()?;
        }
        Stmt::If {
            cond,
            then_body,
            else_body,
        } => {
            *cond = next()?;
            *else_body = bodies.pop()?;
            *then_body = bodies.pop()?;
        }
        Stmt::View { .. }
        | Stmt::CommitGroup
        | Stmt::WaitGroup(_)
        | Stmt::WaitAll
        | Stmt::Barrier
        | Stmt::SharedBarrier
        | Stmt::Mma { .. } => {}
    }
    Some(s)
}

/// The statements with their operands taken from `roots` in collection order.
fn rebuild_body(body: &[Stmt], roots: &[ExprId], next: &mut usize) -> Option<Vec<Stmt>> {
    let mut out = Vec::with_capacity(body.len());
    for s in body {
        let n = s.operands().len();
        let ops = roots.get(*next..*next + n)?.to_vec();
        *next += n;
        let bodies = match s {
            Stmt::For { body, .. } => vec![rebuild_body(body, roots, next)?],
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                let t = rebuild_body(then_body, roots, next)?;
                vec![t, rebuild_body(else_body, roots, next)?]
            }
            _ => Vec::new(),
        };
        out.push(with_exprs(s, &ops, bodies)?);
    }
    Some(out)
}

/// The rebuilt expressions: hash-consed, with the tree cost of every node.
#[derive(Default)]
struct Out {
    exprs: Arena<Expr>,
    dedup: FastMap<Expr, ExprId>,
    cost: Vec<u64>,
}

impl Out {
    fn add(&mut self, e: Expr) -> ExprId {
        if let Some(&h) = self.dedup.get(&e) {
            return h;
        }
        let cost = e
            .operands()
            .iter()
            .fold(node_cost(&e), |acc, c| acc.saturating_add(self.cost(*c)));
        let h = self.exprs.alloc(e);
        self.dedup.insert(e, h);
        self.cost.push(cost);
        h
    }

    fn cost(&self, h: ExprId) -> u64 {
        self.cost.get(h.index()).copied().unwrap_or(0)
    }

    fn konst(&mut self, c: Const) -> ExprId {
        self.add(Expr::Const(c))
    }

    /// The nodes reachable from `roots`, in a fresh arena (operands still first), and the
    /// map from old to new handles.
    fn compact(&self, roots: &[ExprId]) -> (Arena<Expr>, FastMap<ExprId, ExprId>) {
        let mut live = vec![false; self.exprs.len()];
        let mut stack: Vec<ExprId> = roots.to_vec();
        while let Some(h) = stack.pop() {
            match live.get_mut(h.index()) {
                Some(l) if !*l => *l = true,
                _ => continue,
            }
            if let Some(e) = self.exprs.try_get(h) {
                stack.extend(e.operands());
            }
        }
        let mut arena = Arena::new();
        let mut remap = FastMap::default();
        for (h, e) in self.exprs.iter() {
            if !live.get(h.index()).copied().unwrap_or(false) {
                continue;
            }
            // Operands precede their users, so they are already mapped.
            if let Some(n) = map_children(e, |c| remap.get(&c).copied()) {
                remap.insert(h, arena.alloc(n));
            }
        }
        (arena, remap)
    }
}

/// The symbols of the batch, both ways.
#[derive(Default)]
pub(super) struct Symbols {
    names: FastMap<Sym, Symbol>,
    back: FastMap<Symbol, Sym>,
}

impl Symbols {
    fn get(&mut self, cx: &Cx<'_>, sym: Sym) -> Symbol {
        if let Some(&n) = self.names.get(&sym) {
            return n;
        }
        let n = Symbol::from(cx.sym_name(sym));
        self.names.insert(sym, n);
        self.back.insert(n, sym);
        n
    }
}

/// A rebuilt IndexLang value: a literal that takes the type its user wants, or a typed
/// expression.
#[derive(Clone, Copy)]
enum Em {
    Poly(i64),
    Val(ExprId, Ty),
}

impl Em {
    fn is_bool(self) -> bool {
        matches!(self, Em::Val(_, Ty::Bool))
    }

    fn boolish(self) -> bool {
        matches!(self, Em::Val(_, Ty::Bool) | Em::Poly(0 | 1))
    }
}

fn coerce(out: &mut Out, v: Em, want: Ty) -> Option<ExprId> {
    Some(match (v, want) {
        (Em::Poly(c), Ty::I32) => out.konst(Const::I32(i32::try_from(c).ok()?)),
        (Em::Poly(c), Ty::Bool) => out.konst(Const::Bool(c != 0)),
        (Em::Val(x, t), w) if t == w => x,
        (Em::Val(x, Ty::Bool), Ty::I32) => out.add(Expr::Cast(Ty::I32, x)),
        (Em::Val(x, Ty::I32), Ty::Bool) => {
            let zero = out.konst(Const::I32(0));
            out.add(Expr::Binary(BinaryOp::Ne, x, zero))
        }
        _ => return None,
    })
}

impl Cx<'_> {
    pub(super) fn compute_loopy(&mut self) {
        let mut loopy: Vec<bool> = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let l = match n {
                Expr::Var(v) => self.for_vars.contains(v),
                _ => n
                    .operands()
                    .iter()
                    .any(|c| loopy.get(c.index()).copied().unwrap_or(true)),
            };
            loopy.push(l);
        }
        self.loopy = loopy;
    }

    /// The symbols the variables read by `e` (in scope `s`) resolve to.
    fn deps(&self, e: usize, s: usize) -> Vec<Sym> {
        let mut seen = FastSet::default();
        let mut stack = vec![e];
        let mut out = Vec::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            match self.node(x) {
                Some(Expr::Var(v)) => out.extend(self.resolve(*v, s)),
                Some(n) => stack.extend(n.operands().iter().map(|c| c.index())),
                None => {}
            }
        }
        out
    }

    fn resolved(&self, sym: Sym) -> bool {
        match sym {
            Sym::Loop(l) => self.loop_range.get(l).is_some_and(Option::is_some),
            Sym::Var(v) => self.var_range.contains_key(&v),
            _ => true,
        }
    }

    /// The range of the value of `e` in scope `s` (an `i32` expression).
    fn value_range(&mut self, e: usize, s: usize) -> (i64, i64) {
        self.ensure(e, s);
        let d = match self.info_of(e, s) {
            Some(i) if i.usable() => i.data,
            _ => type_range(Ty::I32),
        };
        let clamp = |v: i128| v.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i64;
        (clamp(d.range.lo), clamp(d.range.hi))
    }

    /// Resolves loop and variable ranges in dependency order; cycles stay unbounded.
    pub(super) fn resolve_ranges(&mut self) {
        #[derive(Clone, Copy)]
        enum Item {
            Loop(usize),
            Var(crate::thread_ir::VarId),
        }
        let mut items: Vec<(Item, Vec<Sym>)> = Vec::new();
        for (l, lp) in self.loops.iter().enumerate() {
            let mut d = self.deps(lp.start, lp.outer);
            d.extend(self.deps(lp.end, lp.outer));
            d.extend(self.deps(lp.step, lp.outer));
            items.push((Item::Loop(l), d));
        }
        for (v, var) in self.k.vars.iter() {
            if var.ty != Ty::I32 || self.for_vars.contains(&v) {
                continue;
            }
            let exprs = self.assigns.get(&v).cloned().unwrap_or_default();
            let d = exprs.iter().flat_map(|&(e, s)| self.deps(e, s)).collect();
            items.push((Item::Var(v), d));
        }
        self.loop_range = vec![None; self.loops.len()];
        let mut done = vec![false; items.len()];
        loop {
            let mut progress = false;
            for (i, (item, deps)) in items.iter().enumerate() {
                if done.get(i).copied().unwrap_or(true) || !deps.iter().all(|&d| self.resolved(d)) {
                    continue;
                }
                match *item {
                    Item::Loop(l) => {
                        let Some(lp) = self.loops.get(l) else {
                            continue;
                        };
                        let (start, end, step, outer) = (lp.start, lp.end, lp.step, lp.outer);
                        let clobbered = lp.clobbered;
                        let (lo, _) = self.value_range(start, outer);
                        let (_, end_hi) = self.value_range(end, outer);
                        let (step_lo, _) = self.value_range(step, outer);
                        // An empty range means the body never runs: any fact holds there.
                        let hi = (end_hi - 1).max(lo);
                        let range = (step_lo >= 1 && !clobbered).then_some((lo, hi));
                        if let Some(r) = self.loop_range.get_mut(l) {
                            *r = Some(range);
                        }
                    }
                    Item::Var(v) => {
                        let (mut lo, mut hi) = (0, 0);
                        for (e, s) in self.assigns.get(&v).cloned().unwrap_or_default() {
                            let (a, b) = self.value_range(e, s);
                            (lo, hi) = (lo.min(a), hi.max(b));
                        }
                        self.var_range.insert(v, Some((lo, hi)));
                    }
                }
                if let Some(d) = done.get_mut(i) {
                    *d = true;
                }
                progress = true;
            }
            if !progress {
                break;
            }
        }
        for ((item, _), done) in items.iter().zip(done) {
            if done {
                continue;
            }
            match *item {
                Item::Loop(l) => {
                    if let Some(r) = self.loop_range.get_mut(l) {
                        *r = Some(None);
                    }
                }
                Item::Var(v) => {
                    self.var_range.insert(v, None);
                }
            }
        }
    }

    /// The maximal clean subtrees of the roots (batch items) and every node reached.
    pub(super) fn items(&self) -> (Vec<Key>, Vec<Key>) {
        let mut visited: FastSet<(Key, bool)> = FastSet::default();
        let mut needed: FastSet<Key> = FastSet::default();
        let mut item_set: FastSet<Key> = FastSet::default();
        let mut items = Vec::new();
        let mut stack: Vec<(usize, usize, bool)> =
            self.roots.iter().map(|&(e, s)| (e, s, false)).collect();
        while let Some((e, s, inside)) = stack.pop() {
            let key = self.key(e, s);
            needed.insert(key);
            if !visited.insert((key, inside)) {
                continue;
            }
            let Some(info) = self.info_of(e, s) else {
                continue;
            };
            match &info.conv {
                Conv::Node(_, args) => {
                    if !inside && item_set.insert(key) {
                        items.push(key);
                    }
                    for a in args {
                        if let Arg::Node(c) = a {
                            stack.push((*c, s, true));
                        }
                    }
                }
                Conv::Pass(c) => stack.push((*c, s, inside)),
                Conv::Opaque | Conv::Foreign => {
                    if let Some(n) = self.node(e) {
                        stack.extend(n.operands().iter().map(|c| (c.index(), s, false)));
                    }
                }
                Conv::Num(_) | Conv::Sym(_) => {}
            }
        }
        (items, needed.into_iter().collect())
    }

    fn sym_name(&self, sym: Sym) -> String {
        let var_name = |v: crate::thread_ir::VarId| {
            self.k
                .vars
                .try_get(v)
                .map_or_else(String::new, |x| x.name.clone())
        };
        match sym {
            Sym::Thread => "t".into(),
            Sym::Block(a) => format!("b{}", ["x", "y", "z"].get(a).unwrap_or(&"?")),
            Sym::Grid(a) => format!("g{}", ["x", "y", "z"].get(a).unwrap_or(&"?")),
            Sym::Loop(l) => {
                let v = self
                    .loops
                    .get(l)
                    .map(|lp| var_name(lp.var))
                    .unwrap_or_default();
                format!("L{l}.{v}")
            }
            Sym::Var(v) => format!("V{}.{}", v.index(), var_name(v)),
            Sym::Opaque(e) => format!("o{e}"),
        }
    }

    /// The IndexLang form of the clean subtree at `key` (post-order: operands first, the
    /// root last).
    pub(super) fn build(&self, (e, s): Key, syms: &mut Symbols) -> Option<RecExpr<IndexLang>> {
        let mut rec = RecExpr::default();
        let mut ids: FastMap<usize, Id> = FastMap::default();
        let mut stack = vec![(e, false)];
        while let Some((x, expanded)) = stack.pop() {
            if ids.contains_key(&x) {
                continue;
            }
            let conv = &self.info_of(x, s)?.conv;
            if !expanded {
                stack.push((x, true));
                match conv {
                    Conv::Node(_, args) => {
                        stack.extend(args.iter().filter_map(|a| match a {
                            Arg::Node(c) => Some((*c, false)),
                            Arg::Num(_) => None,
                        }));
                    }
                    Conv::Pass(c) => stack.push((*c, false)),
                    _ => {}
                }
                continue;
            }
            let id = match conv {
                Conv::Num(v) => rec.add(IndexLang::Num(*v)),
                Conv::Sym(sym) => rec.add(IndexLang::Symbol(syms.get(self, *sym))),
                Conv::Opaque => rec.add(IndexLang::Symbol(syms.get(self, Sym::Opaque(x)))),
                Conv::Foreign => return None,
                Conv::Pass(c) => *ids.get(c)?,
                Conv::Node(op, args) => {
                    let mut cs = [Id::from(0); 3];
                    for (slot, a) in cs.iter_mut().zip(args) {
                        *slot = match a {
                            Arg::Node(c) => *ids.get(c)?,
                            Arg::Num(v) => rec.add(IndexLang::Num(*v)),
                        };
                    }
                    rec.add(op.node(cs.get(..args.len())?)?)
                }
            };
            ids.insert(x, id);
        }
        let root = *ids.get(&e)?;
        (usize::from(root) + 1 == rec.as_ref().len()).then_some(rec)
    }

    /// The facts of every symbol of the batch.
    pub(super) fn facts(&self, syms: &Symbols) -> Facts {
        let mut facts = Facts::new();
        for (name, &sym) in &syms.back {
            let range = match sym {
                Sym::Opaque(e) => {
                    let r = type_range(self.ty(e).unwrap_or(Ty::I32)).range;
                    Some((r.lo as i64, r.hi as i64))
                }
                _ => self.sym_range(sym),
            };
            if let Some((lo, hi)) = range {
                facts = facts.range(name.as_str(), lo, hi);
            }
            // A parameter the kernel assumes divisible.
            if let Sym::Opaque(e) = sym {
                if let Some(&Expr::Param(i)) = self.nodes.get(e) {
                    for &(p, d) in &self.k.assumptions {
                        if p == i && d > 1 {
                            facts = facts.multiple_of(name.as_str(), u64::from(d));
                        }
                    }
                }
            }
        }
        facts
    }

    /// Tree cost of an input node.
    pub(super) fn tree_cost(&self, e: usize) -> u64 {
        self.costs.get(e).copied().unwrap_or(0)
    }

    /// Emits a simplified term as thread IR (in scope `s`, of type `want`); `None` when it
    /// cannot be typed back.
    fn emit(
        &self,
        out: &mut Out,
        map: &FastMap<Key, ExprId>,
        syms: &Symbols,
        rec: &RecExpr<IndexLang>,
        s: usize,
        want: Ty,
    ) -> Option<ExprId> {
        use IndexLang as L;
        let mut em: Vec<Em> = Vec::with_capacity(rec.as_ref().len());
        for node in rec.as_ref() {
            let get = |id: &Id| em.get(usize::from(*id)).copied();
            let v = match node {
                L::Num(c) => Em::Poly(*c),
                L::Symbol(name) => {
                    let (e, ty) = match *syms.back.get(name)? {
                        Sym::Thread => (Expr::Special(Special::ThreadIdx), Ty::I32),
                        Sym::Block(a) => (
                            Expr::Special(Special::BlockIdx(Axis::from_index(a)?)),
                            Ty::I32,
                        ),
                        Sym::Grid(a) => (
                            Expr::Special(Special::GridDim(Axis::from_index(a)?)),
                            Ty::I32,
                        ),
                        Sym::Loop(l) => (Expr::Var(self.loops.get(l)?.var), Ty::I32),
                        Sym::Var(v) => (Expr::Var(v), Ty::I32),
                        Sym::Opaque(x) => {
                            let h = *map.get(&self.key(x, s))?;
                            em.push(Em::Val(h, self.ty(x)?));
                            continue;
                        }
                    };
                    Em::Val(out.add(e), ty)
                }
                L::Neg(a) => {
                    let a = coerce(out, get(a)?, Ty::I32)?;
                    Em::Val(out.add(Expr::Unary(UnaryOp::Neg, a)), Ty::I32)
                }
                L::LAnd([a, b]) | L::LOr([a, b]) => {
                    let op = if matches!(node, L::LAnd(_)) {
                        BinaryOp::And
                    } else {
                        BinaryOp::Or
                    };
                    let (a, b) = (
                        coerce(out, get(a)?, Ty::Bool)?,
                        coerce(out, get(b)?, Ty::Bool)?,
                    );
                    Em::Val(out.add(Expr::Binary(op, a, b)), Ty::Bool)
                }
                L::Eq([a, b]) | L::Ne([a, b]) => {
                    let eq = matches!(node, L::Eq(_));
                    let (x, y) = (get(a)?, get(b)?);
                    match (x, y) {
                        (Em::Val(v, Ty::Bool), Em::Poly(c @ (0 | 1)))
                        | (Em::Poly(c @ (0 | 1)), Em::Val(v, Ty::Bool)) => {
                            // `b == 1`, `b != 0` are `b`; `b == 0`, `b != 1` are `!b`.
                            if eq == (c == 1) {
                                Em::Val(v, Ty::Bool)
                            } else {
                                Em::Val(out.add(Expr::Unary(UnaryOp::Not, v)), Ty::Bool)
                            }
                        }
                        _ => {
                            let t = if x.is_bool() && y.is_bool() {
                                Ty::Bool
                            } else {
                                Ty::I32
                            };
                            let (x, y) = (coerce(out, x, t)?, coerce(out, y, t)?);
                            let op = if eq { BinaryOp::Eq } else { BinaryOp::Ne };
                            Em::Val(out.add(Expr::Binary(op, x, y)), Ty::Bool)
                        }
                    }
                }
                L::Select([c, a, b]) => {
                    let (x, y) = (get(a)?, get(b)?);
                    let t = if x.boolish() && y.boolish() && (x.is_bool() || y.is_bool()) {
                        Ty::Bool
                    } else {
                        Ty::I32
                    };
                    let c = coerce(out, get(c)?, Ty::Bool)?;
                    let (x, y) = (coerce(out, x, t)?, coerce(out, y, t)?);
                    Em::Val(out.add(Expr::Select(c, x, y)), t)
                }
                L::And([a, b]) | L::Or([a, b]) | L::Xor([a, b])
                    if get(a)?.boolish()
                        && get(b)?.boolish()
                        && (get(a)?.is_bool() || get(b)?.is_bool()) =>
                {
                    let op = match node {
                        L::And(_) => BinaryOp::And,
                        L::Or(_) => BinaryOp::Or,
                        _ => BinaryOp::Xor,
                    };
                    let (a, b) = (
                        coerce(out, get(a)?, Ty::Bool)?,
                        coerce(out, get(b)?, Ty::Bool)?,
                    );
                    Em::Val(out.add(Expr::Binary(op, a, b)), Ty::Bool)
                }
                _ => {
                    let (op, res) = match node {
                        L::Add(_) => (BinaryOp::Add, Ty::I32),
                        L::Sub(_) => (BinaryOp::Sub, Ty::I32),
                        L::Mul(_) => (BinaryOp::Mul, Ty::I32),
                        L::Div(_) => (BinaryOp::Div, Ty::I32),
                        L::Rem(_) => (BinaryOp::Rem, Ty::I32),
                        L::Min(_) => (BinaryOp::Min, Ty::I32),
                        L::Max(_) => (BinaryOp::Max, Ty::I32),
                        L::Shl(_) => (BinaryOp::Shl, Ty::I32),
                        L::Shr(_) => (BinaryOp::Shr, Ty::I32),
                        L::And(_) => (BinaryOp::And, Ty::I32),
                        L::Or(_) => (BinaryOp::Or, Ty::I32),
                        L::Xor(_) => (BinaryOp::Xor, Ty::I32),
                        L::Lt(_) => (BinaryOp::Lt, Ty::Bool),
                        L::Le(_) => (BinaryOp::Le, Ty::Bool),
                        _ => return None,
                    };
                    let [a, b] = node.children() else { return None };
                    let (a, b) = (
                        coerce(out, get(a)?, Ty::I32)?,
                        coerce(out, get(b)?, Ty::I32)?,
                    );
                    Em::Val(out.add(Expr::Binary(op, a, b)), res)
                }
            };
            em.push(v);
        }
        coerce(out, *em.last()?, want)
    }
}
