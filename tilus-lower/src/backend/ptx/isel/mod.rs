//! Instruction selection: a word-legal thread kernel becomes a [`Function`] of PTX machine
//! instructions. One file per kind of construct, each a set of rules:
//!
//! - [`rules`]: the opcode tables (operator × register class → opcode), as data;
//! - `exprs`: expressions (constants, operators, selects, `fma`);
//! - `convert`: casts and bit moves, with the magic-number `int → f32` dequantization;
//! - `memory`: loads and stores (vectorized by proven alignment, `ld.global.nc` and an L2
//!   evict-first policy for streamed weights), `cp.async` (16/8/4 bytes, zero fill by
//!   source size), atomics, semaphores;
//! - `warp`: `mma.sync`;
//! - this file: the driver, the prologue (parameters, zeroed variables and slots) and
//!   structured control flow (`for`, `if`, barriers).
//!
//! # Registers
//! Every variable and every local slot owns one virtual register for the whole kernel
//! (slots are compile-time constants, so local arrays never touch memory); every other
//! value is a fresh register per statement (expressions are memoized within a statement,
//! which is exact: they read the state before the statement writes). `ptxas` allocates the
//! physical registers.

mod align;
mod convert;
mod exprs;
mod memory;
pub mod rules;
mod warp;

use std::collections::HashMap;

use super::mir::{Base, Class, Function, Inst, Line, Operand, Reg, SMEM};
use crate::backend::contract::Bindings;
use crate::error::LowerError;
use crate::thread_ir::{ExprId, ParamKind, Stmt, ThreadKernel, Ty};

type R<T> = Result<T, LowerError>;

/// An error for a construct a word-legal kernel cannot contain.
pub(crate) fn illegal(what: impl std::fmt::Display) -> LowerError {
    LowerError::InvalidProgram(format!(
        "{what} is not word-legal for PTX (run the PTX legalization before selection)"
    ))
}

/// The register class of a legal type.
pub(crate) fn class_of(t: Ty) -> R<Class> {
    match t {
        Ty::Bool => Ok(Class::Pred),
        Ty::I32 | Ty::U32 => Ok(Class::B32),
        Ty::F32 => Ok(Class::F32),
        other => Err(illegal(format!("a value of type {}", other.name()))),
    }
}

/// Selects the instructions of a word-legal kernel.
pub fn select(k: &ThreadKernel, bindings: &Bindings) -> R<Function> {
    let mut s = Selector::new(k, bindings)?;
    s.prologue()?;
    s.block(&k.body)?;
    Ok(s.finish())
}

/// The selection state.
pub(crate) struct Selector<'k> {
    pub k: &'k ThreadKernel,
    body: Vec<Line>,
    counts: [u32; 4],
    next_label: u32,
    /// The register of each variable.
    vars: Vec<Reg>,
    /// The registers of each local array's slots.
    locals: Vec<Vec<Reg>>,
    /// The register of each scalar parameter.
    params: Vec<Option<Reg>>,
    /// The global base address of each buffer.
    buffers: Vec<Option<Reg>>,
    /// The shared window address of the dynamic shared array.
    smem: Option<Reg>,
    /// The L2 evict-first cache policy (made on first use in the prologue).
    evict_first: Option<Reg>,
    /// A `b32` zero, for predicate constants.
    zero: Option<Reg>,
    /// Values of the current statement's expressions.
    memo: HashMap<ExprId, Reg>,
    /// Alignment facts.
    pub align: align::Align,
    /// The slots of the launch contract.
    bindings: &'k Bindings,
    /// How each global buffer is read.
    read_paths: Vec<memory::ReadPath>,
    entry: String,
    param_names: Vec<String>,
}

impl<'k> Selector<'k> {
    fn new(k: &'k ThreadKernel, bindings: &'k Bindings) -> R<Self> {
        let entry = sanitize(&k.name);
        let slots = bindings.scalars_binding as usize + 1;
        let param_names = (0..slots).map(|i| format!("{entry}_param_{i}")).collect();
        Ok(Selector {
            k,
            body: Vec::new(),
            counts: [0; 4],
            next_label: 0,
            vars: Vec::new(),
            locals: Vec::new(),
            params: vec![None; k.params.len()],
            buffers: vec![None; k.buffers.len()],
            smem: None,
            evict_first: None,
            zero: None,
            memo: HashMap::new(),
            align: align::Align::new(k),
            bindings,
            read_paths: memory::read_paths(k),
            entry,
            param_names,
        })
    }

