//! Warp collectives: mma.sync m16n8k16 (f16, bf16) against an f64 reference, ldmatrix
//! (x1, x2, x4, .trans) against a direct computation, shfl.sync.bfly.
#![allow(clippy::needless_range_loop)] // index arithmetic mirrors the fragment formulas

mod common;
use common::*;
use half::{bf16, f16};

/// Two entries: lane `tid` loads its A/B/C fragment registers from buffers 0-2, runs the
/// mma and stores D to buffer 3. Warp w works on its own problem instance.
const MMA: &str = r#"//
// tilus kernel `mma_f16`: 64 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.visible .entry mma_f16(
    .param .u64 mma_f16_param_0,
    .param .u64 mma_f16_param_1,
    .param .u64 mma_f16_param_2,
    .param .u64 mma_f16_param_3
)
.maxntid 64, 1, 1
{
    .reg .b32 %r<12>;
    .reg .f32 %f<12>;
    .reg .b64 %rd<12>;

    ld.param.u64 %rd1, [mma_f16_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [mma_f16_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    ld.param.u64 %rd3, [mma_f16_param_2];
    cvta.to.global.u64 %rd3, %rd3;
    ld.param.u64 %rd4, [mma_f16_param_3];
    cvta.to.global.u64 %rd4, %rd4;
    mov.u32 %r1, %tid.x;
    mul.wide.u32 %rd5, %r1, 16;
    add.s64 %rd6, %rd1, %rd5;
    ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd6];
    mul.wide.u32 %rd7, %r1, 8;
    add.s64 %rd8, %rd2, %rd7;
    ld.global.v2.b32 {%r6, %r7}, [%rd8];
    add.s64 %rd9, %rd3, %rd5;
    ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd9];
    mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f5, %f6, %f7, %f8}, {%r2, %r3, %r4, %r5}, {%r6, %r7}, {%f1, %f2, %f3, %f4};
    add.s64 %rd10, %rd4, %rd5;
    st.global.v4.f32 [%rd10], {%f5, %f6, %f7, %f8};
    ret;
}

.visible .entry mma_bf16(
    .param .u64 mma_bf16_param_0,
    .param .u64 mma_bf16_param_1,
    .param .u64 mma_bf16_param_2,
    .param .u64 mma_bf16_param_3
)
.maxntid 64, 1, 1
{
    .reg .b32 %r<12>;
    .reg .f32 %f<12>;
    .reg .b64 %rd<12>;

    ld.param.u64 %rd1, [mma_bf16_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [mma_bf16_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    ld.param.u64 %rd3, [mma_bf16_param_2];
    cvta.to.global.u64 %rd3, %rd3;
    ld.param.u64 %rd4, [mma_bf16_param_3];
    cvta.to.global.u64 %rd4, %rd4;
    mov.u32 %r1, %tid.x;
    mul.wide.u32 %rd5, %r1, 16;
    add.s64 %rd6, %rd1, %rd5;
    ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd6];
    mul.wide.u32 %rd7, %r1, 8;
    add.s64 %rd8, %rd2, %rd7;
    ld.global.v2.b32 {%r6, %r7}, [%rd8];
    add.s64 %rd9, %rd3, %rd5;
    ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd9];
    mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f5, %f6, %f7, %f8}, {%r2, %r3, %r4, %r5}, {%r6, %r7}, {%f1, %f2, %f3, %f4};
    add.s64 %rd10, %rd4, %rd5;
    st.global.v4.f32 [%rd10], {%f5, %f6, %f7, %f8};
    ret;
}
"#;

/// The fragment formulas of docs/ptx.md, written out again (independently of the crate).
fn doc_a(lane: usize, i: usize) -> (usize, usize) {
    let (g, t) = (lane >> 2, lane % 4);
    (g + 8 * ((i / 2) % 2), 2 * t + (i % 2) + 8 * (i / 4))
}
fn doc_b(lane: usize, i: usize) -> (usize, usize) {
    let (g, t) = (lane >> 2, lane % 4);
    (2 * t + (i % 2) + 8 * (i / 2), g)
}
fn doc_c(lane: usize, i: usize) -> (usize, usize) {
    let (g, t) = (lane >> 2, lane % 4);
    (g + 8 * (i / 2), 2 * t + (i % 2))
}

