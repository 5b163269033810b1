//! `tilus compile`: run the compiler pipeline on a `.tilus` file and print a stage's result.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tilus_lower::pipeline::{self, CompileOptions, Stage};
use tilus_lower::target::{CpuCaps, NativeF16, PtxArch, PtxCaps, Target, WgslCaps};

use super::program::load;
use super::{CliError, CmdResult};

/// What `tilus compile` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EmitKind {
    /// The register and shared layouts after inference.
    Layouts,
    /// The thread IR after e-graph simplification.
    ThreadIr,
    /// The thread IR after the target's legalization.
    Legalized,
    /// The WGSL module (target wgsl).
    Wgsl,
    /// The PTX module (target ptx).
    Ptx,
    /// The Cranelift IR function that runs one block (target cpu).
    Clif,
    /// The target's code: WGSL, PTX or CLIF.
    Code,
}

/// Which target to compile for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// WGSL for WebGPU (wgpu).
    Wgsl,
    /// PTX for NVIDIA GPUs (CUDA).
    Ptx,
    /// Native code for this CPU (Cranelift IR; the runtime JIT-compiles it).
    Cpu,
}

/// An NVIDIA architecture for `--target ptx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ArchKind {
    /// Ampere (A100).
    #[value(name = "sm_80")]
    Sm80,
    /// Hopper (H100, H200).
    #[value(name = "sm_90")]
    Sm90,
}

impl ArchKind {
    /// The compiler's architecture.
    pub fn arch(self) -> PtxArch {
        match self {
            ArchKind::Sm80 => PtxArch::Sm80,
            ArchKind::Sm90 => PtxArch::Sm90,
        }
    }
}

/// Arguments of `tilus compile`.
#[derive(Args, Debug)]
pub struct CompileArgs {
    /// A `.tilus` file.
    file: PathBuf,
    /// The kernel (default: every kernel of the file).
    #[arg(long)]
    kernel: Option<String>,
    /// The target.
    #[arg(long, value_enum, default_value = "wgsl")]
    target: TargetKind,
    /// The architecture for `--target ptx`.
    #[arg(long, value_enum, default_value = "sm_80")]
    arch: ArchKind,
    /// What to print (`code`, the default, is the target's code).
    #[arg(long, value_enum, default_value = "code")]
    emit: EmitKind,
    /// Print the time of every stage (median of repeated compilations).
    #[arg(long)]
    timings: bool,
    /// Skip the e-graph simplifier.
    #[arg(long)]
    no_simplify: bool,
    /// Assume an adapter with SHADER_F16 whose probe proved its native f16 conversions
    /// exact (`unpack2x16float`/`pack2x16float` are then used instead of integer code).
    #[arg(long)]
    f16: bool,
}

/// The capabilities `tilus compile` assumes: the WebGPU baseline limits raised to what
/// common adapters (and lavapipe) offer; `--f16` adds SHADER_F16 and native f16
/// conversions (as on an adapter whose probe proved them exact).
pub fn default_caps(f16: bool) -> WgslCaps {
    WgslCaps {
        shader_f16: f16,
        subgroup_size: None,
        max_workgroup_storage: 32768,
        max_invocations: 1024,
        f16_native: NativeF16 {
            decode: f16,
            encode: f16,
        },
    }
}

/// Runs `tilus compile`.
pub fn compile(args: &CompileArgs) -> CmdResult {
    let target = match args.target {
        TargetKind::Wgsl => Target::Wgsl(default_caps(args.f16)),
        TargetKind::Ptx => {
            if args.f16 {
                return Err(CliError("--f16 applies to --target wgsl only".into()));
            }
            Target::Ptx(PtxCaps::for_arch(args.arch.arch()))
        }
        TargetKind::Cpu => {
            if args.f16 {
                return Err(CliError("--f16 applies to --target wgsl only".into()));
            }
            Target::Cpu(CpuCaps::default())
        }
    };
    match (args.emit, args.target) {
        (EmitKind::Wgsl, TargetKind::Ptx) => {
            return Err(CliError("--emit wgsl needs --target wgsl".into()))
        }
        (EmitKind::Wgsl, _) if args.target != TargetKind::Wgsl => {
            return Err(CliError("--emit wgsl needs --target wgsl".into()))
        }
        (EmitKind::Ptx, _) if args.target != TargetKind::Ptx => {
            return Err(CliError("--emit ptx needs --target ptx".into()))
        }
        (EmitKind::Clif, _) if args.target != TargetKind::Cpu => {
            return Err(CliError("--emit clif needs --target cpu".into()))
        }
        _ => {}
    }
    let verified = load(&args.file)?;
    let names: Vec<String> = match &args.kernel {
        Some(k) => vec![k.clone()],
        None => verified
            .program()
            .functions
            .iter()
            .map(|f| f.name.clone())
            .collect(),
    };
    let stop_after = match args.emit {
        EmitKind::Layouts => Stage::Layouts,
        EmitKind::ThreadIr => Stage::Simplify,
        EmitKind::Legalized => Stage::Legalize,
        EmitKind::Wgsl | EmitKind::Ptx | EmitKind::Clif | EmitKind::Code => Stage::Validate,
    };
    let opts = CompileOptions {
        simplify: !args.no_simplify,
        stop_after,
        ..CompileOptions::default()
    };
    let mut out = String::new();
    for name in &names {
        let compiled = pipeline::compile(&verified, name, &target, &opts)
            .map_err(|e| CliError(format!("kernel `{name}`: {e}")))?;
        if names.len() > 1 {
            let _ = writeln!(out, "# kernel {name}");
        }
        match args.emit {
            EmitKind::Layouts => out.push_str(&compiled.layouts_text),
            EmitKind::ThreadIr => {
                if let Some(k) = &compiled.thread_ir {
                    let _ = write!(out, "{k}");
                }
            }
            EmitKind::Legalized => {
                if let Some(k) = &compiled.legalized {
                    let _ = write!(out, "{k}");
                }
            }
            EmitKind::Wgsl | EmitKind::Ptx | EmitKind::Clif | EmitKind::Code => {
                if let Some(k) = &compiled.artifact {
                    out.push_str(k.code.text());
                }
            }
        }
        if args.timings {
            // Median of repeated compilations (the first warms caches up).
            const RUNS: usize = 21;
            let mut per_stage: Vec<Vec<f64>> = Vec::new();
            let mut totals = Vec::new();
            for _ in 0..RUNS {
                let c = pipeline::compile(&verified, name, &target, &opts)
                    .map_err(|e| CliError(e.to_string()))?;
                for (i, t) in c.timings.iter().enumerate() {
                    if per_stage.len() <= i {
                        per_stage.push(Vec::new());
                    }
                    per_stage[i].push(t.elapsed.as_secs_f64() * 1e3);
                }
                totals.push(c.total().as_secs_f64() * 1e3);
            }
            let median = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            eprintln!("timings for `{name}` (median of {RUNS} compilations):");
            for (t, samples) in compiled.timings.iter().zip(per_stage.iter_mut()) {
                eprintln!("  {:<24} {:>8.3} ms", t.stage.name(), median(samples));
            }
            if let Some(r) = &compiled.simplify {
                eprintln!(
                    "  (simplify: {} roots, {} subtrees, cost {} -> {})",
                    r.roots, r.subtrees, r.cost_before, r.cost_after
                );
            }
            eprintln!("  {:<24} {:>8.3} ms", "total", median(&mut totals));
        }
    }
    Ok(out)
}
