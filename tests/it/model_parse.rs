//! From XML to the validated model: every error collected with its position and
//! element, unsupported elements listed, and the camunda extensions read.

use bpmn_engine::model::expr::Template;
use bpmn_engine::model::form::FieldType;
use bpmn_engine::model::{self, Catch, NodeKind, ParamValue, ServiceTask, Severity, Timer};
use serde_json::json;

use crate::common::*;

#[test]
fn all_errors_are_collected_with_position_and_element() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
<bpmn:exclusiveGateway id="g" default="f_nowhere"/>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>
<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="missing"/>
<bpmn:sequenceFlow id="f3" sourceRef="g"/>
<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e"/>"#,
    );
    let errors = parse_err(&xml);
    let joined = errors.join("\n");
    assert!(joined.contains("14:1: error: sequenceFlow \"f2\": targetRef \"missing\" is not an element of this process"), "{joined}");
    assert!(
        joined.contains("15:1: error: sequenceFlow \"f3\": the sequence flow has no targetRef"),
        "{joined}"
    );
    assert!(joined.contains("11:1: error: exclusiveGateway \"g\": the default flow \"f_nowhere\" is not one of its outgoing sequence flows"), "{joined}");
    assert_eq!(
        errors.iter().filter(|e| e.contains("error")).count(),
        3,
        "{joined}"
    );
}

#[test]
fn unsupported_elements_are_listed_by_id_and_kind() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"/>
<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:choreographyTask id="c"/>
<bpmn:endEvent id="e"><bpmn:linkEventDefinition name="x"/></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="c"/>
<bpmn:sequenceFlow id="f3" sourceRef="c" targetRef="e"/>
<bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="e"/>"#,
    );
    let err = model::parse(xml.as_bytes()).unwrap_err();
    let unsupported: Vec<(String, String)> = err
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Unsupported)
        .map(|d| (d.element.clone().unwrap(), d.kind.clone().unwrap()))
        .collect();
    assert_eq!(
        unsupported,
        vec![
            ("c".to_string(), "choreographyTask".to_string()),
            ("e".to_string(), "endEvent".to_string()),
        ]
    );
    // Flows to refused elements are not reported a second time.
    assert!(
        err.errors().all(|d| d.severity == Severity::Unsupported),
        "{err}"
    );
}

#[test]
fn endless_loops_and_java_listeners_are_refused_not_ignored() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:standardLoopCharacteristics/></bpmn:userTask>
<bpmn:userTask id="u"><bpmn:extensionElements><camunda:taskListener event="create" class="org.example.OnCreate"/></bpmn:extensionElements></bpmn:userTask>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="u"/>"#,
    );
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("userTask \"t\": a standard loop needs a loopCondition or a loopMaximum"),
        "{errors}"
    );
    assert!(
        errors.contains("userTask \"u\": camunda:taskListener with a class cannot run here"),
        "{errors}"
    );
}

#[test]
fn collaboration_default_is_the_pool_marked_is_main() {
    let pool = |id: &str, main: bool| {
        let props = if main {
            r#"<bpmn:extensionElements><camunda:properties><camunda:property name="is_main" value="True"/></camunda:properties></bpmn:extensionElements>"#
        } else {
            ""
        };
        format!(
            r#"<bpmn:process id="{id}" isExecutable="true">{props}<bpmn:startEvent id="{id}_s"/><bpmn:endEvent id="{id}_e"/>{}</bpmn:process>"#,
            flow(&format!("{id}_f"), &format!("{id}_s"), &format!("{id}_e"))
        )
    };
    let collab = r#"<bpmn:collaboration id="collab"><bpmn:participant id="pa" name="A" processRef="a"/><bpmn:participant id="pb" name="B" processRef="b"/><bpmn:participant id="pc" name="C" processRef="c"/></bpmn:collaboration>"#;
    let xml = definitions(&format!(
        "{collab}{}{}{}",
        pool("a", false),
        pool("b", true),
        pool("c", false)
    ));
    let defs = parse(&xml);
    assert_eq!(
        defs.runnable().count(),
        3,
        "every executable process can be started"
    );
    assert_eq!(defs.main_process().unwrap().id, "b");
    assert_eq!(defs.participants.len(), 3);
    let without = definitions(&format!(
        "{collab}{}{}{}",
        pool("a", false),
        pool("b", false),
        pool("c", false)
    ));
    assert_eq!(
        parse(&without).main_process().unwrap().id,
        "a",
        "else the first one"
    );
}

#[test]
fn a_non_executable_partner_pool_is_kept_for_drawing_only() {
    let xml = definitions(
        r#"<bpmn:process id="ours" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>
<bpmn:process id="theirs" isExecutable="false"><bpmn:task id="x"/><bpmn:boundaryEvent id="b" attachedToRef="x"/></bpmn:process>"#,
    );
    let defs = parse(&xml);
    assert_eq!(
        defs.runnable().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        vec!["ours"]
    );
    assert!(!defs.process("theirs").unwrap().runnable);
    assert_eq!(defs.elements["b"].tag, "boundaryEvent");
}

