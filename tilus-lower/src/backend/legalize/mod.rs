//! Word legalization, shared by the WGSL and PTX backends: rewrites a [`ThreadKernel`] into
//! a *word-legal* thread kernel, which [`crate::backend::wgsl::emit`] or
//! [`crate::backend::ptx`] prints one construct at a time, deciding nothing. A [`Profile`]
//! says what the target adds to the common 32-bit subset ([`Profile::wgsl`],
//! [`Profile::ptx`]); the rest of this documentation describes WGSL, and
//! [`Profile`] the differences.
//!
//! ```text
//! ThreadKernel ─unsupported::check─► plan storage (buffers → words, shared → smem,
//!              locals → packed | unpacked) ─► rewrite every statement (memory, locals,
//!              exprs, floats) ─► share: bind large shared subexpressions ─► legal kernel
//! ```
//!
//! # What a legal kernel contains
//! - **Types**: `bool`, `i32`, `u32`, `f32` only. `f16` values are carried as `f32`
//!   (always exactly an `f16` value: every `f16` operation is computed in `f32` and
//!   rounded to `f16` by an integer routine, see [`floats`]); 64-bit types are rejected.
//!   Native WGSL `f16` is never used (`enable f16;` is never emitted), whatever
//!   [`WgslCaps::shader_f16`] says: WGSL leaves the rounding of `f32 → f16` and the tie
//!   behaviour of `f16` arithmetic to the implementation, while the integer emulation is
//!   exact everywhere; `f16 + - *` computed in `f32` and rounded once are bit-exact
//!   because `f32` has more than twice `f16`'s precision.
//! - **Global memory**: every buffer is an array of 32-bit words: buffers of `i32`, `u32`
//!   and `f32` keep their element type (word = element); every other buffer becomes `u32`
//!   words holding its little-endian bit stream (element `i` = bits `[i·n, (i+1)·n)`, so
//!   3-, 5-, 6- and 7-bit elements may straddle two words). Pointer parameters record
//!   their original element type in [`Param::dtype`]; workspace sizes are counted in words.
//! - **Shared memory**: one `u32` allocation `smem` (offset 0) holding the block's whole
//!   shared memory; an allocation at byte offset `o` starts at bit `8·o`.
//! - **Loads** (see `memory.rs`): an access whose first bit is provably word-aligned reads
//!   whole words and extracts elements at constant bit offsets; an access of at most 32
//!   bits reads the word at its computed bit offset, and the next word too when the
//!   access may cross into it (that read masked off when it does not, so nothing beyond
//!   the buffer is read); anything longer is done element by element the same way.
//!   Masked loads keep their mask (zeros when false).
//! - **Stores**: a store that provably covers whole aligned words writes them with plain
//!   word stores. Any other store may share a word with another thread's elements, so it
//!   clears its bits with `Stmt::Atomic(And, !mask)` and sets them with
//!   `Stmt::Atomic(Or, bits)` — two atomics per touched word. A thread that reads the
//!   element between the two atomics could see zeros, but only a racy program does so. A
//!   buffer (or `smem`) that is the target of an atomic is emitted as
//!   `array<atomic<u32>>`, and all its loads and stores become `atomicLoad`/`atomicStore`.
//! - **Local arrays** (see `locals.rs`): an array that takes part in a [`Stmt::View`] is
//!   *packed*: `u32` words holding its bit stream, slots read by shifts and masks and
//!   written by read-modify-write of their words; a view copies words. Every other array
//!   is *unpacked*: one slot per element, holding the carrier value (`i32`, `u32`, `f32`)
//!   or, for `f16` and coded floats, the code (`u32`).
//! - **Expressions** (see `exprs.rs`): only operators WGSL computes exactly the way the
//!   thread IR defines them, or which the thread IR declares approximate
//!   (`exp`, `exp2`, `log`, `sqrt`, `/` and `fma` on floats). `decode`/`encode` become
//!   integer bit operations; `int → f32` conversions are emitted natively only when the
//!   value provably fits 24 bits (WGSL does not fix their rounding), otherwise by an
//!   integer routine; float → int conversions get explicit NaN and saturation selects;
//!   float `min`/`max` are spelled out with selects (NaN ignored, `-0 < +0`); every shift
//!   amount is a `u32` provably below 32 (a guard selects the out-of-range result
//!   otherwise), because WGSL takes the amount modulo 32 where the thread IR gives 0 or the
//!   sign fill. Integer division keeps WGSL's `/` and `%`, which truncate like the thread
//!   IR; WGSL defines `x / 0 = x` where the thread IR reports an error, which lowering never
//!   produces for valid programs.
//! - **Other statements**: `cp.async` becomes a synchronous copy (the source is read and
//!   the destination written at once), commit/wait disappear, barriers stay; a barrier no
//!   global write can precede orders workgroup memory only ([`Stmt::SharedBarrier`],
//!   `fences.rs`).
//!   `mma`, `ldmatrix` and semaphores are rejected with a [`LowerError::Unsupported`].
//! - **Temporaries** (word buffers of a load, word indices, offsets) are local arrays and
//!   variables reused from one input statement to the next; a non-leaf expression node used
//!   twice by a statement and larger than a few nodes is assigned to a variable first
//!   (`share.rs`), which keeps both the WGSL and the thread interpreter linear in size.
//!
//! Known gaps in bit-exactness (documented, not silently different): `/`, `sqrt`,
//! transcendental functions and `fma` use WGSL's builtins (WGSL allows `/` 2.5 ulp and an
//! unfused `fma`; lavapipe's `fma` differs from a fused one in the last bit, which the
//! `dot` bound covers); `f16` `fma` rounds the `f32` fma to `f16` (the thread interpreter
//! rounds through `f64`); float comparisons with NaN follow the device (WGSL may assume no
//! NaN); float `%` is rejected.

