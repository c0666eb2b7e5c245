//! Real PostgreSQL and nginx servers for end-to-end tests.
//!
//! Both servers listen on 127.0.0.1 only and keep all their files in a temporary directory
//! that is removed when the handle is dropped. A missing binary makes the test panic with the
//! Debian package to install, so no test passes without the server it needs.
//!
//! PostgreSQL refuses to run as root, so when the tests run as root, `initdb`, `postgres` and
//! `pg_ctl` run as the `postgres` system user (created by Debian's `postgresql` package)
//! through `runuser`. nginx runs as the current user. Under root, nginx starts its worker
//! process as `nobody` unless the config sets `user`, and `nobody` cannot enter the private
//! temporary directory, so the main config then sets `user root root;`.

use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::assert_success;

/// Maximum time a server gets to start accepting connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Maximum time a server gets to exit after it was asked to stop.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Number of ports `Postgres::start` tries, because another process can take a port from
/// `free_port` before the server binds it.
const POSTGRES_BIND_ATTEMPTS: u32 = 3;

/// Returns a TCP port on 127.0.0.1 that was free when this function bound and released it.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("failed to bind 127.0.0.1:0 to pick a free port");
    listener.local_addr().unwrap().port()
}

/// Returns whether a TCP connection to 127.0.0.1:`port` succeeds.
pub fn port_accepts(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// A PostgreSQL server on 127.0.0.1 with trust authentication for the `postgres` role.
/// Dropping it stops the server and deletes its data directory.
pub struct Postgres {
    port: u16,
    bin_dir: PathBuf,
    /// `runuser` when the tests run as root, so server commands run as the `postgres` user.
    runuser: Option<PathBuf>,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// The `postgres` process, or the `runuser` process that waits for it under root.
    server: Option<Child>,
    dir: TempDir,
}

impl Postgres {
    /// Creates a cluster in a new temporary directory, starts it on a free port and waits
    /// until it accepts queries. Panics when the binaries are missing or the server fails to
    /// start, with the server log in the message.
    pub fn start() -> Postgres {
        let bin_dir = postgres_bin_dir();
        let runuser = is_root().then(find_runuser);
        let dir = tempfile::Builder::new()
            .prefix("rdauth-postgres-")
            .tempdir()
            .expect("failed to create a temporary directory for PostgreSQL");
        let log_path = dir.path().join("server.log");
        File::create(&log_path).expect("failed to create the PostgreSQL log file");

        let mut postgres = Postgres {
            port: 0,
            bin_dir,
            data_dir: dir.path().join("data"),
            log_path,
            runuser,
            server: None,
            dir,
        };
        if postgres.runuser.is_some() {
            postgres.hand_dir_to_postgres_user();
        }
        postgres.init_cluster();

        for attempt in 1..=POSTGRES_BIND_ATTEMPTS {
            let log_offset = postgres.log().len();
            postgres.port = free_port();
            postgres.spawn_server();
            let Err(status) = postgres.wait_until_ready() else {
                return postgres;
            };
            let attempt_log = postgres.log().split_off(log_offset);
            if attempt < POSTGRES_BIND_ATTEMPTS && attempt_log.contains("Address already in use") {
                continue;
            }
            panic!(
                "PostgreSQL exited with {status} before it accepted connections on port {}\n\
                 --- server log\n{}",
                postgres.port,
                postgres.log(),
            );
        }
        unreachable!("the last bind attempt returns or panics");
    }

    /// Returns the port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the connection URL of `database` for the `postgres` role, which needs no
    /// password.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates the database `name` and returns its connection URL.
    pub fn create_database(&self, name: &str) -> String {
        let output = self
            .client("createdb")
            .arg(name)
            .output()
            .expect("failed to run createdb");
        assert_success(&format!("createdb {name}"), &output);
        self.url(name)
    }

    /// Runs `sql` in `database` with `psql -At` and returns its output without the final
    /// newline: one line per row, with columns separated by `|`. Panics with psql's stderr
    /// when a statement fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = self
            .client("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .expect("failed to run psql");
        assert_success(&format!("psql -d {database} -c {sql:?}"), &output);
        let stdout = String::from_utf8(output.stdout).expect("psql output is not UTF-8");
        match stdout.strip_suffix('\n') {
            Some(trimmed) => trimmed.to_owned(),
            None => stdout,
        }
    }

    /// Returns the server's stdout and stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_else(|error| {
            format!(
                "(failed to read {}: {error})",
                self.log_path.to_string_lossy()
            )
        })
    }

    /// Gives the temporary directory to the `postgres` user and checks that this user can
    /// write to it, which fails when a parent directory (for example `$TMPDIR`) is private.
    fn hand_dir_to_postgres_user(&self) {
        let output = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(self.dir.path())
            .output()
            .expect("failed to run chown");
        assert_success(
            "chown -R postgres:postgres on the PostgreSQL directory",
            &output,
        );

        let output = self
            .server_command(Path::new("test"))
            .arg("-w")
            .arg(self.dir.path())
            .output()
            .expect("failed to run runuser");
        assert!(
            output.status.success(),
            "the postgres user cannot write to {}; set TMPDIR to a directory that it can \
             reach, such as /tmp\n{}",
            self.dir.path().to_string_lossy(),
            String::from_utf8_lossy(&output.stderr),
        );
    }

    fn init_cluster(&self) {
        let output = self
            .server_command(&self.tool("initdb"))
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .expect("failed to run initdb");
        assert_success("initdb", &output);
    }

    fn spawn_server(&mut self) {
        let log = File::options()
            .append(true)
            .open(&self.log_path)
            .expect("failed to open the PostgreSQL log file");
        let stderr = log.try_clone().unwrap();
        let server = self
            .server_command(&self.tool("postgres"))
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .expect("failed to start postgres");
        self.server = Some(server);
    }

    /// Waits until the server accepts queries on its port. Returns the exit status when the
    /// server exits first, and panics with the server log after `STARTUP_TIMEOUT`.
    fn wait_until_ready(&mut self) -> Result<(), ExitStatus> {
        let pg_isready = self.find_tool("pg_isready");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let server = self.server.as_mut().expect("the server was spawned");
            if let Some(status) = server.try_wait().expect("failed to poll postgres") {
                return Err(status);
            }
            // A port that accepts TCP may still belong to a server that is starting up and
            // rejects queries, which pg_isready reports.
            if port_accepts(self.port) && pg_isready.as_ref().is_none_or(|tool| self.is_ready(tool))
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {STARTUP_TIMEOUT:?} waiting for PostgreSQL on port {}\n\
                     --- server log\n{}",
                    self.port,
                    self.log(),
                );
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    fn is_ready(&self, pg_isready: &Path) -> bool {
        Command::new(pg_isready)
            .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres"])
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Builds a command that runs `program` as the `postgres` user under root, and as the
    /// current user otherwise.
    fn server_command(&self, program: &Path) -> Command {
        let mut command = match &self.runuser {
            Some(runuser) => {
                let mut command = Command::new(runuser);
                command.args(["-u", "postgres", "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        // The `postgres` user may not be allowed into the test's working directory.
        command.current_dir(self.dir.path());
        command
    }

    /// Builds a client command (psql, createdb) connected over TCP as the `postgres` role.
    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(self.tool(program));
        command.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ]);
        command
    }

    /// Finds `name` next to `initdb`, then in `PATH`.
    fn find_tool(&self, name: &str) -> Option<PathBuf> {
        let beside_initdb = self.bin_dir.join(name);
        if beside_initdb.is_file() {
            return Some(beside_initdb);
        }
        find_in_path(name)
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.find_tool(name).unwrap_or_else(|| {
            panic!(
                "`{name}` not found in {} or PATH; install it with `apt-get install postgresql`",
                self.bin_dir.to_string_lossy(),
            )
        })
    }

    /// Kills the postmaster by the process id in `postmaster.pid`. Under root, killing the
    /// `runuser` child would leave the server running.
    fn kill_postmaster(&self) {
        let Ok(pid_file) = fs::read_to_string(self.data_dir.join("postmaster.pid")) else {
            return;
        };
        let Some(pid) = pid_file.lines().next() else {
            return;
        };
        if let Err(error) = Command::new("kill").args(["-KILL", pid.trim()]).status() {
            eprintln!("failed to run `kill -KILL {pid}` on PostgreSQL: {error}");
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        if matches!(server.try_wait(), Ok(None)) {
            match self.find_tool("pg_ctl") {
                Some(pg_ctl) => {
                    let stop = self
                        .server_command(&pg_ctl)
                        .args(["stop", "-m", "immediate", "-w", "-D"])
                        .arg(&self.data_dir)
                        .output();
                    match stop {
                        Ok(output) if output.status.success() => {}
                        Ok(output) => eprintln!(
                            "pg_ctl stop failed with {} on port {}: {}",
                            output.status,
                            self.port,
                            String::from_utf8_lossy(&output.stderr),
                        ),
                        Err(error) => eprintln!("failed to run pg_ctl stop: {error}"),
                    }
                }
                None => eprintln!("pg_ctl not found; killing PostgreSQL on port {}", self.port),
            }
            if !wait_for_exit(&mut server, SHUTDOWN_TIMEOUT) {
                eprintln!(
                    "PostgreSQL on port {} did not stop within {SHUTDOWN_TIMEOUT:?}; killing it",
                    self.port,
                );
                self.kill_postmaster();
                let _ = server.kill();
            }
        }
        let _ = server.wait();
    }
}

/// An nginx master process with one worker, configured by a site snippet. Dropping it stops
/// nginx and deletes its directory.
pub struct Nginx {
    process: Child,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx with `site_config` included in its `http` block.
    ///
    /// `site_config` contains http-level directives such as `upstream`, `map` and `server`
    /// blocks, with listen ports and upstream addresses already filled in. nginx checks the
    /// config with `-t` first, and an invalid config panics with nginx's output. The call
    /// returns once the process is spawned. Call `wait_for_port` before sending requests.
    pub fn start(site_config: &str) -> Nginx {
        let binary = find_nginx();
        let mut builder = tempfile::Builder::new();
        builder.prefix("rdauth-nginx-");
        // Mode 0700 regardless of the umask keeps the directory private on every machine, so
        // the worker process must run as the current user to write its temp files.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let dir = builder
            .tempdir()
            .expect("failed to create a temporary directory for nginx");
        let prefix = dir.path();
        let config_path = prefix.join("nginx.conf");
        let error_log = prefix.join("error.log");
        fs::write(prefix.join("site.conf"), site_config).expect("failed to write site.conf");
        fs::write(&config_path, main_config(prefix, is_root()))
            .expect("failed to write nginx.conf");

        let check = nginx_command(&binary, prefix, &error_log, &config_path)
            .arg("-t")
            .output()
            .expect("failed to run nginx -t");
        assert!(
            check.status.success(),
            "nginx rejected the config ({})\n--- nginx -t output\n{}{}\n--- site config\n{site_config}",
            check.status,
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr),
        );

        let output =
            File::create(prefix.join("output.log")).expect("failed to create the nginx output log");
        let stderr = output.try_clone().unwrap();
        let process = nginx_command(&binary, prefix, &error_log, &config_path)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(stderr)
            .spawn()
            .expect("failed to start nginx");
        Nginx { process, dir }
    }

    /// Waits until 127.0.0.1:`port` accepts TCP connections. Panics with the error log when
    /// nginx exits first or after `STARTUP_TIMEOUT`.
    pub fn wait_for_port(&mut self, port: u16) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.process.try_wait().expect("failed to poll nginx") {
                panic!(
                    "nginx exited with {status} before port {port} accepted connections\n{}",
                    self.logs(),
                );
            }
            if port_accepts(port) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {STARTUP_TIMEOUT:?} waiting for nginx on port {port}\n{}",
                    self.logs(),
                );
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Returns the text of nginx's error log, written at level `info`.
    pub fn error_log(&self) -> String {
        read_log(&self.dir.path().join("error.log"))
    }

    /// Returns the text of nginx's access log.
    pub fn access_log(&self) -> String {
        read_log(&self.dir.path().join("access.log"))
    }

    fn logs(&self) -> String {
        format!(
            "--- error.log\n{}\n--- stdout and stderr\n{}",
            self.error_log(),
            read_log(&self.dir.path().join("output.log")),
        )
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if !matches!(self.process.try_wait(), Ok(None)) {
            return;
        }
        // SIGTERM makes the master stop its worker before it exits. SIGKILL, the fallback,
        // would leave the worker running.
        let pid = self.process.id().to_string();
        let terminated = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|status| status.success());
        if !terminated || !wait_for_exit(&mut self.process, SHUTDOWN_TIMEOUT) {
            eprintln!("nginx (pid {pid}) did not stop on SIGTERM; killing it");
            let _ = self.process.kill();
        }
        let _ = self.process.wait();
    }
}

