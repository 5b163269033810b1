//! Target-specific stages, one folder per backend, beside each other: `wgsl/` (emit,
//! validate) and `ptx/` (instruction selection, writer), both fed by the shared word
//! legalization in `legalize/` with the target's [`legalize::Profile`]; and `cpu/`
//! (Cranelift IR for the host, JIT-compiled by the runtime) from the same legalization. Everything before this point (layout inference, tile → thread lowering,
//! simplification) is shared and reads the target only through
//! [`crate::target::TargetCaps`].

pub mod contract;
pub mod cpu;
pub mod legalize;
pub mod ptx;
pub mod wgsl;

use crate::artifact::Artifact;
use crate::error::LowerError;
use crate::target::Target;
use crate::thread_ir::ThreadKernel;

/// The target-legal thread kernel (what the emitter prints, decision-free).
pub fn legalize(kernel: &ThreadKernel, target: &Target) -> Result<ThreadKernel, LowerError> {
    match target {
        Target::Wgsl(caps) => legalize::legalize_wgsl(kernel, caps),
        Target::Ptx(caps) => legalize::legalize_words(kernel, &legalize::Profile::ptx(caps)),
        Target::Cpu(caps) => legalize::legalize_words(kernel, &legalize::Profile::cpu(caps)),
    }
}

/// Prints a legalized kernel for `target`, with its launch contract.
pub fn emit(legal: &ThreadKernel, target: &Target) -> Result<Artifact, LowerError> {
    match target {
        Target::Wgsl(_) => wgsl::emit::emit_wgsl_unvalidated(legal),
        Target::Ptx(caps) => ptx::emit_ptx(legal, caps),
        Target::Cpu(caps) => cpu::emit_cpu(legal, caps),
    }
}

/// Checks emitted code with the target's own validator (naga for WGSL, the structural
/// checks of the PTX writer's reader for PTX, Cranelift's parser and verifier for CPU).
pub fn validate(artifact: &Artifact, target: &Target) -> Result<(), LowerError> {
    match target {
        Target::Wgsl(caps) => wgsl::emit::check_wgsl(artifact, caps),
        Target::Ptx(_) => ptx::validate::check_ptx(artifact),
        Target::Cpu(_) => cpu::check_cpu(artifact),
    }
}
