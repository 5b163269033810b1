//! The CUDA device: an NVIDIA GPU through the CUDA driver API (cargo feature `cuda`).
//!
//! - **Libraries**: cudarc opens libcuda (and libcublas, for the baseline) at run time, so
//!   building needs no CUDA toolkit. A missing driver would make cudarc panic on its first
//!   call, so [`CudaDevice::new`] checks for the library first ([`cuda_driver_present`]) and
//!   answers [`RuntimeError::NoCuda`]; construction also runs under `catch_unwind`, and so do
//!   launches, timing and the baselines, so that a panic inside cudarc becomes an error.
//! - **Context and stream**: the device's primary context and its default stream; every
//!   operation runs in order on that stream (cudarc's cross-stream event tracking is off).
//! - **Buffers** are device allocations padded to 16 bytes (so whole-word and `v4` accesses
//!   of the last element stay inside), zeroed when made; downloads return exactly the size
//!   asked for and wait for all earlier work.
//! - **Kernels** are [`Artifact`](tilus_lower::artifact::Artifact)s with PTX code, loaded with
//!   `cuModuleLoadDataEx` (the driver's JIT runs ptxas; its error and info logs are kept, so a
//!   rejected module's [`RuntimeError::ShaderCompile`] carries ptxas's message). Modules are
//!   cached per (source, entry point), keyed by a hash of both and compared in full on a hit.
//! - **Launch**: the arguments are bound by [`bind`](crate::device::bind); the kernel gets one
//!   `u64` device pointer per slot in slot order (buffers, workspaces, then the scalar block,
//!   uploaded per launch); workspaces are allocated per launch (zeroed; `requires_clean` ones
//!   again before every timed run). Dynamic shared memory above 48 KiB raises the function's
//!   `CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES`; more than the device's opt-in maximum
//!   is [`RuntimeError::Unsupported`].
//! - **Timing** ([`Clock::CudaEvents`](crate::device::Clock::CudaEvents)): timing-enabled
//!   events around each launch; before each timed launch (outside the events) a buffer of
//!   twice the L2 size is overwritten, so every run starts with a cold L2
//!   ([`CudaDevice::set_flush_l2`] turns that off).
//! - **Baselines**: [`CudaDevice::copy_bandwidth_gbs`] (device-to-device copy) and
//!   [`CudaDevice::cublas_hgemm_time_us`] (cuBLAS f16 GEMM).

mod launch;
mod module;
mod timing;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use cudarc::driver::sys::CUdevice_attribute as Attr;
use cudarc::driver::{CudaContext, CudaSlice, CudaStream, DevicePtr, DriverError};

pub use self::module::CudaKernelInfo;
use self::module::LoadedModule;
use super::{BufferId, BufferTable, Device, DeviceInfo, Kernel, LaunchArg, Timing};
use crate::error::RuntimeError;

/// Whether the CUDA driver library (libcuda) can be opened. Nothing else of CUDA is touched.
#[allow(unsafe_code)]
pub fn cuda_driver_present() -> bool {
    // SAFETY: `is_culib_present` only tries to `dlopen` the candidate library names (and
    // closes what it opened); it calls no CUDA function.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether the cuBLAS library (libcublas) can be opened.
#[allow(unsafe_code)]
fn cublas_present() -> bool {
    // SAFETY: as in `cuda_driver_present`: only `dlopen` attempts, no cuBLAS call.
    unsafe { cudarc::cublas::sys::is_culib_present() }
}

/// How to get a CUDA device; part of the "no driver" error.
const NO_DRIVER_HELP: &str = "no CUDA driver (libcuda) found: install the NVIDIA driver \
     (libcuda.so.1 on the loader path; in a container, run with the NVIDIA container \
     runtime). The wgpu device (Vulkan, or lavapipe on the CPU) and the interpreter need no \
     CUDA.";

/// A driver error's name and description.
pub(crate) fn describe(e: &DriverError) -> String {
    match e.error_string() {
        Ok(s) => format!("{:?} ({})", e.0, s.to_string_lossy()),
        Err(_) => format!("{:?}", e.0),
    }
}

/// Maps a driver error to [`RuntimeError::Cuda`].
pub(crate) fn cuda_err(during: impl Into<String>) -> impl FnOnce(DriverError) -> RuntimeError {
    let during = during.into();
    move |e| RuntimeError::Cuda {
        during,
        message: describe(&e),
    }
}

/// The text of a caught panic.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `f`, turning a panic (inside cudarc) into [`RuntimeError::Cuda`].
pub(crate) fn guarded<T>(
    during: &str,
    f: impl FnOnce() -> Result<T, RuntimeError>,
) -> Result<T, RuntimeError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(RuntimeError::Cuda {
            during: during.to_string(),
            message: format!("cudarc panicked: {}", panic_text(&*p)),
        })
    })
}

