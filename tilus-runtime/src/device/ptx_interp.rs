//! The PTX-interpreter device (`backend = "ptx-interp"`): runs the PTX our compiler emits on
//! the CPU with `tilus-ptx`, so every PTX path is checked without a GPU.
//!
//! It compiles for sm_80 ([`DeviceInfo::target`] is PTX) and launches
//! [`Kernel::Compiled`] artifacts with PTX code exactly as the CUDA device does: one `.u64`
//! pointer per slot of the launch contract (buffers, workspaces, the scalar block), dynamic
//! shared memory of the contract's size. Buffers are host byte vectors, padded to 16 bytes
//! for the launch (as device allocations are) and copied back after it. Launches are
//! synchronous; timing is the wall clock around the interpretation (the number is the
//! interpreter's speed, not a GPU's).

use std::collections::HashMap;
use tilus_ptx::{LaunchConfig, Memory, Module, ParamValue, RunOptions, RunStats};

use super::bind::{bind, SlotSource};
use super::host::{wall_clock_timing, HostBuffers};
use super::{BufferId, Device, DeviceInfo, Kernel, LaunchArg, Timing};
use crate::error::RuntimeError;

/// Buffers are padded to this many bytes for a launch.
const PAD: usize = 16;

/// The PTX interpreter as a [`Device`] (see the module doc).
#[derive(Debug)]
pub struct PtxInterpDevice {
    info: DeviceInfo,
    buffers: HostBuffers,
    modules: HashMap<String, Module>,
    options: RunOptions,
    last: Option<RunStats>,
}

impl Default for PtxInterpDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl PtxInterpDevice {
    /// A new PTX-interpreter device (always succeeds).
    pub fn new() -> Self {
        PtxInterpDevice {
            info: DeviceInfo {
                backend: "ptx-interp",
                name: "PTX interpreter (sm_80 subset, tilus-ptx)".to_string(),
                software: true,
                shader_f16: false,
                timestamps: false,
                subgroup_size: Some(32),
                max_workgroup_storage: tilus_ptx::MAX_SHARED_BYTES,
                max_invocations: tilus_ptx::MAX_BLOCK_THREADS,
                f16_native: Default::default(),
                compute_capability: Some((8, 0)),
            },
            buffers: HostBuffers::new(),
            modules: HashMap::new(),
            options: RunOptions::default(),
            last: None,
        }
    }

    /// What the last launch executed.
    pub fn last_stats(&self) -> Option<RunStats> {
        self.last
    }

    /// Sets the instruction budget of every launch (the default is the interpreter's).
    pub fn set_max_steps(&mut self, steps: u64) {
        self.options.max_steps = steps;
    }

    fn run(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError> {
        let Kernel::Compiled(artifact) = kernel else {
            return Err(RuntimeError::WrongKernelKind {
                device: "ptx-interp",
                kernel: kernel.kind(),
            });
        };
        let Some(ptx) = artifact.ptx() else {
            return Err(RuntimeError::WrongKernelKind {
                device: "ptx-interp",
                kernel: kernel.kind(),
            });
        };
        let buffers = &self.buffers;
        let bound = bind(artifact, args, [u32::MAX; 3], |id| {
            buffers.get(id).map(drop)
        })?;
        if bound.is_empty() {
            return Ok(());
        }
        if !self.modules.contains_key(&ptx.source) {
            let m = Module::parse(&ptx.source).map_err(|e| RuntimeError::ShaderCompile {
                kernel: artifact.name.clone(),
                message: e.to_string(),
            })?;
            self.modules.insert(ptx.source.clone(), m);
        }
        let module = self.modules.get(&ptx.source).ok_or_else(|| {
            RuntimeError::BadConfig("a parsed PTX module vanished from the cache".into())
        })?;
        let mut memory = Vec::with_capacity(bound.slots.len());
        let mut back: Vec<(usize, BufferId)> = Vec::new();
        for (i, slot) in bound.slots.iter().enumerate() {
            let bytes = match slot.source {
                SlotSource::Arg(id) => {
                    back.push((i, id));
                    self.buffers.get(id)?.clone()
                }
                SlotSource::Workspace { bytes, .. } => vec![0; bytes],
                SlotSource::ScalarBlock => bound.scalar_bytes(),
            };
            let mut bytes = bytes;
            let padded = bytes.len().div_ceil(PAD).max(1) * PAD;
            bytes.resize(padded, 0);
            memory.push(bytes);
        }
        let mut memory = Memory::new(memory);
        let params: Vec<ParamValue> = (0..bound.slots.len()).map(Memory::pointer).collect();
        let cfg = LaunchConfig {
            grid: bound.grid,
            block: bound.threads,
            dynamic_shared_bytes: artifact.launch.shared_bytes,
        };
        let result = tilus_ptx::launch(
            module,
            &ptx.entry_point,
            &cfg,
            &params,
            &mut memory,
            &self.options,
        );
        // Buffers see what the launch wrote, also when it failed part way (like a GPU).
        for (i, id) in back {
            let dst = self.buffers.get_mut(id)?;
            if let Some(src) = memory.buffers.get(i) {
                let n = dst.len().min(src.len());
                dst[..n].copy_from_slice(&src[..n]);
            }
        }
        let stats = result.map_err(|e| RuntimeError::BadLaunch {
            kernel: artifact.name.clone(),
            message: format!("the PTX interpreter stopped: {e}"),
        })?;
        self.last = Some(stats);
        Ok(())
    }
}

impl Device for PtxInterpDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn allocate(&mut self, bytes: usize) -> Result<BufferId, RuntimeError> {
        self.buffers.allocate(bytes)
    }

    fn free(&mut self, buffer: BufferId) -> Result<(), RuntimeError> {
        self.buffers.free(buffer)
    }

    fn buffer_size(&self, buffer: BufferId) -> Result<usize, RuntimeError> {
        self.buffers.size(buffer)
    }

    fn upload(&mut self, buffer: BufferId, bytes: &[u8]) -> Result<(), RuntimeError> {
        self.buffers.upload(buffer, bytes)
    }

    fn download(&mut self, buffer: BufferId) -> Result<Vec<u8>, RuntimeError> {
        Ok(self.buffers.get(buffer)?.clone())
    }

    fn launch(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError> {
        self.run(kernel, args)
    }

    fn synchronize(&mut self) -> Result<(), RuntimeError> {
        Ok(())
    }

    fn time(
        &mut self,
        kernel: &Kernel,
        args: &[LaunchArg],
        warmup: u32,
        repeats: u32,
    ) -> Result<Timing, RuntimeError> {
        wall_clock_timing(warmup, repeats, || self.run(kernel, args))
    }
}
