//! Issue 10's reproducers that are fixed: each gives a clean error (exit 1, one `error:`
//! line first, no panic), or a clean exit where the reader went away.

use std::io::Read;
use std::process::{Command, Stdio};

fn tilus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tilus"))
}

fn example(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../kernels/examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs and expects exit 1 with `error: …` containing `want`, and no panic.
/// A program written to a temporary file for one command, removed when dropped.
struct TempProgram(std::path::PathBuf);

impl TempProgram {
    fn new(tag: &str, text: &str) -> TempProgram {
        let path = std::env::temp_dir().join(format!("tilus-{tag}-{}.tilus", std::process::id()));
        std::fs::write(&path, text).expect("writes");
        TempProgram(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8")
    }
}

impl Drop for TempProgram {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn clean_error(args: &[&str], want: &str) {
    let o = tilus().args(args).output().expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "tilus {args:?}: {err}");
    assert!(!err.contains("panicked"), "tilus {args:?} panicked: {err}");
    assert!(err.starts_with("error: "), "tilus {args:?}: {err}");
    assert!(
        !err["error: ".len()..].contains("error: "),
        "doubled prefix: {err}"
    );
    assert!(err.contains(want), "tilus {args:?}: `{want}` not in {err}");
}

#[test]
fn bad_inputs_are_clean_errors() {
    let va = example("vector_add_f32.tilus");
    // 1. A grid of four extents.
    clean_error(
        &[
            "run",
            &va,
            "--grid",
            "1,1,1,1",
            "--arg",
            "n=1",
            "--arg",
            "a=ones[1]",
            "--arg",
            "b=ones[1]",
            "--arg",
            "c=zeros[1]",
        ],
        "--grid takes 1 to 3 extents",
    );
    // 4 and 5. Sizes that overflow or exceed 32-bit indexing, before any allocation.
    clean_error(
        &[
            "gemm",
            "--m",
            "18446744073709551615",
            "--k",
            "128",
            "--n",
            "8",
            "--backend",
            "interp",
        ],
        "--m 18446744073709551615",
    );
    clean_error(
        &[
            "gemm",
            "--m",
            "100000",
            "--k",
            "128",
            "--n",
            "100000",
            "--backend",
            "interp",
        ],
        "does not fit 32-bit indices",
    );
    clean_error(
        &[
            "bench",
            "gemm",
            "--m",
            "100000",
            "--k",
            "128",
            "--n",
            "100000",
            "--backend",
            "interp",
        ],
        "does not fit 32-bit indices",
    );
    // 11. A duplicated argument says so.
    clean_error(
        &[
            "run",
            &va,
            "--arg",
            "n=1",
            "--arg",
            "n=2",
            "--arg",
            "a=ones[1]",
            "--arg",
            "b=ones[1]",
            "--arg",
            "c=zeros[1]",
        ],
        "given more than once",
    );
    // 13. Group sizes outside 1..=i32::MAX, and 0.
    for g in ["2147483648", "0"] {
        clean_error(
            &[
                "gemm",
                "--group-size",
                g,
                "--backend",
                "interp",
                "--m",
                "1",
                "--k",
                "128",
                "--n",
                "8",
            ],
            "--group-size",
        );
    }
    // 8. A register tile far beyond any register file: a clear error, not a long compile.
    let big = TempProgram::new(
        "big",
        "kernel k(x: *f32) grid(1) warps(1) {\n    %r = alloc_register f32[4096, 4096]\n}\n",
    );
    clean_error(&["compile", big.path()], "register budget");
    // 9. An endless loop and an absurd grid end with the step budget / a refusal.
    let lp = TempProgram::new("loop", "kernel k(x: *f32) grid(1) warps(1) {\n    for i in range(0, 2000000000, 1) {\n        let y: i32 = i\n    }\n}\n");
    clean_error(&["run", lp.path(), "--arg", "x=zeros[1]"], "--max-steps");
    clean_error(
        &[
            "run",
            &va,
            "--grid",
            "4294967295,4294967295",
            "--arg",
            "n=1",
            "--arg",
            "a=ones[1]",
            "--arg",
            "b=ones[1]",
            "--arg",
            "c=zeros[1]",
        ],
        "the interpreter runs 1 to 2^31",
    );
    // 10. A constant zero divisor is a verifier error.
    let d0 = TempProgram::new(
        "div0",
        "kernel k(n: i32) grid(1) warps(1) {\n    let y: i32 = n / (2 - 2)\n}\n",
    );
    clean_error(&["check", d0.path()], "integer `/` by zero");
    // 16. A flat chain of 1000 `else if`s is fine everywhere (WGSL says its nesting limit).
    let mut chain = String::from("kernel k(n: i32, x: *i32) grid(1) warps(1) {\n    let y: i32 = 0\n    if n == 0 {\n        y = 1\n    }");
    for i in 1..1000 {
        chain.push_str(&format!(
            " else if n == {i} {{\n        y = {}\n    }}",
            i + 1
        ));
    }
    chain.push_str("\n}\n");
    let ch = TempProgram::new("chain", &chain);
    let ch_s = ch.path();
    for args in [
        vec!["check", ch_s],
        vec!["fmt", ch_s],
        vec!["run", ch_s, "--arg", "n=999", "--arg", "x=zeros[1]"],
        vec!["compile", ch_s, "--target", "ptx"],
    ] {
        let o = tilus().args(&args).output().expect("runs");
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    clean_error(&["compile", ch_s, "--target", "wgsl"], "nest 1000 deep");
    // Input size is capped: /dev/zero is refused, not read until memory runs out.
    if std::path::Path::new("/dev/zero").exists() {
        clean_error(&["check", "/dev/zero"], "larger than 64 MiB");
    }
    // 6. A workspace far beyond RAM is refused before it is allocated.
    let ws = TempProgram::new(
        "ws",
        "kernel k(n: i32) grid(1) warps(1) {\n    %w = alloc_global f32[n, n]\n}\n",
    );
    clean_error(
        &["run", ws.path(), "--arg", "n=60000"],
        "max_workspace_bytes",
    );
    // 15. A shared tile that is never freed.
    let sh = TempProgram::new(
        "shared",
        "kernel k(x: *f32) grid(1) warps(1) {\n    %s = alloc_shared f32[32]\n}\n",
    );
    clean_error(&["check", sh.path()], "never freed");
    // Extra bytes to unpack.
    clean_error(&["unpack", "u4", "2", "ff", "ff"], "extra bytes");
    // No doubled prefix on parse errors.
    let bad = TempProgram::new("robust", "kernel k() grid(1) warps(1) {\n  bogus\n}\n");
    clean_error(&["check", bad.path()], "unknown instruction");
    // 3 and 14. An expression nested 50,000 deep: check and fmt refuse it (no stack
    // overflow), with the limit in the message.
    let terms = vec!["n"; 50_000].join(" + ");
    let deep = TempProgram::new(
        "deep",
        &format!("kernel k(n: i32) grid(1) warps(1) {{\n    let x: i32 = {terms}\n}}\n"),
    );
    let deep_s = deep.path();
    clean_error(&["check", deep_s], "nested more than 1000 deep");
    clean_error(&["fmt", deep_s], "nested more than 1000 deep");
}

#[test]
fn the_whole_u64_range_packs() {
    let o = tilus()
        .args(["pack", "u64", "18446744073709551615"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "ff ff ff ff ff ff ff ff\n"
    );
}

#[test]
fn output_to_a_closed_pipe_or_a_full_disk_is_clean() {
    // 2. The reader stops after 100 bytes of a large output.
    let mut child = tilus()
        .args(["layout", "spatial(256,256)"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut first = [0u8; 100];
    child
        .stdout
        .as_mut()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("reads");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("waits");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let o = tilus().arg("dtypes").stdout(full).output().expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.starts_with("error: writing the output"), "{err}");
    }
}