/// Device limits read once at start.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// Largest grid extent per axis.
    max_grid: [u32; 3],
    /// Largest block extent per axis.
    max_block: [u32; 3],
    /// Threads per block.
    max_threads: u32,
    /// Opt-in dynamic shared memory per block, in bytes.
    shared_optin: u32,
    /// L2 cache bytes.
    l2_bytes: usize,
    /// Streaming multiprocessors.
    sm_count: u32,
}

/// One buffer: the allocation (padded to 16 bytes) and the size asked for.
#[derive(Debug)]
struct CudaBuffer {
    data: CudaSlice<u8>,
    size: usize,
}

/// A CUDA device (see the module doc).
pub struct CudaDevice {
    // Field order is drop order: everything that holds device memory or handles goes
    // before the stream and context.
    blas: Option<cudarc::cublas::CudaBlas>,
    flush: Option<CudaSlice<u8>>,
    buffers: BufferTable<CudaBuffer>,
    modules: HashMap<u64, Arc<LoadedModule>>,
    stream: Arc<CudaStream>,
    ctx: Arc<CudaContext>,
    info: DeviceInfo,
    limits: Limits,
    driver_version: Option<(u32, u32)>,
    flush_l2: bool,
}

impl std::fmt::Debug for CudaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaDevice")
            .field("info", &self.info)
            .field("ordinal", &self.ctx.ordinal())
            .finish_non_exhaustive()
    }
}

impl Drop for CudaDevice {
    fn drop(&mut self) {
        // cudarc's cuBLAS handle panics in its drop when the handle cannot be destroyed
        // (a broken context); keep that inside.
        if let Some(blas) = self.blas.take() {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(blas)));
        }
    }
}

/// `bytes` rounded up to a whole number of 16-byte vectors, at least one.
pub(crate) fn padded(bytes: usize) -> usize {
    bytes.div_ceil(16).max(1) * 16
}

/// The raw device address of an allocation.
pub(crate) fn address<T>(stream: &CudaStream, s: &CudaSlice<T>) -> u64 {
    // With event tracking off the returned guard records nothing.
    let (ptr, _guard) = s.device_ptr(stream);
    ptr
}

impl CudaDevice {
    /// Opens CUDA device `ordinal` (0 is the first GPU).
    ///
    /// Without a driver this is [`RuntimeError::NoCuda`] ("no CUDA driver (libcuda) found");
    /// so is an ordinal the driver does not have, and any failure (or cudarc panic) while
    /// opening the context.
    pub fn new(ordinal: usize) -> Result<Self, RuntimeError> {
        if !cuda_driver_present() {
            return Err(RuntimeError::NoCuda {
                reason: NO_DRIVER_HELP.to_string(),
            });
        }
        catch_unwind(AssertUnwindSafe(|| Self::open(ordinal))).unwrap_or_else(|p| {
            Err(RuntimeError::NoCuda {
                reason: format!(
                    "the CUDA driver failed while opening device {ordinal} (cudarc panicked: {})",
                    panic_text(&*p)
                ),
            })
        })
    }

