//! Binding launch arguments to a compiled kernel's launch contract, for any target.
//!
//! Everything a device must check and compute before it launches an
//! [`Artifact`](tilus_lower::artifact::Artifact), that does not depend on the device:
//!
//! - the argument count, and each argument's kind against its parameter (a buffer for a
//!   pointer, a number for a scalar);
//! - the integer values of the scalar arguments and the assumptions the code was compiled
//!   under ([`LaunchContract::broken_assumption`]);
//! - the scalar block's words ([`scalar_word`]);
//! - the grid (evaluated on the integer arguments, checked against the device's limits);
//! - the workspaces' sizes.
//!
//! The result, [`Bound`], names what goes in every slot of [`LaunchContract::slots`], in slot
//! order; the device allocates the workspaces and the scalar block and binds (WGSL) or passes
//! (PTX) the slots. Errors are [`RuntimeError::BadLaunch`] (or the device's own
//! [`RuntimeError::UnknownBuffer`] from its buffer check).

use tilus_ir::dtype::{pack, DType};
use tilus_lower::artifact::{Artifact, LaunchContract, ParamBinding};

use super::{BufferId, LaunchArg};
use crate::error::RuntimeError;

/// What goes in one slot of the launch contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotSource {
    /// A buffer argument.
    Arg(BufferId),
    /// A workspace the device allocates for this launch.
    Workspace {
        /// Its size in bytes (the packed elements, not padded).
        bytes: usize,
        /// Whether it must be zero when the kernel starts (clear it before every run).
        requires_clean: bool,
    },
    /// The scalar block ([`Bound::scalar_words`]).
    ScalarBlock,
}

/// One slot of a bound launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundSlot {
    /// The slot number (WGSL binding; the PTX parameter is its index in [`Bound::slots`]).
    pub binding: u32,
    /// Whether the kernel only reads it.
    pub read_only: bool,
    /// What goes in it.
    pub source: SlotSource,
}

/// A launch whose arguments fit the contract: what to run and with what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// Blocks (workgroups) per axis; an axis of 0 means nothing runs.
    pub grid: [u32; 3],
    /// Threads per block, from the contract.
    pub threads: [u32; 3],
    /// The scalar block: [`LaunchContract::scalar_words`] words, at least one.
    pub scalar_words: Vec<u32>,
    /// Every slot of [`LaunchContract::slots`], in slot order.
    pub slots: Vec<BoundSlot>,
}

impl Bound {
    /// The scalar block as little-endian bytes.
    pub fn scalar_bytes(&self) -> Vec<u8> {
        self.scalar_words
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    }

    /// Whether the grid is empty (some axis is 0), so that a launch runs nothing.
    pub fn is_empty(&self) -> bool {
        self.grid.contains(&0)
    }
}

/// Checks the argument count and the assumptions; gives the integer value of every
/// argument (`None` for floats and buffers), as grid and workspace expressions read them.
///
/// A float argument has no integer value: an expression that reads one cannot be evaluated
/// (sizes never come from floats).
pub fn check_args(k: &Artifact, args: &[LaunchArg]) -> Result<Vec<Option<i64>>, RuntimeError> {
    let c = &k.launch;
    let bad = |m: String| RuntimeError::bad_launch(&k.name, m);
    if args.len() != c.params.len() {
        return Err(bad(format!(
            "{} arguments for {} parameters",
            args.len(),
            c.params.len()
        )));
    }
    let ints: Vec<Option<i64>> = args
        .iter()
        .map(|a| match a {
            LaunchArg::Int(v) => Some(*v),
            LaunchArg::Float(_) | LaunchArg::Buffer(_) => None,
        })
        .collect();
    if let Some(a) = c.broken_assumption(&ints) {
        return Err(bad(format!(
            "the kernel was compiled assuming parameter {} is a multiple of {}, got {:?}",
            a.param,
            a.divisor,
            args.get(a.param)
        )));
    }
    Ok(ints)
}

