//! Throughput: a GEMM-like loop (shared memory, barriers, fma, mma) of about 1e8
//! instructions (about a second; the brief allows well under a minute).

mod common;
use common::*;

/// Each of 128 threads runs `iters` iterations of: store to shared, bar.sync, load a
/// neighbour, fma, a warp-wide mma, loop.
const PERF: &str = r#"//
// tilus kernel `perf`: 128 threads per block. Hand-written test.
//
.version 8.0
.target sm_80
.address_size 64

.extern .shared .align 16 .b8 tilus_smem[];

.visible .entry perf(
    .param .u64 perf_param_0,
    .param .u64 perf_param_1
)
.maxntid 128, 1, 1
{
    .reg .pred %p<3>;
    .reg .b32 %r<20>;
    .reg .f32 %f<20>;
    .reg .b64 %rd<8>;

    ld.param.u64 %rd1, [perf_param_0];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.u64 %rd2, [perf_param_1];
    cvta.to.global.u64 %rd2, %rd2;
    ld.global.nc.b32 %r10, [%rd2];
    mov.u32 %r1, %tid.x;
    mov.u32 %r2, tilus_smem;
    shl.b32 %r3, %r1, 2;
    add.s32 %r4, %r2, %r3;
    xor.b32 %r5, %r3, 4;
    add.s32 %r5, %r2, %r5;
    mov.u32 %r6, 0;
    mov.f32 %f1, 0f3F800000;
    mov.f32 %f2, 0f00000000;
    mov.u32 %r11, 0x3c003c00;
$L__loop:
    st.shared.f32 [%r4], %f1;
    bar.sync 0;
    ld.shared.f32 %f3, [%r5];
    fma.rn.f32 %f2, %f3, 0f3F000000, %f2;
    add.rn.f32 %f1, %f1, 0f3F800000;
    mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f4, %f5, %f6, %f7}, {%r11, %r11, %r11, %r11}, {%r11, %r11}, {%f4, %f5, %f6, %f7};
    lop3.b32 %r12, %r6, %r1, %r11, 0x96;
    prmt.b32 %r13, %r12, %r6, 0x5410;
    shr.u32 %r14, %r13, 3;
    and.b32 %r14, %r14, 7;
    add.s32 %r6, %r6, 1;
    bar.sync 0;
    setp.lt.u32 %p1, %r6, %r10;
    @%p1 bra $L__loop;
    add.rn.f32 %f2, %f2, %f4;
    mul.wide.u32 %rd3, %r1, 4;
    add.s64 %rd4, %rd1, %rd3;
    st.global.f32 [%rd4], %f2;
    ret;
}
"#;

fn run_perf(blocks: u32, iters: u32) -> (u64, std::time::Duration) {
    let m = module("perf", PERF);
    let start = std::time::Instant::now();
    let (mem, stats) = run(
        &m,
        "perf",
        cfg(blocks, 128, 512),
        vec![vec![0; 512], bytes_u32(&[iters])],
    )
    .unwrap();
    let took = start.elapsed();
    let out = f32s(&mem.buffers[0]);
    // f2 = Σ_{i<iters} 0.5·(i+1) = iters·(iters+1)/4 (exact for small iters), plus f4 = 16·iters.
    let want = (iters as f64 * (iters as f64 + 1.0) / 4.0 + 16.0 * iters as f64) as f32;
    assert!(out.iter().all(|&x| x == want), "{} vs {want}", out[0]);
    (stats.instructions, took)
}

#[test]
fn small_gemm_like_loop() {
    let (n, _) = run_perf(2, 50);
    assert!(n > 2 * 128 * 50 * 14);
}

#[test]
fn hundred_million_instructions() {
    let (n, took) = run_perf(64, 900);
    eprintln!(
        "{n} instructions in {took:?}: {:.1} M/s",
        n as f64 / took.as_secs_f64() / 1e6
    );
    assert!(n > 100_000_000);
    assert!(took.as_secs() < 60, "{took:?}");
}
