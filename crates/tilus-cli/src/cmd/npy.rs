//! `.npy` files (numpy's format, via npyz): f32 matrices in and out.

use std::path::Path;

use npyz::WriterBuilder;

use super::CliError;

/// Writes `data` (`shape` row-major) as an f32 `.npy` file.
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError(format!("writing {}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(fail)?;
    let shape: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
    let mut w = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&shape)
        .writer(std::io::BufWriter::new(file))
        .begin_nd()
        .map_err(fail)?;
    w.extend(data.iter().copied()).map_err(fail)?;
    w.finish().map_err(fail)
}

/// Reads a 2-D `.npy` of f32, f64 or f16 values: `(rows, cols, data)`.
pub fn read_matrix(path: &Path) -> Result<(usize, usize, Vec<f32>), CliError> {
    let fail = |e: String| CliError(format!("reading {}: {e}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| fail(e.to_string()))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let (rows, cols) = match shape.as_slice() {
        [r, c] => (*r, *c),
        [c] => (1, *c),
        other => return Err(fail(format!("shape {other:?}, expected [M, K]"))),
    };
    if npy.order() != npyz::Order::C {
        return Err(fail("Fortran order; save with np.ascontiguousarray".into()));
    }
    let descr = npy
        .dtype()
        .descr()
        .trim_matches(|c| c == '\'' || c == '"')
        .to_string();
    let data: Vec<f32> = match descr.as_str() {
        "<f4" => npy.into_vec::<f32>().map_err(|e| fail(e.to_string()))?,
        "<f8" => npy
            .into_vec::<f64>()
            .map_err(|e| fail(e.to_string()))?
            .into_iter()
            .map(|x| x as f32)
            .collect(),
        "<f2" => npy
            .into_vec::<half::f16>()
            .map_err(|e| fail(e.to_string()))?
            .into_iter()
            .map(|x| x.to_f32())
            .collect(),
        other => {
            return Err(fail(format!(
                "dtype {other}, expected float32, float64 or float16"
            )))
        }
    };
    Ok((rows, cols, data))
}
