//! Parsing and verification are linear in the size of the input (issue 10, item 7).
//!
//! Each case times the same shape of input at `n` and `4n` in one run and compares the two.
//! Linear work grows about 4×; the quadratic scans these tests guard against (every kernel
//! name against every earlier one, every name lookup through every scope) grew 16× or more.
//! The bound, 9×, leaves room for a noisy machine without letting a quadratic pass.

use std::time::{Duration, Instant};

use tilus_ir::text::parse_program;
use tilus_ir::verify::verify;

/// The best of three runs of parse + verify on `src`.
fn best_of_three(src: &str) -> Duration {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            let p = parse_program(src).expect("the generated text parses");
            verify(p).expect("the generated program verifies");
            t.elapsed()
        })
        .min()
        .expect("three runs")
}

fn assert_linear(what: &str, make: impl Fn(usize) -> String, n: usize) {
    let small = make(n);
    let large = make(4 * n);
    // Warm up allocator and caches once before timing.
    let _ = best_of_three(&small);
    let (ts, tl) = (best_of_three(&small), best_of_three(&large));
    let ratio = tl.as_secs_f64() / ts.as_secs_f64().max(1e-6);
    assert!(
        ratio < 9.0,
        "{what}: {n} took {ts:?}, {} took {tl:?} ({ratio:.1}×): not linear",
        4 * n
    );
}

#[test]
fn many_kernels_parse_in_linear_time() {
    assert_linear(
        "one-line kernels",
        |n| {
            (0..n)
                .map(|i| format!("kernel k{i}(n: i32) grid(1) warps(1) {{ }}\n"))
                .collect()
        },
        4000,
    );
}

#[test]
fn many_lets_parse_in_linear_time() {
    assert_linear(
        "lets in one kernel",
        |n| {
            let mut s = String::from("kernel k(n: i32) grid(1) warps(1) {\n    let v0: i32 = n\n");
            for i in 1..n {
                s.push_str(&format!("    let v{i}: i32 = v{} + 1\n", i - 1));
            }
            s.push_str("}\n");
            s
        },
        2000,
    );
}

#[test]
fn a_duplicate_kernel_name_is_still_found() {
    let src = "kernel a(n: i32) grid(1) warps(1) { }\nkernel b(n: i32) grid(1) warps(1) { }\nkernel a(n: i32) grid(1) warps(1) { }\n";
    let e = parse_program(src).expect_err("a is defined twice");
    assert!(e.to_string().contains("kernel `a` is defined twice"), "{e}");
}
