//! The full a16wX matrix (run in release: `cargo test --release -p tilus-kernels --test
//! matrix -- --ignored`): M ∈ {1, 16, 33}, K ∈ {256, 384}, N ∈ {128, 200}, groups
//! 64/128/per-channel, symmetric and asymmetric, every weight type, both activation dtypes.

mod common;

use std::time::Instant;

use common::check_a16wx;
use tilus_ir::dtype::DType;
use tilus_ir::interp::RunOptions;
use tilus_kernels::config::weight_types;
use tilus_kernels::{A16WxConfig, GroupSize, QuantMode};

#[test]
#[ignore = "long: run in release"]
fn full_matrix() {
    let start = Instant::now();
    let opts = RunOptions::default();
    let mut runs = 0usize;
    let mut worst = 0f64;
    for wtype in weight_types() {
        for act in [DType::F16, DType::BF16] {
            for mode in [QuantMode::Symmetric, QuantMode::Asymmetric] {
                if mode == QuantMode::Asymmetric && !wtype.is_int() {
                    continue;
                }
                for group in [
                    GroupSize::Size(64),
                    GroupSize::Size(128),
                    GroupSize::PerChannel,
                ] {
                    let cfg = A16WxConfig::default_for(act, wtype, group, mode);
                    for m in [1, 16, 33] {
                        for k in [256, 384] {
                            for n in [128, 200] {
                                let st = check_a16wx(m, n, k, &cfg, &opts, runs as u64);
                                worst = worst
                                    .max(st.max_rel / tilus_kernels::host::error_bound(act, k));
                                runs += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "full matrix: {runs} runs in {:.1} s; worst error / bound = {worst:.3}",
        start.elapsed().as_secs_f64()
    );
}
