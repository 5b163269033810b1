//! The tile interpreter: the reference semantics of tilus programs.
//!
//! [`run`] executes every block of a launch of a verified kernel on host buffers. What it
//! computes is what a program means: every backend must reproduce it bit for bit, except
//! `dot`, whose summation order backends may change (tensor cores do) within a stated bound.
//!
//! # Launch
//! Arguments bind to the parameters in order: [`Arg::Int`]/[`Arg::Float`] to scalars
//! (range-checked against the parameter's type), [`Arg::Buffer`] to pointers (the buffer's
//! dtype must be the pointer's). Buffers are updated in place, also when the run fails. The
//! grid extents are evaluated from the parameters; every block runs (`blockIdx` per block,
//! x fastest), in [`RunOptions::block_order`]. The threads of a block act collectively: the
//! interpreter works on whole tiles, and layouts only matter to `view`.
//!
//! # Values
//! A register tile is an array of element *codes* of its dtype in row-major order (unset
//! tiles read as 0). Shared tiles are the same per block; a shared allocation starts zeroed.
//! Scalars follow `expr.rs` (the typing rules are spelled out in `scalar.rs`): integers wrap
//! to their type, `/` and `%` truncate, `cdiv` is the ceiling, division by zero is an error,
//! `select` evaluates only the branch taken.
//!
//! # Global memory
//! A buffer is a little-endian bit stream (sub-byte elements straddle bytes,
//! spec/dtypes.md). `global_view` gives it a shape and strides (row-major by default);
//! element `(i0, …)` is at `Σ i_d · stride_d`. `slice` fixes leading indices and aliases its
//! source. `alloc_global` makes one zeroed workspace per launch and instruction, shared by
//! all blocks; with `requires_clean` it must be all zeros again at the end of the launch.
//! `load_global` and `copy_async` read tile element `j` at global index `offsets + j` over the
//! dimensions the tile spans (`dims`, default the last ones; other dimensions stay at their
//! offset): elements outside the view's shape (negative included) read as 0, and
//! `store_global` drops them. An element inside the shape whose offset falls outside the
//! buffer (a view that lies about its buffer) is an [`InterpErrorKind::OutOfBounds`] error.
//!
//! # Arithmetic
//! Floats are decoded exactly to `f32`, computed with one `f32` operation and encoded with
//! round-to-nearest-even (saturation and NaN per the spec); for `f16`, `bf16`, fp8 and the
//! minifloats this is the correctly rounded result of `+ - * / sqrt`. Integers compute in
//! `i64` and wrap. Comparisons give `u1` tiles. `cast`: float → float through `f32`,
//! int → int wraps, float → int toward zero with saturation (NaN → 0), int → float exact
//! then rounded. Scalar operands are converted to the tile's dtype first. Broadcasting is
//! NumPy's. `reduce` combines in ascending index order, rounding each partial float sum to
//! the dtype. `dot` accumulates in ascending `k`, each `acc + a·b` computed in `f64` from the
//! exact operands and rounded to the accumulator dtype (details in `dot.rs`). `view` packs
//! each thread's slots as a bit stream and unpacks them in the new dtype (`view.rs`).
//!
//! # Shared memory, asynchronous copies and races
//! `copy_async` reads global memory when issued and parks the data in the open group;
//! `commit_group` closes it; `wait_group(n)` completes all committed groups but the newest
//! `n`; `wait_all` completes everything. A `load_shared`, `store_shared`, `copy_async` or
//! `free_shared` touching a region with a pending copy is a [`InterpErrorKind::MissingWait`]
//! error. Since tile programs do not say which thread holds which element, a read of a
//! region written since the last `sync` (by `store_shared` or a completed copy), or a write
//! of a region read since then, is a [`InterpErrorKind::MissingSync`] error. Regions are
//! tracked per allocation and element range, so the stages of a multi-stage buffer are
//! independent. Using a freed tile is [`InterpErrorKind::UseAfterFree`]. Copies still
//! pending when a block ends are dropped and counted in [`RunReport::dropped_copies`].
//!
//! # Semaphores and scheduling
//! Blocks are resumable state machines (an explicit frame stack), so `lock_semaphore` can
//! suspend a block until another one releases the value it waits for. The scheduler starts
//! blocks in order and, whenever a block finishes or waits, resumes every waiting block
//! whose semaphore now holds the awaited value. When every unfinished block waits and none
//! can proceed, the run fails with [`InterpErrorKind::Deadlock`] naming the blocks and what
//! they wait for. [`RunOptions::max_steps`] bounds the statements executed.
//!
//! # Printing
//! `print` records the formatted tile in [`RunReport::prints`] for the blocks listed in
//! [`RunOptions::trace_blocks`], or for every block when that is `None` and
//! [`RunOptions::print`] is set.