fn nginx_command(binary: &Path, prefix: &Path, error_log: &Path, config: &Path) -> Command {
    let mut command = Command::new(binary);
    // `-e` (nginx 1.19.5 and later) sends the messages written before the config is read to
    // the harness's error log. The compiled-in `--error-log-path` is `stderr` in Debian's
    // build (see `nginx -V`), but other builds may set a file that only root can open.
    command
        .arg("-p")
        .arg(prefix)
        .arg("-e")
        .arg(error_log)
        .arg("-c")
        .arg(config);
    command
}

/// Returns the main nginx config, which keeps every file nginx writes inside `prefix`.
fn main_config(prefix: &Path, root: bool) -> String {
    let path = |name: &str| quote_nginx(&prefix.join(name));
    let user = if root { "user root root;\n" } else { "" };
    format!(
        "{user}daemon off;
master_process on;
worker_processes 1;
pid {pid};
error_log {error_log} info;

events {{
    worker_connections 1024;
}}

http {{
    access_log {access_log};
    client_body_temp_path {client_body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};

    include {site};
}}
",
        pid = path("nginx.pid"),
        error_log = path("error.log"),
        access_log = path("access.log"),
        client_body = path("client_body"),
        proxy = path("proxy"),
        fastcgi = path("fastcgi"),
        uwsgi = path("uwsgi"),
        scgi = path("scgi"),
        site = path("site.conf"),
    )
}

