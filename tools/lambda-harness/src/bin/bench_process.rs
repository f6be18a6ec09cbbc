//! `make bench-process`: CPU per invocation and peak RSS of whole function processes, release
//! builds under the local Runtime API, this tree against a baseline commit built in the same
//! run, rounds alternating between the two.
//!
//! Scenarios: the authorizer with distinct valid tokens, with one repeated token, and with
//! distinct sessions against the revocation store (the emulator's DynamoDB); sign-in, refresh,
//! me, forgot-password and TOTP set-up against the emulator. The CPU is the sum over all the
//! process's threads (`/proc/<pid>/task/*/schedstat`) across the measured invocations, after a
//! warm-up; the emulator's CPU is not counted.
//!
//! Settings (environment): `BENCH_BASELINE` (a commit; required), `BENCH_ROUNDS` (default 5),
//! `BENCH_INVOCATIONS` (default 1000), `BENCH_WARMUP` (default 50), `BENCH_SCENARIOS`
//! (comma-separated names; default all), `BENCH_BINARIES` (a directory of already-built
//! binaries to measure alone, one round, no baseline: for profiling them with `perf`).

#![allow(clippy::print_stdout)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use cognito_jwt::testkit::{CLIENT, ISSUER, access_claims, jwks_of, key, mint, with};
use http_body_util::Full;
use hyper::body::Bytes;
use lambda_harness::BoxError;
use lambda_harness::deployment::{self, Deployment, Profile, lambda_env, workspace_root};
use lambda_harness::events::EventSource;
use lambda_harness::process::FunctionProcess;
use lambda_harness::report;
use local_gateway::cognito_standin::RunningStandIn;
use local_gateway::emulator::{self, Emulator};
use local_gateway::seed::{self, DemoUser};
use serde_json::json;
use tokio::net::TcpListener;

const FUNCTIONS: [&str; 6] = ["authorizer", "sign_in", "refresh_tokens", "me", "password", "mfa"];
/// A function that only answers (`tools/runtime-floor`): measured in this tree only.
const FLOOR: &str = "runtime-floor";

struct Settings {
    baseline: String,
    rounds: usize,
    invocations: usize,
    warmup: usize,
    only: Option<Vec<String>>,
}

impl Settings {
    fn from_env() -> Result<Self, BoxError> {
        let number = |name: &str, default: usize, min: usize| -> Result<usize, BoxError> {
            match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => match value.trim().parse::<usize>() {
                    Ok(n) if n >= min => Ok(n),
                    _ => Err(format!("{name} must be a whole number >= {min}, got `{value}`").into()),
                },
                _ => Ok(default),
            }
        };
        let baseline = std::env::var("BENCH_BASELINE")
            .ok()
            .filter(|b| !b.trim().is_empty())
            .ok_or("BENCH_BASELINE (the commit to compare with) is required")?;
        let only = std::env::var("BENCH_SCENARIOS")
            .ok()
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty());
        Ok(Self {
            baseline,
            rounds: number("BENCH_ROUNDS", 5, 1)?,
            invocations: number("BENCH_INVOCATIONS", 1000, 1)?,
            warmup: number("BENCH_WARMUP", 50, 0)?,
            only,
        })
    }
}

/// One thing measured: a function, its environment, and the events it is fed in turn.
struct Scenario {
    name: &'static str,
    function: &'static str,
    env: Vec<(String, String)>,
    /// Event `i` is `events[i % events.len()]`.
    events: Vec<Vec<u8>>,
    target: Target,
}

#[derive(Clone, Copy)]
enum Target {
    /// At most this many µs of CPU per invocation, and this many MB of peak RSS.
    Absolute { cpu_us: f64, rss_mb: f64 },
    /// At most this fraction of the baseline's CPU per invocation, and this many MB of RSS.
    OfBaseline { fraction: f64, rss_mb: f64 },
    /// No target: a reference figure.
    Reference,
}

#[derive(Default)]
struct Readings {
    cpu_us: Vec<f64>,
    rss_kib: Vec<u64>,
    latency: Vec<Duration>,
    answers: BTreeSet<String>,
}

