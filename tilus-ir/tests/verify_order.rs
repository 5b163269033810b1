//! The verifier, part 2: program order. Tensors are defined before use and in scope,
//! slices stay in range, shared tiles are freed once and not used afterwards, and loads of
//! `copy_async` destinations wait for the copy.

mod verify_support;

use tilus_ir::builder::{KernelBuilder, Tile};
use tilus_ir::dtype::DType;
use tilus_ir::expr::Expr;
use tilus_ir::inst::{InstKind, Operand};
use tilus_ir::program::{Function, Inst, Out, Stmt, Unroll};

use verify_support::*;

// ---------------------------------------------------------------- scopes and order

#[test]
fn tensor_defined_in_a_loop_is_not_visible_after_it() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F32);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[64]);
    let mut inner = None;
    kb.for_range("i", 0, 2, 1, Unroll::None, |i| {
        inner = Some(kb.load_global(&g, &[i * 32], &[32]).named("x").id);
    });
    let x = inner.expect("loop body ran");
    let f = {
        let mut f = build(kb);
        let store = f.insts.alloc(Inst {
            kind: InstKind::StoreGlobal {
                dst: tensor(&f, "g"),
                src: x,
                offsets: vec![f.grid[0]],
                dims: None,
            },
            out: None,
            loc: None,
        });
        f.body.push(Stmt::Inst(store));
        f
    };
    bad(
        f,
        &["%x is defined inside a `for` body and is not visible here"],
    );
}

#[test]
fn tensor_used_before_its_definition() {
    let mut f = vector_add();
    // Move the `add` after the store that uses its result.
    let pos = f
        .body
        .iter()
        .position(|s| matches!(s, Stmt::Inst(i) if f.insts[*i].kind.name() == "add"))
        .expect("add in body");
    let add = f.body.remove(pos);
    f.body.push(add);
    bad(f, &["%z is used before it is defined (by `add`)"]);
}

#[test]
fn undefined_tensor_is_reported_once() {
    let mut f = vector_add();
    let x = tensor(&f, "x");
    f.body
        .retain(|s| !matches!(s, Stmt::Inst(i) if f.insts[*i].out == Some(Out::New(x))));
    // A second use of %x.
    let y = tensor(&f, "y");
    let extra = f.insts.alloc(Inst {
        kind: InstKind::Binary {
            op: tilus_ir::inst::TileBinaryOp::Mul,
            a: Operand::Tensor(x),
            b: Operand::Tensor(y),
        },
        out: Some(Out::Existing(y)),
        loc: None,
    });
    f.body.push(Stmt::Inst(extra));
    let e = bad(f, &["%x is never defined"]);
    assert_eq!(e.0.len(), 1, "{e}");
}

#[test]
fn tensor_defined_twice() {
    let mut f = vector_add();
    let y = find_inst(&f, "load_global", 1);
    let x = tensor(&f, "x");
    f.insts[y].out = Some(Out::New(x));
    bad(f, &["%x is defined twice (first by `load_global`)"]);
}

// ---------------------------------------------------------------- slices

#[test]
fn constant_slice_index_in_range() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[2, 16, 16]).named("s");
    let _v = kb.slice(&s, &[2]);
    kb.free_shared(&s);
    bad(
        build(kb),
        &["index 0 `2` is out of range: it must be in 0..2 (dimension 0 of %s)"],
    );
}

#[test]
fn slice_fixes_fewer_dims_than_the_rank() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[2, 16]).named("s");
    let _v = kb.slice(&s, &[1]);
    kb.free_shared(&s);
    let mut f = build(kb);
    let slice = find_inst(&f, "slice", 0);
    let zero = f.exprs.alloc(Expr::Int(0));
    if let InstKind::Slice { indices, .. } = &mut f.insts[slice].kind {
        indices.push(zero);
    }
    bad(f, &["must fix 1 to 1 leading indices, got 2"]);
}

