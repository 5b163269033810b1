//! The library's self-test: every kernel of the library (vector add, GEMM, the packers and
//! the a16wX GEMM for every weight type, tensor-core and SIMT) on small random inputs, run
//! on a [`Device`] and compared with the tile interpreter, the semantic oracle.
//!
//! Kernels without `dot` must match bit for bit, except that a NaN may carry another
//! payload (GPUs return the canonical NaN from arithmetic; the interpreter propagates the
//! operand's). Kernels with `dot` are compared by the
//! `dot` bound: the largest difference from the interpreter, relative to the largest
//! output, must be at most [`DOT_TOLERANCE`] (a tensor core may sum in another order);
//! the report says whether they matched exactly too — the CPU interpreters of the thread
//! IR and of PTX follow the interpreter's order and are exact.
//!
//! `tilus selftest --backend …` prints the table; the tests run it on the PTX interpreter.

use std::sync::Arc;
use std::time::Instant;

use tilus_ir::dtype::DType;
use tilus_ir::interp::{self, Arg, HostBuffer, RunOptions};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_runtime::{Device, Kernel, LaunchArg};

use crate::config::{weight_types, A16WxConfig, GemmConfig, GroupSize, QuantMode};
use crate::error::{KernelError, Result};
use crate::pack::{pack_program, unpack_program};
use crate::packed::PackedFormat;
use crate::quant::quantize;
use crate::run::pack_weights;
use crate::simt::{a16wx_simt, pack_simt_host, SimtConfig};
use crate::{a16wx, gemm, vector_add};

/// Largest allowed difference of a `dot` kernel from the interpreter, relative to the
/// largest output magnitude (a few `f16` ulps).
pub const DOT_TOLERANCE: f64 = 1.0 / 256.0;

/// One kernel and its inputs.
#[derive(Clone, Debug)]
pub struct Case {
    /// A readable name (`a16wx f16 x u4 (mma)`).
    pub name: String,
    /// The kernel.
    pub function: Function,
    /// Its arguments (buffers are inputs; outputs start zeroed).
    pub args: Vec<Arg>,
    /// Whether the kernel uses `dot` (compared by the bound, not bit for bit).
    pub dot: bool,
}

/// The result of one case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseReport {
    /// The case's name.
    pub name: String,
    /// Every output bit-identical to the interpreter.
    pub exact: bool,
    /// Largest difference relative to the largest output (0 when exact).
    pub max_rel: f64,
    /// Exact, or (for `dot` kernels) within [`DOT_TOLERANCE`].
    pub passed: bool,
    /// Wall time of the device run (compile, upload, launch, download), in ms.
    pub millis: f64,
    /// What went wrong, when the device could not run it.
    pub error: Option<String>,
}

/// A deterministic generator (xorshift), so every run tests the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform() * scale).collect()
    }

    fn codes(&mut self, d: DType, n: usize) -> Vec<u64> {
        (0..n).map(|_| self.next() & d.code_mask()).collect()
    }
}

const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};
const U32: DType = DType::Int {
    bits: 32,
    signed: false,
};

/// The arguments of an a16wX kernel (either kind) on random weights and activations:
/// `m, n, k, a, b (packed by `pack`), scales, (zeros,) c`.
fn gemm_args(
    act: DType,
    (wtype, group, mode): (DType, GroupSize, QuantMode),
    (m, n, k): (usize, usize, usize),
    rng: &mut Rng,
    pack: impl FnOnce(&crate::quant::Quantized) -> Result<HostBuffer>,
) -> Result<Vec<Arg>> {
    let w = rng.vec(n * k, 0.1);
    let a = rng.vec(m * k, 1.0);
    let q = quantize(&w, n, k, wtype, group, mode, act)?;
    let mut args = vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        Arg::Buffer(HostBuffer::from_f32(act, &a)),
        Arg::Buffer(pack(&q)?),
        Arg::Buffer(HostBuffer::from_f32(act, &q.scales)),
    ];
    if let Some(z) = &q.zeros {
        args.push(Arg::Buffer(HostBuffer::from_f32(act, z)));
    }
    args.push(Arg::Buffer(HostBuffer::zeros(act, m * n)));
    Ok(args)
}

