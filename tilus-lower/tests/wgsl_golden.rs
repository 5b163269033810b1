//! The emitted WGSL of a few kernels, kept beside the tests (`tests/wgsl_golden/*.wgsl`) so
//! that changes to legalization or emission show up as reviewable diffs. `TILUS_BLESS=1`
//! rewrites the files.

mod wgsl_support;

use std::path::PathBuf;

use tilus_ir::dtype::DType;
use tilus_ir::program::{Function, Program};
use tilus_ir::verify::verify;
use tilus_kernels::vector_add;
use tilus_lower::backend::legalize::legalize_wgsl;
use tilus_lower::backend::wgsl::emit::{emit_wgsl, validate_wgsl};
use tilus_lower::layout_infer::infer;
use tilus_lower::target::Target;
use tilus_lower::thread_ir::{Expr, KernelBuilder, Stmt};
use tilus_lower::tile_to_thread::{lower_function_with, LowerOptions};
use wgsl_support::caps;

fn golden(name: &str, wgsl: &str) {
    validate_wgsl(wgsl).unwrap_or_else(|e| panic!("{name}: {e}"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wgsl_golden")
        .join(format!("{name}.wgsl"));
    if std::env::var("TILUS_BLESS").is_ok_and(|v| !v.is_empty() && v != "0") {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, wgsl).expect("write golden file");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with TILUS_BLESS=1 to create it)",
            path.display()
        )
    });
    if want != wgsl {
        let first = want
            .lines()
            .zip(wgsl.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(wgsl.lines().count()));
        panic!(
            "{} differs from the emitted WGSL at line {} (TILUS_BLESS=1 rewrites it):\n--- expected\n{}\n--- emitted\n{}",
            path.display(),
            first + 1,
            want.lines().nth(first).unwrap_or("<end>"),
            wgsl.lines().nth(first).unwrap_or("<end>"),
        );
    }
}

fn compile(f: Function) -> String {
    let prog = verify(Program { functions: vec![f] }).expect("verifies");
    let target = Target::Wgsl(caps());
    let layouts = infer(&prog, 0, &target.caps()).expect("layouts");
    let k = lower_function_with(&prog, 0, &layouts, &LowerOptions::for_target(&target))
        .expect("lowers");
    let legal = legalize_wgsl(&k, &caps()).expect("legalizes");
    emit_wgsl(&legal, &caps())
        .expect("emits")
        .code
        .text()
        .to_string()
}

#[test]
fn vector_add_u4_and_f16() {
    let u4 = DType::Int {
        bits: 4,
        signed: false,
    };
    golden(
        "vector_add_u4",
        &compile(vector_add(u4, 128).expect("builds")),
    );
    golden(
        "vector_add_f16",
        &compile(vector_add(DType::F16, 128).expect("builds")),
    );
}

#[test]
fn decode_e2m1_scaled() {
    // y[i] = decode<f4e2m1>(x[i]) · s, one element per thread.
    let mut b = KernelBuilder::new("dequant", 64);
    let f4 = DType::MiniFloat { exp: 2, mant: 1 };
    let x = b.buffer("x", f4, tilus_lower::thread_ir::BufferKind::Param(0));
    let y = b.buffer(
        "y",
        DType::F32,
        tilus_lower::thread_ir::BufferKind::Param(1),
    );
    for (name, buf) in [("x", x), ("y", y)] {
        b.kernel.params.push(tilus_lower::thread_ir::Param {
            name: name.into(),
            kind: tilus_lower::thread_ir::ParamKind::Pointer(buf),
            dtype: None,
        });
    }
    b.kernel.params.push(tilus_lower::thread_ir::Param {
        name: "s".into(),
        kind: tilus_lower::thread_ir::ParamKind::Scalar(tilus_lower::thread_ir::Ty::F32),
        dtype: Some(DType::F32),
    });
    let l = b.local("q", f4, 1);
    let o = b.local("v", DType::F32, 1);
    let tid = b.thread_idx();
    let at = |array, slot| tilus_lower::thread_ir::LocalRef { array, slot };
    b.push(Stmt::Load {
        dst: at(l, 0),
        src: tilus_lower::thread_ir::MemRef {
            space: tilus_lower::thread_ir::Space::Global(x),
            index: tid,
        },
        width: 1,
        mask: None,
    });
    let q = b.read_local(l, 0);
    let v = b.decode(f4, q);
    let s = b.expr(Expr::Param(2));
    let v = b.mul(v, s);
    b.push(Stmt::SetLocal {
        dst: at(o, 0),
        value: v,
    });
    b.push(Stmt::Store {
        dst: tilus_lower::thread_ir::MemRef {
            space: tilus_lower::thread_ir::Space::Global(y),
            index: tid,
        },
        src: at(o, 0),
        width: 1,
        mask: None,
    });
    let k = b.finish();
    let legal = legalize_wgsl(&k, &caps()).expect("legalizes");
    let emitted = emit_wgsl(&legal, &caps()).expect("emits");
    golden("dequant_e2m1", emitted.code.text());
}
