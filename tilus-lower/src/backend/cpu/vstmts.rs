//! Statements of a vector region (see [`super::vector`]): uniform ones as in the scalar
//! loop, varying ones lane-wise, memory accesses at varying addresses lane by lane.

use std::collections::{BTreeSet, HashMap};

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};

use super::gen::{clif_type, Gen, R};
use super::vector::{Plan, Wide, LANES, V};
use crate::error::LowerError;
use crate::thread_ir::{ExprId, LocalRef, MemRef, Stmt, Ty};

impl Gen<'_, '_> {
    /// A barrier-free stretch as a thread loop over groups of [`LANES`] threads.
    pub(super) fn vector_region(
        &mut self,
        stmts: &[Stmt],
        plan: Plan,
        live: &BTreeSet<u32>,
        written: &BTreeSet<u32>,
    ) -> R<()> {
        self.thread_loop_by(0, LANES, |g| g.vector_body(stmts, plan, live, written))
    }

    /// One iteration of a vector region: threads `self.tid .. + LANES`.
    fn vector_body(
        &mut self,
        stmts: &[Stmt],
        plan: Plan,
        live: &BTreeSet<u32>,
        written: &BTreeSet<u32>,
    ) -> R<()> {
        let t = self.tid;
        // Lane l is thread t + l.
        let base = self.b.ins().splat(types::I32X4, t);
        let mut lanes = self.b.ins().iconst(types::I32, 0);
        let mut iota = self.b.ins().splat(types::I32X4, lanes);
        for l in 1..LANES {
            lanes = self.b.ins().iconst(types::I32, i64::from(l));
            iota = self.b.ins().insertlane(iota, lanes, l as u8);
        }
        let tid = self.b.ins().iadd(base, iota);
        let frame = if self.framed {
            Some(self.frame_of(t))
        } else {
            None
        };
        // Frames may be only 4-byte aligned.
        let unaligned = cranelift_codegen::ir::MemFlagsData::new().with_notrap();
        let mut var = vec![None; self.cells.total as usize];
        for &c in live {
            let ty = self.cell_ty[c as usize];
            if plan.varying_cell[c as usize] {
                let v = self.b.declare_var(wide(ty));
                let init = match frame {
                    Some(f) => {
                        let (a, o) = self.cell_at(f, c);
                        self.b.ins().load(wide(ty), unaligned, a, o)
                    }
                    None => self.wzero(ty),
                };
                self.b.def_var(v, init);
                var[c as usize] = Some(v);
            } else if frame.is_some() {
                return Err(LowerError::Internal(
                    "a frame cell planned as uniform".into(),
                ));
            } else {
                let ct = clif_type(ty)?;
                let z = self.zero(ct);
                self.b.def_var(self.cell_var[c as usize], z);
            }
        }
        let mut w = Wide {
            plan,
            var,
            tid,
            cache: HashMap::new(),
        };
        self.wstmts(&mut w, stmts)?;
        if let Some(f) = frame {
            for &c in written {
                let Some(var) = w.var[c as usize] else {
                    return Err(LowerError::Internal("a frame cell without lanes".into()));
                };
                let v = self.b.use_var(var);
                let (a, o) = self.cell_at(f, c);
                self.b.ins().store(unaligned, v, a, o);
            }
        }
        Ok(())
    }

    fn wstmts(&mut self, w: &mut Wide, stmts: &[Stmt]) -> R<()> {
        for s in stmts {
            self.cache.clear();
            w.cache.clear();
            self.wstmt(w, s)?;
        }
        self.cache.clear();
        w.cache.clear();
        Ok(())
    }

