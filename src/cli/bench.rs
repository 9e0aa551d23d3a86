//! `bpmn bench`: the load tool. In one run it measures, for SQLite and (when
//! given a URL) PostgreSQL:
//!
//! - **W1** straight-through: start -> 10 expression service tasks ->
//!   exclusive gateway -> end, in-process through the real transaction path;
//!   next to it the database's own commit rate in the same run (an empty write
//!   transaction, and one that writes one row), so results compare across
//!   machines as ratios.
//! - **W2** the demo diagram over HTTP: concurrent clients start instances and
//!   complete their five user tasks against `bpmn serve` processes (one on
//!   SQLite; one and two on PostgreSQL); completions per second and latency.
//! - **W3** scale: with many instances parked at a user task, the server's
//!   memory, the database's size, one user's inbox, and the cost of a start and
//!   a completion compared with an empty database.
//! - **W4** abuse: the server's memory through bursts of parallel wrong
//!   logins, and how fast `/healthz` answers while instances whose scripts
//!   run away are started again and again.
//!
//! At the end it prints every number that has a target next to it
//! (`targets.rs`).

mod targets;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::runtime::{
    NewUser, Principal, Role, Runtime, StartRequest, Status, SystemClock, Values, metrics, system,
};

/// The load tool acts as an administrator where no user is measured.
fn operator() -> Principal {
    Principal::operator("bench")
}

/// The groups of the measured users.
fn bench_groups() -> Vec<String> {
    vec!["Marko".to_string(), "Pero".to_string(), "team7".to_string()]
}

/// The ordinary user W3 measures as.
fn clerk() -> Principal {
    Principal::new("clerk", bench_groups(), Role::User)
}

/// A start of the latest version of `key`.
fn start_of(key: &str, variables: Map<String, Value>) -> StartRequest {
    StartRequest {
        key: key.to_string(),
        version: None,
        values: Values::Json(variables),
        business_key: None,
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Also measure on this PostgreSQL database.
    pub postgres: Option<String>,
    /// Which workloads (`w1`, `w2`, `w3`).
    pub workloads: Vec<String>,
    /// How long each timed run lasts.
    pub seconds: f64,
    /// Concurrent clients of W2.
    pub clients: usize,
    /// Instances parked for W3.
    pub scale: usize,
    /// Where temporary SQLite databases go.
    pub dir: std::path::PathBuf,
}

/// A W1 diagram: ten expression service tasks, an exclusive gateway, two ends.
pub fn w1_diagram() -> String {
    let mut p = String::from(
        r#"<bpmn:process id="w1" name="Straight through" isExecutable="true"><bpmn:startEvent id="s"/>"#,
    );
    let mut prev = "s".to_string();
    for i in 0..10 {
        p += &format!(
            r#"<bpmn:serviceTask id="t{i}" camunda:expression="${{n + {i}}}" camunda:resultVariable="r{i}"/><bpmn:sequenceFlow id="f{i}" sourceRef="{prev}" targetRef="t{i}"/>"#
        );
        prev = format!("t{i}");
    }
    p += &format!(
        r#"<bpmn:exclusiveGateway id="g" default="fd"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
<bpmn:sequenceFlow id="fg" sourceRef="{prev}" targetRef="g"/>
<bpmn:sequenceFlow id="fc" sourceRef="g" targetRef="e1"><bpmn:conditionExpression>${{r9 &gt; 1000000}}</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="fd" sourceRef="g" targetRef="e2"/></bpmn:process>"#
    );
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="w1defs" targetNamespace="http://example.com">{p}</bpmn:definitions>"#
    )
}

/// Runs `op` from `workers` tasks for `seconds`; returns operations per second.
async fn rate<F, Fut>(seconds: f64, workers: usize, op: F) -> Result<f64, String>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (op, done, stop) = (op.clone(), done.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                op(i).await?;
                done.fetch_add(1, Ordering::Relaxed);
                i += workers;
            }
            Ok::<(), String>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / began.elapsed().as_secs_f64())
}

/// W1's numbers.
#[derive(Debug, Clone)]
pub struct W1 {
    pub instances_per_s: f64,
    pub empty_commits_per_s: f64,
    pub row_commits_per_s: f64,
    /// Statements run in write transactions per instance (its round trips).
    pub statements_per_instance: f64,
}

