//! moto's server mode as a child process: the local Cognito.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

#[derive(Debug, thiserror::Error)]
/// Why the emulator did not start.
pub enum EmulatorError {
    #[error("moto_server not found at {0} (run scripts/bootstrap-venv.sh, or set MOTO_SERVER)")]
    /// No `moto_server` at this path.
    NotInstalled(PathBuf),
    #[error("could not start moto_server: {0}")]
    /// The process could not be spawned.
    Spawn(std::io::Error),
    #[error("moto_server did not accept connections on port {port} within {seconds} s")]
    /// It never accepted connections.
    NotReady {
        /// The port.
        port: u16,
        /// How long it was given.
        seconds: u64,
    },
    #[error("no free port on loopback: {0}")]
    /// No free port.
    NoPort(std::io::Error),
}

const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The emulator's location: `MOTO_SERVER`, else the project's own `.venv`.
pub fn default_command() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server"))
}

/// A free TCP port on loopback, for a child process that must be told its port.
pub fn free_port() -> Result<u16, EmulatorError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(EmulatorError::NoPort)?;
    listener.local_addr().map(|a| a.port()).map_err(EmulatorError::NoPort)
}

/// A running emulator; the process is killed when this is dropped.
pub struct Emulator {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl Emulator {
    /// Starts `command` on loopback (`port` 0 picks a free one) and waits until it listens.
    pub async fn start(command: &Path, port: u16) -> Result<Self, EmulatorError> {
        if !command.exists() {
            return Err(EmulatorError::NotInstalled(command.to_owned()));
        }
        let port = if port == 0 { free_port()? } else { port };
        let child = Command::new(command)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Check TOTP codes for real (RFC 6238 on the emulator's fixed secret).
            .env("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
            // Pool and client ids derived from the creating requests: an emulator started
            // again and seeded the same way has the ids the running functions know.
            .env("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")
            .env("MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY", "HASH")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(EmulatorError::Spawn)?;
        let emulator = Self { child, port };
        emulator.wait_ready().await?;
        Ok(emulator)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&self) -> Result<(), EmulatorError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(EmulatorError::NotReady {
            port: self.port,
            seconds: READY_TIMEOUT.as_secs(),
        })
    }

    /// Kills the process.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
