//! `tilus layout`: draw register and shared layouts.

use clap::Args;
use tilus_ir::layout::{render, shared, text};

use super::{CliError, CmdResult};

/// Arguments of `tilus layout`.
#[derive(Args, Debug)]
pub struct LayoutArgs {
    /// A register layout expression, e.g. "local(2,1).spatial(4,8)" (docs/layouts.md).
    #[arg(required_unless_present = "shared", conflicts_with = "shared")]
    expr: Option<String>,
    /// Print one line per (thread, slot) pair instead of the grid: `<thread> <slot> <i0> <i1> …`.
    #[arg(long, conflicts_with = "shared")]
    table: bool,
    /// Also write the grid as an SVG picture (cells coloured by thread) to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "shared")]
    svg: Option<std::path::PathBuf>,
    /// A shared-memory layout expression, e.g. "row_major(8,64).swizzle(3,3,3)": prints offsets.
    #[arg(long, value_name = "EXPR")]
    shared: Option<String>,
}

/// Runs `tilus layout`.
pub fn run(args: &LayoutArgs) -> CmdResult {
    if let Some(src) = &args.shared {
        let layout = shared::parse_shared_layout(src).map_err(|e| CliError(e.render()))?;
        return Ok(format!(
            "{}{}",
            render::shared_grid(&layout),
            render::shared_summary(&layout)
        ));
    }
    let src = args.expr.as_deref().unwrap_or_default();
    let layout = text::parse_layout(src).map_err(|e| CliError(e.render()))?;
    if let Some(path) = &args.svg {
        std::fs::write(path, render::svg(&layout))
            .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))?;
        // A note on stderr, so that stdout stays the grid or the table.
        eprintln!("wrote {}", path.display());
    }
    if args.table {
        return Ok(render::table(&layout));
    }
    Ok(format!(
        "{}{}",
        render::grid(&layout),
        render::summary(&layout)
    ))
}
