//! An interpreter for the PTX subset that tilus emits (`docs/ptx.md`).
//!
//! [`Module::parse`] reads PTX text (the module shape of `docs/ptx.md`: `.version`,
//! `.target`, `.address_size 64`, an optional `.extern .shared` array and `.entry`
//! kernels with `.reg` declarations, labels and instructions) into pre-decoded
//! instructions with resolved registers and labels. [`launch`] runs one kernel launch on
//! the CPU. Anything outside the documented subset is rejected with an error naming the
//! line; the interpreter never panics: every failure is a [`PtxError`].
//!
//! The interpreter is written from the PTX ISA as summarized in `docs/ptx.md`, independently
//! of the compiler that emits the PTX, so that the two can be checked against each other.
//!
//! # Execution model
//!
//! - **Blocks** run one after another, in the order `ctaid.x` fastest, then `y`, then `z`.
//!   Execution is deterministic.
//! - **Threads** of a block are numbered `x + y·bx + z·bx·by` and grouped into warps of 32
//!   lanes (threads `32w..32w+31`; the last warp may be partial). Each thread has its own
//!   registers and program counter. **Registers start as 0** (PTX leaves them undefined).
//! - A thread runs until it reaches a synchronization point: `bar.sync`, a warp collective
//!   (`mma.sync`, `ldmatrix.sync`, `shfl.sync`), `ret` or the end of the kernel. When no
//!   thread can run, warp collectives whose lanes all wait at the same instruction execute;
//!   then, if every thread of the block waits at a `bar.sync`, the barrier releases. Lanes
//!   of one warp waiting at different instructions, a `bar.sync` reached after some thread
//!   of the block has exited, and an `mma`/`ldmatrix` in a partial warp are errors.
//! - **Shared memory** (the dynamic array declared with `.extern .shared`) is filled with
//!   the byte `0xA5` at the start of every block ([`SHARED_GARBAGE`]), since PTX shared memory
//!   is uninitialized: kernels that read before writing are caught by differential tests.
//!   `mov.u32 %r, tilus_smem` gives [`SHARED_BASE`]; a shared access outside
//!   `SHARED_BASE .. SHARED_BASE + dynamic_shared_bytes` is an error.
//! - **Global memory** is [`Memory`]: buffer `i` lives at [`Memory::base`]`(i)`; an access
//!   outside every buffer, or not naturally aligned, is an error.
//! - `cp.async` reads its source bytes when it is issued and writes shared memory when a
//!   covering `cp.async.wait_group N` (all committed groups except the newest `N`) or
//!   `cp.async.wait_all` executes, so kernels that forget to wait see the garbage pattern.
//! - Since blocks run in sequence, a semaphore (`ld.acquire`/`st.release`) that waits for a
//!   *later* block spins until the step limit ([`RunOptions::max_steps`]).
//! - Integer division or remainder by zero is an error (PTX leaves the result undefined).
//! - `f32` arithmetic is IEEE round-to-nearest-even without flush-to-zero; NaN results of
//!   arithmetic are the canonical NaN `0x7fffffff`, as on the GPU.
//!
//! # Strictness and choices
//!
//! Only the opcodes and operand forms listed in `docs/ptx.md` are accepted (`add.u32` or
//! `add.f32` without `.rn` are errors, global addresses need a `.b64` base register and
//! shared ones a `.b32` one). Register classes follow PTX's rules: `.s32`/`.u32`
//! instructions take `.b32` registers, `.b32` and `.f32` instructions take `.b32` or
//! `.f32` registers. `.f32` immediates are `0fXXXXXXXX` only. Beyond the document:
//! `cp.async` accepts any `src-size` in `0..=cp-size` and reads (and checks) no source byte
//! when it is 0; `ldmatrix .x1`/`.x2` use the addresses of lanes `0..8n` only; `shfl` needs
//! every lane of its membermask to take part; `bra.uni` is not checked for uniformity;
//! running off the end of a kernel is an implicit `ret`; `div.s32` of `INT_MIN` by `-1`
//! wraps; `mma` with `.bf16` forms products in `f32` (exact unless they overflow or
//! underflow).

#![deny(missing_docs)]

mod error;
mod exec;
mod ir;
mod parse;

pub use error::PtxError;
pub use exec::warp::fragments;

/// The shared-window address of the dynamic shared array (`mov.u32 %r, tilus_smem`).
///
/// Not 0, so that an emitter which forgets to add the array's address is caught.
pub const SHARED_BASE: u32 = 0x400;

/// The byte every shared-memory location holds at the start of a block.
pub const SHARED_GARBAGE: u8 = 0xA5;

/// The most dynamic shared memory a launch may request (228 KiB).
pub const MAX_SHARED_BYTES: u32 = 228 * 1024;

/// A launch's [`Memory`] holds fewer buffers than this.
pub const MAX_BUFFERS: usize = (1 << 20) - 1;

