//! The JSON API over real HTTP: authentication, every endpoint's success,
//! validation and authorization, paging limits, conflicts (completing twice, an
//! expired lock), messages, external workers, the old engine's routes, health
//! and metrics, and the OpenAPI document against the routes actually served.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::app::TestApp;
use crate::common::rt;
use crate::common::*;
use bpmn_engine::runtime::Role;

/// A program talking to the API with a token.
struct Api {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl Api {
    async fn as_user(app: &TestApp, name: &str) -> Api {
        let user = app.runtime.user_named(name).await.unwrap().unwrap();
        let (_, token) = app.runtime.create_token(user.id, "tests").await.unwrap();
        Api {
            base: app.base.clone(),
            token: Some(token),
            client: reqwest::Client::new(),
        }
    }

    fn anonymous(app: &TestApp) -> Api {
        Api {
            base: app.base.clone(),
            token: None,
            client: reqwest::Client::new(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::POST, path).json(&body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::PUT, path).json(&body)).await
    }

    async fn deploy_xml(&self, xml: &str) -> (StatusCode, Value) {
        Self::send(
            self.req(reqwest::Method::POST, "/api/v1/deployments?name=t.bpmn")
                .header("content-type", "application/xml")
                .body(xml.to_string()),
        )
        .await
    }
}

fn error_text(v: &Value) -> String {
    v["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["detail"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_tokens_and_sessions() {
    for app in TestApp::each().await {
        let anon = Api::anonymous(&app);
        let (s, body) = anon.get("/api/v1/definitions").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{}", app.backend);
        assert!(error_text(&body).contains("authentication required"));
        let raw = reqwest::get(format!("{}/api/v1/tasks", app.base))
            .await
            .unwrap();
        assert_eq!(raw.headers()["www-authenticate"], "Bearer");
        let bad = Api {
            token: Some("bpmn_nonsense".into()),
            ..Api::anonymous(&app)
        };
        assert_eq!(
            bad.get("/api/v1/definitions").await.0,
            StatusCode::UNAUTHORIZED
        );

        app.user("ann", &[]).await;
        let ann = Api::as_user(&app, "ann").await;
        assert_eq!(ann.get("/api/v1/definitions").await.0, StatusCode::OK);
        // Revoking, or disabling the user, ends the token.
        let ann_user = app.runtime.user_named("ann").await.unwrap().unwrap();
        let tokens = app.runtime.accounts().tokens(&ann_user).await.unwrap();
        app.runtime
            .accounts()
            .revoke_token(&ann_user, tokens[0].id)
            .await
            .unwrap();
        assert_eq!(
            ann.get("/api/v1/definitions").await.0,
            StatusCode::UNAUTHORIZED
        );
        let ann2 = Api::as_user(&app, "ann").await;
        app.runtime
            .accounts()
            .update_user(&rt::admin(None), ann_user.id, Role::User, true, &[])
            .await
            .unwrap();
        assert_eq!(
            ann2.get("/api/v1/definitions").await.0,
            StatusCode::UNAUTHORIZED,
            "{}",
            app.backend
        );

        // A browser session reads freely but writes only with the CSRF header.
        app.deploy_demo().await;
        let browser = app.login("admin", "admin-password").await;
        let cookie_client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let token = {
            // Log in with this client so that it holds the session cookie.
            let page = cookie_client
                .get(format!("{}/login", app.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let t = crate::common::app::csrf_of(&page).unwrap();
            cookie_client
                .post(format!("{}/login", app.base))
                .form(&[
                    ("name", "admin"),
                    ("password", "admin-password"),
                    ("csrf_token", &t),
                ])
                .send()
                .await
                .unwrap();
            let page = cookie_client
                .get(format!("{}/tasks", app.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            crate::common::app::csrf_of(&page).unwrap()
        };
        let _ = browser;
        let r = cookie_client
            .get(format!("{}/api/v1/definitions", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let no_header = cookie_client
            .post(format!("{}/api/v1/definitions/demo/start", app.base))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_header.status(), StatusCode::FORBIDDEN);
        let with_header = cookie_client
            .post(format!("{}/api/v1/definitions/demo/start", app.base))
            .header("x-csrf-token", token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(with_header.status(), StatusCode::CREATED);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_and_definitions() {
    for app in TestApp::each().await {
        let admin = Api::as_user(&app, "admin").await;
        let (s, body) = admin
            .deploy_xml(std::str::from_utf8(&demo_bytes()).unwrap())
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert_eq!(body["definitions"][0]["key"], "demo");
        assert_eq!(body["definitions"][0]["version"], 1);
        assert_eq!(body["definitions"][0]["created"], true);
        assert!(
            body["warnings"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("no implementation")
        );
        let (_, again) = admin
            .deploy_xml(std::str::from_utf8(&demo_bytes()).unwrap())
            .await;
        assert_eq!(again["definitions"][0]["created"], false);

        // Multipart works too.
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(demo_bytes()).file_name("other.bpmn"),
        );
        let r = admin
            .req(reqwest::Method::POST, "/api/v1/deployments")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);

        let broken = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:choreographyTask id="call"/>{}"#,
            flow("f", "s", "nowhere")
        ));
        let (s, body) = admin.deploy_xml(&broken).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.backend);
        let errors = body["errors"].as_array().unwrap();
        let call = errors.iter().find(|e| e["element"] == "call").unwrap();
        assert_eq!(
            (call["line"].as_u64(), call["column"].as_u64()),
            (Some(10), Some(26))
        );
        assert_eq!(call["kind"], "choreographyTask");
        assert_eq!(call["severity"], "unsupported");
        assert!(
            errors
                .iter()
                .any(|e| e["element"] == "f" && e["detail"].as_str().unwrap().contains("nowhere"))
        );

        app.user("ann", &[]).await;
        let ann = Api::as_user(&app, "ann").await;
        assert_eq!(
            ann.deploy_xml(&broken).await.0,
            StatusCode::FORBIDDEN,
            "a non-admin cannot deploy"
        );

        let (_, list) = ann.get("/api/v1/definitions").await;
        assert_eq!(list[0]["key"], "demo");
        assert_eq!(list[0]["latest_version"], 1);
        let (_, one) = ann.get("/api/v1/definitions/demo").await;
        assert_eq!(one["versions"][0]["version"], 1);
        assert_eq!(one["start_form"], json!([]));
        let xml = admin
            .req(reqwest::Method::GET, "/api/v1/definitions/demo/xml")
            .send()
            .await
            .unwrap();
        assert!(
            xml.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/xml")
        );
        assert!(
            xml.text()
                .await
                .unwrap()
                .contains("ParallelGateway_0vffee4")
        );
        let svg = admin
            .req(reqwest::Method::GET, "/api/v1/definitions/demo/svg")
            .send()
            .await
            .unwrap();
        assert_eq!(svg.headers()["content-type"], "image/svg+xml");
        let svg = svg.text().await.unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        // Standalone SVG that XML parsers (and ImageMagick) accept: one xmlns.
        crate::svg::assert_well_formed(&svg);
        assert_eq!(
            ann.get("/api/v1/definitions/nope").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ann.get("/api/v1/definitions/demo/xml?version=9").await.0,
            StatusCode::NOT_FOUND
        );
        app.stop().await;
    }
}

const FORM_START: &str = r#"<bpmn:startEvent id="s"><bpmn:extensionElements><camunda:formData>
<camunda:formField id="amount" type="long"><camunda:validation><camunda:constraint name="required"/><camunda:constraint name="max" config="1000"/></camunda:validation></camunda:formField>
</camunda:formData></bpmn:extensionElements></bpmn:startEvent>
<bpmn:userTask id="t" name="Check" camunda:candidateGroups="clerks"><bpmn:extensionElements><camunda:formData>
<camunda:formField id="ok" type="boolean"><camunda:validation><camunda:constraint name="required"/></camunda:validation></camunda:formField>
</camunda:formData></bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>"#;

fn form_process() -> String {
    process(&format!(
        "{FORM_START}{}{}",
        flow("f0", "s", "t"),
        flow("f1", "t", "e")
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_and_tasks() {
    for app in TestApp::each().await {
        app.runtime
            .deploy("p.bpmn", form_process().as_bytes(), None)
            .await
            .unwrap();
        app.user("clerk", &["clerks"]).await;
        app.user("other", &["others"]).await;
        let clerk = Api::as_user(&app, "clerk").await;
        let other = Api::as_user(&app, "other").await;
        let admin = Api::as_user(&app, "admin").await;

        let (s, body) = clerk
            .post(
                "/api/v1/definitions/p/start",
                json!({"variables": {"amount": 5000}}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.backend);
        assert_eq!(body["errors"][0]["field"], "amount");
        assert_eq!(
            clerk
                .post(
                    "/api/v1/definitions/p/start",
                    json!({"variables": {}, "bogus": 1})
                )
                .await
                .0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown fields are refused"
        );
        let (s, started) = clerk
            .post(
                "/api/v1/definitions/p/start",
                json!({"variables": {"amount": "250"}, "business_key": "INV-1"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(started["state"], "active");
        let id = started["id"].as_str().unwrap().to_string();

        let (_, page) = clerk.get("/api/v1/instances?business_key=INV-1").await;
        assert_eq!(page["items"][0]["id"], id.as_str());
        assert_eq!(page["total"], 1);
        let (_, by_var) = clerk.get("/api/v1/instances?var=amount:250").await;
        assert_eq!(by_var["items"].as_array().unwrap().len(), 1);
        let (_, none) = clerk
            .get("/api/v1/instances?var=amount:251&state=active")
            .await;
        assert_eq!(none["items"], json!([]));
        for bad in [
            "per_page=101",
            "page=0",
            "per_page=abc",
            "state=sleeping",
            "var=nocolon",
        ] {
            assert_eq!(
                clerk.get(&format!("/api/v1/instances?{bad}")).await.0,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{bad}"
            );
        }
        assert_eq!(
            other.get("/api/v1/instances").await.1["items"],
            json!([]),
            "other sees nothing"
        );
        assert_eq!(
            other.get(&format!("/api/v1/instances/{id}")).await.0,
            StatusCode::NOT_FOUND
        );

        let (_, detail) = clerk.get(&format!("/api/v1/instances/{id}")).await;
        assert_eq!(detail["state"], "active");
        assert_eq!(detail["variables"], json!({"amount": 250}));
        assert_eq!(detail["open_tasks"][0]["element_id"], "t");
        assert_eq!(detail["waiting"][0]["kind"], "user_task");
        let task = detail["open_tasks"][0]["id"].as_str().unwrap().to_string();

        let (_, mine) = clerk.get("/api/v1/tasks?assigned=me").await;
        assert_eq!(mine["items"], json!([]));
        let (_, claimable) = clerk.get("/api/v1/tasks?candidate=me").await;
        assert_eq!(claimable["items"][0]["id"], task.as_str());
        assert_eq!(
            clerk.get("/api/v1/tasks?per_page=0").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            clerk.get("/api/v1/tasks?assigned=me&candidate=me").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let (_, t) = clerk.get(&format!("/api/v1/tasks/{task}")).await;
        assert_eq!(t["form"][0]["id"], "ok");
        assert_eq!(t["form"][0]["type"], "boolean");
        assert_eq!(t["form"][0]["required"], true);
        assert_eq!(t["may_complete"], true);
        assert_eq!(
            other.get(&format!("/api/v1/tasks/{task}")).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            other
                .post(
                    &format!("/api/v1/tasks/{task}/complete"),
                    json!({"variables": {"ok": true}})
                )
                .await
                .0,
            StatusCode::NOT_FOUND,
            "not yours"
        );

        assert_eq!(
            clerk
                .post(&format!("/api/v1/tasks/{task}/claim"), json!({}))
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            clerk.get("/api/v1/tasks?assigned=me").await.1["items"][0]["assignee"],
            "clerk"
        );
        assert_eq!(
            clerk
                .post(&format!("/api/v1/tasks/{task}/unclaim"), json!({}))
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            clerk
                .post(
                    &format!("/api/v1/tasks/{task}/assign"),
                    json!({"assignee": "other"})
                )
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            admin
                .post(
                    &format!("/api/v1/tasks/{task}/assign"),
                    json!({"assignee": "clerk"})
                )
                .await
                .0,
            StatusCode::OK
        );

        let (s, body) = clerk
            .post(
                &format!("/api/v1/tasks/{task}/complete"),
                json!({"variables": {"ok": "perhaps"}}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "ok");
        let (s, body) = clerk
            .post(
                &format!("/api/v1/tasks/{task}/complete"),
                json!({"variables": {"ok": true}}),
            )
            .await;
        assert_eq!(
            (s, body["state"].as_str()),
            (StatusCode::OK, Some("completed")),
            "{body}"
        );
        let (s, body) = clerk
            .post(
                &format!("/api/v1/tasks/{task}/complete"),
                json!({"variables": {"ok": true}}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{}", app.backend);
        assert!(error_text(&body).contains("already completed"), "{body}");

        let (_, history) = clerk.get(&format!("/api/v1/instances/{id}/history")).await;
        let h = history.as_array().unwrap();
        let seqs: Vec<i64> = h.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=h.len() as i64).collect::<Vec<_>>());
        assert_eq!(h[0]["event"], "instance_started");
        assert_eq!(h[0]["user"], "clerk");
        assert!(
            h.iter()
                .any(|e| e["event"] == "task_completed" && e["data"]["type"] == "task_completed")
        );
        assert_eq!(h.last().unwrap()["event"], "instance_completed");

        // Admin actions.
        let (_, second) = clerk
            .post(
                "/api/v1/definitions/p/start",
                json!({"variables": {"amount": 1}}),
            )
            .await;
        let id2 = second["id"].as_str().unwrap();
        assert_eq!(
            clerk
                .put(
                    &format!("/api/v1/instances/{id2}/variables"),
                    json!({"variables": {"amount": 2}})
                )
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            admin
                .put(
                    &format!("/api/v1/instances/{id2}/variables"),
                    json!({"variables": {"amount": 2}})
                )
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            admin.get(&format!("/api/v1/instances/{id2}")).await.1["variables"]["amount"],
            2
        );
        assert_eq!(
            clerk
                .post(&format!("/api/v1/instances/{id2}/cancel"), json!({}))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            other
                .post(&format!("/api/v1/instances/{id2}/cancel"), json!({}))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        let (s, body) = admin
            .post(&format!("/api/v1/instances/{id2}/cancel"), json!({}))
            .await;
        assert_eq!(
            (s, body["state"].as_str()),
            (StatusCode::OK, Some("terminated"))
        );
        assert_eq!(
            admin
                .post(&format!("/api/v1/instances/{id2}/cancel"), json!({}))
                .await
                .0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            admin.get("/api/v1/instances?state=terminated").await.1["total"],
            1
        );
        app.stop().await;
    }
}

fn waiting_for(message: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:receiveTask id="r" messageRef="m"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "r"),
        flow("f1", "r", "e")
    ))
    .replace("</bpmn:definitions>", &format!(r#"<bpmn:message id="m" name="{message}"/></bpmn:definitions>"#))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_correlated_or_refused_clearly() {
    for app in TestApp::each().await {
        let def = app
            .runtime
            .deploy("m.bpmn", waiting_for("paid").as_bytes(), None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        let admin = Api::as_user(&app, "admin").await;
        let (s, _) = admin
            .post("/api/v1/messages", json!({"name": "paid"}))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "nothing waits yet");
        let a = app
            .runtime
            .start(def, obj(json!({"order": "A"})), Some("K-1".into()), None)
            .await
            .unwrap()
            .instance_id;
        let b = app
            .runtime
            .start(def, obj(json!({"order": "B"})), Some("K-2".into()), None)
            .await
            .unwrap()
            .instance_id;
        let c = app
            .runtime
            .start(def, obj(json!({"order": "C"})), Some("K-3".into()), None)
            .await
            .unwrap()
            .instance_id;
        let (s, body) = admin
            .post("/api/v1/messages", json!({"name": "paid"}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{}", app.backend);
        assert!(error_text(&body).contains("3 instances wait"));
        let (s, body) = admin
            .post(
                "/api/v1/messages",
                json!({"name": "paid", "business_key": "K-2", "variables": {"sum": 9}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["deliveries"][0]["instance_id"], b.to_string().as_str());
        assert_eq!(
            app.runtime
                .instance(b)
                .await
                .unwrap()
                .1
                .root_variables()
                .get("sum"),
            Some(&json!(9))
        );
        let (_, body) = admin
            .post(
                "/api/v1/messages",
                json!({"name": "paid", "correlation_keys": {"order": "C"}}),
            )
            .await;
        assert_eq!(body["deliveries"][0]["instance_id"], c.to_string().as_str());
        let (s, _) = admin
            .post(
                "/api/v1/messages",
                json!({"name": "paid", "correlation_keys": {"order": "Z"}}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let _ = app
            .runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap();
        let (s, body) = admin
            .post("/api/v1/messages", json!({"name": "paid", "all": true}))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["deliveries"].as_array().unwrap().len(), 2);
        assert_eq!(app.runtime.instance(a).await.unwrap().0.status, "completed");
        assert_eq!(
            admin.post("/api/v1/messages", json!({"name": ""})).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            admin.post("/api/v1/messages", json!({"nam": "x"})).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        app.stop().await;
    }
}

fn external() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="bill" name="Bill" camunda:type="external" camunda:topic="billing"/><bpmn:userTask id="after" camunda:candidateUsers="admin"/>{}{}"#,
        flow("f0", "s", "bill"),
        flow("f1", "bill", "after")
    ))
}

async fn fetch(api: &Api, worker: &str, lock_ms: u64, wait_ms: u64) -> Vec<Value> {
    let (s, body) = api
        .post(
            "/api/v1/external-tasks/fetch-and-lock",
            json!({"worker_id": worker, "max_tasks": 5, "topics": [{"name": "billing", "lock_duration_ms": lock_ms}], "wait_ms": wait_ms}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_workers_lock_complete_fail_and_retry() {
    for app in TestApp::each().await {
        let def = app
            .runtime
            .deploy("x.bpmn", external().as_bytes(), None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        let api = Api::as_user(&app, "admin").await;
        let id = app
            .runtime
            .start(
                def,
                obj(json!({"customer": "ann"})),
                Some("B-1".into()),
                None,
            )
            .await
            .unwrap()
            .instance_id;
        let tasks = fetch(&api, "w1", 60_000, 0).await;
        assert_eq!(tasks.len(), 1, "{}", app.backend);
        let t = &tasks[0];
        assert_eq!(
            (
                t["topic"].as_str(),
                t["element_id"].as_str(),
                t["business_key"].as_str()
            ),
            (Some("billing"), Some("bill"), Some("B-1"))
        );
        assert_eq!(t["variables"], json!({"customer": "ann"}));
        let task = t["id"].as_str().unwrap().to_string();
        assert!(
            fetch(&api, "w2", 60_000, 0).await.is_empty(),
            "two workers never hold the same task"
        );
        let (s, body) = api
            .post(
                &format!("/api/v1/external-tasks/{task}/complete"),
                json!({"worker_id": "w2", "variables": {}}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        let (s, lock) = api
            .post(
                &format!("/api/v1/external-tasks/{task}/extend-lock"),
                json!({"worker_id": "w1", "new_duration_ms": 120_000}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(lock["lock_expires_at"].is_string());
        // A failure with retries left: the task comes back after the pause.
        let (s, _) = api
            .post(
                &format!("/api/v1/external-tasks/{task}/failure"),
                json!({"worker_id": "w1", "message": "timeout", "retries": 2, "retry_in_ms": 300}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert!(
            fetch(&api, "w2", 60_000, 0).await.is_empty(),
            "not before the pause"
        );
        let again = fetch(&api, "w2", 150, 2_000).await;
        assert_eq!(again.len(), 1, "{}: offered again", app.backend);
        assert_eq!(
            (
                again[0]["retries"].as_i64(),
                again[0]["error_message"].as_str()
            ),
            (Some(2), Some("timeout"))
        );
        // w2's short lock expires; w3 takes over; w2's late result is refused.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let taken = fetch(&api, "w3", 60_000, 0).await;
        assert_eq!(taken.len(), 1);
        let (s, body) = api
            .post(
                &format!("/api/v1/external-tasks/{task}/complete"),
                json!({"worker_id": "w2", "variables": {}}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(error_text(&body).contains("expired"), "{body}");
        let (s, done) = api
            .post(
                &format!("/api/v1/external-tasks/{task}/complete"),
                json!({"worker_id": "w3", "variables": {"invoice": "I-9"}}),
            )
            .await;
        assert_eq!(
            (s, done["state"].as_str()),
            (StatusCode::OK, Some("active"))
        );
        let (row, state) = app.runtime.instance(id).await.unwrap();
        assert_eq!(state.root_variables().get("invoice"), Some(&json!("I-9")));
        assert_eq!(row.status, "active");
        assert!(
            app.runtime
                .open_task_for(id, "after")
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            api.post(
                &format!("/api/v1/external-tasks/{task}/complete"),
                json!({"worker_id": "w3"})
            )
            .await
            .0,
            StatusCode::NOT_FOUND,
            "consumed"
        );

        // No retries left: an incident, which an admin retries; the task is offered again.
        let id2 = app
            .runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        let t2 = fetch(&api, "w1", 60_000, 0).await[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, _) = api
            .post(
                &format!("/api/v1/external-tasks/{t2}/failure"),
                json!({"worker_id": "w1", "message": "broken", "retries": 0}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, d) = api.get(&format!("/api/v1/instances/{id2}")).await;
        assert_eq!(d["state"], "incident", "{}", app.backend);
        assert!(
            d["incidents"][0]["message"]
                .as_str()
                .unwrap()
                .contains("broken")
        );
        let incident = d["incidents"][0]["id"].as_str().unwrap().to_string();
        let (s, r) = api
            .post(&format!("/api/v1/incidents/{incident}/retry"), json!({}))
            .await;
        assert_eq!((s, r["state"].as_str()), (StatusCode::OK, Some("active")));
        assert_eq!(
            api.post(&format!("/api/v1/incidents/{incident}/retry"), json!({}))
                .await
                .0,
            StatusCode::CONFLICT
        );
        let t3 = fetch(&api, "w1", 60_000, 0).await;
        assert_eq!(t3.len(), 1, "the retry made new work");
        // A BPMN error that no boundary event catches is an incident too.
        let (s, r) = api
            .post(
                &format!(
                    "/api/v1/external-tasks/{}/bpmn-error",
                    t3[0]["id"].as_str().unwrap()
                ),
                json!({"worker_id": "w1", "error_code": "NO_CREDIT", "message": "refused"}),
            )
            .await;
        assert_eq!((s, r["state"].as_str()), (StatusCode::OK, Some("incident")));
        assert!(
            app.runtime.store().open_incidents(id2).await.unwrap()[0]
                .message
                .contains("NO_CREDIT")
        );
        for bad in [
            json!({"worker_id": "", "max_tasks": 1, "topics": [{"name": "billing", "lock_duration_ms": 1}]}),
            json!({"worker_id": "w", "max_tasks": 0, "topics": [{"name": "billing", "lock_duration_ms": 1}]}),
            json!({"worker_id": "w", "max_tasks": 1, "topics": []}),
        ] {
            assert_eq!(
                api.post("/api/v1/external-tasks/fetch-and-lock", bad)
                    .await
                    .0,
                StatusCode::UNPROCESSABLE_ENTITY
            );
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polling_returns_when_work_arrives() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    let def = app
        .runtime
        .deploy("x.bpmn", external().as_bytes(), None)
        .await
        .unwrap()
        .definitions[0]
        .id;
    let api = Api::as_user(&app, "admin").await;
    let runtime = app.runtime.clone();
    let started = std::time::Instant::now();
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap();
    });
    let tasks = fetch(&api, "w1", 60_000, 10_000).await;
    assert_eq!(tasks.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken by the new work, not the timeout"
    );
    starter.await.unwrap();
    let started = std::time::Instant::now();
    assert!(fetch(&api, "w1", 60_000, 400).await.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(350), "it waited");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_engines_routes() {
    for app in TestApp::each().await {
        app.deploy_demo().await;
        let api = Api::as_user(&app, "admin").await;
        assert_eq!(
            Api::anonymous(&app).get("/model").await.0,
            StatusCode::UNAUTHORIZED
        );
        let (_, models) = api.get("/model").await;
        assert_eq!(models["status"], "ok");
        assert_eq!(models["results"][0]["model_path"], "demo.bpmn");
        assert_eq!(models["results"][0]["main_process"]["id"], "demo");
        assert!(
            models["results"][0]["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["_id"] == "t0")
        );
        let xml = api
            .req(reqwest::Method::GET, "/model/demo.bpmn")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(xml.contains("Which option?"));
        let (s, started) = api.post("/model/demo.bpmn/instance", json!({})).await;
        assert_eq!(s, StatusCode::OK);
        let id = started["id"].as_str().unwrap().to_string();
        let (_, inst) = api.get(&format!("/instance/{id}")).await;
        assert_eq!(
            (inst["state"].as_str(), inst["pending"].clone()),
            (Some("running"), json!(["t0"]))
        );
        let (_, info) = api.get(&format!("/instance/{id}/task/t0")).await;
        assert_eq!(info["type"], "bpmn:userTask");
        assert_eq!(info["form_fields"]["option"]["type"], "long");
        assert_eq!(info["form_fields"]["option"]["validation"]["max"], "2");
        assert!(info["documentation"].as_str().unwrap().contains("Choose 1"));
        assert_eq!(
            api.post(
                &format!("/instance/{id}/task/t0/form"),
                json!({"option": 7})
            )
            .await
            .0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let (s, r) = api
            .post(
                &format!("/instance/{id}/task/t0/form"),
                json!({"option": 2}),
            )
            .await;
        assert_eq!(
            (s, r),
            (StatusCode::OK, json!({"status": "OK"})),
            "{}",
            app.backend
        );
        assert_eq!(
            api.post(
                &format!("/instance/{id}/task/t0/form"),
                json!({"option": 2})
            )
            .await
            .0,
            StatusCode::CONFLICT
        );
        let (_, found) = api.get("/instance?q=opt:2").await;
        assert_eq!(
            found["results"],
            json!([]),
            "only string variables are searched, as before"
        );
        let (_, started2) = api.post("/model/demo/instance", json!({})).await;
        let id2 = started2["id"].as_str().unwrap().to_string();
        app.runtime
            .set_variables(
                id2.parse().unwrap(),
                obj(json!({"customer": "Ana Marić", "city": "Pula"})),
                None,
            )
            .await
            .unwrap();
        let (_, found) = api.get("/instance?q=cust:mari,city:pul").await;
        assert_eq!(found["results"].as_array().unwrap().len(), 1, "{found}");
        assert_eq!(found["results"][0]["id"], id2.as_str());
        let (_, none) = api.get("/instance?q=cust:mari,city:zagreb").await;
        assert_eq!(none["results"], json!([]), "all terms must match");
        let (s, bad) = api.get("/instance").await;
        assert_eq!(
            (s, bad),
            (StatusCode::BAD_REQUEST, json!({"error": "invalid_query"}))
        );
        assert_eq!(
            api.get(&format!("/instance/state/{id}")).await.1,
            json!({"state": "running"})
        );
        assert_eq!(
            api.get("/model/nothing.bpmn").await.0,
            StatusCode::NOT_FOUND
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    app.deploy_demo().await;
    let api = Api::as_user(&app, "admin").await;
    api.post("/api/v1/definitions/demo/start", json!({})).await;
    for (path, want) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let r = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.text().await.unwrap(), want);
    }
    let m = reqwest::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "bpmn_instances{state=\"active\"} 1",
        "bpmn_tasks_open 1",
        "# TYPE bpmn_http_request_duration_seconds histogram",
        "bpmn_command_conflicts_total",
        "bpmn_jobs_due 0",
        "bpmn_up 1",
    ] {
        assert!(m.contains(needle), "{needle} not in\n{m}");
    }
    let counter = |name: &str| -> u64 {
        m.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(counter("bpmn_instances_started_total") >= 1);
    // The start alone wrote the instance, its history and its first task.
    assert!(counter("bpmn_write_statements_total") >= 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_routes_served() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    let api = Api::as_user(&app, "admin").await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 35);
    // OpenAPI requires a description on every response.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path}: the {status} response has no description"
                );
            }
        }
    }
    let mut checked = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{key}", "nokey")
            .replace("{name}", "noname")
            .replace("{task_id}", "notask");
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = api
                .req(m, &concrete)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let text = r.text().await.unwrap();
            assert!(
                !text.contains("no such endpoint"),
                "{method} {path} is documented but not served"
            );
            checked += 1;
        }
    }
    assert!(checked >= 37);
    // And what is not documented is not served.
    for (m, path) in [
        (reqwest::Method::GET, "/api/v1/nothing"),
        (reqwest::Method::DELETE, "/api/v1/tasks/x"),
        (reqwest::Method::GET, "/api/v2/tasks"),
    ] {
        let (s, body) = Api::send(api.req(m, path)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(error_text(&body), "no such endpoint");
    }
    // Schemas the handlers use are in the document.
    for s in [
        "TaskDto",
        "InstanceDetailDto",
        "FetchRequest",
        "LockedTaskDto",
        "ErrorBody",
        "MessageRequest",
    ] {
        assert!(doc["components"]["schemas"][s].is_object(), "{s}");
    }
    let page = reqwest::get(format!("{}/api", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/api/v1/external-tasks/fetch-and-lock"));
    assert!(
        !page.contains("cdn") && !page.contains("unpkg"),
        "no assets from a CDN"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_paging_is_refused_not_a_crash() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    let api = Api::as_user(&app, "admin").await;
    for path in [
        "/api/v1/instances?page=9223372036854775808",
        "/api/v1/tasks?page=18446744073709551615",
        "/api/v1/tasks?page=2000000",
    ] {
        assert_eq!(
            api.get(path).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
    }
    let b = app.login("admin", "admin-password").await;
    for path in [
        "/tasks?page=18446744073709551615",
        "/instances?page=18446744073709551615",
    ] {
        assert_eq!(b.get(path).await.status, StatusCode::OK, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn two_clients_completing_one_task_at_once_get_one_success_and_one_409() {
    for app in TestApp::each().await {
        app.runtime
            .deploy("p.bpmn", form_process().as_bytes(), None)
            .await
            .unwrap();
        app.user("clerk", &["clerks"]).await;
        let clerk = Api::as_user(&app, "clerk").await;
        let admin = Api::as_user(&app, "admin").await;
        let (_, started) = clerk
            .post(
                "/api/v1/definitions/p/start",
                json!({"variables": {"amount": 10}}),
            )
            .await;
        let id = started["id"].as_str().unwrap().to_string();
        let (_, detail) = clerk.get(&format!("/api/v1/instances/{id}")).await;
        let task = detail["open_tasks"][0]["id"].as_str().unwrap().to_string();
        // The first completion to reach its commit is held there a moment, so
        // the second arrives while the first is still in flight.
        let held = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let held = held.clone();
            app.runtime
                .set_before_commit(Some(std::sync::Arc::new(move |_| {
                    let first = !held.swap(true, std::sync::atomic::Ordering::SeqCst);
                    Box::pin(async move {
                        if first {
                            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        }
                    })
                })));
        }
        let path = format!("/api/v1/tasks/{task}/complete");
        let body = json!({"variables": {"ok": true}});
        let (a, b) = tokio::join!(clerk.post(&path, body.clone()), admin.post(&path, body));
        app.runtime.set_before_commit(None);
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{}: {a:?} {b:?}",
            app.backend
        );
        let loser = if a.0 == StatusCode::CONFLICT {
            &a.1
        } else {
            &b.1
        };
        assert!(error_text(loser).contains("already completed"), "{loser}");
        let (_, history) = admin.get(&format!("/api/v1/instances/{id}/history")).await;
        let completed = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "task_completed")
            .count();
        assert_eq!(completed, 1, "{}", app.backend);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_tasks_without_a_message_are_triggered_through_the_api() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:receiveTask id="wait"/><bpmn:userTask id="t" camunda:assignee="admin"/>{}{}"#,
        flow("f0", "s", "wait"),
        flow("f1", "wait", "t"),
    ));
    for app in TestApp::each().await {
        let admin = Api::as_user(&app, "admin").await;
        let (s, _) = admin.deploy_xml(&xml).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, started) = admin.post("/api/v1/definitions/p/start", json!({})).await;
        assert_eq!(s, StatusCode::CREATED, "{started}");
        let id = started["id"].as_str().unwrap().to_string();
        let (_, detail) = admin.get(&format!("/api/v1/instances/{id}")).await;
        assert_eq!(detail["waiting"][0]["kind"], "trigger");
        // Nothing waits at another element: 404, nothing changes.
        let (s, body) = admin
            .post(
                &format!("/api/v1/instances/{id}/trigger"),
                json!({"element": "t"}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        let (s, body) = admin
            .post(
                &format!("/api/v1/instances/{id}/trigger"),
                json!({"element": "wait", "variables": {"arrived": true}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, detail) = admin.get(&format!("/api/v1/instances/{id}")).await;
        assert_eq!(detail["variables"]["arrived"], true);
        assert_eq!(detail["open_tasks"][0]["element_id"], "t");
        app.stop().await;
    }
}

/// Camunda 7's condition evaluation: conditional start events start an
/// instance when the variables sent make their condition hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_start_events_start_instances_when_their_condition_holds() {
    for app in TestApp::each().await {
        let admin = Api::as_user(&app, "admin").await;
        let (s, body) = admin
            .post(
                "/api/v1/conditions",
                json!({"variables": {"temperature": 30}}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        let conditional = |key: &str, condition: &str| {
            process(&format!(
                r#"<bpmn:startEvent id="{key}_start"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">{condition}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:startEvent><bpmn:userTask id="{key}_task"/>{}"#,
                flow(&format!("{key}_f"), &format!("{key}_start"), &format!("{key}_task"))
            ))
            .replace(r#"id="p""#, &format!(r#"id="{key}""#))
        };
        for (key, condition) in [
            ("cooling", "${temperature &gt; 24}"),
            ("heating", "${temperature &lt; 16}"),
            ("broken", "${temperature.toUpperCase() == 'X'}"),
        ] {
            let (s, body) = admin.deploy_xml(&conditional(key, condition)).await;
            assert_eq!(s, StatusCode::CREATED, "{key}: {body}");
        }
        // Only cooling's condition holds.
        let (s, body) = admin
            .post(
                "/api/v1/conditions",
                json!({"variables": {"temperature": 30}, "business_key": "room-1", "process_key": "cooling"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let started = body["started"].as_array().unwrap();
        assert_eq!(started.len(), 1, "{body}");
        assert_eq!(started[0]["element_id"], "cooling_start");
        let id: uuid::Uuid = started[0]["instance_id"].as_str().unwrap().parse().unwrap();
        let (row, state) = app.runtime.instance(id).await.unwrap();
        assert_eq!(row.business_key.as_deref(), Some("room-1"));
        assert_eq!(state.root_variables().get("temperature"), Some(&json!(30)));
        // Without a process key every process is asked: broken's condition
        // cannot be evaluated on a number, so nothing starts at all.
        let before = app.runtime.store().count_instances().await.unwrap();
        let (s, body) = admin
            .post(
                "/api/v1/conditions",
                json!({"variables": {"temperature": 10}}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            error_text(&body).contains("start event \"broken_start\" of process \"broken\""),
            "{body}"
        );
        assert_eq!(app.runtime.store().count_instances().await.unwrap(), before);
        // A variable a condition does not find makes it false, as in Camunda.
        let (s, body) = admin
            .post(
                "/api/v1/conditions",
                json!({"variables": {"humidity": 80}, "process_key": "heating"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["started"], json!([]));
        let (s, body) = admin
            .post(
                "/api/v1/conditions",
                json!({"variables": {"temperature": 10}, "process_key": "heating"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["started"][0]["element_id"], "heating_start");
        // Strict bodies, as everywhere in the API.
        let (s, body) = admin
            .post(
                "/api/v1/conditions",
                json!({"variabels": {"temperature": 10}}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        app.stop().await;
    }
}
