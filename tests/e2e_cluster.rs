//! A PostgreSQL app as a cluster: one private PostgreSQL server, two instances of the app on
//! 127.0.0.1, and nginx in front of them with the app's own `deploy/nginx.conf`. Every request
//! and socket of the test goes through nginx. The test adds a header to the proxy's
//! configuration that names the instance that served each request.

use std::collections::BTreeSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::Path;
use std::time::Duration;

use reqwest::blocking::Response;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

mod support;

use support::served::{app_command, create_superuser, csrf_token, Browser, Server};
use support::services::{free_port, Nginx, Postgres};
use support::{assert_success, cargo, generate, target_dir};

const PASSWORD: &str = "a sturdy passphrase 42";
/// `login_attempts` of the default config: failed logins per client and identifier.
const LOGIN_ATTEMPTS: usize = 10;
/// How long a push may take to arrive; it normally takes milliseconds.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

struct Cluster {
    binary: std::path::PathBuf,
    app: std::path::PathBuf,
    database_url: String,
    base: String,
    instances: [Server; 2],
    nginx: Nginx,
    _postgres: Postgres,
}

impl Cluster {
    fn start(parent: &Path) -> Cluster {
        let app = generate(parent, "cluster", "postgres");
        cargo(&app, &["build", "--locked"]);
        let binary = target_dir().join("debug/cluster");

        let postgres = Postgres::start();
        let database_url = postgres.create_database("cluster");
        let migrate = app_command(&binary, &app, &database_url, &["migrate"]);
        assert_success("cluster migrate", &migrate);

        let proxy_port = free_port();
        let base = format!("http://127.0.0.1:{proxy_port}");
        let ports = [free_port(), free_port()];
        let instances = ports.map(|port| {
            Server::start_with(
                &binary,
                &app,
                port,
                &[
                    ("DATABASE_URL", &database_url),
                    ("APP_URL", &base),
                    ("TRUSTED_PROXIES", "127.0.0.1"),
                ],
            )
        });

        let shipped = fs::read_to_string(app.join("deploy/nginx.conf")).unwrap();
        let site = proxy_config(&shipped, proxy_port, ports);
        let mut nginx = Nginx::start(&site);
        nginx.wait_for_port(proxy_port);

        Cluster {
            binary,
            app,
            database_url,
            base,
            instances,
            nginx,
            _postgres: postgres,
        }
    }

    fn browser(&self) -> Browser {
        Browser::at(&self.base)
    }

    /// Runs one of the app's commands against the cluster's database.
    fn command(&self, args: &[&str]) {
        let output = app_command(&self.binary, &self.app, &self.database_url, args);
        assert_success(&format!("cluster {}", args.join(" ")), &output);
    }

    fn create_user(&self, username: &str) {
        create_superuser(
            &self.binary,
            &self.app,
            &self.database_url,
            username,
            PASSWORD,
        );
    }

    /// Opens the event socket of `page` through the proxy with the browser's cookies, and
    /// returns it with the address of the instance that serves it.
    fn socket(&self, browser: &Browser, page: &str) -> (Socket, String) {
        let csrf = csrf_token(&browser.text(page));
        let url = format!(
            "ws://127.0.0.1:{}/_event?path={}&csrf={csrf}",
            self.base.rsplit(':').next().unwrap(),
            page.replace('/', "%2F"),
        );
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", self.base.parse().unwrap());
        if let Some(cookies) = browser.cookies() {
            request.headers_mut().insert("cookie", cookies);
        }
        let stream = TcpStream::connect(request.uri().authority().unwrap().as_str()).unwrap();
        stream.set_read_timeout(Some(PUSH_TIMEOUT)).unwrap();
        let (socket, response) = tungstenite::client(request, stream)
            .unwrap_or_else(|err| panic!("socket of {page}: {err}\n{}", self.logs()));
        let instance = response.headers()["x-upstream"]
            .to_str()
            .unwrap()
            .to_owned();
        (Socket { socket, next_id: 1 }, instance)
    }

