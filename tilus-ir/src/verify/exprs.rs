//! Scalar expression typing.
//!
//! Rules (`expr.rs` gives the semantics):
//! - literals: an integer literal is `i32` unless the other operand of its operator (or its
//!   context: a `let` of type `i64`, a loop variable, a tile of dtype `u8`) gives it another
//!   integer type; a float literal is `f32` unless given another float type. Literals never
//!   change class: `x_f32 * 2` is an error (write `2.0`). A literal must fit its type's bits
//!   (either as a signed or as an unsigned number, so masks such as `0xFF` fit `i8`).
//! - arithmetic (`+ - * / %`, `min`, `max`): two numbers of one type → that type;
//!   `cdiv`: integers; comparisons: one type → `bool` (`< <= > >=` need numbers); `&& ||`:
//!   `bool`; `& | ^`: integers or bools of one type; `<< >>`: integers, the result has the
//!   left operand's type; `-a`: a number; `!a`: a bool or an integer.
//! - `select(c, a, b)`: `c` is `bool`, `a` and `b` have one type; `cast<T>(a)`: any number
//!   or bool to any number (casting to `bool` is not defined: compare with 0).
//! - `blockIdx`, `gridDim`: `i32`. Pointer parameters are not values: they are only used
//!   through `global_view`.
//!
//! Types are computed once per expression node, bottom-up; an error is attached to the node
//! that causes it and reported at the first instruction or statement that uses it, so each
//! bad expression is reported once. Variables are checked for scope at each use.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::dtype::DType;
use crate::expr::{BinaryOp, Expr, ExprId, ScalarType, UnaryOp};
use crate::program::{Function, VarKind, VarType};

use super::context::Checker;
use super::handles::expr_children;

/// The type of an expression before literals are resolved by their context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    /// Built from integer literals only; becomes the integer type its context asks for.
    IntLit,
    /// Built from float literals only; becomes the float type its context asks for.
    FloatLit,
    /// A definite type.
    Known(ScalarType),
}

impl Ty {
    fn is_int(self) -> bool {
        match self {
            Ty::IntLit => true,
            Ty::FloatLit => false,
            Ty::Known(t) => t.is_int(),
        }
    }
    fn is_float(self) -> bool {
        match self {
            Ty::IntLit => false,
            Ty::FloatLit => true,
            Ty::Known(t) => t.is_float(),
        }
    }
    fn is_numeric(self) -> bool {
        self.is_int() || self.is_float()
    }
    fn is_bool(self) -> bool {
        self == Ty::Known(ScalarType::Bool)
    }
    /// The type with literals at their defaults.
    pub(super) fn resolved(self) -> ScalarType {
        match self {
            Ty::IntLit => ScalarType::I32,
            Ty::FloatLit => ScalarType::F32,
            Ty::Known(t) => t,
        }
    }
    /// Whether a literal of this class can take type `t`.
    fn adapts_to(self, t: ScalarType) -> bool {
        match self {
            Ty::IntLit => t.is_int(),
            Ty::FloatLit => t.is_float(),
            Ty::Known(_) => false,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::IntLit => f.write_str("an integer literal"),
            Ty::FloatLit => f.write_str("a float literal"),
            Ty::Known(t) => write!(f, "{t}"),
        }
    }
}

/// The type of one expression node.
#[derive(Clone, Debug)]
struct Slot {
    /// `Err(Some(msg))`: this node is wrong; `Err(None)`: an operand is.
    ty: Result<Ty, Option<String>>,
    /// The type a literal-only node was given by its context.
    concrete: Option<ScalarType>,
    /// An integer literal that does not fit the type it was given.
    literal_error: Option<String>,
}

/// The types of every expression of a function.
pub(super) struct ExprTypes {
    slots: Vec<Slot>,
}

fn int_bits(t: ScalarType) -> Option<u8> {
    match t {
        ScalarType::Data(DType::Int { bits, .. }) => Some(bits),
        _ => None,
    }
}

/// Whether `v` fits `bits` bits as a signed or an unsigned number.
fn literal_fits(v: i64, bits: u8) -> bool {
    let v = i128::from(v);
    let bits = u32::from(bits.min(64));
    let Some(sign_bit) = bits.checked_sub(1) else {
        return false;
    };
    let lo = -(1i128 << sign_bit);
    let hi = (1i128 << bits) - 1;
    lo <= v && v <= hi
}