mod annotate;
pub mod args;
mod buffers;
mod copy_async;
mod dot;
mod elementwise;
mod error;
mod exec;
mod memory;
mod race;
mod reduce;
mod scalar;
mod sync;
mod tile;
mod transfer;
mod view;

use std::collections::HashMap;

use crate::expr::ScalarType;
use crate::program::{Function, VarType};
use crate::verify::{FunctionInfo, VerifiedProgram};

pub use buffers::HostBuffer;
pub use error::{InterpError, InterpErrorInfo, InterpErrorKind};

use buffers::Memory;
use error::fail;
use exec::{run_block, with_context, BlockState, Launch, Status};
use scalar::{convert, Env, Eval, ExprTypes, Val};

/// One kernel argument, in parameter order.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// An integer scalar.
    Int(i64),
    /// A float scalar.
    Float(f64),
    /// A buffer for a pointer parameter; updated in place by the run.
    Buffer(HostBuffer),
}

impl Arg {
    /// The buffer, for a buffer argument.
    pub fn as_buffer(&self) -> Option<&HostBuffer> {
        match self {
            Arg::Buffer(b) => Some(b),
            _ => None,
        }
    }
}

/// The order in which blocks are started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BlockOrder {
    /// By linear block id (x fastest, then y, then z).
    #[default]
    Sequential,
    /// Last block first.
    Reverse,
    /// A pseudo-random permutation determined by the seed.
    Shuffled(u64),
}

/// How to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Block start order (results must not depend on it; tests vary it).
    pub block_order: BlockOrder,
    /// Record `print` output for every block (when `trace_blocks` is `None`).
    pub print: bool,
    /// Most statements executed before failing with [`InterpErrorKind::StepLimit`].
    pub max_steps: u64,
    /// Record `print` output for these blocks only.
    pub trace_blocks: Option<Vec<[u32; 3]>>,
    /// Launch this grid instead of the kernel's (x, y, z), e.g. a single block to debug it.
    pub grid: Option<[u32; 3]>,
    /// Most bytes one workspace (`alloc_global`) may take: a larger one fails with an
    /// error before anything is allocated (default 4 GiB).
    pub max_workspace_bytes: u64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            block_order: BlockOrder::Sequential,
            print: false,
            max_steps: 10_000_000_000,
            trace_blocks: None,
            grid: None,
            max_workspace_bytes: 4 << 30,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Blocks run.
    pub blocks: u64,
    /// Instructions executed (over all blocks).
    pub instructions: u64,
    /// Output of `print`, in execution order.
    pub prints: Vec<String>,
    /// Asynchronous copies still pending when their block ended (their data was dropped).
    pub dropped_copies: u64,
}

