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
use std::ops;

use thiserror::Error;

use crate::dtype::DType;
use crate::expr::{Axis, BinaryOp, Expr, ExprId, ScalarType, UnaryOp};
use crate::inst::{InstKind, Operand, ReduceOp, TileBinaryOp, TileUnaryOp};
use crate::layout::shared::SharedLayout;
use crate::layout::RegisterLayout;
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

    // ---- memory ----

    /// Views a pointer as a row-major global tensor of the given extents.
    pub fn global_view<E: IntoExpr + Copy>(&self, ptr: Pointer, shape: &[E]) -> Tile<'_> {
        let dtype = self.pointer_dtype(ptr);
        let shape = self.exprs(shape);
        self.emit_tile(
            InstKind::GlobalView {
                ptr: ptr.var,
                dtype,
                shape,
                strides: None,
            },
            "g",
        )
    }

    /// Views a pointer as a global tensor with explicit strides (in elements).
    pub fn global_view_strided<E: IntoExpr + Copy, S: IntoExpr + Copy>(
        &self,
        ptr: Pointer,
        shape: &[E],
        strides: &[S],
    ) -> Tile<'_> {
        let dtype = self.pointer_dtype(ptr);
        let shape = self.exprs(shape);
        let strides = Some(self.exprs(strides));
        self.emit_tile(
            InstKind::GlobalView {
                ptr: ptr.var,
                dtype,
                shape,
                strides,
            },
            "g",
        )
    }

    fn pointer_dtype(&self, ptr: Pointer) -> DType {
        let f = self.func.borrow();
        match f.vars.try_get(ptr.var).map(|v| v.ty) {
            Some(VarType::Pointer(d)) => d,
            _ => {
                drop(f);
                self.fail("global_view of something that is not a pointer parameter".into());
                DType::F32
            }
        }
    }

    /// A global workspace shared by all blocks; `requires_clean` = zero on entry and exit.
    pub fn alloc_global<E: IntoExpr + Copy>(
        &self,
        dtype: DType,
        shape: &[E],
        requires_clean: bool,
    ) -> Tile<'_> {
        let shape = self.exprs(shape);
        self.emit_tile(
            InstKind::AllocGlobal {
                dtype,
                shape,
                requires_clean,
            },
            "ws",
        )
    }

    /// A shared tile.
    pub fn alloc_shared(&self, dtype: DType, shape: &[usize]) -> Tile<'_> {
        self.emit_tile(
            InstKind::AllocShared {
                dtype,
                shape: shape.to_vec(),
            },
            "s",
        )
    }

    /// Releases a shared tile.
    pub fn free_shared(&self, t: &Tile<'_>) {
        self.emit(InstKind::FreeShared { tensor: t.id }, "");
    }

    /// A register tile, optionally filled with a constant.
    pub fn alloc_register(&self, dtype: DType, shape: &[usize], init: Option<f64>) -> Tile<'_> {
        let init = init.map(|v| {
            if v.fract() == 0.0 && v.abs() < 9.0e15 && !dtype.is_float() {
                self.expr(Expr::Int(v as i64))
            } else {
                self.expr(Expr::Float(v))
            }
        });
        self.emit_tile(
            InstKind::AllocRegister {
                dtype,
                shape: shape.to_vec(),
                init,
            },
            "r",
        )
    }

    /// `t[i, …]`: fixes leading indices of a shared or global tensor.
    pub fn slice<E: IntoExpr + Copy>(&self, t: &Tile<'_>, indices: &[E]) -> Tile<'_> {
        let indices = self.exprs(indices);
        self.emit_tile(InstKind::Slice { src: t.id, indices }, "v")
    }

    // ---- transfer ----

    /// Loads a tile of `shape` at `offsets` (masked; out-of-bounds reads give 0).
    pub fn load_global<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        offsets: &[E],
        shape: &[usize],
    ) -> Tile<'_> {
        let offsets = self.exprs(offsets);
        self.emit_tile(
            InstKind::LoadGlobal {
                src: g.id,
                offsets,
                shape: shape.to_vec(),
                dims: None,
            },
            "x",
        )
    }

    /// Like [`Self::load_global`], spanning the global dimensions `dims`.
    pub fn load_global_dims<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        offsets: &[E],
        shape: &[usize],
        dims: &[usize],
    ) -> Tile<'_> {
        let offsets = self.exprs(offsets);
        self.emit_tile(
            InstKind::LoadGlobal {
                src: g.id,
                offsets,
                shape: shape.to_vec(),
                dims: Some(dims.to_vec()),
            },
            "x",
        )
    }

    /// Stores a register tile at `offsets` (masked; out-of-bounds writes are dropped).
    pub fn store_global<E: IntoExpr + Copy>(&self, g: &Tile<'_>, r: &Tile<'_>, offsets: &[E]) {
        let offsets = self.exprs(offsets);
        self.emit(
            InstKind::StoreGlobal {
                dst: g.id,
                src: r.id,
                offsets,
                dims: None,
            },
            "",
        );
    }

    /// Like [`Self::store_global`], spanning the global dimensions `dims`.
    pub fn store_global_dims<E: IntoExpr + Copy>(
        &self,
        g: &Tile<'_>,
        r: &Tile<'_>,
        offsets: &[E],
        dims: &[usize],
    ) {
        let offsets = self.exprs(offsets);
        self.emit(
            InstKind::StoreGlobal {
                dst: g.id,
                src: r.id,
                offsets,
                dims: Some(dims.to_vec()),
            },
            "",
        );
    }

    /// Shared → register.
    pub fn load_shared(&self, s: &Tile<'_>) -> Tile<'_> {
        self.emit_tile(InstKind::LoadShared { src: s.id }, "x")
    }

    /// Register → shared.
    pub fn store_shared(&self, s: &Tile<'_>, r: &Tile<'_>) {
        self.emit(
            InstKind::StoreShared {
                dst: s.id,
                src: r.id,
            },
            "",
        );
    }

    // ---- copy_async ----

    /// Asynchronous copy of the tile at `offsets` of `g` into the shared tile `s`.
    pub fn copy_async<E: IntoExpr + Copy>(&self, s: &Tile<'_>, g: &Tile<'_>, offsets: &[E]) {
        let offsets = self.exprs(offsets);
        self.emit(
            InstKind::CopyAsync {
                dst: s.id,
                src: g.id,
                offsets,
                dims: None,
            },
            "",
        );
    }

    /// Like [`Self::copy_async`], spanning the global dimensions `dims`.
    pub fn copy_async_dims<E: IntoExpr + Copy>(
        &self,
        s: &Tile<'_>,
        g: &Tile<'_>,
        offsets: &[E],
        dims: &[usize],
    ) {
        let offsets = self.exprs(offsets);
        self.emit(
            InstKind::CopyAsync {
                dst: s.id,
                src: g.id,
                offsets,
                dims: Some(dims.to_vec()),
            },
            "",
        );
    }

    /// Closes the current group of asynchronous copies.
    pub fn commit_group(&self) {
        self.emit(InstKind::CommitGroup, "");
    }

    /// Waits until at most `n` committed groups are pending.
    pub fn wait_group(&self, n: u32) {
        self.emit(InstKind::WaitGroup { n }, "");
    }

    /// Waits for every asynchronous copy.
    pub fn wait_all(&self) {
        self.emit(InstKind::WaitAll, "");
    }

    // ---- compute ----

    /// `a @ b (+ c)` accumulated in `acc`.
    pub fn dot(&self, a: &Tile<'_>, b: &Tile<'_>, c: Option<&Tile<'_>>, acc: DType) -> Tile<'_> {
        self.emit_tile(
            InstKind::Dot {
                a: a.id,
                b: b.id,
                c: c.map(|c| c.id),
                acc_dtype: acc,
            },
            "acc",
        )
    }

    /// `acc <- a @ b + acc` (in place).
    pub fn dot_acc(&self, a: &Tile<'_>, b: &Tile<'_>, acc: &Tile<'_>) {
        let acc_dtype = self.dtype_of(acc);
        self.emit_into(
            acc,
            InstKind::Dot {
                a: a.id,
                b: b.id,
                c: Some(acc.id),
                acc_dtype,
            },
        );
    }

    /// Elementwise conversion.
    pub fn cast(&self, x: &Tile<'_>, dtype: DType) -> Tile<'_> {
        self.emit_tile(InstKind::Cast { x: x.id, dtype }, "x")
    }

    /// Elementwise unary operation.
    pub fn unary(&self, op: TileUnaryOp, x: &Tile<'_>) -> Tile<'_> {
        self.emit_tile(InstKind::Unary { op, x: x.id }, "x")
    }

    /// Elementwise binary operation with broadcasting.
    pub fn binary(&self, op: TileBinaryOp, a: Operand, b: Operand) -> Tile<'_> {
        self.emit_tile(InstKind::Binary { op, a, b }, "x")
    }

    /// `dst <- op(a, b)` (in place).
    pub fn binary_into(&self, dst: &Tile<'_>, op: TileBinaryOp, a: Operand, b: Operand) {
        self.emit_into(dst, InstKind::Binary { op, a, b });
    }

    /// `cond ? x : y` elementwise.
    pub fn where_(&self, cond: &Tile<'_>, x: Operand, y: Operand) -> Tile<'_> {
        self.emit_tile(
            InstKind::Where {
                cond: cond.id,
                x,
                y,
            },
            "x",
        )
    }

    /// Reinterprets each thread's register bits with a new dtype and layout.
    pub fn view(&self, x: &Tile<'_>, dtype: DType, layout: &RegisterLayout) -> Tile<'_> {
        let shape = layout.shape().to_vec();
        let layout = self.func.borrow_mut().layouts.intern(layout.clone());
        self.emit_tile(
            InstKind::View {
                x: x.id,
                dtype,
                shape,
                layout,
            },
            "x",
        )
    }

    /// Reduces one dimension.
    pub fn reduce(&self, op: ReduceOp, x: &Tile<'_>, dim: usize, keepdim: bool) -> Tile<'_> {
        self.emit_tile(
            InstKind::Reduce {
                op,
                x: x.id,
                dim,
                keepdim,
            },
            "x",
        )
    }

    // ---- sync ----

    /// Block-wide barrier.
    pub fn sync(&self) {
        self.emit(InstKind::Sync, "");
    }

    /// Spins until `sem[index] == value`.
    pub fn lock_semaphore<E: IntoExpr + Copy, V: IntoExpr>(
        &self,
        sem: &Tile<'_>,
        index: &[E],
        value: V,
    ) {
        let index = self.exprs(index);
        let value = value.into_expr(self);
        self.emit(
            InstKind::LockSemaphore {
                sem: sem.id,
                index,
                value,
            },
            "",
        );
    }

    /// Stores `value` into `sem[index]`.
    pub fn release_semaphore<E: IntoExpr + Copy, V: IntoExpr>(
        &self,
        sem: &Tile<'_>,
        index: &[E],
        value: V,
    ) {
        let index = self.exprs(index);
        let value = value.into_expr(self);
        self.emit(
            InstKind::ReleaseSemaphore {
                sem: sem.id,
                index,
                value,
            },
            "",
        );
    }

    // ---- annotate ----

    /// Pins the register layout of `t`.
    pub fn annotate_layout(&self, t: &Tile<'_>, layout: &RegisterLayout) {
        let layout = self.func.borrow_mut().layouts.intern(layout.clone());
        self.emit(
            InstKind::AnnotateLayout {
                tensor: t.id,
                layout,
            },
            "",
        );
    }

    /// Pins the shared layout of `t`.
    pub fn annotate_shared_layout(&self, t: &Tile<'_>, layout: &SharedLayout) {
        let layout = self.func.borrow_mut().shared_layouts.intern(layout.clone());
        self.emit(
            InstKind::AnnotateSharedLayout {
                tensor: t.id,
                layout,
            },
            "",
        );
    }

    /// Debug print.
    pub fn print(&self, t: &Tile<'_>, label: &str) {
        self.emit(
            InstKind::Print {
                tensor: t.id,
                label: label.to_string(),
            },
            "",
        );
    }

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

// ---- scalar operators ----

impl<'b> Scalar<'b> {
    fn bin<R: IntoExpr>(self, op: BinaryOp, rhs: R) -> Scalar<'b> {
        let r = rhs.into_expr(self.b);
        self.b.scalar(Expr::Binary(op, self.id, r))
    }
    /// `cdiv(self, rhs)`.
    pub fn cdiv<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::CeilDiv, rhs)
    }
    /// `min(self, rhs)`.
    pub fn min<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Min, rhs)
    }
    /// `max(self, rhs)`.
    pub fn max<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Max, rhs)
    }
    /// `self == rhs`.
    pub fn eq<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Eq, rhs)
    }
    /// `self != rhs`.
    pub fn ne<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Ne, rhs)
    }
    /// `self < rhs`.
    pub fn lt<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Lt, rhs)
    }
    /// `self <= rhs`.
    pub fn le<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Le, rhs)
    }
    /// `self > rhs`.
    pub fn gt<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Gt, rhs)
    }
    /// `self >= rhs`.
    pub fn ge<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Ge, rhs)
    }
    /// `self && rhs`.
    pub fn and<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::And, rhs)
    }
    /// `self || rhs`.
    pub fn or<R: IntoExpr>(self, rhs: R) -> Scalar<'b> {
        self.bin(BinaryOp::Or, rhs)
    }
    /// `cast<ty>(self)`.
    pub fn cast(self, ty: ScalarType) -> Scalar<'b> {
        self.b.scalar(Expr::Cast(ty, self.id))
    }
    /// `select(self, a, b)`.
    pub fn select<A: IntoExpr, B: IntoExpr>(self, a: A, b: B) -> Scalar<'b> {
        let a = a.into_expr(self.b);
        let b = b.into_expr(self.b);
        self.b.scalar(Expr::Select(self.id, a, b))
    }
}

