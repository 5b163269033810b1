//! What compilation hands to the runtime, for any target: the code ([`Code`]) and the
//! launch contract ([`LaunchContract`]) that says how to bind arguments and size the grid.
//!
//! The contract is target-neutral: parameters are numbered *slots* (a WGSL
//! `@binding`, a PTX kernel parameter) and a scalar block; a device reads everything it
//! needs from here and never parses the code.

use serde::{Deserialize, Serialize};
use tilus_ir::dtype::DType;

pub use crate::grid::GridExpr;

/// How one tile-function parameter is passed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ParamBinding {
    /// A pointer parameter: a buffer of 32-bit words in slot `binding`; element i of
    /// `dtype` is bits [i·bits, (i+1)·bits) of the little-endian word stream.
    Buffer {
        /// Index of the parameter in the tile function.
        param: usize,
        /// Element type.
        #[serde(with = "dtype_text")]
        dtype: DType,
        /// Slot number (WGSL: `@group(0) @binding(binding)`).
        binding: u32,
        /// Whether the kernel only reads it.
        read_only: bool,
    },
    /// A scalar parameter: one 32-bit word at `word` in the scalar block (slot
    /// [`LaunchContract::scalars_binding`]): integers sign- or zero-extended, `f32` as its
    /// bits, `f16` as the `f32` bits of the f16-rounded value, other floats (bf16, fp8,
    /// minifloats) as their code, bool as 0/1.
    Scalar {
        /// Index of the parameter in the tile function.
        param: usize,
        /// Its type (an integer or float of at most 32 bits; bool is `u1`).
        #[serde(with = "dtype_text")]
        dtype: DType,
        /// Word index in the scalar block.
        word: u32,
    },
}

/// A global workspace (`alloc_global`) the runtime allocates per launch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    /// Slot number.
    pub binding: u32,
    /// Element type.
    #[serde(with = "dtype_text")]
    pub dtype: DType,
    /// Number of elements, as a grid-style expression over the parameters.
    pub elements: GridExpr,
    /// Zero on entry (the runtime clears it) and checked zero on exit in debug runs.
    pub requires_clean: bool,
}

/// A fact the kernel was compiled under: scalar parameter `param` is a multiple of
/// `divisor`. The runtime checks it before every launch and refuses a launch that breaks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assumption {
    /// Index of the scalar parameter.
    pub param: usize,
    /// The divisor (> 0).
    pub divisor: i64,
}

/// How to launch a compiled kernel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaunchContract {
    /// Threads per block (x, y, z).
    pub threads: [u32; 3],
    /// How each tile-function parameter is passed, in parameter order.
    pub params: Vec<ParamBinding>,
    /// Slot of the scalar block (always present; may be one dummy word).
    pub scalars_binding: u32,
    /// Words in the scalar block.
    pub scalar_words: u32,
    /// Global workspaces to allocate per launch.
    pub workspaces: Vec<Workspace>,
    /// Grid extents (x, y, z; missing ones are 1).
    pub grid: Vec<GridExpr>,
    /// Bytes of shared memory per block.
    pub shared_bytes: u32,
    /// Facts about the arguments the code relies on.
    pub assumptions: Vec<Assumption>,
}

impl LaunchContract {
    /// Every slot the kernel declares, with whether it is read-only: the buffers, the
    /// workspaces and the scalar block, in slot order.
    pub fn slots(&self) -> Vec<(u32, bool)> {
        let mut v: Vec<(u32, bool)> = self
            .params
            .iter()
            .filter_map(|p| match p {
                ParamBinding::Buffer {
                    binding, read_only, ..
                } => Some((*binding, *read_only)),
                ParamBinding::Scalar { .. } => None,
            })
            .chain(self.workspaces.iter().map(|w| (w.binding, false)))
            .chain(std::iter::once((self.scalars_binding, true)))
            .collect();
        v.sort_unstable();
        v.dedup_by_key(|s| s.0);
        v
    }