/// Measures W1 on the database at `url`.
pub async fn w1(url: &str, seconds: f64, workers: usize) -> Result<W1, String> {
    let runtime = Arc::new(
        Runtime::connect(url, Arc::new(SystemClock))
            .await
            .map_err(|e| e.to_string())?,
    );
    runtime
        .deployments()
        .deploy(&operator(), "w1.bpmn", w1_diagram().as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let starter = runtime.clone();
    let started = Arc::new(AtomicUsize::new(0));
    let counted = started.clone();
    let start = move |i: usize| {
        let runtime = starter.clone();
        let counted = counted.clone();
        async move {
            let mut vars = Map::new();
            vars.insert("n".into(), Value::from(i as u64));
            let o = runtime
                .deployments()
                .start(&operator(), start_of("w1", vars))
                .await
                .map_err(|e| e.to_string())?;
            if o.state.status != Status::Completed {
                return Err(format!("instance {} did not complete", o.instance_id));
            }
            counted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    };
    // A short warm-up (caches, connections), then the timed run.
    let start = Arc::new(start);
    let s = start.clone();
    rate(seconds.min(1.0), workers, move |i| s(i)).await?;
    let (n0, s0) = (started.load(Ordering::Relaxed), metrics::write_statements());
    let instances_per_s = rate(seconds, workers, move |i| start(i)).await?;
    let statements_per_instance = (metrics::write_statements() - s0) as f64
        / (started.load(Ordering::Relaxed) - n0).max(1) as f64;
    let probe = |write: bool| {
        let runtime = runtime.clone();
        move |_| {
            let runtime = runtime.clone();
            async move {
                runtime
                    .system()
                    .commit_probe(write)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    };
    let empty_commits_per_s = rate(seconds / 2.0, workers, probe(false)).await?;
    let row_commits_per_s = rate(seconds / 2.0, workers, probe(true)).await?;
    Ok(W1 {
        instances_per_s,
        empty_commits_per_s,
        row_commits_per_s,
        statements_per_instance,
    })
}

/// A fresh database for one measurement: a new SQLite file, or a new schema in
/// the PostgreSQL database (dropped afterwards).
struct FreshDb {
    url: String,
    pg: Option<(String, String)>,
}

impl FreshDb {
    async fn new(base: Option<&str>, dir: &std::path::Path, name: &str) -> Result<FreshDb, String> {
        match base {
            None => {
                let path = dir.join(format!("{name}.sqlite"));
                let _ = std::fs::remove_file(&path);
                Ok(FreshDb {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    pg: None,
                })
            }
            Some(base) => {
                let schema = format!("bench_{name}_{}", uuid::Uuid::new_v4().simple());
                let url = system::create_schema(base, &schema)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(FreshDb {
                    url,
                    pg: Some((base.to_string(), schema)),
                })
            }
        }
    }

    async fn drop(self) {
        if let Some((base, schema)) = self.pg {
            let _ = system::drop_schema(&base, &schema).await;
        }
    }
}

/// A `bpmn serve` process started by the load tool.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    async fn start(url: &str, diagrams: &std::path::Path) -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let child = std::process::Command::new(exe)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", url])
            .arg("--diagrams")
            .arg(diagrams)
            .env("RUST_LOG", "error")
            .env("BPMN_ADMIN_PASSWORD", "bench-admin-password")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start bpmn serve: {e}"))?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not become ready", server.base));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Resident memory now and at its peak, in MiB (from `/proc`).
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo diagram (the one the engine we replace ran).
const DEMO: &str = include_str!("../../bpmn/demo.bpmn");

/// Sets up users and a token on a fresh database; returns the admin token and the user's.
async fn prepare(url: &str) -> Result<(Arc<Runtime>, String, String), String> {
    let runtime = Arc::new(
        Runtime::connect(url, Arc::new(SystemClock))
            .await
            .map_err(|e| e.to_string())?,
    );
    runtime
        .deployments()
        .deploy(&operator(), "demo.bpmn", DEMO.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let accounts = runtime.accounts();
    let add = |name: &str, role| NewUser {
        name: name.to_string(),
        password: "bench-password".to_string(),
        groups: bench_groups(),
        role,
    };
    let admin = accounts
        .create_user(&operator(), &add("bench-admin", Role::Admin))
        .await
        .map_err(|e| e.to_string())?;
    let user = accounts
        .create_user(&operator(), &add("clerk", Role::User))
        .await
        .map_err(|e| e.to_string())?;
    let (_, admin_token) = accounts
        .create_token(&admin, "bench")
        .await
        .map_err(|e| e.to_string())?;
    let (_, user_token) = accounts
        .create_token(&user, "bench")
        .await
        .map_err(|e| e.to_string())?;
    Ok((runtime, admin_token, user_token))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// W2's numbers.
#[derive(Debug, Clone)]
pub struct W2 {
    pub completions_per_s: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub errors: usize,
    /// Statements the servers ran in write transactions per completion
    /// (the starts and the job executor's commands included).
    pub statements_per_completion: f64,
}

/// The statements the servers have run in write transactions (`/metrics`).
async fn write_statements_of(client: &reqwest::Client, bases: &[String]) -> Result<u64, String> {
    let mut sum = 0;
    for base in bases {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        sum += text
            .lines()
            .find_map(|l| l.strip_prefix("bpmn_write_statements_total "))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("{base}/metrics does not count statements"))?;
    }
    Ok(sum)
}

/// One W2 client: start demo instances and complete their tasks until `stop`.
async fn w2_client(
    client: reqwest::Client,
    bases: Arc<Vec<String>>,
    token: String,
    n: usize,
    stop: Arc<AtomicBool>,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut k = n;
    let base = |k: usize| bases[k % bases.len()].clone();
    while !stop.load(Ordering::Relaxed) {
        k += 1;
        let started = client
            .post(format!("{}/api/v1/definitions/demo/start", base(k)))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await;
        let id = match started {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(v) => v["id"].as_str().unwrap_or_default().to_string(),
                Err(_) => {
                    errors += 1;
                    continue;
                }
            },
            _ => {
                errors += 1;
                continue;
            }
        };
        loop {
            k += 1;
            let detail: Value = match client
                .get(format!("{}/api/v1/instances/{id}", base(k)))
                .bearer_auth(&token)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => r.json().await.unwrap_or(Value::Null),
                _ => {
                    errors += 1;
                    break;
                }
            };
            let Some(task) = detail["open_tasks"].as_array().and_then(|t| t.first()) else {
                break;
            };
            let vars = if task["element_id"] == "t0" {
                json!({"variables": {"option": 1 + k % 2}})
            } else {
                json!({"variables": {}})
            };
            let began = Instant::now();
            let done = client
                .post(format!(
                    "{}/api/v1/tasks/{}/complete",
                    base(k),
                    task["id"].as_str().unwrap_or_default()
                ))
                .bearer_auth(&token)
                .json(&vars)
                .send()
                .await;
            match done {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    latencies.push(began.elapsed());
                }
                _ => {
                    errors += 1;
                    break;
                }
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    (latencies, errors)
}

/// Measures W2 against `processes` servers on a fresh database.
async fn w2(
    base: Option<&str>,
    dir: &std::path::Path,
    processes: usize,
    clients: usize,
    seconds: f64,
) -> Result<W2, String> {
    let db = FreshDb::new(base, dir, "w2").await?;
    let (_runtime, admin_token, _) = prepare(&db.url).await?;
    let empty = dir.join("no-diagrams");
    let _ = std::fs::create_dir_all(&empty);
    let mut servers = Vec::new();
    for _ in 0..processes {
        servers.push(Server::start(&db.url, &empty).await?);
    }
    let bases = Arc::new(servers.iter().map(|s| s.base.clone()).collect::<Vec<_>>());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .map_err(|e| e.to_string())?;
    let run = |secs: f64| {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..clients)
            .map(|n| {
                tokio::spawn(w2_client(
                    client.clone(),
                    bases.clone(),
                    admin_token.clone(),
                    n,
                    stop.clone(),
                ))
            })
            .collect();
        async move {
            let began = Instant::now();
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            stop.store(true, Ordering::Relaxed);
            let mut all = Vec::new();
            let mut errors = 0;
            for t in tasks {
                if let Ok((l, e)) = t.await {
                    all.extend(l);
                    errors += e;
                }
            }
            (all, errors, began.elapsed())
        }
    };
    run(seconds.min(2.0)).await;
    let before = write_statements_of(&client, &bases).await?;
    let (mut latencies, errors, took) = run(seconds).await;
    let statements = write_statements_of(&client, &bases).await? - before;
    latencies.sort();
    drop(servers);
    db.drop().await;
    Ok(W2 {
        completions_per_s: latencies.len() as f64 / took.as_secs_f64(),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        errors,
        statements_per_completion: statements as f64 / latencies.len().max(1) as f64,
    })
}

/// W3's numbers.
#[derive(Debug, Clone)]
pub struct W3 {
    pub instances: usize,
    pub seed_seconds: f64,
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
    pub db_mib: f64,
    pub inbox_p50: Duration,
    /// The user's page of instances (100 per page).
    pub instances_p50: Duration,
    /// An admin's statistics per element of the parked process.
    pub statistics_p50: Duration,
    pub start_empty: Duration,
    pub start_full: Duration,
    pub complete_empty: Duration,
    pub complete_full: Duration,
}

/// Median start and complete times of the parked diagram, in-process.
async fn start_complete(runtime: &Runtime, n: usize) -> Result<(Duration, Duration), String> {
    let mut starts = Vec::new();
    let mut completes = Vec::new();
    let clerk = clerk();
    for _ in 0..n {
        let began = Instant::now();
        let o = runtime
            .deployments()
            .start(&clerk, start_of("parked", Map::new()))
            .await
            .map_err(|e| e.to_string())?;
        starts.push(began.elapsed());
        let task = runtime
            .tasks()
            .open_in(&clerk, o.instance_id)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|t| t.element_id == "park")
            .ok_or("the parked task is missing")?;
        let began = Instant::now();
        runtime
            .tasks()
            .complete(&clerk, task.id, Values::default())
            .await
            .map_err(|e| e.to_string())?;
        completes.push(began.elapsed());
    }
    starts.sort();
    completes.sort();
    Ok((percentile(&starts, 0.5), percentile(&completes, 0.5)))
}

/// A process that parks at one user task offered to a group.
const PARKED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="parkedDefinitions" targetNamespace="http://example.com">
<bpmn:process id="parked" name="Parked" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:userTask id="park" name="Review" camunda:candidateGroups="team7"/><bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="park"/><bpmn:sequenceFlow id="f2" sourceRef="park" targetRef="e"/>
</bpmn:process></bpmn:definitions>"#;

/// Measures W3 with `scale` instances parked at a user task.
async fn w3(base: Option<&str>, dir: &std::path::Path, scale: usize) -> Result<W3, String> {
    let samples = 200;
    // The same work on an empty database first.
    let empty = FreshDb::new(base, dir, "w3empty").await?;
    let (runtime, _, _) = prepare(&empty.url).await?;
    runtime
        .deployments()
        .deploy(&operator(), "parked.bpmn", PARKED.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    start_complete(&runtime, 20).await?;
    let (start_empty, complete_empty) = start_complete(&runtime, samples).await?;
    drop(runtime);
    empty.drop().await;

    let db = FreshDb::new(base, dir, "w3").await?;
    let (runtime, admin_token, user_token) = prepare(&db.url).await?;
    runtime
        .deployments()
        .deploy(&operator(), "parked.bpmn", PARKED.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let template = runtime
        .deployments()
        .start(&clerk(), start_of("parked", Map::new()))
        .await
        .map_err(|e| e.to_string())?
        .instance_id;
    let seeded = Instant::now();
    runtime
        .system()
        .clone_instances(template, scale.saturating_sub(1), &|i| {
            format!("team{}", i % 100)
        })
        .await
        .map_err(|e| e.to_string())?;
    let seed_seconds = seeded.elapsed().as_secs_f64();
    start_complete(&runtime, 20).await?;
    let (start_full, complete_full) = start_complete(&runtime, samples).await?;
    let db_mib = runtime
        .system()
        .database_size()
        .await
        .map_err(|e| e.to_string())? as f64
        / 1024.0
        / 1024.0;
    // The server on the full database: one user's inbox, then its memory.
    let no_diagrams = dir.join("no-diagrams");
    let _ = std::fs::create_dir_all(&no_diagrams);
    let server = Server::start(&db.url, &no_diagrams).await?;
    let client = reqwest::Client::new();
    let mut inbox = Vec::new();
    for i in 0..120 {
        let began = Instant::now();
        let r = client
            .get(format!("{}/api/v1/tasks?candidate=me", server.base))
            .bearer_auth(&user_token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        if i >= 20 {
            inbox.push(began.elapsed());
        }
        if body["items"].as_array().is_none_or(|a| a.is_empty()) {
            return Err(format!("the inbox is empty: {body}"));
        }
    }
    // The user's instances page (the ones they may see, newest first).
    let mut listed = Vec::new();
    for i in 0..50 {
        let began = Instant::now();
        let r = client
            .get(format!("{}/api/v1/instances?per_page=100", server.base))
            .bearer_auth(&user_token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("the instance list failed: {}", r.status()));
        }
        let _ = r.bytes().await;
        if i >= 10 {
            listed.push(began.elapsed());
        }
    }
    // The statistics per element of the parked process: every copy waits
    // at the task (the timed starts and completes in between came and went).
    let mut stats = Vec::new();
    for i in 0..60 {
        let began = Instant::now();
        let r = client
            .get(format!(
                "{}/api/v1/definitions/parked/statistics",
                server.base
            ))
            .bearer_auth(&admin_token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        if i >= 10 {
            stats.push(began.elapsed());
        }
        let parked = body["elements"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["element_id"] == "park"))
            .and_then(|e| e["active"].as_i64());
        if parked != Some(scale as i64) {
            return Err(format!(
                "the statistics say {parked:?} active at the task, not {scale}: {body}"
            ));
        }
    }
    inbox.sort();
    listed.sort();
    stats.sort();
    let (rss_mib, peak_rss_mib) = server.memory();
    drop(server);
    drop(runtime);
    db.drop().await;
    Ok(W3 {
        instances: scale,
        seed_seconds,
        rss_mib,
        peak_rss_mib,
        db_mib,
        inbox_p50: percentile(&inbox, 0.5),
        instances_p50: percentile(&listed, 0.5),
        statistics_p50: percentile(&stats, 0.5),
        start_empty,
        start_full,
        complete_empty,
        complete_full,
    })
}

/// W4's numbers.
#[derive(Debug, Clone)]
pub struct W4 {
    pub rss_idle_mib: f64,
    /// After each burst of wrong logins.
    pub rss_after_bursts_mib: Vec<f64>,
    pub rss_settled_mib: f64,
    pub peak_rss_mib: f64,
    /// Answers to the logins: refused (401/429), turned away (503), other.
    pub logins_refused: usize,
    pub logins_turned_away: usize,
    pub logins_other: usize,
    pub healthz_p50: Duration,
    pub healthz_p99: Duration,
    /// Runaway instances started (each stopped by the time budget) while measuring.
    pub runaways: usize,
}

/// A process whose script would run for minutes (stopped by the time budget).
const RUNAWAY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="runawayDefinitions" targetNamespace="http://example.com">
<bpmn:process id="runaway" name="Runaway" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:scriptTask id="spin" scriptFormat="rhai"><bpmn:script>let s = "x"; while s.len() &lt; 262144 { s += s; } let n = 0; for i in 0..100000 { let t = s + "y"; n += t.len(); } n</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="spin"/><bpmn:sequenceFlow id="f2" sourceRef="spin" targetRef="e"/>
</bpmn:process></bpmn:definitions>"#;

/// A decision whose FEEL would go through 10^9 list items (stopped by its
/// step budget), and a process that asks it with a business rule task.
fn runaway_decision() -> (String, String) {
    let mut e = "xs[item > 0]".to_string();
    for _ in 1..9 {
        e = format!("xs[count({e}) > 0]");
    }
    let dmn = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="deepDefinitions" name="Deep" namespace="http://example.com/dmn">
<decision id="deep" name="Deep"><literalExpression id="le"><text>count({})</text></literalExpression></decision>
</definitions>"#,
        e.replace('>', "&gt;")
    );
    let bpmn = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="deepProcessDefinitions" targetNamespace="http://example.com">
<bpmn:process id="deep-decision" name="Deep decision" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:businessRuleTask id="decide" camunda:decisionRef="deep" camunda:resultVariable="n" camunda:mapDecisionResult="singleResult"/>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide"/><bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="e"/>
</bpmn:process></bpmn:definitions>"#;
    (dmn, bpmn.to_string())
}

/// One wrong login as a browser would send it (the login page first, for
/// its cookie and CSRF token); the status of the answer.
async fn wrong_login(base: &str, n: usize) -> Result<u16, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let first = client
        .get(format!("{base}/login"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    // The session cookie, sent back as a browser would.
    let cookie = first
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_string();
    let page = first.text().await.map_err(|e| e.to_string())?;
    let marker = "name=\"csrf_token\" value=\"";
    let csrf = page
        .find(marker)
        .map(|i| &page[i + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let form = serde_urlencoded::to_string([
        ("name", format!("nobody{n}")),
        ("password", "wrong-password".to_string()),
        ("csrf_token", csrf),
    ])
    .map_err(|e| e.to_string())?;
    let r = client
        .post(format!("{base}/login"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(r.status().as_u16())
}

async fn w4(base: Option<&str>, dir: &std::path::Path) -> Result<W4, String> {
    let db = FreshDb::new(base, dir, "w4").await?;
    let (runtime, admin_token, _) = prepare(&db.url).await?;
    let (deep_dmn, deep_bpmn) = runaway_decision();
    for (name, file) in [
        ("runaway.bpmn", RUNAWAY),
        ("deep.dmn", deep_dmn.as_str()),
        ("deep-decision.bpmn", deep_bpmn.as_str()),
    ] {
        runtime
            .deployments()
            .deploy(&operator(), name, file.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    }
    let empty = dir.join("no-diagrams");
    let _ = std::fs::create_dir_all(&empty);
    let server = Server::start(&db.url, &empty).await?;
    let base_url = server.base.clone();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_idle_mib, _) = server.memory();
    let (mut refused, mut away, mut other) = (0, 0, 0);
    let mut rss_after_bursts_mib = Vec::new();
    for burst in 0..4 {
        let attempts: Vec<_> = (0..300)
            .map(|i| tokio::spawn(wrong_login_owned(base_url.clone(), burst * 300 + i)))
            .collect();
        for a in attempts {
            match a.await.map_err(|e| e.to_string())? {
                Ok(401 | 429) => refused += 1,
                Ok(503) => away += 1,
                _ => other += 1,
            }
        }
        rss_after_bursts_mib.push(server.memory().0);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (rss_settled_mib, peak_rss_mib) = server.memory();
    // Runaway instances started again and again by four clients (two with a
    // script, two with a decision over 10^9 list items, with ten items each),
    // while a fifth asks /healthz every 20 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let starters: Vec<_> = (0..4)
        .map(|i| {
            let (key, body) = if i % 2 == 0 {
                ("runaway", json!({}))
            } else {
                (
                    "deep-decision",
                    json!({"variables": {"xs": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}}),
                )
            };
            let (client, base, token, stop) = (
                client.clone(),
                base_url.clone(),
                admin_token.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let ok = client
                        .post(format!("{base}/api/v1/definitions/{key}/start"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if ok {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut health = Vec::new();
    for _ in 0..500 {
        let began = Instant::now();
        let r = client
            .get(format!("{base_url}/healthz"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let _ = r.bytes().await;
        health.push(began.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut runaways = 0;
    for s in starters {
        runaways += s.await.unwrap_or(0);
    }
    health.sort();
    drop(server);
    drop(runtime);
    db.drop().await;
    Ok(W4 {
        rss_idle_mib,
        rss_after_bursts_mib,
        rss_settled_mib,
        peak_rss_mib,
        logins_refused: refused,
        logins_turned_away: away,
        logins_other: other,
        healthz_p50: percentile(&health, 0.5),
        healthz_p99: percentile(&health, 0.99),
        runaways,
    })
}

async fn wrong_login_owned(base: String, n: usize) -> Result<u16, String> {
    wrong_login(&base, n).await
}

/// Runs the chosen workloads and prints the table.
pub async fn bench(opts: &BenchOptions, out: &mut dyn std::io::Write) -> Result<(), String> {
    let mut dbs: Vec<(&str, Option<&str>)> = vec![("SQLite", None)];
    if let Some(pg) = &opts.postgres {
        dbs.push(("PostgreSQL", Some(pg.as_str())));
    }
    let _ = writeln!(out, "machine: {}", machine());
    let mut against = targets::Against::default();
    if opts.workloads.iter().any(|w| w == "w1") {
        let _ = writeln!(
            out,
            "\nW1 straight-through (start -> 10 expression tasks -> gateway -> end), {} s, 4 workers",
            opts.seconds
        );
        let _ = writeln!(
            out,
            "| database | instances/s | empty commits/s | one-row commits/s | instances / one-row commits | statements / instance |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for (name, base) in &dbs {
            let db = FreshDb::new(*base, &opts.dir, "w1").await?;
            let r = w1(&db.url, opts.seconds, 4).await?;
            db.drop().await;
            against.w1(name, &r);
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {:.0} | {:.0} | {:.2} | {:.1} |",
                r.instances_per_s,
                r.empty_commits_per_s,
                r.row_commits_per_s,
                r.instances_per_s / r.row_commits_per_s,
                r.statements_per_instance
            );
        }
    }
    if opts.workloads.iter().any(|w| w == "w2") {
        let _ = writeln!(
            out,
            "\nW2 the demo over HTTP: {} clients start instances and complete their 5 user tasks, {} s",
            opts.clients, opts.seconds
        );
        let _ = writeln!(
            out,
            "| database | processes | completions/s | p50 ms | p99 ms | errors | statements / completion |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for (name, base) in &dbs {
            let counts: &[usize] = if base.is_some() { &[1, 2] } else { &[1] };
            for &processes in counts {
                let r = w2(*base, &opts.dir, processes, opts.clients, opts.seconds).await?;
                against.w2(name, processes, &r);
                let _ = writeln!(
                    out,
                    "| {name} | {processes} | {:.0} | {:.1} | {:.1} | {} | {:.1} |",
                    r.completions_per_s,
                    ms(r.p50),
                    ms(r.p99),
                    r.errors,
                    r.statements_per_completion
                );
            }
        }
    }
    if opts.workloads.iter().any(|w| w == "w3") {
        let _ = writeln!(
            out,
            "\nW3 scale: {} instances parked at a user task (a 100th of them in the user's inbox)",
            opts.scale
        );
        let _ = writeln!(
            out,
            "| database | seeding s | server RSS MiB (peak) | database MiB | inbox p50 ms | instances p50 ms | statistics p50 ms | start ms empty / full | complete ms empty / full |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (name, base) in &dbs {
            let r = w3(*base, &opts.dir, opts.scale).await?;
            against.w3(name, &r);
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {:.0} ({:.0}) | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} / {:.2} ({:+.0} %) | {:.2} / {:.2} ({:+.0} %) |",
                r.seed_seconds,
                r.rss_mib,
                r.peak_rss_mib,
                r.db_mib,
                ms(r.inbox_p50),
                ms(r.instances_p50),
                ms(r.statistics_p50),
                ms(r.start_empty),
                ms(r.start_full),
                (r.start_full.as_secs_f64() / r.start_empty.as_secs_f64() - 1.0) * 100.0,
                ms(r.complete_empty),
                ms(r.complete_full),
                (r.complete_full.as_secs_f64() / r.complete_empty.as_secs_f64() - 1.0) * 100.0,
            );
        }
    }
    if opts.workloads.iter().any(|w| w == "w4") {
        let _ = writeln!(
            out,
            "\nW4 abuse: 4 bursts of 300 parallel wrong logins, then /healthz every 20 ms while 4 clients start instances whose script or FEEL decision runs away"
        );
        let _ = writeln!(
            out,
            "| database | RSS MiB idle | after each burst | settled (peak) | logins refused / turned away / other | /healthz p50 ms | p99 ms | runaways |"
        );
        let _ = writeln!(out, "|---|---:|---|---:|---|---:|---:|---:|");
        for (name, base) in &dbs {
            let r = w4(*base, &opts.dir).await?;
            against.w4(name, &r);
            let bursts: Vec<String> = r
                .rss_after_bursts_mib
                .iter()
                .map(|m| format!("{m:.0}"))
                .collect();
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {} | {:.0} ({:.0}) | {} / {} / {} | {:.1} | {:.1} | {} |",
                r.rss_idle_mib,
                bursts.join(", "),
                r.rss_settled_mib,
                r.peak_rss_mib,
                r.logins_refused,
                r.logins_turned_away,
                r.logins_other,
                ms(r.healthz_p50),
                ms(r.healthz_p99),
                r.runaways
            );
        }
    }
    against.print(out);
    Ok(())
}

/// CPU model and count, memory, as `/proc` tells.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem}")
}
