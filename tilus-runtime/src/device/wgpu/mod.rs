//! The wgpu device: a GPU (or Mesa lavapipe on the CPU) through wgpu.
//!
//! - **Adapter**: the instance enumerates every compiled-in backend (Vulkan here; Metal and
//!   DX12 where the build enables them) and prefers hardware (discrete, then integrated,
//!   then virtual GPUs) over software (a `Cpu` adapter such as llvmpipe). `SHADER_F16`,
//!   `TIMESTAMP_QUERY` and `SUBGROUP` are requested when the adapter has them (never
//!   required), and the limits are raised to everything the adapter allows.
//! - **Buffers** are storage buffers padded to 4 bytes (WGSL sees `u32` words); downloads
//!   return exactly the size asked for.
//! - **Kernels** are [`Artifact`](tilus_lower::artifact::Artifact)s with WGSL code. The bind
//!   group layout comes from the launch contract (the module is never parsed here); the
//!   shader module and pipeline are created inside wgpu error scopes, so a module wgpu
//!   rejects becomes [`RuntimeError::ShaderCompile`] with its report. Pipelines are cached per (source,
//!   entry point), keyed by a hash of both and compared in full on a hit.
//! - **Launch**: scalar arguments are written into the scalar block, the grid is evaluated
//!   from the integer arguments, workspaces are allocated per launch (wgpu zero-fills new
//!   buffers; `requires_clean` ones are cleared again before every timed run).
//! - **Errors**: an uncaptured-error handler collects what no scope caught (wgpu's default
//!   handler would panic); every operation reports them as [`RuntimeError::Gpu`].
//! - **Timing** uses timestamp queries around the compute pass when the device has them
//!   (converted with the queue's timestamp period), else the wall clock around submit and
//!   wait.

mod launch;
mod probe;

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use self::launch::{padded, CachedPipeline};
use super::{BufferId, BufferTable, Clock, Device, DeviceInfo, Kernel, LaunchArg, Timing};
use crate::error::RuntimeError;

/// How to pick a wgpu adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WgpuOptions {
    /// Backends to enumerate (those not compiled in find nothing).
    pub backends: ::wgpu::Backends,
    /// Only adapters whose name contains this (case-insensitive).
    pub adapter_name: Option<String>,
}

impl Default for WgpuOptions {
    /// Every backend, any adapter.
    fn default() -> Self {
        WgpuOptions {
            backends: ::wgpu::Backends::all(),
            adapter_name: None,
        }
    }
}

impl WgpuOptions {
    /// The defaults, changed by `WGPU_BACKEND` (e.g. `vulkan`) and `TILUS_WGPU_ADAPTER`
    /// (a substring of the adapter name).
    pub fn from_env() -> Self {
        WgpuOptions {
            backends: ::wgpu::Backends::all().with_env(),
            adapter_name: std::env::var("TILUS_WGPU_ADAPTER")
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }
}

/// How to get a device when there is none; part of [`RuntimeError::NoAdapter`].
fn no_adapter_help() -> String {
    format!(
        "tilus runs kernels on two kinds of device:\n\
         \x20 - wgpu: a GPU through Vulkan (Linux, Windows, Android), Metal (macOS) or DX12 \
         (Windows); this build has {:?}. With no GPU, Mesa lavapipe runs Vulkan on the CPU: \
         on Debian/Ubuntu `apt-get install mesa-vulkan-drivers libvulkan1` (then \
         `vulkaninfo --summary` lists `llvmpipe`; export XDG_RUNTIME_DIR if the loader \
         complains).\n\
         \x20 - interp: the tile interpreter on the CPU, always available \
         (`InterpDevice::new()`; `default_device()` falls back to it, TILUS_DEVICE=interp \
         forces it).",
        ::wgpu::Instance::enabled_backend_features()
    )
}

/// Preference of an adapter type: lower is better (hardware before software).
fn rank(ty: ::wgpu::DeviceType) -> u8 {
    match ty {
        ::wgpu::DeviceType::DiscreteGpu => 0,
        ::wgpu::DeviceType::IntegratedGpu => 1,
        ::wgpu::DeviceType::VirtualGpu => 2,
        ::wgpu::DeviceType::Cpu => 3,
        ::wgpu::DeviceType::Other => 4,
    }
}

/// One buffer: the wgpu buffer (padded to 4 bytes) and the size asked for.
#[derive(Debug)]
struct WgpuBuffer {
    buffer: ::wgpu::Buffer,
    size: usize,
}

/// A wgpu device (see the module doc).
pub struct WgpuDevice {
    device: ::wgpu::Device,
    queue: ::wgpu::Queue,
    adapter: ::wgpu::AdapterInfo,
    limits: ::wgpu::Limits,
    info: DeviceInfo,
    buffers: BufferTable<WgpuBuffer>,
    pipelines: HashMap<u64, Arc<CachedPipeline>>,
    uncaptured: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for WgpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WgpuDevice")
            .field("info", &self.info)
            .field("backend", &self.adapter.backend)
            .finish_non_exhaustive()
    }
}