fn unify(sym: &str, a: Ty, b: Ty) -> Result<Ty, String> {
    match (a, b) {
        (x, y) if x == y => Ok(x),
        (Ty::IntLit, Ty::Known(t)) | (Ty::Known(t), Ty::IntLit) if t.is_int() => Ok(Ty::Known(t)),
        (Ty::FloatLit, Ty::Known(t)) | (Ty::Known(t), Ty::FloatLit) if t.is_float() => {
            Ok(Ty::Known(t))
        }
        _ => {
            let hint = if matches!(a, Ty::IntLit) || matches!(b, Ty::IntLit) {
                "write the literal as a float (e.g. `2.0`) or cast"
            } else {
                "cast one of them with `cast<T>(…)`"
            };
            Err(format!(
                "operands of `{sym}` have different types: {a} and {b}; {hint}"
            ))
        }
    }
}

fn binary(op: BinaryOp, a: Ty, b: Ty) -> Result<Ty, String> {
    let sym = op.symbol();
    if matches!(op, BinaryOp::Shl | BinaryOp::Shr) {
        if !a.is_int() || !b.is_int() {
            return Err(format!("`{sym}` needs integers, got {a} and {b}"));
        }
        return Ok(a);
    }
    let u = unify(sym, a, b)?;
    match op {
        BinaryOp::Add
        | BinaryOp::Sub
        | BinaryOp::Mul
        | BinaryOp::Div
        | BinaryOp::Rem
        | BinaryOp::Min
        | BinaryOp::Max => {
            if u.is_numeric() {
                Ok(u)
            } else {
                Err(format!("`{sym}` needs numbers, got {u}"))
            }
        }
        BinaryOp::CeilDiv => {
            if u.is_int() {
                Ok(u)
            } else {
                Err(format!("`cdiv` needs integers, got {u}"))
            }
        }
        BinaryOp::Eq | BinaryOp::Ne => Ok(Ty::Known(ScalarType::Bool)),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            if u.is_numeric() {
                Ok(Ty::Known(ScalarType::Bool))
            } else {
                Err(format!("`{sym}` compares numbers, got {u}"))
            }
        }
        BinaryOp::And | BinaryOp::Or => {
            if u.is_bool() {
                Ok(u)
            } else {
                Err(format!("`{sym}` needs bool operands, got {u}"))
            }
        }
        BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
            if u.is_int() || u.is_bool() {
                Ok(u)
            } else {
                Err(format!("`{sym}` needs integers or bools, got {u}"))
            }
        }
        BinaryOp::Shl | BinaryOp::Shr => Ok(a),
    }
}

fn valid_scalar(t: ScalarType) -> bool {
    match t {
        ScalarType::Bool => true,
        ScalarType::Data(d) => d.is_valid(),
    }
}

impl ExprTypes {
    /// Types every expression of `f`; `order` lists operands before users.
    pub(super) fn compute(f: &Function, order: &[ExprId]) -> Self {
        let blank = Slot {
            ty: Err(None),
            concrete: None,
            literal_error: None,
        };
        let mut types = ExprTypes {
            slots: vec![blank; f.exprs.len()],
        };
        for &e in order {
            let ty = types.type_node(f, &f.exprs[e]);
            types.slots[e.index()].ty = ty;
        }
        // Literal operands take the type of the operator they meet.
        for &e in order {
            let Ok(Ty::Known(pt)) = types.slots[e.index()].ty else {
                continue;
            };
            match &f.exprs[e] {
                Expr::Unary(_, a) => types.settle(f, *a, pt),
                Expr::Binary(op, a, b) => match op {
                    BinaryOp::Shl | BinaryOp::Shr => types.settle_default(f, *b),
                    BinaryOp::Eq
                    | BinaryOp::Ne
                    | BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge => {
                        if let (Some(ta), Some(tb)) = (types.ty(*a), types.ty(*b)) {
                            if let Ok(Ty::Known(u)) = unify("", ta, tb) {
                                types.settle(f, *a, u);
                                types.settle(f, *b, u);
                            }
                        }
                        types.settle_default(f, *a);
                        types.settle_default(f, *b);
                    }
                    _ => {
                        types.settle(f, *a, pt);
                        types.settle(f, *b, pt);
                    }
                },
                Expr::Select(_, a, b) => {
                    types.settle(f, *a, pt);
                    types.settle(f, *b, pt);
                }
                Expr::Cast(t, a) => {
                    types.settle(f, *a, *t);
                    types.settle_default(f, *a);
                }
                _ => {}
            }
        }
        types
    }

