//! Camunda 7's REST surface for people's work and what happened: `/task`
//! (lists, claiming, completing, form variables, variables), `/incident`,
//! `/history/...` and `/decision-definition`, over real HTTP on SQLite and
//! PostgreSQL. Every answer's fields are checked against the REST
//! reference's example of that shape (names, and types where they are
//! known), and every refusal against Camunda's error body; another user can
//! neither see nor act on someone's task.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::app::TestApp;
use crate::common::rt;
use crate::common::*;
use bpmn_engine::runtime::{NewUser, Principal, Role, StartRequest, Values};

/// The fields of Camunda 7.22's TaskDto.
const TASK_FIELDS: &[&str] = &[
    "id",
    "name",
    "assignee",
    "owner",
    "created",
    "lastUpdated",
    "due",
    "followUp",
    "delegationState",
    "description",
    "executionId",
    "parentTaskId",
    "priority",
    "processDefinitionId",
    "processInstanceId",
    "caseExecutionId",
    "caseDefinitionId",
    "caseInstanceId",
    "taskDefinitionKey",
    "suspended",
    "formKey",
    "camundaFormRef",
    "tenantId",
    "taskState",
];

/// The fields of IncidentDto.
const INCIDENT_FIELDS: &[&str] = &[
    "id",
    "processDefinitionId",
    "processInstanceId",
    "executionId",
    "incidentTimestamp",
    "incidentType",
    "activityId",
    "failedActivityId",
    "causeIncidentId",
    "rootCauseIncidentId",
    "configuration",
    "tenantId",
    "incidentMessage",
    "jobDefinitionId",
    "annotation",
];

/// The fields of HistoricProcessInstanceDto.
const HISTORIC_INSTANCE_FIELDS: &[&str] = &[
    "id",
    "businessKey",
    "processDefinitionId",
    "processDefinitionKey",
    "processDefinitionName",
    "processDefinitionVersion",
    "startTime",
    "endTime",
    "removalTime",
    "durationInMillis",
    "startUserId",
    "startActivityId",
    "deleteReason",
    "rootProcessInstanceId",
    "superProcessInstanceId",
    "superCaseInstanceId",
    "caseInstanceId",
    "tenantId",
    "state",
    "restartedProcessInstanceId",
];

/// The fields of HistoricActivityInstanceDto.
const ACTIVITY_FIELDS: &[&str] = &[
    "id",
    "parentActivityInstanceId",
    "activityId",
    "activityName",
    "activityType",
    "processDefinitionKey",
    "processDefinitionId",
    "processInstanceId",
    "executionId",
    "taskId",
    "calledProcessInstanceId",
    "calledCaseInstanceId",
    "assignee",
    "startTime",
    "endTime",
    "durationInMillis",
    "canceled",
    "completeScope",
    "tenantId",
    "removalTime",
    "rootProcessInstanceId",
];

/// The fields of HistoricTaskInstanceDto.
const HISTORIC_TASK_FIELDS: &[&str] = &[
    "id",
    "processDefinitionKey",
    "processDefinitionId",
    "processInstanceId",
    "executionId",
    "caseDefinitionKey",
    "caseDefinitionId",
    "caseInstanceId",
    "caseExecutionId",
    "activityInstanceId",
    "name",
    "description",
    "deleteReason",
    "owner",
    "assignee",
    "startTime",
    "endTime",
    "duration",
    "taskDefinitionKey",
    "priority",
    "due",
    "parentTaskId",
    "followUp",
    "tenantId",
    "removalTime",
    "rootProcessInstanceId",
    "taskState",
];

/// The fields of HistoricVariableInstanceDto.
const VARIABLE_FIELDS: &[&str] = &[
    "id",
    "name",
    "type",
    "value",
    "valueInfo",
    "processDefinitionKey",
    "processDefinitionId",
    "processInstanceId",
    "executionId",
    "activityInstanceId",
    "caseDefinitionKey",
    "caseDefinitionId",
    "caseInstanceId",
    "caseExecutionId",
    "taskId",
    "tenantId",
    "errorMessage",
    "state",
    "createTime",
    "removalTime",
    "rootProcessInstanceId",
];