    /// Returns the instances' and the proxy's logs, for a failure message.
    fn logs(&self) -> String {
        format!(
            "--- instance 1\n{}\n--- instance 2\n{}\n--- nginx\n{}",
            self.instances[0].log(),
            self.instances[1].log(),
            self.nginx.error_log()
        )
    }
}

/// Returns the shipped configuration with the test's ports, plus a header naming the instance
/// that served each request.
fn proxy_config(shipped: &str, proxy_port: u16, ports: [u16; 2]) -> String {
    let replaced = shipped
        .replace("listen 80;", &format!("listen 127.0.0.1:{proxy_port};"))
        .replace(
            "server 127.0.0.1:8001;",
            &format!("server 127.0.0.1:{};", ports[0]),
        )
        .replace(
            "server 127.0.0.1:8002;",
            &format!("server 127.0.0.1:{};", ports[1]),
        )
        .replace(
            "location / {",
            "location / {\n        add_header X-Upstream $upstream_addr always;",
        );
    for expected in [
        format!("listen 127.0.0.1:{proxy_port};"),
        format!("server 127.0.0.1:{};", ports[0]),
        format!("server 127.0.0.1:{};", ports[1]),
        "X-Upstream".to_owned(),
    ] {
        assert!(
            replaced.contains(&expected),
            "no `{expected}` in:\n{replaced}"
        );
    }
    replaced
}

fn upstream(response: &Response) -> String {
    response.headers()["x-upstream"]
        .to_str()
        .unwrap()
        .to_owned()
}

struct Socket {
    socket: WebSocket<TcpStream>,
    next_id: u64,
}

impl Socket {
    /// Returns the next text frame. tungstenite replies to pings while reading.
    fn next_frame(&mut self) -> Value {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => return serde_json::from_str(&text).unwrap(),
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
                Ok(other) => panic!("unexpected frame {other:?}"),
                Err(err) => panic!("no frame within {PUSH_TIMEOUT:?}: {err}"),
            }
        }
    }

    fn call(&mut self, event: &str) -> Value {
        self.call_with(event, json!({}))
    }

    fn call_with(&mut self, event: &str, payload: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"id": id, "event": event, "payload": payload});
        self.socket.send(Message::text(frame.to_string())).unwrap();
        loop {
            let frame = self.next_frame();
            if frame["id"] == json!(id) {
                return frame;
            }
        }
    }
}

