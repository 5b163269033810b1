//! Bit arithmetic: powers of two become shifts and masks; shifts and masks combine.
//!
//! Shifts and bitwise operators are defined on non-negative operands only (shift amounts in
//! `0..=31`), so every rule that introduces one checks that its operands are non-negative.

use super::Guard::*;
use super::Rule;

/// The bit rules.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // x / 2^k = x >> k for x ≥ 0.
    Rule::new("div-pow2", "(/ ?x ?c)", "(>> ?x ?k)", &[NonNeg("?x"), Log2 { c: "?c", k: "?k" }]),
    // x % 2^k = x & (2^k - 1) for x ≥ 0.
    Rule::new("rem-pow2", "(% ?x ?c)", "(& ?x (- ?c 1))", &[NonNeg("?x"), Pow2("?c")]),
    // x * 2^k = x << k for x ≥ 0.
    Rule::new("mul-pow2", "(* ?x ?c)", "(<< ?x ?k)", &[NonNeg("?x"), Log2 { c: "?c", k: "?k" }]),
    // x << 0 = x.
    Rule::new("shl-zero", "(<< ?x 0)", "?x", &[]),
    // x >> 0 = x.
    Rule::new("shr-zero", "(>> ?x 0)", "?x", &[]),
    // (x << a) << b = x << (a + b) while the total stays a valid shift.
    Rule::new("shl-shl", "(<< (<< ?x ?a) ?b)", "(<< ?x (+ ?a ?b))", &[ShiftSum("?a", "?b")]),
    // (x >> a) >> b = x >> (a + b) while the total stays a valid shift.
    Rule::new("shr-shr", "(>> (>> ?x ?a) ?b)", "(>> ?x (+ ?a ?b))", &[ShiftSum("?a", "?b")]),
    // (x << k) >> k = x (defined only for x ≥ 0, where it is exact).
    Rule::new("shl-shr", "(>> (<< ?x ?k) ?k)", "?x", &[]),
    // (x & m) >> a = (x >> a) & (m >> a): the bit-field-extract shape.
    Rule::new("and-shr", "(>> (& ?x ?m) ?a)", "(& (>> ?x ?a) (>> ?m ?a))", &[Const("?m"), Const("?a")]),
    // ((x >> a) & m) << a = x & (m << a): a field put back in place is a mask.
    Rule::new("field-in-place", "(<< (& (>> ?x ?a) ?m) ?a)", "(& ?x (<< ?m ?a))", &[Const("?m"), Const("?a")]),
    // x & m = x when 0 ≤ x ≤ m and m = 2^k - 1: the mask keeps every bit.
    Rule::new("and-mask-noop", "(& ?x ?m)", "?x", &[LowMask("?m"), NonNeg("?x"), LeAll("?x", "?m")]),
    // (x & a) & b = x & (a & b).
    Rule::new("and-and-const", "(& (& ?x ?a) ?b)", "(& ?x (& ?a ?b))", &[Const("?a"), Const("?b")]),
    // (x & a) + (x & b) = x & (a | b) when the masks share no bit (no carries).
    Rule::new("add-disjoint-masks", "(+ (& ?x ?a) (& ?x ?b))", "(& ?x (| ?a ?b))", &[Disjoint("?a", "?b")]),
    // (x & a) | (x & b) = x & (a | b).
    Rule::new("or-masks", "(| (& ?x ?a) (& ?x ?b))", "(& ?x (| ?a ?b))", &[Const("?a"), Const("?b")]),
    // x & 0 = 0.
    Rule::new("and-zero", "(& ?x 0)", "0", &[]),
    // x | 0 = x.
    Rule::new("or-zero", "(| ?x 0)", "?x", &[]),
    // x ^ 0 = x.
    Rule::new("xor-zero", "(^ ?x 0)", "?x", &[]),
    // x & x = x.
    Rule::new("and-self", "(& ?x ?x)", "?x", &[]),
    // x | x = x.
    Rule::new("or-self", "(| ?x ?x)", "?x", &[]),
    // x ^ x = 0.
    Rule::new("xor-self", "(^ ?x ?x)", "0", &[]),
];