struct Problem {
    a: [[f64; 16]; 16],
    b: [[f64; 8]; 16],
    c: [[f64; 8]; 16],
}

/// Runs `entry` on two problems (one per warp); returns D per problem as 16×8.
fn run_mma(entry: &str, probs: &[Problem; 2], enc: fn(f64) -> u16) -> Vec<[[f32; 8]; 16]> {
    let m = module("mma", MMA);
    let (mut fa, mut fb, mut fc) = (vec![0u32; 64 * 4], vec![0u32; 64 * 2], vec![0f32; 64 * 4]);
    for (w, p) in probs.iter().enumerate() {
        for lane in 0..32 {
            let tid = 32 * w + lane;
            for i in 0..8 {
                let (r, c) = doc_a(lane, i);
                fa[4 * tid + i / 2] |= (enc(p.a[r][c]) as u32) << (16 * (i % 2));
            }
            for i in 0..4 {
                let (r, c) = doc_b(lane, i);
                fb[2 * tid + i / 2] |= (enc(p.b[r][c]) as u32) << (16 * (i % 2));
                let (r, c) = doc_c(lane, i);
                fc[4 * tid + i] = p.c[r][c] as f32;
            }
        }
    }
    let (mem, _) = run(
        &m,
        entry,
        cfg(1, 64, 0),
        vec![
            bytes_u32(&fa),
            bytes_u32(&fb),
            bytes_f32(&fc),
            vec![0; 64 * 16],
        ],
    )
    .unwrap();
    let fd = f32s(&mem.buffers[3]);
    let mut out = vec![[[f32::NAN; 8]; 16]; 2];
    for (w, d) in out.iter_mut().enumerate() {
        for lane in 0..32 {
            for i in 0..4 {
                let (r, c) = doc_c(lane, i);
                d[r][c] = fd[4 * (32 * w + lane) + i];
            }
        }
    }
    out
}

fn reference(p: &Problem) -> [[f64; 8]; 16] {
    let mut d = [[0f64; 8]; 16];
    for (m, row) in d.iter_mut().enumerate() {
        for (n, x) in row.iter_mut().enumerate() {
            *x = p.c[m][n] + (0..16).map(|k| p.a[m][k] * p.b[k][n]).sum::<f64>();
        }
    }
    d
}

/// A problem whose entries come from `f`, rounded through `round` (the 16-bit type).
fn problem(rng: &mut Rng, f: &mut dyn FnMut(&mut Rng) -> f64, round: fn(f64) -> f64) -> Problem {
    let mut p = Problem {
        a: [[0.0; 16]; 16],
        b: [[0.0; 8]; 16],
        c: [[0.0; 8]; 16],
    };
    for r in 0..16 {
        for c in 0..16 {
            p.a[r][c] = round(f(rng));
        }
        for c in 0..8 {
            p.b[r][c] = round(f(rng));
            p.c[r][c] = f(rng) as f32 as f64;
        }
    }
    p
}

