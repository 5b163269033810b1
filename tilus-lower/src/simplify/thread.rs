//! The simplifier applied to a [`ThreadKernel`]: its index, mask and bound arithmetic goes
//! through one [`simplify_batch`](super::simplify_batch) run and comes back rewritten.
//!
//! ```text
//! ThreadKernel ─► roots (every expression operand of a statement) ─► facts (threadIdx, blockIdx,
//!     gridDim, loop and variable ranges) ─► maximal clean subtrees as IndexLang ─► one batch
//!     ─► checked results rebuilt in a fresh hash-consed arena (never costlier) ─► ThreadKernel
//! ```
//!
//! # What is converted
//! `i32` and `bool` arithmetic: `+ - * / % min max neg << >> & | ^`, comparisons (`>`/`>=`
//! swapped into `<`/`<=`), `bool` `& | ^ !` (as `&& || != (== x 0)`), `select`, and the casts
//! `i32 ↔ bool` (a `bool` is the integer 0 or 1). Leaves:
//!
//! | thread IR | symbol | range |
//! |---|---|---|
//! | `threadIdx` | `t` | `[0, num_threads)` |
//! | `blockIdx.x/y/z` | `bx by bz` | `[0, g)` for a constant grid extent `g`, else `[0, 65535)` |
//! | `gridDim.x/y/z` | `gx gy gz` | `g`, else `[1, 65535]` ([`MAX_GRID_DIM`], the WGSL limit) |
//! | a loop variable, inside its loop | `L<i>.<name>` | `[lo(start), hi(end) − 1]` |
//! | an `i32` variable that is never a loop variable | `V<i>.<name>` | hull of 0 (its value before the first assignment) and every assigned value |
//! | anything else of type `i32` or `bool` (parameters, local slots, casts from `u32` or floats, float comparisons, a variable outside these cases, a subterm that is not clean) | `o<id>`, shared by identical expressions | its type's range only: `i32`, or `{0, 1}` |
//!
//! `lo`/`hi` are bounds from the simplifier's own interval analysis ([`transfer`]) of the
//! bound or assigned expressions; loop and variable ranges are resolved in dependency order
//! (a cycle leaves the variables opaque). `u32`, `i64` and float arithmetic is never
//! converted (only searched for `i32`/`bool` subterms).
//!
//! # Soundness under wrap-around
//! The rulebook is valid for mathematical integers on the points where a term is defined
//! ([`super::lang`]); the thread IR wraps and defines shifts and bit operations on negative
//! values differently. So only **clean** subterms are handed over: a node is clean when every
//! operand is clean or an opaque leaf, its interval (computed bottom-up from the facts) lies
//! within `i32`, and it is defined everywhere in the facts' domain (`/ %`: the divisor's range
//! excludes 0; `<< >>`: a non-negative left operand and an amount in `0..=31`; integer
//! `& | ^`: non-negative operands). On clean terms the two semantics agree. Each statement
//! operand is cut into its *maximal* clean subtrees (an opaque node is an opaque leaf of the
//! subtree above it, and its own operands are searched again), so `(row + t/32) * #k + t%32`
//! with an unknown `#k` keeps `* #k` and `+` and simplifies `row + t/32` and `t%32`.
//! Every result is checked again (`i32` intervals and definedness at every node, a superset of
//! [`super::fits_i32`]) before it replaces its input; one that fails keeps the input.
//!
//! The facts hold where the expression is evaluated: a loop variable's range is used only in
//! its loop body (outside it the variable is opaque); thread and block indices are in range
//! by the launch contract. Results of the batch are equalities valid for *every* assignment
//! satisfying the facts, so two operands sharing a symbol but evaluated at different times
//! (a variable reassigned in between) are each rewritten correctly.
//!
//! # Cost
//! [`node_cost`] mirrors the simplifier's cost model on thread-IR nodes. A simplified subtree
//! replaces the original only when it is strictly better by the simplifier's own measure
//! ([`super::Cost`]: operations, then tie-breaks; a mere reordering is not worth a change)
//! and its thread-IR tree cost, coercions like `cast<i32>(bool)` included, is not higher;
//! nodes are rebuilt operands first, so no operand of a statement gets costlier.
//! [`SimplifyReport`] sums these tree costs over all statement operands.
//!
//! # Speed
//! One e-graph run for the whole kernel; the conversion around it is linear in the
//! expressions reached from the statements (hash-consed, keyed by node and loop scope).
//! In release on a shared 2-core machine (best of 20) the a16wX GEMM (`f16` × `u4`, 128
//! threads, `mma`) takes 1.1 ms, of which the batch run is 0.8 ms (cost 5700 → 1237); the
//! 64×64×32 `f16` GEMM 6.2 ms, of which the batch run is 4.8 ms (341 subtrees).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::time::Duration;

