//! The rewrite scheduler: incremental search and a node budget.
//!
//! egg searches every rule in every e-class each iteration, although after the first
//! iteration little has changed. This scheduler remembers every e-class as it was at the
//! previous search (its nodes and analysis data) and searches a rule at a root class `R` only
//! if something the rule could read there changed:
//!
//! - a class at `d` child steps below `R` gained or lost a node of an operator that the
//!   rule's left-hand pattern has at depth `d` (this covers new classes and merges: a merge
//!   re-canonicalises the parents' nodes), or
//! - a class at `d` steps below `R` changed its analysis data and the pattern has a variable
//!   at depth `d` (guards read variables' data).
//!
//! Any new match needs one of these, and a match found before was applied then (applying it
//! again is a no-op), so skipping the other classes loses nothing; a unit test checks the
//! results equal egg's full search.
//!
//! Application stops once the e-graph reaches the node budget ([`super::Limits::nodes`]),
//! one matched class at a time, so a run overshoots it by at most one right-hand side.

use egg::{
    EGraph, ENodeOrVar, Id, Language, Rewrite, RewriteScheduler, RunnerLimits, RunnerResult,
    SearchMatches,
};

use super::analysis::{IndexAnalysis, IndexData};
use super::lang::IndexLang;

/// Every operator bit set: what a class seen for the first time "changed".
const ALL_OPS: u32 = u32::MAX;

/// The bit of a node's operator in an operator mask.
fn op_bit(node: &IndexLang) -> u32 {
    use IndexLang::*;
    let index = match node {
        Add(_) => 0,
        Sub(_) => 1,
        Mul(_) => 2,
        Div(_) => 3,
        Rem(_) => 4,
        Neg(_) => 5,
        Min(_) => 6,
        Max(_) => 7,
        Shl(_) => 8,
        Shr(_) => 9,
        And(_) => 10,
        Or(_) => 11,
        Xor(_) => 12,
        Lt(_) => 13,
        Le(_) => 14,
        Eq(_) => 15,
        Ne(_) => 16,
        LAnd(_) => 17,
        LOr(_) => 18,
        Select(_) => 19,
        Num(_) => 20,
        Symbol(_) => 21,
    };
    1 << index
}

/// What a left-hand pattern reads, depth by depth (depth 0 is the root).
#[derive(Clone, Debug, Default)]
struct Shape {
    /// Operators of the pattern nodes at each depth.
    ops: Vec<u32>,
    /// Whether a variable sits at each depth.
    vars: Vec<bool>,
}

impl Shape {
    fn of(ast: &[ENodeOrVar<IndexLang>]) -> Shape {
        let mut shape = Shape::default();
        let Some(root) = ast.len().checked_sub(1) else {
            return shape;
        };
        let mut stack = vec![(root, 0usize)];
        while let Some((pos, depth)) = stack.pop() {
            if shape.ops.len() <= depth {
                shape.ops.resize(depth + 1, 0);
                shape.vars.resize(depth + 1, false);
            }
            match &ast[pos] {
                ENodeOrVar::Var(_) => shape.vars[depth] = true,
                ENodeOrVar::ENode(n) => {
                    shape.ops[depth] |= op_bit(n);
                    stack.extend(n.children().iter().map(|&c| (usize::from(c), depth + 1)));
                }
            }
        }
        shape
    }

    fn height(&self) -> usize {
        self.ops.len().saturating_sub(1)
    }

    /// Whether a change below class `id` (`levels[d][id]`: `d` steps below) concerns it.
    fn reads(&self, levels: &[Vec<Change>], id: usize) -> bool {
        levels
            .iter()
            .zip(self.ops.iter().zip(&self.vars))
            .any(|(level, (&ops, &vars))| {
                level
                    .get(id)
                    .is_some_and(|c| c.ops & ops != 0 || (c.data && vars))
            })
    }
}

/// What changed in a class (or, propagated, somewhere below it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Change {
    ops: u32,
    data: bool,
}

impl Change {
    fn is_some(&self) -> bool {
        self.ops != 0 || self.data
    }
}