mod exprs;
mod facts;
mod fences;
pub mod floats;
mod locals;
mod memory;
mod ops;
mod share;
mod unsupported;
mod warp;

use std::collections::HashMap;

use tilus_ir::dtype::DType;

use crate::error::LowerError;
use crate::grid::GridExpr;
use crate::target::{CpuCaps, NativeF16, PtxCaps, WgslCaps};
use crate::thread_ir::{
    Buffer, BufferId, BufferKind, ExprId, KernelBuilder, LocalId, Param, ParamKind, SharedId, Stmt,
    ThreadKernel, Ty, VarId,
};

use facts::Facts;
use locals::LocalRepr;

type R<T> = Result<T, LowerError>;

/// Name of the single shared-memory word array of a legalized kernel.
pub const SMEM_NAME: &str = "smem";

/// What a target adds to the common word-legal subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The target's short name, for error messages (`wgsl`, `ptx`).
    pub target: &'static str,
    /// Threads per block the target allows.
    pub max_threads: u32,
    /// Bytes of shared memory per block the target allows.
    pub shared_bytes: u32,
    /// The native `f16` conversions proven exact.
    pub f16_native: NativeF16,
    /// Integer → `f32` conversions round to nearest even natively (PTX `cvt.rn`), so they
    /// are kept for any value; otherwise only values provably below 2^24 are converted
    /// natively and the rest by an integer routine (WGSL leaves the rounding open).
    pub exact_int_to_f32: bool,
    /// The warp intrinsics (`mma`, `ldmatrix`) and inter-block semaphores are kept (the
    /// target executes them); otherwise they are rejected.
    pub warp_ops: bool,
    /// `cp.async` is kept for word-aligned global → shared copies (with commit and wait
    /// groups); otherwise copies are synchronous and commit/wait disappear.
    pub async_copy: bool,
    /// `f32` arithmetic keeps subnormal operands and results (PTX without `.ftz`), so coded
    /// floats are decoded by shift, mask and an exact scale ([`floats::decode_scaled`]);
    /// otherwise (WGSL may flush subnormals) by integer operations with a subnormal select.
    pub subnormals: bool,
}

impl Profile {
    /// The WGSL profile of an adapter.
    pub fn wgsl(caps: &WgslCaps) -> Profile {
        Profile {
            target: "wgsl",
            max_threads: caps.max_invocations,
            shared_bytes: caps.max_workgroup_storage,
            f16_native: caps.f16_native,
            exact_int_to_f32: false,
            warp_ops: false,
            async_copy: false,
            subnormals: false,
        }
    }

