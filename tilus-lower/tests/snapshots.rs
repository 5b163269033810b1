//! insta snapshots of the WGSL pipeline for a fixed corpus of library kernels: for each,
//! the layouts after inference (`<kernel>__layouts`), the thread IR after simplification
//! (`<kernel>__thread_ir`) and the emitted WGSL (`<kernel>__wgsl`), under
//! `tests/snapshots/`.
//!
//! The caps are fixed (no `f16`, no subgroups) rather than taken from an adapter, so the
//! snapshots do not depend on the machine. Every WGSL module is validated with naga for
//! those caps.
//!
//! Regenerate after an intended change with `INSTA_UPDATE=always cargo test -p tilus-lower
//! --test snapshots` and review the diff; CI runs with `INSTA_UPDATE=no`.

use tilus_ir::dtype::DType;
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::{
    a16wx, a16wx_simt, gemm, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode, SimtConfig,
};
use tilus_lower::backend::wgsl::emit::validate_wgsl_for;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::Target;
use tilus_lower::target::WgslCaps;

/// The fixed caps of the snapshots.
fn caps() -> WgslCaps {
    WgslCaps {
        shader_f16: false,
        subgroup_size: None,
        max_workgroup_storage: 32768,
        max_invocations: 1024,
        f16_native: Default::default(),
    }
}

/// Compiles `f` and snapshots its layouts as `<label>__layouts` and, with `full`, its thread
/// IR and WGSL too. Only small kernels are snapshotted in full: the WGSL of the GEMMs is
/// checked by focused compile filetests (`tests/filetests/compile/`), which say what they
/// check, instead of a megabyte of text that only detects change.
fn snapshot(label: &str, f: Function, full: bool) {
    let name = f.name.clone();
    let prog = verify(Program { functions: vec![f] }).unwrap_or_else(|e| panic!("{label}: {e}"));
    let caps = caps();
    let out = compile(
        &prog,
        &name,
        &Target::Wgsl(caps.clone()),
        &CompileOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{label}: {e}"));
    let thread = out
        .thread_ir
        .unwrap_or_else(|| panic!("{label}: no thread IR"));
    let wgsl = out.artifact.unwrap_or_else(|| panic!("{label}: no WGSL"));
    validate_wgsl_for(wgsl.code.text(), &caps).unwrap_or_else(|e| panic!("{label}: naga: {e}"));
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings.set_omit_expression(true);
    settings.set_description(format!("kernel `{name}`, caps {caps:?}"));
    settings.bind(|| {
        insta::assert_snapshot!(format!("{label}__layouts"), out.layouts_text);
        if full {
            insta::assert_snapshot!(format!("{label}__thread_ir"), thread.to_string());
            insta::assert_snapshot!(format!("{label}__wgsl"), wgsl.code.text());
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
fn gemm_f16() {
    snapshot(
        "gemm_f16",
        gemm(DType::F16, GemmConfig::default()).expect("builds"),
        false,
    );
}

fn a16w(wtype: DType) {
    let cfg = A16WxConfig::default_for(
        DType::F16,
        wtype,
        GroupSize::Size(128),
        QuantMode::Symmetric,
    );
    snapshot(
        &format!("a16w_{wtype}"),
        a16wx(&cfg).expect("builds"),
        false,
    );
}

#[test]
fn a16wx_simt_u4() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let cfg = SimtConfig::default_for(
        DType::F16,
        u4,
        GroupSize::Size(128),
        QuantMode::Symmetric,
        1,
    );
    snapshot("a16wx_simt_u4", a16wx_simt(&cfg).expect("builds"), false);
}

#[test]
fn a16w_u4() {
    a16w(DType::Int {
        bits: 4,
        signed: false,
    });
}

#[test]
fn a16w_i3() {
    a16w(DType::Int {
        bits: 3,
        signed: true,
    });
}

#[test]
fn a16w_u6() {
    a16w(DType::Int {
        bits: 6,
        signed: false,
    });
}

#[test]
fn a16w_f6e3m2() {
    a16w(DType::MiniFloat { exp: 3, mant: 2 });
}

#[test]
fn a16w_f4e2m1() {
    a16w(DType::MiniFloat { exp: 2, mant: 1 });
}

#[test]
fn a16w_f8e4m3fn() {
    a16w(DType::F8E4M3FN);
}