#[test]
fn without_any_executable_flag_every_process_runs_with_a_warning() {
    let xml = definitions(
        r#"<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/></bpmn:process>"#,
    );
    let defs = parse(&xml);
    assert!(defs.process("p").unwrap().runnable);
    assert!(
        defs.warnings
            .iter()
            .any(|w| w.message.contains("no process is marked isExecutable"))
    );
}

#[test]
fn lanes_documentation_and_messages() {
    let xml = process(
        r#"<bpmn:documentation>What the process is for.</bpmn:documentation>
<bpmn:laneSet id="ls">
  <bpmn:lane id="l1" name="Office">
    <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>t</bpmn:flowNodeRef><bpmn:flowNodeRef>r</bpmn:flowNodeRef>
    <bpmn:childLaneSet id="cls"><bpmn:lane id="l2" name="Clerk"><bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:childLaneSet>
  </bpmn:lane>
</bpmn:laneSet>
<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:documentation>First line.</bpmn:documentation><bpmn:documentation>Second.</bpmn:documentation></bpmn:userTask>
<bpmn:receiveTask id="r" messageRef="m1"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="r"/>"#,
    )
    .replace("</bpmn:definitions>", r#"<bpmn:message id="m1" name="paid"/></bpmn:definitions>"#);
    let defs = parse(&xml);
    let p = defs.process("p").unwrap();
    assert_eq!(p.documentation.as_deref(), Some("What the process is for."));
    assert_eq!(p.node("s").unwrap().lane.as_deref(), Some("Office"));
    assert_eq!(
        p.node("t").unwrap().lane.as_deref(),
        Some("Clerk"),
        "the innermost lane wins"
    );
    assert_eq!(
        p.node("t").unwrap().documentation.as_deref(),
        Some("First line.\n\nSecond.")
    );
    assert!(
        matches!(&p.node("r").unwrap().kind, NodeKind::ReceiveTask(Catch::Message { name }) if name == "paid")
    );
    assert_eq!(defs.messages[0].name, "paid");
}

#[test]
fn camunda_forms_are_read_with_types_constraints_and_defaults() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t" camunda:assignee="${initiator}" camunda:candidateUsers="ann, bob" camunda:candidateGroups="clerks" camunda:dueDate="PT2H" camunda:priority="70">
  <bpmn:extensionElements>
    <camunda:formData>
      <camunda:formField id="name" label="Name" type="string" defaultValue="anon">
        <camunda:properties><camunda:property id="placeholder" value="Your name"/></camunda:properties>
        <camunda:validation><camunda:constraint name="required"/><camunda:constraint name="minlength" config="2"/><camunda:constraint name="maxlength" config="20"/></camunda:validation>
      </camunda:formField>
      <camunda:formField id="age" type="long"><camunda:validation><camunda:constraint name="min" config="18"/><camunda:constraint name="max" config="99"/></camunda:validation></camunda:formField>
      <camunda:formField id="ok" type="boolean" defaultValue="true"/>
      <camunda:formField id="when" type="date"/>
      <camunda:formField id="size" type="enum" defaultValue="m"><camunda:value id="s" name="Small"/><camunda:value id="m" name="Medium"/></camunda:formField>
      <camunda:formField id="ref" type="string" defaultValue="X-1"><camunda:validation><camunda:constraint name="readonly"/></camunda:validation></camunda:formField>
    </camunda:formData>
  </bpmn:extensionElements>
</bpmn:userTask>
<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>"#,
    );
    let defs = parse(&xml);
    let NodeKind::UserTask(u) = &defs.process("p").unwrap().node("t").unwrap().kind else {
        panic!()
    };
    let ids: Vec<&str> = u.form.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["name", "age", "ok", "when", "size", "ref"]);
    let name = &u.form[0];
    assert_eq!(name.label.as_deref(), Some("Name"));
    assert_eq!(name.default, Some(json!("anon")));
    assert!(name.constraints.required);
    assert_eq!(
        (name.constraints.minlength, name.constraints.maxlength),
        (Some(2), Some(20))
    );
    assert_eq!(
        name.properties,
        vec![("placeholder".to_string(), "Your name".to_string())]
    );
    assert_eq!(
        (u.form[1].constraints.min, u.form[1].constraints.max),
        (Some(18), Some(99))
    );
    assert_eq!(u.form[2].default, Some(json!(true)));
    assert_eq!(u.form[3].ty, FieldType::Date);
    assert_eq!(
        u.form[4].ty,
        FieldType::Enum {
            values: vec![("s".into(), "Small".into()), ("m".into(), "Medium".into())]
        }
    );
    assert!(u.form[5].constraints.readonly);
    assert!(matches!(u.assignee, Some(Template::Expr(_))));
    assert_eq!(u.candidate_users.as_ref().unwrap().source(), "ann, bob");
    assert_eq!(u.candidate_groups.as_ref().unwrap().source(), "clerks");
    assert_eq!(u.due_date.as_ref().unwrap().source(), "PT2H");
    assert_eq!(u.priority.as_ref().unwrap().source(), "70");
}

