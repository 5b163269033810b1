//! The launch contract of a word-legal kernel, shared by the backends that print one: slot
//! numbers (pointer parameters in parameter order from 0, then workspaces in buffer order,
//! then the scalar block) and the scalar-block word of each scalar parameter.

use tilus_ir::dtype::DType;

use crate::artifact::{Assumption, LaunchContract, ParamBinding, Workspace};
use crate::error::LowerError;
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

/// The launch contract of a word-legal kernel with slots `bindings`.
pub fn launch_contract(
    kernel: &ThreadKernel,
    bindings: &Bindings,
) -> Result<LaunchContract, LowerError> {
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
    Ok(LaunchContract {
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
    })
}
