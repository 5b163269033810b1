//! Devices: where kernels run.
//!
//! A [`Device`] owns buffers of raw bytes (every tilus dtype is a little-endian bit stream,
//! so bytes are the common currency), runs kernels on them and times them. The devices:
//!
//! - [`WgpuDevice`] (`backend = "wgpu"`): a GPU (or Mesa lavapipe on the CPU) through wgpu;
//!   runs [`Kernel::Compiled`] — an [`Artifact`] with WGSL code and its launch contract.
//! - `CudaDevice` (`backend = "cuda"`, cargo feature `cuda`): an NVIDIA GPU through the
//!   CUDA driver API (libcuda, opened at run time); runs [`Kernel::Compiled`] with PTX code.
//! - [`PtxInterpDevice`] (`backend = "ptx-interp"`): the PTX we emit, run on the CPU by
//!   `tilus-ptx`; runs [`Kernel::Compiled`] with PTX code, as the CUDA device would.
//! - [`CpuDevice`] (`backend = "cpu"`): native code from Cranelift on host memory, blocks in
//!   parallel on all cores; runs [`Kernel::Compiled`] with CPU code.
//! - [`InterpDevice`] (`backend = "interp"`): the tile interpreter on host memory; runs
//!   [`Kernel::Tile`] — a verified tile-IR program and a kernel name. It is the reference
//!   semantics and is always available.
//!
//! Each device runs the kernel kind it understands and answers
//! [`RuntimeError::WrongKernelKind`] for the others. [`default_device`] picks CUDA (with the
//! `cuda` feature, when a driver and a GPU exist), else wgpu on a hardware adapter, else the
//! CPU backend (or a software wgpu adapter when it measured faster), and says why.
//!
//! Launches are asynchronous where the device is ([`Device::synchronize`] waits);
//! [`Device::download`] always returns the bytes after all earlier work. The target-neutral
//! part of a launch (checking arguments against the launch contract, the scalar block, the
//! grid, workspace sizes) is [`bind`], shared by the compiled-code devices.

pub mod bind;
mod choose;
mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod host;
mod interp;
mod ptx_interp;
mod wgpu;

pub use self::cpu::CpuDevice;
#[cfg(feature = "cuda")]
pub use self::cuda::{cuda_driver_present, CudaDevice, CudaKernelInfo};
pub use self::interp::InterpDevice;
pub use self::ptx_interp::PtxInterpDevice;
pub use self::wgpu::{WgpuDevice, WgpuOptions};

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tilus_ir::verify::VerifiedProgram;
use tilus_lower::artifact::Artifact;
use tilus_lower::target::{CpuCaps, NativeF16, PtxArch, PtxCaps, Target, WgslCaps};

use crate::error::RuntimeError;

/// What a device is and what it can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `"wgpu"`, `"cuda"` or `"interp"`.
    pub backend: &'static str,
    /// The adapter's name (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`), or `tile interpreter`.
    pub name: String,
    /// Whether the device runs on the CPU (lavapipe, the interpreter).
    pub software: bool,
    /// Whether WGSL `enable f16;` is available (wgpu `SHADER_F16`).
    pub shader_f16: bool,
    /// Whether kernels are timed with GPU timestamp queries (else with the wall clock).
    pub timestamps: bool,
    /// The subgroup size when subgroup builtins are available and the size is fixed
    /// (the adapter's minimum and maximum subgroup sizes agree).
    pub subgroup_size: Option<u32>,
    /// Bytes of workgroup (shared) memory per workgroup (CUDA: the opt-in maximum of
    /// dynamic shared memory per block).
    pub max_workgroup_storage: u32,
    /// Invocations (threads) per workgroup.
    pub max_invocations: u32,
    /// The native `f16` conversions the device's probe proved exact (wgpu; none elsewhere).
    pub f16_native: NativeF16,
    /// The CUDA compute capability (major, minor); `None` on other devices.
    pub compute_capability: Option<(u32, u32)>,
}

