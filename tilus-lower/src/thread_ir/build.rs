//! A builder for thread kernels: hash-consed expressions, unique names, nested statement
//! lists for structured control flow.

use std::collections::{HashMap, HashSet};

use tilus_ir::dtype::DType;
use tilus_ir::expr::Axis;

use super::{
    BinaryOp, Buffer, BufferId, BufferKind, Const, Expr, ExprId, LocalArray, LocalId, SharedAlloc,
    SharedId, Special, Stmt, ThreadKernel, Ty, UnaryOp, Var, VarId,
};

/// Builds a [`ThreadKernel`]. Identical expressions get the same handle; `i32` constants
/// are folded in `+ - *` and identities (`x + 0`, `x * 1`, `x * 0`) are dropped, nothing
/// more (the simplifier does the rest).
pub struct KernelBuilder {
    /// The kernel under construction (its `body` is filled by [`KernelBuilder::finish`]).
    pub kernel: ThreadKernel,
    dedup: HashMap<Expr, ExprId>,
    blocks: Vec<Vec<Stmt>>,
    names: HashSet<String>,
}

impl KernelBuilder {
    /// A builder for an empty kernel.
    pub fn new(name: impl Into<String>, num_threads: u32) -> Self {
        KernelBuilder {
            kernel: ThreadKernel::new(name, num_threads),
            dedup: HashMap::new(),
            blocks: vec![Vec::new()],
            names: HashSet::new(),
        }
    }

    /// A name not used yet, based on `base`.
    pub fn unique_name(&mut self, base: &str) -> String {
        let base = if base.is_empty() { "t" } else { base };
        let mut name = base.to_string();
        let mut i = 1;
        while self.names.contains(&name) {
            name = format!("{base}_{i}");
            i += 1;
        }
        self.names.insert(name.clone());
        name
    }

    /// Adds (or finds) an expression.
    pub fn expr(&mut self, e: Expr) -> ExprId {
        if let Some(&h) = self.dedup.get(&e) {
            return h;
        }
        let h = self.kernel.exprs.alloc(e);
        self.dedup.insert(e, h);
        h
    }

    /// The type of an expression built here (`i32` for a dangling handle).
    pub fn ty(&self, e: ExprId) -> Ty {
        self.kernel.ty(e).unwrap_or(Ty::I32)
    }

    /// The `i32` constant value of `e`, if it is one.
    pub fn as_i32(&self, e: ExprId) -> Option<i32> {
        match self.kernel.exprs.try_get(e)? {
            Expr::Const(Const::I32(v)) => Some(*v),
            _ => None,
        }
    }

    /// A constant.
    pub fn konst(&mut self, c: Const) -> ExprId {
        self.expr(Expr::Const(c))
    }

    /// An `i32` constant.
    pub fn i32(&mut self, v: i32) -> ExprId {
        self.konst(Const::I32(v))
    }

    /// A `u32` constant.
    pub fn u32(&mut self, v: u32) -> ExprId {
        self.konst(Const::U32(v))
    }

    /// An `f32` constant.
    pub fn f32(&mut self, v: f32) -> ExprId {
        self.konst(Const::f32(v))
    }

    /// A `bool` constant.
    pub fn bool(&mut self, v: bool) -> ExprId {
        self.konst(Const::Bool(v))
    }

    /// `threadIdx.x`.
    pub fn thread_idx(&mut self) -> ExprId {
        self.expr(Expr::Special(Special::ThreadIdx))
    }

    /// `blockIdx.<axis>`.
    pub fn block_idx(&mut self, axis: Axis) -> ExprId {
        self.expr(Expr::Special(Special::BlockIdx(axis)))
    }

    /// The current value of a variable.
    pub fn read_var(&mut self, v: VarId) -> ExprId {
        self.expr(Expr::Var(v))
    }

    /// The current value of a local slot.
    pub fn read_local(&mut self, array: LocalId, slot: u32) -> ExprId {
        self.expr(Expr::Local { array, slot })
    }

    /// A unary operator.
    pub fn unary(&mut self, op: UnaryOp, a: ExprId) -> ExprId {
        self.expr(Expr::Unary(op, a))
    }

    /// A binary operator, with `i32` constant folding and identities.
    pub fn binary(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId {
        match (op, self.as_i32(a), self.as_i32(b)) {
            (BinaryOp::Add, Some(x), Some(y)) => return self.i32(x.wrapping_add(y)),
            (BinaryOp::Sub, Some(x), Some(y)) => return self.i32(x.wrapping_sub(y)),
            (BinaryOp::Mul, Some(x), Some(y)) => return self.i32(x.wrapping_mul(y)),
            (BinaryOp::Add, Some(0), _) => return b,
            (BinaryOp::Add | BinaryOp::Sub, _, Some(0)) => return a,
            (BinaryOp::Mul, Some(1), _) => return b,
            (BinaryOp::Mul | BinaryOp::Div, _, Some(1)) => return a,
            (BinaryOp::Mul, Some(0), _) | (BinaryOp::Mul, _, Some(0)) => return self.i32(0),
            _ => {}
        }
        if op == BinaryOp::And && self.ty(a) == Ty::Bool {
            match (self.kernel.exprs.try_get(a), self.kernel.exprs.try_get(b)) {
                (Some(Expr::Const(Const::Bool(true))), _) => return b,
                (_, Some(Expr::Const(Const::Bool(true)))) => return a,
                _ => {}
            }
        }
        self.expr(Expr::Binary(op, a, b))
    }

    /// `a + b`.
    pub fn add(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Add, a, b)
    }

