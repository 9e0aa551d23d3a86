//! Several `bpmn serve` processes on one database, under load, with one of
//! them killed (`kill -9`) and restarted in the middle: 3 processes on
//! PostgreSQL (when `BPMN_TEST_DATABASE_URL` is set), 2 on one SQLite file.
//!
//! 24 simulated users drive 336 instances through the JSON API — the demo
//! diagram and a diagram with two connector calls to a local server that
//! fails 10 % of first attempts and sometimes answers slower than the job
//! lease, a timer and a parallel join — and 30 % of their completions race a
//! second user completing the same task. Afterwards every instance must be
//! completed; no task completed twice (the losers got 409, never a 5xx); each
//! join fired once; history has no gaps; each connector call took effect once
//! per idempotency key; and no lease is held 20 s after the load stopped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bpmn_engine::runtime::{Runtime, SystemClock};
use bpmn_engine::store::entity::process_instance;
use bpmn_engine::store::{Store, to_db_time};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::common::db::{TestDb, postgres_url};
use crate::common::remote::{Remote, Reply};
use crate::common::*;

const USERS: usize = 24;
const PER_USER: usize = 14;
const LEASE_SECS: u64 = 2;

/// The connector diagram: call, wait a second, then a review task and a
/// second call in parallel, a join, and a confirmation task.
fn chaos_diagram(remote: &str) -> String {
    let call = |id: &str, step: &str| {
        format!(
            r#"<bpmn:serviceTask id="{id}"><bpmn:extensionElements><camunda:connector><camunda:inputOutput>
<camunda:inputParameter name="url">{remote}/effect/{step}</camunda:inputParameter>
<camunda:inputParameter name="method">POST</camunda:inputParameter>
<camunda:inputParameter name="payload">${{ref}}</camunda:inputParameter>
<camunda:outputParameter name="{step}Applied">${{response.applied}}</camunda:outputParameter>
</camunda:inputOutput><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>"#
        )
    };
    definitions(&format!(
        r#"<bpmn:process id="chaos" name="Chaos" isExecutable="true">
<bpmn:startEvent id="s"/>{}
<bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="review" camunda:candidateGroups="Marko"/>{}
<bpmn:parallelGateway id="join"/>
<bpmn:userTask id="confirm" camunda:candidateGroups="Pero"/>
<bpmn:endEvent id="e"/>
{}{}{}{}{}{}{}{}{}
</bpmn:process>"#,
        call("one", "one"),
        call("two", "two"),
        flow("f0", "s", "one"),
        flow("f1", "one", "pause"),
        flow("f2", "pause", "fork"),
        flow("f3", "fork", "review"),
        flow("f4", "fork", "two"),
        flow("f5", "review", "join"),
        flow("f6", "two", "join"),
        flow("f7", "join", "confirm"),
        flow("f8", "confirm", "e"),
    ))
}

