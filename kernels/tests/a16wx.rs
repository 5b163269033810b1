//! The a16wX GEMM on the interpreter against the f64 reference, within `error_bound`.

mod common;

use common::{cfg, check_a16wx};
use tilus_ir::dtype::DType;
use tilus_ir::interp::{BlockOrder, RunOptions};
use tilus_kernels::config::weight_types;
use tilus_kernels::{A16WxConfig, GroupSize, QuantMode};

const SYM: QuantMode = QuantMode::Symmetric;
const ASYM: QuantMode = QuantMode::Asymmetric;

/// The activation dtype used for a weight type in the per-type sweeps: alternate, so both
/// are covered without doubling the run time.
fn act_for(i: usize) -> DType {
    if i.is_multiple_of(2) {
        DType::F16
    } else {
        DType::BF16
    }
}

#[test]
fn every_weight_type_symmetric_group128() {
    let opts = RunOptions::default();
    for (i, wtype) in weight_types().into_iter().enumerate() {
        for act in [DType::F16, DType::BF16] {
            let c = cfg(act, wtype, GroupSize::Size(128), SYM);
            check_a16wx(33, 200, 384, &c, &opts, i as u64);
        }
    }
}

#[test]
fn every_int_type_asymmetric() {
    let opts = RunOptions::default();
    for (i, wtype) in weight_types().into_iter().filter(DType::is_int).enumerate() {
        let c = cfg(act_for(i + 1), wtype, GroupSize::Size(128), ASYM);
        check_a16wx(33, 200, 384, &c, &opts, 100 + i as u64);
    }
}

#[test]
fn per_channel_and_group64_ragged_k() {
    let opts = RunOptions::default();
    let types = [
        DType::Int {
            bits: 4,
            signed: false,
        },
        DType::Int {
            bits: 3,
            signed: true,
        },
        DType::MiniFloat { exp: 3, mant: 2 },
        DType::F8E4M3FN,
    ];
    for (i, &wtype) in types.iter().enumerate() {
        for group in [GroupSize::PerChannel, GroupSize::Size(64)] {
            for mode in [SYM, ASYM] {
                if mode == ASYM && !wtype.is_int() {
                    continue;
                }
                // K = 200 is not a multiple of BK = 32 nor of the group size.
                let c = cfg(act_for(i), wtype, group, mode);
                check_a16wx(17, 72, 200, &c, &opts, 200 + i as u64);
            }
        }
    }
}

#[test]
fn wide_exponent_minifloats_with_f16() {
    // f7e5m1, f6e5m0 and f7e6m0 values do not all fit f16: dequantization runs in f32.
    let opts = RunOptions::default();
    for wtype in [
        DType::MiniFloat { exp: 5, mant: 1 },
        DType::MiniFloat { exp: 5, mant: 0 },
        DType::MiniFloat { exp: 6, mant: 0 },
    ] {
        assert!(!tilus_kernels::a16wx::cast_is_exact(wtype, DType::F16));
        check_a16wx(
            5,
            64,
            96,
            &cfg(DType::F16, wtype, GroupSize::Size(32), SYM),
            &opts,
            7,
        );
    }
}

#[test]
fn split_k_any_block_order() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let i5 = DType::Int {
        bits: 5,
        signed: true,
    };
    for (wtype, mode, split_k) in [(u4, ASYM, 3), (i5, SYM, 4), (u4, SYM, 8)] {
        for order in [
            BlockOrder::Sequential,
            BlockOrder::Reverse,
            BlockOrder::Shuffled(11),
        ] {
            let c = A16WxConfig {
                split_k,
                ..cfg(DType::F16, wtype, GroupSize::Size(64), mode)
            };
            let opts = RunOptions {
                block_order: order,
                ..RunOptions::default()
            };
            // K = 352 → 11 k-tiles over `split_k` blocks (8 splits leave some empty).
            check_a16wx(20, 130, 352, &c, &opts, 300);
        }
    }
}

#[test]
fn other_tilings() {
    let opts = RunOptions::default();
    let u2 = DType::Int {
        bits: 2,
        signed: false,
    };
    let f4 = DType::MiniFloat { exp: 2, mant: 1 };
    for (wtype, ws, wr, stages) in [
        (u2, (2, 2), (1, 2, 2), 3),
        (f4, (1, 1), (2, 1, 2), 1),
        (u2, (2, 1), (1, 4, 1), 4),
    ] {
        let c = A16WxConfig::from_warps(
            DType::BF16,
            wtype,
            GroupSize::PerChannel,
            asym_if_int(wtype),
            ws,
            wr,
            stages,
            1,
        );
        check_a16wx(40, 90, 150, &c, &opts, 400);
    }
}

/// Asymmetric for integers, symmetric for floats.
fn asym_if_int(wtype: DType) -> QuantMode {
    if wtype.is_int() {
        ASYM
    } else {
        SYM
    }
}

#[test]
fn runner_rejects_mismatches() {
    use tilus_kernels::{quantize, run_a16wx_interp, KernelError};
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let c = cfg(DType::F16, u4, GroupSize::Size(64), SYM);
    let q = quantize(&[0.5; 64 * 8], 8, 64, u4, c.group, c.mode, c.act).expect("quantizes");
    let opts = RunOptions::default();
    let a = vec![1.0f32; 2 * 64];
    let run = |c: &A16WxConfig, m: usize, n: usize, a: &[f32]| {
        run_a16wx_interp(m, n, 64, a, &q, c, &opts)
    };
    assert!(run(&c, 2, 8, &a).is_ok());
    let e = run(&A16WxConfig { mode: ASYM, ..c }, 2, 8, &a).unwrap_err();
    assert!(matches!(e, KernelError::Mismatch(_)), "{e}");
    let e = run(
        &A16WxConfig {
            act: DType::BF16,
            ..c
        },
        2,
        8,
        &a,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("activation dtype f16 vs bf16"),
        "{e}"
    );
    let e = run(&c, 2, 9, &a).unwrap_err();
    assert!(e.to_string().contains("[8, 64]"), "{e}");
    let e = run(&c, 3, 8, &a).unwrap_err();
    assert!(
        matches!(
            e,
            KernelError::ShapeMismatch {
                what: "activations",
                ..
            }
        ),
        "{e}"
    );
    let e = run(&c, 0, 8, &[]).unwrap_err();
    assert!(
        matches!(e, KernelError::InvalidSize { what: "m", .. }),
        "{e}"
    );
}
