//! The command line of a generated model binary.
//!
//! ```text
//! model-binary [--paths N] [--steps N] [--horizon T] [--seed S] [--threads K]
//!              [--checkpoints K] [--moment-degree D] [--terminal FILE.npy] [--stats FILE] [--describe]
//!              [--paths-out FILE.npy [--dates K]] [--first-path P]
//!              [--set NAME=VALUE]... [--x0 NAME=VALUE]...
//! model-binary --serve        (architect's persistent worker: requests on standard input, see `serve`)
//! ```
//! Exit status: 0 on success, 2 on bad arguments (one line on stderr for a bad `--set`/`--x0`),
//! 1 on a runtime error.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser};
use serde::Serialize;

use crate::engine::{self, RunConfig, RunOutput};
use crate::files::{temp_path, write_atomic, write_npy_flat, write_npy_header};
use crate::jail::{self, JailStatus};
use crate::jumps::{Jump, JumpSize};
use crate::scheme::Scheme;
use crate::sde::{Constraint, Domain, Sde};
use crate::simd::Kernel;
use crate::{SDK_VERSION, STATS_FORMAT};

/// Command-line arguments of a model binary.
#[derive(Parser, Debug, Clone, PartialEq)]
#[command(name = "model-binary", allow_negative_numbers = true)]
struct Args {
    /// Number of simulated paths
    #[arg(long, default_value_t = 100_000, value_parser = at_least_one)]
    paths: u64,
    /// Number of time steps (a multiple of --checkpoints)
    #[arg(long, default_value_t = 200, value_parser = at_least_one)]
    steps: u64,
    /// Final time (finite, > 0)
    #[arg(long, default_value_t = 1.0, value_parser = positive_finite)]
    horizon: f64,
    /// Seed of the random streams
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (0 = all cores)
    #[arg(long, default_value_t = 0,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=engine::MAX_THREADS as u64))]
    threads: usize,
    /// Number of equally spaced observation times
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    checkpoints: u64,
    /// Highest total degree of the reported power sums
    #[arg(long = "moment-degree", default_value_t = 4,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=engine::MAX_MOMENT_DEGREE as u64))]
    moment_degree: usize,
    /// Write the final observed states to FILE as an (paths, D) float64 .npy array
    #[arg(long, value_name = "FILE")]
    terminal: Option<PathBuf>,
    /// Write the statistics JSON to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
    /// Write whole paths to FILE as a (paths, dates + 1, D) float64 .npy array (streamed)
    #[arg(long = "paths-out", value_name = "FILE")]
    paths_out: Option<PathBuf>,
    /// Equally spaced observation dates of --paths-out (default: --steps; divides --steps)
    #[arg(long, value_parser = at_least_one, requires = "paths_out")]
    dates: Option<u64>,
    /// Index of the first simulated path: the run simulates paths P .. P + N - 1
    #[arg(long = "first-path", value_name = "P", default_value_t = 0)]
    first_path: u64,
    /// Sets a parameter for this run (repeatable), checked against its constraint
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Sets a state variable's initial value for this run (repeatable), checked against its domain
    #[arg(long = "x0", value_name = "NAME=VALUE")]
    x0: Vec<String>,
    /// Print the model's description as JSON and exit
    #[arg(long)]
    describe: bool,
    /// Run as architect's persistent worker: lock down, then answer path requests arriving on
    /// standard input (a Unix seqpacket socket, each with its shared memory) until it closes
    #[arg(long, conflicts_with_all = ["describe", "terminal", "stats", "paths_out"])]
    serve: bool,
    /// Normal sampler: `auto` uses AVX-512 where the CPU has it; both give the same numbers
    #[arg(long, value_enum, default_value_t = KernelArg::Auto)]
    kernel: KernelArg,
}

/// The `--kernel` choices.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum KernelArg {
    Auto,
    Scalar,
}

impl KernelArg {
    fn kernel(self) -> Kernel {
        match self {
            KernelArg::Auto => Kernel::detect(),
            KernelArg::Scalar => Kernel::Scalar,
        }
    }
}

fn at_least_one(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_string()),
    }
}

fn positive_finite(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be finite and positive, got {v}")),
        Err(e) => Err(e.to_string()),
    }
}

impl Args {
    /// The files this run writes (none for `--describe`).
    fn output_files(&self) -> Vec<&Path> {
        if self.describe {
            return Vec::new();
        }
        [&self.terminal, &self.stats, &self.paths_out]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
            .collect()
    }

