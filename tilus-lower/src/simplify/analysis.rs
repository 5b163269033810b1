//! The e-class analysis: what is known about the value of every e-class.
//!
//! For each e-class the analysis keeps an [`IndexData`]:
//! - `konst`: the constant value, when the class is a constant;
//! - `range`: an [`Interval`] `[lo, hi]` holding every value the class takes where it is
//!   defined, computed bottom-up from the symbol facts ([`super::Facts`]);
//! - `divisor`: a known divisor of every value (`0` means the value is `0`).
//!
//! Constant folding happens in [`egg::Analysis::modify`]: a class whose value is known (an
//! exact fold, or an interval of width one such as `0 <= t % 8` with `t ≥ 0`) receives the
//! constant node and loses its other nodes. Deciding comparisons, `x / c → 0` for
//! `0 ≤ x < c` and similar facts is therefore the analysis' job, not a rule's.
//!
//! **Bounds.** Interval bounds are `i128` clamped to `±INF` (`2^96`): a bound of `INF` reads
//! "unbounded". All values are assumed to lie strictly inside `(−2^96, 2^96)`, which the `i32`
//! precondition of the module ([`super::lang`]) guarantees.
//!
//! **Soundness.** Each transfer function over-approximates the exact semantics of
//! [`super::lang`] on the points where the node is defined; `tests/simplify_analysis.rs`
//! checks every operator exhaustively on small intervals.

use std::collections::HashMap;

use egg::{Analysis, DidMerge, EGraph, Id, Symbol};

use super::lang::{IndexLang, MAX_SHIFT};

/// The magnitude standing for "unbounded" in an [`Interval`].
pub const INF: i128 = 1 << 96;

fn norm(v: i128) -> i128 {
    v.clamp(-INF, INF)
}

/// A closed interval `[lo, hi]` of integers; bounds at `±INF` mean unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    /// The least value.
    pub lo: i128,
    /// The greatest value.
    pub hi: i128,
}

impl Interval {
    /// Every integer.
    pub const FULL: Interval = Interval { lo: -INF, hi: INF };
    /// The booleans `{0, 1}`.
    pub const BOOL: Interval = Interval { lo: 0, hi: 1 };

    /// `[lo, hi]` with both bounds clamped to `±INF`; an empty pair (`lo > hi`) gives
    /// [`Interval::FULL`] (a class that is never defined carries no information).
    pub fn new(lo: i128, hi: i128) -> Interval {
        if lo > hi {
            return Interval::FULL;
        }
        Interval {
            lo: norm(lo),
            hi: norm(hi),
        }
    }

    /// The single value `v`.
    pub fn exact(v: i64) -> Interval {
        Interval {
            lo: i128::from(v),
            hi: i128::from(v),
        }
    }

    /// Whether `v` lies in the interval.
    pub fn contains(&self, v: i128) -> bool {
        self.lo <= v && v <= self.hi
    }

    /// The value, when the interval holds exactly one `i64`.
    pub fn as_const(&self) -> Option<i64> {
        if self.lo == self.hi && self.lo.abs() < INF {
            i64::try_from(self.lo).ok()
        } else {
            None
        }
    }

    /// Whether every value lies in `i32`.
    pub fn within_i32(&self) -> bool {
        self.lo >= i128::from(i32::MIN) && self.hi <= i128::from(i32::MAX)
    }

    fn hull(self, other: Interval) -> Interval {
        Interval::new(self.lo.min(other.lo), self.hi.max(other.hi))
    }

    fn intersect(self, other: Interval) -> Option<Interval> {
        let lo = self.lo.max(other.lo);
        let hi = self.hi.min(other.hi);
        (lo <= hi).then_some(Interval { lo, hi })
    }

    /// The part of the interval at or above `floor`, `None` when empty.
    fn at_least(self, floor: i128) -> Option<Interval> {
        self.intersect(Interval { lo: floor, hi: INF })
    }

    /// `Some(true)` when no value is 0, `Some(false)` when the only value is 0.
    fn truth(self) -> Option<bool> {
        if !self.contains(0) {
            Some(true)
        } else if self.lo == 0 && self.hi == 0 {
            Some(false)
        } else {
            None
        }
    }

    fn from_corners(corners: [i128; 4]) -> Interval {
        let lo = corners.iter().copied().min().unwrap_or(-INF);
        let hi = corners.iter().copied().max().unwrap_or(INF);
        Interval::new(lo, hi)
    }
}

/// What is known about the values of one e-class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndexData {
    /// The value, when the class is a known constant.
    pub konst: Option<i64>,
    /// Every value the class takes (where defined) lies in this interval.
    pub range: Interval,
    /// Every value is a multiple of `divisor`; `0` means every value is `0`.
    pub divisor: u64,
}