    fn finish(self) -> Function {
        Function {
            name: self.entry,
            params: self.param_names,
            threads: self.k.num_threads,
            max_regs: max_regs(self.k.num_threads),
            regs: self.counts,
            shared_bytes: self.k.shared_bytes,
            body: self.body,
        }
    }

    /// A fresh register.
    pub(crate) fn reg(&mut self, class: Class) -> Reg {
        let i = class as usize;
        self.counts[i] += 1;
        Reg {
            class,
            n: self.counts[i],
        }
    }

    /// A fresh label number.
    pub(crate) fn label(&mut self) -> u32 {
        self.next_label += 1;
        self.next_label
    }

    /// Appends an unguarded instruction.
    pub(crate) fn emit(&mut self, op: impl Into<String>, args: Vec<Operand>) {
        self.body.push(Line::Inst(Inst {
            guard: None,
            op: op.into(),
            args,
        }));
    }

    /// Appends an instruction under a guard (`@p`, or `@!p` when `negated`).
    pub(crate) fn emit_if(
        &mut self,
        p: Reg,
        negated: bool,
        op: impl Into<String>,
        args: Vec<Operand>,
    ) {
        self.body.push(Line::Inst(Inst {
            guard: Some((p, negated)),
            op: op.into(),
            args,
        }));
    }

    pub(crate) fn place(&mut self, label: u32) {
        self.body.push(Line::Label(label));
    }

    /// `mov` of the register's class from a source operand into `dst`.
    pub(crate) fn mov(&mut self, dst: Reg, src: Operand) {
        let op = match dst.class {
            Class::Pred => "mov.pred",
            Class::B32 => "mov.b32",
            Class::F32 => "mov.f32",
            Class::B64 => "mov.b64",
        };
        self.emit(op, vec![Operand::Reg(dst), src]);
    }

    /// A predicate register holding `value`.
    pub(crate) fn pred_const(&mut self, value: bool) -> Reg {
        let z = self.zero_reg();
        let p = self.reg(Class::Pred);
        let op = if value { "setp.eq.s32" } else { "setp.ne.s32" };
        self.emit(op, vec![Operand::Reg(p), Operand::Reg(z), Operand::Imm(0)]);
        p
    }

    fn zero_reg(&mut self) -> Reg {
        match self.zero {
            Some(z) => z,
            None => {
                // Only reached in the prologue (made there first); see `prologue`.
                let z = self.reg(Class::B32);
                self.mov(z, Operand::Imm(0));
                self.zero = Some(z);
                z
            }
        }
    }

    /// The register of variable `v`.
    pub(crate) fn var_reg(&self, v: usize) -> R<Reg> {
        self.vars
            .get(v)
            .copied()
            .ok_or_else(|| illegal(format!("variable #{v} (dangling)")))
    }

    /// The register of a local slot.
    pub(crate) fn slot_reg(&self, array: usize, slot: u32) -> R<Reg> {
        self.locals
            .get(array)
            .and_then(|a| a.get(slot as usize))
            .copied()
            .ok_or_else(|| {
                illegal(format!(
                    "slot {slot} of local array #{array} (out of range)"
                ))
            })
    }

    /// The register of scalar parameter `i`.
    pub(crate) fn param_reg(&self, i: u32) -> R<Reg> {
        self.params
            .get(i as usize)
            .copied()
            .flatten()
            .ok_or_else(|| illegal(format!("parameter #{i} read as a scalar")))
    }

    /// The base address of buffer `b`.
    pub(crate) fn buffer_reg(&self, b: usize) -> R<Reg> {
        self.buffers
            .get(b)
            .copied()
            .flatten()
            .ok_or_else(|| illegal(format!("buffer #{b} without a slot")))
    }

    /// The shared window address of the shared array.
    pub(crate) fn smem_reg(&self) -> R<Reg> {
        self.smem
            .ok_or_else(|| illegal("shared memory in a kernel that declares none"))
    }

