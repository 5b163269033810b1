//! The quantizer: error bounds (proptest), scale rounding, zero points, errors.

use proptest::prelude::*;
use tilus_ir::dtype::DType;
use tilus_kernels::config::weight_types;
use tilus_kernels::quant::{element_error_bound, round_up_to, symmetric_zero};
use tilus_kernels::{dequantize, quantize, GroupSize, KernelError, QuantMode};

fn check_bounds(
    w: &[f32],
    n: usize,
    k: usize,
    wtype: DType,
    group: GroupSize,
    mode: QuantMode,
    act: DType,
) {
    let q = quantize(w, n, k, wtype, group, mode, act).expect("quantizes");
    let deq = dequantize(&q);
    let glen = group.len(k);
    let (qmin, qmax) = (wtype.min_value(), wtype.max_value());
    for (i, (&x, &d)) in w.iter().zip(&deq).enumerate() {
        let (row, col) = (i / k, i % k);
        let g = col / glen;
        let s = f64::from(q.scales[g * n + row]);
        assert!(s > 0.0, "{wtype}: scale must be positive");
        assert_eq!(act.decode_f64(act.encode_f64(s)), s, "scale not in {act}");
        let bound = element_error_bound(wtype, f64::from(x), s);
        let err = (f64::from(x) - d).abs();
        assert!(
            err <= bound * (1.0 + 1e-9),
            "{wtype} {mode:?} {group:?} {act}: w[{row},{col}] = {x}, deq {d}, err {err} > bound {bound} (s {s})"
        );
        if wtype.is_int() {
            let v = wtype.decode_f64(q.codes[i]);
            assert!((qmin..=qmax).contains(&v));
        }
    }
    if let Some(z) = &q.zeros {
        for &z in z {
            assert!((qmin..=qmax).contains(&f64::from(z)) && z.fract() == 0.0);
        }
    }
}

fn modes(wtype: DType) -> Vec<QuantMode> {
    if wtype.is_int() {
        vec![QuantMode::Symmetric, QuantMode::Asymmetric]
    } else {
        vec![QuantMode::Symmetric]
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn error_within_bound(
        type_idx in 0usize..64,
        act_bf16 in any::<bool>(),
        group_sel in 0usize..3,
        n in 1usize..4,
        k in 1usize..40,
        magnitude in -6i32..6,
        seed in any::<u64>(),
    ) {
        let types = weight_types();
        let wtype = types[type_idx % types.len()];
        let act = if act_bf16 { DType::BF16 } else { DType::F16 };
        let group = [GroupSize::Size(8), GroupSize::Size(16), GroupSize::PerChannel][group_sel];
        // A cheap deterministic generator: a few outliers, some exact zeros, signs mixed.
        let mut state = seed | 1;
        let scale = 2f32.powi(magnitude);
        let w: Vec<f32> = (0..n * k)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                match state % 11 {
                    0 => 0.0,
                    1 => (u as f32 - 0.5) * 8.0 * scale,
                    _ => (u as f32 - 0.5) * scale,
                }
            })
            .collect();
        for mode in modes(wtype) {
            check_bounds(&w, n, k, wtype, group, mode, act);
        }
    }
}

#[test]
fn every_type_and_mode_on_a_fixed_matrix() {
    let (n, k) = (3, 50);
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
        .collect();
    for wtype in weight_types() {
        for act in [DType::F16, DType::BF16] {
            for mode in modes(wtype) {
                for group in [GroupSize::Size(16), GroupSize::PerChannel] {
                    check_bounds(&w, n, k, wtype, group, mode, act);
                }
            }
        }
    }
}

#[test]
fn unsigned_symmetric_levels_are_symmetric() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    assert_eq!(symmetric_zero(u4), 7.5);
    let w = [-7.5f32, -0.5, 0.5, 7.5];
    let q = quantize(
        &w,
        1,
        4,
        u4,
        GroupSize::PerChannel,
        QuantMode::Symmetric,
        DType::F16,
    )
    .expect("quantizes");
    assert_eq!(q.scales, vec![1.0]);
    assert_eq!(q.codes, vec![0, 7, 8, 15]);
    assert_eq!(dequantize(&q), vec![-7.5, -0.5, 0.5, 7.5]);
}

