//! insta snapshots of the PTX pipeline for a small corpus: the whole PTX module of two
//! elementwise kernels (`f32`, and sub-byte `u4`, whose stores of shared words become
//! `red.global.and/or`) for sm_80, and the layouts layout inference picks with MMA atoms for
//! the GEMMs (`<kernel>__ptx_layouts`). The PTX of the GEMMs themselves is checked by the
//! corpus tests (`kernels/tests/ptx.rs`: ptxas, no spills, mma.sync, ldmatrix) and run by the
//! PTX interpreter (`kernels/tests/ptx_interp.rs`), which say what they check.
//!
//! When `$PTXAS` is set every snapshotted module is also assembled.
//!
//! Regenerate after an intended change with `INSTA_UPDATE=always cargo test -p tilus-lower
//! --test snapshots_ptx` and review the diff.

use tilus_ir::dtype::DType;
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::{a16wx, gemm, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode};
use tilus_lower::backend::ptx::ptxas;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::{PtxArch, PtxCaps, Target};

fn snapshot(label: &str, f: Function, full: bool) {
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).unwrap_or_else(|e| panic!("{label}: {e}"));
    let target = Target::Ptx(PtxCaps::for_arch(PtxArch::Sm80));
    let out = compile(&prog, &name, &target, &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let ptx = out.artifact.unwrap_or_else(|| panic!("{label}: no PTX"));
    let m = ptx.ptx().unwrap_or_else(|| panic!("{label}: not PTX"));
    if let Some(bin) = std::env::var_os("PTXAS") {
        ptxas::assemble(&bin, &m.source, &m.arch).unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings.set_omit_expression(true);
    settings.set_description(format!("kernel `{name}`, target ptx sm_80"));
    settings.bind(|| {
        insta::assert_snapshot!(format!("{label}__ptx_layouts"), out.layouts_text);
        if full {
            insta::assert_snapshot!(format!("{label}__ptx"), m.source.as_str());
        }
    });
}

#[test]
fn vector_add_f32() {
    snapshot(
        "vector_add_f32",
        vector_add(DType::F32, 128).expect("builds"),
        true,
    );
}

#[test]
fn vector_add_u4() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    snapshot("vector_add_u4", vector_add(u4, 128).expect("builds"), true);
}

#[test]
fn gemm_f16_layouts() {
    let cfg = GemmConfig::default();
    snapshot("gemm_f16", gemm(DType::F16, cfg).expect("builds"), false);
}

#[test]
fn a16w_u4_layouts() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let cfg = A16WxConfig::default_for(DType::F16, u4, GroupSize::Size(128), QuantMode::Symmetric);
    snapshot("a16w_u4", a16wx(&cfg).expect("builds"), false);
}
