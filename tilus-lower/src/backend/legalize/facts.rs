//! What legalization can prove about integer expressions of the input kernel: the largest
//! power of two an index is a multiple of (to recognize word-aligned accesses), and an
//! interval containing a value (to keep exact `int → f32` conversions and in-range shifts
//! cheap). Both are conservative: "unknown" is always a correct answer.

use std::collections::HashMap;

use tilus_ir::dtype::DType;

use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, Special, ThreadKernel, Ty, UnaryOp};

/// Cached facts about the expressions of one kernel.
pub(crate) struct Facts<'k> {
    k: &'k ThreadKernel,
    align: HashMap<ExprId, u32>,
    range: HashMap<ExprId, Option<(i64, i64)>>,
}

/// Alignment of zero: a multiple of every power of two we care about.
const ALIGN_MAX: u32 = 31;

impl<'k> Facts<'k> {
    /// Facts about `k`'s expressions.
    pub fn new(k: &'k ThreadKernel) -> Self {
        Facts {
            k,
            align: HashMap::new(),
            range: HashMap::new(),
        }
    }

    /// `t` such that the integer value of `e` is provably a multiple of `2^t` (at most 31).
    /// Wrapping arithmetic keeps multiples of powers of two, so this holds in `i32`.
    pub fn align_log2(&mut self, e: ExprId) -> u32 {
        if let Some(&a) = self.align.get(&e) {
            return a;
        }
        let a = match self.k.exprs.try_get(e).copied() {
            Some(Expr::Const(Const::I32(v))) => tz(i64::from(v)),
            Some(Expr::Const(Const::U32(v))) => tz(i64::from(v)),
            Some(Expr::Binary(op, x, y)) => match op {
                BinaryOp::Add | BinaryOp::Sub => self.align_log2(x).min(self.align_log2(y)),
                BinaryOp::Mul => (self.align_log2(x) + self.align_log2(y)).min(ALIGN_MAX),
                BinaryOp::And => self.align_log2(x).max(self.align_log2(y)),
                BinaryOp::Shl => match self.const_int(y) {
                    Some(s) if (0..32).contains(&s) => {
                        (self.align_log2(x) + s as u32).min(ALIGN_MAX)
                    }
                    _ => 0,
                },
                _ => 0,
            },
            Some(Expr::Select(_, x, y)) => self.align_log2(x).min(self.align_log2(y)),
            Some(Expr::Param(i)) => self
                .k
                .assumptions
                .iter()
                .filter(|&&(p, _)| p == i)
                .map(|&(_, d)| tz(i64::from(d)))
                .max()
                .unwrap_or(0),
            Some(Expr::Cast(Ty::I32 | Ty::U32, x)) if self.k.ty(x).is_some_and(Ty::is_int) => {
                self.align_log2(x)
            }
            _ => 0,
        };
        self.align.insert(e, a);
        a
    }

    /// The value of an integer constant expression.
    pub fn const_int(&self, e: ExprId) -> Option<i64> {
        match self.k.exprs.try_get(e)? {
            Expr::Const(Const::I32(v)) => Some(i64::from(*v)),
            Expr::Const(Const::U32(v)) => Some(i64::from(*v)),
            _ => None,
        }
    }

    /// An interval `[lo, hi]` containing every value of the `i32`/`u32` expression `e`.
    pub fn range(&mut self, e: ExprId) -> Option<(i64, i64)> {
        if let Some(&r) = self.range.get(&e) {
            return r;
        }
        let r = self.compute_range(e);
        self.range.insert(e, r);
        r
    }