    /// How global buffer `b` is read.
    pub(crate) fn read_path(&self, b: usize) -> memory::ReadPath {
        self.read_paths
            .get(b)
            .copied()
            .unwrap_or(memory::ReadPath::Coherent)
    }

    /// The evict-first L2 policy register, if the prologue made one.
    pub(crate) fn evict_first(&self) -> Option<Reg> {
        self.evict_first
    }

    /// Parameters, the shared base, zeroed variables and slots.
    fn prologue(&mut self) -> R<()> {
        let k = self.k;
        let bindings = self.bindings;
        self.zero_reg();
        // Slot bases: ld.param + cvta.
        let mut slot_regs = Vec::with_capacity(self.param_names.len());
        for name in self.param_names.clone() {
            let raw = self.reg(Class::B64);
            self.emit(
                "ld.param.u64",
                vec![
                    Operand::Reg(raw),
                    Operand::Addr {
                        base: Base::Symbol(name),
                        offset: 0,
                    },
                ],
            );
            let g = self.reg(Class::B64);
            self.emit(
                "cvta.to.global.u64",
                vec![Operand::Reg(g), Operand::Reg(raw)],
            );
            slot_regs.push(g);
        }
        for (i, slot) in bindings.buffer_binding.iter().enumerate() {
            if let Some(s) = slot {
                self.buffers[i] = slot_regs.get(*s as usize).copied();
            }
        }
        let scalars = slot_regs
            .get(bindings.scalars_binding as usize)
            .copied()
            .ok_or_else(|| LowerError::Internal("no scalar-block slot".into()))?;
        for (i, p) in k.params.iter().enumerate() {
            if let ParamKind::Scalar(t) = p.kind {
                let word = bindings
                    .scalar_word
                    .get(i)
                    .copied()
                    .flatten()
                    .ok_or_else(|| {
                        LowerError::Internal(format!("parameter #{} has no scalar word", p.name))
                    })?;
                let class = class_of(t)?;
                let (reg, op) = match class {
                    Class::F32 => (self.reg(Class::F32), "ld.global.nc.f32"),
                    Class::B32 => (self.reg(Class::B32), "ld.global.nc.b32"),
                    _ => return Err(illegal(format!("a {} scalar parameter", t.name()))),
                };
                self.emit(
                    op,
                    vec![
                        Operand::Reg(reg),
                        Operand::Addr {
                            base: Base::Reg(scalars),
                            offset: i64::from(word) * 4,
                        },
                    ],
                );
                self.params[i] = Some(reg);
            }
        }
        if k.shared_bytes > 0 || !k.shared.is_empty() {
            let r = self.reg(Class::B32);
            self.emit(
                "mov.u32",
                vec![Operand::Reg(r), Operand::Symbol(SMEM.to_string())],
            );
            self.smem = Some(r);
        }
        if self.read_paths.contains(&memory::ReadPath::Streamed) {
            let p = self.reg(Class::B64);
            self.emit(
                "createpolicy.fractional.L2::evict_first.b64",
                vec![Operand::Reg(p), Operand::F32(1.0f32.to_bits())],
            );
            self.evict_first = Some(p);
        }
        for (_, v) in k.vars.iter() {
            let class = class_of(v.ty)?;
            let r = self.reg(class);
            self.zero_init(r);
            self.vars.push(r);
        }
        for (_, l) in k.locals.iter() {
            let class = memory::slot_class(l.dtype)?;
            let mut regs = Vec::with_capacity(l.len as usize);
            for _ in 0..l.len.max(1) {
                let r = self.reg(class);
                self.zero_init(r);
                regs.push(r);
            }
            self.locals.push(regs);
        }
        Ok(())
    }

    fn zero_init(&mut self, r: Reg) {
        match r.class {
            Class::Pred => {
                let z = self.zero_reg();
                self.emit(
                    "setp.ne.s32",
                    vec![Operand::Reg(r), Operand::Reg(z), Operand::Imm(0)],
                );
            }
            Class::F32 => self.mov(r, Operand::F32(0)),
            Class::B32 | Class::B64 => self.mov(r, Operand::Imm(0)),
        }
    }