fn check_mma(entry: &str, enc: fn(f64) -> u16, round: fn(f64) -> f64) {
    let mut rng = Rng(0x5eed_0000_1111_2222);
    // Exact: small multiples of 1/4, so every partial sum is exact and D must match bit for bit;
    // distinct values everywhere make any misplaced fragment element visible.
    let mut exact = |r: &mut Rng| r.range(-12, 13) as f64 / 4.0;
    let probs = [
        problem(&mut rng, &mut exact, round),
        problem(&mut rng, &mut exact, round),
    ];
    let got = run_mma(entry, &probs, enc);
    for (w, p) in probs.iter().enumerate() {
        let want = reference(p);
        for m in 0..16 {
            for n in 0..8 {
                assert_eq!(
                    got[w][m][n] as f64, want[m][n],
                    "{entry} exact: warp {w} D[{m}][{n}]"
                );
            }
        }
    }
    // Random values in [-1, 1): within a few f32 ulps of the magnitude sum.
    let mut uniform = |r: &mut Rng| (r.next_u32() as f64 / 2f64.powi(32)) * 2.0 - 1.0;
    let probs = [
        problem(&mut rng, &mut uniform, round),
        problem(&mut rng, &mut uniform, round),
    ];
    let got = run_mma(entry, &probs, enc);
    for (w, p) in probs.iter().enumerate() {
        let want = reference(p);
        for m in 0..16 {
            for n in 0..8 {
                let scale =
                    p.c[m][n].abs() + (0..16).map(|k| (p.a[m][k] * p.b[k][n]).abs()).sum::<f64>();
                let err = (got[w][m][n] as f64 - want[m][n]).abs();
                assert!(
                    err <= 16.0 * f32::EPSILON as f64 * scale,
                    "{entry} random: warp {w} D[{m}][{n}] err {err}"
                );
            }
        }
    }
}

#[test]
fn mma_f16_matches_f64_reference() {
    check_mma(
        "mma_f16",
        |x| f16::from_f64(x).to_bits(),
        |x| f16::from_f64(x).to_f64(),
    );
}

#[test]
fn mma_bf16_matches_f64_reference() {
    check_mma(
        "mma_bf16",
        |x| bf16::from_f64(x).to_bits(),
        |x| bf16::from_f64(x).to_f64(),
    );
}

#[test]
fn module_lists_both_entries() {
    let m = module("mma", MMA);
    assert_eq!(m.entries(), vec!["mma_f16", "mma_bf16"]);
    assert_eq!(m.version(), "8.0");
}

/// Thread t copies 16 bytes of buffer 0 to shared slot t; lane l then points ldmatrix at
/// slot (5·l) mod 32, so row j of matrix i is slot (5·(8i + j)) mod 32.
const LDMATRIX: &str = r#"//
// tilus kernel `ldm`: 32 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.extern .shared .align 16 .b8 tilus_smem[];

.visible .entry ldm(
    .param .u64 ldm_param_0,
    .param .u64 ldm_param_1
)
.maxntid 32, 1, 1
{
    .reg .pred %p<3>;
    .reg .b32 %r<40>;
    .reg .b64 %rd<12>;

    ld.param.u64 %rd1, [ldm_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [ldm_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    mov.u32 %r1, %tid.x;
    mov.u32 %r2, tilus_smem;
    mul.wide.u32 %rd3, %r1, 16;
    add.s64 %rd4, %rd1, %rd3;
    ld.global.v4.b32 {%r3, %r4, %r5, %r6}, [%rd4];
    shl.b32 %r7, %r1, 4;
    add.s32 %r8, %r2, %r7;
    st.shared.v4.b32 [%r8], {%r3, %r4, %r5, %r6};
    bar.sync 0;
    mul.lo.s32 %r9, %r1, 5;
    and.b32 %r9, %r9, 31;
    shl.b32 %r9, %r9, 4;
    add.s32 %r10, %r2, %r9;
    ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r11, %r12, %r13, %r14}, [%r10];
    ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%r15, %r16, %r17, %r18}, [%r10];
    setp.ge.u32 %p1, %r1, 16;
    selp.b32 %r19, 0xfffffff0, %r10, %p1;
    ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%r20, %r21}, [%r19];
    setp.ge.u32 %p2, %r1, 8;
    selp.b32 %r22, 0xfffffff0, %r10, %p2;
    ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%r23}, [%r22];
    mul.wide.u32 %rd5, %r1, 48;
    add.s64 %rd6, %rd2, %rd5;
    st.global.v4.b32 [%rd6], {%r11, %r12, %r13, %r14};
    st.global.v4.b32 [%rd6+16], {%r15, %r16, %r17, %r18};
    st.global.v4.b32 [%rd6+32], {%r20, %r21, %r23, %r23};
    ret;
}
"#;

