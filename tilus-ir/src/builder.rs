//! The Rust builder: write tile programs as naturally as a Tilus `Script`.
//!
//! A [`KernelBuilder`] collects one kernel. Scalars ([`Scalar`]) and tiles ([`Tile`]) are
//! small handles that remember their builder, so ordinary operators build instructions:
//! `&x + &y` emits an elementwise `add`, `i * 128 + 4` builds a scalar expression. Loops and
//! branches take closures whose body is emitted inside the statement. Mistakes (a shape that
//! does not broadcast, a dot with mismatched k, …) do not panic: the builder records the
//! first error, keeps going with a best-effort type, and [`KernelBuilder::finish`] returns it.
//!
//! ```
//! use tilus_ir::builder::KernelBuilder;
//! use tilus_ir::dtype::DType;
//! use tilus_ir::expr::{Axis, ScalarType};
//!
//! // c[i] = a[i] + b[i] for i < n, 128 elements per block.
//! let kb = KernelBuilder::new("vector_add", 4);
//! let n = kb.scalar_param("n", ScalarType::I32);
//! let a = kb.pointer_param("a", DType::F32);
//! let b = kb.pointer_param("b", DType::F32);
//! let c = kb.pointer_param("c", DType::F32);
//! kb.grid(&[n.cdiv(128)]);
//! let ga = kb.global_view(a, &[n]);
//! let gb = kb.global_view(b, &[n]);
//! let gc = kb.global_view(c, &[n]);
//! let offset = kb.block_idx(Axis::X) * 128;
//! let x = kb.load_global(&ga, &[offset], &[128]);
//! let y = kb.load_global(&gb, &[offset], &[128]);
//! let z = &x + &y;
//! kb.store_global(&gc, &z, &[offset]);
//! let kernel = kb.finish().expect("a well-formed kernel");
//! assert_eq!(kernel.name, "vector_add");
//! ```

use std::cell::RefCell;
use std::collections::HashSet;

use thiserror::Error;

use crate::dtype::DType;
use crate::expr::{Axis, Expr, ExprId, ScalarType};
use crate::inst::InstKind;
use crate::program::{
    Block, Function, Inst, Out, Stmt, Tensor, TensorId, TensorType, Unroll, Var, VarId, VarKind,
    VarType,
};
use crate::typing;

/// A mistake found while building a kernel.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("while building kernel `{kernel}`: {message}")]
pub struct BuildError {
    /// The kernel.
    pub kernel: String,
    /// What went wrong, naming the instruction.
    pub message: String,
}

/// Builds one kernel. See the module documentation for an example.
pub struct KernelBuilder {
    func: RefCell<Function>,
    /// Statement lists being filled: the body, then one per open loop or branch.
    blocks: RefCell<Vec<Block>>,
    error: RefCell<Option<String>>,
    names: RefCell<HashSet<String>>,
    counter: RefCell<usize>,
}

/// A scalar expression under construction.
#[derive(Clone, Copy)]
pub struct Scalar<'b> {
    /// The expression.
    pub id: ExprId,
    b: &'b KernelBuilder,
}

/// A tensor (global, shared or register) of the kernel under construction.
#[derive(Clone, Copy)]
pub struct Tile<'b> {
    /// The tensor.
    pub id: TensorId,
    b: &'b KernelBuilder,
}

/// A pointer parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// The parameter variable.
    pub var: VarId,
}

/// Anything that can become a scalar expression: [`Scalar`], integers, floats, bools.
pub trait IntoExpr {
    /// Adds the expression to `b` (if needed) and returns it.
    fn into_expr(self, b: &KernelBuilder) -> ExprId;
}

impl IntoExpr for Scalar<'_> {
    fn into_expr(self, _: &KernelBuilder) -> ExprId {
        self.id
    }
}
impl IntoExpr for &Scalar<'_> {
    fn into_expr(self, _: &KernelBuilder) -> ExprId {
        self.id
    }
}
impl IntoExpr for ExprId {
    fn into_expr(self, _: &KernelBuilder) -> ExprId {
        self
    }
}
macro_rules! into_expr_int {
    ($($t:ty),*) => {$(
        impl IntoExpr for $t {
            fn into_expr(self, b: &KernelBuilder) -> ExprId {
                b.expr(Expr::Int(self as i64))
            }
        }
    )*};
}
into_expr_int!(i32, i64, u32, usize);
impl IntoExpr for f64 {
    fn into_expr(self, b: &KernelBuilder) -> ExprId {
        b.expr(Expr::Float(self))
    }
}
impl IntoExpr for bool {
    fn into_expr(self, b: &KernelBuilder) -> ExprId {
        b.expr(Expr::Bool(self))
    }
}

