//! The runtime's error type.

use crate::device::BufferId;

/// Everything that can go wrong on a device. Every variant carries enough to say what was
/// asked, what was wrong and what to do about it; nothing in this crate panics on bad input.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No wgpu adapter could be found (no GPU, no Vulkan/Metal/DX12 driver, no lavapipe).
    /// The message lists the backends that exist and how to get one.
    #[error("no wgpu adapter: {reason}\n{help}")]
    NoAdapter {
        /// What was tried and what was found.
        reason: String,
        /// Which device backends exist and how to make one available.
        help: String,
    },
    /// No CUDA device could be opened: no driver (libcuda), no device of that ordinal, or
    /// the driver refused.
    #[error("no CUDA device: {reason}")]
    NoCuda {
        /// What was tried and what was found.
        reason: String,
    },
    /// A CUDA driver or library (cuBLAS) call failed.
    #[error("CUDA error during {during}: {message}")]
    Cuda {
        /// The operation that was running.
        during: String,
        /// The driver's (or library's) error.
        message: String,
    },
    /// The adapter refused to open a device.
    #[error("wgpu adapter `{adapter}` refused to open a device: {message}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// wgpu's message.
        message: String,
    },
    /// A buffer larger than the device allows.
    #[error("buffer of {requested} bytes exceeds the device limit of {limit} bytes ({what})")]
    BufferTooLarge {
        /// Bytes asked for (after padding to 4 bytes on wgpu).
        requested: u64,
        /// The largest buffer the device allows.
        limit: u64,
        /// Which limit (e.g. `max_storage_buffer_binding_size`).
        what: &'static str,
    },
    /// A buffer id that this device did not allocate, or that was freed.
    #[error("unknown buffer {0} (freed, or allocated on another device)")]
    UnknownBuffer(BufferId),
    /// More bytes uploaded than the buffer holds.
    #[error("upload of {bytes} bytes into buffer {buffer} of {size} bytes")]
    UploadTooLarge {
        /// The buffer.
        buffer: BufferId,
        /// Bytes given.
        bytes: usize,
        /// The buffer's size in bytes.
        size: usize,
    },
    /// The kernel object is not one this device runs (e.g. WGSL on the interpreter).
    #[error("the {device} device cannot run a {kernel} kernel")]
    WrongKernelKind {
        /// The device backend (`wgpu`, `cuda`, `interp`).
        device: &'static str,
        /// The kernel's kind (`wgsl`, `ptx`, `tile`).
        kernel: &'static str,
    },
    /// The kernel needs something the device lacks (e.g. `enable f16;` without SHADER_F16).
    #[error("kernel `{kernel}` is unsupported on this device: {message}")]
    Unsupported {
        /// The kernel name.
        kernel: String,
        /// What is missing.
        message: String,
    },
    /// The kernel source did not compile (the device's validation or compilation error).
    #[error("kernel `{kernel}` failed to compile:\n{message}")]
    ShaderCompile {
        /// The kernel name.
        kernel: String,
        /// The compiler's message.
        message: String,
    },
    /// The launch arguments do not fit the kernel's parameters or launch contract.
    #[error("bad launch of kernel `{kernel}`: {message}")]
    BadLaunch {
        /// The kernel name.
        kernel: String,
        /// What did not fit.
        message: String,
    },
    /// wgpu reported an error while running work (validation, out of memory, internal).
    #[error("wgpu error during {during}: {message}")]
    Gpu {
        /// The operation that was running.
        during: String,
        /// wgpu's message(s).
        message: String,
    },
    /// Reading a buffer back failed (mapping or polling).
    #[error("reading buffer back failed: {0}")]
    Readback(String),
    /// A bad setting (environment variable or option).
    #[error("bad configuration: {0}")]
    BadConfig(String),
    /// The tile interpreter reported an error.
    #[error("tile interpreter: {0}")]
    Interp(#[from] tilus_ir::interp::InterpError),
}

impl RuntimeError {
    /// A [`RuntimeError::BadLaunch`].
    pub(crate) fn bad_launch(kernel: &str, message: impl Into<String>) -> Self {
        RuntimeError::BadLaunch {
            kernel: kernel.to_string(),
            message: message.into(),
        }
    }
}
