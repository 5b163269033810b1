//! Comparisons, logic and selection: what masks and bounds checks produce.
//!
//! Comparisons decided by intervals (`0 <= t % 8` with `t ≥ 0`, `t < 128` with
//! `t ∈ [0, 128)`) fold to constants in the analysis; these rules handle the rest.

use super::Guard::*;
use super::Rule;

/// The comparison, logic and selection rules.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // x + c < y + c  ⇔  x < y.
    Rule::new("lt-add-same", "(< (+ ?x ?c) (+ ?y ?c))", "(< ?x ?y)", &[]),
    // x + c <= y + c  ⇔  x <= y.
    Rule::new("le-add-same", "(<= (+ ?x ?c) (+ ?y ?c))", "(<= ?x ?y)", &[]),
    // x + a < b  ⇔  x < b - a: constants gather on the right.
    Rule::new("lt-add-const", "(< (+ ?x ?a) ?b)", "(< ?x (- ?b ?a))", &[Const("?a"), Const("?b")]),
    // x + a <= b  ⇔  x <= b - a.
    Rule::new("le-add-const", "(<= (+ ?x ?a) ?b)", "(<= ?x (- ?b ?a))", &[Const("?a"), Const("?b")]),
    // x < x is false.
    Rule::new("lt-self", "(< ?x ?x)", "0", &[]),
    // x <= x is true.
    Rule::new("le-self", "(<= ?x ?x)", "1", &[]),
    // x == x is true.
    Rule::new("eq-self", "(== ?x ?x)", "1", &[]),
    // x != x is false.
    Rule::new("ne-self", "(!= ?x ?x)", "0", &[]),
    // x && c = x for a boolean x and a true c.
    Rule::new("and-true", "(&& ?x ?c)", "?x", &[Bool("?x"), Truthy("?c")]),
    // c && x = x for a true c and a boolean x.
    Rule::new("true-and", "(&& ?c ?x)", "?x", &[Truthy("?c"), Bool("?x")]),
    // x || 0 = x for a boolean x.
    Rule::new("or-false", "(|| ?x 0)", "?x", &[Bool("?x")]),
    // 0 || x = x for a boolean x.
    Rule::new("false-or", "(|| 0 ?x)", "?x", &[Bool("?x")]),
    // x && x = x for a boolean x.
    Rule::new("land-self", "(&& ?x ?x)", "?x", &[Bool("?x")]),
    // x != 0 = x for a boolean x.
    Rule::new("ne-zero-bool", "(!= ?x 0)", "?x", &[Bool("?x")]),
    // select(c, a, b) = a when c is never 0.
    Rule::new("select-true", "(select ?c ?a ?b)", "?a", &[Truthy("?c")]),
    // select(0, a, b) = b.
    Rule::new("select-false", "(select 0 ?a ?b)", "?b", &[]),
    // select(c, a, a) = a.
    Rule::new("select-same", "(select ?c ?a ?a)", "?a", &[]),
    // min(x, y) = x when every x ≤ every y.
    Rule::new("min-left", "(min ?x ?y)", "?x", &[LeAll("?x", "?y")]),
    // min(x, y) = y when every y ≤ every x.
    Rule::new("min-right", "(min ?x ?y)", "?y", &[LeAll("?y", "?x")]),
    // max(x, y) = y when every x ≤ every y.
    Rule::new("max-right", "(max ?x ?y)", "?y", &[LeAll("?x", "?y")]),
    // max(x, y) = x when every y ≤ every x.
    Rule::new("max-left", "(max ?x ?y)", "?x", &[LeAll("?y", "?x")]),
    // min(x, x) = x.
    Rule::new("min-self", "(min ?x ?x)", "?x", &[]),
    // max(x, x) = x.
    Rule::new("max-self", "(max ?x ?x)", "?x", &[]),
];