#[test]
fn form_mistakes_name_the_field() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:extensionElements><camunda:formData>
  <camunda:formField id="a" type="long" defaultValue="ten"/>
  <camunda:formField id="b" type="money"/>
  <camunda:formField id="c" type="string"><camunda:validation><camunda:constraint name="maxlength" config="x"/></camunda:validation></camunda:formField>
  <camunda:formField id="a" type="string"/>
  <camunda:formField id="e" type="enum"/>
</camunda:formData></bpmn:extensionElements></bpmn:userTask>
<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>"#,
    );
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("the default value of field \"a\" must be a whole number, not \"ten\""),
        "{errors}"
    );
    assert!(
        errors.contains("form field \"b\" has type \"money\""),
        "{errors}"
    );
    assert!(
        errors.contains("constraint maxlength of field \"c\" needs a whole number"),
        "{errors}"
    );
    assert!(
        errors.contains("form field \"a\" is defined twice"),
        "{errors}"
    );
    assert!(
        errors.contains("enum form field \"e\" has no values"),
        "{errors}"
    );
}

#[test]
fn io_mappings_connectors_and_service_implementations() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="expr" camunda:expression="${a + 1}" camunda:resultVariable="b" camunda:asyncBefore="true" camunda:asyncAfter="true">
  <bpmn:extensionElements><camunda:inputOutput>
    <camunda:inputParameter name="text">Hello ${name}</camunda:inputParameter>
    <camunda:inputParameter name="list"><camunda:list><camunda:value>one</camunda:value><camunda:value>${two}</camunda:value></camunda:list></camunda:inputParameter>
    <camunda:inputParameter name="map"><camunda:map><camunda:entry key="k">v</camunda:entry></camunda:map></camunda:inputParameter>
    <camunda:outputParameter name="out">${b}</camunda:outputParameter>
  </camunda:inputOutput>
  <camunda:properties><camunda:property name="team" value="billing"/></camunda:properties></bpmn:extensionElements>
</bpmn:serviceTask>
<bpmn:serviceTask id="ext" camunda:type="external" camunda:topic="invoices"/>
<bpmn:sendTask id="http"><bpmn:extensionElements><camunda:connector>
  <camunda:connectorId>http-connector</camunda:connectorId>
  <camunda:inputOutput><camunda:inputParameter name="url">http://127.0.0.1/x</camunda:inputParameter><camunda:inputParameter name="method">POST</camunda:inputParameter></camunda:inputOutput>
</camunda:connector></bpmn:extensionElements></bpmn:sendTask>
<bpmn:serviceTask id="none"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="expr"/>
<bpmn:sequenceFlow id="f2" sourceRef="expr" targetRef="ext"/>
<bpmn:sequenceFlow id="f3" sourceRef="ext" targetRef="http"/>
<bpmn:sequenceFlow id="f4" sourceRef="http" targetRef="none"/>"#,
    );
    let defs = parse(&xml);
    let p = defs.process("p").unwrap();
    let e = p.node("expr").unwrap();
    assert!(e.async_before && e.async_after);
    assert_eq!(
        e.properties,
        vec![("team".to_string(), "billing".to_string())]
    );
    assert!(
        matches!(&e.kind, NodeKind::ServiceTask(s) if matches!(s.as_ref(), ServiceTask::Expression { result_variable: Some(v), .. } if v == "b"))
    );
    assert_eq!(e.io.inputs.len(), 3);
    assert!(matches!(
        &e.io.inputs[0].value,
        ParamValue::Text(Template::Mixed { .. })
    ));
    assert!(matches!(&e.io.inputs[1].value, ParamValue::List(items) if items.len() == 2));
    assert!(matches!(&e.io.inputs[2].value, ParamValue::Map(entries) if entries[0].0 == "k"));
    assert_eq!(e.io.outputs[0].name, "out");
    assert!(
        matches!(&p.node("ext").unwrap().kind, NodeKind::ServiceTask(s) if matches!(s.as_ref(), ServiceTask::External { topic } if topic == "invoices"))
    );
    let http = p.node("http").unwrap();
    assert_eq!(http.tag, "sendTask");
    assert!(
        matches!(&http.kind, NodeKind::ServiceTask(s) if matches!(s.as_ref(), ServiceTask::Connector(c) if c.id == "http-connector" && c.inputs.len() == 2))
    );
    assert!(
        matches!(&p.node("none").unwrap().kind, NodeKind::ServiceTask(s) if matches!(s.as_ref(), ServiceTask::None))
    );
    assert!(
        defs.warnings.iter().any(
            |w| w.element.as_deref() == Some("none") && w.message.contains("no implementation")
        )
    );
}

