//! Handle validation, the verifier's first pass.
//!
//! Every handle stored anywhere in a function (parameters, grid, expressions, tensor types,
//! instructions, statements) must index its arena; every instruction appears at most once in
//! the body; scalar expressions form no cycle. When this pass finds nothing, later code may
//! index arenas directly (`f.exprs[e]`), and it gets the expressions in an order where every
//! operand comes before its users.

use std::collections::HashSet;

use crate::arena::{Arena, Handle, UniqueArena};
use crate::expr::{Expr, ExprId};
use crate::inst::{InstKind, Operand};
use crate::program::{
    Block, Function, LayoutId, Loc, SharedLayoutId, Stmt, TensorId, TensorType, VarId,
};

use super::VerifyError;

/// The handles an instruction refers to, by arena.
#[derive(Default)]
pub(super) struct InstRefs {
    /// Tensor operands, in operand order (not the result).
    pub tensors: Vec<TensorId>,
    /// Scalar expressions.
    pub exprs: Vec<ExprId>,
    /// Variables (the pointer of `global_view`).
    pub vars: Vec<VarId>,
    /// Register layouts.
    pub layouts: Vec<LayoutId>,
    /// Shared layouts.
    pub shared_layouts: Vec<SharedLayoutId>,
}

impl InstRefs {
    fn operand(&mut self, o: Operand) {
        match o {
            Operand::Tensor(t) => self.tensors.push(t),
            Operand::Scalar(e) => self.exprs.push(e),
        }
    }
}

/// Every handle an instruction refers to, except its result.
pub(super) fn inst_refs(kind: &InstKind) -> InstRefs {
    let mut r = InstRefs::default();
    match kind {
        InstKind::GlobalView {
            ptr,
            shape,
            strides,
            ..
        } => {
            r.vars.push(*ptr);
            r.exprs.extend(shape);
            r.exprs.extend(strides.iter().flatten());
        }
        InstKind::AllocGlobal { shape, .. } => r.exprs.extend(shape),
        InstKind::AllocShared { .. } => {}
        InstKind::FreeShared { tensor } => r.tensors.push(*tensor),
        InstKind::AllocRegister { init, .. } => r.exprs.extend(init),
        InstKind::Slice { src, indices } => {
            r.tensors.push(*src);
            r.exprs.extend(indices);
        }
        InstKind::LoadGlobal { src, offsets, .. } => {
            r.tensors.push(*src);
            r.exprs.extend(offsets);
        }
        InstKind::StoreGlobal {
            dst, src, offsets, ..
        }
        | InstKind::CopyAsync {
            dst, src, offsets, ..
        } => {
            r.tensors.push(*dst);
            r.tensors.push(*src);
            r.exprs.extend(offsets);
        }
        InstKind::LoadShared { src } => r.tensors.push(*src),
        InstKind::StoreShared { dst, src } => {
            r.tensors.push(*dst);
            r.tensors.push(*src);
        }
        InstKind::CommitGroup | InstKind::WaitGroup { .. } | InstKind::WaitAll | InstKind::Sync => {
        }
        InstKind::Dot { a, b, c, .. } => {
            r.tensors.push(*a);
            r.tensors.push(*b);
            r.tensors.extend(c);
        }
        InstKind::Cast { x, .. } | InstKind::Unary { x, .. } | InstKind::Reduce { x, .. } => {
            r.tensors.push(*x)
        }
        InstKind::Binary { a, b, .. } => {
            r.operand(*a);
            r.operand(*b);
        }
        InstKind::Where { cond, x, y } => {
            r.tensors.push(*cond);
            r.operand(*x);
            r.operand(*y);
        }
        InstKind::View { x, layout, .. } => {
            r.tensors.push(*x);
            r.layouts.push(*layout);
        }
        InstKind::LockSemaphore { sem, index, value }
        | InstKind::ReleaseSemaphore { sem, index, value } => {
            r.tensors.push(*sem);
            r.exprs.extend(index);
            r.exprs.push(*value);
        }
        InstKind::AnnotateLayout { tensor, layout } => {
            r.tensors.push(*tensor);
            r.layouts.push(*layout);
        }
        InstKind::AnnotateSharedLayout { tensor, layout } => {
            r.tensors.push(*tensor);
            r.shared_layouts.push(*layout);
        }
        InstKind::Print { tensor, .. } => r.tensors.push(*tensor),
    }
    r
}