// ---------------------------------------------------------------- free_shared

#[test]
fn use_after_free() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    kb.free_shared(&s);
    let _x = kb.load_shared(&s);
    bad(
        build(kb),
        &["%s is used after it was freed by `free_shared`"],
    );
}

#[test]
fn use_of_a_slice_after_free() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[2, 16, 16]).named("s");
    let v = kb.slice(&s, &[1]).named("v");
    kb.free_shared(&s);
    let _x = kb.load_shared(&v);
    bad(
        build(kb),
        &["%s is used after it was freed by `free_shared` (%v is a slice of it)"],
    );
}

#[test]
fn double_free() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    kb.free_shared(&s);
    kb.free_shared(&s);
    bad(build(kb), &["%s is freed twice (first by `free_shared`)"]);
}

#[test]
fn free_inside_a_loop_of_a_tile_allocated_outside() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    kb.for_range("i", 0, 2, 1, Unroll::None, |_| kb.free_shared(&s));
    bad(
        build(kb),
        &["%s is allocated outside this `for` loop and freed inside it"],
    );
    // Allocated and freed in the body: fine.
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    kb.for_range("i", 0, 2, 1, Unroll::None, |_| {
        let s = kb.alloc_shared(DType::F16, &[16, 16]);
        kb.free_shared(&s);
    });
    ok(build(kb));
}

// ---------------------------------------------------------------- copy_async

fn copy_then(k: impl FnOnce(&KernelBuilder, &Tile<'_>)) -> Function {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F16);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[16, 16]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    kb.copy_async(&s, &g, &[0, 0]);
    k(&kb, &s);
    let _x = kb.load_shared(&s).named("x");
    kb.free_shared(&s);
    build(kb)
}

#[test]
fn load_of_a_copy_async_destination_needs_a_wait() {
    bad(
        copy_then(|kb, _| kb.commit_group()),
        &["%s is written by `copy_async` with no `wait_group`/`wait_all` in between"],
    );
    bad(
        copy_then(|kb, _| kb.wait_group(0)),
        &["%s is written by `copy_async` whose group is not committed"],
    );
    ok(copy_then(|kb, _| {
        kb.commit_group();
        kb.wait_group(0);
    }));
    ok(copy_then(|kb, _| kb.wait_all()));
}

#[test]
fn copy_async_across_a_loop_back_edge() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F16);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[16, 16]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    kb.for_range("i", 0, 4, 1, Unroll::None, |_| {
        let _x = kb.load_shared(&s);
        kb.copy_async(&s, &g, &[0, 0]);
        kb.commit_group();
    });
    kb.free_shared(&s);
    bad(build(kb), &["with no `wait_group`/`wait_all` in between"]);
}

#[test]
fn wait_group_with_nothing_pending_is_fine() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    kb.wait_group(3);
    kb.commit_group();
    kb.wait_all();
    ok(build(kb));
}

// ---------------------------------------------------------------- branches

#[test]
fn tensor_defined_in_a_branch_is_not_visible_after_it() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", tilus_ir::expr::ScalarType::I32);
    kb.grid(&[1]);
    let mut inner = None;
    kb.if_then(n.gt(0), || {
        inner = Some(
            kb.alloc_register(DType::F32, &[32], Some(1.0))
                .named("x")
                .id,
        );
    });
    let x = inner.expect("branch built");
    let mut f = build(kb);
    let print = f.insts.alloc(Inst {
        kind: InstKind::Print {
            tensor: x,
            label: "x".into(),
        },
        out: None,
        loc: None,
    });
    f.body.push(Stmt::Inst(print));
    bad(
        f,
        &["%x is defined inside an `if` body and is not visible here"],
    );
}

