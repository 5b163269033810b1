//! Printing of instructions: the inverse of `parse_inst.rs`.

use super::printer::{default_acc, expr_string, label, tensor_ref, var_name};
use crate::expr::ExprId;
use crate::inst::{InstKind, Operand};
use crate::program::{Function, Inst, LayoutId, Out, SharedLayoutId, VarType};

fn list(f: &Function, es: &[ExprId]) -> String {
    let parts: Vec<String> = es.iter().map(|&e| expr_string(f, e)).collect();
    format!("[{}]", parts.join(", "))
}

fn ulist(v: &[usize]) -> String {
    let parts: Vec<String> = v.iter().map(usize::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn operand(f: &Function, o: Operand) -> String {
    match o {
        Operand::Tensor(t) => tensor_ref(f, t),
        Operand::Scalar(e) => expr_string(f, e),
    }
}

fn layout(f: &Function, l: LayoutId) -> String {
    f.layouts.try_get(l).map_or_else(
        || format!("<invalid layout {}>", l.index()),
        |l| l.to_string(),
    )
}

fn shared_layout(f: &Function, l: SharedLayoutId) -> String {
    f.shared_layouts.try_get(l).map_or_else(
        || format!("<invalid shared layout {}>", l.index()),
        |l| l.to_string(),
    )
}

fn dims(d: &Option<Vec<usize>>) -> String {
    d.as_ref()
        .map_or_else(String::new, |d| format!(", dims={}", ulist(d)))
}

/// One instruction, without indentation or line break.
pub(crate) fn inst_string(f: &Function, inst: &Inst) -> String {
    let prefix = match inst.out {
        Some(Out::New(t)) => format!("{} = ", tensor_ref(f, t)),
        Some(Out::Existing(t)) => format!("{} <- ", tensor_ref(f, t)),
        None => String::new(),
    };
    let t = |id| tensor_ref(f, id);
    let name = inst.kind.name();
    let body = match &inst.kind {
        InstKind::GlobalView {
            ptr,
            dtype,
            shape,
            strides,
        } => {
            let mut s = format!("{name} {}, {}", var_name(f, *ptr), list(f, shape));
            if let Some(st) = strides {
                s.push_str(&format!(", strides={}", list(f, st)));
            }
            let pointee = match f.vars.try_get(*ptr).map(|v| v.ty) {
                Some(VarType::Pointer(d)) => Some(d),
                _ => None,
            };
            if pointee != Some(*dtype) {
                s.push_str(&format!(", dtype={dtype}"));
            }
            s
        }
        InstKind::AllocGlobal {
            dtype,
            shape,
            requires_clean,
        } => {
            let flag = if *requires_clean {
                ", requires_clean"
            } else {
                ""
            };
            format!("{name} {dtype}{}{flag}", list(f, shape))
        }
        InstKind::AllocShared { dtype, shape } => format!("{name} {dtype}{}", ulist(shape)),
        InstKind::FreeShared { tensor } => format!("{name} {}", t(*tensor)),
        InstKind::AllocRegister { dtype, shape, init } => {
            let init = init.map_or_else(String::new, |e| format!(", init={}", expr_string(f, e)));
            format!("{name} {dtype}{}{init}", ulist(shape))
        }
        InstKind::Slice { src, indices } => format!("{name} {}, {}", t(*src), list(f, indices)),
        InstKind::LoadGlobal {
            src,
            offsets,
            shape,
            dims: d,
        } => format!(
            "{name} {}, {}, shape={}{}",
            t(*src),
            list(f, offsets),
            ulist(shape),
            dims(d)
        ),
        InstKind::StoreGlobal {
            dst,
            src,
            offsets,
            dims: d,
        }
        | InstKind::CopyAsync {
            dst,
            src,
            offsets,
            dims: d,
        } => format!(
            "{name} {}, {}, {}{}",
            t(*dst),
            t(*src),
            list(f, offsets),
            dims(d)
        ),
        InstKind::LoadShared { src } => format!("{name} {}", t(*src)),
        InstKind::StoreShared { dst, src } => format!("{name} {}, {}", t(*dst), t(*src)),
        InstKind::CommitGroup | InstKind::WaitAll | InstKind::Sync => name.to_string(),
        InstKind::WaitGroup { n } => format!("{name} {n}"),
        InstKind::Dot { a, b, c, acc_dtype } => {
            let mut s = format!("{name} {}, {}", t(*a), t(*b));
            if let Some(c) = c {
                s.push_str(&format!(", {}", t(*c)));
            }
            if *acc_dtype != default_acc(f, *c) {
                s.push_str(&format!(", acc={acc_dtype}"));
            }
            s
        }
        InstKind::Cast { x, dtype } => format!("{name} {}, {dtype}", t(*x)),
        InstKind::Unary { x, .. } => format!("{name} {}", t(*x)),
        InstKind::Binary { a, b, .. } => {
            format!("{name} {}, {}", operand(f, *a), operand(f, *b))
        }
        InstKind::Where { cond, x, y } => format!(
            "{name} {}, {}, {}",
            t(*cond),
            operand(f, *x),
            operand(f, *y)
        ),
        InstKind::View {
            x,
            dtype,
            shape,
            layout: l,
        } => {
            let mut s = format!("{name} {}, {dtype}, {}", t(*x), layout(f, *l));
            let layout_shape = f.layouts.try_get(*l).map(|l| l.shape().to_vec());
            if layout_shape.as_ref() != Some(shape) {
                s.push_str(&format!(", shape={}", ulist(shape)));
            }
            s
        }
        InstKind::Reduce {
            x, dim, keepdim, ..
        } => {
            let flag = if *keepdim { ", keepdim" } else { "" };
            format!("{name} {}, dim={dim}{flag}", t(*x))
        }
        InstKind::LockSemaphore { sem, index, value }
        | InstKind::ReleaseSemaphore { sem, index, value } => format!(
            "{name} {}, {}, {}",
            t(*sem),
            list(f, index),
            expr_string(f, *value)
        ),
        InstKind::AnnotateLayout { tensor, layout: l } => {
            format!("{name} {}, {}", t(*tensor), layout(f, *l))
        }
        InstKind::AnnotateSharedLayout { tensor, layout: l } => {
            format!("{name} {}, {}", t(*tensor), shared_layout(f, *l))
        }
        InstKind::Print { tensor, label: l } => format!("{name} {}, {}", t(*tensor), label(l)),
    };
    prefix + &body
}
