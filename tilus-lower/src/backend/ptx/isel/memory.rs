//! Memory: loads and stores of 32-bit words, vectorized to `.v2`/`.v4` where the index is
//! provably a multiple of the vector ([`super::align`]); read-only buffers are read with
//! `ld.global.nc`, and buffers of weights (read-only pointer parameters of a dtype under 16
//! bits, which a GEMM streams once) with `.L1::no_allocate` and an L2 evict-first policy;
//! atomics become `red`; semaphores `ld.acquire`/`st.release` at GPU scope.
//! Addresses are 64-bit for global memory (`mul.wide.s32` of the word index, added to the
//! base), 32-bit shared-window addresses for shared memory; a constant part of the index is
//! folded into the address offset.

use tilus_ir::dtype::DType;

use super::{illegal, Selector, R};
use crate::backend::ptx::mir::{Base, Class, Operand, Reg};
use crate::thread_ir::{
    AtomicOp, BinaryOp, Expr, ExprId, LocalRef, MemRef, ParamKind, Space, ThreadKernel,
};

/// The register class of a word-legal local array's slots.
pub(crate) fn slot_class(d: DType) -> R<Class> {
    match d {
        DType::Int { bits: 32, .. } => Ok(Class::B32),
        DType::F32 => Ok(Class::F32),
        other => Err(illegal(format!("a local array of {other}"))),
    }
}

/// How selection reads each global buffer, decided once per kernel (each query walks the
/// body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadPath {
    /// Written by the kernel: plain `ld.global`.
    Coherent,
    /// Read-only: `ld.global.nc`.
    ReadOnly,
    /// Weights streamed once — a read-only pointer parameter whose tile-level dtype is
    /// narrower than 16 bits: `ld.global.nc` with `.L1::no_allocate` and the L2
    /// evict-first policy.
    Streamed,
}

/// The read path of every buffer, by buffer index.
pub(crate) fn read_paths(k: &ThreadKernel) -> Vec<ReadPath> {
    k.buffers
        .iter()
        .map(|(h, _)| {
            if k.writes_buffer(h) {
                return ReadPath::Coherent;
            }
            let narrow_param = k
                .params
                .iter()
                .any(|p| p.kind == ParamKind::Pointer(h) && p.dtype.is_some_and(|d| d.bits() < 16));
            if narrow_param && loads_buffer(&k.body, h.index()) {
                ReadPath::Streamed
            } else {
                ReadPath::ReadOnly
            }
        })
        .collect()
}

/// Whether some statement loads from global buffer `b`.
fn loads_buffer(body: &[crate::thread_ir::Stmt], b: usize) -> bool {
    use crate::thread_ir::Stmt;
    body.iter().any(|s| match s {
        Stmt::Load { src, .. } => matches!(src.space, Space::Global(h) if h.index() == b),
        Stmt::For { body, .. } => loads_buffer(body, b),
        Stmt::If {
            then_body,
            else_body,
            ..
        } => loads_buffer(then_body, b) || loads_buffer(else_body, b),
        _ => false,
    })
}

/// A resolved address: base register and byte offset, and the state space.
struct Addr {
    base: Reg,
    offset: i64,
    shared: bool,
}

impl Addr {
    fn at(&self, words: u32) -> Operand {
        Operand::Addr {
            base: Base::Reg(self.base),
            offset: self.offset + 4 * i64::from(words),
        }
    }
}

/// The opcode and register operand of a 1-, 2- or 4-word access of `regs` (one class):
/// `{space}[.v2|.v4].{b32|f32}` and the register or the brace vector.
fn vector_access(space: &str, regs: &[Reg]) -> (String, Operand) {
    let suffix = match regs.first() {
        Some(r) if r.class == Class::F32 => ".f32",
        _ => ".b32",
    };
    match regs {
        [r] => (format!("{space}{suffix}"), Operand::Reg(*r)),
        _ => {
            let vec = if regs.len() == 2 { ".v2" } else { ".v4" };
            (format!("{space}{vec}{suffix}"), Operand::Vec(regs.to_vec()))
        }
    }
}

