//! # tilus-lower: how a tilus program becomes code
//!
//! One module per stage, in pipeline order:
//!
//! ```text
//! VerifiedProgram ─► layout_infer ─► tile_to_thread (thread IR) ─► simplify (egg)
//!                 ─► legalize (per target) ─► emit (WGSL text, naga-validated)
//! ```
//!
//! [`layout_infer`] gives every tile a layout; [`tile_to_thread`] turns each tile
//! instruction into what one thread does, in the [`thread_ir`] (which has its own printer,
//! verifier and CPU interpreter, so lowering is tested without a GPU); [`error`] is the
//! lowering error. [`legalize`] rewrites a thread kernel into what WGSL can run and
//! [`emit`] prints it (naga-validated). [`target`] describes what a target can do;
//! [`artifact`] is what the emitters hand to the runtime.
#![deny(missing_docs)]

pub mod artifact;
pub mod emit;
pub mod error;
pub mod layout_infer;
pub mod legalize;
pub mod pipeline;
pub mod simplify;
pub mod target;
pub mod thread_ir;
pub mod tile_to_thread;
