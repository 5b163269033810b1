//! Every generator builds and verifies for every supported configuration; configuration
//! errors are clear; the host packing reference round-trips.

use tilus_ir::dtype::DType;
use tilus_ir::program::Program;
use tilus_ir::verify::verify;
use tilus_kernels::config::weight_types;
use tilus_kernels::pack::{pack_program, unpack_program};
use tilus_kernels::packed::{pack_codes_host, unpack_codes_host, PackedFormat};
use tilus_kernels::{
    a16wx, gemm, vector_add, A16WxConfig, GemmConfig, GroupSize, KernelError, QuantMode,
};

fn verified(f: tilus_ir::program::Function) {
    let name = f.name.clone();
    if let Err(e) = verify(Program { functions: vec![f] }) {
        panic!("{name} does not verify:\n{e}");
    }
}

fn configs() -> Vec<A16WxConfig> {
    let mut v = Vec::new();
    for wtype in weight_types() {
        for act in [DType::F16, DType::BF16] {
            let mut modes = vec![QuantMode::Symmetric];
            if wtype.is_int() {
                modes.push(QuantMode::Asymmetric);
            }
            for mode in modes {
                v.push(A16WxConfig::default_for(
                    act,
                    wtype,
                    GroupSize::Size(128),
                    mode,
                ));
            }
        }
    }
    v
}

#[test]
fn every_a16wx_config_builds_and_verifies() {
    for cfg in configs() {
        verified(a16wx(&cfg).expect("builds"));
        verified(pack_program(&cfg).expect("builds"));
        verified(unpack_program(&cfg).expect("builds"));
    }
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let base =
        A16WxConfig::default_for(DType::F16, u4, GroupSize::PerChannel, QuantMode::Asymmetric);
    for (ws, wr, stages, split) in [
        ((2, 2), (1, 2, 2), 3, 4),
        ((1, 1), (1, 1, 2), 1, 2),
        ((2, 4), (2, 1, 1), 4, 1),
    ] {
        let cfg = A16WxConfig::from_warps(
            base.act, base.wtype, base.group, base.mode, ws, wr, stages, split,
        );
        verified(a16wx(&cfg).expect("builds"));
        verified(pack_program(&cfg).expect("builds"));
    }
}

#[test]
fn other_kernels_build_and_verify() {
    for d in DType::all() {
        verified(vector_add(d, 256).expect("builds"));
    }
    for d in [DType::F16, DType::BF16, DType::F32] {
        verified(gemm(d, GemmConfig::default()).expect("builds"));
        verified(
            gemm(
                d,
                GemmConfig {
                    block_m: 16,
                    block_n: 32,
                    block_k: 16,
                    warps: 2,
                    num_stages: 1,
                },
            )
            .expect("builds"),
        );
    }
}

fn reason(e: KernelError) -> String {
    e.to_string()
}

#[test]
fn config_errors_are_clear() {
    let u3 = DType::Int {
        bits: 3,
        signed: false,
    };
    let base = A16WxConfig::default_for(DType::F16, u3, GroupSize::Size(128), QuantMode::Symmetric);
    let e = reason(
        a16wx(&A16WxConfig {
            group: GroupSize::Size(48),
            ..base
        })
        .unwrap_err(),
    );
    assert!(e.contains("multiple of block_k = 32"), "{e}");
    let e = reason(
        a16wx(&A16WxConfig {
            block_n: 32,
            ..base
        })
        .unwrap_err(),
    );
    assert!(e.contains("block-level m16n8k16 tile"), "{e}");
    let odd = A16WxConfig::from_warps(
        DType::F16,
        u3,
        GroupSize::PerChannel,
        QuantMode::Symmetric,
        (1, 4),
        (1, 1, 1),
        2,
        1,
    );
    let e = reason(a16wx(&odd).unwrap_err());
    assert!(e.contains("not a whole number of bytes"), "{e}");
    let e = reason(
        a16wx(&A16WxConfig {
            act: DType::F32,
            ..base
        })
        .unwrap_err(),
    );
    assert!(e.contains("activation"), "{e}");
    let e = reason(
        a16wx(&A16WxConfig {
            wtype: DType::F32,
            ..base
        })
        .unwrap_err(),
    );
    assert!(e.contains("weight"), "{e}");
    let f4 = DType::MiniFloat { exp: 2, mant: 1 };
    let e = reason(
        a16wx(&A16WxConfig {
            wtype: f4,
            mode: QuantMode::Asymmetric,
            ..base
        })
        .unwrap_err(),
    );
    assert!(e.contains("asymmetric"), "{e}");
    let e = reason(
        a16wx(&A16WxConfig {
            num_stages: 0,
            ..base
        })
        .unwrap_err(),
    );
    assert!(e.contains("num_stages"), "{e}");
    let e = reason(a16wx(&A16WxConfig { split_k: 0, ..base }).unwrap_err());
    assert!(e.contains("split_k"), "{e}");
    let e = reason(
        gemm(
            DType::F16,
            GemmConfig {
                block_k: 0,
                ..GemmConfig::default()
            },
        )
        .unwrap_err(),
    );
    assert!(e.contains("positive"), "{e}");
    let e = reason(
        gemm(
            DType::Int {
                bits: 8,
                signed: true,
            },
            GemmConfig::default(),
        )
        .unwrap_err(),
    );
    assert!(e.contains("gemm operand"), "{e}");
    let e = reason(vector_add(DType::F32, 0).unwrap_err());
    assert!(e.contains("block"), "{e}");
}

