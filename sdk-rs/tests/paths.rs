//! Whole paths (`PathObserver`, `--paths-out`, `--dates`) and path ranges (`--first-path`).

mod common;

use architect_sdk::cli::{CliError, run_with_args};
use architect_sdk::{RunConfig, RunOutput, Scheme, Sde, Step, simulate};
use common::{Cir, HESTON_SCHEME, Heston, OU_SCHEME, Ou, config};
use serde_json::Value;

const OU_EXACT: Scheme<1> = Scheme::new("exact", [Step::ExactOu]);
const CIR_TRUNCATED: Scheme<1> = Scheme::new("full-truncation", [Step::FullTruncation]);

fn without_timing<const D: usize>(mut out: RunOutput<D>) -> RunOutput<D> {
    out.elapsed_seconds = 0.0;
    out.threads = 0;
    out
}

/// A run keeping its whole paths at `dates` dates, and its terminal states.
fn with_paths(cfg: &RunConfig, dates: u64) -> RunConfig {
    RunConfig {
        path_dates: dates,
        keep_terminal: true,
        ..cfg.clone()
    }
}

#[test]
fn paths_hold_the_initial_state_and_every_date_and_end_at_the_terminal_state() {
    fn check<const D: usize, const M: usize, S: Sde<D, M>>(model: &S, scheme: &Scheme<D>) {
        let (paths, dates) = (1500usize, 6usize);
        let cfg = with_paths(&config(paths as u64, 12, 4), dates as u64);
        let out = simulate(model, scheme, &cfg).unwrap();
        let rows = out.paths.as_ref().unwrap();
        let width = (dates + 1) * D;
        assert_eq!(rows.len(), paths * width);
        let terminal = out.terminal.as_ref().unwrap();
        let x0 = model.initial_state();
        for (row, end) in rows.chunks_exact(width).zip(terminal) {
            assert_eq!(&row[..D], &x0[..], "{}", scheme.name);
            assert_eq!(&row[dates * D..], &end[..], "{}", scheme.name);
        }
        // Asking for paths does not change the statistics (time steps draw the same numbers
        // however the steps are grouped between observation dates).
        let plain = RunConfig {
            path_dates: 0,
            ..cfg.clone()
        };
        if !scheme.is_exact() {
            let a = without_timing(simulate(model, scheme, &plain).unwrap());
            let b = RunOutput {
                paths: None,
                ..without_timing(out)
            };
            assert_eq!(a, b, "{}", scheme.name);
        }
    }
    check(&Ou::default(), &OU_SCHEME);
    check(&Heston::default(), &HESTON_SCHEME);
    check(&Ou::default(), &OU_EXACT);
}

#[test]
fn observed_paths_follow_the_scheme_and_give_the_power_sums() {
    // Full truncation: a CIR path may go below 0, and is observed floored, as in the sums.
    let model = Cir {
        sigma: 1.5,
        ..Cir::default()
    };
    let cfg = with_paths(&config(3000, 16, 4), 4);
    let out = simulate(&model, &CIR_TRUNCATED, &cfg).unwrap();
    let rows = out.paths.unwrap();
    assert!(rows.iter().all(|v| *v >= 0.0));
    assert!(rows.contains(&0.0), "some paths are truncated");
    let shift = out.shift[0];
    for (k, checkpoint) in out.checkpoints.iter().enumerate() {
        let column: Vec<f64> = rows.iter().skip(k + 1).step_by(5).copied().collect();
        let s1: f64 = column.iter().map(|x| x - shift).sum();
        let s2: f64 = column.iter().map(|x| (x - shift).powi(2)).sum();
        let sums = &checkpoint.sums.sums;
        assert!(
            (s1 - sums[0]).abs() <= 1e-9 * (1.0 + s1.abs()),
            "{s1} {}",
            sums[0]
        );
        assert!(
            (s2 - sums[1]).abs() <= 1e-9 * (1.0 + s2.abs()),
            "{s2} {}",
            sums[1]
        );
    }
}

