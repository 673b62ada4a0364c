//! What a run records of its paths: observers that the engine calls at the observation dates.
//!
//! The engine simulates paths and hands each path's observed state (full-truncation components
//! as `max(x, 0)`, see [`crate::scheme::Stepper::observe`]) to an [`Observer`] at every
//! observation date, and its final observed state at the end of the path. It knows nothing of
//! what is recorded: power sums ([`PowerSumObserver`]) and terminal states
//! ([`TerminalObserver`]) are two observers, and a new output (say whole paths at the
//! observation dates) is a new observer rather than a flag threaded through the loop. A tuple
//! of observers is an observer, and so is an `Option` of one (absent: records nothing).
//!
//! Determinism: each block of [`crate::engine::BLOCK_PATHS`] paths gets its own record, the
//! engine calls `observe` for one date in increasing path order (dates in order for each path)
//! and `end` in increasing path order, and block records are merged in block order. An observer
//! whose record depends only on that order (and on the path's index in its block, which
//! `observe` is given) gives the same result for every thread count.
//!
//! The engine's observation dates cover what its observers ask for: the `--checkpoints C`
//! equally spaced dates, or every step when `--dates K` asks for whole paths (so that a path does
//! not depend on K, see [`crate::engine::RunConfig::observation_dates`]), and each observer looks
//! at every `stride`-th one ([`PowerSumObserver::stride`],
//! [`PathObserver::stride`]).

use std::io::Write;
use std::sync::Mutex;

use crate::engine::{Checkpoint, RunConfig};
use crate::error::SdkError;
use crate::moments::{Moments, PowerSums};

/// Something that records paths' observed states; shared read-only between worker threads.
pub trait Observer<const D: usize>: Sync {
    /// What it has recorded over some paths: one block's, or the whole run's.
    type Record: Send + Sync;

    /// The run's empty record (`paths` paths in all); may fail, e.g. for lack of memory.
    fn start(&self, paths: u64) -> Result<Self::Record, SdkError>;

    /// An empty record for one block of `paths` paths.
    fn block(&self, paths: usize) -> Self::Record;

    /// Observed state `x` at observation date `date` (0-based) of the path with index `path`
    /// in its block (0-based, in `0..paths` of [`Observer::block`]).
    fn observe(&self, record: &mut Self::Record, path: usize, date: usize, x: &[f64; D]);

    /// Path's final observed state, after its last observation date (default: nothing).
    #[inline(always)]
    fn end(&self, record: &mut Self::Record, x: &[f64; D]) {
        let _ = (record, x);
    }

    /// Adds a block's record to the run's; blocks come in order.
    fn merge(&self, total: &mut Self::Record, block: Self::Record);

    /// About how many bytes one block's record takes (default 0: small). The engine keeps
    /// fewer blocks unmerged at a time when they are large, so memory stays bounded.
    fn block_bytes(&self) -> usize {
        0
    }
}

/// Whether engine date `date` is one of an observer's dates when it looks at every
/// `stride`-th one, and if so its index among them.
#[inline(always)]
fn own_date(stride: usize, date: usize) -> Option<usize> {
    if stride == 1 {
        Some(date)
    } else if (date + 1).is_multiple_of(stride) {
        Some((date + 1) / stride - 1)
    } else {
        None
    }
}

/// Power sums of the observed state's shifted monomials at each observation date.
#[derive(Clone, Debug)]
pub struct PowerSumObserver<const D: usize> {
    /// The monomials.
    pub moments: Moments<D>,
    /// Number of observation dates.
    pub dates: usize,
    /// The engine's dates per observation date (1: every one).
    pub stride: usize,
}

/// A [`PowerSumObserver`]'s record: one [`PowerSums`] per date, and work space.
#[derive(Clone, Debug)]
pub struct PowerSumRecord {
    /// One entry per observation date, in time order.
    pub sums: Vec<PowerSums>,
    scratch: Vec<f64>,
}

impl<const D: usize> PowerSumObserver<D> {
    /// Power sums of total degree `1..=degree` in `x − shift` at `dates` observation dates.
    pub fn new(shift: [f64; D], degree: usize, dates: usize) -> Self {
        PowerSumObserver {
            moments: Moments::new(shift, degree),
            dates,
            stride: 1,
        }
    }

    /// The same, observing only every `stride`-th of the engine's dates.
    pub fn with_stride(self, stride: usize) -> Self {
        PowerSumObserver {
            stride: stride.max(1),
            ..self
        }
    }

    fn empty(&self) -> PowerSumRecord {
        PowerSumRecord {
            sums: (0..self.dates).map(|_| self.moments.zeros()).collect(),
            scratch: self.moments.scratch(),
        }
    }