use egg::{Id, Language, RecExpr};
use tilus_ir::expr::Axis;

use super::analysis::{transfer, IndexAnalysis, IndexData, Interval};
use super::{IndexLang, StopReason};
use crate::error::LowerError;
use crate::thread_ir::{
    BinaryOp, Const, Expr, ExprId, Special, Stmt, ThreadKernel, Ty, UnaryOp, VarId,
};

/// FxHash's multiply-rotate hasher: the keys here are small integers and expression nodes,
/// for which SipHash dominated the run time.
#[derive(Clone, Copy, Default)]
struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word.iter_mut().zip(chunk).for_each(|(w, b)| *w = *b);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.add(u64::from(v));
    }
    fn write_u16(&mut self, v: u16) {
        self.add(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// The largest grid extent assumed for a dimension whose extent is not a constant (the
/// WebGPU limit `maxComputeWorkgroupsPerDimension`); `blockIdx` lies below it.
pub const MAX_GRID_DIM: i64 = 65535;

/// What [`simplify_kernel`] did, for `tilus compile --timings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimplifyReport {
    /// Expression operands of statements examined (indices, masks, conditions, bounds, values).
    pub roots: usize,
    /// Distinct maximal clean subtrees handed to the simplifier (one batch).
    pub subtrees: usize,
    /// Subtree occurrences whose simplified form replaced the original.
    pub replaced: usize,
    /// Sum of the tree costs ([`node_cost`]) of all roots before.
    pub cost_before: u64,
    /// The same after (never more than `cost_before`).
    pub cost_after: u64,
    /// Why the batch stopped rewriting ([`StopReason::Saturated`] when there was nothing to do).
    pub stop_reason: StopReason,
    /// Time for the whole call.
    pub elapsed: Duration,
    /// Of which in the simplifier's batch run (e-graph, rewriting, extraction).
    pub batch_elapsed: Duration,
}

/// The cost of one thread-IR node alone, mirroring [`super::cost`]: leaves 0; `/ %` 20; `*`
/// 3; `min max select` 2; `decode`/`encode` 4; `bitcast` 0; every other operator and cast 1.
pub fn node_cost(e: &Expr) -> u64 {
    match e {
        Expr::Const(_) | Expr::Param(_) | Expr::Special(_) | Expr::Var(_) | Expr::Local { .. } => 0,
        Expr::Binary(BinaryOp::Div | BinaryOp::Rem, ..) => 20,
        Expr::Binary(BinaryOp::Mul, ..) => 3,
        Expr::Binary(BinaryOp::Min | BinaryOp::Max, ..) | Expr::Select(..) => 2,
        Expr::Decode(..) | Expr::Encode(..) => 4,
        Expr::Bitcast(..) => 0,
        Expr::Unary(..) | Expr::Binary(..) | Expr::Fma(..) | Expr::Cast(..) => 1,
    }
}

/// The node with every operand mapped.
fn map_children(e: &Expr, mut f: impl FnMut(ExprId) -> Option<ExprId>) -> Option<Expr> {
    Some(match *e {
        Expr::Const(_) | Expr::Param(_) | Expr::Special(_) | Expr::Var(_) | Expr::Local { .. } => {
            *e
        }
        Expr::Unary(op, a) => Expr::Unary(op, f(a)?),
        Expr::Cast(t, a) => Expr::Cast(t, f(a)?),
        Expr::Bitcast(t, a) => Expr::Bitcast(t, f(a)?),
        Expr::Decode(d, a) => Expr::Decode(d, f(a)?),
        Expr::Encode(d, a) => Expr::Encode(d, f(a)?),
        Expr::Binary(op, a, b) => Expr::Binary(op, f(a)?, f(b)?),
        Expr::Select(a, b, c) => Expr::Select(f(a)?, f(b)?, f(c)?),
        Expr::Fma(a, b, c) => Expr::Fma(f(a)?, f(b)?, f(c)?),
    })
}

/// The operators of the converted subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Neg,
    Min,
    Max,
    Shl,
    Shr,
    And,
    Or,
    Xor,
    Lt,
    Le,
    Eq,
    Ne,
    LAnd,
    LOr,
    Select,
}