macro_rules! scalar_op {
    ($tr:ident, $m:ident, $op:expr) => {
        impl<'b, R: IntoExpr> ops::$tr<R> for Scalar<'b> {
            type Output = Scalar<'b>;
            fn $m(self, rhs: R) -> Scalar<'b> {
                self.bin($op, rhs)
            }
        }
    };
}
scalar_op!(Add, add, BinaryOp::Add);
scalar_op!(Sub, sub, BinaryOp::Sub);
scalar_op!(Mul, mul, BinaryOp::Mul);
scalar_op!(Div, div, BinaryOp::Div);
scalar_op!(Rem, rem, BinaryOp::Rem);
scalar_op!(BitAnd, bitand, BinaryOp::BitAnd);
scalar_op!(BitOr, bitor, BinaryOp::BitOr);
scalar_op!(BitXor, bitxor, BinaryOp::BitXor);
scalar_op!(Shl, shl, BinaryOp::Shl);
scalar_op!(Shr, shr, BinaryOp::Shr);

impl<'b> ops::Neg for Scalar<'b> {
    type Output = Scalar<'b>;
    fn neg(self) -> Scalar<'b> {
        self.b.scalar(Expr::Unary(UnaryOp::Neg, self.id))
    }
}

// ---- tile operators ----

/// The right operand of a tile operator: another tile or a scalar.
pub trait IntoOperand {
    /// The operand.
    fn into_operand(self, b: &KernelBuilder) -> Operand;
}
impl IntoOperand for &Tile<'_> {
    fn into_operand(self, _: &KernelBuilder) -> Operand {
        Operand::Tensor(self.id)
    }
}
impl IntoOperand for Tile<'_> {
    fn into_operand(self, _: &KernelBuilder) -> Operand {
        Operand::Tensor(self.id)
    }
}
impl IntoOperand for Scalar<'_> {
    fn into_operand(self, _: &KernelBuilder) -> Operand {
        Operand::Scalar(self.id)
    }
}
impl IntoOperand for f64 {
    fn into_operand(self, b: &KernelBuilder) -> Operand {
        Operand::Scalar(b.expr(Expr::Float(self)))
    }
}
impl IntoOperand for i64 {
    fn into_operand(self, b: &KernelBuilder) -> Operand {
        Operand::Scalar(b.expr(Expr::Int(self)))
    }
}

