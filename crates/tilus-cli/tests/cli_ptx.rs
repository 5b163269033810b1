//! The `tilus` command on the PTX paths: `compile --target ptx`, the PTX interpreter as a
//! backend (`gemm`, `bench`, `selftest`), and CUDA without a driver (a clean error).

use std::process::Command;

fn tilus(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tilus"))
        .args(args)
        .output()
        .expect("run tilus");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = tilus(args);
    assert_eq!(code, 0, "tilus {args:?} failed: {err}");
    out
}

fn fails(args: &[&str]) -> String {
    let (code, out, err) = tilus(args);
    assert_ne!(code, 0, "tilus {args:?} should fail but printed {out}");
    assert!(!err.contains("panicked"), "tilus {args:?} panicked: {err}");
    assert!(err.starts_with("error"), "tilus {args:?}: {err}");
    err
}

fn example(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../kernels/examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn compile_to_ptx_for_both_architectures() {
    let f = example("a16wx_f16_u4.tilus");
    for arch in ["sm_80", "sm_90"] {
        let ptx = ok(&[
            "compile", &f, "--target", "ptx", "--arch", arch, "--emit", "ptx",
        ]);
        assert!(ptx.contains(&format!(".target {arch}")), "{}", &ptx[..400]);
        assert!(ptx.contains(".visible .entry a16wx_f16_u4("));
        assert!(ptx.contains("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"));
        // The default emit is the target's code.
        assert_eq!(ptx, ok(&["compile", &f, "--target", "ptx", "--arch", arch]));
    }
    let err = fails(&["compile", &f, "--target", "ptx", "--emit", "wgsl"]);
    assert!(err.contains("--emit wgsl needs --target wgsl"), "{err}");
    let err = fails(&["compile", &f, "--target", "ptx", "--f16"]);
    assert!(err.contains("--f16"), "{err}");
    let err = fails(&["compile", &f, "--target", "ptx", "--arch", "sm_70"]);
    assert!(err.contains("sm_70"), "{err}");
}

#[test]
fn gemm_bench_and_selftest_on_the_ptx_interpreter() {
    let out = ok(&[
        "gemm",
        "--backend",
        "ptx-interp",
        "--m",
        "2",
        "--k",
        "256",
        "--n",
        "128",
        "--wtype",
        "u3",
    ]);
    assert!(out.contains("backend: ptx-interp"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("ok:")), "{out}");
    let out = ok(&[
        "gemm",
        "--backend",
        "ptx-interp",
        "--m",
        "16",
        "--k",
        "128",
        "--n",
        "64",
        "--kernel",
        "mma",
    ]);
    assert!(out.lines().any(|l| l.starts_with("ok:")), "{out}");
    let out = ok(&[
        "bench",
        "gemm",
        "--backend",
        "ptx-interp",
        "--m",
        "1,2",
        "--k",
        "128",
        "--n",
        "64",
        "--repeats",
        "1",
        "--warmup",
        "0",
    ]);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("bench: backend=ptx-interp wtype="))
            .count(),
        4,
        "{out}"
    );
    let out = ok(&["selftest", "--backend", "ptx-interp", "--filter", "u4"]);
    assert!(out.contains("4 passed, 0 failed"), "{out}");
}

#[test]
fn cuda_without_a_driver_is_a_clean_error() {
    let (code, out, err) = tilus(&[
        "gemm",
        "--backend",
        "cuda",
        "--m",
        "1",
        "--k",
        "128",
        "--n",
        "64",
    ]);
    if code == 0 {
        // A machine with a GPU: the run itself must have verified.
        assert!(out.lines().any(|l| l.starts_with("ok:")), "{out}");
        return;
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.to_lowercase().contains("cuda"), "{err}");
    for args in [
        &["selftest", "--backend", "cuda"][..],
        &["bench", "gemm", "--backend", "cuda", "--suite"][..],
    ] {
        let err = fails(args);
        assert!(err.to_lowercase().contains("cuda"), "{err}");
    }
}