#[test]
fn i1_maps_to_plus_minus_maxabs() {
    let i1 = DType::Int {
        bits: 1,
        signed: true,
    };
    let w = [-2.0f32, 0.5, 2.0, -0.1];
    let q = quantize(
        &w,
        1,
        4,
        i1,
        GroupSize::PerChannel,
        QuantMode::Symmetric,
        DType::BF16,
    )
    .expect("quantizes");
    assert_eq!(q.scales, vec![4.0]);
    assert_eq!(dequantize(&q), vec![-2.0, 2.0, 2.0, -2.0]);
}

#[test]
fn asymmetric_range_contains_zero() {
    let u8t = DType::Int {
        bits: 8,
        signed: false,
    };
    let w: Vec<f32> = (0..16).map(|i| 1.0 + i as f32).collect();
    let q = quantize(
        &w,
        1,
        16,
        u8t,
        GroupSize::PerChannel,
        QuantMode::Asymmetric,
        DType::F16,
    )
    .expect("quantizes");
    let zeros = q.zeros.clone().expect("zero points");
    assert_eq!(zeros, vec![0.0]);
    assert!(f64::from(q.scales[0]) >= 16.0 / 255.0);
}

#[test]
fn zero_group_gets_unit_scale() {
    let w = [0f32; 8];
    for wtype in weight_types() {
        let q = quantize(
            &w,
            1,
            8,
            wtype,
            GroupSize::Size(4),
            QuantMode::Symmetric,
            DType::F16,
        )
        .expect("quantizes");
        if symmetric_zero(wtype).fract() == 0.0 {
            assert_eq!(q.scales, vec![1.0, 1.0], "{wtype}");
            assert!(dequantize(&q).iter().all(|&x| x == 0.0), "{wtype}");
        } else {
            // No zero level: the smallest scale, so the error s/2 is tiny.
            assert_eq!(q.scales, vec![2f32.powi(-24); 2], "{wtype}");
            assert!(
                dequantize(&q).iter().all(|&x| x.abs() <= 2f64.powi(-25)),
                "{wtype}"
            );
        }
    }
}

#[test]
fn scales_round_up() {
    // 1/3 is between two f16 values; the scale must be the upper one.
    let s = round_up_to(DType::F16, 1.0 / 3.0).expect("finite");
    assert!(s >= 1.0 / 3.0 && s - 1.0 / 3.0 < 2f64.powi(-12));
    assert_eq!(round_up_to(DType::F16, 1e6), None);
    assert_eq!(round_up_to(DType::F16, 1e-30), Some(2f64.powi(-24)));
}

#[test]
fn rejects_bad_input() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let f4 = DType::MiniFloat { exp: 2, mant: 1 };
    let sym = QuantMode::Symmetric;
    let pc = GroupSize::PerChannel;
    assert!(matches!(
        quantize(&[1.0; 3], 1, 4, u4, pc, sym, DType::F16),
        Err(KernelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        quantize(&[1.0, f32::NAN], 1, 2, u4, pc, sym, DType::F16),
        Err(KernelError::NonFiniteWeight { row: 0, col: 1, .. })
    ));
    assert!(matches!(
        quantize(&[1.0; 4], 1, 4, f4, pc, QuantMode::Asymmetric, DType::F16),
        Err(KernelError::AsymmetricFloat(_))
    ));
    assert!(matches!(
        quantize(&[1.0; 4], 1, 4, u4, pc, sym, DType::F32),
        Err(KernelError::UnsupportedDType { .. })
    ));
    assert!(matches!(
        quantize(&[1.0; 4], 1, 4, DType::F32, pc, sym, DType::F16),
        Err(KernelError::UnsupportedDType { .. })
    ));
    assert!(matches!(
        quantize(
            &[6.0e4; 4],
            1,
            4,
            DType::Int {
                bits: 1,
                signed: false
            },
            pc,
            sym,
            DType::F16
        ),
        Err(KernelError::ScaleOverflow { .. })
    ));
    assert!(matches!(
        quantize(&[1.0; 4], 1, 4, u4, GroupSize::Size(0), sym, DType::F16),
        Err(KernelError::InvalidSize { .. })
    ));
}