    fn type_node(&self, f: &Function, e: &Expr) -> Result<Ty, Option<String>> {
        let get = |c: ExprId| -> Result<Ty, Option<String>> {
            self.slots[c.index()].ty.clone().map_err(|_| None)
        };
        match e {
            Expr::Int(_) => Ok(Ty::IntLit),
            Expr::Float(_) => Ok(Ty::FloatLit),
            Expr::Bool(_) => Ok(Ty::Known(ScalarType::Bool)),
            Expr::Var(v) => {
                let var = &f.vars[*v];
                match var.ty {
                    VarType::Scalar(t) if valid_scalar(t) => Ok(Ty::Known(t)),
                    VarType::Scalar(t) => Err(Some(format!(
                        "variable `{}` has an invalid type ({t:?})",
                        var.name
                    ))),
                    VarType::Pointer(_) => Err(Some(format!(
                        "pointer `{}` is not a value: pointers are only used through \
                         `global_view`",
                        var.name
                    ))),
                }
            }
            Expr::BlockIdx(_) | Expr::GridDim(_) => Ok(Ty::Known(ScalarType::I32)),
            Expr::Unary(op, a) => {
                let a = get(*a)?;
                match op {
                    UnaryOp::Neg if a.is_numeric() => Ok(a),
                    UnaryOp::Neg => Err(Some(format!("`-` needs a number, got {a}"))),
                    UnaryOp::Not if a.is_bool() || a.is_int() => Ok(a),
                    UnaryOp::Not => Err(Some(format!("`!` needs a bool or an integer, got {a}"))),
                }
            }
            Expr::Binary(op, a, b) => {
                let divisor = *b;
                let (a, b) = (get(*a)?, get(*b)?);
                let t = binary(*op, a, b).map_err(Some)?;
                // A constant zero divisor is an error in the thread IR and undefined on the
                // GPU: refuse it here, where it was written.
                if matches!(op, BinaryOp::Div | BinaryOp::Rem | BinaryOp::CeilDiv)
                    && t.is_int()
                    && const_int(f, divisor) == Some(0)
                {
                    return Err(Some(format!("integer `{}` by zero", op.symbol())));
                }
                Ok(t)
            }
            Expr::Select(c, a, b) => {
                let (c, a, b) = (get(*c)?, get(*a)?, get(*b)?);
                if !c.is_bool() {
                    return Err(Some(format!(
                        "the condition of `select` must be bool, got {c}"
                    )));
                }
                unify("select", a, b).map_err(Some)
            }
            Expr::Cast(t, a) => {
                let a = get(*a)?;
                if !valid_scalar(*t) {
                    return Err(Some(format!("cast to an invalid type ({t:?})")));
                }
                if *t == ScalarType::Bool && !a.is_bool() {
                    return Err(Some(format!(
                        "cast from {a} to bool is not defined; compare with 0 instead"
                    )));
                }
                Ok(Ty::Known(*t))
            }
        }
    }

    /// The type of `e`, or `None` when it (or an operand) is ill-typed.
    pub(super) fn ty(&self, e: ExprId) -> Option<Ty> {
        self.slots[e.index()].ty.clone().ok()
    }

    /// The concrete type of `e` as far as known.
    pub(super) fn concrete(&self, e: ExprId) -> Option<ScalarType> {
        let s = &self.slots[e.index()];
        match s.ty {
            Ok(ty) => Some(s.concrete.unwrap_or_else(|| ty.resolved())),
            Err(_) => None,
        }
    }

    /// Gives a literal-only expression the type `target` (when of its class), recursively.
    pub(super) fn settle(&mut self, f: &Function, e: ExprId, target: ScalarType) {
        let mut stack = vec![(e, target)];
        while let Some((e, t)) = stack.pop() {
            let slot = &mut self.slots[e.index()];
            let Ok(ty) = slot.ty else { continue };
            if !ty.adapts_to(t) || slot.concrete.is_some() {
                continue;
            }
            slot.concrete = Some(t);
            match &f.exprs[e] {
                Expr::Int(v) => {
                    if let Some(bits) = int_bits(t) {
                        if !literal_fits(*v, bits) {
                            slot.literal_error =
                                Some(format!("integer literal {v} does not fit in {t}"));
                        }
                    }
                }
                Expr::Unary(_, a) => stack.push((*a, t)),
                Expr::Binary(BinaryOp::Shl | BinaryOp::Shr, a, b) => {
                    stack.push((*a, t));
                    stack.push((*b, ScalarType::I32));
                }
                Expr::Binary(_, a, b) | Expr::Select(_, a, b) => {
                    stack.push((*a, t));
                    stack.push((*b, t));
                }
                _ => {}
            }
        }
    }

    /// Gives a literal-only expression its default type (`i32` or `f32`).
    pub(super) fn settle_default(&mut self, f: &Function, e: ExprId) {
        if let Some(ty) = self.ty(e) {
            self.settle(f, e, ty.resolved());
        }
    }

