//! Expression-building helpers for legalization: `u32` bit operations with constant
//! folding, so that the generated bit manipulation stays small and readable.
//!
//! Folding follows the thread IR's semantics exactly (wrapping arithmetic, shifts by a
//! constant in `0..32`); nothing here changes what an expression means.

use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, KernelBuilder, Ty};

/// Bit-operation helpers on a [`KernelBuilder`].
pub(crate) trait Ops {
    /// The constant behind `e`, if it is one.
    fn konst_of(&self, e: ExprId) -> Option<Const>;
    /// A binary operator with `u32`/`i32` constant folding and identities.
    fn op(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId;
    /// `select(c, a, b)`, folded when `c` is constant or `a == b`.
    fn sel(&mut self, c: ExprId, a: ExprId, b: ExprId) -> ExprId;
    /// A bit reinterpretation; `bitcast<T>(bitcast<U>(x: T))` folds to `x`.
    fn bits_as(&mut self, ty: Ty, e: ExprId) -> ExprId;
    /// `a & b`.
    fn and_(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.op(BinaryOp::And, a, b)
    }
    /// `a | b`.
    fn or_(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.op(BinaryOp::Or, a, b)
    }
    /// `a & k` for a `u32` constant `k`.
    fn and_k(&mut self, a: ExprId, k: u32) -> ExprId;
    /// `a | k` for a `u32` constant `k`.
    fn or_k(&mut self, a: ExprId, k: u32) -> ExprId;
    /// `a << k` for a constant `k < 32`.
    fn shl_k(&mut self, a: ExprId, k: u32) -> ExprId;
    /// `a >> k` for a constant `k < 32`.
    fn shr_k(&mut self, a: ExprId, k: u32) -> ExprId;
    /// `a + k` for a `u32` constant `k`.
    fn add_k(&mut self, a: ExprId, k: u32) -> ExprId;
    /// `a == k` for a `u32` constant `k`.
    fn eq_k(&mut self, a: ExprId, k: u32) -> ExprId;
    /// `a > k` for a `u32` constant `k`.
    fn gt_k(&mut self, a: ExprId, k: u32) -> ExprId;
    /// `a op k` for a `u32` constant `k`.
    fn op_k(&mut self, op: BinaryOp, a: ExprId, k: u32) -> ExprId;
}

fn fold_u32(op: BinaryOp, x: u32, y: u32) -> Option<Const> {
    Some(match op {
        BinaryOp::Add => Const::U32(x.wrapping_add(y)),
        BinaryOp::Sub => Const::U32(x.wrapping_sub(y)),
        BinaryOp::Mul => Const::U32(x.wrapping_mul(y)),
        BinaryOp::And => Const::U32(x & y),
        BinaryOp::Or => Const::U32(x | y),
        BinaryOp::Xor => Const::U32(x ^ y),
        BinaryOp::Min => Const::U32(x.min(y)),
        BinaryOp::Max => Const::U32(x.max(y)),
        BinaryOp::Shl if y < 32 => Const::U32(x << y),
        BinaryOp::Shr if y < 32 => Const::U32(x >> y),
        BinaryOp::Eq => Const::Bool(x == y),
        BinaryOp::Ne => Const::Bool(x != y),
        BinaryOp::Lt => Const::Bool(x < y),
        BinaryOp::Le => Const::Bool(x <= y),
        BinaryOp::Gt => Const::Bool(x > y),
        BinaryOp::Ge => Const::Bool(x >= y),
        _ => return None,
    })
}

fn fold_i32(op: BinaryOp, x: i32, y: i32) -> Option<Const> {
    Some(match op {
        BinaryOp::Add => Const::I32(x.wrapping_add(y)),
        BinaryOp::Sub => Const::I32(x.wrapping_sub(y)),
        BinaryOp::Mul => Const::I32(x.wrapping_mul(y)),
        BinaryOp::And => Const::I32(x & y),
        BinaryOp::Or => Const::I32(x | y),
        BinaryOp::Xor => Const::I32(x ^ y),
        BinaryOp::Min => Const::I32(x.min(y)),
        BinaryOp::Max => Const::I32(x.max(y)),
        BinaryOp::Eq => Const::Bool(x == y),
        BinaryOp::Ne => Const::Bool(x != y),
        BinaryOp::Lt => Const::Bool(x < y),
        BinaryOp::Le => Const::Bool(x <= y),
        BinaryOp::Gt => Const::Bool(x > y),
        BinaryOp::Ge => Const::Bool(x >= y),
        _ => return None,
    })
}

impl Ops for KernelBuilder {
    fn konst_of(&self, e: ExprId) -> Option<Const> {
        match self.kernel.exprs.try_get(e)? {
            Expr::Const(c) => Some(*c),
            _ => None,
        }
    }

