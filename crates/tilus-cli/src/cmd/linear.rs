//! `tilus linear`: one GPTQ or AWQ layer of a safetensors checkpoint, repacked into our
//! format, run on an input `.npy` (`[M, K]`), the output written as `.npy` (`[M, N]` f32).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tilus_kernels::checkpoint::{load_layer, Format};
use tilus_kernels::QuantizedLinear;

use super::gemm::open_device;
use super::npy::{read_matrix, write_f32};
use super::{CliError, CmdResult};

/// The checkpoint format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// GPTQ (qweight packed along K, qzeros storing z − 1, optional g_idx).
    Gptq,
    /// AWQ (qweight packed along N, interleaved, true zero points).
    Awq,
}

/// Arguments of `tilus linear`.
#[derive(Args, Debug)]
pub struct LinearArgs {
    /// The safetensors file.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The layer's tensor prefix (`model.layers.0.mlp.up_proj`).
    #[arg(long)]
    layer: String,
    /// The quantization format.
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The input `[M, K]` (`.npy`, f32, f64 or f16).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the output `[M, N]` (`.npy`, f32).
    #[arg(long)]
    output: PathBuf,
    /// `cuda`, `wgpu`, `cpu`, `ptx-interp` or `interp` (default: the best available).
    #[arg(long)]
    backend: Option<String>,
}

/// Runs `tilus linear`.
pub fn linear(args: &LinearArgs) -> CmdResult {
    let format = match args.format {
        FormatArg::Gptq => Format::Gptq,
        FormatArg::Awq => Format::Awq,
    };
    let layer = load_layer(&args.checkpoint, &args.layer, format)?;
    let (m, k, x) = read_matrix(&args.input)?;
    if k != layer.q.k {
        return Err(CliError(format!(
            "{}: the input has {k} columns, the layer {} input features (expected [M, {}])",
            args.input.display(),
            layer.q.k,
            layer.q.k
        )));
    }
    let (device, which) = open_device(args.backend.as_deref())?;
    let x = layer.permute_input(&x, m);
    let (n, bits, act_order) = (layer.q.n, layer.bits, layer.perm.is_some());
    let group = layer.q.group;
    let lin = QuantizedLinear::from_quantized(device, layer.q);
    let y = lin.forward(&x, m)?;
    write_f32(&args.output, &[m, n], &y)?;
    let mut out = String::new();
    let _ = writeln!(out, "{which}");
    let _ = writeln!(
        out,
        "{:?} layer `{}`: {bits}-bit, K={k} N={n}, group {group:?}{}; input [{m}, {k}] -> output [{m}, {n}] written to {}",
        format,
        args.layer,
        if act_order { ", act order (input columns permuted)" } else { "" },
        args.output.display()
    );
    Ok(out)
}