#[test]
fn unknown_service_handlers_and_languages_are_deploy_errors() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="a" camunda:class="com.example.Charge"/>
<bpmn:serviceTask id="b" camunda:delegateExpression="${mailer}"/>
<bpmn:scriptTask id="c" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="g"/>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
<bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
<bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="c"/>
<bpmn:sequenceFlow id="f4" sourceRef="c" targetRef="g"/>
<bpmn:sequenceFlow id="f5" sourceRef="g" targetRef="e"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="python">x == 1</bpmn:conditionExpression></bpmn:sequenceFlow>"#,
    );
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("serviceTask \"a\": no service handler named \"com.example.Charge\""),
        "{errors}"
    );
    assert!(
        errors.contains("serviceTask \"b\": no service handler named \"mailer\""),
        "{errors}"
    );
    assert!(
        errors.contains("scriptTask \"c\": scriptFormat \"groovy\" is Groovy; scripts here are JavaScript (scriptFormat \"javascript\") or rhai"),
        "{errors}"
    );
    assert!(
        errors.contains("sequenceFlow \"f5\": condition language \"python\""),
        "{errors}"
    );
}

#[test]
fn expressions_are_compiled_at_deploy_time() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f3"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
{}{}{}"#,
        flow("f1", "s", "g"),
        cond_flow("f2", "g", "e1", "${amount >}"),
        flow("f3", "g", "e2")
    ));
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("sequenceFlow \"f2\": cannot compile \"${amount >}\""),
        "{errors}"
    );
}

#[test]
fn timers_are_checked_when_literal() {
    let timer = |part: &str| {
        process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition>{part}</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>{}"#,
            flow("f", "s", "w")
        ))
    };
    let ok = parse(&timer("<bpmn:timeDuration>PT1H30M</bpmn:timeDuration>"));
    assert!(matches!(
        &ok.process("p").unwrap().node("w").unwrap().kind,
        NodeKind::IntermediateCatch(Catch::Timer(Timer::Duration(_)))
    ));
    parse(&timer("<bpmn:timeDate>2030-01-01T10:00:00</bpmn:timeDate>"));
    parse(&timer("<bpmn:timeDuration>${wait}</bpmn:timeDuration>"));
    let bad = parse_err(&timer("<bpmn:timeDuration>one hour</bpmn:timeDuration>")).join("\n");
    assert!(
        bad.contains("intermediateCatchEvent \"w\": \"one hour\" is not an ISO 8601 duration"),
        "{bad}"
    );
    let cycle = parse(&timer("<bpmn:timeCycle>R3/PT1M</bpmn:timeCycle>"));
    assert!(matches!(
        &cycle.process("p").unwrap().node("w").unwrap().kind,
        NodeKind::IntermediateCatch(Catch::Timer(Timer::Cycle(_)))
    ));
    let bad = parse_err(&timer("<bpmn:timeCycle>every day</bpmn:timeCycle>")).join("\n");
    assert!(bad.contains("is neither a repeating interval"), "{bad}");
}

#[test]
fn structural_rules() {
    let xml = process(
        r#"<bpmn:startEvent id="s1"/><bpmn:startEvent id="s2"/>
<bpmn:subProcess id="sub"><bpmn:task id="inner"/></bpmn:subProcess>
<bpmn:subProcess id="round"><bpmn:task id="x"/><bpmn:task id="y"/><bpmn:sequenceFlow id="xy" sourceRef="x" targetRef="y"/><bpmn:sequenceFlow id="yx" sourceRef="y" targetRef="x"/></bpmn:subProcess>
<bpmn:endEvent id="e"/><bpmn:task id="t"/>
<bpmn:sequenceFlow id="f1" sourceRef="s1" targetRef="sub"/>
<bpmn:sequenceFlow id="f2" sourceRef="e" targetRef="t"/>
<bpmn:sequenceFlow id="f3" sourceRef="s2" targetRef="inner"/>"#,
    );
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("the process has 2 none start events"),
        "{errors}"
    );
    // Without a start event, what has no incoming flow starts ("inner")...
    assert!(!errors.contains("\"sub\""), "{errors}");
    assert!(!errors.contains("\"inner\""), "{errors}");
    // ...and a subprocess with neither cannot start.
    assert!(
        errors.contains("subProcess \"round\": the subprocess has no start event, and no element without incoming sequence flows to start at"),
        "{errors}"
    );
    assert!(
        errors.contains("endEvent \"e\": an end event cannot have outgoing sequence flows"),
        "{errors}"
    );
    assert!(
        errors.contains(
            "sequenceFlow \"f3\": a sequence flow cannot cross the boundary of a subprocess"
        ),
        "{errors}"
    );
}

#[test]
fn duplicate_ids_are_errors() {
    let xml = process(r#"<bpmn:startEvent id="x"/><bpmn:endEvent id="x"/>"#);
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("the id \"x\" is used by more than one element"),
        "{errors}"
    );
}

