//! Tile interpreter: shared memory staging, `copy_async` groups, race and wait detection,
//! semaphores (split-K in any block order, deadlock), `requires_clean`, and a mixed-precision
//! GEMM that must run fast.

use std::time::Instant;

use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::interp::{run, Arg, BlockOrder, HostBuffer, InterpErrorKind, RunOptions};
use tilus_ir::layout::spatial;
use tilus_ir::program::{Function, Program, Unroll};
use tilus_ir::verify::{verify, VerifiedProgram};

const F32: DType = DType::F32;
const F16: DType = DType::F16;
const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};
const U4: DType = DType::Int {
    bits: 4,
    signed: false,
};
const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};

fn verified(f: Function) -> VerifiedProgram {
    match verify(Program { functions: vec![f] }) {
        Ok(v) => v,
        Err(e) => panic!("verifier rejected the test kernel: {e}"),
    }
}

fn buf(a: &Arg) -> &HostBuffer {
    a.as_buffer().expect("a buffer argument")
}

/// How the f16 GEMM waits for its copies before loading them.
#[derive(Clone, Copy)]
enum Wait {
    /// `wait_group(n)` after every commit. 0 is correct; 1 leaves the newest group, the one
    /// just committed, in flight: the verifier accepts any wait on every path and leaves the
    /// group arithmetic to the interpreter.
    Group(u32),
    /// `wait_group(0)` only in blocks with `blockIdx.x == 0`: the loads are reachable without
    /// a wait, which the verifier sees and rejects.
    OnlyInFirstColumn,
}

/// f16 GEMM `c = a @ b` (f32 accumulation) staged through shared memory with `copy_async`.
/// The two syncs run only when their flag parameter is non-zero, so one kernel can show
/// both races at run time; the wait is chosen when the kernel is built.
fn gemm_f16_function(bm: usize, bn: usize, bk: usize, wait: Wait) -> Function {
    let kb = KernelBuilder::new("gemm", 4);
    let m = kb.scalar_param("m", ScalarType::I32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let do_sync_a = kb.scalar_param("do_sync_a", ScalarType::I32);
    let do_sync_b = kb.scalar_param("do_sync_b", ScalarType::I32);
    let a = kb.pointer_param("a", F16);
    let b = kb.pointer_param("b", F16);
    let c = kb.pointer_param("c", F32);
    kb.grid(&[n.cdiv(bn), m.cdiv(bm)]);
    let ga = kb.global_view(a, &[m, k]);
    let gb = kb.global_view(b, &[k, n]);
    let gc = kb.global_view(c, &[m, n]);
    let sa = kb.alloc_shared(F16, &[bm, bk]).named("sa");
    let sb = kb.alloc_shared(F16, &[bk, bn]).named("sb");
    let acc = kb.alloc_register(F32, &[bm, bn], Some(0.0)).named("acc");
    let row = kb.block_idx(Axis::Y) * bm;
    let col = kb.block_idx(Axis::X) * bn;
    kb.for_range("kt", 0, k.cdiv(bk), 1, Unroll::None, |kt| {
        let k0 = kt * bk;
        kb.copy_async(&sa, &ga, &[row, k0]);
        kb.copy_async(&sb, &gb, &[k0, col]);
        kb.commit_group();
        match wait {
            Wait::Group(n) => kb.wait_group(n),
            Wait::OnlyInFirstColumn => {
                let first_column = kb.block_idx(Axis::X).eq(0);
                kb.if_then(first_column, || kb.wait_group(0));
            }
        }
        kb.if_then(do_sync_a.ne(0), || kb.sync());
        let ra = kb.load_shared(&sa);
        let rb = kb.load_shared(&sb);
        kb.dot_acc(&ra, &rb, &acc);
        kb.if_then(do_sync_b.ne(0), || kb.sync());
    });
    kb.store_global(&gc, &acc, &[row, col]);
    kb.free_shared(&sa);
    kb.free_shared(&sb);
    kb.finish().expect("kernel")
}

/// The GEMM with `wait_group(wait_n)` after every commit.
fn gemm_f16(bm: usize, bn: usize, bk: usize, wait_n: u32) -> VerifiedProgram {
    verified(gemm_f16_function(bm, bn, bk, Wait::Group(wait_n)))
}

/// The documented `dot` order: ascending k, each `acc + a*b` in f64 rounded to f32.
fn reference_gemm(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f32;
            for kk in 0..k {
                acc = (f64::from(acc) + f64::from(a[i * k + kk]) * f64::from(b[kk * n + j])) as f32;
            }
            c[i * n + j] = acc;
        }
    }
    c
}