    /// The PTX profile: `cvt.rn` conversions, tensor cores, semaphores. `f16` conversions
    /// stay integer routines (exact by construction; `cvt` between `f16` and `f32` differs
    /// from the thread IR on NaN payloads).
    pub fn ptx(caps: &PtxCaps) -> Profile {
        Profile {
            target: "ptx",
            max_threads: caps.max_threads,
            shared_bytes: caps.shared_bytes,
            f16_native: NativeF16::default(),
            exact_int_to_f32: true,
            warp_ops: true,
            async_copy: true,
            subnormals: true,
        }
    }
}

impl Profile {
    /// The CPU profile: conversions round to nearest even natively (x86 and AArch64 do),
    /// subnormals are kept, copies are synchronous and there are no warp intrinsics (the
    /// threads of a block run one after another).
    pub fn cpu(caps: &CpuCaps) -> Profile {
        Profile {
            target: "cpu",
            max_threads: caps.max_threads,
            shared_bytes: caps.shared_bytes,
            f16_native: NativeF16::default(),
            exact_int_to_f32: true,
            warp_ops: false,
            async_copy: false,
            subnormals: true,
        }
    }
}

/// Rewrites `kernel` into a WGSL-legal thread kernel (see the module documentation).
pub fn legalize_wgsl(kernel: &ThreadKernel, caps: &WgslCaps) -> Result<ThreadKernel, LowerError> {
    legalize_words(kernel, &Profile::wgsl(caps))
}

/// Rewrites `kernel` into a word-legal thread kernel for `profile`.
pub fn legalize_words(
    kernel: &ThreadKernel,
    profile: &Profile,
) -> Result<ThreadKernel, LowerError> {
    unsupported::check(kernel, profile)?;
    let mut cx = Legalizer::new(kernel)?;
    cx.profile = *profile;
    let mut body = cx.block(&kernel.body)?;
    fences::relax(&mut body, false);
    let body = share::bind(&mut cx.b, body);
    Ok(cx.finish(body))
}

/// The word type that stores elements of `dtype` in a legalized buffer.
pub fn word_dtype(dtype: DType) -> DType {
    match dtype {
        DType::Int { bits: 32, .. } | DType::F32 => dtype,
        _ => U32,
    }
}

const U32: DType = DType::Int {
    bits: 32,
    signed: false,
};

