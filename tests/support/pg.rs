//! A `PostgreSQL` server for the store tests and bench: the one named by
//! `PORTAL_AUTH_TEST_PG_URL`, or a throwaway cluster started from Debian's server
//! binaries in a temp directory and stopped when the guard drops (also on panic).

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server: the URL of a database on it and, for a throwaway cluster,
/// what to stop.
pub(crate) struct PgServer {
    pub(crate) url: String,
    /// Held for its `Drop`, which stops the throwaway cluster.
    _cluster: Option<Cluster>,
}

struct Cluster {
    pg_ctl: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
}

impl PgServer {
    /// The server to test against, or why there is none.
    ///
    /// `durable` keeps `fsync` on (for the bench); tests turn it off for speed.
    pub(crate) fn start(durable: bool) -> Result<Self, String> {
        if let Ok(url) = std::env::var("PORTAL_AUTH_TEST_PG_URL")
            && !url.is_empty()
        {
            return Ok(Self {
                url,
                _cluster: None,
            });
        }
        let bin = server_binaries().ok_or("no PORTAL_AUTH_TEST_PG_URL and no initdb found")?;
        let as_postgres = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        // The `postgres` user must reach the cluster directory; a root TMPDIR may sit
        // under a home it cannot enter, while /tmp is open to every user.
        let temp = if as_postgres {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        // A fresh name each run, made here and nowhere else: `create_dir` refuses a path
        // that exists, so nothing planted in the shared /tmp is reused or chowned.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = temp.join(format!("portal-auth-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("temp dir: {e}"))?;
        // From here the guard removes the directory, whatever fails next.
        let cluster = Cluster {
            pg_ctl: bin.join("pg_ctl"),
            dir: dir.clone(),
            as_postgres,
        };
        if as_postgres {
            // initdb refuses to run as root: the cluster belongs to `postgres`.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err("chown of the cluster dir to postgres failed".into());
            }
        }
        let data = dir.join("data");
        let initdb = bin.join("initdb");
        let data_arg = data.display().to_string();
        cluster.run(
            &initdb,
            &[
                "-D",
                &data_arg,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let fsync = if durable { "on" } else { "off" };
        let log = dir.join("server.log").display().to_string();
        // The free port is found by binding and letting go, so another process may
        // take it before the server does: try a few.
        let mut failure = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync={fsync} -c max_connections=200",
                dir.display()
            );
            let started = cluster.run(
                &cluster.pg_ctl,
                &["-D", &data_arg, "-l", &log, "-w", "-o", &options, "start"],
            );
            match started {
                Ok(()) => {
                    return Ok(Self {
                        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                        _cluster: Some(cluster),
                    });
                }
                Err(error) => failure = error,
            }
        }
        Err(failure)
    }
}

impl Cluster {
    fn run(&self, program: &Path, args: &[&str]) -> Result<(), String> {
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed: {}{}",
                program.display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

/// Stops the server if it runs and removes the directory: after a test, on a panic, or
/// when starting failed halfway.
impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            let data = data.display().to_string();
            let _ = self.run(&self.pg_ctl, &["-D", &data, "-m", "immediate", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `pg_ctl`.
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("free port: {e}"))
}