/// Arguments for the GEMM; `flags` are `do_sync_a` and `do_sync_b`.
fn gemm_args(m: usize, n: usize, k: usize, flags: [i64; 2]) -> Vec<Arg> {
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i * 7 % 31) as f32 - 15.0) / 3.0)
        .collect();
    vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        Arg::Int(flags[0]),
        Arg::Int(flags[1]),
        Arg::Buffer(HostBuffer::from_f32(F16, &a)),
        Arg::Buffer(HostBuffer::from_f32(F16, &b)),
        Arg::Buffer(HostBuffer::zeros(F32, m * n)),
    ]
}

#[test]
fn f16_gemm_with_shared_staging() {
    let p = gemm_f16(32, 32, 16, 0);
    let (m, n, k) = (40, 48, 80);
    let mut want = None;
    for order in [
        BlockOrder::Sequential,
        BlockOrder::Reverse,
        BlockOrder::Shuffled(7),
    ] {
        let mut args = gemm_args(m, n, k, [1, 1]);
        let opts = RunOptions {
            block_order: order,
            ..RunOptions::default()
        };
        let r = run(&p, "gemm", &mut args, &opts).expect("gemm");
        assert_eq!(r.blocks, 4);
        assert_eq!(r.dropped_copies, 0);
        let c = buf(&args[7]).to_f32();
        let w = want.get_or_insert_with(|| {
            let a = buf(&args[5]).to_f32();
            let b = buf(&args[6]).to_f32();
            reference_gemm(&a, &b, m, n, k)
        });
        for i in 0..m * n {
            assert_eq!(c[i].to_bits(), w[i].to_bits(), "{order:?} element {i}");
        }
    }
}

#[test]
fn gemm_without_wait_is_a_missing_wait() {
    // A wait that some blocks skip is a missing wait the verifier proves statically.
    let e = verify(Program {
        functions: vec![gemm_f16_function(32, 32, 16, Wait::OnlyInFirstColumn)],
    })
    .expect_err("a path without a wait");
    assert_eq!(e.0[0].inst.as_deref(), Some("load_shared"), "{e}");
    assert!(e.contains("%sa is written by `copy_async`"), "{e}");
    assert!(e.contains("no `wait_group`/`wait_all` in between"), "{e}");
    // `wait_group 1` right after the only commit leaves that group in flight: the verifier
    // accepts any wait, the interpreter counts the groups and finds the copy still pending.
    let p = gemm_f16(32, 32, 16, 1);
    let mut args = gemm_args(40, 48, 80, [1, 1]);
    let e = run(&p, "gemm", &mut args, &RunOptions::default()).expect_err("missing wait");
    assert_eq!(e.kind, InterpErrorKind::MissingWait);
    assert_eq!(e.inst.as_deref(), Some("load_shared"));
    let msg = e.to_string();
    assert!(
        msg.contains("in kernel `gemm`, block (0,0,0), `load_shared`"),
        "{msg}"
    );
    assert!(msg.contains("reads %sa filled by copy_async"), "{msg}");
    assert!(msg.contains("no wait_group/wait_all covering it"), "{msg}");
}

