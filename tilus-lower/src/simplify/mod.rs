//! # simplify: e-graph simplification of index and bit arithmetic
//!
//! The thread IR computes addresses, register slots, masks and sub-byte fields with
//! expressions that come straight out of the layout algebra — `(t / 8) % 4 * 16 + t % 8 * 2`,
//! `0 <= off + i && off + i < n`, `(w >> (3 * k)) & 7`. This stage rewrites them into what a
//! person would write, using [egg](https://docs.rs/egg):
//!
//! ```text
//!  RecExpr<IndexLang> + Facts ─► e-graph (analysis: constants, intervals, divisors; folding)
//!     ─► rules (arith, divmod, bits, compare), bounded by Limits ─► extract (cost.rs) ─► RecExpr
//! ```
//!
//! - [`lang`]: the term language [`IndexLang`] and its exact semantics.
//! - [`analysis`]: constant value, interval and known divisor per e-class; constant folding.
//! - [`rules`]: the rulebook as data, one file per topic (`RULES.md` explains each rule).
//! - [`cost`]: the cost model (division 20, multiplication 3, shifts and masks 1).
//!
//! Every run is bounded by [`Limits`] (iterations, e-nodes, time); a run that hits a limit
//! still returns the best term found so far, and the result is never costlier than the input.
//! [`simplify_batch`] puts a whole kernel's expressions in one e-graph, so shared sub-terms
//! are rewritten once.
//!
//! ```
//! use tilus_lower::simplify::{simplify, Facts, Limits};
//!
//! let facts = Facts::new().below("t", 128);
//! let expr = "(/ (% t 32) 4)".parse().unwrap();
//! let out = simplify(&expr, &facts, &Limits::default()).unwrap();
//! assert_eq!(out.expr.to_string(), "(& (>> t 2) 7)");
//! assert!(out.cost_after < out.cost_before);
//! ```

pub mod analysis;
pub mod cost;
pub mod forward;
pub mod lang;
pub mod rules;
pub mod schedule;
pub mod thread;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use egg::{CostFunction, Language, RecExpr, Rewrite, Runner, Symbol};

pub use analysis::{IndexAnalysis, IndexData, Interval, SymbolFact};
pub use cost::{BestTerms, Cost, IndexCost};
pub use lang::{to_infix, IndexLang};

/// What can go wrong when simplifying.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimplifyError {
    /// An expression of the batch has no nodes.
    #[error("expression {index} of the batch is empty")]
    EmptyExpr {
        /// Its position in the batch.
        index: usize,
    },
    /// A node of an expression refers to a child that does not come before it.
    #[error("expression {index} of the batch is malformed: node {node} has a child that does not precede it")]
    MalformedExpr {
        /// Its position in the batch.
        index: usize,
        /// The offending node.
        node: usize,
    },
    /// A symbol's range is empty.
    #[error("the range of symbol `{symbol}` is empty: [{lo}, {hi}]")]
    EmptyRange {
        /// The symbol.
        symbol: String,
        /// The lower bound given.
        lo: i64,
        /// The upper bound given (inclusive).
        hi: i64,
    },
    /// A symbol was declared a multiple of 0.
    #[error("symbol `{symbol}` is declared a multiple of 0")]
    ZeroMultiple {
        /// The symbol.
        symbol: String,
    },
    /// A rule of the rulebook is malformed (a bug in this module, caught by its tests).
    #[error("rule `{name}` is malformed: {message}")]
    Rule {
        /// The rule's name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// What the caller knows about the symbols: value ranges and divisibility.
///
/// A symbol without a fact is an arbitrary integer. Ranges are inclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    ranges: HashMap<String, (i64, i64)>,
    multiples: HashMap<String, u64>,
}

impl Facts {
    /// No facts.
    pub fn new() -> Facts {
        Facts::default()
    }

    /// `name` lies in `[lo, hi]` (inclusive), e.g. a loop variable of `for k in lo..=hi`.
    pub fn range(mut self, name: &str, lo: i64, hi: i64) -> Facts {
        self.ranges.insert(name.to_owned(), (lo, hi));
        self
    }

    /// `name` lies in `[0, n)`: the thread index of a block of `n` threads, a block index of
    /// a grid of `n` blocks, a loop variable of `for k in 0..n`.
    pub fn below(self, name: &str, n: i64) -> Facts {
        self.range(name, 0, n.saturating_sub(1))
    }

    /// `name` is `≥ 0` (a block index of an unknown grid, a parameter declared non-negative).
    pub fn nonneg(self, name: &str) -> Facts {
        self.range(name, 0, i64::MAX)
    }