    /// The first assumption the arguments break (`params[i]` is the integer value of
    /// parameter `i`, `None` for other kinds, which break any assumption about them).
    pub fn broken_assumption(&self, params: &[Option<i64>]) -> Option<Assumption> {
        self.assumptions.iter().copied().find(|a| {
            !matches!(params.get(a.param), Some(Some(v)) if a.divisor > 0 && v % a.divisor == 0)
        })
    }
}

/// A WGSL module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WgslModule {
    /// The module source (validated by naga unless the caller skipped it).
    pub source: String,
    /// The compute entry point.
    pub entry_point: String,
    /// Whether the module uses `enable f16;`.
    pub uses_f16: bool,
}

/// A PTX module with one kernel.
///
/// Its kernel parameters are one `.u64` global pointer per slot of
/// [`LaunchContract::slots`], in slot order: the buffers, the workspaces, then the scalar
/// block (a buffer of [`LaunchContract::scalar_words`] 32-bit words, at least one). Shared
/// memory is dynamic ([`LaunchContract::shared_bytes`] bytes, 16-byte aligned); a launch
/// above 48 KiB must raise the function's dynamic shared-memory limit first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PtxModule {
    /// The module text (`.version`, `.target`, one `.entry`).
    pub source: String,
    /// The `.entry` name.
    pub entry_point: String,
    /// The `.target` architecture (`sm_80`, `sm_90`).
    pub arch: String,
}

/// The code of a compiled kernel, per target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Code {
    /// WGSL for WebGPU.
    Wgsl(WgslModule),
    /// PTX for CUDA.
    Ptx(PtxModule),
    /// Cranelift IR for the host CPU.
    Cpu(crate::backend::cpu::CpuModule),
}

impl Code {
    /// The target's short name (`wgsl`, `ptx`, `cpu`).
    pub fn target(&self) -> &'static str {
        match self {
            Code::Wgsl(_) => "wgsl",
            Code::Ptx(_) => "ptx",
            Code::Cpu(_) => "cpu",
        }
    }

    /// The code as text.
    pub fn text(&self) -> &str {
        match self {
            Code::Wgsl(m) => &m.source,
            Code::Ptx(m) => &m.source,
            Code::Cpu(m) => &m.clif,
        }
    }
}

/// A compiled kernel: code plus launch contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Kernel name.
    pub name: String,
    /// The code.
    pub code: Code,
    /// How to launch it.
    pub launch: LaunchContract,
}

impl Artifact {
    /// A WGSL kernel written by hand (baselines, device probes): `source` with entry point
    /// `name`, launched by `launch`. It is validated when a device loads it.
    pub fn wgsl_by_hand(name: &str, source: String, launch: LaunchContract) -> Artifact {
        Artifact {
            name: name.to_string(),
            code: Code::Wgsl(WgslModule {
                source,
                entry_point: name.to_string(),
                uses_f16: false,
            }),
            launch,
        }
    }

    /// The WGSL module, when this is WGSL.
    pub fn wgsl(&self) -> Option<&WgslModule> {
        match &self.code {
            Code::Wgsl(m) => Some(m),
            Code::Ptx(_) | Code::Cpu(_) => None,
        }
    }

    /// The PTX module, when this is PTX.
    pub fn ptx(&self) -> Option<&PtxModule> {
        match &self.code {
            Code::Ptx(m) => Some(m),
            Code::Wgsl(_) | Code::Cpu(_) => None,
        }
    }

    /// The CPU module, when this is CPU code.
    pub fn cpu(&self) -> Option<&crate::backend::cpu::CpuModule> {
        match &self.code {
            Code::Cpu(m) => Some(m),
            Code::Wgsl(_) | Code::Ptx(_) => None,
        }
    }
}

/// Dtypes in serialized artifacts are their canonical names (`u4`, `f6e3m2`), parsed back
/// with [`DType::parse`].
mod dtype_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use tilus_ir::dtype::DType;

    pub fn serialize<S: Serializer>(d: &DType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DType, D::Error> {
        let text = String::deserialize(d)?;
        DType::parse(&text).map_err(serde::de::Error::custom)
    }
}
