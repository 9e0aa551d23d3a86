//! JavaScript in diagrams (`scriptFormat="javascript"`, `language="javascript"`)
//! as Camunda 7 runs it: script tasks, conditions, listeners and script
//! parameters, with `execution` and `task`, inside the sandbox.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bpmn_engine::engine::{Effect, Status};
use serde_json::json;

use crate::common::db::databases;
use crate::common::*;

/// `s -> js -> after(user task)` with a JavaScript script task.
fn script_task(body: &str, result: Option<&str>) -> String {
    let result = result
        .map(|r| format!(r#" camunda:resultVariable="{r}""#))
        .unwrap_or_default();
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:scriptTask id="js" name="Compute" scriptFormat="javascript"{result}><bpmn:script><![CDATA[{body}]]></bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="after"/>{}{}"#,
        flow("f0", "s", "js"),
        flow("f1", "js", "after"),
    ))
}

fn run(body: &str, vars: serde_json::Value) -> Sim {
    Sim::start(&script_task(body, None), vars)
}

fn incident_of(body: &str) -> String {
    let sim = run(body, json!({}));
    assert_eq!(sim.active(), ["js"], "the script task should stay");
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    incidents[0].clone()
}

#[test]
fn a_script_task_reads_variables_as_globals_and_sets_them_through_execution() {
    let sim = run(
        r#"
var total = 0;
for (var i = 0; i < prices.length; i++) { total += prices[i] * quantity; }
execution.setVariable('total', total);
execution.setVariable('summary', customer.name + ' owes ' + total);
execution.setVariable('order', { lines: prices.length, vip: customer.vip === true });
execution.setVariable('seen', execution.getVariable('total') + 1);
execution.setVariable('has', [execution.hasVariable('total'), execution.hasVariable('nothing')]);
execution.setVariable('count', Object.keys(execution.getVariables()).length);
"#,
        json!({"prices": [10, 2.5], "quantity": 2, "customer": {"name": "Ada", "vip": true}}),
    );
    assert!(sim.incidents().is_empty(), "{:?}", sim.incidents());
    assert_eq!(sim.tasks(), ["after"]);
    assert_eq!(sim.var("total"), Some(json!(25)));
    assert_eq!(sim.var("summary"), Some(json!("Ada owes 25")));
    assert_eq!(sim.var("order"), Some(json!({"lines": 2, "vip": true})));
    assert_eq!(sim.var("seen"), Some(json!(26)));
    assert_eq!(sim.var("has"), Some(json!([true, false])));
    // prices, quantity, customer, total, summary, order, seen, has.
    assert_eq!(sim.var("count"), Some(json!(8)));
}

#[test]
fn assigning_a_global_does_not_set_a_variable_as_in_camunda() {
    let sim = run(
        "quantity = 99; var fresh = 1; undeclared = 2; execution.setVariable('kept', quantity);",
        json!({"quantity": 2}),
    );
    assert!(sim.incidents().is_empty(), "{:?}", sim.incidents());
    assert_eq!(sim.var("quantity"), Some(json!(2)));
    assert_eq!(sim.var("fresh"), None);
    assert_eq!(sim.var("undeclared"), None);
    // Within the script the global holds what was assigned.
    assert_eq!(sim.var("kept"), Some(json!(99)));
}

#[test]
fn execution_answers_as_in_el() {
    let sim = run(
        r#"
execution.setVariable('ids', [execution.processInstanceId === execution.getProcessInstanceId(),
  execution.processBusinessKey, execution.getProcessBusinessKey(),
  execution.currentActivityId, execution.getCurrentActivityId(), execution.activityId,
  execution.currentActivityName]);
execution.setVariableLocal('mine', 1);
execution.setVariable('local', execution.getVariableLocal('mine'));
"#,
        json!({}),
    );
    assert!(sim.incidents().is_empty(), "{:?}", sim.incidents());
    assert_eq!(
        sim.var("ids"),
        Some(json!([
            true, "order-1", "order-1", "js", "js", "js", "Compute"
        ]))
    );
    assert_eq!(sim.var("local"), Some(json!(1)));
    // An unknown member is EL's error, as an incident.
    let message = incident_of("execution.getNoSuchThing()");
    assert!(message.contains("noSuchThing"), "{message}");
}

