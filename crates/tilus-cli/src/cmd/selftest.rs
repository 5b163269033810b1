//! `tilus selftest`: every library kernel (the corpus of `tilus_kernels::selftest`) on one
//! backend against the tile interpreter, as a table; fails when any case fails.

use std::fmt::Write as _;

use clap::Args;
use tilus_kernels::selftest::{cases, check_case, DOT_TOLERANCE};

use super::gemm::open_device;
use super::{CliError, CmdResult};

/// Arguments of `tilus selftest`.
#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// Where to run: `cuda`, `wgpu`, `cpu`, `ptx-interp` or `interp` (default: the best available).
    #[arg(long)]
    backend: Option<String>,
    /// Run only the cases whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
}

/// Runs `tilus selftest`.
pub fn selftest(args: &SelftestArgs) -> CmdResult {
    let (mut device, which) = open_device(args.backend.as_deref())?;
    let mut out = String::new();
    let _ = writeln!(out, "{which}");
    let _ = writeln!(
        out,
        "{:<44} {:>6} {:>11} {:>10}  result",
        "kernel", "exact", "max rel", "ms"
    );
    let (mut passed, mut failed) = (0, 0);
    for case in cases().map_err(|e| CliError(e.to_string()))? {
        if args
            .filter
            .as_ref()
            .is_some_and(|f| !case.name.contains(f.as_str()))
        {
            continue;
        }
        let r = check_case(device.as_mut(), &case).map_err(|e| CliError(e.to_string()))?;
        let verdict = match (&r.error, r.passed) {
            (Some(e), _) => format!("ERROR {}", e.lines().next().unwrap_or("")),
            (None, true) => "ok".to_string(),
            (None, false) => "FAIL".to_string(),
        };
        if r.passed {
            passed += 1;
        } else {
            failed += 1;
        }
        let _ = writeln!(
            out,
            "{:<44} {:>6} {:>11.3e} {:>10.1}  {verdict}",
            r.name,
            if r.exact { "yes" } else { "no" },
            r.max_rel,
            r.millis
        );
    }
    let _ = writeln!(
        out,
        "{passed} passed, {failed} failed (exact, or within {DOT_TOLERANCE:.2e} of the largest \
         output for kernels with dot)"
    );
    if failed > 0 {
        return Err(CliError(format!(
            "{out}error: {failed} self-test cases failed"
        )));
    }
    Ok(out)
}
