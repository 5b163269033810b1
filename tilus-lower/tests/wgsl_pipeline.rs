//! The kernel library through the whole WGSL pipeline: layout inference, tile-to-thread
//! lowering, WGSL legalization and emission. The legalized kernel reproduces the lowered
//! one bit for bit on the thread interpreter, and naga validates the WGSL.

mod wgsl_support;

use tilus_ir::dtype::DType;
use tilus_ir::interp::{Arg, HostBuffer};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::pack::pack_program;
use tilus_kernels::packed::PackedFormat;
use tilus_kernels::{
    a16wx, gemm, quantize, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode,
};
use tilus_lower::backend::legalize::legalize_wgsl;
use tilus_lower::error::LowerError;
use tilus_lower::layout_infer::infer;
use tilus_lower::target::Target;
use tilus_lower::thread_ir::ThreadKernel;
use tilus_lower::tile_to_thread::{lower_function_with, LowerOptions};
use wgsl_support::{caps, check, Rng};

fn lower(f: Function) -> ThreadKernel {
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).unwrap_or_else(|e| panic!("{name}: {e}"));
    let target = Target::Wgsl(caps());
    let layouts =
        infer(&prog, 0, &target.caps()).unwrap_or_else(|e| panic!("{name}: layouts: {e}"));
    lower_function_with(&prog, 0, &layouts, &LowerOptions::for_target(&target))
        .unwrap_or_else(|e| panic!("{name}: lowering: {e}"))
}

fn floats(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale)
        .collect()
}

#[test]
fn vector_add_every_width() {
    let mut rng = Rng(3);
    for d in [
        DType::F32,
        DType::F16,
        DType::BF16,
        DType::Int {
            bits: 3,
            signed: true,
        },
        DType::Int {
            bits: 4,
            signed: false,
        },
        DType::Int {
            bits: 8,
            signed: true,
        },
        DType::MiniFloat { exp: 2, mant: 1 },
        DType::F8E4M3FN,
    ] {
        let k = lower(vector_add(d, 128).expect("builds"));
        let len = 300;
        let args = [
            Arg::Int(len as i64),
            Arg::Buffer(HostBuffer::from_codes(d, &rng.codes(d, len))),
            Arg::Buffer(HostBuffer::from_codes(d, &rng.codes(d, len))),
            Arg::Buffer(HostBuffer::zeros(d, len)),
        ];
        check(&k, &args);
    }
}

#[test]
fn tiled_gemm_with_shared_memory_pipeline() {
    let mut rng = Rng(4);
    let (m, n, kk) = (20, 40, 24);
    let small = GemmConfig {
        block_m: 16,
        block_n: 32,
        block_k: 16,
        warps: 2,
        num_stages: 2,
    };
    for d in [DType::F16, DType::F32, DType::BF16] {
        let k = lower(gemm(d, small).expect("builds"));
        let args = [
            Arg::Int(m as i64),
            Arg::Int(n as i64),
            Arg::Int(kk as i64),
            Arg::Buffer(HostBuffer::from_f32(d, &floats(&mut rng, m * kk, 1.0))),
            Arg::Buffer(HostBuffer::from_f32(d, &floats(&mut rng, kk * n, 1.0))),
            Arg::Buffer(HostBuffer::zeros(d, m * n)),
        ];
        check(&k, &args);
    }
}

fn a16wx_case(c: &A16WxConfig, m: usize, n: usize, kk: usize) {
    let mut rng = Rng(5);
    let w = floats(&mut rng, n * kk, 0.1);
    let a = floats(&mut rng, m * kk, 1.0);
    let q = quantize(&w, n, kk, c.wtype, c.group, c.mode, c.act).expect("quantizes");
    let packed = tilus_kernels::pack_weights(&q, c).expect("packs");
    let mut args = vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(kk as i64),
        Arg::Buffer(HostBuffer::from_f32(c.act, &a)),
        Arg::Buffer(packed),
        Arg::Buffer(HostBuffer::from_f32(c.act, &q.scales)),
    ];
    if let Some(z) = &q.zeros {
        args.push(Arg::Buffer(HostBuffer::from_f32(c.act, z)));
    }
    args.push(Arg::Buffer(HostBuffer::zeros(c.act, m * n)));
    let k = lower(a16wx(c).expect("builds"));
    check(&k, &args);
}

#[test]
fn a16wx_mixed_precision_gemm() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let i3 = DType::Int {
        bits: 3,
        signed: true,
    };
    let f6 = DType::MiniFloat { exp: 3, mant: 2 };
    let cfg = |w, mode, group| A16WxConfig::default_for(DType::F16, w, group, mode);
    a16wx_case(
        &cfg(u4, QuantMode::Symmetric, GroupSize::Size(32)),
        5,
        70,
        100,
    );
    a16wx_case(
        &cfg(i3, QuantMode::Asymmetric, GroupSize::PerChannel),
        17,
        64,
        64,
    );
    a16wx_case(
        &cfg(f6, QuantMode::Symmetric, GroupSize::Size(64)),
        3,
        64,
        96,
    );
}

#[test]
fn split_k_semaphores_are_rejected_by_name() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let c = A16WxConfig {
        split_k: 3,
        ..A16WxConfig::default_for(DType::F16, u4, GroupSize::Size(32), QuantMode::Symmetric)
    };
    let k = lower(a16wx(&c).expect("builds"));
    let err = legalize_wgsl(&k, &caps()).expect_err("semaphores");
    assert!(matches!(err, LowerError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("semaphore"), "{err}");
}

#[test]
fn weight_packing_program() {
    let (n, kk) = (70, 45);
    let mut rng = Rng(6);
    for wtype in [
        DType::Int {
            bits: 4,
            signed: false,
        },
        DType::Int {
            bits: 3,
            signed: true,
        },
        DType::MiniFloat { exp: 3, mant: 2 },
    ] {
        let c = A16WxConfig::default_for(
            DType::F16,
            wtype,
            GroupSize::PerChannel,
            QuantMode::Symmetric,
        );
        let fmt = PackedFormat::new(&c).expect("valid");
        let args = [
            Arg::Int(n as i64),
            Arg::Int(kk as i64),
            Arg::Buffer(HostBuffer::from_codes(wtype, &rng.codes(wtype, n * kk))),
            Arg::Buffer(HostBuffer::zeros(
                DType::Int {
                    bits: 8,
                    signed: false,
                },
                fmt.packed_len(n, kk),
            )),
        ];
        let k = lower(pack_program(&c).expect("builds"));
        check(&k, &args);
    }
}