fn a16wx_args(cfg: &A16WxConfig, shape: (usize, usize, usize), rng: &mut Rng) -> Result<Vec<Arg>> {
    gemm_args(cfg.act, (cfg.wtype, cfg.group, cfg.mode), shape, rng, |q| {
        pack_weights(q, cfg)
    })
}

fn simt_args(cfg: &SimtConfig, shape: (usize, usize, usize), rng: &mut Rng) -> Result<Vec<Arg>> {
    gemm_args(cfg.act, (cfg.wtype, cfg.group, cfg.mode), shape, rng, |q| {
        let packed = pack_simt_host(cfg.wtype, &q.codes, q.n, q.k)?;
        Ok(HostBuffer {
            dtype: U32,
            len: packed.len() / 4,
            bytes: packed,
        })
    })
}

/// Every case of the self-test.
pub fn cases() -> Result<Vec<Case>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();
    for d in [
        DType::F32,
        DType::Int {
            bits: 3,
            signed: true,
        },
        DType::MiniFloat { exp: 2, mant: 1 },
    ] {
        let len = 300;
        out.push(Case {
            name: format!("vector_add {d}"),
            function: vector_add(d, 128)?,
            args: vec![
                Arg::Int(len as i64),
                Arg::Buffer(HostBuffer::from_codes(d, &rng.codes(d, len))),
                Arg::Buffer(HostBuffer::from_codes(d, &rng.codes(d, len))),
                Arg::Buffer(HostBuffer::zeros(d, len)),
            ],
            dot: false,
        });
    }
    let small = GemmConfig {
        block_m: 16,
        block_n: 32,
        block_k: 16,
        warps: 2,
        num_stages: 2,
    };
    for d in [DType::F16, DType::F32] {
        let (m, n, k) = (20, 40, 24);
        out.push(Case {
            name: format!("gemm {d}"),
            function: gemm(d, small)?,
            args: vec![
                Arg::Int(m as i64),
                Arg::Int(n as i64),
                Arg::Int(k as i64),
                Arg::Buffer(HostBuffer::from_f32(d, &rng.vec(m * k, 1.0))),
                Arg::Buffer(HostBuffer::from_f32(d, &rng.vec(k * n, 1.0))),
                Arg::Buffer(HostBuffer::zeros(d, m * n)),
            ],
            dot: true,
        });
    }
    for (i, wtype) in weight_types().into_iter().enumerate() {
        let act = if i % 3 == 2 { DType::BF16 } else { DType::F16 };
        let mode = if wtype.is_int() && i % 2 == 1 {
            QuantMode::Asymmetric
        } else {
            QuantMode::Symmetric
        };
        let cfg = A16WxConfig::default_for(act, wtype, GroupSize::Size(32), mode);
        // The packer and its inverse.
        let (n, k) = (70, 45);
        let fmt = PackedFormat::new(&cfg)?;
        let codes = rng.codes(wtype, n * k);
        out.push(Case {
            name: format!("pack {wtype}"),
            function: pack_program(&cfg)?,
            args: vec![
                Arg::Int(n as i64),
                Arg::Int(k as i64),
                Arg::Buffer(HostBuffer::from_codes(wtype, &codes)),
                Arg::Buffer(HostBuffer::zeros(U8, fmt.packed_len(n, k))),
            ],
            dot: false,
        });
        let packed = crate::packed::pack_codes_host(&fmt, &codes, n, k)?;
        out.push(Case {
            name: format!("unpack {wtype}"),
            function: unpack_program(&cfg)?,
            args: vec![
                Arg::Int(n as i64),
                Arg::Int(k as i64),
                Arg::Buffer(HostBuffer {
                    dtype: U8,
                    len: packed.len(),
                    bytes: packed,
                }),
                Arg::Buffer(HostBuffer::zeros(wtype, n * k)),
            ],
            dot: false,
        });
        // The tensor-core GEMM.
        let shape = (5, 64, 128);
        out.push(Case {
            name: format!("a16wx {act} x {wtype} {mode:?} (mma tiles)"),
            function: a16wx(&cfg)?,
            args: a16wx_args(&cfg, shape, &mut rng)?,
            dot: true,
        });
        // The SIMT GEMM, small tiles.
        let simt = SimtConfig {
            threads_n: 16,
            threads_k: 2,
            cols_per_thread: 2,
            ..SimtConfig::default_for(act, wtype, GroupSize::Size(64), mode, 2)
        };
        out.push(Case {
            name: format!("a16wx_simt {act} x {wtype} {mode:?}"),
            function: a16wx_simt(&simt)?,
            args: simt_args(&simt, (2, 72, 128), &mut rng)?,
            dot: false,
        });
    }
    Ok(out)
}