/// The operands of a scalar expression node.
pub(super) fn expr_children(e: &Expr) -> [Option<ExprId>; 3] {
    match e {
        Expr::Int(_)
        | Expr::Float(_)
        | Expr::Bool(_)
        | Expr::Var(_)
        | Expr::BlockIdx(_)
        | Expr::GridDim(_) => [None, None, None],
        Expr::Unary(_, a) | Expr::Cast(_, a) => [Some(*a), None, None],
        Expr::Binary(_, a, b) => [Some(*a), Some(*b), None],
        Expr::Select(c, a, b) => [Some(*c), Some(*a), Some(*b)],
    }
}

/// Collects handle errors of one function.
struct Handles<'a> {
    f: &'a Function,
    errors: Vec<VerifyError>,
}

impl Handles<'_> {
    fn error(&mut self, inst: Option<&str>, loc: Option<Loc>, message: String) {
        let e = VerifyError {
            function: self.f.name.clone(),
            inst: inst.map(str::to_string),
            target: None,
            loc,
            message,
        };
        // One message per dangling handle and instruction (`add %t, %t` names it twice).
        if self.errors.last() != Some(&e) {
            self.errors.push(e);
        }
    }

    fn check<T>(
        &mut self,
        arena_len: usize,
        h: Handle<T>,
        what: &str,
        inst: Option<&str>,
        loc: Option<Loc>,
    ) -> bool {
        if h.index() < arena_len {
            return true;
        }
        self.error(
            inst,
            loc,
            format!("{what} handle {h:?} does not exist (the kernel has {arena_len} {what}s)"),
        );
        false
    }

    fn var(&mut self, v: VarId, inst: Option<&str>, loc: Option<Loc>) -> bool {
        self.check(self.f.vars.len(), v, "variable", inst, loc)
    }
    fn expr(&mut self, e: ExprId, inst: Option<&str>, loc: Option<Loc>) -> bool {
        self.check(self.f.exprs.len(), e, "expression", inst, loc)
    }
    fn tensor(&mut self, t: TensorId, inst: Option<&str>, loc: Option<Loc>) -> bool {
        self.check(self.f.tensors.len(), t, "tensor", inst, loc)
    }

    fn block(&mut self, block: &Block, seen: &mut HashSet<usize>) {
        for s in block {
            match s {
                Stmt::Inst(i) => {
                    if !self.check(self.f.insts.len(), *i, "instruction", None, None) {
                        continue;
                    }
                    if !seen.insert(i.index()) {
                        let inst = &self.f.insts[*i];
                        self.error(
                            Some(inst.kind.name()),
                            inst.loc,
                            format!(
                                "instruction {i:?} appears twice in the body; every statement \
                                 needs its own instruction"
                            ),
                        );
                    }
                }
                Stmt::For {
                    var,
                    start,
                    end,
                    step,
                    body,
                    loc,
                    ..
                } => {
                    self.var(*var, Some("for"), *loc);
                    for e in [start, end, step] {
                        self.expr(*e, Some("for"), *loc);
                    }
                    self.block(body, seen);
                }
                Stmt::If {
                    cond,
                    then_body,
                    else_body,
                    loc,
                } => {
                    self.expr(*cond, Some("if"), *loc);
                    self.block(then_body, seen);
                    self.block(else_body, seen);
                }
                Stmt::Let { var, value, loc } => {
                    self.var(*var, Some("let"), *loc);
                    self.expr(*value, Some("let"), *loc);
                }
                Stmt::Assign { var, value, loc } => {
                    self.var(*var, Some("assign"), *loc);
                    self.expr(*value, Some("assign"), *loc);
                }
            }
        }
    }
}

fn layout_ok<T: Eq + std::hash::Hash + Clone>(arena: &UniqueArena<T>, h: Handle<T>) -> bool {
    h.index() < arena.len()
}

