//! Structural equality of programs: the same program up to arena order and source positions.
//!
//! Two functions are equal when their names, warps, parameters, grids and bodies agree,
//! comparing through handles: scalar expressions as trees (so shared and duplicated nodes
//! compare equal), layouts by value, and variables and tensors by a one-to-one
//! correspondence built as they are met in program order (parameters first, then the body):
//! the first time a pair is met their names, types and kinds must agree, and afterwards each
//! must always meet the other. `Loc`s are ignored. Float literals are equal when their bits
//! are, except that every NaN equals every NaN.
//!
//! This is the equality of the round trip `parse_program(&p.to_string()) ≅ p`.

use std::collections::HashMap;

use crate::arena::Handle;
use crate::expr::{Expr, ExprId};
use crate::inst::{InstKind, Operand};
use crate::program::{
    Block, Function, InstId, LayoutId, Out, Program, SharedLayoutId, Stmt, TensorId, TensorType,
    VarId,
};

/// Whether two programs have the same kernels, in order, by [`functions_equal`].
pub fn programs_equal(a: &Program, b: &Program) -> bool {
    a.functions.len() == b.functions.len()
        && a.functions
            .iter()
            .zip(&b.functions)
            .all(|(fa, fb)| functions_equal(fa, fb))
}

/// Whether two kernels are structurally equal (see the module documentation).
pub fn functions_equal(a: &Function, b: &Function) -> bool {
    let mut c = Cmp {
        a,
        b,
        vars: Bijection::default(),
        tensors: Bijection::default(),
    };
    a.name == b.name
        && a.warps == b.warps
        && a.params.len() == b.params.len()
        && a.params.iter().zip(&b.params).all(|(&x, &y)| c.var(x, y))
        && a.assumes.len() == b.assumes.len()
        && a.assumes
            .iter()
            .zip(&b.assumes)
            .all(|(x, y)| x.divisor == y.divisor && c.var(x.var, y.var))
        && c.exprs(&a.grid, &b.grid)
        && c.block(&a.body, &b.body)
}

/// A one-to-one map between handles of two functions, grown as pairs are met.
struct Bijection<T> {
    ab: HashMap<Handle<T>, Handle<T>>,
    ba: HashMap<Handle<T>, Handle<T>>,
}

impl<T> Default for Bijection<T> {
    fn default() -> Self {
        Bijection {
            ab: HashMap::new(),
            ba: HashMap::new(),
        }
    }
}

impl<T> Bijection<T> {
    /// `Some(consistent)` when either side is already paired, `None` for a new pair.
    fn check(&self, x: Handle<T>, y: Handle<T>) -> Option<bool> {
        match (self.ab.get(&x), self.ba.get(&y)) {
            (None, None) => None,
            (Some(&y2), Some(&x2)) => Some(y2 == y && x2 == x),
            _ => Some(false),
        }
    }

    fn pair(&mut self, x: Handle<T>, y: Handle<T>) {
        self.ab.insert(x, y);
        self.ba.insert(y, x);
    }
}

struct Cmp<'f> {
    a: &'f Function,
    b: &'f Function,
    vars: Bijection<crate::program::Var>,
    tensors: Bijection<crate::program::Tensor>,
}