/// The rewriting state: the input kernel, the output under construction and the maps
/// between them.
pub(crate) struct Legalizer<'k> {
    /// The input kernel.
    pub src: &'k ThreadKernel,
    /// The output kernel.
    pub b: KernelBuilder,
    /// Facts about the input's expressions.
    pub facts: Facts<'k>,
    memo: HashMap<ExprId, ExprId>,
    vars: Vec<VarId>,
    locals: Vec<LocalRepr>,
    buffers: Vec<BufferId>,
    smem: Option<SharedId>,
    temps: Pool<(&'static str, DType, u32), LocalId>,
    temp_vars: Pool<(&'static str, Ty), VarId>,
    /// The target's profile (its proven native `f16` conversions included).
    pub profile: Profile,
}

/// Temporaries reused from one input statement to the next: everything a statement's
/// rewrite creates is dead once its output statements have run.
pub(crate) struct Pool<K, V> {
    free: HashMap<K, Vec<V>>,
    used: HashMap<K, usize>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Copy> Pool<K, V> {
    fn new() -> Self {
        Pool {
            free: HashMap::new(),
            used: HashMap::new(),
        }
    }

    /// Makes every temporary available again (at the start of an input statement).
    pub(crate) fn reset(&mut self) {
        self.used.clear();
    }

    /// A temporary for `key` not yet handed out since the last reset (made by `make`).
    pub(crate) fn get(&mut self, key: K, make: impl FnOnce() -> V) -> V {
        let n = self.used.entry(key.clone()).or_default();
        let list = self.free.entry(key).or_default();
        let v = match list.get(*n) {
            Some(&v) => v,
            None => {
                let v = make();
                list.push(v);
                v
            }
        };
        *n += 1;
        v
    }
}

impl<'k> Legalizer<'k> {
    fn new(src: &'k ThreadKernel) -> R<Self> {
        let mut b = KernelBuilder::new(src.name.clone(), src.num_threads);
        b.kernel.grid = src.grid.clone();
        b.kernel.assumptions = src.assumptions.clone();
        // Reserve the names of everything in the input so that temporaries never collide.
        for (_, v) in src.vars.iter() {
            b.unique_name(&v.name);
        }
        for (_, l) in src.locals.iter() {
            b.unique_name(&l.name);
        }
        let mut buffers = Vec::with_capacity(src.buffers.len());
        for (_, buf) in src.buffers.iter() {
            let n = u64::from(buf.dtype.bits());
            let kind = match &buf.kind {
                BufferKind::Param(i) => BufferKind::Param(*i),
                BufferKind::Workspace {
                    elements,
                    requires_clean,
                } => BufferKind::Workspace {
                    elements: if n == 32 {
                        elements.clone()
                    } else {
                        GridExpr::CeilDiv(
                            Box::new(GridExpr::Mul(
                                Box::new(elements.clone()),
                                Box::new(GridExpr::Const(n as i64)),
                            )),
                            Box::new(GridExpr::Const(32)),
                        )
                    },
                    requires_clean: *requires_clean,
                },
            };
            buffers.push(b.kernel.buffers.alloc(Buffer {
                name: buf.name.clone(),
                dtype: word_dtype(buf.dtype),
                kind,
            }));
        }
        for p in &src.params {
            let (kind, dtype) = match p.kind {
                ParamKind::Scalar(Ty::F16) => (ParamKind::Scalar(Ty::F32), p.dtype),
                ParamKind::Scalar(Ty::Bool) => (ParamKind::Scalar(Ty::U32), None),
                ParamKind::Scalar(t) => (ParamKind::Scalar(t), p.dtype),
                ParamKind::Pointer(old) => {
                    let new = buffers.get(old.index()).copied().ok_or_else(|| {
                        LowerError::InvalidProgram(format!("parameter #{} dangles", p.name))
                    })?;
                    (
                        ParamKind::Pointer(new),
                        src.buffers.try_get(old).map(|b| b.dtype),
                    )
                }
            };
            b.kernel.params.push(Param {
                name: p.name.clone(),
                kind,
                dtype,
            });
        }
        let smem = if src.shared_bytes > 0 || !src.shared.is_empty() {
            let words = src.shared_bytes.div_ceil(4).max(1);
            b.kernel.shared_bytes = words * 4;
            let name = b.unique_name(SMEM_NAME);
            Some(b.kernel.shared.alloc(crate::thread_ir::SharedAlloc {
                name,
                dtype: U32,
                offset: 0,
                len: words,
            }))
        } else {
            None
        };
        let mut vars = Vec::with_capacity(src.vars.len());
        for (_, v) in src.vars.iter() {
            let ty = if v.ty == Ty::F16 { Ty::F32 } else { v.ty };
            vars.push(b.kernel.vars.alloc(crate::thread_ir::Var {
                name: v.name.clone(),
                ty,
            }));
        }
        let locals = locals::plan(src, &mut b);
        Ok(Legalizer {
            src,
            b,
            facts: Facts::new(src),
            memo: HashMap::new(),
            vars,
            locals,
            buffers,
            smem,
            temps: Pool::new(),
            temp_vars: Pool::new(),
            profile: Profile::wgsl(&WgslCaps::default()),
        })
    }

    fn finish(self, body: Vec<Stmt>) -> ThreadKernel {
        let mut k = self.b.finish();
        k.body = body;
        k
    }

    /// The output variable of an input variable.
    fn var(&self, v: VarId) -> R<VarId> {
        self.vars
            .get(v.index())
            .copied()
            .ok_or_else(|| LowerError::InvalidProgram(format!("variable {v:?} dangles")))
    }

    /// The storage plan of an input local array.
    fn local(&self, a: LocalId) -> R<LocalRepr> {
        self.locals
            .get(a.index())
            .copied()
            .ok_or_else(|| LowerError::InvalidProgram(format!("local array {a:?} dangles")))
    }

    /// Rewrites a statement list.
    fn block(&mut self, body: &[Stmt]) -> R<Vec<Stmt>> {
        let mut out = Vec::with_capacity(body.len());
        for s in body {
            self.stmt(s, &mut out)?;
        }
        Ok(out)
    }

    /// The `f32` carrier of an `f16` code: shift, mask and scale where the target keeps
    /// subnormals, else the integer routine.
    pub(crate) fn f16_value(&mut self, code: ExprId) -> ExprId {
        if self.profile.subnormals {
            floats::f16_code_to_f32_scaled(&mut self.b, code)
        } else {
            floats::f16_code_to_f32(&mut self.b, code)
        }
    }

    /// A temporary local array (reused by later input statements).
    pub(crate) fn temp(&mut self, base: &'static str, dtype: DType, len: u32) -> LocalId {
        let b = &mut self.b;
        self.temps
            .get((base, dtype, len), || b.local(base, dtype, len.max(1)))
    }

    /// A temporary variable (reused by later input statements).
    pub(crate) fn temp_var(&mut self, base: &'static str, ty: Ty) -> VarId {
        let b = &mut self.b;
        self.temp_vars.get((base, ty), || {
            let name = b.unique_name(base);
            b.kernel.vars.alloc(crate::thread_ir::Var { name, ty })
        })
    }

    /// Rewrites one statement, appending the result to `out`.
    fn stmt(&mut self, s: &Stmt, out: &mut Vec<Stmt>) -> R<()> {
        // Temporaries of earlier statements are dead here. (Compound statements create
        // none of their own; their bodies reset again.)
        self.temps.reset();
        self.temp_vars.reset();
        match s {
            Stmt::Assign { var, value } => {
                let var = self.var(*var)?;
                let value = self.expr(*value)?;
                out.push(Stmt::Assign { var, value });
            }
            Stmt::SetLocal { dst, value } => {
                let value = self.expr(*value)?;
                self.write_slot(out, *dst, value)?;
            }
            Stmt::Load {
                dst,
                src,
                width,
                mask,
            } => self.load(out, *dst, *src, *width, *mask)?,
            Stmt::Store {
                dst,
                src,
                width,
                mask,
            } => self.store(out, *dst, *src, *width, *mask)?,
            Stmt::View { dst, src } => self.view(out, *dst, *src)?,
            Stmt::CopyAsync {
                dst,
                src,
                width,
                mask,
            } => self.copy(out, *dst, *src, *width, *mask)?,
            Stmt::CommitGroup | Stmt::WaitGroup(_) | Stmt::WaitAll if self.profile.async_copy => {
                out.push(s.clone())
            }
            // cp.async is synchronous here: nothing to commit or wait for.
            Stmt::CommitGroup | Stmt::WaitGroup(_) | Stmt::WaitAll => {}
            Stmt::Barrier | Stmt::SharedBarrier => out.push(s.clone()),
            Stmt::Atomic { op, dst, value } => self.atomic(out, *op, *dst, *value)?,
            Stmt::Mma {
                shape,
                dtype,
                a,
                b,
                c,
                d,
            } if self.profile.warp_ops => self.mma(out, *shape, *dtype, [*a, *b, *c, *d])?,
            Stmt::SemAcquire { sem, value } if self.profile.warp_ops => {
                let sem = self.word_ref(*sem, "a semaphore")?;
                let value = self.expr(*value)?;
                out.push(Stmt::SemAcquire { sem, value });
            }
            Stmt::SemRelease { sem, value } if self.profile.warp_ops => {
                let sem = self.word_ref(*sem, "a semaphore")?;
                let value = self.expr(*value)?;
                out.push(Stmt::SemRelease { sem, value });
            }
            Stmt::LdMatrix {
                src,
                row,
                num,
                trans,
                dst,
            } if self.profile.warp_ops => self.ldmatrix(out, *src, *row, *num, *trans, *dst)?,
            Stmt::Shuffle { dst, value, lane } if self.profile.warp_ops => {
                self.shuffle(out, *dst, *value, *lane)?
            }
            Stmt::Mma { .. }
            | Stmt::LdMatrix { .. }
            | Stmt::Shuffle { .. }
            | Stmt::SemAcquire { .. }
            | Stmt::SemRelease { .. } => {
                return Err(unsupported::statement(s));
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let var = self.var(*var)?;
                let (start, end, step) = (self.expr(*start)?, self.expr(*end)?, self.expr(*step)?);
                let body = self.block(body)?;
                out.push(Stmt::For {
                    var,
                    start,
                    end,
                    step,
                    body,
                });
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let cond = self.expr(*cond)?;
                let then_body = self.block(then_body)?;
                let else_body = self.block(else_body)?;
                out.push(Stmt::If {
                    cond,
                    then_body,
                    else_body,
                });
            }
        }
        Ok(())
    }
}
