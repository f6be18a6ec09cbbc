//! `make coldstart`: cold-start figures of every function, measured locally.
//!
//! Builds the functions' x86_64 release binaries (one cargo invocation), starts the Cognito
//! emulator and seeds it, then starts each binary many times against a local Lambda Runtime
//! API with the environment Lambda gives it, and reports per function the medians of:
//! spawn → first `next` request (init), the first event's latency, the warm events' latency and
//! the peak RSS. Settings: `COLDSTART_RUNS` (cold starts per function, default 20),
//! `COLDSTART_WARM_EVENTS` (events after the first, default 5), `COLDSTART_FUNCTIONS`
//! (comma-separated subset), `COLDSTART_EXTRA_ENV` (space-separated `NAME=value` pairs added to
//! every function's environment, to try a change such as `SSL_CERT_FILE=...`).

// A report tool: the report is its standard output.
#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use local_gateway::emulator::{self, Emulator};
use local_gateway::seed::{self, DemoUser};

use lambda_harness::BoxError;
use lambda_harness::deployment::{self, Deployment, Profile, discover_functions, lambda_env, workspace_root};
use lambda_harness::events::EventSource;
use lambda_harness::process::FunctionProcess;
use lambda_harness::report::{self, FunctionResult, Run};

struct Settings {
    runs: usize,
    warm_events: usize,
    only: Option<Vec<String>>,
    extra_env: Vec<(String, String)>,
}

impl Settings {
    fn from_env() -> Result<Self, BoxError> {
        let number = |name: &str, default: usize| -> Result<usize, BoxError> {
            match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => match value.trim().parse::<usize>() {
                    Ok(n) if n >= 1 => Ok(n),
                    _ => Err(format!("{name} must be a whole number >= 1, got `{value}`").into()),
                },
                _ => Ok(default),
            }
        };
        let only = std::env::var("COLDSTART_FUNCTIONS")
            .ok()
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .filter(|v: &Vec<String>| !v.is_empty());
        let mut extra_env = Vec::new();
        for pair in std::env::var("COLDSTART_EXTRA_ENV")
            .unwrap_or_default()
            .split_whitespace()
        {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("COLDSTART_EXTRA_ENV: `{pair}` is not NAME=value"))?;
            extra_env.push((name.to_owned(), value.to_owned()));
        }
        Ok(Self {
            runs: number("COLDSTART_RUNS", 20)?,
            warm_events: number("COLDSTART_WARM_EVENTS", 5)?,
            only,
            extra_env,
        })
    }
}

/// The next thing the runtime did; an error when the process exits or goes quiet.
struct Function {
    name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
}

/// One cold start: spawn, init, the first event, the warm events, then the peak RSS of the
/// idle process (waiting in `next`, as a sandbox between events).
async fn cold_start(
    function: &Function,
    events: &EventSource,
    run: usize,
    warm_events: usize,
    answers: &mut BTreeSet<String>,
) -> Result<Run, BoxError> {
    let first_payload = events.event(&function.name, run, 0).await?;
    let mut process = FunctionProcess::spawn(&function.name, &function.binary, &function.env).await?;
    let outcome = async {
        let init = process.wait_next().await?.saturating_duration_since(process.spawned);
        let first = process.invoke(first_payload).await?;
        answers.insert(first.answer);
        let mut warm = Vec::with_capacity(warm_events);
        for index in 1..=warm_events {
            let payload = events.event(&function.name, run, index).await?;
            process.wait_next().await?;
            let measured = process.invoke(payload).await?;
            answers.insert(measured.answer);
            warm.push(measured.latency);
        }
        process.wait_next().await?;
        let peak_rss_kib = process.peak_rss_kib()?;
        Ok::<_, BoxError>(Run {
            init,
            first_event: first.latency,
            warm_event: report::median(warm),
            peak_rss_kib,
        })
    }
    .await;
    process.stop().await;
    outcome
}