    fn open(ordinal: usize) -> Result<Self, RuntimeError> {
        let no_cuda = |what: &str, e: DriverError| RuntimeError::NoCuda {
            reason: format!("{what}: {}", describe(&e)),
        };
        let count = CudaContext::device_count().map_err(|e| no_cuda("cuInit failed", e))?;
        if ordinal >= usize::try_from(count).unwrap_or(0) {
            return Err(RuntimeError::NoCuda {
                reason: format!("device {ordinal} asked for; the driver sees {count} device(s)"),
            });
        }
        let ctx = CudaContext::new(ordinal)
            .map_err(|e| no_cuda(&format!("opening CUDA device {ordinal}"), e))?;
        disable_event_tracking(&ctx);
        let stream = ctx.default_stream();
        let attr = |a: Attr| -> Result<u32, RuntimeError> {
            let v = ctx
                .attribute(a)
                .map_err(cuda_err(format!("reading device attribute {a:?}")))?;
            Ok(u32::try_from(v).unwrap_or(0))
        };
        let name = ctx
            .name()
            .map_err(cuda_err("reading the device name"))?
            .trim()
            .to_string();
        let (major, minor) = ctx
            .compute_capability()
            .map_err(cuda_err("reading the compute capability"))?;
        let limits = Limits {
            max_grid: [
                attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X)?,
                attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y)?,
                attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z)?,
            ],
            max_block: [
                attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X)?,
                attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y)?,
                attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z)?,
            ],
            max_threads: attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK)?,
            shared_optin: attr(Attr::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)?,
            l2_bytes: attr(Attr::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)? as usize,
            sm_count: attr(Attr::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?,
        };
        let info = DeviceInfo {
            backend: "cuda",
            name,
            software: false,
            // Hardware f16; the field describes WGSL's `enable f16;`, which PTX does not need.
            shader_f16: true,
            timestamps: true,
            subgroup_size: Some(32),
            max_workgroup_storage: limits.shared_optin,
            max_invocations: limits.max_threads,
            f16_native: Default::default(),
            compute_capability: Some((
                u32::try_from(major).unwrap_or(0),
                u32::try_from(minor).unwrap_or(0),
            )),
        };
        Ok(CudaDevice {
            blas: None,
            flush: None,
            buffers: BufferTable::new(),
            modules: HashMap::new(),
            stream,
            ctx,
            info,
            limits,
            driver_version: driver_version(),
            flush_l2: true,
        })
    }

    /// The device ordinal.
    pub fn ordinal(&self) -> usize {
        self.ctx.ordinal()
    }

    /// The CUDA version the driver supports (major, minor), e.g. (12, 8).
    pub fn driver_version(&self) -> Option<(u32, u32)> {
        self.driver_version
    }

    /// Streaming multiprocessors on the device.
    pub fn sm_count(&self) -> u32 {
        self.limits.sm_count
    }

    /// Bytes of L2 cache.
    pub fn l2_bytes(&self) -> usize {
        self.limits.l2_bytes
    }

    /// The opt-in maximum of dynamic shared memory per block, in bytes.
    pub fn max_shared_bytes(&self) -> u32 {
        self.limits.shared_optin
    }

    /// Whether [`Device::time`] and the baselines overwrite a buffer larger than L2 before
    /// each timed run (default: on).
    pub fn flush_l2(&self) -> bool {
        self.flush_l2
    }

    /// Turns the L2 flush between timed runs on or off.
    pub fn set_flush_l2(&mut self, on: bool) {
        self.flush_l2 = on;
    }

    /// Number of loaded modules in the cache.
    pub fn cached_modules(&self) -> usize {
        self.modules.len()
    }

    /// The driver's view of the error state: errors recorded where none could be returned
    /// (in drops) since the last check.
    fn check_recorded(&self, during: &str) -> Result<(), RuntimeError> {
        self.ctx.check_err().map_err(cuda_err(during))
    }
}

/// Turns off cudarc's cross-stream event tracking for allocations made in `ctx`.
#[allow(unsafe_code)]
fn disable_event_tracking(ctx: &CudaContext) {
    // SAFETY: the device issues all work on one stream (the context's default stream), so
    // there is no cross-stream use for the events to order; called before any allocation.
    unsafe { ctx.disable_event_tracking() };
}

