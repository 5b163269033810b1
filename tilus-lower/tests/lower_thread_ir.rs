//! The thread IR on its own: the printed form, the verifier, and the thread interpreter's
//! barriers, warp intrinsics (`mma`, `ldmatrix`), asynchronous copies, semaphores and errors.

use tilus_ir::dtype::DType;
use tilus_ir::expr::Axis;
use tilus_ir::layout::atoms::{mma_m16n8k16_a, mma_m16n8k16_b, mma_m16n8k16_c};
use tilus_lower::artifact::GridExpr;
use tilus_lower::thread_ir::interp::{
    run_block, run_kernel, Arg, HostBuffer, RunOptions, ThreadInterpErrorKind,
};
use tilus_lower::thread_ir::verify::verify;
use tilus_lower::thread_ir::{
    BinaryOp, BufferKind, KernelBuilder, LocalRef, MemRef, MmaShape, Param, ParamKind, Space, Stmt,
    ThreadKernel, Ty,
};

const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

/// A kernel with pointer parameters of the given dtypes.
fn with_buffers(name: &str, threads: u32, dtypes: &[DType]) -> KernelBuilder {
    let mut b = KernelBuilder::new(name, threads);
    for (i, &d) in dtypes.iter().enumerate() {
        let buf = b.buffer(&format!("p{i}"), d, BufferKind::Param(i as u32));
        b.kernel.params.push(Param {
            name: format!("p{i}"),
            kind: ParamKind::Pointer(buf),
            dtype: None,
        });
    }
    b.kernel.grid = vec![GridExpr::Const(1)];
    b
}

fn global(b: &KernelBuilder, i: usize) -> Space {
    match b.kernel.params[i].kind {
        ParamKind::Pointer(h) => Space::Global(h),
        ParamKind::Scalar(_) => unreachable!("a pointer"),
    }
}

fn run(
    k: &ThreadKernel,
    args: &mut [Arg],
) -> Result<(), tilus_lower::thread_ir::interp::ThreadInterpError> {
    verify(k).map_err(|e| panic!("{e}\n{k}")).ok();
    run_kernel(k, args, &RunOptions::default())
}

#[test]
fn printed_form_is_stable() {
    let mut b = with_buffers("demo", 32, &[DType::F32]);
    let x = b.local("x", DType::F32, 2);
    let v = b.var("i", Ty::I32);
    let tid = b.thread_idx();
    let two = b.i32(2);
    let base = b.mul(tid, two);
    let n = b.i32(48);
    let mask = b.lt(base, n);
    let sp = global(&b, 0);
    b.push(Stmt::Load {
        dst: LocalRef { array: x, slot: 0 },
        src: MemRef {
            space: sp,
            index: base,
        },
        width: 2,
        mask: Some(mask),
    });
    let (s, e, st) = (b.i32(0), b.i32(3), b.i32(1));
    let x0 = b.read_local(x, 0);
    let half = b.f32(0.5);
    let y = b.binary(BinaryOp::Mul, x0, half);
    b.push(Stmt::For {
        var: v,
        start: s,
        end: e,
        step: st,
        body: vec![Stmt::SetLocal {
            dst: LocalRef { array: x, slot: 0 },
            value: y,
        }],
    });
    b.push(Stmt::Barrier);
    b.push(Stmt::Store {
        dst: MemRef {
            space: sp,
            index: base,
        },
        src: LocalRef { array: x, slot: 0 },
        width: 2,
        mask: Some(mask),
    });
    let k = b.finish();
    assert!(verify(&k).is_ok());
    let want = "\
kernel demo threads=32 grid=(1) shared=0
  param @p0: f32
  local %x: f32[2]
  var $i: i32
{
  %x[0..2] = load.global.v2 @p0[tid * 2] if ((tid * 2) < 48)
  for $i in range(0, 3, 1) {
    %x[0] = %x[0] * 0.5f
  }
  barrier
  store.global.v2 @p0[tid * 2], %x[0..2] if ((tid * 2) < 48)
}
";
    assert_eq!(k.to_string(), want);
    // And it runs: 48 elements halved three times.
    let xs: Vec<u64> = (0..64).map(|i| u64::from((i as f32).to_bits())).collect();
    let mut args = [Arg::Buffer(HostBuffer::from_codes(DType::F32, &xs))];
    run(&k, &mut args).expect("run");
    let Arg::Buffer(out) = &args[0] else {
        unreachable!()
    };
    let got = out.codes();
    for (i, &g) in got.iter().enumerate() {
        let want = if i < 48 && i % 2 == 0 {
            i as f32 / 8.0
        } else {
            i as f32
        };
        assert_eq!(f32::from_bits(g as u32), want, "element {i}");
    }
}

