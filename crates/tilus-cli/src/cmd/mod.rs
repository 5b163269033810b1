//! One module per group of subcommands. Each command returns the text to print, or a
//! [`CliError`] whose `Display` is the whole message (possibly several lines).

pub mod bench;
mod bench_cpu;
pub mod cache;
pub mod compile;
pub mod dtype;
pub mod gemm;
pub mod layout;
pub mod linear;
pub mod npy;
pub mod program;
pub mod selftest;
pub mod tune;

use std::fmt;

/// An error of the command line: its text is printed verbatim on stderr.
#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.starts_with("error") {
            f.write_str(&self.0)
        } else {
            write!(f, "error: {}", self.0)
        }
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// What every command returns: the text for stdout.
pub type CmdResult = Result<String, CliError>;
