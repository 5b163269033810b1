//! What a compilation target can do.
//!
//! A [`Target`] is one backend with its device's capabilities ([`WgslCaps`] today; PTX's
//! next). The shared stages (layout inference, tile → thread lowering) read only the
//! backend-neutral [`TargetCaps`] view; the backend's own stages (legalization) read the
//! full capabilities; emitters never decide.

use crate::thread_ir::MmaShape;

/// A code-generation target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// WGSL for WebGPU (wgpu/naga).
    Wgsl(WgslCaps),
}

/// What a target can do, in terms every backend shares.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetCaps {
    /// Matrix-multiply atoms the target executes (tensor cores); empty for SIMT targets,
    /// on which layout inference picks SIMT `dot` layouts.
    pub mma: Vec<MmaShape>,
    /// The widest memory access, in bits.
    pub vector_bits: u32,
    /// The subgroup (warp) size when subgroup operations exist.
    pub subgroup_size: Option<u32>,
    /// Bytes of shared memory per block.
    pub shared_bytes: u32,
    /// Threads per block.
    pub max_threads: u32,
    /// Width of addresses and index arithmetic, in bits.
    pub address_bits: u32,
    /// Native `f16` conversions proven exact on the device.
    pub f16_native: NativeF16,
    /// Native `f16` arithmetic proven to round like the thread IR (round to nearest even
    /// after every operation).
    pub f16_arithmetic: bool,
}

/// Capabilities of a WGSL adapter that change code generation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WgslCaps {
    /// The adapter supports `enable f16;` (wgpu `SHADER_F16`): f16 math in f16, else in f32.
    pub shader_f16: bool,
    /// Subgroup size when subgroup builtins are available.
    pub subgroup_size: Option<u32>,
    /// Bytes of workgroup (shared) memory available.
    pub max_workgroup_storage: u32,
    /// Maximum invocations per workgroup.
    pub max_invocations: u32,
    /// The native `f16` conversions proven bit-exact on this adapter (by the runtime's
    /// probe); everything else is emulated with integer operations.
    pub f16_native: NativeF16,
}

/// Native `f16` conversions a target computes exactly as the thread IR defines them,
/// as established by running them over their inputs on the device (never assumed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NativeF16 {
    /// `unpack2x16float` gives every `f16` code's exact value (NaN quieted, payload kept),
    /// i.e. the `f16 → f32` cast.
    pub decode: bool,
    /// `pack2x16float` rounds `f32` to nearest even with overflow to infinity (the
    /// `f32 → f16` cast).
    pub encode: bool,
}

impl std::fmt::Display for NativeF16 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = |b: bool| if b { "native" } else { "emulated" };
        write!(
            f,
            "f16->f32 {}, f32->f16 {}",
            word(self.decode),
            word(self.encode)
        )
    }
}

impl Default for WgslCaps {
    /// The WebGPU baseline: no f16, no subgroups, 16 KiB workgroup storage, 256 invocations.
    fn default() -> Self {
        WgslCaps {
            shader_f16: false,
            subgroup_size: None,
            max_workgroup_storage: 16384,
            max_invocations: 256,
            f16_native: NativeF16::default(),
        }
    }
}

impl Target {
    /// A short name: `wgsl`.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Wgsl(_) => "wgsl",
        }
    }

    /// The backend-neutral capabilities.
    pub fn caps(&self) -> TargetCaps {
        match self {
            Target::Wgsl(c) => TargetCaps {
                // WebGPU has no matrix instructions.
                mma: Vec::new(),
                // vec4<u32>.
                vector_bits: 128,
                subgroup_size: c.subgroup_size,
                shared_bytes: c.max_workgroup_storage,
                max_threads: c.max_invocations,
                address_bits: 32,
                f16_native: c.f16_native,
                // WGSL leaves f16 rounding to the implementation; never assumed.
                f16_arithmetic: false,
            },
        }
    }
}