    /// Writes a value into a cell, keeping the low `bits` bits of integers.
    fn wwrite(&mut self, w: &mut Wide, cell: u32, v: V, t: Ty, bits: u32, signed: bool) -> R<()> {
        let ty = self.cell_ty[cell as usize];
        match (w.var[cell as usize], v) {
            (Some(var), v) => {
                let mut x = self.widen(v, t);
                if wide(t) != wide(ty) {
                    x = self.b.ins().bitcast(wide(ty), lane_flags(), x);
                }
                if ty.is_int() && bits < 32 {
                    if signed {
                        let s = self.b.ins().ishl_imm_u(x, i64::from(32 - bits));
                        x = self.b.ins().sshr_imm_u(s, i64::from(32 - bits));
                    } else {
                        let m = self.b.ins().iconst(types::I32, ((1u64 << bits) - 1) as i64);
                        let m = self.b.ins().splat(types::I32X4, m);
                        x = self.b.ins().band(x, m);
                    }
                }
                self.b.def_var(var, x);
                Ok(())
            }
            (None, V::S(s)) => self.write_cell(cell, s, bits, signed),
            (None, V::W(_)) => Err(LowerError::Internal(
                "a varying value written to a uniform cell".into(),
            )),
        }
    }

    /// Lane `l` of a value as a scalar (bool masks become `i8` truth values).
    fn lane(&mut self, v: V, t: Ty, l: u32) -> Value {
        match v {
            V::S(s) => s,
            V::W(x) => {
                let s = self.b.ins().extractlane(x, l as u8);
                if t == Ty::Bool {
                    self.b.ins().icmp_imm_s(IntCC::NotEqual, s, 0)
                } else {
                    s
                }
            }
        }
    }

    fn wstmt(&mut self, w: &mut Wide, s: &Stmt) -> R<()> {
        match s {
            Stmt::Assign { var, value } => {
                let (v, t) = self.weval(w, *value)?;
                let c = self.cells.var(*var)?;
                self.wwrite(w, c, v, t, 32, false)
            }
            Stmt::SetLocal { dst, value } => {
                let (v, t) = self.weval(w, *value)?;
                let (bits, signed) = self.slot_format(*dst)?;
                let c = self.cells.at(*dst, 0)?;
                self.wwrite(w, c, v, t, bits, signed)
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => self.wload(w, *dst, *src, *width, *mask),
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => self.wstore(w, *dst, *src, *width, *mask),
            Stmt::View { dst, src } => {
                let n = self.cells.len(*src);
                if n != self.cells.len(*dst) {
                    return Err(LowerError::Unsupported {
                        inst: "a view between arrays of different word counts".into(),
                        reason: "word-legal views copy whole 32-bit words".into(),
                    });
                }
                let mut vals = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let c = self.cells.slot(*src, i)?;
                    let t = self.cell_ty[c as usize];
                    vals.push(match w.var[c as usize] {
                        Some(v) => (V::W(self.b.use_var(v)), t),
                        None => (V::S(self.b.use_var(self.cell_var[c as usize])), t),
                    });
                }
                for (i, (v, t)) in vals.into_iter().enumerate() {
                    let c = self.cells.slot(*dst, i as u32)?;
                    let v = match (v, w.var[c as usize].is_some()) {
                        // A uniform destination gets a uniform word, reinterpreted.
                        (V::S(s), false) => {
                            let want = clif_type(self.cell_ty[c as usize])?;
                            let have = self.b.func.dfg.value_type(s);
                            V::S(if want == have {
                                s
                            } else {
                                self.b.ins().bitcast(want, MemFlagsPlain::new(), s)
                            })
                        }
                        (v, _) => v,
                    };
                    self.wwrite(w, c, v, t, 32, false)?;
                }
                Ok(())
            }
            Stmt::Atomic { op, dst, value } => {
                let (idx, it) = self.weval(w, dst.index)?;
                let (v, vt) = self.weval(w, *value)?;
                if let (V::S(i), V::S(x)) = (idx, v) {
                    return self.atomic_word(*op, *dst, i, x);
                }
                for l in 0..LANES {
                    let i = self.lane(idx, it, l);
                    let x = self.lane(v, vt, l);
                    self.atomic_word(*op, *dst, i, x)?;
                }
                Ok(())
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                // Uniform bounds (the plan requires them): one loop for the four lanes.
                let (lo, _) = self.eval(*start)?;
                let (hi, _) = self.eval(*end)?;
                let (st, _) = self.eval(*step)?;
                let cell = self.cells.var(*var)?;
                self.counted_loop([lo, hi, st], |g, v| {
                    g.wwrite(w, cell, V::S(v), Ty::I32, 32, false)?;
                    g.wstmts(w, body)
                })
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let (c, _) = self.eval(*cond)?;
                self.branch(c, |g, taken| {
                    g.wstmts(w, if taken { then_body } else { else_body })
                })
            }
            other => Err(LowerError::Internal(format!(
                "the vector plan admitted {other:?}"
            ))),
        }
    }

