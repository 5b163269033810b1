//! Exhaustive check: for every dtype of at most 8 bits and every one of the 2^32 f32 bit
//! patterns, the library's encoding equals the reference.
//!
//! Run with `cargo test --release -p tilus-ir --test dtype_exhaustive -- --ignored`.
//! Positive patterns are walked in increasing order with a moving pointer into the sorted
//! table of representable values (O(1) per input); each negative pattern is checked against
//! the positive result by symmetry. Two threads split the pattern range.

mod common;

use common::{ref_int, RefFloat};
use tilus_ir::dtype::DType;

const CHUNK: u32 = 1 << 16;
const HALF: u32 = 0x8000_0000;

/// Check positive patterns `[start, end)` and their negatives; return the first mismatches.
fn sweep_float(r: &RefFloat, start: u32, end: u32) -> Vec<String> {
    let d = r.dtype;
    let mut bad = Vec::new();
    let mut walker = r.walker(f64::from(f32::from_bits(start)));
    let mut pos = vec![0f32; CHUNK as usize];
    let mut neg = vec![0f32; CHUNK as usize];
    let mut pos_codes = vec![0u64; CHUNK as usize];
    let mut neg_codes = vec![0u64; CHUNK as usize];
    let mut base = start;
    while base < end {
        let n = (end - base).min(CHUNK) as usize;
        for k in 0..n {
            let b = base + k as u32;
            pos[k] = f32::from_bits(b);
            neg[k] = f32::from_bits(b | HALF);
        }
        d.encode_slice_f32(&pos[..n], &mut pos_codes[..n]).unwrap();
        d.encode_slice_f32(&neg[..n], &mut neg_codes[..n]).unwrap();
        for k in 0..n {
            let x = pos[k];
            let (want_pos, want_neg) = if x.is_nan() {
                (r.nan_code(false), r.nan_code(true))
            } else {
                let m = walker.encode_mag(f64::from(x));
                (m, m | r.sign_bit())
            };
            if (pos_codes[k] != want_pos || neg_codes[k] != want_neg) && bad.len() < 10 {
                bad.push(format!(
                    "{d} {:#010x}: got {:#x}/{:#x}, want {want_pos:#x}/{want_neg:#x}",
                    x.to_bits(),
                    pos_codes[k],
                    neg_codes[k]
                ));
            }
        }
        base += n as u32;
    }
    bad
}

fn sweep_int(d: DType, start: u32, end: u32) -> Vec<String> {
    let (bits, signed) = (d.bits(), d.is_signed());
    let mut bad = Vec::new();
    let mut xs = vec![0f32; CHUNK as usize];
    let mut codes = vec![0u64; CHUNK as usize];
    let mut base = start;
    while base < end {
        let n = (end - base).min(CHUNK) as usize;
        for sign in [0, HALF] {
            for (k, x) in xs[..n].iter_mut().enumerate() {
                *x = f32::from_bits((base + k as u32) | sign);
            }
            d.encode_slice_f32(&xs[..n], &mut codes[..n]).unwrap();
            for k in 0..n {
                let want = ref_int(bits, signed, xs[k]);
                if codes[k] != want && bad.len() < 10 {
                    bad.push(format!(
                        "{d} {:#010x}: got {:#x}, want {want:#x}",
                        xs[k].to_bits(),
                        codes[k]
                    ));
                }
            }
        }
        base += n as u32;
    }
    bad
}

#[test]
#[ignore = "exhaustive over all 2^32 f32 patterns; run in release with --ignored"]
fn every_f32_pattern_for_every_small_dtype() {
    let types: Vec<DType> = DType::all().into_iter().filter(|d| d.bits() <= 8).collect();
    assert_eq!(types.len(), 16 + 2 + 20);
    let t0 = std::time::Instant::now();
    let mut failures = Vec::new();
    for d in types {
        let t = std::time::Instant::now();
        let r = RefFloat::new(d);
        let threads = 2u32;
        let per = HALF / threads;
        let results: Vec<Vec<String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let r = r.clone();
                    s.spawn(move || {
                        let (start, end) = (
                            i * per,
                            if i + 1 == threads {
                                HALF
                            } else {
                                (i + 1) * per
                            },
                        );
                        match r {
                            Some(r) => sweep_float(&r, start, end),
                            None => sweep_int(d, start, end),
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        failures.extend(results.into_iter().flatten());
        eprintln!("{d}: {:.1?}", t.elapsed());
    }
    eprintln!("total: {:.1?}", t0.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
