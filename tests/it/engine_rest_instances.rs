//! Camunda 7's REST surface for process definitions, process instances,
//! their variables and activity trees, and message correlation results, over
//! real HTTP on every test database: the JSON shapes against the REST
//! reference's examples, the filters, the policy's visibility, and Camunda's
//! error bodies for every mistake.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::app::TestApp;
use crate::common::rt;
use crate::common::*;
use bpmn_engine::runtime::{NewUser, Role};

/// A caller of `/engine-rest` with a bearer token.
struct Rest {
    base: String,
    token: String,
    client: reqwest::Client,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: Value,
}

impl Reply {
    /// Camunda's error body: exactly `type` and `message`, as JSON.
    fn error(&self, status: StatusCode, kind: &str) -> &str {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["type"], json!(kind), "{self:?}");
        let keys: Vec<&String> = self.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["message", "type"], "{self:?}");
        self.body["message"].as_str().unwrap()
    }

    fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        &self.body
    }
}

impl Rest {
    fn new(app: &TestApp, token: &str) -> Rest {
        Rest {
            base: format!("{}/engine-rest", app.base),
            token: token.to_string(),
            client: reqwest::Client::new(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<String>) -> Reply {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let json = resp
            .headers()
            .get("content-type")
            .is_some_and(|c| c.to_str().unwrap().starts_with("application/json"));
        let text = resp.text().await.unwrap();
        let body = if json {
            serde_json::from_str(&text).unwrap()
        } else {
            // Not JSON: kept as text so that a test sees it is not Camunda's body.
            Value::String(text)
        };
        Reply { status, body }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body.to_string()))
            .await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body.to_string()))
            .await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// An account with a token to call as.
async fn account(app: &TestApp, name: &str, role: Role) -> String {
    if name != "admin" {
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
    }
    let user = app.runtime.user_named(name).await.unwrap().unwrap();
    app.runtime.create_token(user.id, "tests").await.unwrap().1
}