impl WgpuDevice {
    /// Opens the best adapter ([`WgpuOptions::from_env`]); [`RuntimeError::NoAdapter`]
    /// explains what exists and how to get one when there is none.
    pub fn new() -> Result<Self, RuntimeError> {
        Self::with_options(&WgpuOptions::from_env())
    }

    /// Opens the best adapter allowed by `options`.
    pub fn with_options(options: &WgpuOptions) -> Result<Self, RuntimeError> {
        let mut desc = ::wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = options.backends;
        // No Vulkan validation layers unless asked for (WGPU_VALIDATION / WGPU_DEBUG).
        desc.flags = ::wgpu::InstanceFlags::empty().with_env();
        let instance = ::wgpu::Instance::new(desc);
        let all = pollster::block_on(instance.enumerate_adapters(options.backends));
        let found: Vec<String> = all
            .iter()
            .map(|a| {
                let i = a.get_info();
                format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
            })
            .collect();
        let wanted = options.adapter_name.as_ref().map(|s| s.to_lowercase());
        let mut candidates: Vec<::wgpu::Adapter> = all
            .into_iter()
            .filter(|a| {
                wanted
                    .as_ref()
                    .is_none_or(|w| a.get_info().name.to_lowercase().contains(w))
            })
            .collect();
        candidates.sort_by_key(|a| rank(a.get_info().device_type));
        let Some(adapter) = candidates.into_iter().next() else {
            let mut reason = format!(
                "no adapter among the requested backends {:?} (compiled in: {:?})",
                options.backends,
                ::wgpu::Instance::enabled_backend_features()
            );
            if let Some(w) = &options.adapter_name {
                reason.push_str(&format!("; wanted a name containing {w:?}"));
            }
            if !found.is_empty() {
                reason.push_str(&format!("; found: {}", found.join(", ")));
            }
            return Err(RuntimeError::NoAdapter {
                reason,
                help: no_adapter_help(),
            });
        };
        let adapter_info = adapter.get_info();
        let wanted_features = ::wgpu::Features::SHADER_F16
            | ::wgpu::Features::TIMESTAMP_QUERY
            | ::wgpu::Features::SUBGROUP;
        let features = adapter.features() & wanted_features;
        let limits = adapter.limits();
        let (device, queue) =
            pollster::block_on(adapter.request_device(&::wgpu::DeviceDescriptor {
                label: Some("tilus"),
                required_features: features,
                required_limits: limits.clone(),
                ..Default::default()
            }))
            .map_err(|e| RuntimeError::RequestDevice {
                adapter: adapter_info.name.clone(),
                message: e.to_string(),
            })?;
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |e: ::wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let subgroup_size = (features.contains(::wgpu::Features::SUBGROUP)
            && adapter_info.subgroup_min_size == adapter_info.subgroup_max_size)
            .then_some(adapter_info.subgroup_min_size);
        let info = DeviceInfo {
            backend: "wgpu",
            name: adapter_info.name.clone(),
            software: adapter_info.device_type == ::wgpu::DeviceType::Cpu,
            shader_f16: features.contains(::wgpu::Features::SHADER_F16),
            timestamps: features.contains(::wgpu::Features::TIMESTAMP_QUERY),
            subgroup_size,
            max_workgroup_storage: limits.max_compute_workgroup_storage_size,
            max_invocations: limits.max_compute_invocations_per_workgroup,
            f16_native: Default::default(),
            compute_capability: None,
        };
        let mut dev = WgpuDevice {
            device,
            queue,
            adapter: adapter_info,
            limits,
            info,
            buffers: BufferTable::new(),
            pipelines: HashMap::new(),
            uncaptured,
        };
        // Native f16 conversions are used only where the adapter computes them exactly.
        dev.info.f16_native = probe::probe_f16(&mut dev);
        dev.pipelines.clear();
        Ok(dev)
    }