    /// The checkpoints of a run with `config` from its record.
    pub fn checkpoints(&self, record: PowerSumRecord, config: &RunConfig) -> Vec<Checkpoint> {
        let per_date = config.steps / config.checkpoints;
        record
            .sums
            .into_iter()
            .enumerate()
            .map(|(k, sums)| {
                let step = (k as u64 + 1) * per_date;
                let time = config.horizon * (step as f64 / config.steps as f64);
                Checkpoint { step, time, sums }
            })
            .collect()
    }
}

impl<const D: usize> Observer<D> for PowerSumObserver<D> {
    type Record = PowerSumRecord;

    fn start(&self, _paths: u64) -> Result<PowerSumRecord, SdkError> {
        Ok(self.empty())
    }

    fn block(&self, _paths: usize) -> PowerSumRecord {
        self.empty()
    }

    #[inline(always)]
    fn observe(&self, record: &mut PowerSumRecord, _path: usize, date: usize, x: &[f64; D]) {
        if let Some(date) = own_date(self.stride, date) {
            self.moments
                .add(&mut record.sums[date], x, &mut record.scratch);
        }
    }

    fn merge(&self, total: &mut PowerSumRecord, block: PowerSumRecord) {
        for (acc, part) in total.sums.iter_mut().zip(&block.sums) {
            acc.merge(part);
        }
    }
}

/// Every path's final observed state, in path order.
#[derive(Clone, Copy, Debug, Default)]
pub struct TerminalObserver;

impl<const D: usize> Observer<D> for TerminalObserver {
    type Record = Vec<[f64; D]>;

    fn start(&self, paths: u64) -> Result<Vec<[f64; D]>, SdkError> {
        let mut v = Vec::new();
        usize::try_from(paths)
            .ok()
            .and_then(|n| v.try_reserve_exact(n).ok())
            .ok_or_else(|| {
                SdkError::Runtime(format!("not enough memory to keep {paths} terminal states"))
            })?;
        Ok(v)
    }

    fn block(&self, paths: usize) -> Vec<[f64; D]> {
        Vec::with_capacity(paths)
    }

    #[inline(always)]
    fn observe(&self, _record: &mut Vec<[f64; D]>, _path: usize, _date: usize, _x: &[f64; D]) {}

    #[inline(always)]
    fn end(&self, record: &mut Vec<[f64; D]>, x: &[f64; D]) {
        record.push(*x);
    }

    fn merge(&self, total: &mut Vec<[f64; D]>, block: Vec<[f64; D]>) {
        total.extend_from_slice(&block);
    }
}

/// An observer that may be absent (then it records nothing).
impl<const D: usize, O: Observer<D>> Observer<D> for Option<O> {
    type Record = Option<O::Record>;

    fn start(&self, paths: u64) -> Result<Self::Record, SdkError> {
        self.as_ref().map(|o| o.start(paths)).transpose()
    }

    fn block(&self, paths: usize) -> Self::Record {
        self.as_ref().map(|o| o.block(paths))
    }

    #[inline(always)]
    fn observe(&self, record: &mut Self::Record, path: usize, date: usize, x: &[f64; D]) {
        if let (Some(o), Some(r)) = (self, record) {
            o.observe(r, path, date, x);
        }
    }

    #[inline(always)]
    fn end(&self, record: &mut Self::Record, x: &[f64; D]) {
        if let (Some(o), Some(r)) = (self, record) {
            o.end(r, x);
        }
    }

    fn merge(&self, total: &mut Self::Record, block: Self::Record) {
        if let (Some(o), Some(t), Some(b)) = (self, total, block) {
            o.merge(t, b);
        }
    }

    fn block_bytes(&self) -> usize {
        self.as_ref().map_or(0, O::block_bytes)
    }
}

/// Two observers side by side, each with its own record.
impl<const D: usize, A: Observer<D>, B: Observer<D>> Observer<D> for (A, B) {
    type Record = (A::Record, B::Record);

    fn start(&self, paths: u64) -> Result<Self::Record, SdkError> {
        Ok((self.0.start(paths)?, self.1.start(paths)?))
    }

    fn block(&self, paths: usize) -> Self::Record {
        (self.0.block(paths), self.1.block(paths))
    }

    #[inline(always)]
    fn observe(&self, record: &mut Self::Record, path: usize, date: usize, x: &[f64; D]) {
        self.0.observe(&mut record.0, path, date, x);
        self.1.observe(&mut record.1, path, date, x);
    }

    #[inline(always)]
    fn end(&self, record: &mut Self::Record, x: &[f64; D]) {
        self.0.end(&mut record.0, x);
        self.1.end(&mut record.1, x);
    }

