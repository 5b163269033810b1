//! The driver of CPU code generation: the function's entry (slot table, launch words,
//! scalar parameters), thread loops, and the block-level control flow around barriers.

use std::collections::{BTreeSet, HashMap};

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, Block, ExtFuncData, ExternalName, FuncRef, Function, InstBuilder,
    MemFlagsData, Signature, Type, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use target_lexicon::PointerWidth;

use super::regions::{has_barrier, touched, CellMap};
use super::status;
use crate::backend::contract::Bindings;
use crate::error::LowerError;
use crate::thread_ir::{ExprId, ParamKind, Stmt, ThreadKernel, Ty};

pub(super) type R<T> = Result<T, LowerError>;

/// Bytes of one entry of the slot table (`base: u64, words: u64`).
const SLOT_BYTES: i32 = 16;

/// The generated function and what the runtime needs to call it.
pub(super) struct Output {
    pub clif: String,
    pub name: String,
    pub frame_bytes: u32,
    pub smem_words: u32,
}

/// Where expressions read cells from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Mode {
    /// Inside a thread loop: cells are Cranelift variables.
    Region,
    /// At block level: cells are read from the frame at this address.
    Frame(Value),
}

/// A memory space's base address and length in 32-bit words.
#[derive(Clone, Copy, Debug)]
pub(super) struct Space {
    pub base: Value,
    pub words: Value,
}

pub(super) struct Gen<'k, 'f> {
    pub k: &'k ThreadKernel,
    pub b: FunctionBuilder<'f>,
    pub cells: CellMap,
    /// Thread-IR type of each cell.
    pub cell_ty: Vec<Ty>,
    /// The Cranelift variable of each cell.
    pub cell_var: Vec<Variable>,
    /// The kernel has barriers: cells live in frames between thread loops.
    pub framed: bool,
    pub mode: Mode,
    /// The current thread index (`i32`).
    pub tid: Value,
    pub frames_ptr: Value,
    /// `blockIdx.xyz`, `gridDim.xyz`.
    pub launch: [Value; 6],
    /// Scalar parameter values, by parameter index.
    pub params: Vec<Option<Value>>,
    /// Global buffers, by buffer index.
    pub buffers: Vec<Option<Space>>,
    pub smem: Space,
    /// Blocks that return a status code, filled at the end.
    pub fails: Vec<(Block, i32)>,
    pub fail_block: HashMap<i32, Block>,
    /// Values of the expressions of the current statement.
    pub cache: HashMap<ExprId, (Value, Ty)>,
    pub libcalls: HashMap<&'static str, FuncRef>,
    /// Flags of accesses the generated code has proven in bounds (and aligned).
    pub trusted: MemFlagsData,
    /// Flags without guarantees (bitcasts).
    pub plain: MemFlagsData,
    /// Threads per SIMD iteration (1: scalar thread loops only).
    pub lanes: u32,
}

/// The Cranelift type of a register type.
pub(super) fn clif_type(t: Ty) -> R<Type> {
    match t {
        Ty::Bool => Ok(types::I8),
        Ty::I32 | Ty::U32 => Ok(types::I32),
        Ty::F32 => Ok(types::F32),
        Ty::F16 | Ty::I64 | Ty::U64 => Err(LowerError::Unsupported {
            inst: format!("a `{}` value", t.name()),
            reason: "the CPU code generator takes word-legal kernels (bool, i32, u32, f32)".into(),
        }),
    }
}

