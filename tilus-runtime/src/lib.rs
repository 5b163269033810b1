//! # tilus-runtime: where a tilus program runs
#![deny(missing_docs)]
