//! The verifier, part 1: good programs verify; handles, launch attributes, scalar
//! expressions, types and shapes, `dot`, layouts and `view`, `reduce`, and errors in general.
//! Every check rejects a bad program with a specific message. Bad programs are built with
//! the `KernelBuilder` and, where the builder itself refuses the mistake (type errors), by
//! mutating a built `Function`. Part 2 (`verify_order.rs`) checks program order.

mod verify_support;

use tilus_ir::arena::Handle;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, Expr, ExprId, ScalarType};
use tilus_ir::inst::{InstKind, Operand, ReduceOp};
use tilus_ir::layout::spatial;
use tilus_ir::program::{Function, Loc, Out, Program, Stmt, TensorId, TensorType, Unroll};
use tilus_ir::verify::verify;

use verify_support::*;

// ---------------------------------------------------------------- good programs

#[test]
fn vector_add_verifies() {
    let f = vector_add();
    let z = tensor(&f, "z");
    let info = ok(f.clone());
    assert_eq!(info.defining_inst(z), Some(find_inst(&f, "add", 0)));
}

#[test]
fn gemm_with_shared_staging_verifies() {
    let f = gemm();
    let info = ok(f.clone());
    // Every slice records its source.
    let sa = tensor(&f, "sa");
    let slices: Vec<_> = f
        .insts
        .iter()
        .filter(|(_, i)| i.kind.name() == "slice")
        .filter_map(|(_, i)| i.out.map(|o| o.tensor()))
        .collect();
    assert_eq!(slices.len(), 6);
    assert!(slices.iter().any(|&s| info.slice_root(s) == sa));
    assert!(slices.iter().all(|s| info.slice_sources.contains_key(s)));
}

#[test]
fn view_on_an_annotated_tile_verifies() {
    let f = view_kernel();
    let (x, y, z) = (tensor(&f, "x"), tensor(&f, "y"), tensor(&f, "z"));
    let info = ok(f.clone());
    let layout = |t| f.layouts[info.layout_of(t).expect("a known layout")].clone();
    assert_eq!(layout(x), spatial(&[32, 1]).local(&[1, 4]));
    assert_eq!(layout(y), spatial(&[32, 1]).local(&[1, 8]));
    assert_eq!(layout(z), spatial(&[32, 1]).local(&[1, 4]));
}

#[test]
fn an_empty_program_verifies() {
    assert!(verify(Program::default()).is_ok());
}

