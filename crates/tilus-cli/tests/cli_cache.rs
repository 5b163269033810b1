//! The compile cache through the `tilus` command: two processes compiling the same kernel at
//! once both succeed, a second run hits the cache and says so, `tilus cache ls|clear`.

use std::path::Path;
use std::process::{Command, Output};

fn tilus(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tilus"));
    c.args(args).env("TILUS_CACHE_DIR", dir);
    c
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const GEMM: &[&str] = &[
    "gemm",
    "--backend",
    "ptx-interp",
    "--m",
    "1",
    "--k",
    "256",
    "--n",
    "128",
    "--wtype",
    "u5",
    "--compare",
    "false",
];

#[test]
fn two_processes_compile_at_once_then_the_cache_hits() {
    let dir = std::env::temp_dir().join(format!("tilus-cli-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let a = tilus(&dir, GEMM).spawn().expect("spawns");
    let b = tilus(&dir, GEMM).spawn().expect("spawns");
    for child in [a, b] {
        let o = child.wait_with_output().expect("waits");
        assert!(
            o.status.success(),
            "a concurrent run failed: {:?}",
            text(&o)
        );
    }
    let o = tilus(&dir, GEMM).output().expect("runs");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("compile: cache hit (disk)"), "{out}");
    let o = tilus(&dir, &["cache", "ls"]).output().expect("runs");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("1 entries"), "{out}");
    assert!(out.contains("a16wx_simt_f16_u5 ptx"), "{out}");
    let o = tilus(&dir, &["cache", "clear"]).output().expect("runs");
    assert!(text(&o).0.contains("removed 1 files"), "{:?}", text(&o));
    let o = tilus(&dir, &["cache", "ls"]).output().expect("runs");
    assert!(text(&o).0.contains("0 entries"), "{:?}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
