//! The compile cache: keys follow the content (an edited kernel, another target never reuse
//! an entry), entries survive the process (a fresh cache on the same directory hits), and a
//! truncated or edited entry is detected by its checksum and recompiled.

use std::path::PathBuf;

use tilus_ir::text::parse_program;
use tilus_ir::verify::{verify, VerifiedProgram};
use tilus_lower::pipeline::CompileOptions;
use tilus_lower::target::{PtxCaps, Target, WgslCaps};
use tilus_runtime::cache::{CacheOutcome, CompileCache};

fn program(block: u32) -> VerifiedProgram {
    let src = format!(
        "kernel vadd(a: *f32, b: *f32, c: *f32, n: i32) grid(cdiv(n, {block})) warps(1) {{
    %ga = global_view a, [n]
    %gb = global_view b, [n]
    %gc = global_view c, [n]
    %x = load_global %ga, [blockIdx.x * {block}], shape=[{block}]
    %y = load_global %gb, [blockIdx.x * {block}], shape=[{block}]
    %z = add %x, %y
    store_global %gc, %z, [blockIdx.x * {block}]
}}
"
    );
    verify(parse_program(&src).expect("parses")).expect("verifies")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tilus-cache-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn entries(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("artifacts"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == "art"));
    v.sort();
    v
}

#[test]
fn an_edited_kernel_or_another_target_never_reuses_an_entry() {
    let dir = temp_dir("edit");
    let cache = CompileCache::new(Some(dir.clone()));
    let opts = CompileOptions::default();
    let wgsl = Target::Wgsl(WgslCaps::default());
    let (a, o) = cache
        .get_or_compile(&program(32), "vadd", &wgsl, &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::Compiled);
    let (a2, o) = cache
        .get_or_compile(&program(32), "vadd", &wgsl, &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::MemoryHit);
    assert_eq!(a, a2);
    // The same kernel name, edited: compiled again, not served from the cache.
    let (b, o) = cache
        .get_or_compile(&program(64), "vadd", &wgsl, &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::Compiled);
    assert_ne!(a.code.text(), b.code.text());
    // Another target and other capabilities are other keys.
    let ptx = Target::Ptx(PtxCaps::default());
    let (_, o) = cache
        .get_or_compile(&program(32), "vadd", &ptx, &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::Compiled);
    let caps = WgslCaps {
        max_invocations: 128,
        ..WgslCaps::default()
    };
    let (_, o) = cache
        .get_or_compile(&program(32), "vadd", &Target::Wgsl(caps), &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::Compiled);
    assert_eq!(entries(&dir).len(), 4);
    // A new process (a fresh cache on the same directory) reads the entries back.
    let fresh = CompileCache::new(Some(dir.clone()));
    let (c, o) = fresh
        .get_or_compile(&program(32), "vadd", &wgsl, &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::DiskHit);
    assert_eq!(*c, *a);
    assert_eq!(fresh.list().iter().filter(|e| e.summary.is_ok()).count(), 4);
    assert_eq!(fresh.clear().expect("clears"), 4);
    assert!(entries(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_entry_is_recompiled_never_trusted() {
    let dir = temp_dir("corrupt");
    let opts = CompileOptions::default();
    let target = Target::Ptx(PtxCaps::default());
    let p = program(32);
    let (good, _) = CompileCache::new(Some(dir.clone()))
        .get_or_compile(&p, "vadd", &target, &opts)
        .expect("compiles");
    let file = entries(&dir).pop().expect("one entry");
    let bytes = std::fs::read(&file).expect("reads");
    let damage: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("one byte flipped", {
            let mut b = bytes.clone();
            let i = b.len() - 10;
            b[i] ^= 0x20;
            b
        }),
        ("garbage header", b"not an artifact\n{}".to_vec()),
    ];
    for (what, damaged) in damage {
        std::fs::write(&file, &damaged).expect("writes");
        let cache = CompileCache::new(Some(dir.clone()));
        let (a, o) = cache
            .get_or_compile(&p, "vadd", &target, &opts)
            .expect("compiles");
        assert_eq!(o, CacheOutcome::Recompiled, "{what}");
        assert_eq!(*a, *good, "{what}");
        // The rewritten entry is good again.
        let (_, o) = CompileCache::new(Some(dir.clone()))
            .get_or_compile(&p, "vadd", &target, &opts)
            .expect("compiles");
        assert_eq!(o, CacheOutcome::DiskHit, "{what}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_directory_costs_only_the_disk_copy() {
    let file = temp_dir("file");
    std::fs::write(&file, b"a file where the directory should be").expect("writes");
    let cache = CompileCache::new(Some(file.clone()));
    let opts = CompileOptions::default();
    let target = Target::Wgsl(WgslCaps::default());
    let (_, o) = cache
        .get_or_compile(&program(32), "vadd", &target, &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::Compiled);
    let (_, o) = cache
        .get_or_compile(&program(32), "vadd", &target, &opts)
        .expect("compiles");
    assert_eq!(o, CacheOutcome::MemoryHit);
    let _ = std::fs::remove_file(&file);
}