async fn measure(settings: Settings, root: PathBuf, functions: Vec<Function>) -> Result<Vec<FunctionResult>, BoxError> {
    let emulator = Emulator::start(&emulator::default_command(), 0).await?;
    let endpoint = emulator.endpoint();
    let client = seed::emulator_client(&endpoint);
    let pool = seed::seed(&client, DemoUser::default()).await?;
    let cognito = lambda_harness::deployment::measuring_standin(&endpoint, &pool).await?;
    seed::create_revocation_table(&seed::emulator_dynamodb(&endpoint)).await?;
    let cookie_key_secret = seed::create_cookie_key_secret(&seed::emulator_secrets(&endpoint)).await?;
    let api = local_gateway::template::load(&root.join("infra/template.yaml"))?;
    let deployment = Deployment {
        endpoint,
        cognito_endpoint: cognito.url.clone(),
        user_pool_id: pool.user_pool_id.clone(),
        client_id: pool.client_id.clone(),
        revocation_table: seed::REVOCATION_TABLE.into(),
        log_level: "INFO".into(),
        // Never called by the measured event (the redirect to the login page).
        oauth_domain: "http://localhost:3001".into(),
        cookie_key_secret,
        template_env: api.function_env,
    };
    let names: Vec<String> = functions.iter().map(|f| f.name.clone()).collect();
    let events = EventSource::new(client, pool, &root.join("events"), &names).await?;
    let mut configured = Vec::with_capacity(functions.len());
    for f in functions {
        let mut env = lambda_env(&f.name, &deployment)?;
        env.extend(settings.extra_env.iter().cloned());
        configured.push(Function { env, ..f });
    }
    let functions = configured;

    let mut results: Vec<FunctionResult> = functions
        .iter()
        .map(|f| FunctionResult {
            name: f.name.clone(),
            binary_bytes: std::fs::metadata(&f.binary).map_or(0, |m| m.len()),
            ..FunctionResult::default()
        })
        .collect();
    // Round robin over the functions, so a slow spell of the machine spreads over all of them.
    for run in 0..settings.runs {
        eprintln!("run {}/{}", run + 1, settings.runs);
        for (function, result) in functions.iter().zip(results.iter_mut()) {
            if result.failure.is_some() {
                continue;
            }
            match cold_start(function, &events, run, settings.warm_events, &mut result.answers).await {
                Ok(measured) => result.runs.push(measured),
                Err(e) => {
                    eprintln!("{}: run {} failed: {e}", function.name, run + 1);
                    result.failure = Some(e.to_string());
                }
            }
        }
    }
    emulator.stop().await;
    Ok(results)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("coldstart: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, BoxError> {
    let settings = Settings::from_env()?;
    let root = workspace_root();
    let names = discover_functions(&root, settings.only.as_deref())?;
    eprintln!("building {} release binaries", names.len());
    let binaries = deployment::build(&root, &names, Profile::Release)?;
    let functions: Vec<Function> = names
        .iter()
        .filter_map(|name| {
            binaries.get(name).map(|binary| Function {
                name: name.clone(),
                binary: binary.clone(),
                env: Vec::new(),
            })
        })
        .collect();

    let machine = report::machine();
    // One thread: the harness should take as little CPU as possible from the function.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let runs = settings.runs;
    let warm_events = settings.warm_events;
    let extra_env: Vec<String> = settings.extra_env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let results = runtime.block_on(measure(settings, root, functions))?;

    println!("Cold start, medians of {runs} cold starts per function ({warm_events} warm events each)");
    if !extra_env.is_empty() {
        println!("Extra environment: {}", extra_env.join(" "));
    }
    println!("Machine: {machine}");
    println!();
    print!("{}", report::table(&results));
    println!();
    // The template gives the authorizer its revocation store; `REVOCATION_TABLE=` takes it away.
    let store = !extra_env.iter().any(|pair| pair == "REVOCATION_TABLE=");
    for line in report::verdicts(&results, store) {
        println!("- {line}");
    }
    Ok(results.iter().all(|r| r.failure.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_harness::events;

    #[test]
    fn every_function_has_an_event_file() {
        let root = workspace_root();
        let functions = discover_functions(&root, None).unwrap();
        assert!(functions.iter().any(|f| f == "sign_in"));
        for function in functions {
            let path = root.join("events").join(events::file_name(&function));
            assert!(path.is_file(), "{} is missing", path.display());
        }
    }
}
