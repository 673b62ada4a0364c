mod common;

use architect_sdk::rng::{path_key, path_rng, standard_normal, standard_normals};
use common::{
    chi2_quantile, ks_critical, ks_statistic, ks_statistic_against, normal_cdf, normal_tail,
};
use rand::Rng;

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

#[test]
fn path_rng_is_xoshiro256plusplus_seeded_by_splitmix64() {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;
    for (seed, path) in [(0, 0), (1, 2), (42, 1023), (u64::MAX, 1 << 40)] {
        let mut ours = path_rng(seed, path);
        let mut reference = Xoshiro256PlusPlus::seed_from_u64(path_key(seed, path));
        for _ in 0..1000 {
            assert_eq!(ours.next_u64(), reference.next_u64());
        }
        assert_eq!(ours.next_u32(), reference.next_u32());
        let (mut a, mut b) = ([0u8; 13], [0u8; 13]);
        ours.fill_bytes(&mut a);
        reference.fill_bytes(&mut b);
        assert_eq!(a, b);
    }
}

#[test]
fn ziggurat_tables_have_equal_areas_and_match_the_density() {
    let (x, f) = architect_sdk::ziggurat::tables();
    let n = x.len() - 1;
    assert_eq!(x[n], 0.0);
    assert_eq!(f[n], 1.0);
    let r = x[1];
    // Area of the base strip: the rectangle [0, r] × [0, f(r)] plus the tail ∫_r^∞ f
    // (Simpson's rule on [r, r + 10]; the rest is below 1e-20).
    let m = 100_000;
    let dx = 10.0 / m as f64;
    let density = |k: usize| (-0.5 * (r + k as f64 * dx).powi(2)).exp();
    let tail = (1..m)
        .map(|k| if k % 2 == 1 { 4.0 } else { 2.0 } * density(k))
        .sum::<f64>()
        + density(0)
        + density(m);
    let v = r * f[1] + tail * dx / 3.0;
    assert!((x[0] * f[1] - v).abs() < 1e-6 * v, "base strip area");
    for i in 0..n {
        assert!(x[i + 1] < x[i], "widths decrease at {i}");
        assert!(
            (f[i] - (-0.5 * x[i] * x[i]).exp()).abs() <= 2e-16,
            "height {i}"
        );
        if i >= 1 {
            let area = x[i] * (f[i + 1] - f[i]);
            assert!(
                (area - v).abs() < 1e-9 * v,
                "layer {i} has area {area}, not {v}"
            );
        }
    }
}

/// Draws `n` normals from path 0 of `seed`.
fn normals(seed: u64, n: usize) -> Vec<f64> {
    standard_normals(seed, 0, n)
}

#[test]
fn normal_sampler_moments_match_to_the_eighth() {
    // E Z^k for k = 1..8: 0, 1, 0, 3, 0, 15, 0, 105; Var Z^k = E Z^2k − (E Z^k)^2.
    let n = 2_000_000;
    let z = normals(11, n);
    let even = [
        1.0, 1.0, 3.0, 15.0, 105.0, 945.0, 10395.0, 135135.0, 2027025.0,
    ];
    for k in 1..=8usize {
        let mean = z.iter().map(|v| v.powi(k as i32)).sum::<f64>() / n as f64;
        let want = if k % 2 == 0 { even[k / 2] } else { 0.0 };
        let var = even[k] - want * want;
        let se = (var / n as f64).sqrt();
        // Eight two-sided z-tests at 4.5 standard errors: family-wise level below 6e-5.
        assert!(
            (mean - want).abs() < 4.5 * se,
            "E Z^{k} = {mean}, want {want} ± {se}"
        );
    }
}

#[test]
fn normal_sampler_passes_kolmogorov_smirnov_at_level_0001() {
    for seed in [5, 6] {
        let mut z = normals(seed, 1_000_000);
        let d = ks_statistic(&mut z);
        assert!(d < ks_critical(z.len()), "seed {seed}: KS statistic {d}");
    }
}

