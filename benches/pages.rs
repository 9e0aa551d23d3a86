//! How long the main pages take to serve with a realistic amount of data:
//! 10,000 instances with 50,000 tasks (five open per instance), on SQLite — or
//! on the database of `BPMN_BENCH_DATABASE_URL`.
//!
//! `cargo bench --bench pages` prints the median and 90th percentile of each
//! page, timed at the client over loopback (so it includes HTTP itself).
//! `BPMN_BENCH_INSTANCES` changes the number of instances.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bpmn_engine::runtime::{NewUser, Principal, Role, Runtime, StartRequest, SystemClock, Values};
use bpmn_engine::web::{self, WebConfig};

const FIVE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
<bpmn:process id="five" name="Five reviews" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="t1" name="Review 1" camunda:candidateGroups="clerks"/><bpmn:userTask id="t2" name="Review 2" camunda:candidateGroups="clerks"/>
<bpmn:userTask id="t3" name="Review 3" camunda:candidateGroups="clerks"/><bpmn:userTask id="t4" name="Review 4" camunda:candidateGroups="others"/>
<bpmn:userTask id="t5" name="Review 5" camunda:candidateGroups="others" camunda:dueDate="${due}"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
<bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="t1"/><bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="t2"/>
<bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="t3"/><bpmn:sequenceFlow id="f4" sourceRef="fork" targetRef="t4"/>
<bpmn:sequenceFlow id="f5" sourceRef="fork" targetRef="t5"/>
</bpmn:process></bpmn:definitions>"#;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(run());
}

async fn run() {
    let instances: usize = std::env::var("BPMN_BENCH_INSTANCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("BPMN_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("pages.sqlite").display()
        )
    });
    let runtime = Arc::new(
        Runtime::connect(&url, Arc::new(SystemClock))
            .await
            .expect("database"),
    );
    let operator = Principal::operator("bench");
    runtime
        .deployments()
        .deploy(&operator, "five.bpmn", FIVE.as_bytes())
        .await
        .expect("deploy");
    runtime
        .accounts()
        .create_user(
            &operator,
            &NewUser {
                name: "clerk".into(),
                password: "clerk-password".into(),
                groups: vec!["clerks".into()],
                role: Role::User,
            },
        )
        .await
        .expect("user");
    runtime
        .accounts()
        .ensure_admin(Some("admin-password"))
        .await
        .expect("admin");
    let clerk = Principal::new("clerk", vec!["clerks".into()], Role::User);
    let seeded = Instant::now();
    let mut last = None;
    for i in 0..instances {
        let vars = serde_json::json!({"n": i, "customer": format!("c{i}"), "due": format!("2030-01-{:02}T00:00:00Z", 1 + i % 28)});
        let serde_json::Value::Object(vars) = vars else {
            unreachable!()
        };
        let who = if i % 10 == 0 { &clerk } else { &operator };
        let start = StartRequest {
            key: "five".into(),
            version: None,
            values: Values::Json(vars),
            business_key: Some(format!("B-{i}")),
        };
        last = Some(
            runtime
                .deployments()
                .start(who, start)
                .await
                .expect("start")
                .instance_id,
        );
    }
    let last = last.expect("at least one instance");
    println!(
        "seeded {instances} instances ({} tasks) in {:.1} s on {}",
        instances * 5,
        seeded.elapsed().as_secs_f64(),
        runtime.system().backend_name()
    );
    let task = runtime
        .tasks()
        .open_in(&operator, last)
        .await
        .expect("query")
        .into_iter()
        .find(|t| t.element_id == "t1")
        .expect("task")
        .id;

    let key = runtime.accounts().session_key(None).await.expect("key");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = web::server(
        runtime.clone(),
        WebConfig {
            session_key: key,
            secure_cookies: false,
            trusted_proxies: Default::default(),
            engine_rest_path: web::engine_rest::DEFAULT_PATH.to_string(),
        },
        listener,
    )
    .expect("server");
    tokio::spawn(server);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let token = login
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("token");
    client
        .post(format!("{base}/login"))
        .form(&[
            ("name", "clerk"),
            ("password", "clerk-password"),
            ("csrf_token", token),
        ])
        .send()
        .await
        .expect("login");

    let pages = [
        ("inbox", "/tasks".to_string()),
        ("inbox by due date", "/tasks?sort=due".to_string()),
        ("inbox, page 100", "/tasks?page=100".to_string()),
        ("task", format!("/tasks/{task}")),
        ("diagrams", "/definitions".to_string()),
        ("diagram", "/definitions/five".to_string()),
        ("instances", "/instances".to_string()),
        (
            "instances by variable",
            "/instances?var=customer%3Dc17".to_string(),
        ),
        ("instance", format!("/instances/{last}")),
    ];
    println!("{:<24} {:>10} {:>10}", "page (as a clerk)", "median", "p90");
    for (name, path) in pages {
        let mut times = Vec::new();
        for _ in 0..40 {
            let start = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("get");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.bytes().await.expect("body");
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "{:<24} {:>8.2}ms {:>8.2}ms",
            name,
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.9).as_secs_f64() * 1e3
        );
    }
}
