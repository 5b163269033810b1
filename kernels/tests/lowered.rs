//! The kernels lowered to the thread IR (layout inference + tile-to-thread lowering) and run
//! on the thread interpreter reproduce the tile interpreter bit for bit. For the packing
//! programs and the a16wX GEMM this checks that the packed format really is each thread's
//! register image: the lowered `view` is a per-thread reinterpretation of registers.

mod common;

use common::Rng;
use tilus_ir::dtype::DType;
use tilus_ir::interp::{self as tile_interp, Arg, HostBuffer};
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::{verify, VerifiedProgram};
use tilus_kernels::pack::{pack_program, unpack_program};
use tilus_kernels::packed::{pack_codes_host, PackedFormat};
use tilus_kernels::{
    a16wx, gemm, quantize, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode,
};
use tilus_lower::layout_infer::infer;
use tilus_lower::target::Target;
use tilus_lower::thread_ir::interp as thread_interp;
use tilus_lower::tile_to_thread::{lower_function_with, LowerOptions};

const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};

/// Runs `f` on both interpreters and asserts every buffer ends identical; returns the
/// buffers of the tile interpreter.
fn run_both(f: Function, args: &[Arg], mma: bool) -> Vec<HostBuffer> {
    let name = f.name.clone();
    let prog: VerifiedProgram =
        verify(Program { functions: vec![f] }).unwrap_or_else(|e| panic!("{name}: {e}"));
    let layouts =
        infer(&prog, 0, &caps(mma)).unwrap_or_else(|e| panic!("{name}: layout inference: {e}"));
    let opts = LowerOptions {
        max_shared_bytes: 96 * 1024,
        mma,
        // PTX-like lowering: tensor cores and warp shuffles together.
        shuffle: mma,
    };
    let kernel = lower_function_with(&prog, 0, &layouts, &opts)
        .unwrap_or_else(|e| panic!("{name}: lowering: {e}"));
    if mma {
        // The annotated MMA layouts let `dot` use the tensor-core intrinsic.
        assert!(
            kernel.to_string().contains("mma.m16n8k16"),
            "{name}: no mma emitted"
        );
    }
    let mut tile_args = args.to_vec();
    tile_interp::run(
        &prog,
        &name,
        &mut tile_args,
        &tile_interp::RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: tile interpreter: {e}"));
    let mut thread_args = args.to_vec();
    thread_interp::run_kernel(
        &kernel,
        &mut thread_args,
        &thread_interp::RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: thread interpreter: {e}"));
    let mut out = Vec::new();
    for (i, (x, y)) in tile_args.iter().zip(&thread_args).enumerate() {
        if let (Arg::Buffer(x), Arg::Buffer(y)) = (x, y) {
            let first = x.codes().iter().zip(&y.codes()).position(|(a, b)| a != b);
            assert!(
                first.is_none(),
                "{name} (mma {mma}): argument {i} differs at element {first:?}"
            );
            out.push(x.clone());
        }
    }
    out
}

/// The capabilities layout inference sees: PTX's (MMA atoms) with `mma`, else WGSL's.
fn caps(mma: bool) -> tilus_lower::target::TargetCaps {
    if mma {
        Target::Ptx(Default::default()).caps()
    } else {
        Target::Wgsl(Default::default()).caps()
    }
}

/// The printed thread IR of `f` lowered (with MMA atoms when `mma`).
fn lowered_text(f: Function, mma: bool) -> String {
    let prog = verify(Program { functions: vec![f] }).expect("verifies");
    let layouts = infer(&prog, 0, &caps(mma)).expect("infers");
    let opts = LowerOptions {
        max_shared_bytes: 96 * 1024,
        mma,
        // PTX-like lowering: tensor cores and warp shuffles together.
        shuffle: mma,
    };
    lower_function_with(&prog, 0, &layouts, &opts)
        .expect("lowers")
        .to_string()
}

fn cfg(wtype: DType, mode: QuantMode, group: GroupSize) -> A16WxConfig {
    A16WxConfig::default_for(DType::F16, wtype, group, mode)
}

#[test]
fn packing_programs() {
    let (n, k) = (70, 45);
    for wtype in [
        DType::Int {
            bits: 4,
            signed: false,
        },
        DType::Int {
            bits: 3,
            signed: true,
        },
        DType::Int {
            bits: 1,
            signed: false,
        },
        DType::MiniFloat { exp: 3, mant: 2 },
        DType::F8E5M2,
    ] {
        let c = cfg(wtype, QuantMode::Symmetric, GroupSize::PerChannel);
        let fmt = PackedFormat::new(&c).expect("valid");
        let mut rng = Rng::new(u64::from(wtype.bits()));
        let codes: Vec<u64> = (0..n * k)
            .map(|_| rng.next_u64() & wtype.code_mask())
            .collect();
        let args = [
            Arg::Int(n as i64),
            Arg::Int(k as i64),
            Arg::Buffer(HostBuffer::from_codes(wtype, &codes)),
            Arg::Buffer(HostBuffer::zeros(U8, fmt.packed_len(n, k))),
        ];
        let out = run_both(pack_program(&c).expect("builds"), &args, false);
        let host = pack_codes_host(&fmt, &codes, n, k).expect("packs");
        assert_eq!(out[1].bytes, host, "{wtype}");
        let args = [
            Arg::Int(n as i64),
            Arg::Int(k as i64),
            Arg::Buffer(out[1].clone()),
            Arg::Buffer(HostBuffer::zeros(wtype, n * k)),
        ];
        let out = run_both(unpack_program(&c).expect("builds"), &args, false);
        assert_eq!(out[1].codes(), codes, "{wtype}");
    }
}

fn a16wx_case(c: &A16WxConfig, m: usize, n: usize, k: usize, mma: bool) {
    let mut rng = Rng::new(5);
    let w = rng.vec(n * k, 0.1);
    let a = rng.vec(m * k, 1.0);
    let q = quantize(&w, n, k, c.wtype, c.group, c.mode, c.act).expect("quantizes");
    let packed = tilus_kernels::pack_weights(&q, c).expect("packs");
    let mut args = vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        Arg::Buffer(HostBuffer::from_f32(c.act, &a)),
        Arg::Buffer(packed),
        Arg::Buffer(HostBuffer::from_f32(c.act, &q.scales)),
    ];
    if let Some(z) = &q.zeros {
        args.push(Arg::Buffer(HostBuffer::from_f32(c.act, z)));
    }
    args.push(Arg::Buffer(HostBuffer::zeros(c.act, m * n)));
    run_both(a16wx(c).expect("builds"), &args, mma);
}

#[test]
fn a16wx_lowered() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let i3 = DType::Int {
        bits: 3,
        signed: true,
    };
    let f6 = DType::MiniFloat { exp: 3, mant: 2 };
    let f7e5m1 = DType::MiniFloat { exp: 5, mant: 1 };
    for mma in [false, true] {
        a16wx_case(
            &cfg(u4, QuantMode::Symmetric, GroupSize::Size(32)),
            5,
            70,
            100,
            mma,
        );
        a16wx_case(
            &cfg(i3, QuantMode::Asymmetric, GroupSize::PerChannel),
            17,
            64,
            64,
            mma,
        );
    }
    a16wx_case(
        &cfg(f6, QuantMode::Symmetric, GroupSize::Size(64)),
        3,
        64,
        96,
        false,
    );
    a16wx_case(
        &cfg(f7e5m1, QuantMode::Symmetric, GroupSize::Size(32)),
        3,
        64,
        64,
        false,
    );
    let split = A16WxConfig {
        split_k: 3,
        ..cfg(u4, QuantMode::Asymmetric, GroupSize::Size(32))
    };
    a16wx_case(&split, 9, 64, 160, false);
}

