//! The one authorization policy, tried from outside.
//!
//! - The matrix: every route the server registers (pages, `/api/v1`, the
//!   python-bpmn-engine routes, Camunda's `/engine-rest`) is tried as an anonymous visitor, a user, another
//!   user, a worker and an admin, against a fresh instance; what each gets is
//!   computed from the policy table and the route's action — never written
//!   here by hand. Lists must show the instance and task exactly to those the
//!   policy lets see them, and every refusal must change nothing.
//! - The scenario that opened the question: another user cannot fetch,
//!   complete, message or signal someone's work; a worker account can.
//! - A race: a claim that commits while a completion waits for the instance's
//!   lock is seen by the completion, which is refused and writes nothing.
//!
//! All on SQLite, and on PostgreSQL when `BPMN_TEST_DATABASE_URL` is set.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bpmn_engine::runtime::policy::{self, Action, Decision, Facts, Kind};
use bpmn_engine::runtime::{NewUser, Principal, Role, StartRequest, TopicRequest, User, Values};
use bpmn_engine::web::routes::{Face, ROUTES, Route};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::app::{Browser, TestApp};
use crate::common::*;

/// The process every cell runs against: a task for group B, an external
/// task, a receive task waiting for a trigger, message and signal catch
/// events, and an expression that fails (an incident); and a process with a
/// conditional start event.
const MATRIX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="m" targetNamespace="http://example.com">
<bpmn:process id="matrix" name="Matrix" isExecutable="true">
  <bpmn:startEvent id="s"/>
  <bpmn:parallelGateway id="fork"/>
  <bpmn:userTask id="review" name="Review" camunda:candidateGroups="B"/>
  <bpmn:serviceTask id="ext" name="Score" camunda:type="external" camunda:topic="matrix"/>
  <bpmn:receiveTask id="wait" name="Wait"/>
  <bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>
  <bpmn:intermediateCatchEvent id="alarm"><bpmn:signalEventDefinition signalRef="S"/></bpmn:intermediateCatchEvent>
  <bpmn:serviceTask id="broken" name="Broken" camunda:expression="${undefinedVariable + 1}"/>
  <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>
  <bpmn:endEvent id="e4"/><bpmn:endEvent id="e5"/><bpmn:endEvent id="e6"/>
  <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
  <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="review"/>
  <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="ext"/>
  <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="wait"/>
  <bpmn:sequenceFlow id="f4" sourceRef="fork" targetRef="paid"/>
  <bpmn:sequenceFlow id="f5" sourceRef="fork" targetRef="alarm"/>
  <bpmn:sequenceFlow id="f6" sourceRef="fork" targetRef="broken"/>
  <bpmn:sequenceFlow id="g1" sourceRef="review" targetRef="e1"/>
  <bpmn:sequenceFlow id="g2" sourceRef="ext" targetRef="e2"/>
  <bpmn:sequenceFlow id="g3" sourceRef="wait" targetRef="e3"/>
  <bpmn:sequenceFlow id="g4" sourceRef="paid" targetRef="e4"/>
  <bpmn:sequenceFlow id="g5" sourceRef="alarm" targetRef="e5"/>
  <bpmn:sequenceFlow id="g6" sourceRef="broken" targetRef="e6"/>
</bpmn:process>
<bpmn:process id="sensor" name="Sensor" isExecutable="true">
  <bpmn:startEvent id="hot"><bpmn:conditionalEventDefinition><bpmn:condition>${temperature > 24}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:startEvent>
  <bpmn:endEvent id="cooled"/>
  <bpmn:sequenceFlow id="h1" sourceRef="hot" targetRef="cooled"/>
</bpmn:process>
<bpmn:message id="M" name="paid"/>
<bpmn:signal id="S" name="alarm"/>
</bpmn:definitions>"#;

/// A process the deployment routes upload.
const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://example.com">
<bpmn:process id="small" isExecutable="true"><bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/></bpmn:process></bpmn:definitions>"#;

/// The columns of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// bob: started the instance, a candidate of its task (group B).
    User,
    /// alice: group A, nothing to do with the instance.
    OtherUser,
    /// svc: a worker account.
    Worker,
    Admin,
}

const EVERYONE: [Who; 5] = [
    Who::Anonymous,
    Who::User,
    Who::OtherUser,
    Who::Worker,
    Who::Admin,
];

impl Who {
    fn kind(self) -> Kind {
        match self {
            Who::Anonymous => Kind::Anonymous,
            Who::User | Who::OtherUser => Kind::User,
            Who::Worker => Kind::Worker,
            Who::Admin => Kind::Admin,
        }
    }
}