impl<'b> Tile<'b> {
    /// Renames the tensor (printed `%name`).
    pub fn named(self, name: &str) -> Tile<'b> {
        self.b.rename(self, name)
    }
    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.b.dtype_of(self)
    }
    /// The static shape (empty for global tensors).
    pub fn shape(&self) -> Vec<usize> {
        self.b.shape_of(self)
    }
    fn bin<R: IntoOperand>(&self, op: TileBinaryOp, rhs: R) -> Tile<'b> {
        let r = rhs.into_operand(self.b);
        self.b.binary(op, Operand::Tensor(self.id), r)
    }
    /// Elementwise minimum.
    pub fn min<R: IntoOperand>(&self, rhs: R) -> Tile<'b> {
        self.bin(TileBinaryOp::Min, rhs)
    }
    /// Elementwise maximum.
    pub fn max<R: IntoOperand>(&self, rhs: R) -> Tile<'b> {
        self.bin(TileBinaryOp::Max, rhs)
    }
    /// Elementwise comparison `<`.
    pub fn lt<R: IntoOperand>(&self, rhs: R) -> Tile<'b> {
        self.bin(TileBinaryOp::Lt, rhs)
    }
    /// Elementwise comparison `==`.
    pub fn eq<R: IntoOperand>(&self, rhs: R) -> Tile<'b> {
        self.bin(TileBinaryOp::Eq, rhs)
    }
    /// Elementwise conversion.
    pub fn cast(&self, dtype: DType) -> Tile<'b> {
        self.b.cast(self, dtype)
    }
    /// Elementwise unary operation.
    pub fn apply(&self, op: TileUnaryOp) -> Tile<'b> {
        self.b.unary(op, self)
    }
    /// Sum over `dim`.
    pub fn sum(&self, dim: usize, keepdim: bool) -> Tile<'b> {
        self.b.reduce(ReduceOp::Sum, self, dim, keepdim)
    }
}