/// Runs kernel `kernel` of `program` on `args`.
pub fn run(
    program: &VerifiedProgram,
    kernel: &str,
    args: &mut [Arg],
    opts: &RunOptions,
) -> Result<RunReport, InterpError> {
    let Some((fi, f)) = program.function(kernel) else {
        let names: Vec<&str> = program
            .program()
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        return fail(
            InterpErrorKind::UnknownKernel,
            format!("no kernel `{kernel}` in the program (it has: {names:?})"),
        );
    };
    let default_info = FunctionInfo::default();
    let info = program.info(fi).unwrap_or(&default_info);
    let kernel_err = |mut e: InterpError| {
        e.kernel = Some(f.name.clone());
        e
    };
    let (params, ptr_params) = bind_args(f, args).map_err(kernel_err)?;
    // Move the buffers into the launch; they are moved back whatever happens.
    let mut mem = Memory::default();
    let mut ptr_bufs = vec![None; f.vars.len()];
    for (k, var) in ptr_params {
        if let Some(Arg::Buffer(b)) = args.get_mut(k) {
            let taken = std::mem::replace(b, HostBuffer::zeros(b.dtype, 0));
            let name = f
                .vars
                .try_get(var)
                .map_or_else(|| format!("#{k}"), |v| format!("`{}`", v.name));
            let idx = mem.add(taken, name);
            if let Some(slot) = ptr_bufs.get_mut(var.index()) {
                *slot = Some((idx, k));
            }
        }
    }
    let mut l = Launch {
        f,
        info,
        types: ExprTypes::new(f),
        mem,
        params,
        ptr_bufs: ptr_bufs.iter().map(|p| p.map(|(i, _)| i)).collect(),
        workspaces: HashMap::new(),
        clean: Vec::new(),
        layout_tables: HashMap::new(),
        grid: [1, 1, 1],
        steps: 0,
        max_steps: opts.max_steps,
        max_workspace_bytes: opts.max_workspace_bytes,
        report: RunReport::default(),
    };
    let result = launch(&mut l, opts);
    // Give the argument buffers back.
    let mut bufs: Vec<Option<HostBuffer>> = std::mem::take(&mut l.mem.bufs)
        .into_iter()
        .map(Some)
        .collect();
    for (idx, k) in ptr_bufs.into_iter().flatten() {
        if let (Some(Arg::Buffer(b)), Some(slot)) = (args.get_mut(k), bufs.get_mut(idx)) {
            if let Some(buf) = slot.take() {
                *b = buf;
            }
        }
    }
    result.map(|()| l.report)
}

fn describe_param(f: &Function, k: usize) -> String {
    let Some(v) = f.params.get(k).and_then(|&p| f.vars.try_get(p)) else {
        return format!("parameter {k}");
    };
    match v.ty {
        VarType::Scalar(t) => format!("parameter {k} `{}` ({t})", v.name),
        VarType::Pointer(d) => format!("parameter {k} `{}` (pointer to {d})", v.name),
    }
}

type Bound = (Vec<Option<Val>>, Vec<(usize, crate::program::VarId)>);

