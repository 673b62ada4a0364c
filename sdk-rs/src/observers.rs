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
//! whose record depends only on that order gives the same result for every thread count.

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

    /// Path's observed state `x` at observation date `date` (0-based).
    fn observe(&self, record: &mut Self::Record, date: usize, x: &[f64; D]);

    /// Path's final observed state, after its last observation date (default: nothing).
    #[inline(always)]
    fn end(&self, record: &mut Self::Record, x: &[f64; D]) {
        let _ = (record, x);
    }

    /// Adds a block's record to the run's; blocks come in order.
    fn merge(&self, total: &mut Self::Record, block: Self::Record);
}

/// Power sums of the observed state's shifted monomials at each observation date.
#[derive(Clone, Debug)]
pub struct PowerSumObserver<const D: usize> {
    /// The monomials.
    pub moments: Moments<D>,
    /// Number of observation dates.
    pub dates: usize,
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
    fn observe(&self, record: &mut PowerSumRecord, date: usize, x: &[f64; D]) {
        self.moments
            .add(&mut record.sums[date], x, &mut record.scratch);
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
    fn observe(&self, _record: &mut Vec<[f64; D]>, _date: usize, _x: &[f64; D]) {}

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
    fn observe(&self, record: &mut Self::Record, date: usize, x: &[f64; D]) {
        if let (Some(o), Some(r)) = (self, record) {
            o.observe(r, date, x);
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
    fn observe(&self, record: &mut Self::Record, date: usize, x: &[f64; D]) {
        self.0.observe(&mut record.0, date, x);
        self.1.observe(&mut record.1, date, x);
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
}
