//! The verifier never panics: random mutations of well-formed kernels (dangling and
//! duplicated handles, moved and deleted statements, retyped tensors, rewired results,
//! swapped instruction kinds, cyclic expressions) give errors or a verified program.

mod verify_support;

use proptest::prelude::*;
use tilus_ir::arena::Handle;
use tilus_ir::dtype::DType;
use tilus_ir::expr::{BinaryOp, Expr};
use tilus_ir::program::{Block, Function, Out, Program, Stmt, TensorType};
use tilus_ir::verify::verify;

use verify_support::{gemm, vector_add, view_kernel};

/// A small deterministic generator driven by the proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// The statement lists of a body, innermost included, as paths of child indices.
fn blocks(block: &Block, path: Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(path.clone());
    for (i, s) in block.iter().enumerate() {
        let mut p = path.clone();
        p.push(i);
        match s {
            Stmt::For { body, .. } => {
                p.push(0);
                blocks(body, p, out);
            }
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                let mut q = p.clone();
                p.push(0);
                q.push(1);
                blocks(then_body, p, out);
                blocks(else_body, q, out);
            }
            _ => {}
        }
    }
}

fn block_at<'a>(body: &'a mut Block, path: &[usize]) -> Option<&'a mut Block> {
    let mut cur = body;
    let mut it = path.iter();
    while let Some(&i) = it.next() {
        let which = *it.next()?;
        cur = match cur.get_mut(i)? {
            Stmt::For { body, .. } => body,
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                if which == 0 {
                    then_body
                } else {
                    else_body
                }
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn mutate(f: &mut Function, rng: &mut Rng) {
    let nt = f.tensors.len();
    let ni = f.insts.len();
    let ne = f.exprs.len();
    let mut paths = Vec::new();
    blocks(&f.body, Vec::new(), &mut paths);
    let path = paths[rng.below(paths.len())].clone();
    match rng.below(9) {
        0 => {
            // Rewire a result.
            let i = Handle::from_index(rng.below(ni)).expect("small");
            let t = Handle::from_index(rng.below(nt + 2)).expect("small");
            f.insts[i].out = match rng.below(3) {
                0 => None,
                1 => Some(Out::New(t)),
                _ => Some(Out::Existing(t)),
            };
        }
        1 => {
            // Delete a statement.
            if let Some(b) = block_at(&mut f.body, &path) {
                if !b.is_empty() {
                    let k = rng.below(b.len());
                    b.remove(k);
                }
            }
        }
        2 => {
            // Move a statement elsewhere in its block.
            if let Some(b) = block_at(&mut f.body, &path) {
                if !b.is_empty() {
                    let k = rng.below(b.len());
                    let s = b.remove(k);
                    let to = rng.below(b.len() + 1);
                    b.insert(to, s);
                }
            }
        }
        3 => {
            // Retype a tensor.
            let t = Handle::from_index(rng.below(nt)).expect("small");
            let shape: Vec<usize> = (0..rng.below(4)).map(|_| rng.below(40)).collect();
            f.tensors[t].ty = match rng.below(2) {
                0 => TensorType::Register {
                    dtype: DType::F16,
                    shape,
                    layout: None,
                },
                _ => TensorType::Shared {
                    dtype: DType::Int {
                        bits: rng.below(9) as u8,
                        signed: false,
                    },
                    shape,
                    layout: None,
                },
            };
        }
        4 => f.warps = rng.below(40) as u32,
        5 => {
            // Rewrite an expression, possibly into a cycle or a dangling handle.
            let e = Handle::from_index(rng.below(ne)).expect("small");
            let a = Handle::from_index(rng.below(ne + 2)).expect("small");
            let b = Handle::from_index(rng.below(ne)).expect("small");
            f.exprs[e] = match rng.below(4) {
                0 => Expr::Binary(BinaryOp::ALL[rng.below(21)], a, b),
                1 => Expr::Int(rng.next() as i64),
                2 => Expr::Float(-1.5),
                _ => Expr::Select(b, b, b),
            };
        }
        6 => {
            // Give an instruction another instruction's kind.
            let i = Handle::from_index(rng.below(ni)).expect("small");
            let j = Handle::from_index(rng.below(ni)).expect("small");
            f.insts[i].kind = f.insts[j].kind.clone();
        }
        7 => {
            // Duplicate a statement.
            if let Some(b) = block_at(&mut f.body, &path) {
                if !b.is_empty() {
                    let s = b[rng.below(b.len())].clone();
                    b.push(s);
                }
            }
        }
        _ => {
            // Another grid.
            let e = Handle::from_index(rng.below(ne)).expect("small");
            f.grid = vec![e; rng.below(5)];
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn mutated_kernels_never_panic(seed in 1u64.., which in 0usize..3, steps in 1usize..6) {
        let mut f = match which {
            0 => gemm(),
            1 => vector_add(),
            _ => view_kernel(),
        };
        let mut rng = Rng(seed);
        for _ in 0..steps {
            mutate(&mut f, &mut rng);
        }
        match verify(Program { functions: vec![f] }) {
            Ok(_) => {}
            Err(e) => {
                // Every error renders and says something.
                for err in &e.0 {
                    prop_assert!(!err.message.is_empty());
                    prop_assert!(!err.to_string().is_empty());
                }
            }
        }
    }
}
