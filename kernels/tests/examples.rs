//! The `.tilus` files in `kernels/examples/` are the printed kernels: regenerate them and
//! compare (`TILUS_BLESS=1` rewrites them). Each also parses back to the same text.

use std::path::PathBuf;

use tilus_ir::dtype::DType;
use tilus_ir::program::{Function, Program};
use tilus_ir::text::parse_program;
use tilus_ir::verify::verify;
use tilus_kernels::pack::pack_program;
use tilus_kernels::{
    a16wx, a16wx_simt, gemm, vector_add, A16WxConfig, GemmConfig, GroupSize, QuantMode, SimtConfig,
};

fn a16wx_cfg(wtype: DType) -> A16WxConfig {
    A16WxConfig::default_for(
        DType::F16,
        wtype,
        GroupSize::Size(128),
        QuantMode::Symmetric,
    )
}

fn simt_cfg(wtype: DType, m: usize) -> SimtConfig {
    SimtConfig::default_for(
        DType::F16,
        wtype,
        GroupSize::Size(128),
        QuantMode::Symmetric,
        m,
    )
    .specialized_for(4096, 4096)
}

fn examples() -> Vec<(&'static str, Function)> {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    let i3 = DType::Int {
        bits: 3,
        signed: true,
    };
    let f6 = DType::MiniFloat { exp: 3, mant: 2 };
    let u3 = DType::Int {
        bits: 3,
        signed: false,
    };
    let build = |r: tilus_kernels::Result<Function>| r.expect("builds");
    vec![
        ("vector_add_f32", build(vector_add(DType::F32, 512))),
        ("gemm_f16", build(gemm(DType::F16, GemmConfig::default()))),
        ("a16wx_f16_u4", build(a16wx(&a16wx_cfg(u4)))),
        ("a16wx_f16_i3", build(a16wx(&a16wx_cfg(i3)))),
        ("a16wx_f16_f6e3m2", build(a16wx(&a16wx_cfg(f6)))),
        ("pack_u4", build(pack_program(&a16wx_cfg(u4)))),
        ("a16wx_simt_f16_u4", build(a16wx_simt(&simt_cfg(u4, 1)))),
        (
            "a16wx_simt_f16_u3_m16",
            build(a16wx_simt(&simt_cfg(u3, 16))),
        ),
    ]
}

#[test]
fn examples_are_up_to_date() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let bless = std::env::var("TILUS_BLESS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, f) in examples() {
        let text = Program { functions: vec![f] }.to_string();
        // The printed text is a valid program that prints back the same and verifies.
        let parsed = parse_program(&text).unwrap_or_else(|e| panic!("{name} does not parse:\n{e}"));
        assert_eq!(
            parsed.to_string(),
            text,
            "{name}: print(parse(print(p))) differs"
        );
        verify(parsed).unwrap_or_else(|e| panic!("{name} does not verify:\n{e}"));
        let path = dir.join(format!("{name}.tilus"));
        if bless {
            std::fs::create_dir_all(&dir).expect("creates kernels/examples");
            std::fs::write(&path, &text).expect("writes the example");
            continue;
        }
        let Ok(old) = std::fs::read_to_string(&path) else {
            stale.push(format!("{} (missing)", path.display()));
            continue;
        };
        if old != text {
            let line = old
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(old.lines().count().min(text.lines().count()));
            stale.push(format!(
                "{} (first difference at line {})",
                path.display(),
                line + 1
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale examples, rerun with TILUS_BLESS=1 to rewrite them:\n{}",
        stale.join("\n")
    );
}

/// parse(print(p)) == p (structurally) for every kernel the library can generate: every
/// weight type, both activation types, every group kind and mode, split-K, the packing
/// programs, and every vector-add dtype.
#[test]
fn every_library_kernel_round_trips_through_text() {
    use tilus_ir::equiv::programs_equal;
    use tilus_kernels::config::weight_types;
    use tilus_kernels::pack::unpack_program;

    let mut kernels: Vec<Function> = Vec::new();
    for &act in &[DType::F16, DType::BF16] {
        for w in weight_types().into_iter().chain([DType::F16]) {
            for (group, mode) in [
                (GroupSize::Size(128), QuantMode::Symmetric),
                (GroupSize::PerChannel, QuantMode::Symmetric),
                (GroupSize::Size(64), QuantMode::Asymmetric),
            ] {
                if mode == QuantMode::Asymmetric && !w.is_int() {
                    continue;
                }
                let mut cfg = A16WxConfig::default_for(act, w, group, mode);
                if let Ok(f) = a16wx(&cfg) {
                    kernels.push(f);
                }
                cfg.split_k = 2;
                if let Ok(f) = a16wx(&cfg) {
                    kernels.push(f);
                }
            }
            let cfg = A16WxConfig::default_for(act, w, GroupSize::Size(128), QuantMode::Symmetric);
            kernels.extend(pack_program(&cfg));
            kernels.extend(unpack_program(&cfg));
        }
    }
    for d in DType::all().into_iter().filter(|d| d.bits() <= 32) {
        kernels.extend(vector_add(d, 256));
    }
    for d in [DType::F16, DType::BF16, DType::F32] {
        kernels.extend(gemm(d, GemmConfig::default()));
    }
    assert!(
        kernels.len() > 200,
        "only {} kernels generated",
        kernels.len()
    );
    for f in kernels {
        let name = f.name.clone();
        let p = Program { functions: vec![f] };
        let text = p.to_string();
        let parsed = parse_program(&text).unwrap_or_else(|e| panic!("{name}: {}", e.render()));
        assert!(programs_equal(&parsed, &p), "{name}: parse(print(p)) != p");
        assert_eq!(
            parsed.to_string(),
            text,
            "{name}: printing is not a fixpoint"
        );
    }
}
