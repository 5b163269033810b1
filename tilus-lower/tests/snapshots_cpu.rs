//! insta snapshots of the CPU pipeline: the whole CLIF function of the `f32` elementwise
//! kernel, with SIMD lanes and with scalar thread loops. Correctness is checked elsewhere
//! (`kernels/tests/cpu.rs` runs the corpus against the tile interpreter); these only show
//! what changed in the generated code. The CLIF must also parse back and pass Cranelift's
//! verifier (the pipeline's validate stage).
//!
//! Regenerate after an intended change with `INSTA_UPDATE=always cargo test -p tilus-lower
//! --test snapshots_cpu` and review the diff.

use tilus_ir::dtype::DType;
use tilus_ir::program::Program;
use tilus_ir::verify::verify;
use tilus_kernels::vector_add;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::{CpuCaps, Target};

fn clif(lanes: u32) -> String {
    let f = vector_add(DType::F32, 128).expect("builds");
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).expect("verifies");
    let target = Target::Cpu(CpuCaps {
        lanes,
        ..CpuCaps::default()
    });
    let out = compile(&prog, &name, &target, &CompileOptions::default()).expect("compiles");
    let a = out.artifact.expect("has code");
    let m = a.cpu().expect("CPU code");
    assert_eq!(m.frame_bytes, 0, "vector add has no barrier");
    m.clif.clone()
}

#[test]
fn vector_add_f32_clif() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings.set_omit_expression(true);
    settings.set_description("kernel `vector_add_f32`, target cpu");
    settings.bind(|| {
        let simd = clif(4);
        assert!(simd.contains("f32x4"), "no SIMD lanes");
        insta::assert_snapshot!("vector_add_f32__clif_lanes4", simd);
        let scalar = clif(1);
        assert!(!scalar.contains("x4"), "scalar code with vectors");
        insta::assert_snapshot!("vector_add_f32__clif_lanes1", scalar);
    });
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(clif(4), clif(4));
}
