//! What a compilation target can do.
//!
//! A [`Target`] is one backend with its device's capabilities ([`WgslCaps`],
//! [`PtxCaps`]). The shared stages (layout inference, tile → thread lowering) read only the
//! backend-neutral [`TargetCaps`] view; the backend's own stages (legalization) read the
//! full capabilities; emitters never decide.

use crate::thread_ir::MmaShape;

/// A code-generation target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// WGSL for WebGPU (wgpu/naga).
    Wgsl(WgslCaps),
    /// PTX for NVIDIA GPUs (sm_80 and newer), written by us and loaded by the driver.
    Ptx(PtxCaps),
    /// Native code for the host CPU: Cranelift IR, JIT-compiled by the runtime.
    Cpu(CpuCaps),
}

/// Capabilities of the CPU target.
///
/// A block runs on one core, its threads one after another between barriers; shared memory
/// is an ordinary per-worker buffer, so its size is a choice, not a hardware limit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CpuCaps {
    /// Threads per block.
    pub max_threads: u32,
    /// Bytes of shared memory per block.
    pub shared_bytes: u32,
    /// Threads run together in 128-bit SIMD lanes where their control flow agrees: 4, or 1
    /// for scalar thread loops only.
    pub lanes: u32,
}

impl Default for CpuCaps {
    /// 1024 threads and 228 KiB of shared memory per block (the largest GPU limits, so any
    /// kernel written for a GPU compiles), 4 SIMD lanes.
    fn default() -> Self {
        CpuCaps {
            max_threads: 1024,
            shared_bytes: 228 * 1024,
            lanes: 4,
        }
    }
}

/// An NVIDIA architecture PTX is generated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PtxArch {
    /// Ampere (A100): `sm_80`.
    Sm80,
    /// Hopper (H100, H200): `sm_90`.
    Sm90,
}

impl PtxArch {
    /// The `.target` name: `sm_80`, `sm_90`.
    pub fn name(self) -> &'static str {
        match self {
            PtxArch::Sm80 => "sm_80",
            PtxArch::Sm90 => "sm_90",
        }
    }

    /// Parses `sm_80`/`sm_90` (also `80`, `90`); newer compute capabilities map to the
    /// newest architecture they can run (`sm_89` → `sm_80`, `sm_100` → `sm_90`).
    pub fn parse(s: &str) -> Option<PtxArch> {
        let digits = s
            .trim()
            .trim_start_matches("sm_")
            .trim_start_matches("compute_");
        let n: u32 = digits.trim_end_matches('a').parse().ok()?;
        match n {
            80..=89 => Some(PtxArch::Sm80),
            90.. => Some(PtxArch::Sm90),
            _ => None,
        }
    }

    /// Opt-in dynamic shared memory per block (bytes): 163 KiB on sm_80, 227 KiB on sm_90.
    pub fn max_shared_bytes(self) -> u32 {
        match self {
            PtxArch::Sm80 => 163 * 1024,
            PtxArch::Sm90 => 227 * 1024,
        }
    }
}

/// Capabilities of a CUDA device that change code generation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PtxCaps {
    /// The architecture.
    pub arch: PtxArch,
    /// Bytes of shared memory a block may use (dynamic, opted in above 48 KiB).
    pub shared_bytes: u32,
    /// Threads per block.
    pub max_threads: u32,
}

impl PtxCaps {
    /// The limits of `arch` (1024 threads, its opt-in shared memory).
    pub fn for_arch(arch: PtxArch) -> PtxCaps {
        PtxCaps {
            arch,
            shared_bytes: arch.max_shared_bytes(),
            max_threads: 1024,
        }
    }
}

impl Default for PtxCaps {
    /// sm_80.
    fn default() -> Self {
        PtxCaps::for_arch(PtxArch::Sm80)
    }
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
    /// Warp shuffles among a fixed 32 lanes (PTX `shfl.sync`); WGSL subgroups have no fixed
    /// size, so lowering never relies on them there.
    pub warp_shuffle: bool,
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
    /// A short name: `wgsl`, `ptx`, `cpu`.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Wgsl(_) => "wgsl",
            Target::Ptx(_) => "ptx",
            Target::Cpu(_) => "cpu",
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
                warp_shuffle: false,
            },
            Target::Ptx(c) => TargetCaps {
                mma: vec![MmaShape::M16N8K16],
                // ld.global.v4.b32.
                vector_bits: 128,
                subgroup_size: Some(32),
                shared_bytes: c.shared_bytes,
                max_threads: c.max_threads,
                address_bits: 64,
                // The word legalization keeps f16 conversions as exact integer routines.
                f16_native: NativeF16::default(),
                f16_arithmetic: false,
                warp_shuffle: true,
            },
            Target::Cpu(c) => TargetCaps {
                // No tensor cores: SIMT dot layouts.
                mma: Vec::new(),
                vector_bits: 128,
                // Threads of a block run in turn; there are no lanes to shuffle between.
                subgroup_size: None,
                shared_bytes: c.shared_bytes,
                max_threads: c.max_threads,
                address_bits: 64,
                f16_native: NativeF16::default(),
                f16_arithmetic: false,
                warp_shuffle: false,
            },
        }
    }
}