#[test]
fn literals_take_the_type_of_their_context() {
    let kb = KernelBuilder::new("lits", 1);
    let n = kb.scalar_param("n", ScalarType::I64);
    kb.grid(&[1]);
    let x = kb.let_var("x", ScalarType::I64, 5);
    kb.assign(x, x + n * 3);
    let f = build(kb);
    let info = ok(f.clone());
    for (e, expr) in f.exprs.iter() {
        match expr {
            // The value of `x` and the factor of `n`.
            Expr::Int(5 | 3) => assert_eq!(info.expr_type(e), Some(ScalarType::I64)),
            // The grid extent.
            Expr::Int(1) => assert_eq!(info.expr_type(e), Some(ScalarType::I32)),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- handles

#[test]
fn dangling_tensor_handle() {
    let mut f = vector_add();
    let add = find_inst(&f, "add", 0);
    let bogus: TensorId = Handle::from_index(999).expect("small index");
    f.insts[add].kind = InstKind::Binary {
        op: tilus_ir::inst::TileBinaryOp::Add,
        a: Operand::Tensor(bogus),
        b: Operand::Tensor(bogus),
    };
    bad(f, &["tensor handle Tensor#999 does not exist"]);
}

#[test]
fn dangling_expression_handle() {
    let mut f = vector_add();
    let bogus: ExprId = Handle::from_index(12345).expect("small index");
    f.grid = vec![bogus];
    bad(f, &["expression handle Expr#12345 does not exist"]);
}

#[test]
fn instruction_twice_in_the_body() {
    let mut f = vector_add();
    let add = find_inst(&f, "add", 0);
    f.body.push(Stmt::Inst(add));
    bad(f, &["appears twice in the body"]);
}

#[test]
fn expression_cycle() {
    let mut f = vector_add();
    let a = f.exprs.alloc(Expr::Int(1));
    let b = f.exprs.alloc(Expr::Int(2));
    f.exprs[a] = Expr::Binary(tilus_ir::expr::BinaryOp::Add, b, b);
    f.exprs[b] = Expr::Unary(tilus_ir::expr::UnaryOp::Neg, a);
    bad(f, &["is its own operand"]);
}

// ---------------------------------------------------------------- launch attributes

#[test]
fn warps_out_of_range() {
    let mut f = vector_add();
    f.warps = 33;
    bad(f.clone(), &["warps must be 1 to 32", "got 33"]);
    f.warps = 0;
    bad(f, &["warps must be 1 to 32", "got 0"]);
}

#[test]
fn grid_extent_count() {
    let mut f = vector_add();
    let g = f.grid[0];
    f.grid = vec![g, g, g, g];
    bad(f.clone(), &["the grid needs 1 to 3 extents", "got 4"]);
    f.grid.clear();
    bad(f, &["got 0"]);
}

#[test]
fn grid_extents_are_integers_over_parameters() {
    let kb = KernelBuilder::new("k", 1);
    let _n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[kb.block_idx(Axis::X) + 1]);
    bad(
        build(kb),
        &["grid extent 0 `blockIdx.x + 1` must be computed from parameters only"],
    );
    let kb = KernelBuilder::new("k", 1);
    let x = kb.scalar_param("x", ScalarType::F32);
    kb.grid(&[x]);
    bad(
        build(kb),
        &["grid extent 0 `x` must be an integer, got f32"],
    );
}

#[test]
fn parameter_names_are_unique() {
    let mut f = vector_add();
    let b = f.param("b").expect("param b");
    f.vars[b].name = "a".into();
    bad(f, &["two parameters are named `a`"]);
}

// ---------------------------------------------------------------- scalar expressions

#[test]
fn condition_must_be_bool() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[1]);
    kb.if_then(n, || kb.sync());
    let e = bad(build(kb), &["the condition `n` must be bool, got i32"]);
    assert_eq!(e.0[0].inst.as_deref(), Some("if"));
}

#[test]
fn loop_bounds_are_integers() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    kb.for_range("i", 0, 2.5, 1, Unroll::None, |_| kb.sync());
    bad(
        build(kb),
        &["loop end `2.5` must be i32, got a float literal"],
    );
}

#[test]
fn loop_step_must_be_positive() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    kb.for_range("i", 0, 8, 0, Unroll::None, |_| kb.sync());
    bad(build(kb), &["the loop step must be positive, got 0"]);
}

#[test]
fn unroll_full_needs_constant_bounds() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[1]);
    kb.for_range("i", 0, n, 1, Unroll::Full, |_| kb.sync());
    bad(
        build(kb),
        &["`unroll full` needs a constant trip count, but the loop end is `n`"],
    );
}

#[test]
fn operands_of_one_type() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    let m = kb.scalar_param("m", ScalarType::I64);
    kb.grid(&[1]);
    let _x = kb.let_var("x", ScalarType::I32, n + m);
    let _y = kb.let_var("y", ScalarType::F32, kb.float(1.0) * 2);
    bad(
        build(kb),
        &[
            "operands of `+` have different types: i32 and i64",
            "operands of `*` have different types: a float literal and an integer literal",
        ],
    );
}

#[test]
fn assignment_only_to_let_variables() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    kb.for_range("i", 0, 4, 1, Unroll::None, |i| kb.assign(i, i + 1));
    bad(
        build(kb),
        &["only `let` variables are assigned; `i`, which is a loop variable"],
    );
}

#[test]
fn loop_variable_used_outside_its_loop() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let mut outer = None;
    kb.for_range("i", 0, 4, 1, Unroll::None, |i| outer = Some(i.id));
    let i = kb.wrap(outer.expect("loop ran"));
    let _x = kb.let_var("x", ScalarType::I32, i * 2);
    bad(
        build(kb),
        &["loop variable `i` is used outside the `for` loop that binds it"],
    );
}

#[test]
fn pointers_are_only_used_through_global_view() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F32);
    kb.grid(&[1]);
    let pe = kb.expr(Expr::Var(p.var));
    let _x = kb.let_var("x", ScalarType::I32, pe);
    bad(build(kb), &["pointer `p` is not a value"]);
}