    /// wgpu's description of the adapter (backend, driver, vendor).
    pub fn adapter_info(&self) -> &::wgpu::AdapterInfo {
        &self.adapter
    }

    /// The device limits (all the adapter allows).
    pub fn limits(&self) -> &::wgpu::Limits {
        &self.limits
    }

    /// The largest buffer this device binds, in bytes.
    pub fn max_buffer_bytes(&self) -> u64 {
        self.limits
            .max_buffer_size
            .min(self.limits.max_storage_buffer_binding_size)
    }

    /// Number of compiled pipelines in the cache.
    pub fn cached_pipelines(&self) -> usize {
        self.pipelines.len()
    }

    /// Errors no scope caught since the last call.
    fn take_uncaptured(&self) -> Vec<String> {
        match self.uncaptured.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(_) => vec!["an earlier error handler panicked".to_string()],
        }
    }

    /// Runs `f` inside out-of-memory, validation and internal error scopes; any error they
    /// (or the uncaptured handler) saw is returned as a list of messages.
    fn scoped<T>(&self, f: impl FnOnce() -> T) -> (T, Vec<String>) {
        let oom = self
            .device
            .push_error_scope(::wgpu::ErrorFilter::OutOfMemory);
        let validation = self
            .device
            .push_error_scope(::wgpu::ErrorFilter::Validation);
        let internal = self.device.push_error_scope(::wgpu::ErrorFilter::Internal);
        let out = f();
        let mut errors = Vec::new();
        for scope in [internal, validation, oom] {
            if let Some(e) = pollster::block_on(scope.pop()) {
                errors.push(e.to_string());
            }
        }
        errors.extend(self.take_uncaptured());
        (out, errors)
    }

    /// [`Self::scoped`], with errors as [`RuntimeError::Gpu`].
    fn checked<T>(&self, during: &str, f: impl FnOnce() -> T) -> Result<T, RuntimeError> {
        let (out, errors) = self.scoped(f);
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(RuntimeError::Gpu {
                during: during.to_string(),
                message: errors.join("\n"),
            })
        }
    }

    /// Waits for all submitted work.
    fn wait(&self, during: &str) -> Result<(), RuntimeError> {
        self.device
            .poll(::wgpu::PollType::wait_indefinitely())
            .map_err(|e| RuntimeError::Gpu {
                during: during.to_string(),
                message: e.to_string(),
            })?;
        let errors = self.take_uncaptured();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(RuntimeError::Gpu {
                during: during.to_string(),
                message: errors.join("\n"),
            })
        }
    }

    /// A raw buffer of `size` bytes (a multiple of 4) with `usage`, checked against limits.
    fn raw_buffer(
        &self,
        label: &str,
        size: u64,
        usage: ::wgpu::BufferUsages,
    ) -> Result<::wgpu::Buffer, RuntimeError> {
        let (limit, what) =
            if self.limits.max_buffer_size <= self.limits.max_storage_buffer_binding_size {
                (self.limits.max_buffer_size, "max_buffer_size")
            } else {
                (
                    self.limits.max_storage_buffer_binding_size,
                    "max_storage_buffer_binding_size",
                )
            };
        if size > limit {
            return Err(RuntimeError::BufferTooLarge {
                requested: size,
                limit,
                what,
            });
        }
        self.checked("buffer allocation", || {
            self.device.create_buffer(&::wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        })
    }

    /// Copies the first `size` bytes (a multiple of 4) of a MAP_READ buffer to the host,
    /// after all submitted work.
    fn read_mapped(&self, buffer: &::wgpu::Buffer, size: u64) -> Result<Vec<u8>, RuntimeError> {
        let slice = buffer.slice(0..size);
        let (tx, rx) = mpsc::channel();
        slice.map_async(::wgpu::MapMode::Read, move |r| {
            // The receiver outlives this callback (we wait for it below).
            let _ = tx.send(r);
        });
        self.wait("readback")?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RuntimeError::Readback(e.to_string())),
            Err(_) => {
                return Err(RuntimeError::Readback(
                    "the map callback never ran".to_string(),
                ))
            }
        }
        let bytes = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| RuntimeError::Readback(e.to_string()))?;
            view.to_vec()
        };
        buffer.unmap();
        Ok(bytes)
    }
}

