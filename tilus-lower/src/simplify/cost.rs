//! The extraction cost: what "simpler" means.
//!
//! The primary key, [`Cost::ops`], estimates the instruction cost of evaluating a term once on
//! a GPU, where integer division and remainder by a non-constant (or a constant the backend
//! cannot strength-reduce) expand to a long sequence:
//!
//! | node | ops |
//! |---|---|
//! | constant, symbol | 0 |
//! | `+ - neg << >> & \| ^`, comparisons, `&& \|\|` | 1 |
//! | `min max select` | 2 |
//! | `*` | 3 |
//! | `/ %` | 20 |
//!
//! Ties are broken, in order, by [`Cost::tie`] and then by [`Cost::height`]:
//! - `tie` counts negative literals (prefer `t - 1` to `t + -1`), literals on the left of a
//!   commutative operator (prefer `k * 3` to `3 * k`), plus, for every shift, its height in
//!   the term (prefer the bit-field-extract shape `(t >> 2) & 7` to `(t & 31) >> 2`: shifts as
//!   close to the leaves as possible);
//! - `height` prefers flatter terms.
//!
//! All sums saturate, so a cost never overflows.

use egg::{CostFunction, Id, Language, RecExpr};

use super::lang::IndexLang;

/// The cost of a term, compared lexicographically: `ops`, then `tie`, then `height`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cost {
    /// Estimated operations (the table in the module doc).
    pub ops: u64,
    /// Secondary preferences (negative literals, shift heights).
    pub tie: u64,
    /// Height of the term (a leaf has height 0).
    pub height: u64,
    /// Whether the term is a literal (so a parent can prefer literals on the right).
    pub literal: bool,
}

/// The cost of one node alone, per the table in the module doc.
pub fn node_ops(node: &IndexLang) -> u64 {
    use IndexLang::*;
    match node {
        Num(_) | Symbol(_) => 0,
        Add(_) | Sub(_) | Neg(_) | Shl(_) | Shr(_) | And(_) | Or(_) | Xor(_) | Lt(_) | Le(_)
        | Eq(_) | Ne(_) | LAnd(_) | LOr(_) => 1,
        Min(_) | Max(_) | Select(_) => 2,
        Mul(_) => 3,
        Div(_) | Rem(_) => 20,
    }
}

/// The [`CostFunction`] used for extraction.
#[derive(Clone, Copy, Debug, Default)]
pub struct IndexCost;

impl CostFunction<IndexLang> for IndexCost {
    type Cost = Cost;

    fn cost<C>(&mut self, enode: &IndexLang, mut costs: C) -> Cost
    where
        C: FnMut(Id) -> Cost,
    {
        let mut total = Cost {
            ops: node_ops(enode),
            ..Cost::default()
        };
        let mut height = 0u64;
        let mut literals = [false; 3];
        for (i, &child) in enode.children().iter().enumerate() {
            let c = costs(child);
            if let Some(slot) = literals.get_mut(i) {
                *slot = c.literal;
            }
            total.ops = total.ops.saturating_add(c.ops);
            total.tie = total.tie.saturating_add(c.tie);
            height = height.max(c.height.saturating_add(1));
        }
        total.height = height;
        use IndexLang::*;
        match enode {
            Num(c) => {
                total.literal = true;
                if *c < 0 {
                    total.tie = total.tie.saturating_add(1);
                }
            }
            Add(_) | Mul(_) | And(_) | Or(_) | Xor(_) | Eq(_) | Ne(_) | LAnd(_) | LOr(_)
            | Min(_) | Max(_)
                if literals[0] && !literals[1] =>
            {
                total.tie = total.tie.saturating_add(1)
            }
            Shl(_) | Shr(_) => total.tie = total.tie.saturating_add(height),
            _ => {}
        }
        total
    }
}

/// The cheapest term of every e-class, computed once for a whole batch.
///
/// A fixpoint like egg's `Extractor`, but visiting classes in increasing id order (children
/// are usually created before their parents, so one or two passes settle most classes) and
/// storing costs in a vector indexed by class id. A parent's cost is strictly greater than
/// each chosen child's (see [`Cost`]: `ops` never decreases and `height` grows), so the chosen
/// nodes form an acyclic graph and [`BestTerms::term`] terminates.
pub struct BestTerms<'a, N: egg::Analysis<IndexLang>> {
    egraph: &'a egg::EGraph<IndexLang, N>,
    best: Vec<Option<(Cost, IndexLang)>>,
}

impl<'a, N: egg::Analysis<IndexLang>> BestTerms<'a, N> {
    /// Computes the cheapest node of every class.
    pub fn new(egraph: &'a egg::EGraph<IndexLang, N>) -> Self {
        let mut ids: Vec<Id> = egraph.classes().map(|c| c.id).collect();
        ids.sort_unstable();
        let len = ids.last().map_or(0, |&id| usize::from(id) + 1);
        let mut best: Vec<Option<(Cost, IndexLang)>> = vec![None; len];
        let mut cf = IndexCost;
        let mut changed = true;
        while changed {
            changed = false;
            for &id in &ids {
                for node in &egraph[id].nodes {
                    let known = node.children().iter().all(|&c| {
                        best.get(usize::from(egraph.find(c)))
                            .is_some_and(Option::is_some)
                    });
                    if !known {
                        continue;
                    }
                    let cost = cf.cost(node, |c| {
                        best.get(usize::from(egraph.find(c)))
                            .and_then(|b| b.as_ref().map(|b| b.0))
                            .unwrap_or_default()
                    });
                    let slot = &mut best[usize::from(id)];
                    if slot.as_ref().is_none_or(|(old, _)| cost < *old) {
                        *slot = Some((cost, node.clone()));
                        changed = true;
                    }
                }
            }
        }
        BestTerms { egraph, best }
    }

    /// The cost of the cheapest term of `class` (`None` for an unknown class).
    pub fn cost(&self, class: Id) -> Option<Cost> {
        let id = usize::from(self.egraph.find(class));
        self.best.get(id).and_then(|b| b.as_ref().map(|b| b.0))
    }

    /// The cheapest term of `class`, sharing repeated sub-terms (`None` for an unknown class).
    pub fn term(&self, class: Id) -> Option<RecExpr<IndexLang>> {
        let mut expr = RecExpr::default();
        let mut done: std::collections::HashMap<Id, Id> = std::collections::HashMap::new();
        // Iterative post-order: (class, children pushed?).
        let mut stack = vec![(self.egraph.find(class), false)];
        while let Some((id, expanded)) = stack.pop() {
            if done.contains_key(&id) {
                continue;
            }
            let (_, node) = self.best.get(usize::from(id))?.as_ref()?;
            if expanded {
                let mut node = node.clone();
                for c in node.children_mut() {
                    *c = *done.get(&self.egraph.find(*c))?;
                }
                done.insert(id, expr.add(node));
            } else {
                stack.push((id, true));
                for &c in node.children() {
                    stack.push((self.egraph.find(c), false));
                }
            }
        }
        let root = *done.get(&self.egraph.find(class))?;
        // `expr` ends with the root: it is the last node added.
        debug_assert_eq!(usize::from(root) + 1, expr.as_ref().len());
        Some(expr)
    }
}
