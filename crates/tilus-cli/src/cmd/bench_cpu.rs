//! The CPU baselines of `tilus bench gemm --backend cpu`, measured in the same run: a plain
//! f32 GEMV/GEMM written simply in Rust (the numpy-class reference: f32 weights, 8 partial
//! sums per row so the compiler vectorizes it, rows split over all cores) and the tile
//! interpreter running the same a16wX kernel.

use std::time::Instant;

use tilus_kernels::device::PreparedGemm;
use tilus_runtime::InterpDevice;

use super::gemm::{problem, GemmArgs};
use super::CliError;

/// One dot product of length `k`, with 8 partial sums (vectorized by the compiler).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (at, bt) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in at.iter().zip(bt) {
        sum += x * y;
    }
    sum
}

/// `y[m, n] = x[m, k] · w[n, k]ᵀ` in f32, the columns split over `threads` threads.
fn f32_gemm(x: &[f32], w: &[f32], y: &mut [f32], m: usize, n: usize, k: usize, threads: usize) {
    let per = n.div_ceil(threads.max(1)).max(1);
    let parts: Vec<(usize, Vec<f32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n.div_ceil(per))
            .map(|t| {
                s.spawn(move || {
                    let cols = (t * per)..((t + 1) * per).min(n);
                    let mut out = Vec::with_capacity(m * cols.len());
                    for r in 0..m {
                        let xr = &x[r * k..][..k];
                        out.extend(cols.clone().map(|c| dot(&w[c * k..][..k], xr)));
                    }
                    (t * per, out)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (start, out) in parts {
        let width = out.len() / m.max(1);
        for r in 0..m {
            y[r * n + start..][..width].copy_from_slice(&out[r * width..][..width]);
        }
    }
}

/// Median µs of the f32 GEMM of `[m, k] × [k, n]` on all cores.
pub fn f32_gemm_us(m: usize, n: usize, k: usize, warmup: u32, repeats: u32) -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0)
        .collect();
    let x: Vec<f32> = (0..m * k)
        .map(|i| ((i * 13 % 29) as f32 - 14.0) / 16.0)
        .collect();
    let mut y = vec![0f32; m * n];
    for _ in 0..warmup {
        f32_gemm(&x, &w, &mut y, m, n, k, threads);
    }
    let mut samples: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let t = Instant::now();
            f32_gemm(&x, &w, &mut y, m, n, k, threads);
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    std::hint::black_box(&y);
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// µs of one run of the same a16wX kernel (`ga`) on the tile interpreter.
pub fn interp_us(ga: &GemmArgs) -> Result<f64, CliError> {
    let mut dev = InterpDevice::new();
    let p = problem(ga, false)?;
    let prepared = PreparedGemm::new(&mut dev, &p.plan, &p.q, &p.a, ga.m)?;
    let timing = prepared.time(&mut dev, 0, 1)?;
    Ok(timing.median_us)
}
