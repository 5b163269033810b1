//! Four threads per iteration: a thread loop whose control flow is the same for every
//! thread runs threads `t .. t+4` together in 128-bit lanes (`i32x4`/`f32x4`).
//!
//! [`plan`] decides, before any code is emitted, which cells and expressions *vary* between
//! threads (they depend on `threadIdx`, directly or through cells and loads); everything else
//! stays scalar and is computed once for the four lanes. A region is vectorized only when
//! every `for` bound and `if` condition in it is uniform and every varying operation has a
//! lane-wise form (integer division and host calls keep the region scalar; shifts by
//! per-lane amounts are done lane by lane). Memory accesses at varying addresses or under
//! varying masks are done lane by lane (bounds-checked like the scalar ones); the
//! arithmetic between them is SIMD. The
//! lanes execute each statement in turn, which is a valid order: the threads of a stretch
//! without barriers do not communicate through memory (any such exchange would be a race).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::Variable;

use super::gen::{Gen, R};
use super::regions::CellMap;
use crate::error::LowerError;
use crate::thread_ir::{BinaryOp, Expr, ExprId, Special, Stmt, ThreadKernel, Ty, UnaryOp};

/// Threads per vector iteration.
pub(super) const LANES: u32 = 4;

/// Which cells and expressions vary between threads in a region.
pub(super) struct Plan {
    pub varying_cell: Vec<bool>,
    pub varying_expr: Vec<bool>,
}

fn mark_exprs(k: &ThreadKernel, cells: &CellMap, vc: &[bool], out: &mut [bool]) {
    // Operands precede their users in the arena, so one pass in index order suffices.
    for (h, e) in k.exprs.iter() {
        let i = h.index();
        let get = |x: ExprId| out.get(x.index()).copied().unwrap_or(true);
        let v = match *e {
            Expr::Special(Special::ThreadIdx) => true,
            Expr::Const(_) | Expr::Param(_) | Expr::Special(_) => false,
            Expr::Var(v) => cells.var(v).map_or(true, |c| vc[c as usize]),
            Expr::Local { array, slot } => cells.slot(array, slot).map_or(true, |c| vc[c as usize]),
            Expr::Unary(_, a)
            | Expr::Cast(_, a)
            | Expr::Bitcast(_, a)
            | Expr::Decode(_, a)
            | Expr::Encode(_, a) => get(a),
            Expr::Binary(_, a, b) => get(a) || get(b),
            Expr::Select(a, b, c) | Expr::Fma(a, b, c) => get(a) || get(b) || get(c),
        };
        out[i] = v;
    }
}

