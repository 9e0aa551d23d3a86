//! Expressions in the engine's places: JUEL spellings, the old engine's bare
//! form, templates, errors with their column, Java beans refused, the rhai
//! sandbox, and form validation. (EL's own rules are in `el.rs`.)

use bpmn_engine::bindings::PlainBindings;
use bpmn_engine::model::expr::{Expr, Script, Template};
use bpmn_engine::model::form::{self, Constraints, FieldType, FormField};
use serde_json::{Map, Value, json};

use crate::common::{Sim, flow, obj, process, t0};

fn vars() -> Map<String, Value> {
    obj(json!({
        "option": 1, "amount": 150, "approved": true, "verdict": "accept", "ratio": 0.5,
        "order": {"total": 12.5, "items": [1, 2, 3], "customer": {"name": "Ann"}},
        "blank": "", "nothing": null, "list": [], "map": {}
    }))
}

fn bindings() -> PlainBindings {
    PlainBindings {
        variables: vars(),
        now: None,
    }
}

fn eval(text: &str) -> Value {
    Expr::compile(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .eval(&mut bindings())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn cond(text: &str) -> bool {
    Expr::compile(text)
        .unwrap()
        .eval_bool(&mut bindings())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn conditions_as_camunda_modeler_users_write_them() {
    assert!(cond("${amount > 100 && approved}"));
    assert!(cond("${verdict == 'accept'}"));
    assert!(cond("${verdict == \"accept\"}"));
    assert!(!cond("${!approved}"));
    assert!(cond("#{amount >= 150}"));
}

#[test]
fn the_bare_form_of_the_old_engine() {
    assert!(cond("option==1"));
    assert!(!cond("option==2"));
}

#[test]
fn juel_keyword_operators() {
    assert!(cond("${amount gt 100 and approved}"));
    assert!(cond("${amount lt 100 or approved}"));
    assert!(!cond("${not approved}"));
    assert!(cond("${verdict eq 'accept' && option ne 2}"));
    assert!(cond("${amount ge 150 and amount le 150}"));
    assert_eq!(eval("${7 mod 4}"), json!(3));
    assert_eq!(eval("${8 div 2}"), json!(4.0), "div is always a Double");
    assert_eq!(eval("${7 / 2}"), json!(3.5));
}

#[test]
fn arithmetic_comparison_and_mixed_numbers() {
    assert_eq!(eval("${amount * 2 + 1}"), json!(301));
    assert_eq!(eval("${amount - 50}"), json!(100));
    assert!(cond("${ratio < 1}"));
    assert!(
        cond("${amount == 150.0}"),
        "integers and floats compare by value"
    );
    assert_eq!(eval("${ratio * 4}"), json!(2.0));
}

#[test]
fn paths_into_json_objects_and_lists() {
    assert!(cond("${order.total > 10}"));
    assert_eq!(eval("${order.customer.name}"), json!("Ann"));
    assert_eq!(eval("${order.items[1]}"), json!(2));
}

#[test]
fn empty_checks_null_blank_and_empty_collections() {
    for name in ["blank", "nothing", "list", "map"] {
        assert!(cond(&format!("${{empty {name}}}")), "{name}");
    }
    assert!(!cond("${empty verdict}"));
    assert!(cond("${not empty order.items}"));
    assert!(
        cond("${empty order.customer.nickname}"),
        "a missing property is empty"
    );
    assert!(cond("${nothing == null}"));
}

#[test]
fn words_inside_strings_are_left_alone() {
    assert!(!cond("${verdict == 'accept and more'}"));
    assert!(cond("${'a and b' == 'a and b'}"));
    assert_eq!(eval("${approved ? 'y' : 'n'}"), json!("y"));
}

#[test]
fn errors_name_the_column_and_the_expression() {
    let missing = Expr::compile("${unknown > 1}")
        .unwrap()
        .eval(&mut bindings())
        .unwrap_err();
    assert_eq!(
        missing.0,
        "Cannot resolve identifier 'unknown' (at column 3 of ${unknown > 1})"
    );
    // The bare form counts its columns in the text as written.
    let bare = Expr::compile("option == nope")
        .unwrap()
        .eval(&mut bindings())
        .unwrap_err();
    assert!(
        bare.0.contains("'nope' (at column 11 of option == nope)"),
        "{bare}"
    );
    let not_bool = Expr::compile("${amount + 1}")
        .unwrap()
        .eval_bool(&mut bindings())
        .unwrap_err();
    assert!(
        not_bool
            .0
            .contains("condition expression returns non-Boolean"),
        "{not_bool}"
    );
    let syntax = Expr::compile("${amount >}").unwrap_err();
    assert!(
        syntax.starts_with("cannot compile \"${amount >}\":") && syntax.contains("column"),
        "{syntax}"
    );
    assert!(Expr::compile("${}").is_err());
    assert!(
        Expr::compile("${x = 1}").is_err(),
        "assignments are not EL 2.2"
    );
}

#[test]
fn java_beans_are_refused_by_name() {
    let e = Expr::compile("${orderService.check(execution)}").unwrap_err();
    assert!(
        e.contains("calls check() on \"orderService\" (at column 3)")
            && e.contains("register a service handler named \"orderService\""),
        "{e}"
    );
    // Methods a variable's value has are not bean calls.
    assert_eq!(eval("${verdict.toUpperCase()}"), json!("ACCEPT"));
    assert_eq!(eval("${order.items.size()}"), json!(3));
}

#[test]
fn the_sandbox_stops_runaway_scripts_and_huge_values() {
    let spin = Script::compile("let i = 0; loop { i += 1; }").unwrap();
    let err = spin.run(&mut PlainBindings::default()).unwrap_err();
    assert!(err.0.contains("step budget"), "{err}");
    let grow = Script::compile("let s = \"x\"; loop { s += s; }").unwrap();
    let err = grow.run(&mut PlainBindings::default()).unwrap_err();
    assert!(
        err.0.contains("size limit") || err.0.contains("step budget"),
        "{err}"
    );
    assert!(
        Script::compile("eval(\"1\")").is_err()
            || Script::compile("eval(\"1\")")
                .unwrap()
                .run(&mut PlainBindings::default())
                .is_err()
    );
}

#[test]
fn scripts_report_what_they_changed() {
    let s = Script::compile(
        "let _tmp = amount * 2; let total = _tmp + 1; amount = 7; let fresh = \"yes\"; total",
    )
    .unwrap();
    let mut b = bindings();
    let result = s.run(&mut b).unwrap();
    assert_eq!(result, json!(301));
    assert_eq!(b.variables.get("fresh"), Some(&json!("yes")));
    assert_eq!(
        b.variables.get("_tmp"),
        None,
        "_names are the script's scratch"
    );
    assert_eq!(
        b.variables.get("amount"),
        Some(&json!(7)),
        "assigning changes an existing variable"
    );
    assert_eq!(b.variables.get("verdict"), Some(&json!("accept")));
}

#[test]
fn templates_mix_text_and_expressions() {
    let t = Template::parse("Dear ${order.customer.name}, you owe ${order.total}.").unwrap();
    assert_eq!(
        t.eval(&mut bindings()).unwrap(),
        json!("Dear Ann, you owe 12.5.")
    );
    let escaped = Template::parse("costs \\${amount}").unwrap();
    assert_eq!(
        escaped.eval(&mut bindings()).unwrap(),
        json!("costs ${amount}")
    );
    let whole = Template::parse("${amount}").unwrap();
    assert_eq!(
        whole.eval(&mut bindings()).unwrap(),
        json!(150),
        "a whole expression keeps its type"
    );
    assert!(Template::parse("plain").unwrap().is_literal());
    assert!(Template::parse("broken ${").is_err());
}

fn field(id: &str, ty: FieldType, c: Constraints, default: Option<Value>) -> FormField {
    FormField {
        id: id.into(),
        label: None,
        ty,
        default,
        constraints: c,
        properties: vec![],
    }
}

#[test]
fn form_validation_types_and_constraints() {
    let fields = vec![
        field(
            "name",
            FieldType::String,
            Constraints {
                required: true,
                minlength: Some(2),
                maxlength: Some(5),
                ..Default::default()
            },
            None,
        ),
        field(
            "age",
            FieldType::Long,
            Constraints {
                min: Some(18),
                max: Some(99),
                ..Default::default()
            },
            None,
        ),
        field(
            "ok",
            FieldType::Boolean,
            Constraints::default(),
            Some(json!(false)),
        ),
        field("when", FieldType::Date, Constraints::default(), None),
        field(
            "size",
            FieldType::Enum {
                values: vec![("s".into(), "S".into()), ("m".into(), "M".into())],
            },
            Constraints::default(),
            None,
        ),
        field(
            "ref",
            FieldType::String,
            Constraints {
                readonly: true,
                ..Default::default()
            },
            Some(json!("R1")),
        ),
    ];
    let good = form::validate(
        &fields,
        &obj(json!({"name": "Ann", "age": "42", "ok": "on", "when": "31/12/2024", "size": "m"})),
    )
    .unwrap();
    assert_eq!(
        Value::Object(good),
        json!({"name": "Ann", "age": 42, "ok": true, "when": "2024-12-31", "size": "m"})
    );
    let defaults = form::validate(&fields, &obj(json!({"name": "Bo"}))).unwrap();
    assert_eq!(
        defaults.get("ok"),
        Some(&json!(false)),
        "a field left out takes its default"
    );
    let errors = form::validate(
        &fields,
        &obj(json!({"name": "A", "age": 7, "ok": "maybe", "when": "yesterday", "size": "xl", "ref": "R2", "extra": 1})),
    )
    .unwrap_err();
    let by_field: Vec<(String, String)> =
        errors.into_iter().map(|e| (e.field, e.message)).collect();
    let expect = [
        ("extra", "is not a field of this form"),
        ("name", "must be at least 2 characters long"),
        ("age", "must be at least 18"),
        ("ok", "must be true or false, not \"maybe\""),
        (
            "when",
            "must be a date such as 2024-12-31, not \"yesterday\"",
        ),
        ("size", "must be one of s, m, not \"xl\""),
        ("ref", "is read-only"),
    ];
    for (f, m) in expect {
        assert!(
            by_field.iter().any(|(bf, bm)| bf == f && bm == m),
            "{f}: {m} not in {by_field:?}"
        );
    }
    let missing = form::validate(&fields, &obj(json!({}))).unwrap_err();
    assert_eq!(missing[0].field, "name");
    assert_eq!(missing[0].message, "is required");
    let long = form::validate(&fields, &obj(json!({"name": "Annabel"}))).unwrap_err();
    assert_eq!(long[0].message, "must be at most 5 characters long");
    let old = form::validate(&fields, &obj(json!({"name": "Ann", "age": 100}))).unwrap_err();
    assert_eq!(old[0].message, "must be at most 99");
    assert!(form::validate(&fields, &obj(json!({"name": "Ann", "age": 1.5}))).is_err());
    assert_eq!(
        form::validate(&[], &obj(json!({"any": 1})))
            .unwrap()
            .get("any"),
        Some(&json!(1)),
        "no form, any variables"
    );
}

#[test]
fn a_leading_equals_sign_is_feel_only_in_camunda_8_files() {
    let body = format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"><bpmn:extensionElements><camunda:inputOutput>
<camunda:inputParameter name="op">==</camunda:inputParameter>
<camunda:inputParameter name="cell">=A1+B1</camunda:inputParameter>
</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask>{}"#,
        flow("f0", "s", "t")
    );
    // Camunda 7: text stays text.
    let sim = Sim::start(&process(&body), json!({}));
    let t = sim.key("t");
    assert_eq!(sim.state.variables[&t]["op"], json!("=="));
    assert_eq!(sim.state.variables[&t]["cell"], json!("=A1+B1"));
    // Camunda 8: FEEL (A1 and B1 are not set: null + null is null).
    let c8 = process(&body).replace(
        "xmlns:camunda=",
        r#"xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda="#,
    );
    let sim = Sim::start(&c8.replace("==</camunda", "=1 + 1</camunda"), json!({}));
    let t = sim.key("t");
    assert_eq!(sim.state.variables[&t]["op"], json!(2));
    // FEEL's now() is the command's time, as in Camunda 8 start events'
    // `= string(now())`.
    let sim = Sim::start(
        &c8.replace("==</camunda", "= string(now())</camunda"),
        json!({}),
    );
    let t = sim.key("t");
    assert_eq!(
        sim.state.variables[&t]["op"],
        json!(t0().to_string()),
        "the simulation starts at t0"
    );
}
