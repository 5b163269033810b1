//! The benchmark's baselines must compute the right thing, or a ratio against them means
//! nothing: the hand-written WGSL GEMVs and our kernels agree with the f64 reference on the
//! same quantized weights, within the SIMT kernel's bound (the hand-written kernels round the
//! output with the adapter's `pack2x16float`, which the bound's safety factor covers).

use tilus_ir::dtype::DType;
use tilus_kernels::device::PreparedGemm;
use tilus_kernels::host::{error_stats, reference_gemm, round_to, simt_error_bound};
use tilus_kernels::{dequantize, quantize, A16WxPlan, GroupSize, KernelKind, QuantMode};

const U4: DType = DType::Int {
    bits: 4,
    signed: false,
};

fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn handwritten_and_compiled_gemvs_match_the_reference() {
    let dev = tilus_runtime::skip::wgpu_or_skip()
        .unwrap_or_else(|e| panic!("TILUS_REQUIRE_WGPU is set but wgpu failed: {e}"));
    let Some(mut dev) = dev else { return };
    let (m, n, k) = (2, 96, 256);
    for (wtype, group) in [
        (U4, GroupSize::Size(128)),
        (DType::F16, GroupSize::PerChannel),
    ] {
        let w = values(n * k, 11);
        let a = values(m * k, 12);
        let q =
            quantize(&w, n, k, wtype, group, QuantMode::Symmetric, DType::F16).expect("quantizes");
        let reference_a = round_to(DType::F16, &a);
        let wd = dequantize(&q);
        let r = reference_gemm(m, n, k, &reference_a, &wd);
        let bound = simt_error_bound(DType::F16, k);
        let plan = A16WxPlan::choose(
            KernelKind::Simt,
            (DType::F16, wtype, group, QuantMode::Symmetric),
            (m, n, k),
            false,
        );
        let A16WxPlan::Simt(cfg) = plan else {
            panic!("asked for the SIMT kernel")
        };
        for (what, prepared) in [
            (
                "hand-written",
                PreparedGemm::handwritten(&mut dev, &cfg, &q, &a, m),
            ),
            ("compiled", PreparedGemm::new(&mut dev, &plan, &q, &a, m)),
        ] {
            let p = prepared.unwrap_or_else(|e| panic!("{what} {wtype}: {e}"));
            let c = p
                .run(&mut dev)
                .unwrap_or_else(|e| panic!("{what} {wtype}: {e}"));
            let st = error_stats(m, n, k, &c, &r, &reference_a, &wd, DType::F16);
            assert!(
                st.max_rel <= bound,
                "{what} {wtype}: max rel error {:.3e} > {bound:.3e}",
                st.max_rel
            );
        }
    }
}

#[test]
fn handwritten_gemv_rejects_what_it_does_not_cover() {
    let Ok(Some(mut dev)) = tilus_runtime::skip::wgpu_or_skip() else {
        return;
    };
    let u3 = DType::Int {
        bits: 3,
        signed: false,
    };
    let q = quantize(
        &values(64 * 64, 3),
        64,
        64,
        u3,
        GroupSize::Size(32),
        QuantMode::Symmetric,
        DType::F16,
    )
    .expect("quantizes");
    let plan = A16WxPlan::choose(
        KernelKind::Simt,
        (DType::F16, u3, GroupSize::Size(32), QuantMode::Symmetric),
        (1, 64, 64),
        false,
    );
    let A16WxPlan::Simt(cfg) = plan else {
        panic!("asked for the SIMT kernel")
    };
    let e = PreparedGemm::handwritten(&mut dev, &cfg, &q, &values(64, 4), 1)
        .err()
        .expect("no hand-written u3 kernel");
    assert!(e.to_string().contains("f16 and u4"), "{e}");
}