    /// The error attached to this node itself, if any.
    fn own_error(&self, e: ExprId) -> Option<&str> {
        let s = &self.slots[e.index()];
        match &s.ty {
            Err(Some(m)) => Some(m),
            _ => s.literal_error.as_deref(),
        }
    }

    /// The final type of every well-typed expression.
    pub(super) fn into_map(self) -> HashMap<ExprId, ScalarType> {
        let mut map = HashMap::new();
        for (i, s) in self.slots.iter().enumerate() {
            if let (Ok(ty), Some(h)) = (&s.ty, ExprId::from_index(i)) {
                map.insert(h, s.concrete.unwrap_or_else(|| ty.resolved()));
            }
        }
        map
    }
}

/// What a use of an expression requires.
#[derive(Clone, Copy, Debug)]
pub(super) enum Need {
    /// Any integer type (literals default to `i32`).
    Int,
    /// `bool`.
    Bool,
    /// Exactly this type (literals of its class adapt).
    Type(ScalarType),
    /// A number or bool converted to this tile dtype (literals of its class adapt).
    Convert(DType),
    /// Any scalar (literals take their default types).
    Any,
}

/// Prints an expression for messages (depth-limited).
pub(super) fn fmt_expr(f: &Function, e: ExprId) -> String {
    fn go(f: &Function, e: ExprId, depth: usize, top: bool) -> String {
        if depth > 6 {
            return "…".to_string();
        }
        let sub = |c: ExprId| go(f, c, depth + 1, false);
        match &f.exprs[e] {
            Expr::Int(v) => v.to_string(),
            Expr::Float(x) => format!("{x:?}"),
            Expr::Bool(b) => b.to_string(),
            Expr::Var(v) => f.vars[*v].name.clone(),
            Expr::BlockIdx(a) => format!("blockIdx.{}", a.name()),
            Expr::GridDim(a) => format!("gridDim.{}", a.name()),
            Expr::Unary(UnaryOp::Neg, a) => format!("-{}", sub(*a)),
            Expr::Unary(UnaryOp::Not, a) => format!("!{}", sub(*a)),
            Expr::Binary(op, a, b) if op.is_call() => {
                format!("{}({}, {})", op.symbol(), sub(*a), sub(*b))
            }
            Expr::Binary(op, a, b) => {
                let s = format!("{} {} {}", sub(*a), op.symbol(), sub(*b));
                if top {
                    s
                } else {
                    format!("({s})")
                }
            }
            Expr::Select(c, a, b) => format!("select({}, {}, {})", sub(*c), sub(*a), sub(*b)),
            Expr::Cast(t, a) => format!("cast<{t}>({})", sub(*a)),
        }
    }
    go(f, e, 0, true)
}

/// The constant value of an integer expression made of literals, when it has one.
pub(super) fn const_int(f: &Function, e: ExprId) -> Option<i64> {
    fn go(f: &Function, e: ExprId, depth: usize) -> Option<i64> {
        if depth > 32 {
            return None;
        }
        let sub = |c: ExprId| go(f, c, depth + 1);
        match &f.exprs[e] {
            Expr::Int(v) => Some(*v),
            Expr::Unary(UnaryOp::Neg, a) => sub(*a)?.checked_neg(),
            Expr::Binary(op, a, b) => {
                let (a, b) = (sub(*a)?, sub(*b)?);
                match op {
                    BinaryOp::Add => a.checked_add(b),
                    BinaryOp::Sub => a.checked_sub(b),
                    BinaryOp::Mul => a.checked_mul(b),
                    BinaryOp::Div => a.checked_div(b),
                    BinaryOp::Rem => a.checked_rem(b),
                    BinaryOp::Min => Some(a.min(b)),
                    BinaryOp::Max => Some(a.max(b)),
                    _ => None,
                }
            }
            _ => None,
        }
    }
    go(f, e, 0)
}

