//! Camunda 7's REST surface (`/engine-rest`) over real HTTP: authentication
//! (Basic with a password or an API token, bearer tokens), Camunda's JSON
//! shapes and error bodies for the external task routes, typed variables,
//! long polling, and the official JavaScript client running a real worker.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::app::TestApp;
use crate::common::rt;
use crate::common::*;
use bpmn_engine::runtime::{NewUser, Principal, Role, StartRequest, Values};

/// The version of Camunda's JavaScript client the worker test runs.
const JS_CLIENT: &str = "camunda-external-task-client-js@3.1.0";

/// A caller of `/engine-rest` with an `Authorization` header of its own.
struct Rest {
    base: String,
    auth: Option<String>,
    client: reqwest::Client,
}

fn basic(name: &str, secret: &str) -> String {
    // Standard base64, written here to keep the test independent of the server's decoder.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{name}:{secret}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

impl Rest {
    fn new(app: &TestApp, auth: Option<String>) -> Rest {
        Rest {
            base: format!("{}/engine-rest", app.base),
            auth,
            client: reqwest::Client::new(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> Reply {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(a) = &self.auth {
            r = r.header("authorization", a);
        }
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let www = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await.unwrap();
        Reply {
            status,
            www,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(&body.to_string()))
            .await
    }
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    www: Option<String>,
    content_type: Option<String>,
    body: Value,
}

impl Reply {
    /// Camunda's error body: exactly `type` and `message`.
    fn error(&self, status: StatusCode, kind: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["type"], json!(kind), "{self:?}");
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{self:?}"
        );
        let keys: Vec<&String> = self.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["message", "type"], "{self:?}");
    }
}

async fn account(app: &TestApp, name: &str, role: Role) -> String {
    app.runtime
        .accounts()
        .create_user(
            &rt::admin(None),
            &NewUser {
                name: name.into(),
                password: format!("{name}-password"),
                groups: vec![],
                role,
            },
        )
        .await
        .unwrap();
    let user = app.runtime.user_named(name).await.unwrap().unwrap();
    app.runtime.create_token(user.id, "tests").await.unwrap().1
}

/// greet → flaky → slow → charge → end; an error `NO_CREDIT` on charge leads
/// to the user task `review`.
fn worker_process() -> String {
    definitions(&format!(
        r#"<bpmn:process id="orders" name="Orders" isExecutable="true">
<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="greet" camunda:type="external" camunda:topic="greet"/>
<bpmn:serviceTask id="flaky" camunda:type="external" camunda:topic="flaky"/>
<bpmn:serviceTask id="slow" camunda:type="external" camunda:topic="slow"/>
<bpmn:serviceTask id="charge" camunda:type="external" camunda:topic="charge"/>
<bpmn:boundaryEvent id="declined" attachedToRef="charge"><bpmn:errorEventDefinition errorRef="E" camunda:errorCodeVariable="code"/></bpmn:boundaryEvent>
<bpmn:userTask id="review" camunda:candidateUsers="admin"/>
<bpmn:endEvent id="e"/>
{}{}{}{}{}{}
</bpmn:process>
<bpmn:error id="E" errorCode="NO_CREDIT"/>"#,
        flow("f0", "s", "greet"),
        flow("f1", "greet", "flaky"),
        flow("f2", "flaky", "slow"),
        flow("f3", "slow", "charge"),
        flow("f4", "charge", "e"),
        flow("f5", "declined", "review"),
    ))
}

/// One external task `bill` (topic `billing`), then a user task.
fn billing() -> String {
    definitions(&format!(
        r#"<bpmn:process id="billing" isExecutable="true">
<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="bill" name="Bill" camunda:type="external" camunda:topic="billing"/>
<bpmn:boundaryEvent id="caught" attachedToRef="bill"><bpmn:errorEventDefinition errorRef="E" camunda:errorCodeVariable="code"/></bpmn:boundaryEvent>
<bpmn:userTask id="after" camunda:candidateUsers="admin"/>
<bpmn:userTask id="handle" camunda:candidateUsers="admin"/>
{}{}{}
</bpmn:process>
<bpmn:error id="E" errorCode="NO_CREDIT"/>"#,
        flow("f0", "s", "bill"),
        flow("f1", "bill", "after"),
        flow("f2", "caught", "handle"),
    ))
}

async fn start(app: &TestApp, key: &str, vars: Value, business_key: Option<&str>) -> Uuid {
    app.runtime
        .deployments()
        .start(
            &rt::admin(None),
            StartRequest {
                key: key.into(),
                version: None,
                values: Values::Json(obj(vars)),
                business_key: business_key.map(str::to_string),
            },
        )
        .await
        .unwrap()
        .instance_id
}

async fn deploy(app: &TestApp, name: &str, xml: &str) {
    app.runtime
        .deployments()
        .deploy(&rt::admin(None), name, xml.as_bytes())
        .await
        .unwrap();
}

fn admin() -> Principal {
    rt::admin(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_and_bearer_authentication_and_the_engine_routes() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    let token = account(&app, "svc", Role::Worker).await;
    let other = account(&app, "bob", Role::User).await;

    let anonymous = Rest::new(&app, None).get("/engine").await;
    anonymous.error(StatusCode::UNAUTHORIZED, "AuthenticationException");
    assert!(anonymous.www.as_deref().unwrap().starts_with("Basic"));

    for auth in [
        basic("svc", "svc-password"),
        basic("svc", &token),
        format!("Bearer {token}"),
    ] {
        let r = Rest::new(&app, Some(auth.clone())).get("/engine").await;
        assert_eq!(r.status, StatusCode::OK, "{auth}: {r:?}");
        assert_eq!(r.body, json!([{"name": "default"}]));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let v = Rest::new(&app, Some(auth)).get("/version").await;
        assert_eq!(v.body, json!({"version": "7.22.0"}));
    }
    for wrong in [
        basic("svc", "nope"),
        basic("svc", &other),
        basic("nobody", "x"),
        "Bearer nope".to_string(),
        "Basic !!!".to_string(),
        "Digest x".to_string(),
    ] {
        let r = Rest::new(&app, Some(wrong.clone())).get("/engine").await;
        r.error(StatusCode::UNAUTHORIZED, "AuthenticationException");
        assert!(r.www.as_deref().unwrap().starts_with("Basic"), "{wrong}");
    }
    // Wrong passwords count: after a few, the account must wait.
    let mut throttled = false;
    for _ in 0..12 {
        let r = Rest::new(&app, Some(basic("bob", "guess")))
            .get("/engine")
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            r.error(StatusCode::TOO_MANY_REQUESTS, "AuthenticationException");
            throttled = true;
            break;
        }
        r.error(StatusCode::UNAUTHORIZED, "AuthenticationException");
    }
    assert!(throttled, "password guessing over Basic is throttled");

    let svc = Rest::new(&app, Some(basic("svc", &token)));
    svc.get("/no/such/thing")
        .await
        .error(StatusCode::NOT_FOUND, "RestException");
    // A user account may not fetch work, as in /api/v1.
    let bob = Rest::new(&app, Some(format!("Bearer {other}")));
    bob.post(
        "/external-task/fetchAndLock",
        json!({"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "billing", "lockDuration": 1000}]}),
    )
    .await
    .error(StatusCode::FORBIDDEN, "AuthorizationException");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_tasks_answer_in_camundas_shapes() {
    for app in TestApp::each().await {
        let token = account(&app, "svc", Role::Worker).await;
        let svc = Rest::new(&app, Some(basic("svc", &token)));
        deploy(&app, "billing.bpmn", &billing()).await;
        let id = start(
            &app,
            "billing",
            json!({"name": "Ada", "amount": 42, "big": 5_000_000_000i64, "ratio": 0.5,
                   "vip": true, "note": null, "customer": {"tier": "gold"}}),
            Some("ORDER-1"),
        )
        .await;

        // Nothing for another process or business key.
        for filter in [
            json!({"processDefinitionKey": "other"}),
            json!({"businessKey": "ORDER-2"}),
        ] {
            let mut topic = json!({"topicName": "billing", "lockDuration": 10000});
            topic
                .as_object_mut()
                .unwrap()
                .extend(filter.as_object().unwrap().clone());
            let r = svc
                .post(
                    "/external-task/fetchAndLock",
                    json!({"workerId": "w1", "maxTasks": 5, "topics": [topic]}),
                )
                .await;
            assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!([])));
        }

        // Camunda's client sends fields of its own: they are ignored, as Camunda does.
        let r = svc
            .post(
                "/external-task/fetchAndLock",
                json!({"workerId": "w1", "maxTasks": 5, "usePriority": true, "asyncResponseTimeout": 100,
                       "someFutureField": 1,
                       "topics": [{"topicName": "billing", "lockDuration": 10000, "businessKey": "ORDER-1",
                                   "processDefinitionKey": "billing", "deserializeValues": true,
                                   "includeExtensionProperties": true, "withoutTenantId": false}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let tasks = r.body.as_array().unwrap();
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        let mut keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "activityId",
                "activityInstanceId",
                "businessKey",
                "errorDetails",
                "errorMessage",
                "executionId",
                "extensionProperties",
                "id",
                "lockExpirationTime",
                "priority",
                "processDefinitionId",
                "processDefinitionKey",
                "processDefinitionVersionTag",
                "processInstanceId",
                "retries",
                "suspended",
                "tenantId",
                "topicName",
                "variables",
                "workerId",
            ]
        );
        assert_eq!(t["activityId"], json!("bill"));
        assert_eq!(t["processInstanceId"], json!(id.to_string()));
        assert_eq!(t["processDefinitionKey"], json!("billing"));
        assert_eq!(t["businessKey"], json!("ORDER-1"));
        assert_eq!(t["workerId"], json!("w1"));
        assert_eq!(t["topicName"], json!("billing"));
        assert_eq!(t["suspended"], json!(false));
        assert_eq!(t["tenantId"], Value::Null);
        assert_eq!(t["retries"], Value::Null);
        assert_eq!(t["errorMessage"], Value::Null);
        assert_eq!(t["priority"], json!(0));
        assert_eq!(t["extensionProperties"], json!({}));
        let lock = t["lockExpirationTime"].as_str().unwrap();
        assert!(
            lock.len() == 28 && lock.ends_with("+0000") && lock.as_bytes()[19] == b'.',
            "yyyy-MM-dd'T'HH:mm:ss.SSSZ: {lock}"
        );
        let v = &t["variables"];
        assert_eq!(
            v["name"],
            json!({"type": "String", "value": "Ada", "valueInfo": {}})
        );
        assert_eq!(
            v["amount"],
            json!({"type": "Integer", "value": 42, "valueInfo": {}})
        );
        assert_eq!(v["big"]["type"], json!("Long"));
        assert_eq!(v["ratio"]["type"], json!("Double"));
        assert_eq!(v["vip"]["type"], json!("Boolean"));
        assert_eq!(
            v["note"],
            json!({"type": "Null", "value": null, "valueInfo": {}})
        );
        assert_eq!(
            v["customer"],
            json!({"type": "Json", "value": "{\"tier\":\"gold\"}", "valueInfo": {}})
        );
        let task = t["id"].as_str().unwrap().to_string();

        // Locked: a second worker gets nothing; unlock gives it back.
        let fetch2 = json!({"workerId": "w2", "maxTasks": 5,
                            "topics": [{"topicName": "billing", "lockDuration": 10000, "variables": ["name"]}]});
        let r = svc
            .post("/external-task/fetchAndLock", fetch2.clone())
            .await;
        assert_eq!(r.body, json!([]));
        svc.post(
            &format!("/external-task/{task}/lock"),
            json!({"workerId": "w2", "lockDuration": 1000}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        let r = svc
            .post(
                &format!("/external-task/{task}/lock"),
                json!({"workerId": "w1", "lockDuration": 20000}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        // The list and the count, with Camunda's filters.
        let r = svc
            .get("/external-task?locked=true&topicName=billing")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let listed = r.body.as_array().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], json!(task));
        assert_eq!(listed[0]["workerId"], json!("w1"));
        assert_eq!(listed[0]["activityId"], json!("bill"));
        assert_eq!(listed[0]["businessKey"], json!("ORDER-1"));
        assert_eq!(listed[0]["suspended"], json!(false));
        assert!(listed[0].get("variables").is_none());
        assert_eq!(
            svc.get(&format!(
                "/external-task/count?workerId=w1&processInstanceId={id}"
            ))
            .await
            .body,
            json!({"count": 1})
        );
        assert_eq!(
            svc.get("/external-task/count?notLocked=true").await.body,
            json!({"count": 0})
        );
        assert_eq!(svc.get("/external-task?workerId=w2").await.body, json!([]));
        let r = svc.get("/external-task?activityId=bill").await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        assert!(r.body["message"].as_str().unwrap().contains("activityId"));
        svc.get("/external-task?locked=yes")
            .await
            .error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        let r = svc
            .post(&format!("/external-task/{task}/unlock"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let r = svc.post("/external-task/fetchAndLock", fetch2).await;
        assert_eq!(r.body[0]["workerId"], json!("w2"));
        assert_eq!(
            r.body[0]["variables"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["name"],
            "only the variables asked for"
        );

        // Mistakes, in Camunda's words.
        svc.send(
            reqwest::Method::POST,
            "/external-task/fetchAndLock",
            Some("{not json"),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        svc.post(
            "/external-task/fetchAndLock",
            json!({"workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 1_800_001,
                   "topics": [{"topicName": "billing", "lockDuration": 1000}]}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        svc.post(
            "/external-task/fetchAndLock",
            json!({"workerId": "w", "maxTasks": "x"}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        let r = svc
            .post(
                "/external-task/fetchAndLock",
                json!({"workerId": "w", "maxTasks": 1,
                       "topics": [{"topicName": "billing", "lockDuration": 1000, "tenantIdIn": ["t1"]}]}),
            )
            .await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        assert!(r.body["message"].as_str().unwrap().contains("tenantIdIn"));
        svc.post(
            &format!("/external-task/{task}/complete"),
            json!({"workerId": "w1"}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "BadUserRequestException");
        svc.post(
            &format!("/external-task/{task}/extendLock"),
            json!({"workerId": "w1", "newDuration": 1000}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "BadUserRequestException");
        for missing in [Uuid::new_v4().to_string(), "nope".to_string()] {
            svc.post(
                &format!("/external-task/{missing}/complete"),
                json!({"workerId": "w2"}),
            )
            .await
            .error(StatusCode::NOT_FOUND, "RestException");
        }
        let r = svc
            .post(
                &format!("/external-task/{task}/complete"),
                json!({"workerId": "w2", "variables": {"scan": {"type": "Bytes", "value": "aGk="}}}),
            )
            .await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        assert!(
            r.body["message"].as_str().unwrap().contains("'scan'"),
            "{r:?}"
        );
        let r = svc
            .post(
                &format!("/external-task/{task}/complete"),
                json!({"workerId": "w2", "variables": {"n": {"type": "Integer", "value": 3_000_000_000i64}}}),
            )
            .await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");

        // Extend, then complete with typed variables: 204, and plain JSON inside.
        let r = svc
            .post(
                &format!("/external-task/{task}/extendLock"),
                json!({"workerId": "w2", "newDuration": 60000}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let r = svc
            .post(
                &format!("/external-task/{task}/complete"),
                json!({"workerId": "w2", "extra": true, "variables": {
                    "total": {"type": "Long", "value": 5_000_000_000i64},
                    "paid": {"type": "Boolean", "value": true},
                    "when": {"type": "Date", "value": "2013-06-30T21:33:31.000+0200"},
                    "doc": {"type": "Json", "value": "{\"lines\":[1,2]}"},
                    "obj": {"type": "Object", "value": "{\"a\":1}",
                            "valueInfo": {"objectTypeName": "java.util.HashMap", "serializationDataFormat": "application/json"}},
                    "short": {"type": "Short", "value": 7},
                    "nothing": {"type": "Null", "value": null},
                    "plain": {"value": "text"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        assert_eq!(r.body, json!(""));
        let shown = app.runtime.instances().show(&admin(), id).await.unwrap();
        let vars = &shown.variables;
        assert_eq!(vars["total"], json!(5_000_000_000i64));
        assert_eq!(vars["paid"], json!(true));
        assert_eq!(vars["when"], json!("2013-06-30T19:33:31.000Z"));
        assert_eq!(vars["doc"], json!({"lines": [1, 2]}));
        assert_eq!(vars["obj"], json!({"a": 1}));
        assert_eq!(vars["short"], json!(7));
        assert_eq!(vars["nothing"], Value::Null);
        assert_eq!(vars["plain"], json!("text"));
        assert_eq!(
            shown
                .active
                .iter()
                .map(|a| a.element.as_str())
                .collect::<Vec<_>>(),
            ["after"]
        );
        // Completed: the task is gone.
        svc.post(
            &format!("/external-task/{task}/complete"),
            json!({"workerId": "w2"}),
        )
        .await
        .error(StatusCode::NOT_FOUND, "RestException");

        // A failure with retries comes back with its message and details; with
        // none left it is an incident. A BPMN error is caught by the boundary event.
        let id2 = start(&app, "billing", json!({}), None).await;
        let fetch = json!({"workerId": "w3", "maxTasks": 1,
                           "topics": [{"topicName": "billing", "lockDuration": 10000}]});
        let t2 = svc
            .post("/external-task/fetchAndLock", fetch.clone())
            .await
            .body[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = svc
            .post(
                &format!("/external-task/{t2}/failure"),
                json!({"workerId": "w3", "errorMessage": "down", "errorDetails": "stack", "retries": 2, "retryTimeout": 0}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let again = svc
            .post("/external-task/fetchAndLock", fetch.clone())
            .await
            .body[0]
            .clone();
        assert_eq!(again["id"], json!(t2));
        assert_eq!(again["retries"], json!(2));
        assert_eq!(again["errorMessage"], json!("down"));
        assert_eq!(again["errorDetails"], json!("stack"));
        let r = svc
            .post(
                &format!("/external-task/{t2}/bpmnError"),
                json!({"workerId": "w3", "errorCode": "NO_CREDIT", "errorMessage": "declined",
                       "variables": {"reason": {"value": "limit", "type": "String"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let shown = app.runtime.instances().show(&admin(), id2).await.unwrap();
        assert_eq!(shown.variables["code"], json!("NO_CREDIT"));
        assert_eq!(shown.variables["reason"], json!("limit"));
        assert_eq!(shown.active[0].element, "handle");

        let id3 = start(&app, "billing", json!({}), None).await;
        let t3 = svc
            .post("/external-task/fetchAndLock", fetch.clone())
            .await
            .body[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = svc
            .post(
                &format!("/external-task/{t3}/failure"),
                json!({"workerId": "w3", "errorMessage": "gone for good", "retries": 0}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let shown = app.runtime.instances().show(&admin(), id3).await.unwrap();
        assert_eq!(shown.instance.status, "incident");
        assert!(shown.incidents[0].message.contains("gone for good"));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_and_lock_waits_for_work_up_to_the_async_response_timeout() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    let token = account(&app, "svc", Role::Worker).await;
    let svc = Rest::new(&app, Some(format!("Bearer {token}")));
    deploy(&app, "billing.bpmn", &billing()).await;
    let body = json!({"workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 10000,
                      "topics": [{"topicName": "billing", "lockDuration": 10000}]});
    let runtime = app.runtime.clone();
    let started = std::time::Instant::now();
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        runtime
            .deployments()
            .start(
                &admin(),
                StartRequest {
                    key: "billing".into(),
                    version: None,
                    values: Values::Json(Default::default()),
                    business_key: None,
                },
            )
            .await
            .unwrap();
    });
    let r = svc.post("/external-task/fetchAndLock", body.clone()).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken by the work"
    );
    starter.await.unwrap();
    let started = std::time::Instant::now();
    let mut short = body;
    short["asyncResponseTimeout"] = json!(400);
    let r = svc.post("/external-task/fetchAndLock", short).await;
    assert_eq!(r.body, json!([]));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    app.stop().await;
}

/// Installs Camunda's JavaScript client once (in `target/npm-clients`), or
/// says why it cannot.
fn js_client() -> Result<std::path::PathBuf, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/npm-clients");
    let installed = dir.join("node_modules/camunda-external-task-client-js/package.json");
    let version = JS_CLIENT.rsplit('@').next().unwrap_or_default();
    let has = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .map(|t| t.contains(&format!("\"version\": \"{version}\"")))
            .unwrap_or(false)
    };
    for tool in ["node", "npm"] {
        let ok = std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Err(format!("{tool} is not installed"));
        }
    }
    if !has(&installed) {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let out = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(JS_CLIENT)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() || !has(&installed) {
            return Err(format!(
                "npm install {JS_CLIENT} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(dir)
}

/// Camunda's own JavaScript client, unchanged but for its base URL and
/// credentials: typed variables both ways, a failure with retries, a BPMN
/// error caught by a boundary event and an extended lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camundas_javascript_client_runs_a_worker_unchanged() {
    let dir = match js_client() {
        Ok(d) => d,
        Err(why) => {
            println!("SKIPPED: the JavaScript client cannot run here: {why}");
            return;
        }
    };
    for app in TestApp::each().await {
        let password_worker = app.backend == "sqlite";
        let token = account(&app, "svc", Role::Worker).await;
        deploy(&app, "orders.bpmn", &worker_process()).await;
        let id = start(
            &app,
            "orders",
            json!({"name": "Ada", "amount": 21, "customer": {"tier": "gold"}}),
            Some("ORDER-7"),
        )
        .await;
        let secret = if password_worker {
            "svc-password".to_string()
        } else {
            token
        };
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/camunda/worker.js");
        let mut child = std::process::Command::new("node")
            .arg(&script)
            .env("ENGINE_REST", format!("{}/engine-rest", app.base))
            .env("ENGINE_USER", "svc")
            .env("ENGINE_SECRET", &secret)
            .env("CLIENT_DIR", &dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stdout}\n{stderr}");
        let events = json_lines(&stdout);
        let event = |name: &str| {
            events
                .iter()
                .find(|e| e["event"] == json!(name))
                .unwrap_or_else(|| panic!("no {name} in {stdout}"))
                .clone()
        };
        // The worker read the typed variables as Camunda's client presents them.
        let greet = event("greet");
        assert_eq!(greet["name"], json!("Ada"));
        assert_eq!(greet["amount"], json!(21));
        assert_eq!(greet["amountType"], json!("integer"));
        assert_eq!(greet["customer"], json!({"tier": "gold"}));
        let retried = event("flaky retried");
        assert_eq!(retried["retries"], json!(1));
        assert_eq!(
            retried["errorMessage"],
            json!("the printer is out of paper")
        );
        event("slow completed");
        event("charge declined");

        let shown = app.runtime.instances().show(&admin(), id).await.unwrap();
        let v = &shown.variables;
        assert_eq!(v["greeting"], json!("Hello Ada"));
        assert_eq!(v["doubled"], json!(42));
        assert_eq!(v["big"], json!(5_000_000_000i64));
        assert_eq!(v["ratio"], json!(0.25));
        assert_eq!(v["vip"], json!(true));
        assert_eq!(v["tags"], json!(["a", "b"]));
        assert_eq!(v["due"], json!("2024-01-02T03:04:05.678Z"));
        assert_eq!(v["flakyRetries"], json!(1));
        assert_eq!(v["flakyError"], json!("the printer is out of paper"));
        assert_eq!(v["code"], json!("NO_CREDIT"));
        assert_eq!(v["declineReason"], json!("limit"));
        assert_eq!(shown.instance.status, "active");
        assert_eq!(
            shown
                .active
                .iter()
                .map(|a| a.element.as_str())
                .collect::<Vec<_>>(),
            ["review"],
            "the boundary event caught the worker's BPMN error"
        );
        let history = app.runtime.instances().history(&admin(), id).await.unwrap();
        for element in ["greet", "flaky", "slow"] {
            assert!(
                history
                    .iter()
                    .any(|h| h.element.as_deref() == Some(element) && h.kind.contains("complet")),
                "{element} completed: {history:#?}"
            );
        }
        assert!(
            !history.iter().any(|h| h.element.as_deref() == Some("e")),
            "the normal end was not reached"
        );
        app.stop().await;
    }
}

/// The version of Camunda's Python client the worker test runs.
const PY_CLIENT: &str = "camunda-external-task-client-python3==4.5.0";

/// The client imports pydantic without declaring it: installed beside it.
const PY_PYDANTIC: &str = "pydantic==2.13.4";

/// Installs Camunda's Python client once (in `target/py-clients`), or says
/// why it cannot.
fn py_client() -> Result<std::path::PathBuf, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-clients");
    let version = PY_CLIENT.rsplit("==").next().unwrap_or_default();
    let marker = dir.join(format!(
        "camunda_external_task_client_python3-{version}.dist-info"
    ));
    let works = |dir: &std::path::Path| {
        std::process::Command::new("python3")
            .env("PYTHONPATH", dir)
            .args(["-c", "import camunda.external_task.external_task_worker"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err("python3 is not installed".into());
    }
    if !marker.exists() {
        let out = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&dir)
            .arg(PY_CLIENT)
            .arg(PY_PYDANTIC)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() || !marker.exists() {
            return Err(format!(
                "pip install {PY_CLIENT} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    if !works(&dir) {
        return Err(format!(
            "{PY_CLIENT} does not import, even with {PY_PYDANTIC} beside it"
        ));
    }
    Ok(dir)
}

/// Camunda's own Python client, unchanged but for its base URL and
/// credentials: typed variables read, variables written, a failure with a
/// retry and a BPMN error caught by a boundary event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camundas_python_client_runs_a_worker_unchanged() {
    let dir = match py_client() {
        Ok(d) => d,
        Err(why) => {
            println!("SKIPPED: the Python client cannot run here: {why}");
            return;
        }
    };
    for app in TestApp::each().await {
        let token = account(&app, "svc", Role::Worker).await;
        deploy(&app, "orders.bpmn", &worker_process()).await;
        let id = start(
            &app,
            "orders",
            json!({"name": "Ada", "amount": 21, "customer": {"tier": "gold"}}),
            None,
        )
        .await;
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/camunda/worker.py");
        let mut child = std::process::Command::new("python3")
            .arg(&script)
            .env("PYTHONPATH", &dir)
            .env("ENGINE_REST", format!("{}/engine-rest", app.base))
            .env("ENGINE_USER", "svc")
            .env("ENGINE_SECRET", &token)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stdout}\n{stderr}");
        let events = json_lines(&stdout);
        let event = |name: &str| {
            events
                .iter()
                .find(|e| e["event"] == json!(name))
                .unwrap_or_else(|| panic!("no {name} in {stdout}"))
                .clone()
        };
        let greet = event("greet");
        assert_eq!(greet["name"], json!("Ada"));
        assert_eq!(greet["amount"], json!(21));
        assert_eq!(greet["amountType"], json!("Integer"));
        let retried = event("flaky retried");
        assert_eq!(retried["retries"], json!(1));
        assert_eq!(
            retried["errorMessage"],
            json!("the printer is out of paper")
        );
        event("charge declined");
        let shown = app.runtime.instances().show(&admin(), id).await.unwrap();
        let v = &shown.variables;
        assert_eq!(v["greeting"], json!("Hello Ada"));
        assert_eq!(v["doubled"], json!(42));
        assert_eq!(v["vip"], json!(true));
        assert_eq!(v["flakyRetries"], json!(1));
        assert_eq!(v["code"], json!("NO_CREDIT"));
        assert_eq!(
            shown
                .active
                .iter()
                .map(|a| a.element.as_str())
                .collect::<Vec<_>>(),
            ["review"],
            "the boundary event caught the worker's BPMN error"
        );
        app.stop().await;
    }
}

/// Waits for the message `paid`, then the signal `alarm`.
fn waiting() -> String {
    definitions(&format!(
        r#"<bpmn:process id="waits" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:receiveTask id="r" messageRef="M_paid"/>
<bpmn:intermediateCatchEvent id="alarm"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e"/>{}{}{}
</bpmn:process>
<bpmn:signal id="S_alarm" name="alarm"/><bpmn:message id="M_paid" name="paid"/>"#,
        flow("f0", "s", "r"),
        flow("f1", "r", "alarm"),
        flow("f2", "alarm", "e"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_by_key_messages_and_signals_in_camundas_shapes() {
    for app in TestApp::each().await {
        let token = account(&app, "svc", Role::Worker).await;
        let admin_rest = Rest::new(&app, Some(basic("admin", "admin-password")));
        deploy(&app, "waits.bpmn", &waiting()).await;
        let r = admin_rest
            .post(
                "/process-definition/key/waits/start",
                json!({"businessKey": "B-1", "withVariablesInReturn": true, "skipCustomListeners": false,
                       "variables": {"amount": {"value": 5, "type": "Integer"},
                                     "when": {"value": "2024-01-02T03:04:05.678+0100", "type": "Date"},
                                     "doc": {"value": "{\"a\":1}", "type": "Json"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let mut keys: Vec<&str> = r
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "businessKey",
                "caseInstanceId",
                "definitionId",
                "ended",
                "id",
                "links",
                "suspended",
                "tenantId",
                "variables"
            ]
        );
        let first: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(r.body["businessKey"], json!("B-1"));
        assert_eq!(r.body["ended"], json!(false));
        assert_eq!(r.body["links"][0]["rel"], json!("self"));
        assert!(
            r.body["links"][0]["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/engine-rest/process-instance/{first}"))
        );
        assert_eq!(
            r.body["variables"]["amount"],
            json!({"type": "Integer", "value": 5, "valueInfo": {}})
        );
        assert_eq!(
            r.body["variables"]["when"],
            json!({"type": "Date", "value": "2024-01-02T02:04:05.678+0000", "valueInfo": {}})
        );
        assert_eq!(r.body["variables"]["doc"]["type"], json!("Json"));

        let r = admin_rest
            .post("/process-definition/key/waits/start", json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(r.body.get("variables").is_none());
        let second: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
        admin_rest
            .post("/process-definition/key/nope/start", json!({}))
            .await
            .error(StatusCode::NOT_FOUND, "RestException");
        admin_rest
            .post(
                "/process-definition/key/waits/start",
                json!({"variables": {"f": {"value": "", "type": "File"}}}),
            )
            .await
            .error(StatusCode::BAD_REQUEST, "InvalidRequestException");

        // A worker account correlates by business key; the variables arrive.
        let svc = Rest::new(&app, Some(basic("svc", &token)));
        let paid = json!({"messageName": "paid", "businessKey": "B-1",
                          "processVariables": {"paid": {"value": true, "type": "Boolean"}}});
        let r = svc.post("/message", paid.clone()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let shown = app.runtime.instances().show(&admin(), first).await.unwrap();
        assert_eq!(shown.variables["paid"], json!(true));
        assert_eq!(shown.active[0].element, "alarm");
        svc.post("/message", paid)
            .await
            .error(StatusCode::BAD_REQUEST, "RestException");
        let r = svc
            .post(
                "/message",
                json!({"messageName": "paid", "processInstanceId": second, "resultEnabled": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body[0]["resultType"], json!("Execution"));
        assert_eq!(
            r.body[0]["execution"]["processInstanceId"],
            json!(second.to_string())
        );
        svc.post("/message", json!({"businessKey": "B-1"}))
            .await
            .error(StatusCode::BAD_REQUEST, "InvalidRequestException");

        let r = svc
            .post(
                "/signal",
                json!({"name": "alarm", "variables": {"level": {"value": 3, "type": "Short"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        for id in [first, second] {
            let shown = app.runtime.instances().show(&admin(), id).await.unwrap();
            assert_eq!(shown.instance.status, "completed");
        }
        svc.post("/signal", json!({"name": "alarm", "executionId": "x"}))
            .await
            .error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        app.stop().await;
    }
}

/// Every route asks who calls; the external task routes are for workers and
/// admins, as in `/api/v1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_needs_credentials_and_external_tasks_need_a_worker() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    let user = account(&app, "bob", Role::User).await;
    let task = Uuid::new_v4();
    let routes = [
        ("GET", "/engine".to_string(), false),
        ("GET", "/version".to_string(), false),
        ("GET", "/external-task".to_string(), true),
        ("GET", "/external-task/count".to_string(), true),
        ("POST", "/external-task/fetchAndLock".to_string(), true),
        ("POST", format!("/external-task/{task}/complete"), true),
        ("POST", format!("/external-task/{task}/failure"), true),
        ("POST", format!("/external-task/{task}/bpmnError"), true),
        ("POST", format!("/external-task/{task}/extendLock"), true),
        ("POST", format!("/external-task/{task}/unlock"), true),
        ("POST", format!("/external-task/{task}/lock"), true),
        ("POST", "/process-definition/key/x/start".to_string(), false),
        ("POST", "/message".to_string(), false),
        ("POST", "/signal".to_string(), false),
        ("GET", "/deployment".to_string(), false),
        ("GET", "/deployment/count".to_string(), false),
        ("GET", "/deployment/1".to_string(), false),
        ("GET", "/deployment/1/resources".to_string(), false),
        ("DELETE", "/deployment/1".to_string(), false),
        ("POST", "/deployment/create".to_string(), false),
    ];
    let body = json!({"workerId": "w", "maxTasks": 1, "errorCode": "E", "newDuration": 1000, "lockDuration": 1000,
                      "messageName": "m", "name": "s",
                      "topics": [{"topicName": "t", "lockDuration": 1000}]});
    for (method, path, worker_only) in routes {
        let method: reqwest::Method = method.parse().unwrap();
        let payload = (method == reqwest::Method::POST).then(|| body.to_string());
        Rest::new(&app, None)
            .send(method.clone(), &path, payload.as_deref())
            .await
            .error(StatusCode::UNAUTHORIZED, "AuthenticationException");
        let r = Rest::new(&app, Some(basic("bob", &user)))
            .send(method, &path, payload.as_deref())
            .await;
        if worker_only {
            r.error(StatusCode::FORBIDDEN, "AuthorizationException");
        } else {
            assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{path}: {r:?}");
            assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {r:?}");
        }
    }
    app.stop().await;
}

/// The process Camunda Modeler deploys in the tests: a start, a user task.
fn modeled(name: &str) -> String {
    definitions(&format!(
        r#"<bpmn:process id="modeled" name="{name}" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:userTask id="review" camunda:candidateUsers="admin"/>
<bpmn:endEvent id="e"/>{}{}
</bpmn:process>"#,
        flow("f0", "s", "review"),
        flow("f1", "review", "e"),
    ))
}

/// The boundary Chromium (Camunda Modeler is an Electron app) gives a
/// `FormData` body.
const BOUNDARY: &str = "----WebKitFormBoundaryq8dYx1GfZ4Ck2mPa";

/// The multipart body Camunda Modeler 5 sends for **Deploy** to a Camunda 7
/// engine (its `CamundaAPI.deployDiagram`): `deployment-name`,
/// `deployment-source: Camunda Modeler`, `deploy-changed-only: true`,
/// `tenant-id` only when one is set, then the diagram as a `text/xml` blob
/// whose part name and file name are the diagram's file name; encoded as
/// Chromium encodes a `FormData`.
fn modeler_body(deployment: &str, tenant: Option<&str>, file: &str, xml: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        out.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    };
    field("deployment-name", deployment);
    field("deployment-source", "Camunda Modeler");
    field("deploy-changed-only", "true");
    if let Some(t) = tenant {
        field("tenant-id", t);
    }
    out.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{file}\"; filename=\"{file}\"\r\nContent-Type: text/xml\r\n\r\n{xml}\r\n--{BOUNDARY}--\r\n"
    ));
    out.into_bytes()
}

impl Rest {
    /// Sends a body as Camunda Modeler does: multipart, and `Accept: application/json`.
    async fn modeler_deploy(&self, body: Vec<u8>) -> Reply {
        let mut r = self
            .client
            .post(format!("{}/deployment/create", self.base))
            .header("accept", "application/json")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body);
        if let Some(a) = &self.auth {
            r = r.header("authorization", a);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await.unwrap();
        Reply {
            status,
            www: None,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camunda_modeler_deploys_and_the_process_starts_by_key() {
    for app in TestApp::each().await {
        let rest = Rest::new(&app, Some(basic("admin", "admin-password")));
        // Modeler's connection check.
        let r = rest.get("/deployment?maxResults=0").await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body, json!([]));

        let r = rest
            .modeler_deploy(modeler_body(
                "modeled",
                None,
                "modeled.bpmn",
                &modeled("Modeled"),
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.content_type.as_deref(), Some("application/json"), "{r:?}");
        let id = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(r.body["name"], json!("modeled"));
        assert_eq!(r.body["source"], json!("Camunda Modeler"));
        assert_eq!(r.body["tenantId"], Value::Null);
        assert!(r.body["deploymentTime"].as_str().unwrap().contains('T'));
        assert_eq!(r.body["deployedDecisionDefinitions"], Value::Null);
        assert!(
            r.body["links"][0]["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/engine-rest/deployment/{id}")),
            "{r:?}"
        );
        let defs = r.body["deployedProcessDefinitions"].as_object().unwrap();
        assert_eq!(defs.len(), 1, "{r:?}");
        let (def_id, def) = defs.iter().next().unwrap();
        assert_eq!(def["id"], json!(def_id));
        assert_eq!(def["key"], json!("modeled"));
        assert_eq!(def["version"], json!(1));
        assert_eq!(def["deploymentId"], json!(id));
        assert_eq!(def["resource"], json!("modeled.bpmn"));

        // The deployment is listed, counted and read.
        let r = rest.get("/deployment").await;
        assert_eq!(r.body.as_array().unwrap().len(), 1, "{r:?}");
        assert_eq!(r.body[0]["id"], json!(id));
        let r = rest.get("/deployment?nameLike=%25deled%25").await;
        assert_eq!(r.body.as_array().unwrap().len(), 1, "{r:?}");
        let r = rest.get("/deployment?name=other.bpmn").await;
        assert_eq!(r.body, json!([]));
        let r = rest.get("/deployment/count").await;
        assert_eq!(r.body, json!({"count": 1}));
        let r = rest.get(&format!("/deployment/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["id"], json!(id));
        rest.get("/deployment/999999")
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        rest.get("/deployment?sortBy=name")
            .await
            .error(StatusCode::BAD_REQUEST, "InvalidRequestException");

        // Started by key, with typed variables.
        let r = rest
            .post(
                "/process-definition/key/modeled/start",
                json!({"withVariablesInReturn": true,
                       "variables": {"amount": {"value": 7, "type": "Integer"},
                                     "who": {"value": "ann", "type": "String"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["definitionId"], json!(def_id));
        assert_eq!(r.body["variables"]["amount"]["value"], json!(7));
        assert_eq!(r.body["variables"]["who"]["value"], json!("ann"));

        // Deploying it again unchanged (Modeler's deploy-changed-only): no new
        // version; the answer is the earlier deployment, nothing deployed.
        let r = rest
            .modeler_deploy(modeler_body(
                "modeled",
                Some(""),
                "modeled.bpmn",
                &modeled("Modeled"),
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["id"], json!(id));
        assert_eq!(r.body["deployedProcessDefinitions"], Value::Null, "{r:?}");
        assert_eq!(
            rest.get("/deployment/count").await.body,
            json!({"count": 1})
        );
        let versions = app
            .runtime
            .deployments()
            .versions(&admin(), "modeled")
            .await
            .unwrap();
        assert_eq!(versions.len(), 1);

        // Changed, it makes version 2 in a new deployment.
        let r = rest
            .modeler_deploy(modeler_body(
                "modeled",
                None,
                "modeled.bpmn",
                &modeled("Modeled again"),
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_ne!(r.body["id"], json!(id));
        let defs = r.body["deployedProcessDefinitions"].as_object().unwrap();
        assert_eq!(defs.values().next().unwrap()["version"], json!(2));
        assert_eq!(
            rest.get("/deployment/count").await.body,
            json!({"count": 2})
        );

        // Deployments are kept: deleting one is refused, saying why.
        let r = rest
            .send(reqwest::Method::DELETE, &format!("/deployment/{id}"), None)
            .await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        assert!(r.body["message"].as_str().unwrap().contains("keeps"));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_that_does_not_parse_or_is_not_allowed_stores_nothing() {
    for app in TestApp::each().await {
        let rest = Rest::new(&app, Some(basic("admin", "admin-password")));
        // A flow to an element that does not exist.
        let broken = definitions(&format!(
            r#"<bpmn:process id="broken" isExecutable="true">
<bpmn:startEvent id="s"/>{}
</bpmn:process>"#,
            flow("f0", "s", "nowhere"),
        ));
        let r = rest
            .modeler_deploy(modeler_body("broken", None, "broken.bpmn", &broken))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
        assert_eq!(r.body["type"], json!("ParseException"), "{r:?}");
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.contains("resource broken.bpmn | line "),
            "{message}"
        );
        assert!(message.contains("| column "), "{message}");
        assert!(message.contains("f0"), "{message}");
        let errors = r.body["details"]["broken.bpmn"]["errors"]
            .as_array()
            .unwrap();
        assert!(!errors.is_empty(), "{r:?}");
        assert!(errors[0]["line"].as_u64().unwrap() > 0, "{r:?}");
        assert!(errors[0]["column"].as_u64().is_some(), "{r:?}");
        assert!(
            errors.iter().any(|e| e["mainElementId"] == json!("f0")),
            "{r:?}"
        );
        assert_eq!(
            rest.get("/deployment/count").await.body,
            json!({"count": 0})
        );

        // Two files, one broken: neither is stored.
        let mut body =
            String::from_utf8(modeler_body("two", None, "ok.bpmn", &modeled("Ok"))).unwrap();
        body.truncate(body.len() - format!("--{BOUNDARY}--\r\n").len());
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"broken.bpmn\"; filename=\"broken.bpmn\"\r\nContent-Type: text/xml\r\n\r\n{broken}\r\n--{BOUNDARY}--\r\n"
        ));
        let r = rest.modeler_deploy(body.into_bytes()).await;
        assert_eq!(r.body["type"], json!("ParseException"), "{r:?}");
        assert_eq!(
            rest.get("/deployment/count").await.body,
            json!({"count": 0})
        );

        // A file that is neither BPMN, DMN nor a form is refused by name.
        let r = rest
            .modeler_deploy(modeler_body("notes", None, "notes.txt", "hello"))
            .await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        assert!(r.body["message"].as_str().unwrap().contains("notes.txt"));
        // A form that breaks the form-js schema is a parse error naming the property.
        let r = rest
            .modeler_deploy(modeler_body("form", None, "start.form", "{}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
        assert_eq!(r.body["type"], json!("ParseException"));
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("property id of the form is missing"),
            "{r:?}"
        );

        // A tenant is refused by name.
        let r = rest
            .modeler_deploy(modeler_body("t", Some("acme"), "ok.bpmn", &modeled("Ok")))
            .await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        assert!(r.body["message"].as_str().unwrap().contains("acme"));

        // Deploying is for administrators.
        let user = account(&app, "bob", Role::User).await;
        let r = Rest::new(&app, Some(basic("bob", &user)))
            .modeler_deploy(modeler_body("ok", None, "ok.bpmn", &modeled("Ok")))
            .await;
        r.error(StatusCode::FORBIDDEN, "AuthorizationException");
        Rest::new(&app, Some(basic("bob", &user)))
            .send(reqwest::Method::DELETE, "/deployment/1", None)
            .await
            .error(StatusCode::FORBIDDEN, "AuthorizationException");
        let worker = account(&app, "svc", Role::Worker).await;
        let r = Rest::new(&app, Some(basic("svc", &worker)))
            .modeler_deploy(modeler_body("ok", None, "ok.bpmn", &modeled("Ok")))
            .await;
        r.error(StatusCode::FORBIDDEN, "AuthorizationException");
        assert_eq!(
            rest.get("/deployment/count").await.body,
            json!({"count": 0})
        );
        app.stop().await;
    }
}