#[test]
fn the_diagram_layout_is_kept() {
    let defs = model::parse(&demo_bytes()).unwrap();
    let d = &defs.diagrams[0];
    assert_eq!(d.plane_element.as_deref(), Some("Collaboration_demo"));
    let t0 = d.shapes.iter().find(|s| s.element == "t0").unwrap();
    assert_eq!(
        (t0.bounds.x, t0.bounds.y, t0.bounds.width, t0.bounds.height),
        (300.0, 140.0, 100.0, 80.0)
    );
    let e = d
        .edges
        .iter()
        .find(|e| e.element == "Flow_fork_tdown")
        .unwrap();
    assert_eq!(
        e.waypoints,
        vec![(480.0, 205.0), (480.0, 380.0), (560.0, 380.0)]
    );
    assert!(d.shapes.iter().any(|s| s.element == "Lane_Pero"));
}

#[test]
fn diagnostics_serialize_for_the_api() {
    let err = model::parse(b"<nope/>").unwrap_err();
    let v = serde_json::to_value(&err.diagnostics[0]).unwrap();
    assert_eq!(v["severity"], "error");
    assert_eq!(v["line"], 1);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("not a BPMN <definitions>")
    );
}

#[test]
fn loops_that_never_wait_and_never_end_are_refused() {
    // a -> b -> a: no way out.
    let closed = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:task id="a"/><bpmn:scriptTask id="b" scriptFormat="rhai"><bpmn:script>1</bpmn:script></bpmn:scriptTask>{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "b"),
        flow("f2", "b", "a"),
    ));
    let errs = parse_err(&closed).join("\n");
    assert!(
        errs.contains("the elements a, b form a loop that never waits and never ends"),
        "{errs}"
    );
    // A parallel fork inside the loop makes a new token every round.
    let forking = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="p"/><bpmn:task id="a"/><bpmn:endEvent id="e"/>{}{}{}{}"#,
        flow("f0", "s", "p"),
        flow("f1", "p", "a"),
        flow("f2", "p", "e"),
        flow("f3", "a", "p"),
    ));
    let errs = parse_err(&forking).join("\n");
    assert!(errs.contains("a, p form a loop"), "{errs}");
    // A counting loop with a way out, and a loop that waits, are fine.
    let counting = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:scriptTask id="inc" scriptFormat="rhai"><bpmn:script>let i = i + 1;</bpmn:script></bpmn:scriptTask><bpmn:exclusiveGateway id="g" default="out"/><bpmn:endEvent id="e"/>{}{}{}{}"#,
        flow("f0", "s", "inc"),
        flow("f1", "inc", "g"),
        cond_flow("again", "g", "inc", "${i < 3}"),
        flow("out", "g", "e"),
    ));
    parse(&counting);
    let waiting = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a"/><bpmn:task id="b"/>{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "b"),
        flow("f2", "b", "a"),
    ));
    parse(&waiting);
}

#[test]
fn a_sequence_flow_without_an_id_is_named_after_its_position() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/>
<bpmn:sequenceFlow sourceRef="s" targetRef="t"/>"#,
    );
    let defs = parse(&xml);
    let p = defs.main_process().unwrap();
    assert_eq!(p.flows.len(), 1);
    assert!(
        p.flows[0].id.starts_with("sequenceFlow_"),
        "{}",
        p.flows[0].id
    );
    let mut sim = Sim::start(&xml, serde_json::json!({}));
    assert_eq!(sim.tasks(), ["t"]);
    sim.complete("t", serde_json::json!({}));
}

/// `xml` with the Flowable and Activiti namespaces declared.
fn with_vendor_namespaces(xml: &str) -> String {
    xml.replacen(
        "<bpmn:definitions ",
        r#"<bpmn:definitions xmlns:flowable="http://flowable.org/bpmn" xmlns:activiti="http://activiti.org/bpmn" "#,
        1,
    )
}

