//! Tile scalar expressions → thread expressions, and value conversions between dtypes.
//!
//! Typing follows the tile interpreter (`tilus_ir::interp`, scalar evaluation): an integer
//! literal takes the integer type its context gives (default `i32`), a float literal the
//! float type (default `f32`); mismatched operands promote (float beats integer, the wider
//! type wins, at equal width unsigned wins, `f16` with `bf16` gives `f32`). Values are held
//! in the carrier type of their scalar type ([`Ty::carrier`]); integer results narrower than
//! 32 bits are wrapped explicitly (shift pairs or masks), floats other than `f32` are
//! computed in `f32` and rounded back after every operation.

use tilus_ir::dtype::DType;
use tilus_ir::expr::{BinaryOp as TB, Expr as TE, ExprId as TExprId, ScalarType, UnaryOp as TU};
use tilus_ir::program::{Function, VarKind, VarType};

use super::{Lower, VarKindMap, R};
use crate::grid::GridExpr;
use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, KernelBuilder, Special, Ty, UnaryOp};

/// The register type of a scalar type.
pub(crate) fn carrier(t: ScalarType) -> Ty {
    match t {
        ScalarType::Bool => Ty::Bool,
        ScalarType::Data(d) => Ty::carrier(d),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Natural {
    Typed(ScalarType),
    IntLit,
    FloatLit,
}

fn promote(a: ScalarType, b: ScalarType) -> ScalarType {
    use std::cmp::Ordering;
    match (a, b) {
        _ if a == b => a,
        (ScalarType::Bool, x) | (x, ScalarType::Bool) => x,
        (ScalarType::Data(x), ScalarType::Data(y)) => match (x.is_float(), y.is_float()) {
            (true, false) => a,
            (false, true) => b,
            (true, true) => match x.bits().cmp(&y.bits()) {
                Ordering::Greater => a,
                Ordering::Less => b,
                Ordering::Equal => ScalarType::F32,
            },
            (false, false) => match x.bits().cmp(&y.bits()) {
                Ordering::Greater => a,
                Ordering::Less => b,
                Ordering::Equal if x.is_signed() => b,
                Ordering::Equal => a,
            },
        },
    }
}

fn unify(a: Natural, b: Natural) -> Natural {
    match (a, b) {
        (Natural::Typed(x), Natural::Typed(y)) => Natural::Typed(promote(x, y)),
        (Natural::Typed(x), Natural::FloatLit) | (Natural::FloatLit, Natural::Typed(x))
            if !x.is_float() =>
        {
            Natural::Typed(promote(x, ScalarType::F32))
        }
        (Natural::Typed(x), _) | (_, Natural::Typed(x)) => Natural::Typed(x),
        (Natural::FloatLit, _) | (_, Natural::FloatLit) => Natural::FloatLit,
        (Natural::IntLit, Natural::IntLit) => Natural::IntLit,
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

/// The natural type of every scalar expression of a function.
pub(crate) struct Types {
    natural: Vec<Natural>,
}

impl Types {
    pub(crate) fn new(f: &Function) -> Self {
        // Operands precede their users in the arena, so one pass in order suffices.
        let mut natural: Vec<Natural> = Vec::with_capacity(f.exprs.len());
        let get = |natural: &[Natural], e: TExprId| {
            natural.get(e.index()).copied().unwrap_or(Natural::IntLit)
        };
        for (_, e) in f.exprs.iter() {
            let n = match e {
                TE::Int(_) => Natural::IntLit,
                TE::Float(_) => Natural::FloatLit,
                TE::Bool(_) => Natural::Typed(ScalarType::Bool),
                TE::Var(v) => match f.vars.try_get(*v).map(|v| v.ty) {
                    Some(VarType::Scalar(t)) => Natural::Typed(t),
                    _ => Natural::IntLit,
                },
                TE::BlockIdx(_) | TE::GridDim(_) => Natural::Typed(ScalarType::I32),
                TE::Unary(_, a) => get(&natural, *a),
                TE::Binary(op, a, b) => {
                    if op.is_predicate() {
                        Natural::Typed(ScalarType::Bool)
                    } else {
                        unify(get(&natural, *a), get(&natural, *b))
                    }
                }
                TE::Select(_, a, b) => unify(get(&natural, *a), get(&natural, *b)),
                TE::Cast(t, _) => Natural::Typed(*t),
            };
            natural.push(n);
        }
        Types { natural }
    }

    fn natural(&self, e: TExprId) -> Natural {
        self.natural
            .get(e.index())
            .copied()
            .unwrap_or(Natural::IntLit)
    }

    /// The type of `e` where the context expects `ctx`.
    pub(crate) fn type_in(&self, e: TExprId, ctx: Option<ScalarType>) -> ScalarType {
        resolve(self.natural(e), ctx)
    }
}

/// The carrier constant of value `code` of dtype `d` (or a bool).
fn code_const(b: &mut KernelBuilder, t: ScalarType, code: u64) -> ExprId {
    match t {
        ScalarType::Bool => b.bool(code != 0),
        ScalarType::Data(d) => b.konst(Const::of_code(d, code)),
    }
}

/// `x` as an `f32` (exact for every float dtype; integers round).
pub(crate) fn as_f32(b: &mut KernelBuilder, x: ExprId, d: DType) -> ExprId {
    if Ty::is_coded(d) {
        b.decode(d, x)
    } else {
        b.cast(Ty::F32, x)
    }
}

/// The carrier value of dtype `d` nearest to the `f32` value `x`.
pub(crate) fn from_f32(b: &mut KernelBuilder, x: ExprId, d: DType) -> ExprId {
    if Ty::is_coded(d) {
        b.encode(d, x)
    } else {
        b.cast(Ty::carrier(d), x)
    }
}

/// Wraps an integer carrier value to the range of `d` (sub-32-bit integers only).
pub(crate) fn wrap(b: &mut KernelBuilder, x: ExprId, d: DType) -> ExprId {
    let bits = d.bits();
    if !d.is_int() || bits >= 32 {
        return x;
    }
    if d.is_signed() {
        let sh = b.i32(32 - bits as i32);
        let l = b.binary(BinaryOp::Shl, x, sh);
        b.binary(BinaryOp::Shr, l, sh)
    } else {
        let m = b.u32(((1u64 << bits) - 1) as u32);
        b.binary(BinaryOp::And, x, m)
    }
}

/// Converts the carrier value `x` of type `from` to type `to` (`cast` semantics of
/// spec/dtypes.md). With `wrap_ints`, narrow integer results are wrapped explicitly (when
/// they go to a slot or memory, the store wraps them anyway).
pub(crate) fn convert(
    b: &mut KernelBuilder,
    x: ExprId,
    from: ScalarType,
    to: ScalarType,
    wrap_ints: bool,
) -> ExprId {
    if from == to {
        return x;
    }
    match (from, to) {
        (_, ScalarType::Bool) => {
            let (v, zero) = match from {
                ScalarType::Data(d) if d.is_float() => {
                    let f = as_f32(b, x, d);
                    (f, b.f32(0.0))
                }
                _ => {
                    let z = b.konst(Const::zero(b.ty(x)));
                    (x, z)
                }
            };
            b.binary(BinaryOp::Ne, v, zero)
        }
        (ScalarType::Bool, ScalarType::Data(d)) => {
            if d.is_int() {
                let v = b.cast(Ty::carrier(d), x);
                if wrap_ints {
                    wrap(b, v, d)
                } else {
                    v
                }
            } else {
                let f = b.cast(Ty::F32, x);
                from_f32(b, f, d)
            }
        }
        (ScalarType::Data(s), ScalarType::Data(d)) => match (s.is_float(), d.is_float()) {
            (false, false) => {
                let v = b.cast(Ty::carrier(d), x);
                if wrap_ints {
                    wrap(b, v, d)
                } else {
                    v
                }
            }
            (false, true) => {
                // One rounding from the exact integer.
                if Ty::is_coded(d) {
                    b.encode(d, x)
                } else {
                    b.cast(Ty::carrier(d), x)
                }
            }
            (true, true) => {
                let f = as_f32(b, x, s);
                from_f32(b, f, d)
            }
            (true, false) => {
                let f = as_f32(b, x, s);
                let bits = d.bits();
                if bits >= 32 {
                    b.cast(Ty::carrier(d), f)
                } else {
                    // Toward zero, saturating to the dtype's range, NaN → 0.
                    let i = b.cast(Ty::I32, f);
                    let lo = b.i32(d.min_value() as i32);
                    let hi = b.i32(d.max_value() as i32);
                    let c = b.binary(BinaryOp::Max, i, lo);
                    let c = b.binary(BinaryOp::Min, c, hi);
                    b.cast(Ty::carrier(d), c)
                }
            }
        },
    }
}

/// The constant code of an integer literal in type `t`.
fn int_literal_code(v: i64, t: ScalarType) -> u64 {
    match t {
        ScalarType::Bool => u64::from(v != 0),
        ScalarType::Data(d) if d.is_int() => d.wrap_int(v),
        ScalarType::Data(d) => {
            d.encode_f64(crate::thread_ir::interp::int_to_f64_odd(i128::from(v)))
        }
    }
}

impl Lower<'_> {
    /// Lowers tile expression `e` where the context expects `ctx`, converted to `ctx`.
    pub(crate) fn scalar_as(&mut self, e: TExprId, ctx: ScalarType) -> R<ExprId> {
        let t = self.scalar_types.type_in(e, Some(ctx));
        let v = self.scalar_in(e, t, 0)?;
        Ok(convert(&mut self.b, v, t, ctx, true))
    }

    /// Lowers tile expression `e` in its natural type.
    pub(crate) fn scalar_natural(&mut self, e: TExprId) -> R<(ExprId, ScalarType)> {
        let t = self.scalar_types.type_in(e, None);
        Ok((self.scalar_in(e, t, 0)?, t))
    }

    /// Lowers `e` as a value of type `t` (the type it has in its context).
    fn scalar_in(&mut self, e: TExprId, t: ScalarType, depth: usize) -> R<ExprId> {
        if depth > 1000 {
            return self.invalid("scalar expression nested more than 1000 deep");
        }
        let Some(expr) = self.f.exprs.try_get(e).cloned() else {
            return self.invalid(format!("expression {e:?} dangles"));
        };
        let sub = |cx: &mut Self, x: TExprId, ctx: ScalarType| -> R<ExprId> {
            let tx = cx.scalar_types.type_in(x, Some(ctx));
            let v = cx.scalar_in(x, tx, depth + 1)?;
            Ok(convert(&mut cx.b, v, tx, ctx, true))
        };
        Ok(match expr {
            TE::Int(v) => code_const(&mut self.b, t, int_literal_code(v, t)),
            TE::Float(x) => match t {
                ScalarType::Bool => self.b.bool(x != 0.0),
                ScalarType::Data(d) => code_const(&mut self.b, t, d.encode_f64(x)),
            },
            TE::Bool(v) => {
                let c = self.b.bool(v);
                convert(&mut self.b, c, ScalarType::Bool, t, true)
            }
            TE::Var(v) => match self.vars.get(&v).copied() {
                Some(VarKindMap::Param(i)) => self.b.expr(Expr::Param(i)),
                Some(VarKindMap::Var(tv)) => self.b.read_var(tv),
                Some(VarKindMap::Value(e)) => e,
                Some(VarKindMap::Pointer(_)) => {
                    return self.invalid("a pointer parameter used as a scalar")
                }
                None => {
                    let kind = self.f.vars.try_get(v).map(|v| v.kind);
                    let what = match kind {
                        Some(VarKind::Loop) => "a loop variable outside its loop",
                        Some(VarKind::Let) => "a variable before its let",
                        _ => "an unknown variable",
                    };
                    return self.invalid(format!("scalar expression reads {what}"));
                }
            },
            TE::BlockIdx(a) => self.b.expr(Expr::Special(Special::BlockIdx(a))),
            TE::GridDim(a) => self.b.expr(Expr::Special(Special::GridDim(a))),
            TE::Unary(op, a) => {
                let x = sub(self, a, t)?;
                match (op, t) {
                    (TU::Neg, ScalarType::Data(d)) if d.is_int() => {
                        let n = self.b.unary(UnaryOp::Neg, x);
                        wrap(&mut self.b, n, d)
                    }
                    (TU::Neg, ScalarType::Data(d)) => {
                        let f = as_f32(&mut self.b, x, d);
                        let n = self.b.unary(UnaryOp::Neg, f);
                        from_f32(&mut self.b, n, d)
                    }
                    (TU::Not, ScalarType::Bool) => self.b.unary(UnaryOp::Not, x),
                    (TU::Not, ScalarType::Data(d)) if d.is_int() => {
                        let n = self.b.unary(UnaryOp::Not, x);
                        wrap(&mut self.b, n, d)
                    }
                    _ => return self.invalid(format!("unary {op:?} on a value of type {t}")),
                }
            }
            TE::Binary(op, a, b) => self.scalar_binary(op, a, b, t, depth)?,
            TE::Select(c, a, b) => {
                let c = sub(self, c, ScalarType::Bool)?;
                let x = sub(self, a, t)?;
                let y = sub(self, b, t)?;
                self.b.select(c, x, y)
            }
            TE::Cast(to, a) => {
                let ta = self.scalar_types.type_in(a, None);
                let va = self.scalar_in(a, ta, depth + 1)?;
                let v = convert(&mut self.b, va, ta, to, true);
                convert(&mut self.b, v, to, t, true)
            }
        })
    }

    fn scalar_binary(
        &mut self,
        op: TB,
        a: TExprId,
        b: TExprId,
        t: ScalarType,
        depth: usize,
    ) -> R<ExprId> {
        let sub = |cx: &mut Self, x: TExprId, ctx: ScalarType| -> R<ExprId> {
            let tx = cx.scalar_types.type_in(x, Some(ctx));
            let v = cx.scalar_in(x, tx, depth + 1)?;
            Ok(convert(&mut cx.b, v, tx, ctx, true))
        };
        if matches!(op, TB::And | TB::Or) {
            let x = sub(self, a, ScalarType::Bool)?;
            let y = sub(self, b, ScalarType::Bool)?;
            let o = if op == TB::And {
                BinaryOp::And
            } else {
                BinaryOp::Or
            };
            return Ok(self.b.binary(o, x, y));
        }
        if op.is_predicate() {
            let ot = resolve(
                unify(self.scalar_types.natural(a), self.scalar_types.natural(b)),
                None,
            );
            let mut x = sub(self, a, ot)?;
            let mut y = sub(self, b, ot)?;
            if let ScalarType::Data(d) = ot {
                if Ty::is_coded(d) {
                    x = self.b.decode(d, x);
                    y = self.b.decode(d, y);
                }
            }
            let o = match op {
                TB::Eq => BinaryOp::Eq,
                TB::Ne => BinaryOp::Ne,
                TB::Lt => BinaryOp::Lt,
                TB::Le => BinaryOp::Le,
                TB::Gt => BinaryOp::Gt,
                _ => BinaryOp::Ge,
            };
            return Ok(self.b.binary(o, x, y));
        }
        let x = sub(self, a, t)?;
        let y = sub(self, b, t)?;
        let d = match t {
            ScalarType::Data(d) => d,
            ScalarType::Bool => {
                let o = match op {
                    TB::BitAnd | TB::Min => BinaryOp::And,
                    TB::BitOr | TB::Max => BinaryOp::Or,
                    TB::BitXor => BinaryOp::Xor,
                    _ => return self.invalid(format!("`{}` on bools", op.symbol())),
                };
                return Ok(self.b.binary(o, x, y));
            }
        };
        if d.is_float() {
            let fx = as_f32(&mut self.b, x, d);
            let fy = as_f32(&mut self.b, y, d);
            let r = match op {
                TB::CeilDiv => {
                    let q = self.b.binary(BinaryOp::Div, fx, fy);
                    self.b.unary(UnaryOp::Ceil, q)
                }
                _ => match arith(op) {
                    Some(o) if !matches!(o, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor) => {
                        self.b.binary(o, fx, fy)
                    }
                    _ => return self.invalid(format!("`{}` on floats", op.symbol())),
                },
            };
            return Ok(from_f32(&mut self.b, r, d));
        }
        let r = match op {
            TB::CeilDiv => ceil_div(&mut self.b, x, y),
            _ => match arith(op) {
                Some(o) => self.b.binary(o, x, y),
                None => return self.invalid(format!("`{}` on integers", op.symbol())),
            },
        };
        Ok(wrap(&mut self.b, r, d))
    }
}

fn arith(op: TB) -> Option<BinaryOp> {
    Some(match op {
        TB::Add => BinaryOp::Add,
        TB::Sub => BinaryOp::Sub,
        TB::Mul => BinaryOp::Mul,
        TB::Div => BinaryOp::Div,
        TB::Rem => BinaryOp::Rem,
        TB::Min => BinaryOp::Min,
        TB::Max => BinaryOp::Max,
        TB::BitAnd => BinaryOp::And,
        TB::BitOr => BinaryOp::Or,
        TB::BitXor => BinaryOp::Xor,
        TB::Shl => BinaryOp::Shl,
        TB::Shr => BinaryOp::Shr,
        _ => return None,
    })
}

/// The exact ceiling of `x / y` for integers of one carrier type.
fn ceil_div(b: &mut KernelBuilder, x: ExprId, y: ExprId) -> ExprId {
    let ty = b.ty(x);
    let q = b.binary(BinaryOp::Div, x, y);
    let r = b.binary(BinaryOp::Rem, x, y);
    let zero = b.konst(Const::zero(ty));
    let one = b.konst(match ty {
        Ty::U32 => Const::U32(1),
        Ty::I64 => Const::I64(1),
        Ty::U64 => Const::U64(1),
        _ => Const::I32(1),
    });
    let nonzero = b.binary(BinaryOp::Ne, r, zero);
    let up = if ty.is_signed_int() {
        let rn = b.binary(BinaryOp::Lt, r, zero);
        let yn = b.binary(BinaryOp::Lt, y, zero);
        let same = b.binary(BinaryOp::Eq, rn, yn);
        b.and(nonzero, same)
    } else {
        nonzero
    };
    let inc = b.select(up, one, zero);
    b.add(q, inc)
}

/// A grid extent or workspace size as a host expression over the parameters.
pub(crate) fn grid_expr(f: &Function, e: TExprId) -> Result<GridExpr, String> {
    let Some(expr) = f.exprs.try_get(e) else {
        return Err(format!("expression {e:?} dangles"));
    };
    let bin = |a: TExprId, b: TExprId| -> Result<(Box<GridExpr>, Box<GridExpr>), String> {
        Ok((Box::new(grid_expr(f, a)?), Box::new(grid_expr(f, b)?)))
    };
    Ok(match expr {
        TE::Int(v) => GridExpr::Const(*v),
        TE::Var(v) => match f.params.iter().position(|p| p == v) {
            Some(i)
                if matches!(
                    f.vars.try_get(*v).map(|v| v.ty),
                    Some(VarType::Scalar(t)) if t.is_int()
                ) =>
            {
                GridExpr::Param(i)
            }
            _ => {
                let name = f.vars.try_get(*v).map_or("?", |v| v.name.as_str());
                return Err(format!("`{name}` is not an integer scalar parameter"));
            }
        },
        TE::Cast(t, a) if t.is_int() => grid_expr(f, *a)?,
        TE::Binary(op, a, b) => {
            let (x, y) = bin(*a, *b)?;
            match op {
                TB::Add => GridExpr::Add(x, y),
                TB::Sub => GridExpr::Sub(x, y),
                TB::Mul => GridExpr::Mul(x, y),
                TB::Div => GridExpr::Div(x, y),
                TB::Rem => GridExpr::Rem(x, y),
                TB::CeilDiv => GridExpr::CeilDiv(x, y),
                TB::Min => GridExpr::Min(x, y),
                TB::Max => GridExpr::Max(x, y),
                other => return Err(format!("`{}` is not allowed", other.symbol())),
            }
        }
        other => return Err(format!("{other:?} is not allowed")),
    })
}