    fn op(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId {
        let folded = match (self.konst_of(a), self.konst_of(b)) {
            (Some(Const::U32(x)), Some(Const::U32(y))) => fold_u32(op, x, y),
            (Some(Const::I32(x)), Some(Const::I32(y)))
                if !matches!(op, BinaryOp::Shl | BinaryOp::Shr) =>
            {
                fold_i32(op, x, y)
            }
            _ => None,
        };
        if let Some(c) = folded {
            return self.konst(c);
        }
        let rhs = self.konst_of(b);
        let lhs = self.konst_of(a);
        match (op, lhs, rhs) {
            (BinaryOp::And, _, Some(Const::U32(u32::MAX))) => return a,
            (BinaryOp::And, Some(Const::U32(u32::MAX)), _) => return b,
            (BinaryOp::And, _, Some(Const::U32(0))) | (BinaryOp::And, Some(Const::U32(0)), _) => {
                return self.u32(0)
            }
            (BinaryOp::Or | BinaryOp::Xor | BinaryOp::Add, _, Some(Const::U32(0))) => return a,
            (BinaryOp::Or | BinaryOp::Xor | BinaryOp::Add, Some(Const::U32(0)), _) => return b,
            (BinaryOp::Sub, _, Some(Const::U32(0))) => return a,
            (BinaryOp::Shl | BinaryOp::Shr, _, Some(Const::U32(0))) => return a,
            (BinaryOp::Shl | BinaryOp::Shr, Some(Const::U32(0)), _) => return a,
            (BinaryOp::Mul, _, Some(Const::U32(1))) => return a,
            (BinaryOp::Mul, Some(Const::U32(1)), _) => return b,
            _ => {}
        }
        self.binary(op, a, b)
    }

    fn sel(&mut self, c: ExprId, a: ExprId, b: ExprId) -> ExprId {
        if a == b {
            return a;
        }
        match self.konst_of(c) {
            Some(Const::Bool(true)) => a,
            Some(Const::Bool(false)) => b,
            _ => self.select(c, a, b),
        }
    }

    fn bits_as(&mut self, ty: Ty, e: ExprId) -> ExprId {
        if self.ty(e) == ty {
            return e;
        }
        // bitcast<T>(bitcast<U>(x: T)) = x; an i32 ↔ u32 cast is a reinterpretation too.
        if let Some(Expr::Bitcast(_, inner)) = self.kernel.exprs.try_get(e).copied() {
            if self.ty(inner) == ty {
                return inner;
            }
        }
        if let Some(Expr::Cast(Ty::I32 | Ty::U32, inner)) = self.kernel.exprs.try_get(e).copied() {
            if self.ty(inner) == ty && matches!(ty, Ty::I32 | Ty::U32) {
                return inner;
            }
        }
        if let Some(Const::U32(v)) = self.konst_of(e) {
            match ty {
                Ty::F32 => return self.konst(Const::F32(v)),
                Ty::I32 => return self.i32(v as i32),
                _ => {}
            }
        }
        self.bitcast(ty, e)
    }

    fn and_k(&mut self, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k);
        self.op(BinaryOp::And, a, k)
    }

    fn or_k(&mut self, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k);
        self.op(BinaryOp::Or, a, k)
    }

    fn shl_k(&mut self, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k & 31);
        self.op(BinaryOp::Shl, a, k)
    }

    fn shr_k(&mut self, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k & 31);
        self.op(BinaryOp::Shr, a, k)
    }

    fn add_k(&mut self, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k);
        self.op(BinaryOp::Add, a, k)
    }

    fn eq_k(&mut self, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k);
        self.op(BinaryOp::Eq, a, k)
    }

    fn gt_k(&mut self, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k);
        self.op(BinaryOp::Gt, a, k)
    }

    fn op_k(&mut self, op: BinaryOp, a: ExprId, k: u32) -> ExprId {
        let k = self.u32(k);
        self.op(op, a, k)
    }
}

/// `(1 << n) - 1` for `n` in `0..=32`.
pub(crate) fn low_mask(n: u32) -> u32 {
    if n >= 32 {
        u32::MAX
    } else {
        (1u32 << n) - 1
    }
}
