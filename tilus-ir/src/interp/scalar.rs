//! Scalar expression evaluation.
//!
//! Types follow `expr.rs`: an integer literal takes the integer type of the other operand of
//! its binary operator (default `i32`), a float literal the float type of the other operand
//! (default `f32`); `blockIdx`/`gridDim` are `i32`; variables have their declared type. When
//! two typed operands differ (the verifier normally rejects this) the interpreter promotes:
//! float beats integer, the wider type wins, between equal widths unsigned wins and `f16` vs
//! `bf16` gives `f32`.
//!
//! Integers compute in `i64` (unsigned 64-bit values in `u64`) and wrap to their type after
//! every operation; `/` and `%` truncate toward zero; `cdiv` is the exact ceiling of the
//! quotient (`(a + b - 1) / b` for positive operands); division or remainder by zero is an
//! error. Shift amounts outside `[0, bits)` give 0 (`<<`, `>>` of unsigned) or the sign fill
//! (`>>` of signed). Floats compute in `f32` and round to their type after every operation.
//! `select(c, a, b)` evaluates only the branch taken.

use crate::dtype::DType;
use crate::expr::{BinaryOp, Expr, ExprId, ScalarType, UnaryOp};
use crate::program::{Function, VarType};

use super::error::{fail, InterpError, InterpErrorKind};

/// A scalar value. Integers hold the value of their type (for `u64`, the bits).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val {
    /// An integer.
    Int(i64),
    /// A float (exactly a value of its float type).
    Float(f64),
    /// A truth value.
    Bool(bool),
}

/// The type an expression has on its own: a type, or a literal that adapts to its context.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Natural {
    Typed(ScalarType),
    IntLit,
    FloatLit,
}

/// The natural type of every expression of a function, computed once per launch.
pub(crate) struct ExprTypes {
    natural: Vec<Natural>,
}

const MAX_DEPTH: usize = 1000;

fn promote(a: ScalarType, b: ScalarType) -> ScalarType {
    use ScalarType::{Bool, Data};
    match (a, b) {
        _ if a == b => a,
        (Bool, x) | (x, Bool) => x,
        (Data(x), Data(y)) => match (x.is_float(), y.is_float()) {
            (true, false) => a,
            (false, true) => b,
            (true, true) => match x.bits().cmp(&y.bits()) {
                std::cmp::Ordering::Greater => a,
                std::cmp::Ordering::Less => b,
                std::cmp::Ordering::Equal => ScalarType::F32,
            },
            (false, false) => match x.bits().cmp(&y.bits()) {
                std::cmp::Ordering::Greater => a,
                std::cmp::Ordering::Less => b,
                std::cmp::Ordering::Equal => {
                    if x.is_signed() {
                        b
                    } else {
                        a
                    }
                }
            },
        },
    }
}

fn unify(a: Natural, b: Natural) -> Natural {
    use Natural::*;
    match (a, b) {
        (Typed(x), Typed(y)) => Typed(promote(x, y)),
        (Typed(x), FloatLit) | (FloatLit, Typed(x)) if !x.is_float() => {
            Typed(promote(x, ScalarType::F32))
        }
        (Typed(x), _) | (_, Typed(x)) => Typed(x),
        (FloatLit, _) | (_, FloatLit) => FloatLit,
        (IntLit, IntLit) => IntLit,
    }
}

impl ExprTypes {
    /// Types every expression of `f`.
    pub fn new(f: &Function) -> Self {
        let mut memo: Vec<Option<Natural>> = vec![None; f.exprs.len()];
        for (h, _) in f.exprs.iter() {
            natural_of(f, h, &mut memo, 0);
        }
        ExprTypes {
            natural: memo
                .into_iter()
                .map(|n| n.unwrap_or(Natural::IntLit))
                .collect(),
        }
    }

    fn natural(&self, e: ExprId) -> Natural {
        self.natural
            .get(e.index())
            .copied()
            .unwrap_or(Natural::IntLit)
    }

    /// The type of `e` where the context expects `ctx` (literals adapt to it).
    pub fn type_in(&self, e: ExprId, ctx: Option<ScalarType>) -> ScalarType {
        resolve(self.natural(e), ctx)
    }
}