impl Op {
    /// The IndexLang node over these operand ids (`None` for a wrong arity).
    fn node(self, ids: &[Id]) -> Option<IndexLang> {
        use IndexLang as L;
        Some(match (self, ids) {
            (Op::Neg, [a]) => L::Neg(*a),
            (Op::Select, [c, a, b]) => L::Select([*c, *a, *b]),
            (op, [a, b]) => {
                let ab = [*a, *b];
                match op {
                    Op::Add => L::Add(ab),
                    Op::Sub => L::Sub(ab),
                    Op::Mul => L::Mul(ab),
                    Op::Div => L::Div(ab),
                    Op::Rem => L::Rem(ab),
                    Op::Min => L::Min(ab),
                    Op::Max => L::Max(ab),
                    Op::Shl => L::Shl(ab),
                    Op::Shr => L::Shr(ab),
                    Op::And => L::And(ab),
                    Op::Or => L::Or(ab),
                    Op::Xor => L::Xor(ab),
                    Op::Lt => L::Lt(ab),
                    Op::Le => L::Le(ab),
                    Op::Eq => L::Eq(ab),
                    Op::Ne => L::Ne(ab),
                    Op::LAnd => L::LAnd(ab),
                    Op::LOr => L::LOr(ab),
                    Op::Neg | Op::Select => return None,
                }
            }
            _ => return None,
        })
    }
}

/// Whether `node` is defined at every point of its operands' intervals and its value and
/// operands lie in `i32` (the cleanliness condition of the module doc).
fn clean_node(node: &IndexLang, data: impl Fn(Id) -> IndexData, out: &IndexData) -> bool {
    use IndexLang as L;
    let r = |id: &Id| data(*id).range;
    let defined = match node {
        L::Div([_, b]) | L::Rem([_, b]) => !r(b).contains(0),
        L::Shl([a, k]) | L::Shr([a, k]) => r(a).lo >= 0 && r(k).lo >= 0 && r(k).hi <= 31,
        L::And([a, b]) | L::Or([a, b]) | L::Xor([a, b]) => r(a).lo >= 0 && r(b).lo >= 0,
        _ => true,
    };
    defined && out.range.within_i32() && node.children().iter().all(|c| r(c).within_i32())
}

/// Whether every node of `expr` is clean under the facts of `analysis`.
fn clean_expr(expr: &RecExpr<IndexLang>, analysis: &IndexAnalysis) -> bool {
    let mut data: Vec<IndexData> = Vec::with_capacity(expr.as_ref().len());
    for node in expr.as_ref() {
        let get = |id: Id| {
            data.get(usize::from(id))
                .copied()
                .unwrap_or_else(IndexData::unknown)
        };
        let d = transfer(node, get, |s| analysis.symbols.get(&s).copied());
        if !clean_node(node, get, &d) {
            return false;
        }
        data.push(d);
    }
    !data.is_empty()
}

/// A symbol of the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Sym {
    Thread,
    Block(usize),
    Grid(usize),
    Loop(usize),
    Var(VarId),
    Opaque(usize),
}

/// An operand of a converted node: another node, or a literal the conversion adds.
#[derive(Clone, Copy, Debug)]
enum Arg {
    Node(usize),
    Num(i64),
}