#[test]
fn flowable_and_activiti_attributes_are_read_where_they_mean_what_camundas_do() {
    let xml = with_vendor_namespaces(&process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="fl" flowable:assignee="${{owner}}" flowable:candidateUsers="ann, bob" flowable:candidateGroups="sales" flowable:formKey="approve.form" flowable:async="true">
  <bpmn:multiInstanceLoopCharacteristics flowable:collection="${{owners}}" flowable:elementVariable="owner"/>
</bpmn:userTask>
<bpmn:userTask id="ac" activiti:assignee="kermit" activiti:candidateGroups="management" activiti:dueDate="P2D" activiti:priority="${{urgent ? 80 : 50}}"/>
<bpmn:serviceTask id="ex" flowable:expression="${{amount * 2}}" flowable:resultVariable="double"/>
<bpmn:serviceTask id="ax" activiti:expression="${{1 + 1}}" activiti:resultVariable="two" activiti:async="true"/>
<bpmn:endEvent id="e"/>{}{}{}{}{}"#,
        flow("f1", "s", "fl"),
        flow("f2", "fl", "ac"),
        flow("f3", "ac", "ex"),
        flow("f4", "ex", "ax"),
        flow("f5", "ax", "e"),
    )));
    let defs = parse(&xml);
    let p = defs.main_process().unwrap();
    let fl = p.node("fl").unwrap();
    assert!(fl.async_before, "flowable:async is a job before the task");
    let NodeKind::UserTask(u) = &fl.kind else {
        panic!("{:?}", fl.kind)
    };
    assert_eq!(
        u.assignee.as_ref().map(|t| t.source()),
        Some("${owner}".into())
    );
    assert_eq!(
        u.candidate_users.as_ref().map(|t| t.source()),
        Some("ann, bob".into())
    );
    assert_eq!(
        u.candidate_groups.as_ref().map(|t| t.source()),
        Some("sales".into())
    );
    assert_eq!(u.form_key.as_deref(), Some("approve.form"));
    let mi = fl.multi.as_ref().unwrap();
    assert_eq!(
        mi.collection.as_ref().map(|c| c.source()),
        Some("${owners}")
    );
    assert_eq!(mi.element_variable.as_deref(), Some("owner"));
    let NodeKind::UserTask(a) = &p.node("ac").unwrap().kind else {
        panic!()
    };
    assert_eq!(
        a.assignee.as_ref().map(|t| t.source()),
        Some("kermit".into())
    );
    assert_eq!(
        a.candidate_groups.as_ref().map(|t| t.source()),
        Some("management".into())
    );
    assert_eq!(a.due_date.as_ref().map(|t| t.source()), Some("P2D".into()));
    assert_eq!(
        a.priority.as_ref().map(|t| t.source()),
        Some("${urgent ? 80 : 50}".into())
    );
    for (id, source, var) in [("ex", "${amount * 2}", "double"), ("ax", "${1 + 1}", "two")] {
        let NodeKind::ServiceTask(s) = &p.node(id).unwrap().kind else {
            panic!()
        };
        let ServiceTask::Expression {
            expr,
            result_variable,
        } = &**s
        else {
            panic!("{id}: {s:?}")
        };
        assert_eq!(expr.source(), source);
        assert_eq!(result_variable.as_deref(), Some(var));
    }
    assert!(p.node("ax").unwrap().async_before);
}

#[test]
fn flowable_and_activiti_classes_name_service_handlers_or_are_refused() {
    let xml = with_vendor_namespaces(&process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="a" flowable:class="org.example.Charge"/>
<bpmn:serviceTask id="b" activiti:delegateExpression="${{mailer}}"/>
<bpmn:serviceTask id="c" flowable:type="mail"/>
<bpmn:endEvent id="e"/>{}{}{}{}"#,
        flow("f1", "s", "a"),
        flow("f2", "a", "b"),
        flow("f3", "b", "c"),
        flow("f4", "c", "e"),
    )));
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("serviceTask \"a\": no service handler named \"org.example.Charge\""),
        "{errors}"
    );
    assert!(
        errors.contains("serviceTask \"b\": no service handler named \"mailer\""),
        "{errors}"
    );
    assert!(
        errors
            .contains("serviceTask \"c\": flowable:type \"mail\" service tasks are not supported"),
        "{errors}"
    );
    let options = model::Options {
        service_handlers: vec!["org.example.Charge".into(), "mailer".into()],
        ..Default::default()
    };
    let ok = with_vendor_namespaces(&process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="a" flowable:class="org.example.Charge"/>
<bpmn:serviceTask id="b" activiti:delegateExpression="${{mailer}}"/>
<bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f1", "s", "a"),
        flow("f2", "a", "b"),
        flow("f3", "b", "e"),
    )));
    let defs = model::parse_with(ok.as_bytes(), &options).unwrap();
    let p = defs.main_process().unwrap();
    for (id, name) in [("a", "org.example.Charge"), ("b", "mailer")] {
        let NodeKind::ServiceTask(s) = &p.node(id).unwrap().kind else {
            panic!()
        };
        assert!(
            matches!(&**s, ServiceTask::Handler { name: n } if n == name),
            "{id}: {s:?}"
        );
    }
}

#[test]
fn data_associations_drawn_as_modeler_draws_them_are_references_only() {
    // Modeler links a data object to a task through a placeholder property,
    // and out of a task with a targetRef only.
    let xml = process(&format!(
        r#"<bpmn:dataObject id="DataObject_order"/>
<bpmn:dataObjectReference id="Ref_order" name="Order" dataObjectRef="DataObject_order"/>
<bpmn:dataStoreReference id="Ref_store" name="Archive"/>
<bpmn:startEvent id="s"/>
<bpmn:userTask id="check">
  <bpmn:property id="Property_1" name="__targetRef_placeholder"/>
  <bpmn:dataInputAssociation id="in1"><bpmn:sourceRef>Ref_order</bpmn:sourceRef><bpmn:targetRef>Property_1</bpmn:targetRef></bpmn:dataInputAssociation>
  <bpmn:dataOutputAssociation id="out1"><bpmn:targetRef>Ref_store</bpmn:targetRef></bpmn:dataOutputAssociation>
</bpmn:userTask>
<bpmn:endEvent id="e"/>{}{}"#,
        flow("f1", "s", "check"),
        flow("f2", "check", "e"),
    ));
    let defs = parse(&xml);
    assert!(
        defs.main_process()
            .unwrap()
            .node("check")
            .unwrap()
            .io
            .is_empty()
    );
}

