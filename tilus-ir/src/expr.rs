//! Scalar expressions: integer and float arithmetic over parameters, loop variables, scalar
//! variables and `blockIdx`.
//!
//! Scalar expressions compute addresses, bounds, loop ranges, grid sizes and the scalar
//! operands of tile instructions. They live in the function's expression arena and refer to
//! each other by [`ExprId`]. Integer arithmetic wraps in the expression's type; division and
//! remainder truncate toward zero (as in Rust and C); `cdiv(a, b)` is `(a + b - 1) / b` for
//! positive operands; division by zero is an error of the interpreter, not undefined.

use std::fmt;

use crate::arena::Handle;
use crate::dtype::DType;
use crate::program::VarId;

/// Handle of a scalar expression.
pub type ExprId = Handle<Expr>;

/// The type of a scalar value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// A truth value (comparisons, logic, conditions).
    Bool,
    /// A number of a data type: `i32`, `i64`, `u32`, `f32`, `f16`, …
    Data(DType),
}

impl ScalarType {
    /// `i32`, the type of integer literals and of `blockIdx`.
    pub const I32: ScalarType = ScalarType::Data(DType::Int {
        bits: 32,
        signed: true,
    });
    /// `i64`.
    pub const I64: ScalarType = ScalarType::Data(DType::Int {
        bits: 64,
        signed: true,
    });
    /// `f32`, the type of float literals.
    pub const F32: ScalarType = ScalarType::Data(DType::F32);

    /// Whether this is an integer type.
    pub fn is_int(self) -> bool {
        matches!(self, ScalarType::Data(d) if d.is_int())
    }

    /// Whether this is a float type.
    pub fn is_float(self) -> bool {
        matches!(self, ScalarType::Data(d) if d.is_float())
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScalarType::Bool => f.write_str("bool"),
            ScalarType::Data(d) => write!(f, "{d}"),
        }
    }
}

/// A grid axis: `x`, `y` or `z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Axis {
    /// The first (fastest-varying) grid dimension.
    X,
    /// The second grid dimension.
    Y,
    /// The third grid dimension.
    Z,
}

impl Axis {
    /// The axis of grid dimension `i` (0, 1 or 2).
    pub fn from_index(i: usize) -> Option<Axis> {
        [Axis::X, Axis::Y, Axis::Z].get(i).copied()
    }

    /// 0, 1 or 2.
    pub fn index(self) -> usize {
        self as usize
    }

    /// `x`, `y` or `z`.
    pub fn name(self) -> &'static str {
        ["x", "y", "z"][self as usize]
    }
}

/// Unary scalar operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-a`
    Neg,
    /// `!a` (logical not on bool, bitwise not on integers)
    Not,
}

/// Binary scalar operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`, truncating for integers
    Div,
    /// `a % b`, truncating remainder for integers
    Rem,
    /// `cdiv(a, b)`: ceiling division of integers
    CeilDiv,
    /// `min(a, b)`
    Min,
    /// `max(a, b)`
    Max,
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
    /// `a && b`
    And,
    /// `a || b`
    Or,
    /// `a & b`
    BitAnd,
    /// `a | b`
    BitOr,
    /// `a ^ b`
    BitXor,
    /// `a << b`
    Shl,
    /// `a >> b` (arithmetic for signed, logical for unsigned)
    Shr,
}

impl BinaryOp {
    /// Every operator, for generators and tests.
    pub const ALL: [BinaryOp; 21] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::CeilDiv,
        BinaryOp::Min,
        BinaryOp::Max,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::And,
        BinaryOp::Or,
        BinaryOp::BitAnd,
        BinaryOp::BitOr,
        BinaryOp::BitXor,
        BinaryOp::Shl,
        BinaryOp::Shr,
    ];

    /// Whether the result is `bool` (comparisons and logic).
    pub fn is_predicate(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::And
                | BinaryOp::Or
        )
    }

    /// Whether the operator is written as a call (`min(a, b)`) rather than infix.
    pub fn is_call(self) -> bool {
        matches!(self, BinaryOp::Min | BinaryOp::Max | BinaryOp::CeilDiv)
    }

    /// The spelling in the text format: `+`, `<=`, `min`, `cdiv`, …
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::CeilDiv => "cdiv",
            BinaryOp::Min => "min",
            BinaryOp::Max => "max",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
        }
    }
}

/// A scalar expression node.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// An integer literal. Its type is `i32` unless the other operand of a binary operator
    /// gives it another integer type.
    Int(i64),
    /// A float literal of type `f32` (or the float type of the other operand).
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A parameter, loop variable or scalar `let` variable.
    Var(VarId),
    /// `blockIdx.x|y|z`: this block's position in the grid (type `i32`).
    BlockIdx(Axis),
    /// `gridDim.x|y|z`: the number of blocks along an axis (type `i32`).
    GridDim(Axis),
    /// A unary operator.
    Unary(UnaryOp, ExprId),
    /// A binary operator.
    Binary(BinaryOp, ExprId, ExprId),
    /// `select(c, a, b)`: `a` when `c` holds, else `b`.
    Select(ExprId, ExprId, ExprId),
    /// `cast<T>(a)`: numeric conversion per spec/dtypes.md.
    Cast(ScalarType, ExprId),
}
