//! Legalized and emitted kernels run on a real WebGPU adapter (lavapipe in CI) through
//! `tilus-runtime`'s wgpu device, compared bit for bit with the tile interpreter.
//!
//! When no adapter exists the tests print why and pass, unless `TILUS_REQUIRE_WGPU` is set
//! (CI sets it), in which case they fail.

mod wgsl_support;

use tilus_ir::dtype::{pack, DType};
use tilus_ir::interp::{self as tile_interp, Arg, HostBuffer};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::{
    a16wx, gemm, quantize, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode,
};
use tilus_lower::backend::legalize::legalize_wgsl;
use tilus_lower::backend::wgsl::emit::emit_wgsl;
use tilus_lower::layout_infer::infer;
use tilus_lower::target::Target;
use tilus_lower::tile_to_thread::{lower_function_with, LowerOptions};
use tilus_runtime::{Device, Kernel, LaunchArg, WgpuDevice};
use wgsl_support::{device, Rng};

/// Compiles `f` for the device's adapter, runs it there and on the tile interpreter, and
/// returns the buffers of both (in argument order).
fn run_both(dev: &mut WgpuDevice, f: Function, args: &[Arg]) -> Vec<(HostBuffer, Vec<u8>)> {
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).unwrap_or_else(|e| panic!("{name}: {e}"));
    let caps = dev.info().wgsl_caps();
    let target = Target::Wgsl(caps.clone());
    let layouts =
        infer(&prog, 0, &target.caps()).unwrap_or_else(|e| panic!("{name}: layouts: {e}"));
    let thread = lower_function_with(&prog, 0, &layouts, &LowerOptions::for_target(&target))
        .unwrap_or_else(|e| panic!("{name}: lowering: {e}"));
    let legal = legalize_wgsl(&thread, &caps).unwrap_or_else(|e| panic!("{name}: {e}"));
    let wgsl = emit_wgsl(&legal, &caps).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut launch = Vec::new();
    let mut bufs = Vec::new();
    for a in args {
        match a {
            Arg::Int(v) => launch.push(LaunchArg::Int(*v)),
            Arg::Float(x) => launch.push(LaunchArg::Float(*x)),
            Arg::Buffer(h) => {
                let mut bytes = h.bytes.clone();
                bytes.resize(h.bytes.len().div_ceil(4).max(1) * 4, 0);
                let id = dev.allocate_with(&bytes).expect("allocate");
                bufs.push(id);
                launch.push(LaunchArg::Buffer(id));
            }
        }
    }
    dev.launch(&Kernel::Compiled(wgsl.clone()), &launch)
        .unwrap_or_else(|e| panic!("{name}: launch: {e}\n{}", wgsl.code.text()));
    let mut tile_args = args.to_vec();
    tile_interp::run(
        &prog,
        &name,
        &mut tile_args,
        &tile_interp::RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: tile interpreter: {e}"));
    let mut out = Vec::new();
    let mut ids = bufs.into_iter();
    for a in &tile_args {
        if let Arg::Buffer(h) = a {
            let id = ids.next().expect("one device buffer per buffer argument");
            let bytes = dev.download(id).expect("download");
            out.push((h.clone(), bytes));
        }
    }
    out
}

/// Asserts that the device produced exactly the interpreter's codes.
fn assert_exact(name: &str, out: &[(HostBuffer, Vec<u8>)]) {
    for (i, (want, got)) in out.iter().enumerate() {
        for j in 0..want.len {
            let (a, b) = (
                pack::get(want.dtype.bits(), &want.bytes, j),
                pack::get(want.dtype.bits(), got, j),
            );
            assert_eq!(
                a, b,
                "{name}: buffer {i} ({}) element {j}: interpreter {a:#x}, device {b:#x}",
                want.dtype
            );
        }
    }
}

