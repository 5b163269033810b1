//! The one rule for GPU tests: a test that needs wgpu runs when an adapter exists, is
//! skipped with a printed reason when none does, and fails when `TILUS_REQUIRE_WGPU` is
//! set (CI sets it), so that a missing driver can never pass silently. The CUDA tests
//! (feature `cuda`) follow the same rule with `TILUS_REQUIRE_CUDA`.

use crate::device::{Device, WgpuDevice};
use crate::error::RuntimeError;

/// Whether `TILUS_REQUIRE_WGPU` asks for the wgpu tests to run (set, not empty, not `0`).
pub fn wgpu_required() -> bool {
    std::env::var("TILUS_REQUIRE_WGPU").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// For test suites: the wgpu device (its description printed), `Ok(None)` after printing
/// why the test is skipped, or the error when [`wgpu_required`] and there is no device.
pub fn wgpu_or_skip() -> Result<Option<WgpuDevice>, RuntimeError> {
    match WgpuDevice::new() {
        Ok(d) => {
            eprintln!("wgpu device: {}", d.info());
            Ok(Some(d))
        }
        Err(e) if wgpu_required() => Err(e),
        Err(e) => {
            eprintln!("SKIPPED (no wgpu adapter; set TILUS_REQUIRE_WGPU=1 to fail): {e}");
            Ok(None)
        }
    }
}

/// Whether `TILUS_REQUIRE_CUDA` asks for the CUDA tests to run (set, not empty, not `0`).
#[cfg(feature = "cuda")]
pub fn cuda_required() -> bool {
    std::env::var("TILUS_REQUIRE_CUDA").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// For test suites: CUDA device 0 (its description printed), `Ok(None)` after printing why
/// the test is skipped, or the error when [`cuda_required`] and there is no device.
#[cfg(feature = "cuda")]
pub fn cuda_or_skip() -> Result<Option<crate::device::CudaDevice>, RuntimeError> {
    match crate::device::CudaDevice::new(0) {
        Ok(d) => {
            eprintln!("cuda device: {}", d.info());
            Ok(Some(d))
        }
        Err(e) if cuda_required() => Err(e),
        Err(e) => {
            eprintln!("SKIPPED (no CUDA device; set TILUS_REQUIRE_CUDA=1 to fail): {e}");
            Ok(None)
        }
    }
}