    /// `a - b`.
    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Sub, a, b)
    }

    /// `a * b`.
    pub fn mul(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Mul, a, b)
    }

    /// `a / b`.
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Div, a, b)
    }

    /// `a % b`.
    pub fn rem(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Rem, a, b)
    }

    /// `a && b` on bools (`&`).
    pub fn and(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::And, a, b)
    }

    /// `a == b`.
    pub fn eq(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Eq, a, b)
    }

    /// `a < b`.
    pub fn lt(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Lt, a, b)
    }

    /// `a <= b`.
    pub fn le(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.binary(BinaryOp::Le, a, b)
    }

    /// `select(c, a, b)`.
    pub fn select(&mut self, c: ExprId, a: ExprId, b: ExprId) -> ExprId {
        self.expr(Expr::Select(c, a, b))
    }

    /// `fma(a, b, c)`.
    pub fn fma(&mut self, a: ExprId, b: ExprId, c: ExprId) -> ExprId {
        self.expr(Expr::Fma(a, b, c))
    }

    /// A numeric conversion (nothing when `a` already has type `ty`).
    pub fn cast(&mut self, ty: Ty, a: ExprId) -> ExprId {
        if self.ty(a) == ty {
            return a;
        }
        self.expr(Expr::Cast(ty, a))
    }

    /// A bit reinterpretation (nothing when `a` already has type `ty`).
    pub fn bitcast(&mut self, ty: Ty, a: ExprId) -> ExprId {
        if self.ty(a) == ty {
            return a;
        }
        self.expr(Expr::Bitcast(ty, a))
    }

    /// Decodes a code of a coded float dtype to `f32`.
    pub fn decode(&mut self, dtype: DType, a: ExprId) -> ExprId {
        self.expr(Expr::Decode(dtype, a))
    }

    /// Encodes a number into a code of a coded float dtype.
    pub fn encode(&mut self, dtype: DType, a: ExprId) -> ExprId {
        self.expr(Expr::Encode(dtype, a))
    }

    /// A new variable.
    pub fn var(&mut self, name: &str, ty: Ty) -> VarId {
        let name = self.unique_name(name);
        self.kernel.vars.alloc(Var { name, ty })
    }

    /// A new local array.
    pub fn local(&mut self, name: &str, dtype: DType, len: u32) -> LocalId {
        let name = self.unique_name(name);
        self.kernel.locals.alloc(LocalArray { name, dtype, len })
    }

    /// A new shared allocation at a byte offset.
    pub fn shared(&mut self, name: &str, dtype: DType, offset: u32, len: u32) -> SharedId {
        let name = self.unique_name(name);
        self.kernel.shared.alloc(SharedAlloc {
            name,
            dtype,
            offset,
            len,
        })
    }

    /// A new global buffer.
    pub fn buffer(&mut self, name: &str, dtype: DType, kind: BufferKind) -> BufferId {
        let name = self.unique_name(name);
        self.kernel.buffers.alloc(Buffer { name, dtype, kind })
    }

    /// Appends a statement to the innermost open statement list.
    pub fn push(&mut self, s: Stmt) {
        if let Some(top) = self.blocks.last_mut() {
            top.push(s);
        }
    }

    /// Opens a nested statement list (a loop or branch body).
    pub fn open(&mut self) {
        self.blocks.push(Vec::new());
    }

    /// Closes the innermost nested statement list and returns it.
    pub fn close(&mut self) -> Vec<Stmt> {
        if self.blocks.len() > 1 {
            self.blocks.pop().unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    /// Emits `if cond { body }`, where `body` fills the branch.
    pub fn if_then<E>(
        &mut self,
        cond: ExprId,
        body: impl FnOnce(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        self.open();
        let r = body(self);
        let then_body = self.close();
        r?;
        if !then_body.is_empty() {
            self.push(Stmt::If {
                cond,
                then_body,
                else_body: Vec::new(),
            });
        }
        Ok(())
    }

    /// The kernel, with the statements pushed at the outermost level as its body.
    pub fn finish(mut self) -> ThreadKernel {
        let mut body = Vec::new();
        for b in self.blocks.drain(..) {
            body.extend(b);
        }
        self.kernel.body = body;
        self.kernel
    }
}
