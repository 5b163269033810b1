//! What a compilation target can do. Legalization reads it; emitters never decide.

/// A code-generation target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// WGSL for WebGPU (wgpu/naga).
    Wgsl(WgslCaps),
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
}