impl DeviceInfo {
    /// The compilation target of this device, or `None` for a device that runs tile
    /// programs directly (the interpreter).
    ///
    /// A CUDA device gives [`Target::Ptx`] for the newest architecture its compute
    /// capability runs ([`PtxArch::parse`]), with shared memory and threads per block capped
    /// by the device's own limits; one older than sm_80 gives `None`.
    pub fn target(&self) -> Option<Target> {
        match self.backend {
            "wgpu" => Some(Target::Wgsl(self.wgsl_caps())),
            "cuda" | "ptx-interp" => self.ptx_caps().map(Target::Ptx),
            // The CPU device reports its SIMD lanes (threads run together) as its subgroup.
            "cpu" => Some(Target::Cpu(CpuCaps {
                max_threads: self.max_invocations,
                shared_bytes: self.max_workgroup_storage,
                lanes: self.subgroup_size.unwrap_or(1),
            })),
            _ => None,
        }
    }

    /// The PTX architecture of a CUDA device (`None` elsewhere, or before sm_80).
    pub fn ptx_arch(&self) -> Option<PtxArch> {
        let (major, minor) = self.compute_capability?;
        PtxArch::parse(&format!("sm_{major}{minor}"))
    }

    /// The PTX code-generation capabilities of a CUDA device (see [`Self::target`]).
    pub fn ptx_caps(&self) -> Option<PtxCaps> {
        let mut caps = PtxCaps::for_arch(self.ptx_arch()?);
        caps.shared_bytes = caps.shared_bytes.min(self.max_workgroup_storage);
        caps.max_threads = caps.max_threads.min(self.max_invocations);
        Some(caps)
    }

    /// The WGSL code-generation capabilities of this device.
    pub fn wgsl_caps(&self) -> WgslCaps {
        WgslCaps {
            shader_f16: self.shader_f16,
            subgroup_size: self.subgroup_size,
            max_workgroup_storage: self.max_workgroup_storage,
            max_invocations: self.max_invocations,
            f16_native: self.f16_native,
        }
    }
}

impl fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (software={}, f16={}, timestamps={}, subgroup={:?}, workgroup storage={} B, \
             invocations={}, {})",
            self.backend,
            self.name,
            self.software,
            self.shader_f16,
            self.timestamps,
            self.subgroup_size,
            self.max_workgroup_storage,
            self.max_invocations,
            self.f16_native
        )?;
        if let Some((major, minor)) = self.compute_capability {
            write!(f, ", compute capability {major}.{minor}")?;
        }
        Ok(())
    }
}

/// A buffer on one device: opaque, valid until freed, only on the device that made it
/// (each device has its own serial number, so a foreign id is an error, not a wrong buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferId {
    device: u32,
    index: u32,
}

impl fmt::Display for BufferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "buf{}@dev{}", self.index, self.device)
    }
}

/// One launch argument per tile-function parameter, in parameter order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LaunchArg {
    /// A pointer parameter: a buffer on the launching device.
    Buffer(BufferId),
    /// An integer scalar parameter (range-checked against the parameter's type).
    Int(i64),
    /// A float scalar parameter (rounded to the parameter's type).
    Float(f64),
}

/// What a device runs. Each device takes the kind it understands (see the module doc).
#[derive(Clone, Debug)]
pub enum Kernel {
    /// A compiled kernel (code and launch contract); runs on the device of its code's
    /// target ([`WgpuDevice`] for WGSL, `CudaDevice` for PTX).
    Compiled(Artifact),
    /// A kernel of a verified tile-IR program; runs on [`InterpDevice`].
    Tile {
        /// The program (shared: one program holds many kernels).
        program: Arc<VerifiedProgram>,
        /// The kernel's name in the program.
        name: String,
    },
}

impl Kernel {
    /// A tile-IR kernel.
    pub fn tile(program: impl Into<Arc<VerifiedProgram>>, name: impl Into<String>) -> Self {
        Kernel::Tile {
            program: program.into(),
            name: name.into(),
        }
    }

