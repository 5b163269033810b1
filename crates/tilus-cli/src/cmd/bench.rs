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
    /// Rows of the activations (tokens).
    #[arg(long, default_value_t = 1)]
    m: usize,
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
    /// `wgpu` or `interp` (default: wgpu when an adapter exists).
    #[arg(long)]
    backend: Option<String>,
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
}

/// Times the hand-written GEMV for weight type `w` on the SIMT buffers: `(dtype, kernel
/// name, median µs)`, or `None` when it does not apply (not wgpu, bf16, a shape it does not
/// handle).
fn time_handwritten(
    device: &mut dyn tilus_runtime::Device,
    args: &BenchGemmArgs,
    w: &str,
) -> Result<Option<(DType, String, f64)>, CliError> {
    if device.info().backend != "wgpu" {
        return Ok(None);
    }
    let ga = GemmArgs {
        m: args.m,
        n: args.n,
        k: args.k,
        wtype: w.to_string(),
        act: args.act.clone(),
        group_size: if w == "f16" {
            "per-channel".into()
        } else {
            args.group_size.clone()
        },
        asym: false,
        split_k: 1,
        backend: args.backend.clone(),
        seed: 1,
        kernel: "simt".into(),
        simt: None,
    };
    let p = problem(&ga)?;
    let A16WxPlan::Simt(plan) = p.plan else {
        return Ok(None);
    };
    let prepared = match PreparedGemm::handwritten(device, &plan, &p.q, &p.a, args.m) {
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
    let backend = device.info().backend;
    let mut out = String::new();
    let _ = writeln!(out, "{which}");
    let mut wtypes: Vec<String> = args.wtype.iter().map(|w| w.trim().to_string()).collect();
    // The baseline is measured in the same run, first.
    wtypes.retain(|w| DType::parse(w).ok() != Some(DType::F16));
    wtypes.insert(0, "f16".to_string());
    let mut baseline_us = None;
    let mut lines = Vec::new();
    // The hand-written WGSL GEMVs (a16w16, a16w4), timed on the same buffers, first.
    let mut handwritten: Vec<(DType, String, f64)> = Vec::new();
    for w in ["f16", "u4"] {
        let Some(hw) = time_handwritten(device.as_mut(), args, w)? else {
            continue;
        };
        let _ = writeln!(
            out,
            "{:<9} time {:>10.1} us  (hand-written WGSL `{}`)",
            w, hw.2, hw.1
        );
        lines.push(format!(
            "bench: backend={backend} kernel={} m={} k={} n={} time_us={:.1}",
            hw.1, args.m, args.k, args.n, hw.2
        ));
        handwritten.push(hw);
    }
    for w in &wtypes {
        let ga = GemmArgs {
            m: args.m,
            n: args.n,
            k: args.k,
            wtype: w.clone(),
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
        };
        let p = problem(&ga)?;
        let prepared = PreparedGemm::new(device.as_mut(), &p.plan, &p.q, &p.a, args.m)?;
        let timing = prepared.time(device.as_mut(), args.warmup, args.repeats.max(1))?;
        let us = timing.median_us;
        if baseline_us.is_none() {
            baseline_us = Some(us);
        }
        let gbps = prepared.weight_bytes as f64 / (us * 1e-6) / 1e9;
        let speedup = baseline_us.map_or(1.0, |b| b / us);
        let _ = writeln!(
            out,
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
        lines.push(format!(
            "bench: backend={backend} wtype={w} m={} k={} n={} time_us={us:.1} gbps={gbps:.2} speedup_vs_f16={speedup:.2} {vs}",
            args.m, args.k, args.n
        ));
    }
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    if baseline_us.is_none() {
        return Err(CliError("nothing was timed".into()));
    }
    Ok(out)
}