/// Serves `body` to every request, keeping connections alive: the JWKS of the test key, or
/// DynamoDB's answer to a read that finds nothing. Answers `http://127.0.0.1:<port>`.
async fn serve_constant(body: Vec<u8>) -> Result<String, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let body = Bytes::from(body);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let body = body.clone();
                    async move { Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(body))) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(url)
}

/// The authorizer's REQUEST event carrying `token`.
fn authorizer_event(template: &str, token: &str) -> Vec<u8> {
    template.replace("REPLACE_WITH_ACCESS_TOKEN", token).into_bytes()
}

/// An access token of the test pool, valid for hours, distinct by `sub`, `jti` and `origin_jti`.
fn token(i: usize) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = with(access_claims(), "iat", json!(now - 5));
    let claims = with(claims, "auth_time", json!(now - 5));
    let claims = with(claims, "exp", json!(now + 6 * 3600));
    let claims = with(claims, "jti", json!(format!("jti-{i}")));
    let claims = with(claims, "origin_jti", json!(format!("origin-{i}")));
    let claims = with(claims, "sub", json!(format!("6f1c2d3e-0000-4000-8000-{i:012}")));
    mint(key(0), &claims)
}

async fn scenarios(
    settings: &Settings,
    root: &Path,
    endpoint: &str,
) -> Result<(Vec<Scenario>, RunningStandIn), BoxError> {
    let client = seed::emulator_client(endpoint);
    let pool = seed::seed(&client, DemoUser::default()).await?;
    let cognito = lambda_harness::deployment::measuring_standin(endpoint, &pool).await?;
    seed::create_revocation_table(&seed::emulator_dynamodb(endpoint)).await?;
    let cookie_key_secret = seed::create_cookie_key_secret(&seed::emulator_secrets(endpoint)).await?;
    let api = local_gateway::template::load(&root.join("infra/template.yaml"))?;
    let deployment = Deployment {
        endpoint: endpoint.to_owned(),
        cognito_endpoint: cognito.url.clone(),
        user_pool_id: pool.user_pool_id.clone(),
        client_id: pool.client_id.clone(),
        revocation_table: seed::REVOCATION_TABLE.into(),
        log_level: "INFO".into(),
        oauth_domain: "http://localhost:3001".into(),
        cookie_key_secret,
        template_env: api.function_env,
    };
    let account: Vec<String> = FUNCTIONS[1..].iter().map(|f| (*f).to_owned()).collect();
    let events = EventSource::new(client, pool, &root.join("events"), &account).await?;

    let jwks_url = format!(
        "{}/eu-west-1_TestPool/.well-known/jwks.json",
        serve_constant(jwks_of(&[key(0)])).await?
    );
    // The emulator closes every connection after one answer; DynamoDB keeps them open. This
    // double answers a read that finds nothing on a kept-alive connection, as DynamoDB does.
    let kept_alive_dynamodb = serve_constant(
        json!({"Responses": {seed::REVOCATION_TABLE: []}, "UnprocessedKeys": {}})
            .to_string()
            .into_bytes(),
    )
    .await?;
    let authorizer_env = |store: bool| -> Result<Vec<(String, String)>, BoxError> {
        let mut env: Vec<(String, String)> = lambda_env("authorizer", &deployment)?
            .into_iter()
            .filter(|(name, _)| store || name != "REVOCATION_TABLE")
            .filter(|(name, _)| !name.starts_with("COGNITO_"))
            .collect();
        env.extend([
            ("COGNITO_USER_POOL_ID".to_owned(), "eu-west-1_TestPool".to_owned()),
            ("COGNITO_CLIENT_ID".to_owned(), CLIENT.to_owned()),
            ("COGNITO_ISSUER".to_owned(), ISSUER.to_owned()),
            ("COGNITO_JWKS_URL".to_owned(), jwks_url.clone()),
        ]);
        Ok(env)
    };
    let template = std::fs::read_to_string(root.join("events/authorizer.request.json"))?;
    let per_process = settings.warmup + settings.invocations;
    let distinct: Vec<Vec<u8>> = (0..per_process)
        .map(|i| authorizer_event(&template, &token(i)))
        .collect();

    let mut all = vec![
        Scenario {
            name: "authorizer-distinct",
            function: "authorizer",
            env: authorizer_env(false)?,
            events: distinct.clone(),
            target: Target::Absolute {
                cpu_us: 100.0,
                rss_mb: 16.0,
            },
        },
        Scenario {
            name: "authorizer-repeated",
            function: "authorizer",
            env: authorizer_env(false)?,
            events: vec![authorizer_event(&template, &token(0))],
            target: Target::Absolute {
                cpu_us: 60.0,
                rss_mb: 16.0,
            },
        },
        Scenario {
            name: "authorizer-store",
            function: "authorizer",
            env: authorizer_env(true)?,
            events: distinct.clone(),
            target: Target::Absolute {
                cpu_us: 160.0,
                rss_mb: 16.0,
            },
        },
        Scenario {
            name: "authorizer-store-kept-alive",
            function: "authorizer",
            env: {
                let mut env = authorizer_env(true)?;
                env.retain(|(name, _)| name != "AWS_ENDPOINT_URL_DYNAMODB");
                env.push(("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), kept_alive_dynamodb.clone()));
                env
            },
            events: distinct,
            target: Target::Absolute {
                cpu_us: 160.0,
                rss_mb: 16.0,
            },
        },
    ];
    all.push(Scenario {
        name: "runtime-floor",
        function: FLOOR,
        env: authorizer_env(false)?,
        events: vec![authorizer_event(&template, &token(0))],
        target: Target::Reference,
    });
    for (name, function) in [
        ("sign_in", "sign_in"),
        ("refresh_tokens", "refresh_tokens"),
        ("me", "me"),
        ("forgot_password", "password"),
        ("totp_setup", "mfa"),
    ] {
        all.push(Scenario {
            name,
            function,
            env: with_lasting_freshness(lambda_env(function, &deployment)?),
            events: vec![events.event(function, 0, 0).await?],
            target: Target::OfBaseline {
                fraction: 0.5,
                rss_mb: 24.0,
            },
        });
    }
    if let Some(only) = &settings.only {
        if let Some(unknown) = only.iter().find(|o| !all.iter().any(|s| s.name == o.as_str())) {
            return Err(format!("BENCH_SCENARIOS: no scenario `{unknown}`").into());
        }
        all.retain(|s| only.iter().any(|o| o == s.name));
    }
    Ok((all, cognito))
}

/// The event's `authTime` is taken once, when the run starts; a run outlasts the default
/// recent-authentication window, after which `totp_setup` would measure its 401 instead.
fn with_lasting_freshness(mut env: Vec<(String, String)>) -> Vec<(String, String)> {
    for (name, value) in &mut env {
        if name == "RECENT_AUTH_SECONDS" {
            *value = auth_contract::freshness::MAX_RECENT_AUTH_SECONDS.to_string();
        }
    }
    env
}

/// One process: init, warm-up, then the measured invocations.
async fn measure_once(
    scenario: &Scenario,
    binary: &Path,
    settings: &Settings,
    readings: &mut Readings,
) -> Result<(), BoxError> {
    let mut process = FunctionProcess::spawn(scenario.function, binary, &scenario.env).await?;
    let outcome = async {
        process.wait_next().await?;
        let event = |i: usize| scenario.events[i % scenario.events.len()].clone();
        for i in 0..settings.warmup {
            readings.answers.insert(process.invoke(event(i)).await?.answer);
            process.wait_next().await?;
        }
        let before = process.cpu_ns()?;
        let mut latencies = Vec::with_capacity(settings.invocations);
        for i in settings.warmup..settings.warmup + settings.invocations {
            let measured = process.invoke(event(i)).await?;
            readings.answers.insert(measured.answer);
            latencies.push(measured.latency);
            process.wait_next().await?;
        }
        let after = process.cpu_ns()?;
        readings
            .cpu_us
            .push((after - before) as f64 / 1000.0 / settings.invocations as f64);
        readings.rss_kib.push(process.peak_rss_kib()?);
        readings.latency.push(report::median(latencies));
        Ok::<_, BoxError>(())
    }
    .await;
    process.stop().await;
    outcome
}

/// The function a scenario runs (`authorizer-*`, `forgot_password`...).
fn function_of(scenario: &str) -> &str {
    match scenario {
        s if s.starts_with("authorizer") => "authorizer",
        "forgot_password" => "password",
        "totp_setup" => "mfa",
        "runtime-floor" => FLOOR,
        other => other,
    }
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Builds `functions` at `commit` in a worktree under `target/bench-process/`, into its own
/// target directory (so neither build overwrites the other's binaries).
fn build_baseline(root: &Path, commit: &str, functions: &[String]) -> Result<HashMap<String, PathBuf>, BoxError> {
    let work = root.join("target/bench-process/baseline-src");
    let git = |args: &[&str]| -> Result<std::process::Output, BoxError> {
        Ok(std::process::Command::new("git")
            .current_dir(root)
            .args(args)
            .output()?)
    };
    let wanted = git(&["rev-parse", &format!("{commit}^{{commit}}")])?;
    let wanted = String::from_utf8_lossy(&wanted.stdout).trim().to_owned();
    let checked_out = std::process::Command::new("git")
        .current_dir(&work)
        .args(["rev-parse", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    // Reused when already at the commit: untouched files keep the baseline build fresh.
    if wanted.is_empty() || checked_out != wanted {
        let _ = git(&["worktree", "remove", "--force", &work.to_string_lossy()]);
        let _ = std::fs::remove_dir_all(&work);
        let _ = git(&["worktree", "prune"]);
        let added = git(&["worktree", "add", "--detach", &work.to_string_lossy(), commit])?;
        if !added.status.success() {
            return Err(format!("git worktree add {commit}: {}", String::from_utf8_lossy(&added.stderr)).into());
        }
    }
    deployment::build_into(
        &work,
        functions,
        Profile::Release,
        Some(&root.join("target/bench-process/baseline-target")),
    )
}

/// Copies each binary to `dir`, so later builds cannot change what is measured.
fn keep(binaries: &HashMap<String, PathBuf>, dir: &Path) -> Result<HashMap<String, PathBuf>, BoxError> {
    std::fs::create_dir_all(dir)?;
    let mut kept = HashMap::new();
    for (name, path) in binaries {
        let to = dir.join(name);
        std::fs::copy(path, &to)?;
        kept.insert(name.clone(), to);
    }
    Ok(kept)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench-process: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, BoxError> {
    let settings = Settings::from_env()?;
    let root = workspace_root();
    // Only the functions the chosen scenarios run are built.
    let functions: Vec<String> = FUNCTIONS
        .iter()
        .chain([&FLOOR])
        .filter(|f| {
            settings
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|scenario| function_of(scenario) == **f))
        })
        .map(|f| (*f).to_owned())
        .collect();
    if let Ok(dir) = std::env::var("BENCH_BINARIES") {
        let binaries: HashMap<String, PathBuf> =
            functions.iter().map(|f| (f.clone(), Path::new(&dir).join(f))).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        return runtime.block_on(async {
            let emulator = Emulator::start(&emulator::default_command(), 0).await?;
            let (scenarios, _cognito) = scenarios(&settings, &root, &emulator.endpoint()).await?;
            for scenario in &scenarios {
                let binary = binaries.get(scenario.function).ok_or("no binary")?;
                let mut readings = Readings::default();
                measure_once(scenario, binary, &settings, &mut readings).await?;
                println!(
                    "{}: {:.0} µs CPU per invocation",
                    scenario.name,
                    median_f64(readings.cpu_us)
                );
            }
            emulator.stop().await;
            Ok(true)
        });
    }
    eprintln!("building the baseline ({}) release binaries", settings.baseline);
    let in_both: Vec<String> = functions.iter().filter(|f| f.as_str() != FLOOR).cloned().collect();
    let baseline = keep(
        &build_baseline(&root, &settings.baseline, &in_both)?,
        &root.join("target/bench-process/baseline"),
    )?;
    eprintln!("building this tree's release binaries");
    let current = keep(
        &deployment::build(&root, &functions, Profile::Release)?,
        &root.join("target/bench-process/current"),
    )?;
    let machine = report::machine();

    // One thread: the harness should take as little CPU as possible from the function.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let results = runtime.block_on(async {
        let emulator = Emulator::start(&emulator::default_command(), 0).await?;
        let (scenarios, _cognito) = scenarios(&settings, &root, &emulator.endpoint()).await?;
        let mut results: Vec<(Readings, Readings)> = scenarios.iter().map(|_| Default::default()).collect();
        for round in 0..settings.rounds {
            eprintln!("round {}/{}", round + 1, settings.rounds);
            for (scenario, (base, cur)) in scenarios.iter().zip(results.iter_mut()) {
                // Alternate which build goes first, so neither always runs on a warmer machine.
                let order = if round % 2 == 0 { [true, false] } else { [false, true] };
                for is_baseline in order {
                    let (binaries, readings) = if is_baseline {
                        (&baseline, &mut *base)
                    } else {
                        (&current, &mut *cur)
                    };
                    // The floor exists in this tree only.
                    let Some(binary) = binaries.get(scenario.function) else {
                        continue;
                    };
                    measure_once(scenario, binary, &settings, readings).await.map_err(|e| {
                        format!(
                            "{} ({}): {e}",
                            scenario.name,
                            if is_baseline { "baseline" } else { "current" }
                        )
                    })?;
                }
            }
        }
        emulator.stop().await;
        Ok::<_, BoxError>((scenarios, results))
    })?;
    let (scenarios, results) = results;

    println!(
        "Whole-process CPU per invocation (all threads) and peak RSS: medians of {} rounds x {} invocations (after {} warm-up), baseline {} vs this tree, rounds alternating",
        settings.rounds, settings.invocations, settings.warmup, settings.baseline
    );
    println!("Machine: {machine} (x86 figures standing in for arm64)");
    println!();
    println!(
        "| scenario | baseline CPU µs | now CPU µs | now / baseline | baseline RSS MB | now RSS MB | now p50 latency µs | target | |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut all_met = true;
    for (scenario, (base, cur)) in scenarios.iter().zip(results) {
        let base_cpu = median_f64(base.cpu_us.clone());
        let cur_cpu = median_f64(cur.cpu_us.clone());
        let mb = |r: &Readings| r.rss_kib.iter().max().copied().unwrap_or(0) as f64 / 1024.0;
        let latency = report::median(cur.latency.clone()).as_micros();
        let (target, met) = match scenario.target {
            Target::Absolute { cpu_us, rss_mb } => (
                format!("<= {cpu_us:.0} µs, <= {rss_mb:.0} MB"),
                cur_cpu <= cpu_us && mb(&cur) <= rss_mb,
            ),
            Target::OfBaseline { fraction, rss_mb } => (
                format!("<= {:.0} % of baseline, <= {rss_mb:.0} MB", fraction * 100.0),
                cur_cpu <= base_cpu * fraction && mb(&cur) <= rss_mb,
            ),
            Target::Reference => ("reference".to_owned(), true),
        };
        all_met &= met;
        println!(
            "| {} | {base_cpu:.0} | {cur_cpu:.0} | {:.2} | {:.1} | {:.1} | {latency} | {target} | {} |",
            scenario.name,
            if base_cpu > 0.0 { cur_cpu / base_cpu } else { 0.0 },
            mb(&base),
            mb(&cur),
            if met { "met" } else { "MISSED" }
        );
        let answers: Vec<&str> = cur.answers.iter().map(String::as_str).collect();
        eprintln!("{}: answers {answers:?}", scenario.name);
    }
    Ok(all_met)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median_f64(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f64(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median_f64(Vec::new()), 0.0);
    }

    #[test]
    fn tokens_are_distinct_per_index() {
        assert_ne!(token(1), token(2));
    }
}