pub(super) fn generate(k: &ThreadKernel, bindings: &Bindings, lanes: u32) -> R<Output> {
    let cells = CellMap::of(k)?;
    let mut cell_ty = vec![Ty::I32; cells.total as usize];
    for (h, v) in k.vars.iter() {
        cell_ty[cells.var(h)? as usize] = v.ty;
    }
    for (h, a) in k.locals.iter() {
        let t = Ty::carrier(a.dtype);
        for s in 0..a.len {
            cell_ty[cells.slot(h, s)? as usize] = t;
        }
    }
    for &t in &cell_ty {
        clif_type(t)?;
    }
    let framed = k.body.iter().any(has_barrier);
    let frame_bytes = if framed {
        cells
            .total
            .checked_mul(4)
            .ok_or_else(|| LowerError::Unsupported {
                inst: "the thread frame".into(),
                reason: "more than 4 GiB per thread".into(),
            })?
    } else {
        0
    };
    let smem_words = k.shared_bytes.div_ceil(4);

    let mut sig = Signature::new(CallConv::SystemV);
    for _ in 0..4 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.returns.push(AbiParam::new(types::I32));
    let name = format!("tilus_{}", sanitize(&k.name));
    let mut func = Function::with_name_signature(UserFuncName::testcase(&name), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);

    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let args = b.block_params(entry).to_vec();
    let (slots_ptr, launch_ptr, smem_ptr, frames_ptr) = (args[0], args[1], args[2], args[3]);
    let trusted = MemFlagsData::trusted();
    let plain = MemFlagsData::new();
    let flags = trusted;
    let mut launch = [slots_ptr; 6];
    for (i, l) in launch.iter_mut().enumerate() {
        *l = b.ins().load(types::I32, flags, launch_ptr, 4 * i as i32);
    }
    let slot = |b: &mut FunctionBuilder, s: u32| -> Space {
        let off = SLOT_BYTES * s as i32;
        Space {
            base: b.ins().load(types::I64, flags, slots_ptr, off),
            words: b.ins().load(types::I64, flags, slots_ptr, off + 8),
        }
    };
    let mut buffers = vec![None; k.buffers.len()];
    for (i, bb) in bindings.buffer_binding.iter().enumerate() {
        if let (Some(s), Some(dst)) = (bb, buffers.get_mut(i)) {
            *dst = Some(slot(&mut b, *s));
        }
    }
    let scalars = slot(&mut b, bindings.scalars_binding);
    let mut params = vec![None; k.params.len()];
    for (i, p) in k.params.iter().enumerate() {
        if let (ParamKind::Scalar(t), Some(Some(w))) = (p.kind, bindings.scalar_word.get(i)) {
            let raw = b.ins().load(types::I32, flags, scalars.base, 4 * *w as i32);
            params[i] = Some(match t {
                Ty::F32 => b.ins().bitcast(types::F32, plain, raw),
                Ty::Bool => b.ins().icmp_imm_s(IntCC::NotEqual, raw, 0),
                Ty::I32 | Ty::U32 => raw,
                other => clif_type(other).map(|_| raw)?,
            });
        }
    }
    let smem = Space {
        base: smem_ptr,
        words: b.ins().iconst(types::I64, i64::from(smem_words)),
    };
    let cell_var = cell_ty
        .iter()
        .map(|&t| clif_type(t).map(|ct| b.declare_var(ct)))
        .collect::<R<Vec<_>>>()?;
    let zero = b.ins().iconst(types::I32, 0);
    let mut g = Gen {
        k,
        b,
        cells,
        cell_ty,
        cell_var,
        framed,
        mode: Mode::Region,
        tid: zero,
        frames_ptr,
        launch,
        params,
        buffers,
        smem,
        fails: Vec::new(),
        fail_block: HashMap::new(),
        cache: HashMap::new(),
        libcalls: HashMap::new(),
        trusted,
        plain,
        lanes,
    };
    g.block_level(&k.body)?;
    let ok = g.b.ins().iconst(types::I32, i64::from(status::OK));
    g.b.ins().return_(&[ok]);
    for (blk, code) in std::mem::take(&mut g.fails) {
        g.b.switch_to_block(blk);
        let c = g.b.ins().iconst(types::I32, i64::from(code));
        g.b.ins().return_(&[c]);
    }
    g.b.seal_all_blocks();
    g.b.finalize(TargetFrontendConfig {
        default_call_conv: CallConv::SystemV,
        pointer_width: PointerWidth::U64,
        page_size_align_log2: 12,
    });
    let flags = cranelift_codegen::settings::Flags::new(cranelift_codegen::settings::builder());
    cranelift_codegen::verify_function(&func, &flags).map_err(|e| {
        LowerError::Internal(format!(
            "generated CPU code fails Cranelift's verifier: {e}"
        ))
    })?;
    Ok(Output {
        clif: func.display().to_string(),
        name,
        frame_bytes,
        smem_words,
    })
}