impl KernelBuilder {
    /// A new kernel with `warps` warps per block.
    pub fn new(name: &str, warps: u32) -> Self {
        let mut f = Function::new(name);
        f.warps = warps;
        KernelBuilder {
            func: RefCell::new(f),
            blocks: RefCell::new(vec![Vec::new()]),
            error: RefCell::new(None),
            names: RefCell::new(HashSet::new()),
            counter: RefCell::new(0),
        }
    }

    fn fail(&self, message: String) {
        let mut e = self.error.borrow_mut();
        if e.is_none() {
            *e = Some(message);
        }
    }

    fn unique_name(&self, base: &str) -> String {
        let mut names = self.names.borrow_mut();
        let mut name = base.to_string();
        if base.is_empty() || names.contains(&name) {
            loop {
                let mut c = self.counter.borrow_mut();
                let candidate = format!("{}{}", if base.is_empty() { "t" } else { base }, *c);
                *c += 1;
                if !names.contains(&candidate) {
                    name = candidate;
                    break;
                }
            }
        }
        names.insert(name.clone());
        name
    }

    /// Adds a scalar expression node.
    pub fn expr(&self, e: Expr) -> ExprId {
        self.func.borrow_mut().exprs.alloc(e)
    }

    fn scalar(&self, e: Expr) -> Scalar<'_> {
        Scalar {
            id: self.expr(e),
            b: self,
        }
    }

    /// Wraps an existing expression.
    pub fn wrap(&self, id: ExprId) -> Scalar<'_> {
        Scalar { id, b: self }
    }

    /// An integer constant.
    pub fn int(&self, v: i64) -> Scalar<'_> {
        self.scalar(Expr::Int(v))
    }

    /// A float constant.
    pub fn float(&self, v: f64) -> Scalar<'_> {
        self.scalar(Expr::Float(v))
    }

    fn push_stmt(&self, s: Stmt) {
        let mut blocks = self.blocks.borrow_mut();
        if let Some(top) = blocks.last_mut() {
            top.push(s);
        }
    }

    fn var(&self, name: &str, ty: VarType, kind: VarKind) -> VarId {
        let name = self.unique_name(name);
        self.func.borrow_mut().vars.alloc(Var { name, ty, kind })
    }

    /// Declares a scalar parameter.
    pub fn scalar_param(&self, name: &str, ty: ScalarType) -> Scalar<'_> {
        let v = self.var(name, VarType::Scalar(ty), VarKind::Param);
        self.func.borrow_mut().params.push(v);
        self.scalar(Expr::Var(v))
    }

    /// Declares a pointer parameter to elements of `dtype`.
    pub fn pointer_param(&self, name: &str, dtype: DType) -> Pointer {
        let v = self.var(name, VarType::Pointer(dtype), VarKind::Param);
        self.func.borrow_mut().params.push(v);
        Pointer { var: v }
    }

    /// Sets the grid (1 to 3 extents, x first).
    pub fn grid<E: IntoExpr + Copy>(&self, extents: &[E]) {
        let ids: Vec<ExprId> = extents.iter().map(|e| e.into_expr(self)).collect();
        if ids.is_empty() || ids.len() > 3 {
            self.fail(format!("the grid needs 1 to 3 extents, got {}", ids.len()));
        }
        self.func.borrow_mut().grid = ids;
    }

    /// `assume(param % divisor == 0)`: every launch passes a multiple of `divisor` for the
    /// integer parameter `param` (checked at launch); the compiler may rely on it.
    pub fn assume_divisible(&self, param: Scalar<'_>, divisor: u32) {
        let var = match self.func.borrow().exprs.try_get(param.id) {
            Some(Expr::Var(v)) => Some(*v),
            _ => None,
        };
        match var {
            Some(var) => self
                .func
                .borrow_mut()
                .assumes
                .push(crate::program::Assume { var, divisor }),
            None => self.fail("assume_divisible needs a scalar parameter".into()),
        }
    }

    /// `blockIdx.x|y|z`.
    pub fn block_idx(&self, axis: Axis) -> Scalar<'_> {
        self.scalar(Expr::BlockIdx(axis))
    }

    /// `gridDim.x|y|z`.
    pub fn grid_dim(&self, axis: Axis) -> Scalar<'_> {
        self.scalar(Expr::GridDim(axis))
    }

    fn exprs<E: IntoExpr + Copy>(&self, es: &[E]) -> Vec<ExprId> {
        es.iter().map(|e| e.into_expr(self)).collect()
    }

    /// Emits an instruction; for instructions with a result, defines a new tensor.
    fn emit(&self, kind: InstKind, name: &str) -> Option<TensorId> {
        let ty = {
            let f = self.func.borrow();
            typing::result_type(&f, &kind)
        };
        let ty = match ty {
            Ok(ty) => ty,
            Err(e) => {
                self.fail(format!("{}: {e}", kind.name()));
                // Best-effort placeholder so that building can go on; finish() reports.
                kind.has_result().then(|| TensorType::Register {
                    dtype: DType::F32,
                    shape: vec![1],
                    layout: None,
                })
            }
        };
        let out = ty.map(|ty| {
            let name = self.unique_name(name);
            self.func.borrow_mut().tensors.alloc(Tensor { name, ty })
        });
        let inst = self.func.borrow_mut().insts.alloc(Inst {
            kind,
            out: out.map(Out::New),
            loc: None,
        });
        self.push_stmt(Stmt::Inst(inst));
        out
    }

    fn emit_tile(&self, kind: InstKind, name: &str) -> Tile<'_> {
        match self.emit(kind, name) {
            Some(id) => Tile { id, b: self },
            None => {
                // Only reachable through a bug in `has_result`; keep building with a dummy.
                self.fail("internal: instruction without result used as a tile".into());
                let id = self.func.borrow_mut().tensors.alloc(Tensor {
                    name: self.unique_name("invalid"),
                    ty: TensorType::Register {
                        dtype: DType::F32,
                        shape: vec![1],
                        layout: None,
                    },
                });
                Tile { id, b: self }
            }
        }
    }

    /// Emits an instruction that overwrites the existing register tensor `dst`.
    fn emit_into(&self, dst: &Tile<'_>, kind: InstKind) {
        let check = {
            let f = self.func.borrow();
            typing::result_type(&f, &kind)
                .map(|ty| (ty, f.tensors.try_get(dst.id).map(|t| t.ty.clone())))
        };
        match check {
            Ok((Some(ty), Some(existing))) => {
                let same = match (&ty, &existing) {
                    (
                        TensorType::Register {
                            dtype: d1,
                            shape: s1,
                            ..
                        },
                        TensorType::Register {
                            dtype: d2,
                            shape: s2,
                            ..
                        },
                    ) => d1 == d2 && s1 == s2,
                    _ => false,
                };
                if !same {
                    self.fail(format!(
                        "{}: result does not match the destination tensor it overwrites",
                        kind.name()
                    ));
                }
            }
            Ok(_) => self.fail(format!(
                "{}: has no result to write into a tensor",
                kind.name()
            )),
            Err(e) => self.fail(format!("{}: {e}", kind.name())),
        }
        let inst = self.func.borrow_mut().insts.alloc(Inst {
            kind,
            out: Some(Out::Existing(dst.id)),
            loc: None,
        });
        self.push_stmt(Stmt::Inst(inst));
    }
}