#[test]
fn normal_sampler_tail_and_wedges_have_the_right_mass() {
    // Beyond the ziggurat's tail edge R the tail sampler alone decides; between 1 and 3 the
    // wedges of many layers do. Binomial z-tests on the counts (4.5 standard errors).
    let (x, _) = architect_sdk::ziggurat::tables();
    let r = x[1];
    let n = 4_000_000;
    let z = normals(12, n);
    for (lo, hi) in [(r, f64::INFINITY), (3.0, r), (1.0, 3.0), (0.0, 0.5)] {
        let p = 2.0 * (normal_cdf(hi.min(40.0)) - normal_cdf(lo));
        let count = z.iter().filter(|v| (lo..hi).contains(&v.abs())).count() as f64;
        let se = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (count - n as f64 * p).abs() < 4.5 * se,
            "P({lo} ≤ |Z| < {hi}): {count} draws, want {} ± {se}",
            n as f64 * p
        );
    }
    // Signs are symmetric in the tail too.
    let beyond: Vec<&f64> = z.iter().filter(|v| v.abs() >= r).collect();
    let positive = beyond.iter().filter(|v| ***v > 0.0).count() as f64;
    let m = beyond.len() as f64;
    assert!((positive - m / 2.0).abs() < 4.5 * (m / 4.0).sqrt());
}

#[test]
fn neighbouring_streams_are_uncorrelated() {
    // Paths that share a group of interleaved lanes (p, p+1), and paths in different blocks,
    // which different threads simulate (p, p + 1024): sample correlations of 20 000 draws.
    let n = 20_000;
    for (a, b) in [(0, 1), (2, 3), (5, 1029), (1023, 1024), (7, 7 + 4096)] {
        let za = standard_normals(9, a, n);
        let zb = standard_normals(9, b, n);
        let corr = za.iter().zip(&zb).map(|(x, y)| x * y).sum::<f64>() / n as f64;
        // Lagged by one draw as well: a shifted copy of a neighbour would show here.
        let lag = za.iter().skip(1).zip(&zb).map(|(x, y)| x * y).sum::<f64>() / n as f64;
        let bound = 4.5 / (n as f64).sqrt();
        assert!(corr.abs() < bound, "paths {a}, {b}: correlation {corr}");
        assert!(
            lag.abs() < bound,
            "paths {a}, {b}: lagged correlation {lag}"
        );
    }
}

#[test]
fn tail_sampler_follows_the_conditional_normal_tail() {
    // KS test of `ziggurat::tail` against P(Z ≤ y | Z > R) = 1 − Q(y)/Q(R), level 0.001.
    let (x, _) = architect_sdk::ziggurat::tables();
    let r = x[1];
    let mut rng = path_rng(13, 0);
    let mut sample: Vec<f64> = (0..200_000)
        .map(|_| architect_sdk::ziggurat::tail(&mut rng, false))
        .collect();
    assert!(sample.iter().all(|&v| v > r));
    let qr = normal_tail(r);
    let d = ks_statistic_against(&mut sample, |y| 1.0 - normal_tail(y) / qr);
    assert!(d < ks_critical(sample.len()), "KS statistic {d}");
    let negative = architect_sdk::ziggurat::tail(&mut rng, true);
    assert!(negative < -r);
}

#[test]
fn normal_sampler_fills_every_layer_with_the_right_mass() {
    // Chi-square test on the 1024 layer bands [X[i+1], X[i]) of |Z| (the wedge test decides
    // the edge of each band) plus the tail band, at level 1e-4.
    let (x, _) = architect_sdk::ziggurat::tables();
    let layers = x.len() - 1;
    let n = 4_000_000;
    let z = normals(14, n);
    let mut counts = vec![0u64; layers];
    for v in &z {
        let a = v.abs();
        // Bands are sorted by decreasing edge: band i holds X[i+1] ≤ |z| < X[i] (band 0 from R up).
        let i = if a >= x[1] {
            0
        } else {
            x[1..].partition_point(|&edge| edge > a)
        };
        counts[i] += 1;
    }
    let mut chi2 = 0.0;
    for (i, &c) in counts.iter().enumerate() {
        let p = if i == 0 {
            2.0 * normal_tail(x[1])
        } else {
            2.0 * (normal_cdf(x[i]) - normal_cdf(x[i + 1]))
        };
        let expected = n as f64 * p;
        chi2 += (c as f64 - expected).powi(2) / expected;
    }
    let critical = chi2_quantile((layers - 1) as f64, 3.719);
    assert!(
        chi2 < critical,
        "chi-square {chi2} over {layers} bands (critical {critical})"
    );
}