/// A kernel name as a CLIF identifier.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Gen<'_, '_> {
    /// Branches to a block returning `code` unless `ok` (an `i8` truth value) holds.
    pub fn check(&mut self, ok: Value, code: i32) {
        let fail = match self.fail_block.get(&code) {
            Some(&b) => b,
            None => {
                let b = self.b.create_block();
                self.b.set_cold_block(b);
                self.fails.push((b, code));
                self.fail_block.insert(code, b);
                b
            }
        };
        let cont = self.b.create_block();
        self.b.ins().brif(ok, cont, &[], fail, &[]);
        self.b.switch_to_block(cont);
    }

    /// The host function `name` with `arity` `f32` parameters and an `f32` result.
    pub fn libcall(&mut self, name: &'static str, arity: usize) -> FuncRef {
        if let Some(&f) = self.libcalls.get(name) {
            return f;
        }
        let mut sig = Signature::new(CallConv::SystemV);
        for _ in 0..arity {
            sig.params.push(AbiParam::new(types::F32));
        }
        sig.returns.push(AbiParam::new(types::F32));
        let sig = self.b.import_signature(sig);
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::testcase(name),
            signature: sig,
            colocated: false,
            patchable: false,
        });
        self.libcalls.insert(name, f);
        f
    }

    /// Where thread `tid`'s cells start. Frames are cell-major (cell `c` of thread `t` is
    /// word `c · num_threads + t`), so the cells of neighbouring threads are adjacent and
    /// SIMD lanes load and store them as one vector.
    pub(super) fn frame_of(&mut self, tid: Value) -> Value {
        let t = self.b.ins().uextend(types::I64, tid);
        let off = self.b.ins().ishl_imm_u(t, 2);
        self.b.ins().iadd(self.frames_ptr, off)
    }

    /// The address of cell `cell` from a thread's frame start: a base and an offset.
    pub(super) fn cell_at(&mut self, frame: Value, cell: u32) -> (Value, i32) {
        let off = 4 * i64::from(cell) * i64::from(self.k.num_threads);
        match i32::try_from(off) {
            Ok(o) => (frame, o),
            Err(_) => (self.b.ins().iadd_imm_s(frame, off), 0),
        }
    }

    /// Runs `body` once per thread, `tid` from `first` to `num_threads - 1`, with the thread
    /// index in `self.tid`.
    fn thread_loop(&mut self, first: u32, body: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        self.thread_loop_by(first, 1, body)
    }

    /// Like [`Gen::thread_loop`], `step` threads per iteration (`self.tid` is the first).
    pub(super) fn thread_loop_by(
        &mut self,
        first: u32,
        step: u32,
        body: impl FnOnce(&mut Self) -> R<()>,
    ) -> R<()> {
        let counter = self.b.declare_var(types::I32);
        let start = self.b.ins().iconst(types::I32, i64::from(first));
        self.b.def_var(counter, start);
        let (header, inner, exit) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let t = self.b.use_var(counter);
        let more =
            self.b
                .ins()
                .icmp_imm_s(IntCC::UnsignedLessThan, t, i64::from(self.k.num_threads));
        self.b.ins().brif(more, inner, &[], exit, &[]);
        self.b.switch_to_block(inner);
        self.tid = t;
        body(self)?;
        let t = self.b.use_var(counter);
        let next = self.b.ins().iadd_imm_s(t, i64::from(step));
        self.b.def_var(counter, next);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(exit);
        Ok(())
    }

    /// `for v in range(lo, hi, step)` over `i32` bounds, the thread IR's loop: a step that is
    /// not positive stops the launch ([`status::BAD_STEP`]); the counter is an `i64`, so it
    /// cannot wrap. `body` gets the iteration's value (`i32`).
    pub(super) fn counted_loop(
        &mut self,
        [lo, hi, step]: [Value; 3],
        body: impl FnOnce(&mut Self, Value) -> R<()>,
    ) -> R<()> {
        let ok = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, step, 0);
        self.check(ok, status::BAD_STEP);
        let (lo, hi, step) = (
            self.b.ins().sextend(types::I64, lo),
            self.b.ins().sextend(types::I64, hi),
            self.b.ins().sextend(types::I64, step),
        );
        let counter = self.b.declare_var(types::I64);
        self.b.def_var(counter, lo);
        let (header, inner, exit) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let cur = self.b.use_var(counter);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, cur, hi);
        self.b.ins().brif(more, inner, &[], exit, &[]);
        self.b.switch_to_block(inner);
        let next = self.b.ins().iadd(cur, step);
        self.b.def_var(counter, next);
        let v = self.b.ins().ireduce(types::I32, cur);
        body(self, v)?;
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(exit);
        Ok(())
    }

    /// `if c { arm(true) } else { arm(false) }` for an `i8` truth value `c`.
    pub(super) fn branch(
        &mut self,
        c: Value,
        mut arm: impl FnMut(&mut Self, bool) -> R<()>,
    ) -> R<()> {
        let (then_b, else_b, merge) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(c, then_b, &[], else_b, &[]);
        self.b.switch_to_block(then_b);
        arm(self, true)?;
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(else_b);
        arm(self, false)?;
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        Ok(())
    }

    /// Statements without barriers, as one thread loop.
    fn region(&mut self, stmts: &[Stmt]) -> R<()> {
        if stmts.is_empty() {
            return Ok(());
        }
        let t = touched(self.k, &self.cells, stmts)?;
        let live: BTreeSet<u32> = t.reads.union(&t.writes).copied().collect();
        if self.lanes == super::vector::LANES
            && self.k.num_threads.is_multiple_of(super::vector::LANES)
        {
            // Cells loaded from the frames hold each thread's own value.
            let initial: Vec<u32> = if self.framed {
                live.iter().copied().collect()
            } else {
                Vec::new()
            };
            if let Some(plan) = super::vector::plan(self.k, &self.cells, stmts, &initial)? {
                self.mode = Mode::Region;
                return self.vector_region(stmts, plan, &live, &t.writes);
            }
        }
        self.thread_loop(0, |g| {
            g.mode = Mode::Region;
            let frame = if g.framed {
                let tid = g.tid;
                Some(g.frame_of(tid))
            } else {
                None
            };
            for &c in &live {
                let ty = clif_type(g.cell_ty[c as usize])?;
                let v = match frame {
                    Some(f) => {
                        let (a, o) = g.cell_at(f, c);
                        g.b.ins().load(ty, g.trusted, a, o)
                    }
                    None => g.zero(ty),
                };
                g.b.def_var(g.cell_var[c as usize], v);
            }
            g.stmts(stmts)?;
            if let Some(f) = frame {
                for &c in &t.writes {
                    let v = g.b.use_var(g.cell_var[c as usize]);
                    let (a, o) = g.cell_at(f, c);
                    g.b.ins().store(g.trusted, v, a, o);
                }
            }
            Ok(())
        })
    }

    /// A zero of a Cranelift type.
    pub fn zero(&mut self, ty: Type) -> Value {
        if ty == types::F32 {
            self.b.ins().f32const(0.0)
        } else {
            self.b.ins().iconst(ty, 0)
        }
    }

    /// `e` evaluated by every thread at block level; all must agree (else
    /// [`status::DIVERGENT`]). The value of thread 0, as an `i32` or `i8`.
    fn uniform(&mut self, e: ExprId) -> R<Value> {
        let f0 = self.frames_ptr;
        self.mode = Mode::Frame(f0);
        self.tid = self.b.ins().iconst(types::I32, 0);
        self.cache.clear();
        let (v0, _) = self.eval(e)?;
        self.thread_loop(1, |g| {
            let tid = g.tid;
            let f = g.frame_of(tid);
            g.mode = Mode::Frame(f);
            g.cache.clear();
            let (v, _) = g.eval(e)?;
            let same = g.b.ins().icmp(IntCC::Equal, v, v0);
            g.check(same, status::DIVERGENT);
            Ok(())
        })?;
        self.cache.clear();
        Ok(v0)
    }

    /// A statement list at block level: barrier-free stretches become thread loops; loops
    /// and branches around barriers run once for the block.
    fn block_level(&mut self, stmts: &[Stmt]) -> R<()> {
        let mut start = 0;
        for (i, s) in stmts.iter().enumerate() {
            if !has_barrier(s) {
                continue;
            }
            self.region(&stmts[start..i])?;
            start = i + 1;
            match s {
                Stmt::Barrier | Stmt::SharedBarrier => {}
                Stmt::For {
                    var,
                    start: lo,
                    end: hi,
                    step,
                    body,
                } => self.block_for(*var, [*lo, *hi, *step], body)?,
                Stmt::If {
                    cond,
                    then_body,
                    else_body,
                } => {
                    let c = self.uniform(*cond)?;
                    self.branch(c, |g, taken| {
                        g.block_level(if taken { then_body } else { else_body })
                    })?;
                }
                _ => {
                    return Err(LowerError::Internal(
                        "only barriers, loops and branches contain barriers".into(),
                    ))
                }
            }
        }
        self.region(&stmts[start..])
    }

    /// A loop containing a barrier: the block iterates; each iteration stores the loop
    /// variable into every thread's frame.
    fn block_for(
        &mut self,
        var: crate::thread_ir::VarId,
        bounds: [ExprId; 3],
        body: &[Stmt],
    ) -> R<()> {
        let [lo, hi, step] = bounds;
        let lo = self.uniform(lo)?;
        let hi = self.uniform(hi)?;
        let step = self.uniform(step)?;
        let cell = self.cells.var(var)?;
        self.counted_loop([lo, hi, step], |g, v| {
            g.thread_loop(0, |g| {
                let tid = g.tid;
                let f = g.frame_of(tid);
                let (a, o) = g.cell_at(f, cell);
                g.b.ins().store(g.trusted, v, a, o);
                Ok(())
            })?;
            g.block_level(body)
        })
    }
}
