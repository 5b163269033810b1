//! Layout index expressions simplify to what a person would write; every run respects its
//! limits; the batch API agrees with one-at-a-time simplification.

use std::time::Duration;

use egg::RecExpr;
use tilus_lower::simplify::{
    fits_i32, simplify, simplify_batch, to_infix, Facts, IndexLang, Limits, SimplifyError,
    StopReason,
};

fn parse(s: &str) -> RecExpr<IndexLang> {
    s.parse().expect("test expression parses")
}

fn threads() -> Facts {
    Facts::new().below("t", 128)
}

/// Simplifies `input` under `facts` and returns the result in infix form.
fn simp(input: &str, facts: &Facts) -> String {
    let out = simplify(&parse(input), facts, &Limits::default()).expect("simplifies");
    // The s-expression form round-trips.
    assert_eq!(
        parse(&out.expr.to_string()).to_string(),
        out.expr.to_string()
    );
    to_infix(&out.expr)
}

#[track_caller]
fn check(input: &str, facts: &Facts, expected: &str) {
    assert_eq!(simp(input, facts), expected, "simplifying {input}");
}

#[test]
fn adjacent_digits_merge_into_a_mask() {
    // ((t / 8) % 4) * 8 + t % 8 = t % 32 = t & 31
    check("(+ (* (% (/ t 8) 4) 8) (% t 8))", &threads(), "t & 31");
    check("(+ (% t 8) (* (% (/ t 8) 4) 8))", &threads(), "t & 31");
}

#[test]
fn quotient_and_remainder_recompose() {
    check("(+ (* (/ t 32) 32) (% t 32))", &threads(), "t");
    // Three digits, most significant first, in a left-nested sum.
    check(
        "(+ (+ (* (% (/ t 32) 2) 32) (* (% (/ t 8) 4) 8)) (% t 8))",
        &threads(),
        "t & 63",
    );
}

#[test]
fn digit_of_a_digit_is_a_bit_field() {
    check("(/ (% t 32) 4)", &threads(), "(t >> 2) & 7");
    check("(% (/ t 8) 4)", &threads(), "(t >> 3) & 3");
    check("(/ t 32)", &threads(), "t >> 5");
}

#[test]
fn masks_decided_by_ranges() {
    check("(<= 0 (% t 8))", &threads(), "1");
    check("(< t 128)", &threads(), "1");
    check("(< (/ t 32) 4)", &threads(), "1");
    let facts = threads().nonneg("off").nonneg("n");
    check(
        "(&& (<= 0 (+ off t)) (< (+ off t) n))",
        &facts,
        "(off + t) < n",
    );
}

#[test]
fn exact_division_cancels() {
    check("(/ (+ (* t 2) 1) 2)", &threads(), "t");
    check("(% (+ (* t 2) 1) 2)", &threads(), "1");
    check(
        "(/ (+ (* t 16) (* (% t 4) 2)) 2)",
        &threads(),
        "(t << 3) + (t & 3)",
    );
}

#[test]
fn constants_fold_and_move_right() {
    check("(+ (+ 3 t) 4)", &threads(), "t + 7");
    check("(- (+ t 3) 4)", &threads(), "t - 1");
    check("(* (* 2 k) 3)", &Facts::new(), "k * 6");
    check("(+ (* (+ t 1) 4) 8)", &threads(), "(t << 2) + 12");
}

#[test]
fn bit_extraction_stays_a_shift_and_mask() {
    let facts = Facts::new().nonneg("w").below("k", 8);
    check("(& (>> w (* 3 k)) 7)", &facts, "(w >> (k * 3)) & 7");
    check("(& (>> w 6) 7)", &facts, "(w >> 6) & 7");
    check("(& (% t 16) 15)", &threads(), "t & 15");
}

#[test]
fn negative_operands_keep_division() {
    // Without a range fact `x` may be negative: truncating division is not a shift.
    check("(/ x 4)", &Facts::new(), "x / 4");
    check("(% x 4)", &Facts::new(), "x % 4");
}

#[test]
fn typical_layout_index_gets_cheaper() {
    let input = parse("(+ (+ (* (% (/ t 8) 4) 16) (* (% t 8) 2)) 1)");
    let out = simplify(&input, &threads(), &Limits::default()).expect("simplifies");
    assert!(out.cost_after < out.cost_before);
    assert_eq!(out.stop_reason, StopReason::Saturated);
    // (t / 8 % 4) * 16 + (t % 8) * 2 = (t % 32) * 2
    assert_eq!(to_infix(&out.expr), "((t & 31) << 1) + 1");
}