    fn block(&mut self, body: &[Stmt]) -> R<()> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, s: &Stmt) -> R<()> {
        self.memo.clear();
        match s {
            Stmt::Assign { var, value } => {
                let dst = self.var_reg(var.index())?;
                let v = self.operand(*value)?;
                self.mov(dst, v);
            }
            Stmt::SetLocal { dst, value } => {
                let r = self.slot_reg(dst.array.index(), dst.slot)?;
                let v = self.operand(*value)?;
                self.mov(r, v);
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => self.load(*dst, *src, *width, *mask)?,
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => self.store(*dst, *src, *width, *mask)?,
            Stmt::Atomic { op, dst, value } => self.atomic(*op, *dst, *value)?,
            Stmt::SemAcquire { sem, value } => self.sem_acquire(*sem, *value)?,
            Stmt::SemRelease { sem, value } => self.sem_release(*sem, *value)?,
            Stmt::Barrier | Stmt::SharedBarrier => {
                // bar.sync orders shared and global memory among the block's threads.
                self.emit("bar.sync", vec![Operand::Imm(0)]);
            }
            Stmt::Mma {
                shape,
                dtype,
                a,
                b,
                c,
                d,
            } => self.mma(*shape, *dtype, [*a, *b, *c, *d])?,
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let v = self.var_reg(var.index())?;
                let s0 = self.operand(*start)?;
                // The bounds are evaluated once: copies, so the body cannot change them.
                let e = self.copy_of(*end)?;
                let st = self.copy_of(*step)?;
                self.mov(v, s0);
                let (top, done) = (self.label(), self.label());
                self.place(top);
                let p = self.reg(Class::Pred);
                self.emit(
                    "setp.ge.s32",
                    vec![Operand::Reg(p), Operand::Reg(v), Operand::Reg(e)],
                );
                self.emit_if(p, false, "bra", vec![Operand::Label(done)]);
                self.block(body)?;
                self.memo.clear();
                self.emit(
                    "add.s32",
                    vec![Operand::Reg(v), Operand::Reg(v), Operand::Reg(st)],
                );
                self.emit("bra", vec![Operand::Label(top)]);
                self.place(done);
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let c = self.value(*cond)?;
                let (other, done) = (self.label(), self.label());
                self.emit_if(c, true, "bra", vec![Operand::Label(other)]);
                self.block(then_body)?;
                if else_body.is_empty() {
                    self.place(other);
                } else {
                    self.emit("bra", vec![Operand::Label(done)]);
                    self.place(other);
                    self.block(else_body)?;
                    self.place(done);
                }
            }
            Stmt::View { .. } => return Err(illegal("`view`")),
            Stmt::CopyAsync {
                dst,
                src,
                width,
                mask,
            } => self.copy_async(*dst, *src, *width, *mask)?,
            Stmt::CommitGroup => self.emit("cp.async.commit_group", vec![]),
            Stmt::WaitGroup(n) => {
                self.emit("cp.async.wait_group", vec![Operand::Imm(i64::from(*n))])
            }
            Stmt::WaitAll => self.emit("cp.async.wait_all", vec![]),
            Stmt::LdMatrix {
                src,
                row,
                num,
                trans,
                dst,
            } => self.ldmatrix(*src, *row, *num, *trans, *dst)?,
            Stmt::Shuffle { dst, value, lane } => self.shuffle(*dst, *value, *lane)?,
        }
        Ok(())
    }

    /// The value of `e` in a register no later statement writes.
    fn copy_of(&mut self, e: ExprId) -> R<Reg> {
        let v = self.value(e)?;
        let r = self.reg(v.class);
        self.mov(r, Operand::Reg(v));
        Ok(r)
    }
}

/// The register budget of a block of `threads`: the 64 Ki-entry register file shared by the
/// block's warps, in the allocation unit of 8, at most 255.
fn max_regs(threads: u32) -> u32 {
    let warps = threads.div_ceil(32).max(1);
    (65536 / (warps * 32) / 8 * 8).clamp(24, 255)
}

/// A PTX identifier from a kernel name (letters, digits, `_`; not starting with a digit).
fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "k_");
    }
    s
}