    /// The command line that asks for the same run, with the output files replaced.
    fn to_argv(&self, program: OsString, files: &OutputPaths<'_>) -> Vec<OsString> {
        let mut argv = vec![program];
        let mut option = |name: &str, value: String| {
            argv.push(format!("--{name}").into());
            argv.push(value.into());
        };
        option("paths", self.paths.to_string());
        option("steps", self.steps.to_string());
        // `Display` of an f64 is the shortest text that reads back to the same number.
        option("horizon", self.horizon.to_string());
        option("seed", self.seed.to_string());
        option("threads", self.threads.to_string());
        option("checkpoints", self.checkpoints.to_string());
        option("moment-degree", self.moment_degree.to_string());
        let kernel = match self.kernel {
            KernelArg::Auto => "auto",
            KernelArg::Scalar => "scalar",
        };
        option("kernel", kernel.to_owned());
        option("first-path", self.first_path.to_string());
        if let Some(dates) = self.dates {
            option("dates", dates.to_string());
        }
        for assignment in &self.set {
            option("set", assignment.clone());
        }
        for assignment in &self.x0 {
            option("x0", assignment.clone());
        }
        for (name, path) in [
            ("terminal", files.terminal),
            ("stats", files.stats),
            ("paths-out", files.paths),
        ] {
            if let Some(path) = path {
                argv.push(format!("--{name}").into());
                argv.push(path.as_os_str().to_owned());
            }
        }
        argv
    }

    fn config(&self) -> RunConfig {
        RunConfig {
            paths: self.paths,
            steps: self.steps,
            horizon: self.horizon,
            seed: self.seed,
            threads: self.threads,
            checkpoints: self.checkpoints,
            moment_degree: self.moment_degree,
            keep_terminal: self.terminal.is_some(),
            first_path: self.first_path,
            path_dates: match &self.paths_out {
                Some(_) => self.dates.unwrap_or(self.steps),
                None => 0,
            },
            initial_state: None,
            kernel: self.kernel.kernel(),
        }
    }
}

