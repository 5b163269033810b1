//! Helpers and well-formed kernels shared by the verifier tests.
#![allow(dead_code)]

use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{Axis, ScalarType};
use tilus_ir::layout::spatial;
use tilus_ir::program::{Function, InstId, Program, TensorId, Unroll};
use tilus_ir::verify::{verify, FunctionInfo, VerifiedProgram, VerifyErrors};

pub const I32: DType = DType::Int {
    bits: 32,
    signed: true,
};
pub const U8: DType = DType::Int {
    bits: 8,
    signed: false,
};
pub const I4: DType = DType::Int {
    bits: 4,
    signed: true,
};

pub fn run(f: Function) -> Result<VerifiedProgram, VerifyErrors> {
    verify(Program { functions: vec![f] })
}

pub fn ok(f: Function) -> FunctionInfo {
    match run(f) {
        Ok(v) => v.info(0).cloned().unwrap_or_default(),
        Err(e) => panic!("expected the program to verify, got:\n{e}"),
    }
}

/// The errors of a program that must fail; each listed needle must appear in some message.
pub fn bad(f: Function, needles: &[&str]) -> VerifyErrors {
    match run(f) {
        Ok(_) => panic!("expected verification errors containing {needles:?}"),
        Err(e) => {
            for n in needles {
                assert!(e.contains(n), "no error contains {n:?}; got:\n{e}");
            }
            e
        }
    }
}

pub fn build(kb: KernelBuilder) -> Function {
    match kb.finish() {
        Ok(f) => f,
        Err(e) => panic!("builder error: {e}"),
    }
}

/// The `n`-th instruction (in arena order) whose mnemonic is `name`.
pub fn find_inst(f: &Function, name: &str, n: usize) -> InstId {
    f.insts
        .iter()
        .filter(|(_, i)| i.kind.name() == name)
        .map(|(h, _)| h)
        .nth(n)
        .unwrap_or_else(|| panic!("no instruction `{name}` #{n}"))
}

pub fn tensor(f: &Function, name: &str) -> TensorId {
    f.tensor_by_name(name)
        .unwrap_or_else(|| panic!("no tensor %{name}"))
}

pub fn vector_add() -> Function {
    let kb = KernelBuilder::new("vector_add", 4);
    let n = kb.scalar_param("n", ScalarType::I32);
    let a = kb.pointer_param("a", DType::F32);
    let b = kb.pointer_param("b", DType::F32);
    let c = kb.pointer_param("c", DType::F32);
    kb.grid(&[n.cdiv(128)]);
    let ga = kb.global_view(a, &[n]);
    let gb = kb.global_view(b, &[n]);
    let gc = kb.global_view(c, &[n]);
    let offset = kb.block_idx(Axis::X) * 128;
    let x = kb.load_global(&ga, &[offset], &[128]).named("x");
    let y = kb.load_global(&gb, &[offset], &[128]).named("y");
    let z = (x + y).named("z");
    kb.store_global(&gc, &z, &[offset]);
    build(kb)
}

/// A 32×32 tile GEMM, k in steps of 16, double-buffered shared staging with `copy_async`.
pub fn gemm() -> Function {
    let kb = KernelBuilder::new("gemm", 4);
    let m = kb.scalar_param("m", ScalarType::I32);
    let n = kb.scalar_param("n", ScalarType::I32);
    let k = kb.scalar_param("k", ScalarType::I32);
    let a = kb.pointer_param("a", DType::F16);
    let b = kb.pointer_param("b", DType::F16);
    let c = kb.pointer_param("c", DType::F32);
    kb.grid(&[m.cdiv(32), n.cdiv(32)]);
    let ga = kb.global_view(a, &[m, k]);
    let gb = kb.global_view(b, &[k, n]);
    let gc = kb.global_view(c, &[m, n]);
    let sa = kb.alloc_shared(DType::F16, &[2, 32, 16]).named("sa");
    let sb = kb.alloc_shared(DType::F16, &[2, 16, 32]).named("sb");
    let acc = kb
        .alloc_register(DType::F32, &[32, 32], Some(0.0))
        .named("acc");
    let row = kb.block_idx(Axis::X) * 32;
    let col = kb.block_idx(Axis::Y) * 32;
    let sa0 = kb.slice(&sa, &[0]);
    let sb0 = kb.slice(&sb, &[0]);
    kb.copy_async(&sa0, &ga, &[row, kb.int(0)]);
    kb.copy_async(&sb0, &gb, &[kb.int(0), col]);
    kb.commit_group();
    kb.for_range("ki", 0, k.cdiv(16), 1, Unroll::None, |ki| {
        let next = (ki + 1) % 2;
        let sa_next = kb.slice(&sa, &[next]);
        let sb_next = kb.slice(&sb, &[next]);
        kb.copy_async(&sa_next, &ga, &[row, (ki + 1) * 16]);
        kb.copy_async(&sb_next, &gb, &[(ki + 1) * 16, col]);
        kb.commit_group();
        kb.wait_group(1);
        kb.sync();
        let cur = ki % 2;
        let ta = kb.load_shared(&kb.slice(&sa, &[cur])).named("ta");
        let tb = kb.load_shared(&kb.slice(&sb, &[cur])).named("tb");
        kb.dot_acc(&ta, &tb, &acc);
        kb.sync();
    });
    kb.wait_all();
    kb.store_global(&gc, &acc, &[row, col]);
    kb.free_shared(&sa);
    kb.free_shared(&sb);
    build(kb)
}

/// Loads a [32, 4] u8 tile, one row per thread, annotates it and views it as [32, 8] i4.
pub fn view_kernel() -> Function {
    let kb = KernelBuilder::new("view", 1);
    let p = kb.pointer_param("p", U8);
    kb.grid(&[1]);
    let g = kb.global_view(p, &[32, 4]);
    let x = kb.load_global(&g, &[0, 0], &[32, 4]).named("x");
    kb.annotate_layout(&x, &spatial(&[32, 1]).local(&[1, 4]));
    let y = kb
        .view(&x, I4, &spatial(&[32, 1]).local(&[1, 8]))
        .named("y");
    let z = kb
        .view(&y, U8, &spatial(&[32, 1]).local(&[1, 4]))
        .named("z");
    kb.print(&z, "z");
    build(kb)
}
