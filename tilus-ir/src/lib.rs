//! tilus-ir: what a tilus program is.
#![deny(missing_docs)]

pub mod dtype;
