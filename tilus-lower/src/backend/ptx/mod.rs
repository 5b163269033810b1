//! The PTX backend: instruction selection ([`isel`]) turns a word-legal thread kernel (the
//! shared legalization with [`crate::backend::legalize::Profile::ptx`]) into the machine IR
//! of [`mir`] — virtual registers, full opcodes, labels — and [`writer`] prints it as a PTX
//! module (ISA 8.0, sm_80 or sm_90) with the same launch contract as WGSL. The subset
//! emitted is fixed in docs/ptx.md; `crates/tilus-ptx` runs it on the CPU and `ptxas`
//! assembles it in CI.
//!
//! ```text
//! word-legal ThreadKernel ─isel─► mir::Function ─writer─► PTX text + LaunchContract
//! ```

pub mod isel;
pub mod mir;
pub mod ptxas;
pub mod validate;
pub mod writer;

use crate::artifact::{Artifact, Code, PtxModule};
use crate::backend::contract::{launch_contract, Bindings};
use crate::error::LowerError;
use crate::target::PtxCaps;
use crate::thread_ir::ThreadKernel;

/// Prints a word-legal kernel as a PTX module for `caps.arch`, with its launch contract.
pub fn emit_ptx(kernel: &ThreadKernel, caps: &PtxCaps) -> Result<Artifact, LowerError> {
    let bindings = Bindings::of(kernel);
    let function = isel::select(kernel, &bindings)?;
    let source = writer::write_module(&function, caps.arch);
    Ok(Artifact {
        name: kernel.name.clone(),
        code: Code::Ptx(PtxModule {
            source,
            entry_point: function.name.clone(),
            arch: caps.arch.name().to_string(),
        }),
        launch: launch_contract(kernel, &bindings)?,
    })
}
