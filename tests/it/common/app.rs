//! The real application on port 0 with a fresh database, and a browser-like
//! HTTP client (cookies, no automatic redirects) to talk to it.

use std::sync::Arc;

use bpmn_engine::runtime::{Runtime, SystemClock};
use bpmn_engine::web::{self, WebConfig};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use super::Shorthand;
use super::db::TestDb;

/// A running application.
pub struct TestApp {
    pub base: String,
    pub runtime: Arc<Runtime>,
    pub backend: &'static str,
    db: Option<TestDb>,
    server: actix_web::dev::ServerHandle,
}

/// A response, read.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub set_cookie: Vec<String>,
}

impl TestApp {
    /// Starts the app on a fresh database of the given kind, with an admin
    /// account `admin` / `admin-password`.
    pub async fn start(db: TestDb) -> TestApp {
        TestApp::start_with(db, |r| r, Default::default()).await
    }

    /// Starts the app with its runtime built by `build` and these trusted proxies.
    pub async fn start_with(
        db: TestDb,
        build: impl FnOnce(Runtime) -> Runtime,
        trusted_proxies: bpmn_engine::web::proxy::TrustedProxies,
    ) -> TestApp {
        TestApp::start_at(db, |r, _| build(r), trusted_proxies).await
    }

    /// Starts the app with its runtime built by `build`, which is told the
    /// app's base URL (`http://127.0.0.1:port`).
    pub async fn start_at(
        db: TestDb,
        build: impl FnOnce(Runtime, &str) -> Runtime,
        trusted_proxies: bpmn_engine::web::proxy::TrustedProxies,
    ) -> TestApp {
        bpmn_engine::runtime::connector::install_tls_provider();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let store = db.store().await;
        let runtime = super::rt::runtime_on(store, |s| {
            build(Runtime::new(s, Arc::new(SystemClock)), &base)
        });
        runtime
            .accounts()
            .ensure_admin(Some("admin-password"))
            .await
            .unwrap();
        let key = runtime.accounts().session_key(None).await.unwrap();
        let server = web::server(
            runtime.clone(),
            WebConfig {
                session_key: key,
                secure_cookies: false,
                trusted_proxies,
                engine_rest_path: web::engine_rest::DEFAULT_PATH.to_string(),
            },
            listener,
        )
        .unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        TestApp {
            base,
            runtime,
            backend: db.backend,
            db: Some(db),
            server: handle,
        }
    }

    /// Every database to test on, each with its own app.
    pub async fn each() -> Vec<TestApp> {
        let mut apps = Vec::new();
        for db in super::db::databases().await {
            apps.push(TestApp::start(db).await);
        }
        apps
    }

    pub async fn stop(mut self) {
        self.server.stop(false).await;
        if let Some(db) = self.db.take() {
            db.drop_now().await;
        }
    }

    /// A new browser (its own cookie jar).
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// A browser logged in as `name`.
    pub async fn login(&self, name: &str, password: &str) -> Browser {
        let b = self.browser();
        let p = b.login(name, password).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "login {name}: {}", p.body);
        b
    }

    /// Creates a user directly.
    pub async fn user(&self, name: &str, groups: &[&str]) {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        self.runtime
            .create_user(name, &format!("{name}-password"), &groups, false)
            .await
            .unwrap();
    }

    /// Deploys the demo diagram and returns its definition id.
    pub async fn deploy_demo(&self) -> i64 {
        self.runtime
            .deploy("demo.bpmn", &super::demo_bytes(), Some("admin"))
            .await
            .unwrap()
            .definitions[0]
            .id
    }
}

/// A browser session.
pub struct Browser {
    pub base: String,
    client: reqwest::Client,
}

async fn read(r: reqwest::Response) -> Page {
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    let set_cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .map(str::to_string)
        .collect();
    let body = r.text().await.unwrap_or_default();
    Page {
        status,
        location,
        body,
        set_cookie,
    }
}

/// The CSRF token in a page's forms.
pub fn csrf_of(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let end = body[at..].find('"')?;
    Some(body[at..at + end].to_string())
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        read(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// This session's CSRF token (read from a page).
    pub async fn csrf(&self) -> String {
        for path in ["/tasks", "/login"] {
            if let Some(t) = csrf_of(&self.get(path).await.body) {
                return t;
            }
        }
        panic!("no CSRF token on any page");
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.post_raw(path, &form).await
    }

    /// Posts a form exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        read(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Uploads a file to the deployment form.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> Page {
        let token = self.csrf().await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        read(
            self.client
                .post(format!("{}/definitions", self.base))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts a multipart form exactly as given (no token added).
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        read(
            self.client
                .post(format!("{}{path}", self.base))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn login(&self, name: &str, password: &str) -> Page {
        self.post(
            "/login",
            &[("name", name), ("password", password), ("next", "/tasks")],
        )
        .await
    }
}

/// The ids of `/tasks/<id>` links in a page.
pub fn task_links(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("href=\"/tasks/") {
        let tail = &rest[at + "href=\"/tasks/".len()..];
        let end = tail.find('"').unwrap_or(0);
        let id = &tail[..end];
        if id.len() == 36 && !out.contains(&id.to_string()) {
            out.push(id.to_string());
        }
        rest = &tail[end..];
    }
    out
}
