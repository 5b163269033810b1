//! `tilus tune gemm`: autotune the a16wX GEMM for a shape on a device (with a progress
//! bar), store the winner, print the ranking. Also the tuning step of `tilus gemm`.

use std::fmt::{self, Write as _};

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use tilus_kernels::device::PreparedGemm;
use tilus_kernels::plan::A16WxPlan;
use tilus_kernels::quant::Quantized;
use tilus_kernels::tune::{choose_plan, m_bucket, retune, search_space, TuneOptions, TuneSource};
use tilus_runtime::Device;

use super::gemm::{open_device, problem, GemmArgs};
use super::{CliError, CmdResult};

/// Autotuning.
#[derive(Subcommand, Debug)]
pub enum TuneCommand {
    /// Tune the a16wX GEMM for one shape and weight type (the `tilus gemm` options).
    Gemm(GemmArgs),
}

/// What the tuning step did, as one line.
pub struct Said(TuneSource, usize);

impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            TuneSource::Record(i) => write!(
                f,
                "tuning: stored record for this shape bucket and device: candidate #{i}, nothing tuned"
            ),
            TuneSource::Tuned(r) => write!(
                f,
                "tuning: timed {} of {} candidates, winner {:.1} us (stored)",
                r.len(),
                self.1,
                r.first().map_or(0.0, |x| x.1)
            ),
            TuneSource::Default => write!(f, "tuning: none on this device (the default plan)"),
        }
    }
}

fn bar(total: usize) -> ProgressBar {
    let pb = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("tuning {bar:30} {pos}/{len} {msg}") {
        pb.set_style(style);
    }
    pb
}

/// [`choose_plan`] with a progress bar on stderr; `force` tunes even when a record exists.
pub fn choose_plan_with_progress(
    device: &mut dyn Device,
    default: A16WxPlan,
    q: &Quantized,
    a: &[f32],
    m: usize,
    force: bool,
) -> Result<(A16WxPlan, PreparedGemm, Said), CliError> {
    let total = device.info().target().map_or(0, |t| {
        search_space(default.weights(), (m, q.n, q.k), &t.caps()).len()
    });
    let pb = bar(total);
    let mut progress = |done: usize, _total: usize, what: &str| {
        pb.set_position(done as u64);
        pb.set_message(what.to_string());
    };
    let result = if force {
        retune(
            device,
            default,
            q,
            a,
            m,
            TuneOptions::default(),
            &mut progress,
        )?
    } else {
        choose_plan(
            device,
            default,
            q,
            a,
            m,
            TuneOptions::default(),
            &mut progress,
        )?
    };
    pb.finish_and_clear();
    Ok((result.0, result.1, Said(result.2, total)))
}

/// Runs `tilus tune gemm`.
pub fn run(cmd: &TuneCommand) -> CmdResult {
    let TuneCommand::Gemm(args) = cmd;
    let (mut device, which) = open_device(args.backend.as_deref())?;
    let has_mma = device
        .info()
        .target()
        .is_some_and(|t| !t.caps().mma.is_empty());
    let p = problem(args, has_mma)?;
    let Some(target) = device.info().target() else {
        return Err(CliError(format!(
            "the {} device runs tile programs directly: nothing to tune",
            device.info().backend
        )));
    };
    let mut out = String::new();
    let _ = writeln!(out, "{which}");
    let space = search_space(p.plan.weights(), (args.m, args.n, args.k), &target.caps());
    let _ = writeln!(
        out,
        "a16wx m={} (bucket {}) n={} k={}: {} candidates",
        args.m,
        m_bucket(args.m),
        args.n,
        args.k,
        space.len()
    );
    let (_, _, said) =
        choose_plan_with_progress(device.as_mut(), p.plan, &p.q, &p.a, args.m, true)?;
    if let TuneSource::Tuned(r) = &said.0 {
        for (i, (plan, us)) in r.iter().enumerate().take(10) {
            let _ = writeln!(out, "#{i:<3} {us:>10.1} us  {}", plan.describe());
        }
    }
    let _ = writeln!(out, "{said}");
    Ok(out)
}
