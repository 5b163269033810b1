//! `QuantizedLinear`: built once from `[N, K]` weights, `forward` from 8 threads at once
//! gives the f64 reference's answer within the bound, for several `M` (so several plans and
//! packed formats), on the PTX interpreter and the tile interpreter; bad shapes are errors.

use std::sync::Arc;

use tilus_ir::dtype::DType;
use tilus_kernels::host::{error_stats, reference_gemm, round_to};
use tilus_kernels::{dequantize, GroupSize, KernelError, QuantMode, QuantizedLinear};
use tilus_runtime::{Device, InterpDevice, PtxInterpDevice};

const I3: DType = DType::Int {
    bits: 3,
    signed: true,
};

fn weights(n: usize, k: usize) -> Vec<f32> {
    (0..n * k)
        .map(|i| ((i * 7919 % 1009) as f32 - 504.0) / 5000.0)
        .collect()
}

fn input(m: usize, k: usize, seed: usize) -> Vec<f32> {
    (0..m * k)
        .map(|i| (((i + seed) * 104_729 % 997) as f32 - 498.0) / 498.0)
        .collect()
}

fn check(layer: &QuantizedLinear, x: &[f32], y: &[f32], m: usize) {
    let (n, k) = (layer.out_features(), layer.in_features());
    let q = layer.quantized();
    let xr = round_to(q.act, x);
    let wd = dequantize(q);
    let r = reference_gemm(m, n, k, &xr, &wd);
    let st = error_stats(m, n, k, y, &r, &xr, &wd, q.act);
    let bound = tilus_kernels::host::simt_error_bound(q.act, k)
        .max(tilus_kernels::host::error_bound(q.act, k));
    assert!(
        st.max_rel <= bound,
        "m={m}: max rel {:e} > {:e}",
        st.max_rel,
        bound
    );
}

fn concurrent(device: Box<dyn Device>) {
    let (n, k) = (96, 192);
    let layer = Arc::new(
        QuantizedLinear::new(
            device,
            &weights(n, k),
            n,
            k,
            I3,
            GroupSize::Size(64),
            QuantMode::Asymmetric,
            DType::F16,
        )
        .expect("builds"),
    );
    std::thread::scope(|s| {
        for t in 0..8 {
            let layer = Arc::clone(&layer);
            s.spawn(move || {
                for m in [1, 3, 17] {
                    let x = input(m, k, t * 31 + m);
                    let y = layer.forward(&x, m).expect("forward");
                    assert_eq!(y.len(), m * n);
                    check(&layer, &x, &y, m);
                }
            });
        }
    });
    // The same input gives the same output from any thread, every time.
    let x = input(5, k, 1);
    assert_eq!(
        layer.forward(&x, 5).expect("forward"),
        layer.forward(&x, 5).expect("forward")
    );
}

#[test]
fn forward_from_eight_threads_on_the_ptx_interpreter() {
    concurrent(Box::new(PtxInterpDevice::new()));
}

#[test]
fn forward_from_eight_threads_on_the_tile_interpreter() {
    concurrent(Box::new(InterpDevice::new()));
}

#[test]
fn shapes_are_checked_and_the_raw_kernel_is_exposed() {
    let (n, k) = (64, 128);
    let err = QuantizedLinear::new(
        Box::new(PtxInterpDevice::new()),
        &weights(n, k - 1),
        n,
        k,
        I3,
        GroupSize::Size(64),
        QuantMode::Symmetric,
        DType::F16,
    )
    .expect_err("wrong weight length");
    assert!(matches!(err, KernelError::ShapeMismatch { .. }), "{err}");
    let layer = QuantizedLinear::new(
        Box::new(PtxInterpDevice::new()),
        &weights(n, k),
        n,
        k,
        I3,
        GroupSize::Size(64),
        QuantMode::Symmetric,
        DType::F16,
    )
    .expect("builds");
    let err = layer
        .forward(&input(2, k, 0)[1..], 2)
        .expect_err("wrong input length");
    assert!(err.to_string().contains("input x"), "{err}");
    assert!(layer.forward(&[], 0).expect("empty").is_empty());
    let raw = layer
        .raw_kernel(4)
        .expect("compiles")
        .expect("compiled code");
    assert!(raw.artifact.ptx().is_some());
    assert_eq!(raw.args, vec!["m", "n", "k", "a", "b", "scales", "c"]);
    assert!(
        raw.grid.iter().all(|&g| g >= 1) && raw.block[0] >= 32,
        "{raw:?}"
    );
    let err = QuantizedLinear::new(
        Box::new(PtxInterpDevice::new()),
        &weights(n, k),
        n,
        k,
        DType::F32,
        GroupSize::Size(64),
        QuantMode::Symmetric,
        DType::F16,
    )
    .expect_err("f32 is no weight type");
    assert!(err.to_string().contains("f32"), "{err}");
}
