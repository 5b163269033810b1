//! Operators on [`Scalar`] and [`Tile`] handles: `+ - * / %` and friends build scalar
//! expressions or elementwise instructions.

use std::ops;

use super::{IntoExpr, KernelBuilder, Scalar, Tile};
use crate::dtype::DType;
use crate::expr::{BinaryOp, Expr, ScalarType, UnaryOp};
use crate::inst::{Operand, ReduceOp, TileBinaryOp, TileUnaryOp};

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