#[test]
fn data_associations_with_assignments_or_on_catch_events_are_refused_by_name() {
    let xml = process(&format!(
        r#"<bpmn:property id="total"/>
<bpmn:startEvent id="s"/>
<bpmn:userTask id="t">
  <bpmn:ioSpecification><bpmn:dataInput id="t_in" name="amount"/><bpmn:inputSet><bpmn:dataInputRefs>t_in</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet/></bpmn:ioSpecification>
  <bpmn:dataInputAssociation><bpmn:targetRef>t_in</bpmn:targetRef><bpmn:assignment><bpmn:from>1</bpmn:from><bpmn:to>t_in</bpmn:to></bpmn:assignment></bpmn:dataInputAssociation>
</bpmn:userTask>
<bpmn:intermediateCatchEvent id="c">
  <bpmn:dataOutput id="c_out" name="payload"/>
  <bpmn:dataOutputAssociation><bpmn:sourceRef>c_out</bpmn:sourceRef><bpmn:targetRef>total</bpmn:targetRef></bpmn:dataOutputAssociation>
  <bpmn:outputSet><bpmn:dataOutputRefs>c_out</bpmn:dataOutputRefs></bpmn:outputSet>
  <bpmn:signalEventDefinition signalRef="sig"/>
</bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f1", "s", "t"),
        flow("f2", "t", "c"),
        flow("f3", "c", "e"),
    ))
    .replace(
        "<bpmn:process ",
        r#"<bpmn:signal id="sig" name="go"/><bpmn:process "#,
    );
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("userTask \"t\": dataInputAssociation with an assignment: only a copy from one variable or data element to another runs"),
        "{errors}"
    );
    assert!(
        errors.contains("intermediateCatchEvent \"c\": dataOutputAssociation into or out of a dataOutput of a intermediateCatchEvent is not run"),
        "{errors}"
    );
    assert!(
        !errors.contains("never reached"),
        "neighbours of refused elements are not reported: {errors}"
    );
}

#[test]
fn correlation_by_content_is_refused_by_name() {
    let xml = definitions(&format!(
        r#"<bpmn:correlationProperty id="cp_order" name="order"><bpmn:correlationPropertyRetrievalExpression messageRef="m"><bpmn:messagePath>order_id</bpmn:messagePath></bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>
<bpmn:message id="m" name="paid"/>
<bpmn:collaboration id="collab"><bpmn:participant id="part" processRef="p"/><bpmn:correlationKey id="ck" name="order"><bpmn:correlationPropertyRef>cp_order</bpmn:correlationPropertyRef></bpmn:correlationKey></bpmn:collaboration>
<bpmn:process id="p" isExecutable="true">
<bpmn:correlationSubscription id="cs" correlationKeyRef="ck"/>
<bpmn:startEvent id="s"/><bpmn:receiveTask id="r" messageRef="m"/><bpmn:endEvent id="e"/>{}{}
</bpmn:process>"#,
        flow("f1", "s", "r"),
        flow("f2", "r", "e"),
    ));
    let errors = parse_err(&xml).join("\n");
    for what in [
        "correlationProperty \"cp_order\": correlationProperty (correlating messages by their content) is not supported",
        "correlationKey \"ck\": correlationKey (correlating",
        "correlationSubscription \"cs\": correlationSubscription (correlating",
    ] {
        assert!(errors.contains(what), "{what}\n{errors}");
    }
}

#[test]
fn a_start_event_with_several_triggers_says_so() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m"/><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>
<bpmn:userTask id="t"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("f1", "s", "t"),
        flow("f2", "t", "e"),
    ))
    .replace(
        "<bpmn:process ",
        r#"<bpmn:message id="m" name="go"/><bpmn:process "#,
    );
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("startEvent \"s\": the start event has 2 event definitions (messageEventDefinition, timerEventDefinition): a multiple start event"),
        "{errors}"
    );
    assert!(!errors.contains("never reached"), "{errors}");
}

#[test]
fn a_refused_element_leaves_no_false_warnings_on_its_neighbours() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:exclusiveGateway id="g"/>
<bpmn:serviceTask id="charge" camunda:class="com.example.Charge"/>
<bpmn:boundaryEvent id="late" attachedToRef="charge"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="after"/><bpmn:userTask id="escalate"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>{}{}{}{}{}{}"#,
        flow("f1", "s", "g"),
        flow("f2", "g", "charge"),
        flow("f3", "charge", "after"),
        flow("f4", "after", "e"),
        flow("f5", "late", "escalate"),
        flow("f6", "escalate", "e2"),
    ));
    let errors = parse_err(&xml);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("serviceTask \"charge\": no service handler named"),
        "{errors:#?}"
    );
}

