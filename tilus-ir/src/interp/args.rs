//! Kernel arguments written as text, for the CLI (`tilus run --arg`) and the filetests
//! (`; run:` lines): `n=1000` for scalars; for pointers `a=random[1024]`, `a=zeros[1024]`,
//! `a=ones[8]`, `a=range[1024]` or a list `a=[1, 2.5, -3]`. Buffer values are converted to
//! the pointer's dtype (floats rounded to nearest even, integers range-checked).

use std::fmt::Write as _;

use thiserror::Error;

use super::{Arg, HostBuffer};
use crate::dtype::DType;
use crate::program::{Function, VarType};

/// A malformed argument.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ArgError(pub String);

/// Largest buffer accepted from text (elements).
pub const MAX_TEXT_BUFFER: usize = 1 << 28;

/// A deterministic xorshift generator for `random[...]` buffers.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn buffer(dtype: DType, spec: &str, rng: &mut Rng) -> Result<HostBuffer, ArgError> {
    let bad = || {
        ArgError(format!(
            "cannot read buffer argument `{spec}`: expected random[N], zeros[N], ones[N], range[N] or a list [v, …]"
        ))
    };
    let values: Vec<f64> = if let Some(list) = spec.strip_prefix('[') {
        let list = list.strip_suffix(']').ok_or_else(bad)?;
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse::<f64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    } else {
        let open = spec.find('[').ok_or_else(bad)?;
        let len: usize = spec[open + 1..]
            .strip_suffix(']')
            .ok_or_else(bad)?
            .trim()
            .parse()
            .map_err(|_| bad())?;
        if len > MAX_TEXT_BUFFER {
            return Err(ArgError(format!(
                "buffer of {len} elements is too large (limit {MAX_TEXT_BUFFER})"
            )));
        }
        match spec[..open].trim() {
            "zeros" => vec![0.0; len],
            "ones" => vec![1.0; len],
            "range" => (0..len).map(|i| i as f64).collect(),
            "random" => {
                let (lo, hi) = if dtype.is_float() {
                    (-1.0, 1.0)
                } else {
                    (dtype.min_value().max(-1e6), dtype.max_value().min(1e6))
                };
                (0..len)
                    .map(|_| {
                        let x = lo + (hi - lo) * rng.next_f64();
                        if dtype.is_float() {
                            x
                        } else {
                            x.round().clamp(lo, hi)
                        }
                    })
                    .collect()
            }
            _ => return Err(bad()),
        }
    };
    if dtype.is_int() {
        let ints: Vec<i64> = values.iter().map(|v| *v as i64).collect();
        HostBuffer::from_i64(dtype, &ints).map_err(|e| ArgError(e.to_string()))
    } else {
        Ok(HostBuffer::from_f64(dtype, &values))
    }
}

/// Builds one [`Arg`] per parameter of `f` from `name=value` strings.
pub fn parse_args(f: &Function, specs: &[String], seed: u64) -> Result<Vec<Arg>, ArgError> {
    let mut given = Vec::new();
    for s in specs {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| ArgError(format!("argument `{s}` must look like name=value")))?;
        given.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut args = Vec::new();
    for &p in &f.params {
        let Some(var) = f.vars.try_get(p) else {
            return Err(ArgError(format!(
                "kernel `{}` has a dangling parameter",
                f.name
            )));
        };
        let pos = given
            .iter()
            .position(|(k, _)| *k == var.name)
            .ok_or_else(|| {
                ArgError(format!(
                    "missing argument {}=… for parameter `{}: {}`",
                    var.name,
                    var.name,
                    describe(var.ty)
                ))
            })?;
        let (_, spec) = given.remove(pos);
        args.push(match var.ty {
            VarType::Pointer(d) => Arg::Buffer(buffer(d, &spec, &mut rng)?),
            VarType::Scalar(t) if t.is_float() => {
                Arg::Float(spec.parse().map_err(|_| {
                    ArgError(format!("`{}` expects a number, got `{spec}`", var.name))
                })?)
            }
            VarType::Scalar(_) => Arg::Int(spec.parse().map_err(|_| {
                ArgError(format!("`{}` expects an integer, got `{spec}`", var.name))
            })?),
        });
    }
    if let Some((extra, _)) = given.first() {
        let known = f
            .params
            .iter()
            .filter_map(|&p| f.vars.try_get(p))
            .any(|v| v.name == *extra);
        return Err(ArgError(if known {
            format!("argument `{extra}` is given more than once")
        } else {
            format!("kernel `{}` has no parameter `{extra}`", f.name)
        }));
    }
    Ok(args)
}

fn describe(ty: VarType) -> String {
    match ty {
        VarType::Pointer(d) => format!("*{d}"),
        VarType::Scalar(t) => t.to_string(),
    }
}

/// Every buffer argument in full: `name: dtype[len] = [v0, v1, …]` (one line each).
pub fn format_buffers(f: &Function, args: &[Arg]) -> String {
    let mut out = String::new();
    for (&p, arg) in f.params.iter().zip(args) {
        if let (Some(var), Arg::Buffer(b)) = (f.vars.try_get(p), arg) {
            let vals: Vec<String> = b.to_f64().iter().map(|v| format!("{v}")).collect();
            let _ = writeln!(
                out,
                "{}: {}[{}] = [{}]",
                var.name,
                b.dtype,
                b.len,
                vals.join(", ")
            );
        }
    }
    out
}

/// A one-line summary per buffer argument: dtype, length, min, max, mean, first values.
pub fn summarize_buffers(f: &Function, args: &[Arg]) -> String {
    let mut out = String::new();
    for (&p, arg) in f.params.iter().zip(args) {
        if let (Some(var), Arg::Buffer(b)) = (f.vars.try_get(p), arg) {
            let vals = b.to_f64();
            let n = vals.len().max(1) as f64;
            let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
            for &v in &vals {
                lo = lo.min(v);
                hi = hi.max(v);
                sum += v;
            }
            let head: Vec<String> = vals.iter().take(8).map(|v| format!("{v}")).collect();
            let _ = writeln!(
                out,
                "{}: {}[{}] min={lo} max={hi} mean={:.6} first=[{}{}]",
                var.name,
                b.dtype,
                b.len,
                sum / n,
                head.join(", "),
                if vals.len() > 8 { ", …" } else { "" }
            );
        }
    }
    out
}
