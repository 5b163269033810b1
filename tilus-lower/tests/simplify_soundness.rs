//! Soundness of the simplifier against a reference evaluator written here from the semantics
//! documented in `simplify::lang` (independently of the library's constant folder).
//!
//! 1. Every rule of the rulebook, exhaustively: pattern variables range over small values
//!    (constants from a small set where a guard wants a constant); whenever the guard holds
//!    (checked with exact data `[v, v]`) and the left side is defined, the right side must be
//!    defined and equal.
//! 2. End to end: random layout-like expressions simplify to expressions that agree with
//!    the input at every point of the facts where the input is defined.

use std::time::Duration;

use egg::{ENodeOrVar, Id, Language, Pattern, RecExpr, Runner, SimpleScheduler, Var};
use tilus_lower::simplify::rules::{self, check_all, Guard};
use tilus_lower::simplify::schedule::Incremental;
use tilus_lower::simplify::{
    rulebook, simplify_batch, BestTerms, Facts, IndexAnalysis, IndexData, IndexLang, Limits,
};

/// The reference semantics of one node on operand values (`None`: undefined).
fn eval_node(node: &IndexLang, arg: impl Fn(Id) -> Option<i128>) -> Option<i128> {
    use IndexLang::*;
    let bin = |[a, b]: &[Id; 2]| Some((arg(*a)?, arg(*b)?));
    let amount = |k: i128| (0..=31).contains(&k).then_some(k as u32);
    Some(match node {
        Num(c) => i128::from(*c),
        Symbol(_) => return None,
        Add(ab) => bin(ab).and_then(|(a, b)| a.checked_add(b))?,
        Sub(ab) => bin(ab).and_then(|(a, b)| a.checked_sub(b))?,
        Mul(ab) => bin(ab).and_then(|(a, b)| a.checked_mul(b))?,
        Div(ab) => {
            let (a, b) = bin(ab)?;
            if b == 0 {
                return None;
            }
            // Truncation toward zero, by hand.
            let q = a.abs() / b.abs();
            if (a < 0) != (b < 0) {
                -q
            } else {
                q
            }
        }
        Rem(ab) => {
            let (a, b) = bin(ab)?;
            if b == 0 {
                return None;
            }
            let r = a.abs() % b.abs();
            if a < 0 {
                -r
            } else {
                r
            }
        }
        Neg(a) => -arg(*a)?,
        Min(ab) => bin(ab).map(|(a, b)| a.min(b))?,
        Max(ab) => bin(ab).map(|(a, b)| a.max(b))?,
        Shl(ab) => {
            let (a, k) = bin(ab)?;
            let k = amount(k)?;
            (a >= 0).then(|| a * (1i128 << k))?
        }
        Shr(ab) => {
            let (a, k) = bin(ab)?;
            let k = amount(k)?;
            (a >= 0).then(|| a / (1i128 << k))?
        }
        And(ab) | Or(ab) | Xor(ab) => {
            let (a, b) = bin(ab)?;
            if a < 0 || b < 0 {
                return None;
            }
            match node {
                And(_) => a & b,
                Or(_) => a | b,
                _ => a ^ b,
            }
        }
        Lt(ab) => bin(ab).map(|(a, b)| i128::from(a < b))?,
        Le(ab) => bin(ab).map(|(a, b)| i128::from(a <= b))?,
        Eq(ab) => bin(ab).map(|(a, b)| i128::from(a == b))?,
        Ne(ab) => bin(ab).map(|(a, b)| i128::from(a != b))?,
        LAnd(ab) => bin(ab).map(|(a, b)| i128::from(a != 0 && b != 0))?,
        LOr(ab) => bin(ab).map(|(a, b)| i128::from(a != 0 || b != 0))?,
        Select([c, a, b]) => {
            let (c, a, b) = (arg(*c)?, arg(*a)?, arg(*b)?);
            if c != 0 {
                a
            } else {
                b
            }
        }
    })
}

/// Evaluates a pattern with its variables bound in `env`.
fn eval_pattern(ast: &RecExpr<ENodeOrVar<IndexLang>>, env: &[(Var, i128)]) -> Option<i128> {
    let mut vals: Vec<Option<i128>> = Vec::with_capacity(ast.as_ref().len());
    for node in ast.as_ref() {
        let v = match node {
            ENodeOrVar::Var(v) => env.iter().find(|(w, _)| w == v).map(|&(_, x)| x),
            ENodeOrVar::ENode(n) => eval_node(n, |id| vals[usize::from(id)]),
        };
        vals.push(v);
    }
    vals.last().copied().flatten()
}