#[test]
fn literal_must_fit_the_tile_dtype() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32]);
    let x = kb.load_global(&g, &[0], &[32]);
    let _y = &x + 300i64;
    bad(build(kb), &["integer literal 300 does not fit in u8"]);
}

// ---------------------------------------------------------------- types and shapes

#[test]
fn broadcast_failure_names_the_instruction_and_line() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F32);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[64]);
    let x = kb.load_global(&g, &[0], &[32]).named("x");
    let _y = kb.load_global(&g, &[0], &[16]).named("y");
    let _z = (x + x).named("z");
    let mut f = build(kb);
    let add = find_inst(&f, "add", 0);
    let (x, y) = (tensor(&f, "x"), tensor(&f, "y"));
    f.insts[add].kind = InstKind::Binary {
        op: tilus_ir::inst::TileBinaryOp::Add,
        a: Operand::Tensor(x),
        b: Operand::Tensor(y),
    };
    f.insts[add].loc = Some(Loc { line: 7, column: 3 });
    let e = bad(f, &["do not broadcast"]);
    let text = e.0[0].to_string();
    assert!(
        text.starts_with("line 7:3: in kernel `k`, `add` (%z): shapes [32] and [16]"),
        "{text}"
    );
}

#[test]
fn result_must_match_the_declared_tensor() {
    let mut f = vector_add();
    let z = tensor(&f, "z");
    f.tensors[z].ty = TensorType::Register {
        dtype: DType::F16,
        shape: vec![128],
        layout: None,
    };
    bad(
        f,
        &["the result is register f32[128] but %z is declared register f16[128]"],
    );
}

#[test]
fn overwritten_tensor_must_match_exactly() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F32);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[64]);
    let x = kb.load_global(&g, &[0], &[32]).named("x");
    let acc = kb.alloc_register(DType::F32, &[32], Some(0.0)).named("acc");
    let _small = kb.alloc_register(DType::F32, &[16], None).named("small");
    kb.binary_into(
        &acc,
        tilus_ir::inst::TileBinaryOp::Add,
        Operand::Tensor(acc.id),
        Operand::Tensor(x.id),
    );
    let mut f = build(kb);
    let add = find_inst(&f, "add", 0);
    f.insts[add].out = Some(Out::Existing(tensor(&f, "small")));
    bad(
        f,
        &["cannot write the result (register f32[32]) into %small (register f32[16])"],
    );
}

#[test]
fn only_some_instructions_overwrite() {
    let mut f = vector_add();
    let add = find_inst(&f, "add", 0);
    let ga = find_inst(&f, "global_view", 0);
    let x = tensor(&f, "x");
    f.insts[ga].out = Some(Out::Existing(x));
    let _ = add;
    bad(
        f,
        &["`global_view` cannot overwrite the existing tensor %x"],
    );
}

// ---------------------------------------------------------------- dot

fn dot_kernel(acc: DType) -> Function {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F16);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[16, 16]);
    let a = kb.load_global(&g, &[0, 0], &[16, 16]).named("a");
    let b = kb.load_global(&g, &[0, 0], &[16, 8]).named("b");
    let _c = kb.dot(&a, &b, None, acc).named("acc");
    build(kb)
}

#[test]
fn dot_accumulator_dtype_suits_the_operands() {
    ok(dot_kernel(DType::F32));
    bad(
        dot_kernel(I32),
        &["accumulator dtype i32 does not suit f16 operands: expected f32 (or f16)"],
    );
}

#[test]
fn dot_shapes_agree() {
    let mut f = dot_kernel(DType::F32);
    let b = tensor(&f, "b");
    f.tensors[b].ty = TensorType::Register {
        dtype: DType::F16,
        shape: vec![8, 8],
        layout: None,
    };
    let e = bad(f, &["dot shapes disagree"]);
    assert!(e.to_string().contains("`dot` (%acc)"), "{e}");
}

// ---------------------------------------------------------------- layouts

#[test]
fn annotated_twice_with_different_layouts() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32, 4]);
    let x = kb.load_global(&g, &[0, 0], &[32, 4]).named("x");
    kb.annotate_layout(&x, &spatial(&[32, 1]).local(&[1, 4]));
    kb.annotate_layout(&x, &spatial(&[8, 4]).local(&[4, 1]));
    kb.annotate_layout(&x, &spatial(&[32, 1]).local(&[1, 4]));
    let e = bad(build(kb), &["%x already has the layout"]);
    assert_eq!(e.0.len(), 1, "{e}");
}

