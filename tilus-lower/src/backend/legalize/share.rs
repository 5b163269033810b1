//! Binds large shared subexpressions to variables.
//!
//! The bit-level codecs build expression DAGs whose nodes are used many times (the bits of
//! the input, the rounded magnitude, …); printed or evaluated as trees they grow
//! exponentially. After rewriting, every statement's expressions are scanned: a non-leaf
//! node that is used at least twice and whose tree is larger than [`TREE_LIMIT`] is
//! assigned to a fresh variable right before the statement, operands first. Expressions
//! are pure and the assignment runs where the statement would evaluate them, so meaning is
//! unchanged.

use std::collections::{HashMap, HashSet};

use crate::thread_ir::{Expr, ExprId, KernelBuilder, Stmt, Ty, Var, VarId};

/// Trees up to this many nodes are left inline.
const TREE_LIMIT: u64 = 24;

/// Rewrites a statement list (recursively).
pub(crate) fn bind(b: &mut KernelBuilder, body: Vec<Stmt>) -> Vec<Stmt> {
    bind_with(b, body, &mut HashMap::new())
}

/// Variables are reused from one statement to the next (their values are dead once the
/// statement has run), so a kernel needs only as many as one statement does.
fn bind_with(
    b: &mut KernelBuilder,
    body: Vec<Stmt>,
    pool: &mut HashMap<Ty, Vec<VarId>>,
) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(body.len());
    for s in body {
        let s = match s {
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => Stmt::For {
                var,
                start,
                end,
                step,
                body: bind_with(b, body, pool),
            },
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => Stmt::If {
                cond,
                then_body: bind_with(b, then_body, pool),
                else_body: bind_with(b, else_body, pool),
            },
            other => other,
        };
        let roots = s.operands();
        if roots.is_empty() {
            out.push(s);
            continue;
        }
        let mut subst = Subst::new(b, &roots, pool);
        if subst.bound.is_empty() {
            out.push(s);
            continue;
        }
        let assigns = subst.assigns();
        out.extend(assigns);
        out.push(subst.stmt(s));
    }
    out
}

struct Subst<'b> {
    b: &'b mut KernelBuilder,
    /// Bound nodes in binding order, with their variables.
    bound: Vec<(ExprId, ExprId)>,
    map: HashMap<ExprId, ExprId>,
}

impl<'b> Subst<'b> {
    fn new(b: &'b mut KernelBuilder, roots: &[ExprId], pool: &mut HashMap<Ty, Vec<VarId>>) -> Self {
        let k = &b.kernel;
        let mut uses: HashMap<ExprId, u32> = HashMap::new();
        let mut seen: HashSet<ExprId> = HashSet::new();
        let mut stack: Vec<ExprId> = roots.to_vec();
        for &r in roots {
            *uses.entry(r).or_default() += 1;
        }
        let mut order = Vec::new();
        while let Some(e) = stack.pop() {
            if !seen.insert(e) {
                continue;
            }
            order.push(e);
            if let Some(x) = k.exprs.try_get(e) {
                for c in x.operands() {
                    *uses.entry(c).or_default() += 1;
                    stack.push(c);
                }
            }
        }
        // Tree sizes, operands first (handles precede their users).
        order.sort_by_key(|e| e.index());
        let mut size: HashMap<ExprId, u64> = HashMap::new();
        let mut chosen = Vec::new();
        for &e in &order {
            let ops = k.exprs.try_get(e).map(Expr::operands).unwrap_or_default();
            let s = 1 + ops
                .iter()
                .map(|c| size.get(c).copied().unwrap_or(1))
                .fold(0u64, u64::saturating_add);
            let share =
                !ops.is_empty() && uses.get(&e).copied().unwrap_or(0) >= 2 && s > TREE_LIMIT;
            // A bound node counts as a leaf for its users.
            size.insert(e, if share { 1 } else { s });
            if share {
                chosen.push(e);
            }
        }
        let mut me = Subst {
            b,
            bound: Vec::new(),
            map: HashMap::new(),
        };
        let mut used: HashMap<Ty, usize> = HashMap::new();
        for e in chosen {
            let value = me.rewrite(e);
            let ty = me.b.ty(value);
            let n = used.entry(ty).or_default();
            let list = pool.entry(ty).or_default();
            let var = match list.get(*n) {
                Some(&v) => v,
                None => {
                    let name = me.b.unique_name("s");
                    let v = me.b.kernel.vars.alloc(Var { name, ty });
                    list.push(v);
                    v
                }
            };
            *n += 1;
            let read = me.b.read_var(var);
            me.bound.push((value, read));
            me.map.insert(e, read);
        }
        me
    }

    /// The assignments of the bound nodes, in order.
    fn assigns(&self) -> Vec<Stmt> {
        self.bound
            .iter()
            .filter_map(|&(value, read)| match self.b.kernel.exprs.try_get(read) {
                Some(Expr::Var(var)) => Some(Stmt::Assign { var: *var, value }),
                _ => None,
            })
            .collect()
    }

    /// `e` with bound nodes replaced by their variables.
    fn rewrite(&mut self, e: ExprId) -> ExprId {
        if let Some(&r) = self.map.get(&e) {
            return r;
        }
        let Some(node) = self.b.kernel.exprs.try_get(e).copied() else {
            return e;
        };
        let r = match node {
            Expr::Unary(op, a) => Expr::Unary(op, self.rewrite(a)),
            Expr::Cast(t, a) => Expr::Cast(t, self.rewrite(a)),
            Expr::Bitcast(t, a) => Expr::Bitcast(t, self.rewrite(a)),
            Expr::Decode(d, a) => Expr::Decode(d, self.rewrite(a)),
            Expr::Encode(d, a) => Expr::Encode(d, self.rewrite(a)),
            Expr::Binary(op, a, c) => Expr::Binary(op, self.rewrite(a), self.rewrite(c)),
            Expr::Select(a, c, d) => {
                Expr::Select(self.rewrite(a), self.rewrite(c), self.rewrite(d))
            }
            Expr::Fma(a, c, d) => Expr::Fma(self.rewrite(a), self.rewrite(c), self.rewrite(d)),
            leaf => leaf,
        };
        let r = if r == node { e } else { self.b.expr(r) };
        self.map.insert(e, r);
        r
    }

    /// The statement with its roots rewritten.
    fn stmt(&mut self, s: Stmt) -> Stmt {
        s.map_operands(|e| self.rewrite(e))
    }
}
