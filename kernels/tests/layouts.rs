//! Every generated kernel passes layout inference (the first lowering stage): the
//! annotations (MMA layouts, the packed byte layout, `view` results) are consistent with
//! each other and with the inferred layouts of everything else.

use tilus_ir::dtype::DType;
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::config::weight_types;
use tilus_kernels::pack::{pack_program, unpack_program};
use tilus_kernels::{a16wx, gemm, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode};
use tilus_lower::layout_infer::infer;
use tilus_lower::target::{Target, WgslCaps};

fn infers(f: Function) {
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).unwrap_or_else(|e| panic!("{name}: {e}"));
    if let Err(e) = infer(&prog, 0, &Target::Wgsl(WgslCaps::default()).caps()) {
        panic!("{name}: layout inference failed: {e}");
    }
}

#[test]
fn a16wx_and_packing_programs_infer() {
    for (i, wtype) in weight_types().into_iter().enumerate() {
        let act = if i % 2 == 0 { DType::F16 } else { DType::BF16 };
        let mode = if wtype.is_int() {
            QuantMode::Asymmetric
        } else {
            QuantMode::Symmetric
        };
        let group = if i % 3 == 0 {
            GroupSize::PerChannel
        } else {
            GroupSize::Size(64)
        };
        let cfg = A16WxConfig::default_for(act, wtype, group, mode);
        infers(a16wx(&cfg).expect("builds"));
        infers(a16wx(&A16WxConfig { split_k: 4, ..cfg }).expect("builds"));
        infers(pack_program(&cfg).expect("builds"));
        infers(unpack_program(&cfg).expect("builds"));
    }
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    for (ws, wr) in [
        ((2, 2), (1, 2, 2)),
        ((2, 1), (2, 4, 1)),
        ((1, 1), (1, 1, 2)),
    ] {
        let cfg = A16WxConfig::from_warps(
            DType::F16,
            u4,
            GroupSize::Size(128),
            QuantMode::Symmetric,
            ws,
            wr,
            3,
            1,
        );
        infers(a16wx(&cfg).expect("builds"));
        infers(pack_program(&cfg).expect("builds"));
    }
}

#[test]
fn gemm_and_vector_add_infer() {
    for d in [DType::F16, DType::BF16, DType::F32] {
        infers(gemm(d, GemmConfig::default()).expect("builds"));
    }
    for d in DType::all() {
        infers(vector_add(d, 512).expect("builds"));
    }
}