    /// The kernel's name.
    pub fn name(&self) -> &str {
        match self {
            Kernel::Compiled(k) => &k.name,
            Kernel::Tile { name, .. } => name,
        }
    }

    /// The code's target (`"wgsl"`, `"ptx"`) or `"tile"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Kernel::Compiled(k) => k.code.target(),
            Kernel::Tile { .. } => "tile",
        }
    }
}

impl From<Artifact> for Kernel {
    fn from(k: Artifact) -> Self {
        Kernel::Compiled(k)
    }
}

/// Which clock produced a [`Timing`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// GPU timestamp queries written at the start and end of the compute pass.
    GpuTimestamps,
    /// Host wall clock around submit and wait (includes launch overhead).
    WallClock,
    /// CUDA events recorded on the stream just before and after the launch.
    CudaEvents,
}

/// Timing of repeated launches.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Median of the samples, in microseconds.
    pub median_us: f64,
    /// Smallest sample, in microseconds.
    pub min_us: f64,
    /// Every sample (one per repeat), in microseconds, in run order.
    pub samples: Vec<f64>,
    /// Where the samples came from.
    pub clock: Clock,
}

impl Timing {
    /// Summarizes samples (an empty list gives zeros).
    pub fn from_samples(samples: Vec<f64>, clock: Clock) -> Timing {
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median_us = match n {
            0 => 0.0,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Timing {
            median_us,
            min_us: sorted.first().copied().unwrap_or(0.0),
            samples,
            clock,
        }
    }
}

/// A place where kernels run: buffers, launches, synchronization and timing.
///
/// Buffers hold raw bytes and start zeroed. Every method returns an error instead of
/// panicking on bad input (unknown buffers, wrong arguments, compile errors).
pub trait Device: Send {
    /// What this device is.
    fn info(&self) -> &DeviceInfo;

    /// A zeroed buffer of `bytes` bytes.
    fn allocate(&mut self, bytes: usize) -> Result<BufferId, RuntimeError>;

    /// Frees a buffer; later use of the id is [`RuntimeError::UnknownBuffer`].
    fn free(&mut self, buffer: BufferId) -> Result<(), RuntimeError>;

    /// The size in bytes the buffer was allocated with.
    fn buffer_size(&self, buffer: BufferId) -> Result<usize, RuntimeError>;

    /// Replaces the buffer's contents: `bytes` at offset 0, zeros after. More bytes than the
    /// buffer holds is [`RuntimeError::UploadTooLarge`].
    fn upload(&mut self, buffer: BufferId, bytes: &[u8]) -> Result<(), RuntimeError>;

    /// The buffer's bytes (exactly its size) after all earlier work finished.
    fn download(&mut self, buffer: BufferId) -> Result<Vec<u8>, RuntimeError>;

    /// Launches a kernel with one argument per tile-function parameter.
    fn launch(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError>;

    /// Waits until all launched work has finished.
    fn synchronize(&mut self) -> Result<(), RuntimeError>;

    /// Runs the kernel `warmup` times untimed, then `repeats` times (at least once) timed.
    /// Buffers see every run, so time kernels whose result does not feed their input.
    fn time(
        &mut self,
        kernel: &Kernel,
        args: &[LaunchArg],
        warmup: u32,
        repeats: u32,
    ) -> Result<Timing, RuntimeError>;

    /// The device's measured device-to-device copy bandwidth in GB/s (bytes read plus
    /// written per second), where it measures one (CUDA); `None` elsewhere.
    fn copy_bandwidth_gbs(&mut self) -> Option<Result<f64, RuntimeError>> {
        None
    }

    /// The median time in µs of the vendor's f16 GEMM `[m, k] × [k, n]` (cuBLAS), where the
    /// device has one; `None` elsewhere.
    fn vendor_hgemm_us(
        &mut self,
        _m: usize,
        _n: usize,
        _k: usize,
        _warmup: u32,
        _repeats: u32,
    ) -> Option<Result<f64, RuntimeError>> {
        None
    }

    /// A new buffer holding `bytes` (allocate + upload).
    fn allocate_with(&mut self, bytes: &[u8]) -> Result<BufferId, RuntimeError> {
        let id = self.allocate(bytes.len())?;
        self.upload(id, bytes)?;
        Ok(id)
    }
}

/// The device [`default_device`] chose, and why.
pub struct ChosenDevice {
    /// The device.
    pub device: Box<dyn Device>,
    /// Which device and why (e.g. why wgpu was not available).
    pub reason: String,
}

impl fmt::Debug for ChosenDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChosenDevice")
            .field("device", self.device.info())
            .field("reason", &self.reason)
            .finish()
    }
}

