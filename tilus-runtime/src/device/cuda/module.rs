//! Loading PTX modules with the driver's JIT (`cuModuleLoadDataEx` with error and info logs)
//! and the module cache.

use std::collections::hash_map::DefaultHasher;
use std::ffi::{c_void, CString};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use cudarc::driver::result;
use cudarc::driver::sys::{self, CUfunction_attribute as FnAttr, CUjit_option as Jit};
use cudarc::driver::{CudaContext, DriverError};
use tilus_lower::artifact::{Artifact, PtxModule};

use super::{cuda_err, describe, guarded, CudaDevice};
use crate::device::Kernel;
use crate::error::RuntimeError;

/// Bytes of each JIT log buffer.
const LOG_BYTES: usize = 64 * 1024;

/// A loaded module and its one kernel.
#[derive(Debug)]
pub(super) struct LoadedModule {
    ctx: Arc<CudaContext>,
    module: sys::CUmodule,
    pub(super) function: sys::CUfunction,
    source: String,
    entry: String,
    /// ptxas's info log (registers, spills, with `CU_JIT_LOG_VERBOSE`).
    pub(super) info_log: String,
    /// The dynamic shared-memory limit set on the function (0: the driver's default).
    shared_limit: AtomicU32,
}

// SAFETY: the module and function handles are plain driver handles, valid in their context
// from any thread (the driver API is thread-safe); every use binds the context first.
#[allow(unsafe_code)]
unsafe impl Send for LoadedModule {}
// SAFETY: as for `Send`; the only mutable state is an atomic.
#[allow(unsafe_code)]
unsafe impl Sync for LoadedModule {}

impl Drop for LoadedModule {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_ok() {
            // SAFETY: the module was loaded by `load` in this context and is unloaded once,
            // here; work already launched from it keeps running (the driver defers the
            // unload until then).
            let r = unsafe { result::module::unload(self.module) };
            self.ctx.record_err(r);
        }
    }
}

/// What the driver says about a loaded kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CudaKernelInfo {
    /// Registers per thread (`CU_FUNC_ATTRIBUTE_NUM_REGS`).
    pub registers: u32,
    /// Local memory per thread in bytes: spills and local arrays
    /// (`CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES`).
    pub local_bytes: u32,
    /// Static shared memory per block in bytes (`CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES`).
    pub static_shared_bytes: u32,
    /// The most threads per block this kernel can launch with, given its registers
    /// (`CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK`).
    pub max_threads_per_block: u32,
    /// The PTX version the module was written for, times 10 (`CU_FUNC_ATTRIBUTE_PTX_VERSION`).
    pub ptx_version: u32,
    /// The architecture the JIT compiled for, times 10 (`CU_FUNC_ATTRIBUTE_BINARY_VERSION`).
    pub binary_version: u32,
    /// ptxas's info log from the JIT (verbose: registers, spills, shared memory).
    pub jit_log: String,
}

/// The text of a NUL-terminated log buffer.
fn log_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).trim().to_string()
}

impl LoadedModule {
    /// JIT-compiles `m` in `ctx` and finds its entry point.
    #[allow(unsafe_code)]
    fn load(ctx: &Arc<CudaContext>, kernel: &str, m: &PtxModule) -> Result<Self, RuntimeError> {
        let compile_error = |message: String| RuntimeError::ShaderCompile {
            kernel: kernel.to_string(),
            message,
        };
        let image = CString::new(m.source.as_str())
            .map_err(|_| compile_error("the PTX text contains a NUL byte".to_string()))?;
        let entry = CString::new(m.entry_point.as_str())
            .map_err(|_| compile_error("the entry point name contains a NUL byte".to_string()))?;
        ctx.bind_to_thread()
            .map_err(cuda_err("binding the CUDA context"))?;
        let mut error_log = vec![0u8; LOG_BYTES];
        let mut info_log = vec![0u8; LOG_BYTES];
        let mut options = [
            Jit::CU_JIT_ERROR_LOG_BUFFER,
            Jit::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
            Jit::CU_JIT_INFO_LOG_BUFFER,
            Jit::CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
            Jit::CU_JIT_LOG_VERBOSE,
        ];
        // Pointer-valued options point at the buffers; integer-valued ones are passed in the
        // pointer's bits, as the driver API defines.
        let mut values: [*mut c_void; 5] = [
            error_log.as_mut_ptr().cast(),
            std::ptr::without_provenance_mut(LOG_BYTES),
            info_log.as_mut_ptr().cast(),
            std::ptr::without_provenance_mut(LOG_BYTES),
            std::ptr::without_provenance_mut(1),
        ];
        let mut module: sys::CUmodule = std::ptr::null_mut();
        // SAFETY: `image` is a NUL-terminated PTX text that outlives the call; `options` and
        // `values` have the same length (passed as the count); the log buffers are
        // `LOG_BYTES` long, as their size options say, and outlive the call; `module` is a
        // valid out-pointer; the context is current on this thread.
        let r = unsafe {
            sys::cuModuleLoadDataEx(
                &mut module,
                image.as_ptr().cast(),
                options.len() as u32,
                options.as_mut_ptr(),
                values.as_mut_ptr(),
            )
        };
        if let Err(e) = r.result() {
            let log = log_text(&error_log);
            return Err(compile_error(format!(
                "the CUDA driver rejected the PTX module (cuModuleLoadDataEx: {}){}{}",
                describe(&e),
                if log.is_empty() { "" } else { ":\n" },
                log
            )));
        }
        // SAFETY: `module` was just loaded and not unloaded; `entry` is NUL-terminated.
        let function = match unsafe { result::module::get_function(module, entry) } {
            Ok(f) => f,
            Err(e) => {
                // SAFETY: the module was loaded above and is unloaded once, here.
                let _ = unsafe { result::module::unload(module) };
                return Err(compile_error(format!(
                    "the module has no entry point `{}` ({})",
                    m.entry_point,
                    describe(&e)
                )));
            }
        };
        Ok(LoadedModule {
            ctx: Arc::clone(ctx),
            module,
            function,
            source: m.source.clone(),
            entry: m.entry_point.clone(),
            info_log: log_text(&info_log),
            shared_limit: AtomicU32::new(0),
        })
    }