async fn deploy(app: &TestApp, name: &str, xml: &str) {
    app.runtime
        .deployments()
        .deploy(&rt::admin(None), name, xml.as_bytes())
        .await
        .unwrap();
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Orders with a start form; a subprocess with a user task runs beside a
/// wait for the message `go`.
fn orders(label: &str) -> String {
    definitions(&format!(
        r#"<bpmn:process id="orders" name="Orders" isExecutable="true">
<bpmn:startEvent id="s"><bpmn:extensionElements><camunda:formData>
<camunda:formField id="amount" label="{label}" type="long" defaultValue="10"/>
<camunda:formField id="customer" type="string"/>
<camunda:formField id="vip" type="boolean" defaultValue="true"/>
<camunda:formField id="due" type="date" defaultValue="2024-05-06"/>
</camunda:formData></bpmn:extensionElements></bpmn:startEvent>
<bpmn:parallelGateway id="fork"/>
<bpmn:subProcess id="sub" name="Checking">
<bpmn:startEvent id="ss"/>
<bpmn:userTask id="approve" name="Approve" camunda:candidateUsers="admin"/>
<bpmn:endEvent id="se"/>
{}{}
</bpmn:subProcess>
<bpmn:intermediateCatchEvent id="wait" name="Go"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e1"/>
<bpmn:endEvent id="e2"/>
{}{}{}{}{}
</bpmn:process>
<bpmn:message id="M" name="go"/>"#,
        flow("sf0", "ss", "approve"),
        flow("sf1", "approve", "se"),
        flow("f0", "s", "fork"),
        flow("f1", "fork", "sub"),
        flow("f2", "fork", "wait"),
        flow("f3", "sub", "e1"),
        flow("f4", "wait", "e2"),
    ))
}

/// A process without a name, started by the message `hello`.
fn greeter() -> String {
    definitions(&format!(
        r#"<bpmn:process id="greeter" isExecutable="true">
<bpmn:startEvent id="hi"><bpmn:messageEventDefinition messageRef="H"/></bpmn:startEvent>
<bpmn:userTask id="greet" camunda:candidateUsers="admin"/>
<bpmn:endEvent id="e"/>
{}{}
</bpmn:process>
<bpmn:message id="H" name="hello"/>"#,
        flow("f0", "hi", "greet"),
        flow("f1", "greet", "e"),
    ))
}

/// The fields of Camunda's ProcessDefinitionDto.
const DEFINITION_FIELDS: [&str; 14] = [
    "category",
    "deploymentId",
    "description",
    "diagram",
    "historyTimeToLive",
    "id",
    "key",
    "name",
    "resource",
    "startableInTasklist",
    "suspended",
    "tenantId",
    "version",
    "versionTag",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_definitions_are_listed_read_and_started_as_in_camunda() {
    for app in TestApp::each().await {
        let admin = Rest::new(&app, &account(&app, "admin", Role::Admin).await);
        deploy(&app, "orders.bpmn", &orders("Amount")).await;
        deploy(&app, "orders-v2.bpmn", &orders("Sum")).await;
        deploy(&app, "greeter.bpmn", &greeter()).await;

        let all = admin.get("/process-definition").await;
        let all = all.ok().as_array().unwrap().clone();
        assert_eq!(all.len(), 3, "{all:?}");
        for d in &all {
            assert_eq!(keys(d), DEFINITION_FIELDS, "{d}");
            assert!(d["id"].is_string() && d["deploymentId"].is_string(), "{d}");
            assert!(d["version"].is_i64(), "{d}");
            assert_eq!(d["suspended"], json!(false));
            assert_eq!(d["tenantId"], Value::Null);
            assert_eq!(d["startableInTasklist"], json!(true));
        }
        let v2 = all
            .iter()
            .find(|d| d["key"] == json!("orders") && d["version"] == json!(2))
            .unwrap()
            .clone();
        assert_eq!(v2["name"], json!("Orders"));
        assert_eq!(v2["resource"], json!("orders-v2.bpmn"));
        let v2_id = v2["id"].as_str().unwrap();

        let ids = |r: Reply| -> Vec<(String, i64)> {
            r.ok()
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["key"].as_str().unwrap().to_string(),
                        d["version"].as_i64().unwrap(),
                    )
                })
                .collect()
        };
        let cases: [(&str, Vec<(&str, i64)>); 14] = [
            (
                "key=orders&sortBy=version&sortOrder=desc",
                vec![("orders", 2), ("orders", 1)],
            ),
            (
                "key=orders&sortBy=version&sortOrder=asc",
                vec![("orders", 1), ("orders", 2)],
            ),
            (
                "latestVersion=true&sortBy=key&sortOrder=asc",
                vec![("greeter", 1), ("orders", 2)],
            ),
            ("keyLike=gree%25", vec![("greeter", 1)]),
            ("keysIn=greeter,nope", vec![("greeter", 1)]),
            ("nameLike=Ord%25&version=1", vec![("orders", 1)]),
            (
                "name=Orders&resourceName=orders-v2.bpmn",
                vec![("orders", 2)],
            ),
            ("resourceNameLike=%25v2%25", vec![("orders", 2)]),
            (&format!("processDefinitionId={v2_id}"), vec![("orders", 2)]),
            (
                &format!("processDefinitionIdIn={v2_id},0"),
                vec![("orders", 2)],
            ),
            (
                "key=orders&active=true&withoutTenantId=true&maxResults=1&firstResult=1&sortBy=version&sortOrder=asc",
                vec![("orders", 2)],
            ),
            ("suspended=true", vec![]),
            ("category=x", vec![]),
            ("key=greeter&someFutureParameter=1", vec![("greeter", 1)]),
        ];
        for (query, expected) in cases {
            let got = ids(admin.get(&format!("/process-definition?{query}")).await);
            let expected: Vec<(String, i64)> = expected
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            assert_eq!(got, expected, "{query}");
        }
        let count = admin.get("/process-definition/count?key=orders").await;
        assert_eq!(count.ok(), &json!({"count": 2}));

        // Mistakes are Camunda's 400, as JSON, naming the parameter.
        for (query, names) in [
            ("maxResults=abc", "maxResults"),
            ("firstResult=-1", "firstResult"),
            ("sortBy=color&sortOrder=asc", "sortBy"),
            ("sortBy=key", "sortOrder"),
            ("sortBy=key&sortOrder=up", "sortOrder"),
            ("latestVersion=yes", "latestVersion"),
            ("startableBy=bob", "startableBy"),
            ("incidentMessage=x", "incidentMessage"),
        ] {
            for path in ["/process-definition", "/process-definition/count"] {
                let r = admin.get(&format!("{path}?{query}")).await;
                let m = r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
                assert!(m.contains(names), "{query}: {m}");
            }
        }

        // One definition, by id and by key (the latest version).
        let by_key = admin.get("/process-definition/key/orders").await;
        assert_eq!(by_key.ok(), &v2);
        let by_id = admin.get(&format!("/process-definition/{v2_id}")).await;
        assert_eq!(by_id.ok(), &v2);
        let m = admin
            .get("/process-definition/key/nope")
            .await
            .error(StatusCode::NOT_FOUND, "RestException")
            .to_string();
        assert!(m.contains("nope"), "{m}");
        admin
            .get("/process-definition/999999")
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");

        // The XML, by key and by id.
        let xml = admin.get("/process-definition/key/orders/xml").await;
        assert_eq!(keys(xml.ok()), ["bpmn20Xml", "id"]);
        assert_eq!(xml.body["id"], json!(v2_id));
        assert_eq!(xml.body["bpmn20Xml"], json!(orders("Sum")));
        let v1_id = all
            .iter()
            .find(|d| d["key"] == json!("orders") && d["version"] == json!(1))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let xml = admin.get(&format!("/process-definition/{v1_id}/xml")).await;
        assert_eq!(xml.ok()["bpmn20Xml"], json!(orders("Amount")));

        // The start form's variables, typed as Camunda types form fields.
        let form = admin
            .get("/process-definition/key/orders/form-variables")
            .await;
        assert_eq!(
            form.ok(),
            &json!({
                "amount": {"value": 10, "type": "Long", "valueInfo": {}},
                "customer": {"value": null, "type": "String", "valueInfo": {}},
                "vip": {"value": true, "type": "Boolean", "valueInfo": {}},
                "due": {"value": "2024-05-06T00:00:00.000+0000", "type": "Date", "valueInfo": {}},
            })
        );
        let form = admin
            .get(&format!(
                "/process-definition/{v1_id}/form-variables?variableNames=amount,vip&deserializeValues=false"
            ))
            .await;
        assert_eq!(keys(form.ok()), ["amount", "vip"]);
        let form = admin
            .get("/process-definition/key/greeter/form-variables")
            .await;
        assert_eq!(form.ok(), &json!({}));

        // Starting by id runs that very version, with typed variables.
        let r = admin
            .post(
                &format!("/process-definition/{v1_id}/start"),
                json!({"businessKey": "B-7", "withVariablesInReturn": true,
                       "variables": {"amount": {"value": 70, "type": "Long"},
                                     "customer": {"value": "Ada", "type": "String"}}}),
            )
            .await;
        let started = r.ok().clone();
        assert_eq!(
            keys(&started),
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
        assert_eq!(started["definitionId"], json!(v1_id));
        assert_eq!(started["businessKey"], json!("B-7"));
        assert_eq!(
            started["variables"]["amount"],
            json!({"value": 70, "type": "Integer", "valueInfo": {}})
        );
        assert_eq!(started["variables"]["vip"]["type"], json!("Boolean"));
        let id: Uuid = started["id"].as_str().unwrap().parse().unwrap();
        let (view, _) = app
            .runtime
            .instances()
            .get(&rt::admin(None), id)
            .await
            .unwrap();
        assert_eq!(view.definition_id.to_string(), v1_id);
        admin
            .post("/process-definition/999999/start", json!({}))
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");

        // Bodies that are not JSON, do not fit, or are too large: Camunda's
        // JSON error, and nothing starts.
        let before = admin.get("/process-instance/count").await.ok().clone();
        for body in ["{", "[1]", r#"{"variables": 5}"#, r#"{"businessKey": 1}"#] {
            let r = admin
                .send(
                    reqwest::Method::POST,
                    "/process-definition/key/orders/start",
                    Some(body.to_string()),
                )
                .await;
            r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        }
        let huge = format!(r#"{{"businessKey": "{}"}}"#, "x".repeat(5 * 1024 * 1024));
        let r = admin
            .send(
                reqwest::Method::POST,
                "/process-definition/key/orders/start",
                Some(huge),
            )
            .await;
        r.error(StatusCode::PAYLOAD_TOO_LARGE, "InvalidRequestException");
        let m = admin
            .post(
                "/process-definition/key/orders/start",
                json!({"skipIoMappings": true}),
            )
            .await
            .error(StatusCode::BAD_REQUEST, "InvalidRequestException")
            .to_string();
        assert!(m.contains("skipIoMappings"), "{m}");
        assert_eq!(admin.get("/process-instance/count").await.ok(), &before);
        app.stop().await;
    }
}

/// Starts `orders` as the caller, with these variables and business key.
async fn start(rest: &Rest, vars: Value, business_key: &str) -> Uuid {
    let r = rest
        .post(
            "/process-definition/key/orders/start",
            json!({"variables": vars, "businessKey": business_key}),
        )
        .await;
    r.ok()["id"].as_str().unwrap().parse().unwrap()
}

/// The fields of Camunda's ProcessInstanceDto.
const INSTANCE_FIELDS: [&str; 8] = [
    "businessKey",
    "caseInstanceId",
    "definitionId",
    "ended",
    "id",
    "links",
    "suspended",
    "tenantId",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_instances_are_queried_read_changed_and_cancelled_as_in_camunda() {
    for app in TestApp::each().await {
        let admin = Rest::new(&app, &account(&app, "admin", Role::Admin).await);
        let carol = Rest::new(&app, &account(&app, "carol", Role::User).await);
        deploy(&app, "orders.bpmn", &orders("Amount")).await;
        deploy(&app, "greeter.bpmn", &greeter()).await;
        let small = start(
            &admin,
            json!({"amount": {"value": 5, "type": "Long"}, "customer": {"value": "Ada Lovelace", "type": "String"}}),
            "ORD-1",
        )
        .await;
        let middle = start(
            &admin,
            json!({"amount": {"value": 50, "type": "Long"}, "customer": {"value": "Alan Turing", "type": "String"}}),
            "ORD-2",
        )
        .await;
        let large = start(
            &carol,
            json!({"amount": {"value": 500, "type": "Long"}, "customer": {"value": "Grace Hopper", "type": "String"}}),
            "X-3",
        )
        .await;
        let greeted = admin
            .post(
                "/message",
                json!({"messageName": "hello", "businessKey": "G-1"}),
            )
            .await;
        assert_eq!(greeted.status, StatusCode::NO_CONTENT, "{greeted:?}");

        let list = admin
            .get("/process-instance?processDefinitionKey=orders")
            .await;
        let list = list.ok().as_array().unwrap().clone();
        assert_eq!(list.len(), 3);
        for i in &list {
            assert_eq!(keys(i), INSTANCE_FIELDS, "{i}");
            assert_eq!(i["ended"], json!(false));
            assert_eq!(i["suspended"], json!(false));
            assert_eq!(i["tenantId"], Value::Null);
            assert_eq!(i["caseInstanceId"], Value::Null);
            assert_eq!(i["links"][0]["rel"], json!("self"));
        }

        let found = |r: Reply| -> Vec<Uuid> {
            let mut ids: Vec<Uuid> = r
                .ok()
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().parse().unwrap())
                .collect();
            ids.sort();
            ids
        };
        let sorted = |mut v: Vec<Uuid>| {
            v.sort();
            v
        };
        let get_cases: Vec<(String, Vec<Uuid>)> = vec![
            ("variables=amount_gt_10".into(), vec![middle, large]),
            (
                "variables=amount_gteq_50,amount_lt_500".into(),
                vec![middle],
            ),
            ("variables=amount_eq_5".into(), vec![small]),
            (
                "variables=amount_neq_5&processDefinitionKey=orders".into(),
                vec![middle, large],
            ),
            ("variables=amount_lteq_50".into(), vec![small, middle]),
            ("variables=customer_like_A%25".into(), vec![small, middle]),
            (
                "variables=customer_eq_alan turing&variableValuesIgnoreCase=true".into(),
                vec![middle],
            ),
            (
                "variables=CUSTOMER_eq_Grace Hopper&variableNamesIgnoreCase=true".into(),
                vec![large],
            ),
            ("businessKey=ORD-2".into(), vec![middle]),
            ("businessKeyLike=ORD%25".into(), vec![small, middle]),
            (
                format!("processInstanceIds={small},{large}"),
                vec![small, large],
            ),
            (
                "processDefinitionKeyIn=orders,nope&businessKeyLike=X%25".into(),
                vec![large],
            ),
            (
                "active=true&withIncident=false&processDefinitionKey=orders".into(),
                vec![small, middle, large],
            ),
            ("withIncident=true".into(), vec![]),
            ("suspended=true".into(), vec![]),
            ("tenantIdIn=t1".into(), vec![]),
        ];
        for (query, expected) in get_cases {
            let got = found(admin.get(&format!("/process-instance?{query}")).await);
            assert_eq!(got, sorted(expected.clone()), "{query}");
            let count = admin.get(&format!("/process-instance/count?{query}")).await;
            assert_eq!(count.ok(), &json!({"count": expected.len()}), "{query}");
        }
        // The same in a JSON body, with typed values and Camunda's sorting.
        let body_cases = [
            json!({"variables": [{"name": "amount", "operator": "gt", "value": 10}]}),
            json!({"variables": [{"name": "amount", "operator": "lteq", "value": 500},
                                 {"name": "customer", "operator": "neq", "value": "Ada Lovelace"}],
                   "processDefinitionKey": "orders"}),
            json!({"processInstanceIds": [middle, large], "businessKeyLike": "%",
                   "sorting": [{"sortBy": "businessKey", "sortOrder": "desc"}]}),
        ];
        for body in body_cases {
            let r = admin.post("/process-instance", body.clone()).await;
            assert_eq!(found(r), sorted(vec![middle, large]), "{body}");
            let c = admin.post("/process-instance/count", body.clone()).await;
            assert_eq!(c.ok(), &json!({"count": 2}), "{body}");
        }
        let order = |r: Reply| -> Vec<String> {
            r.ok()
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["businessKey"].as_str().unwrap().to_string())
                .collect()
        };
        let r = admin
            .post(
                "/process-instance?firstResult=1&maxResults=2",
                json!({"processDefinitionKey": "orders",
                       "sorting": [{"sortBy": "businessKey", "sortOrder": "asc"}]}),
            )
            .await;
        assert_eq!(order(r), ["ORD-2", "X-3"]);
        let r = admin
            .get("/process-instance?processDefinitionKey=orders&sortBy=businessKey&sortOrder=desc&maxResults=1")
            .await;
        assert_eq!(order(r), ["X-3"]);

        // Mistakes are Camunda's 400, naming what was wrong; unknown ones are ignored.
        for (query, names) in [
            ("variables=amount_is_5", "amount_is_5"),
            ("variables=amount", "amount"),
            ("maxResults=x", "maxResults"),
            ("sortBy=started&sortOrder=asc", "sortBy"),
            ("sortOrder=asc", "sortBy"),
            ("withIncident=maybe", "withIncident"),
            ("incidentMessage=boom", "incidentMessage"),
            ("activityIdIn=approve", "activityIdIn"),
            ("superProcessInstance=x", "superProcessInstance"),
        ] {
            let r = admin.get(&format!("/process-instance?{query}")).await;
            let m = r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
            assert!(m.contains(names), "{query}: {m}");
        }
        for body in [
            json!({"variables": [{"name": "amount", "operator": "bigger", "value": 1}]}),
            json!({"variables": {"amount": 1}}),
            json!({"processInstanceIds": "abc"}),
            json!({"sorting": [{"sortBy": "instanceId", "sortOrder": "asc"},
                               {"sortBy": "businessKey", "sortOrder": "asc"}]}),
            json!({"withIncident": "yes"}),
        ] {
            let r = admin.post("/process-instance", body.clone()).await;
            r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        }
        let r = admin
            .send(
                reqwest::Method::POST,
                "/process-instance",
                Some("{nope".into()),
            )
            .await;
        r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        let r = admin
            .get("/process-instance?processDefinitionKey=orders&futureFilter=1")
            .await;
        assert_eq!(r.ok().as_array().unwrap().len(), 3);

        // A user sees only the instances they are involved in, as in /api/v1.
        assert_eq!(found(carol.get("/process-instance").await), vec![large]);
        assert_eq!(
            carol.get("/process-instance/count").await.ok(),
            &json!({"count": 1})
        );
        carol
            .get(&format!("/process-instance/{small}"))
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        let own = carol.get(&format!("/process-instance/{large}")).await;
        assert_eq!(keys(own.ok()), INSTANCE_FIELDS);
        assert_eq!(own.body["businessKey"], json!("X-3"));
        assert!(
            own.body["links"][0]["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/engine-rest/process-instance/{large}"))
        );

        // Variables: all of them, one, set one, modify several.
        let vars = admin
            .get(&format!(
                "/process-instance/{small}/variables?deserializeValues=false"
            ))
            .await;
        assert_eq!(
            vars.ok()["amount"],
            json!({"value": 5, "type": "Integer", "valueInfo": {}})
        );
        assert_eq!(
            vars.body["customer"],
            json!({"value": "Ada Lovelace", "type": "String", "valueInfo": {}})
        );
        let one = admin
            .get(&format!("/process-instance/{small}/variables/customer"))
            .await;
        assert_eq!(
            one.ok(),
            &json!({"value": "Ada Lovelace", "type": "String", "valueInfo": {}})
        );
        admin
            .get(&format!("/process-instance/{small}/variables/nope"))
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        let r = admin
            .put(
                &format!("/process-instance/{small}/variables/deadline"),
                json!({"value": "2025-03-04T05:06:07.890+0200", "type": "Date"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let d = admin
            .get(&format!("/process-instance/{small}/variables/deadline"))
            .await;
        assert_eq!(
            d.ok(),
            &json!({"value": "2025-03-04T03:06:07.890+0000", "type": "Date", "valueInfo": {}})
        );
        let r = admin
            .post(
                &format!("/process-instance/{small}/variables"),
                json!({"modifications": {"amount": {"value": 6, "type": "Integer"},
                                         "doc": {"value": "{\"a\":[1]}", "type": "Json"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let vars = admin
            .get(&format!("/process-instance/{small}/variables"))
            .await;
        assert_eq!(vars.ok()["amount"]["value"], json!(6));
        assert_eq!(
            vars.body["doc"],
            json!({"value": "{\"a\":[1]}", "type": "Json", "valueInfo": {}})
        );
        // Modifications and deletions at once; deleting one variable; deleting
        // one the instance lacks changes nothing, as in Camunda.
        let r = admin
            .post(
                &format!("/process-instance/{small}/variables"),
                json!({"modifications": {"amount": {"value": 7, "type": "Integer"}},
                       "deletions": ["customer"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        for name in ["doc", "neverSet"] {
            let r = admin
                .delete(&format!("/process-instance/{small}/variables/{name}"))
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        }
        let vars = admin
            .get(&format!("/process-instance/{small}/variables"))
            .await;
        assert_eq!(vars.ok()["amount"]["value"], json!(7));
        assert!(vars.body.get("customer").is_none(), "{vars:?}");
        assert!(vars.body.get("doc").is_none(), "{vars:?}");
        admin
            .get(&format!("/process-instance/{small}/variables/doc"))
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        // A removed variable no longer finds the instance.
        let got = found(
            admin
                .get("/process-instance?variables=customer_like_A%25")
                .await,
        );
        assert_eq!(got, vec![middle]);
        // Mistakes are refused, naming the variable, and change nothing.
        for r in [
            admin
                .post(
                    &format!("/process-instance/{small}/variables"),
                    json!({"modifications": {"amount": {"value": 8, "type": "Integer"}},
                           "deletions": ["amount"]}),
                )
                .await,
            admin
                .put(
                    &format!("/process-instance/{small}/variables/amount"),
                    json!({"value": "many", "type": "Integer"}),
                )
                .await,
        ] {
            let m = r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
            assert!(m.contains("amount"), "{m}");
        }
        let vars = admin
            .get(&format!("/process-instance/{small}/variables"))
            .await;
        assert_eq!(vars.ok()["amount"]["value"], json!(7));
        carol
            .delete(&format!("/process-instance/{large}/variables/amount"))
            .await
            .error(StatusCode::FORBIDDEN, "AuthorizationException");
        // Only admins set variables, as the policy says.
        carol
            .put(
                &format!("/process-instance/{large}/variables/amount"),
                json!({"value": 1, "type": "Integer"}),
            )
            .await
            .error(StatusCode::FORBIDDEN, "AuthorizationException");

        // The activity tree: the subprocess holds the user task; the catch
        // event waits beside it.
        let tree = admin
            .get(&format!("/process-instance/{small}/activity-instances"))
            .await;
        let tree = tree.ok().clone();
        let activity_fields = [
            "activityId",
            "activityName",
            "activityType",
            "childActivityInstances",
            "childTransitionInstances",
            "executionIds",
            "id",
            "incidentIds",
            "incidents",
            "name",
            "parentActivityInstanceId",
            "processDefinitionId",
            "processInstanceId",
        ];
        assert_eq!(keys(&tree), activity_fields);
        assert_eq!(tree["id"], json!(small.to_string()));
        assert_eq!(tree["activityType"], json!("processDefinition"));
        assert_eq!(tree["parentActivityInstanceId"], Value::Null);
        assert_eq!(tree["activityName"], json!("Orders"));
        assert_eq!(tree["childTransitionInstances"], json!([]));
        let children = tree["childActivityInstances"].as_array().unwrap();
        let mut kinds: Vec<(&str, &str)> = children
            .iter()
            .map(|c| {
                (
                    c["activityId"].as_str().unwrap(),
                    c["activityType"].as_str().unwrap(),
                )
            })
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [("sub", "subProcess"), ("wait", "intermediateCatchEvent")]
        );
        let sub = children
            .iter()
            .find(|c| c["activityId"] == json!("sub"))
            .unwrap();
        assert_eq!(keys(sub), activity_fields);
        assert_eq!(sub["parentActivityInstanceId"], tree["id"]);
        assert_eq!(sub["activityName"], json!("Checking"));
        let inner = sub["childActivityInstances"].as_array().unwrap();
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0]["activityId"], json!("approve"));
        assert_eq!(inner[0]["activityType"], json!("userTask"));
        assert_eq!(inner[0]["parentActivityInstanceId"], sub["id"]);
        assert_eq!(inner[0]["childActivityInstances"], json!([]));
        assert_eq!(inner[0]["processInstanceId"], json!(small.to_string()));
        assert_eq!(inner[0]["executionIds"].as_array().unwrap().len(), 1);

        // Cancelling: admins only; afterwards the instance is gone from the
        // running ones.
        carol
            .delete(&format!("/process-instance/{large}"))
            .await
            .error(StatusCode::FORBIDDEN, "AuthorizationException");
        let r = admin.delete(&format!("/process-instance/{large}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        for path in [
            format!("/process-instance/{large}"),
            format!("/process-instance/{large}/variables"),
            format!("/process-instance/{large}/activity-instances"),
        ] {
            admin
                .get(&path)
                .await
                .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        }
        admin
            .delete(&format!("/process-instance/{large}"))
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        admin
            .delete(&format!("/process-instance/{}", Uuid::nil()))
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        admin
            .delete("/process-instance/not-an-id")
            .await
            .error(StatusCode::NOT_FOUND, "InvalidRequestException");
        assert_eq!(
            found(carol.get("/process-instance").await),
            Vec::<Uuid>::new()
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_answer_camundas_results_and_refuse_what_they_cannot_honour() {
    for app in TestApp::each().await {
        let admin = Rest::new(&app, &account(&app, "admin", Role::Admin).await);
        deploy(&app, "orders.bpmn", &orders("Amount")).await;
        deploy(&app, "greeter.bpmn", &greeter()).await;
        let first = start(
            &admin,
            json!({"customer": {"value": "north", "type": "String"}}),
            "K",
        )
        .await;
        let second = start(
            &admin,
            json!({"customer": {"value": "south", "type": "String"}}),
            "K",
        )
        .await;

        // Refused by name, and nothing is delivered.
        for (body, names) in [
            (
                json!({"messageName": "go", "localCorrelationKeys": {"customer": {"value": "north"}}}),
                "localCorrelationKeys",
            ),
            (
                json!({"messageName": "go", "businessKey": "K",
                       "correlationKeys": {"customer": {"value": "north", "type": "String"}},
                       "processVariablesLocal": {"x": {"value": 1}}}),
                "processVariablesLocal",
            ),
            (
                json!({"messageName": "go", "variablesInResultEnabled": true,
                       "correlationKeys": {"customer": {"value": "north", "type": "String"}}}),
                "variablesInResultEnabled",
            ),
            (json!({"messageName": "go", "tenantId": "t"}), "tenantId"),
        ] {
            let r = admin.post("/message", body).await;
            let m = r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
            assert!(m.contains(names), "{m}");
        }
        for body in ["{", r#"{"messageName": 5}"#] {
            let r = admin
                .send(reqwest::Method::POST, "/message", Some(body.into()))
                .await;
            r.error(StatusCode::BAD_REQUEST, "InvalidRequestException");
        }
        // Two instances wait with business key K: without correlation keys or
        // `all`, that is Camunda's 400.
        let r = admin
            .post("/message", json!({"messageName": "go", "businessKey": "K"}))
            .await;
        r.error(StatusCode::BAD_REQUEST, "RestException");

        // correlationKeys choose the instance; the result is Camunda's.
        let r = admin
            .post(
                "/message",
                json!({"messageName": "go", "businessKey": "K", "resultEnabled": true,
                       "variablesInResultEnabled": true,
                       "correlationKeys": {"customer": {"value": "south", "type": "String"}},
                       "processVariables": {"seen": {"value": true, "type": "Boolean"}}}),
            )
            .await;
        let results = r.ok().as_array().unwrap().clone();
        assert_eq!(results.len(), 1);
        let res = &results[0];
        assert_eq!(
            keys(res),
            ["execution", "processInstance", "resultType", "variables"]
        );
        assert_eq!(res["resultType"], json!("Execution"));
        assert_eq!(res["processInstance"], Value::Null);
        assert_eq!(
            keys(&res["execution"]),
            ["ended", "id", "processInstanceId", "tenantId"]
        );
        assert_eq!(
            res["execution"]["processInstanceId"],
            json!(second.to_string())
        );
        assert_eq!(res["execution"]["ended"], json!(false));
        assert_eq!(
            res["variables"]["seen"],
            json!({"value": true, "type": "Boolean", "valueInfo": {}})
        );
        assert_eq!(res["variables"]["customer"]["value"], json!("south"));
        let vars = admin
            .get(&format!("/process-instance/{first}/variables"))
            .await;
        assert!(vars.ok().get("seen").is_none(), "{vars:?}");

        // processInstanceId picks the instance; without results, 204.
        let r = admin
            .post(
                "/message",
                json!({"messageName": "go", "processInstanceId": first}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
        let tree = admin
            .get(&format!("/process-instance/{first}/activity-instances"))
            .await;
        let ids: Vec<&Value> = tree.ok()["childActivityInstances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["activityId"])
            .collect();
        assert_eq!(ids, [&json!("sub")]);

        // A message start event: Camunda's ProcessDefinition result.
        let r = admin
            .post(
                "/message",
                json!({"messageName": "hello", "businessKey": "G-9", "resultEnabled": true}),
            )
            .await;
        let results = r.ok().as_array().unwrap().clone();
        assert_eq!(results.len(), 1);
        let res = &results[0];
        assert_eq!(keys(res), ["execution", "processInstance", "resultType"]);
        assert_eq!(res["resultType"], json!("ProcessDefinition"));
        assert_eq!(res["execution"], Value::Null);
        assert_eq!(keys(&res["processInstance"]), INSTANCE_FIELDS);
        assert_eq!(res["processInstance"]["businessKey"], json!("G-9"));
        let greeter = admin.get("/process-definition/key/greeter").await;
        assert_eq!(res["processInstance"]["definitionId"], greeter.ok()["id"]);

        // `all` reaches every waiting instance that matches.
        let mut waiting = vec![
            start(&admin, json!({}), "ALL").await,
            start(&admin, json!({}), "ALL").await,
        ];
        waiting.sort();
        let r = admin
            .post(
                "/message",
                json!({"messageName": "go", "businessKey": "ALL", "all": true, "resultEnabled": true}),
            )
            .await;
        let mut reached: Vec<Uuid> = r
            .ok()
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                assert_eq!(x["resultType"], json!("Execution"));
                x["execution"]["processInstanceId"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        reached.sort();
        assert_eq!(reached, waiting);
        app.stop().await;
    }
}

/// The process deployed from Camunda Modeler: paid by message, shipped by an
/// external worker, then archived by a person.
fn shipping() -> String {
    definitions(&format!(
        r#"<bpmn:process id="shipping" name="Shipping" isExecutable="true">
<bpmn:startEvent id="s"/>
<bpmn:intermediateCatchEvent id="paid" name="Paid"><bpmn:messageEventDefinition messageRef="P"/></bpmn:intermediateCatchEvent>
<bpmn:serviceTask id="ship" name="Ship" camunda:type="external" camunda:topic="shipping"/>
<bpmn:userTask id="archive" name="Archive" camunda:candidateUsers="admin"/>
<bpmn:endEvent id="e"/>
{}{}{}{}
</bpmn:process>
<bpmn:message id="P" name="paid"/>"#,
        flow("f0", "s", "paid"),
        flow("f1", "paid", "ship"),
        flow("f2", "ship", "archive"),
        flow("f3", "archive", "e"),
    ))
}

/// A decision attached to the deployment.
const RATES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="rates_defs" name="Rates" namespace="http://example.com">
<decision id="rates" name="Rates"><decisionTable>
<input label="Weight"><inputExpression typeRef="number"><text>weight</text></inputExpression></input>
<output name="rate" typeRef="number"/>
<rule><inputEntry><text>&lt; 10</text></inputEntry><outputEntry><text>5</text></outputEntry></rule>
</decisionTable></decision></definitions>"#;

/// The boundary Chromium's `FormData` encoder makes (Camunda Modeler is an
/// Electron app): `----WebKitFormBoundary` and 16 letters and digits.
const MODELER_BOUNDARY: &str = "----WebKitFormBoundaryZ3rTq9WbX1mK7vLp";

/// The request body Camunda Modeler 5 builds in `CamundaAPI.deployDiagram`
/// for **Deploy** to a Camunda 7 engine, byte for byte as Chromium encodes
/// its `FormData`: `deployment-name`, `deployment-source` (`Camunda
/// Modeler`), `enable-duplicate-filtering` (`true`; Modeler stopped sending
/// `deploy-changed-only` in 4.10), `tenant-id` only when one is configured,
/// the diagram as a `text/xml` blob whose part name and file name are the
/// tab's file name, then each attached file as a blob without a type
/// (`application/octet-stream`), named by its file name.
fn modeler_request(
    name: &str,
    tenant: Option<&str>,
    diagram: (&str, &str),
    attachments: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut field = |n: &str, v: &str| {
        out.extend_from_slice(
            format!(
                "--{MODELER_BOUNDARY}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n"
            )
            .as_bytes(),
        );
    };
    field("deployment-name", name);
    field("deployment-source", "Camunda Modeler");
    field("enable-duplicate-filtering", "true");
    if let Some(t) = tenant {
        field("tenant-id", t);
    }
    let mut file = |n: &str, content_type: &str, contents: &str| {
        out.extend_from_slice(
            format!(
                "--{MODELER_BOUNDARY}\r\nContent-Disposition: form-data; name=\"{n}\"; filename=\"{n}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(contents.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    file(diagram.0, "text/xml", diagram.1);
    for (n, contents) in attachments {
        file(n, "application/octet-stream", contents);
    }
    out.extend_from_slice(format!("--{MODELER_BOUNDARY}--\r\n").as_bytes());
    out
}

/// HTTP Basic, as Modeler's `RestAPI.getAuthHeader` writes it (`btoa`).
fn modeler_basic(user: &str, password: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camunda_modelers_deploy_request_deploys_and_the_process_runs_through_the_rest_api() {
    for app in TestApp::each().await {
        let base = format!("{}/engine-rest", app.base);
        let client = reqwest::Client::new();
        let auth = modeler_basic("admin", "admin-password");
        // Modeler's calls, with its headers: `accept` and `authorization`.
        let modeler_get = |path: &str| {
            client
                .get(format!("{base}{path}"))
                .header("accept", "application/json")
                .header("authorization", &auth)
                .send()
        };
        // The connection check, then the version.
        let r = modeler_get("/deployment?maxResults=0").await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
        let r = modeler_get("/version").await.unwrap();
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"version": "7.22.0"})
        );

        let body = modeler_request(
            "shipping",
            None,
            ("shipping.bpmn", &shipping()),
            &[("rates.dmn", RATES)],
        );
        let r = client
            .post(format!("{base}/deployment/create"))
            .header("accept", "application/json")
            .header("authorization", &auth)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={MODELER_BOUNDARY}"),
            )
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let deployed: Value = r.json().await.unwrap();
        assert_eq!(
            keys(&deployed),
            [
                "deployedCaseDefinitions",
                "deployedDecisionDefinitions",
                "deployedDecisionRequirementsDefinitions",
                "deployedProcessDefinitions",
                "deploymentTime",
                "id",
                "links",
                "name",
                "source",
                "tenantId"
            ]
        );
        assert_eq!(deployed["name"], json!("shipping"));
        assert_eq!(deployed["source"], json!("Camunda Modeler"));
        let processes = deployed["deployedProcessDefinitions"].as_object().unwrap();
        assert_eq!(processes.len(), 1);
        let (definition_id, process) = processes.iter().next().unwrap();
        assert_eq!(keys(process), DEFINITION_FIELDS);
        assert_eq!(process["key"], json!("shipping"));
        assert_eq!(process["resource"], json!("shipping.bpmn"));
        let decisions = deployed["deployedDecisionDefinitions"].as_object().unwrap();
        assert_eq!(decisions.values().next().unwrap()["key"], json!("rates"));
        assert_eq!(
            decisions.values().next().unwrap()["resource"],
            json!("rates.dmn")
        );

        // Modeler deploying the unchanged tab again makes nothing new.
        let r = client
            .post(format!("{base}/deployment/create"))
            .header("accept", "application/json")
            .header("authorization", &auth)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={MODELER_BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let again: Value = r.json().await.unwrap();
        assert_eq!(again["deployedProcessDefinitions"], Value::Null);

        // The process runs through the REST API: started by key with typed
        // variables, paid by a message, shipped by a worker.
        let admin = Rest::new(&app, &account(&app, "admin", Role::Admin).await);
        let worker = Rest::new(&app, &account(&app, "shipper", Role::Worker).await);
        let r = admin
            .post(
                "/process-definition/key/shipping/start",
                json!({"businessKey": "ORDER-7",
                       "variables": {"amount": {"value": 129, "type": "Integer"},
                                     "weight": {"value": 2.5, "type": "Double"},
                                     "rush": {"value": true, "type": "Boolean"},
                                     "due": {"value": "2025-01-31T12:00:00.000+0100", "type": "Date"},
                                     "items": {"value": "[\"book\",\"pen\"]", "type": "Json"}}}),
            )
            .await;
        let started = r.ok().clone();
        assert_eq!(started["definitionId"], json!(definition_id));
        let id = started["id"].as_str().unwrap().to_string();

        let r = worker
            .post(
                "/message",
                json!({"messageName": "paid", "businessKey": "ORDER-7", "resultEnabled": true,
                       "processVariables": {"paidAt": {"value": "2025-01-20T08:30:00.000+0000", "type": "Date"}}}),
            )
            .await;
        assert_eq!(r.ok()[0]["execution"]["processInstanceId"], json!(id));

        let r = worker
            .post(
                "/external-task/fetchAndLock",
                json!({"workerId": "shipper-1", "maxTasks": 1,
                       "topics": [{"topicName": "shipping", "lockDuration": 60000,
                                   "variables": ["amount", "due", "paidAt"]}]}),
            )
            .await;
        let tasks = r.ok().as_array().unwrap().clone();
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        assert_eq!(tasks[0]["businessKey"], json!("ORDER-7"));
        assert_eq!(
            tasks[0]["variables"]["due"],
            json!({"value": "2025-01-31T11:00:00.000+0000", "type": "Date", "valueInfo": {}})
        );
        assert_eq!(tasks[0]["variables"]["amount"]["type"], json!("Integer"));
        let task = tasks[0]["id"].as_str().unwrap();
        let r = worker
            .post(
                &format!("/external-task/{task}/complete"),
                json!({"workerId": "shipper-1",
                       "variables": {"tracking": {"value": "TRK-1", "type": "String"}}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");

        // The result: the variables, typed, and the instance at the archive task.
        let vars = admin
            .get(&format!("/process-instance/{id}/variables"))
            .await;
        let vars = vars.ok().clone();
        assert_eq!(
            vars["tracking"],
            json!({"value": "TRK-1", "type": "String", "valueInfo": {}})
        );
        assert_eq!(
            vars["paidAt"],
            json!({"value": "2025-01-20T08:30:00.000+0000", "type": "Date", "valueInfo": {}})
        );
        assert_eq!(vars["weight"]["type"], json!("Double"));
        assert_eq!(vars["rush"]["value"], json!(true));
        assert_eq!(
            vars["items"],
            json!({"value": "[\"book\",\"pen\"]", "type": "Json", "valueInfo": {}})
        );
        let tree = admin
            .get(&format!("/process-instance/{id}/activity-instances"))
            .await;
        let children = tree.ok()["childActivityInstances"].as_array().unwrap();
        assert_eq!(children.len(), 1);
        assert_eq!(children[0]["activityId"], json!("archive"));
        assert_eq!(children[0]["activityType"], json!("userTask"));
        let listed = admin
            .get("/process-instance?businessKey=ORDER-7&variables=tracking_eq_TRK-1")
            .await;
        assert_eq!(listed.ok().as_array().unwrap().len(), 1);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_of_the_surface_is_camundas_json_error() {
    for app in TestApp::each().await {
        let admin = Rest::new(&app, &account(&app, "admin", Role::Admin).await);
        // Too large for routes that read the body themselves and for those
        // that read it through the shared reader.
        let huge = format!(r#"{{"workerId": "{}"}}"#, "w".repeat(5 * 1024 * 1024));
        for path in ["/external-task/fetchAndLock", "/signal", "/message"] {
            let r = admin
                .send(reqwest::Method::POST, path, Some(huge.clone()))
                .await;
            r.error(StatusCode::PAYLOAD_TOO_LARGE, "InvalidRequestException");
        }
        // A method a path does not have: no such endpoint, in Camunda's body.
        let r = admin
            .send(reqwest::Method::PUT, "/process-definition", None)
            .await;
        r.error(StatusCode::NOT_FOUND, "RestException");
        let r = admin.delete("/process-definition/count").await;
        r.error(StatusCode::NOT_FOUND, "RestException");
        app.stop().await;
    }
}

/// Suspension set through the runtime reads the same through Camunda's REST:
/// the instance, its tasks and the version say `suspended: true`, and the
/// `active` and `suspended` filters narrow the lists (both at once: none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_is_reported_and_filtered_as_in_camunda() {
    for app in TestApp::each().await {
        let admin = Rest::new(&app, &account(&app, "admin", Role::Admin).await);
        deploy(&app, "orders.bpmn", &orders("Amount")).await;
        let kept = start(&admin, json!({}), "KEEP").await;
        let paused = start(&admin, json!({}), "PAUSE").await;
        app.runtime
            .instances()
            .suspend(&rt::admin(None), paused, None)
            .await
            .unwrap();

        let one = admin.get(&format!("/process-instance/{paused}")).await;
        assert_eq!(one.ok()["suspended"], json!(true));
        let other = admin.get(&format!("/process-instance/{kept}")).await;
        assert_eq!(other.ok()["suspended"], json!(false));
        let ids = |r: &Reply| -> Vec<String> {
            let mut v: Vec<String> = r
                .ok()
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        let suspended = admin.get("/process-instance?suspended=true").await;
        assert_eq!(ids(&suspended), [paused.to_string()]);
        let active = admin.get("/process-instance?active=true").await;
        assert_eq!(ids(&active), [kept.to_string()]);
        let all = admin.get("/process-instance?suspended=false").await;
        assert_eq!(ids(&all).len(), 2, "false is no filter");
        let none = admin
            .get("/process-instance?active=true&suspended=true")
            .await;
        assert!(ids(&none).is_empty());
        let count = admin
            .post("/process-instance/count", json!({"suspended": true}))
            .await;
        assert_eq!(count.ok()["count"], json!(1));

        let tasks = admin
            .get(&format!("/task?processInstanceId={paused}"))
            .await;
        let tasks = tasks.ok().as_array().unwrap().clone();
        assert!(!tasks.is_empty());
        assert!(tasks.iter().all(|t| t["suspended"] == json!(true)));
        let active_tasks = admin.get("/task?active=true").await;
        let active_tasks = active_tasks.ok().as_array().unwrap().clone();
        assert!(!active_tasks.is_empty());
        assert!(active_tasks.iter().all(|t| {
            t["suspended"] == json!(false) && t["processInstanceId"] == json!(kept.to_string())
        }));
        let suspended_tasks = admin.get("/task/count?suspended=true").await;
        assert_eq!(suspended_tasks.ok()["count"], json!(tasks.len()));

        let past = admin
            .get(&format!("/history/process-instance/{paused}"))
            .await;
        assert_eq!(past.ok()["state"], json!("SUSPENDED"));
        let past = admin.get("/history/process-instance?suspended=true").await;
        assert_eq!(ids(&past), [paused.to_string()]);
        let past = admin.get("/history/process-instance?active=true").await;
        assert_eq!(ids(&past), [kept.to_string()]);
        admin
            .get("/history/process-instance?suspended=true&completed=true")
            .await
            .error(StatusCode::BAD_REQUEST, "InvalidRequestException");

        let definition = admin.get("/process-definition/key/orders").await;
        assert_eq!(definition.ok()["suspended"], json!(false));
        app.runtime
            .deployments()
            .suspend_version(&rt::admin(None), "orders", 1, true, false)
            .await
            .unwrap();
        let definition = admin.get("/process-definition/key/orders").await;
        assert_eq!(definition.ok()["suspended"], json!(true));
        let listed = admin.get("/process-definition?suspended=true").await;
        assert_eq!(listed.ok().as_array().unwrap().len(), 1);
        let listed = admin.get("/process-definition?active=true").await;
        assert!(listed.ok().as_array().unwrap().is_empty());
        app.stop().await;
    }
}