/// Checks every handle of `f`. Returns the expressions with operands before users, or
/// `None` (errors pushed) when a handle dangles or an expression is its own operand.
pub(super) fn check(f: &Function, errors: &mut Vec<VerifyError>) -> Option<Vec<ExprId>> {
    let mut h = Handles {
        f,
        errors: Vec::new(),
    };
    for &p in &f.params {
        h.var(p, None, f.loc);
    }
    for &e in &f.grid {
        h.expr(e, None, f.loc);
    }
    for (_, e) in f.exprs.iter() {
        for c in expr_children(e).into_iter().flatten() {
            h.expr(c, None, None);
        }
        if let Expr::Var(v) = e {
            h.var(*v, None, None);
        }
    }
    for (_, t) in f.tensors.iter() {
        match &t.ty {
            TensorType::Global { shape, strides, .. } => {
                for e in shape.iter().chain(strides.iter().flatten()) {
                    h.expr(*e, None, None);
                }
            }
            TensorType::Shared {
                layout: Some(l), ..
            } if !layout_ok(&f.shared_layouts, *l) => h.error(
                None,
                None,
                format!(
                    "the type of %{} names shared layout handle {l:?}, which does not exist",
                    t.name
                ),
            ),
            TensorType::Register {
                layout: Some(l), ..
            } if !layout_ok(&f.layouts, *l) => h.error(
                None,
                None,
                format!(
                    "the type of %{} names layout handle {l:?}, which does not exist",
                    t.name
                ),
            ),
            TensorType::Shared { .. } | TensorType::Register { .. } => {}
        }
    }
    for (_, inst) in f.insts.iter() {
        let name = Some(inst.kind.name());
        let refs = inst_refs(&inst.kind);
        for t in refs.tensors {
            h.tensor(t, name, inst.loc);
        }
        for e in refs.exprs {
            h.expr(e, name, inst.loc);
        }
        for v in refs.vars {
            h.var(v, name, inst.loc);
        }
        for l in refs.layouts {
            if !layout_ok(&f.layouts, l) {
                h.error(
                    name,
                    inst.loc,
                    format!("layout handle {l:?} does not exist"),
                );
            }
        }
        for l in refs.shared_layouts {
            if !layout_ok(&f.shared_layouts, l) {
                h.error(
                    name,
                    inst.loc,
                    format!("shared layout handle {l:?} does not exist"),
                );
            }
        }
        if let Some(out) = inst.out {
            h.tensor(out.tensor(), name, inst.loc);
        }
    }
    let mut seen = HashSet::new();
    h.block(&f.body, &mut seen);
    let failed = !h.errors.is_empty();
    errors.append(&mut h.errors);
    if failed {
        return None;
    }
    topological_order(f, errors)
}

/// The expressions, every operand before its users; `None` (error pushed) on a cycle.
fn topological_order(f: &Function, errors: &mut Vec<VerifyError>) -> Option<Vec<ExprId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let exprs: &Arena<Expr> = &f.exprs;
    let mut mark = vec![Mark::New; exprs.len()];
    let mut order = Vec::with_capacity(exprs.len());
    for (root, _) in exprs.iter() {
        if mark[root.index()] != Mark::New {
            continue;
        }
        // Iterative depth-first search: (node, next child to visit).
        let mut stack = vec![(root, 0usize)];
        mark[root.index()] = Mark::Open;
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            if next < 3 {
                top.1 = next + 1;
                let Some(child) = expr_children(&exprs[node])[next] else {
                    continue;
                };
                match mark[child.index()] {
                    Mark::Done => {}
                    Mark::Open => {
                        errors.push(VerifyError {
                            function: f.name.clone(),
                            inst: None,
                            target: None,
                            loc: None,
                            message: format!(
                                "expression {child:?} is its own operand (a cycle through \
                                 {node:?}); expressions must form a tree or DAG"
                            ),
                        });
                        return None;
                    }
                    Mark::New => {
                        mark[child.index()] = Mark::Open;
                        stack.push((child, 0));
                    }
                }
            } else {
                mark[node.index()] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    Some(order)
}
