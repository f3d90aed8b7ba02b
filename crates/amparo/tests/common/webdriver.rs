//! A small W3C WebDriver client over reqwest, driving Debian's chromedriver and a
//! headless Chromium. Enough for the browser tests; no extra dependency.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Is a browser available? With AMPARO_REQUIRE_BROWSER=1 a missing one is a failure.
pub fn browser_available() -> bool {
    let have = std::path::Path::new("/usr/bin/chromium").exists()
        && std::path::Path::new("/usr/bin/chromedriver").exists();
    if !have && std::env::var("AMPARO_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!(
            "AMPARO_REQUIRE_BROWSER=1 but /usr/bin/chromium or /usr/bin/chromedriver is missing"
        );
    }
    if !have {
        eprintln!("skipping browser test: chromium/chromedriver not installed");
    }
    have
}

pub struct Driver {
    process: Child,
    pub base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    pub async fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver {
            process,
            base,
            http,
        }
    }

    /// A new browser with its own profile (cookies, storage).
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        let profile = super::temp_dir("chrome");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--disable-quic",
                         format!("--user-data-dir={}", profile.display()),
                         format!("--window-size={width},{height}"), "--lang=es"]
            }
        }}});
        let r: Value = self
            .http
            .post(format!("{}/session", self.base))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        let b = Browser {
            url: format!("{}/session/{id}", self.base),
            http: self.http.clone(),
        };
        b.resize(width, height).await;
        b
    }
}

pub struct Browser {
    url: String,
    http: reqwest::Client,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        } else {
            req = req.json(&json!({}));
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }
    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    async fn get(&self, path: &str) -> Value {
        let v: Value = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["value"].clone()
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }
    pub async fn current_url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or("").to_string()
    }
    pub async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT].as_str().map(str::to_string)
    }
    /// Wait up to 15 s for an element to appear.
    pub async fn wait_for(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(e) = self.find(css).await {
                return e;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "element {css} never appeared; page: {}",
                self.text("body").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    pub async fn text(&self, css: &str) -> String {
        match self.find(css).await {
            Some(e) => self
                .get(&format!("/element/{e}/text"))
                .await
                .as_str()
                .unwrap_or("")
                .to_string(),
            None => String::new(),
        }
    }
    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }
    /// Type into an element (focusing it first).
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{e}/value"), json!({"text": text}))
            .await;
    }
    pub async fn clear(&self, css: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{e}/clear"), json!({})).await;
    }
    /// Keys to whatever has focus: the keyboard alone, as a person would type.
    pub async fn keys(&self, text: &str) {
        let actions: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                [
                    json!({"type": "keyDown", "value": c.to_string()}),
                    json!({"type": "keyUp", "value": c.to_string()}),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "kb", "actions": actions}]}),
        )
        .await;
    }
    pub async fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({"script": js, "args": []}))
            .await
    }
    /// Wait until a script returns true.
    pub async fn wait_until(&self, js: &str, what: &str) {
        let started = Instant::now();
        loop {
            if self.script(js).await == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; page: {}",
                self.text("body").await
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64_decode::decode;
        let v = self.get("/screenshot").await;
        let png = decode(v.as_str().unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
    pub async fn quit(&self) {
        let _ = self.http.delete(&self.url).send().await;
    }
}

/// Screenshots come base64-encoded; a few lines spare a dependency.
mod base64_decode {
    pub fn decode(s: &str) -> Vec<u8> {
        let val = |c: u8| -> Option<u32> {
            Some(match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            } as u32)
        };
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let mut buf = 0u32;
        let mut bits = 0;
        for c in s.bytes() {
            if let Some(v) = val(c) {
                buf = (buf << 6) | v;
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    out.push((buf >> bits) as u8);
                    buf &= (1 << bits) - 1;
                }
            }
        }
        out
    }
}
