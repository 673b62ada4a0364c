mod common;

use architect_sdk::moments::{Moments, PowerSums, exponents};
use architect_sdk::simulate;
use common::{CORRELATED_SCHEME, Correlated, HESTON_SCHEME, Heston, config};

#[test]
fn exponents_are_ordered_by_degree_then_lexicographically_descending() {
    let e2 = exponents(2, 3);
    let want: Vec<Vec<u32>> = vec![
        vec![1, 0],
        vec![0, 1],
        vec![2, 0],
        vec![1, 1],
        vec![0, 2],
        vec![3, 0],
        vec![2, 1],
        vec![1, 2],
        vec![0, 3],
    ];
    assert_eq!(e2, want);
    let e3 = exponents(3, 2);
    let want: Vec<Vec<u32>> = vec![
        vec![1, 0, 0],
        vec![0, 1, 0],
        vec![0, 0, 1],
        vec![2, 0, 0],
        vec![1, 1, 0],
        vec![1, 0, 1],
        vec![0, 2, 0],
        vec![0, 1, 1],
        vec![0, 0, 2],
    ];
    assert_eq!(e3, want);
    assert_eq!(exponents(1, 4), vec![vec![1], vec![2], vec![3], vec![4]]);
    assert!(exponents(0, 3).is_empty());
    assert!(exponents(3, 0).is_empty());
}

#[test]
fn exponent_counts_are_binomial() {
    // C(d + n, n) − 1 multi-indices of degree 1..=n in d variables.
    assert_eq!(exponents(2, 4).len(), 14);
    assert_eq!(exponents(3, 4).len(), 34);
    assert_eq!(exponents(5, 3).len(), 55);
    for e in exponents(4, 3) {
        assert!((1..=3).contains(&e.iter().sum::<u32>()));
    }
}

fn direct_sum(points: &[[f64; 3]], shift: [f64; 3], e: &[u32]) -> f64 {
    points
        .iter()
        .map(|x| {
            (0..3)
                .map(|i| (x[i] - shift[i]).powi(e[i] as i32))
                .product::<f64>()
        })
        .sum()
}

#[test]
fn accumulator_matches_direct_power_sums_and_skips_nonfinite() {
    let shift = [0.5, -1.0, 2.0];
    let moments = Moments::new(shift, 4);
    let points = [
        [1.0, 2.0, 3.0],
        [-0.3, 0.7, 1.9],
        [0.5, -1.0, 2.0],
        [4.0, -2.5, 0.25],
    ];
    let mut acc = moments.zeros();
    let mut scratch = moments.scratch();
    for p in &points {
        moments.add(&mut acc, p, &mut scratch);
    }
    moments.add(&mut acc, &[f64::NAN, 0.0, 0.0], &mut scratch);
    moments.add(&mut acc, &[0.0, f64::INFINITY, 0.0], &mut scratch);
    assert_eq!((acc.count, acc.nonfinite), (4, 2));
    assert_eq!(acc.sums.len(), 34);
    for (j, e) in moments.exponents().iter().enumerate() {
        let want = direct_sum(&points, shift, e);
        assert!(
            (acc.sums[j] - want).abs() <= 1e-12 * want.abs().max(1.0),
            "exponent {e:?}: {} vs {want}",
            acc.sums[j]
        );
    }
}

#[test]
fn merge_adds_counts_and_sums() {
    let mut a = PowerSums {
        count: 2,
        nonfinite: 1,
        sums: vec![1.0, 2.0],
    };
    let b = PowerSums {
        count: 3,
        nonfinite: 0,
        sums: vec![0.5, -1.0],
    };
    a.merge(&b);
    assert_eq!(
        a,
        PowerSums {
            count: 5,
            nonfinite: 1,
            sums: vec![1.5, 1.0]
        }
    );
}

#[test]
fn run_sums_match_direct_computation_from_terminal_states() {
    let mut cfg = config(37, 4, 2);
    cfg.moment_degree = 3;
    cfg.keep_terminal = true;
    let out = simulate(&Heston::default(), &HESTON_SCHEME, &cfg).unwrap();
    let terminal = out.terminal.as_ref().unwrap();
    assert_eq!(terminal.len(), 37);
    let last = &out.checkpoints[1].sums;
    assert_eq!((last.count, last.nonfinite), (37, 0));
    for (j, e) in out.exponents.iter().enumerate() {
        let want: f64 = terminal
            .iter()
            .map(|x| {
                (0..2)
                    .map(|i| (x[i] - out.shift[i]).powi(e[i] as i32))
                    .product::<f64>()
            })
            .sum();
        assert!((last.sums[j] - want).abs() <= 1e-12 * want.abs().max(1e-300) + 1e-300);
    }
}

#[test]
fn intermediate_checkpoint_equals_a_shorter_run() {
    // Same h, same streams: the first checkpoint of a run to T is the end of a run to T/2.
    let model = Correlated::default();
    let mut long = config(3000, 8, 2);
    long.moment_degree = 3;
    let mut short = long.clone();
    short.horizon = 0.5;
    short.steps = 4;
    short.checkpoints = 1;
    let long = simulate(&model, &CORRELATED_SCHEME, &long).unwrap();
    let short = simulate(&model, &CORRELATED_SCHEME, &short).unwrap();
    assert_eq!(long.checkpoints[0].sums, short.checkpoints[0].sums);
    assert_eq!(
        (long.checkpoints[0].step, long.checkpoints[0].time),
        (4, 0.5)
    );
    assert_eq!(
        (long.checkpoints[1].step, long.checkpoints[1].time),
        (8, 1.0)
    );
}
