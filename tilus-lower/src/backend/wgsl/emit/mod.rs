//! Emission: a legalized thread kernel ([`super::legalize`]) printed as WGSL, validated by
//! naga, with its launch contract (an [`Artifact`]).
//!
//! The launch contract:
//! - pointer parameters get bindings `0..` in parameter order, workspaces the next ones in
//!   buffer order, and the scalar block the one after (`scalars_binding`, even when the
//!   kernel has no scalar parameter and declares no block);
//! - each scalar parameter occupies one word of the scalar block, in parameter order. The
//!   word holds the parameter's value the way the legalized kernel reads it: integers
//!   (any width up to 32) sign- or zero-extended, `f32` as its bits, `f16` as the bits of
//!   the `f32` equal to the `f16`-rounded value, coded floats (`bf16`, fp8, minifloats) as
//!   their code, `bool` as 0 or 1 (reported as `u32`);
//! - every buffer holds 32-bit words: element `i` of an `n`-bit dtype is bits
//!   `[i·n, (i+1)·n)` of the little-endian word stream (workspaces are reported in words
//!   of their word type, so `packed_len(dtype, elements)` is their byte size).

pub mod namer;
pub mod writer;

pub use super::validate::{validate_wgsl, validate_wgsl_for};
pub use writer::Writer;

pub use crate::backend::contract::Bindings;

use crate::artifact::{Artifact, Code, WgslModule};
use crate::backend::contract::launch_contract;
use crate::error::LowerError;
use crate::target::WgslCaps;
use crate::thread_ir::ThreadKernel;

/// Prints a legalized kernel as a WGSL module, validates it with naga (for an adapter with
/// `caps`) and returns it with its launch contract. A module naga rejects is a
/// [`LowerError::Internal`] carrying naga's diagnostic and the WGSL text.
pub fn emit_wgsl(kernel: &ThreadKernel, caps: &WgslCaps) -> Result<Artifact, LowerError> {
    let out = emit_wgsl_unvalidated(kernel)?;
    check_wgsl(&out, caps)?;
    Ok(out)
}

/// Validates an emitted kernel's WGSL with naga for an adapter with `caps`; a module naga
/// rejects is a [`LowerError::Internal`] carrying the diagnostic and the WGSL text.
pub fn check_wgsl(kernel: &Artifact, caps: &WgslCaps) -> Result<(), LowerError> {
    let source = kernel.code.text();
    validate_wgsl_for(source, caps).map_err(|diag| {
        LowerError::Internal(format!(
            "the WGSL emitted for kernel `{}` does not validate:\n{diag}\n--- WGSL ---\n{source}",
            kernel.name
        ))
    })
}

/// Like [`emit_wgsl`] without the naga validation (for callers that validate separately,
/// such as the pipeline, which times it as its own stage, or a device that validates on
/// load).
pub fn emit_wgsl_unvalidated(kernel: &ThreadKernel) -> Result<Artifact, LowerError> {
    let bindings = Bindings::of(kernel);
    let mut writer = Writer::new(String::new(), kernel, &bindings);
    writer.write_module()?;
    let entry_point = writer.entry_point().to_string();
    let source = writer.into_inner();
    Ok(Artifact {
        name: kernel.name.clone(),
        code: Code::Wgsl(WgslModule {
            source,
            entry_point,
            uses_f16: false,
        }),
        launch: launch_contract(kernel, &bindings)?,
    })
}