#[test]
fn ldmatrix_matches_direct_computation() {
    let m = module("ldm", LDMATRIX);
    let input: Vec<u8> = (0..512u32).map(|i| (i * 37 + 11) as u8).collect();
    let (mem, _) = run(
        &m,
        "ldm",
        cfg(1, 32, 512),
        vec![input.clone(), vec![0; 32 * 48]],
    )
    .unwrap();
    let out = u32s(&mem.buffers[1]);
    // row j of matrix i, as 16 bytes
    let row = |i: usize, j: usize| {
        let slot = (5 * (8 * i + j)) % 32;
        &input[16 * slot..16 * slot + 16]
    };
    let elem = |i: usize, r: usize, c: usize| {
        u16::from_le_bytes([row(i, r)[2 * c], row(i, r)[2 * c + 1]]) as u32
    };
    for l in 0..32usize {
        let o = &out[12 * l..12 * l + 12];
        for i in 0..4 {
            // without .trans: the 32 bits at byte 4·(l % 4) of row l / 4
            let b = &row(i, l / 4)[4 * (l % 4)..4 * (l % 4) + 4];
            let plain = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            assert_eq!(o[i], plain, "x4 lane {l} reg {i}");
            // with .trans: (row 2·(l%4), col l/4) low, (row 2·(l%4)+1, col l/4) high
            let trans = elem(i, 2 * (l % 4), l / 4) | elem(i, 2 * (l % 4) + 1, l / 4) << 16;
            assert_eq!(o[4 + i], trans, "x4.trans lane {l} reg {i}");
            if i < 2 {
                assert_eq!(o[8 + i], plain, "x2 lane {l} reg {i}");
            }
            if i == 0 {
                assert_eq!(o[10], trans, "x1.trans lane {l}");
            }
        }
    }
}

/// shfl.sync.bfly: a butterfly sum over each warp, and one exchange with lane ^ 5.
const SHFL: &str = r#"//
// tilus kernel `shfl`: 64 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.visible .entry shfl(
    .param .u64 shfl_param_0
)
.maxntid 64, 1, 1
{
    .reg .b32 %r<12>;
    .reg .b64 %rd<6>;

    ld.param.u64 %rd1, [shfl_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    mov.u32 %r1, %tid.x;
    mul.lo.s32 %r2, %r1, 7;
    add.s32 %r2, %r2, 1;
    shfl.sync.bfly.b32 %r3, %r2, 16, 0x1f, 0xffffffff;
    add.s32 %r3, %r3, %r2;
    shfl.sync.bfly.b32 %r4, %r3, 8, 0x1f, 0xffffffff;
    add.s32 %r3, %r3, %r4;
    shfl.sync.bfly.b32 %r4, %r3, 4, 0x1f, 0xffffffff;
    add.s32 %r3, %r3, %r4;
    shfl.sync.bfly.b32 %r4, %r3, 2, 0x1f, 0xffffffff;
    add.s32 %r3, %r3, %r4;
    shfl.sync.bfly.b32 %r4, %r3, 1, 0x1f, 0xffffffff;
    add.s32 %r3, %r3, %r4;
    mov.u32 %r5, 5;
    shfl.sync.bfly.b32 %r6, %r2, %r5, 0x1f, 0xffffffff;
    mul.wide.u32 %rd2, %r1, 8;
    add.s64 %rd3, %rd1, %rd2;
    st.global.v2.b32 [%rd3], {%r3, %r6};
    ret;
}
"#;

#[test]
fn shfl_bfly_butterfly_sum() {
    let m = module("shfl", SHFL);
    let (mem, _) = run(&m, "shfl", cfg(1, 64, 0), vec![vec![0; 64 * 8]]).unwrap();
    let out = u32s(&mem.buffers[0]);
    for t in 0..64u32 {
        let w = t / 32;
        let sum: u32 = (32 * w..32 * w + 32).map(|u| u * 7 + 1).sum();
        assert_eq!(out[2 * t as usize], sum, "thread {t} sum");
        assert_eq!(
            out[2 * t as usize + 1],
            (t ^ 5) * 7 + 1,
            "thread {t} exchange"
        );
    }
}
