//! A generated app served as a process, and a cookie-keeping HTTP client to drive it.

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, ClientBuilder, RequestBuilder, Response};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderValue;
use reqwest::redirect::Policy;

use super::assert_success;
use super::services::free_port;

/// Runs one of the app's commands, such as `migrate`, against `database_url` and returns its
/// output, successful or not.
pub fn app_command(binary: &Path, app: &Path, database_url: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .current_dir(app)
        .env("DATABASE_URL", database_url)
        .output()
        .unwrap()
}

/// Runs the app's `createsuperuser` with `password` on standard input; the e-mail address is
/// `USERNAME@example.com`.
pub fn create_superuser(
    binary: &Path,
    app: &Path,
    database_url: &str,
    username: &str,
    password: &str,
) {
    let mut child = Command::new(binary)
        .args([
            "createsuperuser",
            "--username",
            username,
            "--email",
            &format!("{username}@example.com"),
            "--password-stdin",
        ])
        .current_dir(app)
        .env("DATABASE_URL", database_url)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert_success(
        &format!("createsuperuser {username}"),
        &child.wait_with_output().unwrap(),
    );
}

/// A running server process whose log is collected; it is killed on drop.
pub struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
    pub base: String,
}

impl Server {
    /// Serves the app on a free port, with `APP_URL` naming that port.
    pub fn start(binary: &Path, app: &Path, database_url: &str) -> Server {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        Server::start_with(
            binary,
            app,
            port,
            &[("DATABASE_URL", database_url), ("APP_URL", &base)],
        )
    }

    /// Serves the app on `port` with extra environment variables. The app's `.env` supplies
    /// the rest, `SECRET_KEY` included.
    pub fn start_with(binary: &Path, app: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        let base = format!("http://127.0.0.1:{port}");
        let mut child = Command::new(binary)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .current_dir(app)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();

        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });

        let server = Server { child, log, base };
        server.wait_for_log("listening");
        server
    }

    /// Returns the server's log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = self.log.lock().unwrap().clone();
            if log.contains(needle) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "no `{needle}` in the server log:\n{log}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A cookie-keeping HTTP client that does not follow redirects, like one browser profile.
pub struct Browser {
    pub client: Client,
    pub base: String,
    jar: Arc<Jar>,
}

impl Browser {
    pub fn new(server: &Server) -> Browser {
        Browser::at(&server.base)
    }

    /// Creates a browser of the app at `base`, such as a proxy in front of it.
    pub fn at(base: &str) -> Browser {
        Browser::build(base, Client::builder())
    }

    /// Creates a browser whose connections come from `local`, a loopback address such as
    /// 127.0.0.5, so that a proxy counts it as a client of its own.
    pub fn from_address(base: &str, local: IpAddr) -> Browser {
        Browser::build(base, Client::builder().local_address(local))
    }

    fn build(base: &str, builder: ClientBuilder) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = builder
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            base: base.to_owned(),
            jar,
        }
    }

    /// Returns the `Cookie` header this browser sends to the app.
    pub fn cookies(&self) -> Option<HeaderValue> {
        self.jar.cookies(&self.base.parse().unwrap())
    }

    pub fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap()
    }

    pub fn text(&self, path: &str) -> String {
        self.get(path).text().unwrap()
    }

    /// Opens `page` for its CSRF token, then posts `fields` to `action`.
    pub fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        self.submit_request(page, action, fields, |request| request)
    }

    /// Like [`Browser::submit`], with one more header on the POST.
    pub fn submit_with_header(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        (name, value): (&str, &str),
    ) -> Response {
        self.submit_request(page, action, fields, |request| request.header(name, value))
    }

    fn submit_request(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        adjust: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Response {
        let token = csrf_token(&self.text(page));
        let mut form = fields.to_vec();
        form.push(("csrf_token", &token));
        let request = self
            .client
            .post(format!("{}{action}", self.base))
            .form(&form);
        adjust(request).send().unwrap()
    }

    pub fn login(&self, username: &str, password: &str) -> Response {
        self.submit(
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        )
    }

    pub fn is_signed_in(&self) -> bool {
        self.text("/login").contains("Signed in as")
    }
}

pub fn csrf_token(html: &str) -> String {
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = html.find(marker).expect("the page has a CSRF meta tag") + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}

pub fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}