fn resolve(n: Natural, ctx: Option<ScalarType>) -> ScalarType {
    match n {
        Natural::Typed(t) => t,
        Natural::IntLit => match ctx {
            Some(t @ ScalarType::Data(_)) => t,
            _ => ScalarType::I32,
        },
        Natural::FloatLit => match ctx {
            Some(t) if t.is_float() => t,
            _ => ScalarType::F32,
        },
    }
}

fn natural_of(f: &Function, e: ExprId, memo: &mut [Option<Natural>], depth: usize) -> Natural {
    if let Some(Some(n)) = memo.get(e.index()) {
        return *n;
    }
    if depth > MAX_DEPTH {
        return Natural::IntLit;
    }
    let Some(expr) = f.exprs.try_get(e) else {
        return Natural::IntLit;
    };
    let n = match expr {
        Expr::Int(_) => Natural::IntLit,
        Expr::Float(_) => Natural::FloatLit,
        Expr::Bool(_) => Natural::Typed(ScalarType::Bool),
        Expr::Var(v) => match f.vars.try_get(*v).map(|v| v.ty) {
            Some(VarType::Scalar(t)) => Natural::Typed(t),
            _ => Natural::IntLit,
        },
        Expr::BlockIdx(_) | Expr::GridDim(_) => Natural::Typed(ScalarType::I32),
        Expr::Unary(_, a) => natural_of(f, *a, memo, depth + 1),
        Expr::Binary(op, a, b) => {
            let na = natural_of(f, *a, memo, depth + 1);
            let nb = natural_of(f, *b, memo, depth + 1);
            if op.is_predicate() {
                Natural::Typed(ScalarType::Bool)
            } else {
                unify(na, nb)
            }
        }
        Expr::Select(c, a, b) => {
            natural_of(f, *c, memo, depth + 1);
            let na = natural_of(f, *a, memo, depth + 1);
            let nb = natural_of(f, *b, memo, depth + 1);
            unify(na, nb)
        }
        Expr::Cast(t, a) => {
            natural_of(f, *a, memo, depth + 1);
            Natural::Typed(*t)
        }
    };
    if let Some(slot) = memo.get_mut(e.index()) {
        *slot = Some(n);
    }
    n
}

/// What an expression may read: variables, `blockIdx` (absent for grid expressions) and
/// `gridDim`.
pub(crate) struct Env<'a> {
    /// Variable values by variable index (`None` = not set yet).
    pub vars: &'a [Option<Val>],
    /// `blockIdx`, inside a block.
    pub block: Option<[u32; 3]>,
    /// `gridDim` (None while the grid itself is evaluated).
    pub grid: Option<[u32; 3]>,
}

/// An evaluator for the expressions of one function.
pub(crate) struct Eval<'a> {
    /// The function.
    pub f: &'a Function,
    /// Its expression types.
    pub types: &'a ExprTypes,
    /// The environment.
    pub env: Env<'a>,
}

/// `2^k` as an `f64` for `k` in 0..=1000.
fn pow2(k: u32) -> f64 {
    f64::from_bits((1023 + u64::from(k.min(1000))) << 52)
}

/// An integer as an `f64`, exact below 2^53 and rounded to odd above, so that a second
/// rounding to any format of at most 51 significant bits is correctly rounded.
pub(crate) fn int_to_f64_odd(v: i128) -> f64 {
    let m = v.unsigned_abs();
    if m < (1u128 << 53) {
        return v as f64;
    }
    let shift = (128 - m.leading_zeros()) - 53;
    let mut top = m >> shift;
    if m & ((1u128 << shift) - 1) != 0 {
        top |= 1;
    }
    let r = top as f64 * pow2(shift);
    if v < 0 {
        -r
    } else {
        r
    }
}

/// The `i128` value of an integer `Val` of type `t` (unsigned 64-bit bits read as `u64`).
fn int_value(v: i64, t: ScalarType) -> i128 {
    match t {
        ScalarType::Data(d) if !d.is_signed() && d.bits() == 64 => i128::from(v as u64),
        _ => i128::from(v),
    }
}

/// Rounds `x` to the float dtype `d`.
fn round_to(d: DType, x: f64) -> f64 {
    d.decode_f64(d.encode_f64(x))
}