macro_rules! tile_op {
    ($tr:ident, $m:ident, $op:expr) => {
        impl<'b, R: IntoOperand> ops::$tr<R> for &Tile<'b> {
            type Output = Tile<'b>;
            fn $m(self, rhs: R) -> Tile<'b> {
                self.bin($op, rhs)
            }
        }
        impl<'b, R: IntoOperand> ops::$tr<R> for Tile<'b> {
            type Output = Tile<'b>;
            fn $m(self, rhs: R) -> Tile<'b> {
                self.bin($op, rhs)
            }
        }
    };
}
tile_op!(Add, add, TileBinaryOp::Add);
tile_op!(Sub, sub, TileBinaryOp::Sub);
tile_op!(Mul, mul, TileBinaryOp::Mul);
tile_op!(Div, div, TileBinaryOp::Div);
tile_op!(Rem, rem, TileBinaryOp::Rem);
tile_op!(BitAnd, bitand, TileBinaryOp::BitAnd);
tile_op!(BitOr, bitor, TileBinaryOp::BitOr);
tile_op!(BitXor, bitxor, TileBinaryOp::BitXor);

impl<'b> ops::Neg for &Tile<'b> {
    type Output = Tile<'b>;
    fn neg(self) -> Tile<'b> {
        self.b.unary(TileUnaryOp::Neg, self)
    }
}