/// The best available device: with the `cuda` feature a CUDA GPU (device 0) when the driver
/// opens one, else wgpu on a hardware adapter, else the CPU backend — or a software wgpu
/// adapter (lavapipe) when a probe measured it faster than the CPU backend on this machine
/// (measured once, the verdict stored in the cache directory).
///
/// `TILUS_DEVICE=wgpu|cpu|interp|ptx-interp` (and `cuda` with the feature) forces one; a forced
/// device that cannot be opened is an error (unforced, the choice falls through and says
/// why).
pub fn default_device() -> Result<ChosenDevice, RuntimeError> {
    let forced = std::env::var("TILUS_DEVICE").ok();
    match forced.as_deref() {
        Some("interp") => Ok(ChosenDevice {
            device: Box::new(InterpDevice::new()),
            reason: "interp: forced by TILUS_DEVICE=interp".to_string(),
        }),
        Some("cpu") => Ok(ChosenDevice {
            device: Box::new(CpuDevice::new()),
            reason: "cpu: forced by TILUS_DEVICE=cpu".to_string(),
        }),
        Some("ptx-interp") => Ok(ChosenDevice {
            device: Box::new(PtxInterpDevice::new()),
            reason: "ptx-interp: forced by TILUS_DEVICE=ptx-interp".to_string(),
        }),
        Some("wgpu") => {
            let dev = WgpuDevice::new()?;
            let reason = format!("wgpu: forced by TILUS_DEVICE=wgpu; {}", dev.info());
            Ok(ChosenDevice {
                device: Box::new(dev),
                reason,
            })
        }
        #[cfg(feature = "cuda")]
        Some("cuda") => {
            let dev = CudaDevice::new(0)?;
            let reason = format!("cuda: forced by TILUS_DEVICE=cuda; {}", dev.info());
            Ok(ChosenDevice {
                device: Box::new(dev),
                reason,
            })
        }
        Some(other) if !other.is_empty() => Err(RuntimeError::BadConfig(format!(
            "TILUS_DEVICE={other:?}: expected {}",
            if cfg!(feature = "cuda") {
                "`cuda`, `wgpu`, `cpu`, `ptx-interp` or `interp`"
            } else {
                "`wgpu`, `cpu`, `ptx-interp` or `interp`"
            }
        ))),
        _ => {
            #[cfg(feature = "cuda")]
            let no_cuda = match CudaDevice::new(0) {
                Ok(dev) => {
                    let reason = format!("cuda: a GPU is present; {}", dev.info());
                    return Ok(ChosenDevice {
                        device: Box::new(dev),
                        reason,
                    });
                }
                Err(e) => format!("{e}; "),
            };
            #[cfg(not(feature = "cuda"))]
            let no_cuda = String::new();
            match WgpuDevice::new() {
                Ok(dev) if !dev.info().software => {
                    let reason = format!("wgpu: {no_cuda}a GPU adapter exists; {}", dev.info());
                    Ok(ChosenDevice {
                        device: Box::new(dev),
                        reason,
                    })
                }
                Ok(dev) => {
                    let (device, reason) = choose::cpu_or_software_wgpu(dev);
                    // The backend first, then why not CUDA, then why this one.
                    let backend = device.info().backend;
                    let why = reason
                        .strip_prefix(backend)
                        .and_then(|r| r.strip_prefix(": "))
                        .unwrap_or(&reason);
                    Ok(ChosenDevice {
                        reason: format!("{backend}: {no_cuda}{why}"),
                        device,
                    })
                }
                Err(e) => Ok(ChosenDevice {
                    device: Box::new(CpuDevice::new()),
                    reason: format!("cpu: {no_cuda}no GPU (wgpu is not available: {e})"),
                }),
            }
        }
    }
}

