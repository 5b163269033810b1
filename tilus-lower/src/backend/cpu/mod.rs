//! The CPU backend: a word-legal thread kernel (the shared legalization with
//! [`crate::backend::legalize::Profile::cpu`]) becomes one Cranelift IR function that runs
//! **one whole block**; the runtime JIT-compiles it (`tilus-runtime`'s `CpuDevice`) and runs
//! the blocks of a launch in parallel on all cores.
//!
//! ```text
//! word-legal ThreadKernel ─regions─► thread loops between barriers ─gen─► CLIF text
//!                                                           + LaunchContract + frame size
//! ```
//!
//! # Execution model
//! The kernel's body is split at its barriers ([`regions`]). Every maximal stretch of
//! statements without a barrier becomes a *thread loop*: `for tid in 0..num_threads { … }`,
//! so each thread runs the stretch to its end before the next starts, which is exactly what
//! a barrier guarantees. A `for` or `if` that contains a barrier is executed once for the
//! block: its bounds (condition) are evaluated by every thread and must agree (every thread
//! reaches the same barriers, otherwise the launch fails with [`status::DIVERGENT`]).
//!
//! Inside a thread loop every variable and every slot of every local array is a Cranelift
//! variable (slots are compile-time constants in the thread IR), so the register allocator
//! sees them like a GPU compiler does. What must survive a barrier lives in the thread's
//! *frame*: one 4-byte cell per variable and per local slot, [`CpuModule::frame_bytes`] per
//! thread. A kernel without barriers is one thread loop and needs no frame.
//!
//! # ABI
//! `fn(slots: *const Slot, launch: *const i32, smem: *mut u8, frames: *mut u8) -> i32`,
//! where `Slot = { base: u64, words: u64 }` for every slot of
//! [`crate::artifact::LaunchContract::slots`] in slot order (buffers, workspaces, then the
//! scalar block), `launch` is `[blockIdx.x, .y, .z, gridDim.x, .y, .z]`, `smem` holds
//! [`CpuModule::smem_words`] 32-bit words and `frames` `num_threads · frame_bytes` bytes
//! (both zeroed by the caller before each block, both 4-byte aligned). The result is
//! [`status::OK`] or the reason the block stopped. Every memory access is bounds-checked
//! against its slot's length, so a wrong index is an error, never a stray access.
//! Transcendental functions are calls to the host functions named in [`libcalls`].

pub mod libcalls;
pub mod regions;
pub mod status;

mod exprs;
mod gen;
mod stmts;
mod vector;
mod vstmts;

use serde::{Deserialize, Serialize};

use crate::artifact::{Artifact, Code};
use crate::backend::contract::{launch_contract, Bindings};
use crate::error::LowerError;
use crate::target::CpuCaps;
use crate::thread_ir::ThreadKernel;

/// A kernel compiled for the CPU: one Cranelift IR function that runs a block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuModule {
    /// The function as CLIF text (`cranelift-reader` parses it back; deterministic).
    pub clif: String,
    /// The function's name.
    pub entry_point: String,
    /// Bytes of per-thread frame (0 when the kernel has no barrier).
    pub frame_bytes: u32,
    /// 32-bit words of shared memory a block needs.
    pub smem_words: u32,
}

/// Generates the CPU code of a word-legal kernel, with its launch contract.
pub fn emit_cpu(kernel: &ThreadKernel, caps: &CpuCaps) -> Result<Artifact, LowerError> {
    if kernel.num_threads == 0 || kernel.num_threads > caps.max_threads {
        return Err(LowerError::Unsupported {
            inst: format!("a block of {} threads", kernel.num_threads),
            reason: format!(
                "the CPU target runs 1 to {} threads per block",
                caps.max_threads
            ),
        });
    }
    if kernel.shared_bytes > caps.shared_bytes {
        return Err(LowerError::Unsupported {
            inst: format!("{} bytes of shared memory", kernel.shared_bytes),
            reason: format!("the CPU target allows {} per block", caps.shared_bytes),
        });
    }
    let bindings = Bindings::of(kernel);
    let out = gen::generate(kernel, &bindings, caps.lanes)?;
    Ok(Artifact {
        name: kernel.name.clone(),
        code: Code::Cpu(CpuModule {
            clif: out.clif,
            entry_point: out.name,
            frame_bytes: out.frame_bytes,
            smem_words: out.smem_words,
        }),
        launch: launch_contract(kernel, &bindings)?,
    })
}

/// Checks emitted CLIF: it parses back into exactly one function, which Cranelift's
/// verifier accepts.
pub fn check_cpu(artifact: &Artifact) -> Result<(), LowerError> {
    let Code::Cpu(m) = &artifact.code else {
        return Err(LowerError::Internal("check_cpu on non-CPU code".into()));
    };
    let funcs = cranelift_reader::parse_functions(&m.clif)
        .map_err(|e| LowerError::Internal(format!("emitted CLIF does not parse: {e}")))?;
    let [func] = funcs.as_slice() else {
        return Err(LowerError::Internal(format!(
            "emitted CLIF has {} functions, expected 1",
            funcs.len()
        )));
    };
    let flags = cranelift_codegen::settings::Flags::new(cranelift_codegen::settings::builder());
    cranelift_codegen::verify_function(func, &flags)
        .map_err(|e| LowerError::Internal(format!("emitted CLIF fails verification: {e}")))
}
