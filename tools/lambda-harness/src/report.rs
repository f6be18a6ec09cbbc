//! Medians, the machine description and the markdown table.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

/// The figures of one cold start.
pub struct Run {
    /// Spawn to first `next`.
    pub init: Duration,
    /// The first event's latency.
    pub first_event: Duration,
    /// Median of the warm events of this cold start.
    pub warm_event: Duration,
    /// `VmHWM` of the idle process.
    pub peak_rss_kib: u64,
}

/// Everything measured for one function.
#[derive(Default)]
pub struct FunctionResult {
    /// The function.
    pub name: String,
    /// Its binary's size.
    pub binary_bytes: u64,
    /// Every completed run.
    pub runs: Vec<Run>,
    /// Distinct answers seen (HTTP status, or the policy's effect for the authorizer).
    pub answers: BTreeSet<String>,
    /// Why it stopped, if it did.
    pub failure: Option<String>,
}

/// The median (the mean of the middle two for an even count).
pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    let n = values.len();
    match n {
        0 => Duration::ZERO,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

/// The value below which `p` per cent of the runs fall (nearest rank).
pub fn percentile(mut values: Vec<Duration>, p: usize) -> Duration {
    values.sort();
    let rank = (values.len() * p).div_ceil(100);
    values.get(rank.saturating_sub(1)).copied().unwrap_or_default()
}

fn median_u64(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// MB as 10^6 bytes, the stricter reading of the budgets.
fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

/// What a response says, briefly: the proxy response's status code, or the effects of an
/// authorizer's policy.
pub fn summarize_answer(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return "not JSON".to_owned();
    };
    if let Some(status) = value.get("statusCode").and_then(serde_json::Value::as_u64) {
        return status.to_string();
    }
    if let Some(statements) = value
        .pointer("/policyDocument/Statement")
        .and_then(serde_json::Value::as_array)
    {
        let effects: BTreeSet<&str> = statements
            .iter()
            .filter_map(|s| s.get("Effect").and_then(serde_json::Value::as_str))
            .collect();
        return effects.into_iter().collect::<Vec<_>>().join("+");
    }
    if let Some(authorized) = value.get("isAuthorized").and_then(serde_json::Value::as_bool) {
        return format!("isAuthorized={authorized}");
    }
    "other".to_owned()
}

impl FunctionResult {
    /// Median init.
    pub fn init(&self) -> Duration {
        median(self.runs.iter().map(|r| r.init).collect())
    }
    /// Median peak RSS.
    pub fn peak_rss_bytes(&self) -> u64 {
        median_u64(self.runs.iter().map(|r| r.peak_rss_kib).collect()) * 1024
    }
}

/// The markdown table of the results.
pub fn table(results: &[FunctionResult]) -> String {
    let mut out = String::new();
    out.push_str(
        "| function | runs | init (spawn → first `next`) ms | init p90 ms | first event ms | warm event ms | peak RSS MB | binary MB (x86_64) | answers |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for result in results {
        if result.runs.is_empty() {
            let why = result.failure.as_deref().unwrap_or("no runs");
            let _ = writeln!(out, "| {} | 0 | | | | | | | not measured: {why} |", result.name);
            continue;
        }
        let answers = result.answers.iter().cloned().collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            result.name,
            result.runs.len(),
            ms(result.init()),
            ms(percentile(result.runs.iter().map(|r| r.init).collect(), 90)),
            ms(median(result.runs.iter().map(|r| r.first_event).collect())),
            ms(median(result.runs.iter().map(|r| r.warm_event).collect())),
            mb(result.peak_rss_bytes()),
            mb(result.binary_bytes),
            answers,
        );
    }
    out
}

/// The targets, checked against the medians. `store` says whether the authorizer ran with
/// its revocation store (the template's default), which allows it 4 ms more init.
pub fn verdicts(results: &[FunctionResult], store: bool) -> Vec<String> {
    let authorizer_init = Duration::from_millis(if store { 12 } else { 8 });
    const AUTHORIZER_FIRST: Duration = Duration::from_millis(10);
    const AUTHORIZER_RSS: u64 = 16_000_000;
    const ACCOUNT_INIT: Duration = Duration::from_millis(10);
    let mut lines = Vec::new();
    for result in results.iter().filter(|r| !r.runs.is_empty()) {
        let init = result.init();
        let mut checks = Vec::new();
        if result.name == "authorizer" {
            let target = format!("{} ms", authorizer_init.as_millis());
            checks.push(check("init", init <= authorizer_init, &ms(init), &target));
            if !store {
                let first = median(result.runs.iter().map(|r| r.first_event).collect());
                checks.push(check("first answer", first <= AUTHORIZER_FIRST, &ms(first), "10 ms"));
            }
            let rss = result.peak_rss_bytes();
            checks.push(check("peak RSS", rss <= AUTHORIZER_RSS, &mb(rss), "16 MB"));
        } else {
            checks.push(check("init", init <= ACCOUNT_INIT, &ms(init), "10 ms"));
        }
        lines.push(format!("{}: {}", result.name, checks.join(", ")));
    }
    lines
}

fn check(what: &str, ok: bool, value: &str, target: &str) -> String {
    let verdict = if ok { "met" } else { "MISSED" };
    format!("{what} {value} (target <= {target}) {verdict}")
}

/// nproc, CPU model, kernel and load, so a reader can judge the figures.
pub fn machine() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown", |(_, model)| model.trim());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "nproc {nproc}, CPU {model}, Linux {}, load average {}",
        kernel.trim(),
        load.join(" ")
    )
}

/// Peak resident set size of a live process (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(ms(&[9, 1, 5])), Duration::from_millis(5));
        assert_eq!(median(ms(&[4, 1, 2, 3])), Duration::from_micros(2500));
        assert_eq!(median(Vec::new()), Duration::ZERO);
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let values = ms(&[10, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(percentile(values.clone(), 90), Duration::from_millis(9));
        assert_eq!(percentile(values, 100), Duration::from_millis(10));
        assert_eq!(percentile(Vec::new(), 90), Duration::ZERO);
    }

    #[test]
    fn answers_are_status_codes_or_policy_effects() {
        assert_eq!(summarize_answer(br#"{"statusCode":201,"body":""}"#), "201");
        let policy = br#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[
            {"Action":"execute-api:Invoke","Effect":"Allow","Resource":["a"]},
            {"Action":"execute-api:Invoke","Effect":"Deny","Resource":["b"]}]}}"#;
        assert_eq!(summarize_answer(policy), "Allow+Deny");
        assert_eq!(summarize_answer(br#"{"isAuthorized":false}"#), "isAuthorized=false");
        assert_eq!(summarize_answer(b"<html>"), "not JSON");
    }

    #[test]
    fn peak_rss_of_this_process_is_readable() {
        assert!(peak_rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
