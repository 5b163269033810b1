//! End to end on a real WebGPU adapter (lavapipe in CI): the library kernels go through the
//! whole pipeline ([`compile_wgsl`], with the adapter's caps), run through
//! `tilus-runtime`'s wgpu device, and are compared with the tile interpreter (the reference
//! semantics) on the same inputs:
//!
//! - kernels without `dot` (vector add, casts, the weight-packing programs) bit for bit;
//! - `dot` kernels (gemm, a16wX) within [`host::error_bound`] / [`host::gemm_error_bound`]
//!   relative to `Σ|a|·|w|` (as [`host::error_stats`] measures it): the device's f32
//!   accumulation may round differently (WGSL's `fma` need not be fused, and lavapipe's is
//!   not), which can also flip the final rounding to the output dtype by one ulp.
//!
//! Each case prints its compile / device / interpreter times and, for `dot` kernels, the
//! largest difference in output ulps and relative to `Σ|a|·|w|`.
//!
//! When no adapter exists the tests print why and pass, unless `TILUS_REQUIRE_WGPU` is set
//! (CI sets it), in which case they fail.

mod e2e_support;
mod wgsl_support;

use e2e_support::{device, floats, run_case, Case};
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::interp::{Arg, HostBuffer};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::config::weight_types;
use tilus_kernels::pack::{pack_program, unpack_program};
use tilus_kernels::packed::PackedFormat;
use tilus_kernels::simt::{a16wx_simt, pack_simt_host, SimtConfig};
use tilus_kernels::{
    a16wx, dequantize, gemm, host, pack_weights, quantize, vector_add, A16WxConfig, GemmConfig,
    GroupSize, QuantMode,
};
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::Target;
use wgsl_support::Rng;

const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};

fn int(bits: u8, signed: bool) -> DType {
    DType::Int { bits, signed }
}

#[test]
fn vector_add_is_bit_exact() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(101);
    let len = 1000; // 8 blocks of 128, the last one partial
    for d in [
        DType::F32,
        int(32, true),
        int(1, false),
        int(2, true),
        int(3, true),
        int(4, false),
        int(6, false),
        int(8, true),
        DType::F16,
        DType::BF16,
        DType::F8E4M3FN,
        DType::F8E5M2,
        DType::MiniFloat { exp: 3, mant: 2 },
        DType::MiniFloat { exp: 2, mant: 1 },
    ] {
        let args = [
            Arg::Int(len as i64),
            Arg::Buffer(HostBuffer::from_codes(d, &rng.codes(d, len))),
            Arg::Buffer(HostBuffer::from_codes(d, &rng.codes(d, len))),
            Arg::Buffer(HostBuffer::zeros(d, len)),
        ];
        let f = vector_add(d, 128).expect("builds");
        run_case(&mut dev, &format!("vector_add<{d}> n={len}"), f, &args).assert_exact();
    }
}

/// `cast_<from>_<to>(n, x: *from, y: *to)`: `y = cast(x)`, 128 elements per block.
fn cast_kernel(from: DType, to: DType) -> Function {
    let kb = KernelBuilder::new(&format!("cast_{from}_{to}"), 4);
    let n = kb.scalar_param("n", ScalarType::I32);
    let x = kb.pointer_param("x", from);
    let y = kb.pointer_param("y", to);
    kb.grid(&[n.cdiv(128)]);
    let gx = kb.global_view(x, &[n]);
    let gy = kb.global_view(y, &[n]);
    let offset = kb.block_idx(Axis::X) * 128;
    let t = kb.load_global(&gx, &[offset], &[128]);
    let c = kb.cast(&t, to);
    kb.store_global(&gy, &c, &[offset]);
    kb.finish().expect("builds")
}

#[test]
fn casts_are_bit_exact() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(102);
    let len = 777;
    for (from, to) in [
        (DType::F32, DType::F16),
        (DType::F32, DType::BF16),
        (DType::F32, DType::F8E4M3FN),
        (DType::F16, DType::MiniFloat { exp: 2, mant: 1 }),
        (DType::MiniFloat { exp: 3, mant: 2 }, DType::BF16),
        (int(4, false), DType::F16),
        (int(3, true), DType::F32),
        (int(8, true), int(4, false)),
        (DType::F16, int(8, true)),
    ] {
        let args = [
            Arg::Int(len as i64),
            Arg::Buffer(HostBuffer::from_codes(from, &rng.codes(from, len))),
            Arg::Buffer(HostBuffer::zeros(to, len)),
        ];
        let label = format!("cast<{from} -> {to}> n={len}");
        run_case(&mut dev, &label, cast_kernel(from, to), &args).assert_exact();
    }
}