/// The fields of DecisionDefinitionDto.
const DECISION_FIELDS: &[&str] = &[
    "id",
    "key",
    "category",
    "name",
    "version",
    "resource",
    "deploymentId",
    "tenantId",
    "decisionRequirementsDefinitionId",
    "decisionRequirementsDefinitionKey",
    "historyTimeToLive",
    "versionTag",
];

/// Exactly these fields, and the ones Camunda never leaves empty here are
/// strings in its date format where they are dates.
fn shape(v: &Value, fields: &[&str], dates: &[&str]) {
    let got: BTreeSet<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = fields.iter().copied().collect();
    assert_eq!(got, want, "{v}");
    for d in dates {
        let text = v[*d].as_str().unwrap_or_else(|| panic!("{d} in {v}"));
        assert!(
            chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok(),
            "{d} = {text:?} is not yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        );
    }
}

/// Camunda's error body: exactly `type` and `message`.
fn error(r: &(StatusCode, Value), status: StatusCode, kind: &str) {
    assert_eq!(r.0, status, "{r:?}");
    assert_eq!(r.1["type"], json!(kind), "{r:?}");
    assert!(
        r.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{r:?}"
    );
    let keys: Vec<&String> = r.1.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["message", "type"], "{r:?}");
}

/// A caller of `/engine-rest` with a bearer token.
struct Caller {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Caller {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/engine-rest{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// A `GET` that must answer 200: its body.
    async fn ok(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.0, StatusCode::OK, "GET {path}: {r:?}");
        r.1
    }
}

async fn caller(app: &TestApp, name: &str, groups: &[&str], role: Role) -> Caller {
    app.runtime
        .accounts()
        .create_user(
            &rt::admin(None),
            &NewUser {
                name: name.into(),
                password: format!("{name}-password"),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                role,
            },
        )
        .await
        .unwrap();
    let user = app.runtime.user_named(name).await.unwrap().unwrap();
    let token = app.runtime.create_token(user.id, "tests").await.unwrap().1;
    Caller {
        base: app.base.clone(),
        token,
        http: reqwest::Client::new(),
    }
}

fn principal(name: &str, groups: &[&str]) -> Principal {
    Principal::new(
        name,
        groups.iter().map(|g| g.to_string()).collect(),
        Role::User,
    )
}

async fn start(app: &TestApp, who: &Principal, key: &str, vars: Value, business_key: &str) -> Uuid {
    app.runtime
        .deployments()
        .start(
            who,
            StartRequest {
                key: key.into(),
                version: None,
                values: Values::Json(obj(vars)),
                business_key: Some(business_key.into()),
            },
        )
        .await
        .unwrap()
        .instance_id
}

/// A review for group B with a form, then the end.
fn review() -> String {
    definitions(&format!(
        r#"<bpmn:process id="review" name="Review process" isExecutable="true">
<bpmn:startEvent id="s"/>
<bpmn:userTask id="check" name="Check the order" camunda:candidateGroups="B">
  <bpmn:documentation>Look at the amount</bpmn:documentation>
  <bpmn:extensionElements><camunda:formData>
    <camunda:formField id="amount" label="Amount" type="long" defaultValue="5"/>
    <camunda:formField id="approved" label="Approved" type="boolean"/>
    <camunda:formField id="comment" label="Comment" type="string"/>
  </camunda:formData></bpmn:extensionElements>
</bpmn:userTask>
<bpmn:endEvent id="e"/>
{}{}
</bpmn:process>"#,
        flow("f0", "s", "check"),
        flow("f1", "check", "e"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_listed_claimed_and_completed_in_camundas_shapes_and_only_by_those_allowed() {
    for app in TestApp::each().await {
        let backend = app.backend;
        app.runtime
            .deployments()
            .deploy(&rt::admin(None), "review.bpmn", review().as_bytes())
            .await
            .unwrap();
        let bob = caller(&app, "bob", &["B"], Role::User).await;
        let carol = caller(&app, "carol", &["B"], Role::User).await;
        let alice = caller(&app, "alice", &["A"], Role::User).await;
        let boss = caller(&app, "boss", &[], Role::Admin).await;
        let id = start(
            &app,
            &principal("dave", &[]),
            "review",
            json!({"amount": 7, "customer": "ACME"}),
            "ORDER-1",
        )
        .await;

        // The list, its count, and the same query as a body.
        let list = bob.ok(&format!("/task?processInstanceId={id}")).await;
        let tasks = list.as_array().unwrap();
        assert_eq!(tasks.len(), 1, "{backend}: {list}");
        let t = &tasks[0];
        shape(t, TASK_FIELDS, &["created"]);
        let task = t["id"].as_str().unwrap().to_string();
        assert_eq!(t["name"], json!("Check the order"));
        assert_eq!(t["assignee"], Value::Null);
        assert_eq!(t["taskDefinitionKey"], json!("check"));
        assert_eq!(t["processInstanceId"], json!(id));
        assert_eq!(t["description"], json!("Look at the amount"));
        assert_eq!(t["suspended"], json!(false));
        assert_eq!(t["tenantId"], Value::Null);
        assert_eq!(t["taskState"], json!("Created"));
        assert!(t["priority"].is_i64() && t["processDefinitionId"].is_string());
        assert_eq!(
            bob.ok(&format!("/task/count?processInstanceId={id}")).await,
            json!({"count": 1})
        );
        let by_body = bob
            .post(
                "/task",
                json!({"processInstanceIdIn": [id], "candidateGroup": "B",
                       "sorting": [{"sortBy": "created", "sortOrder": "desc"}]}),
            )
            .await;
        assert_eq!(by_body.0, StatusCode::OK);
        assert_eq!(by_body.1.as_array().unwrap().len(), 1);
        let none = boss
            .post(
                "/task",
                json!({"processInstanceId": id, "candidateGroup": "A"}),
            )
            .await;
        assert_eq!(none.1, json!([]), "{backend}");
        assert_eq!(
            boss.post(
                "/task/count",
                json!({"processInstanceBusinessKey": "ORDER-1"})
            )
            .await
            .1,
            json!({"count": 1})
        );
        // candidateUser matches the user's groups too, as in Camunda.
        assert_eq!(
            bob.ok(&format!(
                "/task/count?candidateUser=bob&processInstanceId={id}"
            ))
            .await,
            json!({"count": 1})
        );
        assert_eq!(
            boss.ok(&format!(
                "/task/count?candidateUser=carol&processInstanceId={id}"
            ))
            .await,
            json!({"count": 1})
        );
        assert_eq!(
            boss.ok(&format!(
                "/task/count?candidateUser=alice&processInstanceId={id}"
            ))
            .await,
            json!({"count": 0})
        );
        error(
            &bob.get("/task?candidateUser=carol").await,
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
        );
        let unknown = bob.get("/task?ownerExpression=x").await;
        error(&unknown, StatusCode::BAD_REQUEST, "InvalidRequestException");
        assert!(
            unknown.1["message"]
                .as_str()
                .unwrap()
                .contains("ownerExpression")
        );

        // Alice is not a candidate: she sees nothing and can do nothing.
        assert_eq!(
            alice.ok(&format!("/task?processInstanceId={id}")).await,
            json!([])
        );
        assert_eq!(alice.ok("/task/count").await, json!({"count": 0}));
        error(
            &alice.get(&format!("/task/{task}")).await,
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
        );
        for (path, body) in [
            ("claim", json!({"userId": "alice"})),
            (
                "complete",
                json!({"variables": {"approved": {"value": true, "type": "Boolean"}}}),
            ),
            (
                "variables",
                json!({"modifications": {"amount": {"value": 1, "type": "Long"}}}),
            ),
        ] {
            let r = alice.post(&format!("/task/{task}/{path}"), body).await;
            error(&r, StatusCode::NOT_FOUND, "InvalidRequestException");
        }
        error(
            &alice.get(&format!("/task/{task}/variables")).await,
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
        );
        assert_eq!(
            bob.ok(&format!("/task/{task}")).await["assignee"],
            Value::Null
        );

        // Form variables: typed from camunda:formData, defaults where unset.
        let form = bob.ok(&format!("/task/{task}/form-variables")).await;
        assert_eq!(
            form["amount"],
            json!({"type": "Long", "value": 7, "valueInfo": {}})
        );
        assert_eq!(form["approved"]["type"], json!("Null"));
        assert_eq!(
            form.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["amount", "approved", "comment"]
        );
        let only = bob
            .ok(&format!(
                "/task/{task}/form-variables?variableNames=comment&deserializeValues=false"
            ))
            .await;
        assert_eq!(
            only.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["comment"]
        );
        let vars = bob.ok(&format!("/task/{task}/variables")).await;
        assert_eq!(
            vars["customer"],
            json!({"type": "String", "value": "ACME", "valueInfo": {}})
        );
        assert_eq!(
            bob.ok(&format!("/task/{task}/variables/amount")).await,
            json!({"type": "Integer", "value": 7, "valueInfo": {}})
        );
        error(
            &bob.get(&format!("/task/{task}/variables/nope")).await,
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
        );
        // Only an admin sets variables.
        error(
            &bob.post(
                &format!("/task/{task}/variables"),
                json!({"modifications": {"x": {"value": 1}}}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "AuthorizationException",
        );

        // Claiming: only for oneself; a held task is Camunda's TaskAlreadyClaimedException.
        error(
            &bob.post(&format!("/task/{task}/claim"), json!({"userId": "carol"}))
                .await,
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
        );
        let claimed = bob
            .post(&format!("/task/{task}/claim"), json!({"userId": "bob"}))
            .await;
        assert_eq!(claimed.0, StatusCode::NO_CONTENT, "{backend}: {claimed:?}");
        let held = bob.ok(&format!("/task/{task}")).await;
        assert_eq!(
            (held["assignee"].clone(), held["taskState"].clone()),
            (json!("bob"), json!("Assigned"))
        );
        let taken = carol
            .post(&format!("/task/{task}/claim"), json!({"userId": "carol"}))
            .await;
        error(&taken, StatusCode::CONFLICT, "TaskAlreadyClaimedException");
        assert_eq!(
            taken.1["message"],
            json!(format!("Task '{task}' is already claimed by someone else."))
        );
        error(
            &carol
                .post(&format!("/task/{task}/complete"), json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "AuthorizationException",
        );
        assert_eq!(
            boss.ok(&format!("/task/count?assignee=bob&processInstanceId={id}"))
                .await,
            json!({"count": 1})
        );
        assert_eq!(
            boss.ok(&format!(
                "/task/count?unassigned=true&processInstanceId={id}"
            ))
            .await,
            json!({"count": 0})
        );
        assert_eq!(
            boss.ok(&format!(
                "/task/count?assigneeLike=b%25&processInstanceId={id}"
            ))
            .await,
            json!({"count": 1})
        );

        // Completing with the variables in return, then too late.
        let done = bob
            .post(
                &format!("/task/{task}/complete"),
                json!({"variables": {"approved": {"value": true, "type": "Boolean"},
                                     "amount": {"value": 9, "type": "Long"}},
                       "withVariablesInReturn": true}),
            )
            .await;
        assert_eq!(done.0, StatusCode::OK, "{backend}: {done:?}");
        assert_eq!(
            done.1["approved"],
            json!({"type": "Boolean", "value": true, "valueInfo": {}})
        );
        assert_eq!(done.1["customer"]["value"], json!("ACME"));
        let again = bob.post(&format!("/task/{task}/complete"), json!({})).await;
        error(&again, StatusCode::CONFLICT, "RestException");
        assert!(
            again.1["message"]
                .as_str()
                .unwrap()
                .contains("already completed"),
            "{again:?}"
        );
        assert_eq!(
            bob.ok(&format!("/task?processInstanceId={id}")).await,
            json!([])
        );

        // The history has it, done by bob; alice sees none of it.
        let past = bob
            .ok(&format!(
                "/history/task?processInstanceId={id}&finished=true"
            ))
            .await;
        let past = past.as_array().unwrap();
        assert_eq!(past.len(), 1, "{backend}");
        shape(&past[0], HISTORIC_TASK_FIELDS, &["startTime", "endTime"]);
        assert_eq!(past[0]["assignee"], json!("bob"));
        assert_eq!(past[0]["taskState"], json!("Completed"));
        assert_eq!(past[0]["deleteReason"], json!("completed"));
        assert!(past[0]["duration"].is_i64());
        assert_eq!(
            bob.ok(&format!(
                "/history/task/count?processInstanceId={id}&taskAssignee=bob&finished=true"
            ))
            .await,
            json!({"count": 1})
        );
        assert_eq!(
            alice
                .ok(&format!("/history/task?processInstanceId={id}"))
                .await,
            json!([])
        );
        error(
            &bob.get(&format!("/task/{task}")).await,
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
        );

        // Releasing, assigning (admins), setting a variable (admins), submitting the form.
        let id2 = start(
            &app,
            &principal("dave", &[]),
            "review",
            json!({"amount": 1}),
            "ORDER-2",
        )
        .await;
        let list = bob.ok(&format!("/task?processInstanceId={id2}")).await;
        let task2 = list[0]["id"].as_str().unwrap().to_string();
        let claimed = bob
            .post(&format!("/task/{task2}/claim"), json!({"userId": "bob"}))
            .await;
        assert_eq!(claimed.0, StatusCode::NO_CONTENT);
        error(
            &carol
                .post(&format!("/task/{task2}/unclaim"), json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "AuthorizationException",
        );
        assert_eq!(
            bob.post(&format!("/task/{task2}/unclaim"), json!({}))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            bob.ok(&format!("/task/{task2}")).await["assignee"],
            Value::Null
        );
        error(
            &bob.post(&format!("/task/{task2}/assignee"), json!({"userId": "bob"}))
                .await,
            StatusCode::FORBIDDEN,
            "AuthorizationException",
        );
        let given = boss
            .post(
                &format!("/task/{task2}/assignee"),
                json!({"userId": "carol"}),
            )
            .await;
        assert_eq!(given.0, StatusCode::NO_CONTENT, "{given:?}");
        assert_eq!(
            carol.ok(&format!("/task/{task2}")).await["assignee"],
            json!("carol")
        );
        let put = boss
            .send(
                reqwest::Method::PUT,
                &format!("/task/{task2}/variables/note"),
                Some(json!({"value": "2013-06-30T21:33:31.000+0200", "type": "Date"})),
            )
            .await;
        assert_eq!(put.0, StatusCode::NO_CONTENT, "{put:?}");
        // A Date comes back a Date, in Camunda's format.
        let note = carol.ok(&format!("/task/{task2}/variables/note")).await;
        assert_eq!(note["value"], json!("2013-06-30T19:33:31.000+0000"));
        assert_eq!(note["type"], json!("Date"));
        let submitted = carol
            .post(
                &format!("/task/{task2}/submit-form"),
                json!({"variables": {"approved": {"value": false, "type": "Boolean"}}}),
            )
            .await;
        assert_eq!(
            submitted.0,
            StatusCode::NO_CONTENT,
            "{backend}: {submitted:?}"
        );
        let past = boss
            .ok(&format!(
                "/history/task?processInstanceId={id2}&taskAssignee=carol&finished=true"
            ))
            .await;
        assert_eq!(past.as_array().unwrap().len(), 1, "{backend}: {past}");
        app.stop().await;
    }
}

/// A task for bob, then the end; and a process whose expression fails.
fn work() -> String {
    definitions(&format!(
        r#"<bpmn:process id="flow" name="Flow" isExecutable="true">
<bpmn:startEvent id="s" name="Go"/>
<bpmn:userTask id="t" name="Do it" camunda:candidateUsers="bob"/>
<bpmn:endEvent id="e" name="Done"/>
{}{}
</bpmn:process>
<bpmn:process id="broken" isExecutable="true">
<bpmn:startEvent id="s2"/>
<bpmn:serviceTask id="calc" name="Calculate" camunda:expression="${{undefinedVariable + 1}}"/>
<bpmn:endEvent id="e2"/>
{}{}
</bpmn:process>"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
        flow("g0", "s2", "calc"),
        flow("g1", "calc", "e2"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_history_and_decisions_answer_in_camundas_shapes() {
    for app in TestApp::each().await {
        let backend = app.backend;
        let rt = &app.runtime;
        let admin = rt::admin(None);
        rt.deployments()
            .deploy(&admin, "work.bpmn", work().as_bytes())
            .await
            .unwrap();
        rt.deployments()
            .deploy(
                &admin,
                "discount.dmn",
                &std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/discount.dmn")).unwrap(),
            )
            .await
            .unwrap();
        let bob = caller(&app, "bob", &[], Role::User).await;
        let alice = caller(&app, "alice", &[], Role::User).await;
        let boss = caller(&app, "boss", &[], Role::Admin).await;
        let as_bob = principal("bob", &[]);

        // Incidents.
        let broken = start(&app, &as_bob, "broken", json!({}), "B-1").await;
        let list = boss
            .ok(&format!("/incident?processInstanceId={broken}"))
            .await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{backend}");
        shape(&list[0], INCIDENT_FIELDS, &["incidentTimestamp"]);
        assert_eq!(list[0]["incidentType"], json!("failedJob"));
        assert_eq!(list[0]["activityId"], json!("calc"));
        assert_eq!(list[0]["processInstanceId"], json!(broken));
        assert!(
            list[0]["incidentMessage"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(
            boss.ok(&format!(
                "/incident/count?incidentType=failedJob&processInstanceId={broken}"
            ))
            .await,
            json!({"count": 1})
        );
        assert_eq!(
            boss.ok(&format!(
                "/incident?incidentType=failedExternalTask&processInstanceId={broken}"
            ))
            .await,
            json!([])
        );
        assert_eq!(
            bob.ok(&format!("/incident/count?processInstanceId={broken}"))
                .await,
            json!({"count": 1}),
            "bob started it"
        );
        assert_eq!(alice.ok("/incident").await, json!([]));
        error(
            &boss.get("/incident?incidentType=bad").await,
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
        );

        // Instances as history: active, completed, cancelled.
        let active = start(&app, &as_bob, "flow", json!({"n": 5, "who": "x"}), "F-1").await;
        let completed = start(&app, &as_bob, "flow", json!({}), "F-2").await;
        let cancelled = start(&app, &as_bob, "flow", json!({}), "F-3").await;
        let task = rt.tasks().open_in(&as_bob, completed).await.unwrap()[0].id;
        rt.tasks().claim(&as_bob, task).await.unwrap();
        rt.tasks()
            .complete(&as_bob, task, Values::Json(obj(json!({}))))
            .await
            .unwrap();
        rt.instances().cancel(&admin, cancelled).await.unwrap();
        let all = bob
            .ok("/history/process-instance?processDefinitionKey=flow&sortBy=startTime&sortOrder=asc")
            .await;
        let all = all.as_array().unwrap();
        assert_eq!(all.len(), 3, "{backend}");
        for h in all {
            shape(h, HISTORIC_INSTANCE_FIELDS, &["startTime"]);
            assert_eq!(h["startUserId"], json!("bob"));
            assert_eq!(h["processDefinitionName"], json!("Flow"));
            assert_eq!(h["processDefinitionVersion"], json!(1));
        }
        let states: Vec<&Value> = all.iter().map(|h| &h["state"]).collect();
        assert_eq!(
            states,
            [
                &json!("ACTIVE"),
                &json!("COMPLETED"),
                &json!("EXTERNALLY_TERMINATED")
            ]
        );
        assert_eq!(all[0]["id"], json!(active));
        assert_eq!(all[0]["durationInMillis"], Value::Null);
        assert!(all[1]["durationInMillis"].is_i64() && all[1]["endTime"].is_string());
        assert_eq!(all[1]["businessKey"], json!("F-2"));
        assert_eq!(
            bob.ok("/history/process-instance/count?processDefinitionKey=flow&finished=true")
                .await,
            json!({"count": 2})
        );
        let some = bob
            .post(
                "/history/process-instance",
                json!({"processInstanceIds": [active, completed], "unfinished": true}),
            )
            .await;
        assert_eq!(some.0, StatusCode::OK);
        assert_eq!(some.1.as_array().unwrap().len(), 1);
        assert_eq!(some.1[0]["id"], json!(active));
        assert_eq!(
            bob.post(
                "/history/process-instance/count",
                json!({"withIncidents": true})
            )
            .await
            .1,
            json!({"count": 1})
        );
        let one = bob
            .ok(&format!("/history/process-instance/{completed}"))
            .await;
        assert_eq!(one["state"], json!("COMPLETED"));
        error(
            &alice
                .get(&format!("/history/process-instance/{completed}"))
                .await,
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
        );
        assert_eq!(
            alice.ok("/history/process-instance/count").await,
            json!({"count": 0})
        );

        // The activity instances of an instance, with Camunda's type names.
        let acts = bob
            .ok(&format!(
                "/history/activity-instance?processInstanceId={completed}&sortBy=startTime&sortOrder=asc"
            ))
            .await;
        let acts = acts.as_array().unwrap();
        let types: Vec<&str> = acts
            .iter()
            .map(|a| a["activityType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["startEvent", "userTask", "noneEndEvent"],
            "{backend}"
        );
        for a in acts {
            shape(a, ACTIVITY_FIELDS, &["startTime", "endTime"]);
            assert_eq!(a["canceled"], json!(false));
        }
        assert_eq!(acts[1]["taskId"], json!(task));
        assert_eq!(acts[1]["assignee"], json!("bob"));
        assert_eq!(acts[1]["activityName"], json!("Do it"));
        assert_eq!(acts[2]["completeScope"], json!(true));
        let stopped = bob
            .ok(&format!(
                "/history/activity-instance?processInstanceId={cancelled}&activityType=userTask"
            ))
            .await;
        assert_eq!(stopped[0]["canceled"], json!(true), "{backend}: {stopped}");
        assert_eq!(
            bob.ok(&format!(
                "/history/activity-instance/count?processInstanceId={active}&unfinished=true"
            ))
            .await,
            json!({"count": 1})
        );
        error(
            &bob.get("/history/activity-instance").await,
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
        );
        error(
            &alice
                .get(&format!(
                    "/history/activity-instance?processInstanceId={active}"
                ))
                .await,
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
        );

        // The variables of an instance.
        let vars = bob
            .ok(&format!(
                "/history/variable-instance?processInstanceId={active}&sortBy=variableName&sortOrder=asc"
            ))
            .await;
        let vars = vars.as_array().unwrap();
        assert_eq!(vars.len(), 2, "{backend}");
        for v in vars {
            shape(v, VARIABLE_FIELDS, &["createTime"]);
            assert_eq!(v["state"], json!("CREATED"));
            assert_eq!(v["processInstanceId"], json!(active));
        }
        assert_eq!(
            (
                vars[0]["name"].clone(),
                vars[0]["type"].clone(),
                vars[0]["value"].clone()
            ),
            (json!("n"), json!("Integer"), json!(5))
        );
        assert_eq!(
            bob.ok(&format!(
                "/history/variable-instance/count?processInstanceId={active}&variableNameLike=w%25"
            ))
            .await,
            json!({"count": 1})
        );
        error(
            &bob.get("/history/variable-instance").await,
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
        );
        error(
            &alice
                .get(&format!(
                    "/history/variable-instance?processInstanceId={active}"
                ))
                .await,
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
        );

        // Decisions.
        let defs = bob.ok("/decision-definition?key=segment").await;
        let defs = defs.as_array().unwrap();
        assert_eq!(defs.len(), 1);
        shape(&defs[0], DECISION_FIELDS, &[]);
        assert_eq!(defs[0]["name"], json!("Customer segment"));
        assert_eq!(defs[0]["version"], json!(1));
        assert_eq!(
            bob.ok("/decision-definition/count").await,
            json!({"count": 2})
        );
        let latest = bob.ok("/decision-definition/key/segment").await;
        assert_eq!(latest["id"], defs[0]["id"]);
        let years = json!({"variables": {"years": {"value": 1, "type": "Integer"}}});
        let by_key = bob
            .post("/decision-definition/key/segment/evaluate", years.clone())
            .await;
        assert_eq!(by_key.0, StatusCode::OK, "{by_key:?}");
        assert_eq!(
            by_key.1,
            json!([{"segment": {"type": "String", "value": "bronze", "valueInfo": {}}}])
        );
        let id = latest["id"].as_str().unwrap();
        let by_id = bob
            .post(&format!("/decision-definition/{id}/evaluate"), years)
            .await;
        assert_eq!(by_id.1, by_key.1);
        error(
            &bob.post("/decision-definition/key/nope/evaluate", json!({}))
                .await,
            StatusCode::NOT_FOUND,
            "RestException",
        );
        error(
            &bob.post(
                "/decision-definition/key/segment/evaluate",
                json!({"variables": {"years": {"value": "x", "type": "Integer"}}}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
        );
        app.stop().await;
    }
}