    fn wload(
        &mut self,
        w: &mut Wide,
        dst: LocalRef,
        src: MemRef,
        width: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let (idx, it) = self.weval(w, src.index)?;
        let m = match mask {
            Some(m) => Some(self.weval(w, m)?),
            None => None,
        };
        let (bits, signed) = self.slot_format(dst)?;
        let cells: Vec<u32> = (0..width)
            .map(|i| self.cells.at(dst, i))
            .collect::<R<_>>()?;
        let uniform = matches!(idx, V::S(_)) && !matches!(m, Some((V::W(_), _)));
        let tmp: Vec<_> = cells
            .iter()
            .map(|&c| clif_type(self.cell_ty[c as usize]).map(|t| self.b.declare_var(t)))
            .collect::<R<_>>()?;
        if uniform {
            // Once for the four lanes: a scalar per cell.
            self.load_lane(src, idx, it, m, &cells, &tmp, width, 0)?;
            for (k, &c) in cells.iter().enumerate() {
                let v = self.b.use_var(tmp[k]);
                self.wwrite(w, c, V::S(v), self.cell_ty[c as usize], bits, signed)?;
            }
            return Ok(());
        }
        // A gather. When every lane is active and in bounds (one vector test), four plain
        // loads; otherwise lane by lane with each lane's mask and bounds check.
        let res: Vec<_> = cells
            .iter()
            .map(|&c| self.b.declare_var(wide(self.cell_ty[c as usize])))
            .collect();
        let sp = self.space(src.space)?;
        let idxv = self.widen(idx, it);
        let max = self.b.ins().iconst(types::I64, i64::from(i32::MAX));
        let words = self.b.ins().umin(sp.words, max);
        let words = self.b.ins().ireduce(types::I32, words);
        let limit = self.b.ins().iadd_imm_s(words, -i64::from(width));
        let limit = self.b.ins().splat(types::I32X4, limit);
        let zero = self.wzero(Ty::I32);
        let ge = self
            .b
            .ins()
            .icmp(IntCC::SignedGreaterThanOrEqual, idxv, zero);
        let le = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, idxv, limit);
        let mut ok = self.b.ins().band(ge, le);
        if let Some((mv, mt)) = m {
            let mw = self.widen(mv, mt);
            ok = self.b.ins().band(ok, mw);
        }
        let all = self.b.ins().vall_true(ok);
        let (fast, slow, merge) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(all, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let mut acc: Vec<Value> = cells
            .iter()
            .map(|&c| self.wzero(self.cell_ty[c as usize]))
            .collect();
        for l in 0..LANES {
            let i = self.b.ins().extractlane(idxv, l as u8);
            let i = self.b.ins().sextend(types::I64, i);
            let off = self.b.ins().ishl_imm_u(i, 2);
            let addr = self.b.ins().iadd(sp.base, off);
            for (k, &c) in cells.iter().enumerate() {
                let ty = clif_type(self.cell_ty[c as usize])?;
                let v = self.b.ins().load(ty, self.trusted, addr, 4 * k as i32);
                acc[k] = self.b.ins().insertlane(acc[k], v, l as u8);
            }
        }
        for (k, &a) in acc.iter().enumerate() {
            self.b.def_var(res[k], a);
        }
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(slow);
        let mut acc: Vec<Value> = cells
            .iter()
            .map(|&c| self.wzero(self.cell_ty[c as usize]))
            .collect();
        for l in 0..LANES {
            self.load_lane(src, idx, it, m, &cells, &tmp, width, l)?;
            for (k, a) in acc.iter_mut().enumerate() {
                let v = self.b.use_var(tmp[k]);
                *a = self.b.ins().insertlane(*a, v, l as u8);
            }
        }
        for (k, &a) in acc.iter().enumerate() {
            self.b.def_var(res[k], a);
        }
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        for (k, &c) in cells.iter().enumerate() {
            let v = self.b.use_var(res[k]);
            let t = self.cell_ty[c as usize];
            self.wwrite(w, c, V::W(v), t, bits, signed)?;
        }
        Ok(())
    }

