//! Host runners: build, verify and run the kernels on the tile interpreter
//! ([`tilus_ir::interp`]), with host buffers in and decoded values out.

use tilus_ir::dtype::DType;
use tilus_ir::interp::{self, Arg, HostBuffer, RunOptions};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::{verify, VerifiedProgram};

use crate::a16wx::a16wx;
use crate::config::{A16WxConfig, GemmConfig, GroupSize, QuantMode};
use crate::error::{KernelError, Result};
use crate::gemm::gemm;
use crate::pack::{pack_program, unpack_program};
use crate::packed::PackedFormat;
use crate::quant::Quantized;
use crate::simt::{a16wx_simt, pack_simt_host, SimtConfig};
use crate::vector_add::vector_add;

const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};

/// Verifies a single kernel and returns the program with its name.
fn verified(f: Function) -> Result<(VerifiedProgram, String)> {
    let name = f.name.clone();
    Ok((verify(Program { functions: vec![f] })?, name))
}

/// A problem size as a kernel `i32` argument.
fn size_arg(what: &'static str, v: usize) -> Result<Arg> {
    if v == 0 {
        return Err(KernelError::InvalidSize {
            what,
            value: v,
            reason: "must be positive",
        });
    }
    i32::try_from(v)
        .map(|x| Arg::Int(i64::from(x)))
        .map_err(|_| KernelError::InvalidSize {
            what,
            value: v,
            reason: "must fit the kernel's i32 parameters",
        })
}

fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(KernelError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Takes the buffer argument `i` back out of `args`.
fn take_buffer(args: &mut [Arg], i: usize) -> Result<HostBuffer> {
    match args.get_mut(i) {
        Some(Arg::Buffer(b)) => Ok(std::mem::replace(b, HostBuffer::zeros(U8, 0))),
        _ => Err(KernelError::Mismatch(format!(
            "internal: argument {i} is not a buffer"
        ))),
    }
}

/// What a kernel configuration says about its weights: `(act, wtype, group, mode)`.
type WeightSpec = (DType, DType, GroupSize, QuantMode);

fn check_quantized(q: &Quantized, cfg: &A16WxConfig) -> Result<()> {
    check_weights(q, (cfg.act, cfg.wtype, cfg.group, cfg.mode))
}

/// Checks that `q` was quantized for a kernel with these weights.
pub(crate) fn check_weights(q: &Quantized, spec: WeightSpec) -> Result<()> {
    let (act, wtype, group, mode) = spec;
    let mut diffs = Vec::new();
    if q.wtype != wtype {
        diffs.push(format!("weight type {} vs {}", q.wtype, wtype));
    }
    if q.act != act {
        diffs.push(format!("activation dtype {} vs {}", q.act, act));
    }
    if q.mode != mode {
        diffs.push(format!("mode {:?} vs {:?}", q.mode, mode));
    }
    if q.group != group {
        diffs.push(format!("group {:?} vs {:?}", q.group, group));
    }
    if q.codes.len() != q.n * q.k || q.scales.len() != q.num_groups() * q.n {
        diffs.push("codes or scales have the wrong length".into());
    }
    if (q.mode == QuantMode::Asymmetric) != q.zeros.is_some() {
        diffs.push("zero points present iff asymmetric".into());
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(KernelError::Mismatch(diffs.join("; ")))
    }
}

/// Packs `q`'s codes for `cfg` by running the packing program on the interpreter; the
/// result is the `u8 [ceil(K/BK), ceil(N/BN), tile_bytes]` buffer the GEMM reads.
pub fn pack_weights(q: &Quantized, cfg: &A16WxConfig) -> Result<HostBuffer> {
    if q.wtype != cfg.wtype {
        return Err(KernelError::Mismatch(format!(
            "weight type {} vs {}",
            q.wtype, cfg.wtype
        )));
    }
    let (n_arg, k_arg) = (size_arg("n", q.n)?, size_arg("k", q.k)?);
    check_len("codes", q.codes.len(), q.n * q.k)?;
    let fmt = PackedFormat::new(cfg)?;
    let (prog, name) = verified(pack_program(cfg)?)?;
    let mut args = vec![
        n_arg,
        k_arg,
        Arg::Buffer(HostBuffer::from_codes(q.wtype, &q.codes)),
        Arg::Buffer(HostBuffer::zeros(U8, fmt.packed_len(q.n, q.k))),
    ];
    interp::run(&prog, &name, &mut args, &RunOptions::default())?;
    take_buffer(&mut args, 3)
}

/// The inverse of [`pack_weights`]: `[n, k]` row-major codes of `cfg.wtype`, computed by
/// the unpacking program on the interpreter.
pub fn unpack_weights(
    packed: &HostBuffer,
    n: usize,
    k: usize,
    cfg: &A16WxConfig,
) -> Result<Vec<u64>> {
    let (n_arg, k_arg) = (size_arg("n", n)?, size_arg("k", k)?);
    let fmt = PackedFormat::new(cfg)?;
    check_len("packed weights", packed.len, fmt.packed_len(n, k))?;
    if packed.dtype != U8 {
        return Err(KernelError::Mismatch(format!(
            "packed weights must be a u8 buffer, got {}",
            packed.dtype
        )));
    }
    let (prog, name) = verified(unpack_program(cfg)?)?;
    let mut args = vec![
        n_arg,
        k_arg,
        Arg::Buffer(packed.clone()),
        Arg::Buffer(HostBuffer::zeros(cfg.wtype, n * k)),
    ];
    interp::run(&prog, &name, &mut args, &RunOptions::default())?;
    Ok(take_buffer(&mut args, 3)?.codes())
}

/// Runs the a16wX GEMM on the interpreter: packs `q`, rounds `activations` (`[m, k]`
/// row-major) to `cfg.act`, launches, and returns `C` (`[m, n]` row-major) as decoded
/// values. `q` must have been made for `cfg` (same weight type, activation dtype, mode and
/// group size).
pub fn run_a16wx_interp(
    m: usize,
    n: usize,
    k: usize,
    activations: &[f32],
    q: &Quantized,
    cfg: &A16WxConfig,
    opts: &RunOptions,
) -> Result<Vec<f32>> {
    let sizes = [size_arg("m", m)?, size_arg("n", n)?, size_arg("k", k)?];
    check_quantized(q, cfg)?;
    if (q.n, q.k) != (n, k) {
        return Err(KernelError::Mismatch(format!(
            "weights are [{}, {}], the problem needs [{n}, {k}]",
            q.n, q.k
        )));
    }
    check_len("activations", activations.len(), m * k)?;
    let packed = pack_weights(q, cfg)?;
    let (prog, name) = verified(a16wx(cfg)?)?;
    let act = cfg.act;
    let mut args = sizes.to_vec();
    args.extend([
        Arg::Buffer(HostBuffer::from_f32(act, activations)),
        Arg::Buffer(packed),
        Arg::Buffer(HostBuffer::from_f32(act, &q.scales)),
    ]);
    if let Some(z) = &q.zeros {
        args.push(Arg::Buffer(HostBuffer::from_f32(act, z)));
    }
    args.push(Arg::Buffer(HostBuffer::zeros(act, m * n)));
    let c = args.len() - 1;
    interp::run(&prog, &name, &mut args, opts)?;
    Ok(take_buffer(&mut args, c)?.to_f32())
}

/// Runs the SIMT a16wX GEMM ([`crate::simt`]) on the interpreter: packs `q` with
/// [`pack_simt_host`] and returns `C [m, n]` as decoded values.
pub fn run_simt_interp(
    m: usize,
    n: usize,
    k: usize,
    activations: &[f32],
    q: &Quantized,
    cfg: &SimtConfig,
    opts: &RunOptions,
) -> Result<Vec<f32>> {
    let sizes = [size_arg("m", m)?, size_arg("n", n)?, size_arg("k", k)?];
    check_weights(q, (cfg.act, cfg.wtype, cfg.group, cfg.mode))?;
    if (q.n, q.k) != (n, k) {
        return Err(KernelError::Mismatch(format!(
            "weights are [{}, {}], the problem needs [{n}, {k}]",
            q.n, q.k
        )));
    }
    check_len("activations", activations.len(), m * k)?;
    let packed = pack_simt_host(cfg.wtype, &q.codes, n, k)?;
    let (prog, name) = verified(a16wx_simt(cfg)?)?;
    let act = cfg.act;
    let words = DType::Int {
        bits: 32,
        signed: false,
    };
    let mut args = sizes.to_vec();
    args.extend([
        Arg::Buffer(HostBuffer::from_f32(act, activations)),
        Arg::Buffer(HostBuffer {
            dtype: words,
            len: packed.len() / 4,
            bytes: packed,
        }),
        Arg::Buffer(HostBuffer::from_f32(act, &q.scales)),
    ]);
    if let Some(z) = &q.zeros {
        args.push(Arg::Buffer(HostBuffer::from_f32(act, z)));
    }
    args.push(Arg::Buffer(HostBuffer::zeros(act, m * n)));
    let c = args.len() - 1;
    interp::run(&prog, &name, &mut args, opts)?;
    Ok(take_buffer(&mut args, c)?.to_f32())
}

/// Runs [`gemm()`] on the interpreter: `a [m, k]` and `b [k, n]` row-major are rounded to
/// `dtype`; returns `C [m, n]` as decoded values.
#[allow(clippy::too_many_arguments)]
pub fn run_gemm_interp(
    dtype: DType,
    cfg: GemmConfig,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    opts: &RunOptions,
) -> Result<Vec<f32>> {
    let sizes = [size_arg("m", m)?, size_arg("n", n)?, size_arg("k", k)?];
    check_len("a", a.len(), m * k)?;
    check_len("b", b.len(), k * n)?;
    let (prog, name) = verified(gemm(dtype, cfg)?)?;
    let mut args = sizes.to_vec();
    args.extend([
        Arg::Buffer(HostBuffer::from_f32(dtype, a)),
        Arg::Buffer(HostBuffer::from_f32(dtype, b)),
        Arg::Buffer(HostBuffer::zeros(dtype, m * n)),
    ]);
    interp::run(&prog, &name, &mut args, opts)?;
    Ok(take_buffer(&mut args, 5)?.to_f32())
}

/// Runs [`vector_add()`] on the interpreter on two code vectors of `dtype`; returns the
/// codes of the sum.
pub fn run_vector_add_interp(
    dtype: DType,
    block: usize,
    a: &[u64],
    b: &[u64],
    opts: &RunOptions,
) -> Result<Vec<u64>> {
    let n_arg = size_arg("n", a.len())?;
    check_len("b", b.len(), a.len())?;
    let (prog, name) = verified(vector_add(dtype, block)?)?;
    let mut args = vec![
        n_arg,
        Arg::Buffer(HostBuffer::from_codes(dtype, a)),
        Arg::Buffer(HostBuffer::from_codes(dtype, b)),
        Arg::Buffer(HostBuffer::zeros(dtype, a.len())),
    ];
    interp::run(&prog, &name, &mut args, opts)?;
    Ok(take_buffer(&mut args, 3)?.codes())
}
