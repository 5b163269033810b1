//! Expressions: constants, operators, selects and `fma`, by the tables of [`super::rules`].

use super::rules::{self, Kind};
use super::{class_of, illegal, Selector, R};
use crate::backend::ptx::mir::{Class, Operand, Reg};
use crate::thread_ir::{BinaryOp, Const, Expr, ExprId, Special, Ty, UnaryOp};
use tilus_ir::expr::Axis;

/// log2(e) and ln(2) as f32 bits.
const LOG2_E: u32 = 0x3FB8_AA3B;
const LN_2: u32 = 0x3F31_7218;

/// The selection kind of a legal type.
pub(super) fn kind_of(t: Ty) -> R<Kind> {
    match t {
        Ty::I32 => Ok(Kind::S32),
        Ty::U32 => Ok(Kind::U32),
        Ty::F32 => Ok(Kind::F32),
        Ty::Bool => Ok(Kind::Pred),
        other => Err(illegal(format!("a value of type {}", other.name()))),
    }
}

impl Selector<'_> {
    /// The type of an expression of the kernel.
    pub(crate) fn ty(&self, e: ExprId) -> R<Ty> {
        self.k
            .ty(e)
            .ok_or_else(|| illegal(format!("expression {e:?} (ill-typed or dangling)")))
    }

    /// An operand for `e`: an immediate for a numeric constant, else a register.
    pub(crate) fn operand(&mut self, e: ExprId) -> R<Operand> {
        match self.k.exprs.try_get(e) {
            Some(Expr::Const(Const::I32(v))) => Ok(Operand::Imm(i64::from(*v))),
            Some(Expr::Const(Const::U32(v))) => Ok(Operand::Imm(i64::from(*v))),
            Some(Expr::Const(Const::F32(b))) => Ok(Operand::F32(*b)),
            _ => Ok(Operand::Reg(self.value(e)?)),
        }
    }

    /// The constant value of an integer expression, if it is one.
    pub(crate) fn konst(&self, e: ExprId) -> Option<i64> {
        match self.k.exprs.try_get(e)? {
            Expr::Const(Const::I32(v)) => Some(i64::from(*v)),
            Expr::Const(Const::U32(v)) => Some(i64::from(*v)),
            _ => None,
        }
    }

    /// The register holding the value of `e` (memoized within the statement).
    pub(crate) fn value(&mut self, e: ExprId) -> R<Reg> {
        if let Some(r) = self.memo.get(&e) {
            return Ok(*r);
        }
        let node = *self
            .k
            .exprs
            .try_get(e)
            .ok_or_else(|| illegal(format!("expression {e:?} (dangling)")))?;
        let r = match node {
            Expr::Const(c) => self.constant(c)?,
            Expr::Param(i) => self.param_reg(i)?,
            Expr::Special(s) => {
                let r = self.reg(Class::B32);
                let name = match s {
                    Special::ThreadIdx => "%tid.x",
                    Special::BlockIdx(Axis::X) => "%ctaid.x",
                    Special::BlockIdx(Axis::Y) => "%ctaid.y",
                    Special::BlockIdx(Axis::Z) => "%ctaid.z",
                    Special::GridDim(Axis::X) => "%nctaid.x",
                    Special::GridDim(Axis::Y) => "%nctaid.y",
                    Special::GridDim(Axis::Z) => "%nctaid.z",
                };
                self.emit(
                    "mov.u32",
                    vec![Operand::Reg(r), Operand::Symbol(name.into())],
                );
                r
            }
            Expr::Var(v) => self.var_reg(v.index())?,
            Expr::Local { array, slot } => self.slot_reg(array.index(), slot)?,
            Expr::Unary(op, a) => self.unary(op, a)?,
            Expr::Binary(op, a, b) => self.binary(op, a, b)?,
            Expr::Select(c, a, b) => self.select(c, a, b)?,
            Expr::Fma(a, b, c) => {
                let (a, b, c) = (self.operand(a)?, self.operand(b)?, self.operand(c)?);
                let r = self.reg(Class::F32);
                self.emit("fma.rn.f32", vec![Operand::Reg(r), a, b, c]);
                r
            }
            Expr::Cast(t, a) => self.cast(t, a)?,
            Expr::Bitcast(t, a) => self.bitcast(t, a)?,
            Expr::Decode(..) | Expr::Encode(..) => {
                return Err(illegal("a float codec (`decode`/`encode`)"))
            }
        };
        self.memo.insert(e, r);
        Ok(r)
    }

    fn constant(&mut self, c: Const) -> R<Reg> {
        Ok(match c {
            Const::Bool(b) => self.pred_const(b),
            Const::I32(v) => {
                let r = self.reg(Class::B32);
                self.mov(r, Operand::Imm(i64::from(v)));
                r
            }
            Const::U32(v) => {
                let r = self.reg(Class::B32);
                self.mov(r, Operand::Imm(i64::from(v)));
                r
            }
            Const::F32(bits) => {
                let r = self.reg(Class::F32);
                self.mov(r, Operand::F32(bits));
                r
            }
            other => return Err(illegal(format!("a {} constant", other.ty().name()))),
        })
    }

    /// `op` of a register-class result with the given sources.
    pub(crate) fn op1(&mut self, class: Class, op: &str, srcs: Vec<Operand>) -> Reg {
        let r = self.reg(class);
        let mut args = vec![Operand::Reg(r)];
        args.extend(srcs);
        self.emit(op, args);
        r
    }

    fn unary(&mut self, op: UnaryOp, a: ExprId) -> R<Reg> {
        let t = self.ty(a)?;
        let kind = kind_of(t)?;
        let class = class_of(t)?;
        if let Some(opcode) = rules::find(rules::UNARY, op, kind) {
            let x = self.value(a)?;
            return Ok(self.op1(class, opcode, vec![Operand::Reg(x)]));
        }
        if kind != Kind::F32 {
            return Err(illegal(format!("`{}` on {}", op.name(), t.name())));
        }
        let x = self.value(a)?;
        Ok(match op {
            UnaryOp::Exp => {
                let s = self.op1(
                    Class::F32,
                    "mul.rn.f32",
                    vec![Operand::Reg(x), Operand::F32(LOG2_E)],
                );
                self.op1(Class::F32, "ex2.approx.f32", vec![Operand::Reg(s)])
            }
            UnaryOp::Log => {
                let l = self.op1(Class::F32, "lg2.approx.f32", vec![Operand::Reg(x)]);
                self.op1(
                    Class::F32,
                    "mul.rn.f32",
                    vec![Operand::Reg(l), Operand::F32(LN_2)],
                )
            }
            UnaryOp::Rsqrt => {
                let s = self.op1(Class::F32, "sqrt.rn.f32", vec![Operand::Reg(x)]);
                self.op1(
                    Class::F32,
                    "div.rn.f32",
                    vec![Operand::F32(1.0f32.to_bits()), Operand::Reg(s)],
                )
            }
            UnaryOp::Sigmoid => {
                let n = self.op1(
                    Class::F32,
                    "mul.rn.f32",
                    vec![
                        Operand::Reg(x),
                        Operand::F32((-std::f32::consts::LOG2_E).to_bits()),
                    ],
                );
                let e = self.op1(Class::F32, "ex2.approx.f32", vec![Operand::Reg(n)]);
                let d = self.op1(
                    Class::F32,
                    "add.rn.f32",
                    vec![Operand::Reg(e), Operand::F32(1.0f32.to_bits())],
                );
                self.op1(
                    Class::F32,
                    "div.rn.f32",
                    vec![Operand::F32(1.0f32.to_bits()), Operand::Reg(d)],
                )
            }
            _ => return Err(illegal(format!("`{}` on {}", op.name(), t.name()))),
        })
    }

    fn binary(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> R<Reg> {
        let t = self.ty(a)?;
        let kind = kind_of(t)?;
        if op.is_comparison() {
            if kind == Kind::Pred {
                let (x, y) = (self.value(a)?, self.value(b)?);
                let d = self.op1(
                    Class::Pred,
                    "xor.pred",
                    vec![Operand::Reg(x), Operand::Reg(y)],
                );
                return Ok(match op {
                    BinaryOp::Ne => d,
                    BinaryOp::Eq => self.op1(Class::Pred, "not.pred", vec![Operand::Reg(d)]),
                    _ => return Err(illegal(format!("`{}` on bool", op.symbol()))),
                });
            }
            let opcode = rules::find(rules::COMPARE, op, kind)
                .ok_or_else(|| illegal(format!("`{}` on {}", op.symbol(), t.name())))?;
            let x = self.value(a)?;
            let y = self.operand(b)?;
            return Ok(self.op1(Class::Pred, opcode, vec![Operand::Reg(x), y]));
        }
        let opcode = rules::find(rules::BINARY, op, kind)
            .ok_or_else(|| illegal(format!("`{}` on {}", op.symbol(), t.name())))?;
        let x = self.value(a)?;
        let y = if kind == Kind::Pred {
            Operand::Reg(self.value(b)?)
        } else {
            self.operand(b)?
        };
        Ok(self.op1(class_of(t)?, opcode, vec![Operand::Reg(x), y]))
    }

    fn select(&mut self, c: ExprId, a: ExprId, b: ExprId) -> R<Reg> {
        let t = self.ty(a)?;
        let p = self.value(c)?;
        match class_of(t)? {
            Class::Pred => {
                let (x, y) = (self.value(a)?, self.value(b)?);
                let t1 = self.op1(
                    Class::Pred,
                    "and.pred",
                    vec![Operand::Reg(p), Operand::Reg(x)],
                );
                let np = self.op1(Class::Pred, "not.pred", vec![Operand::Reg(p)]);
                let t2 = self.op1(
                    Class::Pred,
                    "and.pred",
                    vec![Operand::Reg(np), Operand::Reg(y)],
                );
                Ok(self.op1(
                    Class::Pred,
                    "or.pred",
                    vec![Operand::Reg(t1), Operand::Reg(t2)],
                ))
            }
            class => {
                let (x, y) = (self.operand(a)?, self.operand(b)?);
                let op = if class == Class::F32 {
                    "selp.f32"
                } else {
                    "selp.b32"
                };
                Ok(self.op1(class, op, vec![x, y, Operand::Reg(p)]))
            }
        }
    }
}
