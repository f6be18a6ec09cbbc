//! One function process under the local Runtime API: spawned with the Lambda environment,
//! driven event by event, and read from `/proc` (CPU of all its threads, peak RSS).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::process::{Child, Command};

use crate::BoxError;
use crate::report;
use crate::runtime_api::{Invocation, Report, RuntimeApi};

/// The longest one step (init, an event) may take before the process is declared stuck.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// An answered event.
pub struct Measured {
    /// From the event being handed out to the response arriving.
    pub latency: Duration,
    /// The answer, summarised (a status code, a policy's effects).
    pub answer: String,
}

/// A running function process and its Runtime API.
pub struct FunctionProcess {
    api: RuntimeApi,
    child: Child,
    pid: u32,
    /// When the process was spawned.
    pub spawned: Instant,
}

impl FunctionProcess {
    /// Spawns `binary` with exactly `env` (and the Runtime API's address), output discarded.
    pub async fn spawn(name: &str, binary: &Path, env: &[(String, String)]) -> Result<Self, BoxError> {
        let arn = format!(
            "arn:aws:lambda:{}:123456789012:function:{name}",
            local_gateway::seed::REGION
        );
        let api = RuntimeApi::start(arn).await?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let spawned = Instant::now();
        let child = command.spawn()?;
        let pid = child.id().ok_or("the function has no pid")?;
        Ok(Self {
            api,
            child,
            pid,
            spawned,
        })
    }

    async fn next_report(&mut self) -> Result<Report, BoxError> {
        tokio::select! {
            biased;
            report = self.api.report() => report.ok_or_else(|| "the Runtime API stopped".into()),
            status = self.child.wait() => Err(format!("the function exited: {}", status?).into()),
            () = tokio::time::sleep(STEP_TIMEOUT) => Err(format!("no progress within {} s", STEP_TIMEOUT.as_secs()).into()),
        }
    }

    async fn expect<T>(
        &mut self,
        waiting_for: &str,
        pick: impl FnOnce(Report) -> Result<T, Report>,
    ) -> Result<T, BoxError> {
        let report = self.next_report().await?;
        pick(report).map_err(|report| {
            let text = |body: &[u8]| String::from_utf8_lossy(body).into_owned();
            let got = match report {
                Report::InitError { body } => format!("init error {}", text(&body)),
                Report::Error { body, .. } => format!("invocation error {}", text(&body)),
                Report::Unknown { method, path } => format!("unknown request {method} {path}"),
                other => format!("{other:?}"),
            };
            format!("waiting for {waiting_for}, got {got}").into()
        })
    }

    /// Waits until the runtime asks for the next event: when it did.
    pub async fn wait_next(&mut self) -> Result<Instant, BoxError> {
        self.expect("`next`", |r| match r {
            Report::NextRequested(at) => Ok(at),
            other => Err(other),
        })
        .await
    }

    /// Hands out one event (the runtime must be waiting) and waits for its response.
    pub async fn invoke(&mut self, payload: Vec<u8>) -> Result<Measured, BoxError> {
        let sequence = next_sequence();
        let invocation = Invocation {
            request_id: format!("c01d5a27-0000-4000-8000-{sequence:012x}"),
            trace_id: format!(
                "Root=1-{:08x}-{sequence:024x};Parent={sequence:016x};Sampled=0",
                SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
            ),
            payload,
        };
        if !self.api.invoke(invocation).await {
            return Err("the Runtime API stopped".into());
        }
        let handed_out = self
            .expect("the event to be handed out", |r| match r {
                Report::HandedOut(at) => Ok(at),
                other => Err(other),
            })
            .await?;
        let (answered, body) = self
            .expect("the response", |r| match r {
                Report::Response { at, body } => Ok((at, body)),
                other => Err(other),
            })
            .await?;
        Ok(Measured {
            latency: answered.saturating_duration_since(handed_out),
            answer: report::summarize_answer(&body),
        })
    }

    /// CPU time of all the process's threads so far, in nanoseconds.
    pub fn cpu_ns(&self) -> Result<u64, BoxError> {
        process_cpu_ns(self.pid).ok_or_else(|| "cannot read /proc/<pid>/task/*/schedstat".into())
    }

    /// Peak resident set size so far, in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64, BoxError> {
        report::peak_rss_kib(self.pid).ok_or_else(|| "cannot read VmHWM".into())
    }

    /// Kills the process.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

fn next_sequence() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: AtomicU64 = AtomicU64::new(1);
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// The CPU time of every live thread of `pid` (`/proc/<pid>/task/*/schedstat`, first field,
/// nanoseconds): user and system time together, at the scheduler's resolution.
pub fn process_cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0_u64;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_cpu_grows_with_work() {
        let pid = std::process::id();
        let before = process_cpu_ns(pid).unwrap();
        let mut x = 0_u64;
        for i in 0..20_000_000_u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu_ns(pid).unwrap() > before);
    }
}