#[test]
fn host_packing_round_trips() {
    for wtype in weight_types() {
        for (ws, wr) in [
            ((1, 4), (1, 2, 2)),
            ((2, 2), (1, 2, 2)),
            ((1, 1), (1, 1, 2)),
        ] {
            let cfg = A16WxConfig::from_warps(
                DType::F16,
                wtype,
                GroupSize::PerChannel,
                QuantMode::Symmetric,
                ws,
                wr,
                1,
                1,
            );
            let fmt = PackedFormat::new(&cfg).expect("valid");
            for (n, k) in [(200, 100), (7, 33), (64, 32)] {
                let mask = wtype.code_mask();
                let codes: Vec<u64> = (0..n * k)
                    .map(|i| (i as u64 * 2654435761) >> 7 & mask)
                    .collect();
                let packed = pack_codes_host(&fmt, &codes, n, k).expect("packs");
                assert_eq!(packed.len(), fmt.packed_len(n, k));
                let back = unpack_codes_host(&fmt, &packed, n, k).expect("unpacks");
                assert_eq!(back, codes, "{wtype} {ws:?} {wr:?} n={n} k={k}");
            }
        }
    }
}

#[test]
fn int6_matches_the_tilus_example() {
    // tilus.md §3.3: i6 weight tile 16×16 with layout local(1,2) * atom.lb (8 weights = 6
    // bytes per thread) and byte layout local(3).spatial(32).local(2).
    let i6 = DType::Int {
        bits: 6,
        signed: true,
    };
    let cfg = A16WxConfig::from_warps(
        DType::F16,
        i6,
        GroupSize::PerChannel,
        QuantMode::Symmetric,
        (1, 1),
        (1, 2, 1),
        1,
        1,
    );
    let fmt = PackedFormat::new(&cfg).expect("valid");
    assert_eq!(fmt.lw.shape(), [16, 16]);
    assert_eq!(fmt.bytes_per_thread, 6);
    assert_eq!(fmt.lbytes.to_string(), "local(3).spatial(32).local(2)");
    let order: Vec<Vec<usize>> = (0..8)
        .map(|s| fmt.lw.index_of(0, s).expect("in range"))
        .collect();
    let want = [
        [0, 0],
        [1, 0],
        [8, 0],
        [9, 0],
        [0, 8],
        [1, 8],
        [8, 8],
        [9, 8],
    ];
    assert_eq!(order, want.map(|x| x.to_vec()).to_vec());
    // Thread t holds bytes {2t, 2t+1, 64+2t, 65+2t, 128+2t, 129+2t}.
    let held: Vec<usize> = (0..6)
        .map(|s| fmt.lbytes.index_of(5, s).expect("in range")[0])
        .collect();
    assert_eq!(held, vec![10, 11, 74, 75, 138, 139]);
    // B[1, 0] (thread 0, slot 1) occupies bits 6..11: bits 6-7 of byte 0, 0-3 of byte 1.
    let (n, k) = (16, 16);
    let mut codes = vec![0u64; n * k];
    codes[1] = 0b10_1101; // codes[n = 0, k = 1] = B[1, 0]
    let packed = pack_codes_host(&fmt, &codes, n, k).expect("packs");
    assert_eq!(packed[0], 0b0100_0000);
    assert_eq!(packed[1], 0b0000_1011);
    assert!(packed[2..].iter().all(|&b| b == 0));
}

#[test]
fn byte_layout_reads_words() {
    let i6 = DType::Int {
        bits: 6,
        signed: true,
    };
    let cfg = A16WxConfig::default_for(DType::F16, i6, GroupSize::PerChannel, QuantMode::Symmetric);
    let fmt = PackedFormat::new(&cfg).expect("valid");
    // 4 slots · wrk 2 · wrn 2 = 16 weights · 6 bits = 12 bytes per thread, 128 threads.
    assert_eq!(fmt.bytes_per_thread, 12);
    assert_eq!(fmt.tile_bytes, 12 * 128);
    assert_eq!(fmt.lbytes.to_string(), "local(3).spatial(128).local(4)");
    // Thread 1 reads bytes 4..8, then 516..520, then 1028..1032.
    let held: Vec<usize> = (0..12)
        .map(|s| fmt.lbytes.index_of(1, s).expect("in range")[0])
        .collect();
    assert_eq!(
        held,
        vec![4, 5, 6, 7, 516, 517, 518, 519, 1028, 1029, 1030, 1031]
    );
    // Replicated over warp rows when wsm > 1.
    let cfg = A16WxConfig::from_warps(
        DType::F16,
        i6,
        GroupSize::PerChannel,
        QuantMode::Symmetric,
        (2, 2),
        (1, 2, 2),
        1,
        1,
    );
    let fmt = PackedFormat::new(&cfg).expect("valid");
    assert!(fmt.lbytes.is_replicated() && fmt.lw.is_replicated());
    assert_eq!(fmt.lbytes.num_threads(), 128);
    assert_eq!(fmt.tile_bytes, 12 * 64);
}
