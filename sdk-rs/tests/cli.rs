mod common;

#[path = "../examples/ou.rs"]
#[allow(dead_code)]
mod ou_example;

use std::path::PathBuf;

use architect_sdk::cli::{CliError, run_with_args};
use architect_sdk::{SDK_VERSION, Sde};
use common::{CORRELATED_SCHEME, Correlated};
use ou_example::{Model, SCHEME};
use serde_json::Value;

fn run(args: &[&str]) -> Result<String, CliError> {
    let argv = std::iter::once("ou")
        .chain(args.iter().copied())
        .map(String::from);
    run_with_args(&Model::default(), &SCHEME, argv)
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("architect-sdk-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn stats_json_has_the_documented_shape() {
    let text = run(&[
        "--paths",
        "1500",
        "--steps",
        "20",
        "--seed",
        "3",
        "--threads",
        "2",
        "--checkpoints",
        "4",
    ])
    .unwrap();
    assert!(text.ends_with('\n'));
    let v: Value = serde_json::from_str(&text).unwrap();
    let keys = [
        "format",
        "sdk_version",
        "model",
        "state",
        "scheme",
        "step_kinds",
        "paths",
        "steps",
        "horizon",
        "seed",
        "threads",
        "shift",
        "exponents",
        "checkpoints",
        "elapsed_seconds",
    ];
    assert_eq!(v.as_object().unwrap().len(), keys.len());
    // Keys appear in the documented order (serde_json's Value would sort them).
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(positions.is_sorted(), "{positions:?}");
    assert_eq!(v["format"], "architect.stats/1");
    assert_eq!(v["sdk_version"], SDK_VERSION);
    assert_eq!(v["model"], Model::NAME);
    assert_eq!(v["state"], serde_json::json!(["x"]));
    assert_eq!(v["scheme"], "euler-maruyama");
    assert_eq!(v["step_kinds"], serde_json::json!(["euler"]));
    assert_eq!(
        (v["paths"].as_u64(), v["steps"].as_u64()),
        (Some(1500), Some(20))
    );
    assert_eq!(
        (
            v["horizon"].as_f64(),
            v["seed"].as_u64(),
            v["threads"].as_u64()
        ),
        (Some(1.0), Some(3), Some(2))
    );
    assert_eq!(v["shift"], serde_json::json!([0.0]));
    assert_eq!(v["exponents"], serde_json::json!([[1], [2], [3], [4]]));
    let cps = v["checkpoints"].as_array().unwrap();
    assert_eq!(cps.len(), 4);
    for (k, cp) in cps.iter().enumerate() {
        assert_eq!(cp.as_object().unwrap().len(), 5);
        assert_eq!(cp["step"].as_u64(), Some(5 * (k as u64 + 1)));
        assert_eq!(cp["time"].as_f64(), Some(0.25 * (k as f64 + 1.0)));
        assert_eq!(
            (cp["count"].as_u64(), cp["nonfinite"].as_u64()),
            (Some(1500), Some(0))
        );
        assert_eq!(cp["sums"].as_array().unwrap().len(), 4);
    }
    assert!(v["elapsed_seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn describe_prints_the_model() {
    let v: Value = serde_json::from_str(&run(&["--describe"]).unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"sdk_version": SDK_VERSION, "model": "ornstein-uhlenbeck", "state": ["x"],
                           "noise_dim": 1, "scheme": "euler-maruyama", "step_kinds": ["euler"],
                           "initial_state": [0.0],
                           "parameters": {"kappa": 2.0, "theta": 1.0, "sigma": 0.5},
                           "constraints": {"kappa": "positive", "theta": "real", "sigma": "positive"},
                           "domain": {"x": "real"},
                           "jumps": []})
    );
}

#[test]
fn stats_and_terminal_files_are_written() {
    let dir = scratch_dir("files");
    let (stats, terminal) = (dir.join("stats.json"), dir.join("terminal.npy"));
    let argv = [
        "bin",
        "--paths",
        "1100",
        "--steps",
        "4",
        "--checkpoints",
        "2",
        "--moment-degree",
        "2",
        "--stats",
        stats.to_str().unwrap(),
        "--terminal",
        terminal.to_str().unwrap(),
    ];
    let out = run_with_args(&Correlated::default(), &CORRELATED_SCHEME, argv).unwrap();
    assert_eq!(out, "");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(
        v["exponents"],
        serde_json::json!([[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]])
    );
    assert_eq!(v["state"], serde_json::json!(["x", "y"]));

    let bytes = std::fs::read(&terminal).unwrap();
    assert_eq!(
        (10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64,
        0
    );
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[1100, 2]);
    assert_eq!(npy.order(), npyz::Order::C);
    assert_eq!(npy.dtype(), npyz::DType::new_scalar("<f8".parse().unwrap()));
    let data: Vec<f64> = npy.into_vec().unwrap();
    // The terminal mean equals the last checkpoint's first-degree sums.
    let sums = v["checkpoints"][1]["sums"].as_array().unwrap();
    let sum_x: f64 = data.iter().step_by(2).sum();
    let sum_y: f64 = data.iter().skip(1).step_by(2).map(|y| y - 1.0).sum();
    assert!((sum_x - sums[0].as_f64().unwrap()).abs() < 1e-9);
    assert!((sum_y - sums[1].as_f64().unwrap()).abs() < 1e-9);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "no temporary files remain: {leftovers:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_are_usage_errors() {
    let bad: [&[&str]; 11] = [
        &["--paths", "0"],
        &["--paths", "-5"],
        &["--paths", "many"],
        &["--steps", "0"],
        &["--steps", "7", "--checkpoints", "4"],
        &["--horizon", "0"],
        &["--horizon", "-1"],
        &["--horizon", "nan"],
        &["--moment-degree", "0"],
        &["--checkpoints", "0"],
        &["--no-such-flag"],
    ];
    for args in bad {
        match run(args) {
            Err(e @ CliError::Usage(_)) => assert_eq!(e.exit_code(), 2, "{args:?}"),
            other => panic!("{args:?} gave {other:?}"),
        }
    }
    let help = run(&["--help"]).unwrap_err();
    assert_eq!(help.exit_code(), 0);
    assert!(help.to_string().contains("--moment-degree"));
}

#[test]
fn runtime_failures_exit_with_1() {
    let missing = scratch_dir("runtime").join("no/such/dir/stats.json");
    let err = run(&[
        "--paths",
        "10",
        "--steps",
        "4",
        "--stats",
        missing.to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(matches!(err, CliError::Runtime(_)));
    assert_eq!(err.exit_code(), 1);
    let bad = Correlated {
        rho: 2.0,
        ..Correlated::default()
    };
    let err = run_with_args(&bad, &CORRELATED_SCHEME, ["bin", "--paths", "10"]).unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("positive semi-definite"), "{err}");
}

#[test]
fn set_and_x0_change_the_run_and_describe_shows_them() {
    let v: Value = serde_json::from_str(
        &run(&[
            "--describe",
            "--set",
            "kappa=3.5",
            "--set",
            "theta=-2",
            "--x0",
            "x=0.25",
        ])
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        v["parameters"],
        serde_json::json!({"kappa": 3.5, "theta": -2.0, "sigma": 0.5})
    );
    assert_eq!(v["initial_state"], serde_json::json!([0.25]));
    let stats = |extra: &[&str]| -> Value {
        let args: Vec<&str> = ["--paths", "2000", "--steps", "8", "--moment-degree", "2"]
            .iter()
            .chain(extra)
            .copied()
            .collect();
        serde_json::from_str(&run(&args).unwrap()).unwrap()
    };
    let plain = stats(&[]);
    let set = stats(&["--set", "theta=3"]);
    assert_eq!(plain["shift"], serde_json::json!([0.0]));
    assert_ne!(plain["checkpoints"], set["checkpoints"]);
    // θ = 3 instead of 1: Euler's mean after 8 steps of κh = 1/4 moves by (3 − 1)(1 − 0.75⁸).
    let mean = |v: &Value| v["checkpoints"][0]["sums"][0].as_f64().unwrap() / 2000.0;
    assert!((mean(&set) - mean(&plain) - 2.0 * (1.0 - 0.75f64.powi(8))).abs() < 1e-9);
    let moved = stats(&["--x0", "x=5"]);
    assert_eq!(moved["shift"], serde_json::json!([5.0]));
    // The same values as compiled in give the same run, bit for bit.
    assert_eq!(
        stats(&["--set", "kappa=2", "--x0", "x=0"])["checkpoints"],
        plain["checkpoints"]
    );
}

#[test]
fn bad_set_and_x0_values_are_one_line_usage_errors() {
    let cases: [(&[&str], &str); 9] = [
        (&["--set", "kappa=-1"], "kappa"),
        (&["--set", "kappa=0"], "positive"),
        (&["--set", "sigma=nan"], "sigma"),
        (&["--set", "theta=inf"], "real"),
        (&["--set", "theta=abc"], "theta"),
        (&["--set", "lambda=1"], "lambda"),
        (&["--set", "kappa"], "NAME=VALUE"),
        (&["--x0", "y=1"], "y"),
        (&["--x0", "x=1e400"], "x"),
    ];
    for (args, needle) in cases {
        match run(args) {
            Err(e @ CliError::Value(_)) => {
                assert_eq!(e.exit_code(), 2, "{args:?}");
                let text = e.to_string();
                assert!(!text.contains('\n'), "{args:?}: {text}");
                assert!(text.contains(needle), "{args:?}: {text}");
            }
            other => panic!("{args:?} gave {other:?}"),
        }
    }
    // A model that lists no constraints cannot be changed.
    let argv = ["bin", "--set", "rho=0.5"];
    let err = run_with_args(&Correlated::default(), &CORRELATED_SCHEME, argv).unwrap_err();
    assert!(matches!(err, CliError::Value(_)), "{err:?}");
}