/// Evaluates an expression with its symbols bound by `env`.
fn eval_expr(expr: &RecExpr<IndexLang>, env: &impl Fn(&str) -> Option<i128>) -> Option<i128> {
    let mut vals: Vec<Option<i128>> = Vec::with_capacity(expr.as_ref().len());
    for node in expr.as_ref() {
        let v = match node {
            IndexLang::Symbol(s) => env(s.as_str()),
            n => eval_node(n, |id| vals[usize::from(id)]),
        };
        vals.push(v);
    }
    vals.last().copied().flatten()
}

/// Whether a guard needs `var` to be a constant (so it ranges over the constant set).
fn wants_const(guards: &[Guard<&str>], var: &str) -> bool {
    guards.iter().any(|g| match *g {
        Guard::Const(v)
        | Guard::PosConst(v)
        | Guard::NegConst(v)
        | Guard::NonZeroConst(v)
        | Guard::LowMask(v)
        | Guard::Pow2(v) => v == var,
        Guard::Log2 { c, .. } => c == var,
        Guard::Divides(a, b) | Guard::Disjoint(a, b) | Guard::ShiftSum(a, b) => {
            a == var || b == var
        }
        Guard::MultipleOf(_, c) => c == var,
        Guard::Product(c, a, b) => c == var || a == var || b == var,
        _ => false,
    })
}

/// Value domains, from wide to narrow; a rule uses the widest whose product stays in budget.
const TIERS: [(std::ops::RangeInclusive<i128>, &[i128]); 3] = [
    (
        -20..=40,
        &[
            -8, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 15, 16, 24, 31, 32, 48, 64,
        ],
    ),
    (-8..=24, &[-2, -1, 0, 1, 2, 3, 4, 6, 7, 8, 16]),
    (-4..=12, &[-1, 0, 1, 2, 3, 4, 8]),
];
const BUDGET: usize = 3_000_000;

#[test]
fn every_rule_is_sound() {
    let mut report = Vec::new();
    for rule in rules::all() {
        let lhs: Pattern<IndexLang> = rule.lhs.parse().expect("lhs parses");
        let rhs: Pattern<IndexLang> = rule.rhs.parse().expect("rhs parses");
        // `NotConst` only stops a rule from firing where it is pointless; it is not a
        // soundness condition, and with exact data every class is a constant.
        let guards: Vec<Guard<&str>> = rule
            .guards
            .iter()
            .copied()
            .filter(|g| !matches!(g, Guard::NotConst(_)))
            .collect();
        let vars = lhs.vars();
        let names: Vec<String> = vars.iter().map(|v| v.to_string()).collect();
        let domains: Vec<Vec<i128>> = TIERS
            .iter()
            .map(|(general, consts)| {
                names
                    .iter()
                    .map(|n| {
                        if wants_const(&guards, n) {
                            consts.to_vec()
                        } else {
                            general.clone().collect()
                        }
                    })
                    .collect::<Vec<Vec<i128>>>()
            })
            .find(|doms: &Vec<Vec<i128>>| doms.iter().map(Vec::len).product::<usize>() <= BUDGET)
            .unwrap_or_else(|| panic!("{}: too many variables for the budget", rule.name))
            .into_iter()
            .collect::<Vec<_>>();
        let mut checked = 0usize;
        let mut idx = vec![0usize; vars.len()];
        'outer: loop {
            let env: Vec<(Var, i128)> = vars
                .iter()
                .zip(&idx)
                .zip(&domains)
                .map(|((v, &i), d)| (*v, d[i]))
                .collect();
            let lookup = |name: &str| {
                names
                    .iter()
                    .position(|n| n == name)
                    .map(|p| IndexData::exact(env[p].1 as i64))
            };
            if let Some(bound) = check_all(&guards, lookup) {
                if let Some(left) = eval_pattern(&lhs.ast, &env) {
                    let mut full = env.clone();
                    for (name, value) in bound {
                        let var: Var = name.parse().expect("bound variable parses");
                        full.push((var, i128::from(value)));
                    }
                    let right = eval_pattern(&rhs.ast, &full);
                    assert_eq!(
                        right,
                        Some(left),
                        "rule {} is unsound at {:?}",
                        rule.name,
                        full.iter()
                            .map(|(v, x)| format!("{v}={x}"))
                            .collect::<Vec<_>>()
                    );
                    checked += 1;
                }
            }
            // Next assignment (odometer).
            for (i, d) in idx.iter_mut().zip(&domains) {
                *i += 1;
                if *i < d.len() {
                    continue 'outer;
                }
                *i = 0;
            }
            break;
        }
        assert!(checked > 0, "rule {} was never exercised", rule.name);
        report.push(format!("{}: {checked}", rule.name));
    }
    println!("{}", report.join("\n"));
}

