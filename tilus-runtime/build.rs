//! The compiler's build id: a hash of the sources of every crate that decides what an
//! artifact contains (tilus-ir, tilus-lower) and their version, so a compile cache never
//! serves an artifact made by another compiler. FNV-1a over (path, contents) in path order.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "rs" || x == "toml" || x == "md")
        {
            out.push(p);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut all = Vec::new();
    for krate in ["tilus-ir", "tilus-lower"] {
        let src = root.join(krate).join("src");
        println!("cargo:rerun-if-changed={}", src.display());
        files(&src, &mut all);
        let manifest = root.join(krate).join("Cargo.toml");
        println!("cargo:rerun-if-changed={}", manifest.display());
        all.push(manifest);
    }
    all.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(env!("CARGO_PKG_VERSION").as_bytes());
    for f in &all {
        let rel = f.strip_prefix(&root).unwrap_or(f);
        eat(rel.to_string_lossy().as_bytes());
        eat(&std::fs::read(f).unwrap_or_default());
    }
    println!("cargo:rustc-env=TILUS_COMPILER_BUILD={h:016x}");
}
