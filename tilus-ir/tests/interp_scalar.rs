//! Tile interpreter: scalar expressions, `let`/assignment, loops and branches, grids.

use tilus_ir::builder::{KernelBuilder, Scalar};
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::inst::{Operand, TileBinaryOp};
use tilus_ir::interp::{run, Arg, HostBuffer, InterpErrorKind, RunOptions};
use tilus_ir::program::{Program, Unroll};
use tilus_ir::verify::{verify, VerifiedProgram};

const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};

/// Stores each scalar (as i32) into `out[i]` of a one-block kernel.
fn scalars_kernel<'b>(
    kb: &'b KernelBuilder,
    out: &tilus_ir::builder::Tile<'b>,
    values: &[Scalar<'b>],
) {
    let zero = kb.alloc_register(I32, &[1], Some(0.0));
    for (i, v) in values.iter().enumerate() {
        let t = kb.binary(
            TileBinaryOp::Add,
            Operand::Tensor(zero.id),
            Operand::Scalar(v.id),
        );
        kb.store_global(out, &t, &[kb.int(i as i64)]);
    }
}

fn verified(f: tilus_ir::program::Function) -> VerifiedProgram {
    match verify(Program { functions: vec![f] }) {
        Ok(v) => v,
        Err(e) => panic!("verifier rejected the test kernel: {e}"),
    }
}

#[test]
fn scalar_arithmetic_truncates_wraps_and_selects_lazily() {
    let kb = KernelBuilder::new("scalars", 1);
    let seven = kb.scalar_param("seven", ScalarType::I32);
    let o = kb.pointer_param("o", I32);
    kb.grid(&[2, 3]);
    let out = kb.global_view(o, &[16]);
    let x = kb.let_var("x", ScalarType::I32, seven);
    kb.assign(x, x * 3); // 21
    kb.if_else(x.gt(20), || kb.assign(x, x - 1), || kb.assign(x, 0)); // 20
    let u = kb.let_var(
        "u",
        ScalarType::Data(DType::Int {
            bits: 8,
            signed: false,
        }),
        250,
    );
    kb.assign(u, u + 10); // wraps to 4
    let big = kb.let_var("big", ScalarType::I32, 2147483647);
    kb.assign(big, big + 1); // wraps to i32::MIN
    let neg = -x;
    let vals = [
        x,
        x / -3,
        x % -3,
        x.cdiv(3),
        neg.cdiv(3),
        neg / 3,
        // A zero divisor only known at run time (a constant one is a verifier error): the
        // branch not taken is never evaluated.
        x.gt(100).select(x / (seven - 7), 5),
        kb.grid_dim(Axis::Y),
        kb.block_idx(Axis::X),
        u.cast(ScalarType::I32),
        big,
        x.min(neg).max(-7),
        (x << 2) | 1,
        (neg >> 1),
        kb.float(2.9).cast(ScalarType::I32),
        kb.float(-2.9).cast(ScalarType::I32),
    ];
    scalars_kernel(&kb, &out, &vals);
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![Arg::Int(7), Arg::Buffer(HostBuffer::zeros(I32, 16))];
    let opts = RunOptions {
        block_order: tilus_ir::interp::BlockOrder::Reverse,
        ..RunOptions::default()
    };
    let r = run(&p, "scalars", &mut args, &opts).expect("run");
    assert_eq!(r.blocks, 6);
    // The last block written (Reverse order) is block (0, 0, 0).
    let got = args[1].as_buffer().expect("buffer").to_i64();
    assert_eq!(
        got,
        vec![
            20,
            -6,
            2,
            7,
            -6,
            -6,
            5,
            3,
            0,
            4,
            -2147483648,
            -7,
            81,
            -10,
            2,
            -2
        ]
    );
}