/// Operators whose nodes differ between two sorted node lists.
fn changed_ops(old: &[IndexLang], new: &[IndexLang]) -> u32 {
    let (mut i, mut j, mut mask) = (0, 0, 0u32);
    while i < old.len() && j < new.len() {
        match old[i].cmp(&new[j]) {
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => {
                mask |= op_bit(&old[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                mask |= op_bit(&new[j]);
                j += 1;
            }
        }
    }
    old[i..]
        .iter()
        .chain(&new[j..])
        .fold(mask, |m, n| m | op_bit(n))
}

/// Incremental search plus a node budget (see the module doc).
pub struct Incremental {
    /// Stop applying once the e-graph has this many nodes.
    pub node_budget: usize,
    /// Every class (by id) as it was at the previous search.
    seen: Vec<Option<(Vec<IndexLang>, IndexData)>>,
    /// The shape of each rule's left-hand side (the rules are the same every iteration).
    shapes: Vec<Option<(IndexLang, Shape)>>,
}

impl Incremental {
    /// A scheduler with the given node budget and no history.
    pub fn new(node_budget: usize) -> Incremental {
        Incremental {
            node_budget,
            seen: Vec::new(),
            shapes: Vec::new(),
        }
    }

    /// Per class id and per distance `d ≤ height`: what changed `d` child steps below it.
    fn changes(
        &mut self,
        egraph: &EGraph<IndexLang, IndexAnalysis>,
        height: usize,
    ) -> Vec<Vec<Change>> {
        let len = egraph
            .classes()
            .map(|c| usize::from(c.id) + 1)
            .max()
            .unwrap_or(0);
        if self.seen.len() < len {
            self.seen.resize(len, None);
        }
        let mut level = vec![Change::default(); len];
        let mut frontier = Vec::new();
        for class in egraph.classes() {
            let id = usize::from(class.id);
            let change = match &self.seen[id] {
                None => Change {
                    ops: ALL_OPS,
                    data: true,
                },
                Some((nodes, data)) => Change {
                    ops: changed_ops(nodes, &class.nodes),
                    data: *data != class.data,
                },
            };
            if change.is_some() {
                self.seen[id] = Some((class.nodes.clone(), class.data));
                level[id] = change;
                frontier.push(class.id);
            }
        }
        let mut levels = vec![level];
        for _ in 0..height {
            let below = levels.last().map(Vec::as_slice).unwrap_or(&[]);
            let mut next = vec![Change::default(); len];
            let mut next_frontier = Vec::new();
            for &id in &frontier {
                let change = below[usize::from(id)];
                for parent in egraph[id].parents() {
                    let p = usize::from(egraph.find(parent));
                    if let Some(slot) = next.get_mut(p) {
                        if !slot.is_some() {
                            next_frontier.push(Id::from(p));
                        }
                        slot.ops |= change.ops;
                        slot.data |= change.data;
                    }
                }
            }
            levels.push(next);
            frontier = next_frontier;
        }
        levels
    }
}

impl RewriteScheduler<IndexLang, IndexAnalysis> for Incremental {
    fn search_rewrites<'a>(
        &mut self,
        iteration: usize,
        egraph: &EGraph<IndexLang, IndexAnalysis>,
        rewrites: &[&'a Rewrite<IndexLang, IndexAnalysis>],
        limits: &RunnerLimits,
    ) -> RunnerResult<Vec<Vec<SearchMatches<'a, IndexLang>>>> {
        if self.shapes.len() != rewrites.len() {
            self.shapes = rewrites
                .iter()
                .map(|rw| {
                    let ast = rw.searcher.get_pattern_ast()?.as_ref();
                    match ast.last()? {
                        ENodeOrVar::ENode(root) => Some((root.clone(), Shape::of(ast))),
                        ENodeOrVar::Var(_) => None,
                    }
                })
                .collect();
        }
        let height = self
            .shapes
            .iter()
            .flatten()
            .map(|(_, s)| s.height())
            .max()
            .unwrap_or(0);
        let levels = self.changes(egraph, height);
        // Classes with any change at any distance: the only ones worth a closer look.
        let touched: Vec<bool> = (0..levels.first().map_or(0, Vec::len))
            .map(|id| levels.iter().any(|l| l[id].is_some()))
            .collect();
        let mut all = Vec::with_capacity(rewrites.len());
        for (rw, shape) in rewrites.iter().zip(&self.shapes) {
            let matches = match shape {
                Some((root, shape)) => {
                    let mut found = Vec::new();
                    if let Some(ids) = egraph.classes_for_op(&root.discriminant()) {
                        for id in ids {
                            let i = usize::from(id);
                            if touched.get(i).copied().unwrap_or(false) && shape.reads(&levels, i) {
                                if let Some(m) = rw.searcher.search_eclass(egraph, id) {
                                    found.push(m);
                                }
                            }
                        }
                    }
                    found
                }
                // A pattern rooted at a variable (none in the rulebook): search everything.
                _ => rw.search(egraph),
            };
            all.push(matches);
            limits.check_limits(iteration, egraph)?;
        }
        Ok(all)
    }

    fn apply_rewrite(
        &mut self,
        _iteration: usize,
        egraph: &mut EGraph<IndexLang, IndexAnalysis>,
        rewrite: &Rewrite<IndexLang, IndexAnalysis>,
        matches: Vec<SearchMatches<IndexLang>>,
    ) -> usize {
        let mut applied = 0;
        for m in &matches {
            if egraph.total_size() >= self.node_budget {
                break;
            }
            applied += rewrite.apply(egraph, std::slice::from_ref(m)).len();
        }
        applied
    }
}