#[test]
fn verifier_rejects_ill_typed_kernels() {
    // A float assigned to an i32 variable.
    let mut b = with_buffers("bad", 32, &[]);
    let v = b.var("v", Ty::I32);
    let f = b.f32(1.0);
    b.push(Stmt::Assign { var: v, value: f });
    let e = verify(&b.finish()).expect_err("type error");
    assert!(e.message.contains("expected i32"), "{e}");
    // A slot out of range.
    let mut b = with_buffers("bad", 32, &[DType::F16]);
    let x = b.local("x", DType::F16, 2);
    let i = b.i32(0);
    let sp = global(&b, 0);
    b.push(Stmt::Load {
        dst: LocalRef { array: x, slot: 1 },
        src: MemRef {
            space: sp,
            index: i,
        },
        width: 4,
        mask: None,
    });
    let e = verify(&b.finish()).expect_err("range error");
    assert!(e.message.contains("out of range"), "{e}");
    // A view that changes the size; a memory access of another dtype.
    let mut b = with_buffers("bad", 32, &[DType::F32]);
    let x = b.local(
        "x",
        DType::Int {
            bits: 8,
            signed: false,
        },
        3,
    );
    let y = b.local(
        "y",
        DType::Int {
            bits: 4,
            signed: false,
        },
        4,
    );
    b.push(Stmt::View { dst: y, src: x });
    let e = verify(&b.finish()).expect_err("size error");
    assert!(e.message.contains("changes the size"), "{e}");
    let mut b = with_buffers("bad", 32, &[DType::F32]);
    let x = b.local("x", DType::F16, 1);
    let i = b.i32(0);
    let sp = global(&b, 0);
    b.push(Stmt::Load {
        dst: LocalRef { array: x, slot: 0 },
        src: MemRef {
            space: sp,
            index: i,
        },
        width: 1,
        mask: None,
    });
    let e = verify(&b.finish()).expect_err("dtype error");
    assert!(e.message.contains("element types differ"), "{e}");
}

#[test]
fn a_barrier_reached_by_some_threads_is_an_error() {
    let mut b = with_buffers("half_barrier", 64, &[]);
    let tid = b.thread_idx();
    let c = b.i32(16);
    let cond = b.lt(tid, c);
    b.push(Stmt::If {
        cond,
        then_body: vec![Stmt::Barrier],
        else_body: Vec::new(),
    });
    let k = b.finish();
    let e = run(&k, &mut []).expect_err("mismatch");
    assert_eq!(e.kind, ThreadInterpErrorKind::BarrierMismatch, "{e}");
    assert!(e.to_string().contains("block (0,0,0)"), "{e}");
}

