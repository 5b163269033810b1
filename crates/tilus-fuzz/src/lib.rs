//! Fuzz harnesses for tilus.
//!
//! Each public function takes arbitrary bytes, drives one part of the compiler with them and
//! panics only when an invariant breaks: a crash inside the library, or a result that
//! contradicts another part of it (text that does not round-trip, a layout whose slots and
//! indices disagree, PTX that our own PTX interpreter cannot read). Errors from bad input
//! are the expected outcome and are ignored.
//!
//! The same functions serve two drivers:
//! - the cargo-fuzz targets in `fuzz/fuzz_targets/` (coverage-guided, nightly; see
//!   docs/testing.md), one target per function;
//! - the CI smoke test in `tests/smoke.rs`, which runs every function over a seed corpus and
//!   a fixed number of deterministic mutations of it on stable Rust.
//!
//! Inputs are capped ([`MAX_INPUT`]) so that one case stays fast: the fuzzer looks for
//! crashes, not for the size limits, which have their own tests.

use tilus_ir::dtype::{pack, DType};
use tilus_ir::layout::shared::parse_shared_layout;
use tilus_ir::layout::text::parse_layout;
use tilus_ir::program::Program;
use tilus_ir::text::parse_program;
use tilus_ir::verify::{check_structure, verify};
use tilus_lower::artifact::Code;
use tilus_lower::pipeline::{compile, CompileOptions};
use tilus_lower::target::{CpuCaps, PtxArch, PtxCaps, Target, WgslCaps};

/// Bytes of input a harness looks at; the rest is ignored.
pub const MAX_INPUT: usize = 16 * 1024;

/// Kernels of one program that [`lower`] compiles (the first ones).
pub const MAX_KERNELS: usize = 4;

/// Layouts with at most this many (thread, slot) pairs are checked pair by pair.
const MAX_LAYOUT_PAIRS: usize = 4096;

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(&data[..data.len().min(MAX_INPUT)]).into_owned()
}

/// Parses `src`; when it parses, checks that printing is a fixed point of parse-and-print.
fn parse_and_roundtrip(src: &str) -> Option<Program> {
    let program = parse_program(src).ok()?;
    let printed = program.to_string();
    let again = match parse_program(&printed) {
        Ok(p) => p,
        Err(e) => panic!("printed program does not parse: {e}\n--- printed ---\n{printed}"),
    };
    let reprinted = again.to_string();
    assert_eq!(
        printed, reprinted,
        "printing is not a fixed point of parse-and-print"
    );
    Some(program)
}

/// Program text: parse, print-and-reparse, structural check, full verification.
///
/// Invariants: the printed form parses and prints to itself; a program that verifies also
/// passes the structural check (verification includes it).
pub fn program_text(data: &[u8]) {
    let src = text(data);
    let Some(program) = parse_and_roundtrip(&src) else {
        return;
    };
    let structure_ok = check_structure(&program).is_ok();
    if verify(program).is_ok() {
        assert!(
            structure_ok,
            "a program verifies but fails the structural check"
        );
    }
}

/// Layout text: register layouts and shared layouts.
///
/// Invariants: a parsed layout prints to text that parses to the same layout; for small
/// register layouts every (thread, slot) maps to an index that the thread holds and whose
/// slot is that slot; for small shared layouts every index has an offset below the
/// layout's size (what an allocation reserves).
pub fn layout_text(data: &[u8]) {
    let src = text(data);
    if let Ok(l) = parse_layout(&src) {
        let printed = l.to_string();
        let again = parse_layout(&printed)
            .unwrap_or_else(|e| panic!("printed layout `{printed}` does not parse: {e}"));
        assert_eq!(
            again.to_string(),
            printed,
            "layout text is not a fixed point"
        );
        let pairs = l.num_threads().saturating_mul(l.local_size());
        if pairs <= MAX_LAYOUT_PAIRS {
            for t in 0..l.num_threads() {
                for s in 0..l.local_size() {
                    let index = l
                        .index_of(t, s)
                        .unwrap_or_else(|e| panic!("{printed}: index_of({t}, {s}): {e}"));
                    assert!(
                        l.holds(t, &index),
                        "{printed}: thread {t} does not hold its slot {s} {index:?}"
                    );
                    let slot = l
                        .slot_of(&index)
                        .unwrap_or_else(|e| panic!("{printed}: slot_of({index:?}): {e}"));
                    assert_eq!(slot, s, "{printed}: slot of {index:?}");
                }
            }
        }
    }
    if let Ok(l) = parse_shared_layout(&src) {
        let printed = l.to_string();
        let again = parse_shared_layout(&printed)
            .unwrap_or_else(|e| panic!("printed shared layout `{printed}` does not parse: {e}"));
        assert_eq!(
            again.to_string(),
            printed,
            "shared layout text is not a fixed point"
        );
        let n = l.num_elements();
        if n <= MAX_LAYOUT_PAIRS && l.rank() <= 4 {
            let shape = l.shape().to_vec();
            let size = l.size();
            let mut index = vec![0usize; shape.len()];
            for _ in 0..n {
                let off = l
                    .offset(&index)
                    .unwrap_or_else(|e| panic!("{printed}: offset({index:?}): {e}"));
                // `size` (what allocations use) is the largest swizzled offset plus one.
                assert!(
                    off < size,
                    "{printed}: offset {off} of {index:?} outside the size {size}"
                );
                // Next index in row-major order.
                for d in (0..shape.len()).rev() {
                    index[d] += 1;
                    if index[d] < shape[d] {
                        break;
                    }
                    index[d] = 0;
                }
            }
        }
    }
}