/// The packing program of every weight type (and `f16`), then the unpacking program of a
/// few, on a ragged `[N, K]`.
#[test]
fn weight_packing_is_bit_exact() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(103);
    let (n, k) = (200, 200);
    let mut types = weight_types();
    types.push(DType::F16);
    for &w in &types {
        let cfg =
            A16WxConfig::default_for(DType::F16, w, GroupSize::Size(128), QuantMode::Symmetric);
        let fmt = PackedFormat::new(&cfg).expect("format");
        let args = [
            Arg::Int(n as i64),
            Arg::Int(k as i64),
            Arg::Buffer(HostBuffer::from_codes(w, &rng.codes(w, n * k))),
            Arg::Buffer(HostBuffer::zeros(U8, fmt.packed_len(n, k))),
        ];
        let f = pack_program(&cfg).expect("builds");
        run_case(&mut dev, &format!("pack<{w}> {n}x{k}"), f, &args).assert_exact();
    }
    for w in [
        int(3, true),
        int(4, false),
        DType::MiniFloat { exp: 3, mant: 2 },
    ] {
        let cfg =
            A16WxConfig::default_for(DType::F16, w, GroupSize::Size(128), QuantMode::Symmetric);
        let fmt = PackedFormat::new(&cfg).expect("format");
        let args = [
            Arg::Int(n as i64),
            Arg::Int(k as i64),
            Arg::Buffer(HostBuffer::from_codes(
                U8,
                &rng.codes(U8, fmt.packed_len(n, k)),
            )),
            Arg::Buffer(HostBuffer::zeros(w, n * k)),
        ];
        let f = unpack_program(&cfg).expect("builds");
        run_case(&mut dev, &format!("unpack<{w}> {n}x{k}"), f, &args).assert_exact();
    }
}

#[test]
fn gemm_matches_the_interpreter() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(104);
    let (m, n, k) = (33, 200, 200);
    let mut worst = (0.0f64, 0u64);
    for d in [DType::F16, DType::BF16, DType::F32] {
        let a = floats(&mut rng, m * k, 1.0);
        let b = floats(&mut rng, k * n, 1.0);
        let args = [
            Arg::Int(m as i64),
            Arg::Int(n as i64),
            Arg::Int(k as i64),
            Arg::Buffer(HostBuffer::from_f32(d, &a)),
            Arg::Buffer(HostBuffer::from_f32(d, &b)),
            Arg::Buffer(HostBuffer::zeros(d, m * n)),
        ];
        // f32 tiles of the default config need 40 KiB of workgroup memory (more than the
        // 32 KiB WebGPU guarantees): halve block_k.
        let cfg = match d {
            DType::F32 => GemmConfig {
                block_k: 16,
                ..GemmConfig::default()
            },
            _ => GemmConfig::default(),
        };
        let f = gemm(d, cfg).expect("builds");
        let case = run_case(&mut dev, &format!("gemm<{d}> {m}x{n}x{k}"), f, &args);
        // w[n, k] = b[k, n] for the Σ|a|·|w| magnitudes.
        let bt = host::round_to(d, &b);
        let w: Vec<f64> = (0..n * k).map(|i| bt[(i % k) * n + i / k]).collect();
        let diff = case.assert_close(
            (m, n, k),
            &host::round_to(d, &a),
            &w,
            d,
            host::gemm_error_bound(d, k),
        );
        worst = (worst.0.max(diff.0), worst.1.max(diff.1));
    }
    eprintln!(
        "gemm: largest device-vs-interpreter difference {:.3e} of Σ|a||w|, {} ulp",
        worst.0, worst.1
    );
}

