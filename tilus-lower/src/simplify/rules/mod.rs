//! The rulebook as data: one file per topic, each a `const RULES: &[Rule]`.
//!
//! A [`Rule`] is a left-hand pattern, a right-hand pattern and a list of [`Guard`]s, all plain
//! data (`RULES.md` beside this module explains every rule). [`compile`] turns the table into
//! egg rewrites whose applier checks the guards against the e-class analysis and declines —
//! never panics — when one fails. The soundness tests read the same table and check every rule
//! by exhaustive evaluation.
//!
//! Pattern variables are spelled `?x`, `?y`, `?z` for arbitrary terms and `?a`, `?b`, `?c`,
//! `?k`, `?m` for terms a guard requires to be constants.
//!
//! ---
//!
#![doc = include_str!("../RULES.md")]

pub mod arith;
pub mod bits;
pub mod compare;
pub mod divmod;

use egg::{
    Applier, EGraph, Id, Pattern, PatternAst, Rewrite, SearchMatches, Searcher, Subst, Symbol, Var,
};

use super::analysis::{IndexAnalysis, IndexData};
use super::lang::{IndexLang, MAX_SHIFT};
use super::SimplifyError;

/// One rewrite rule: `lhs → rhs` when every guard holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Unique name (kebab-case, also the name of the egg rewrite).
    pub name: &'static str,
    /// The pattern to match, an s-expression over [`IndexLang`] with `?`-variables.
    pub lhs: &'static str,
    /// The replacement; may use the left-hand variables and variables bound by a guard.
    pub rhs: &'static str,
    /// Conditions on the matched classes, checked in order.
    pub guards: &'static [Guard<&'static str>],
}

/// A condition on pattern variables, decided from the analysis data of the matched classes.
///
/// Every guard reads "for every value the class may take", so a guard that holds on interval
/// data holds at each point of the interval: checking it with exact data `[v, v]` (as the
/// soundness tests do) is the pointwise meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard<V> {
    /// The class is a constant.
    Const(V),
    /// The class is not a known constant.
    NotConst(V),
    /// The class is a constant `> 0`.
    PosConst(V),
    /// The class is a constant `< 0`.
    NegConst(V),
    /// The class is a constant `≠ 0`.
    NonZeroConst(V),
    /// Every value is `≥ 0`.
    NonNeg(V),
    /// Every value is `0` or `1`.
    Bool(V),
    /// No value is `0`.
    Truthy(V),
    /// `0 ≤ x` and every value of `x` is below every value of `y`.
    Below(V, V),
    /// Every value of `x` is `≤` every value of `y`.
    LeAll(V, V),
    /// The class is a constant of the form `2^k − 1` (`k ≥ 0`).
    LowMask(V),
    /// The class is a constant power of two `2^k` (`k ≥ 0`).
    Pow2(V),
    /// The class `c` is the constant `2^k` with `0 ≤ k ≤ MAX_SHIFT`; binds the variable `k`
    /// to the constant `k` for the right-hand side.
    Log2 {
        /// The power of two.
        c: V,
        /// The variable bound to its logarithm.
        k: V,
    },
    /// Constants `a > 0` and `b` with `b` a multiple of `a`.
    Divides(V, V),
    /// Every value of `x` is a known multiple of the constant `c ≠ 0`.
    MultipleOf(V, V),
    /// Constants `a, b ≥ 0` with no common set bit.
    Disjoint(V, V),
    /// Constants with `c = a · b`.
    Product(V, V, V),
    /// Constants `a, b ≥ 0` with `a + b ≤ MAX_SHIFT`.
    ShiftSum(V, V),
}

impl<V: Copy> Guard<V> {
    /// Renames the variables.
    pub fn map<W, E>(&self, mut f: impl FnMut(V) -> Result<W, E>) -> Result<Guard<W>, E> {
        use Guard::*;
        Ok(match *self {
            Const(a) => Const(f(a)?),
            NotConst(a) => NotConst(f(a)?),
            PosConst(a) => PosConst(f(a)?),
            NegConst(a) => NegConst(f(a)?),
            NonZeroConst(a) => NonZeroConst(f(a)?),
            NonNeg(a) => NonNeg(f(a)?),
            Bool(a) => Bool(f(a)?),
            Truthy(a) => Truthy(f(a)?),
            Below(a, b) => Below(f(a)?, f(b)?),
            LeAll(a, b) => LeAll(f(a)?, f(b)?),
            LowMask(a) => LowMask(f(a)?),
            Pow2(a) => Pow2(f(a)?),
            Log2 { c, k } => Log2 { c: f(c)?, k: f(k)? },
            Divides(a, b) => Divides(f(a)?, f(b)?),
            MultipleOf(a, b) => MultipleOf(f(a)?, f(b)?),
            Disjoint(a, b) => Disjoint(f(a)?, f(b)?),
            Product(c, a, b) => Product(f(c)?, f(a)?, f(b)?),
            ShiftSum(a, b) => ShiftSum(f(a)?, f(b)?),
        })
    }

