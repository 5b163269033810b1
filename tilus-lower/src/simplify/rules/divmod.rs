//! Division and remainder: the digit arithmetic of layouts (`t / 8 % 4`, `t % 8`, …).
//!
//! `/` truncates toward zero and `%` takes the sign of the dividend, so most identities need
//! the dividend non-negative (where truncation is floor division); the guards say so.
//! Deciding `x / c` to a constant (e.g. `0` for `0 ≤ x < c`) is the analysis' job.

use super::Guard::*;
use super::Rule;

/// The division and remainder rules.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // x / 1 = x.
    Rule::new("div-one", "(/ ?x 1)", "?x", &[]),
    // x % 1 = 0.
    Rule::new("rem-one", "(% ?x 1)", "0", &[]),
    // (x * a) / b = x * (a / b) when b divides a: exact, no rounding.
    Rule::new("mul-div-exact", "(/ (* ?x ?a) ?b)", "(* ?x (/ ?a ?b))", &[Divides("?b", "?a")]),
    // (x * a) % b = 0 when b divides a.
    Rule::new("mul-rem-exact", "(% (* ?x ?a) ?b)", "0", &[Divides("?b", "?a")]),
    // x % y = x when 0 ≤ x < y.
    Rule::new("rem-small", "(% ?x ?y)", "?x", &[Below("?x", "?y")]),
    // (x + y) / c = x / c + y / c when x is a multiple of c and x, y ≥ 0.
    Rule::new("div-add-multiple", "(/ (+ ?x ?y) ?c)", "(+ (/ ?x ?c) (/ ?y ?c))", &[PosConst("?c"), MultipleOf("?x", "?c"), NonNeg("?x"), NonNeg("?y")]),
    // (y + x) / c = y / c + x / c when x is a multiple of c and x, y ≥ 0.
    Rule::new("div-add-multiple-r", "(/ (+ ?y ?x) ?c)", "(+ (/ ?y ?c) (/ ?x ?c))", &[PosConst("?c"), MultipleOf("?x", "?c"), NonNeg("?x"), NonNeg("?y")]),
    // (x + y) % c = y % c when x is a multiple of c and x, y ≥ 0.
    Rule::new("rem-add-multiple", "(% (+ ?x ?y) ?c)", "(% ?y ?c)", &[PosConst("?c"), MultipleOf("?x", "?c"), NonNeg("?x"), NonNeg("?y")]),
    // (y + x) % c = y % c when x is a multiple of c and x, y ≥ 0.
    Rule::new("rem-add-multiple-r", "(% (+ ?y ?x) ?c)", "(% ?y ?c)", &[PosConst("?c"), MultipleOf("?x", "?c"), NonNeg("?x"), NonNeg("?y")]),
    // (x / a) / b = x / (a * b) for a, b > 0 (truncation composes).
    Rule::new("div-div", "(/ (/ ?x ?a) ?b)", "(/ ?x (* ?a ?b))", &[PosConst("?a"), PosConst("?b")]),
    // (x % m) / a = (x / a) % (m / a) when a divides m, for x ≥ 0: a digit of a digit.
    Rule::new("rem-div", "(/ (% ?x ?m) ?a)", "(% (/ ?x ?a) (/ ?m ?a))", &[PosConst("?a"), PosConst("?m"), Divides("?a", "?m"), NonNeg("?x")]),
    // (x % m) % c = x % c when c divides m.
    Rule::new("rem-rem", "(% (% ?x ?m) ?c)", "(% ?x ?c)", &[PosConst("?c"), Divides("?c", "?m")]),
    // (x / c) * c + x % c = x.
    Rule::new("div-mul-add-rem", "(+ (* (/ ?x ?c) ?c) (% ?x ?c))", "?x", &[NonZeroConst("?c")]),
    // x % c + (x / c) * c = x.
    Rule::new("rem-add-div-mul", "(+ (% ?x ?c) (* (/ ?x ?c) ?c))", "?x", &[NonZeroConst("?c")]),
    // (z + (x / c) * c) + x % c = z + x: the same inside a longer sum.
    Rule::new("div-mul-add-rem-in-sum", "(+ (+ ?z (* (/ ?x ?c) ?c)) (% ?x ?c))", "(+ ?z ?x)", &[NonZeroConst("?c")]),
    // ((x / a) % b) * a + x % a = x % (a * b) for x ≥ 0: two adjacent digits merge.
    Rule::new("digits-merge", "(+ (* (% (/ ?x ?a) ?b) ?a) (% ?x ?a))", "(% ?x (* ?a ?b))", &[PosConst("?a"), PosConst("?b"), NonNeg("?x")]),
    // x % a + ((x / a) % b) * a = x % (a * b) for x ≥ 0.
    Rule::new("digits-merge-r", "(+ (% ?x ?a) (* (% (/ ?x ?a) ?b) ?a))", "(% ?x (* ?a ?b))", &[PosConst("?a"), PosConst("?b"), NonNeg("?x")]),
    // (z + ((x / a) % b) * a) + x % a = z + x % (a * b) for x ≥ 0: inside a longer sum.
    Rule::new("digits-merge-in-sum", "(+ (+ ?z (* (% (/ ?x ?a) ?b) ?a)) (% ?x ?a))", "(+ ?z (% ?x (* ?a ?b)))", &[PosConst("?a"), PosConst("?b"), NonNeg("?x")]),
    // ((x / a) % b) * c + (x % a) * s = (x % (a * b)) * s when c = a * s, for x ≥ 0: two
    // adjacent digits with strides a·s and s merge.
    Rule::new("digits-merge-scaled", "(+ (* (% (/ ?x ?a) ?b) ?c) (* (% ?x ?a) ?s))", "(* (% ?x (* ?a ?b)) ?s)", &[PosConst("?a"), PosConst("?b"), Product("?c", "?a", "?s"), NonNeg("?x")]),
    // (x % a) * s + ((x / a) % b) * c = (x % (a * b)) * s when c = a * s, for x ≥ 0.
    Rule::new("digits-merge-scaled-r", "(+ (* (% ?x ?a) ?s) (* (% (/ ?x ?a) ?b) ?c))", "(* (% ?x (* ?a ?b)) ?s)", &[PosConst("?a"), PosConst("?b"), Product("?c", "?a", "?s"), NonNeg("?x")]),
    // (z + ((x / a) % b) * c) + (x % a) * s = z + (x % (a * b)) * s: inside a longer sum.
    Rule::new("digits-merge-scaled-in-sum", "(+ (+ ?z (* (% (/ ?x ?a) ?b) ?c)) (* (% ?x ?a) ?s))", "(+ ?z (* (% ?x (* ?a ?b)) ?s))", &[PosConst("?a"), PosConst("?b"), Product("?c", "?a", "?s"), NonNeg("?x")]),
];
