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

use tilus_ir::dtype::DType;

use crate::artifact::{
    Artifact, Assumption, Code, LaunchContract, ParamBinding, WgslModule, Workspace,
};
use crate::error::LowerError;
use crate::target::WgslCaps;
use crate::thread_ir::{BufferKind, ParamKind, ThreadKernel, Ty};

/// Binding numbers and scalar-block words of a kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    /// The binding of each buffer (by buffer index).
    pub buffer_binding: Vec<Option<u32>>,
    /// The scalar-block word of each parameter (by parameter index; `None` for pointers).
    pub scalar_word: Vec<Option<u32>>,
    /// The binding of the scalar block.
    pub scalars_binding: u32,
    /// Words in the scalar block.
    pub scalar_words: u32,
}

impl Bindings {
    /// The layout of `k` (see the module documentation).
    pub fn of(k: &ThreadKernel) -> Bindings {
        let mut buffer_binding = vec![None; k.buffers.len()];
        let mut scalar_word = vec![None; k.params.len()];
        let (mut next, mut words) = (0u32, 0u32);
        for (i, p) in k.params.iter().enumerate() {
            match p.kind {
                ParamKind::Pointer(b) => {
                    if let Some(slot) = buffer_binding.get_mut(b.index()) {
                        if slot.is_none() {
                            *slot = Some(next);
                            next += 1;
                        }
                    }
                }
                ParamKind::Scalar(_) => {
                    scalar_word[i] = Some(words);
                    words += 1;
                }
            }
        }
        for (h, b) in k.buffers.iter() {
            if matches!(b.kind, BufferKind::Workspace { .. }) {
                if let Some(slot) = buffer_binding.get_mut(h.index()) {
                    *slot = Some(next);
                    next += 1;
                }
            }
        }
        Bindings {
            buffer_binding,
            scalar_word,
            scalars_binding: next,
            scalar_words: words,
        }
    }
}

/// The slot `Bindings::of` gave entry `i`; a missing one is an internal error (it numbers
/// every pointer parameter, workspace and scalar).
fn slot_of(slots: &[Option<u32>], i: usize, name: &str) -> Result<u32, LowerError> {
    slots.get(i).copied().flatten().ok_or_else(|| {
        LowerError::Internal(format!(
            "`{name}` has no binding slot in the launch contract"
        ))
    })
}

fn dtype_of_ty(t: Ty) -> DType {
    match t {
        Ty::I32 => DType::Int {
            bits: 32,
            signed: true,
        },
        Ty::F32 => DType::F32,
        _ => DType::Int {
            bits: 32,
            signed: false,
        },
    }
}

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
    let mut params = Vec::with_capacity(kernel.params.len());
    for (i, p) in kernel.params.iter().enumerate() {
        params.push(match p.kind {
            ParamKind::Pointer(b) => {
                let buffer = kernel.buffers.try_get(b).ok_or_else(|| {
                    LowerError::InvalidProgram(format!("parameter #{} dangles", p.name))
                })?;
                ParamBinding::Buffer {
                    param: i,
                    dtype: p.dtype.unwrap_or(buffer.dtype),
                    binding: slot_of(&bindings.buffer_binding, b.index(), &p.name)?,
                    read_only: !kernel.writes_buffer(b),
                }
            }
            ParamKind::Scalar(t) => ParamBinding::Scalar {
                param: i,
                dtype: p.dtype.unwrap_or_else(|| dtype_of_ty(t)),
                word: slot_of(&bindings.scalar_word, i, &p.name)?,
            },
        });
    }
    let workspaces = kernel
        .buffers
        .iter()
        .filter_map(|(h, b)| match &b.kind {
            BufferKind::Workspace {
                elements,
                requires_clean,
            } => Some(
                slot_of(&bindings.buffer_binding, h.index(), &b.name).map(|binding| Workspace {
                    binding,
                    dtype: b.dtype,
                    elements: elements.clone(),
                    requires_clean: *requires_clean,
                }),
            ),
            BufferKind::Param(_) => None,
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Artifact {
        name: kernel.name.clone(),
        code: Code::Wgsl(WgslModule {
            source,
            entry_point,
            uses_f16: false,
        }),
        launch: LaunchContract {
            threads: [kernel.num_threads, 1, 1],
            params,
            scalars_binding: bindings.scalars_binding,
            scalar_words: bindings.scalar_words,
            workspaces,
            grid: kernel.grid.clone(),
            shared_bytes: kernel.shared_bytes,
            assumptions: kernel
                .assumptions
                .iter()
                .map(|&(param, divisor)| Assumption {
                    param: param as usize,
                    divisor: i64::from(divisor),
                })
                .collect(),
        },
    })
}