/// How a node converts (in a scope).
#[derive(Clone, Debug)]
enum Conv {
    /// A literal (`i32`, `bool`, or a `u32` shift amount).
    Num(i64),
    /// A bounded symbol.
    Sym(Sym),
    /// A clean operator node.
    Node(Op, Vec<Arg>),
    /// The same value as the operand (`cast<i32>(bool)`, identity casts).
    Pass(usize),
    /// An `i32`/`bool` value that is not clean: the symbol `o<id>` with its type's range.
    Opaque,
    /// Any other type.
    Foreign,
}

#[derive(Clone, Debug)]
struct Info {
    conv: Conv,
    data: IndexData,
}

impl Info {
    fn usable(&self) -> bool {
        !matches!(self.conv, Conv::Foreign)
    }
}

fn type_range(ty: Ty) -> IndexData {
    let range = match ty {
        Ty::Bool => Interval::BOOL,
        _ => Interval::new(i128::from(i32::MIN), i128::from(i32::MAX)),
    };
    IndexData::from_range(range, 1)
}

/// A node in a scope; nodes without loop variables always use scope 0.
type Key = (usize, usize);

struct Scope {
    parent: Option<usize>,
    bind: Option<(VarId, usize)>,
}

struct Loop {
    var: VarId,
    start: usize,
    end: usize,
    step: usize,
    outer: usize,
    /// Some statement of the body assigns the variable (which the IR forbids): no range.
    clobbered: bool,
}

/// Conversion state for one kernel.
struct Cx<'k> {
    k: &'k ThreadKernel,
    /// Nodes with canonical operands; `canon[i]` is the first node equal to node `i`.
    nodes: Vec<Expr>,
    canon: Vec<usize>,
    tys: Vec<Option<Ty>>,
    loopy: Vec<bool>,
    scopes: Vec<Scope>,
    loops: Vec<Loop>,
    roots: Vec<(usize, usize)>,
    assigns: FastMap<VarId, Vec<(usize, usize)>>,
    for_vars: FastSet<VarId>,
    loop_range: Vec<Option<Option<(i64, i64)>>>,
    var_range: FastMap<VarId, Option<(i64, i64)>>,
    grid: [Option<i64>; 3],
    info: FastMap<Key, Info>,
    /// Tree cost of every input node.
    costs: Vec<u64>,
}

fn invalid(msg: impl Into<String>) -> LowerError {
    LowerError::InvalidProgram(msg.into())
}

impl<'k> Cx<'k> {
    fn new(k: &'k ThreadKernel) -> Result<Self, LowerError> {
        let n = k.exprs.len();
        let mut nodes = Vec::with_capacity(n);
        let mut canon = Vec::with_capacity(n);
        let mut tys: Vec<Option<Ty>> = Vec::with_capacity(n);
        let mut costs: Vec<u64> = Vec::with_capacity(n);
        let mut first: FastMap<Expr, usize> = FastMap::default();
        for (id, e) in k.exprs.iter() {
            let i = id.index();
            let node = map_children(e, |c| {
                let ci = *canon.get(c.index()).filter(|_| c.index() < i)?;
                ExprId::from_index(ci)
            })
            .ok_or_else(|| {
                invalid(format!(
                    "expression {i} uses an operand that does not precede it"
                ))
            })?;
            let ty = node_type(k, &node, &tys);
            let c = *first.entry(node).or_insert(i);
            let cost = node.operands().iter().fold(node_cost(&node), |acc, c| {
                acc.saturating_add(costs.get(c.index()).copied().unwrap_or(0))
            });
            costs.push(cost);
            nodes.push(node);
            canon.push(c);
            tys.push(ty);
        }
        let grid = std::array::from_fn(|i| match k.grid.get(i) {
            None => Some(1),
            Some(crate::grid::GridExpr::Const(c)) if (1..=MAX_GRID_DIM).contains(c) => Some(*c),
            Some(_) => None,
        });
        Ok(Cx {
            k,
            nodes,
            canon,
            tys,
            loopy: Vec::new(),
            scopes: vec![Scope {
                parent: None,
                bind: None,
            }],
            loops: Vec::new(),
            roots: Vec::new(),
            assigns: FastMap::default(),
            for_vars: FastSet::default(),
            loop_range: Vec::new(),
            var_range: FastMap::default(),
            grid,
            info: FastMap::default(),
            costs,
        })
    }