#[test]
fn the_result_variable_gets_the_value_of_the_last_expression_statement() {
    let xml = script_task(
        "var net = price * 2;\nvar gross = net * 1.5;\nif (gross > 10) { 'big: ' + gross } else { 'small' }",
        Some("label"),
    );
    let sim = Sim::start(&xml, json!({"price": 5}));
    assert_eq!(sim.var("label"), Some(json!("big: 15")));
    let sim = Sim::start(&xml, json!({"price": 1}));
    assert_eq!(sim.var("label"), Some(json!("small")));
    // Objects arrive as JSON; a script ending in a declaration gives null.
    let sim = Sim::start(
        &script_task("({ n: price, list: [1, 'a', null] })", Some("r")),
        json!({"price": 3}),
    );
    assert_eq!(sim.var("r"), Some(json!({"n": 3, "list": [1, "a", null]})));
    let sim = Sim::start(&script_task("var x = 1;", Some("r")), json!({}));
    assert_eq!(sim.var("r"), Some(json!(null)));
}

fn gateway(condition: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f_small"/>
<bpmn:userTask id="big"/><bpmn:userTask id="small"/>{}
<bpmn:sequenceFlow id="f_big" sourceRef="g" targetRef="big"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript"><![CDATA[{condition}]]></bpmn:conditionExpression></bpmn:sequenceFlow>{}"#,
        flow("f0", "s", "g"),
        flow("f_small", "g", "small"),
    ))
}

#[test]
fn a_javascript_condition_routes_an_exclusive_gateway_both_ways() {
    let xml =
        gateway("var limit = 100;\namount > limit && execution.getVariable('region') !== 'EU'");
    let sim = Sim::start(&xml, json!({"amount": 150, "region": "US"}));
    assert_eq!(sim.tasks(), ["big"]);
    let sim = Sim::start(&xml, json!({"amount": 50, "region": "US"}));
    assert_eq!(sim.tasks(), ["small"]);
    let sim = Sim::start(&xml, json!({"amount": 150, "region": "EU"}));
    assert_eq!(sim.tasks(), ["small"]);
}

#[test]
fn a_condition_that_does_not_give_a_boolean_is_an_incident() {
    for (condition, expected) in [
        ("amount + 1", "gave 151 instead of a Boolean"),
        ("'yes'", "gave \"yes\" instead of a Boolean"),
        ("undefined", "gave null instead of a Boolean"),
        (
            "missing > 1",
            "ReferenceError: missing is not defined (script line 1, column 1)",
        ),
    ] {
        let sim = Sim::start(&gateway(condition), json!({"amount": 150}));
        assert!(sim.tasks().is_empty(), "{condition}: {:?}", sim.tasks());
        let incidents = sim.incidents();
        assert_eq!(incidents.len(), 1, "{condition}: {incidents:?}");
        assert!(
            incidents[0].contains(expected),
            "{condition}: {}",
            incidents[0]
        );
    }
}

#[test]
fn a_condition_sets_variables_as_an_el_condition_does() {
    let sim = Sim::start(
        &gateway("execution.setVariable('checked', amount); true"),
        json!({"amount": 1}),
    );
    assert_eq!(sim.tasks(), ["big"]);
    assert_eq!(sim.var("checked"), Some(json!(1)));
}

#[test]
fn listeners_in_javascript_see_execution_and_task() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t" name="Review" camunda:assignee="bob" camunda:priority="40"><bpmn:extensionElements>
<camunda:executionListener event="start"><camunda:script scriptFormat="JavaScript">execution.setVariable('started', execution.eventName + '@' + execution.activityId)</camunda:script></camunda:executionListener>
<camunda:taskListener event="create"><camunda:script scriptFormat="js"><![CDATA[
task.setAssignee(task.assignee === 'bob' ? 'ann' : 'zoe');
execution.setVariable('made', task.getName() + '/' + task.priority + '/' + (task.id === task.getId()) + '/' + task.eventName);
task.setVariable('viaTask', task.getVariable('base') * 2);
]]></camunda:script></camunda:taskListener>
<camunda:taskListener event="complete"><camunda:script scriptFormat="application/javascript">execution.setVariable('by', task.getAssignee())</camunda:script></camunda:taskListener>
</bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({"base": 21}));
    assert!(sim.incidents().is_empty(), "{:?}", sim.incidents());
    let spec = sim
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::CreateUserTask(spec) => Some(spec.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(spec.assignee.as_deref(), Some("ann"));
    assert_eq!(sim.var("started"), Some(json!("start@t")));
    assert_eq!(sim.var("made"), Some(json!("Review/40/true/create")));
    assert_eq!(sim.var("viaTask"), Some(json!(42)));
    sim.complete("t", json!({}));
    assert_eq!(sim.var("by"), Some(json!("ann")));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn script_parameters_run_in_javascript_and_in_rhai() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:extensionElements><camunda:inputOutput>
<camunda:inputParameter name="js"><camunda:script scriptFormat="javascript">var d = amount * 2; d + 1</camunda:script></camunda:inputParameter>
<camunda:inputParameter name="rh"><camunda:script scriptFormat="rhai">let d = amount * 3; d + 1</camunda:script></camunda:inputParameter>
<camunda:outputParameter name="out"><camunda:script scriptFormat="javascript">'done ' + js</camunda:script></camunda:outputParameter>
</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({"amount": 10}));
    assert!(sim.incidents().is_empty(), "{:?}", sim.incidents());
    let key = sim.key("t");
    let locals = sim.state.variables.get(&key).cloned().unwrap_or_default();
    assert_eq!(locals.get("js"), Some(&json!(21)));
    assert_eq!(locals.get("rh"), Some(&json!(31)));
    sim.complete("t", json!({}));
    assert_eq!(sim.var("out"), Some(json!("done 21")));
}

