//! End-to-end tests of the `tilus` command: exact output formats and clean errors.

use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn tilus(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tilus"))
        .args(args)
        .output()
        .expect("run tilus");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(args: &[&str]) -> String {
    let r = tilus(args);
    assert_eq!(r.code, 0, "tilus {args:?} failed: {}", r.stderr);
    r.stdout
}

/// Runs a command that must fail cleanly: non-zero exit, an `error` message, no panic.
fn fails(args: &[&str]) -> String {
    let r = tilus(args);
    assert_ne!(
        r.code, 0,
        "tilus {args:?} should fail but printed {}",
        r.stdout
    );
    assert!(
        !r.stderr.contains("panicked"),
        "tilus {args:?} panicked: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("error"),
        "tilus {args:?}: no error message: {}",
        r.stderr
    );
    r.stderr
}

#[test]
fn pack_matches_the_spec_examples() {
    assert_eq!(
        ok(&["pack", "u3", "1", "2", "3", "4", "5", "6", "7", "0"]),
        "d1 58 1f\n"
    );
    assert_eq!(ok(&["pack", "i6", "-3", "5", "-32", "31"]), "7d 01 7e\n");
    assert_eq!(
        ok(&["pack", "u4", "0", "1", "2", "3", "4", "5", "6", "7"]),
        "10 32 54 76\n"
    );
    assert_eq!(ok(&["pack", "int4b", "-7"]), "09\n");
    assert_eq!(ok(&["pack", "f4e2m1", "0.5", "-6"]), "f1\n");
}

#[test]
fn unpack_inverts_pack() {
    assert_eq!(ok(&["unpack", "i6", "4", "7d 01 7e"]), "-3 5 -32 31\n");
    assert_eq!(
        ok(&["unpack", "u3", "8", "d1", "58", "1f"]),
        "1 2 3 4 5 6 7 0\n"
    );
    assert_eq!(
        ok(&["unpack", "u4", "8", "0x10325476"]),
        "0 1 2 3 4 5 6 7\n"
    );
    assert_eq!(ok(&["unpack", "f4e2m1", "2", "f1"]), "0.5 -6\n");
}

#[test]
fn dtype_table_format() {
    let out = ok(&["dtype", "f4e2m1"]);
    let rows: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 16);
    assert_eq!(rows[0], "0x0  0000  0");
    assert_eq!(rows[1], "0x1  0001  0.5");
    assert_eq!(rows[7], "0x7  0111  6");
    assert_eq!(rows[8], "0x8  1000  -0");
    assert_eq!(rows[15], "0xf  1111  -6");
    let header: Vec<&str> = out.lines().filter(|l| l.starts_with('#')).collect();
    let header = header.join("\n");
    for needle in [
        "4 bits",
        "bias: 1",
        "max: 6",
        "min: -6",
        "smallest normal: 1",
        "smallest subnormal: 0.5",
    ] {
        assert!(
            header.contains(needle),
            "header lacks `{needle}`:\n{header}"
        );
    }
    // Every line is a header line or a row; headers come first.
    let first_row = out.lines().position(|l| !l.starts_with('#')).unwrap_or(0);
    assert!(out.lines().skip(first_row).all(|l| !l.starts_with('#')));

    let u3 = ok(&["dtype", "uint3b"]);
    assert!(u3.contains("# max: 7"));
    assert!(u3.lines().any(|l| l == "0x7  111  7"));
    let i3 = ok(&["dtype", "i3"]);
    assert!(i3.lines().any(|l| l == "0x4  100  -4"));
    let f6 = ok(&["dtype", "float6_e3m2fn"]);
    assert!(f6.lines().any(|l| l == "0x1f  011111  28"));
    assert!(f6.lines().any(|l| l == "0x01  000001  0.0625"));
    let e4m3 = ok(&["dtype", "f8e4m3fn"]);
    assert!(e4m3.lines().any(|l| l == "0x7e  01111110  448"));
    assert!(e4m3.lines().any(|l| l == "0x7f  01111111  NaN"));
}

#[test]
fn dtype_encode_format() {
    let out = ok(&[
        "dtype", "f4e2m1", "--encode", "0.75", "-2.5", "inf", "-inf", "nan", "100",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "0.75  0x2  1",
            "-2.5  0xc  -2",
            "inf  0x7  6",
            "-inf  0xf  -6",
            "nan  0x0  0",
            "100  0x7  6"
        ]
    );
    let out = ok(&["dtype", "f6e3m2", "--encode", "0.1", "1.125", "-100"]);
    assert_eq!(out, "0.1  0x02  0.125\n1.125  0x0c  1\n-100  0x3f  -28\n");
    let out = ok(&["dtype", "f8e4m3fn", "--encode", "480", "-inf"]);
    assert_eq!(out, "480  0x7f  NaN\n-inf  0xff  NaN\n");
    let out = ok(&["dtype", "i4", "--encode", "-3.7", "100"]);
    assert_eq!(out, "-3.7  0xd  -3\n100  0x7  7\n");
}

