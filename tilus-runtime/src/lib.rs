//! # tilus-runtime: where a tilus program runs
//!
//! The model: a [`Device`] owns **buffers of bytes** and runs **kernels** on them.
//!
//! ```text
//!            allocate / upload                    launch(kernel, args)           download
//!  host bytes ───────────────► BufferId ──► LaunchArg::Buffer ──► device ──► bytes ──► host
//!                                         LaunchArg::Int/Float (one per tile-function param)
//! ```
//!
//! - **Bytes are the currency.** Every tilus dtype, sub-byte ones included, is a
//!   little-endian bit stream (`tilus_ir::dtype::pack`), so buffers carry raw bytes and the
//!   kernel's parameter types say how to read them. wgpu pads buffers to 4 bytes (WGSL sees
//!   `u32` words); downloads return exactly the size allocated.
//! - **Each device runs the kernel kind it understands** ([`Kernel`]): the wgpu device a
//!   compiled [`tilus_lower::artifact::Artifact`] (WGSL code plus the target-neutral launch
//!   contract: slots, scalar block, workspaces, grid, assumptions), the CUDA device (cargo
//!   feature `cuda`, `CudaDevice`) an artifact with PTX code, the CPU device
//!   ([`CpuDevice`]) one with Cranelift IR, which it JIT-compiles, the interpreter device a
//!   verified tile-IR program and a kernel name. Binding arguments to a launch contract is
//!   shared by the compiled-code devices ([`device::bind`]). The interpreter is the reference semantics; other devices must match it.
//! - **Launch arguments** follow the tile function's parameters in order
//!   ([`LaunchArg`]): buffers for pointers, `Int`/`Float` for scalars.
//! - **Timing** ([`Device::time`]) gives the median and minimum of repeated runs after a
//!   warm-up, from GPU timestamp queries where the device has them, else the wall clock
//!   ([`Timing::clock`] says which).
//! - **Choosing a device**: [`default_device`] takes CUDA, then wgpu on a hardware adapter,
//!   then the CPU backend (or a software wgpu adapter when a one-time probe measured it
//!   faster), with a reason string.
//!
//! - **Compiling once**: [`cache::CompileCache`] keeps artifacts in memory and on disk,
//!   keyed by a content hash of the program, target and compiler build.
//!
//! Nothing here panics on bad input: unknown buffers, mismatched arguments, oversized
//! buffers, shader compile errors and missing adapters are all [`RuntimeError`]s.
#![deny(missing_docs)]

pub mod cache;
pub mod device;
pub mod error;
pub mod skip;

#[cfg(feature = "cuda")]
pub use device::{cuda_driver_present, CudaDevice, CudaKernelInfo};
pub use device::{
    default_device, BufferId, ChosenDevice, Clock, CpuDevice, Device, DeviceInfo, InterpDevice,
    Kernel, LaunchArg, PtxInterpDevice, Timing, WgpuDevice, WgpuOptions,
};
pub use error::RuntimeError;