fn device_error(e: tilus_runtime::RuntimeError) -> KernelError {
    KernelError::Device(Box::new(e))
}

/// Runs `case` on the device: the buffers after the launch, in argument order.
fn run_on(device: &mut dyn Device, case: &Case) -> Result<Vec<Vec<u8>>> {
    let name = case.function.name.clone();
    let verified = verify(Program {
        functions: vec![case.function.clone()],
    })?;
    let kernel = match device.info().target() {
        Some(target) => {
            let compiled = compile(&verified, &name, &target, &CompileOptions::default())
                .map_err(|e| KernelError::Compile(e.to_string()))?;
            Kernel::Compiled(
                compiled
                    .artifact
                    .ok_or_else(|| KernelError::Compile("the pipeline produced no code".into()))?,
            )
        }
        None => Kernel::Tile {
            program: Arc::new(verified),
            name,
        },
    };
    let mut args = Vec::with_capacity(case.args.len());
    let mut buffers = Vec::new();
    for a in &case.args {
        args.push(match a {
            Arg::Int(v) => LaunchArg::Int(*v),
            Arg::Float(v) => LaunchArg::Float(*v),
            Arg::Buffer(b) => {
                let id = device.allocate_with(&b.bytes).map_err(device_error)?;
                buffers.push(id);
                LaunchArg::Buffer(id)
            }
        });
    }
    device.launch(&kernel, &args).map_err(device_error)?;
    let mut out = Vec::with_capacity(buffers.len());
    for id in buffers {
        out.push(device.download(id).map_err(device_error)?);
        device.free(id).map_err(device_error)?;
    }
    Ok(out)
}

/// Runs one case on the device and compares it with the tile interpreter.
pub fn check_case(device: &mut dyn Device, case: &Case) -> Result<CaseReport> {
    let verified = verify(Program {
        functions: vec![case.function.clone()],
    })?;
    let mut expected = case.args.clone();
    interp::run(
        &verified,
        &case.function.name,
        &mut expected,
        &RunOptions::default(),
    )?;
    let start = Instant::now();
    let got = run_on(device, case);
    let millis = start.elapsed().as_secs_f64() * 1e3;
    let got = match got {
        Ok(g) => g,
        Err(e) => {
            return Ok(CaseReport {
                name: case.name.clone(),
                exact: false,
                max_rel: f64::INFINITY,
                passed: false,
                millis,
                error: Some(e.to_string()),
            })
        }
    };
    let mut exact = true;
    let mut nan_only = true;
    let (mut max_diff, mut max_mag) = (0f64, 0f64);
    let refs = expected.iter().filter_map(Arg::as_buffer);
    for (want, bytes) in refs.zip(&got) {
        let have = HostBuffer {
            dtype: want.dtype,
            len: want.len,
            bytes: bytes.get(..want.bytes.len()).unwrap_or(bytes).to_vec(),
        };
        if have.bytes != want.bytes {
            exact = false;
            let float = want.dtype.is_float();
            nan_only &= float
                && want
                    .to_f64()
                    .iter()
                    .zip(have.to_f64())
                    .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
        }
        if case.dot {
            for (x, y) in want.to_f64().iter().zip(have.to_f64()) {
                max_mag = max_mag.max(x.abs());
                let d = (x - y).abs();
                max_diff = max_diff.max(if d.is_nan() { f64::INFINITY } else { d });
            }
        }
    }
    let max_rel = if exact || nan_only && !case.dot {
        0.0
    } else if case.dot {
        max_diff / max_mag.max(f64::MIN_POSITIVE)
    } else {
        f64::INFINITY
    };
    Ok(CaseReport {
        name: case.name.clone(),
        exact,
        max_rel,
        passed: exact || nan_only || (case.dot && max_rel <= DOT_TOLERANCE),
        millis,
        error: None,
    })
}
