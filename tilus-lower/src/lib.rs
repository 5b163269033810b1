//! # tilus-lower: how a tilus program becomes code
//!
//! One module per stage, in pipeline order:
//!
//! ```text
//! VerifiedProgram ─► layout_infer ─► tile_to_thread (thread IR) ─► simplify (egg)
//!                 ─► backend/<target>: legalize ─► emit ─► validate
//! ```
//!
//! [`pipeline::compile`] runs them in order for a [`target::Target`]. [`layout_infer`] gives
//! every tile a layout (SIMT layouts on targets without tensor cores); [`tile_to_thread`]
//! turns each tile instruction into what one thread does, in the [`thread_ir`] (which has
//! its own printer, verifier and CPU interpreter, so lowering is tested without a GPU);
//! [`error`] is the lowering error. [`backend`] holds the target-specific stages, one
//! folder per target (`backend/wgsl/`, `backend/ptx/`, `backend/cpu/`, fed by the shared
//! word legalization in `backend/legalize/`). [`target`] describes what
//! a target can do; [`artifact`] is what the backends hand to the runtime: code plus a
//! target-neutral launch contract ([`grid`] expressions are shared with the thread IR).
#![deny(missing_docs)]

pub mod artifact;
pub mod backend;
pub mod error;
pub mod grid;
pub mod layout_infer;
pub mod pipeline;
pub mod simplify;
pub mod target;
pub mod thread_ir;
pub mod tile_to_thread;
