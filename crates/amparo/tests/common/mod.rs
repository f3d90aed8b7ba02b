//! Test support: start the real `amparo` binary on a free port against a fresh
//! SQLite file or a fresh PostgreSQL database, and talk HTTP to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod webdriver;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_amparo")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "amparo-test-{tag}-{}-{n}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh PostgreSQL database on the server named by AMPARO_TEST_POSTGRES, or
/// `None` when it is not set (the test then skips, as allowed outside CI).
pub async fn fresh_postgres() -> Option<String> {
    let base = std::env::var("AMPARO_TEST_POSTGRES").ok()?;
    let name = format!("amparo_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&base)
        .await
        .expect("AMPARO_TEST_POSTGRES is set but the server cannot be reached");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h.to_string(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let prefix = head
        .rsplit_once('/')
        .map(|(p, _)| p.to_string())
        .unwrap_or(head);
    Some(format!("{prefix}/{name}{query}"))
}

pub struct Server {
    pub base: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub admin_password: String,
    process: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Server {
    /// Start a server; `None` when the backend is not available here.
    pub async fn start(db: Db) -> Option<Server> {
        let database_url = match db {
            Db::Sqlite => None,
            Db::Postgres => match fresh_postgres().await {
                Some(u) => Some(u),
                None => {
                    eprintln!("skipping: AMPARO_TEST_POSTGRES is not set");
                    return None;
                }
            },
        };
        Some(Self::start_with(temp_dir("srv"), database_url, "serve"))
    }

    pub fn start_with(data_dir: PathBuf, database_url: Option<String>, command: &str) -> Server {
        let mut cmd = Command::new(bin());
        cmd.arg("--data-dir").arg(&data_dir);
        if let Some(u) = &database_url {
            cmd.arg("--database-url").arg(u);
        }
        cmd.arg(command)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env_remove("AMPARO_DATABASE_URL")
            .stdout(Stdio::piped())
            // Kept beside the data so that a server that did not start says why.
            .stderr(
                std::fs::File::create(data_dir.join("server.log"))
                    .map(Stdio::from)
                    .unwrap_or(Stdio::null()),
            );
        let mut process = cmd.spawn().expect("start amparo");
        let stdout = process.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut admin_password = String::new();
        let mut base = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 {
            if let Some(rest) = line.split("one-time password ").nth(1) {
                admin_password = rest.split_whitespace().next().unwrap_or("").to_string();
            }
            if let Some(rest) = line.strip_prefix("Administrator: admin / ") {
                admin_password = rest.split_whitespace().next().unwrap_or("").to_string();
            }
            if let Some(addr) = line.trim().strip_prefix("amparo is listening on ") {
                base = addr.to_string();
                break;
            }
            line.clear();
        }
        assert!(
            !base.is_empty(),
            "server did not start: {}",
            std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default()
        );
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Server {
            base,
            data_dir,
            database_url,
            admin_password,
            process,
        }
    }

    pub fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    /// Run the CLI against this server's data; returns (exit code, stdout).
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> (i32, String) {
        let mut cmd = Command::new(bin());
        cmd.arg("--data-dir").arg(&self.data_dir);
        if let Some(u) = &self.database_url {
            cmd.arg("--database-url").arg(u);
        }
        cmd.args(args)
            .env_remove("AMPARO_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().unwrap();
        let mut text = String::from_utf8_lossy(&out.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    /// Add a user by the CLI and return an API client holding a bearer token.
    /// `role` may name several roles separated by `+` (caseworker+investigator).
    pub fn user(&self, username: &str, role: &str, agency: &str, facilities: &[&str]) -> Api {
        let mut args = vec!["user", "add", "--username", username, "--agency", agency];
        for r in role.split('+') {
            args.push("--role");
            args.push(r);
        }
        for f in facilities {
            args.push("--facility");
            args.push(f);
        }
        let (code, out) = self.cli(&args, Some(&format!("{}\n", password_of(username))));
        assert_eq!(code, 0, "user add failed: {out}");
        let (code, out) = self.cli(&["token", "create", "--username", username], None);
        assert_eq!(code, 0, "token create failed: {out}");
        Api::bearer(&self.base, out.lines().next().unwrap().trim())
    }

    /// A browser-like client (cookie jar) that signs in.
    pub async fn session(&self, username: &str, password: &str) -> Api {
        let api = Api::cookies(&self.base);
        let r = api
            .send(
                Method::POST,
                "/session",
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login failed: {}", r.body);
        let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
        Api {
            csrf: Some(csrf),
            ..api
        }
    }
}

pub fn password_of(username: &str) -> String {
    format!("pw-{username}-long-enough")
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: Client,
    pub token: Option<String>,
    pub csrf: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub etag: Option<String>,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Api {
    pub fn bearer(base: &str, token: &str) -> Api {
        Api {
            base: base.to_string(),
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            token: Some(token.to_string()),
            csrf: None,
        }
    }
    pub fn cookies(base: &str) -> Api {
        Api {
            base: base.to_string(),
            client: Client::builder()
                .cookie_store(true)
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            token: None,
            csrf: None,
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.client.request(method, url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(c) = &self.csrf {
            req = req.header("X-CSRF-Token", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp: Response = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let etag = headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            etag,
            content_type,
            headers,
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.raw(method, path, body.map(|b| b.to_string().into_bytes()), &[])
            .await
    }
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, etag: &str, body: Value) -> Reply {
        self.raw(
            Method::PATCH,
            path,
            Some(body.to_string().into_bytes()),
            &[("If-Match", etag)],
        )
        .await
    }
    /// POST that must succeed with 201; returns the body.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let r = self.post(path, body).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "create {path} failed: {}",
            r.body
        );
        r.body
    }
}

/// An agency with an operation, two facilities, and children placed in each.
pub struct World {
    pub caseworker: Api,
    pub operation: String,
    pub facility_a: String,
    pub facility_b: String,
    pub child_a: String,
    pub child_b: String,
}

pub fn legal_basis() -> Value {
    json!({"kind": "protective_order", "issuing_authority": "Juzgado de prueba",
           "reference": "TEST-0001", "date": "2026-01-10"})
}

pub async fn world(server: &Server, agency: &str, prefix: &str) -> World {
    let caseworker = server.user(&format!("{prefix}cw"), "caseworker", agency, &[]);
    let op = caseworker
        .create(
            "/operations",
            json!({"name": "Test operation", "country": "GT", "start_date": "2026-01-10",
                   "lead_agency": "Test agency"}),
        )
        .await;
    let operation = op["id"].as_str().unwrap().to_string();
    let mut facilities = Vec::new();
    for name in ["Casa A", "Casa B"] {
        let f = caseworker
            .create(
                "/facilities",
                json!({"name": name, "kind": "care_centre", "address": format!("Calle {name}"), "capacity": 50}),
            )
            .await;
        facilities.push(f["id"].as_str().unwrap().to_string());
    }
    let mut children = Vec::new();
    for (i, (given, fac)) in [("Jacobo", &facilities[0]), ("Rivka", &facilities[1])]
        .into_iter()
        .enumerate()
    {
        let c = caseworker
            .create(
                "/children",
                json!({"operation_id": operation, "names": [{"given": given, "family": "Testman"}],
                       "sex": if i == 0 {"male"} else {"female"},
                       "birth": {"precision": "year", "year": 2015},
                       "wristband": format!("{}", i + 1),
                       "languages": ["es"]}),
            )
            .await;
        let id = c["id"].as_str().unwrap().to_string();
        caseworker
            .create(
                "/placements",
                json!({"child_id": id, "facility_id": fac, "from": "2026-01-10T10:00:00Z",
                       "legal_basis": legal_basis(), "authorised_by": "Jueza de prueba"}),
            )
            .await;
        children.push(id);
    }
    World {
        caseworker,
        operation,
        facility_a: facilities[0].clone(),
        facility_b: facilities[1].clone(),
        child_a: children[0].clone(),
        child_b: children[1].clone(),
    }
}

/// Run one async test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body(Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body(Db::Postgres).await;
            }
        }
    };
}