/// A generator that replays a script of 64-bit words.
struct Scripted(std::collections::VecDeque<u64>);

impl rand::TryRng for Scripted {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.0.pop_front().expect("the script ran out"))
    }
    fn try_fill_bytes(&mut self, _dst: &mut [u8]) -> Result<(), Self::Error> {
        unimplemented!()
    }
}

#[test]
fn wedge_test_accepts_exactly_the_points_under_the_curve() {
    // White-box: the first word lands in the wedge of layer i (|x| between X[i+1] and X[i]),
    // the second is the uniform height; if the point is rejected the sampler draws again and
    // the script's third word (0: layer 0, x = 0) ends the call. The acceptance rate must be
    // the share of the wedge rectangle under the curve, and accepted points must follow the
    // density f(x) − F[i] on the band (KS test, level 0.001).
    let (x, f) = architect_sdk::ziggurat::tables();
    let mut source = path_rng(15, 0);
    for i in [1usize, 7, 100, 512, 1000, 1023] {
        let (lo, hi) = (x[i + 1], x[i]);
        let density = |y: f64| (-0.5 * y * y).exp() - f[i];
        // Simpson's rule for the area under the curve within the wedge rectangle.
        let m = 2000;
        let dx = (hi - lo) / m as f64;
        let simpson = |g: &dyn Fn(f64) -> f64, a: f64, n: usize, h: f64| {
            (g(a)
                + g(a + n as f64 * h)
                + (1..n)
                    .map(|k| if k % 2 == 1 { 4.0 } else { 2.0 } * g(a + k as f64 * h))
                    .sum::<f64>())
                * h
                / 3.0
        };
        let under = simpson(&density, lo, m, dx);
        let p_accept = under / ((hi - lo) * (f[i + 1] - f[i]));
        let trials = 100_000;
        let mut accepted = Vec::new();
        let two52 = (1u64 << 52) as f64;
        for _ in 0..trials {
            // |j| uniform on [2^52 X[i+1]/X[i], 2^52), random sign.
            let share = lo / hi + (1.0 - lo / hi) * source.uniform();
            let j = ((share * two52) as i64).min((1 << 52) - 1);
            let j = if source.next_u64() & 1 == 1 { -j } else { j };
            let first = ((j as u64) << 11) | i as u64;
            let script = [first, source.next_u64(), 0].into_iter().collect();
            let z = architect_sdk::ziggurat::sample(&mut Scripted(script));
            if z != 0.0 {
                assert!(
                    (lo..=hi).contains(&z.abs()),
                    "layer {i}: {z} outside the wedge"
                );
                accepted.push(z.abs());
            }
        }
        let rate = accepted.len() as f64 / trials as f64;
        let se = (p_accept * (1.0 - p_accept) / trials as f64).sqrt();
        assert!(
            (rate - p_accept).abs() < 4.5 * se,
            "layer {i}: acceptance {rate}, want {p_accept} ± {se}"
        );
        let cdf = |y: f64| {
            let steps = 200;
            simpson(&density, lo, steps, (y.clamp(lo, hi) - lo) / steps as f64) / under
        };
        let d = ks_statistic_against(&mut accepted, cdf);
        assert!(
            d < ks_critical(accepted.len()),
            "layer {i}: KS statistic {d}"
        );
    }
}