    /// A function attribute.
    #[allow(unsafe_code)]
    pub(super) fn attribute(&self, a: FnAttr) -> Result<i32, DriverError> {
        self.ctx.bind_to_thread()?;
        // SAFETY: the function belongs to this live module.
        unsafe { result::function::get_function_attribute(self.function, a) }
    }

    /// Lets launches use `bytes` of dynamic shared memory (needed above 48 KiB).
    #[allow(unsafe_code)]
    pub(super) fn allow_dynamic_shared(&self, bytes: u32) -> Result<(), RuntimeError> {
        if self.shared_limit.load(Ordering::Relaxed) >= bytes {
            return Ok(());
        }
        let value = i32::try_from(bytes).unwrap_or(i32::MAX);
        let during = format!(
            "raising the dynamic shared memory of `{}` to {bytes} bytes",
            self.entry
        );
        self.ctx
            .bind_to_thread()
            .map_err(cuda_err(during.clone()))?;
        // SAFETY: the function belongs to this live module; the value is checked by the
        // driver against the device's opt-in limit.
        unsafe {
            result::function::set_function_attribute(
                self.function,
                FnAttr::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                value,
            )
        }
        .map_err(cuda_err(during))?;
        self.shared_limit.store(bytes, Ordering::Relaxed);
        Ok(())
    }
}

impl CudaDevice {
    /// The loaded module of a PTX kernel (cached by source and entry point).
    pub(super) fn module(
        &mut self,
        k: &Artifact,
        m: &PtxModule,
    ) -> Result<Arc<LoadedModule>, RuntimeError> {
        let mut h = DefaultHasher::new();
        m.source.hash(&mut h);
        m.entry_point.hash(&mut h);
        let key = h.finish();
        if let Some(l) = self.modules.get(&key) {
            if l.source == m.source && l.entry == m.entry_point {
                return Ok(Arc::clone(l));
            }
        }
        let loaded = Arc::new(LoadedModule::load(&self.ctx, &k.name, m)?);
        self.modules.insert(key, Arc::clone(&loaded));
        Ok(loaded)
    }

    /// The PTX kernel of `kernel`, or [`RuntimeError::WrongKernelKind`].
    pub(super) fn ptx_kernel(kernel: &Kernel) -> Result<(&Artifact, &PtxModule), RuntimeError> {
        let wrong = || RuntimeError::WrongKernelKind {
            device: "cuda",
            kernel: kernel.kind(),
        };
        let Kernel::Compiled(k) = kernel else {
            return Err(wrong());
        };
        let m = k.ptx().ok_or_else(wrong)?;
        Ok((k, m))
    }

    /// Loads the kernel (if not cached) and reports its registers, spills and JIT log.
    pub fn kernel_info(&mut self, kernel: &Kernel) -> Result<CudaKernelInfo, RuntimeError> {
        let (k, m) = Self::ptx_kernel(kernel)?;
        guarded("reading kernel attributes", || {
            let l = self.module(k, m)?;
            let get = |a: FnAttr| -> Result<u32, RuntimeError> {
                let v = l
                    .attribute(a)
                    .map_err(cuda_err(format!("reading {a:?} of `{}`", k.name)))?;
                Ok(u32::try_from(v).unwrap_or(0))
            };
            Ok(CudaKernelInfo {
                registers: get(FnAttr::CU_FUNC_ATTRIBUTE_NUM_REGS)?,
                local_bytes: get(FnAttr::CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES)?,
                static_shared_bytes: get(FnAttr::CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)?,
                max_threads_per_block: get(FnAttr::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK)?,
                ptx_version: get(FnAttr::CU_FUNC_ATTRIBUTE_PTX_VERSION)?,
                binary_version: get(FnAttr::CU_FUNC_ATTRIBUTE_BINARY_VERSION)?,
                jit_log: l.info_log.clone(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_stop_at_nul() {
        let mut buf = b"ptxas error : bad\n".to_vec();
        buf.resize(64, 0);
        assert_eq!(log_text(&buf), "ptxas error : bad");
        assert_eq!(log_text(b"no nul"), "no nul");
    }
}