#[test]
fn gemm_without_sync_before_loads_is_a_race() {
    let p = gemm_f16(32, 32, 16, 0);
    let mut args = gemm_args(40, 48, 80, [0, 1]);
    let e = run(&p, "gemm", &mut args, &RunOptions::default()).expect_err("race");
    assert_eq!(e.kind, InterpErrorKind::MissingSync);
    let msg = e.to_string();
    assert!(
        msg.contains("missing sync: %sa written by copy_async"),
        "{msg}"
    );
    assert!(msg.contains("and completed by wait_group"), "{msg}");
    assert!(msg.contains("is read by load_shared"), "{msg}");
}

#[test]
fn gemm_without_trailing_sync_is_a_write_after_read_race() {
    let p = gemm_f16(32, 32, 16, 0);
    let mut args = gemm_args(40, 48, 80, [1, 0]);
    let e = run(&p, "gemm", &mut args, &RunOptions::default()).expect_err("race");
    assert_eq!(e.kind, InterpErrorKind::MissingSync);
    assert_eq!(e.inst.as_deref(), Some("copy_async"));
    assert!(e.message.contains("read by load_shared"), "{e}");
    // With a single k iteration nothing is overwritten: no race.
    let mut args = gemm_args(40, 48, 16, [1, 0]);
    run(&p, "gemm", &mut args, &RunOptions::default()).expect("one iteration is fine");
}

/// Double-buffered A operand: stage `kt % 2` is read while stage `(kt + 1) % 2` is filled.
fn pipelined(wait_n: u32) -> VerifiedProgram {
    let (bm, bk) = (16usize, 8usize);
    let kb = KernelBuilder::new("pipe", 1);
    let k = kb.scalar_param("k", ScalarType::I32);
    let a = kb.pointer_param("a", F16);
    let b = kb.pointer_param("b", F16);
    let c = kb.pointer_param("c", F32);
    kb.grid(&[1]);
    let ga = kb.global_view(a, &[kb.int(bm as i64), k]);
    let gb = kb.global_view(b, &[k, kb.int(8)]);
    let gc = kb.global_view(c, &[bm, 8]);
    let sa = kb.alloc_shared(F16, &[2, bm, bk]).named("sa");
    let acc = kb.alloc_register(F32, &[bm, 8], Some(0.0));
    let nk = k.cdiv(bk);
    let s0 = kb.slice(&sa, &[kb.int(0)]);
    kb.copy_async(&s0, &ga, &[kb.int(0), kb.int(0)]);
    kb.commit_group();
    kb.for_range("kt", 0, nk, 1, Unroll::None, |kt| {
        kb.if_then((kt + 1).lt(nk), || {
            let next = kb.slice(&sa, &[(kt + 1) % 2]).named("next");
            kb.copy_async(&next, &ga, &[kb.int(0), (kt + 1) * bk]);
        });
        kb.commit_group();
        kb.wait_group(wait_n);
        kb.sync();
        let cur = kb.slice(&sa, &[kt % 2]).named("cur");
        let ra = kb.load_shared(&cur);
        let rb = kb.load_global(&gb, &[kt * bk, kb.int(0)], &[bk, 8]);
        kb.dot_acc(&ra, &rb, &acc);
        kb.sync();
    });
    kb.store_global(&gc, &acc, &[kb.int(0), kb.int(0)]);
    kb.free_shared(&sa);
    verified(kb.finish().expect("kernel"))
}