/// Checks the arguments against the parameters: scalar values by variable index, and the
/// (argument index, variable) of every pointer.
fn bind_args(f: &Function, args: &[Arg]) -> Result<Bound, InterpError> {
    if args.len() != f.params.len() {
        let list: Vec<String> = (0..f.params.len()).map(|k| describe_param(f, k)).collect();
        return fail(
            InterpErrorKind::BadArgument,
            format!(
                "{} arguments given for {} parameters ({})",
                args.len(),
                f.params.len(),
                list.join(", ")
            ),
        );
    }
    let mut vals = vec![None; f.vars.len()];
    let mut ptrs = Vec::new();
    for (k, (&p, arg)) in f.params.iter().zip(args).enumerate() {
        let bad = |what: String| {
            fail::<()>(
                InterpErrorKind::BadArgument,
                format!("{}: {what}", describe_param(f, k)),
            )
        };
        let Some(var) = f.vars.try_get(p) else {
            bad("does not exist".into())?;
            continue;
        };
        let val = match (var.ty, arg) {
            (VarType::Pointer(d), Arg::Buffer(b)) => {
                if b.dtype != d {
                    bad(format!("got a buffer of {}", b.dtype))?;
                }
                if !b.is_consistent() {
                    bad(format!(
                        "the buffer's {} bytes cannot hold its {} elements of {}",
                        b.bytes.len(),
                        b.len,
                        b.dtype
                    ))?;
                }
                ptrs.push((k, p));
                continue;
            }
            (VarType::Pointer(_), _) => {
                bad("expected a buffer, got a scalar".into())?;
                continue;
            }
            (VarType::Scalar(_), Arg::Buffer(_)) => {
                bad("expected a scalar, got a buffer".into())?;
                continue;
            }
            (VarType::Scalar(t), Arg::Int(v)) => match t {
                ScalarType::Data(d) if d.is_int() => {
                    if let Err(e) = d.code_of_int(*v) {
                        bad(e.to_string())?;
                    }
                    convert(Val::Int(*v), ScalarType::I64, t)
                }
                ScalarType::Bool if *v == 0 || *v == 1 => Val::Bool(*v == 1),
                ScalarType::Bool => {
                    bad(format!("{v} is not a bool (0 or 1)"))?;
                    continue;
                }
                _ => convert(Val::Int(*v), ScalarType::I64, t),
            },
            (VarType::Scalar(t), Arg::Float(x)) => {
                if !t.is_float() {
                    bad(format!("got the float {x}"))?;
                }
                convert(Val::Float(*x), ScalarType::F32, t)
            }
        };
        if let Some(slot) = vals.get_mut(p.index()) {
            *slot = Some(val);
        }
    }
    // The kernel's assumptions are part of its contract: a launch that breaks one is an
    // error, not undefined behaviour.
    for a in &f.assumes {
        let k = f.params.iter().position(|&p| p == a.var);
        let value = k.and_then(|k| match args.get(k) {
            Some(Arg::Int(v)) => Some(*v),
            _ => None,
        });
        let name = f.vars.try_get(a.var).map_or("?", |v| v.name.as_str());
        match value {
            Some(v) if a.divisor > 0 && v % i64::from(a.divisor) == 0 => {}
            _ => {
                return fail(
                    InterpErrorKind::BadArgument,
                    match value {
                        Some(v) => format!(
                            "the kernel assumes `{name} % {} == 0`, but {name} = {v}",
                            a.divisor
                        ),
                        None => format!(
                        "the kernel assumes `{name} % {} == 0`, but {name} is not given an integer",
                        a.divisor
                    ),
                    },
                )
            }
        }
    }
    Ok((vals, ptrs))
}

/// A 64-bit mix (splitmix64's finalizer).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A pseudo-random permutation of `0..n` (a Feistel network with cycle walking).
fn shuffle(p: u64, n: u64, seed: u64) -> u64 {
    let bits = (64 - n.saturating_sub(1).leading_zeros()).max(2);
    let half = bits.div_ceil(2);
    let mask = (1u64 << half) - 1;
    let mut x = p;
    loop {
        let (mut l, mut r) = (x >> half, x & mask);
        for round in 0..4u64 {
            let f = mix(r ^ seed.rotate_left(17 * round as u32) ^ round) & mask;
            (l, r) = (r, l ^ f);
        }
        x = (l << half) | r;
        if x < n {
            return x;
        }
    }
}

