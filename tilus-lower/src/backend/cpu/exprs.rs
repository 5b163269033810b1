//! Expressions: one Cranelift value per thread-IR expression node, with the thread IR's
//! semantics made explicit where Cranelift's differ (integer division by zero and overflow,
//! shift amounts, float `min`/`max` with NaN, saturating float → integer conversions).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value};

use super::gen::{clif_type, Gen, Mode, R};
use super::libcalls;
use super::status;
use crate::error::LowerError;
use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, ParamKind, Special, Ty, UnaryOp};
use tilus_ir::expr::Axis;

fn unsupported(what: impl Into<String>) -> LowerError {
    LowerError::Unsupported {
        inst: what.into(),
        reason: "not in the word-legal subset the CPU code generator takes".into(),
    }
}

fn dangling(e: ExprId) -> LowerError {
    LowerError::InvalidProgram(format!("expression {e:?} dangles"))
}

impl Gen<'_, '_> {
    /// The value and type of `e`, from the current statement's cache or computed now
    /// (operands first, without recursion).
    pub fn eval(&mut self, e: ExprId) -> R<(Value, Ty)> {
        let mut stack = vec![(e, false)];
        while let Some((id, ready)) = stack.pop() {
            if self.cache.contains_key(&id) {
                continue;
            }
            let node = *self.k.exprs.try_get(id).ok_or_else(|| dangling(id))?;
            if !ready {
                stack.push((id, true));
                match node {
                    Expr::Unary(_, a)
                    | Expr::Cast(_, a)
                    | Expr::Bitcast(_, a)
                    | Expr::Decode(_, a)
                    | Expr::Encode(_, a) => stack.push((a, false)),
                    Expr::Binary(_, a, b) => stack.extend([(b, false), (a, false)]),
                    Expr::Select(a, b, c) | Expr::Fma(a, b, c) => {
                        stack.extend([(c, false), (b, false), (a, false)])
                    }
                    _ => {}
                }
                continue;
            }
            let v = self.node(node)?;
            self.cache.insert(id, v);
        }
        self.cache.get(&e).copied().ok_or_else(|| dangling(e))
    }

    fn operand(&self, e: ExprId) -> R<(Value, Ty)> {
        self.cache.get(&e).copied().ok_or_else(|| dangling(e))
    }

    /// Reads a cell in the current mode.
    pub fn read_cell(&mut self, cell: u32) -> R<(Value, Ty)> {
        let ty = self.cell_ty[cell as usize];
        let v = match self.mode {
            Mode::Region => self.b.use_var(self.cell_var[cell as usize]),
            Mode::Frame(f) => {
                let (a, o) = self.cell_at(f, cell);
                self.b.ins().load(clif_type(ty)?, self.trusted, a, o)
            }
        };
        Ok((v, ty))
    }