#[test]
fn dtypes_lists_every_family() {
    let out = ok(&["dtypes"]);
    for name in [
        "i1", "i8", "u4", "u64", "f32", "bf16", "f8e4m3fn", "f8e5m2", "f3e1m1", "f6e3m2", "f6e2m3",
        "f7e4m2",
    ] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "missing {name}"
        );
    }
}

#[test]
fn bad_dtype_input_is_a_clean_error() {
    let e = fails(&["dtype", "f6e3m3"]);
    assert!(e.contains("did you mean"), "{e}");
    fails(&["dtype", "f9e4m4"]);
    fails(&["pack", "u4", "16"]);
    fails(&["pack", "i4", "-9"]);
    fails(&["pack", "u4", "abc"]);
    fails(&["unpack", "u4", "3", "1"]);
    fails(&["unpack", "u4", "5", "10"]);
    fails(&["unpack", "u4", "1", "zz"]);
    fails(&["dtype", "f4e2m1", "--encode", "one"]);
}

#[test]
fn layout_grid_and_summary() {
    let out = ok(&["layout", "local(2,1).spatial(4,8)"]);
    assert!(out.contains("t0:0"), "{out}");
    assert!(out.contains("t31:1"), "{out}");
    assert!(out.contains("shape: [8, 8]"), "{out}");
    assert!(out.contains("threads: 32"), "{out}");
    assert!(out.contains("local size: 2"), "{out}");
    assert!(out.contains("canonical: local(2,1).spatial(4,8)"), "{out}");
    let red = ok(&["layout", "reduce(spatial(3,4), dims=[0])"]);
    assert!(red.contains("t0,4,8:0"), "{red}");
}