/// Serial numbers that keep buffer ids of different devices apart.
static NEXT_DEVICE: AtomicU32 = AtomicU32::new(0);

/// A device's buffers, indexed by [`BufferId`]; freed slots are not reused (ids stay unique).
#[derive(Debug)]
pub(crate) struct BufferTable<T> {
    device: u32,
    slots: Vec<Option<T>>,
}

impl<T> BufferTable<T> {
    /// An empty table with a fresh device serial number.
    pub(crate) fn new() -> Self {
        BufferTable {
            device: NEXT_DEVICE.fetch_add(1, Ordering::Relaxed),
            slots: Vec::new(),
        }
    }

    /// Stores a buffer and names it.
    pub(crate) fn insert(&mut self, value: T) -> Result<BufferId, RuntimeError> {
        let index = u32::try_from(self.slots.len())
            .map_err(|_| RuntimeError::BadConfig("more than 2^32 buffers allocated".into()))?;
        self.slots.push(Some(value));
        Ok(BufferId {
            device: self.device,
            index,
        })
    }

    fn slot(&self, id: BufferId) -> Option<&Option<T>> {
        if id.device != self.device {
            return None;
        }
        self.slots.get(id.index as usize)
    }

    /// The buffer, or [`RuntimeError::UnknownBuffer`].
    pub(crate) fn get(&self, id: BufferId) -> Result<&T, RuntimeError> {
        self.slot(id)
            .and_then(Option::as_ref)
            .ok_or(RuntimeError::UnknownBuffer(id))
    }

    /// The buffer, mutably, or [`RuntimeError::UnknownBuffer`].
    pub(crate) fn get_mut(&mut self, id: BufferId) -> Result<&mut T, RuntimeError> {
        if id.device != self.device {
            return Err(RuntimeError::UnknownBuffer(id));
        }
        self.slots
            .get_mut(id.index as usize)
            .and_then(Option::as_mut)
            .ok_or(RuntimeError::UnknownBuffer(id))
    }

    /// Removes the buffer, or [`RuntimeError::UnknownBuffer`].
    pub(crate) fn remove(&mut self, id: BufferId) -> Result<T, RuntimeError> {
        if id.device != self.device {
            return Err(RuntimeError::UnknownBuffer(id));
        }
        self.slots
            .get_mut(id.index as usize)
            .and_then(Option::take)
            .ok_or(RuntimeError::UnknownBuffer(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_summary() {
        let t = Timing::from_samples(vec![4.0, 1.0, 3.0, 2.0], Clock::WallClock);
        assert_eq!((t.median_us, t.min_us), (2.5, 1.0));
        assert_eq!(t.samples, vec![4.0, 1.0, 3.0, 2.0]);
        let t = Timing::from_samples(vec![5.0, 1.0, 3.0], Clock::WallClock);
        assert_eq!((t.median_us, t.min_us), (3.0, 1.0));
        let t = Timing::from_samples(vec![], Clock::WallClock);
        assert_eq!((t.median_us, t.min_us), (0.0, 0.0));
    }

    #[test]
    fn wgsl_caps_mirror_the_info() {
        let info = InterpDevice::new().info().clone();
        let caps = info.wgsl_caps();
        assert_eq!(caps.shader_f16, info.shader_f16);
        assert_eq!(caps.max_invocations, info.max_invocations);
        assert_eq!(caps.subgroup_size, info.subgroup_size);
    }
}