    fn node(&mut self, node: Expr) -> R<(Value, Ty)> {
        Ok(match node {
            Expr::Const(c) => (self.constant(c)?, c.ty()),
            Expr::Param(i) => {
                let v = self
                    .params
                    .get(i as usize)
                    .copied()
                    .flatten()
                    .ok_or_else(|| {
                        LowerError::InvalidProgram(format!("#{i} is not a scalar parameter"))
                    })?;
                let ty = match self.k.params.get(i as usize).map(|p| p.kind) {
                    Some(ParamKind::Scalar(t)) => t,
                    _ => {
                        return Err(LowerError::InvalidProgram(format!(
                            "#{i} is not a scalar parameter"
                        )))
                    }
                };
                (v, ty)
            }
            Expr::Special(s) => {
                let v = match s {
                    Special::ThreadIdx => self.tid,
                    Special::BlockIdx(a) => self.launch[axis(a)],
                    Special::GridDim(a) => self.launch[3 + axis(a)],
                };
                (v, Ty::I32)
            }
            Expr::Var(v) => {
                let c = self.cells.var(v)?;
                self.read_cell(c)?
            }
            Expr::Local { array, slot } => {
                let c = self.cells.slot(array, slot)?;
                self.read_cell(c)?
            }
            Expr::Unary(op, a) => {
                let a = self.operand(a)?;
                self.unary(op, a)?
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.operand(a)?, self.operand(b)?);
                self.binary(op, a, b)?
            }
            Expr::Select(c, a, b) => {
                let (c, a, b) = (self.operand(c)?, self.operand(a)?, self.operand(b)?);
                (self.b.ins().select(c.0, a.0, b.0), a.1)
            }
            Expr::Fma(a, b, c) => {
                let (a, b, c) = (self.operand(a)?, self.operand(b)?, self.operand(c)?);
                if a.1 != Ty::F32 {
                    return Err(unsupported(format!("fma on {}", a.1.name())));
                }
                (self.b.ins().fma(a.0, b.0, c.0), Ty::F32)
            }
            Expr::Cast(t, a) => {
                let nonneg = self.nonneg_i32(a);
                let a = self.operand(a)?;
                if nonneg && a.1 == Ty::U32 && t == Ty::F32 {
                    // A u32 below 2^31 converts like an i32 (one instruction on x86).
                    (self.b.ins().fcvt_from_sint(types::F32, a.0), t)
                } else {
                    (self.cast(t, a)?, t)
                }
            }
            Expr::Bitcast(t, a) => {
                let (v, from) = self.operand(a)?;
                let (ct, cf) = (clif_type(t)?, clif_type(from)?);
                let v = if ct == cf {
                    v
                } else if t == Ty::Bool || from == Ty::Bool {
                    return Err(unsupported("a bitcast of bool"));
                } else {
                    self.b.ins().bitcast(ct, self.plain, v)
                };
                (v, t)
            }
            Expr::Decode(d, _) => return Err(unsupported(format!("decode<{}>", d.name()))),
            Expr::Encode(d, _) => return Err(unsupported(format!("encode<{}>", d.name()))),
        })
    }

    /// Whether `e` is an integer provably in `0 ..= i32::MAX`: a mask by such a constant,
    /// a logical right shift by at least one, or such a constant.
    pub(super) fn nonneg_i32(&self, e: ExprId) -> bool {
        let small = |x: ExprId| match self.k.exprs.try_get(x) {
            Some(Expr::Const(Const::U32(c))) => *c <= i32::MAX as u32,
            Some(Expr::Const(Const::I32(c))) => *c >= 0,
            _ => false,
        };
        match self.k.exprs.try_get(e) {
            Some(Expr::Binary(BinaryOp::And, a, b)) => small(*a) || small(*b),
            Some(Expr::Binary(BinaryOp::Shr, a, b)) => {
                self.k.ty(*a) == Some(Ty::U32)
                    && matches!(
                        self.k.exprs.try_get(*b),
                        Some(Expr::Const(Const::U32(1..=31) | Const::I32(1..=31)))
                    )
            }
            _ => small(e),
        }
    }

    fn constant(&mut self, c: Const) -> R<Value> {
        Ok(match c {
            Const::Bool(x) => self.b.ins().iconst(types::I8, i64::from(x)),
            Const::I32(x) => self.b.ins().iconst(types::I32, i64::from(x)),
            Const::U32(x) => self.b.ins().iconst(types::I32, i64::from(x as i32)),
            Const::F32(bits) => self.b.ins().f32const(f32::from_bits(bits)),
            Const::F16(_) | Const::I64(_) | Const::U64(_) => {
                return Err(unsupported(format!("a `{}` constant", c.ty().name())))
            }
        })
    }

    fn unary(&mut self, op: UnaryOp, (a, t): (Value, Ty)) -> R<(Value, Ty)> {
        let float = t == Ty::F32;
        if op.float_only() && !float {
            return Err(unsupported(format!("{} on {}", op.name(), t.name())));
        }
        let v = match op {
            UnaryOp::Neg if float => self.b.ins().fneg(a),
            UnaryOp::Neg => self.b.ins().ineg(a),
            UnaryOp::Not if t == Ty::Bool => self.b.ins().icmp_imm_s(IntCC::Equal, a, 0),
            UnaryOp::Not if float => return Err(unsupported("not on f32")),
            UnaryOp::Not => self.b.ins().bnot(a),
            UnaryOp::Abs if float => self.b.ins().fabs(a),
            UnaryOp::Abs => self.b.ins().iabs(a),
            UnaryOp::Exp => self.call(libcalls::EXP, &[a]),
            UnaryOp::Exp2 => self.call(libcalls::EXP2, &[a]),
            UnaryOp::Log => self.call(libcalls::LN, &[a]),
            UnaryOp::Sqrt => self.b.ins().sqrt(a),
            UnaryOp::Rsqrt => {
                let s = self.b.ins().sqrt(a);
                let one = self.b.ins().f32const(1.0);
                self.b.ins().fdiv(one, s)
            }
            UnaryOp::Round => self.b.ins().nearest(a),
            UnaryOp::Floor => self.b.ins().floor(a),
            UnaryOp::Ceil => self.b.ins().ceil(a),
            UnaryOp::Sigmoid => {
                let n = self.b.ins().fneg(a);
                let e = self.call(libcalls::EXP, &[n]);
                let one = self.b.ins().f32const(1.0);
                let d = self.b.ins().fadd(one, e);
                self.b.ins().fdiv(one, d)
            }
        };
        Ok((v, t))
    }

    fn call(&mut self, name: &'static str, args: &[Value]) -> Value {
        let f = self.libcall(name, args.len());
        let inst = self.b.ins().call(f, args);
        self.b.inst_results(inst)[0]
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        (a, t): (Value, Ty),
        (b, tb): (Value, Ty),
    ) -> R<(Value, Ty)> {
        let float = t == Ty::F32;
        let signed = t == Ty::I32;
        let is_shift = matches!(op, BinaryOp::Shl | BinaryOp::Shr);
        if !is_shift && clif_type(t)? != clif_type(tb)? {
            return Err(LowerError::InvalidProgram(format!(
                "`{}` on {} and {}",
                op.symbol(),
                t.name(),
                tb.name()
            )));
        }
        let ins = self.b.ins();
        let v = match op {
            BinaryOp::Add if float => ins.fadd(a, b),
            BinaryOp::Add => ins.iadd(a, b),
            BinaryOp::Sub if float => ins.fsub(a, b),
            BinaryOp::Sub => ins.isub(a, b),
            BinaryOp::Mul if float => ins.fmul(a, b),
            BinaryOp::Mul => ins.imul(a, b),
            BinaryOp::Div if float => ins.fdiv(a, b),
            BinaryOp::Rem if float => self.call(libcalls::FMOD, &[a, b]),
            BinaryOp::Div | BinaryOp::Rem => {
                if t == Ty::Bool {
                    return Err(unsupported("division of bool"));
                }
                let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, b, 0);
                self.check(nonzero, status::DIVISION_BY_ZERO);
                let ins = self.b.ins();
                if signed {
                    // i32::MIN / -1 traps on x86; the thread IR wraps (MIN, remainder 0),
                    // which dividing by 1 gives.
                    let min = ins.icmp_imm_s(IntCC::Equal, a, i64::from(i32::MIN));
                    let ins = self.b.ins();
                    let neg1 = ins.icmp_imm_s(IntCC::Equal, b, -1);
                    let ins = self.b.ins();
                    let ovf = ins.band(min, neg1);
                    let one = self.b.ins().iconst(types::I32, 1);
                    let b = self.b.ins().select(ovf, one, b);
                    if op == BinaryOp::Div {
                        self.b.ins().sdiv(a, b)
                    } else {
                        self.b.ins().srem(a, b)
                    }
                } else if op == BinaryOp::Div {
                    ins.udiv(a, b)
                } else {
                    ins.urem(a, b)
                }
            }
            BinaryOp::Min | BinaryOp::Max if float => {
                // NaN operands are ignored; Cranelift's fmin/fmax order -0 < +0.
                let m = if op == BinaryOp::Min {
                    ins.fmin(a, b)
                } else {
                    ins.fmax(a, b)
                };
                let a_nan = self.b.ins().fcmp(FloatCC::Unordered, a, a);
                let b_nan = self.b.ins().fcmp(FloatCC::Unordered, b, b);
                let m = self.b.ins().select(b_nan, a, m);
                self.b.ins().select(a_nan, b, m)
            }
            BinaryOp::Min if signed => ins.smin(a, b),
            BinaryOp::Min => ins.umin(a, b),
            BinaryOp::Max if signed => ins.smax(a, b),
            BinaryOp::Max => ins.umax(a, b),
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor if float => {
                return Err(unsupported(format!("`{}` on f32", op.symbol())))
            }
            BinaryOp::And => ins.band(a, b),
            BinaryOp::Or => ins.bor(a, b),
            BinaryOp::Xor => ins.bxor(a, b),
            BinaryOp::Shl | BinaryOp::Shr => {
                if !t.is_int() || !tb.is_int() {
                    return Err(unsupported(format!("`{}` on {}", op.symbol(), t.name())));
                }
                self.scalar_shift(op, a, b, signed)
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let v = if float {
                    ins.fcmp(float_cc(op), a, b)
                } else {
                    ins.icmp(int_cc(op, signed), a, b)
                };
                return Ok((v, Ty::Bool));
            }
        };
        Ok((v, t))
    }

    /// `a << n` or `a >> n` on `i32` with the thread IR's rule: amounts outside `[0, 32)`
    /// (a negative signed amount is a large unsigned one) give 0 or the sign fill.
    pub(super) fn scalar_shift(&mut self, op: BinaryOp, a: Value, n: Value, signed: bool) -> Value {
        let in_range = self.b.ins().icmp_imm_s(IntCC::UnsignedLessThan, n, 32);
        if op == BinaryOp::Shr && signed {
            let max = self.b.ins().iconst(types::I32, 31);
            let amt = self.b.ins().umin(n, max);
            self.b.ins().sshr(a, amt)
        } else {
            let r = if op == BinaryOp::Shl {
                self.b.ins().ishl(a, n)
            } else {
                self.b.ins().ushr(a, n)
            };
            let zero = self.b.ins().iconst(types::I32, 0);
            self.b.ins().select(in_range, r, zero)
        }
    }

    /// Numeric conversion with the thread IR's rules (see [`Expr::Cast`]).
    fn cast(&mut self, to: Ty, (v, from): (Value, Ty)) -> R<Value> {
        let ins = self.b.ins();
        Ok(match (from, to) {
            _ if from == to => v,
            (Ty::I32 | Ty::U32, Ty::I32 | Ty::U32) => v,
            (Ty::Bool, Ty::I32 | Ty::U32) => ins.uextend(types::I32, v),
            (Ty::Bool, Ty::F32) => {
                let i = ins.uextend(types::I32, v);
                self.b.ins().fcvt_from_uint(types::F32, i)
            }
            (Ty::I32 | Ty::U32, Ty::Bool) => ins.icmp_imm_s(IntCC::NotEqual, v, 0),
            (Ty::F32, Ty::Bool) => {
                let z = ins.f32const(0.0);
                self.b.ins().fcmp(FloatCC::NotEqual, v, z)
            }
            (Ty::I32, Ty::F32) => ins.fcvt_from_sint(types::F32, v),
            (Ty::U32, Ty::F32) => ins.fcvt_from_uint(types::F32, v),
            (Ty::F32, Ty::I32) => ins.fcvt_to_sint_sat(types::I32, v),
            (Ty::F32, Ty::U32) => ins.fcvt_to_uint_sat(types::I32, v),
            _ => {
                return Err(unsupported(format!(
                    "cast from {} to {}",
                    from.name(),
                    to.name()
                )))
            }
        })
    }
}