#[test]
fn barriers_order_shared_memory() {
    // Thread t writes t to shared[t]; after the barrier it reads shared[(t + 1) % 64].
    let mut b = with_buffers("rotate", 64, &[I32]);
    let s = b.shared("s", I32, 0, 64);
    b.kernel.shared_bytes = 256;
    let x = b.local("x", I32, 1);
    let tid = b.thread_idx();
    b.push(Stmt::SetLocal {
        dst: LocalRef { array: x, slot: 0 },
        value: tid,
    });
    b.push(Stmt::Store {
        dst: MemRef {
            space: Space::Shared(s),
            index: tid,
        },
        src: LocalRef { array: x, slot: 0 },
        width: 1,
        mask: None,
    });
    b.push(Stmt::Barrier);
    let one = b.i32(1);
    let n = b.i32(64);
    let t1 = b.add(tid, one);
    let next = b.rem(t1, n);
    b.push(Stmt::Load {
        dst: LocalRef { array: x, slot: 0 },
        src: MemRef {
            space: Space::Shared(s),
            index: next,
        },
        width: 1,
        mask: None,
    });
    let sp = global(&b, 0);
    b.push(Stmt::Store {
        dst: MemRef {
            space: sp,
            index: tid,
        },
        src: LocalRef { array: x, slot: 0 },
        width: 1,
        mask: None,
    });
    let k = b.finish();
    let mut args = [Arg::Buffer(HostBuffer::from_codes(I32, &[0; 64]))];
    run(&k, &mut args).expect("run");
    let Arg::Buffer(out) = &args[0] else {
        unreachable!()
    };
    let want: Vec<u64> = (0..64).map(|t| (t + 1) % 64).collect();
    assert_eq!(out.codes(), want);
}

#[test]
fn copy_async_lands_at_the_wait() {
    // Copy 4 elements, read shared before and after wait_all.
    let mut b = with_buffers("cp", 1, &[I32, I32]);
    let s = b.shared("s", I32, 0, 4);
    b.kernel.shared_bytes = 16;
    let x = b.local("x", I32, 8);
    let zero = b.i32(0);
    let (src, dst) = (global(&b, 0), global(&b, 1));
    b.push(Stmt::CopyAsync {
        dst: MemRef {
            space: Space::Shared(s),
            index: zero,
        },
        src: MemRef {
            space: src,
            index: zero,
        },
        width: 4,
        mask: None,
    });
    b.push(Stmt::CommitGroup);
    for (slot, wait) in [(0, false), (4, true)] {
        if wait {
            b.push(Stmt::WaitGroup(0));
        }
        b.push(Stmt::Load {
            dst: LocalRef { array: x, slot },
            src: MemRef {
                space: Space::Shared(s),
                index: zero,
            },
            width: 4,
            mask: None,
        });
    }
    b.push(Stmt::Store {
        dst: MemRef {
            space: dst,
            index: zero,
        },
        src: LocalRef { array: x, slot: 0 },
        width: 8,
        mask: None,
    });
    let k = b.finish();
    let mut args = [
        Arg::Buffer(HostBuffer::from_codes(I32, &[5, 6, 7, 8])),
        Arg::Buffer(HostBuffer::from_codes(I32, &[9; 8])),
    ];
    run(&k, &mut args).expect("run");
    let Arg::Buffer(out) = &args[1] else {
        unreachable!()
    };
    assert_eq!(out.codes(), vec![0, 0, 0, 0, 5, 6, 7, 8]);
}

