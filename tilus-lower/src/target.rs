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
}

impl Default for WgslCaps {
    /// The WebGPU baseline: no f16, no subgroups, 16 KiB workgroup storage, 256 invocations.
    fn default() -> Self {
        WgslCaps {
            shader_f16: false,
            subgroup_size: None,
            max_workgroup_storage: 16384,
            max_invocations: 256,
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
