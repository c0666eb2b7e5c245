//! Checks the PostgreSQL and nginx servers that `support::services` starts for end-to-end
//! tests. Needs the Debian packages `postgresql` and `nginx`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

mod support;

use support::services::{free_port, port_accepts, Nginx, Postgres};

#[test]
fn postgres_creates_database_and_queries() {
    let postgres = Postgres::start();
    let port = postgres.port();

    let url = postgres.create_database("harness_check");
    assert_eq!(
        url,
        format!("postgres://postgres@127.0.0.1:{port}/harness_check")
    );
    assert_eq!(postgres.psql("harness_check", "SELECT 1"), "1");
    assert_eq!(
        postgres.psql("harness_check", "SELECT current_database()"),
        "harness_check"
    );
    assert_eq!(
        postgres.psql("harness_check", "SELECT 1, 'a' UNION ALL SELECT 2, 'b'"),
        "1|a\n2|b"
    );
    assert_eq!(postgres.psql("postgres", "SHOW fsync"), "off");
    assert_eq!(postgres.psql("postgres", "SHOW max_connections"), "200");

    drop(postgres);
    assert!(
        !port_accepts(port),
        "PostgreSQL still listens on {port} after drop"
    );
}

#[test]
#[should_panic(expected = "psql -d postgres")]
fn postgres_psql_panics_on_error() {
    let postgres = Postgres::start();
    postgres.psql("postgres", "SELECT * FROM missing_table");
}

#[test]
fn nginx_proxies_to_backend() {
    let backend_port = serve_hello();
    let port = free_port();
    let mut nginx = Nginx::start(&proxy_site(port, backend_port));
    nginx.wait_for_port(port);

    let (status, body) = send(port, "GET", "/greeting", b"");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "hello");
    let access_log = nginx.access_log();
    assert!(access_log.contains("GET /greeting"), "{access_log}");

    drop(nginx);
    assert!(
        !port_accepts(port),
        "nginx still listens on {port} after drop"
    );
}

/// A request body larger than `client_body_buffer_size` goes through a temporary file, which
/// the worker process must be allowed to create in the harness directory.
#[test]
fn nginx_buffers_large_request_body() {
    let backend_port = serve_hello();
    let port = free_port();
    let mut nginx = Nginx::start(&proxy_site(port, backend_port));
    nginx.wait_for_port(port);

    let (status, body) = send(port, "POST", "/upload", &vec![b'x'; 300_000]);
    let error_log = nginx.error_log();
    assert_eq!(status, "HTTP/1.1 200 OK", "{error_log}");
    assert_eq!(body, "received 300000 bytes");
    assert!(
        error_log.contains("request body is buffered to a temporary file"),
        "{error_log}"
    );
}

#[test]
#[should_panic(expected = "nginx rejected the config")]
fn nginx_rejects_invalid_config() {
    Nginx::start("server { listen 127.0.0.1:1; no_such_directive on; }");
}

fn proxy_site(port: u16, backend_port: u16) -> String {
    format!(
        "server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://127.0.0.1:{backend_port};
    }}
}}
"
    )
}

/// Starts a thread that responds to every HTTP request on a free port with `200 OK`, and
/// returns the port. The response body is `hello` for a request without a body and
/// `received N bytes` otherwise.
fn serve_hello() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else {
                continue;
            };
            respond(stream);
        }
    });
    port
}

fn respond(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut content_length = 0;
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|read| read > 0) && line != "\r\n" {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap();
            }
        }
        line.clear();
    }
    let mut body = vec![0; content_length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }

    let reply = if content_length == 0 {
        "hello".to_owned()
    } else {
        format!("received {content_length} bytes")
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{reply}",
        reply.len(),
    );
}

/// Sends a request to 127.0.0.1:`port` and returns the status line and the body.
fn send(port: u16, method: &str, path: &str, body: &[u8]) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len(),
    )
    .unwrap();
    stream.write_all(body).unwrap();

    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("response has no end of header: {response:?}"));
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}