/// A small deterministic generator (xorshift64*).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// A random layout-flavoured expression of at most `depth` levels, in s-expression text.
    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 || self.below(4) == 0 {
            return match self.below(3) {
                0 => self.pick(&["t", "u"]).to_string(),
                _ => self
                    .pick(&[0, 1, 2, 3, 4, 7, 8, 16, 31, 32, -1])
                    .to_string(),
            };
        }
        let op = *self.pick(&[
            "+", "+", "-", "*", "*", "/", "/", "%", "%", "<<", ">>", "&", "|", "min", "max", "<",
            "<=", "==", "&&", "select",
        ]);
        if op == "select" {
            let (c, a, b) = (
                self.expr(depth - 1),
                self.expr(depth - 1),
                self.expr(depth - 1),
            );
            return format!("(select {c} {a} {b})");
        }
        let a = self.expr(depth - 1);
        // Divisors, shift amounts and masks are mostly constants, as in layout arithmetic.
        let b = if matches!(op, "/" | "%" | "<<" | ">>" | "&" | "*") && self.below(4) != 0 {
            self.pick(&[1, 2, 3, 4, 8, 16, 32, 5, 7, 15]).to_string()
        } else {
            self.expr(depth - 1)
        };
        format!("({op} {a} {b})")
    }
}

#[test]
fn random_expressions_keep_their_value() {
    let facts = Facts::new().below("t", 64).below("u", 8);
    let mut gen = Gen(0x9e37_79b9_7f4a_7c15);
    let mut changed = 0;
    for round in 0..20 {
        let texts: Vec<String> = (0..100).map(|_| gen.expr(4)).collect();
        let exprs: Vec<RecExpr<IndexLang>> = texts
            .iter()
            .map(|s| s.parse().expect("generated expression parses"))
            .collect();
        let batch = simplify_batch(&exprs, &facts, &Limits::default()).expect("simplifies");
        for ((text, input), out) in texts.iter().zip(&exprs).zip(&batch.exprs) {
            if out.expr.to_string() != input.to_string() {
                changed += 1;
            }
            for t in 0..64 {
                for u in 0..8 {
                    let env = |s: &str| match s {
                        "t" => Some(t),
                        "u" => Some(u),
                        _ => None,
                    };
                    if let Some(want) = eval_expr(input, &env) {
                        assert_eq!(
                            eval_expr(&out.expr, &env),
                            Some(want),
                            "round {round}: {text} became {} (t={t}, u={u})",
                            out.expr
                        );
                    }
                }
            }
        }
    }
    assert!(changed > 500, "only {changed} expressions changed");
}

#[test]
fn the_rulebook_compiles_and_names_are_unique() {
    let compiled = rules::compile_all().expect("rulebook compiles");
    assert_eq!(compiled.len(), rules::all().count());
    for rule in rules::all() {
        assert!(!rule.name.is_empty());
        // Right-hand sides never mention a node kind the evaluator lacks.
        let rhs: Pattern<IndexLang> = rule.rhs.parse().expect("rhs parses");
        for node in rhs.ast.as_ref() {
            if let ENodeOrVar::ENode(n) = node {
                assert!(n.children().len() <= 3);
            }
        }
    }
}

/// The incremental scheduler finds everything egg's full search finds: after every number of
/// iterations the two e-graphs have the same size and every root the same best cost.
#[test]
fn incremental_search_matches_full_search() {
    let facts = Facts::new().below("t", 64).below("u", 8);
    let rules = rulebook().expect("rulebook compiles");
    let mut gen = Gen(0x2545_f491_4f6c_dd1d);
    for _ in 0..60 {
        let exprs: Vec<RecExpr<IndexLang>> = (0..50)
            .map(|_| gen.expr(4).parse().expect("generated expression parses"))
            .collect();
        for iterations in [1, 2, 3, 8] {
            let run = |incremental: bool| {
                let mut runner: Runner<IndexLang, IndexAnalysis> =
                    Runner::new(facts.analysis().expect("facts are valid"))
                        .with_iter_limit(iterations)
                        .with_node_limit(1_000_000)
                        .with_time_limit(Duration::from_secs(60));
                runner = if incremental {
                    runner.with_scheduler(Incremental::new(1_000_000))
                } else {
                    runner.with_scheduler(SimpleScheduler)
                };
                for e in &exprs {
                    runner = runner.with_expr(e);
                }
                let runner = runner.run(rules);
                let best = BestTerms::new(&runner.egraph);
                let costs: Vec<_> = runner.roots.iter().map(|&r| best.cost(r)).collect();
                (
                    runner.egraph.total_size(),
                    runner.egraph.number_of_classes(),
                    costs,
                )
            };
            assert_eq!(run(true), run(false), "after {iterations} iterations");
        }
    }
}
