//! Expressions: every node of the input becomes nodes WGSL evaluates exactly as the thread
//! IR defines them (see the module documentation of [`super`] for the rules).

use tilus_ir::dtype::DType;

use super::floats::{self, FloatSpec};
use super::ops::Ops;
use super::{Legalizer, R};
use crate::error::LowerError;
use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, ParamKind, Ty, UnaryOp};

/// Values up to this magnitude convert between `i32`/`u32` and `f32` exactly.
const EXACT_F32_INT: i64 = 1 << 24;

impl Legalizer<'_> {
    /// The legal form of an input expression (memoized: the input is a DAG).
    pub(super) fn expr(&mut self, e: ExprId) -> R<ExprId> {
        if let Some(&r) = self.memo.get(&e) {
            return Ok(r);
        }
        let r = self.expr_uncached(e)?;
        self.memo.insert(e, r);
        Ok(r)
    }

    /// The input type of an input expression.
    pub(super) fn src_ty(&self, e: ExprId) -> R<Ty> {
        self.src
            .ty(e)
            .ok_or_else(|| LowerError::InvalidProgram(format!("expression {e:?} has no type")))
    }

    fn expr_uncached(&mut self, e: ExprId) -> R<ExprId> {
        let node = self.src.exprs.try_get(e).copied().ok_or_else(|| {
            LowerError::InvalidProgram(format!("expression {e:?} does not exist"))
        })?;
        Ok(match node {
            Expr::Const(Const::F16(bits)) => self.b.konst(Const::F32(half_bits_to_f32(bits))),
            Expr::Const(c) => self.b.konst(c),
            Expr::Param(i) => {
                let p = self.b.expr(Expr::Param(i));
                match self.src.params.get(i as usize).map(|p| p.kind) {
                    Some(ParamKind::Scalar(Ty::Bool)) => {
                        let zero = self.b.u32(0);
                        self.b.op(BinaryOp::Ne, p, zero)
                    }
                    _ => p,
                }
            }
            Expr::Special(s) => self.b.expr(Expr::Special(s)),
            Expr::Var(v) => {
                let v = self.var(v)?;
                self.b.read_var(v)
            }
            Expr::Local { array, slot } => self.read_slot(array, slot)?,
            Expr::Unary(op, a) => self.unary(op, a)?,
            Expr::Binary(op, a, b) => self.binary(op, a, b)?,
            Expr::Select(c, a, b) => {
                let (c, a, b) = (self.expr(c)?, self.expr(a)?, self.expr(b)?);
                self.b.sel(c, a, b)
            }
            Expr::Fma(a, b, c) => {
                let f16 = self.src_ty(a)? == Ty::F16;
                let (a, b, c) = (self.expr(a)?, self.expr(b)?, self.expr(c)?);
                let r = self.b.fma(a, b, c);
                if f16 {
                    floats::round_to_f16(&mut self.b, r)
                } else {
                    r
                }
            }
            Expr::Cast(t, a) => self.cast(t, a)?,
            Expr::Bitcast(t, a) => self.bitcast(t, a)?,
            Expr::Decode(d, a) => {
                let spec = coded_spec(d)?;
                let a = self.expr(a)?;
                if self.profile.subnormals {
                    floats::decode_scaled(&mut self.b, &spec, a)
                } else {
                    floats::decode(&mut self.b, &spec, a)
                }
            }
            Expr::Encode(d, a) => {
                let spec = coded_spec(d)?;
                let bits = self.f32_bits_for_rounding(a)?;
                floats::encode(&mut self.b, &spec, bits)
            }
        })
    }

    /// The `f32` bits of a numeric input expression such that one more rounding to a
    /// format of at most 22 significant bits gives the rounding of the exact value.
    fn f32_bits_for_rounding(&mut self, a: ExprId) -> R<ExprId> {
        let t = self.src_ty(a)?;
        match t {
            Ty::F32 | Ty::F16 => {
                let v = self.expr(a)?;
                Ok(self.b.bits_as(Ty::U32, v))
            }
            Ty::I32 | Ty::U32 => {
                let exact = self.fits_f32(a);
                let v = self.expr(a)?;
                if exact {
                    let f = self.b.cast(Ty::F32, v);
                    Ok(self.b.bits_as(Ty::U32, f))
                } else {
                    Ok(floats::int_to_f32_bits(&mut self.b, v, true))
                }
            }
            other => Err(bad_type("encode", other)),
        }
    }

    /// Whether an integer input expression provably converts to `f32` exactly.
    fn fits_f32(&mut self, a: ExprId) -> bool {
        self.profile.exact_int_to_f32
            || self
                .facts
                .range(a)
                .is_some_and(|(lo, hi)| lo >= -EXACT_F32_INT && hi <= EXACT_F32_INT)
    }

    fn unary(&mut self, op: UnaryOp, a: ExprId) -> R<ExprId> {
        let t = self.src_ty(a)?;
        let x = self.expr(a)?;
        let b = &mut self.b;
        let r = match op {
            // Exact on f16 values: no rounding needed, but a NaN comes out quiet.
            UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Round | UnaryOp::Floor | UnaryOp::Ceil
                if t == Ty::F16 =>
            {
                let r = b.unary(op, x);
                return Ok(floats::quiet_if_nan(b, r));
            }
            UnaryOp::Neg | UnaryOp::Not | UnaryOp::Abs => return Ok(b.unary(op, x)),
            UnaryOp::Round | UnaryOp::Floor | UnaryOp::Ceil => return Ok(b.unary(op, x)),
            UnaryOp::Exp | UnaryOp::Exp2 | UnaryOp::Log | UnaryOp::Sqrt => b.unary(op, x),
            UnaryOp::Rsqrt => {
                let s = b.unary(UnaryOp::Sqrt, x);
                let one = b.f32(1.0);
                b.op(BinaryOp::Div, one, s)
            }
            UnaryOp::Sigmoid => {
                let n = b.unary(UnaryOp::Neg, x);
                let e = b.unary(UnaryOp::Exp, n);
                let one = b.f32(1.0);
                let d = b.op(BinaryOp::Add, one, e);
                b.op(BinaryOp::Div, one, d)
            }
        };
        Ok(if t == Ty::F16 {
            floats::round_to_f16(b, r)
        } else {
            r
        })
    }

    fn binary(&mut self, op: BinaryOp, a: ExprId, bx: ExprId) -> R<ExprId> {
        let t = self.src_ty(a)?;
        if matches!(op, BinaryOp::Shl | BinaryOp::Shr) {
            return self.shift(op, a, bx);
        }
        let (x, y) = (self.expr(a)?, self.expr(bx)?);
        if !t.is_float() {
            return Ok(self.b.op(op, x, y));
        }
        let b = &mut self.b;
        Ok(match op {
            BinaryOp::Min | BinaryOp::Max => {
                let r = float_min_max(b, op, x, y);
                if t == Ty::F16 {
                    floats::quiet_if_nan(b, r)
                } else {
                    r
                }
            }
            BinaryOp::Rem => {
                return Err(LowerError::Unsupported {
                    inst: "float `%`".into(),
                    reason: "WGSL has no exact floating-point remainder (fmod); target wgsl".into(),
                })
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                let r = b.binary(op, x, y);
                if t == Ty::F16 {
                    floats::round_to_f16(b, r)
                } else {
                    r
                }
            }
            _ => b.binary(op, x, y),
        })
    }

    /// A shift whose amount is brought to a `u32` provably below 32, with the thread IR's
    /// result for out-of-range amounts (0, or the sign fill for signed `>>`).
    fn shift(&mut self, op: BinaryOp, a: ExprId, amount: ExprId) -> R<ExprId> {
        let signed_shr = op == BinaryOp::Shr && self.src_ty(a)? == Ty::I32;
        let range = self.facts.range(amount);
        let konst = self.facts.const_int(amount);
        let x = self.expr(a)?;
        let s = self.expr(amount)?;
        let b = &mut self.b;
        let fill = |b: &mut crate::thread_ir::KernelBuilder| {
            if signed_shr {
                b.shr_k(x, 31)
            } else {
                let t = b.ty(x);
                b.konst(Const::zero(t))
            }
        };
        if let Some(k) = konst {
            return Ok(if (0..32).contains(&k) {
                let k = b.u32(k as u32);
                b.op(op, x, k)
            } else {
                fill(b)
            });
        }
        let su = b.cast(Ty::U32, s);
        if range.is_some_and(|(lo, hi)| lo >= 0 && hi < 32) {
            return Ok(b.op(op, x, su));
        }
        if signed_shr {
            // Amounts of 31 and more all give the sign fill.
            let k31 = b.u32(31);
            let m = b.op(BinaryOp::Min, su, k31);
            return Ok(b.op(op, x, m));
        }
        let k32 = b.u32(32);
        let in_range = b.op(BinaryOp::Lt, su, k32);
        let masked = b.and_k(su, 31);
        let shifted = b.op(op, x, masked);
        let zero = fill(b);
        Ok(b.sel(in_range, shifted, zero))
    }

    fn cast(&mut self, to: Ty, a: ExprId) -> R<ExprId> {
        let from = self.src_ty(a)?;
        // An f16 slot cast to f32 on a target whose `unpack2x16float` is proven exact: the
        // native conversion of the slot's code (`decode<f16>`, NaN quieted like the cast).
        if (from, to) == (Ty::F16, Ty::F32) && self.profile.f16_native.decode {
            if let Some(Expr::Local { array, slot }) = self.src.exprs.try_get(a).copied() {
                let code = self.read_code(array, slot)?;
                return Ok(self.b.expr(Expr::Decode(DType::F16, code)));
            }
        }
        let exact = from.is_int() && self.fits_f32(a);
        let x = self.expr(a)?;
        let b = &mut self.b;
        Ok(match (from, to) {
            _ if from == to => x,
            (Ty::Bool, _) => {
                let (one, zero) = match to {
                    Ty::I32 => (b.i32(1), b.i32(0)),
                    Ty::U32 => (b.u32(1), b.u32(0)),
                    Ty::F32 | Ty::F16 => (b.f32(1.0), b.f32(0.0)),
                    other => return Err(bad_type("cast", other)),
                };
                b.sel(x, one, zero)
            }
            (Ty::I32 | Ty::U32, Ty::Bool) => {
                let zero = b.konst(Const::zero(from));
                b.op(BinaryOp::Ne, x, zero)
            }
            (Ty::F32 | Ty::F16, Ty::Bool) => {
                let bits = b.bits_as(Ty::U32, x);
                let mag = b.and_k(bits, 0x7fff_ffff);
                let zero = b.u32(0);
                b.op(BinaryOp::Ne, mag, zero)
            }
            (Ty::I32 | Ty::U32, Ty::I32 | Ty::U32) => b.cast(to, x),
            (Ty::I32 | Ty::U32, Ty::F32) => {
                if exact {
                    b.cast(Ty::F32, x)
                } else {
                    let bits = floats::int_to_f32_bits(b, x, false);
                    b.bits_as(Ty::F32, bits)
                }
            }
            (Ty::I32 | Ty::U32, Ty::F16) => {
                // Exact below 2^24; above, any f32 neighbour overflows f16 alike.
                let f = b.cast(Ty::F32, x);
                floats::round_to_f16(b, f)
            }
            (Ty::F32, Ty::F16) => floats::round_to_f16(b, x),
            // Like the interpreter (through f64): a NaN comes out quiet.
            (Ty::F16, Ty::F32) => floats::quiet_if_nan(b, x),
            (Ty::F32 | Ty::F16, Ty::I32 | Ty::U32) => float_to_int(b, to, x),
            (_, other) => return Err(bad_type("cast", other)),
        })
    }

    fn bitcast(&mut self, to: Ty, a: ExprId) -> R<ExprId> {
        let from = self.src_ty(a)?;
        let x = self.expr(a)?;
        let b = &mut self.b;
        Ok(match (from, to) {
            _ if from == to => x,
            (Ty::F16, Ty::I32 | Ty::U32) => {
                let code = floats::f32_to_f16_code(b, x);
                b.bits_as(to, code)
            }
            (Ty::I32 | Ty::U32, Ty::F16) => {
                let u = b.bits_as(Ty::U32, x);
                return Ok(self.f16_value(u));
            }
            (Ty::I32 | Ty::U32 | Ty::F32, Ty::I32 | Ty::U32 | Ty::F32) => b.bits_as(to, x),
            (_, other) => return Err(bad_type("bitcast", other)),
        })
    }
}