#[test]
fn gemm_and_vector_add_lowered() {
    let mut rng = Rng::new(9);
    let (m, n, k) = (20, 40, 24);
    let small = GemmConfig {
        block_m: 16,
        block_n: 32,
        block_k: 16,
        warps: 2,
        num_stages: 2,
    };
    for d in [DType::F16, DType::F32] {
        let a = rng.vec(m * k, 1.0);
        let b = rng.vec(k * n, 1.0);
        let args = [
            Arg::Int(m as i64),
            Arg::Int(n as i64),
            Arg::Int(k as i64),
            Arg::Buffer(HostBuffer::from_f32(d, &a)),
            Arg::Buffer(HostBuffer::from_f32(d, &b)),
            Arg::Buffer(HostBuffer::zeros(d, m * n)),
        ];
        run_both(gemm(d, small).expect("builds"), &args, false);
        if d == DType::F16 {
            // With MMA atoms: mma.sync on fragments loaded by ldmatrix (A: x4, B: x2.trans).
            let f = gemm(d, small).expect("builds");
            let text = lowered_text(f.clone(), true);
            assert!(
                text.contains("ldmatrix"),
                "no ldmatrix in the MMA GEMM:\n{text}"
            );
            run_both(f, &args, true);
        }
    }
    for d in [
        DType::F32,
        DType::Int {
            bits: 3,
            signed: true,
        },
        DType::MiniFloat { exp: 2, mant: 1 },
    ] {
        let len = 300;
        let a: Vec<u64> = (0..len).map(|_| rng.next_u64() & d.code_mask()).collect();
        let b: Vec<u64> = (0..len).map(|_| rng.next_u64() & d.code_mask()).collect();
        let args = [
            Arg::Int(len as i64),
            Arg::Buffer(HostBuffer::from_codes(d, &a)),
            Arg::Buffer(HostBuffer::from_codes(d, &b)),
            Arg::Buffer(HostBuffer::zeros(d, len)),
        ];
        run_both(vector_add(d, 128).expect("builds"), &args, false);
    }
}
