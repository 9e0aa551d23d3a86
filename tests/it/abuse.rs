//! Hostile input and heavy load, each finding of a review as a test: bodies
//! are never silently dropped, logins stay bounded, redirects stay on the
//! site, downloads never run as pages, runaway work stops within its budget
//! without blocking others, a command cannot write without bound, and
//! uploads and the parsed-file cache are capped. On SQLite, and on PostgreSQL
//! when `BPMN_TEST_DATABASE_URL` is set, where a database is involved.

use std::sync::Arc;
use std::time::Duration;

use bpmn_engine::runtime::cache::ParsedCache;
use bpmn_engine::runtime::{Limits, Principal, RuntimeError, StartRequest};
use bpmn_engine::web::proxy::TrustedProxies;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::app::TestApp;
use crate::common::db::{TestDb, databases};
use crate::common::*;

fn admin() -> Principal {
    Principal::operator("admin")
}

async fn token(app: &TestApp, name: &str) -> String {
    let user = app.runtime.user_named(name).await.unwrap().unwrap();
    app.runtime.create_token(user.id, "abuse").await.unwrap().1
}

async fn post(app: &TestApp, token: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn instance_count(app: &TestApp) -> u64 {
    app.runtime.store().count_instances().await.unwrap()
}

/// 1. A body the server cannot read, or that does not fit, is refused and
/// starts or completes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_never_silently_dropped() {
    for app in TestApp::each().await {
        app.deploy_demo().await;
        let t = token(&app, "admin").await;
        let before = instance_count(&app).await;
        let start = "/api/v1/definitions/demo/start";
        let (s, body) = post(&app, &t, start, "{not json").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{}: {body}", app.backend);
        assert!(body.to_string().contains("not valid JSON"), "{body}");
        let (s, body) = post(&app, &t, start, r#"{"varables": {"option": 1}}"#).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], json!("varables"));
        let (s, body) = post(&app, &t, start, r#"{"businessKey": "X-1"}"#).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.to_string().contains("did you mean `business_key`"),
            "{body}"
        );
        assert_eq!(instance_count(&app).await, before, "nothing was started");
        // An empty body is the defaults.
        let (s, body) = post(&app, &t, start, "").await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().parse().unwrap();
        let task = app.runtime.open_task_for(id, "t0").await.unwrap().unwrap();
        let complete = format!("/api/v1/tasks/{}/complete", task.id);
        let (s, body) = post(
            &app,
            &t,
            &complete,
            r#"{"variables": {"option": 1}, "comment": "x"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], json!("comment"));
        assert!(
            app.runtime.open_task_for(id, "t0").await.unwrap().is_some(),
            "the task is still open"
        );
        // The upload form without its CSRF token: 403, like every form.
        let admin = app.login("admin", "admin-password").await;
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(demo_bytes()).file_name("demo.bpmn"),
        );
        let page = admin.post_multipart("/definitions", form).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        app.stop().await;
    }
}

/// 2. Parallel wrong passwords check no more passwords than the throttle
/// allows; a crowd of logins is turned away (503) rather than taking the
/// memory; an address is slowed down, never locks out other accounts; and
/// forwarding headers count only from trusted proxies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_bounded() {
    for db in databases().await {
        let app =
            TestApp::start_with(db, |r| r, TrustedProxies::parse("127.0.0.1/32").unwrap()).await;
        app.user("ann", &[]).await;
        let checks = app.runtime.system().password_checks();
        let attempts: Vec<_> = (0..200)
            .map(|i| {
                let b = app.browser();
                async move {
                    let csrf = b.csrf().await;
                    let r = b
                        .post_raw(
                            "/login",
                            &[
                                ("name", "ann"),
                                ("password", &format!("wrong-{i}")),
                                ("csrf_token", &csrf),
                            ],
                        )
                        .await;
                    r.status.as_u16()
                }
            })
            .collect();
        let statuses = futures_util::future::join_all(attempts).await;
        assert!(
            statuses.iter().all(|s| [401, 429, 503].contains(s)),
            "{statuses:?}"
        );
        let checked = app.runtime.system().password_checks() - checks;
        assert!(
            checked <= 6,
            "{}: 200 parallel wrong passwords for one account checked {checked} passwords",
            app.backend
        );
        // Many accounts at once: the gate turns the excess away.
        let crowd: Vec<_> = (0..120)
            .map(|i| {
                let b = app.browser();
                async move {
                    let csrf = b.csrf().await;
                    b.post_raw(
                        "/login",
                        &[
                            ("name", &format!("nobody{i}")),
                            ("password", "wrong"),
                            ("csrf_token", &csrf),
                        ],
                    )
                    .await
                    .status
                    .as_u16()
                }
            })
            .collect();
        let statuses = futures_util::future::join_all(crowd).await;
        assert!(
            statuses.iter().all(|s| [401, 429, 503].contains(s)),
            "{statuses:?}"
        );
        // The failures counted against the address the proxy named.
        let b = app.browser();
        let csrf = b.csrf().await;
        let forwarded = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        let page = forwarded
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf2 = crate::common::app::csrf_of(&page).unwrap_or(csrf);
        let r = forwarded
            .post(format!("{}/login", app.base))
            .header("x-forwarded-for", "203.0.113.7")
            .form(&[
                ("name", "ann"),
                ("password", "wrong"),
                ("csrf_token", &csrf2),
            ])
            .send()
            .await
            .unwrap();
        assert!([401, 429].contains(&r.status().as_u16()));
        let store = app.runtime.store();
        if r.status() == StatusCode::UNAUTHORIZED {
            assert!(
                store
                    .login_failures("addr:203.0.113.7")
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        // Another account behind the same (busy) address still gets in.
        app.user("bob", &[]).await;
        let bob = app.browser();
        assert_eq!(
            bob.login("bob", "bob-password").await.status,
            StatusCode::SEE_OTHER,
            "{}",
            app.backend
        );
        app.stop().await;
    }
}

/// 3. `next` after login stays on this site, whatever it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_never_leaves_the_site() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    for next in [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/tasks\r\nSet-Cookie: x=1",
        " /tasks",
    ] {
        let b = app.browser();
        let p = b
            .post(
                "/login",
                &[
                    ("name", "admin"),
                    ("password", "admin-password"),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(p.location.as_deref(), Some("/"), "{next:?}");
    }
    let b = app.browser();
    let p = b
        .post(
            "/login",
            &[
                ("name", "admin"),
                ("password", "admin-password"),
                ("next", "/instances?state=active"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/instances?state=active"));
    app.stop().await;
}

/// 4. A diagram's file is downloaded, never shown as a page of the site; the
/// pages have a content security policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_attachments_and_pages_have_a_policy() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    app.deploy_demo().await;
    let t = token(&app, "admin").await;
    let client = reqwest::Client::new();
    for path in ["/api/v1/definitions/demo/xml", "/model/demo"] {
        let r = client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers();
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment"),
            "{path}"
        );
        assert_eq!(h["content-security-policy"], "sandbox", "{path}");
    }
    let admin = app.login("admin", "admin-password").await;
    let page = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    // The page route needs the session: log in with this client too.
    let login = page
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::common::app::csrf_of(&login).unwrap();
    page.post(format!("{}/login", app.base))
        .form(&[
            ("name", "admin"),
            ("password", "admin-password"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let r = page
        .get(format!("{}/definitions/demo/xml", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.headers()["content-security-policy"], "sandbox");
    let r = page
        .get(format!("{}/tasks", app.base))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
    drop(admin);
    app.stop().await;
}

/// A process whose script runs (slowly) far longer than a command may.
fn runaway() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:scriptTask id="spin" name="Spin" scriptFormat="rhai"><bpmn:script>let s = "x"; while s.len() &lt; 262144 {{ s += s; }} let n = 0; for i in 0..100000 {{ let t = s + "y"; n += t.len(); }} n</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "spin"),
        flow("f1", "spin", "e")
    ))
}

/// 5. A runaway script stops within the command's time budget as an
/// incident, and other commands are not held up meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_work_stops_within_its_budget_and_blocks_nobody() {
    for db in databases().await {
        let store = db.store().await;
        let runtime = crate::common::rt::runtime_on(store, |s| {
            bpmn_engine::runtime::Runtime::new(s, Arc::new(bpmn_engine::runtime::SystemClock))
                .with_limits(Limits {
                    command_time: Duration::from_millis(300),
                    ..Limits::default()
                })
        });
        let deployments = runtime.deployments();
        deployments
            .deploy(&admin(), "spin.bpmn", runaway().as_bytes())
            .await
            .unwrap();
        let quick = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/>{}"#,
            flow("f0", "s", "t")
        ))
        .replace(r#"id="p""#, r#"id="quick""#);
        deployments
            .deploy(&admin(), "quick.bpmn", quick.as_bytes())
            .await
            .unwrap();
        let start = |key: &str| StartRequest {
            key: key.into(),
            ..Default::default()
        };
        let spinning = {
            let runtime = runtime.clone();
            tokio::spawn(async move { runtime.deployments().start(&admin(), start("p")).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Meanwhile another instance starts and commits: the runaway holds
        // no lock while it computes, and no request thread.
        let other = runtime
            .deployments()
            .start(&admin(), start("quick"))
            .await
            .unwrap();
        assert!(
            !spinning.is_finished(),
            "{}: the quick start finished while the runaway still ran",
            db.backend
        );
        let o = spinning.await.unwrap().unwrap();
        assert_eq!(o.status(), "incident", "{}", db.backend);
        let d = runtime
            .instances()
            .show(&admin(), o.instance_id)
            .await
            .unwrap();
        assert!(
            d.incidents[0]
                .message
                .contains("longer than one command may take"),
            "{}",
            d.incidents[0].message
        );
        assert_eq!(other.status(), "active");
        db.drop_now().await;
    }
}

/// 6. A command that would write more than its limit stores nothing: a
/// person's start is refused; a job's work becomes an incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_cannot_write_without_bound() {
    for db in databases().await {
        let store = db.store().await;
        let runtime = crate::common::rt::runtime_on(store, |s| {
            bpmn_engine::runtime::Runtime::new(s, Arc::new(bpmn_engine::runtime::SystemClock))
                .with_limits(Limits {
                    command_bytes: 1024 * 1024,
                    ..Limits::default()
                })
        });
        let big = |asynchronous: bool| {
            let lets: String = (0..20).map(|i| format!("let v{i} = a; ")).collect();
            process(&format!(
                r#"<bpmn:startEvent id="s"/>
<bpmn:scriptTask id="fill" scriptFormat="rhai" camunda:asyncBefore="{asynchronous}"><bpmn:script>let a = "x"; while a.len() &lt; 100000 {{ a += a; }} {lets}</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="t"/>{}{}"#,
                flow("f0", "s", "fill"),
                flow("f1", "fill", "t")
            ))
        };
        runtime
            .deployments()
            .deploy(&admin(), "big.bpmn", big(false).as_bytes())
            .await
            .unwrap();
        let before = runtime.store().count_instances().await.unwrap();
        let refused = runtime
            .deployments()
            .start(
                &admin(),
                StartRequest {
                    key: "p".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, RuntimeError::TooLarge(m) if m.contains("at most 1 MB")),
            "{}: {refused}",
            db.backend
        );
        assert_eq!(runtime.store().count_instances().await.unwrap(), before);
        // The same work in a job: an incident on its element, nothing stored.
        runtime
            .deployments()
            .deploy(&admin(), "big.bpmn", big(true).as_bytes())
            .await
            .unwrap();
        let o = runtime
            .deployments()
            .start(
                &admin(),
                StartRequest {
                    key: "p".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let cfg = bpmn_engine::runtime::jobs::ExecutorConfig::new("abuse".into());
        bpmn_engine::runtime::jobs::run_due(&runtime, &cfg)
            .await
            .unwrap();
        let d = runtime
            .instances()
            .show(&admin(), o.instance_id)
            .await
            .unwrap();
        assert_eq!(d.instance.status, "incident", "{}", db.backend);
        assert!(
            d.incidents[0].message.contains("at most 1 MB"),
            "{}",
            d.incidents[0].message
        );
        assert!(!d.variables.contains_key("v0"), "nothing of it was stored");
        db.drop_now().await;
    }
}

/// 7. Uploads are capped, and parsed files are kept within a byte budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_the_parsed_file_cache_are_capped() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    let t = token(&app, "admin").await;
    let huge_name = "n".repeat(10 * 1024 * 1024);
    let xml = process(&format!(r#"<bpmn:startEvent id="s" name="{huge_name}"/>"#));
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/deployments", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("attribute-size limit"),
        "{}",
        &body[..body.len().min(300)]
    );
    app.stop().await;

    // The cache lets the least recently used go.
    let cache: ParsedCache<&str> = ParsedCache::new(100);
    cache.put(1, Arc::new("one"), 40);
    cache.put(2, Arc::new("two"), 40);
    assert!(cache.get(1).is_some(), "1 is now the most recently used");
    cache.put(3, Arc::new("three"), 40);
    assert!(cache.get(2).is_none(), "2 left to make room");
    assert!(cache.get(1).is_some() && cache.get(3).is_some());
    assert!(cache.bytes() <= 100);
    cache.put(4, Arc::new("huge"), 1000);
    assert!(
        cache.get(4).is_none(),
        "what is larger than the budget is not kept"
    );
}

/// The password checks of a user who is not throttled still succeed when
/// they come one after another (the gate does not turn people away for no
/// reason).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordinary_logins_pass_the_gate() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    app.user("cyd", &[]).await;
    for _ in 0..3 {
        let b = app.browser();
        assert_eq!(
            b.login("cyd", "cyd-password").await.status,
            StatusCode::SEE_OTHER
        );
    }
    app.stop().await;
}
