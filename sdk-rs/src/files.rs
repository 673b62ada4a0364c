//! Output files: atomic replacement and the `.npy` format.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `path` through `write` into a temporary file in the same directory, then renames it
/// over `path`, so readers never see a partial file.
pub fn write_atomic<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    let tmp = temp_path(path)?;
    let result = write_then_rename(&tmp, path, write);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_rename<F>(tmp: &Path, path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> io::Result<()>,
{
    let mut out = BufWriter::new(File::create(tmp)?);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(tmp, path)
}

/// `dir/.name.<pid>.tmp` next to `path`.
pub(crate) fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file name", path.display()),
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp_name))
}

/// Writes `rows` as a NumPy `.npy` file (format 1.0): little-endian `f8`, C order,
/// shape `(rows.len(), D)`.
pub fn write_npy<W: Write, const D: usize>(out: &mut W, rows: &[[f64; D]]) -> io::Result<()> {
    write_npy_flat(out, rows.as_flattened(), D)
}

/// [`write_npy`] for rows of `width` values stored one after the other in `data`.
pub fn write_npy_flat(out: &mut dyn Write, data: &[f64], width: usize) -> io::Result<()> {
    let rows = data.len().checked_div(width).unwrap_or(0);
    out.write_all(&npy_header(&[rows, width]))?;
    for v in data {
        out.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}

/// Writes the header of an `<f8` C-order `.npy` array of `shape`; the data follows it.
pub fn write_npy_header(out: &mut dyn Write, shape: &[usize]) -> io::Result<()> {
    out.write_all(&npy_header(shape))
}

/// The magic, version and header dictionary of an `<f8` C-order array, padded so that the
/// data starts at a multiple of 64 bytes.
fn npy_header(shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // 6 magic + 2 version + 2 length bytes, then the dictionary ending in '\n'.
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    dict.push('\n');
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    header.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header
}
