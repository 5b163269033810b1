//! A kernel's worth of index expressions in one batch: what a GEMM tile lowering produces
//! (global offsets, bounds masks, register slots, sub-byte field extraction for every local
//! slot of an MMA fragment). The timing test is ignored by default (run it in release:
//! `cargo test --release -p tilus-lower --test simplify_perf -- --ignored --nocapture`;
//! `SIMPLIFY_SLOTS=8,16`, `SIMPLIFY_REPS=100` and `SIMPLIFY_ITERS=4` adjust it).

use std::time::{Duration, Instant};

use egg::RecExpr;
use tilus_lower::simplify::{simplify_batch, Facts, IndexLang, Limits, StopReason};

/// The facts of a 128-thread block of a GEMM kernel.
fn facts() -> Facts {
    Facts::new()
        .below("t", 128)
        .nonneg("bx")
        .nonneg("by")
        .below("k0", 64)
        .nonneg("m")
        .nonneg("n")
        .nonneg("kk")
        .multiple_of("kk", 16)
        .nonneg("w")
}

/// Index expressions for `slots` local slots of an m16n8k16-style fragment over 4 warps.
fn kernel_exprs(slots: i64) -> Vec<RecExpr<IndexLang>> {
    let mut out = Vec::new();
    for i in 0..slots {
        // Row and column of slot i of thread t.
        let row = format!("(+ (+ (* (% (/ t 32) 2) 64) (/ (% t 32) 4)) (+ (* (% (/ {i} 2) 2) 8) (* (/ {i} 4) 16)))");
        let col = format!("(+ (* (% t 4) 2) (% {i} 2))");
        let grow = format!("(+ (* bx 128) {row})");
        let gcol = format!("(+ (* k0 32) {col})");
        out.push(format!("(+ (* {grow} kk) {gcol})"));
        out.push(format!(
            "(&& (&& (<= 0 {grow}) (< {grow} m)) (&& (<= 0 {gcol}) (< {gcol} kk)))"
        ));
        // Shared-memory slot with a column-major register layout.
        out.push(format!("(+ (* (% (/ t 8) 4) 16) (+ (* (% t 8) 2) {i}))"));
        out.push(format!("(+ (* {row} 40) {col})"));
        // 4-bit weights packed 8 per 32-bit word: word index and field.
        out.push(format!("(/ (+ (* {row} 64) {col}) 8)"));
        out.push(format!("(& (>> w (* (% (+ (* {row} 64) {col}) 8) 4)) 15)"));
        out.push(format!("(% (/ (+ (* t 4) {i}) 32) 4)"));
        out.push(format!(
            "(+ (* (/ (+ (* t 4) {i}) 32) 32) (% (+ (* t 4) {i}) 32))"
        ));
    }
    out.iter()
        .map(|s| s.parse().expect("generated expression parses"))
        .collect()
}

#[test]
fn a_kernel_batch_simplifies_within_the_default_limits() {
    let exprs = kernel_exprs(8);
    let limits = Limits {
        time: Duration::from_secs(5),
        ..Limits::default()
    };
    let out = simplify_batch(&exprs, &facts(), &limits).expect("simplifies");
    let before: u64 = out.exprs.iter().map(|e| e.cost_before).sum();
    let after: u64 = out.exprs.iter().map(|e| e.cost_after).sum();
    assert!(after * 2 < before, "cost {before} -> {after}");
    assert_eq!(out.stop_reason, StopReason::Saturated, "{:?}", out.stats);
}

#[test]
#[ignore = "timing; run in release"]
fn kernel_batch_timing() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let sizes: Vec<i64> = match std::env::var("SIMPLIFY_SLOTS") {
        Ok(v) => v.split(',').filter_map(|x| x.parse().ok()).collect(),
        Err(_) => vec![8, 16, 32],
    };
    let reps = env("SIMPLIFY_REPS", 30);
    for slots in sizes {
        let exprs = kernel_exprs(slots);
        let nodes: usize = exprs.iter().map(|e| e.as_ref().len()).sum();
        let mut best = Duration::MAX;
        let mut last = None;
        for _ in 0..reps {
            let start = Instant::now();
            let limits = Limits {
                iterations: env("SIMPLIFY_ITERS", Limits::default().iterations),
                ..Limits::default()
            };
            let out = simplify_batch(&exprs, &facts(), &limits).expect("simplifies");
            best = best.min(start.elapsed());
            last = Some(out);
        }
        if let Some(out) = last {
            let before: u64 = out.exprs.iter().map(|e| e.cost_before).sum();
            let after: u64 = out.exprs.iter().map(|e| e.cost_after).sum();
            println!(
                "{} exprs ({nodes} input nodes): best of {reps} {:?}; cost {before} -> {after}; {:?}; {:?}",
                exprs.len(),
                best,
                out.stop_reason,
                out.stats
            );
        }
    }
}
