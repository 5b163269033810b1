//! `tilus bench gemm`: time the a16wX GEMM against the same kernel with f16 weights.

use std::fmt::Write as _;

use clap::{Args, Subcommand};
use tilus_ir::dtype::DType;
use tilus_kernels::device::PreparedGemm;
use tilus_kernels::plan::A16WxPlan;
use tilus_kernels::KernelError;

use super::gemm::{open_device, problem, GemmArgs};
use super::{CliError, CmdResult};

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Time the a16wX GEMM for each `--wtype` and the f16-weight baseline, in one run.
    Gemm(BenchGemmArgs),
}

/// Arguments of `tilus bench gemm`.
#[derive(Args, Debug)]
pub struct BenchGemmArgs {
    /// Rows of the activations (tokens); several (comma-separated) are timed in one run.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    m: Vec<usize>,
    /// Output features.
    #[arg(long, default_value_t = 4096)]
    n: usize,
    /// Input features.
    #[arg(long, default_value_t = 4096)]
    k: usize,
    /// Weight types to time (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "u4")]
    wtype: Vec<String>,
    /// Activation type: f16 or bf16.
    #[arg(long, default_value = "f16")]
    act: String,
    /// Group size along K, or `per-channel`.
    #[arg(long, default_value = "128")]
    group_size: String,
    /// `cuda`, `wgpu`, `cpu`, `ptx-interp` or `interp` (default: the best available).
    #[arg(long)]
    backend: Option<String>,
    /// The GPU suite: K=4096, N=12288, M in {1, 16, 4096}, every integer width from 2 to 8
    /// and f16 (overrides --m, --n, --k and --wtype). On CUDA every line also gives the
    /// share of the measured copy bandwidth and the speedup over cuBLAS f16.
    #[arg(long)]
    suite: bool,
    /// Launches before timing.
    #[arg(long, default_value_t = 3)]
    warmup: u32,
    /// Timed launches (the median is reported).
    #[arg(long, default_value_t = 10)]
    repeats: u32,
    /// Which kernel: `auto`, `simt` or `mma` (see `tilus gemm --help`).
    #[arg(long, default_value = "auto")]
    kernel: String,
    /// SIMT tile `TN,TK,RN,KS` (see `tilus gemm --help`).
    #[arg(long)]
    simt: Option<String>,
    /// On `--backend cpu`, also time the tile interpreter on the first weight type (one
    /// run; seconds at the default shape). `--interp-baseline=false` skips it.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    interp_baseline: bool,
}

/// The `GemmArgs` that time weight type `w` at `m` (f16 weights are per-channel), untuned.
fn gemm_args(args: &BenchGemmArgs, m: usize, w: &str) -> GemmArgs {
    GemmArgs {
        m,
        n: args.n,
        k: args.k,
        wtype: w.to_string(),
        act: args.act.clone(),
        group_size: if DType::parse(w).ok() == Some(DType::F16) {
            "per-channel".into()
        } else {
            args.group_size.clone()
        },
        asym: false,
        split_k: 1,
        backend: args.backend.clone(),
        seed: 1,
        kernel: args.kernel.clone(),
        simt: args.simt.clone(),
        tune: "off".into(),
        compare: false,
        save: None,
    }
}