/// A principal's ways in: a logged-in browser and an API token.
struct Client {
    who: Who,
    name: &'static str,
    user: Option<User>,
    browser: Browser,
    token: Option<String>,
}

/// What a cell's instance looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prep {
    Fresh,
    /// The user (bob) holds the task.
    Claimed,
    /// An admin suspended the instance (to try resuming it).
    Suspended,
}

/// One instance of the matrix process, started by bob.
struct Fixture {
    instance: Uuid,
    task: Uuid,
    job: Uuid,
    incident: Uuid,
    incident_key: i64,
    /// The deployment of the matrix file, its `matrix` process definition,
    /// and the `segment` decision's id.
    deployment: i64,
    definition: i64,
    decision: i64,
    /// A file kept for viewing only.
    view_only: i64,
    /// Its business key and the value of its `tag` variable.
    tag: String,
    prep: Prep,
}

fn bob() -> Principal {
    Principal::new("bob", vec!["B".into()], Role::User)
}

fn admin() -> Principal {
    Principal::operator("admin")
}

/// What the policy says of a principal and the fixture.
fn facts(who: Who, prep: Prep) -> Facts {
    match who {
        Who::User => Facts {
            involved: true,
            candidate: true,
            holder: prep == Prep::Claimed,
            task_free: prep != Prep::Claimed,
        },
        _ => Facts {
            task_free: prep != Prep::Claimed,
            ..Facts::default()
        },
    }
}

/// What a cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success,
    Login,
    Unauthorized,
    Forbidden,
    NotFound,
}

fn expect(who: Who, route: &Route, prep: Prep) -> Expect {
    if route.action == Action::ReadPublic {
        return Expect::Success;
    }
    if who == Who::Anonymous {
        return match route.face {
            Face::Page => Expect::Login,
            Face::Api | Face::Compat | Face::EngineRest => Expect::Unauthorized,
        };
    }
    if route.list {
        return Expect::Success;
    }
    match policy::decide(who.kind(), route.action, &facts(who, prep)) {
        Decision::Allowed => Expect::Success,
        Decision::Forbidden => Expect::Forbidden,
        Decision::Hidden => Expect::NotFound,
    }
}

/// What a response was.
fn classify(face: Face, status: StatusCode, location: Option<&str>) -> Option<Expect> {
    let s = status.as_u16();
    match s {
        200..=299 => Some(Expect::Success),
        303 if face == Face::Page => Some(match location {
            Some(l) if l.starts_with("/login?") => Expect::Login,
            _ => Expect::Success,
        }),
        401 => Some(Expect::Unauthorized),
        403 => Some(Expect::Forbidden),
        404 => Some(Expect::NotFound),
        _ => None,
    }
}

/// Whether the route's request changes the fixture when it is allowed.
fn writes(route: &Route) -> bool {
    route.method != "GET"
}