impl Cmp<'_> {
    fn var(&mut self, x: VarId, y: VarId) -> bool {
        if let Some(ok) = self.vars.check(x, y) {
            return ok;
        }
        match (self.a.vars.try_get(x), self.b.vars.try_get(y)) {
            (Some(vx), Some(vy)) if vx == vy => {
                self.vars.pair(x, y);
                true
            }
            _ => false,
        }
    }

    fn tensor(&mut self, x: TensorId, y: TensorId) -> bool {
        if let Some(ok) = self.tensors.check(x, y) {
            return ok;
        }
        let (Some(tx), Some(ty)) = (self.a.tensors.try_get(x), self.b.tensors.try_get(y)) else {
            return false;
        };
        // Pair first: a type never refers back to its own tensor, but pairing early keeps
        // the map one-to-one if it ever did.
        self.tensors.pair(x, y);
        tx.name == ty.name && self.tensor_type(&tx.ty, &ty.ty)
    }

    fn tensor_type(&mut self, x: &TensorType, y: &TensorType) -> bool {
        match x {
            TensorType::Global {
                dtype,
                shape,
                strides,
            } => {
                let TensorType::Global {
                    dtype: d2,
                    shape: s2,
                    strides: st2,
                } = y
                else {
                    return false;
                };
                dtype == d2 && self.exprs(shape, s2) && self.opt_exprs(strides, st2)
            }
            TensorType::Shared {
                dtype,
                shape,
                layout,
            } => {
                let TensorType::Shared {
                    dtype: d2,
                    shape: s2,
                    layout: l2,
                } = y
                else {
                    return false;
                };
                dtype == d2
                    && shape == s2
                    && match (layout, l2) {
                        (None, None) => true,
                        (Some(l), Some(m)) => self.shared_layout(*l, *m),
                        _ => false,
                    }
            }
            TensorType::Register {
                dtype,
                shape,
                layout,
            } => {
                let TensorType::Register {
                    dtype: d2,
                    shape: s2,
                    layout: l2,
                } = y
                else {
                    return false;
                };
                dtype == d2
                    && shape == s2
                    && match (layout, l2) {
                        (None, None) => true,
                        (Some(l), Some(m)) => self.layout(*l, *m),
                        _ => false,
                    }
            }
        }
    }

    fn layout(&self, x: LayoutId, y: LayoutId) -> bool {
        matches!((self.a.layouts.try_get(x), self.b.layouts.try_get(y)), (Some(l), Some(m)) if l == m)
    }

    fn shared_layout(&self, x: SharedLayoutId, y: SharedLayoutId) -> bool {
        matches!(
            (self.a.shared_layouts.try_get(x), self.b.shared_layouts.try_get(y)),
            (Some(l), Some(m)) if l == m
        )
    }

    fn exprs(&mut self, x: &[ExprId], y: &[ExprId]) -> bool {
        x.len() == y.len() && x.iter().zip(y).all(|(&p, &q)| self.expr(p, q))
    }

    fn opt_exprs(&mut self, x: &Option<Vec<ExprId>>, y: &Option<Vec<ExprId>>) -> bool {
        match (x, y) {
            (None, None) => true,
            (Some(x), Some(y)) => self.exprs(x, y),
            _ => false,
        }
    }

    fn expr(&mut self, x: ExprId, y: ExprId) -> bool {
        let (Some(ex), Some(ey)) = (self.a.exprs.try_get(x), self.b.exprs.try_get(y)) else {
            return false;
        };
        match ex {
            Expr::Int(v) => matches!(ey, Expr::Int(w) if v == w),
            Expr::Float(v) => {
                matches!(ey, Expr::Float(w) if v.to_bits() == w.to_bits() || (v.is_nan() && w.is_nan()))
            }
            Expr::Bool(v) => matches!(ey, Expr::Bool(w) if v == w),
            Expr::Var(v) => match ey {
                Expr::Var(w) => self.var(*v, *w),
                _ => false,
            },
            Expr::BlockIdx(v) => matches!(ey, Expr::BlockIdx(w) if v == w),
            Expr::GridDim(v) => matches!(ey, Expr::GridDim(w) if v == w),
            Expr::Unary(op, p) => match ey {
                Expr::Unary(op2, q) => op == op2 && self.expr(*p, *q),
                _ => false,
            },
            Expr::Binary(op, p, q) => match ey {
                Expr::Binary(op2, r, s) => op == op2 && self.expr(*p, *r) && self.expr(*q, *s),
                _ => false,
            },
            Expr::Select(c, p, q) => match ey {
                Expr::Select(c2, r, s) => {
                    self.expr(*c, *c2) && self.expr(*p, *r) && self.expr(*q, *s)
                }
                _ => false,
            },
            Expr::Cast(t, p) => match ey {
                Expr::Cast(t2, q) => t == t2 && self.expr(*p, *q),
                _ => false,
            },
        }
    }

    fn block(&mut self, x: &Block, y: &Block) -> bool {
        x.len() == y.len() && x.iter().zip(y).all(|(s, t)| self.stmt(s, t))
    }

    fn stmt(&mut self, x: &Stmt, y: &Stmt) -> bool {
        match x {
            Stmt::Inst(i) => matches!(y, Stmt::Inst(j) if self.inst(*i, *j)),
            Stmt::For {
                var,
                start,
                end,
                step,
                unroll,
                body,
                ..
            } => {
                let Stmt::For {
                    var: v2,
                    start: s2,
                    end: e2,
                    step: st2,
                    unroll: u2,
                    body: b2,
                    ..
                } = y
                else {
                    return false;
                };
                unroll == u2
                    && self.expr(*start, *s2)
                    && self.expr(*end, *e2)
                    && self.expr(*step, *st2)
                    && self.var(*var, *v2)
                    && self.block(body, b2)
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
                ..
            } => {
                let Stmt::If {
                    cond: c2,
                    then_body: t2,
                    else_body: e2,
                    ..
                } = y
                else {
                    return false;
                };
                self.expr(*cond, *c2) && self.block(then_body, t2) && self.block(else_body, e2)
            }
            Stmt::Let { var, value, .. } => {
                let Stmt::Let {
                    var: v2, value: x2, ..
                } = y
                else {
                    return false;
                };
                self.expr(*value, *x2) && self.var(*var, *v2)
            }
            Stmt::Assign { var, value, .. } => {
                let Stmt::Assign {
                    var: v2, value: x2, ..
                } = y
                else {
                    return false;
                };
                self.var(*var, *v2) && self.expr(*value, *x2)
            }
        }
    }

    fn inst(&mut self, x: InstId, y: InstId) -> bool {
        let (Some(ix), Some(iy)) = (self.a.insts.try_get(x), self.b.insts.try_get(y)) else {
            return false;
        };
        // Operands first: they are defined before the result.
        if !self.kind(&ix.kind, &iy.kind) {
            return false;
        }
        match (ix.out, iy.out) {
            (None, None) => true,
            (Some(Out::New(p)), Some(Out::New(q)))
            | (Some(Out::Existing(p)), Some(Out::Existing(q))) => self.tensor(p, q),
            _ => false,
        }
    }

    fn operand(&mut self, x: Operand, y: Operand) -> bool {
        match (x, y) {
            (Operand::Tensor(p), Operand::Tensor(q)) => self.tensor(p, q),
            (Operand::Scalar(p), Operand::Scalar(q)) => self.expr(p, q),
            _ => false,
        }
    }

    fn opt_tensor(&mut self, x: Option<TensorId>, y: Option<TensorId>) -> bool {
        match (x, y) {
            (None, None) => true,
            (Some(p), Some(q)) => self.tensor(p, q),
            _ => false,
        }
    }

    fn opt_expr(&mut self, x: Option<ExprId>, y: Option<ExprId>) -> bool {
        match (x, y) {
            (None, None) => true,
            (Some(p), Some(q)) => self.expr(p, q),
            _ => false,
        }
    }

    /// Field-by-field comparison; the match on `x` is exhaustive, so a new instruction
    /// must be added here.
    fn kind(&mut self, x: &InstKind, y: &InstKind) -> bool {
        match x {
            InstKind::GlobalView {
                ptr,
                dtype,
                shape,
                strides,
            } => {
                let InstKind::GlobalView {
                    ptr: p2,
                    dtype: d2,
                    shape: s2,
                    strides: st2,
                } = y
                else {
                    return false;
                };
                dtype == d2
                    && self.var(*ptr, *p2)
                    && self.exprs(shape, s2)
                    && self.opt_exprs(strides, st2)
            }
            InstKind::AllocGlobal {
                dtype,
                shape,
                requires_clean,
            } => {
                let InstKind::AllocGlobal {
                    dtype: d2,
                    shape: s2,
                    requires_clean: r2,
                } = y
                else {
                    return false;
                };
                dtype == d2 && requires_clean == r2 && self.exprs(shape, s2)
            }
            InstKind::AllocShared { dtype, shape } => {
                matches!(y, InstKind::AllocShared { dtype: d2, shape: s2 } if dtype == d2 && shape == s2)
            }
            InstKind::FreeShared { tensor } => {
                matches!(y, InstKind::FreeShared { tensor: t2 } if self.tensor(*tensor, *t2))
            }
            InstKind::AllocRegister { dtype, shape, init } => {
                let InstKind::AllocRegister {
                    dtype: d2,
                    shape: s2,
                    init: i2,
                } = y
                else {
                    return false;
                };
                dtype == d2 && shape == s2 && self.opt_expr(*init, *i2)
            }
            InstKind::Slice { src, indices } => {
                let InstKind::Slice {
                    src: s2,
                    indices: i2,
                } = y
                else {
                    return false;
                };
                self.tensor(*src, *s2) && self.exprs(indices, i2)
            }
            InstKind::LoadGlobal {
                src,
                offsets,
                shape,
                dims,
            } => {
                let InstKind::LoadGlobal {
                    src: s2,
                    offsets: o2,
                    shape: sh2,
                    dims: d2,
                } = y
                else {
                    return false;
                };
                shape == sh2 && dims == d2 && self.tensor(*src, *s2) && self.exprs(offsets, o2)
            }
            InstKind::StoreGlobal {
                dst,
                src,
                offsets,
                dims,
            } => {
                let InstKind::StoreGlobal {
                    dst: t2,
                    src: s2,
                    offsets: o2,
                    dims: d2,
                } = y
                else {
                    return false;
                };
                dims == d2
                    && self.tensor(*dst, *t2)
                    && self.tensor(*src, *s2)
                    && self.exprs(offsets, o2)
            }
            InstKind::LoadShared { src } => {
                matches!(y, InstKind::LoadShared { src: s2 } if self.tensor(*src, *s2))
            }
            InstKind::StoreShared { dst, src } => {
                matches!(y, InstKind::StoreShared { dst: t2, src: s2 }
                    if self.tensor(*dst, *t2) && self.tensor(*src, *s2))
            }
            InstKind::CopyAsync {
                dst,
                src,
                offsets,
                dims,
            } => {
                let InstKind::CopyAsync {
                    dst: t2,
                    src: s2,
                    offsets: o2,
                    dims: d2,
                } = y
                else {
                    return false;
                };
                dims == d2
                    && self.tensor(*dst, *t2)
                    && self.tensor(*src, *s2)
                    && self.exprs(offsets, o2)
            }
            InstKind::CommitGroup => matches!(y, InstKind::CommitGroup),
            InstKind::WaitGroup { n } => matches!(y, InstKind::WaitGroup { n: m } if n == m),
            InstKind::WaitAll => matches!(y, InstKind::WaitAll),
            InstKind::Dot { a, b, c, acc_dtype } => {
                let InstKind::Dot {
                    a: a2,
                    b: b2,
                    c: c2,
                    acc_dtype: d2,
                } = y
                else {
                    return false;
                };
                acc_dtype == d2
                    && self.tensor(*a, *a2)
                    && self.tensor(*b, *b2)
                    && self.opt_tensor(*c, *c2)
            }
            InstKind::Cast { x, dtype } => {
                matches!(y, InstKind::Cast { x: x2, dtype: d2 } if dtype == d2 && self.tensor(*x, *x2))
            }
            InstKind::Unary { op, x } => {
                matches!(y, InstKind::Unary { op: o2, x: x2 } if op == o2 && self.tensor(*x, *x2))
            }
            InstKind::Binary { op, a, b } => {
                matches!(y, InstKind::Binary { op: o2, a: a2, b: b2 }
                    if op == o2 && self.operand(*a, *a2) && self.operand(*b, *b2))
            }
            InstKind::Where { cond, x, y: yy } => {
                matches!(y, InstKind::Where { cond: c2, x: x2, y: y2 }
                    if self.tensor(*cond, *c2) && self.operand(*x, *x2) && self.operand(*yy, *y2))
            }
            InstKind::View {
                x,
                dtype,
                shape,
                layout,
            } => {
                let InstKind::View {
                    x: x2,
                    dtype: d2,
                    shape: s2,
                    layout: l2,
                } = y
                else {
                    return false;
                };
                dtype == d2 && shape == s2 && self.layout(*layout, *l2) && self.tensor(*x, *x2)
            }
            InstKind::Reduce {
                op,
                x,
                dim,
                keepdim,
            } => {
                let InstKind::Reduce {
                    op: o2,
                    x: x2,
                    dim: d2,
                    keepdim: k2,
                } = y
                else {
                    return false;
                };
                op == o2 && dim == d2 && keepdim == k2 && self.tensor(*x, *x2)
            }
            InstKind::Sync => matches!(y, InstKind::Sync),
            InstKind::LockSemaphore { sem, index, value } => {
                let InstKind::LockSemaphore {
                    sem: s2,
                    index: i2,
                    value: v2,
                } = y
                else {
                    return false;
                };
                self.tensor(*sem, *s2) && self.exprs(index, i2) && self.expr(*value, *v2)
            }
            InstKind::ReleaseSemaphore { sem, index, value } => {
                let InstKind::ReleaseSemaphore {
                    sem: s2,
                    index: i2,
                    value: v2,
                } = y
                else {
                    return false;
                };
                self.tensor(*sem, *s2) && self.exprs(index, i2) && self.expr(*value, *v2)
            }
            InstKind::AnnotateLayout { tensor, layout } => {
                matches!(y, InstKind::AnnotateLayout { tensor: t2, layout: l2 }
                    if self.layout(*layout, *l2) && self.tensor(*tensor, *t2))
            }
            InstKind::AnnotateSharedLayout { tensor, layout } => {
                matches!(y, InstKind::AnnotateSharedLayout { tensor: t2, layout: l2 }
                    if self.shared_layout(*layout, *l2) && self.tensor(*tensor, *t2))
            }
            InstKind::Print { tensor, label } => {
                matches!(y, InstKind::Print { tensor: t2, label: l2 }
                    if label == l2 && self.tensor(*tensor, *t2))
            }
        }
    }
}
