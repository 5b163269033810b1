//! `tilus check`, `tilus fmt`, `tilus run`: programs in the `.tilus` text format.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use tilus_ir::interp::{self, args as kargs, RunOptions};
use tilus_ir::program::Program;
use tilus_ir::text::parse_program;
use tilus_ir::verify::{verify, VerifiedProgram};

use super::{CliError, CmdResult};

/// Arguments of `tilus check` and `tilus fmt`.
#[derive(Args, Debug)]
pub struct FileArgs {
    /// A `.tilus` file.
    file: PathBuf,
}

/// Arguments of `tilus run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// A `.tilus` file.
    file: PathBuf,
    /// The kernel to run (default: the first).
    #[arg(long)]
    kernel: Option<String>,
    /// Kernel arguments: `n=1000` for scalars; for pointers `a=random[1024]`, `a=zeros[1024]`,
    /// `a=range[1024]`, `a=ones[8]` or a list `a=[1, 2.5, -3]`. Unset pointers are an error.
    #[arg(long = "arg", value_name = "NAME=VALUE", allow_hyphen_values = true)]
    args: Vec<String>,
    /// Seed for `random[...]` buffers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Launch this grid instead of the kernel's: `X`, `X,Y` or `X,Y,Z` blocks (e.g. `--grid 1`
    /// to run only block 0).
    #[arg(long, value_delimiter = ',', num_args = 1..=3)]
    grid: Option<Vec<u32>>,
    /// Run blocks in reverse order (checks that split-K semaphores order the work).
    #[arg(long)]
    reverse: bool,
    /// The most statements the interpreter executes (over all blocks) before it stops the
    /// run with an error: endless loops and absurd grids end, they do not hang.
    #[arg(long, default_value_t = 5_000_000)]
    max_steps: u64,
}

/// The largest program file read (64 MiB): `/dev/zero` or a huge file is refused, not read
/// until memory runs out.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Reads a text file of at most [`MAX_INPUT_BYTES`].
fn read_capped(path: &PathBuf) -> Result<String, CliError> {
    use std::io::Read;
    let fail = |e: std::io::Error| CliError(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(CliError(format!(
            "{} is larger than {} MiB, the most a program file may be",
            path.display(),
            MAX_INPUT_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| CliError(format!("{} is not UTF-8 text", path.display())))
}

/// Reads and parses a file; errors are rendered with carets.
fn parse_file(path: &PathBuf) -> Result<(String, Program), CliError> {
    let src = read_capped(path)?;
    let program = parse_program(&src).map_err(|e| {
        // The rendering starts with its own `error: `; the path goes after it.
        let text = e.render();
        let body = text.strip_prefix("error: ").unwrap_or(&text);
        CliError(format!("error: {}: {body}", path.display()))
    })?;
    Ok((src, program))
}

/// Reads, parses and verifies a file; errors are rendered with carets.
pub fn load(path: &PathBuf) -> Result<VerifiedProgram, CliError> {
    let (src, program) = parse_file(path)?;
    let verified = verify(program).map_err(|errs| {
        let mut msg = String::new();
        for e in &errs.0 {
            let _ = writeln!(msg, "error: {}: {e}", path.display());
            if let Some(loc) = e.loc {
                if let Some(line) = src.lines().nth(loc.line.saturating_sub(1) as usize) {
                    let _ = writeln!(msg, "  {line}");
                    let pad = " ".repeat(loc.column.saturating_sub(1) as usize);
                    let _ = writeln!(msg, "  {pad}^");
                }
            }
        }
        CliError(msg.trim_end().to_string())
    })?;
    Ok(verified)
}

/// `tilus check FILE`.
pub fn check(args: &FileArgs) -> CmdResult {
    let verified = load(&args.file)?;
    let names: Vec<&str> = verified
        .program()
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    // At most 16 names: a file of thousands of kernels gives one short line.
    let mut list = names
        .iter()
        .take(16)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 16 {
        list.push_str(&format!(", … and {} more", names.len() - 16));
    }
    Ok(format!(
        "ok: {} ({} kernel{}: {list})\n",
        args.file.display(),
        names.len(),
        if names.len() == 1 { "" } else { "s" },
    ))
}

/// `tilus fmt FILE`: the canonical text.
pub fn fmt(args: &FileArgs) -> CmdResult {
    let (_, program) = parse_file(&args.file)?;
    // The printer walks expressions recursively: refuse what is nested too deep first.
    tilus_ir::verify::check_structure(&program)
        .map_err(|e| CliError(format!("{}: {e}", args.file.display())))?;
    Ok(program.to_string())
}

/// `tilus run FILE --arg …`.
pub fn run(args: &RunArgs) -> CmdResult {
    let verified = load(&args.file)?;
    let f = match &args.kernel {
        Some(name) => verified
            .program()
            .function(name)
            .ok_or_else(|| CliError(format!("no kernel `{name}` in {}", args.file.display())))?,
        None => verified
            .program()
            .functions
            .first()
            .ok_or_else(|| CliError(format!("{} has no kernel", args.file.display())))?,
    };
    let mut run_args =
        kargs::parse_args(f, &args.args, args.seed).map_err(|e| CliError(e.to_string()))?;
    let mut opts = RunOptions {
        max_steps: args.max_steps,
        ..RunOptions::default()
    };
    if args.reverse {
        opts.block_order = interp::BlockOrder::Reverse;
    }
    if let Some(g) = &args.grid {
        if g.is_empty() || g.len() > 3 {
            return Err(CliError(format!(
                "--grid takes 1 to 3 extents (x[,y[,z]]), got {}",
                g.len()
            )));
        }
        let blocks: u128 = g.iter().map(|&x| u128::from(x)).product();
        if blocks == 0 || blocks > 1 << 31 {
            return Err(CliError(format!(
                "--grid {g:?} is {blocks} blocks; the interpreter runs 1 to 2^31"
            )));
        }
        let mut grid = [1u32; 3];
        grid[..g.len()].copy_from_slice(g);
        opts.grid = Some(grid);
    }
    let start = std::time::Instant::now();
    let report = interp::run(&verified, &f.name, &mut run_args, &opts).map_err(|e| {
        let text = e.to_string();
        if text.contains("max_steps") {
            CliError(format!("{text} (raise the budget with --max-steps)"))
        } else {
            CliError(text)
        }
    })?;
    let elapsed = start.elapsed();
    let mut out = String::new();
    for p in &report.prints {
        let _ = writeln!(out, "{p}");
    }
    let _ = writeln!(
        out,
        "ran `{}`: {} blocks, {} instructions, {:.3} ms",
        f.name,
        report.blocks,
        report.instructions,
        elapsed.as_secs_f64() * 1e3
    );
    out.push_str(&kargs::summarize_buffers(f, &run_args));
    Ok(out)
}
