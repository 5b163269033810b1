//! The CI smoke run of every fuzz harness: each seed as it is, then a fixed number of
//! deterministic mutations (proptest with a fixed seed, no persistence), so a crash found
//! once is found on every run. The coverage-guided runs are in `fuzz/` (docs/testing.md).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Tokens spliced into inputs: the words the parsers branch on.
const DICTIONARY: &[&str] = &[
    "kernel ",
    "let ",
    "for ",
    "if ",
    "else ",
    "range(",
    "grid(",
    "warps(",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "%",
    "*",
    "+",
    "-",
    "/",
    "<<",
    ">>",
    "&",
    "=",
    "<-",
    ":",
    "\n",
    "i32",
    "f32",
    "f16",
    "u4",
    "i3",
    "f6e3m2",
    "u1",
    "bf16",
    "0",
    "1",
    "-1",
    "7",
    "32",
    "4096",
    "2147483648",
    "18446744073709551615",
    "blockIdx.x",
    "threadIdx.x",
    "spatial(",
    "local(",
    "column_spatial(",
    "column_local(",
    "row_major(",
    "swizzle(",
    "reduce(",
    "dims=",
    "alloc_register ",
    "alloc_shared ",
    "free_shared ",
    "load_global ",
    "store_global ",
    "global_view ",
    "sync",
    "dot ",
    "cast ",
    "add ",
    "shape=",
    "assume ",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.tilus` file of the examples and filetests.
fn program_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in [
        "kernels/examples",
        "tests/filetests/compile",
        "tests/filetests/parse",
        "tests/filetests/run",
        "tests/filetests/verify",
    ] {
        let Ok(rd) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == "tilus") {
                out.push(std::fs::read(&p).expect("reads a seed"));
            }
        }
    }
    assert!(out.len() >= 8, "the program seeds were not found");
    out
}

fn layout_seeds() -> Vec<Vec<u8>> {
    [
        "local(2,1).spatial(4,8)",
        "spatial(8,4).local(1,2)",
        "column_local(2,2).spatial(8,4).local(1,2)",
        "column_spatial(4,8)",
        "local(4).spatial(32)",
        "reduce(spatial(4,8), dims=[1])",
        "spatial(2,16).local(2,1)",
        "row_major(8,64)",
        "row_major(8,64).swizzle(3,3,3)",
        "column_major(16,16)",
        "strided([4,4],[8,1])",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn dtype_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0u8..60)
        .map(|i| {
            let mut v = vec![i];
            v.extend((0u32..64).flat_map(|k| (k.wrapping_mul(0x9E37_79B9)).to_le_bytes()));
            v
        })
        .collect();
    for name in [
        "f6e3m2", "u4", "i3", "bf16", "f8e4m3fn", "e4m3", "float16", "u9",
    ] {
        let mut v = vec![0x80];
        v.extend(name.as_bytes());
        out.push(v);
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Delete `len` bytes at the position `at` (a fraction of the length, in 1/65536).
    Delete { at: u16, len: u8 },
    /// Insert a dictionary token.
    Insert { at: u16, token: usize },
    /// Replace one byte.
    Set { at: u16, byte: u8 },
    /// Copy a range to another place (duplicated lines, nested blocks).
    Duplicate { from: u16, len: u16, to: u16 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<u16>(), 1u8..32).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<u16>(), 0..DICTIONARY.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<u16>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (any::<u16>(), 1u16..400, any::<u16>()).prop_map(|(from, len, to)| Mutation::Duplicate {
            from,
            len,
            to
        }),
    ]
}

fn pos(at: u16, len: usize) -> usize {
    (usize::from(at) * (len + 1)) >> 16
}

fn apply(seed: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for m in muts {
        match *m {
            Mutation::Delete { at, len } => {
                let a = pos(at, v.len());
                let b = (a + usize::from(len)).min(v.len());
                v.drain(a..b);
            }
            Mutation::Insert { at, token } => {
                let a = pos(at, v.len());
                v.splice(a..a, DICTIONARY[token].bytes());
            }
            Mutation::Set { at, byte } => {
                if !v.is_empty() {
                    let a = pos(at, v.len() - 1);
                    v[a] = byte;
                }
            }
            Mutation::Duplicate { from, len, to } => {
                let a = pos(from, v.len());
                let b = (a + usize::from(len)).min(v.len());
                let piece = v[a..b].to_vec();
                let t = pos(to, v.len());
                v.splice(t..t, piece);
            }
        }
    }
    v
}

/// Runs `harness` on every seed, then on `cases` mutated seeds.
fn smoke(harness: fn(&[u8]), seeds: Vec<Vec<u8>>, cases: u32) {
    for s in &seeds {
        harness(s);
    }
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    // A fixed seed: the same inputs on every run.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7u8; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let n = seeds.len();
    runner
        .run(
            &(0..n, proptest::collection::vec(mutation(), 1..8)),
            |(i, muts)| {
                harness(&apply(&seeds[i], &muts));
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn program_text_smoke() {
    smoke(tilus_fuzz::program_text, program_seeds(), 1500);
}

#[test]
fn layout_text_smoke() {
    smoke(tilus_fuzz::layout_text, layout_seeds(), 3000);
}

#[test]
fn dtype_codec_smoke() {
    smoke(tilus_fuzz::dtype_codec, dtype_seeds(), 3000);
}

#[test]
fn lower_smoke() {
    smoke(tilus_fuzz::lower, program_seeds(), 150);
}