#[test]
fn semaphores_deadlock_and_step_limit() {
    // Every block waits for a value nobody writes.
    let mut b = with_buffers("stuck", 32, &[I32]);
    b.kernel.grid = vec![GridExpr::Const(3)];
    let zero = b.i32(0);
    let seven = b.i32(7);
    let sp = global(&b, 0);
    b.push(Stmt::SemAcquire {
        sem: MemRef {
            space: sp,
            index: zero,
        },
        value: seven,
    });
    let k = b.finish();
    let mut args = [Arg::Buffer(HostBuffer::from_codes(I32, &[0]))];
    let e = run(&k, &mut args).expect_err("deadlock");
    assert_eq!(e.kind, ThreadInterpErrorKind::Deadlock, "{e}");
    // An endless loop hits the step limit.
    let mut b = with_buffers("endless", 1, &[]);
    let v = b.var("i", Ty::I32);
    let (s, e_, st) = (b.i32(0), b.i32(i32::MAX), b.i32(1));
    b.push(Stmt::For {
        var: v,
        start: s,
        end: e_,
        step: st,
        body: vec![],
    });
    let k = b.finish();
    let e = run_kernel(&k, &mut [], &RunOptions { max_steps: 1000 }).expect_err("limit");
    assert_eq!(e.kind, ThreadInterpErrorKind::StepLimit, "{e}");
    // A single block may run on its own.
    let mut b = with_buffers("one", 32, &[I32]);
    b.kernel.grid = vec![GridExpr::Const(4)];
    let x = b.local("x", I32, 1);
    let bid = b.block_idx(Axis::X);
    b.push(Stmt::SetLocal {
        dst: LocalRef { array: x, slot: 0 },
        value: bid,
    });
    let zero = b.i32(0);
    let sp = global(&b, 0);
    b.push(Stmt::Store {
        dst: MemRef {
            space: sp,
            index: zero,
        },
        src: LocalRef { array: x, slot: 0 },
        width: 1,
        mask: None,
    });
    let k = b.finish();
    let mut args = [Arg::Buffer(HostBuffer::from_codes(I32, &[0]))];
    run_block(&k, [2, 0, 0], &mut args, &RunOptions::default()).expect("run");
    let Arg::Buffer(out) = &args[0] else {
        unreachable!()
    };
    assert_eq!(out.codes(), vec![2]);
}

/// Loads a warp's fragments of row-major A (16×16), B (16×8), C (16×8) from global memory
/// with the atom layouts, runs `mma`, stores D with the C layout.
#[test]
fn mma_follows_the_fragment_tables() {
    let mut b = with_buffers("mma", 32, &[DType::F16, DType::F16, DType::F32, DType::F32]);
    let (la, lb, lc) = (mma_m16n8k16_a(), mma_m16n8k16_b(), mma_m16n8k16_c());
    let arrays = [
        (b.local("a", DType::F16, 8), la.clone(), 16, 0),
        (b.local("b", DType::F16, 4), lb.clone(), 8, 1),
        (b.local("c", DType::F32, 4), lc.clone(), 8, 2),
    ];
    let d = b.local("d", DType::F32, 4);
    // Index expressions per (lane, slot) built as a select chain over lanes.
    let tid = b.thread_idx();
    for (array, layout, cols, param) in &arrays {
        let sp = global(&b, *param);
        for s in 0..layout.local_size() {
            let mut index = b.i32(0);
            for lane in 0..32 {
                let idx = layout.index_of(lane, s).expect("index");
                let l = b.i32(lane as i32);
                let is = b.binary(BinaryOp::Eq, tid, l);
                let at = b.i32((idx[0] * cols + idx[1]) as i32);
                index = b.select(is, at, index);
            }
            b.push(Stmt::Load {
                dst: LocalRef {
                    array: *array,
                    slot: s as u32,
                },
                src: MemRef { space: sp, index },
                width: 1,
                mask: None,
            });
        }
    }
    b.push(Stmt::Mma {
        shape: MmaShape::M16N8K16,
        dtype: DType::F16,
        a: LocalRef {
            array: arrays[0].0,
            slot: 0,
        },
        b: LocalRef {
            array: arrays[1].0,
            slot: 0,
        },
        c: LocalRef {
            array: arrays[2].0,
            slot: 0,
        },
        d: LocalRef { array: d, slot: 0 },
    });
    let sp = global(&b, 3);
    for s in 0..4 {
        let mut index = b.i32(0);
        for lane in 0..32 {
            let idx = lc.index_of(lane, s).expect("index");
            let l = b.i32(lane as i32);
            let is = b.binary(BinaryOp::Eq, tid, l);
            let at = b.i32((idx[0] * 8 + idx[1]) as i32);
            index = b.select(is, at, index);
        }
        b.push(Stmt::Store {
            dst: MemRef { space: sp, index },
            src: LocalRef {
                array: d,
                slot: s as u32,
            },
            width: 1,
            mask: None,
        });
    }
    let k = b.finish();
    let h = |x: f32| u64::from(half::f16::from_f32(x).to_bits());
    let av: Vec<f32> = (0..256).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
    let bv: Vec<f32> = (0..128)
        .map(|i| ((i * 5) % 11) as f32 * 0.5 - 2.0)
        .collect();
    let cv: Vec<f32> = (0..128).map(|i| i as f32 * 0.25).collect();
    let mut args = [
        Arg::Buffer(HostBuffer::from_codes(
            DType::F16,
            &av.iter().map(|&x| h(x)).collect::<Vec<_>>(),
        )),
        Arg::Buffer(HostBuffer::from_codes(
            DType::F16,
            &bv.iter().map(|&x| h(x)).collect::<Vec<_>>(),
        )),
        Arg::Buffer(HostBuffer::from_codes(
            DType::F32,
            &cv.iter()
                .map(|&x| u64::from(x.to_bits()))
                .collect::<Vec<_>>(),
        )),
        Arg::Buffer(HostBuffer::from_codes(DType::F32, &[0; 128])),
    ];
    run(&k, &mut args).expect("run");
    let Arg::Buffer(out) = &args[3] else {
        unreachable!()
    };
    let got = out.codes();
    for i in 0..16 {
        for j in 0..8 {
            let want: f32 = cv[i * 8 + j]
                + (0..16)
                    .map(|kk| av[i * 16 + kk] * bv[kk * 8 + j])
                    .sum::<f32>();
            assert_eq!(f32::from_bits(got[i * 8 + j] as u32), want, "d[{i},{j}]");
        }
    }
}