    fn canon_of(&self, e: ExprId) -> Result<usize, LowerError> {
        self.canon.get(e.index()).copied().ok_or_else(|| {
            invalid(format!(
                "a statement uses expression {} which does not exist",
                e.index()
            ))
        })
    }

    fn node(&self, e: usize) -> Option<&Expr> {
        self.nodes.get(e)
    }

    fn ty(&self, e: usize) -> Option<Ty> {
        self.tys.get(e).copied().flatten()
    }

    /// Records roots, scopes, loops and assignments (pre-order; `rebuild` walks the same way).
    fn collect(&mut self, body: &[Stmt], scope: usize) -> Result<(), LowerError> {
        for s in body {
            for e in s.operands() {
                let c = self.canon_of(e)?;
                self.roots.push((c, scope));
            }
            match s {
                Stmt::Assign { var, value } => {
                    let c = self.canon_of(*value)?;
                    self.assigns.entry(*var).or_default().push((c, scope));
                    self.clobber(*var, scope);
                }
                Stmt::For {
                    var,
                    start,
                    end,
                    step,
                    body,
                } => {
                    let (start, end) = (self.canon_of(*start)?, self.canon_of(*end)?);
                    let step = self.canon_of(*step)?;
                    self.clobber(*var, scope);
                    let body_scope = self.scopes.len();
                    let l = self.loops.len();
                    self.scopes.push(Scope {
                        parent: Some(scope),
                        bind: Some((*var, l)),
                    });
                    self.loops.push(Loop {
                        var: *var,
                        start,
                        end,
                        step,
                        outer: scope,
                        clobbered: false,
                    });
                    self.for_vars.insert(*var);
                    self.collect(body, body_scope)?;
                }
                Stmt::If {
                    then_body,
                    else_body,
                    ..
                } => {
                    self.collect(then_body, scope)?;
                    self.collect(else_body, scope)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Marks every loop of `v` enclosing scope `s` as clobbered (its body writes `v`).
    fn clobber(&mut self, v: VarId, s: usize) {
        let mut cur = Some(s);
        while let Some(c) = cur {
            let Some(scope) = self.scopes.get(c) else {
                return;
            };
            cur = scope.parent;
            if let Some((bv, l)) = scope.bind {
                if bv == v {
                    if let Some(lp) = self.loops.get_mut(l) {
                        lp.clobbered = true;
                    }
                }
            }
        }
    }

    fn key(&self, e: usize, s: usize) -> Key {
        (
            e,
            if self.loopy.get(e).copied().unwrap_or(true) {
                s
            } else {
                0
            },
        )
    }

    /// What `Var(v)` means in scope `s`: a loop, an `i32` variable with a range, or nothing.
    fn resolve(&self, v: VarId, s: usize) -> Option<Sym> {
        let mut cur = Some(s);
        while let Some(c) = cur {
            let scope = self.scopes.get(c)?;
            if let Some((bv, l)) = scope.bind {
                if bv == v {
                    return Some(Sym::Loop(l));
                }
            }
            cur = scope.parent;
        }
        let is_i32 = self.k.vars.try_get(v).is_some_and(|x| x.ty == Ty::I32);
        (is_i32 && !self.for_vars.contains(&v)).then_some(Sym::Var(v))
    }

    /// The range of a symbol (`None`: unbounded, opaque, or not resolved yet).
    fn sym_range(&self, sym: Sym) -> Option<(i64, i64)> {
        let ext = |a: usize| self.grid.get(a).copied().flatten();
        match sym {
            Sym::Thread => Some((0, i64::from(self.k.num_threads.max(1)) - 1)),
            Sym::Block(a) => Some((0, ext(a).unwrap_or(MAX_GRID_DIM) - 1)),
            Sym::Grid(a) => Some(ext(a).map_or((1, MAX_GRID_DIM), |g| (g, g))),
            Sym::Loop(l) => self.loop_range.get(l).copied().flatten().flatten(),
            Sym::Var(v) => self.var_range.get(&v).copied().flatten(),
            Sym::Opaque(_) => None,
        }
    }

    fn sym_data(&self, sym: Sym) -> Option<IndexData> {
        let (lo, hi) = self.sym_range(sym)?;
        Some(IndexData::from_range(
            Interval::new(i128::from(lo), i128::from(hi)),
            1,
        ))
    }

    /// Computes the info of `(e, s)` and of everything below it (children first).
    fn ensure(&mut self, e: usize, s: usize) {
        let mut stack = vec![(e, false)];
        while let Some((e, expanded)) = stack.pop() {
            let key = self.key(e, s);
            if self.info.contains_key(&key) {
                continue;
            }
            if expanded {
                let info = self.classify(e, s);
                self.info.insert(key, info);
            } else {
                stack.push((e, true));
                if let Some(n) = self.node(e) {
                    stack.extend(n.operands().into_iter().map(|c| (c.index(), false)));
                }
            }
        }
    }

    fn info_of(&self, e: usize, s: usize) -> Option<&Info> {
        self.info.get(&self.key(e, s))
    }

    fn classify(&self, e: usize, s: usize) -> Info {
        let ty = self.ty(e);
        let opaque = || match ty {
            Some(t @ (Ty::I32 | Ty::Bool)) => Info {
                conv: Conv::Opaque,
                data: type_range(t),
            },
            _ => Info {
                conv: Conv::Foreign,
                data: IndexData::unknown(),
            },
        };
        let leaf = |v: i64| Info {
            conv: Conv::Num(v),
            data: IndexData::exact(v),
        };
        let sym = |sym: Sym| match self.sym_data(sym) {
            Some(data) => Info {
                conv: Conv::Sym(sym),
                data,
            },
            None => opaque(),
        };
        let Some(node) = self.node(e) else {
            return opaque();
        };
        let cty = |c: ExprId| self.ty(c.index());
        let int_or_bool = |t: Option<Ty>| matches!(t, Some(Ty::I32 | Ty::Bool));
        let n = |c: ExprId| Arg::Node(c.index());
        let (op, args) = match *node {
            Expr::Const(Const::I32(v)) => return leaf(i64::from(v)),
            Expr::Const(Const::Bool(b)) => return leaf(i64::from(b)),
            Expr::Const(Const::U32(v)) => return leaf(i64::from(v)),
            Expr::Special(Special::ThreadIdx) => return sym(Sym::Thread),
            Expr::Special(Special::BlockIdx(a)) => return sym(Sym::Block(axis(a))),
            Expr::Special(Special::GridDim(a)) => return sym(Sym::Grid(axis(a))),
            Expr::Var(v) => return self.resolve(v, s).map_or_else(opaque, sym),
            Expr::Cast(t, a)
                if (t == Ty::I32 && int_or_bool(cty(a)))
                    || (t == Ty::Bool && cty(a) == Some(Ty::Bool)) =>
            {
                return match self.info_of(a.index(), s) {
                    Some(i) if i.usable() => Info {
                        conv: Conv::Pass(a.index()),
                        data: i.data,
                    },
                    _ => opaque(),
                };
            }
            Expr::Cast(Ty::Bool, a) if cty(a) == Some(Ty::I32) => (Op::Ne, vec![n(a), Arg::Num(0)]),
            Expr::Unary(UnaryOp::Neg, a) if ty == Some(Ty::I32) => (Op::Neg, vec![n(a)]),
            Expr::Unary(UnaryOp::Not, a) if ty == Some(Ty::Bool) => {
                (Op::Eq, vec![n(a), Arg::Num(0)])
            }
            Expr::Select(c, a, b) if int_or_bool(ty) && cty(c) == Some(Ty::Bool) => {
                (Op::Select, vec![n(c), n(a), n(b)])
            }
            Expr::Binary(bop, a, b) if int_or_bool(cty(a)) => {
                let boolean = cty(a) == Some(Ty::Bool);
                let op = match (bop, boolean) {
                    (BinaryOp::Lt, _) => Op::Lt,
                    (BinaryOp::Le, _) => Op::Le,
                    (BinaryOp::Gt, _) => Op::Lt,
                    (BinaryOp::Ge, _) => Op::Le,
                    (BinaryOp::Eq, _) => Op::Eq,
                    (BinaryOp::Ne, _) => Op::Ne,
                    (BinaryOp::And, true) => Op::LAnd,
                    (BinaryOp::Or, true) => Op::LOr,
                    (BinaryOp::Xor, true) => Op::Ne,
                    (_, true) => return opaque(),
                    (BinaryOp::Add, _) => Op::Add,
                    (BinaryOp::Sub, _) => Op::Sub,
                    (BinaryOp::Mul, _) => Op::Mul,
                    (BinaryOp::Div, _) => Op::Div,
                    (BinaryOp::Rem, _) => Op::Rem,
                    (BinaryOp::Min, _) => Op::Min,
                    (BinaryOp::Max, _) => Op::Max,
                    (BinaryOp::And, _) => Op::And,
                    (BinaryOp::Or, _) => Op::Or,
                    (BinaryOp::Xor, _) => Op::Xor,
                    (BinaryOp::Shl, _) => Op::Shl,
                    (BinaryOp::Shr, _) => Op::Shr,
                };
                let swap = matches!(bop, BinaryOp::Gt | BinaryOp::Ge);
                let amount_ok = match bop {
                    BinaryOp::Shl | BinaryOp::Shr => {
                        cty(b) == Some(Ty::I32)
                            || matches!(self.node(b.index()), Some(Expr::Const(Const::U32(_))))
                    }
                    _ => cty(b) == cty(a),
                };
                if !amount_ok {
                    return opaque();
                }
                (
                    op,
                    if swap {
                        vec![n(b), n(a)]
                    } else {
                        vec![n(a), n(b)]
                    },
                )
            }
            _ => return opaque(),
        };
        let mut data = Vec::with_capacity(args.len());
        for a in &args {
            data.push(match *a {
                Arg::Num(v) => IndexData::exact(v),
                Arg::Node(c) => match self.info_of(c, s) {
                    Some(i) if i.usable() => i.data,
                    _ => return opaque(),
                },
            });
        }
        let ids: Vec<Id> = (0..args.len()).map(Id::from).collect();
        let Some(inode) = op.node(&ids) else {
            return opaque();
        };
        let get = |id: Id| {
            data.get(usize::from(id))
                .copied()
                .unwrap_or_else(IndexData::unknown)
        };
        let out = transfer(&inode, get, |_| None);
        if !clean_node(&inode, get, &out) {
            return opaque();
        }
        Info {
            conv: Conv::Node(op, args),
            data: out,
        }
    }
}

fn axis(a: Axis) -> usize {
    match a {
        Axis::X => 0,
        Axis::Y => 1,
        Axis::Z => 2,
    }
}

/// The type of a node whose operands' types are `tys` (`None` when ill-typed or dangling).
fn node_type(k: &ThreadKernel, node: &Expr, tys: &[Option<Ty>]) -> Option<Ty> {
    let t = |c: ExprId| tys.get(c.index()).copied().flatten();
    match *node {
        Expr::Const(c) => Some(c.ty()),
        Expr::Param(i) => match k.params.get(i as usize)?.kind {
            crate::thread_ir::ParamKind::Scalar(t) => Some(t),
            crate::thread_ir::ParamKind::Pointer(_) => None,
        },
        Expr::Special(_) => Some(Ty::I32),
        Expr::Var(v) => k.vars.try_get(v).map(|v| v.ty),
        Expr::Local { array, .. } => k.locals.try_get(array).map(|a| Ty::carrier(a.dtype)),
        Expr::Binary(op, _, _) if op.is_comparison() => Some(Ty::Bool),
        Expr::Unary(_, a) | Expr::Binary(_, a, _) | Expr::Fma(a, _, _) | Expr::Select(_, a, _) => {
            t(a)
        }
        Expr::Cast(ty, _) | Expr::Bitcast(ty, _) => Some(ty),
        Expr::Decode(..) => Some(Ty::F32),
        Expr::Encode(..) => Some(Ty::U32),
    }
}

mod rebuild;

pub use rebuild::simplify_kernel;
