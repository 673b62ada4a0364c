//! Power sums of shifted monomials, the statistics a run reports.

use std::collections::HashMap;

/// Every multi-index of length `dim` with total degree `1..=degree`, ordered by degree, then
/// lexicographically descending: for `dim = 2`, `[1,0], [0,1], [2,0], [1,1], [0,2], …`.
pub fn exponents(dim: usize, degree: usize) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    if dim == 0 {
        return out;
    }
    let mut current = vec![0; dim];
    for total in 1..=degree {
        push_with_total(&mut out, &mut current, 0, total as u32);
    }
    out
}

/// Pushes every completion of `current[..i]` whose entries from `i` on sum to `remaining`.
fn push_with_total(out: &mut Vec<Vec<u32>>, current: &mut [u32], i: usize, remaining: u32) {
    if i + 1 == current.len() {
        current[i] = remaining;
        out.push(current.to_vec());
        return;
    }
    for e in (0..=remaining).rev() {
        current[i] = e;
        push_with_total(out, current, i + 1, remaining - e);
    }
}

/// Running sums at one checkpoint: `sums[j] = Σ Π_i (x_i − shift_i)^{e_ji}` over finite paths.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerSums {
    /// Paths whose observed state was finite (included in `sums`).
    pub count: u64,
    /// Paths with a non-finite observed component (excluded from `sums`).
    pub nonfinite: u64,
    /// One power sum per exponent.
    pub sums: Vec<f64>,
}

impl PowerSums {
    /// Empty sums for `n` exponents.
    pub fn zeros(n: usize) -> Self {
        PowerSums {
            count: 0,
            nonfinite: 0,
            sums: vec![0.0; n],
        }
    }

    /// Adds `other` into `self` (both for the same exponents).
    pub fn merge(&mut self, other: &PowerSums) {
        self.count += other.count;
        self.nonfinite += other.nonfinite;
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            *a += b;
        }
    }
}

/// The monomials of a run: exponents, shift, and a recipe to evaluate them all cheaply.
#[derive(Clone, Debug)]
pub struct Moments<const D: usize> {
    shift: [f64; D],
    exponents: Vec<[u32; D]>,
    // Monomial j (stored at scratch slot j + 1) is slot `parent` times dx[coord]; slot 0 holds 1,
    // so every monomial costs one multiplication.
    links: Vec<(usize, usize)>,
}

impl<const D: usize> Moments<D> {
    /// The monomials of total degree `1..=degree` in `x − shift`.
    pub fn new(shift: [f64; D], degree: usize) -> Self {
        let general = exponents(D, degree);
        let links = links(&general);
        let exponents: Vec<[u32; D]> = general
            .iter()
            .map(|e| std::array::from_fn(|i| e[i]))
            .collect();
        Moments {
            shift,
            exponents,
            links,
        }
    }

    /// The exponents, in reporting order.
    pub fn exponents(&self) -> &[[u32; D]] {
        &self.exponents
    }

    /// The shift subtracted from every state before taking powers.
    pub fn shift(&self) -> [f64; D] {
        self.shift
    }

    /// Empty sums for these monomials.
    pub fn zeros(&self) -> PowerSums {
        PowerSums::zeros(self.exponents.len())
    }

    /// Work space for [`Moments::add`], allocated once and reused.
    pub fn scratch(&self) -> Vec<f64> {
        let mut scratch = vec![0.0; self.exponents.len() + 1];
        scratch[0] = 1.0;
        scratch
    }

    /// Adds the observed state `x` of one path to `acc`; `scratch` comes from [`Moments::scratch`].
    #[inline]
    pub fn add(&self, acc: &mut PowerSums, x: &[f64; D], scratch: &mut [f64]) {
        if !x.iter().all(|v| v.is_finite()) {
            acc.nonfinite += 1;
            return;
        }
        acc.count += 1;
        let dx: [f64; D] = std::array::from_fn(|i| x[i] - self.shift[i]);
        for (j, &(parent, coord)) in self.links.iter().enumerate() {
            let value = scratch[parent] * dx[coord];
            scratch[j + 1] = value;
            acc.sums[j] += value;
        }
    }
}

/// For each exponent, the scratch slot of a parent with one power fewer and the coordinate that
/// was removed (its last nonzero entry).
///
/// Not generic in the dimension: the hash map is compiled once in the SDK, not in every
/// generated crate.
fn links(exponents: &[Vec<u32>]) -> Vec<(usize, usize)> {
    let slot: HashMap<&[u32], usize> = exponents
        .iter()
        .enumerate()
        .map(|(j, e)| (e.as_slice(), j + 1))
        .collect();
    exponents
        .iter()
        .map(|e| {
            let coord = (0..e.len()).rev().find(|&i| e[i] > 0).expect("degree >= 1");
            let mut parent = e.clone();
            parent[coord] -= 1;
            let parent_slot = if parent.iter().all(|&p| p == 0) {
                0
            } else {
                slot[parent.as_slice()]
            };
            (parent_slot, coord)
        })
        .collect()
}