    /// Every value of `name` is a multiple of `d` (Tilus' `assume(n % d == 0)`).
    pub fn multiple_of(mut self, name: &str, d: u64) -> Facts {
        self.multiples.insert(name.to_owned(), d);
        self
    }

    /// The inclusive range declared for `name`.
    pub fn range_of(&self, name: &str) -> Option<(i64, i64)> {
        self.ranges.get(name).copied()
    }

    /// The analysis seeded with these facts.
    pub fn analysis(&self) -> Result<IndexAnalysis, SimplifyError> {
        let mut symbols: HashMap<Symbol, SymbolFact> = HashMap::new();
        for (name, &(lo, hi)) in &self.ranges {
            if lo > hi {
                return Err(SimplifyError::EmptyRange {
                    symbol: name.clone(),
                    lo,
                    hi,
                });
            }
            symbols.insert(
                Symbol::from(name.as_str()),
                SymbolFact {
                    range: Interval::new(i128::from(lo), i128::from(hi)),
                    divisor: 1,
                },
            );
        }
        for (name, &d) in &self.multiples {
            if d == 0 {
                return Err(SimplifyError::ZeroMultiple {
                    symbol: name.clone(),
                });
            }
            symbols
                .entry(Symbol::from(name.as_str()))
                .or_insert(SymbolFact {
                    range: Interval::FULL,
                    divisor: 1,
                })
                .divisor = d;
        }
        Ok(IndexAnalysis { symbols })
    }
}

/// Bounds applied to every run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Rewrite iterations (search all rules, apply, rebuild).
    pub iterations: usize,
    /// E-nodes; a run stops applying rules once the e-graph reaches this size.
    pub nodes: usize,
    /// Wall-clock time for the rewriting.
    pub time: Duration,
}

impl Default for Limits {
    /// 8 iterations, 10 000 e-nodes, 20 ms.
    fn default() -> Limits {
        Limits {
            iterations: 8,
            nodes: 10_000,
            time: Duration::from_millis(20),
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// No rule could add anything new: the result is the best the rulebook can do.
    Saturated,
    /// [`Limits::iterations`] was reached.
    IterationLimit,
    /// [`Limits::nodes`] was reached.
    NodeLimit,
    /// [`Limits::time`] was reached.
    TimeLimit,
}

/// Measurements of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Rewrite iterations begun (egg counts the one that notices a limit).
    pub iterations: usize,
    /// E-nodes at the end (egg's hash-cons size, which keeps the nodes pruned from constant
    /// classes; this is the number [`Limits::nodes`] bounds).
    pub nodes: usize,
    /// E-classes at the end.
    pub classes: usize,
    /// Rule applications that changed the e-graph.
    pub applied: usize,
    /// Time for the whole call (building the e-graph, rewriting, extraction).
    pub elapsed: Duration,
}

/// The result of [`simplify`].
#[derive(Clone, Debug, PartialEq)]
pub struct SimplifyResult {
    /// The simplified expression.
    pub expr: RecExpr<IndexLang>,
    /// [`Cost::ops`] of the input.
    pub cost_before: u64,
    /// [`Cost::ops`] of the result (never more than `cost_before`).
    pub cost_after: u64,
    /// Why rewriting stopped.
    pub stop_reason: StopReason,
    /// Measurements of the run.
    pub stats: RunStats,
}

/// One expression of a [`BatchResult`].
#[derive(Clone, Debug, PartialEq)]
pub struct Simplified {
    /// The simplified expression.
    pub expr: RecExpr<IndexLang>,
    /// [`Cost::ops`] of the input.
    pub cost_before: u64,
    /// [`Cost::ops`] of the result (never more than `cost_before`).
    pub cost_after: u64,
}

/// The result of [`simplify_batch`]: one [`Simplified`] per input, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchResult {
    /// The simplified expressions, in input order.
    pub exprs: Vec<Simplified>,
    /// Why rewriting stopped.
    pub stop_reason: StopReason,
    /// Measurements of the run.
    pub stats: RunStats,
}

static RULEBOOK: OnceLock<Result<rules::Rewrites, SimplifyError>> = OnceLock::new();

/// The compiled rulebook (compiled once per process).
pub fn rulebook() -> Result<&'static [Rewrite<IndexLang, IndexAnalysis>], SimplifyError> {
    match RULEBOOK.get_or_init(rules::compile_all) {
        Ok(rules) => Ok(rules),
        Err(e) => Err(e.clone()),
    }
}