    /// Lane `l`'s load into the scalar variables `tmp` (zeros when its mask is false).
    #[allow(clippy::too_many_arguments)]
    fn load_lane(
        &mut self,
        src: MemRef,
        idx: V,
        it: Ty,
        m: Option<(V, Ty)>,
        cells: &[u32],
        tmp: &[cranelift_frontend::Variable],
        width: u32,
        l: u32,
    ) -> R<()> {
        let i = self.lane(idx, it, l);
        let merge = self.b.create_block();
        if let Some((mv, mt)) = m {
            let ml = self.lane(mv, mt, l);
            let (ld, z) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(ml, ld, &[], z, &[]);
            self.b.switch_to_block(z);
            for (k, &c) in cells.iter().enumerate() {
                let ty = clif_type(self.cell_ty[c as usize])?;
                let zero = self.zero(ty);
                self.b.def_var(tmp[k], zero);
            }
            self.b.ins().jump(merge, &[]);
            self.b.switch_to_block(ld);
        }
        let addr = self.address(src, i, width)?;
        for (k, &c) in cells.iter().enumerate() {
            let ty = clif_type(self.cell_ty[c as usize])?;
            let v = self.b.ins().load(ty, self.trusted, addr, 4 * k as i32);
            self.b.def_var(tmp[k], v);
        }
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        Ok(())
    }

    fn wstore(
        &mut self,
        w: &mut Wide,
        dst: MemRef,
        src: LocalRef,
        width: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let (idx, it) = self.weval(w, dst.index)?;
        let m = match mask {
            Some(m) => Some(self.weval(w, m)?),
            None => None,
        };
        let cells: Vec<u32> = (0..width)
            .map(|i| self.cells.at(src, i))
            .collect::<R<_>>()?;
        let vals: Vec<(V, Ty)> = cells
            .iter()
            .map(|&c| {
                let t = self.cell_ty[c as usize];
                match w.var[c as usize] {
                    Some(v) => (V::W(self.b.use_var(v)), t),
                    None => (V::S(self.b.use_var(self.cell_var[c as usize])), t),
                }
            })
            .collect();
        if vals.iter().any(|(_, t)| *t == Ty::Bool) {
            return Err(LowerError::InvalidProgram("a store of bool slots".into()));
        }
        let uniform = matches!(idx, V::S(_))
            && !matches!(m, Some((V::W(_), _)))
            && vals.iter().all(|(v, _)| matches!(v, V::S(_)));
        // Uniform stores write once; otherwise every lane writes its own (in lane order, the
        // order of the scalar loop).
        let rounds = if uniform { 1 } else { LANES };
        for l in 0..rounds {
            let i = self.lane(idx, it, l);
            let merge = self.b.create_block();
            if let Some((mv, mt)) = m {
                let ml = self.lane(mv, mt, l);
                let st = self.b.create_block();
                self.b.ins().brif(ml, st, &[], merge, &[]);
                self.b.switch_to_block(st);
            }
            let addr = self.address(dst, i, width)?;
            for (k, &(v, t)) in vals.iter().enumerate() {
                let x = self.lane(v, t, l);
                self.b.ins().store(self.trusted, x, addr, 4 * k as i32);
            }
            self.b.ins().jump(merge, &[]);
            self.b.switch_to_block(merge);
        }
        Ok(())
    }
}

type MemFlagsPlain = cranelift_codegen::ir::MemFlagsData;

fn wide(t: Ty) -> cranelift_codegen::ir::Type {
    if t == Ty::F32 {
        types::F32X4
    } else {
        types::I32X4
    }
}

fn lane_flags() -> cranelift_codegen::ir::MemFlagsData {
    cranelift_codegen::ir::MemFlagsData::new()
        .with_endianness(cranelift_codegen::ir::Endianness::Little)
}
