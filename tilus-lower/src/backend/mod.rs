//! Target-specific stages, one folder per backend, beside each other: `wgsl/` today
//! (legalize, emit, validate); `ptx/` and `cpu/` sit here next. Everything before this point
//! (layout inference, tile → thread lowering, simplification) is shared and reads the
//! target only through [`crate::target::TargetCaps`].

pub mod wgsl;

use crate::artifact::Artifact;
use crate::error::LowerError;
use crate::target::Target;
use crate::thread_ir::ThreadKernel;

/// The target-legal thread kernel (what the emitter prints, decision-free).
pub fn legalize(kernel: &ThreadKernel, target: &Target) -> Result<ThreadKernel, LowerError> {
    match target {
        Target::Wgsl(caps) => wgsl::legalize::legalize_wgsl(kernel, caps),
    }
}

/// Prints a legalized kernel for `target`, with its launch contract.
pub fn emit(legal: &ThreadKernel, target: &Target) -> Result<Artifact, LowerError> {
    match target {
        Target::Wgsl(_) => wgsl::emit::emit_wgsl_unvalidated(legal),
    }
}

/// Checks emitted code with the target's own validator (naga for WGSL).
pub fn validate(artifact: &Artifact, target: &Target) -> Result<(), LowerError> {
    match target {
        Target::Wgsl(caps) => wgsl::emit::check_wgsl(artifact, caps),
    }
}
