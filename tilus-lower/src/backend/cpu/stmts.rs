//! Statements inside a thread loop: assignments, local slots, bounds-checked memory
//! accesses, atomics, and structured `for`/`if`.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AtomicRmwOp, InstBuilder, Type, Value};

use super::gen::{clif_type, Gen, Space, R};
use super::status;
use crate::error::LowerError;
use crate::thread_ir::{AtomicOp, LocalRef, MemRef, Space as MemSpace, Stmt, Ty};

fn unsupported(what: &str) -> LowerError {
    LowerError::Unsupported {
        inst: what.into(),
        reason: "the CPU target runs the threads of a block one after another: it has no warp \
                 intrinsics, asynchronous copies or inter-block semaphores"
            .into(),
    }
}

impl Gen<'_, '_> {
    pub(super) fn stmts(&mut self, stmts: &[Stmt]) -> R<()> {
        for s in stmts {
            self.cache.clear();
            self.stmt(s)?;
        }
        self.cache.clear();
        Ok(())
    }

    /// Writes `v` into a cell, keeping the low bits of the cell's dtype (sub-word slots
    /// wrap like the thread IR's stores).
    pub(super) fn write_cell(&mut self, cell: u32, v: Value, bits: u32, signed: bool) -> R<()> {
        let ty = self.cell_ty[cell as usize];
        let v = if ty.is_int() && bits < 32 {
            if signed {
                let s = self.b.ins().ishl_imm_u(v, i64::from(32 - bits));
                self.b.ins().sshr_imm_u(s, i64::from(32 - bits))
            } else {
                self.b.ins().band_imm_u(v, ((1u64 << bits) - 1) as i64)
            }
        } else {
            v
        };
        let want = clif_type(ty)?;
        let have = self.b.func.dfg.value_type(v);
        let v = if want == have {
            v
        } else if want.bits() == have.bits() && want != types::I8 {
            self.b.ins().bitcast(want, self.plain, v)
        } else {
            return Err(LowerError::InvalidProgram(format!(
                "a {have} value written to a {want} register"
            )));
        };
        self.b.def_var(self.cell_var[cell as usize], v);
        Ok(())
    }

    /// Bits and signedness of the slots of a local array.
    pub(super) fn slot_format(&self, r: LocalRef) -> R<(u32, bool)> {
        let a = self
            .k
            .locals
            .try_get(r.array)
            .ok_or_else(|| LowerError::InvalidProgram("a local array dangles".into()))?;
        Ok((a.dtype.bits().min(32), a.dtype.is_signed()))
    }

    /// The base and length of a memory space.
    pub(super) fn space(&self, s: MemSpace) -> R<Space> {
        match s {
            MemSpace::Shared(_) => Ok(self.smem),
            MemSpace::Global(b) => self
                .buffers
                .get(b.index())
                .copied()
                .flatten()
                .ok_or_else(|| LowerError::InvalidProgram(format!("buffer {b:?} has no slot"))),
        }
    }