/// One `bpmn serve` process.
struct Server {
    port: u16,
    args: Vec<String>,
    log: PathBuf,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn spawn(database_url: &str, diagrams: &Path, dir: &Path, n: usize) -> Server {
        let port = free_port();
        let args = vec![
            "serve".to_string(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--database-url".into(),
            database_url.to_string(),
            "--diagrams".into(),
            diagrams.display().to_string(),
            "--job-lease".into(),
            LEASE_SECS.to_string(),
        ];
        let log = dir.join(format!("server-{n}.log"));
        let child = Self::start(&args, &log);
        Server {
            port,
            args,
            log,
            child,
        }
    }

    fn start(args: &[String], log: &Path) -> Child {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_bpmn"))
            .args(args)
            .env("BPMN_ADMIN_PASSWORD", "chaos-admin-password")
            // The flaky server the connector calls listens on 127.0.0.1.
            .env("BPMN_CONNECTOR_ALLOW", "127.0.0.1")
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start bpmn serve")
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `kill -9`.
    fn kill(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }

    fn restart(&mut self) {
        self.child = Self::start(&self.args, &self.log);
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn wait_ready(client: &reqwest::Client, server: &Server) {
    let base = server.base();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == StatusCode::OK
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{base} did not become ready:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the simulated users saw.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, usize>,
    races: usize,
    race_losses: usize,
    unreachable: usize,
    /// Requests the client stopped waiting for.
    timeouts: usize,
    problems: Vec<String>,
}

/// The cluster as the users see it: requests go round the servers, and a
/// server that cannot be reached is skipped (as a load balancer would).
struct Cluster {
    bases: Vec<String>,
    next: AtomicUsize,
    client: reqwest::Client,
    tally: Mutex<Tally>,
}

enum Sent {
    Answer(StatusCode, Value),
    /// No answer came: the request may or may not have happened. `in_flight`:
    /// the client gave up waiting (its timeout), so the server may still be
    /// working on it; otherwise the server went away with it.
    Unknown {
        in_flight: bool,
    },
}

impl Cluster {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Sent {
        for _ in 0..200 {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.bases.len();
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.bases[i]))
                .bearer_auth(token);
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                // The server did not receive the whole request in time (its
                // client timeout, when the machine is starved): nothing was
                // done, and a client sends it again, as HTTP allows.
                Ok(resp) if resp.status() == reqwest::StatusCode::REQUEST_TIMEOUT => {
                    self.tally.lock().unwrap().unreachable += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    let mut t = self.tally.lock().unwrap();
                    *t.statuses.entry(status.as_u16()).or_default() += 1;
                    if status.is_server_error() {
                        t.problems
                            .push(format!("{status} for {method} {path}: {text}"));
                    }
                    return Sent::Answer(
                        status,
                        serde_json::from_str(&text).unwrap_or(Value::String(text)),
                    );
                }
                Err(e) if e.is_connect() => {
                    self.tally.lock().unwrap().unreachable += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    let mut t = self.tally.lock().unwrap();
                    t.unreachable += 1;
                    t.timeouts += usize::from(e.is_timeout());
                    return Sent::Unknown {
                        in_flight: e.is_timeout(),
                    };
                }
            }
        }
        panic!("no server answered {method} {path}");
    }
}

/// One simulated user: starts its instances one after the other and works
/// each to its end.
async fn user(
    cluster: Arc<Cluster>,
    tokens: Arc<Vec<String>>,
    u: usize,
    started: Arc<AtomicUsize>,
) {
    let token = &tokens[u];
    let partner = &tokens[(u + 1) % tokens.len()];
    for i in 0..PER_USER {
        let reference = format!("u{u}-i{i}");
        let key = if i % 2 == 0 { "chaos" } else { "demo" };
        let body = json!({"variables": {"ref": reference}});
        let id = loop {
            match cluster
                .send(
                    reqwest::Method::POST,
                    &format!("/api/v1/definitions/{key}/start"),
                    token,
                    Some(&body),
                )
                .await
            {
                Sent::Answer(StatusCode::CREATED, v) => {
                    break v["id"].as_str().unwrap().to_string();
                }
                Sent::Answer(s, v) => panic!("start {key}: {s} {v}"),
                Sent::Unknown { in_flight } => {
                    // Did it start? A start the server may still be working
                    // on is looked for until it must have ended (longer than
                    // a request can wait for the database), never sent again
                    // meanwhile: that could start it twice.
                    let until = Instant::now()
                        + if in_flight {
                            Duration::from_secs(90)
                        } else {
                            Duration::ZERO
                        };
                    let found = loop {
                        if let Sent::Answer(StatusCode::OK, v) = cluster
                            .send(
                                reqwest::Method::GET,
                                &format!("/api/v1/instances?var=ref:{reference}"),
                                token,
                                None,
                            )
                            .await
                            && let Some(found) = v["items"][0]["id"].as_str()
                        {
                            break Some(found.to_string());
                        }
                        if Instant::now() >= until {
                            break None;
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    };
                    if let Some(found) = found {
                        break found;
                    }
                }
            }
        };
        started.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            assert!(
                Instant::now() < deadline,
                "instance {id} ({reference}) did not finish"
            );
            let detail = match cluster
                .send(
                    reqwest::Method::GET,
                    &format!("/api/v1/instances/{id}"),
                    token,
                    None,
                )
                .await
            {
                Sent::Answer(StatusCode::OK, v) => v,
                _ => continue,
            };
            match detail["state"].as_str() {
                Some("completed") => break,
                Some("active") => {}
                other => {
                    cluster
                        .tally
                        .lock()
                        .unwrap()
                        .problems
                        .push(format!("{id} is {other:?}: {detail}"));
                    break;
                }
            }
            let Some(task) = detail["open_tasks"]
                .as_array()
                .and_then(|t| t.first())
                .cloned()
            else {
                tokio::time::sleep(Duration::from_millis(150)).await;
                continue;
            };
            let task_id = task["id"].as_str().unwrap();
            let vars = if task["element_id"] == "t0" {
                json!({"variables": {"option": 1 + (u + i) % 2}})
            } else {
                json!({"variables": {}})
            };
            let path = format!("/api/v1/tasks/{task_id}/complete");
            let race = rand::random::<f64>() < 0.3;
            let results = if race {
                let (a, b) = tokio::join!(
                    cluster.send(reqwest::Method::POST, &path, token, Some(&vars)),
                    cluster.send(reqwest::Method::POST, &path, partner, Some(&vars)),
                );
                vec![a, b]
            } else {
                vec![
                    cluster
                        .send(reqwest::Method::POST, &path, token, Some(&vars))
                        .await,
                ]
            };
            let mut t = cluster.tally.lock().unwrap();
            let answered: Vec<StatusCode> = results
                .iter()
                .filter_map(|r| match r {
                    Sent::Answer(s, _) => Some(*s),
                    Sent::Unknown { .. } => None,
                })
                .collect();
            for (r, s) in results.iter().zip(answered.iter()) {
                if !matches!(*s, StatusCode::OK | StatusCode::CONFLICT) {
                    let text = match r {
                        Sent::Answer(_, v) => v.to_string(),
                        Sent::Unknown { .. } => String::new(),
                    };
                    t.problems.push(format!("completing {path}: {s} {text}"));
                }
            }
            if race && answered.len() == 2 {
                t.races += 1;
                let wins = answered.iter().filter(|s| **s == StatusCode::OK).count();
                t.race_losses += answered
                    .iter()
                    .filter(|s| **s == StatusCode::CONFLICT)
                    .count();
                if wins > 1 {
                    t.problems
                        .push(format!("both completions of {task_id} succeeded"));
                }
            }
        }
    }
}

async fn chaos(db: TestDb, processes: usize) {
    bpmn_engine::runtime::connector::install_tls_provider();
    let backend = db.backend;
    let dir = tempfile::tempdir().unwrap();
    // The remote side: idempotent by key, 10 % of first attempts fail, some
    // answers come slower than the lease.
    let effects: Arc<Mutex<HashMap<String, BTreeSet<String>>>> = Arc::default();
    let attempts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (e2, a2) = (effects.clone(), attempts.clone());
    let remote = Remote::start(move |seen, _| {
        let key = seen.idempotency_key.clone().unwrap_or_default();
        let n = {
            let mut a = a2.lock().unwrap();
            let n = a.entry(key.clone()).or_default();
            *n += 1;
            *n
        };
        let h = key
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        if n == 1 && h % 10 == 0 {
            return Reply::status(500, "{\"error\": \"try again\"}");
        }
        e2.lock()
            .unwrap()
            .entry(format!("{}:{}", seen.path, seen.body))
            .or_default()
            .insert(key);
        let reply = Reply::json(json!({"applied": true}));
        if h % 20 == 1 {
            reply.after(Duration::from_secs(LEASE_SECS + 1))
        } else {
            reply
        }
    })
    .await;
    // Diagrams every process deploys at start-up (all at once: one version each).
    let diagrams = dir.path().join("bpmn");
    std::fs::create_dir(&diagrams).unwrap();
    std::fs::write(diagrams.join("demo.bpmn"), demo_bytes()).unwrap();
    std::fs::write(diagrams.join("chaos.bpmn"), chaos_diagram(&remote.base)).unwrap();

    // All processes start at the same moment on the empty database.
    let mut servers: Vec<Server> = (0..processes)
        .map(|n| Server::spawn(&db.url, &diagrams, dir.path(), n))
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for s in &servers {
        wait_ready(&client, s).await;
    }
    let store = Store::connect(&db.url).await.unwrap();
    let runtime = crate::common::rt::runtime_on(store, |s| Runtime::new(s, Arc::new(SystemClock)));
    for key in ["demo", "chaos"] {
        let versions = runtime
            .store()
            .latest_definition(key)
            .await
            .unwrap()
            .unwrap()
            .0
            .version;
        assert_eq!(
            versions, 1,
            "{backend}: {processes} processes deploying at once make one version of {key}"
        );
    }
    let groups = vec!["Marko".to_string(), "Pero".to_string()];
    let mut tokens = Vec::new();
    for u in 0..USERS {
        let user = runtime
            .create_user(&format!("user{u}"), "chaos-password", &groups, false)
            .await
            .unwrap();
        tokens.push(runtime.create_token(user.id, "load").await.unwrap().1);
    }
    let cluster = Arc::new(Cluster {
        bases: servers.iter().map(Server::base).collect(),
        next: AtomicUsize::new(0),
        client,
        tally: Mutex::new(Tally::default()),
    });
    let tokens = Arc::new(tokens);
    let started = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let load: Vec<_> = (0..USERS)
        .map(|u| tokio::spawn(user(cluster.clone(), tokens.clone(), u, started.clone())))
        .collect();
    // A third of the way in, one process is killed mid-flight and comes back.
    while started.load(Ordering::SeqCst) < USERS * PER_USER / 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    servers[0].kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    servers[0].restart();
    for l in load {
        l.await.expect("a simulated user failed");
    }
    let load_time = began.elapsed();
    let stopped = Instant::now();

    // Leases: none held 20 s after the load stopped.
    loop {
        let held = runtime
            .store()
            .held_leases(to_db_time(jiff::Timestamp::now()))
            .await
            .unwrap();
        if held == 0 {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(20),
            "{backend}: {held} leases still held 20 s after the load stopped"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let tally = std::mem::take(&mut *cluster.tally.lock().unwrap());
    assert!(
        tally.problems.is_empty(),
        "{backend}: {:#?}",
        tally.problems
    );
    assert!(
        !tally.statuses.keys().any(|s| *s >= 500),
        "{backend}: {:?}",
        tally.statuses
    );

    let instances = process_instance::Entity::find()
        .all(runtime.store().connection())
        .await
        .unwrap();
    assert_eq!(
        instances.len(),
        USERS * PER_USER,
        "{backend}: one instance per start ({} requests timed out at the client)",
        tally.timeouts
    );
    let not_done: Vec<_> = instances
        .iter()
        .filter(|i| i.status != "completed")
        .map(|i| (&i.id, &i.status))
        .collect();
    assert!(
        not_done.is_empty(),
        "{backend}: not completed: {not_done:?}"
    );

    let mut connector_commits = 0;
    for i in &instances {
        let rows = runtime.store().history(i.id).await.unwrap();
        let seqs: Vec<i64> = rows.iter().map(|h| h.seq).collect();
        assert_eq!(
            seqs,
            (1..=rows.len() as i64).collect::<Vec<_>>(),
            "{backend}: history of {} has gaps",
            i.id
        );
        let mut completed_keys = BTreeSet::new();
        for h in rows.iter().filter(|h| h.kind() == "task_completed") {
            assert!(
                completed_keys.insert(h.element_key()),
                "{backend}: a task of {} was completed twice",
                i.id
            );
        }
        let joins: Vec<String> = rows
            .iter()
            .filter(|h| h.kind() == "join_fired")
            .filter_map(|h| h.element_id())
            .collect();
        let expected = if i.definition_key == "chaos" {
            vec!["join"]
        } else {
            vec!["ParallelGateway_0vffee4"]
        };
        assert_eq!(joins, expected, "{backend}: joins of {}", i.id);
        let element_of: HashMap<Option<i64>, Option<String>> = rows
            .iter()
            .filter(|h| h.kind() == "element_activated")
            .map(|h| (h.element_key(), h.element_id()))
            .collect();
        connector_commits += rows
            .iter()
            .filter(|h| h.kind() == "job_completed")
            .filter(|h| {
                matches!(
                    element_of.get(&h.element_key()).and_then(|e| e.as_deref()),
                    Some("one" | "two")
                )
            })
            .count();
    }
    let chaos_instances = instances
        .iter()
        .filter(|i| i.definition_key == "chaos")
        .count();
    assert_eq!(
        connector_commits,
        2 * chaos_instances,
        "{backend}: each call committed once"
    );
    let effects = effects.lock().unwrap().clone();
    assert_eq!(
        effects.len(),
        2 * chaos_instances,
        "{backend}: one effect per call"
    );
    for (what, keys) in effects.iter() {
        assert_eq!(
            keys.len(),
            1,
            "{backend}: {what} took effect under several keys: {keys:?}"
        );
    }
    let calls: usize = attempts.lock().unwrap().values().sum();
    for s in &servers {
        let log = s.log_text();
        assert!(
            !log.contains("panicked"),
            "{backend}: a server panicked:\n{log}"
        );
    }
    println!(
        "chaos on {backend} with {processes} processes: {} instances in {:.1} s; {} completion races ({} losers got 409); {} connector calls for {} effects; {} requests hit a dead server ({} timed out); statuses {:?}",
        instances.len(),
        load_time.as_secs_f64(),
        tally.races,
        tally.race_losses,
        calls,
        effects.len(),
        tally.unreachable,
        tally.timeouts,
        tally.statuses
    );
    drop(tally);
    drop(servers);
    remote.stop().await;
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_on_postgres_survive_a_kill_under_load() {
    let Some(base) = postgres_url() else {
        eprintln!("note: BPMN_TEST_DATABASE_URL is not set; skipping the PostgreSQL chaos test");
        return;
    };
    chaos(TestDb::postgres(&base).await, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_sqlite_file_survive_a_kill_under_load() {
    chaos(TestDb::sqlite().await, 2).await;
}