/// The driver's CUDA version, from `cuDriverGetVersion` (e.g. 12080 → (12, 8)).
#[allow(unsafe_code)]
fn driver_version() -> Option<(u32, u32)> {
    let mut v: std::ffi::c_int = 0;
    // SAFETY: `cuDriverGetVersion` writes one int through a valid pointer; the driver
    // library is loaded and initialized (a context exists).
    let r = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) };
    r.result().ok()?;
    let v = u32::try_from(v).ok()?;
    Some((v / 1000, (v % 1000) / 10))
}

impl Device for CudaDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn copy_bandwidth_gbs(&mut self) -> Option<Result<f64, RuntimeError>> {
        Some(CudaDevice::copy_bandwidth_gbs(self))
    }

    fn vendor_hgemm_us(
        &mut self,
        m: usize,
        n: usize,
        k: usize,
        warmup: u32,
        repeats: u32,
    ) -> Option<Result<f64, RuntimeError>> {
        Some(self.cublas_hgemm_time_us(m, n, k, warmup, repeats))
    }

    fn allocate(&mut self, bytes: usize) -> Result<BufferId, RuntimeError> {
        let data = guarded("buffer allocation", || {
            self.stream
                .alloc_zeros::<u8>(padded(bytes))
                .map_err(cuda_err(format!("allocation of {bytes} bytes")))
        })?;
        self.buffers.insert(CudaBuffer { data, size: bytes })
    }

    fn free(&mut self, buffer: BufferId) -> Result<(), RuntimeError> {
        // The free is ordered on the stream after the work already launched.
        self.buffers.remove(buffer).map(drop)
    }

    fn buffer_size(&self, buffer: BufferId) -> Result<usize, RuntimeError> {
        Ok(self.buffers.get(buffer)?.size)
    }

    fn upload(&mut self, buffer: BufferId, bytes: &[u8]) -> Result<(), RuntimeError> {
        let stream = Arc::clone(&self.stream);
        let b = self.buffers.get_mut(buffer)?;
        if bytes.len() > b.size {
            return Err(RuntimeError::UploadTooLarge {
                buffer,
                bytes: bytes.len(),
                size: b.size,
            });
        }
        let n = bytes.len();
        guarded("upload", || {
            if n > 0 {
                let mut head = b.data.slice_mut(0..n);
                stream
                    .memcpy_htod(bytes, &mut head)
                    .map_err(cuda_err("upload"))?;
            }
            if n < b.data.len() {
                let mut tail = b.data.slice_mut(n..);
                stream.memset_zeros(&mut tail).map_err(cuda_err("upload"))?;
            }
            Ok(())
        })
    }

    fn download(&mut self, buffer: BufferId) -> Result<Vec<u8>, RuntimeError> {
        let b = self.buffers.get(buffer)?;
        let mut out = vec![0u8; b.size];
        if b.size == 0 {
            return Ok(out);
        }
        guarded("download", || {
            self.stream
                .memcpy_dtoh(&b.data.slice(0..b.size), &mut out)
                .map_err(cuda_err("download"))?;
            self.stream.synchronize().map_err(cuda_err("download"))
        })?;
        self.check_recorded("download")?;
        Ok(out)
    }

    fn launch(&mut self, kernel: &Kernel, args: &[LaunchArg]) -> Result<(), RuntimeError> {
        guarded("launch", || {
            let mut p = self.prepare(kernel, args)?;
            self.run(&mut p)
        })
    }

    fn synchronize(&mut self) -> Result<(), RuntimeError> {
        self.stream.synchronize().map_err(cuda_err("synchronize"))?;
        self.check_recorded("synchronize")
    }

    fn time(
        &mut self,
        kernel: &Kernel,
        args: &[LaunchArg],
        warmup: u32,
        repeats: u32,
    ) -> Result<Timing, RuntimeError> {
        guarded("timing", || {
            let mut p = self.prepare(kernel, args)?;
            self.time_prepared(&mut p, warmup, repeats)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding() {
        assert_eq!([0, 1, 16, 17, 32].map(padded), [16, 16, 16, 32, 32]);
    }

    #[test]
    fn panics_become_errors() {
        let e = guarded::<()>("testing", || panic!("boom")).expect_err("a panic is an error");
        assert!(e.to_string().contains("boom"), "{e}");
    }
}