    fn merge(&self, total: &mut Self::Record, block: Self::Record) {
        self.0.merge(&mut total.0, block.0);
        self.1.merge(&mut total.1, block.1);
    }

    fn block_bytes(&self) -> usize {
        self.0.block_bytes() + self.1.block_bytes()
    }
}

/// Whole paths: every path's observed state at time 0 and at each of its `dates` observation
/// dates, `(dates + 1) · D` values per path, in path order.
///
/// The record of a block is its rows (C order: path, date, component). The run's rows are
/// either kept in memory ([`PathObserver::new`]) or streamed, block after block in path order, to
/// a writer ([`PathObserver::streaming`]): then only the blocks not yet merged are held.
pub struct PathObserver<'w, const D: usize> {
    /// The observed initial state (column 0 of every row).
    pub x0: [f64; D],
    /// Number of observation dates after time 0.
    pub dates: usize,
    /// The engine's dates per observation date.
    pub stride: usize,
    sink: Option<Mutex<Sink<'w>>>,
}

/// Where a streaming [`PathObserver`] writes, and the first error writing it.
struct Sink<'w> {
    out: &'w mut (dyn Write + Send),
    error: Option<std::io::Error>,
    bytes: Vec<u8>,
}

impl<const D: usize> std::fmt::Debug for PathObserver<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathObserver")
            .field("x0", &self.x0)
            .field("dates", &self.dates)
            .field("stride", &self.stride)
            .field("streaming", &self.sink.is_some())
            .finish()
    }
}

impl<'w, const D: usize> PathObserver<'w, D> {
    /// Keeps the rows in memory: `x0` (already observed) at time 0, then every `stride`-th of
    /// the engine's dates, `dates` of them.
    pub fn new(x0: [f64; D], dates: usize, stride: usize) -> Self {
        PathObserver {
            x0,
            dates,
            stride: stride.max(1),
            sink: None,
        }
    }

    /// Writes the rows to `out` as little-endian `f64`s, block after block in path order,
    /// instead of keeping them; the run's record stays empty.
    pub fn streaming(
        x0: [f64; D],
        dates: usize,
        stride: usize,
        out: &'w mut (dyn Write + Send),
    ) -> Self {
        PathObserver {
            sink: Some(Mutex::new(Sink {
                out,
                error: None,
                bytes: Vec::new(),
            })),
            ..Self::new(x0, dates, stride)
        }
    }

    /// Values per path.
    pub fn row_len(&self) -> usize {
        (self.dates + 1) * D
    }

    /// The first error writing the stream, if any (streaming only).
    pub fn finish(self) -> std::io::Result<()> {
        match self.sink {
            Some(sink) => {
                let sink = sink.into_inner().unwrap_or_else(|e| e.into_inner());
                match sink.error {
                    Some(e) => Err(e),
                    None => sink.out.flush(),
                }
            }
            None => Ok(()),
        }
    }
}

impl<const D: usize> Observer<D> for PathObserver<'_, D> {
    type Record = Vec<f64>;

    fn start(&self, paths: u64) -> Result<Vec<f64>, SdkError> {
        let mut v = Vec::new();
        if self.sink.is_none() {
            usize::try_from(paths)
                .ok()
                .and_then(|n| n.checked_mul(self.row_len()))
                .and_then(|n| v.try_reserve_exact(n).ok())
                .ok_or_else(|| {
                    SdkError::Runtime(format!(
                        "not enough memory to keep {paths} paths of {} dates",
                        self.dates + 1
                    ))
                })?;
        }
        Ok(v)
    }

    fn block(&self, paths: usize) -> Vec<f64> {
        let mut rows = vec![0.0; paths * self.row_len()];
        for row in rows.chunks_exact_mut(self.row_len()) {
            row[..D].copy_from_slice(&self.x0);
        }
        rows
    }

    #[inline(always)]
    fn observe(&self, record: &mut Vec<f64>, path: usize, date: usize, x: &[f64; D]) {
        if let Some(date) = own_date(self.stride, date) {
            let at = path * self.row_len() + (date + 1) * D;
            record[at..at + D].copy_from_slice(x);
        }
    }

    fn merge(&self, total: &mut Vec<f64>, block: Vec<f64>) {
        let Some(sink) = &self.sink else {
            total.extend_from_slice(&block);
            return;
        };
        let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
        if sink.error.is_some() {
            return;
        }
        let Sink { out, error, bytes } = &mut *sink;
        bytes.clear();
        bytes.extend(block.iter().flat_map(|v| v.to_le_bytes()));
        if let Err(e) = out.write_all(bytes) {
            *error = Some(e);
        }
    }

    fn block_bytes(&self) -> usize {
        crate::engine::BLOCK_PATHS as usize * self.row_len() * std::mem::size_of::<f64>()
    }
}