/// Binds `args` to the kernel's launch contract ([`check_args`] first).
///
/// `max_grid` is the device's largest grid extent per axis. `buffer_ok` is the device's
/// check that a buffer argument is one of its own (it answers
/// [`RuntimeError::UnknownBuffer`] otherwise); it runs once per buffer parameter, in
/// parameter order.
pub fn bind(
    k: &Artifact,
    args: &[LaunchArg],
    max_grid: [u32; 3],
    mut buffer_ok: impl FnMut(BufferId) -> Result<(), RuntimeError>,
) -> Result<Bound, RuntimeError> {
    let ints = check_args(k, args)?;
    let c = &k.launch;
    let bad = |m: String| RuntimeError::bad_launch(&k.name, m);
    // The scalar block and the buffer arguments.
    let mut words = vec![0u32; c.scalar_words.max(1) as usize];
    let mut buffers: Vec<(u32, BufferId)> = Vec::new();
    for p in &c.params {
        match p {
            ParamBinding::Buffer { param, binding, .. } => {
                let Some(LaunchArg::Buffer(id)) = args.get(*param) else {
                    return Err(bad(format!(
                        "parameter {param} is a pointer; got {:?}",
                        args.get(*param)
                    )));
                };
                buffer_ok(*id)?;
                buffers.push((*binding, *id));
            }
            ParamBinding::Scalar { param, dtype, word } => {
                let arg = args
                    .get(*param)
                    .ok_or_else(|| bad(format!("no argument for parameter {param}")))?;
                let value =
                    scalar_word(*dtype, arg).map_err(|m| bad(format!("parameter {param}: {m}")))?;
                let slot = words.get_mut(*word as usize).ok_or_else(|| {
                    bad(format!(
                        "parameter {param} sits at word {word} of a {}-word scalar block",
                        c.scalar_words
                    ))
                })?;
                *slot = value;
            }
        }
    }
    let grid = eval_grid(k, &ints, max_grid)?;
    // Workspace sizes.
    let mut workspaces: Vec<(u32, SlotSource)> = Vec::new();
    for ws in &c.workspaces {
        let n = ws
            .elements
            .eval(&ints)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                bad(format!(
                    "workspace at binding {} has no valid size ({:?})",
                    ws.binding, ws.elements
                ))
            })?;
        workspaces.push((
            ws.binding,
            SlotSource::Workspace {
                bytes: pack::packed_len(ws.dtype.bits(), n),
                requires_clean: ws.requires_clean,
            },
        ));
    }
    // Every slot, in slot order: the scalar block first, then buffers, then workspaces, when
    // a (malformed) contract gives two of them one slot.
    let mut slots = Vec::new();
    for (binding, read_only) in c.slots() {
        let source = if binding == c.scalars_binding {
            SlotSource::ScalarBlock
        } else if let Some((_, id)) = buffers.iter().find(|(b, _)| *b == binding) {
            SlotSource::Arg(*id)
        } else if let Some((_, w)) = workspaces.iter().find(|(b, _)| *b == binding) {
            *w
        } else {
            return Err(bad(format!(
                "the module declares binding {binding}, which the launch contract does not \
                 name"
            )));
        };
        slots.push(BoundSlot {
            binding,
            read_only,
            source,
        });
    }
    Ok(Bound {
        grid,
        threads: c.threads,
        scalar_words: words,
        slots,
    })
}

/// The grid: at most three extents (missing ones are 1), each within `max_grid`.
fn eval_grid(
    k: &Artifact,
    ints: &[Option<i64>],
    max_grid: [u32; 3],
) -> Result<[u32; 3], RuntimeError> {
    let c: &LaunchContract = &k.launch;
    let bad = |m: String| RuntimeError::bad_launch(&k.name, m);
    if c.grid.len() > 3 {
        return Err(bad(format!("a grid of {} dimensions", c.grid.len())));
    }
    let mut grid = [1u32; 3];
    for (axis, expr) in c.grid.iter().enumerate() {
        let n = expr.eval(ints).ok_or_else(|| {
            bad(format!(
                "grid extent {axis} ({expr:?}) cannot be evaluated (overflow, division by \
                 zero or a missing parameter)"
            ))
        })?;
        let max = max_grid[axis];
        grid[axis] = u32::try_from(n)
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| bad(format!("grid extent {axis} is {n}; allowed 0..={max}")))?;
    }
    Ok(grid)
}