#[test]
fn paths_do_not_depend_on_threads() {
    let cfg = with_paths(&config(2100, 10, 2), 5);
    let runs: Vec<_> = [1, 2, 3]
        .into_iter()
        .map(|threads| {
            let cfg = RunConfig {
                threads,
                ..cfg.clone()
            };
            without_timing(simulate(&Heston::default(), &HESTON_SCHEME, &cfg).unwrap())
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

#[test]
fn a_range_of_paths_is_the_same_rows_of_one_big_run() {
    fn check<const D: usize, const M: usize, S: Sde<D, M>>(model: &S, scheme: &Scheme<D>) {
        let big = with_paths(&config(3000, 8, 2), 4);
        let all = simulate(model, scheme, &big).unwrap();
        let width = 5 * D;
        // Ranges that start inside a block and inside a group of lanes.
        for (first, paths) in [(0u64, 1000u64), (1000, 1000), (1037, 1500), (2999, 1)] {
            let cfg = RunConfig {
                first_path: first,
                paths,
                ..big.clone()
            };
            let part = simulate(model, scheme, &cfg).unwrap();
            let (a, b) = (first as usize, (first + paths) as usize);
            assert_eq!(
                part.paths.unwrap(),
                all.paths.as_ref().unwrap()[a * width..b * width],
                "{} {first}",
                scheme.name
            );
            assert_eq!(
                part.terminal.unwrap(),
                all.terminal.as_ref().unwrap()[a..b],
                "{} {first}",
                scheme.name
            );
        }
    }
    check(&Ou::default(), &OU_SCHEME);
    check(&Heston::default(), &HESTON_SCHEME);
    check(&Ou::default(), &OU_EXACT);
}

#[test]
fn an_overriden_initial_state_starts_every_path() {
    let cfg = RunConfig {
        initial_state: Some(vec![0.3, 0.09]),
        ..with_paths(&config(100, 4, 1), 2)
    };
    let out = simulate(&Heston::default(), &HESTON_SCHEME, &cfg).unwrap();
    assert_eq!(out.shift, [0.3, 0.09]);
    let rows = out.paths.unwrap();
    assert!(rows.chunks_exact(6).all(|r| r[..2] == [0.3, 0.09]));
    let bad = RunConfig {
        initial_state: Some(vec![0.3]),
        ..cfg
    };
    assert!(simulate(&Heston::default(), &HESTON_SCHEME, &bad).is_err());
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("architect-sdk-paths-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cli(args: &[&str]) -> Result<String, CliError> {
    let argv = std::iter::once("heston").chain(args.iter().copied());
    run_with_args(&Heston::default(), &HESTON_SCHEME, argv)
}

fn read_npy(path: &std::path::Path) -> (Vec<u64>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.order(), npyz::Order::C);
    (npy.shape().to_vec(), npy.into_vec().unwrap())
}

#[test]
fn paths_out_streams_an_npy_file_and_first_path_picks_its_rows() {
    let dir = scratch_dir("cli");
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let common = ["--steps", "12", "--checkpoints", "3", "--seed", "5"];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = common.iter().chain(extra).copied().collect();
        cli(&args).unwrap()
    };
    let (big, terminal, stats) = (file("big.npy"), file("terminal.npy"), file("stats.json"));
    run(&[
        "--paths",
        "2500",
        "--paths-out",
        &big,
        "--dates",
        "4",
        "--terminal",
        &terminal,
        "--stats",
        &stats,
    ]);
    let (shape, rows) = read_npy(std::path::Path::new(&big));
    assert_eq!(shape, [2500, 5, 2]);
    let (_, last) = read_npy(std::path::Path::new(&terminal));
    for (row, end) in rows.chunks_exact(10).zip(last.chunks_exact(2)) {
        assert_eq!(&row[8..], end);
    }
    // The statistics are those of the run without paths.
    let without = run(&["--paths", "2500"]);
    let a: Value = serde_json::from_str(&without).unwrap();
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(a["checkpoints"], b["checkpoints"]);
    // Default dates: every step.
    let every = file("every.npy");
    run(&["--paths", "10", "--paths-out", &every]);
    assert_eq!(read_npy(std::path::Path::new(&every)).0, [10, 13, 2]);
    // A chunk is the same rows.
    let part = file("part.npy");
    let out = run(&[
        "--paths",
        "700",
        "--first-path",
        "1100",
        "--paths-out",
        &part,
        "--dates",
        "4",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["first_path"], 1100);
    let (shape, chunk) = read_npy(std::path::Path::new(&part));
    assert_eq!(shape, [700, 5, 2]);
    assert_eq!(chunk, rows[1100 * 10..1800 * 10]);
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(names.len(), 5, "no temporary files remain");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dates_need_paths_out_and_divide_the_steps() {
    let out = std::env::temp_dir().join("architect-never-written.npy");
    let out = out.to_str().unwrap();
    let bad: [&[&str]; 4] = [
        &["--dates", "4"],
        &["--steps", "10", "--dates", "4", "--paths-out", out],
        &["--dates", "0", "--paths-out", out],
        &["--first-path", "-1"],
    ];
    for args in bad {
        match cli(args) {
            Err(e @ CliError::Usage(_)) => assert_eq!(e.exit_code(), 2, "{args:?}"),
            other => panic!("{args:?} gave {other:?}"),
        }
    }
    assert!(!std::path::Path::new(out).exists());
    let huge = (u64::MAX - 10).to_string();
    assert!(matches!(
        cli(&["--first-path", &huge, "--paths", "100"]),
        Err(CliError::Usage(_))
    ));
}