/// Quantizes random weights for `cfg`, runs the a16wX GEMM on both, compares; returns the
/// largest difference (relative to `Σ|a|·|w|`, in output ulps).
fn a16wx_case(
    dev: &mut tilus_runtime::WgpuDevice,
    rng: &mut Rng,
    cfg: &A16WxConfig,
    (m, n, k): (usize, usize, usize),
) -> (f64, u64) {
    let w = floats(rng, n * k, 0.1);
    let a = floats(rng, m * k, 1.0);
    let q = quantize(&w, n, k, cfg.wtype, cfg.group, cfg.mode, cfg.act).expect("quantizes");
    let packed = pack_weights(&q, cfg).expect("packs");
    let mut args = vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        Arg::Buffer(HostBuffer::from_f32(cfg.act, &a)),
        Arg::Buffer(packed),
        Arg::Buffer(HostBuffer::from_f32(cfg.act, &q.scales)),
    ];
    if let Some(z) = &q.zeros {
        args.push(Arg::Buffer(HostBuffer::from_f32(cfg.act, z)));
    }
    args.push(Arg::Buffer(HostBuffer::zeros(cfg.act, m * n)));
    let label = format!(
        "a16w<{}> {:?} {:?} {m}x{n}x{k}",
        cfg.wtype, cfg.group, cfg.mode
    );
    let case: Case = run_case(dev, &label, a16wx(cfg).expect("builds"), &args);
    case.assert_close(
        (m, n, k),
        &host::round_to(cfg.act, &a),
        &dequantize(&q),
        cfg.act,
        host::error_bound(cfg.act, k),
    )
}

#[test]
fn a16wx_every_weight_type_matches_the_interpreter() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(105);
    let mut types = weight_types();
    types.push(DType::F16);
    let mut worst = (0.0f64, 0u64);
    for w in types {
        let cfg =
            A16WxConfig::default_for(DType::F16, w, GroupSize::Size(128), QuantMode::Symmetric);
        let d = a16wx_case(&mut dev, &mut rng, &cfg, (17, 200, 384));
        worst = (worst.0.max(d.0), worst.1.max(d.1));
    }
    eprintln!(
        "a16wx (group 128): largest device-vs-interpreter difference {:.3e} of Σ|a||w|, {} ulp",
        worst.0, worst.1
    );
}

#[test]
fn a16wx_groups_modes_and_bf16_match_the_interpreter() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(106);
    let mut worst = (0.0f64, 0u64);
    let cases = [
        (
            DType::F16,
            int(4, false),
            GroupSize::Size(64),
            QuantMode::Symmetric,
            (33, 200, 200),
        ),
        (
            DType::F16,
            DType::MiniFloat { exp: 2, mant: 1 },
            GroupSize::Size(64),
            QuantMode::Symmetric,
            (17, 136, 200),
        ),
        (
            DType::F16,
            int(3, true),
            GroupSize::PerChannel,
            QuantMode::Symmetric,
            (17, 200, 150),
        ),
        (
            DType::F16,
            DType::F8E4M3FN,
            GroupSize::PerChannel,
            QuantMode::Symmetric,
            (5, 100, 150),
        ),
        (
            DType::F16,
            int(4, false),
            GroupSize::Size(128),
            QuantMode::Asymmetric,
            (17, 200, 384),
        ),
        (
            DType::F16,
            int(2, false),
            GroupSize::Size(64),
            QuantMode::Asymmetric,
            (17, 72, 200),
        ),
        (
            DType::F16,
            int(6, true),
            GroupSize::PerChannel,
            QuantMode::Asymmetric,
            (9, 100, 150),
        ),
        (
            DType::BF16,
            int(4, false),
            GroupSize::Size(128),
            QuantMode::Symmetric,
            (17, 200, 384),
        ),
        (
            DType::BF16,
            DType::MiniFloat { exp: 3, mant: 2 },
            GroupSize::Size(64),
            QuantMode::Symmetric,
            (17, 100, 200),
        ),
    ];
    for (act, w, group, mode, shape) in cases {
        let cfg = A16WxConfig::default_for(act, w, group, mode);
        let d = a16wx_case(&mut dev, &mut rng, &cfg, shape);
        worst = (worst.0.max(d.0), worst.1.max(d.1));
    }
    eprintln!(
        "a16wx (groups/modes/bf16): largest device-vs-interpreter difference {:.3e} of Σ|a||w|, {} ulp",
        worst.0, worst.1
    );
}