impl IndexData {
    /// The data of the constant `v`.
    pub fn exact(v: i64) -> IndexData {
        IndexData {
            konst: Some(v),
            range: Interval::exact(v),
            divisor: v.unsigned_abs(),
        }
    }

    /// Nothing known.
    pub fn unknown() -> IndexData {
        IndexData {
            konst: None,
            range: Interval::FULL,
            divisor: 1,
        }
    }

    /// Data from a range and a divisor; a range of width one becomes a constant.
    pub fn from_range(range: Interval, divisor: u64) -> IndexData {
        match range.as_const() {
            Some(c) => IndexData::exact(c),
            None => IndexData {
                konst: None,
                range,
                divisor,
            },
        }
    }

    /// Whether every value is `≥ 0`.
    pub fn nonneg(&self) -> bool {
        self.range.lo >= 0
    }

    /// Whether every value is 0 or 1.
    pub fn boolean(&self) -> bool {
        self.range.lo >= 0 && self.range.hi <= 1
    }

    /// Whether every value is a multiple of `c` (`c ≠ 0`).
    pub fn multiple_of(&self, c: i64) -> bool {
        c != 0 && self.divisor.is_multiple_of(c.unsigned_abs())
    }
}

/// What the caller knows about one symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymbolFact {
    /// The symbol's values.
    pub range: Interval,
    /// A known divisor of the symbol's values (1 when none).
    pub divisor: u64,
}