#[test]
fn batch_agrees_with_single_runs() {
    let inputs = [
        "(+ (* (% (/ t 8) 4) 8) (% t 8))",
        "(/ (% t 32) 4)",
        "(<= 0 (% t 8))",
        "(+ (+ (* (% (/ t 8) 4) 16) (* (% t 8) 2)) 1)",
        "(/ x 4)",
    ];
    let exprs: Vec<_> = inputs.iter().map(|s| parse(s)).collect();
    let batch = simplify_batch(&exprs, &threads(), &Limits::default()).expect("simplifies");
    assert_eq!(batch.exprs.len(), inputs.len());
    for (input, got) in inputs.iter().zip(&batch.exprs) {
        let one = simplify(&parse(input), &threads(), &Limits::default()).expect("simplifies");
        assert_eq!(got.cost_after, one.cost_after, "{input}");
    }
}

#[test]
fn every_run_respects_its_limits() {
    // A long sum of digit products: plenty for the rules to chew on.
    let mut s = String::from("t");
    for (i, d) in [2, 4, 8, 16, 32, 64].iter().enumerate() {
        s = format!("(+ {s} (* (% (/ (+ t {i}) {d}) 4) {d}))");
    }
    let expr = parse(&s);
    let facts = threads();
    for limits in [
        Limits {
            iterations: 0,
            nodes: 10_000,
            time: Duration::from_millis(20),
        },
        Limits {
            iterations: 1,
            nodes: 10_000,
            time: Duration::from_millis(20),
        },
        Limits {
            iterations: 3,
            nodes: 10_000,
            time: Duration::from_millis(20),
        },
        Limits {
            iterations: 8,
            nodes: 60,
            time: Duration::from_millis(20),
        },
        Limits {
            iterations: 8,
            nodes: 10_000,
            time: Duration::ZERO,
        },
        Limits::default(),
    ] {
        let out = simplify(&expr, &facts, &limits).expect("simplifies");
        // egg counts the iteration that noticed the limit.
        assert!(
            out.stats.iterations <= limits.iterations + 1,
            "{limits:?}: {:?}",
            out.stats
        );
        // One right-hand side (at most 8 nodes) may land after the budget is reached.
        let start_nodes = expr.as_ref().len();
        assert!(
            out.stats.nodes <= limits.nodes.max(start_nodes) + 8,
            "{limits:?}: {:?}",
            out.stats
        );
        match out.stop_reason {
            StopReason::IterationLimit => assert!(out.stats.iterations >= limits.iterations),
            StopReason::NodeLimit => assert!(out.stats.nodes >= limits.nodes),
            StopReason::TimeLimit | StopReason::Saturated => {}
        }
        if limits.time.is_zero() {
            assert_eq!(out.stop_reason, StopReason::TimeLimit);
        }
        if limits.iterations == 0 {
            assert_eq!(out.stop_reason, StopReason::IterationLimit);
        }
    }
}

#[test]
fn results_fit_i32_when_inputs_do() {
    let expr = parse("(+ (* (% (/ t 8) 4) 8) (% t 8))");
    assert!(fits_i32(&expr, &threads()).expect("facts are valid"));
    let out = simplify(&expr, &threads(), &Limits::default()).expect("simplifies");
    assert!(fits_i32(&out.expr, &threads()).expect("facts are valid"));
    assert!(!fits_i32(&parse("(* x 2)"), &Facts::new()).expect("facts are valid"));
}

#[test]
fn bad_input_is_an_error() {
    let empty = RecExpr::<IndexLang>::default();
    assert_eq!(
        simplify(&empty, &threads(), &Limits::default()),
        Err(SimplifyError::EmptyExpr { index: 0 })
    );
    // A child after its parent: rejected, not a panic.
    let forward = RecExpr::from(vec![
        IndexLang::Add([egg::Id::from(1usize), egg::Id::from(1usize)]),
        IndexLang::Num(1),
    ]);
    assert_eq!(
        simplify(&forward, &threads(), &Limits::default()),
        Err(SimplifyError::MalformedExpr { index: 0, node: 0 })
    );
    assert!(fits_i32(&forward, &threads()).is_err());
    assert!(matches!(
        simplify(&parse("t"), &Facts::new().below("t", 0), &Limits::default()),
        Err(SimplifyError::EmptyRange { .. })
    ));
    assert!(matches!(
        simplify(
            &parse("t"),
            &Facts::new().multiple_of("t", 0),
            &Limits::default()
        ),
        Err(SimplifyError::ZeroMultiple { .. })
    ));
}

#[test]
fn divisibility_facts_are_used() {
    let facts = Facts::new().nonneg("n").multiple_of("n", 16).below("i", 16);
    // (n + i) / 16 = n / 16 + i / 16 = n >> 4 (i < 16).
    check("(/ (+ n i) 16)", &facts, "n >> 4");
    check("(% (+ n i) 16)", &facts, "i");
}
