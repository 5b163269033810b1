//! The SIMT a16wX GEMM on the interpreter against the f64 reference, within
//! `simt_error_bound`, for every weight type, both modes, ragged shapes and several tilings.

mod common;

use common::Rng;
use tilus_ir::dtype::DType;
use tilus_ir::interp::RunOptions;
use tilus_kernels::config::weight_types;
use tilus_kernels::host::{error_stats, reference_gemm, round_to, simt_error_bound};
use tilus_kernels::run::run_simt_interp;
use tilus_kernels::{dequantize, quantize, GroupSize, KernelError, QuantMode, SimtConfig};

const SYM: QuantMode = QuantMode::Symmetric;
const ASYM: QuantMode = QuantMode::Asymmetric;
const U4: DType = DType::Int {
    bits: 4,
    signed: false,
};

fn check(m: usize, n: usize, k: usize, cfg: &SimtConfig, seed: u64) {
    let mut rng = Rng::new(seed);
    let w: Vec<f32> = (0..n * k)
        .map(|i| rng.uniform() * 0.05 + if (i / k).is_multiple_of(3) { 0.02 } else { 0.0 })
        .collect();
    let a = rng.vec(m * k, 1.0);
    let q = quantize(&w, n, k, cfg.wtype, cfg.group, cfg.mode, cfg.act).expect("quantizes");
    let c = run_simt_interp(m, n, k, &a, &q, cfg, &RunOptions::default())
        .unwrap_or_else(|e| panic!("{} m={m} n={n} k={k}: {e}", cfg.wtype));
    let ar = round_to(cfg.act, &a);
    let wd = dequantize(&q);
    let r = reference_gemm(m, n, k, &ar, &wd);
    let st = error_stats(m, n, k, &c, &r, &ar, &wd, cfg.act);
    let bound = simt_error_bound(cfg.act, k);
    assert!(
        st.max_rel <= bound,
        "{} {} {:?} {:?} m={m} n={n} k={k}: max rel error {:.3e} > bound {:.3e} at {} (c = {}, ref = {})",
        cfg.wtype,
        cfg.act,
        cfg.mode,
        cfg.group,
        st.max_rel,
        bound,
        st.argmax,
        c[st.argmax],
        r[st.argmax]
    );
}

fn small(act: DType, wtype: DType, group: GroupSize, mode: QuantMode, m: usize) -> SimtConfig {
    SimtConfig {
        threads_n: 16,
        threads_k: 2,
        cols_per_thread: 2,
        ..SimtConfig::default_for(act, wtype, group, mode, m)
    }
}

#[test]
fn every_weight_type_both_activations() {
    let mut types = weight_types();
    types.push(DType::F16);
    for (i, &wtype) in types.iter().enumerate() {
        let act = if i % 2 == 0 { DType::F16 } else { DType::BF16 };
        let group = if wtype == DType::F16 {
            GroupSize::PerChannel
        } else {
            GroupSize::Size(64)
        };
        check(3, 72, 200, &small(act, wtype, group, SYM, 3), i as u64);
    }
}

#[test]
fn every_int_type_asymmetric() {
    for (i, wtype) in weight_types().into_iter().filter(DType::is_int).enumerate() {
        check(
            2,
            40,
            128,
            &small(DType::F16, wtype, GroupSize::Size(64), ASYM, 2),
            50 + i as u64,
        );
    }
}

#[test]
fn tilings_and_ragged_shapes() {
    let base = SimtConfig::default_for(DType::F16, U4, GroupSize::Size(128), SYM, 1);
    let cases = [
        (
            1,
            33,
            96,
            SimtConfig {
                threads_n: 32,
                threads_k: 1,
                cols_per_thread: 1,
                ks: 8,
                ..base
            },
        ),
        (
            5,
            130,
            256,
            SimtConfig {
                threads_n: 8,
                threads_k: 4,
                cols_per_thread: 4,
                ks: 32,
                block_m: 8,
                ..base
            },
        ),
        (
            16,
            64,
            128,
            SimtConfig {
                threads_n: 32,
                threads_k: 4,
                cols_per_thread: 1,
                ks: 16,
                block_m: 16,
                ..base
            },
        ),
        (17, 20, 128, SimtConfig { block_m: 4, ..base }),
    ];
    for (i, (m, n, k, c)) in cases.into_iter().enumerate() {
        check(m, n, k, &c, 200 + i as u64);
    }
    let pc = SimtConfig {
        group: GroupSize::PerChannel,
        ..base
    };
    check(2, 64, 100, &pc, 300);
}

#[test]
fn invalid_configurations_are_errors() {
    let base = SimtConfig::default_for(DType::F16, U4, GroupSize::Size(128), SYM, 1);
    let bad = [
        SimtConfig {
            threads_n: 3,
            ..base
        },
        SimtConfig { ks: 3, ..base },
        SimtConfig { block_m: 0, ..base },
        SimtConfig {
            block_m: 17,
            ..base
        },
        SimtConfig {
            threads_k: 8,
            ..base
        },
        SimtConfig {
            act: DType::F32,
            ..base
        },
        SimtConfig {
            wtype: DType::MiniFloat { exp: 2, mant: 1 },
            mode: ASYM,
            ..base
        },
    ];
    for c in bad {
        match tilus_kernels::a16wx_simt(&c) {
            Err(KernelError::InvalidConfig { .. })
            | Err(KernelError::UnsupportedDType { .. })
            | Err(KernelError::AsymmetricFloat(_)) => {}
            other => panic!("{c:?}: expected a configuration error, got {other:?}"),
        }
    }
}
