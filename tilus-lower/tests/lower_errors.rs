//! Lowering errors name the instruction and the tensor and say what is wrong.

mod lower_support;

use lower_support::*;
use tilus_ir::builder::KernelBuilder;
use tilus_ir::dtype::DType;
use tilus_ir::layout::{local, spatial};
use tilus_lower::error::LowerError;
use tilus_lower::tile_to_thread::{lower_function, LowerOptions};

fn add_kernel() -> tilus_ir::program::Function {
    let kb = KernelBuilder::new("add", 1);
    let a = kb.pointer_param("a", DType::F32);
    kb.grid(&[1i64]);
    let ga = kb.global_view(a, &[64i64]);
    let x = kb.load_global(&ga, &[0i64], &[64]).named("x");
    let y = kb.load_global(&ga, &[0i64], &[64]).named("y");
    let z = (x + y).named("z");
    kb.store_global(&ga, &z, &[0i64]);
    kb.finish().expect("kernel")
}

#[test]
fn missing_layout() {
    let p = verified(add_kernel());
    let mut a = layouts(&p, &[], &[]);
    let f = &p.program().functions[0];
    let z = f.tensor_by_name("z").expect("z");
    a.register.remove(&z);
    let e = lower_function(&p, 0, &a).expect_err("missing layout");
    assert!(matches!(e, LowerError::MissingLayout { .. }), "{e}");
    assert!(e.to_string().contains("%z"), "{e}");
}

#[test]
fn operands_whose_layouts_disagree() {
    let p = verified(add_kernel());
    let a = layouts(
        &p,
        &[
            ("x", spatial(&[32]).local(&[2])),
            ("y", local(&[2]).spatial(&[32])),
            ("z", spatial(&[32]).local(&[2])),
        ],
        &[],
    );
    let e = lower_function(&p, 0, &a).expect_err("mismatch");
    assert!(matches!(e, LowerError::LayoutMismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("`add` (%z)") && msg.contains("%y"), "{msg}");
}

#[test]
fn layouts_must_span_the_block() {
    let p = verified(add_kernel());
    let a = layouts(&p, &[("x", spatial(&[64]))], &[]);
    let e = lower_function(&p, 0, &a).expect_err("threads");
    assert!(matches!(e, LowerError::BadLayout { .. }), "{e}");
    assert!(e.to_string().contains("64 threads"), "{e}");
}

#[test]
fn unknown_function_and_options() {
    let p = verified(add_kernel());
    let a = layouts(&p, &[], &[]);
    let e = lower_function(&p, 3, &a).expect_err("no such function");
    assert!(
        matches!(e, LowerError::NoFunction { index: 3, count: 1 }),
        "{e}"
    );
    let wgsl = tilus_lower::target::Target::Wgsl(Default::default());
    let o = LowerOptions::for_target(&wgsl);
    assert_eq!(o.max_shared_bytes, 16384);
    assert!(!o.mma);
}