/// Wraps `x` to the integer dtype `d` and returns the value (bits for `u64`).
fn wrap_to(d: DType, x: i64) -> i64 {
    d.int_value(d.wrap_int(x))
}

/// Converts `v` of type `from` to type `to` with `cast` semantics (spec/dtypes.md).
pub(crate) fn convert(v: Val, from: ScalarType, to: ScalarType) -> Val {
    match to {
        ScalarType::Bool => Val::Bool(match v {
            Val::Int(x) => x != 0,
            Val::Float(x) => x != 0.0,
            Val::Bool(b) => b,
        }),
        ScalarType::Data(d) if d.is_int() => Val::Int(match v {
            Val::Int(x) => wrap_to(d, x),
            Val::Float(x) => d.int_value(d.encode_f64(x)),
            Val::Bool(b) => i64::from(b),
        }),
        ScalarType::Data(d) => Val::Float(match v {
            Val::Int(x) => round_to(d, int_to_f64_odd(int_value(x, from))),
            Val::Float(x) => round_to(d, x),
            Val::Bool(b) => f64::from(u8::from(b)),
        }),
    }
}

/// The code of `v` (of type `from`) in dtype `d`: integers wrap (or round, into floats),
/// floats round (or convert toward zero with saturation, into integers), bools are 0/1.
pub(crate) fn to_code(v: Val, from: ScalarType, d: DType) -> u64 {
    match v {
        Val::Int(x) if d.is_int() => d.wrap_int(x),
        Val::Int(x) => d.encode_f64(int_to_f64_odd(int_value(x, from))),
        Val::Float(x) => d.encode_f64(x),
        Val::Bool(b) if d.is_int() => u64::from(b),
        Val::Bool(b) => d.encode_f64(f64::from(u8::from(b))),
    }
}

/// `min` with NaN ignored (the other operand wins) and `-0 < +0`.
pub(crate) fn fmin(a: f32, b: f32) -> f32 {
    if a.is_nan() || b < a || (b == a && b.is_sign_negative()) {
        b
    } else {
        a
    }
}

/// `max` with NaN ignored (the other operand wins) and `-0 < +0`.
pub(crate) fn fmax(a: f32, b: f32) -> f32 {
    if a.is_nan() || b > a || (b == a && b.is_sign_positive()) {
        b
    } else {
        a
    }
}

/// An integer binary operation (not a comparison) of dtype `d` on values `a`, `b` of that
/// dtype; the result is wrapped to `d`. `op_name` is used in the division-by-zero message.
pub(crate) fn int_binary(op: IntOp, a: i64, b: i64, d: DType) -> Result<i64, InterpError> {
    let unsigned = !d.is_signed();
    let bits = u64::from(d.bits());
    let (ua, ub) = (a as u64, b as u64);
    let zero = |what: &str| {
        fail::<i64>(
            InterpErrorKind::DivisionByZero,
            format!("integer {what} by zero ({a} {} 0)", op.symbol()),
        )
    };
    let out_of_range = (!unsigned && b < 0) || ub >= bits;
    let r = match op {
        IntOp::Add => a.wrapping_add(b),
        IntOp::Sub => a.wrapping_sub(b),
        IntOp::Mul => a.wrapping_mul(b),
        IntOp::Div | IntOp::Rem | IntOp::CeilDiv if b == 0 => {
            return zero(if op == IntOp::Rem {
                "remainder"
            } else {
                "division"
            })
        }
        IntOp::Div if unsigned => (ua / ub) as i64,
        IntOp::Div => a.wrapping_div(b),
        IntOp::Rem if unsigned => (ua % ub) as i64,
        IntOp::Rem => a.wrapping_rem(b),
        IntOp::CeilDiv if unsigned => ua.div_ceil(ub) as i64,
        IntOp::CeilDiv => {
            let q = a.wrapping_div(b);
            let r = a.wrapping_rem(b);
            if r != 0 && ((r < 0) == (b < 0)) {
                q.wrapping_add(1)
            } else {
                q
            }
        }
        IntOp::Min if unsigned => ua.min(ub) as i64,
        IntOp::Min => a.min(b),
        IntOp::Max if unsigned => ua.max(ub) as i64,
        IntOp::Max => a.max(b),
        IntOp::And => a & b,
        IntOp::Or => a | b,
        IntOp::Xor => a ^ b,
        IntOp::Shl if out_of_range => 0,
        IntOp::Shl => ((ua) << ub) as i64,
        IntOp::Shr if out_of_range => {
            if !unsigned && a < 0 {
                -1
            } else {
                0
            }
        }
        IntOp::Shr if unsigned => (ua >> ub) as i64,
        IntOp::Shr => a >> ub,
    };
    Ok(wrap_to(d, r))
}