/// The run-time values of a command line (`--set`, `--x0`), checked against the model's constants.
#[derive(Clone, Debug, Default, PartialEq)]
struct Overrides {
    /// Parameters by name, in command-line order (a later one wins).
    parameters: Vec<(&'static str, f64)>,
    /// Initial values by state index.
    x0: Vec<(usize, f64)>,
}

impl Overrides {
    /// Reads and checks `--set` and `--x0`: every failure is one line naming the value and what
    /// it must be.
    fn of(args: &Args, info: &ModelInfo) -> Result<Self, CliError> {
        let mut out = Overrides::default();
        for assignment in &args.set {
            let (name, value) = split_assignment("set", assignment)?;
            let Some(&(name, constraint)) = info.constraints.iter().find(|(n, _)| *n == name)
            else {
                let known: Vec<&str> = info.constraints.iter().map(|(n, _)| *n).collect();
                return Err(CliError::Value(format!(
                    "--set {assignment}: the model has no parameter '{name}' (parameters: {})",
                    if known.is_empty() {
                        "none that can be set".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            out.parameters.push((
                name,
                checked_value("set", assignment, "parameter", name, value, constraint)?,
            ));
        }
        for assignment in &args.x0 {
            let (name, value) = split_assignment("x0", assignment)?;
            let Some(index) = info.state.iter().position(|n| *n == name) else {
                return Err(CliError::Value(format!(
                    "--x0 {assignment}: the model has no state variable '{name}' (state: {})",
                    info.state.join(", ")
                )));
            };
            let domain = info.domain.get(index).copied().unwrap_or(Domain::Real);
            let value = checked_value(
                "x0",
                assignment,
                "state variable",
                info.state[index],
                value,
                domain.constraint(),
            )?;
            out.x0.push((index, value));
        }
        Ok(out)
    }

    /// Sets the parameters of `model`.
    fn apply<const D: usize, const M: usize, S: Sde<D, M>>(
        &self,
        model: &mut S,
    ) -> Result<(), CliError> {
        for &(name, value) in &self.parameters {
            if !model.set_parameter(name, value) {
                return Err(CliError::Value(format!(
                    "--set {name}={value}: the model lists parameter '{name}' but cannot set it"
                )));
            }
        }
        Ok(())
    }

    /// The run's initial state from the model's, when `--x0` changes it.
    fn initial_state(&self, model_x0: &[f64]) -> Option<Vec<f64>> {
        if self.x0.is_empty() {
            return None;
        }
        let mut x0 = model_x0.to_vec();
        for &(i, v) in &self.x0 {
            x0[i] = v;
        }
        Some(x0)
    }
}

/// `NAME=VALUE` split at the first `=`.
fn split_assignment<'a>(flag: &str, assignment: &'a str) -> Result<(&'a str, &'a str), CliError> {
    assignment
        .split_once('=')
        .map(|(n, v)| (n.trim(), v.trim()))
        .ok_or_else(|| CliError::Value(format!("--{flag} {assignment}: expected NAME=VALUE")))
}

/// `value` read as a number that satisfies `constraint`.
fn checked_value(
    flag: &str,
    assignment: &str,
    what: &str,
    name: &str,
    value: &str,
    constraint: Constraint,
) -> Result<f64, CliError> {
    match value.parse::<f64>() {
        Ok(v) if constraint.admits(v) => Ok(v),
        _ => Err(CliError::Value(format!(
            "--{flag} {assignment}: {what} '{name}' {}, got {value}",
            constraint.requirement(),
        ))),
    }
}

/// The files a command line names (`--terminal`, `--stats`, `--paths-out`).
struct OutputPaths<'a> {
    terminal: Option<&'a Path>,
    stats: Option<&'a Path>,
    paths: Option<&'a Path>,
}

/// Why a command line did not produce output.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments, or a request for help (clap's error; see [`clap::Error::exit_code`]).
    Usage(clap::Error),
    /// A bad `--set` or `--x0` value: exit status 2, the message one line.
    Value(String),
    /// The run itself failed (model, I/O, threads).
    Runtime(String),
}

impl CliError {
    /// The process exit status: clap's (2 for bad usage, 0 for `--help`), or 1 at run time.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(e) => e.exit_code() as u8,
            CliError::Value(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(e) => write!(f, "{}", e.render()),
            CliError::Value(msg) | CliError::Runtime(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for CliError {}

/// Runs a model binary on the process's command line, with both engine paths compiled.
///
/// Generated crates call [`run_as`] instead, which compiles only the path their scheme takes;
/// this stays for hand-written binaries (the SDK's examples) and crates written before it.
pub fn run<const D: usize, const M: usize, S: Sde<D, M>>(model: S, scheme: Scheme<D>) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    exit(if scheme.is_exact() {
        run_args::<true, D, M, S>(model, &scheme, args)
    } else {
        run_args::<false, D, M, S>(model, &scheme, args)
    })
}

/// Runs a model binary on the process's command line; the whole `main` of a generated crate:
///
/// ```ignore
/// architect_sdk::cli::run_as::<{ model::SCHEME.is_exact() }, _, _, _>(model::Model::default(), model::SCHEME)
/// ```
///
/// `EXACT` ([`Scheme::is_exact`] of the scheme, evaluated at compile time) selects the engine
/// path that is compiled ([`engine::simulate_as`]); a scheme on the other path fails at run
/// time with a clear error, before anything is simulated.
pub fn run_as<const EXACT: bool, const D: usize, const M: usize, S: Sde<D, M>>(
    model: S,
    scheme: Scheme<D>,
) -> ExitCode {
    exit(run_args::<EXACT, D, M, S>(
        model,
        &scheme,
        std::env::args_os().collect(),
    ))
}

/// Marks the jailed child that [`run_jailed`] starts to write files it cannot rename.
const JAILED_CHILD: &str = "ARCHITECT_JAILED_CHILD";

/// The whole `main` of a generated crate: runs the model on the process's command line after the
/// process has locked itself down ([`jail::lock_down`]), so no model code — not even `S::default`
/// — runs outside the jail:
///
/// ```ignore
/// architect_sdk::cli::run_jailed::<{ model::SCHEME.is_exact() }, _, _, model::Model>(model::SCHEME)
/// ```
///
/// Usage errors and `--help` are answered before anything else, from the model's constants. A
/// run that writes files (`--terminal`, `--stats`) is split in two processes: this one, which
/// never calls model code, starts the same binary as a jailed child that opens temporary files
/// next to the requested ones, locks itself down and writes them; when the child succeeds, this
/// process renames them into place (a jailed process cannot rename), otherwise deletes them. So
/// files stay atomic: a reader never sees half a file, a failed run leaves the old one. A run
/// without files locks itself down in place. `EXACT` is as for [`run_as`].
pub fn run_jailed<const EXACT: bool, const D: usize, const M: usize, S>(
    scheme: Scheme<D>,
) -> ExitCode
where
    S: Sde<D, M> + Default,
{
    let argv: Vec<OsString> = std::env::args_os().collect();
    let header = ModelInfo::header::<D, M, S>(&scheme);
    let args = match parse(&header, argv) {
        Ok(args) => args,
        Err(e) => return exit(Err(e)),
    };
    if args.serve {
        return exit(serve::<EXACT, D, M, S>(&scheme, &header));
    }
    if std::env::var_os(JAILED_CHILD).is_some() {
        // Die with the supervising parent; if it is gone already, its files are of no use.
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        return exit(run_locked::<EXACT, D, M, S>(&scheme, header, &args));
    }
    if args.output_files().is_empty() {
        return exit(run_locked::<EXACT, D, M, S>(&scheme, header, &args));
    }
    supervise(&args)
}

/// Opens the output files, locks the process down, then builds the model and runs it.
fn run_locked<const EXACT: bool, const D: usize, const M: usize, S>(
    scheme: &Scheme<D>,
    header: ModelInfo,
    args: &Args,
) -> Result<String, CliError>
where
    S: Sde<D, M> + Default,
{
    let overrides = Overrides::of(args, &header)?;
    let mut outputs = Outputs::open(args)?;
    let status = jail::lock_down();
    // Model code from here on.
    let mut model = S::default();
    overrides.apply(&mut model)?;
    let mut info = ModelInfo {
        jail: Some(status),
        ..ModelInfo::of::<D, M, S>(&model, scheme)
    };
    debug_assert_eq!(info.name, header.name);
    let mut config = args.config();
    if let Some(x0) = overrides.initial_state(&info.initial_state) {
        info.initial_state.clone_from(&x0);
        config.initial_state = Some(x0);
    }
    if args.describe {
        return Ok(describe_info(&info));
    }
    let output = simulate_to_files::<EXACT, D, M, S>(&model, scheme, &config, args, &mut outputs)?;
    finish(&info, args, &config, &OutputView::of(&output), &mut outputs)
}

/// The name `--paths-out` takes inside a worker request: the paths go to the request's shared
/// memory, never to a file of that name (a jailed worker cannot open files).
const SHARED_MEMORY: &str = "<shared memory>";

/// The persistent worker (`--serve`, [`crate::serve`]): locks the process down, says it is
/// ready (with what the jail achieved), then answers each request with one JSON line until the
/// socket closes. A bad request gets an error reply and the worker goes on; model code runs only
/// after the lock-down, once per request.
#[cfg(unix)]
fn serve<const EXACT: bool, const D: usize, const M: usize, S>(
    scheme: &Scheme<D>,
    header: &ModelInfo,
) -> Result<String, CliError>
where
    S: Sde<D, M> + Default,
{
    let io = |e: std::io::Error| CliError::Runtime(format!("worker channel: {e}"));
    let channel = crate::serve::Channel::stdin().map_err(io)?;
    let status = jail::lock_down();
    let ready = serde_json::json!({"ready": true, "sdk_version": SDK_VERSION, "model": header.name,
                                   "state": header.state, "jail": status});
    channel.reply(&ready.to_string()).map_err(io)?;
    while let Some(request) = channel.receive().map_err(io)? {
        let reply = match answer::<EXACT, D, M, S>(scheme, header, &request) {
            Ok(done) => done,
            Err(e) => {
                let (kind, message) = match &e {
                    CliError::Usage(e) => ("usage", first_line(&e.to_string())),
                    CliError::Value(m) => ("value", m.clone()),
                    CliError::Runtime(m) => ("runtime", m.clone()),
                };
                serde_json::json!({"ok": false, "kind": kind, "error": message})
            }
        };
        channel.reply(&reply.to_string()).map_err(io)?;
    }
    Ok(String::new())
}

#[cfg(not(unix))]
fn serve<const EXACT: bool, const D: usize, const M: usize, S>(
    _scheme: &Scheme<D>,
    _header: &ModelInfo,
) -> Result<String, CliError>
where
    S: Sde<D, M> + Default,
{
    Err(CliError::Runtime(
        "--serve needs Unix sockets: not on this platform".into(),
    ))
}

/// One worker request: the paths it asks for, written into its memory from offset 0 as
/// little-endian `f64`s in C order `(paths, dates + 1, D)`, which must be exactly that size.
#[cfg(unix)]
fn answer<const EXACT: bool, const D: usize, const M: usize, S>(
    scheme: &Scheme<D>,
    header: &ModelInfo,
    request: &crate::serve::Request,
) -> Result<serde_json::Value, CliError>
where
    S: Sde<D, M> + Default,
{
    let runtime = |e: String| CliError::Runtime(e);
    let words: Vec<String> = serde_json::from_str(&request.text)
        .map_err(|e| runtime(format!("a request must be a JSON array of arguments: {e}")))?;
    let Some(memory) = &request.memory else {
        return Err(runtime(format!(
            "a request must come with exactly one shared-memory descriptor, got {}",
            request.descriptors
        )));
    };
    let mut argv: Vec<OsString> = vec!["worker".into()];
    argv.extend(words.into_iter().map(OsString::from));
    argv.push(format!("--paths-out={SHARED_MEMORY}").into());
    let args = parse(header, argv)?;
    if args.serve || args.describe || args.terminal.is_some() || args.stats.is_some() {
        return Err(runtime(
            "a request asks for paths only (no --serve, --describe, --terminal, --stats)".into(),
        ));
    }
    if args.paths_out.as_deref() != Some(Path::new(SHARED_MEMORY)) {
        return Err(runtime("a request cannot name a --paths-out file".into()));
    }
    let overrides = Overrides::of(&args, header)?;
    let mut model = S::default();
    overrides.apply(&mut model)?;
    let mut config = args.config();
    config.initial_state = overrides.initial_state(&model.initial_state());
    let expected = (config.paths as u128) * (config.path_dates as u128 + 1) * (D as u128) * 8;
    let size = memory
        .metadata()
        .map_err(|e| runtime(format!("cannot read the shared memory's size: {e}")))?
        .len();
    if u128::from(size) != expected {
        return Err(runtime(format!(
            "the shared memory has {size} bytes but the paths need {expected}"
        )));
    }
    let mut out = BufWriter::with_capacity(1 << 20, crate::serve::WriteAt::new(memory));
    let output = engine::simulate_into::<EXACT, D, M, S>(&model, scheme, &config, Some(&mut out))
        .map_err(|e| runtime(e.to_string()))?;
    let written = out
        .into_inner()
        .map_err(|e| runtime(format!("cannot write the paths: {}", e.error())))?
        .written;
    if u128::from(written) != expected {
        return Err(runtime(format!(
            "wrote {written} bytes of paths, not {expected}"
        )));
    }
    Ok(serde_json::json!({
        "ok": true,
        "paths": config.paths,
        "first_path": config.first_path,
        "dates": config.path_dates,
        "dim": D,
        "bytes": written,
        "threads": output.threads,
        "seconds": output.elapsed_seconds,
    }))
}

/// The first line of a (clap) message, without its "error: " prefix.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// Simulates, streaming the whole paths to `--paths-out` (into the file opened before the
/// lock-down, or atomically) when asked for.
fn simulate_to_files<const EXACT: bool, const D: usize, const M: usize, S: Sde<D, M>>(
    model: &S,
    scheme: &Scheme<D>,
    config: &RunConfig,
    args: &Args,
    files: &mut Outputs,
) -> Result<RunOutput<D>, CliError> {
    let runtime = |e: crate::error::SdkError| CliError::Runtime(e.to_string());
    let Some(path) = &args.paths_out else {
        return engine::simulate_as::<EXACT, D, M, S>(model, scheme, config).map_err(runtime);
    };
    let mut out = PathsFile::open(path, files.paths.take(), config, D)?;
    let result =
        engine::simulate_into::<EXACT, D, M, S>(model, scheme, config, Some(&mut out.writer));
    match result {
        Ok(output) => {
            out.close()?;
            Ok(output)
        }
        Err(e) => {
            out.abandon();
            Err(runtime(e))
        }
    }
}

/// The `--paths-out` file while the paths stream into it: its header is written, the rows follow.
struct PathsFile {
    writer: BufWriter<File>,
    path: PathBuf,
    /// The temporary file renamed over `path` at the end (unjailed runs; `None` for a file opened
    /// before the lock-down, which the supervisor renames).
    temp: Option<PathBuf>,
}

impl PathsFile {
    fn open(
        path: &Path,
        opened: Option<File>,
        config: &RunConfig,
        dim: usize,
    ) -> Result<Self, CliError> {
        let error =
            |e: std::io::Error| CliError::Runtime(format!("cannot write {}: {e}", path.display()));
        let (file, temp) = match opened {
            Some(file) => (file, None),
            None => {
                let temp = temp_path(path).map_err(error)?;
                (File::create(&temp).map_err(error)?, Some(temp))
            }
        };
        let mut out = PathsFile {
            writer: BufWriter::with_capacity(1 << 20, file),
            path: path.to_owned(),
            temp,
        };
        let shape = [config.paths as usize, config.path_dates as usize + 1, dim];
        if let Err(e) = write_npy_header(&mut out.writer, &shape) {
            out.abandon();
            return Err(error(e));
        }
        Ok(out)
    }

    fn close(self) -> Result<(), CliError> {
        let PathsFile { writer, path, temp } = self;
        let done = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .and_then(|()| temp.as_ref().map_or(Ok(()), |t| std::fs::rename(t, &path)));
        done.map_err(|e| {
            if let Some(t) = &temp {
                let _ = std::fs::remove_file(t);
            }
            CliError::Runtime(format!("cannot write {}: {e}", path.display()))
        })
    }

    fn abandon(self) {
        if let Some(t) = &self.temp {
            let _ = std::fs::remove_file(t);
        }
    }
}

/// Starts this binary as a jailed child writing temporary files, and moves them into place when
/// it succeeds. Never runs model code.
fn supervise(args: &Args) -> ExitCode {
    match supervise_child(args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn supervise_child(args: &Args) -> Result<ExitCode, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let temp = |path: &Option<PathBuf>| -> Result<Option<(PathBuf, PathBuf)>, String> {
        match path {
            Some(p) => Ok(Some((temp_path(p).map_err(|e| e.to_string())?, p.clone()))),
            None => Ok(None),
        }
    };
    let (terminal, stats, paths) = (
        temp(&args.terminal)?,
        temp(&args.stats)?,
        temp(&args.paths_out)?,
    );
    let moves: Vec<&(PathBuf, PathBuf)> =
        [&terminal, &stats, &paths].into_iter().flatten().collect();
    let argv = args.to_argv(
        exe.clone().into_os_string(),
        &OutputPaths {
            terminal: temp_of(&terminal),
            stats: temp_of(&stats),
            paths: temp_of(&paths),
        },
    );
    let status = std::process::Command::new(&exe)
        .args(&argv[1..])
        .env(JAILED_CHILD, "1")
        .status();
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            remove_all(&moves);
            return Err(format!("cannot start the simulation process: {e}"));
        }
    };
    if !status.success() {
        remove_all(&moves);
        return Ok(child_failed(status));
    }
    for (tmp, path) in &moves {
        if let Err(e) = std::fs::rename(tmp, path) {
            remove_all(&moves);
            return Err(format!("cannot write {}: {e}", path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn temp_of(moved: &Option<(PathBuf, PathBuf)>) -> Option<&Path> {
    moved.as_ref().map(|(t, _)| t.as_path())
}

fn remove_all(moves: &[&(PathBuf, PathBuf)]) {
    for (tmp, _) in moves {
        let _ = std::fs::remove_file(tmp);
    }
}

/// This process ends the way the child did: the same exit status, or the same signal.
fn child_failed(status: std::process::ExitStatus) -> ExitCode {
    #[cfg(unix)]
    if let Some(number) = std::os::unix::process::ExitStatusExt::signal(&status) {
        if let Ok(signal) = nix::sys::signal::Signal::try_from(number) {
            // A SIGXCPU or SIGKILL of the child is reported as such to whoever waits for this.
            // (Rust ignores only SIGPIPE; for it, and if raising fails, the status says it.)
            let _ = nix::sys::signal::raise(signal);
        }
        return ExitCode::from(128u8.wrapping_add(number as u8));
    }
    ExitCode::from(status.code().unwrap_or(1) as u8)
}

/// The files a jailed run writes, opened before the lock-down.
struct Outputs {
    terminal: Option<File>,
    stats: Option<File>,
    paths: Option<File>,
}

impl Outputs {
    /// Files are opened when written, and replaced atomically (unjailed runs).
    fn later() -> Self {
        Outputs {
            terminal: None,
            stats: None,
            paths: None,
        }
    }

    fn open(args: &Args) -> Result<Self, CliError> {
        let create = |path: &Option<PathBuf>| -> Result<Option<File>, CliError> {
            match path {
                Some(p) if !args.describe => File::create(p)
                    .map(Some)
                    .map_err(|e| CliError::Runtime(format!("cannot write {}: {e}", p.display()))),
                _ => Ok(None),
            }
        };
        Ok(Outputs {
            terminal: create(&args.terminal)?,
            stats: create(&args.stats)?,
            paths: create(&args.paths_out)?,
        })
    }
}

/// Prints what a run produced and turns it into the exit status.
fn exit(result: Result<String, CliError>) -> ExitCode {
    match result {
        Ok(text) => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write to stdout: {e}");
                ExitCode::FAILURE
            }
        },
        Err(CliError::Usage(e)) => {
            let _ = e.print();
            ExitCode::from(e.exit_code() as u8)
        }
        Err(CliError::Value(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Runtime(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a model binary on `args` (the first item is the program name) and returns what it
/// prints on stdout: the statistics JSON, the `--describe` JSON, or nothing when `--stats`
/// names a file. Files named by `--terminal` and `--stats` are written here.
///
/// Only the simulation itself is generic in the model; parsing, the JSON and the files go
/// through [`ModelInfo`] and [`OutputView`] to functions compiled once in the SDK, so that a
/// generated crate compiles little more than its hot loop.
pub fn run_with_args<const D: usize, const M: usize, S, I, T>(
    model: &S,
    scheme: &Scheme<D>,
    args: I,
) -> Result<String, CliError>
where
    S: Sde<D, M> + Clone,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if scheme.is_exact() {
        run_args::<true, D, M, S>(model.clone(), scheme, args)
    } else {
        run_args::<false, D, M, S>(model.clone(), scheme, args)
    }
}

/// [`run_with_args`] with only the engine path `EXACT` compiled.
fn run_args<const EXACT: bool, const D: usize, const M: usize, S: Sde<D, M>>(
    mut model: S,
    scheme: &Scheme<D>,
    args: Vec<OsString>,
) -> Result<String, CliError> {
    let header = ModelInfo::header::<D, M, S>(scheme);
    let args = parse(&header, args)?;
    if args.serve {
        // A worker runs model code for many requests: only a binary that locks itself down first.
        return Err(CliError::Runtime(
            "--serve needs a binary built with run_jailed (it locks itself down before serving)"
                .into(),
        ));
    }
    let overrides = Overrides::of(&args, &header)?;
    overrides.apply(&mut model)?;
    let mut info = ModelInfo::of::<D, M, S>(&model, scheme);
    let mut config = args.config();
    if let Some(x0) = overrides.initial_state(&info.initial_state) {
        info.initial_state.clone_from(&x0);
        config.initial_state = Some(x0);
    }
    if args.describe {
        return Ok(describe_info(&info));
    }
    let mut files = Outputs::later();
    let model = &model;
    let output = simulate_to_files::<EXACT, D, M, S>(model, scheme, &config, &args, &mut files)?;
    finish(&info, &args, &config, &OutputView::of(&output), &mut files)
}

/// What the command line and the JSON documents say about a model and its scheme.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// `Sde::NAME`.
    pub name: &'static str,
    /// `Sde::STATE`.
    pub state: Vec<&'static str>,
    /// `M`, the number of Brownian motions.
    pub noise_dim: usize,
    /// The scheme's name.
    pub scheme: &'static str,
    /// The scheme's step labels, in state order.
    pub step_kinds: Vec<&'static str>,
    /// `Sde::initial_state`.
    pub initial_state: Vec<f64>,
    /// `Sde::parameters`.
    pub parameters: Vec<(&'static str, f64)>,
    /// `Sde::CONSTRAINTS`: the parameters `--set` may change.
    pub constraints: Vec<(&'static str, Constraint)>,
    /// `Sde::DOMAIN`, in state order.
    pub domain: Vec<Domain>,
    /// `Sde::jumps`: the compound-Poisson parts the binary simulates.
    pub jumps: Vec<Jump>,
    /// What the process locked itself into ([`run_jailed`]); `None` for an unjailed run.
    pub jail: Option<JailStatus>,
}

impl ModelInfo {
    /// The description of `model` simulated with `scheme`.
    pub fn of<const D: usize, const M: usize, S: Sde<D, M>>(model: &S, scheme: &Scheme<D>) -> Self {
        ModelInfo {
            initial_state: model.initial_state().to_vec(),
            parameters: model.parameters(),
            jumps: model.jumps(),
            ..Self::header::<D, M, S>(scheme)
        }
    }

    /// What the model's constants say, without running any of its code (no values).
    pub fn header<const D: usize, const M: usize, S: Sde<D, M>>(scheme: &Scheme<D>) -> Self {
        ModelInfo {
            name: S::NAME,
            state: S::STATE.to_vec(),
            noise_dim: M,
            scheme: scheme.name,
            step_kinds: scheme.step_kinds().to_vec(),
            initial_state: Vec::new(),
            parameters: Vec::new(),
            constraints: S::CONSTRAINTS.to_vec(),
            domain: S::DOMAIN.to_vec(),
            jumps: Vec::new(),
            jail: None,
        }
    }
}

/// A run's output with the state dimension erased (slices instead of arrays).
#[derive(Clone, Debug)]
pub struct OutputView<'a> {
    /// [`RunOutput::shift`].
    pub shift: &'a [f64],
    /// [`RunOutput::exponents`].
    pub exponents: Vec<&'a [u32]>,
    /// [`RunOutput::checkpoints`].
    pub checkpoints: &'a [engine::Checkpoint],
    /// [`RunOutput::terminal`], row after row.
    pub terminal: Option<&'a [f64]>,
    /// [`RunOutput::threads`].
    pub threads: usize,
    /// [`RunOutput::elapsed_seconds`].
    pub elapsed_seconds: f64,
}

impl<'a> OutputView<'a> {
    /// A view of `output`.
    pub fn of<const D: usize>(output: &'a RunOutput<D>) -> Self {
        OutputView {
            shift: &output.shift,
            exponents: output.exponents.iter().map(|e| e.as_slice()).collect(),
            checkpoints: &output.checkpoints,
            terminal: output.terminal.as_deref().map(<[[f64; D]]>::as_flattened),
            threads: output.threads,
            elapsed_seconds: output.elapsed_seconds,
        }
    }
}

/// Writes the requested files (into `files` where they were opened already) and returns what
/// goes to stdout.
fn finish(
    info: &ModelInfo,
    args: &Args,
    config: &RunConfig,
    output: &OutputView<'_>,
    files: &mut Outputs,
) -> Result<String, CliError> {
    if let (Some(path), Some(rows)) = (&args.terminal, output.terminal) {
        write_output(path, files.terminal.take(), |w| {
            write_npy_flat(w, rows, info.state.len())
        })?;
    }
    let json = render_stats(info, config, output);
    match &args.stats {
        Some(path) => {
            write_output(path, files.stats.take(), |w| w.write_all(json.as_bytes()))?;
            Ok(String::new())
        }
        None => Ok(json),
    }
}

/// Parses and validates `args`; every failure is a usage error.
fn parse(info: &ModelInfo, args: Vec<OsString>) -> Result<Args, CliError> {
    let mut cmd = Args::command().about(format!(
        "Simulates the SDE model '{}' (state dimension {}, noise dimension {}) with the scheme '{}'.",
        info.name,
        info.state.len(),
        info.noise_dim,
        info.scheme
    ));
    let matches = cmd
        .try_get_matches_from_mut(args)
        .map_err(CliError::Usage)?;
    let args = Args::from_arg_matches(&matches).map_err(CliError::Usage)?;
    if !args.describe
        && let Err(e) = args.config().validate(info.state.len())
    {
        let msg = e.to_string().replace("invalid run configuration: ", "");
        return Err(CliError::Usage(cmd.error(ErrorKind::ValueValidation, msg)));
    }
    // Names and values are checked from the model's constants, before any model code runs.
    Overrides::of(&args, info)?;
    Ok(args)
}

/// Writes `path` through `write`: into `opened` (a file opened before the lock-down, which a
/// jailed process cannot replace atomically; its supervisor does), or atomically.
fn write_output<F>(path: &Path, opened: Option<File>, write: F) -> Result<(), CliError>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let written = match opened {
        Some(file) => {
            let mut out = BufWriter::new(file);
            write(&mut out)
                .and_then(|()| out.into_inner().map_err(|e| e.into_error()))
                .and_then(|file| file.sync_all())
        }
        None => write_atomic(path, write),
    };
    written.map_err(|e| CliError::Runtime(format!("cannot write {}: {e}", path.display())))
}

/// The `--describe` output.
#[derive(Serialize)]
struct Describe<'a> {
    sdk_version: &'a str,
    model: &'a str,
    state: &'a [&'a str],
    noise_dim: usize,
    scheme: &'a str,
    step_kinds: &'a [&'a str],
    initial_state: &'a [f64],
    parameters: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    constraints: serde_json::Map<String, serde_json::Value>,
    domain: serde_json::Map<String, serde_json::Value>,
    jumps: Vec<JumpJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jail: Option<&'a JailStatus>,
}

/// One jump part in `--describe`, in the vocabulary of architect's model files
/// (`{"variable": 0, "intensity": 1.0, "law": "normal", "size": {"mean": -0.1, "sd": 0.15}}`).
#[derive(Serialize)]
struct JumpJson {
    variable: usize,
    intensity: f64,
    law: &'static str,
    size: serde_json::Map<String, serde_json::Value>,
}

impl JumpJson {
    fn of(jump: &Jump) -> Self {
        let (law, size): (&'static str, Vec<(&str, f64)>) = match jump.size {
            JumpSize::Normal { mean, sd } => ("normal", vec![("mean", mean), ("sd", sd)]),
            JumpSize::DoubleExponential { p, eta1, eta2 } => (
                "double-exponential",
                vec![("p", p), ("eta1", eta1), ("eta2", eta2)],
            ),
        };
        JumpJson {
            variable: jump.variable,
            intensity: jump.intensity,
            law,
            size: size
                .into_iter()
                .map(|(name, value)| (name.to_string(), serde_json::json!(value)))
                .collect(),
        }
    }
}

/// The `--describe` JSON of a model and scheme, newline-terminated.
///
/// It carries the parameter values and the jump parts the binary was built with, so the gym
/// can check that a crate simulates the model it claims to before spending time on statistics.
pub fn describe_json<const D: usize, const M: usize, S: Sde<D, M>>(
    model: &S,
    scheme: &Scheme<D>,
) -> String {
    describe_info(&ModelInfo::of::<D, M, S>(model, scheme))
}

/// [`describe_json`] from a [`ModelInfo`].
pub fn describe_info(info: &ModelInfo) -> String {
    let parameters = info
        .parameters
        .iter()
        .map(|(name, value)| (name.to_string(), serde_json::json!(value)))
        .collect();
    let describe = Describe {
        sdk_version: SDK_VERSION,
        model: info.name,
        state: &info.state,
        noise_dim: info.noise_dim,
        scheme: info.scheme,
        step_kinds: &info.step_kinds,
        initial_state: &info.initial_state,
        parameters,
        constraints: info
            .constraints
            .iter()
            .map(|(name, c)| (name.to_string(), serde_json::json!(c.label())))
            .collect(),
        domain: info
            .state
            .iter()
            .zip(&info.domain)
            .map(|(name, d)| (name.to_string(), serde_json::json!(d.label())))
            .collect(),
        jumps: info.jumps.iter().map(JumpJson::of).collect(),
        jail: info.jail.as_ref(),
    };
    to_json_line(&describe)
}

/// The statistics JSON (format `architect.stats/1`).
#[derive(Serialize)]
struct Stats<'a> {
    format: &'a str,
    sdk_version: &'a str,
    model: &'a str,
    state: &'a [&'a str],
    scheme: &'a str,
    step_kinds: &'a [&'a str],
    paths: u64,
    steps: u64,
    horizon: f64,
    seed: u64,
    #[serde(skip_serializing_if = "is_zero")]
    first_path: u64,
    threads: usize,
    shift: &'a [f64],
    exponents: &'a [&'a [u32]],
    checkpoints: Vec<CheckpointJson<'a>>,
    elapsed_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    jail: Option<&'a JailStatus>,
}

#[derive(Serialize)]
struct CheckpointJson<'a> {
    step: u64,
    time: f64,
    count: u64,
    nonfinite: u64,
    sums: &'a [f64],
}

/// The statistics JSON of a finished run, newline-terminated. Non-finite sums (overflow)
/// are written as `null`.
pub fn stats_json<const D: usize, const M: usize, S: Sde<D, M>>(
    scheme: &Scheme<D>,
    config: &RunConfig,
    output: &RunOutput<D>,
) -> String {
    render_stats(
        &ModelInfo::header::<D, M, S>(scheme),
        config,
        &OutputView::of(output),
    )
}

/// [`stats_json`] from a [`ModelInfo`] and an [`OutputView`].
pub fn render_stats(info: &ModelInfo, config: &RunConfig, output: &OutputView<'_>) -> String {
    let stats = Stats {
        format: STATS_FORMAT,
        sdk_version: SDK_VERSION,
        model: info.name,
        state: &info.state,
        scheme: info.scheme,
        step_kinds: &info.step_kinds,
        paths: config.paths,
        steps: config.steps,
        horizon: config.horizon,
        seed: config.seed,
        first_path: config.first_path,
        threads: output.threads,
        shift: output.shift,
        exponents: &output.exponents,
        checkpoints: output
            .checkpoints
            .iter()
            .map(|c| CheckpointJson {
                step: c.step,
                time: c.time,
                count: c.sums.count,
                nonfinite: c.sums.nonfinite,
                sums: &c.sums.sums,
            })
            .collect(),
        elapsed_seconds: output.elapsed_seconds,
        jail: info.jail.as_ref(),
    };
    to_json_line(&stats)
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn to_json_line<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string(value).expect("plain structs serialize");
    s.push('\n');
    s
}