#[test]
fn ldmatrix_gives_each_lane_its_row_pairs() {
    // Shared holds an 8×8 f16 matrix with value r*8+c; x1 and x1.trans.
    for trans in [false, true] {
        let mut b = with_buffers("ldm", 32, &[DType::F16]);
        let s = b.shared("m", DType::F16, 0, 64);
        b.kernel.shared_bytes = 128;
        let x = b.local("x", DType::F16, 2);
        let tid = b.thread_idx();
        let sp = global(&b, 0);
        // Fill shared from global (thread t copies 2 elements).
        let two = b.i32(2);
        let at = b.mul(tid, two);
        b.push(Stmt::Load {
            dst: LocalRef { array: x, slot: 0 },
            src: MemRef {
                space: sp,
                index: at,
            },
            width: 2,
            mask: None,
        });
        b.push(Stmt::Store {
            dst: MemRef {
                space: Space::Shared(s),
                index: at,
            },
            src: LocalRef { array: x, slot: 0 },
            width: 2,
            mask: None,
        });
        b.push(Stmt::Barrier);
        let seven = b.i32(7);
        let eight = b.i32(8);
        let r = b.binary(BinaryOp::And, tid, seven);
        let row = b.mul(r, eight);
        b.push(Stmt::LdMatrix {
            src: s,
            row,
            num: 1,
            trans,
            dst: LocalRef { array: x, slot: 0 },
        });
        b.push(Stmt::Store {
            dst: MemRef {
                space: sp,
                index: at,
            },
            src: LocalRef { array: x, slot: 0 },
            width: 2,
            mask: None,
        });
        let k = b.finish();
        let codes: Vec<u64> = (0..64)
            .map(|i| u64::from(half::f16::from_f32(i as f32).to_bits()))
            .collect();
        let mut args = [Arg::Buffer(HostBuffer::from_codes(DType::F16, &codes))];
        run(&k, &mut args).expect("run");
        let Arg::Buffer(out) = &args[0] else {
            unreachable!()
        };
        let got: Vec<f32> = out
            .codes()
            .iter()
            .map(|&c| half::f16::from_bits(c as u16).to_f32())
            .collect();
        for t in 0..32 {
            for e in 0..2 {
                let (r, c) = if trans {
                    (2 * (t % 4) + e, t / 4)
                } else {
                    (t / 4, 2 * (t % 4) + e)
                };
                assert_eq!(
                    got[2 * t + e],
                    (r * 8 + c) as f32,
                    "lane {t} element {e} trans {trans}"
                );
            }
        }
    }
}