/// Integer compare of values of dtype `d`.
pub(crate) fn int_cmp(a: i64, b: i64, d: DType) -> std::cmp::Ordering {
    if d.is_signed() {
        a.cmp(&b)
    } else {
        (a as u64).cmp(&(b as u64))
    }
}

/// The integer operations shared by scalars and tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    CeilDiv,
    Min,
    Max,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

impl IntOp {
    fn symbol(self) -> &'static str {
        match self {
            IntOp::Add => "+",
            IntOp::Sub => "-",
            IntOp::Mul => "*",
            IntOp::Div => "/",
            IntOp::Rem => "%",
            IntOp::CeilDiv => "cdiv",
            IntOp::Min => "min",
            IntOp::Max => "max",
            IntOp::And => "&",
            IntOp::Or => "|",
            IntOp::Xor => "^",
            IntOp::Shl => "<<",
            IntOp::Shr => ">>",
        }
    }
}

fn arith_int_op(op: BinaryOp) -> Option<IntOp> {
    Some(match op {
        BinaryOp::Add => IntOp::Add,
        BinaryOp::Sub => IntOp::Sub,
        BinaryOp::Mul => IntOp::Mul,
        BinaryOp::Div => IntOp::Div,
        BinaryOp::Rem => IntOp::Rem,
        BinaryOp::CeilDiv => IntOp::CeilDiv,
        BinaryOp::Min => IntOp::Min,
        BinaryOp::Max => IntOp::Max,
        BinaryOp::BitAnd => IntOp::And,
        BinaryOp::BitOr => IntOp::Or,
        BinaryOp::BitXor => IntOp::Xor,
        BinaryOp::Shl => IntOp::Shl,
        BinaryOp::Shr => IntOp::Shr,
        _ => return None,
    })
}