/// The most threads a block may have.
pub const MAX_BLOCK_THREADS: u32 = 1024;

/// A parsed PTX module.
#[derive(Debug, Clone)]
pub struct Module {
    pub(crate) version: String,
    pub(crate) target: String,
    pub(crate) entries: Vec<ir::Entry>,
}

impl Module {
    /// Parses PTX text of the subset in `docs/ptx.md`.
    pub fn parse(text: &str) -> Result<Module, PtxError> {
        parse::parse_module(text)
    }

    /// The names of the `.entry` kernels, in declaration order.
    pub fn entries(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.name.as_str()).collect()
    }

    /// The `.target` architecture, e.g. `"sm_80"`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The `.version` of the PTX ISA, e.g. `"8.0"`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The parameter kinds of `entry`, in declaration order (`None` for an unknown entry).
    pub fn params(&self, entry: &str) -> Option<Vec<ParamKind>> {
        self.entries
            .iter()
            .find(|e| e.name == entry)
            .map(|e| e.params.iter().map(|p| p.kind).collect())
    }
}

/// The type of a kernel parameter (`.param .u64` or `.param .u32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `.param .u64`.
    U64,
    /// `.param .u32`.
    U32,
}

/// Global memory: a list of byte buffers.
///
/// Buffer `i` starts at address [`Memory::base`]`(i)`, so every address maps back to a
/// (buffer, offset) pair; pass `ParamValue::U64(Memory::base(i))` for a pointer parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// The buffers; buffer `i` starts at [`Memory::base`]`(i)`.
    pub buffers: Vec<Vec<u8>>,
}

/// log2 of the distance between two buffers' base addresses.
const BUFFER_SHIFT: u32 = 44;

impl Memory {
    /// Memory holding `buffers`.
    pub fn new(buffers: Vec<Vec<u8>>) -> Memory {
        Memory { buffers }
    }

    /// The address of byte 0 of buffer `i`: `0x1000_0000_0000 · (i + 1)` (so a launch takes
    /// fewer than [`MAX_BUFFERS`] buffers, each under 16 TiB).
    pub fn base(i: usize) -> u64 {
        ((i as u64).wrapping_add(1)) << BUFFER_SHIFT
    }

    /// The pointer parameter for buffer `i`.
    pub fn pointer(i: usize) -> ParamValue {
        ParamValue::U64(Memory::base(i))
    }

    /// The (buffer, offset) that `addr` falls in, if it falls in a buffer (the address one
    /// past the end of a buffer does not).
    pub fn locate(&self, addr: u64) -> Option<(usize, usize)> {
        let index = (addr >> BUFFER_SHIFT).checked_sub(1)? as usize;
        let offset = (addr & ((1u64 << BUFFER_SHIFT) - 1)) as usize;
        let buffer = self.buffers.get(index)?;
        (offset < buffer.len()).then_some((index, offset))
    }

    /// The bytes `addr .. addr + len`, if they lie inside one buffer.
    pub(crate) fn range_mut(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let index = (addr >> BUFFER_SHIFT).checked_sub(1)? as usize;
        let offset = (addr & ((1u64 << BUFFER_SHIFT) - 1)) as usize;
        let buffer = self.buffers.get_mut(index)?;
        let end = offset.checked_add(len)?;
        buffer.get_mut(offset..end)
    }
}

/// A kernel parameter value, in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamValue {
    /// For a `.param .u64` (pointers: [`Memory::base`]).
    U64(u64),
    /// For a `.param .u32`.
    U32(u32),
}

/// The launch geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchConfig {
    /// Blocks in x, y, z (each at least 1).
    pub grid: [u32; 3],
    /// Threads per block in x, y, z (each at least 1, product at most 1024 and `.maxntid`).
    pub block: [u32; 3],
    /// Bytes of dynamic shared memory per block (at most [`MAX_SHARED_BYTES`]).
    pub dynamic_shared_bytes: u32,
}

/// Options of one launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// The most instructions the launch may execute, counted over all threads (guarded-off
    /// instructions count too). Default 2,000,000,000.
    pub max_steps: u64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_steps: 2_000_000_000,
        }
    }
}

/// What a launch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunStats {
    /// Instructions executed over all threads: a warp collective counts once per lane, a
    /// guarded-off instruction counts, and running off the end of the kernel counts as one.
    pub instructions: u64,
    /// Blocks run.
    pub blocks: u64,
}

/// Runs one launch of kernel `entry` of `module` over `memory`.
pub fn launch(
    module: &Module,
    entry: &str,
    cfg: &LaunchConfig,
    params: &[ParamValue],
    memory: &mut Memory,
    opts: &RunOptions,
) -> Result<RunStats, PtxError> {
    let Some(e) = module.entries.iter().find(|e| e.name == entry) else {
        return Err(PtxError::Launch(format!(
            "no entry `{entry}` (entries: {})",
            module.entries().join(", ")
        )));
    };
    exec::launch(e, cfg, params, memory, opts)
}