/// The egg analysis: symbol facts in, [`IndexData`] per e-class out.
#[derive(Clone, Debug, Default)]
pub struct IndexAnalysis {
    /// Facts per symbol; a symbol without a fact is unbounded.
    pub symbols: HashMap<Symbol, SymbolFact>,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn lcm(a: u64, b: u64) -> u64 {
    if a == 0 || b == 0 {
        return 0;
    }
    (a / gcd(a, b)).checked_mul(b).unwrap_or(a.max(b))
}

/// `2^tz` where `tz` is the number of trailing zero bits (`0` for `0`).
fn pow2_part(d: u64) -> u32 {
    d.trailing_zeros()
}

fn pow2_divisor(tz: u32) -> u64 {
    if tz >= 64 {
        0
    } else {
        1u64 << tz
    }
}

/// Evaluates one node on constant operands with the exact semantics of [`super::lang`];
/// `None` when the node is undefined there or the value does not fit in an `i64`.
pub fn fold(node: &IndexLang, arg: impl Fn(Id) -> Option<i64>) -> Option<i64> {
    use IndexLang::*;
    let two = |[a, b]: &[Id; 2]| Some((arg(*a)?, arg(*b)?));
    let shift = |k: i64| (0..=MAX_SHIFT).contains(&k).then_some(k as u32);
    let truth = |v: i64| v != 0;
    Some(match node {
        Num(c) => *c,
        Symbol(_) => return None,
        Add(ab) => two(ab).and_then(|(a, b)| a.checked_add(b))?,
        Sub(ab) => two(ab).and_then(|(a, b)| a.checked_sub(b))?,
        Mul(ab) => two(ab).and_then(|(a, b)| a.checked_mul(b))?,
        Div(ab) => two(ab).and_then(|(a, b)| a.checked_div(b))?,
        Rem(ab) => two(ab).and_then(|(a, b)| a.checked_rem(b))?,
        Neg(a) => arg(*a)?.checked_neg()?,
        Min(ab) => two(ab).map(|(a, b)| a.min(b))?,
        Max(ab) => two(ab).map(|(a, b)| a.max(b))?,
        Shl(ab) => {
            let (a, k) = two(ab)?;
            let k = shift(k)?;
            if a < 0 {
                return None;
            }
            a.checked_mul(1i64 << k)?
        }
        Shr(ab) => {
            let (a, k) = two(ab)?;
            let k = shift(k)?;
            if a < 0 {
                return None;
            }
            a >> k
        }
        And(ab) | Or(ab) | Xor(ab) => {
            let (a, b) = two(ab)?;
            if a < 0 || b < 0 {
                return None;
            }
            match node {
                And(_) => a & b,
                Or(_) => a | b,
                _ => a ^ b,
            }
        }
        Lt(ab) => two(ab).map(|(a, b)| i64::from(a < b))?,
        Le(ab) => two(ab).map(|(a, b)| i64::from(a <= b))?,
        Eq(ab) => two(ab).map(|(a, b)| i64::from(a == b))?,
        Ne(ab) => two(ab).map(|(a, b)| i64::from(a != b))?,
        LAnd(ab) => two(ab).map(|(a, b)| i64::from(truth(a) && truth(b)))?,
        LOr(ab) => two(ab).map(|(a, b)| i64::from(truth(a) || truth(b)))?,
        Select([c, a, b]) => {
            let (c, a, b) = (arg(*c)?, arg(*a)?, arg(*b)?);
            if truth(c) {
                a
            } else {
                b
            }
        }
    })
}

/// Corner quotients of `a / b` for a `b` of one sign (no zero inside).
fn div_corners(a: Interval, b: Interval) -> Interval {
    Interval::from_corners([a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi])
}

fn div_range(a: Interval, b: Interval) -> Interval {
    let neg = b.intersect(Interval { lo: -INF, hi: -1 });
    let pos = b.at_least(1);
    match (neg, pos) {
        (Some(n), Some(p)) => div_corners(a, n).hull(div_corners(a, p)),
        (Some(n), None) => div_corners(a, n),
        (None, Some(p)) => div_corners(a, p),
        (None, None) => Interval::FULL,
    }
}

fn rem_range(a: Interval, b: Interval) -> Interval {
    // Magnitudes of the non-zero divisors.
    let max_mag = b.lo.abs().max(b.hi.abs());
    if max_mag == 0 {
        return Interval::FULL;
    }
    let min_mag = if b.lo > 0 {
        b.lo
    } else if b.hi < 0 {
        -b.hi
    } else {
        1
    };
    let bound = max_mag - 1;
    if a.lo >= 0 {
        if a.hi < min_mag {
            a
        } else {
            Interval::new(0, a.hi.min(bound))
        }
    } else if a.hi <= 0 {
        if -a.lo < min_mag {
            a
        } else {
            Interval::new(a.lo.max(-bound), 0)
        }
    } else {
        Interval::new(a.lo.max(-bound), a.hi.min(bound))
    }
}

/// `2^bits(v) − 1` for `v ≥ 0`: the least all-ones number `≥ v`.
fn fill(v: i128) -> i128 {
    if v <= 0 {
        0
    } else {
        let bits = 128 - v.leading_zeros();
        if bits >= 127 {
            INF
        } else {
            (1i128 << bits) - 1
        }
    }
}

fn bool_range(truth: Option<bool>) -> Interval {
    match truth {
        Some(true) => Interval::exact(1),
        Some(false) => Interval::exact(0),
        None => Interval::BOOL,
    }
}

/// The data of one node from the data of its children (`child`) and the symbol facts
/// (`symbol`): an exact fold when every operand is constant, otherwise interval and divisor
/// transfer functions.
pub fn transfer(
    node: &IndexLang,
    child: impl Fn(Id) -> IndexData,
    symbol: impl Fn(Symbol) -> Option<SymbolFact>,
) -> IndexData {
    use IndexLang::*;
    if let Some(v) = fold(node, |id| child(id).konst) {
        return IndexData::exact(v);
    }
    let r = |id: &Id| child(*id).range;
    let d = |id: &Id| child(*id).divisor;
    let (range, divisor) = match node {
        Num(c) => return IndexData::exact(*c),
        Symbol(s) => match symbol(*s) {
            Some(f) => (f.range, f.divisor),
            None => (Interval::FULL, 1),
        },
        Add([a, b]) => {
            let (x, y) = (r(a), r(b));
            (Interval::new(x.lo + y.lo, x.hi + y.hi), gcd(d(a), d(b)))
        }
        Sub([a, b]) => {
            let (x, y) = (r(a), r(b));
            (Interval::new(x.lo - y.hi, x.hi - y.lo), gcd(d(a), d(b)))
        }
        Mul([a, b]) => {
            let (x, y) = (r(a), r(b));
            let m = |p: i128, q: i128| norm(p.saturating_mul(q));
            let range = Interval::from_corners([
                m(x.lo, y.lo),
                m(x.lo, y.hi),
                m(x.hi, y.lo),
                m(x.hi, y.hi),
            ]);
            let divisor = d(a).checked_mul(d(b)).unwrap_or(d(a).max(d(b)));
            (range, divisor)
        }
        Div([a, b]) => {
            let divisor = match child(*b).konst {
                Some(c) if c != 0 && d(a).is_multiple_of(c.unsigned_abs()) => {
                    d(a) / c.unsigned_abs()
                }
                _ => 1,
            };
            (div_range(r(a), r(b)), divisor)
        }
        Rem([a, b]) => (rem_range(r(a), r(b)), gcd(d(a), d(b))),
        Neg(a) => {
            let x = r(a);
            (Interval::new(-x.hi, -x.lo), d(a))
        }
        Min([a, b]) => {
            let (x, y) = (r(a), r(b));
            (
                Interval::new(x.lo.min(y.lo), x.hi.min(y.hi)),
                gcd(d(a), d(b)),
            )
        }
        Max([a, b]) => {
            let (x, y) = (r(a), r(b));
            (
                Interval::new(x.lo.max(y.lo), x.hi.max(y.hi)),
                gcd(d(a), d(b)),
            )
        }
        Shl([a, k]) | Shr([a, k]) => {
            let defined_k = r(k).intersect(Interval {
                lo: 0,
                hi: i128::from(MAX_SHIFT),
            });
            let (Some(x), Some(s)) = (r(a).at_least(0), defined_k) else {
                return IndexData::unknown();
            };
            // Shift amounts are at most 31, so the casts are exact.
            let (s_lo, s_hi) = (s.lo as u32, s.hi as u32);
            let kc = child(*k).konst;
            if matches!(node, Shl(_)) {
                let up = |v: i128, s: u32| norm(v.saturating_mul(1i128 << s));
                let divisor = match kc {
                    Some(c) => d(a)
                        .checked_shl(c as u32)
                        .filter(|v| v >> c == d(a))
                        .unwrap_or(d(a)),
                    None => d(a),
                };
                (Interval::new(up(x.lo, s_lo), up(x.hi, s_hi)), divisor)
            } else {
                let divisor = match kc {
                    Some(c) if d(a).is_multiple_of(1u64 << c) => d(a) >> c,
                    _ => 1,
                };
                (Interval::new(x.lo >> s_hi, x.hi >> s_lo), divisor)
            }
        }
        And([a, b]) | Or([a, b]) | Xor([a, b]) => {
            let (Some(x), Some(y)) = (r(a).at_least(0), r(b).at_least(0)) else {
                return IndexData::unknown();
            };
            let (tx, ty) = (pow2_part(d(a)), pow2_part(d(b)));
            match node {
                And(_) => (Interval::new(0, x.hi.min(y.hi)), pow2_divisor(tx.max(ty))),
                Or(_) => {
                    let hi = norm(x.hi + y.hi).min(fill(x.hi.max(y.hi)));
                    (Interval::new(x.lo.max(y.lo), hi), pow2_divisor(tx.min(ty)))
                }
                _ => (
                    Interval::new(0, fill(x.hi.max(y.hi))),
                    pow2_divisor(tx.min(ty)),
                ),
            }
        }
        Lt([a, b]) | Le([a, b]) | Eq([a, b]) | Ne([a, b]) => {
            let (x, y) = (r(a), r(b));
            let lt = if x.hi < y.lo {
                Some(true)
            } else if x.lo >= y.hi {
                Some(false)
            } else {
                None
            };
            let le = if x.hi <= y.lo {
                Some(true)
            } else if x.lo > y.hi {
                Some(false)
            } else {
                None
            };
            let eq = if x.intersect(y).is_none() {
                Some(false)
            } else {
                None
            };
            let truth = match node {
                Lt(_) => lt,
                Le(_) => le,
                Eq(_) => eq,
                _ => eq.map(|e| !e),
            };
            (bool_range(truth), 1)
        }
        LAnd([a, b]) | LOr([a, b]) => {
            let (x, y) = (r(a).truth(), r(b).truth());
            let truth = match node {
                LAnd(_) => match (x, y) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                },
                _ => match (x, y) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
            };
            (bool_range(truth), 1)
        }
        Select([c, a, b]) => match r(c).truth() {
            Some(true) => (r(a), d(a)),
            Some(false) => (r(b), d(b)),
            None => (r(a).hull(r(b)), gcd(d(a), d(b))),
        },
    };
    IndexData::from_range(range, divisor)
}

