//! The printed form of an assignment (`tilus compile --emit layouts`): one line per register
//! or shared tensor, in definition order,
//!
//! ```text
//! %x: register f16[64, 64] = local(4,1).spatial(16,8).local(1,8)
//! %s: shared f16[64, 32] = row_major(64,32)
//! ```

use std::fmt::Write as _;

use tilus_ir::program::{Function, InstId, Out, TensorId, TensorType};

use super::LayoutAssignment;

/// Register and shared tensors in definition order: those defined by an instruction in
/// program order, then any others in arena order.
pub(crate) fn definition_order(f: &Function, insts: &[InstId]) -> Vec<TensorId> {
    let mut order = Vec::new();
    for &id in insts {
        if let Some(Out::New(t)) = f.insts.try_get(id).and_then(|i| i.out) {
            if !order.contains(&t) {
                order.push(t);
            }
        }
    }
    for (t, _) in f.tensors.iter() {
        if !order.contains(&t) {
            order.push(t);
        }
    }
    order.retain(|&t| {
        f.tensors
            .try_get(t)
            .is_some_and(|x| x.ty.is_register() || x.ty.is_shared())
    });
    order
}

/// `name` as the text format writes it after `%`: bare when it is an identifier, else quoted.
fn tensor_name(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

fn shape(s: &[usize]) -> String {
    let parts: Vec<String> = s.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

impl LayoutAssignment {
    /// One line per register or shared tensor of `f`, in definition order:
    /// `%name: register f16[64, 32] = <layout>` or `%s: shared f16[64, 32] = <layout>`
    /// (`<none>` for a tensor without a layout).
    pub fn display(&self, f: &Function) -> String {
        let mut insts = Vec::new();
        f.for_each_inst(|i| insts.push(i));
        let mut out = String::new();
        for t in definition_order(f, &insts) {
            let Some(tensor) = f.tensors.try_get(t) else {
                continue;
            };
            let (kind, dtype, s, layout) = match &tensor.ty {
                TensorType::Register { dtype, shape, .. } => (
                    "register",
                    dtype,
                    shape,
                    self.register.get(&t).map(|l| l.to_string()),
                ),
                TensorType::Shared { dtype, shape, .. } => (
                    "shared",
                    dtype,
                    shape,
                    self.shared.get(&t).map(|l| l.to_string()),
                ),
                TensorType::Global { .. } => continue,
            };
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "%{}: {kind} {dtype}{} = {}",
                tensor_name(&tensor.name),
                shape(s),
                layout.as_deref().unwrap_or("<none>")
            );
        }
        out
    }
}