fn launch(l: &mut Launch<'_>, opts: &RunOptions) -> Result<(), InterpError> {
    let f = l.f;
    let mut grid = [1u32; 3];
    {
        let ev = Eval {
            f,
            types: &l.types,
            env: Env {
                vars: &l.params,
                block: None,
                grid: None,
            },
        };
        for (d, &e) in f.grid.iter().enumerate().take(3) {
            let v = ev.index(e).map_err(|e| with_context(e, l, None, None))?;
            grid[d] = u32::try_from(v).map_err(|_| {
                with_context(
                    InterpError::new(
                        InterpErrorKind::InvalidValue,
                        format!("grid extent {d} is {v}, outside 0..2^32"),
                    ),
                    l,
                    None,
                    None,
                )
            })?;
        }
    }
    if let Some(g) = opts.grid {
        grid = g;
    }
    l.grid = grid;
    let total = u64::from(grid[0]) * u64::from(grid[1]) * u64::from(grid[2]);
    let block_of = |p: u64| -> [u32; 3] {
        let id = match opts.block_order {
            BlockOrder::Sequential => p,
            BlockOrder::Reverse => total - 1 - p,
            BlockOrder::Shuffled(seed) => shuffle(p, total, seed),
        };
        let (gx, gy) = (u64::from(grid[0]), u64::from(grid[1]));
        [
            (id % gx) as u32,
            ((id / gx) % gy) as u32,
            (id / (gx * gy)) as u32,
        ]
    };
    let traced = |idx: [u32; 3]| match &opts.trace_blocks {
        Some(list) => list.contains(&idx),
        None => opts.print,
    };
    let mut waiting: Vec<BlockState<'_>> = Vec::new();
    let mut next = 0u64;
    loop {
        // Resume waiting blocks as long as some can make progress.
        loop {
            let mut progressed = false;
            let mut i = 0;
            while i < waiting.len() {
                let ready = waiting[i]
                    .waiting
                    .as_ref()
                    .is_none_or(|w| sync::read_semaphore(&l.mem, w.buf, w.offset) == w.value);
                if ready {
                    progressed = true;
                    if let Status::Finished = run_block(l, &mut waiting[i])? {
                        let b = waiting.remove(i);
                        finish(l, &b);
                        continue;
                    }
                }
                i += 1;
            }
            if !progressed {
                break;
            }
        }
        if next < total {
            let idx = block_of(next);
            next += 1;
            let mut b = BlockState::new(l, idx, traced(idx));
            match run_block(l, &mut b)? {
                Status::Finished => finish(l, &b),
                Status::Waiting => waiting.push(b),
            }
        } else if waiting.is_empty() {
            break;
        } else {
            return Err(deadlock(l, &waiting));
        }
    }
    check_clean(l)
}

fn finish(l: &mut Launch<'_>, b: &BlockState<'_>) {
    l.report.blocks += 1;
    l.report.dropped_copies += b.pending_copies();
}

fn deadlock(l: &Launch<'_>, waiting: &[BlockState<'_>]) -> InterpError {
    let mut lines = Vec::new();
    for b in waiting.iter().take(8) {
        if let Some(w) = &b.waiting {
            let [x, y, z] = b.idx;
            lines.push(format!(
                "block ({x},{y},{z}) waits at {} for {} == {} (it holds {})",
                l.describe(w.inst),
                w.what,
                w.value,
                sync::read_semaphore(&l.mem, w.buf, w.offset)
            ));
        }
    }
    if waiting.len() > 8 {
        lines.push(format!("… and {} more blocks", waiting.len() - 8));
    }
    let mut e = InterpError::new(
        InterpErrorKind::Deadlock,
        format!(
            "deadlock: every unfinished block waits on a semaphore that no running block will \
             release: {}",
            lines.join("; ")
        ),
    );
    e.kernel = Some(l.f.name.clone());
    e.inst = Some("lock_semaphore".into());
    e
}

fn check_clean(l: &Launch<'_>) -> Result<(), InterpError> {
    for &(buf, t) in &l.clean {
        let Some(b) = l.mem.bufs.get(buf) else {
            continue;
        };
        if b.is_all_zero() {
            continue;
        }
        let codes = b.codes();
        let (i, c) = codes
            .iter()
            .enumerate()
            .find(|(_, &c)| c != 0)
            .map_or((0, 0), |(i, &c)| (i, c));
        let mut e = InterpError::new(
            InterpErrorKind::RequiresCleanViolated,
            format!(
                "the requires_clean workspace {} is not all zeros at the end of the launch \
                 (element {i} is {}); the kernel must reset it",
                l.name(t),
                b.dtype.int_value_i128(c)
            ),
        );
        e.kernel = Some(l.f.name.clone());
        e.inst = Some("alloc_global".into());
        e.tensor = Some(l.name(t));
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::shuffle;

    #[test]
    fn shuffle_is_a_permutation() {
        for n in [1u64, 2, 3, 7, 64, 1000] {
            for seed in [0u64, 1, 42] {
                let mut seen: Vec<u64> = (0..n).map(|p| shuffle(p, n, seed)).collect();
                seen.sort_unstable();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n={n} seed={seed}");
            }
        }
        let a: Vec<u64> = (0..16).map(|p| shuffle(p, 16, 1)).collect();
        let b: Vec<u64> = (0..16).map(|p| shuffle(p, 16, 2)).collect();
        assert_ne!(a, b);
    }
}
