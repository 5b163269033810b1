//! Forwarding of register slots (`simplify::forward`) keeps every value: kernels where a
//! forwarded value would be wrong (its variable or slot changes in between, a loop carries
//! it, a branch writes it) run on the thread interpreter before and after the pass and end
//! bit-identical; the straight-line chain is forwarded and its dead slot writes dropped.

use tilus_ir::dtype::DType;
use tilus_ir::interp::HostBuffer;
use tilus_lower::simplify::forward::forward_slots;
use tilus_lower::thread_ir::interp::{run_kernel, Arg, RunOptions};
use tilus_lower::thread_ir::{
    BufferKind, KernelBuilder, LocalRef, MemRef, Param, ParamKind, Space, Stmt, ThreadKernel, Ty,
};

fn slot(array: tilus_lower::thread_ir::LocalId, slot: u32) -> LocalRef {
    LocalRef { array, slot }
}

/// `out[t] = f(t)` for 32 threads, `f` written by `body` into slot 0 of `r`.
fn kernel(body: impl FnOnce(&mut KernelBuilder, tilus_lower::thread_ir::LocalId)) -> ThreadKernel {
    let mut b = KernelBuilder::new("fw", 32);
    let out = b.buffer("out", DType::F32, BufferKind::Param(0));
    b.kernel.params.push(Param {
        name: "out".into(),
        kind: ParamKind::Pointer(out),
        dtype: None,
    });
    let r = b.local("r", DType::F32, 4);
    body(&mut b, r);
    let tid = b.thread_idx();
    b.push(Stmt::Store {
        dst: MemRef {
            space: Space::Global(out),
            index: tid,
        },
        src: slot(r, 0),
        width: 1,
        mask: None,
    });
    b.finish()
}

fn run(k: &ThreadKernel) -> Vec<u8> {
    let mut args = vec![Arg::Buffer(HostBuffer::zeros(DType::F32, 32))];
    run_kernel(k, &mut args, &RunOptions::default()).unwrap_or_else(|e| panic!("{e}\n{k}"));
    match &args[0] {
        Arg::Buffer(h) => h.bytes.clone(),
        _ => unreachable!("argument 0 is the buffer"),
    }
}

fn same_after_forwarding(k: &ThreadKernel) -> ThreadKernel {
    let f = forward_slots(k);
    tilus_lower::thread_ir::verify::verify(&f).unwrap_or_else(|e| panic!("{e}\n{f}"));
    assert_eq!(
        run(k),
        run(&f),
        "forwarding changed the result:\n{k}\n--- after ---\n{f}"
    );
    f
}

fn count_set_local(body: &[Stmt]) -> usize {
    body.iter()
        .map(|s| match s {
            Stmt::SetLocal { .. } => 1,
            Stmt::For { body, .. } => count_set_local(body),
            Stmt::If {
                then_body,
                else_body,
                ..
            } => count_set_local(then_body) + count_set_local(else_body),
            _ => 0,
        })
        .sum()
}

#[test]
fn a_chain_is_forwarded_and_its_writes_dropped() {
    let k = kernel(|b, r| {
        let tmp = b.local("tmp", DType::F32, 2);
        let t = b.thread_idx();
        let x = b.cast(Ty::F32, t);
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 0),
            value: x,
        });
        let v = b.read_local(tmp, 0);
        let half = b.f32(0.5);
        let y = b.binary(tilus_lower::thread_ir::BinaryOp::Mul, v, half);
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 1),
            value: y,
        });
        let w = b.read_local(tmp, 1);
        let one = b.f32(1.0);
        let z = b.add(w, one);
        b.push(Stmt::SetLocal {
            dst: slot(r, 0),
            value: z,
        });
    });
    let f = same_after_forwarding(&k);
    // The two writes of `tmp` are gone; `r` is stored whole, so its write stays.
    assert_eq!(count_set_local(&k.body), 3);
    assert_eq!(count_set_local(&f.body), 1, "{f}");
}

#[test]
fn a_variable_changed_in_between_is_not_forwarded() {
    let k = kernel(|b, r| {
        let tmp = b.local("tmp", DType::F32, 2);
        let v = b.var("v", Ty::F32);
        let t = b.thread_idx();
        let x = b.cast(Ty::F32, t);
        b.push(Stmt::Assign { var: v, value: x });
        let rv = b.read_var(v);
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 1),
            value: rv,
        });
        let ten = b.f32(10.0);
        b.push(Stmt::Assign { var: v, value: ten });
        let s1 = b.read_local(tmp, 1);
        b.push(Stmt::SetLocal {
            dst: slot(r, 0),
            value: s1,
        });
    });
    same_after_forwarding(&k);
}

#[test]
fn a_slot_overwritten_or_read_after_a_loop_keeps_its_value() {
    let k = kernel(|b, r| {
        let tmp = b.local("tmp", DType::F32, 3);
        let zero = b.f32(0.0);
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 1),
            value: zero,
        });
        // for i in 0..4 { r[1] = r[1] + 1 }  (loop-carried)
        let i = b.var("i", Ty::I32);
        b.open();
        let cur = b.read_local(tmp, 1);
        let one = b.f32(1.0);
        let next = b.add(cur, one);
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 1),
            value: next,
        });
        let body = b.close();
        let (s, e, st) = (b.i32(0), b.i32(4), b.i32(1));
        b.push(Stmt::For {
            var: i,
            start: s,
            end: e,
            step: st,
            body,
        });
        // if tid < 16 { r[2] = 7 } ; r[0] = r[1] + r[2]
        let seven = b.f32(7.0);
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 2),
            value: zero,
        });
        let t = b.thread_idx();
        let sixteen = b.i32(16);
        let c = b.lt(t, sixteen);
        b.open();
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 2),
            value: seven,
        });
        let then_body = b.close();
        b.push(Stmt::If {
            cond: c,
            then_body,
            else_body: Vec::new(),
        });
        let a1 = b.read_local(tmp, 1);
        let a2 = b.read_local(tmp, 2);
        let sum = b.add(a1, a2);
        b.push(Stmt::SetLocal {
            dst: slot(r, 0),
            value: sum,
        });
    });
    same_after_forwarding(&k);
}

#[test]
fn a_value_whose_variable_a_loop_changes_is_not_forwarded_into_it() {
    let k = kernel(|b, r| {
        let tmp = b.local("tmp", DType::F32, 1);
        let v = b.var("v", Ty::F32);
        let acc = b.var("acc", Ty::F32);
        let t = b.thread_idx();
        let x = b.cast(Ty::F32, t);
        b.push(Stmt::Assign { var: v, value: x });
        let rv = b.read_var(v);
        b.push(Stmt::SetLocal {
            dst: slot(tmp, 0),
            value: rv,
        });
        // for i in 0..4 { acc = acc + tmp[0]; v = v + 1 }
        let i = b.var("i", Ty::I32);
        b.open();
        let a = b.read_var(acc);
        let s = b.read_local(tmp, 0);
        let sum = b.add(a, s);
        b.push(Stmt::Assign {
            var: acc,
            value: sum,
        });
        let vv = b.read_var(v);
        let one = b.f32(1.0);
        let inc = b.add(vv, one);
        b.push(Stmt::Assign { var: v, value: inc });
        let body = b.close();
        let (s0, e, st) = (b.i32(0), b.i32(4), b.i32(1));
        b.push(Stmt::For {
            var: i,
            start: s0,
            end: e,
            step: st,
            body,
        });
        let out = b.read_var(acc);
        b.push(Stmt::SetLocal {
            dst: slot(r, 0),
            value: out,
        });
    });
    same_after_forwarding(&k);
}
