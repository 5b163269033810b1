//! The packing program and its inverse on the interpreter: they agree with the host
//! reference and round-trip for every weight type and ragged N/K.

use tilus_ir::dtype::DType;
use tilus_kernels::config::weight_types;
use tilus_kernels::packed::{pack_codes_host, PackedFormat};
use tilus_kernels::run::{pack_weights, unpack_weights};
use tilus_kernels::{quantize, A16WxConfig, GroupSize, QuantMode};

/// `(warp_spatial, warp_repeat)`.
type Tiling = ((usize, usize), (usize, usize, usize));

#[test]
fn pack_unpack_every_type_ragged() {
    for (i, wtype) in weight_types().into_iter().enumerate() {
        let tilings: &[Tiling] = if i.is_multiple_of(4) {
            &[((1, 4), (1, 2, 2)), ((2, 2), (1, 2, 2))]
        } else {
            &[((1, 4), (1, 2, 2))]
        };
        for &(ws, wr) in tilings {
            let cfg = A16WxConfig::from_warps(
                DType::F16,
                wtype,
                GroupSize::PerChannel,
                QuantMode::Symmetric,
                ws,
                wr,
                2,
                1,
            );
            let fmt = PackedFormat::new(&cfg).expect("valid");
            for (n, k) in [(70, 45), (64, 32)] {
                let w: Vec<f32> = (0..n * k)
                    .map(|j| ((j * 7919 % 263) as f32 - 131.0) / 29.0)
                    .collect();
                let q = quantize(&w, n, k, wtype, cfg.group, cfg.mode, cfg.act).expect("quantizes");
                let packed = pack_weights(&q, &cfg).expect("packs");
                assert_eq!(
                    packed.dtype,
                    DType::Int {
                        bits: 8,
                        signed: false
                    }
                );
                let host = pack_codes_host(&fmt, &q.codes, n, k).expect("host packs");
                assert_eq!(
                    packed.codes(),
                    host.iter().map(|&b| u64::from(b)).collect::<Vec<_>>(),
                    "{wtype} n={n} k={k}"
                );
                let back = unpack_weights(&packed, n, k, &cfg).expect("unpacks");
                assert_eq!(back, q.codes, "{wtype} {ws:?} n={n} k={k}");
            }
        }
    }
}
