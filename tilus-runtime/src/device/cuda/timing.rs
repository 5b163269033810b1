//! Timing on the CUDA device: events around each launch, an L2 flush between timed runs,
//! and the two baselines (device copy bandwidth, cuBLAS f16 GEMM).

use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::sys::CUevent_flags;
use cudarc::driver::{CudaEvent, CudaSlice};
use half::f16;

use super::launch::Prepared;
use super::{cublas_present, cuda_err, guarded, CudaDevice};
use crate::device::{Clock, Timing};
use crate::error::RuntimeError;

/// Event pairs enqueued before their times are read.
const BATCH: u32 = 64;

impl CudaDevice {
    /// A timing-enabled event (`CU_EVENT_DEFAULT`; cudarc's default disables timing).
    fn timing_event(&self) -> Result<CudaEvent, RuntimeError> {
        self.ctx
            .new_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
            .map_err(cuda_err("creating a timing event"))
    }

    /// Overwrites a buffer of twice the L2 size (allocated on first use) so that the next
    /// run starts with a cold L2; nothing when the flush is off.
    fn flush_l2_now(&mut self) -> Result<(), RuntimeError> {
        if !self.flush_l2 || self.limits.l2_bytes == 0 {
            return Ok(());
        }
        if self.flush.is_none() {
            let bytes = 2 * self.limits.l2_bytes;
            let buf = self
                .stream
                .alloc_zeros::<u8>(bytes)
                .map_err(cuda_err(format!(
                    "allocating the {bytes}-byte L2 flush buffer"
                )))?;
            self.flush = Some(buf);
        }
        if let Some(buf) = self.flush.as_mut() {
            self.stream
                .memset_zeros(buf)
                .map_err(cuda_err("flushing L2"))?;
        }
        Ok(())
    }

    /// Times runs with events: `warmup` untimed runs, then `repeats` (at least one) timed
    /// ones. Each run is `step(dev, Step::Prepare)` (clearing workspaces and the like), an
    /// L2 flush (timed runs only), then `step(dev, Step::Run)` between the two events.
    /// Samples in µs.
    fn time_runs(
        &mut self,
        warmup: u32,
        repeats: u32,
        mut step: impl FnMut(&mut Self, Step) -> Result<(), RuntimeError>,
    ) -> Result<Vec<f64>, RuntimeError> {
        let repeats = repeats.max(1);
        for _ in 0..warmup {
            step(self, Step::Prepare)?;
            step(self, Step::Run)?;
        }
        self.stream.synchronize().map_err(cuda_err("warmup"))?;
        let pairs = BATCH.min(repeats) as usize;
        let mut events = Vec::with_capacity(pairs);
        for _ in 0..pairs {
            events.push((self.timing_event()?, self.timing_event()?));
        }
        let mut samples = Vec::with_capacity(repeats as usize);
        let mut left = repeats as usize;
        while left > 0 {
            let n = left.min(pairs);
            left -= n;
            for (start, end) in &events[..n] {
                step(self, Step::Prepare)?;
                self.flush_l2_now()?;
                start
                    .record(&self.stream)
                    .map_err(cuda_err("recording an event"))?;
                step(self, Step::Run)?;
                end.record(&self.stream)
                    .map_err(cuda_err("recording an event"))?;
            }
            for (start, end) in &events[..n] {
                let ms = start
                    .elapsed_ms(end)
                    .map_err(cuda_err("reading the time of a run"))?;
                samples.push(f64::from(ms) * 1000.0);
            }
        }
        self.check_recorded("timing")?;
        Ok(samples)
    }

    /// [`Device::time`](crate::device::Device::time) on a prepared launch.
    pub(super) fn time_prepared(
        &mut self,
        p: &mut Prepared,
        warmup: u32,
        repeats: u32,
    ) -> Result<Timing, RuntimeError> {
        let samples = self.time_runs(warmup, repeats, |dev, step| match step {
            Step::Prepare => dev.clean(p),
            Step::Run => dev.enqueue(p),
        })?;
        Ok(Timing::from_samples(samples, Clock::CudaEvents))
    }

    /// The device's copy bandwidth in GB/s (10^9 bytes per second): the median of 10 timed
    /// device-to-device copies of 1 GiB (less when free memory is short), after 2 untimed
    /// ones, counting the bytes read plus the bytes written. The reference for "% of
    /// measured copy bandwidth".
    pub fn copy_bandwidth_gbs(&mut self) -> Result<f64, RuntimeError> {
        guarded("measuring the copy bandwidth", || {
            const MIB: usize = 1 << 20;
            let (free, _) = self
                .ctx
                .mem_get_info()
                .map_err(cuda_err("reading free device memory"))?;
            let bytes = ((free / 4).min(1 << 30) / MIB) * MIB;
            if bytes < 16 * MIB {
                return Err(RuntimeError::Cuda {
                    during: "measuring the copy bandwidth".to_string(),
                    message: format!("only {free} bytes of device memory are free"),
                });
            }
            let src = self
                .stream
                .alloc_zeros::<u8>(bytes)
                .map_err(cuda_err("allocating the copy source"))?;
            let mut dst = self
                .stream
                .alloc_zeros::<u8>(bytes)
                .map_err(cuda_err("allocating the copy destination"))?;
            let samples = self.time_runs(2, 10, |dev, step| match step {
                Step::Prepare => Ok(()),
                Step::Run => dev
                    .stream
                    .memcpy_dtod(&src, &mut dst)
                    .map_err(cuda_err("device-to-device copy")),
            })?;
            let t = Timing::from_samples(samples, Clock::CudaEvents);
            if t.median_us <= 0.0 {
                return Err(RuntimeError::Cuda {
                    during: "measuring the copy bandwidth".to_string(),
                    message: "the copies took no measurable time".to_string(),
                });
            }
            Ok(2.0 * bytes as f64 / (t.median_us * 1e-6) / 1e9)
        })
    }