impl Eval<'_> {
    /// Evaluates `e` in its natural type; returns the value and the type.
    pub fn eval(&self, e: ExprId) -> Result<(Val, ScalarType), InterpError> {
        let t = self.types.type_in(e, None);
        Ok((self.eval_in(e, t, 0)?, t))
    }

    /// Evaluates `e` and converts it to `to`.
    pub fn eval_as(&self, e: ExprId, to: ScalarType) -> Result<Val, InterpError> {
        let t = self.types.type_in(e, Some(to));
        let v = self.eval_in(e, t, 0)?;
        Ok(convert(v, t, to))
    }

    /// Evaluates an integer expression (an index, extent, offset, bound).
    pub fn index(&self, e: ExprId) -> Result<i64, InterpError> {
        match self.eval(e)? {
            (Val::Int(v), t) => {
                let v = int_value(v, t);
                i64::try_from(v).or_else(|_| {
                    fail(
                        InterpErrorKind::InvalidValue,
                        format!("integer {v} does not fit in i64"),
                    )
                })
            }
            (Val::Bool(b), _) => Ok(i64::from(b)),
            (Val::Float(x), _) => fail(
                InterpErrorKind::InvalidValue,
                format!("expected an integer, got the float {x}"),
            ),
        }
    }

    /// Evaluates a condition.
    pub fn cond(&self, e: ExprId) -> Result<bool, InterpError> {
        let (v, t) = self.eval(e)?;
        Ok(matches!(convert(v, t, ScalarType::Bool), Val::Bool(true)))
    }

    /// Evaluates `e` as a value of type `t` (the type it has in its context), converting the
    /// sub-expressions as needed.
    fn eval_in(&self, e: ExprId, t: ScalarType, depth: usize) -> Result<Val, InterpError> {
        if depth > MAX_DEPTH {
            return fail(
                InterpErrorKind::InvalidProgram,
                format!("scalar expression nested more than {MAX_DEPTH} deep"),
            );
        }
        let Some(expr) = self.f.exprs.try_get(e) else {
            return fail(
                InterpErrorKind::InvalidProgram,
                format!("expression handle {e:?} does not exist"),
            );
        };
        // Evaluates a sub-expression in context `ctx` and converts it to `ctx`.
        let sub = |x: ExprId, ctx: ScalarType| -> Result<Val, InterpError> {
            let tx = self.types.type_in(x, Some(ctx));
            let v = self.eval_in(x, tx, depth + 1)?;
            Ok(convert(v, tx, ctx))
        };
        let v = match expr {
            Expr::Int(v) => convert(Val::Int(*v), ScalarType::I64, t),
            Expr::Float(x) => convert(Val::Float(*x), ScalarType::F32, t),
            Expr::Bool(b) => Val::Bool(*b),
            Expr::Var(var) => {
                let name = || {
                    self.f
                        .vars
                        .try_get(*var)
                        .map_or_else(|| format!("{var:?}"), |v| v.name.clone())
                };
                match self.env.vars.get(var.index()).copied().flatten() {
                    Some(v) => v,
                    None => {
                        return fail(
                            InterpErrorKind::InvalidProgram,
                            format!("variable `{}` is read before it has a value", name()),
                        )
                    }
                }
            }
            Expr::BlockIdx(axis) => match self.env.block {
                Some(b) => Val::Int(i64::from(b[axis.index()])),
                None => {
                    return fail(
                        InterpErrorKind::InvalidProgram,
                        "blockIdx used outside a block (in the grid)",
                    )
                }
            },
            Expr::GridDim(axis) => match self.env.grid {
                Some(g) => Val::Int(i64::from(g[axis.index()])),
                None => {
                    return fail(
                        InterpErrorKind::InvalidProgram,
                        "gridDim used in the grid itself",
                    )
                }
            },
            Expr::Unary(op, a) => {
                let x = sub(*a, t)?;
                match (op, x, t) {
                    (UnaryOp::Neg, Val::Int(v), ScalarType::Data(d)) => {
                        Val::Int(wrap_to(d, v.wrapping_neg()))
                    }
                    (UnaryOp::Neg, Val::Float(v), _) => Val::Float(-v),
                    (UnaryOp::Not, Val::Bool(b), _) => Val::Bool(!b),
                    (UnaryOp::Not, Val::Int(v), ScalarType::Data(d)) => Val::Int(wrap_to(d, !v)),
                    _ => {
                        return fail(
                            InterpErrorKind::InvalidProgram,
                            format!("unary {op:?} does not apply to a value of type {t}"),
                        )
                    }
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, *a, *b, t, &sub)?,
            Expr::Select(c, a, b) => {
                let c = sub(*c, ScalarType::Bool)?;
                let pick = if c == Val::Bool(true) { *a } else { *b };
                sub(pick, t)?
            }
            Expr::Cast(to, a) => {
                let (ta, va) = {
                    let ta = self.types.type_in(*a, None);
                    (ta, self.eval_in(*a, ta, depth + 1)?)
                };
                convert(convert(va, ta, *to), *to, t)
            }
        };
        Ok(v)
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: ExprId,
        b: ExprId,
        t: ScalarType,
        sub: &dyn Fn(ExprId, ScalarType) -> Result<Val, InterpError>,
    ) -> Result<Val, InterpError> {
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let x = sub(a, ScalarType::Bool)? == Val::Bool(true);
            let y = sub(b, ScalarType::Bool)? == Val::Bool(true);
            return Ok(Val::Bool(if op == BinaryOp::And { x && y } else { x || y }));
        }
        if op.is_predicate() {
            // Operands in their common type.
            let na = self.types.natural(a);
            let nb = self.types.natural(b);
            let ot = resolve(unify(na, nb), None);
            let x = sub(a, ot)?;
            let y = sub(b, ot)?;
            let ord = match (x, y, ot) {
                (Val::Int(x), Val::Int(y), ScalarType::Data(d)) => Some(int_cmp(x, y, d)),
                (Val::Float(x), Val::Float(y), _) => x.partial_cmp(&y),
                (Val::Bool(x), Val::Bool(y), _) => Some(x.cmp(&y)),
                _ => None,
            };
            use std::cmp::Ordering::*;
            let r = match op {
                BinaryOp::Eq => ord == Some(Equal),
                BinaryOp::Ne => ord != Some(Equal),
                BinaryOp::Lt => ord == Some(Less),
                BinaryOp::Le => matches!(ord, Some(Less | Equal)),
                BinaryOp::Gt => ord == Some(Greater),
                BinaryOp::Ge => matches!(ord, Some(Greater | Equal)),
                _ => false,
            };
            return Ok(Val::Bool(r));
        }
        let x = sub(a, t)?;
        let y = sub(b, t)?;
        let bad = || {
            fail(
                InterpErrorKind::InvalidProgram,
                format!("`{}` does not apply to values of type {t}", op.symbol()),
            )
        };
        match (x, y, t) {
            (Val::Int(x), Val::Int(y), ScalarType::Data(d)) => match arith_int_op(op) {
                Some(iop) => int_binary(iop, x, y, d).map(Val::Int),
                None => bad(),
            },
            (Val::Float(x), Val::Float(y), ScalarType::Data(d)) => {
                let (x, y) = (x as f32, y as f32);
                let r = match op {
                    BinaryOp::Add => x + y,
                    BinaryOp::Sub => x - y,
                    BinaryOp::Mul => x * y,
                    BinaryOp::Div => x / y,
                    BinaryOp::Rem => x % y,
                    BinaryOp::CeilDiv => (x / y).ceil(),
                    BinaryOp::Min => fmin(x, y),
                    BinaryOp::Max => fmax(x, y),
                    _ => return bad(),
                };
                Ok(Val::Float(round_to(d, f64::from(r))))
            }
            (Val::Bool(x), Val::Bool(y), _) => match op {
                BinaryOp::BitAnd | BinaryOp::Min => Ok(Val::Bool(x & y)),
                BinaryOp::BitOr | BinaryOp::Max => Ok(Val::Bool(x | y)),
                BinaryOp::BitXor => Ok(Val::Bool(x ^ y)),
                _ => bad(),
            },
            _ => bad(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_rounding_is_exact_below_2_53() {
        assert_eq!(int_to_f64_odd(12345), 12345.0);
        assert_eq!(int_to_f64_odd(-(1 << 53)), -(2f64.powi(53)));
        // 2^60 + 1 rounds to odd: the sticky bit keeps it above 2^60.
        let x = int_to_f64_odd((1i128 << 60) + 1);
        assert!(x > 2f64.powi(60));
    }

    #[test]
    fn int_ops_wrap_and_truncate() {
        let i4 = DType::Int {
            bits: 4,
            signed: true,
        };
        assert_eq!(int_binary(IntOp::Add, 7, 2, i4).ok(), Some(-7));
        assert_eq!(int_binary(IntOp::Div, -7, 2, i4).ok(), Some(-3));
        assert_eq!(int_binary(IntOp::Rem, -7, 2, i4).ok(), Some(-1));
        assert_eq!(int_binary(IntOp::CeilDiv, 7, 2, i4).ok(), Some(4));
        assert_eq!(int_binary(IntOp::CeilDiv, -7, 2, i4).ok(), Some(-3));
        assert_eq!(int_binary(IntOp::Shr, -8, 9, i4).ok(), Some(-1));
        assert_eq!(int_binary(IntOp::Shl, 1, 4, i4).ok(), Some(0));
        assert!(int_binary(IntOp::Div, 1, 0, i4).is_err());
        let u64t = DType::Int {
            bits: 64,
            signed: false,
        };
        assert_eq!(int_binary(IntOp::Div, -2, 2, u64t).ok(), Some(i64::MAX));
    }

    #[test]
    fn min_max_order_zeros_and_ignore_nan() {
        assert!(fmin(0.0, -0.0).is_sign_negative());
        assert!(fmin(-0.0, 0.0).is_sign_negative());
        assert!(fmax(-0.0, 0.0).is_sign_positive());
        assert!(fmax(0.0, -0.0).is_sign_positive());
        assert_eq!(fmin(f32::NAN, 1.0), 1.0);
        assert_eq!(fmax(2.0, f32::NAN), 2.0);
    }
}