/// Times the hand-written GEMV for weight type `w` on the SIMT buffers: `(dtype, kernel
/// name, median µs)`, or `None` when it does not apply (not wgpu, bf16, a shape it does not
/// handle).
fn time_handwritten(
    device: &mut dyn tilus_runtime::Device,
    args: &BenchGemmArgs,
    m: usize,
    w: &str,
) -> Result<Option<(DType, String, f64)>, CliError> {
    if device.info().backend != "wgpu" {
        return Ok(None);
    }
    // The hand-written kernels take the SIMT buffers of the default tile.
    let ga = GemmArgs {
        kernel: "simt".into(),
        simt: None,
        ..gemm_args(args, m, w)
    };
    let p = problem(&ga, false)?;
    let A16WxPlan::Simt(plan) = p.plan else {
        return Ok(None);
    };
    let prepared = match PreparedGemm::handwritten(device, &plan, &p.q, &p.a, m) {
        Ok(p) => p,
        // Shapes and types it does not cover are skipped, and said so.
        Err(KernelError::InvalidConfig { reason, .. }) => {
            eprintln!("note: no hand-written baseline for {w}: {reason}");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let name = match prepared.kernel() {
        tilus_runtime::Kernel::Compiled(k) => k.name.clone(),
        _ => "handwritten".into(),
    };
    let timing = prepared.time(device, args.warmup, args.repeats.max(1))?;
    Ok(Some((plan.wtype, name, timing.median_us)))
}

/// Runs `tilus bench gemm`.
pub fn gemm(args: &BenchGemmArgs) -> CmdResult {
    let (mut device, which) = open_device(args.backend.as_deref())?;
    let mut out = String::new();
    let _ = writeln!(out, "{which}");
    let suite;
    let args = if args.suite {
        suite = BenchGemmArgs {
            m: vec![1, 16, 4096],
            n: 12288,
            k: 4096,
            wtype: ["u2", "u3", "u4", "u5", "u6", "u7", "u8"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            act: args.act.clone(),
            group_size: args.group_size.clone(),
            backend: args.backend.clone(),
            suite: true,
            warmup: args.warmup,
            repeats: args.repeats,
            kernel: args.kernel.clone(),
            simt: args.simt.clone(),
            interp_baseline: args.interp_baseline,
        };
        &suite
    } else {
        args
    };
    // The device's copy bandwidth, measured once in this run (CUDA).
    let copy_gbs = match device.copy_bandwidth_gbs() {
        Some(r) => {
            let gbs = r?;
            let _ = writeln!(
                out,
                "copy bandwidth (device to device, measured): {gbs:.1} GB/s"
            );
            Some(gbs)
        }
        None => None,
    };
    let mut lines = Vec::new();
    for &m in &args.m {
        bench_m(device.as_mut(), args, m, copy_gbs, &mut out, &mut lines)?;
    }
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    Ok(out)
}

/// Times every weight type at one `m`.
fn bench_m(
    device: &mut dyn tilus_runtime::Device,
    args: &BenchGemmArgs,
    m: usize,
    copy_gbs: Option<f64>,
    out: &mut String,
    lines: &mut Vec<String>,
) -> Result<(), CliError> {
    let backend = device.info().backend;
    let mut wtypes: Vec<String> = args.wtype.iter().map(|w| w.trim().to_string()).collect();
    // The baseline is measured in the same run, first.
    wtypes.retain(|w| DType::parse(w).ok() != Some(DType::F16));
    wtypes.insert(0, "f16".to_string());
    let mut baseline_us = None;
    let _ = writeln!(out, "m={m} k={} n={}", args.k, args.n);
    // The vendor f16 GEMM (cuBLAS on CUDA), on the same shape.
    let vendor_us =
        match device.vendor_hgemm_us(m, args.n, args.k, args.warmup, args.repeats.max(1)) {
            Some(r) => {
                let us = r?;
                let _ = writeln!(
                    out,
                    "{:<9} time {:>10.1} us  (cuBLAS f16 GEMM, f32 accumulation)",
                    "cublas", us
                );
                lines.push(format!(
                    "bench: backend={backend} kernel=cublas_hgemm m={m} k={} n={} time_us={us:.1}",
                    args.k, args.n
                ));
                Some(us)
            }
            None => None,
        };
    // On the CPU: a plain f32 GEMM in Rust (numpy-class) and the tile interpreter running
    // the first weight type's kernel, both in this run.
    let mut cpu_base: Option<(f64, Option<f64>)> = None;
    if backend == "cpu" {
        let f32_us = super::bench_cpu::f32_gemm_us(m, args.n, args.k, args.warmup, args.repeats);
        let _ = writeln!(
            out,
            "{:<9} time {:>10.1} us  weights {:>8.2} MB  (f32 GEMV/GEMM in plain Rust, all cores)",
            "f32-rust",
            f32_us,
            (args.n * args.k * 4) as f64 / 1e6
        );
        lines.push(format!(
            "bench: backend=cpu kernel=f32_rust m={m} k={} n={} time_us={f32_us:.1}",
            args.k, args.n
        ));
        let first = wtypes
            .iter()
            .find(|w| DType::parse(w).ok() != Some(DType::F16));
        let interp = match (first, args.interp_baseline) {
            (Some(w), true) => {
                let ga = gemm_args(args, m, w);
                let us = super::bench_cpu::interp_us(&ga)?;
                let _ = writeln!(
                    out,
                    "{:<9} time {:>10.1} us  (the tile interpreter, {w}, one run)",
                    "interp", us
                );
                lines.push(format!(
                    "bench: backend=interp wtype={w} m={m} k={} n={} time_us={us:.1}",
                    args.k, args.n
                ));
                Some(us)
            }
            _ => None,
        };
        cpu_base = Some((f32_us, interp));
    }
    // The hand-written WGSL GEMVs (a16w16, a16w4), timed on the same buffers, first.
    let mut handwritten: Vec<(DType, String, f64)> = Vec::new();
    for w in ["f16", "u4"] {
        let Some(hw) = time_handwritten(device, args, m, w)? else {
            continue;
        };
        let _ = writeln!(
            *out,
            "{:<9} time {:>10.1} us  (hand-written WGSL `{}`)",
            w, hw.2, hw.1
        );
        lines.push(format!(
            "bench: backend={backend} kernel={} m={} k={} n={} time_us={:.1}",
            hw.1, m, args.k, args.n, hw.2
        ));
        handwritten.push(hw);
    }
    for w in &wtypes {
        let ga = gemm_args(args, m, w);
        let has_mma = device
            .info()
            .target()
            .is_some_and(|t| !t.caps().mma.is_empty());
        let p = problem(&ga, has_mma)?;
        let prepared = PreparedGemm::new(device, &p.plan, &p.q, &p.a, m)?;
        let timing = prepared.time(device, args.warmup, args.repeats.max(1))?;
        let us = timing.median_us;
        if baseline_us.is_none() {
            baseline_us = Some(us);
        }
        let gbps = prepared.weight_bytes as f64 / (us * 1e-6) / 1e9;
        let speedup = baseline_us.map_or(1.0, |b| b / us);
        let _ = writeln!(
            *out,
            "{:<9} time {:>10.1} us  weights {:>8.2} MB  {:>7.2} GB/s  x{:.2} vs f16  (compile {:.1} ms, {:?})",
            w,
            us,
            prepared.weight_bytes as f64 / 1e6,
            gbps,
            speedup,
            prepared.compile_time.as_secs_f64() * 1e3,
            timing.clock
        );
        // Against the hand-written kernel of the same weight type, else the a16w16 one.
        let wt = DType::parse(w).ok();
        let hw = handwritten
            .iter()
            .find(|h| Some(h.0) == wt)
            .or_else(|| handwritten.iter().find(|h| h.0 == DType::F16));
        let vs = hw.map_or("vs_handwritten=n/a".to_string(), |h| {
            format!("vs_handwritten={:.2} handwritten={}", us / h.2, h.1)
        });
        let bw = copy_gbs.map_or(String::new(), |c| {
            format!(" pct_copy_bw={:.1}", 100.0 * gbps / c)
        });
        let cublas = vendor_us.map_or(String::new(), |v| format!(" vs_cublas={:.2}", v / us));
        let cpu = cpu_base.map_or(String::new(), |(f, i)| {
            let interp = i.map_or(String::new(), |i| {
                format!(" speedup_vs_interp={:.1}", i / us)
            });
            format!(" speedup_vs_f32_rust={:.3}{interp}", f / us)
        });
        lines.push(format!(
            "bench: backend={backend} wtype={w} m={} k={} n={} time_us={us:.1} gbps={gbps:.2}{bw}{cublas}{cpu} speedup_vs_f16={speedup:.2} {vs}",
            m, args.k, args.n
        ));
    }
    if baseline_us.is_none() {
        return Err(CliError("nothing was timed".into()));
    }
    Ok(())
}
