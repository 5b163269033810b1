//! `tilus gemm`: quantize random weights, run the a16wX GEMM, compare with an f64 reference.

use std::fmt::Write as _;
use std::time::Instant;

use clap::Args;
use tilus_ir::dtype::DType;
use tilus_kernels::config::{GroupSize, QuantMode};
use tilus_kernels::device::PreparedGemm;
use tilus_kernels::plan::{A16WxPlan, KernelKind};
use tilus_kernels::{host, quant};
use tilus_runtime::{default_device, CpuDevice, Device, InterpDevice, PtxInterpDevice, WgpuDevice};

use super::tune;

use super::{CliError, CmdResult};

/// Arguments of `tilus gemm`.
#[derive(Args, Debug, Clone)]
pub struct GemmArgs {
    /// Rows of the activations (tokens).
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    /// Output features.
    #[arg(long, default_value_t = 4096)]
    pub n: usize,
    /// Input features.
    #[arg(long, default_value_t = 4096)]
    pub k: usize,
    /// Weight type: u1..u8, i2..i8, any minifloat f3..f7, f8e4m3fn, f8e5m2.
    #[arg(long, default_value = "u4")]
    pub wtype: String,
    /// Activation type: f16 or bf16.
    #[arg(long, default_value = "f16")]
    pub act: String,
    /// Group size along K (a multiple of the tile's K), or `per-channel`.
    #[arg(long, default_value = "128")]
    pub group_size: String,
    /// Asymmetric quantization with zero points (integer weights only).
    #[arg(long)]
    pub asym: bool,
    /// Split K across this many blocks (combined in order with semaphores).
    #[arg(long, default_value_t = 1)]
    pub split_k: usize,
    /// Where to run: `cuda`, `wgpu`, `cpu`, `ptx-interp` or `interp`; by default CUDA when a GPU
    /// is present, else wgpu when an adapter exists, else the interpreter (the choice is
    /// printed).
    #[arg(long)]
    pub backend: Option<String>,
    /// Write the inputs and outputs as .npy files into this directory: `a.npy` [M, K] (the
    /// activations, rounded to the activation type), `w.npy` [N, K] (the dequantized
    /// weights), `c.npy` [M, N] (the kernel's output) and `reference.npy` [M, N] (the f64
    /// reference, as f32), so `np.abs(a @ w.T - c)` checks the run.
    #[arg(long)]
    pub save: Option<std::path::PathBuf>,
    /// Also time the kernel and the same kernel with f16 weights, and print GB/s and the
    /// speedup (not on the interpreter).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub compare: bool,
    /// Seed of the random weights and activations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Which kernel: `simt` (K split across threads, exact f32 dequantization), `mma`
    /// (tensor-core-shaped tiles), or `auto` (SIMT when the device has no tensor cores or
    /// m <= 16).
    #[arg(long, default_value = "auto")]
    pub kernel: String,
    /// Autotune the tile: `auto` (on hardware GPUs, when `--kernel auto` and no `--simt`),
    /// `on` (also on software devices), `force` (tune again even when a winner is stored) or
    /// `off` (the default plan). Winners are stored per shape bucket, device and compiler;
    /// a later run reuses them and tunes nothing.
    #[arg(long, default_value = "auto")]
    pub tune: String,
    /// SIMT tile: threads along n, threads along k, columns per thread, codes per thread
    /// and k-tile, and optionally rows per block (e.g. `32,1,8,32`, the default; BM defaults
    /// to the next power of two of m, at most 16).
    #[arg(long)]
    pub simt: Option<String>,
}