/// Marks cells written from varying values; `false` when control flow varies.
fn mark_cells(cells: &CellMap, stmts: &[Stmt], ve: &[bool], vc: &mut [bool]) -> R<bool> {
    let var = |e: ExprId| ve.get(e.index()).copied().unwrap_or(true);
    for s in stmts {
        match s {
            Stmt::Assign { var: v, value } => {
                if var(*value) {
                    vc[cells.var(*v)? as usize] = true;
                }
            }
            Stmt::SetLocal { dst, value } => {
                if var(*value) {
                    vc[cells.at(*dst, 0)? as usize] = true;
                }
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => {
                if var(src.index) || mask.is_some_and(var) {
                    for i in 0..*width {
                        vc[cells.at(*dst, i)? as usize] = true;
                    }
                }
            }
            Stmt::View { dst, src } => {
                let any = (0..cells.len(*src))
                    .map(|i| cells.slot(*src, i).map(|c| vc[c as usize]))
                    .collect::<R<Vec<bool>>>()?
                    .into_iter()
                    .any(|b| b);
                if any {
                    for i in 0..cells.len(*dst) {
                        vc[cells.slot(*dst, i)? as usize] = true;
                    }
                }
            }
            Stmt::For {
                start,
                end,
                step,
                body,
                ..
            } => {
                if var(*start) || var(*end) || var(*step) || !mark_cells(cells, body, ve, vc)? {
                    return Ok(false);
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                if var(*cond)
                    || !mark_cells(cells, then_body, ve, vc)?
                    || !mark_cells(cells, else_body, ve, vc)?
                {
                    return Ok(false);
                }
            }
            Stmt::Store { .. } | Stmt::Atomic { .. } => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// Whether every varying expression node has a lane-wise form.
fn supported(k: &ThreadKernel, ve: &[bool]) -> bool {
    let var = |e: ExprId| ve.get(e.index()).copied().unwrap_or(true);
    k.exprs.iter().all(|(h, e)| {
        if !var(h) {
            return true;
        }
        match *e {
            Expr::Unary(op, _) => !matches!(
                op,
                UnaryOp::Exp | UnaryOp::Exp2 | UnaryOp::Log | UnaryOp::Sigmoid
            ),
            Expr::Binary(op, a, b) => {
                let float = k.ty(a) == Some(Ty::F32);
                match op {
                    BinaryOp::Div => float,
                    BinaryOp::Rem => false,
                    BinaryOp::Shl | BinaryOp::Shr => k.ty(b).is_some_and(|t| t.is_int()),
                    _ => k.ty(a).is_some(),
                }
            }
            Expr::Decode(..) | Expr::Encode(..) => false,
            Expr::Cast(t, a) => t != Ty::F16 && k.ty(a).is_some_and(|f| f != Ty::F16),
            _ => true,
        }
    })
}

/// The vector plan of a region whose cells `initial` start varying (those loaded from the
/// frames), or `None` when it must stay scalar.
pub(super) fn plan(
    k: &ThreadKernel,
    cells: &CellMap,
    stmts: &[Stmt],
    initial: &[u32],
) -> R<Option<Plan>> {
    let mut vc = vec![false; cells.total as usize];
    for &c in initial {
        if let Some(v) = vc.get_mut(c as usize) {
            *v = true;
        }
    }
    let mut ve = vec![false; k.exprs.len()];
    // Each round marks at least one more cell or stops: at most `cells + 1` rounds, in
    // practice two or three.
    for _ in 0..=cells.total {
        mark_exprs(k, cells, &vc, &mut ve);
        let before = vc.iter().filter(|&&b| b).count();
        if !mark_cells(cells, stmts, &ve, &mut vc)? {
            return Ok(None);
        }
        if vc.iter().filter(|&&b| b).count() == before {
            break;
        }
    }
    if !supported(k, &ve) {
        return Ok(None);
    }
    Ok(Some(Plan {
        varying_cell: vc,
        varying_expr: ve,
    }))
}

/// A value in a vector region: one scalar for all lanes, or one per lane.
#[derive(Clone, Copy, Debug)]
pub(super) enum V {
    S(Value),
    W(Value),
}

fn wide_type(t: Ty) -> Type {
    if t == Ty::F32 {
        types::F32X4
    } else {
        types::I32X4
    }
}

fn lane_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Per-region vector state.
pub(super) struct Wide {
    pub plan: Plan,
    pub var: Vec<Option<Variable>>,
    pub tid: Value,
    pub cache: std::collections::HashMap<ExprId, (V, Ty)>,
}

impl Gen<'_, '_> {
    /// Splats a scalar of type `t` (bools become all-ones/zero lane masks).
    pub(super) fn widen(&mut self, v: V, t: Ty) -> Value {
        match v {
            V::W(w) => w,
            V::S(s) if t == Ty::Bool => {
                let i = self.b.ins().uextend(types::I32, s);
                let m = self.b.ins().ineg(i);
                self.b.ins().splat(types::I32X4, m)
            }
            V::S(s) => self.b.ins().splat(wide_type(t), s),
        }
    }

    pub(super) fn wzero(&mut self, t: Ty) -> Value {
        let z = if t == Ty::F32 {
            self.b.ins().f32const(0.0)
        } else {
            self.b.ins().iconst(types::I32, 0)
        };
        self.b.ins().splat(wide_type(t), z)
    }

    /// Evaluates `e` in a vector region.
    pub(super) fn weval(&mut self, w: &mut Wide, e: ExprId) -> R<(V, Ty)> {
        let mut stack = vec![(e, false)];
        while let Some((id, ready)) = stack.pop() {
            if w.cache.contains_key(&id) {
                continue;
            }
            if !w
                .plan
                .varying_expr
                .get(id.index())
                .copied()
                .unwrap_or(false)
            {
                let (v, t) = self.eval(id)?;
                w.cache.insert(id, (V::S(v), t));
                continue;
            }
            let node = *self
                .k
                .exprs
                .try_get(id)
                .ok_or_else(|| LowerError::InvalidProgram(format!("{id:?} dangles")))?;
            if !ready {
                stack.push((id, true));
                match node {
                    Expr::Unary(_, a) | Expr::Cast(_, a) | Expr::Bitcast(_, a) => {
                        stack.push((a, false))
                    }
                    Expr::Binary(_, a, b) => stack.extend([(b, false), (a, false)]),
                    Expr::Select(a, b, c) | Expr::Fma(a, b, c) => {
                        stack.extend([(c, false), (b, false), (a, false)])
                    }
                    _ => {}
                }
                continue;
            }
            let v = self.wnode(w, node)?;
            w.cache.insert(id, (V::W(v.0), v.1));
        }
        w.cache
            .get(&e)
            .copied()
            .ok_or_else(|| LowerError::Internal("a vector operand was not evaluated".into()))
    }

    fn wop(&mut self, w: &Wide, e: ExprId) -> R<(Value, Ty, V)> {
        let (v, t) = w
            .cache
            .get(&e)
            .copied()
            .ok_or_else(|| LowerError::Internal("a vector operand was not evaluated".into()))?;
        let wv = self.widen(v, t);
        Ok((wv, t, v))
    }

    fn wnode(&mut self, w: &mut Wide, node: Expr) -> R<(Value, Ty)> {
        let unsup = |what: &str| LowerError::Internal(format!("vector plan admitted {what}"));
        Ok(match node {
            Expr::Special(Special::ThreadIdx) => (w.tid, Ty::I32),
            Expr::Var(v) => {
                let c = self.cells.var(v)?;
                let var = w.var[c as usize].ok_or_else(|| unsup("a scalar cell as varying"))?;
                (self.b.use_var(var), self.cell_ty[c as usize])
            }
            Expr::Local { array, slot } => {
                let c = self.cells.slot(array, slot)?;
                let var = w.var[c as usize].ok_or_else(|| unsup("a scalar cell as varying"))?;
                (self.b.use_var(var), self.cell_ty[c as usize])
            }
            Expr::Unary(op, a) => {
                let (a, t, _) = self.wop(w, a)?;
                let f = t == Ty::F32;
                let ins = self.b.ins();
                let v = match op {
                    UnaryOp::Neg if f => ins.fneg(a),
                    UnaryOp::Neg => ins.ineg(a),
                    UnaryOp::Not if f => return Err(unsup("not on f32")),
                    UnaryOp::Not => ins.bnot(a),
                    UnaryOp::Abs if f => ins.fabs(a),
                    UnaryOp::Abs => ins.iabs(a),
                    UnaryOp::Sqrt => ins.sqrt(a),
                    UnaryOp::Rsqrt => {
                        let s = ins.sqrt(a);
                        let one = self.b.ins().f32const(1.0);
                        let one = self.b.ins().splat(types::F32X4, one);
                        self.b.ins().fdiv(one, s)
                    }
                    UnaryOp::Round => ins.nearest(a),
                    UnaryOp::Floor => ins.floor(a),
                    UnaryOp::Ceil => ins.ceil(a),
                    UnaryOp::Exp | UnaryOp::Exp2 | UnaryOp::Log | UnaryOp::Sigmoid => {
                        return Err(unsup("a host call"))
                    }
                };
                (v, t)
            }
            Expr::Binary(op, a, b) => {
                let (a, t, _) = self.wop(w, a)?;
                let (bw, _, bs) = self.wop(w, b)?;
                self.wbinary(op, a, t, bw, bs)?
            }
            Expr::Select(c, a, b) => {
                let (cv, ct) = w.cache.get(&c).copied().ok_or_else(|| unsup("select"))?;
                let (a, t, _) = self.wop(w, a)?;
                let (b, _, _) = self.wop(w, b)?;
                let v = match cv {
                    V::S(s) => self.b.ins().select(s, a, b),
                    V::W(_) => {
                        let m = self.widen(cv, ct);
                        let m = if t == Ty::F32 {
                            self.b.ins().bitcast(types::F32X4, lane_flags(), m)
                        } else {
                            m
                        };
                        self.b.ins().bitselect(m, a, b)
                    }
                };
                (v, t)
            }
            Expr::Fma(a, b, c) => {
                let (a, _, _) = self.wop(w, a)?;
                let (b, _, _) = self.wop(w, b)?;
                let (c, _, _) = self.wop(w, c)?;
                (self.b.ins().fma(a, b, c), Ty::F32)
            }
            Expr::Cast(to, a) => {
                let nonneg = self.nonneg_i32(a);
                let (v, from, _) = self.wop(w, a)?;
                let ins = self.b.ins();
                let r = match (from, to) {
                    _ if from == to => v,
                    // A u32 below 2^31 converts like an i32 (`cvtdq2ps`; x86 has no
                    // unsigned form before AVX-512).
                    (Ty::U32, Ty::F32) if nonneg => ins.fcvt_from_sint(types::F32X4, v),
                    (Ty::I32 | Ty::U32, Ty::I32 | Ty::U32) => v,
                    (Ty::Bool, Ty::I32 | Ty::U32) => {
                        let one = ins.iconst(types::I32, 1);
                        let one = self.b.ins().splat(types::I32X4, one);
                        self.b.ins().band(v, one)
                    }
                    (Ty::Bool, Ty::F32) => {
                        let one = ins.iconst(types::I32, 1);
                        let one = self.b.ins().splat(types::I32X4, one);
                        let i = self.b.ins().band(v, one);
                        self.b.ins().fcvt_from_sint(types::F32X4, i)
                    }
                    (Ty::I32 | Ty::U32, Ty::Bool) => {
                        let z = self.wzero(Ty::I32);
                        self.b.ins().icmp(IntCC::NotEqual, v, z)
                    }
                    (Ty::F32, Ty::Bool) => {
                        let z = self.wzero(Ty::F32);
                        self.b.ins().fcmp(FloatCC::NotEqual, v, z)
                    }
                    (Ty::I32, Ty::F32) => ins.fcvt_from_sint(types::F32X4, v),
                    (Ty::U32, Ty::F32) => ins.fcvt_from_uint(types::F32X4, v),
                    (Ty::F32, Ty::I32) => ins.fcvt_to_sint_sat(types::I32X4, v),
                    (Ty::F32, Ty::U32) => ins.fcvt_to_uint_sat(types::I32X4, v),
                    _ => return Err(unsup("a cast")),
                };
                (r, to)
            }
            Expr::Bitcast(to, a) => {
                let (v, from, _) = self.wop(w, a)?;
                let r = if wide_type(to) == wide_type(from) {
                    v
                } else {
                    self.b.ins().bitcast(wide_type(to), lane_flags(), v)
                };
                (r, to)
            }
            Expr::Const(_)
            | Expr::Param(_)
            | Expr::Special(_)
            | Expr::Decode(..)
            | Expr::Encode(..) => return Err(unsup("a uniform node as varying")),
        })
    }

    /// A shift by per-lane amounts, one lane at a time (thread-IR semantics per lane).
    fn shift_lanes(&mut self, op: BinaryOp, a: Value, b: Value, signed: bool) -> Value {
        let mut out = a;
        for l in 0..LANES as u8 {
            let x = self.b.ins().extractlane(a, l);
            let n = self.b.ins().extractlane(b, l);
            let r = self.scalar_shift(op, x, n, signed);
            out = self.b.ins().insertlane(out, r, l);
        }
        out
    }

    fn wbinary(&mut self, op: BinaryOp, a: Value, t: Ty, b: Value, bs: V) -> R<(Value, Ty)> {
        let f = t == Ty::F32;
        let signed = t == Ty::I32;
        let ins = self.b.ins();
        let v = match op {
            BinaryOp::Add if f => ins.fadd(a, b),
            BinaryOp::Add => ins.iadd(a, b),
            BinaryOp::Sub if f => ins.fsub(a, b),
            BinaryOp::Sub => ins.isub(a, b),
            BinaryOp::Mul if f => ins.fmul(a, b),
            BinaryOp::Mul => ins.imul(a, b),
            BinaryOp::Div if f => ins.fdiv(a, b),
            BinaryOp::Min | BinaryOp::Max if f => {
                let m = if op == BinaryOp::Min {
                    ins.fmin(a, b)
                } else {
                    ins.fmax(a, b)
                };
                let an = self.b.ins().fcmp(FloatCC::Unordered, a, a);
                let bn = self.b.ins().fcmp(FloatCC::Unordered, b, b);
                let an = self.b.ins().bitcast(types::F32X4, lane_flags(), an);
                let bn = self.b.ins().bitcast(types::F32X4, lane_flags(), bn);
                let m = self.b.ins().bitselect(bn, a, m);
                self.b.ins().bitselect(an, b, m)
            }
            BinaryOp::Min if signed => ins.smin(a, b),
            BinaryOp::Min => ins.umin(a, b),
            BinaryOp::Max if signed => ins.smax(a, b),
            BinaryOp::Max => ins.umax(a, b),
            BinaryOp::And => ins.band(a, b),
            BinaryOp::Or => ins.bor(a, b),
            BinaryOp::Xor => ins.bxor(a, b),
            BinaryOp::Shl | BinaryOp::Shr => {
                let amt = match bs {
                    V::S(amt) => amt,
                    // Per-lane amounts: x86 has no such shift before AVX2, so lane by lane.
                    V::W(_) => return Ok((self.shift_lanes(op, a, b, signed), t)),
                };
                let in_range = ins.icmp_imm_s(IntCC::UnsignedLessThan, amt, 32);
                if op == BinaryOp::Shr && signed {
                    let max = self.b.ins().iconst(types::I32, 31);
                    let amt = self.b.ins().umin(amt, max);
                    self.b.ins().sshr(a, amt)
                } else {
                    let r = if op == BinaryOp::Shl {
                        self.b.ins().ishl(a, amt)
                    } else {
                        self.b.ins().ushr(a, amt)
                    };
                    let z = self.wzero(Ty::I32);
                    self.b.ins().select(in_range, r, z)
                }
            }
            BinaryOp::Div | BinaryOp::Rem => {
                return Err(LowerError::Internal(
                    "vector plan admitted a division".into(),
                ))
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let v = if f {
                    ins.fcmp(super::exprs::float_cc(op), a, b)
                } else {
                    ins.icmp(super::exprs::int_cc(op, signed), a, b)
                };
                return Ok((v, Ty::Bool));
            }
        };
        Ok((v, t))
    }
}
