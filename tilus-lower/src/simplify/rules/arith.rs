//! Arithmetic identities: neutral and absorbing elements, constants moved right and folded.
//!
//! No general commutativity or associativity: constants move to the right of `+` and `*` and
//! float outward through sums, so constant operands meet and fold, and nothing else moves.

use super::Guard::*;
use super::Rule;

/// The arithmetic rules.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // x + 0 = x.
    Rule::new("add-zero", "(+ ?x 0)", "?x", &[]),
    // 0 + x = x.
    Rule::new("zero-add", "(+ 0 ?x)", "?x", &[]),
    // x - 0 = x.
    Rule::new("sub-zero", "(- ?x 0)", "?x", &[]),
    // x - x = 0.
    Rule::new("sub-self", "(- ?x ?x)", "0", &[]),
    // (x + y) - y = x (an offset added then removed).
    Rule::new("add-sub-cancel", "(- (+ ?x ?y) ?y)", "?x", &[]),
    // (x + y) - x = y.
    Rule::new("add-sub-cancel-l", "(- (+ ?x ?y) ?x)", "?y", &[]),
    // x * 1 = x.
    Rule::new("mul-one", "(* ?x 1)", "?x", &[]),
    // x * 0 = 0.
    Rule::new("mul-zero", "(* ?x 0)", "0", &[]),
    // -(-x) = x.
    Rule::new("neg-neg", "(neg (neg ?x))", "?x", &[]),
    // c + x = x + c: constants to the right (the only commutation of `+`).
    Rule::new("add-const-right", "(+ ?c ?x)", "(+ ?x ?c)", &[Const("?c"), NotConst("?x")]),
    // c * x = x * c: constants to the right (the only commutation of `*`).
    Rule::new("mul-const-right", "(* ?c ?x)", "(* ?x ?c)", &[Const("?c"), NotConst("?x")]),
    // x + c = x - (-c) for c < 0: prefer `t - 1` to `t + -1`.
    Rule::new("add-neg-const", "(+ ?x ?c)", "(- ?x (neg ?c))", &[NegConst("?c")]),
    // (x + a) + b = x + (a + b): fold the constants.
    Rule::new("add-add-const", "(+ (+ ?x ?a) ?b)", "(+ ?x (+ ?a ?b))", &[Const("?a"), Const("?b")]),
    // (x + a) - b = x + (a - b).
    Rule::new("add-sub-const", "(- (+ ?x ?a) ?b)", "(+ ?x (- ?a ?b))", &[Const("?a"), Const("?b")]),
    // (x - a) + b = x + (b - a).
    Rule::new("sub-add-const", "(+ (- ?x ?a) ?b)", "(+ ?x (- ?b ?a))", &[Const("?a"), Const("?b")]),
    // (x - a) - b = x - (a + b).
    Rule::new("sub-sub-const", "(- (- ?x ?a) ?b)", "(- ?x (+ ?a ?b))", &[Const("?a"), Const("?b")]),
    // (x + a) + y = (x + y) + a: a constant floats out of a sum so it can meet another.
    Rule::new("add-const-out", "(+ (+ ?x ?a) ?y)", "(+ (+ ?x ?y) ?a)", &[Const("?a"), NotConst("?y")]),
    // x + (y + a) = (x + y) + a.
    Rule::new("add-const-out-r", "(+ ?x (+ ?y ?a))", "(+ (+ ?x ?y) ?a)", &[Const("?a"), NotConst("?x")]),
    // (x * a) * b = x * (a * b): fold the constants.
    Rule::new("mul-mul-const", "(* (* ?x ?a) ?b)", "(* ?x (* ?a ?b))", &[Const("?a"), Const("?b")]),
    // (x + a) * b = x * b + a * b: distribute a constant factor over a constant offset, so
    // the offset folds and `(x*b + y) / b` patterns appear.
    Rule::new("mul-add-const", "(* (+ ?x ?a) ?b)", "(+ (* ?x ?b) (* ?a ?b))", &[Const("?a"), Const("?b")]),
];