#[test]
fn scalar_division_by_zero_is_an_error() {
    let kb = KernelBuilder::new("div0", 1);
    let d = kb.scalar_param("d", ScalarType::I32);
    let o = kb.pointer_param("o", I32);
    kb.grid(&[1]);
    let out = kb.global_view(o, &[1]);
    let q = kb.int(10) / d;
    scalars_kernel(&kb, &out, &[q]);
    let p = verified(kb.finish().expect("kernel"));
    let mut args = vec![Arg::Int(0), Arg::Buffer(HostBuffer::zeros(I32, 1))];
    let e = run(&p, "div0", &mut args, &RunOptions::default()).expect_err("div by zero");
    assert_eq!(e.kind, InterpErrorKind::DivisionByZero);
    assert!(e.to_string().contains("block (0,0,0)"), "{e}");
    let mut args = vec![Arg::Int(3), Arg::Buffer(HostBuffer::zeros(I32, 1))];
    run(&p, "div0", &mut args, &RunOptions::default()).expect("3");
    assert_eq!(args[1].as_buffer().expect("buffer").to_i64(), vec![3]);
}

#[test]
fn loops_with_steps_and_accumulators() {
    // out[0] = Σ_{i in range(start, end, step)} i, accumulated in a register tile.
    let kb = KernelBuilder::new("loops", 1);
    let start = kb.scalar_param("start", ScalarType::I32);
    let end = kb.scalar_param("end", ScalarType::I32);
    let step = kb.scalar_param("step", ScalarType::I32);
    let o = kb.pointer_param("o", I32);
    kb.grid(&[1]);
    let out = kb.global_view(o, &[2]);
    let acc = kb.alloc_register(I32, &[1], Some(0.0));
    let count = kb.let_var("count", ScalarType::I32, 0);
    kb.for_range("i", start, end, step, Unroll::Factor(4), |i| {
        kb.binary_into(
            &acc,
            TileBinaryOp::Add,
            Operand::Tensor(acc.id),
            Operand::Scalar(i.id),
        );
        kb.assign(count, count + 1);
    });
    kb.store_global(&out, &acc, &[kb.int(0)]);
    let c = kb.alloc_register(I32, &[1], Some(0.0));
    let c = c + count;
    kb.store_global(&out, &c, &[kb.int(1)]);
    let p = verified(kb.finish().expect("kernel"));
    for (s, e, st) in [
        (0i64, 10i64, 1i64),
        (3, 20, 4),
        (5, 5, 1),
        (9, 2, 1),
        (-6, 6, 5),
    ] {
        let mut args = vec![
            Arg::Int(s),
            Arg::Int(e),
            Arg::Int(st),
            Arg::Buffer(HostBuffer::zeros(I32, 2)),
        ];
        run(&p, "loops", &mut args, &RunOptions::default()).expect("loops");
        let want: i64 = (s..e).step_by(st as usize).sum();
        let n = (s..e).step_by(st as usize).count() as i64;
        assert_eq!(
            args[3].as_buffer().expect("buffer").to_i64(),
            vec![want, n],
            "range({s}, {e}, {st})"
        );
    }
    let mut args = vec![
        Arg::Int(0),
        Arg::Int(4),
        Arg::Int(0),
        Arg::Buffer(HostBuffer::zeros(I32, 2)),
    ];
    let e = run(&p, "loops", &mut args, &RunOptions::default()).expect_err("step 0");
    assert_eq!(e.kind, InterpErrorKind::InvalidValue);
    assert_eq!(e.inst.as_deref(), Some("for"));
}

#[test]
fn empty_grid_runs_no_block() {
    let kb = KernelBuilder::new("empty", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[n]);
    let p = verified(kb.finish().expect("kernel"));
    let r = run(&p, "empty", &mut [Arg::Int(0)], &RunOptions::default()).expect("run");
    assert_eq!(r.blocks, 0);
    let e = run(&p, "empty", &mut [Arg::Int(-1)], &RunOptions::default()).expect_err("neg");
    assert_eq!(e.kind, InterpErrorKind::InvalidValue);
}
