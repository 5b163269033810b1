//! Hand-written PTX programs for shared memory, barriers, vectors, reductions, cp.async.
#![allow(clippy::needless_range_loop)] // index arithmetic mirrors the fragment formulas

mod common;
use common::*;
use tilus_ptx::{SHARED_BASE, SHARED_GARBAGE};

/// 64 threads (2 warps) write shared[tid], sync, read shared[63 - tid]; thread t also
/// reads the never-written word 64 + t before the barrier.
const REVERSE: &str = r#"//
// tilus kernel `reverse`: 64 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.extern .shared .align 16 .b8 tilus_smem[];

.visible .entry reverse(
    .param .u64 reverse_param_0,
    .param .u64 reverse_param_1
)
.maxntid 64, 1, 1
{
    .reg .pred %p<2>;
    .reg .b32 %r<12>;
    .reg .b64 %rd<8>;

    ld.param.u64 %rd1, [reverse_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [reverse_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    mov.u32 %r1, %tid.x;
    mov.u32 %r2, tilus_smem;
    shl.b32 %r3, %r1, 2;
    add.s32 %r4, %r2, %r3;
    mul.lo.s32 %r5, %r1, 3;
    add.s32 %r5, %r5, 1;
    st.shared.b32 [%r4], %r5;
    ld.shared.b32 %r9, [%r4+256];
    bar.sync 0;
    sub.s32 %r6, 63, %r1;
    shl.b32 %r6, %r6, 2;
    add.s32 %r7, %r2, %r6;
    ld.shared.b32 %r8, [%r7];
    mul.wide.u32 %rd3, %r1, 4;
    add.s64 %rd4, %rd1, %rd3;
    st.global.b32 [%rd4], %r8;
    add.s64 %rd5, %rd2, %rd3;
    st.global.b32 [%rd5], %r9;
    ret;
}
"#;

#[test]
fn shared_memory_reversal_across_two_warps() {
    let m = module("reverse", REVERSE);
    let (mem, _) = run(
        &m,
        "reverse",
        cfg(3, 64, 512),
        vec![vec![0; 256], vec![0; 256]],
    )
    .unwrap();
    let out = u32s(&mem.buffers[0]);
    for t in 0..64u32 {
        assert_eq!(out[t as usize], (63 - t) * 3 + 1, "thread {t}");
    }
    // Uninitialized shared memory reads as the garbage pattern, in every block.
    let g = u32::from_le_bytes([SHARED_GARBAGE; 4]);
    assert!(u32s(&mem.buffers[1]).iter().all(|&w| w == g));
    assert_eq!(g, 0xA5A5_A5A5);
    assert_eq!(SHARED_BASE, 0x400);
}

/// cp.async: each of 32 threads copies 16 bytes (src-size 16 for tid < 20, else 0 with an
/// out-of-bounds source) in group 1, and 4 + 8 bytes with `.ca` in group 2; after
/// `wait_group 1` group 1 is visible and group 2 is not; after `wait_all` both are.
const CPASYNC: &str = r#"//
// tilus kernel `cpasync`: 32 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.extern .shared .align 16 .b8 tilus_smem[];

.visible .entry cpasync(
    .param .u64 cpasync_param_0,
    .param .u64 cpasync_param_1,
    .param .u64 cpasync_param_2
)
.maxntid 32, 1, 1
{
    .reg .pred %p<2>;
    .reg .b32 %r<30>;
    .reg .b64 %rd<12>;

    ld.param.u64 %rd1, [cpasync_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [cpasync_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    ld.param.u64 %rd3, [cpasync_param_2];
    cvta.to.global.u64 %rd3, %rd3;
    mov.u32 %r1, %tid.x;
    mov.u32 %r2, tilus_smem;
    shl.b32 %r3, %r1, 4;
    add.s32 %r4, %r2, %r3;
    mul.wide.u32 %rd4, %r3, 1;
    add.s64 %rd5, %rd1, %rd4;
    setp.lt.u32 %p1, %r1, 20;
    selp.b32 %r5, 16, 0, %p1;
    cp.async.cg.shared.global [%r4], [%rd5], 16, %r5;
    cp.async.commit_group;
    shl.b32 %r6, %r1, 3;
    add.s32 %r7, %r2, %r6;
    add.s32 %r7, %r7, 512;
    mul.wide.u32 %rd6, %r6, 1;
    add.s64 %rd7, %rd2, %rd6;
    mov.u32 %r8, 8;
    cp.async.ca.shared.global [%r7], [%rd7], 8, %r8;
    shl.b32 %r9, %r1, 2;
    add.s32 %r10, %r2, %r9;
    add.s32 %r10, %r10, 768;
    add.s64 %rd8, %rd7, 256;
    mov.u32 %r11, 4;
    cp.async.ca.shared.global [%r10], [%rd8], 4, %r11;
    cp.async.commit_group;
    cp.async.wait_group 1;
    ld.shared.v4.b32 {%r12, %r13, %r14, %r15}, [%r4];
    ld.shared.v2.b32 {%r16, %r17}, [%r7];
    cp.async.wait_all;
    ld.shared.v2.b32 {%r18, %r19}, [%r7];
    ld.shared.b32 %r20, [%r10];
    mul.wide.u32 %rd9, %r1, 32;
    add.s64 %rd10, %rd3, %rd9;
    st.global.v4.b32 [%rd10], {%r12, %r13, %r14, %r15};
    st.global.v2.b32 [%rd10+16], {%r16, %r17};
    st.global.v2.b32 [%rd10+24], {%r18, %r19};
    st.global.b32 [%rd10+28], %r20;
    ret;
}
"#;

#[test]
fn cp_async_zero_fill_and_wait_group() {
    let m = module("cpasync", CPASYNC);
    let src1: Vec<u32> = (0..20 * 4).map(|i| 1000 + i).collect();
    let src2: Vec<u32> = (0..128).map(|i| 5000 + i).collect();
    let (mem, _) = run(
        &m,
        "cpasync",
        cfg(1, 32, 1024),
        vec![bytes_u32(&src1), bytes_u32(&src2), vec![0; 32 * 32]],
    )
    .unwrap();
    let out = u32s(&mem.buffers[2]);
    let g = 0xA5A5_A5A5;
    for t in 0..32usize {
        let o = &out[8 * t..8 * t + 8];
        for k in 0..4 {
            let want = if t < 20 {
                1000 + 4 * t as u32 + k as u32
            } else {
                0
            };
            assert_eq!(o[k], want, "thread {t} word {k} of the 16-byte copy");
        }
        assert_eq!(
            &o[4..6],
            &[g, g],
            "thread {t}: group 2 is still pending after wait_group 1"
        );
        assert_eq!(
            o[6],
            5000 + 2 * t as u32,
            "thread {t}: the 8-byte copy after wait_all"
        );
        // word 7: first the 8-byte copy's second word, then overwritten by the 4-byte copy.
        assert_eq!(
            o[7],
            5000 + 64 + 2 * t as u32,
            "thread {t}: the 4-byte copy"
        );
    }
}

/// red.shared.or / red.global.and|or, ld.acquire / st.release, vector global access, and
/// the nc + cache-hint load form.
const REDUCE: &str = r#"//
// tilus kernel `reduce`: 64 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.extern .shared .align 16 .b8 tilus_smem[];

.visible .entry reduce(
    .param .u64 reduce_param_0,
    .param .u64 reduce_param_1
)
.maxntid 64, 1, 1
{
    .reg .pred %p<3>;
    .reg .b32 %r<20>;
    .reg .f32 %f<6>;
    .reg .b64 %rd<12>;

    ld.param.u64 %rd1, [reduce_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [reduce_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    mov.u32 %r1, %tid.x;
    mov.u32 %r2, tilus_smem;
    setp.eq.s32 %p1, %r1, 0;
    mov.u32 %r3, 0;
    @%p1 st.shared.v2.b32 [%r2], {%r3, %r3};
    bar.sync 0;
    and.b32 %r4, %r1, 31;
    mov.u32 %r5, 1;
    shl.b32 %r5, %r5, %r4;
    shr.u32 %r6, %r1, 5;
    shl.b32 %r6, %r6, 2;
    add.s32 %r7, %r2, %r6;
    setp.ne.s32 %p2, %r4, 7;
    @%p2 red.shared.or.b32 [%r7], %r5;
    red.global.or.b32 [%rd2+8], %r5;
    not.b32 %r8, %r5;
    red.global.and.b32 [%rd2+12], %r8;
    bar.sync 0;
    @!%p1 bra $L__done;
    ld.shared.v2.b32 {%r9, %r10}, [%r2];
    st.global.v2.b32 [%rd2], {%r9, %r10};
    createpolicy.fractional.L2::evict_first.b64 %rd3, 1.0;
    ld.global.nc.L1::no_allocate.L2::cache_hint.v4.b32 {%r11, %r12, %r13, %r14}, [%rd1], %rd3;
    ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd1+16];
    add.rn.f32 %f5, %f1, %f4;
    add.s32 %r15, %r11, %r14;
    st.global.b32 [%rd2+16], %r15;
    st.global.f32 [%rd2+20], %f5;
    ld.acquire.gpu.global.b32 %r16, [%rd1+32];
    add.s32 %r16, %r16, 1;
    st.release.gpu.global.b32 [%rd1+32], %r16;
    ld.global.nc.v2.f32 {%f1, %f2}, [%rd1+16];
    st.global.v4.f32 [%rd2+32], {%f2, %f1, %f2, %f1};
$L__done:
    ret;
}
"#;

#[test]
fn reductions_vectors_and_semaphores() {
    let m = module("reduce", REDUCE);
    let mut input = bytes_u32(&[10, 20, 30, 40]);
    input.extend(bytes_f32(&[1.5, 2.5, 3.5, 4.5]));
    input.extend(bytes_u32(&[41, 0, 0, 0]));
    let mut out = vec![0u8; 48];
    out[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let (mem, _) = run(&m, "reduce", cfg(2, 64, 64), vec![input, out]).unwrap();
    let o = u32s(&mem.buffers[1]);
    // Thread 0 zeroes the two words; lane 7 does not contribute.
    assert_eq!(o[0], !(1 << 7));
    assert_eq!(o[1], !(1 << 7));
    assert_eq!(o[2], u32::MAX, "red.global.or over both blocks");
    assert_eq!(o[3], 0, "red.global.and over both blocks");
    assert_eq!(o[4], 50);
    assert_eq!(f32::from_bits(o[5]), 6.0);
    assert_eq!(
        u32s(&mem.buffers[0])[8],
        43,
        "each block bumps the semaphore once"
    );
    assert_eq!(f32s(&mem.buffers[1])[8..12], [2.5, 1.5, 2.5, 1.5]);
}