#[test]
fn multi_stage_buffers_track_each_stage() {
    let k = 40;
    let a: Vec<f32> = (0..16 * k).map(|i| (i % 11) as f32 - 5.0).collect();
    let b: Vec<f32> = (0..k * 8).map(|i| (i % 7) as f32 * 0.5).collect();
    let args = || {
        vec![
            Arg::Int(k as i64),
            Arg::Buffer(HostBuffer::from_f32(F16, &a)),
            Arg::Buffer(HostBuffer::from_f32(F16, &b)),
            Arg::Buffer(HostBuffer::zeros(F32, 16 * 8)),
        ]
    };
    let mut ok = args();
    let r = run(&pipelined(1), "pipe", &mut ok, &RunOptions::default()).expect("pipelined");
    assert_eq!(r.dropped_copies, 0);
    assert_eq!(buf(&ok[3]).to_f32(), reference_gemm(&a, &b, 16, 8, k));
    // Waiting for all but the newest two groups leaves the current stage in flight.
    let mut bad = args();
    let e = run(&pipelined(2), "pipe", &mut bad, &RunOptions::default()).expect_err("wait");
    assert_eq!(e.kind, InterpErrorKind::MissingWait);
    assert!(e.message.contains("%cur"), "{e}");
}

#[test]
fn shared_memory_misuse() {
    // store_shared into a tile with a copy in flight: the verifier only follows copies to
    // loads, the interpreter catches the write at run time.
    let kb = KernelBuilder::new("misuse", 1);
    let a = kb.pointer_param("a", F32);
    kb.grid(&[1]);
    let g = kb.global_view(a, &[8]);
    let s = kb.alloc_shared(F32, &[8]).named("s");
    let r = kb.load_global(&g, &[kb.int(0)], &[8]);
    kb.copy_async(&s, &g, &[kb.int(0)]);
    kb.store_shared(&s, &r);
    kb.free_shared(&s);
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![Arg::Buffer(HostBuffer::zeros(F32, 8))];
    let e = run(&p, "misuse", &mut args, &RunOptions::default()).expect_err("misuse");
    assert_eq!(e.kind, InterpErrorKind::MissingWait, "{e}");
    assert_eq!(e.inst.as_deref(), Some("store_shared"), "{e}");
    // A load after free is in program order, which the verifier follows: it is rejected
    // before it can run.
    let kb = KernelBuilder::new("misuse", 1);
    let a = kb.pointer_param("a", F32);
    kb.grid(&[1]);
    let g = kb.global_view(a, &[8]);
    let s = kb.alloc_shared(F32, &[8]).named("s");
    let r = kb.load_global(&g, &[kb.int(0)], &[8]);
    kb.store_shared(&s, &r);
    kb.sync();
    kb.free_shared(&s);
    let _ = kb.load_shared(&s);
    let e = verify(Program {
        functions: vec![kb.finish().expect("kernel")],
    })
    .expect_err("use after free");
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].inst.as_deref(), Some("load_shared"), "{e}");
    assert!(
        e.contains("%s is used after it was freed by `free_shared`"),
        "{e}"
    );
    // A copy never waited for: every shared tile must be freed, and freeing it with the
    // copy in flight is caught at run time (the verifier requires the free).
    let kb = KernelBuilder::new("drop", 1);
    let a = kb.pointer_param("a", F32);
    kb.grid(&[2]);
    let g = kb.global_view(a, &[8]);
    let s = kb.alloc_shared(F32, &[8]);
    kb.copy_async(&s, &g, &[kb.int(0)]);
    kb.free_shared(&s);
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![Arg::Buffer(HostBuffer::zeros(F32, 8))];
    let e = run(&p, "drop", &mut args, &RunOptions::default()).expect_err("no wait");
    assert_eq!(e.kind, InterpErrorKind::MissingWait, "{e}");
    assert_eq!(e.inst.as_deref(), Some("free_shared"), "{e}");
}