#[test]
fn annotate_after_first_use_is_fine() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32, 4]);
    let x = kb.load_global(&g, &[0, 0], &[32, 4]).named("x");
    let _y = kb.view(&x, I4, &spatial(&[32, 1]).local(&[1, 8]));
    kb.annotate_layout(&x, &spatial(&[32, 1]).local(&[1, 4]));
    ok(build(kb));
}

#[test]
fn annotated_layout_thread_count() {
    let kb = KernelBuilder::new("k", 2);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[64, 4]);
    let x = kb.load_global(&g, &[0, 0], &[64, 4]).named("x");
    kb.annotate_layout(&x, &spatial(&[64, 1]).local(&[1, 4]));
    let mut f = build(kb);
    f.warps = 1;
    bad(
        f,
        &["layout spans 64 threads but the block has 32 (1 warps)"],
    );
}

#[test]
fn view_needs_a_known_input_layout() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32, 4]);
    let x = kb.load_global(&g, &[0, 0], &[32, 4]).named("x");
    let _y = kb
        .view(&x, I4, &spatial(&[32, 1]).local(&[1, 8]))
        .named("y");
    let e = bad(build(kb), &["the layout of %x is not known"]);
    assert!(e.to_string().contains("`view` (%y)"), "{e}");
}

#[test]
fn view_keeps_bits_per_thread() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32, 4]);
    let x = kb.load_global(&g, &[0, 0], &[32, 4]).named("x");
    kb.annotate_layout(&x, &spatial(&[32, 1]).local(&[1, 4]));
    let _y = kb.view(&x, I4, &spatial(&[32, 1]).local(&[1, 4]));
    bad(
        build(kb),
        &["bits per thread differ: %x holds 4 × u8 = 32 bits per thread, the view 4 × i4 = 16 bits"],
    );
}

#[test]
fn view_keeps_thread_count() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32, 4]);
    let x = kb.load_global(&g, &[0, 0], &[32, 4]).named("x");
    kb.annotate_layout(&x, &spatial(&[32, 1]).local(&[1, 4]));
    let _y = kb.view(&x, U8, &spatial(&[16, 1]).local(&[1, 8]));
    bad(
        build(kb),
        &["thread counts differ: %x is laid out over 32 threads, the view's layout over 16"],
    );
}

// ---------------------------------------------------------------- reduce, errors in general

#[test]
fn sum_of_a_bool_tile() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F32);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32]);
    let x = kb.load_global(&g, &[0], &[32]);
    let m = x.lt(0.0);
    let _c = kb.reduce(ReduceOp::Sum, &m, 0, false);
    let e = bad(build(kb), &["`sum` of the bool (u1) tile"]);
    // The rank-0 result of reducing a 1-D tile is fine.
    assert_eq!(e.0.len(), 1, "{e}");
}

#[test]
fn all_errors_are_collected() {
    let mut f = dot_kernel(I32);
    f.warps = 40;
    let e = bad(f, &["warps must be 1 to 32", "accumulator dtype i32"]);
    assert!(e.0.len() >= 2);
    assert!(e.0.iter().all(|e| e.function == "k"));
}

#[test]
fn kernel_names_are_unique() {
    let f = vector_add();
    let e = verify(Program {
        functions: vec![f.clone(), f],
    })
    .expect_err("two kernels with one name");
    assert!(e.contains("two kernels are named `vector_add`"), "{e}");
}

// ---------------------------------------------------------------- more checks

#[test]
fn only_register_tensors_are_overwritten() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F32, &[32]).named("s");
    let x = kb.load_shared(&s).named("x");
    kb.free_shared(&s);
    let _ = x;
    let mut f = build(kb);
    let load = find_inst(&f, "load_shared", 0);
    let s = tensor(&f, "s");
    f.insts[load].out = Some(Out::Existing(s));
    bad(
        f,
        &["only register tensors can be overwritten, but %s is a shared tensor"],
    );
}