#[test]
fn an_endless_loop_stops_at_its_budget_as_an_incident() {
    let message = incident_of("var n = 0;\nwhile (true) { n++; }");
    assert!(
        message.contains("stopped: it ran longer than its step budget"),
        "{message}"
    );
    let message = incident_of("function f() { return f() + 1; }\nf()");
    assert!(message.contains("call stack"), "{message}");
    let message =
        incident_of("var a = [];\nwhile (true) { a.push('0123456789'.repeat(100) + a.length); }");
    assert!(
        message.contains("stopped: it used more memory than a script may (32 MiB)"),
        "{message}"
    );
}

#[test]
fn a_thrown_error_is_an_incident_with_its_line() {
    let message = incident_of("var a = 1;\nthrow new Error('no stock for ' + a);");
    assert!(
        message.contains("script failed: Error: no stock for 1 (script line 2"),
        "{message}"
    );
    let message = incident_of("throw 'plain text';");
    assert!(
        message.contains("uncaught exception \"plain text\""),
        "{message}"
    );
    let message = incident_of("throw null;");
    assert!(message.contains("uncaught exception null"), "{message}");
    let message = incident_of("execution.setVariable('', 1);");
    assert!(message.contains("a variable needs a name"), "{message}");
}

#[test]
fn the_runtime_stop_flag_stops_a_script() {
    let flag = Arc::new(AtomicBool::new(true));
    let sim = bpmn_engine::budget::with_stop_flag(flag, || run("while (true) {}", json!({})));
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert!(
        incidents[0].contains(bpmn_engine::budget::STOPPED),
        "{}",
        incidents[0]
    );
}

#[test]
fn the_clock_is_the_commands_and_random_numbers_repeat() {
    let body = r#"
execution.setVariable('now', new Date().toISOString());
execution.setVariable('millis', Date.now());
execution.setVariable('hours', [new Date(2026, 2, 3, 10, 30).getHours(), new Date('2026-03-03T10:30').getHours(), new Date().getTimezoneOffset()]);
execution.setVariable('text', String(new Date(0)));
execution.setVariable('random', [Math.random(), Math.random()]);
"#;
    let first = run(body, json!({}));
    assert!(first.incidents().is_empty(), "{:?}", first.incidents());
    assert_eq!(first.var("now"), Some(json!("2025-01-01T00:00:00.000Z")));
    assert_eq!(first.var("millis"), Some(json!(t0().as_millisecond())));
    assert_eq!(first.var("hours"), Some(json!([10, 10, 0])));
    assert_eq!(
        first.var("text"),
        Some(json!("Thu, 01 Jan 1970 00:00:00 GMT"))
    );
    let random = first.var("random").unwrap();
    let pair = random.as_array().unwrap();
    assert_ne!(pair[0], pair[1]);
    assert!(
        pair.iter()
            .all(|r| (0.0..1.0).contains(&r.as_f64().unwrap()))
    );
    // The same command at the same time gives the same numbers.
    let second = run(body, json!({}));
    assert_eq!(second.var("random"), Some(random));
    // Nothing reaches outside.
    let sim = run(
        "execution.setVariable('kinds', [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof performance, typeof XMLHttpRequest, typeof std, typeof os])",
        json!({}),
    );
    assert_eq!(sim.var("kinds"), Some(json!(vec!["undefined"; 8])));
}

#[test]
fn a_syntax_error_is_refused_at_deployment_with_its_line_and_column() {
    let text = parse_err(&script_task("var a = 1;\nvar b = ;\n", None)).join("\n");
    assert!(
        text.contains("\"js\"") && text.contains("script line 2, column 9"),
        "{text}"
    );
    let text = parse_err(&script_task("var a = ;", None)).join("\n");
    assert!(text.contains("script line 1, column 9"), "{text}");
    // Nashorn refuses a return outside a function; so does this.
    let text = parse_err(&script_task("var a = 1;\nreturn a;", None)).join("\n");
    assert!(text.contains("script line 2"), "{text}");
    let text = parse_err(&gateway("amount >")).join("\n");
    assert!(
        text.contains("f_big") && text.contains("script line 1"),
        "{text}"
    );
}

