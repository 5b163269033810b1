//! # tilus-lower: how a tilus program becomes code
//!
//! One module per stage, in pipeline order:
//!
//! ```text
//! VerifiedProgram ─► layout_infer ─► tile_to_thread (thread IR) ─► simplify (egg)
//!                 ─► legalize (per target) ─► emit (WGSL text, naga-validated)
//! ```
//!
//! [`target`] describes what a target can do; [`artifact`] is what the emitters hand to the
//! runtime.
#![deny(missing_docs)]

pub mod artifact;
pub mod layout_infer;
pub mod target;