impl Checker<'_> {
    /// Checks a use of `e` by the current instruction or statement: errors attached to its
    /// nodes (once each), variables in scope, and the type `need`. `role` names the operand
    /// in messages ("offset 1", "loop end"). Returns the type when it fits.
    pub(super) fn use_expr(&mut self, e: ExprId, need: Need, role: &str) -> Option<ScalarType> {
        let f = self.f;
        match need {
            Need::Int => self.types.settle(f, e, ScalarType::I32),
            Need::Bool | Need::Any => {}
            Need::Type(t) => self.types.settle(f, e, t),
            Need::Convert(d) => self.types.settle(f, e, ScalarType::Data(d)),
        }
        self.types.settle_default(f, e);
        self.walk_expr(e);
        let ty = self.types.ty(e)?;
        let concrete = self.types.concrete(e)?;
        let problem = match need {
            Need::Int if !ty.is_int() => Some(format!("must be an integer, got {ty}")),
            Need::Bool if !ty.is_bool() => Some(format!("must be bool, got {ty}")),
            Need::Type(t) if concrete != t => Some(format!("must be {t}, got {ty}")),
            _ => None,
        };
        match problem {
            Some(p) => {
                self.error(format!("{role} `{}` {p}", fmt_expr(f, e)));
                None
            }
            None => Some(concrete),
        }
    }

    /// Reports the errors attached to the nodes of `e` and variables out of scope.
    fn walk_expr(&mut self, e: ExprId) {
        let f = self.f;
        let mut stack = vec![e];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            if let Some(msg) = self.types.own_error(n) {
                if self.reported_exprs.insert(n) {
                    // Leaves (literals, variables) are named by their message already.
                    let composite = expr_children(&f.exprs[n])[0].is_some();
                    let msg = if composite {
                        format!("in `{}`: {msg}", fmt_expr(f, n))
                    } else {
                        msg.to_string()
                    };
                    self.error(msg);
                }
            }
            match &f.exprs[n] {
                Expr::Var(v) if !self.var_visible(*v) => {
                    if self.reported_vars.insert(*v) {
                        let var = &f.vars[*v];
                        let msg = match var.kind {
                            VarKind::Loop => format!(
                                "loop variable `{}` is used outside the `for` loop that binds it",
                                var.name
                            ),
                            VarKind::Let => format!(
                                "variable `{}` is used before its `let` or outside the block \
                                 that declares it",
                                var.name
                            ),
                            VarKind::Param => format!(
                                "`{}` is marked as a parameter but is not in the kernel's \
                                 parameter list",
                                var.name
                            ),
                        };
                        self.error(msg);
                    }
                }
                other => stack.extend(expr_children(other).into_iter().flatten()),
            }
        }
    }

    /// Checks that `e` is computed from parameters and literals only (grid extents, global
    /// workspace sizes: values that must not differ between blocks). `what` names the use.
    pub(super) fn params_only(&mut self, e: ExprId, what: &str) {
        let f = self.f;
        let mut stack = vec![e];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            let bad = match &f.exprs[n] {
                Expr::BlockIdx(a) => Some(format!(
                    "`blockIdx.{}`, which differs between blocks",
                    a.name()
                )),
                Expr::GridDim(a) => Some(format!("`gridDim.{}`, which the grid defines", a.name())),
                Expr::Var(v) => match f.vars[*v].kind {
                    VarKind::Param => None,
                    VarKind::Loop => Some(format!("loop variable `{}`", f.vars[*v].name)),
                    VarKind::Let => Some(format!("variable `{}`", f.vars[*v].name)),
                },
                other => {
                    stack.extend(expr_children(other).into_iter().flatten());
                    None
                }
            };
            if let Some(bad) = bad {
                self.error(format!(
                    "{what} `{}` must be computed from parameters only, but it uses {bad}",
                    fmt_expr(f, e)
                ));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_fit_signed_or_unsigned() {
        assert!(literal_fits(255, 8) && literal_fits(-128, 8));
        assert!(!literal_fits(256, 8) && !literal_fits(-129, 8));
        assert!(literal_fits(1, 1) && literal_fits(-1, 1) && !literal_fits(2, 1));
        assert!(literal_fits(i64::MIN, 64) && literal_fits(i64::MAX, 64));
        assert!(!literal_fits(0, 0));
    }

    #[test]
    fn literals_adapt_within_their_class() {
        let i64_ = Ty::Known(ScalarType::I64);
        let f32_ = Ty::Known(ScalarType::F32);
        assert_eq!(unify("+", Ty::IntLit, i64_), Ok(i64_));
        assert_eq!(unify("+", f32_, Ty::FloatLit), Ok(f32_));
        assert!(unify("+", Ty::IntLit, f32_).is_err());
        assert!(unify("+", Ty::Known(ScalarType::I32), i64_).is_err());
        assert_eq!(
            binary(BinaryOp::Lt, Ty::IntLit, i64_),
            Ok(Ty::Known(ScalarType::Bool))
        );
        assert_eq!(
            binary(BinaryOp::Shl, i64_, Ty::Known(ScalarType::I32)),
            Ok(i64_)
        );
        assert!(binary(BinaryOp::CeilDiv, f32_, f32_).is_err());
        assert!(binary(BinaryOp::And, i64_, i64_).is_err());
    }
}