    /// The address of element `index` of `m`'s space, after checking that elements
    /// `index .. index + width` lie inside it.
    pub(super) fn address(&mut self, m: MemRef, index: Value, width: u32) -> R<Value> {
        let dtype = self
            .k
            .space_dtype(m.space)
            .ok_or_else(|| LowerError::InvalidProgram("a memory reference dangles".into()))?;
        if dtype.bits() != 32 {
            return Err(LowerError::Unsupported {
                inst: format!("a {} memory access", dtype.name()),
                reason: "word-legal kernels access memory in 32-bit words".into(),
            });
        }
        let sp = self.space(m.space)?;
        let nonneg = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, index, 0);
        let i = self.b.ins().sextend(types::I64, index);
        let end = self.b.ins().iadd_imm_s(i, i64::from(width));
        let fits = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, sp.words);
        let ok = self.b.ins().band(nonneg, fits);
        self.check(ok, status::OUT_OF_BOUNDS);
        let off = self.b.ins().ishl_imm_u(i, 2);
        Ok(self.b.ins().iadd(sp.base, off))
    }

    /// `dst op= v` on one 32-bit word, bounds-checked.
    pub(super) fn atomic_word(
        &mut self,
        op: AtomicOp,
        dst: MemRef,
        index: Value,
        v: Value,
    ) -> R<()> {
        let addr = self.address(dst, index, 1)?;
        match dst.space {
            // Blocks run in parallel: global words are shared between cores.
            MemSpace::Global(_) => {
                let rmw = match op {
                    AtomicOp::And => AtomicRmwOp::And,
                    AtomicOp::Or => AtomicRmwOp::Or,
                };
                self.b
                    .ins()
                    .atomic_rmw(types::I32, self.trusted, rmw, addr, v);
            }
            // A block's threads run on one core, one after another.
            MemSpace::Shared(_) => {
                let old = self.b.ins().load(types::I32, self.trusted, addr, 0);
                let new = match op {
                    AtomicOp::And => self.b.ins().band(old, v),
                    AtomicOp::Or => self.b.ins().bor(old, v),
                };
                self.b.ins().store(self.trusted, new, addr, 0);
            }
        }
        Ok(())
    }

    fn cell_clif(&self, cell: u32) -> R<Type> {
        clif_type(self.cell_ty[cell as usize])
    }

    fn stmt(&mut self, s: &Stmt) -> R<()> {
        match s {
            Stmt::Assign { var, value } => {
                let (v, _) = self.eval(*value)?;
                let c = self.cells.var(*var)?;
                self.write_cell(c, v, 32, false)
            }
            Stmt::SetLocal { dst, value } => {
                let (v, _) = self.eval(*value)?;
                let (bits, signed) = self.slot_format(*dst)?;
                let c = self.cells.at(*dst, 0)?;
                self.write_cell(c, v, bits, signed)
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => {
                let (index, _) = self.eval(src.index)?;
                let mask = match mask {
                    Some(m) => Some(self.eval(*m)?.0),
                    None => None,
                };
                let (bits, signed) = self.slot_format(*dst)?;
                let cells: Vec<u32> = (0..*width)
                    .map(|i| self.cells.at(*dst, i))
                    .collect::<R<_>>()?;
                let merge = self.b.create_block();
                if let Some(m) = mask {
                    let (load_b, zero_b) = (self.b.create_block(), self.b.create_block());
                    self.b.ins().brif(m, load_b, &[], zero_b, &[]);
                    self.b.switch_to_block(zero_b);
                    for &c in &cells {
                        let ty = self.cell_clif(c)?;
                        let z = self.zero(ty);
                        self.b.def_var(self.cell_var[c as usize], z);
                    }
                    self.b.ins().jump(merge, &[]);
                    self.b.switch_to_block(load_b);
                }
                let addr = self.address(*src, index, *width)?;
                for (i, &c) in cells.iter().enumerate() {
                    let ty = self.cell_clif(c)?;
                    let v = self.b.ins().load(ty, self.trusted, addr, 4 * i as i32);
                    self.write_cell(c, v, bits, signed)?;
                }
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(merge);
                Ok(())
            }
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => {
                let (index, _) = self.eval(dst.index)?;
                let mask = match mask {
                    Some(m) => Some(self.eval(*m)?.0),
                    None => None,
                };
                let merge = self.b.create_block();
                if let Some(m) = mask {
                    let store_b = self.b.create_block();
                    self.b.ins().brif(m, store_b, &[], merge, &[]);
                    self.b.switch_to_block(store_b);
                }
                let addr = self.address(*dst, index, *width)?;
                for i in 0..*width {
                    let c = self.cells.at(*src, i)?;
                    if self.cell_ty[c as usize] == Ty::Bool {
                        return Err(LowerError::InvalidProgram("a store of bool slots".into()));
                    }
                    let v = self.b.use_var(self.cell_var[c as usize]);
                    self.b.ins().store(self.trusted, v, addr, 4 * i as i32);
                }
                self.b.ins().jump(merge, &[]);
                self.b.switch_to_block(merge);
                Ok(())
            }
            Stmt::View { dst, src } => {
                let (n_dst, n_src) = (self.cells.len(*dst), self.cells.len(*src));
                let (bd, bs) = (
                    self.slot_format(LocalRef {
                        array: *dst,
                        slot: 0,
                    })?
                    .0,
                    self.slot_format(LocalRef {
                        array: *src,
                        slot: 0,
                    })?
                    .0,
                );
                if bd != 32 || bs != 32 || n_dst != n_src {
                    return Err(LowerError::Unsupported {
                        inst: "a view between arrays of different word counts".into(),
                        reason: "word-legal views copy whole 32-bit words".into(),
                    });
                }
                let vals: Vec<Value> = (0..n_src)
                    .map(|i| {
                        self.cells
                            .slot(*src, i)
                            .map(|c| self.b.use_var(self.cell_var[c as usize]))
                    })
                    .collect::<R<_>>()?;
                for (i, v) in vals.into_iter().enumerate() {
                    let c = self.cells.slot(*dst, i as u32)?;
                    self.write_cell(c, v, 32, false)?;
                }
                Ok(())
            }
            Stmt::Atomic { op, dst, value } => {
                let (index, _) = self.eval(dst.index)?;
                let (v, t) = self.eval(*value)?;
                if !t.is_int() {
                    return Err(LowerError::InvalidProgram(format!(
                        "an atomic `{}` of {}",
                        op.name(),
                        t.name()
                    )));
                }
                self.atomic_word(*op, *dst, index, v)
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let (lo, _) = self.eval(*start)?;
                let (hi, _) = self.eval(*end)?;
                let (st, _) = self.eval(*step)?;
                let cell = self.cells.var(*var)?;
                self.counted_loop([lo, hi, st], |g, v| {
                    g.b.def_var(g.cell_var[cell as usize], v);
                    g.stmts(body)
                })
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let (c, _) = self.eval(*cond)?;
                self.branch(c, |g, taken| {
                    g.stmts(if taken { then_body } else { else_body })
                })
            }
            Stmt::Barrier | Stmt::SharedBarrier => Err(LowerError::Internal(
                "a barrier inside a thread loop (regions split at every barrier)".into(),
            )),
            Stmt::CopyAsync { .. } => Err(unsupported("copy_async")),
            Stmt::CommitGroup => Err(unsupported("commit_group")),
            Stmt::WaitGroup(_) => Err(unsupported("wait_group")),
            Stmt::WaitAll => Err(unsupported("wait_all")),
            Stmt::Mma { .. } => Err(unsupported("mma")),
            Stmt::LdMatrix { .. } => Err(unsupported("ldmatrix")),
            Stmt::Shuffle { .. } => Err(unsupported("shuffle")),
            Stmt::SemAcquire { .. } => Err(unsupported("sem_acquire")),
            Stmt::SemRelease { .. } => Err(unsupported("sem_release")),
        }
    }
}