/// Joins two facts about the same class (both hold, so intersect / take the lcm).
pub fn meet(a: IndexData, b: IndexData) -> IndexData {
    // Should the two disagree (only possible for a class that is never defined), keep `a`.
    let range = a.range.intersect(b.range).unwrap_or(a.range);
    let konst = a.konst.or(b.konst);
    match konst {
        Some(c) => IndexData::exact(c),
        None => IndexData::from_range(range, lcm(a.divisor, b.divisor)),
    }
}

impl Analysis<IndexLang> for IndexAnalysis {
    type Data = IndexData;

    fn make(egraph: &mut EGraph<IndexLang, Self>, enode: &IndexLang, _id: Id) -> IndexData {
        let symbols = &egraph.analysis.symbols;
        transfer(enode, |id| egraph[id].data, |s| symbols.get(&s).copied())
    }

    fn merge(&mut self, to: &mut IndexData, from: IndexData) -> DidMerge {
        let merged = meet(*to, from);
        let did = DidMerge(merged != *to, merged != from);
        *to = merged;
        did
    }

    fn modify(egraph: &mut EGraph<IndexLang, Self>, id: Id) {
        if let Some(c) = egraph[id].data.konst {
            let added = egraph.add(IndexLang::Num(c));
            egraph.union(id, added);
            // Constant classes keep only their literal: nothing else can be cheaper.
            egraph[id].nodes.retain(|n| matches!(n, IndexLang::Num(_)));
        }
    }
}