/// `min`/`max` of floats with the thread IR's rules: a NaN operand is ignored and
/// `-0 < +0` (the first operand wins ties).
fn float_min_max(
    b: &mut crate::thread_ir::KernelBuilder,
    op: BinaryOp,
    x: ExprId,
    y: ExprId,
) -> ExprId {
    let xb = b.bits_as(Ty::U32, x);
    let xmag = b.and_k(xb, 0x7fff_ffff);
    let x_nan = b.gt_k(xmag, 0x7f80_0000);
    let yb = b.bits_as(Ty::I32, y);
    let zero = b.i32(0);
    let y_neg = b.op(BinaryOp::Lt, yb, zero);
    let (beats, sign_wins) = if op == BinaryOp::Min {
        (b.op(BinaryOp::Lt, y, x), y_neg)
    } else {
        (b.op(BinaryOp::Gt, y, x), b.unary(UnaryOp::Not, y_neg))
    };
    let equal = b.op(BinaryOp::Eq, y, x);
    let tie = b.and_(equal, sign_wins);
    let wins = b.or_(beats, tie);
    let wins = b.or_(x_nan, wins);
    b.sel(wins, y, x)
}

/// Float → integer like Rust `as`: toward zero, saturating, NaN → 0; decided on the bits.
fn float_to_int(b: &mut crate::thread_ir::KernelBuilder, to: Ty, x: ExprId) -> ExprId {
    let bits = b.bits_as(Ty::U32, x);
    let mag = b.and_k(bits, 0x7fff_ffff);
    let is_nan = b.gt_k(mag, 0x7f80_0000);
    let sbits = b.bits_as(Ty::I32, x);
    let zero_i = b.i32(0);
    let neg = b.op(BinaryOp::Lt, sbits, zero_i);
    let native = b.cast(to, x);
    if to == Ty::I32 {
        // |x| >= 2^31 saturates.
        let limit = b.u32(0x4f00_0000);
        let big = b.op(BinaryOp::Ge, mag, limit);
        let (min, max) = (b.i32(i32::MIN), b.i32(i32::MAX));
        let sat = b.sel(neg, min, max);
        let r = b.sel(big, sat, native);
        b.sel(is_nan, zero_i, r)
    } else {
        // Negative values (and -0) give 0; x >= 2^32 saturates.
        let limit = b.u32(0x4f80_0000);
        let big = b.op(BinaryOp::Ge, mag, limit);
        let max = b.u32(u32::MAX);
        let zero = b.u32(0);
        let r = b.sel(big, max, native);
        let none = b.or_(is_nan, neg);
        b.sel(none, zero, r)
    }
}

/// The format of a coded float dtype, or an error naming it.
fn coded_spec(d: DType) -> R<FloatSpec> {
    match d {
        DType::BF16 | DType::F8E4M3FN | DType::F8E5M2 | DType::MiniFloat { .. } => FloatSpec::of(d),
        _ => None,
    }
    .ok_or_else(|| LowerError::InvalidProgram(format!("decode/encode of {d}, not a coded float")))
}

/// The `f32` bits of an `f16` code, computed on the host (NaN payload kept, like
/// [`floats::f16_code_to_f32`]).
fn half_bits_to_f32(bits: u16) -> u32 {
    let v = half::f16::from_bits(bits);
    if v.is_nan() {
        let sign = u32::from(bits & 0x8000) << 16;
        return sign | 0x7f80_0000 | (u32::from(bits & 0x3ff) << 13);
    }
    v.to_f32().to_bits()
}

fn bad_type(what: &str, t: Ty) -> LowerError {
    LowerError::Unsupported {
        inst: what.into(),
        reason: format!("values of type {} on target wgsl", t.name()),
    }
}