impl Selector<'_> {
    /// `e` as (variable part, constant words).
    fn split_index(&self, e: ExprId) -> (Option<ExprId>, i64) {
        if let Some(c) = self.konst(e) {
            return (None, c);
        }
        if let Some(Expr::Binary(BinaryOp::Add, x, y)) = self.k.exprs.try_get(e) {
            if let Some(c) = self.konst(*y) {
                return (Some(*x), c);
            }
            if let Some(c) = self.konst(*x) {
                return (Some(*y), c);
            }
        }
        (Some(e), 0)
    }

    fn address(&mut self, m: MemRef) -> R<Addr> {
        let (x, c) = self.split_index(m.index);
        match m.space {
            Space::Global(b) => {
                let base = self.buffer_reg(b.index())?;
                let base = match x {
                    Some(x) => {
                        let xr = self.value(x)?;
                        let off = self.op1(
                            Class::B64,
                            "mul.wide.s32",
                            vec![Operand::Reg(xr), Operand::Imm(4)],
                        );
                        self.op1(
                            Class::B64,
                            "add.s64",
                            vec![Operand::Reg(base), Operand::Reg(off)],
                        )
                    }
                    None => base,
                };
                Ok(Addr {
                    base,
                    offset: 4 * c,
                    shared: false,
                })
            }
            Space::Shared(s) => {
                // Word-legal kernels have one shared array at offset 0.
                let off = self.k.shared.try_get(s).map_or(0, |a| i64::from(a.offset));
                let base = self.smem_reg()?;
                let base = match x {
                    Some(x) => {
                        let xr = self.value(x)?;
                        let t = self.op1(
                            Class::B32,
                            "shl.b32",
                            vec![Operand::Reg(xr), Operand::Imm(2)],
                        );
                        self.op1(
                            Class::B32,
                            "add.s32",
                            vec![Operand::Reg(base), Operand::Reg(t)],
                        )
                    }
                    None => base,
                };
                Ok(Addr {
                    base,
                    offset: off + 4 * c,
                    shared: true,
                })
            }
        }
    }

    /// The address operand of a shared-memory word (for `ldmatrix`).
    pub(super) fn shared_address(&mut self, m: MemRef) -> R<Operand> {
        let a = self.address(m)?;
        if !a.shared {
            return Err(illegal("a shared-memory instruction on global memory"));
        }
        Ok(a.at(0))
    }

    fn slots(&self, r: LocalRef, width: u32) -> R<Vec<Reg>> {
        (0..width)
            .map(|j| self.slot_reg(r.array.index(), r.slot + j))
            .collect()
    }

    /// The vector chunks of an access of `width` words at an index that is a multiple of
    /// `multiple`: (first word, words).
    fn chunks(width: u32, multiple: u64) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut j = 0;
        while j < width {
            let v = [4u32, 2, 1]
                .into_iter()
                .find(|&v| v <= width - j && multiple.is_multiple_of(u64::from(v)) && j % v == 0)
                .unwrap_or(1);
            out.push((j, v));
            j += v;
        }
        out
    }

    fn mask(&mut self, mask: Option<ExprId>) -> R<Option<Reg>> {
        mask.map(|m| self.value(m)).transpose()
    }

    pub(super) fn load(
        &mut self,
        dst: LocalRef,
        src: MemRef,
        width: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let regs = self.slots(dst, width)?;
        let p = self.mask(mask)?;
        let addr = self.address(src)?;
        let multiple = self.align.multiple(self.k, src.index);
        let (space, hint) = match src.space {
            Space::Shared(_) => ("ld.shared", None),
            Space::Global(b) => match (self.read_path(b.index()), self.evict_first()) {
                (ReadPath::Streamed, Some(pol)) => {
                    ("ld.global.nc.L1::no_allocate.L2::cache_hint", Some(pol))
                }
                (ReadPath::Streamed | ReadPath::ReadOnly, _) => ("ld.global.nc", None),
                (ReadPath::Coherent, _) => ("ld.global", None),
            },
        };
        debug_assert!(!addr.shared || space == "ld.shared");
        if p.is_some() {
            for &r in &regs {
                self.zero_slot(r);
            }
        }
        for (j, v) in Self::chunks(width, multiple) {
            let (op, d) = vector_access(space, &regs[j as usize..(j + v) as usize]);
            let mut args = vec![d, addr.at(j)];
            if let Some(pol) = hint {
                args.push(Operand::Reg(pol));
            }
            match p {
                Some(p) => self.emit_if(p, false, op, args),
                None => self.emit(op, args),
            }
        }
        Ok(())
    }

    fn zero_slot(&mut self, r: Reg) {
        if r.class == Class::F32 {
            self.mov(r, Operand::F32(0));
        } else {
            self.mov(r, Operand::Imm(0));
        }
    }

    pub(super) fn store(
        &mut self,
        dst: MemRef,
        src: LocalRef,
        width: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let regs = self.slots(src, width)?;
        let p = self.mask(mask)?;
        let addr = self.address(dst)?;
        let multiple = self.align.multiple(self.k, dst.index);
        let space = if addr.shared {
            "st.shared"
        } else {
            "st.global"
        };
        for (j, v) in Self::chunks(width, multiple) {
            let (op, s) = vector_access(space, &regs[j as usize..(j + v) as usize]);
            let args = vec![addr.at(j), s];
            match p {
                Some(p) => self.emit_if(p, false, op, args),
                None => self.emit(op, args),
            }
        }
        Ok(())
    }

    pub(super) fn atomic(&mut self, op: AtomicOp, dst: MemRef, value: ExprId) -> R<()> {
        let v = self.value(value)?;
        let addr = self.address(dst)?;
        let space = if addr.shared { "shared" } else { "global" };
        let name = match op {
            AtomicOp::And => "and",
            AtomicOp::Or => "or",
        };
        self.emit(
            format!("red.{space}.{name}.b32"),
            vec![addr.at(0), Operand::Reg(v)],
        );
        Ok(())
    }

    pub(super) fn sem_acquire(&mut self, sem: MemRef, value: ExprId) -> R<()> {
        let v = self.operand(value)?;
        let addr = self.address(sem)?;
        if addr.shared {
            return Err(illegal("a semaphore in shared memory"));
        }
        let top = self.label();
        self.place(top);
        let r = self.reg(Class::B32);
        self.emit(
            "ld.acquire.gpu.global.b32",
            vec![Operand::Reg(r), addr.at(0)],
        );
        let p = self.op1(Class::Pred, "setp.ne.s32", vec![Operand::Reg(r), v]);
        self.emit_if(p, false, "bra", vec![Operand::Label(top)]);
        Ok(())
    }

    pub(super) fn sem_release(&mut self, sem: MemRef, value: ExprId) -> R<()> {
        let v = self.value(value)?;
        let addr = self.address(sem)?;
        if addr.shared {
            return Err(illegal("a semaphore in shared memory"));
        }
        self.emit(
            "st.release.gpu.global.b32",
            vec![addr.at(0), Operand::Reg(v)],
        );
        Ok(())
    }

    /// `cp.async` of `width` words from global to shared memory, in 16-, 8- and 4-byte
    /// copies as the alignment of both indices allows (16 bytes bypass L1: `.cg`); a mask
    /// becomes the source size 0 (zero fill, nothing read).
    pub(super) fn copy_async(
        &mut self,
        dst: MemRef,
        src: MemRef,
        width: u32,
        mask: Option<ExprId>,
    ) -> R<()> {
        let p = self.mask(mask)?;
        let s = self.address(src)?;
        let d = self.address(dst)?;
        if s.shared || !d.shared {
            return Err(illegal("a cp.async that is not global to shared"));
        }
        let multiple = self
            .align
            .multiple(self.k, src.index)
            .min(self.align.multiple(self.k, dst.index));
        let mut sizes: Vec<(u32, Option<Reg>)> = Vec::new();
        for (j, v) in Self::chunks(width, multiple) {
            let bytes = 4 * v;
            let src_size = match p {
                None => Operand::Imm(i64::from(bytes)),
                Some(p) => {
                    let r = match sizes.iter().find(|(b, _)| *b == bytes) {
                        Some((_, Some(r))) => *r,
                        _ => {
                            let r = self.op1(
                                Class::B32,
                                "selp.b32",
                                vec![
                                    Operand::Imm(i64::from(bytes)),
                                    Operand::Imm(0),
                                    Operand::Reg(p),
                                ],
                            );
                            sizes.push((bytes, Some(r)));
                            r
                        }
                    };
                    Operand::Reg(r)
                }
            };
            let op = if bytes == 16 {
                "cp.async.cg.shared.global"
            } else {
                "cp.async.ca.shared.global"
            };
            self.emit(
                op,
                vec![d.at(j), s.at(j), Operand::Imm(i64::from(bytes)), src_size],
            );
        }
        Ok(())
    }
}