/// A flow refused for its condition is reported once, with its reason: its
/// gateway does not also "have no outgoing flow", nor its default "not be
/// one of its outgoing flows".
#[test]
fn a_refused_condition_brings_no_follow_on_errors() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f3"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
{}
<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e1"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="groovy">amount &gt; 100</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e2"><bpmn:extensionElements><camunda:executionListener event="take" class="com.example.Audit"/></bpmn:extensionElements></bpmn:sequenceFlow>"#,
        flow("f1", "s", "g"),
    ));
    let errors = parse_err(&xml);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].contains("sequenceFlow \"f2\": condition language \"groovy\""),
        "{errors:#?}"
    );
    assert!(
        errors[1].contains("sequenceFlow \"f3\": camunda:executionListener with a class"),
        "{errors:#?}"
    );
}

#[test]
fn flowable_extension_elements_that_change_what_runs_are_refused_by_name() {
    let xml = with_vendor_namespaces(&process(&format!(
        r#"<bpmn:startEvent id="s" flowable:initiator="starter"/>
<bpmn:userTask id="t"><bpmn:extensionElements><flowable:taskListener event="create" class="org.example.Notify"/></bpmn:extensionElements></bpmn:userTask>
<bpmn:serviceTask id="c" camunda:expression="${{1}}"><bpmn:extensionElements><activiti:field name="mode" stringValue="fast"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f1", "s", "t"),
        flow("f2", "t", "c"),
        flow("f3", "c", "e"),
    )));
    let errors = parse_err(&xml).join("\n");
    assert!(
        errors.contains("userTask \"t\": flowable:taskListener is not read by this engine"),
        "{errors}"
    );
    assert!(
        errors.contains("serviceTask \"c\": activiti:field is not read by this engine"),
        "{errors}"
    );
    let ok = with_vendor_namespaces(&process(&format!(
        r#"<bpmn:startEvent id="s" flowable:initiator="starter"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("f1", "s", "t"),
        flow("f2", "t", "e"),
    )));
    let defs = parse(&ok);
    let NodeKind::StartEvent(start) = &defs.main_process().unwrap().node("s").unwrap().kind else {
        panic!()
    };
    assert_eq!(start.initiator.as_deref(), Some("starter"));
}

#[test]
fn flowable_call_activity_variables_are_read_as_camundas() {
    let xml = with_vendor_namespaces(&process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:callActivity id="c" calledElement="child" flowable:inheritVariables="true">
  <bpmn:extensionElements>
    <flowable:in source="order" target="request"/>
    <activiti:in sourceExpression="${{amount * 2}}" target="doubled"/>
    <flowable:out source="answer" target="reply"/>
  </bpmn:extensionElements>
</bpmn:callActivity>
<bpmn:endEvent id="e"/>{}{}"#,
        flow("f1", "s", "c"),
        flow("f2", "c", "e"),
    )));
    let defs = parse(&xml);
    let NodeKind::CallActivity(c) = &defs.main_process().unwrap().node("c").unwrap().kind else {
        panic!()
    };
    let described: Vec<String> = c
        .inputs
        .iter()
        .chain(&c.outputs)
        .map(|m| match m {
            model::CallMapping::All { local } => format!("all local={local}"),
            model::CallMapping::One { source, target, .. } => {
                let from = match source {
                    model::CallSource::Variable(v) => v.clone(),
                    model::CallSource::Expression(t) => t.source(),
                };
                format!("{from} -> {target}")
            }
        })
        .collect();
    assert_eq!(
        described,
        [
            "order -> request",
            "${amount * 2} -> doubled",
            "all local=false",
            "answer -> reply"
        ]
    );
}

/// Flowable's attributes that change what runs, which this engine does not
/// run, are refused by name instead of being passed over.
#[test]
fn flowable_attributes_that_change_what_runs_are_refused_by_name() {
    let xml = with_vendor_namespaces(&process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="a" flowable:expression="${{1}}" flowable:skipExpression="${{skip}}"/>
<bpmn:serviceTask id="b" activiti:expression="${{1}}" activiti:triggerable="true"/>
<bpmn:serviceTask id="c" flowable:expression="${{1}}" flowable:exclusive="false"/>
<bpmn:endEvent id="e"/>{}{}{}{}"#,
        flow("f1", "s", "a"),
        flow("f2", "a", "b"),
        flow("f3", "b", "c"),
        flow("f4", "c", "e"),
    )));
    let errors = parse_err(&xml);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].contains("serviceTask \"a\": flowable:skipExpression is not run by this engine"),
        "{errors:#?}"
    );
    assert!(
        errors[1].contains("serviceTask \"b\": activiti:triggerable is not run by this engine"),
        "{errors:#?}"
    );
}