/// Split-K: block `kb` adds row `kb` of x into `out` after block `kb - 1` did, ordered by a
/// semaphore in a `requires_clean` workspace; the last block resets it when `reset`.
fn split_k(reset: bool) -> VerifiedProgram {
    let kb = KernelBuilder::new("splitk", 1);
    let s = kb.scalar_param("s", ScalarType::I32);
    let x = kb.pointer_param("x", F32);
    let out = kb.pointer_param("out", F32);
    kb.grid(&[s]);
    let sem = kb.alloc_global(I32, &[1], true).named("sem");
    let gx = kb.global_view(x, &[s, kb.int(64)]);
    let go = kb.global_view(out, &[64]);
    let k = kb.block_idx(Axis::X);
    let t = kb.load_global(&gx, &[k, kb.int(0)], &[64]);
    kb.lock_semaphore(&sem, &[kb.int(0)], k);
    let c = kb.load_global(&go, &[kb.int(0)], &[64]);
    let c2 = c + t;
    kb.store_global(&go, &c2, &[kb.int(0)]);
    let next = if reset { (k + 1) % s } else { k + 1 };
    kb.release_semaphore(&sem, &[kb.int(0)], next);
    verified(kb.finish().expect("kernel"))
}

#[test]
fn split_k_accumulates_in_order_whatever_the_block_order() {
    let p = split_k(true);
    let s = 6usize;
    // Magnitudes that make f32 addition order visible.
    let x: Vec<f32> = (0..s * 64)
        .map(|i| {
            let (r, c) = (i / 64, i % 64);
            if r % 2 == 0 {
                1.0e8 + c as f32
            } else {
                -1.0e8 + 0.37 * (c as f32 + r as f32)
            }
        })
        .collect();
    let mut want = vec![0.0f32; 64];
    for r in 0..s {
        for c in 0..64 {
            want[c] += x[r * 64 + c];
        }
    }
    for order in [
        BlockOrder::Sequential,
        BlockOrder::Reverse,
        BlockOrder::Shuffled(1),
        BlockOrder::Shuffled(0xDEAD_BEEF),
    ] {
        let mut args = vec![
            Arg::Int(s as i64),
            Arg::Buffer(HostBuffer::from_f32(F32, &x)),
            Arg::Buffer(HostBuffer::zeros(F32, 64)),
        ];
        let opts = RunOptions {
            block_order: order,
            ..RunOptions::default()
        };
        let r = run(&p, "splitk", &mut args, &opts).expect("split-k");
        assert_eq!(r.blocks, s as u64);
        let got = buf(&args[2]).to_f32();
        for c in 0..64 {
            assert_eq!(got[c].to_bits(), want[c].to_bits(), "{order:?} column {c}");
        }
    }
}

#[test]
fn requires_clean_is_checked_at_the_end() {
    let p = split_k(false);
    let mut args = vec![
        Arg::Int(3),
        Arg::Buffer(HostBuffer::zeros(F32, 3 * 64)),
        Arg::Buffer(HostBuffer::zeros(F32, 64)),
    ];
    let e = run(&p, "splitk", &mut args, &RunOptions::default()).expect_err("not clean");
    assert_eq!(e.kind, InterpErrorKind::RequiresCleanViolated);
    assert!(e.message.contains("%sem"), "{e}");
    assert!(e.message.contains("is 3"), "{e}");
}

#[test]
fn deadlock_is_reported() {
    let kb = KernelBuilder::new("stuck", 1);
    let v = kb.scalar_param("v", ScalarType::I32);
    kb.grid(&[2]);
    let sem = kb.alloc_global(I32, &[2], false).named("sem");
    let k = kb.block_idx(Axis::X);
    kb.lock_semaphore(&sem, &[k], v);
    let p = verified(kb.finish().expect("kernel"));
    for order in [BlockOrder::Sequential, BlockOrder::Reverse] {
        let opts = RunOptions {
            block_order: order,
            ..RunOptions::default()
        };
        let e = run(&p, "stuck", &mut [Arg::Int(5)], &opts).expect_err("deadlock");
        assert_eq!(e.kind, InterpErrorKind::Deadlock);
        let msg = e.to_string();
        assert!(
            msg.contains("block (0,0,0) waits at lock_semaphore"),
            "{msg}"
        );
        assert!(msg.contains("%sem[1] == 5 (it holds 0)"), "{msg}");
    }
    run(&p, "stuck", &mut [Arg::Int(0)], &RunOptions::default()).expect("no wait");
}