#[test]
fn every_name_of_javascript_is_accepted_and_other_languages_are_refused() {
    for format in [
        "javascript",
        "JavaScript",
        "js",
        "ECMAScript",
        "application/javascript",
        "text/javascript",
    ] {
        let xml = script_task("1", Some("r")).replace("\"javascript\"", &format!("\"{format}\""));
        let sim = Sim::start(&xml, json!({}));
        assert_eq!(sim.var("r"), Some(json!(1)), "{format}");
    }
    for (format, name) in [
        ("groovy", "Groovy"),
        ("python", "Python"),
        ("http://www.java.com/java", "Java"),
        ("juel", "JUEL"),
    ] {
        let xml = script_task("1", None).replace("\"javascript\"", &format!("\"{format}\""));
        let text = parse_err(&xml).join("\n");
        assert!(
            text.contains(&format!("scriptFormat \"{format}\" is {name}"))
                && text.contains("JavaScript (scriptFormat \"javascript\") or rhai"),
            "{text}"
        );
    }
    let text = parse_err(&gateway("1").replace("language=\"javascript\"", "language=\"groovy\""))
        .join("\n");
    assert!(
        text.contains("condition language \"groovy\" is not supported"),
        "{text}"
    );
    let xml = script_task("1", None).replace(
        "scriptFormat=\"javascript\"",
        "scriptFormat=\"javascript\" camunda:resource=\"deployment://a.js\"",
    );
    let text = parse_err(&xml).join("\n");
    assert!(
        text.contains("camunda:resource are not supported"),
        "{text}"
    );
}

/// The example diagram through the runtime, on each test database.
#[tokio::test]
async fn the_javascript_example_runs_on_every_database() {
    use crate::common::rt::runtime_on;
    use bpmn_engine::runtime::{Runtime, SystemClock};
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/javascript.bpmn")).unwrap();
    for db in databases().await {
        let store = db.store().await;
        let runtime = runtime_on(store, |s| Runtime::new(s, Arc::new(SystemClock)));
        let deployed = runtime
            .deploy("javascript.bpmn", &bytes, None)
            .await
            .unwrap();
        let id = deployed.definitions[0].id;
        let o = runtime.start(id, obj(json!({})), None, None).await.unwrap();
        let enter = runtime
            .open_task_for(o.instance_id, "Task_enter_order")
            .await
            .unwrap()
            .unwrap();
        runtime
            .complete_task(enter.id, obj(json!({"quantity": 3, "price": 50})), None)
            .await
            .unwrap();
        let (_, state) = runtime.instance(o.instance_id).await.unwrap();
        assert!(!state.has_incident(), "{}", db.backend);
        let vars = state.root_variables();
        assert_eq!(vars.get("total"), Some(&json!(150)), "{}", db.backend);
        assert_eq!(
            vars.get("summary"),
            Some(&json!("3 x 50 = 150")),
            "{}",
            db.backend
        );
        let task = runtime
            .open_task_for(o.instance_id, "Task_approve")
            .await
            .unwrap();
        assert!(task.is_some(), "{}: 150 is over the limit", db.backend);
        db.drop_now().await;
    }
}

#[test]
fn a_completion_condition_may_be_javascript_too() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="review" camunda:assignee="${{reviewer}}"><bpmn:multiInstanceLoopCharacteristics camunda:collection="reviewers" camunda:elementVariable="reviewer"><bpmn:completionCondition language="javascript">nrOfCompletedInstances &gt;= 2</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
<bpmn:userTask id="after"/>{}{}"#,
        flow("f0", "s", "review"),
        flow("f1", "review", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({"reviewers": ["ann", "bob", "cid"]}));
    assert_eq!(sim.tasks().len(), 3);
    let body = sim.key("review");
    let inner: Vec<u64> = sim
        .state
        .elements
        .iter()
        .filter(|(_, e)| e.element == "review" && e.scope == body)
        .map(|(k, _)| *k)
        .collect();
    for key in &inner[..2] {
        sim.cmd(bpmn_engine::engine::Command::CompleteUserTask {
            key: *key,
            variables: obj(json!({})),
        })
        .unwrap();
    }
    assert_eq!(sim.tasks(), ["after"]);
    let text = parse_err(&xml.replace("language=\"javascript\"", "language=\"groovy\"")).join("\n");
    assert!(
        text.contains("completionCondition: condition language \"groovy\" is not supported"),
        "{text}"
    );
}
