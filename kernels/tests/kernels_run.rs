//! vector_add and the plain GEMM on the interpreter.

mod common;

use common::Rng;
use tilus_ir::dtype::DType;
use tilus_ir::interp::RunOptions;
use tilus_kernels::host::{error_stats, gemm_error_bound, reference_gemm, round_to};
use tilus_kernels::run::{run_gemm_interp, run_vector_add_interp};
use tilus_kernels::GemmConfig;

#[test]
fn vector_add_every_dtype() {
    let opts = RunOptions::default();
    let n = 300; // ragged: 2 blocks of 128 and a partial one
    for dtype in DType::all() {
        let mut rng = Rng::new(u64::from(dtype.bits()));
        let mask = dtype.code_mask();
        // Float codes: random values in a moderate range; integer codes: any bits.
        let codes = |rng: &mut Rng| -> Vec<u64> {
            (0..n)
                .map(|_| {
                    if dtype.is_int() {
                        rng.next_u64() & mask
                    } else {
                        dtype.encode_f32(rng.uniform() * 4.0)
                    }
                })
                .collect()
        };
        let a = codes(&mut rng);
        let b = codes(&mut rng);
        let c = run_vector_add_interp(dtype, 128, &a, &b, &opts).expect("runs");
        for i in 0..n {
            let want = if dtype.is_int() {
                dtype.wrap_int(dtype.int_value(a[i]).wrapping_add(dtype.int_value(b[i])))
            } else {
                dtype.encode_f64(dtype.decode_f64(a[i]) + dtype.decode_f64(b[i]))
            };
            assert_eq!(c[i], want, "{dtype} element {i}");
        }
    }
}

#[test]
fn gemm_ragged_vs_f64() {
    let opts = RunOptions::default();
    let cfgs = [
        GemmConfig::default(),
        GemmConfig {
            block_m: 16,
            block_n: 32,
            block_k: 16,
            warps: 2,
            num_stages: 3,
        },
        GemmConfig {
            block_m: 32,
            block_n: 16,
            block_k: 8,
            warps: 1,
            num_stages: 1,
        },
    ];
    for (ci, cfg) in cfgs.iter().enumerate() {
        for dtype in [DType::F16, DType::BF16, DType::F32] {
            for (m, n, k) in [(37, 70, 45), (1, 64, 128), (65, 9, 33)] {
                let mut rng = Rng::new((ci * 31 + m) as u64);
                let a = rng.vec(m * k, 1.0);
                let b = rng.vec(k * n, 1.0);
                let c = run_gemm_interp(dtype, *cfg, m, n, k, &a, &b, &opts).expect("runs");
                let ar = round_to(dtype, &a);
                let br = round_to(dtype, &b);
                // reference_gemm takes the right operand as [N, K].
                let bt: Vec<f64> = (0..n * k).map(|i| br[(i % k) * n + i / k]).collect();
                let r = reference_gemm(m, n, k, &ar, &bt);
                let st = error_stats(m, n, k, &c, &r, &ar, &bt, dtype);
                let bound = gemm_error_bound(dtype, k);
                assert!(
                    st.max_rel <= bound,
                    "{dtype} {cfg:?} {m}x{n}x{k}: {:.3e} > {bound:.3e}",
                    st.max_rel
                );
            }
        }
    }
}