impl KernelBuilder {
    // ---- control flow ----

    fn open(&self) {
        self.blocks.borrow_mut().push(Vec::new());
    }

    fn close(&self) -> Block {
        let mut blocks = self.blocks.borrow_mut();
        // open() always precedes close(), and the bottom (the body) is never popped here.
        if blocks.len() > 1 {
            blocks.pop().unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    /// `for name in range(start, end, step)`: runs `body` with the loop variable.
    pub fn for_range<'b, S: IntoExpr, E: IntoExpr, T: IntoExpr>(
        &'b self,
        name: &str,
        start: S,
        end: E,
        step: T,
        unroll: Unroll,
        body: impl FnOnce(Scalar<'b>),
    ) {
        let start = start.into_expr(self);
        let end = end.into_expr(self);
        let step = step.into_expr(self);
        let var = self.var(name, VarType::Scalar(ScalarType::I32), VarKind::Loop);
        let i = self.scalar(Expr::Var(var));
        self.open();
        body(i);
        let block = self.close();
        self.push_stmt(Stmt::For {
            var,
            start,
            end,
            step,
            unroll,
            body: block,
            loc: None,
        });
    }

    /// `if cond { then }`.
    pub fn if_then<C: IntoExpr>(&self, cond: C, then_body: impl FnOnce()) {
        self.if_else(cond, then_body, || {});
    }

    /// `if cond { then } else { otherwise }`.
    pub fn if_else<C: IntoExpr>(
        &self,
        cond: C,
        then_body: impl FnOnce(),
        else_body: impl FnOnce(),
    ) {
        let cond = cond.into_expr(self);
        self.open();
        then_body();
        let then_body = self.close();
        self.open();
        else_body();
        let else_body = self.close();
        self.push_stmt(Stmt::If {
            cond,
            then_body,
            else_body,
            loc: None,
        });
    }

    /// `let name: ty = value`: a mutable scalar.
    pub fn let_var<V: IntoExpr>(&self, name: &str, ty: ScalarType, value: V) -> Scalar<'_> {
        let value = value.into_expr(self);
        let var = self.var(name, VarType::Scalar(ty), VarKind::Let);
        self.push_stmt(Stmt::Let {
            var,
            value,
            loc: None,
        });
        self.scalar(Expr::Var(var))
    }

    /// `name = value` for a variable made by [`Self::let_var`].
    pub fn assign<V: IntoExpr>(&self, var: Scalar<'_>, value: V) {
        let value = value.into_expr(self);
        let v = match self.func.borrow().exprs.try_get(var.id) {
            Some(Expr::Var(v)) => Some(*v),
            _ => None,
        };
        match v {
            Some(var) => self.push_stmt(Stmt::Assign {
                var,
                value,
                loc: None,
            }),
            None => self.fail("assign: the target is not a variable".into()),
        }
    }

    /// The dtype of a tensor.
    pub fn dtype_of(&self, t: &Tile<'_>) -> DType {
        self.func
            .borrow()
            .tensors
            .try_get(t.id)
            .map_or(DType::F32, |t| t.ty.dtype())
    }

    /// The static shape of a shared or register tensor (empty for global tensors).
    pub fn shape_of(&self, t: &Tile<'_>) -> Vec<usize> {
        self.func
            .borrow()
            .tensors
            .try_get(t.id)
            .and_then(|t| t.ty.static_shape().map(<[usize]>::to_vec))
            .unwrap_or_default()
    }

    /// Renames a tensor (made unique if taken); returns it for chaining.
    pub fn rename<'b>(&'b self, t: Tile<'b>, name: &str) -> Tile<'b> {
        let old = self
            .func
            .borrow()
            .tensors
            .try_get(t.id)
            .map(|t| t.name.clone());
        if let Some(old) = old {
            self.names.borrow_mut().remove(&old);
        }
        let name = self.unique_name(name);
        if let Some(tensor) = self.func.borrow_mut().tensors.try_get_mut(t.id) {
            tensor.name = name;
        }
        t
    }

    /// Finishes the kernel: the first error met while building, or the function.
    pub fn finish(self) -> Result<Function, BuildError> {
        let mut f = self.func.into_inner();
        let kernel = f.name.clone();
        if let Some(message) = self.error.into_inner() {
            return Err(BuildError { kernel, message });
        }
        let mut blocks = self.blocks.into_inner();
        if blocks.len() != 1 {
            return Err(BuildError {
                kernel,
                message: "unbalanced loop or branch".into(),
            });
        }
        f.body = blocks.pop().unwrap_or_default();
        if f.grid.is_empty() {
            return Err(BuildError {
                kernel,
                message: "no grid was set (call `grid`)".into(),
            });
        }
        Ok(f)
    }
}

mod insts;
mod ops;

pub use ops::IntoOperand;