#[test]
fn layout_table_format() {
    let out = ok(&["layout", "--table", "local(2,1).spatial(4,8)"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 64);
    assert_eq!(&lines[..3], ["0 0 0 0", "0 1 4 0", "1 0 0 1"]);
    assert_eq!(lines[63], "31 1 7 7");
}

#[test]
fn layout_svg_is_written() {
    let dir = std::env::temp_dir().join(format!("tilus-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("mma_a.svg");
    let p = path.to_string_lossy().into_owned();
    ok(&[
        "layout",
        "column_local(2,2).spatial(8,4).local(1,2)",
        "--svg",
        &p,
    ]);
    let svg = std::fs::read_to_string(&path).expect("svg written");
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
    assert!(svg.matches("<rect").count() >= 256);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shared_layout_offsets() {
    let out = ok(&["layout", "--shared", "row_major(8,64).swizzle(3,3,3)"]);
    // Row 1 starts with the swizzled offsets 72..79 then 64..71.
    let row1 = out.lines().find(|l| {
        l.trim_start().starts_with("1 ")
            || l.trim_start().starts_with("1|")
            || l.trim_start().starts_with("1:")
    });
    let row1 = row1.unwrap_or_else(|| panic!("no row 1 in\n{out}"));
    let nums: Vec<&str> = row1
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(&nums[1..4], ["72", "73", "74"], "{row1}");
    assert_eq!(nums[9], "64", "{row1}");
}

#[test]
fn bad_layouts_are_clean_errors() {
    let e = fails(&["layout", "local(2,x)"]);
    assert!(e.contains('^'), "no caret: {e}");
    assert!(e.contains("local(2,x)"), "no source line: {e}");
    let e = fails(&["layout", "spatial(2,4).local(2,1) / spatial(3)"]);
    assert!(e.contains("divide"), "{e}");
    fails(&["layout", "spatial(4"]);
    fails(&["layout", ""]);
    fails(&["layout", "reduce(spatial(3,4), dims=[5])"]);
    fails(&["layout", "--shared", "row_major(8,64).swizzle(3,3"]);
    fails(&["layout", "local(99999999999999999999)"]);
}

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tilus-cli-prog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

const VECTOR_ADD: &str =
    "kernel vector_add(n: i32, a: *f32, b: *f32, c: *f32) grid(cdiv(n, 128)) warps(4) {
    %ga = global_view a, [n]
    %gb = global_view b, [n]
    %gc = global_view c, [n]
    %x = load_global %ga, [blockIdx.x * 128], shape=[128]
    %y = load_global %gb, [blockIdx.x * 128], shape=[128]
    %z = add %x, %y
    store_global %gc, %z, [blockIdx.x * 128]
}
";

#[test]
fn check_fmt_run_a_program() {
    let p = write_temp("va.tilus", VECTOR_ADD);
    let path = p.to_string_lossy().into_owned();
    assert!(ok(&["check", &path]).starts_with("ok:"));
    assert_eq!(ok(&["fmt", &path]), VECTOR_ADD);
    let out = ok(&[
        "run",
        &path,
        "--arg",
        "n=200",
        "--arg",
        "a=range[200]",
        "--arg",
        "b=ones[200]",
        "--arg",
        "c=zeros[200]",
    ]);
    assert!(out.contains("2 blocks"), "{out}");
    assert!(out.contains("c: f32[200] min=1 max=200"), "{out}");
    // Only block 0: the second half of c stays zero.
    let out = ok(&[
        "run",
        &path,
        "--grid",
        "1",
        "--arg",
        "n=200",
        "--arg",
        "a=range[200]",
        "--arg",
        "b=ones[200]",
        "--arg",
        "c=zeros[200]",
    ]);
    assert!(
        out.contains("1 blocks") && out.contains("c: f32[200] min=0 max=128"),
        "{out}"
    );
}

#[test]
fn malformed_programs_are_clean_errors() {
    let cases = [
        ("truncated.tilus", "kernel k(n: i32) grid(1) warps(1) {\n    %x = alloc_register f32[4"),
        ("unknown.tilus", "kernel k(n: i32) grid(1) warps(1) {\n    %x = lod_global n\n}\n"),
        ("arity.tilus", "kernel k(a: *f32) grid(1) warps(1) {\n    %g = global_view a, [4]\n    %x = load_global %g\n}\n"),
        ("shape.tilus", "kernel k(a: *f32) grid(1) warps(1) {\n    %x = alloc_register f32[4]\n    %y = alloc_register f32[5]\n    %z = add %x, %y\n}\n"),
        ("layout.tilus", "kernel k(a: *f32) grid(1) warps(1) {\n    %x = alloc_register f32[4]\n    annotate_layout %x, spatial(4).local(\n}\n"),
        ("binary.tilus", "\u{0}\u{1}kernel \u{ff}"),
    ];
    for (name, text) in cases {
        let p = write_temp(name, text);
        let e = fails(&["check", &p.to_string_lossy()]);
        assert!(
            e.contains("-->") || e.contains("line "),
            "{name}: no location in {e}"
        );
    }
    let p = write_temp("va2.tilus", VECTOR_ADD);
    let path = p.to_string_lossy().into_owned();
    fails(&["run", &path, "--arg", "n=5"]);
    fails(&[
        "run", &path, "--arg", "n=5", "--arg", "a=[1]", "--arg", "b=[1]", "--arg", "c=[1]",
        "--arg", "d=3",
    ]);
    fails(&["check", "/nonexistent/file.tilus"]);
}

#[test]
fn gemm_on_the_interpreter_ends_with_a_machine_readable_line() {
    for (wtype, extra) in [
        ("u4", None),
        ("i3", Some("--asym")),
        ("f6e3m2", None),
        ("f8e4m3fn", None),
    ] {
        let mut args = vec![
            "gemm",
            "--m",
            "17",
            "--k",
            "256",
            "--n",
            "72",
            "--wtype",
            wtype,
            "--group-size",
            "128",
            "--backend",
            "interp",
        ];
        if let Some(e) = extra {
            args.push(e);
        }
        let out = ok(&args);
        let last = out.lines().last().unwrap_or_default();
        assert!(last.starts_with("ok: max_rel_err="), "{wtype}: {out}");
        assert!(
            last.contains(" mean_rel_err=") && last.contains(" time_ms="),
            "{last}"
        );
    }
    let out = ok(&[
        "gemm",
        "--m",
        "1",
        "--k",
        "128",
        "--n",
        "64",
        "--wtype",
        "u2",
        "--group-size",
        "per-channel",
        "--split-k",
        "2",
        "--backend",
        "interp",
    ]);
    assert!(
        out.lines().last().is_some_and(|l| l.starts_with("ok: ")),
        "{out}"
    );
}

#[test]
fn gemm_rejects_bad_choices_cleanly() {
    fails(&[
        "gemm", "--wtype", "f4e2m1", "--asym", "--m", "1", "--k", "128", "--n", "64",
    ]);
    fails(&[
        "gemm", "--wtype", "u9", "--m", "1", "--k", "128", "--n", "64",
    ]);
    fails(&[
        "gemm",
        "--group-size",
        "48",
        "--m",
        "1",
        "--k",
        "128",
        "--n",
        "64",
    ]);
    fails(&[
        "gemm",
        "--group-size",
        "many",
        "--m",
        "1",
        "--k",
        "128",
        "--n",
        "64",
    ]);
    fails(&[
        "gemm", "--act", "f32", "--m", "1", "--k", "128", "--n", "64",
    ]);
    fails(&["gemm", "--m", "0"]);
    fails(&[
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
}

fn example(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../kernels/examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn compile_emits_every_stage() {
    let f = example("a16wx_f16_u4.tilus");
    let layouts = ok(&["compile", &f, "--target", "wgsl", "--emit", "layouts"]);
    assert!(
        layouts
            .lines()
            .all(|l| l.starts_with('%') && l.contains(" = ")),
        "{layouts}"
    );
    let tir = ok(&["compile", &f, "--emit", "thread-ir"]);
    assert!(tir.starts_with("kernel "), "{tir}");
    let wgsl = ok(&["compile", &f, "--emit", "wgsl"]);
    assert!(
        wgsl.contains("@compute @workgroup_size(128, 1, 1)"),
        "{}",
        &wgsl[..wgsl.len().min(400)]
    );
    let r = tilus(&["compile", &example("vector_add_f32.tilus"), "--timings"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for stage in [
        "layout inference",
        "tile -> thread",
        "simplify (egg)",
        "legalize",
        "emit",
        "validate",
        "total",
    ] {
        assert!(r.stderr.contains(stage), "no `{stage}` in {}", r.stderr);
    }
}

/// wgpu runs must not silently pass: without an adapter they are skipped with a printed
/// reason unless TILUS_REQUIRE_WGPU=1 (CI), in which case the command must succeed.
fn wgpu_or_skip(args: &[&str]) -> Option<String> {
    let r = tilus(args);
    if r.code == 0 {
        return Some(r.stdout);
    }
    assert!(
        !tilus_runtime::skip::wgpu_required() && r.stderr.contains("no wgpu adapter"),
        "tilus {args:?} failed: {}",
        r.stderr
    );
    eprintln!(
        "SKIPPED (no wgpu adapter): {}",
        r.stderr.lines().next().unwrap_or_default()
    );
    None
}

#[test]
fn gemm_and_bench_on_wgpu() {
    if let Some(out) = wgpu_or_skip(&[
        "gemm",
        "--backend",
        "wgpu",
        "--m",
        "17",
        "--k",
        "256",
        "--n",
        "72",
        "--wtype",
        "u3",
    ]) {
        eprintln!("{}", out.lines().next().unwrap_or_default());
        assert!(
            out.lines()
                .last()
                .is_some_and(|l| l.starts_with("ok: max_rel_err=")),
            "{out}"
        );
    }
    if let Some(out) = wgpu_or_skip(&[
        "bench",
        "gemm",
        "--backend",
        "wgpu",
        "--m",
        "1",
        "--k",
        "256",
        "--n",
        "128",
        "--wtype",
        "u4",
        "--warmup",
        "0",
        "--repeats",
        "2",
    ]) {
        // The hand-written baselines first, then ours.
        let hand: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("bench: ") && l.contains("kernel=handwritten_"))
            .collect();
        assert_eq!(hand.len(), 2, "{out}");
        let benches: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("bench: ") && l.contains("wtype="))
            .collect();
        assert_eq!(benches.len(), 2, "{out}");
        assert!(
            benches[0].contains("wtype=f16") && benches[1].contains("wtype=u4"),
            "{out}"
        );
        for key in [
            "backend=wgpu",
            "m=1",
            "k=256",
            "n=128",
            "time_us=",
            "gbps=",
            "speedup_vs_f16=",
            "vs_handwritten=",
            "handwritten=handwritten_a16w4",
        ] {
            assert!(benches[1].contains(key), "{key} missing: {}", benches[1]);
        }
    }
    let e = fails(&[
        "gemm",
        "--backend",
        "wgpu",
        "--split-k",
        "2",
        "--m",
        "1",
        "--k",
        "256",
        "--n",
        "128",
    ]);
    assert!(
        e.contains("not supported") || e.contains("no wgpu adapter"),
        "{e}"
    );
}