/// Two instances behind nginx act as one app. A login through one instance is valid on the
/// other, and a logout or `deactivate` reaches the sockets of both at once. A login handoff
/// made on one instance works once, on the other. Rate limits count one client's failures
/// across both instances, by the address nginx reports.
#[test]
fn two_instances_behind_nginx_behave_as_one_app() {
    let parent = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(parent.path());
    cluster.create_user("alice");
    cluster.create_user("carol");

    // Logged in through one instance, signed in on both.
    let browser = cluster.browser();
    let response = browser.login("alice", PASSWORD);
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        cluster.logs()
    );
    let mut answered = BTreeSet::new();
    for _ in 0..4 {
        let response = browser.get("/order_history");
        assert_eq!(response.status(), StatusCode::OK, "{}", cluster.logs());
        answered.insert(upstream(&response));
    }
    assert_eq!(answered.len(), 2, "both instances answered: {answered:?}");

    // One socket of the session on each instance.
    let (mut first, first_instance) = cluster.socket(&browser, "/notes");
    let (mut second, second_instance) = loop {
        let (socket, instance) = cluster.socket(&browser, "/notes");
        if instance != first_instance {
            break (socket, instance);
        }
        // nginx takes turns, and opening a socket makes two requests: one more shifts the turn.
        browser.get("/healthz");
    };
    for socket in [&mut first, &mut second] {
        let reply = socket.call("auth.refresh");
        assert_eq!(
            reply["delta"]["auth"]["is_authenticated"],
            json!(true),
            "{reply}"
        );
    }

    // The logout reaches the sockets of both instances without an event of theirs.
    let response = browser.submit("/", "/logout", &[]);
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let logout_instance = upstream(&response);
    for (socket, instance) in [
        (&mut first, &first_instance),
        (&mut second, &second_instance),
    ] {
        let push = socket.next_frame();
        assert_eq!(
            push["push"],
            json!("session_ended"),
            "socket on {instance}, logout through {logout_instance}: {push}"
        );
        let reply = socket.call("auth.refresh");
        assert_eq!(
            reply["delta"]["auth"]["is_authenticated"],
            json!(false),
            "{reply}"
        );
    }

    // `deactivate` runs in a process of its own and still reaches every instance's sockets.
    let carol = cluster.browser();
    assert_eq!(
        carol.login("carol", PASSWORD).status(),
        StatusCode::SEE_OTHER
    );
    let mut sockets: Vec<(Socket, String)> = Vec::new();
    while sockets
        .iter()
        .map(|(_, instance)| instance)
        .collect::<BTreeSet<_>>()
        .len()
        < 2
    {
        sockets.push(cluster.socket(&carol, "/notes"));
        carol.get("/healthz");
    }
    cluster.command(&["deactivate", "carol"]);
    for (socket, instance) in &mut sockets {
        let push = socket.next_frame();
        assert_eq!(
            push["push"],
            json!("session_ended"),
            "socket on {instance}: {push}"
        );
    }
    assert!(!carol.is_signed_in());

    // A login through an event on one instance hands its session over through the other, once.
    cluster.create_user("dave");
    let dave = cluster.browser();
    let (mut socket, socket_instance) = cluster.socket(&dave, "/");
    let credentials = json!({"username": "dave", "password": PASSWORD});
    let reply = socket.call_with("auth.login", credentials);
    let handoff = reply["actions"][0]["redirect"].as_str().unwrap().to_owned();
    assert!(handoff.starts_with("/_auth/handoff?token="), "{reply}");
    // nginx takes turns: after a response from the socket's instance, the other one is next.
    while upstream(&dave.get("/healthz")) != socket_instance {}
    let redeemed = dave.get(&handoff);
    assert_eq!(
        redeemed.status(),
        StatusCode::SEE_OTHER,
        "{}",
        cluster.logs()
    );
    assert_ne!(upstream(&redeemed), socket_instance);
    assert!(dave.is_signed_in());
    while upstream(&dave.get("/healthz")) == socket_instance {}
    let again = dave.get(&handoff);
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(upstream(&again), socket_instance);

    // Failed logins of one client count on both instances, under the address nginx saw.
    let client = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5));
    let guesser = Browser::from_address(&cluster.base, client);
    let mut answered = BTreeSet::new();
    for _ in 0..LOGIN_ATTEMPTS {
        let response = guesser.login("alice", "not the password");
        assert_eq!(response.status(), StatusCode::OK, "{}", cluster.logs());
        answered.insert(upstream(&response));
        // A login is two requests; one more makes the next attempt reach the other instance.
        guesser.get("/healthz");
    }
    assert_eq!(answered.len(), 2, "both instances counted: {answered:?}");
    let limited = guesser.login("alice", PASSWORD);
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(!guesser.is_signed_in());

    // A forged X-Forwarded-For changes nothing: nginx replaces it with the client's address.
    let forged = guesser.submit_with_header(
        "/login",
        "/login",
        &[("username", "alice"), ("password", PASSWORD)],
        ("x-forwarded-for", "203.0.113.7"),
    );
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another client, as nginx reports it through the trusted proxy address, is not limited.
    let other = Browser::from_address(&cluster.base, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 6)));
    assert_eq!(
        other.login("alice", PASSWORD).status(),
        StatusCode::SEE_OTHER
    );
    assert!(other.is_signed_in());
}