/// Split-K combines partial sums through inter-block semaphores, which WebGPU cannot run
/// safely: compilation fails with a clear error (no device needed).
#[test]
fn split_k_is_rejected_for_wgsl() {
    let mut cfg = A16WxConfig::default_for(
        DType::F16,
        int(4, false),
        GroupSize::Size(128),
        QuantMode::Symmetric,
    );
    cfg.split_k = 2;
    let f = a16wx(&cfg).expect("builds");
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).expect("verifies");
    let caps = wgsl_support::caps();
    let err = compile(
        &prog,
        &name,
        &Target::Wgsl(caps.clone()),
        &CompileOptions::default(),
    )
    .expect_err("split-K must not compile for WGSL");
    let msg = err.to_string();
    assert!(
        msg.contains("semaphore") && msg.contains("forward progress"),
        "unexpected error: {msg}"
    );
}

/// Runs the SIMT a16wX kernel on both and returns the case.
fn simt_case(
    dev: &mut tilus_runtime::WgpuDevice,
    rng: &mut Rng,
    cfg: &SimtConfig,
    (m, n, k): (usize, usize, usize),
) -> Case {
    let w = floats(rng, n * k, 0.1);
    let a = floats(rng, m * k, 1.0);
    let q = quantize(&w, n, k, cfg.wtype, cfg.group, cfg.mode, cfg.act).expect("quantizes");
    let packed = pack_simt_host(cfg.wtype, &q.codes, n, k).expect("packs");
    let mut args = vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        Arg::Buffer(HostBuffer::from_f32(cfg.act, &a)),
        Arg::Buffer(HostBuffer {
            dtype: int(32, false),
            len: packed.len() / 4,
            bytes: packed,
        }),
        Arg::Buffer(HostBuffer::from_f32(cfg.act, &q.scales)),
    ];
    if let Some(z) = &q.zeros {
        args.push(Arg::Buffer(HostBuffer::from_f32(cfg.act, z)));
    }
    args.push(Arg::Buffer(HostBuffer::zeros(cfg.act, m * n)));
    let label = format!(
        "a16wx_simt<{}, {}> {:?} {:?} {m}x{n}x{k} tile {}x{}x{}",
        cfg.act,
        cfg.wtype,
        cfg.group,
        cfg.mode,
        cfg.block_m,
        cfg.block_n(),
        cfg.block_k()
    );
    run_case(dev, &label, a16wx_simt(cfg).expect("builds"), &args)
}

/// The SIMT kernel states its summation order in the tile program (per-thread partial sums,
/// products that are exact in f32, one product by the scale, a final reduction), so the
/// device agrees with the interpreter bit for bit, for every weight type.
#[test]
fn simt_a16wx_every_weight_type_is_bit_exact() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(107);
    let mut types = weight_types();
    types.push(DType::F16);
    for (i, &w) in types.iter().enumerate() {
        let act = if i % 2 == 0 { DType::F16 } else { DType::BF16 };
        let group = if w == DType::F16 {
            GroupSize::PerChannel
        } else {
            GroupSize::Size(64)
        };
        let cfg = SimtConfig {
            threads_n: 16,
            threads_k: 2,
            cols_per_thread: 2,
            ..SimtConfig::default_for(act, w, group, QuantMode::Symmetric, 3)
        };
        simt_case(&mut dev, &mut rng, &cfg, (3, 72, 200)).assert_exact();
        if w.is_int() {
            let asym = SimtConfig {
                mode: QuantMode::Asymmetric,
                ..cfg
            };
            simt_case(&mut dev, &mut rng, &asym, (2, 40, 128)).assert_exact();
        }
    }
}

/// Default tiles at decode shapes (M = 1 and 16), a K split across threads, specialized for
/// the divisibility of N and K.
#[test]
fn simt_a16wx_default_tiles_are_bit_exact() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(108);
    let u4 = int(4, false);
    for (m, n, tk) in [
        (1, 130, 1),
        (16, 130, 1),
        (5, 130, 4),
        (3, 256, 1),
        (2, 72, 2),
    ] {
        // Specialized for n and k as `A16WxPlan` does: rows of C stored as whole words.
        let base = SimtConfig::default_for(
            DType::F16,
            u4,
            GroupSize::Size(128),
            QuantMode::Symmetric,
            m,
        )
        .specialized_for(n, 256);
        let cfg = SimtConfig {
            threads_k: tk,
            threads_n: 64 / tk,
            ..base
        };
        simt_case(&mut dev, &mut rng, &cfg, (m, n, 256)).assert_exact();
    }
}
