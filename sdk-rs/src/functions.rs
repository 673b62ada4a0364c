//! Mathematical functions that model code may call and `f64` has no method for.
//!
//! Generated `model.rs` files call them by path, `architect_sdk::erf(x)` and
//! `architect_sdk::sign(x)`; the static gate admits exactly these names from the SDK
//! (`SDK_NAMES` in `sdk-rs/gate`), and architect's printer writes them for sympy's `erf` and
//! `sign` (`architect/expr/functions.py`).

/// The error function `erf(x) = 2/√π ∫₀ˣ e^{−t²} dt`, from the `libm` crate (a port of
/// FreeBSD's msun `s_erf.c`: error below 1 ulp). `erf(±∞) = ±1`, `erf(NaN)` is NaN.
#[inline]
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// The sign of `x` as sympy's `sign` defines it: `-1`, `0` or `1` (`0` for both zeros), and
/// NaN for NaN. Unlike `f64::signum`, which gives `1` for `+0.0` and `-1` for `-0.0`.
#[inline]
pub fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        // ±0 → 0, NaN → NaN.
        x * 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_known_values() {
        // Reference values: Abramowitz & Stegun table 7.1, and erf(x) = 1 - erfc(x) at large x.
        let table = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
        ];
        for (x, want) in table {
            assert!((erf(x) - want).abs() <= 2e-16, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + want).abs() <= 2e-16, "erf is odd at {x}");
        }
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert_eq!(erf(f64::NEG_INFINITY), -1.0);
        assert_eq!(erf(40.0), 1.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn sign_is_sympys() {
        assert_eq!(sign(2.5), 1.0);
        assert_eq!(sign(-1e-300), -1.0);
        assert_eq!(sign(0.0), 0.0);
        assert_eq!(sign(-0.0), 0.0);
        assert_eq!(sign(f64::INFINITY), 1.0);
        assert_eq!(sign(f64::NEG_INFINITY), -1.0);
        assert!(sign(f64::NAN).is_nan());
    }
}