/// The rows of the fixture a refusal must leave as they were.
async fn snapshot(app: &TestApp, f: &Fixture) -> Value {
    let store = app.runtime.store();
    let row = store.instance(f.instance).await.unwrap().unwrap();
    let tasks: Vec<Value> = store
        .tasks_of_instance(f.instance)
        .await
        .unwrap()
        .into_iter()
        .map(|t| json!([t.id, t.state, t.assignee]))
        .collect();
    let jobs: Vec<Value> = store
        .jobs_of_instance(f.instance)
        .await
        .unwrap()
        .into_iter()
        .map(|j| json!([j.id, j.lock_owner, j.retries, j.due_at.to_rfc3339()]))
        .collect();
    json!({"version": row.version, "seq": row.last_seq, "status": row.status, "tasks": tasks, "jobs": jobs})
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

async fn fixture(app: &TestApp, prep: Prep) -> Fixture {
    let tag = format!("m{}", SERIAL.fetch_add(1, Ordering::Relaxed));
    let rt = &app.runtime;
    let o = rt
        .deployments()
        .start(
            &bob(),
            StartRequest {
                key: "matrix".into(),
                version: None,
                values: Values::Json(obj(json!({ "tag": tag }))),
                business_key: Some(tag.clone()),
            },
        )
        .await
        .unwrap();
    let instance = o.instance_id;
    let task = rt.tasks().open_in(&bob(), instance).await.unwrap()[0].id;
    let locked = rt
        .work()
        .fetch_and_lock(
            &admin(),
            "w",
            100,
            &[TopicRequest::new(
                "matrix",
                std::time::Duration::from_secs(3600),
            )],
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
    let job = locked
        .iter()
        .find(|t| t.instance_id == instance)
        .expect("the fixture's external task is locked for worker w")
        .id;
    let detail = rt.instances().show(&admin(), instance).await.unwrap();
    let incident = detail
        .incidents
        .first()
        .expect("the broken expression is an incident");
    if prep == Prep::Claimed {
        rt.tasks().claim(&bob(), task).await.unwrap();
    }
    let deployment = detail.deployed.definition.deployment_id;
    let definition = detail.deployed.definition.id;
    let decision = rt
        .deployments()
        .decision(&admin(), "segment", None)
        .await
        .unwrap()
        .definition
        .id;
    let demo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/demo.bpmn")).unwrap();
    let view_only = rt
        .deployments()
        .keep_for_viewing(&admin(), "demo.bpmn", &demo)
        .await
        .unwrap();
    if prep == Prep::Suspended {
        rt.instances()
            .suspend(&admin(), instance, None)
            .await
            .unwrap();
    }
    Fixture {
        deployment,
        definition,
        decision,
        view_only,
        instance,
        task,
        job,
        incident: incident.id,
        incident_key: incident.key,
        tag,
        prep,
    }
}

/// The route's path with its parameters filled for a cell.
fn path(route: &Route, f: &Fixture, own_token: Option<Uuid>, dummy_user: i64) -> String {
    let p = route.path;
    let id = if p.starts_with("/api/v1/tasks/")
        || p.starts_with("/tasks/")
        || p.starts_with("/engine-rest/task/")
    {
        f.task.to_string()
    } else if p.starts_with("/engine-rest/deployment/") {
        f.deployment.to_string()
    } else if p.starts_with("/engine-rest/decision-definition/") {
        f.decision.to_string()
    } else if p.starts_with("/engine-rest/process-definition/") {
        f.definition.to_string()
    } else if p.starts_with("/api/v1/external-tasks/")
        || p.starts_with("/engine-rest/external-task/")
    {
        f.job.to_string()
    } else if p.starts_with("/api/v1/incidents/") {
        f.incident.to_string()
    } else if p.starts_with("/account/tokens/") {
        own_token.unwrap_or_else(Uuid::now_v7).to_string()
    } else if p.starts_with("/users/") {
        dummy_user.to_string()
    } else if p.starts_with("/view-only/") {
        f.view_only.to_string()
    } else {
        f.instance.to_string()
    };
    let key = if p.contains("/start")
        || p.contains("/migrate")
        || p.contains("/statistics")
        || p.contains("/versions/")
        || p.starts_with("/engine-rest/process-definition/")
    {
        "matrix".to_string()
    } else if p.contains("/decisions/") || p.contains("/decision-definition/") {
        "segment".to_string()
    } else if p.starts_with("/instances/") {
        f.incident_key.to_string()
    } else {
        "demo".to_string()
    };
    let task_id = if p.ends_with("/receive") {
        "paid"
    } else {
        "review"
    };
    let name = if p.starts_with("/static/") {
        "app.css"
    } else if p.starts_with("/engine-rest/") {
        "tag"
    } else {
        "matrix"
    };
    let query = if p.starts_with("/engine-rest/history/activity-instance")
        || p.starts_with("/engine-rest/history/variable-instance")
    {
        format!("?processInstanceId={}", f.instance)
    } else {
        String::new()
    };
    p.replace("{id}", &id)
        .replace("{key}", &key)
        .replace("{task_id}", task_id)
        .replace("{name}", name)
        .replace("{version}", "1")
        + query.as_str()
}

/// The JSON body of a Camunda request, sent by `caller`.
fn camunda_body(route: &Route, f: &Fixture, caller: &str) -> Value {
    let p = route.path.trim_start_matches("/engine-rest");
    match p {
        "/external-task/fetchAndLock" => {
            json!({"workerId": "other", "maxTasks": 1, "topics": [{"topicName": "no-such-topic", "lockDuration": 1000}]})
        }
        "/external-task/{id}/complete" => json!({"workerId": "w", "variables": {}}),
        "/external-task/{id}/failure" => {
            json!({"workerId": "w", "errorMessage": "down", "retries": 1, "retryTimeout": 1000})
        }
        "/external-task/{id}/bpmnError" => json!({"workerId": "w", "errorCode": "E"}),
        "/external-task/{id}/extendLock" => json!({"workerId": "w", "newDuration": 60000}),
        "/external-task/{id}/lock" => json!({"workerId": "w", "lockDuration": 60000}),
        "/message" => json!({"messageName": "paid", "businessKey": f.tag}),
        "/signal" => json!({"name": "alarm"}),
        "/task"
        | "/task/count"
        | "/history/process-instance"
        | "/history/process-instance/count" => {
            json!({"processInstanceId": f.instance})
        }
        "/task/{id}/claim" => json!({"userId": caller}),
        "/task/{id}/assignee" => json!({"userId": "bob"}),
        "/task/{id}/variables" => json!({"modifications": {"x": {"value": 1, "type": "Integer"}}}),
        "/task/{id}/variables/{name}" => json!({"value": "t", "type": "String"}),
        "/process-instance" | "/process-instance/count" => {
            json!({"processInstanceIds": [f.instance]})
        }
        "/process-definition/{id}/start" => {
            json!({"variables": {"tag": {"value": f.tag, "type": "String"}}})
        }
        "/process-instance/{id}/variables" => {
            json!({"modifications": {"x": {"value": 1, "type": "Integer"}}})
        }
        "/process-instance/{id}/variables/{name}" => json!({"value": "t", "type": "String"}),
        p if p.ends_with("/evaluate") => {
            json!({"variables": {"years": {"value": 1, "type": "Integer"}}})
        }
        _ => json!({}),
    }
}

/// A Camunda route answers some requests with its own status where the
/// policy's answer would be another: a message that reaches no instance the
/// caller may see is Camunda's 400 "cannot correlate", and deleting a
/// deployment is refused by design (400) even for an admin.
fn camunda_answer(route: &Route, want: Expect, status: StatusCode) -> Option<Expect> {
    let quirk = match (route.method, route.path) {
        ("POST", "/engine-rest/message") => want == Expect::NotFound,
        ("DELETE", "/engine-rest/deployment/{id}") => want == Expect::Success,
        _ => false,
    };
    (quirk && status == StatusCode::BAD_REQUEST).then_some(want)
}

/// The JSON body of an API or compatibility request.
fn json_body(route: &Route, f: &Fixture) -> Value {
    let p = route.path;
    if p.ends_with("/evaluate") {
        json!({"variables": {"years": 1}})
    } else if p.ends_with("/trigger") {
        json!({"element": "wait"})
    } else if p.ends_with("/variables") {
        json!({"variables": {"x": 1}})
    } else if p.ends_with("/assign") {
        json!({"assignee": "bob"})
    } else if p == "/api/v1/tasks/{id}/complete" {
        json!({"variables": {}})
    } else if p == "/api/v1/messages" {
        json!({"name": "paid", "business_key": f.tag})
    } else if p == "/api/v1/signals" {
        json!({"name": "alarm"})
    } else if p == "/api/v1/conditions" {
        json!({"variables": {"temperature": 30}, "process_key": "sensor"})
    } else if p.ends_with("/fetch-and-lock") {
        json!({"worker_id": "other", "max_tasks": 1, "topics": [{"name": "no-such-topic", "lock_duration_ms": 1000}]})
    } else if p == "/api/v1/external-tasks/{id}/complete" {
        json!({"worker_id": "w", "variables": {}})
    } else if p.ends_with("/failure") {
        json!({"worker_id": "w", "message": "down", "retries": 1, "retry_in_ms": 1000})
    } else if p.ends_with("/bpmn-error") {
        json!({"worker_id": "w", "error_code": "E", "message": "no"})
    } else if p == "/api/v1/instances/{id}/modify" {
        json!({"instructions": [{"start_before": "review"}]})
    } else if p == "/api/v1/instances/{id}/migrate" {
        json!({"to_version": 1})
    } else if p == "/api/v1/definitions/{key}/migrate" {
        json!({"from_version": 2, "to_version": 1, "instances": [f.instance]})
    } else if p.ends_with("/extend-lock") {
        json!({"worker_id": "w", "new_duration_ms": 60000})
    } else {
        json!({})
    }
}

/// The form fields of a page's post.
fn form(route: &Route, serial: usize) -> Vec<(String, String)> {
    match route.path {
        "/instances/{id}/trigger" => vec![("element".into(), "wait".into())],
        "/instances/{id}/modify" => vec![
            ("action0".into(), "start_before".into()),
            ("element0".into(), "review".into()),
        ],
        "/definitions/{key}/migrate" => {
            vec![
                ("from".into(), "2".into()),
                ("to".into(), "1".into()),
                ("listed".into(), "2".into()),
                ("instance".into(), Uuid::nil().to_string()),
            ]
        }
        "/users" => vec![
            ("name".into(), format!("new{serial}")),
            ("password".into(), "new-password".into()),
        ],
        "/users/{id}" => vec![("groups".into(), "C".into())],
        "/instances/{id}/variables" => vec![
            ("name".into(), "x".into()),
            ("kind".into(), "number".into()),
            ("value".into(), "1".into()),
        ],
        "/account/tokens" => vec![("name".into(), format!("t{serial}"))],
        _ => Vec::new(),
    }
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

async fn send(app: &TestApp, c: &Client, route: &Route, f: &Fixture, dummy: i64) -> Answer {
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let own_token = match (&c.user, route.path) {
        (Some(u), "/account/tokens/{id}/revoke") => Some(
            app.runtime
                .accounts()
                .create_token(u, &format!("revoke{serial}"))
                .await
                .unwrap()
                .0
                .id,
        ),
        _ => None,
    };
    let path = path(route, f, own_token, dummy);
    match route.face {
        Face::Page => {
            // Logging out or in would change the principal's session: those
            // cells get a session of their own.
            let fresh;
            let browser = if matches!(route.path, "/logout" | "/login") && route.method == "POST" {
                fresh = match (c.who, route.path) {
                    (Who::Anonymous, _) | (_, "/login") => app.browser(),
                    _ => app.login(c.name, &format!("{}-password", c.name)).await,
                };
                &fresh
            } else {
                &c.browser
            };
            let page = match (route.method, route.path) {
                ("GET", _) => browser.get(&path).await,
                ("POST", "/login") => {
                    browser
                        .post("/login", &[("name", "bob"), ("password", "bob-password")])
                        .await
                }
                ("POST", "/definitions") if c.who != Who::Anonymous => {
                    browser
                        .upload("small.bpmn", SMALL.as_bytes().to_vec())
                        .await
                }
                ("POST", _) => {
                    let mut fields = form(route, serial);
                    if route.path == "/account/password" {
                        let old = format!("{}-password", c.name);
                        let new = format!("{}-changed", c.name);
                        fields = vec![
                            ("current".into(), old),
                            ("new".into(), new.clone()),
                            ("repeated".into(), new),
                        ];
                    }
                    let fields: Vec<(&str, &str)> = fields
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    if c.who == Who::Anonymous {
                        browser.post_raw(&path, &fields).await
                    } else {
                        browser.post(&path, &fields).await
                    }
                }
                (m, _) => panic!("no page route uses {m}"),
            };
            Answer {
                status: page.status,
                location: page.location,
                body: page.body,
            }
        }
        Face::EngineRest => {
            let client = reqwest::Client::new();
            let url = format!("{}{path}", app.base);
            let mut r = match route.method {
                "GET" => client.get(&url),
                "POST" => client.post(&url),
                "PUT" => client.put(&url),
                "DELETE" => client.delete(&url),
                m => panic!("no Camunda route uses {m}"),
            };
            if let Some(t) = &c.token {
                r = r.bearer_auth(t);
            }
            r = match route.path {
                "/engine-rest/deployment/create" => {
                    let boundary = "matrixboundary";
                    let body = format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"deployment-name\"\r\n\r\nsmall\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"small.bpmn\"; filename=\"small.bpmn\"\r\nContent-Type: application/octet-stream\r\n\r\n{SMALL}\r\n--{boundary}--\r\n"
                    );
                    r.header(
                        "content-type",
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(body)
                }
                _ if route.method == "GET" || route.method == "DELETE" => r,
                _ => r.json(&camunda_body(route, f, c.name)),
            };
            let resp = r.send().await.unwrap();
            Answer {
                status: resp.status(),
                location: None,
                body: resp.text().await.unwrap_or_default(),
            }
        }
        Face::Api | Face::Compat => {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let url = format!("{}{path}", app.base);
            let mut r = match route.method {
                "GET" => client.get(&url),
                "POST" => client.post(&url),
                "PUT" => client.put(&url),
                m => panic!("no API route uses {m}"),
            };
            if let Some(t) = &c.token {
                r = r.bearer_auth(t);
            }
            r = match route.path {
                "/api/v1/deployments" => r
                    .header("content-type", "application/xml")
                    .body(SMALL.to_string()),
                _ if route.method == "GET" => r,
                _ => r.json(&json_body(route, f)),
            };
            let resp = r.send().await.unwrap();
            let status = resp.status();
            Answer {
                status,
                location: None,
                body: resp.text().await.unwrap_or_default(),
            }
        }
    }
}

/// The path of a list with a query that finds the fixture.
fn list_path(route: &Route, f: &Fixture) -> String {
    match route.path {
        "/instance" => format!("/instance?q=tag:{}", f.tag),
        "/api/v1/instances" => format!("/api/v1/instances?business_key={}", f.tag),
        "/api/v1/tasks" => format!("/api/v1/tasks?instance={}", f.instance),
        p if p.starts_with("/engine-rest/") && route.method == "GET" => {
            format!("{p}?processInstanceId={}", f.instance)
        }
        other => other.to_string(),
    }
}

async fn clients(app: &TestApp) -> Vec<Client> {
    let rt = &app.runtime;
    for (name, groups, role) in [
        ("bob", vec!["B".to_string()], Role::User),
        ("alice", vec!["A".to_string()], Role::User),
        ("svc", vec![], Role::Worker),
    ] {
        rt.accounts()
            .create_user(
                &admin(),
                &NewUser {
                    name: name.into(),
                    password: format!("{name}-password"),
                    groups,
                    role,
                },
            )
            .await
            .unwrap();
    }
    let mut out = Vec::new();
    for (who, name) in [
        (Who::Anonymous, ""),
        (Who::User, "bob"),
        (Who::OtherUser, "alice"),
        (Who::Worker, "svc"),
        (Who::Admin, "admin"),
    ] {
        if who == Who::Anonymous {
            out.push(Client {
                who,
                name,
                user: None,
                browser: app.browser(),
                token: None,
            });
            continue;
        }
        let user = rt
            .accounts()
            .user_named(&admin(), name)
            .await
            .unwrap()
            .unwrap();
        let (_, token) = rt.accounts().create_token(&user, "matrix").await.unwrap();
        out.push(Client {
            who,
            name,
            browser: app.login(name, &format!("{name}-password")).await,
            user: Some(user),
            token: Some(token),
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_principal_as_the_policy_says() {
    for app in TestApp::each().await {
        let rt = &app.runtime;
        for (name, bytes) in [
            ("demo.bpmn", demo_bytes()),
            ("matrix.bpmn", MATRIX.as_bytes().to_vec()),
            // A second version, for migration and suspending version 1.
            (
                "matrix.bpmn",
                format!("{MATRIX}<!-- version 2 -->\n").into_bytes(),
            ),
            (
                "discount.dmn",
                std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/discount.dmn")).unwrap(),
            ),
        ] {
            rt.deployments()
                .deploy(&admin(), name, &bytes)
                .await
                .unwrap();
        }
        let mut clients = clients(&app).await;
        let dummy = rt
            .accounts()
            .create_user(
                &admin(),
                &NewUser {
                    name: "dummy".into(),
                    password: "dummy-password".into(),
                    groups: vec![],
                    role: Role::User,
                },
            )
            .await
            .unwrap()
            .id;
        let mut cells = 0;
        for route in ROUTES {
            let prep = if route.action == Action::UnclaimTask {
                Prep::Claimed
            } else if route.path.ends_with("/instances/{id}/resume") {
                Prep::Suspended
            } else {
                Prep::Fresh
            };
            let mut f = fixture(&app, prep).await;
            for c in clients.iter_mut() {
                let want = expect(c.who, route, f.prep);
                let before = snapshot(&app, &f).await;
                let list = route.list && c.who != Who::Anonymous;
                let answer = if list {
                    let listed = Route {
                        path: Box::leak(list_path(route, &f).into_boxed_str()),
                        ..*route
                    };
                    send(&app, c, &listed, &f, dummy).await
                } else {
                    send(&app, c, route, &f, dummy).await
                };
                let got = camunda_answer(route, want, answer.status)
                    .or_else(|| classify(route.face, answer.status, answer.location.as_deref()));
                let cell = format!(
                    "{}: {} {} as {:?} ({})",
                    app.backend, route.method, route.path, c.who, answer.status
                );
                assert_eq!(
                    got,
                    Some(want),
                    "{cell}: {}",
                    answer.body.chars().take(300).collect::<String>()
                );
                cells += 1;
                if list && !route.path.ends_with("/count") {
                    // A list shows the fixture exactly to those who may see it.
                    let item = if route.action == Action::ViewTask {
                        f.task
                    } else {
                        f.instance
                    };
                    let may_see = policy::decide(c.who.kind(), route.action, &facts(c.who, f.prep))
                        == Decision::Allowed;
                    assert_eq!(
                        answer.body.contains(&item.to_string()),
                        may_see,
                        "{cell}: the list shows the fixture exactly when the policy lets them see it"
                    );
                }
                if route.path == "/logout" && want == Expect::Success {
                    // Logging out ends every session of the user.
                    c.browser = app.login(c.name, &format!("{}-password", c.name)).await;
                }
                if route.path == "/account/password" && want == Expect::Success {
                    // The password changed: the next cells use the old one again.
                    rt.accounts()
                        .set_password(&admin(), c.name, &format!("{}-password", c.name))
                        .await
                        .unwrap();
                    c.browser = app.login(c.name, &format!("{}-password", c.name)).await;
                }
                if want == Expect::Success && writes(route) {
                    f = fixture(&app, prep).await;
                } else if want != Expect::Success {
                    assert_eq!(
                        snapshot(&app, &f).await,
                        before,
                        "{cell}: a refusal changes nothing"
                    );
                }
            }
        }
        assert_eq!(cells, ROUTES.len() * EVERYONE.len());
        app.stop().await;
    }
}

/// Every route a handler registers is in the route list, and the other way
/// round — so the matrix above cannot miss one.
#[test]
fn the_route_list_names_every_registered_route() {
    let mut registered = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/web"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            if p.to_string_lossy().contains("engine_rest") {
                // Camunda's routes: `.route("/path", web::get()...)` under
                // its default base.
                for part in text.split(".route(").skip(1) {
                    let path = part.split('"').nth(1).unwrap();
                    let method = part.split("web::").nth(1).unwrap();
                    let method = method.split('(').next().unwrap();
                    registered.insert((method.to_uppercase(), format!("/engine-rest{path}")));
                }
            }
            for method in ["get", "post", "put", "delete", "patch"] {
                let marker = format!("#[{method}(\"");
                for part in text.split(&marker).skip(1) {
                    let path = part.split('"').next().unwrap();
                    registered.insert((method.to_uppercase(), path.to_string()));
                }
            }
        }
    }
    let listed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(listed.len(), ROUTES.len(), "a route is listed twice");
    assert_eq!(registered, listed);
}

/// Every action has one row, and the README shows the table as it is.
#[test]
fn the_policy_has_one_row_per_action_and_the_readme_shows_it() {
    let actions: Vec<Action> = policy::POLICY.iter().map(|p| p.action).collect();
    for a in &actions {
        assert_eq!(actions.iter().filter(|b| *b == a).count(), 1, "{a:?}");
        assert_eq!(policy::permission(*a).action, *a);
    }
    for r in ROUTES {
        assert!(actions.contains(&r.action), "{} {}", r.method, r.path);
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&policy::markdown()),
        "README.md must contain the policy table exactly as policy::markdown() writes it:\n{}",
        policy::markdown()
    );
}

/// Bob's instance holds personal data and waits at an external task. Alice,
/// who may not see it, cannot fetch it, complete it, message it or signal it;
/// a worker account can do the work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_cannot_reach_someones_external_work_and_a_worker_can() {
    for app in TestApp::each().await {
        let rt = &app.runtime;
        rt.deployments()
            .deploy(&admin(), "matrix.bpmn", MATRIX.as_bytes())
            .await
            .unwrap();
        let clients = clients(&app).await;
        let token = |who: Who| {
            clients
                .iter()
                .find(|c| c.who == who)
                .and_then(|c| c.token.clone())
                .unwrap()
        };
        let started = rt
            .deployments()
            .start(
                &bob(),
                StartRequest {
                    key: "matrix".into(),
                    version: None,
                    values: Values::Json(obj(json!({"ssn": "123-45-6789", "salary": 90000}))),
                    business_key: Some("BOB-1".into()),
                },
            )
            .await
            .unwrap();
        let id = started.instance_id;
        let http = reqwest::Client::new();
        let call = |who: Who, path: &str, body: Value| {
            http.post(format!("{}{path}", app.base))
                .bearer_auth(token(who))
                .json(&body)
                .send()
        };
        let fetch = json!({"worker_id": "w1", "max_tasks": 5, "topics": [{"name": "matrix", "lock_duration_ms": 60000}]});
        let before = rt.instances().show(&admin(), id).await.unwrap();
        let r = call(
            Who::OtherUser,
            "/api/v1/external-tasks/fetch-and-lock",
            fetch.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", app.backend);
        assert!(!r.text().await.unwrap().contains("123-45-6789"));
        let job = rt.store().jobs_of_instance(id).await.unwrap();
        let job = job.iter().find(|j| j.element_id == "ext").unwrap().id;
        let r = call(
            Who::OtherUser,
            &format!("/api/v1/external-tasks/{job}/complete"),
            json!({"worker_id": "w1", "variables": {"salary": 1}}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = call(
            Who::OtherUser,
            "/api/v1/messages",
            json!({"name": "paid", "business_key": "BOB-1", "variables": {"salary": 1}}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "as if nothing waited");
        let r = call(Who::OtherUser, "/api/v1/signals", json!({"name": "alarm"}))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let after = rt.instances().show(&admin(), id).await.unwrap();
        assert_eq!(before.history.len(), after.history.len(), "nothing changed");
        assert_eq!(after.variables["salary"], json!(90000));

        // The worker account does the work.
        let r = call(Who::Worker, "/api/v1/external-tasks/fetch-and-lock", fetch)
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let locked: Value = r.json().await.unwrap();
        let mine = locked
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["instance_id"] == json!(id))
            .expect("the worker gets bob's task");
        assert_eq!(mine["variables"]["ssn"], json!("123-45-6789"));
        let r = call(
            Who::Worker,
            &format!(
                "/api/v1/external-tasks/{}/complete",
                mine["id"].as_str().unwrap()
            ),
            json!({"worker_id": "w1", "variables": {"score": 7}}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = call(
            Who::Worker,
            "/api/v1/messages",
            json!({"name": "paid", "business_key": "BOB-1"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let done = rt.instances().show(&admin(), id).await.unwrap();
        assert_eq!(done.variables["score"], json!(7));
        assert!(
            !done
                .waiting
                .iter()
                .any(|w| w.element == "ext" || w.element == "paid")
        );
        app.stop().await;
    }
}

/// Alice's page says she may complete; before her completion commits, bob
/// claims the task. Her completion waits for the instance's lock, then reads
/// the task again under it: refused, nothing written; bob's goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_lands_before_a_completion_commits_refuses_it() {
    crate::common::db::each_db(|runtime, _clock, backend| async move {
        let xml = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Decide" camunda:candidateGroups="team"/><bpmn:endEvent id="e"/>{}{}"#,
            flow("f0", "s", "t"),
            flow("f1", "t", "e")
        ));
        runtime
            .deployments()
            .deploy(&admin(), "race.bpmn", xml.as_bytes())
            .await
            .unwrap();
        let alice = Principal::new("alice", vec!["team".into()], Role::User);
        let bob = Principal::new("bob", vec!["team".into()], Role::User);
        let id = runtime
            .deployments()
            .start(
                &alice,
                StartRequest {
                    key: "p".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .instance_id;
        let task = runtime.tasks().open_in(&alice, id).await.unwrap()[0].id;
        let page = runtime.tasks().show(&alice, task).await.unwrap();
        assert!(page.may_complete, "{backend}: alice's page offers Complete");

        // Bob's claim is held at the brink of its commit (the first command
        // to reach it); alice's completion starts meanwhile.
        let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(Some((held_tx, go_rx))));
        runtime.set_before_commit(Some(Arc::new(move |_| {
            let next = gate.lock().unwrap().take();
            Box::pin(async move {
                if let Some((held, go)) = next {
                    let _ = held.send(());
                    let _ = go.await;
                }
            })
        })));
        let claim = {
            let runtime = runtime.clone();
            let bob = bob.clone();
            tokio::spawn(async move { runtime.tasks().claim(&bob, task).await })
        };
        held_rx.await.unwrap();
        let completion = {
            let runtime = runtime.clone();
            let alice = alice.clone();
            tokio::spawn(async move {
                runtime
                    .tasks()
                    .complete(&alice, task, Values::Json(obj(json!({"approved": true}))))
                    .await
            })
        };
        // Alice's command is now waiting for the instance (on SQLite for the
        // write lock, on PostgreSQL for the row lock) behind bob's.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!completion.is_finished(), "{backend}: the completion waits for the lock");
        go_tx.send(()).unwrap();
        claim.await.unwrap().unwrap();
        let refused = completion.await.unwrap().unwrap_err();
        assert!(
            matches!(&refused, bpmn_engine::runtime::RuntimeError::Forbidden(m) if m.contains("claimed by bob")),
            "{backend}: {refused}"
        );
        runtime.set_before_commit(None);
        let (_, state) = runtime.instance(id).await.unwrap();
        let kinds: Vec<String> = runtime
            .store()
            .history(id)
            .await
            .unwrap()
            .iter()
            .map(|h| h.kind())
            .collect();
        assert!(
            kinds.contains(&"task_assigned".to_string()) && !kinds.contains(&"task_completed".to_string()),
            "{backend}: bob's claim was written, alice's completion was not: {kinds:?}"
        );
        assert!(!state.root_variables().contains_key("approved"));
        let t = runtime.store().task(task).await.unwrap().unwrap();
        assert_eq!((t.state.as_str(), t.assignee.as_deref()), ("open", Some("bob")));
        // Bob completes it.
        runtime
            .tasks()
            .complete(&bob, task, Values::Json(obj(json!({"approved": false}))))
            .await
            .unwrap();
        let t = runtime.store().task(task).await.unwrap().unwrap();
        assert_eq!((t.state.as_str(), t.completed_by.as_deref()), ("completed", Some("bob")));
    })
    .await;
}
