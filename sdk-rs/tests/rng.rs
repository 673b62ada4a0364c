mod common;

use architect_sdk::rng::{path_rng, standard_normal, standard_normals};
use common::ks_statistic;
use rand::Rng;

/// Critical value of the one-sample KS statistic at level 0.001 (asymptotic): 1.949/√n.
fn ks_critical(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

fn check_moments(sample: &[f64]) {
    let n = sample.len() as f64;
    let mean = sample.iter().sum::<f64>() / n;
    let var = sample.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let kurt = sample.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n / (var * var);
    // Standard errors of the sample mean, variance and kurtosis of N(0, 1): 1/√n, √(2/n), √(24/n).
    assert!(mean.abs() < 4.0 / n.sqrt(), "mean {mean}");
    assert!((var - 1.0).abs() < 4.0 * (2.0 / n).sqrt(), "variance {var}");
    assert!(
        (kurt - 3.0).abs() < 4.0 * (24.0 / n).sqrt(),
        "kurtosis {kurt}"
    );
}

#[test]
fn one_stream_is_standard_normal() {
    let mut sample = standard_normals(7, 0, 200_000);
    check_moments(&sample);
    let d = ks_statistic(&mut sample);
    assert!(d < ks_critical(sample.len()), "KS statistic {d}");
}

#[test]
fn first_draws_across_paths_are_standard_normal_and_uncorrelated() {
    let n = 50_000;
    let mut first: Vec<f64> = (0..n).map(|p| standard_normals(3, p, 1)[0]).collect();
    check_moments(&first);
    let lag: f64 = first.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / n as f64;
    assert!(
        lag.abs() < 4.0 / (n as f64).sqrt(),
        "neighbouring paths correlate: {lag}"
    );
    let d = ks_statistic(&mut first);
    assert!(d < ks_critical(first.len()), "KS statistic {d}");
}

#[test]
fn streams_are_reproducible_and_distinct() {
    let mut rng = path_rng(1, 2);
    let drawn: Vec<f64> = (0..5).map(|_| standard_normal(&mut rng)).collect();
    assert_eq!(drawn, standard_normals(1, 2, 5));
    let mut firsts: Vec<u64> = Vec::new();
    for seed in 0..20 {
        for path in 0..50 {
            firsts.push(path_rng(seed, path).next_u64());
        }
    }
    firsts.sort_unstable();
    firsts.dedup();
    assert_eq!(firsts.len(), 1000);
}