/// Dtype names, element codecs and bit packing.
///
/// The first byte picks a dtype (or, with the high bit set, the rest is parsed as a dtype
/// name); the following bytes are codes and `f32` values.
///
/// Invariants: a parsed name round-trips through [`DType::name`]; decoding then encoding a
/// code gives the code back (NaN codes and 64-bit integers excepted); encoding any `f32`
/// gives a code within the mask whose value re-encodes to itself; packing then unpacking
/// codes of 1 to 8 bits is the identity; reads past the end are errors.
pub fn dtype_codec(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let all = DType::all();
    if first & 0x80 != 0 {
        let name = text(rest);
        if let Ok(d) = DType::parse(name.trim()) {
            assert_eq!(
                DType::parse(&d.name()).ok(),
                Some(d),
                "{name}: name round trip"
            );
        }
        return;
    }
    let d = all[usize::from(first) % all.len()];
    let mask = d.code_mask();
    let exact_ints = !matches!(d, DType::Int { bits: 64, .. });
    for chunk in rest.chunks(4).take(MAX_INPUT / 4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        let raw = u32::from_le_bytes(word);
        let code = u64::from(raw) & mask;
        if !d.is_nan_code(code) && exact_ints {
            let back = d.encode_f64(d.decode_f64(code));
            assert_eq!(
                back,
                code,
                "{}: code {code:#x} decodes and re-encodes to {back:#x}",
                d.name()
            );
        }
        let x = f32::from_bits(raw);
        let c = d.encode_f32(x);
        assert!(
            c <= mask,
            "{}: encode_f32({x}) = {c:#x} beyond the mask",
            d.name()
        );
        if !d.is_nan_code(c) && exact_ints {
            let again = d.encode_f64(d.decode_f64(c));
            assert_eq!(
                again,
                c,
                "{}: encode_f32({x}) is not a fixed point",
                d.name()
            );
        }
    }
    // Packing at widths 1..=8 (the sub-byte formats and u8).
    let bits = u32::from(first % 8) + 1;
    let codes: Vec<u64> = rest
        .iter()
        .take(MAX_INPUT)
        .map(|&b| u64::from(b) & ((1u64 << bits) - 1))
        .collect();
    let packed = pack::try_pack(bits, &codes).expect("codes within the width always pack");
    assert_eq!(packed.len(), pack::packed_len(bits, codes.len()));
    let unpacked = pack::unpack(bits, &packed, codes.len()).expect("unpacks what it packed");
    assert_eq!(unpacked, codes, "pack/unpack at {bits} bits");
    let cap = packed.len() * 8 / bits as usize;
    assert!(
        pack::try_get(bits, &packed, cap).is_err(),
        "a read past the end at {bits} bits must be an error"
    );
    assert!(pack::unpack(bits, &packed, cap + 1).is_err());
}

/// The targets [`lower`] compiles for.
fn targets() -> [Target; 4] {
    [
        Target::Wgsl(WgslCaps::default()),
        Target::Cpu(CpuCaps::default()),
        Target::Ptx(PtxCaps::default()),
        Target::Ptx(PtxCaps {
            arch: PtxArch::Sm90,
            ..PtxCaps::default()
        }),
    ]
}

/// Lowering: parse and verify, then compile the first [`MAX_KERNELS`] kernels for WGSL
/// (validated by naga inside the pipeline), the CPU (CLIF parsed back and checked by
/// Cranelift's verifier inside the pipeline) and PTX for sm_80 and sm_90.
///
/// Invariants: compilation returns a result (never panics); emitted PTX is read by the
/// independent PTX interpreter's parser, and names the kernel's entry point.
pub fn lower(data: &[u8]) {
    let src = text(data);
    let Ok(program) = parse_program(&src) else {
        return;
    };
    let Ok(verified) = verify(program) else {
        return;
    };
    let names: Vec<String> = verified
        .program()
        .functions
        .iter()
        .take(MAX_KERNELS)
        .map(|f| f.name.clone())
        .collect();
    for name in &names {
        for target in targets() {
            let Ok(out) = compile(&verified, name, &target, &CompileOptions::default()) else {
                continue;
            };
            let Some(artifact) = out.artifact else {
                continue;
            };
            if let Code::Ptx(m) = &artifact.code {
                let parsed = tilus_ptx::Module::parse(&m.source).unwrap_or_else(|e| {
                    panic!(
                        "{name}: the PTX interpreter cannot read our PTX: {e}\n{}",
                        m.source
                    )
                });
                assert!(
                    parsed.entries().contains(&m.entry_point.as_str()),
                    "{name}: entry `{}` missing from the module",
                    m.entry_point
                );
            }
        }
    }
}