/// The float condition of a comparison operator (ordered, except `!=`, which holds for NaN).
pub(super) fn float_cc(op: BinaryOp) -> FloatCC {
    match op {
        BinaryOp::Eq => FloatCC::Equal,
        BinaryOp::Ne => FloatCC::NotEqual,
        BinaryOp::Lt => FloatCC::LessThan,
        BinaryOp::Le => FloatCC::LessThanOrEqual,
        BinaryOp::Gt => FloatCC::GreaterThan,
        _ => FloatCC::GreaterThanOrEqual,
    }
}

/// The integer condition of a comparison operator.
pub(super) fn int_cc(op: BinaryOp, signed: bool) -> IntCC {
    match (op, signed) {
        (BinaryOp::Eq, _) => IntCC::Equal,
        (BinaryOp::Ne, _) => IntCC::NotEqual,
        (BinaryOp::Lt, true) => IntCC::SignedLessThan,
        (BinaryOp::Le, true) => IntCC::SignedLessThanOrEqual,
        (BinaryOp::Gt, true) => IntCC::SignedGreaterThan,
        (BinaryOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
        (BinaryOp::Lt, false) => IntCC::UnsignedLessThan,
        (BinaryOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
        (BinaryOp::Gt, false) => IntCC::UnsignedGreaterThan,
        _ => IntCC::UnsignedGreaterThanOrEqual,
    }
}

fn axis(a: Axis) -> usize {
    match a {
        Axis::X => 0,
        Axis::Y => 1,
        Axis::Z => 2,
    }
}
