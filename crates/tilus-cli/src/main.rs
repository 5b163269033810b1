//! The `tilus` command: a thin front end over the tilus-rs libraries.
//!
//! Each subcommand parses its arguments, calls one library function and prints the result.
//! Every error is printed as `error: …` on stderr with a non-zero exit status; nothing here
//! panics on bad input.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tilus: arbitrary low-precision GPU computation (dtypes, layouts, kernels).
#[derive(Parser, Debug)]
#[command(name = "tilus", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every supported data type with its width and aliases.
    Dtypes,
    /// Describe one data type: header lines, then one row per code for types of ≤ 8 bits.
    Dtype(cmd::dtype::DtypeArgs),
    /// Pack values of a type into the little-endian bit stream; prints bytes in hex.
    Pack(cmd::dtype::PackArgs),
    /// Unpack COUNT values of a type from hex bytes.
    Unpack(cmd::dtype::UnpackArgs),
    /// Draw a register layout (or a shared layout with --shared) as a grid, table or SVG.
    Layout(cmd::layout::LayoutArgs),
    /// Parse and verify a `.tilus` file; errors are shown with carets.
    Check(cmd::program::FileArgs),
    /// Print a `.tilus` file in canonical form.
    Fmt(cmd::program::FileArgs),
    /// Run a kernel of a `.tilus` file on the tile interpreter and summarize its buffers.
    Run(cmd::program::RunArgs),
    /// Quantize random weights, run the a16wX GEMM and compare with an f64 reference.
    Gemm(cmd::gemm::GemmArgs),
    /// Compile a `.tilus` file and print its layouts, thread IR or WGSL.
    Compile(cmd::compile::CompileArgs),
    /// Run one GPTQ or AWQ layer of a safetensors checkpoint on a .npy input.
    Linear(cmd::linear::LinearArgs),
    /// Autotuning (`tilus tune gemm`).
    #[command(subcommand)]
    Tune(cmd::tune::TuneCommand),
    /// The compile cache (`tilus cache ls`, `tilus cache clear`).
    #[command(subcommand)]
    Cache(cmd::cache::CacheCommand),
    /// Run every library kernel on a backend against the tile interpreter.
    Selftest(cmd::selftest::SelftestArgs),
    /// Benchmarks (`tilus bench gemm`).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dtypes => cmd::dtype::list(),
        Command::Dtype(args) => cmd::dtype::describe(&args),
        Command::Pack(args) => cmd::dtype::pack(&args),
        Command::Unpack(args) => cmd::dtype::unpack(&args),
        Command::Layout(args) => cmd::layout::run(&args),
        Command::Check(args) => cmd::program::check(&args),
        Command::Fmt(args) => cmd::program::fmt(&args),
        Command::Run(args) => cmd::program::run(&args),
        Command::Gemm(args) => cmd::gemm::gemm(&args),
        Command::Compile(args) => cmd::compile::compile(&args),
        Command::Selftest(args) => cmd::selftest::selftest(&args),
        Command::Cache(c) => cmd::cache::cache(&c),
        Command::Tune(c) => cmd::tune::run(&c),
        Command::Linear(args) => cmd::linear::linear(&args),
        Command::Bench(cmd::bench::BenchCommand::Gemm(args)) => cmd::bench::gemm(&args),
    };
    match result {
        Ok(text) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                // The reader went away (`| head`): stop quietly, like other tools.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: writing the output: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