/// Quotes a path as an nginx string, so that spaces and semicolons stay part of it.
fn quote_nginx(path: &Path) -> String {
    let text = path.to_string_lossy();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn find_nginx() -> PathBuf {
    find_in_path("nginx")
        .or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|path| path.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "nginx not found in PATH or at /usr/sbin/nginx; install it with \
                 `apt-get install nginx`"
            )
        })
}

/// Returns the directory that contains `initdb`: the one in `PATH`, or else the highest version
/// under `/usr/lib/postgresql/*/bin`, where Debian installs the server binaries.
fn postgres_bin_dir() -> PathBuf {
    if let Some(initdb) = find_in_path("initdb") {
        return initdb.parent().unwrap().to_path_buf();
    }
    let entries = fs::read_dir("/usr/lib/postgresql").into_iter().flatten();
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries not found: no `initdb` in PATH or in \
             /usr/lib/postgresql/*/bin; install them with `apt-get install postgresql`"
        ),
    }
}

fn find_runuser() -> PathBuf {
    find_in_path("runuser")
        .or_else(|| {
            ["/usr/sbin/runuser", "/sbin/runuser"]
                .into_iter()
                .map(PathBuf::from)
                .find(|path| path.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "runuser not found, but PostgreSQL cannot run as root without it; install it \
                 with `apt-get install util-linux` or run the tests as a normal user"
            )
        })
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Returns whether the effective uid is 0, from `/proc/self/status` or else `id -u`.
fn is_root() -> bool {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        let uids = status.lines().find_map(|line| line.strip_prefix("Uid:"));
        // The fields are the real, effective, saved and filesystem uid.
        if let Some(effective) = uids.and_then(|uids| uids.split_whitespace().nth(1)) {
            return effective == "0";
        }
    }
    let output = Command::new("id")
        .arg("-u")
        .output()
        .expect("failed to run `id -u` to find the current uid");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// Waits up to `timeout` for `child` to exit and returns whether it did.
fn wait_for_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() > deadline => return false,
            Ok(None) => thread::sleep(POLL_INTERVAL),
        }
    }
}

fn read_log(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|error| format!("(failed to read {}: {error})", path.to_string_lossy()))
}