/// The mixed-precision GEMM of the brief: f16 activations [m, k] through shared memory,
/// u4 weights [k, n] loaded as bytes, viewed as u4, dequantized to f16 (zero point 8).
fn mixed_gemm() -> VerifiedProgram {
    let (bm, bn, bk) = (64usize, 64usize, 32usize);
    let kb = KernelBuilder::new("w4a16", 4);
    let m = kb.scalar_param("m", ScalarType::I32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let a = kb.pointer_param("a", F16);
    let b = kb.pointer_param("b", U8);
    let c = kb.pointer_param("c", F32);
    kb.grid(&[n.cdiv(bn), m.cdiv(bm)]);
    let ga = kb.global_view(a, &[m, k]);
    let gb = kb.global_view(b, &[k, n / 2]);
    let gc = kb.global_view(c, &[m, n]);
    let sa = kb.alloc_shared(F16, &[bm, bk]);
    let acc = kb.alloc_register(F32, &[bm, bn], Some(0.0));
    let row = kb.block_idx(Axis::Y) * bm;
    let col = kb.block_idx(Axis::X) * bn;
    let lq = spatial(&[32, 4]).local(&[1, 8]);
    let l4 = spatial(&[32, 4]).local(&[1, 16]);
    kb.for_range("kt", 0, k.cdiv(bk), 1, Unroll::None, |kt| {
        kb.copy_async(&sa, &ga, &[row, kt * bk]);
        kb.commit_group();
        kb.wait_group(0);
        kb.sync();
        let ra = kb.load_shared(&sa);
        let bq = kb.load_global(&gb, &[kt * bk, col / 2], &[bk, bn / 2]);
        kb.annotate_layout(&bq, &lq);
        let b4 = kb.view(&bq, U4, &l4);
        let bh = b4.cast(F16) - 8.0f64;
        kb.dot_acc(&ra, &bh, &acc);
        kb.sync();
    });
    kb.store_global(&gc, &acc, &[row, col]);
    kb.free_shared(&sa);
    verified(kb.finish().expect("kernel"))
}

#[test]
fn mixed_precision_gemm_is_exact_and_fast() {
    let p = mixed_gemm();
    let (m, n, k) = (33usize, 384usize, 200usize);
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 17 % 41) as f32 - 20.0) / 16.0)
        .collect();
    let w: Vec<u64> = (0..k * n)
        .map(|i| (i as u64 * 11 + i as u64 / 7) % 16)
        .collect();
    let mut args = vec![
        Arg::Int(m as i64),
        Arg::Int(n as i64),
        Arg::Int(k as i64),
        Arg::Buffer(HostBuffer::from_f32(F16, &a)),
        // Row-major u4 codes, two per byte, low nibble first: the u8 buffer is the bit stream.
        Arg::Buffer(HostBuffer {
            dtype: U8,
            len: k * n / 2,
            bytes: tilus_ir::dtype::pack::pack(4, &w),
        }),
        Arg::Buffer(HostBuffer::zeros(F32, m * n)),
    ];
    let t0 = Instant::now();
    let r = run(&p, "w4a16", &mut args, &RunOptions::default()).expect("w4a16");
    let dt = t0.elapsed();
    eprintln!("33x384x200 w4a16 GEMM: {} blocks in {dt:?}", r.blocks);
    assert_eq!(r.blocks, 6);
    let ah = buf(&args[3]).to_f32();
    let bh: Vec<f32> = w.iter().map(|&q| q as f32 - 8.0).collect();
    let want = reference_gemm(&ah, &bh, m, n, k);
    let got = buf(&args[5]).to_f32();
    for i in 0..m * n {
        assert_eq!(got[i].to_bits(), want[i].to_bits(), "element {i}");
    }
    // Generous bound for unoptimized test builds; release builds take a few milliseconds.
    assert!(dt.as_secs_f64() < 20.0, "too slow: {dt:?}");
}