    /// The variable this guard binds, if any.
    pub fn binds(&self) -> Option<V> {
        match *self {
            Guard::Log2 { k, .. } => Some(k),
            _ => None,
        }
    }

    /// Checks the guard; `data` gives the analysis data of a variable's class (`None` for an
    /// unbound variable, which fails the guard). A binding guard pushes onto `bound`.
    pub fn check(&self, data: &impl Fn(V) -> Option<IndexData>, bound: &mut Vec<(V, i64)>) -> bool {
        use Guard::*;
        let konst = |v: V| data(v).and_then(|d| d.konst);
        match *self {
            Const(a) => konst(a).is_some(),
            NotConst(a) => data(a).is_some_and(|d| d.konst.is_none()),
            PosConst(a) => konst(a).is_some_and(|c| c > 0),
            NegConst(a) => konst(a).is_some_and(|c| c < 0),
            NonZeroConst(a) => konst(a).is_some_and(|c| c != 0),
            NonNeg(a) => data(a).is_some_and(|d| d.nonneg()),
            Bool(a) => data(a).is_some_and(|d| d.boolean()),
            Truthy(a) => data(a).is_some_and(|d| !d.range.contains(0)),
            Below(x, y) => match (data(x), data(y)) {
                (Some(x), Some(y)) => x.nonneg() && x.range.hi < y.range.lo,
                _ => false,
            },
            LeAll(x, y) => match (data(x), data(y)) {
                (Some(x), Some(y)) => x.range.hi <= y.range.lo,
                _ => false,
            },
            LowMask(a) => konst(a).is_some_and(|m| m >= 0 && (m as u64) & (m as u64 + 1) == 0),
            Pow2(a) => konst(a).is_some_and(|c| c > 0 && c.count_ones() == 1),
            Log2 { c, k } => match konst(c) {
                Some(c)
                    if c > 0
                        && c.count_ones() == 1
                        && i64::from(c.trailing_zeros()) <= MAX_SHIFT =>
                {
                    bound.push((k, i64::from(c.trailing_zeros())));
                    true
                }
                _ => false,
            },
            Divides(a, b) => match (konst(a), konst(b)) {
                (Some(a), Some(b)) => a > 0 && b % a == 0,
                _ => false,
            },
            MultipleOf(x, c) => match (data(x), konst(c)) {
                (Some(x), Some(c)) => x.multiple_of(c),
                _ => false,
            },
            Disjoint(a, b) => match (konst(a), konst(b)) {
                (Some(a), Some(b)) => a >= 0 && b >= 0 && a & b == 0,
                _ => false,
            },
            Product(c, a, b) => match (konst(c), konst(a), konst(b)) {
                (Some(c), Some(a), Some(b)) => a.checked_mul(b) == Some(c),
                _ => false,
            },
            ShiftSum(a, b) => match (konst(a), konst(b)) {
                (Some(a), Some(b)) => {
                    a >= 0 && b >= 0 && a.checked_add(b).is_some_and(|s| s <= MAX_SHIFT)
                }
                _ => false,
            },
        }
    }
}

/// Checks every guard in order; the variables they bind, or `None` when one fails.
pub fn check_all<V: Copy>(
    guards: &[Guard<V>],
    data: impl Fn(V) -> Option<IndexData>,
) -> Option<Vec<(V, i64)>> {
    let mut bound = Vec::new();
    guards
        .iter()
        .all(|g| g.check(&data, &mut bound))
        .then_some(bound)
}

/// Every rule, topic by topic (arithmetic, division and remainder, bits, comparisons).
pub fn all() -> impl Iterator<Item = &'static Rule> {
    arith::RULES
        .iter()
        .chain(divmod::RULES)
        .chain(bits::RULES)
        .chain(compare::RULES)
}

impl Rule {
    /// A rule (a `const fn`, for the rule tables).
    pub const fn new(
        name: &'static str,
        lhs: &'static str,
        rhs: &'static str,
        guards: &'static [Guard<&'static str>],
    ) -> Rule {
        Rule {
            name,
            lhs,
            rhs,
            guards,
        }
    }
}

/// The egg rewrites of one rule table.
pub type Rewrites = Vec<Rewrite<IndexLang, IndexAnalysis>>;

/// The searcher of a guarded rule: the left-hand pattern, keeping only the matches whose
/// guards hold, so rejected matches cost no allocation and no application.
struct GuardedSearch {
    lhs: Pattern<IndexLang>,
    guards: Vec<Guard<Var>>,
}

impl GuardedSearch {
    fn keep(
        &self,
        egraph: &EGraph<IndexLang, IndexAnalysis>,
        m: &mut SearchMatches<IndexLang>,
    ) -> bool {
        m.substs
            .retain(|s| check_all(&self.guards, |v| s.get(v).map(|id| egraph[*id].data)).is_some());
        !m.substs.is_empty()
    }
}