/// Checks that `expr` is non-empty and every child precedes its parent (egg indexes by them).
fn check_expr(index: usize, expr: &RecExpr<IndexLang>) -> Result<(), SimplifyError> {
    let nodes = expr.as_ref();
    if nodes.is_empty() {
        return Err(SimplifyError::EmptyExpr { index });
    }
    match nodes
        .iter()
        .enumerate()
        .find(|(i, n)| n.children().iter().any(|&c| usize::from(c) >= *i))
    {
        Some((node, _)) => Err(SimplifyError::MalformedExpr { index, node }),
        None => Ok(()),
    }
}

/// Simplifies one expression under `facts`, within `limits`.
pub fn simplify(
    expr: &RecExpr<IndexLang>,
    facts: &Facts,
    limits: &Limits,
) -> Result<SimplifyResult, SimplifyError> {
    let batch = simplify_batch(std::slice::from_ref(expr), facts, limits)?;
    let BatchResult {
        exprs,
        stop_reason,
        stats,
    } = batch;
    let Some(one) = exprs.into_iter().next() else {
        // simplify_batch returns one result per input, and there is one input.
        return Err(SimplifyError::EmptyExpr { index: 0 });
    };
    Ok(SimplifyResult {
        expr: one.expr,
        cost_before: one.cost_before,
        cost_after: one.cost_after,
        stop_reason,
        stats,
    })
}

/// Simplifies many expressions in one e-graph and one run (shared sub-terms are rewritten
/// once), then extracts each root. This is the entry point for a kernel's worth of index
/// expressions.
pub fn simplify_batch(
    exprs: &[RecExpr<IndexLang>],
    facts: &Facts,
    limits: &Limits,
) -> Result<BatchResult, SimplifyError> {
    let start = Instant::now();
    for (index, expr) in exprs.iter().enumerate() {
        check_expr(index, expr)?;
    }
    let rules = rulebook()?;
    let analysis = facts.analysis()?;
    let mut runner: Runner<IndexLang, IndexAnalysis> = Runner::new(analysis)
        .with_iter_limit(limits.iterations)
        .with_node_limit(limits.nodes)
        .with_time_limit(limits.time)
        .with_scheduler(schedule::Incremental::new(limits.nodes));
    for expr in exprs {
        runner = runner.with_expr(expr);
    }
    let runner = runner.run(rules);
    let stop_reason = match runner.stop_reason {
        Some(egg::StopReason::Saturated) => StopReason::Saturated,
        Some(egg::StopReason::NodeLimit(_)) => StopReason::NodeLimit,
        Some(egg::StopReason::TimeLimit(_)) => StopReason::TimeLimit,
        // Iteration limit, or a reason only hooks produce (this runner has none).
        _ => StopReason::IterationLimit,
    };
    let applied = runner
        .iterations
        .iter()
        .map(|it| it.applied.values().sum::<usize>())
        .sum();
    let best = BestTerms::new(&runner.egraph);
    let mut cost = IndexCost;
    let results = exprs
        .iter()
        .zip(&runner.roots)
        .map(|(expr, &root)| {
            let before = cost.cost_rec(expr);
            match (best.cost(root), best.term(root)) {
                (Some(after), Some(term)) if after.ops <= before.ops => Simplified {
                    expr: term,
                    cost_before: before.ops,
                    cost_after: after.ops,
                },
                // Never worse than the input (cannot happen: the input is in the e-graph).
                _ => Simplified {
                    expr: expr.clone(),
                    cost_before: before.ops,
                    cost_after: before.ops,
                },
            }
        })
        .collect();
    let stats = RunStats {
        iterations: runner.iterations.len(),
        nodes: runner.egraph.total_size(),
        classes: runner.egraph.number_of_classes(),
        applied,
        elapsed: start.elapsed(),
    };
    Ok(BatchResult {
        exprs: results,
        stop_reason,
        stats,
    })
}

/// Whether every sub-term of `expr` provably stays within `i32` under `facts` (intervals from
/// the analysis' transfer functions). The converter from the thread IR checks this on the
/// input and on the result before using a simplified expression.
pub fn fits_i32(expr: &RecExpr<IndexLang>, facts: &Facts) -> Result<bool, SimplifyError> {
    check_expr(0, expr)?;
    let analysis = facts.analysis()?;
    let mut data: Vec<IndexData> = Vec::with_capacity(expr.as_ref().len());
    for node in expr.as_ref() {
        let d = analysis::transfer(
            node,
            |id| {
                data.get(usize::from(id))
                    .copied()
                    .unwrap_or_else(IndexData::unknown)
            },
            |s| analysis.symbols.get(&s).copied(),
        );
        if !d.range.within_i32() {
            return Ok(false);
        }
        data.push(d);
    }
    Ok(true)
}