/// Applies `--simt TN,TK,RN,KS` to a SIMT plan.
fn apply_simt(plan: &mut A16WxPlan, text: &str) -> Result<(), CliError> {
    let bad = || {
        CliError(format!(
            "--simt `{text}`: expected positive integers TN,TK,RN,KS[,BM]"
        ))
    };
    let v: Vec<usize> = text
        .split(',')
        .map(|t| t.trim().parse::<usize>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let A16WxPlan::Simt(c) = plan else {
        return Err(bad());
    };
    match v.as_slice() {
        [tn, tk, rn, ks, rest @ ..] if rest.len() <= 1 => {
            c.threads_n = *tn;
            c.threads_k = *tk;
            c.cols_per_thread = *rn;
            c.ks = *ks;
            if let [bm] = rest {
                c.block_m = *bm;
            }
            Ok(())
        }
        _ => Err(bad()),
    }
}

/// Parses `--kernel`.
pub fn parse_kernel(text: &str) -> Result<KernelKind, CliError> {
    match text {
        "auto" => Ok(KernelKind::Auto),
        "simt" => Ok(KernelKind::Simt),
        "mma" => Ok(KernelKind::Mma),
        _ => Err(CliError(format!(
            "--kernel `{text}`: expected `auto`, `simt` or `mma`"
        ))),
    }
}

/// Parses `--group-size`.
pub fn parse_group(text: &str) -> Result<GroupSize, CliError> {
    let bad = || {
        CliError(format!(
            "--group-size `{text}`: expected a positive integer of at most 2^31 - 1, or \
             `per-channel`"
        ))
    };
    match text {
        "per-channel" | "pc" | "channel" => Ok(GroupSize::PerChannel),
        _ => match text.parse::<usize>() {
            Ok(g) if g > 0 && i32::try_from(g).is_ok() => Ok(GroupSize::Size(g)),
            _ => Err(bad()),
        },
    }
}

/// Uniform values in [-1, 1) from a seeded xorshift generator.
fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Bytes of memory the machine has available (`MemAvailable`), if it says.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Refuses shapes the kernels cannot index (every extent and every matrix must fit `i32`
/// elements) or the host cannot hold (weights, codes, references: about 40 bytes per weight
/// and 24 per output), before anything is allocated.
pub fn check_sizes(m: usize, n: usize, k: usize) -> Result<(), CliError> {
    for (name, v) in [("m", m), ("n", n), ("k", k)] {
        if v == 0 || i32::try_from(v).is_err() {
            return Err(CliError(format!(
                "--{name} {v}: expected 1 to {} (kernel indices are 32-bit)",
                i32::MAX
            )));
        }
    }
    let elems = |a: usize, b: usize, what: &str| {
        a.checked_mul(b)
            .filter(|&e| i32::try_from(e).is_ok())
            .ok_or_else(|| {
                CliError(format!(
                    "{what} of {a} x {b} elements does not fit 32-bit indices ({} at most)",
                    i32::MAX
                ))
            })
    };
    let (w, a, c) = (
        elems(n, k, "the weights")?,
        elems(m, k, "the activations")?,
        elems(m, n, "the output")?,
    );
    let bytes = (w as u64) * 40 + (a as u64) * 12 + (c as u64) * 24;
    let avail = available_memory().unwrap_or(16 << 30);
    if bytes > avail / 2 {
        return Err(CliError(format!(
            "the problem needs about {:.1} GB of host memory; {:.1} GB are available (half may be used)",
            bytes as f64 / 1e9,
            avail as f64 / 1e9
        )));
    }
    Ok(())
}

/// The problem made concrete: config, quantized weights, activations.
pub struct Problem {
    /// The kernel and its configuration.
    pub plan: A16WxPlan,
    /// The quantized weights `[N, K]`.
    pub q: quant::Quantized,
    /// Activations `[M, K]` (f32; rounded to the activation dtype by the runners).
    pub a: Vec<f32>,
}

/// Builds the problem from the arguments (validating every choice).
pub fn problem(args: &GemmArgs, has_mma: bool) -> Result<Problem, CliError> {
    check_sizes(args.m, args.n, args.k)?;
    let wtype = DType::parse(&args.wtype)?;
    let act = DType::parse(&args.act)?;
    let group = parse_group(&args.group_size)?;
    let mode = if args.asym {
        QuantMode::Asymmetric
    } else {
        QuantMode::Symmetric
    };
    if args.m == 0 || args.n == 0 || args.k == 0 {
        return Err(CliError("--m, --n and --k must be positive".into()));
    }
    let kind = parse_kernel(&args.kernel)?;
    if args.split_k > 1 && kind == KernelKind::Simt {
        return Err(CliError(
            "--split-k splits K across blocks of the mma kernel; the simt kernel splits K \
             across threads"
                .into(),
        ));
    }
    // Split-K across blocks needs the tiled kernel.
    let kind = if args.split_k > 1 {
        KernelKind::Mma
    } else {
        kind
    };
    let mut plan = A16WxPlan::choose(
        kind,
        (act, wtype, group, mode),
        (args.m, args.n, args.k),
        has_mma,
    );
    if let A16WxPlan::Mma(cfg) = &mut plan {
        cfg.split_k = args.split_k;
    }
    if let Some(t) = &args.simt {
        if !matches!(plan, A16WxPlan::Simt(_)) {
            return Err(CliError("--simt applies to the simt kernel only".into()));
        }
        apply_simt(&mut plan, t)?;
    }
    plan.validate()?;
    let w = random(args.n * args.k, args.seed);
    let q = quant::quantize(&w, args.n, args.k, wtype, group, mode, act)?;
    let a = random(args.m * args.k, args.seed.wrapping_add(7919));
    Ok(Problem { plan, q, a })
}

/// The backends this build has, for `--backend`.
pub const BACKENDS: &str = if cfg!(feature = "cuda") {
    "`cuda` (an NVIDIA GPU through the CUDA driver), `wgpu` (WebGPU through wgpu), `cpu` \
     (native code from Cranelift), `ptx-interp` (our PTX on the CPU) and `interp` (the tile \
     interpreter)"
} else {
    "`wgpu` (WebGPU through wgpu), `cpu` (native code from Cranelift), `ptx-interp` (our PTX \
     on the CPU) and `interp` (the tile interpreter); `cuda` needs a build with the `cuda` \
     feature"
};

/// Opens the device a command asked for: `cuda`, `wgpu`, `cpu`, `ptx-interp`, `interp`, or (none)
/// the best available ([`default_device`]). Returns the device and a line saying which and
/// why.
pub fn open_device(backend: Option<&str>) -> Result<(Box<dyn Device>, String), CliError> {
    match backend {
        Some("interp") => Ok((
            Box::new(InterpDevice::new()),
            "backend: interp (asked for)".into(),
        )),
        Some("cpu") => {
            let dev = CpuDevice::new();
            let line = format!("backend: {} (asked for)", dev.info());
            Ok((Box::new(dev), line))
        }
        Some("ptx-interp") => {
            let dev = PtxInterpDevice::new();
            let line = format!("backend: {} (asked for)", dev.info());
            Ok((Box::new(dev), line))
        }
        #[cfg(feature = "cuda")]
        Some("cuda") => {
            let dev = tilus_runtime::CudaDevice::new(0).map_err(|e| CliError(e.to_string()))?;
            let line = format!("backend: {} (asked for)", dev.info());
            Ok((Box::new(dev), line))
        }
        Some("wgpu") => {
            let dev = WgpuDevice::new().map_err(|e| CliError(e.to_string()))?;
            let line = format!("backend: {} (asked for)", dev.info());
            Ok((Box::new(dev), line))
        }
        None => {
            let chosen = default_device().map_err(|e| CliError(e.to_string()))?;
            let line = format!(
                "backend: {} ({})",
                chosen.device.info().backend,
                chosen.reason
            );
            Ok((chosen.device, line))
        }
        Some(other) => Err(CliError(format!(
            "unknown backend `{other}`: this build has {BACKENDS}"
        ))),
    }
}

/// Whether to tune (`Some(forced)`) or run the given plan (`None`).
fn tune_mode(args: &GemmArgs, info: &tilus_runtime::DeviceInfo) -> Result<Option<bool>, CliError> {
    let free = args.kernel == "auto" && args.simt.is_none() && args.split_k == 1;
    match args.tune.as_str() {
        "off" => Ok(None),
        "on" | "force" if !free => Err(CliError(
            "--tune on|force needs --kernel auto, no --simt and --split-k 1 (the tuner picks the \
             tile)"
                .into(),
        )),
        "on" => Ok(Some(false)),
        "force" => Ok(Some(true)),
        "auto" => Ok((free && !info.software && info.target().is_some()).then_some(false)),
        other => Err(CliError(format!(
            "--tune {other:?}: expected auto, on, force or off"
        ))),
    }
}

/// `tilus gemm`.
pub fn gemm(args: &GemmArgs) -> CmdResult {
    let (m, n, k) = (args.m, args.n, args.k);
    let (mut device, which) = open_device(args.backend.as_deref())?;
    let has_mma = device
        .info()
        .target()
        .is_some_and(|t| !t.caps().mma.is_empty());
    let mut p = problem(args, has_mma)?;
    let backend = device.info().backend;
    let mut out = String::new();
    let _ = writeln!(out, "{which}");
    let (act, wtype, _, _) = p.plan.weights();
    let _ = writeln!(
        out,
        "a16w{} gemm: m={m} n={n} k={k} act={act} wtype={wtype} group={} mode={} split_k={}",
        wtype.bits(),
        args.group_size,
        if args.asym { "asymmetric" } else { "symmetric" },
        args.split_k
    );
    let prepared = match tune_mode(args, device.info())? {
        Some(force) => {
            let (plan, prepared, source) =
                tune::choose_plan_with_progress(device.as_mut(), p.plan, &p.q, &p.a, m, force)?;
            p.plan = plan;
            let _ = writeln!(out, "{source}");
            prepared
        }
        None => {
            if args.tune == "auto" && device.info().software && device.info().target().is_some() {
                let _ = writeln!(
                    out,
                    "tuning: off on a software device (the default tile; --tune on tunes here too)"
                );
            }
            PreparedGemm::new(device.as_mut(), &p.plan, &p.q, &p.a, m)?
        }
    };
    let _ = writeln!(out, "{}", p.plan.describe());
    // The first launch also pays for the device's own compilation of the kernel (a driver
    // JIT: LLVM on lavapipe); the second is the kernel. Both are reported.
    let start = Instant::now();
    let c = prepared.run(device.as_mut())?;
    let first_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let again = prepared.run(device.as_mut())?;
    let time_ms = start.elapsed().as_secs_f64() * 1e3;
    if again
        .iter()
        .map(|x| x.to_bits())
        .ne(c.iter().map(|x| x.to_bits()))
    {
        return Err(CliError(
            "two launches of the same kernel gave different results".into(),
        ));
    }
    let a = host::round_to(act, &p.a);
    let w = quant::dequantize(&p.q);
    let reference = host::reference_gemm(m, n, k, &a, &w);
    let stats = host::error_stats(m, n, k, &c, &reference, &a, &w, act);
    let bound = p.plan.error_bound(k);
    if let Some(dir) = &args.save {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError(format!("creating {}: {e}", dir.display())))?;
        let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        super::npy::write_f32(&dir.join("a.npy"), &[m, k], &f(&a))?;
        super::npy::write_f32(&dir.join("w.npy"), &[n, k], &f(&w))?;
        super::npy::write_f32(&dir.join("c.npy"), &[m, n], &c)?;
        super::npy::write_f32(&dir.join("reference.npy"), &[m, n], &f(&reference))?;
        let _ = writeln!(
            out,
            "saved a.npy, w.npy, c.npy, reference.npy to {}",
            dir.display()
        );
    }
    let _ = writeln!(
        out,
        "relative error vs f64 reference on the dequantized weights: max {:.3e}, mean {:.3e} (bound {:.3e})",
        stats.max_rel, stats.mean_rel, bound
    );
    let _ = writeln!(
        out,
        "time: {time_ms:.3} ms ({backend}, one launch and the download of C; the first launch took \
         {first_ms:.3} ms with the device's own compilation; our compile {:.3} ms)",
        prepared.compile_time.as_secs_f64() * 1e3
    );
    if let Some(c) = prepared.cache {
        let dir = tilus_runtime::cache::CompileCache::global()
            .dir()
            .map_or("memory only".to_string(), |d| d.display().to_string());
        let _ = writeln!(out, "compile: {c} ({dir})");
    }
    if args.compare && backend != "interp" && wtype != tilus_ir::dtype::DType::F16 {
        // Speed: the kernel's median against the same kernel streaming f16 weights.
        let t = prepared.time(device.as_mut(), 2, 5)?;
        let gbs = prepared.weight_bytes as f64 / (t.median_us * 1e-6) / 1e9;
        let base_args = GemmArgs {
            wtype: "f16".into(),
            group_size: "per-channel".into(),
            asym: false,
            simt: None,
            tune: "off".into(),
            ..args.clone()
        };
        let base = problem(&base_args, has_mma)?;
        let bp = PreparedGemm::new(device.as_mut(), &base.plan, &base.q, &base.a, m)?;
        let bt = bp.time(device.as_mut(), 2, 5)?;
        let _ = writeln!(
            out,
            "speed: {:.1} us ({:.3} GB/s of weights and scales); f16 weights {:.1} us; speedup x{:.2} over f16 weights",
            t.median_us,
            gbs,
            bt.median_us,
            bt.median_us / t.median_us
        );
    }
    if stats.max_rel.is_finite() && stats.max_rel <= bound {
        let _ = writeln!(
            out,
            "ok: max_rel_err={:.3e} mean_rel_err={:.3e} time_ms={time_ms:.3} first_launch_ms={first_ms:.3}",
            stats.max_rel, stats.mean_rel
        );
        Ok(out)
    } else {
        let (i, j) = (stats.argmax / n, stats.argmax % n);
        let _ = write!(
            out,
            "FAIL: max_rel_err={:.3e} exceeds the bound {bound:.3e} at C[{i}, {j}] (got {}, expected {})",
            stats.max_rel, c[stats.argmax], reference[stats.argmax]
        );
        Err(CliError(out))
    }
}