impl Searcher<IndexLang, IndexAnalysis> for GuardedSearch {
    fn search_eclass_with_limit(
        &self,
        egraph: &EGraph<IndexLang, IndexAnalysis>,
        eclass: Id,
        limit: usize,
    ) -> Option<SearchMatches<'_, IndexLang>> {
        let mut m = self.lhs.search_eclass_with_limit(egraph, eclass, limit)?;
        self.keep(egraph, &mut m).then_some(m)
    }

    fn search_with_limit(
        &self,
        egraph: &EGraph<IndexLang, IndexAnalysis>,
        limit: usize,
    ) -> Vec<SearchMatches<'_, IndexLang>> {
        let mut all = self.lhs.search_with_limit(egraph, limit);
        if !self.guards.is_empty() {
            all.retain_mut(|m| self.keep(egraph, m));
        }
        all
    }

    fn get_pattern_ast(&self) -> Option<&PatternAst<IndexLang>> {
        Some(&self.lhs.ast)
    }

    fn vars(&self) -> Vec<Var> {
        self.lhs.vars()
    }
}

/// The applier of a guarded rule: checks the guards, binds derived constants, then instantiates
/// the right-hand side.
struct Guarded {
    guards: Vec<Guard<Var>>,
    rhs: Pattern<IndexLang>,
    bound: Vec<Var>,
}

impl Applier<IndexLang, IndexAnalysis> for Guarded {
    fn apply_one(
        &self,
        egraph: &mut egg::EGraph<IndexLang, IndexAnalysis>,
        eclass: Id,
        subst: &Subst,
        searcher_ast: Option<&PatternAst<IndexLang>>,
        rule_name: Symbol,
    ) -> Vec<Id> {
        let bindings = {
            let graph = &*egraph;
            check_all(&self.guards, |v| subst.get(v).map(|id| graph[*id].data))
        };
        let Some(bindings) = bindings else {
            return Vec::new();
        };
        if bindings.is_empty() {
            return self
                .rhs
                .apply_one(egraph, eclass, subst, searcher_ast, rule_name);
        }
        let mut subst = subst.clone();
        for (var, value) in bindings {
            let id = egraph.add(IndexLang::Num(value));
            subst.insert(var, id);
        }
        self.rhs
            .apply_one(egraph, eclass, &subst, searcher_ast, rule_name)
    }

    fn vars(&self) -> Vec<Var> {
        self.rhs
            .vars()
            .into_iter()
            .filter(|v| !self.bound.contains(v))
            .collect()
    }
}

fn rule_error(rule: &Rule, message: impl Into<String>) -> SimplifyError {
    SimplifyError::Rule {
        name: rule.name.to_owned(),
        message: message.into(),
    }
}

/// Compiles one rule into an egg rewrite, checking that every variable is bound.
pub fn compile(rule: &Rule) -> Result<Rewrite<IndexLang, IndexAnalysis>, SimplifyError> {
    let lhs: Pattern<IndexLang> = rule
        .lhs
        .parse()
        .map_err(|e| rule_error(rule, format!("left-hand side: {e}")))?;
    let rhs: Pattern<IndexLang> = rule
        .rhs
        .parse()
        .map_err(|e| rule_error(rule, format!("right-hand side: {e}")))?;
    let guards = rule
        .guards
        .iter()
        .map(|g| g.map(|v| v.parse::<Var>()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| rule_error(rule, format!("guard: {e}")))?;
    let lhs_vars = lhs.vars();
    let bound: Vec<Var> = guards.iter().filter_map(Guard::binds).collect();
    for guard in &guards {
        let mut used = Vec::new();
        let _ = guard.map(|v| {
            used.push(v);
            Ok::<_, ()>(v)
        });
        if let Some(v) = used
            .iter()
            .find(|v| !lhs_vars.contains(v) && !bound.contains(v))
        {
            return Err(rule_error(
                rule,
                format!("guard reads unbound variable {v}"),
            ));
        }
    }
    if let Some(v) = rhs
        .vars()
        .iter()
        .find(|v| !lhs_vars.contains(v) && !bound.contains(v))
    {
        return Err(rule_error(
            rule,
            format!("right-hand side uses unbound variable {v}"),
        ));
    }
    let search = GuardedSearch {
        lhs,
        guards: guards.clone(),
    };
    Rewrite::new(rule.name, search, Guarded { guards, rhs, bound }).map_err(|e| rule_error(rule, e))
}

/// Compiles every rule of [`all`]; fails on the first malformed rule or a repeated name.
pub fn compile_all() -> Result<Rewrites, SimplifyError> {
    let mut names = std::collections::HashSet::new();
    all()
        .map(|rule| {
            if !names.insert(rule.name) {
                return Err(rule_error(rule, "duplicate rule name"));
            }
            compile(rule)
        })
        .collect()
}