/// The 32-bit word a scalar argument becomes (i32 sign-extended, u32, f32 bits; see
/// [`ParamBinding::Scalar`]).
pub fn scalar_word(dtype: DType, arg: &LaunchArg) -> Result<u32, String> {
    match (dtype, *arg) {
        (DType::F32, LaunchArg::Float(x)) => Ok((x as f32).to_bits()),
        (DType::F32, LaunchArg::Int(v)) => Ok((v as f32).to_bits()),
        (DType::Int { bits, signed }, LaunchArg::Int(v)) if bits <= 32 => {
            let bits = u32::from(bits);
            let (lo, hi) = if signed {
                (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
            } else {
                (0, (1i64 << bits) - 1)
            };
            if v < lo || v > hi {
                return Err(format!("{v} is out of range for {dtype}"));
            }
            // In range, so the truncation is exact (signed values sign-extend to 32 bits).
            Ok(if signed { v as i32 as u32 } else { v as u32 })
        }
        // f16 scalars are carried as the f32 bits of the f16-rounded value (the WGSL
        // legalization emulates f16 exactly in f32).
        (DType::F16, LaunchArg::Float(x)) => {
            Ok((dtype.decode_f64(dtype.encode_f64(x)) as f32).to_bits())
        }
        (DType::F16, LaunchArg::Int(v)) => {
            Ok((dtype.decode_f64(dtype.encode_f64(v as f64)) as f32).to_bits())
        }
        // Other floats (bf16, fp8, minifloats) travel as their code.
        (
            DType::BF16 | DType::F8E4M3FN | DType::F8E5M2 | DType::MiniFloat { .. },
            LaunchArg::Float(x),
        ) => Ok(dtype.encode_f64(x) as u32),
        (
            DType::BF16 | DType::F8E4M3FN | DType::F8E5M2 | DType::MiniFloat { .. },
            LaunchArg::Int(v),
        ) => Ok(dtype.encode_f64(v as f64) as u32),
        (_, arg) => Err(format!(
            "a {dtype} scalar cannot take {arg:?} (the WGSL scalar block holds integers of at \
             most 32 bits and floats of at most 32 bits)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tilus_lower::artifact::{Assumption, Code, GridExpr, PtxModule, Workspace};

    const I32: DType = DType::Int {
        bits: 32,
        signed: true,
    };

    #[test]
    fn scalar_words() {
        let u32_ = DType::Int {
            bits: 32,
            signed: false,
        };
        assert_eq!(scalar_word(I32, &LaunchArg::Int(-1)), Ok(u32::MAX));
        assert_eq!(
            scalar_word(u32_, &LaunchArg::Int(0xffff_ffff)),
            Ok(u32::MAX)
        );
        assert!(scalar_word(u32_, &LaunchArg::Int(-1)).is_err());
        assert!(scalar_word(I32, &LaunchArg::Int(1 << 31)).is_err());
        assert!(scalar_word(I32, &LaunchArg::Float(1.0)).is_err());
        assert_eq!(
            scalar_word(DType::F32, &LaunchArg::Float(1.5)),
            Ok(1.5f32.to_bits())
        );
        // f16: the f32 bits of the f16-rounded value (1/3 rounds to 0x3555 = 0.333251953125).
        assert_eq!(
            scalar_word(DType::F16, &LaunchArg::Float(1.0 / 3.0)),
            Ok(0.333_251_95_f32.to_bits())
        );
        // Coded floats travel as their code.
        assert_eq!(scalar_word(DType::BF16, &LaunchArg::Float(1.0)), Ok(0x3F80));
        assert_eq!(
            scalar_word(DType::F8E4M3FN, &LaunchArg::Float(448.0)),
            Ok(0x7E)
        );
        assert!(scalar_word(
            DType::Int {
                bits: 64,
                signed: true
            },
            &LaunchArg::Int(1)
        )
        .is_err());
    }

    /// `k(a: ptr u32, n: i32, out: ptr u32)` with a clean u8 workspace of `n` elements,
    /// grid `ceil(n / 128)`, and `n` assumed a multiple of 4.
    fn artifact() -> Artifact {
        Artifact {
            name: "k".to_string(),
            code: Code::Ptx(PtxModule {
                source: String::new(),
                entry_point: "k".to_string(),
                arch: "sm_80".to_string(),
            }),
            launch: LaunchContract {
                threads: [128, 1, 1],
                params: vec![
                    ParamBinding::Buffer {
                        param: 0,
                        dtype: I32,
                        binding: 0,
                        read_only: true,
                    },
                    ParamBinding::Scalar {
                        param: 1,
                        dtype: I32,
                        word: 0,
                    },
                    ParamBinding::Buffer {
                        param: 2,
                        dtype: I32,
                        binding: 1,
                        read_only: false,
                    },
                ],
                scalars_binding: 3,
                scalar_words: 1,
                workspaces: vec![Workspace {
                    binding: 2,
                    dtype: DType::Int {
                        bits: 8,
                        signed: false,
                    },
                    elements: GridExpr::Param(1),
                    requires_clean: true,
                }],
                grid: vec![GridExpr::CeilDiv(
                    Box::new(GridExpr::Param(1)),
                    Box::new(GridExpr::Const(128)),
                )],
                shared_bytes: 0,
                assumptions: vec![Assumption {
                    param: 1,
                    divisor: 4,
                }],
            },
        }
    }

    fn ids() -> (BufferId, BufferId) {
        (
            BufferId {
                device: 7,
                index: 0,
            },
            BufferId {
                device: 7,
                index: 1,
            },
        )
    }

    #[test]
    fn binds_slots_in_order() {
        let k = artifact();
        let (a, out) = ids();
        let args = [
            LaunchArg::Buffer(a),
            LaunchArg::Int(300),
            LaunchArg::Buffer(out),
        ];
        let mut seen = Vec::new();
        let b = bind(&k, &args, [u32::MAX; 3], |id| {
            seen.push(id);
            Ok(())
        })
        .expect("binds");
        assert_eq!(seen, vec![a, out]);
        assert_eq!(b.grid, [3, 1, 1]);
        assert_eq!(b.threads, [128, 1, 1]);
        assert_eq!(b.scalar_words, vec![300]);
        assert_eq!(b.scalar_bytes(), 300u32.to_le_bytes().to_vec());
        let sources: Vec<_> = b.slots.iter().map(|s| (s.binding, s.source)).collect();
        assert_eq!(
            sources,
            vec![
                (0, SlotSource::Arg(a)),
                (1, SlotSource::Arg(out)),
                (
                    2,
                    SlotSource::Workspace {
                        bytes: 300,
                        requires_clean: true
                    }
                ),
                (3, SlotSource::ScalarBlock),
            ]
        );
        assert!(!b.is_empty());
    }

    #[test]
    fn bad_arguments_are_errors() {
        let k = artifact();
        let (a, out) = ids();
        let msg = |args: &[LaunchArg], max: [u32; 3]| {
            bind(&k, args, max, |_| Ok(()))
                .expect_err("must fail")
                .to_string()
        };
        assert!(msg(&[LaunchArg::Buffer(a)], [u32::MAX; 3]).contains("1 arguments for 3"));
        let args = [
            LaunchArg::Buffer(a),
            LaunchArg::Int(301),
            LaunchArg::Buffer(out),
        ];
        assert!(msg(&args, [u32::MAX; 3]).contains("multiple of 4"));
        let args = [LaunchArg::Int(1), LaunchArg::Int(4), LaunchArg::Buffer(out)];
        assert!(msg(&args, [u32::MAX; 3]).contains("parameter 0 is a pointer"));
        let args = [
            LaunchArg::Buffer(a),
            LaunchArg::Int(4096),
            LaunchArg::Buffer(out),
        ];
        assert!(msg(&args, [16, 1, 1]).contains("grid extent 0 is 32; allowed 0..=16"));
        // The device's buffer check is the device's error.
        let args = [
            LaunchArg::Buffer(a),
            LaunchArg::Int(4),
            LaunchArg::Buffer(out),
        ];
        let e = bind(&k, &args, [u32::MAX; 3], |id| {
            Err(RuntimeError::UnknownBuffer(id))
        });
        assert!(matches!(e, Err(RuntimeError::UnknownBuffer(id)) if id == a));
    }
}