    /// Median time in µs of a cuBLAS f16 GEMM `C[m,n] = A[m,k] · B[k,n]` (row-major, random
    /// values in [-1, 1)): f16 inputs and output, **f32 accumulation**
    /// (`cublasGemmEx` with `CUBLAS_COMPUTE_32F`, the default algorithm; cudarc's
    /// `Gemm<f16>`). `warmup` untimed runs, then `repeats` timed ones with events, each after
    /// an L2 flush like [`Device::time`](crate::device::Device::time). Needs libcublas at
    /// run time; without it this is an error.
    pub fn cublas_hgemm_time_us(
        &mut self,
        m: usize,
        n: usize,
        k: usize,
        warmup: u32,
        repeats: u32,
    ) -> Result<f64, RuntimeError> {
        Ok(self
            .cublas_hgemm_timing(m, n, k, warmup, repeats)?
            .median_us)
    }

    /// [`Self::cublas_hgemm_time_us`], with every sample.
    pub fn cublas_hgemm_timing(
        &mut self,
        m: usize,
        n: usize,
        k: usize,
        warmup: u32,
        repeats: u32,
    ) -> Result<Timing, RuntimeError> {
        const DURING: &str = "cuBLAS f16 GEMM";
        let dim = |x: usize, what: &str| -> Result<i32, RuntimeError> {
            i32::try_from(x).ok().filter(|&x| x > 0).ok_or_else(|| {
                RuntimeError::BadConfig(format!("cuBLAS GEMM: {what} = {x} is not in 1..2^31"))
            })
        };
        let (mi, ni, ki) = (dim(m, "m")?, dim(n, "n")?, dim(k, "k")?);
        if !cublas_present() {
            return Err(RuntimeError::Cuda {
                during: DURING.to_string(),
                message: "no cuBLAS library (libcublas) found: install cuBLAS (e.g. the \
                          `libcublas-12-*` package of the CUDA toolkit) and put libcublas.so on \
                          the loader path"
                    .to_string(),
            });
        }
        guarded(DURING, || {
            if self.blas.is_none() {
                let blas = CudaBlas::new(self.stream.clone()).map_err(|e| RuntimeError::Cuda {
                    during: "creating a cuBLAS handle".to_string(),
                    message: e.to_string(),
                })?;
                self.blas = Some(blas);
            }
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            let mut random = |len: usize| -> Vec<f16> {
                (0..len)
                    .map(|_| {
                        // xorshift64*: the top 24 bits, as a value in [-1, 1).
                        seed ^= seed >> 12;
                        seed ^= seed << 25;
                        seed ^= seed >> 27;
                        let r = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
                        f16::from_f32(r as f32 / (1u64 << 23) as f32 - 1.0)
                    })
                    .collect()
            };
            let upload = |dev: &Self, v: Vec<f16>| -> Result<CudaSlice<f16>, RuntimeError> {
                dev.stream
                    .clone_htod(&v)
                    .map_err(cuda_err("uploading GEMM operands"))
            };
            let a = upload(self, random(m * k))?;
            let b = upload(self, random(k * n))?;
            let mut c = self
                .stream
                .alloc_zeros::<f16>(m * n)
                .map_err(cuda_err("allocating the GEMM output"))?;
            // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS's (m, n, k) = (n, m, k),
            // its A is our B (leading dimension n), its B our A (leading dimension k).
            let cfg = GemmConfig {
                transa: cublasOperation_t::CUBLAS_OP_N,
                transb: cublasOperation_t::CUBLAS_OP_N,
                m: ni,
                n: mi,
                k: ki,
                alpha: f16::ONE,
                lda: ni,
                ldb: ki,
                beta: f16::ZERO,
                ldc: ni,
            };
            let samples = self.time_runs(warmup, repeats, |dev, step| match step {
                Step::Prepare => Ok(()),
                Step::Run => gemm(dev, cfg, &b, &a, &mut c),
            })?;
            Ok(Timing::from_samples(samples, Clock::CudaEvents))
        })
    }
}

/// One cuBLAS f16 GEMM on the device's handle.
#[allow(unsafe_code)]
fn gemm(
    dev: &CudaDevice,
    cfg: GemmConfig<f16>,
    a: &CudaSlice<f16>,
    b: &CudaSlice<f16>,
    c: &mut CudaSlice<f16>,
) -> Result<(), RuntimeError> {
    let blas = dev.blas.as_ref().ok_or_else(|| RuntimeError::Cuda {
        during: "cuBLAS f16 GEMM".to_string(),
        message: "no cuBLAS handle".to_string(),
    })?;
    // SAFETY: column-major `a` is cfg.m × cfg.k with lda = cfg.m, `b` is cfg.k × cfg.n with
    // ldb = cfg.k and `c` is cfg.m × cfg.n with ldc = cfg.m, and the allocations hold
    // exactly those many elements (made by the caller from the same sizes), so cuBLAS reads
    // and writes inside them; all three live on the handle's stream.
    unsafe { blas.gemm(cfg, a, b, c) }.map_err(|e| RuntimeError::Cuda {
        during: "cuBLAS f16 GEMM".to_string(),
        message: e.to_string(),
    })
}

/// The two parts of a timed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Work before the run that is not timed (clearing workspaces).
    Prepare,
    /// The run itself (between the events).
    Run,
}