impl Device for WgpuDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn allocate(&mut self, bytes: usize) -> Result<BufferId, RuntimeError> {
        let buffer = self.raw_buffer(
            "tilus buffer",
            padded(bytes),
            ::wgpu::BufferUsages::STORAGE
                | ::wgpu::BufferUsages::COPY_DST
                | ::wgpu::BufferUsages::COPY_SRC,
        )?;
        self.buffers.insert(WgpuBuffer {
            buffer,
            size: bytes,
        })
    }

    fn free(&mut self, buffer: BufferId) -> Result<(), RuntimeError> {
        // Dropping (not destroying) lets in-flight work that uses the buffer finish first.
        self.buffers.remove(buffer).map(drop)
    }

    fn buffer_size(&self, buffer: BufferId) -> Result<usize, RuntimeError> {
        Ok(self.buffers.get(buffer)?.size)
    }

    fn upload(&mut self, buffer: BufferId, bytes: &[u8]) -> Result<(), RuntimeError> {
        let b = self.buffers.get(buffer)?;
        if bytes.len() > b.size {
            return Err(RuntimeError::UploadTooLarge {
                buffer,
                bytes: bytes.len(),
                size: b.size,
            });
        }
        let mut data = bytes.to_vec();
        data.resize(padded(bytes.len()) as usize, 0);
        let written = data.len() as u64;
        self.checked("upload", || {
            self.queue.write_buffer(&b.buffer, 0, &data);
            if written < b.buffer.size() {
                let mut encoder = self
                    .device
                    .create_command_encoder(&::wgpu::CommandEncoderDescriptor::default());
                encoder.clear_buffer(&b.buffer, written, None);
                self.queue.submit([encoder.finish()]);
            }
        })
    }

    fn download(&mut self, buffer: BufferId) -> Result<Vec<u8>, RuntimeError> {
        let b = self.buffers.get(buffer)?;
        let size = b.buffer.size();
        let staging = self.raw_buffer(
            "download",
            size,
            ::wgpu::BufferUsages::MAP_READ | ::wgpu::BufferUsages::COPY_DST,
        )?;
        self.checked("download", || {
            let mut encoder = self
                .device
                .create_command_encoder(&::wgpu::CommandEncoderDescriptor::default());
            encoder.copy_buffer_to_buffer(&b.buffer, 0, &staging, 0, size);
            self.queue.submit([encoder.finish()]);
        })?;
        let mut bytes = self.read_mapped(&staging, size)?;
        bytes.truncate(b.size);
        Ok(bytes)
    }

    fn launch(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError> {
        let p = self.prepare(kernel, args)?;
        self.submit_runs(&p, 1)
    }

    fn synchronize(&mut self) -> Result<(), RuntimeError> {
        self.wait("synchronize")
    }

    fn time(
        &mut self,
        kernel: &Kernel,
        args: &[LaunchArg],
        warmup: u32,
        repeats: u32,
    ) -> Result<Timing, RuntimeError> {
        let p = self.prepare(kernel, args)?;
        let repeats = repeats.max(1);
        if warmup > 0 {
            self.submit_runs(&p, warmup)?;
        }
        self.wait("warmup")?;
        if self.info.timestamps {
            let samples = self.time_with_timestamps(&p, repeats)?;
            return Ok(Timing::from_samples(samples, Clock::GpuTimestamps));
        }
        let mut samples = Vec::with_capacity(repeats as usize);
        for _ in 0..repeats {
            let t0 = Instant::now();
            self.submit_runs(&p, 1)?;
            self.wait("timed launch")?;
            samples.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        Ok(Timing::from_samples(samples, Clock::WallClock))
    }
}