    fn compute_range(&mut self, e: ExprId) -> Option<(i64, i64)> {
        let ty = self.k.ty(e)?;
        let full = match ty {
            Ty::I32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            Ty::U32 => (0, i64::from(u32::MAX)),
            _ => return None,
        };
        let fits = |r: (i64, i64)| (r.0 >= full.0 && r.1 <= full.1).then_some(r);
        let r = match self.k.exprs.try_get(e).copied()? {
            Expr::Const(_) => {
                let v = self.const_int(e)?;
                (v, v)
            }
            Expr::Special(Special::ThreadIdx) => (0, i64::from(self.k.num_threads) - 1),
            Expr::Special(_) => (0, i64::from(i32::MAX)),
            Expr::Local { array, .. } => match self.k.locals.try_get(array)?.dtype {
                DType::Int { bits, signed } if bits < 32 => {
                    let bits = u32::from(bits);
                    if signed {
                        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
                    } else {
                        (0, (1i64 << bits) - 1)
                    }
                }
                _ => full,
            },
            Expr::Cast(_, x) | Expr::Bitcast(_, x) => match self.k.ty(x)? {
                Ty::Bool => (0, 1),
                Ty::I32 | Ty::U32 => fits(self.range(x)?)?,
                _ => full,
            },
            Expr::Select(_, x, y) => {
                let (a, b) = (self.range(x)?, self.range(y)?);
                (a.0.min(b.0), a.1.max(b.1))
            }
            Expr::Unary(UnaryOp::Abs, x) => {
                let (lo, hi) = self.range(x)?;
                let m = lo.abs().max(hi.abs());
                fits((0, m))?
            }
            Expr::Binary(op, x, y) => self.binary_range(op, x, y, full)?,
            _ => full,
        };
        Some(r)
    }

    fn binary_range(
        &mut self,
        op: BinaryOp,
        x: ExprId,
        y: ExprId,
        full: (i64, i64),
    ) -> Option<(i64, i64)> {
        let fits = |r: (i64, i64)| (r.0 >= full.0 && r.1 <= full.1).then_some(r);
        let rx = self.range(x);
        let ry = self.range(y);
        Some(match op {
            BinaryOp::Add => {
                let (a, b) = (rx?, ry?);
                fits((a.0 + b.0, a.1 + b.1)).unwrap_or(full)
            }
            BinaryOp::Sub => {
                let (a, b) = (rx?, ry?);
                fits((a.0 - b.1, a.1 - b.0)).unwrap_or(full)
            }
            BinaryOp::Mul => {
                let (a, b) = (rx?, ry?);
                let c = [a.0 * b.0, a.0 * b.1, a.1 * b.0, a.1 * b.1];
                let lo = c.iter().copied().min().unwrap_or(0);
                let hi = c.iter().copied().max().unwrap_or(0);
                fits((lo, hi)).unwrap_or(full)
            }
            BinaryOp::And => {
                // A non-negative operand bounds the result.
                let nonneg = |r: Option<(i64, i64)>| r.filter(|r| r.0 >= 0).map(|r| r.1);
                match (nonneg(rx), nonneg(ry)) {
                    (Some(a), Some(b)) => (0, a.min(b)),
                    (Some(a), None) | (None, Some(a)) => (0, a),
                    (None, None) => full,
                }
            }
            BinaryOp::Min => {
                let (a, b) = (rx?, ry?);
                (a.0.min(b.0), a.1.min(b.1))
            }
            BinaryOp::Max => {
                let (a, b) = (rx?, ry?);
                (a.0.max(b.0), a.1.max(b.1))
            }
            BinaryOp::Rem => match (rx, ry) {
                (Some(a), Some(b)) if a.0 >= 0 && b.0 > 0 => (0, a.1.min(b.1 - 1)),
                _ => full,
            },
            BinaryOp::Shr => match (rx, self.const_int(y)) {
                (Some(a), Some(s)) if (0..32).contains(&s) => (a.0 >> s, a.1 >> s),
                _ => full,
            },
            BinaryOp::Shl => match (rx, self.const_int(y)) {
                (Some(a), Some(s)) if (0..32).contains(&s) => {
                    fits((a.0 << s, a.1 << s)).unwrap_or(full)
                }
                _ => full,
            },
            _ => full,
        })
    }
}

/// Trailing zeros of a value (31 for zero).
fn tz(v: i64) -> u32 {
    if v == 0 {
        ALIGN_MAX
    } else {
        v.trailing_zeros().min(ALIGN_MAX)
    }
}
