//! Launching on the CUDA device: a bound launch ([`bind`](crate::device::bind)) becomes
//! device memory for the scalar block and workspaces and one `cuLaunchKernel` with a `u64`
//! pointer per slot.

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::result;
use cudarc::driver::sys::CUfunction_attribute as FnAttr;
use cudarc::driver::CudaSlice;

use super::module::LoadedModule;
use super::{address, cuda_err, padded, CudaDevice};
use crate::device::bind::{self, Bound, SlotSource};
use crate::device::{Kernel, LaunchArg};
use crate::error::RuntimeError;

/// Shared memory a block gets without opting in.
const DEFAULT_SHARED_BYTES: u32 = 48 * 1024;

/// Everything one launch needs, ready to enqueue (possibly many times). The device memory
/// it owns is freed, in stream order, when it drops.
pub(super) struct Prepared {
    module: Arc<LoadedModule>,
    pub(super) bound: Bound,
    shared_bytes: u32,
    /// The scalar block.
    _scalars: CudaSlice<u32>,
    /// The workspaces, with whether each must be cleared before a run.
    workspaces: Vec<(CudaSlice<u8>, bool)>,
    /// One device address per slot, in slot order: the kernel's parameters.
    pointers: Vec<u64>,
    /// Whether a run has touched the workspaces since they were zeroed.
    dirty: bool,
    pub(super) label: String,
}

impl CudaDevice {
    /// Checks the arguments against the contract, loads the module and allocates the scalar
    /// block and workspaces.
    pub(super) fn prepare(
        &mut self,
        kernel: &Kernel,
        args: &[LaunchArg],
    ) -> Result<Prepared, RuntimeError> {
        let (k, m) = Self::ptx_kernel(kernel)?;
        let bad = |msg: String| RuntimeError::bad_launch(&k.name, msg);
        // The argument count and the assumptions are checked before compiling.
        bind::check_args(k, args)?;
        let module = self.module(k, m)?;
        let buffers = &self.buffers;
        let b = bind::bind(k, args, self.limits.max_grid, |id| {
            buffers.get(id).map(drop)
        })?;
        // The block.
        let threads: u64 = b.threads.iter().map(|&t| u64::from(t)).product();
        let fits = b
            .threads
            .iter()
            .zip(&self.limits.max_block)
            .all(|(t, m)| t <= m);
        if threads == 0 || threads > u64::from(self.limits.max_threads) || !fits {
            return Err(bad(format!(
                "a block of {:?} threads; `{}` allows {:?} per axis and {} in all",
                b.threads, self.info.name, self.limits.max_block, self.limits.max_threads
            )));
        }
        // Shared memory: the dynamic bytes the contract asks for, on top of any static.
        let shared = k.launch.shared_bytes;
        let static_shared = module
            .attribute(FnAttr::CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
            .map_err(cuda_err(format!(
                "reading the shared memory of `{}`",
                k.name
            )))?;
        let total = u64::from(shared) + u64::try_from(static_shared).unwrap_or(0);
        if total > u64::from(self.limits.shared_optin) {
            return Err(RuntimeError::Unsupported {
                kernel: k.name.clone(),
                message: format!(
                    "it needs {total} bytes of shared memory per block; `{}` allows at most {} \
                     (CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)",
                    self.info.name, self.limits.shared_optin
                ),
            });
        }
        if total > u64::from(DEFAULT_SHARED_BYTES) {
            module.allow_dynamic_shared(shared)?;
        }
        // Device memory: the scalar block and fresh (zeroed) workspaces.
        let scalars = self
            .stream
            .clone_htod(&b.scalar_words)
            .map_err(cuda_err(format!("uploading the scalars of `{}`", k.name)))?;
        let mut workspaces = Vec::new();
        let mut pointers = Vec::with_capacity(b.slots.len());
        for slot in &b.slots {
            let ptr = match slot.source {
                SlotSource::ScalarBlock => address(&self.stream, &scalars),
                SlotSource::Arg(id) => address(&self.stream, &self.buffers.get(id)?.data),
                SlotSource::Workspace {
                    bytes,
                    requires_clean,
                } => {
                    let ws = self
                        .stream
                        .alloc_zeros::<u8>(padded(bytes))
                        .map_err(cuda_err(format!(
                            "allocating a workspace of {bytes} bytes for `{}`",
                            k.name
                        )))?;
                    let ptr = address(&self.stream, &ws);
                    workspaces.push((ws, requires_clean));
                    ptr
                }
            };
            pointers.push(ptr);
        }
        Ok(Prepared {
            module,
            bound: b,
            shared_bytes: shared,
            _scalars: scalars,
            workspaces,
            pointers,
            dirty: false,
            label: k.name.clone(),
        })
    }

    /// Clears the `requires_clean` workspaces if a run has used them.
    pub(super) fn clean(&self, p: &mut Prepared) -> Result<(), RuntimeError> {
        if p.dirty {
            for (ws, requires_clean) in &mut p.workspaces {
                if *requires_clean {
                    self.stream
                        .memset_zeros(ws)
                        .map_err(cuda_err(format!("clearing a workspace of `{}`", p.label)))?;
                }
            }
            p.dirty = false;
        }
        Ok(())
    }

    /// Enqueues the kernel itself (nothing when the grid is empty).
    #[allow(unsafe_code)]
    pub(super) fn enqueue(&self, p: &mut Prepared) -> Result<(), RuntimeError> {
        if p.bound.is_empty() {
            return Ok(());
        }
        let during = || format!("launch of `{}`", p.label);
        self.ctx.bind_to_thread().map_err(cuda_err(during()))?;
        let mut params: Vec<*mut c_void> = p
            .pointers
            .iter_mut()
            .map(|ptr| (ptr as *mut u64).cast::<c_void>())
            .collect();
        let [gx, gy, gz] = p.bound.grid;
        let [tx, ty, tz] = p.bound.threads;
        // SAFETY: the function is alive (held by `p.module`); the kernel's parameters are
        // exactly one `.u64` per slot (the PTX module contract), and `params` holds one
        // pointer to a `u64` device address per slot, each valid for the call (the driver
        // copies the values at launch); every address is a live allocation of this context
        // (buffers in the table, or the scalar block and workspaces owned by `p`, whose frees
        // are ordered after this launch on the same stream); grid, block and shared sizes
        // were checked against the device's limits.
        unsafe {
            result::launch_kernel(
                p.module.function,
                (gx, gy, gz),
                (tx, ty, tz),
                p.shared_bytes,
                self.stream.cu_stream(),
                &mut params,
            )
        }
        .map_err(cuda_err(during()))?;
        p.dirty = true;
        Ok(())
    }

    /// One run: clears what must be clean, then launches.
    pub(super) fn run(&self, p: &mut Prepared) -> Result<(), RuntimeError> {
        self.clean(p)?;
        self.enqueue(p)
    }
}
