//! `tilus dtypes`, `tilus dtype`, `tilus pack`, `tilus unpack`.

use std::fmt::Write as _;

use clap::Args;
use tilus_ir::dtype::{pack as bits, DType};

use super::{CliError, CmdResult};

/// Arguments of `tilus dtype`.
#[derive(Args, Debug)]
pub struct DtypeArgs {
    /// Type name or alias (e.g. f6e3m2, float6_e3m2fn, u4, int4b).
    name: String,
    /// Encode these inputs (decimal floats, inf, -inf, nan) instead of printing the code table.
    #[arg(long, num_args = 1.., allow_hyphen_values = true, value_name = "X")]
    encode: Vec<String>,
}

/// Arguments of `tilus pack`.
#[derive(Args, Debug)]
pub struct PackArgs {
    /// Type name or alias.
    name: String,
    /// Values: integers for integer types, decimal floats for float types (rounded per the spec).
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true, value_name = "V")]
    values: Vec<String>,
}

/// Arguments of `tilus unpack`.
#[derive(Args, Debug)]
pub struct UnpackArgs {
    /// Type name or alias.
    name: String,
    /// Number of elements to unpack.
    count: usize,
    /// Bytes in hex: `d1 58 1f`, `d1581f` or `0xd1 0x58 0x1f` (one or several arguments).
    #[arg(required = true, num_args = 1.., value_name = "HEXBYTES")]
    bytes: Vec<String>,
}

/// `tilus dtypes`: one line per type: name, bits, family, aliases.
pub fn list() -> CmdResult {
    let mut out = String::from("# name     bits  family      aliases\n");
    for dt in DType::all() {
        let family = family(dt);
        let aliases = dt.aliases();
        let aliases = if aliases.is_empty() {
            "-".to_string()
        } else {
            aliases.join(", ")
        };
        let _ = writeln!(
            out,
            "{:<10} {:>4}  {:<10}  {}",
            dt.name(),
            dt.bits(),
            family,
            aliases
        );
    }
    Ok(out)
}

fn family(dt: DType) -> &'static str {
    match dt {
        DType::Int { signed: true, .. } => "int",
        DType::Int { signed: false, .. } => "uint",
        DType::F32 | DType::F16 | DType::BF16 => "ieee",
        DType::F8E4M3FN | DType::F8E5M2 => "fp8",
        DType::MiniFloat { .. } => "minifloat",
    }
}

/// Formats a decoded value the way every command prints it: integers exactly, floats as the
/// shortest decimal that reads back to the same f64 (exact for every value of ≤ 16-bit types).
fn value_text(dt: DType, code: u64) -> String {
    if dt.is_int() {
        dt.int_value_i128(code).to_string()
    } else {
        number_text(dt.decode_f64(code))
    }
}

/// Large and tiny magnitudes in scientific notation, others in plain decimal.
fn number_text(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-7..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

fn hex_code(dt: DType, code: u64) -> String {
    let digits = (dt.bits() as usize).div_ceil(4);
    format!("0x{code:0digits$x}")
}

/// `tilus dtype NAME [--encode X …]`.
pub fn describe(args: &DtypeArgs) -> CmdResult {
    let dt = DType::parse(&args.name)?;
    if !args.encode.is_empty() {
        let mut out = String::new();
        for input in &args.encode {
            let x: f32 = input.trim().parse().map_err(|_| {
                CliError(format!(
                    "cannot read `{input}` as a number (expected a decimal float, inf, -inf or nan)"
                ))
            })?;
            let code = dt.encode_f32(x);
            let _ = writeln!(
                out,
                "{input}  {}  {}",
                hex_code(dt, code),
                value_text(dt, code)
            );
        }
        return Ok(out);
    }
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {} bits, {}", dt.name(), dt.bits(), family(dt));
    if let (Some(e), Some(m), Some(b)) = (dt.exponent_bits(), dt.mantissa_bits(), dt.bias()) {
        let _ = writeln!(out, "# exponent bits: {e}, mantissa bits: {m}, bias: {b}");
    }
    let _ = writeln!(out, "# min: {}", number_text(dt.min_value()));
    let _ = writeln!(out, "# max: {}", number_text(dt.max_value()));
    if let Some(v) = dt.smallest_normal() {
        let _ = writeln!(out, "# smallest normal: {}", number_text(v));
    }
    if let Some(v) = dt.smallest_subnormal() {
        let _ = writeln!(out, "# smallest subnormal: {}", number_text(v));
    }
    if dt.bits() <= 8 {
        let width = dt.bits() as usize;
        for code in 0..(1u64 << dt.bits()) {
            let _ = writeln!(
                out,
                "{}  {code:0width$b}  {}",
                hex_code(dt, code),
                value_text(dt, code)
            );
        }
    } else {
        let _ = writeln!(out, "# (no code table for types wider than 8 bits)");
    }
    Ok(out)
}

/// Turns one command-line value into a code of `dt`.
fn code_of(dt: DType, text: &str) -> Result<u64, CliError> {
    if dt.is_int() {
        let v: i128 = text.trim().parse().map_err(|_| {
            CliError(format!(
                "cannot read `{text}` as an integer value of {}",
                dt.name()
            ))
        })?;
        Ok(dt.code_of_int_i128(v)?)
    } else {
        let x: f32 = text
            .trim()
            .parse()
            .map_err(|_| CliError(format!("cannot read `{text}` as a value of {}", dt.name())))?;
        Ok(dt.encode_f32(x))
    }
}

/// `tilus pack NAME V …`: the packed bytes in hex, space-separated.
pub fn pack(args: &PackArgs) -> CmdResult {
    let dt = DType::parse(&args.name)?;
    let codes = args
        .values
        .iter()
        .map(|v| code_of(dt, v))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = bits::pack(dt.bits(), &codes);
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}\n", hex.join(" ")))
}

/// Reads hex bytes given as one or several arguments.
fn parse_hex(args: &[String]) -> Result<Vec<u8>, CliError> {
    let mut digits = String::new();
    for arg in args {
        for word in arg.split(|c: char| c.is_whitespace() || c == ',') {
            let word = word
                .strip_prefix("0x")
                .or_else(|| word.strip_prefix("0X"))
                .unwrap_or(word);
            digits.push_str(word);
        }
    }
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(CliError(format!(
            "`{bad}` is not a hex digit in the bytes given"
        )));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(CliError(format!(
            "odd number of hex digits ({}): give each byte as two digits",
            digits.len()
        )));
    }
    let bytes = digits.as_bytes();
    (0..bytes.len() / 2)
        .map(|i| {
            let pair = &digits[2 * i..2 * i + 2];
            u8::from_str_radix(pair, 16).map_err(|e| CliError(format!("bad byte `{pair}`: {e}")))
        })
        .collect()
}

/// `tilus unpack NAME COUNT HEXBYTES`: the values, space-separated.
pub fn unpack(args: &UnpackArgs) -> CmdResult {
    let dt = DType::parse(&args.name)?;
    let bytes = parse_hex(&args.bytes)?;
    let needed = (args.count as u128 * u128::from(dt.bits())).div_ceil(8);
    if (bytes.len() as u128) > needed {
        return Err(CliError(format!(
            "{} bytes given, but {} values of {} take {needed}: extra bytes",
            bytes.len(),
            args.count,
            dt.name()
        )));
    }
    let codes = bits::unpack(dt.bits(), &bytes, args.count)?;
    let values: Vec<String> = codes.iter().map(|&c| value_text(dt, c)).collect();
    Ok(format!("{}\n", values.join(" ")))
}