#[test]
fn freed_on_one_path_counts_as_freed() {
    let kb = KernelBuilder::new("k", 1);
    let n = kb.scalar_param("n", tilus_ir::expr::ScalarType::I32);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    kb.if_else(
        n.gt(0),
        || kb.free_shared(&s),
        || {
            let _x = kb.load_shared(&s);
        },
    );
    let _y = kb.load_shared(&s);
    let e = bad(
        build(kb),
        &["%s is used after it was freed by `free_shared`"],
    );
    // The load in the `else` branch is fine: only the one after the `if` is reported.
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].inst.as_deref(), Some("load_shared"));
}

#[test]
fn free_of_a_slice() {
    let kb = KernelBuilder::new("k", 1);
    kb.grid(&[1]);
    let s = kb.alloc_shared(DType::F16, &[2, 16, 16]).named("s");
    let v = kb.slice(&s, &[0]).named("v");
    kb.free_shared(&v);
    kb.free_shared(&s);
    bad(
        build(kb),
        &["`free_shared` releases the tile made by `alloc_shared`, but %v is a slice of %s"],
    );
}

#[test]
fn copy_in_a_branch_then_load_without_wait() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F16);
    let n = kb.scalar_param("n", tilus_ir::expr::ScalarType::I32);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[16, 16]);
    let s = kb.alloc_shared(DType::F16, &[16, 16]).named("s");
    kb.if_then(n.gt(0), || {
        kb.copy_async(&s, &g, &[0, 0]);
        kb.commit_group();
    });
    let _x = kb.load_shared(&s);
    kb.free_shared(&s);
    bad(
        build(kb),
        &["%s is written by `copy_async` with no `wait_group`/`wait_all`"],
    );
}

fn stages(load_stage: i64, copy_whole: bool) -> Function {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F16);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[16, 16]);
    let s = kb.alloc_shared(DType::F16, &[2, 16, 16]).named("s");
    if copy_whole {
        let g3 = kb.global_view(p, &[2, 16, 16]);
        kb.copy_async(&s, &g3, &[0, 0, 0]);
    } else {
        let v0 = kb.slice(&s, &[0]).named("v0");
        kb.copy_async(&v0, &g, &[0, 0]);
    }
    kb.commit_group();
    let v = kb.slice(&s, &[load_stage]).named("v");
    let _x = kb.load_shared(&v);
    kb.free_shared(&s);
    build(kb)
}

#[test]
fn loads_of_slices_written_by_copy_async() {
    // Another stage of the buffer: nothing to wait for.
    ok(stages(1, false));
    // The same stage through another slice tensor.
    bad(
        stages(0, false),
        &["%v (sharing memory with %v0) is written by `copy_async`"],
    );
    // A stage of a buffer copied whole.
    bad(
        stages(1, true),
        &["%v (sharing memory with %s) is written by `copy_async`"],
    );
}

/// Double buffering, prefetch first: copy stage k+1, load stage k (waited for in the
/// previous iteration), wait. Correct, so it must verify.
#[test]
fn prefetch_then_load_the_current_stage_verifies() {
    let kb = KernelBuilder::new("k", 1);
    let p = kb.pointer_param("p", DType::F16);
    let n = kb.scalar_param("n", tilus_ir::expr::ScalarType::I32);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[16, 16]);
    let s = kb.alloc_shared(DType::F16, &[2, 16, 16]).named("s");
    let s0 = kb.slice(&s, &[0]);
    kb.copy_async(&s0, &g, &[0, 0]);
    kb.commit_group();
    kb.wait_group(0);
    kb.sync();
    kb.for_range("k", 0, n, 1, Unroll::None, |k| {
        kb.if_then((k + 1).lt(n), || {
            let next = kb.slice(&s, &[(k + 1) % 2]);
            kb.copy_async(&next, &g, &[0, 0]);
            kb.commit_group();
        });
        let cur = kb.slice(&s, &[k % 2]);
        let _x = kb.load_shared(&cur);
        kb.wait_group(0);
        kb.sync();
    });
    kb.free_shared(&s);
    ok(build(kb));
}