/// Asserts that the device matches the interpreter within the `dot` bound: the f32
/// accumulation of `k` products may round differently on the device (WGSL `fma` need not
/// be fused), so each output may differ by `k · 2^-24` relative to `Σ|a·b|`, which the
/// inputs in `[-1, 1]` bound by `k`.
fn assert_close(name: &str, out: &[(HostBuffer, Vec<u8>)], k: usize) {
    for (i, (want, got)) in out.iter().enumerate() {
        let got = HostBuffer {
            dtype: want.dtype,
            len: want.len,
            bytes: got.clone(),
        };
        for (j, (a, b)) in want.to_f64().iter().zip(got.to_f64()).enumerate() {
            let tol = (k as f64) * (k as f64) * f64::from(f32::EPSILON);
            assert!(
                (a - b).abs() <= tol,
                "{name}: buffer {i} element {j}: interpreter {a}, device {b}"
            );
        }
    }
}

#[test]
fn vector_add_on_the_device() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(21);
    for d in [
        DType::F32,
        DType::Int {
            bits: 32,
            signed: true,
        },
        DType::Int {
            bits: 3,
            signed: true,
        },
        DType::Int {
            bits: 4,
            signed: false,
        },
        DType::Int {
            bits: 6,
            signed: false,
        },
        DType::F16,
        DType::BF16,
        DType::F8E4M3FN,
        DType::MiniFloat { exp: 3, mant: 2 },
        DType::MiniFloat { exp: 2, mant: 1 },
    ] {
        let len = 1000;
        let finite = |rng: &mut Rng| -> Vec<u64> {
            (0..len)
                .map(|_| loop {
                    let c = rng.next() & d.code_mask();
                    if !d.is_nan_code(c) && !d.is_inf_code(c) {
                        break c;
                    }
                })
                .collect()
        };
        let args = [
            Arg::Int(len as i64),
            Arg::Buffer(HostBuffer::from_codes(d, &finite(&mut rng))),
            Arg::Buffer(HostBuffer::from_codes(d, &finite(&mut rng))),
            Arg::Buffer(HostBuffer::zeros(d, len)),
        ];
        let out = run_both(&mut dev, vector_add(d, 128).expect("builds"), &args);
        assert_exact(&format!("vector_add<{d}>"), &out);
    }
}

fn floats(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale)
        .collect()
}

#[test]
fn gemm_and_a16wx_on_the_device() {
    let Some(mut dev) = device() else { return };
    let mut rng = Rng(22);
    let (m, n, k) = (20, 40, 24);
    let small = GemmConfig {
        block_m: 16,
        block_n: 32,
        block_k: 16,
        warps: 2,
        num_stages: 2,
    };
    for d in [DType::F16, DType::F32] {
        let args = [
            Arg::Int(m as i64),
            Arg::Int(n as i64),
            Arg::Int(k as i64),
            Arg::Buffer(HostBuffer::from_f32(d, &floats(&mut rng, m * k, 1.0))),
            Arg::Buffer(HostBuffer::from_f32(d, &floats(&mut rng, k * n, 1.0))),
            Arg::Buffer(HostBuffer::zeros(d, m * n)),
        ];
        let out = run_both(&mut dev, gemm(d, small).expect("builds"), &args);
        assert_close(&format!("gemm<{d}>"), &out, k);
    }
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let c = A16WxConfig::default_for(DType::F16, u4, GroupSize::Size(32), QuantMode::Symmetric);
    let (m, n, k) = (5, 70, 100);
    let w = floats(&mut rng, n * k, 0.1);
    let a = floats(&mut rng, m * k, 1.0);
    let q = quantize(&w, n, k, c.wtype, c.group, c.mode, c.act).expect("quantizes");
    let packed = tilus_kernels::pack_weights(&q, &c).expect("packs");
    let args = [
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        Arg::Buffer(HostBuffer::from_f32(c.act, &a)),
        Arg::Buffer(packed),
        Arg::Buffer(HostBuffer::from_f32(c.act, &q.scales)),
        Arg::Buffer(HostBuffer::zeros(c.act, m * n)),
    ];
    let out = run_both(&mut dev, a16wx(&c).expect("builds"), &args);
    assert_exact("a16w4", &out);
}