#[test]
fn result_presence_matches_the_instruction() {
    let mut f = vector_add();
    let add = find_inst(&f, "add", 0);
    f.insts[add].out = None;
    bad(
        f.clone(),
        &["`add` produces a tensor, but the instruction names no result"],
    );
    let mut f = vector_add();
    let store = find_inst(&f, "store_global", 0);
    let z = tensor(&f, "z");
    f.insts[store].out = Some(Out::New(z));
    bad(
        f,
        &["`store_global` produces no tensor, but the instruction names the result %z"],
    );
}

#[test]
fn workspace_extents_come_from_parameters() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[n]);
    let _ws = kb.alloc_global(I32, &[n * 4], true);
    ok(build(kb));
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[n]);
    let _ws = kb.alloc_global(I32, &[kb.block_idx(Axis::X) + 1], true);
    bad(
        build(kb),
        &["extent 0 `blockIdx.x + 1` must be computed from parameters only"],
    );
}

#[test]
fn semaphore_value_is_i32() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[n]);
    let sem = kb.alloc_global(I32, &[n], true);
    kb.lock_semaphore(&sem, &[kb.block_idx(Axis::X)], 0);
    kb.release_semaphore(&sem, &[kb.block_idx(Axis::X)], 1);
    ok(build(kb));
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[n]);
    let sem = kb.alloc_global(I32, &[n], true);
    kb.release_semaphore(&sem, &[0], 1.5);
    bad(
        build(kb),
        &["the value `1.5` must be i32, got a float literal"],
    );
}

#[test]
fn shared_layout_annotated_twice() {
    use tilus_ir::layout::SharedLayout;
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    let row = SharedLayout::row_major(&[16, 16]).expect("row-major layout");
    let col = SharedLayout::column_major(&[16, 16]).expect("column-major layout");
    kb.annotate_shared_layout(&s, &row);
    kb.annotate_shared_layout(&s, &col);
    kb.free_shared(&s);
    bad(build(kb), &["%s already has the shared layout"]);
}

#[test]
fn integer_division_by_constant_zero() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", I32);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32]);
    let x = kb.load_global(&g, &[0], &[32]);
    let _y = x / 0i64;
    bad(build(kb), &["`div` of an integer tile by the constant 0"]);
}

#[test]
fn select_and_cast_rules() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", ScalarType::I32);
    kb.grid(&[1]);
    let _a = kb.let_var("a", ScalarType::I32, n.select(1, 2));
    let _b = kb.let_var("b", ScalarType::Bool, n.cast(ScalarType::Bool));
    bad(
        build(kb),
        &[
            "the condition of `select` must be bool, got i32",
            "cast from i32 to bool is not defined",
        ],
    );
}

#[test]
fn integer_dot_accumulates_in_i32() {
    let build_dot = |acc: DType| {
        let kb = KernelBuilder::new("k", 1);
        let p = kb.pointer_param(
            "p",
            DType::Int {
                bits: 8,
                signed: true,
            },
        );
        kb.grid(&[1]);
        let g = kb.global_view(p, &[16, 32]);
        let a = kb.load_global(&g, &[0, 0], &[16, 32]);
        let b = kb.load_global(&g, &[0, 0], &[32, 8]);
        let _c = kb.dot(&a, &b, None, acc);
        build(kb)
    };
    ok(build_dot(I32));
    bad(
        build_dot(DType::F32),
        &["accumulator dtype f32 does not suit i8 operands: expected i32"],
    );
}

#[test]
fn error_display_without_position() {
    let e = bad(dot_kernel(I32), &["accumulator"]);
    let err = &e.0[0];
    assert_eq!(err.inst.as_deref(), Some("dot"));
    assert_eq!(err.target.as_deref(), Some("%acc"));
    assert!(err.loc.is_none());
    assert!(
        err.to_string()
            .starts_with("in kernel `k`, `dot` (%acc): accumulator dtype i32"),
        "{err}"
    );
}

#[test]
fn let_variable_used_before_its_let() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let mut x = None;
    kb.if_then(true, || x = Some(kb.let_var("x", ScalarType::I32, 1)));
    let x = x.expect("branch built");
    let _y = kb.let_var("y", ScalarType::I32, x + 1);
    bad(
        build(kb),
        &["variable `x` is used before its `let` or outside the block that declares it"],
    );
}
