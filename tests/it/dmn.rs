//! DMN decision tables and the FEEL subset, through the public API only.

use bpmn_engine::dmn::{DecisionLogic, DmnError, HitPolicy, parse_dmn};
use bpmn_engine::feel::{self, Expression, UnaryTests};
use bpmn_engine::model::{ParseError, Severity};
use serde_json::{Map, Value, json};

/// Third-party test data (`../shared/corpora` from the engine's repository root).
const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora");

// ------------------------------------------------------------------ helpers

fn vars(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn eval(expr: &str, v: Value) -> Value {
    Expression::parse(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .eval(&vars(v))
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

fn matches(tests: &str, input: Value) -> bool {
    UnaryTests::parse(tests)
        .unwrap_or_else(|e| panic!("{tests}: {e}"))
        .matches(&input, &Map::new())
        .unwrap_or_else(|e| panic!("{tests}: {e}"))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn dmn(body: &str) -> String {
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="defs" name="Tests" namespace="http://example.com/dmn">
{body}
</definitions>"##
    )
}

/// A decision with one table. `outputs` are names, optionally followed by
/// `|` and the output values (`"level|\"high\",\"low\""`).
fn table(
    id: &str,
    attrs: &str,
    inputs: &[&str],
    outputs: &[&str],
    rules: &[(&[&str], &[&str])],
) -> String {
    let mut x = format!(
        "<decision id=\"{id}\" name=\"{id} name\">\n<decisionTable id=\"{id}_t\" {attrs}>\n"
    );
    for (i, input) in inputs.iter().enumerate() {
        x += &format!(
            "<input id=\"{id}_i{i}\" label=\"in {i}\"><inputExpression id=\"{id}_ie{i}\" typeRef=\"string\"><text>{}</text></inputExpression></input>\n",
            esc(input)
        );
    }
    for (i, output) in outputs.iter().enumerate() {
        let (name, values) = output.split_once('|').unwrap_or((output, ""));
        let values = if values.is_empty() {
            String::new()
        } else {
            format!("<outputValues><text>{}</text></outputValues>", esc(values))
        };
        x += &format!(
            "<output id=\"{id}_o{i}\" name=\"{name}\" typeRef=\"string\">{values}</output>\n"
        );
    }
    for (r, (ins, outs)) in rules.iter().enumerate() {
        x += &format!("<rule id=\"{id}_r{}\">", r + 1);
        for (i, t) in ins.iter().enumerate() {
            x += &format!(
                "<inputEntry id=\"{id}_r{}_in{i}\"><text>{}</text></inputEntry>",
                r + 1,
                esc(t)
            );
        }
        for (i, t) in outs.iter().enumerate() {
            x += &format!(
                "<outputEntry id=\"{id}_r{}_out{i}\"><text>{}</text></outputEntry>",
                r + 1,
                esc(t)
            );
        }
        x += "</rule>\n";
    }
    x + "</decisionTable>\n</decision>\n"
}

fn parse_ok(xml: &str) -> bpmn_engine::dmn::DmnDefinitions {
    parse_dmn(xml.as_bytes()).unwrap_or_else(|e| panic!("refused:\n{e}\n{xml}"))
}

fn parse_err(xml: &str) -> ParseError {
    match parse_dmn(xml.as_bytes()) {
        Ok(_) => panic!("accepted:\n{xml}"),
        Err(e) => e,
    }
}

/// The results of evaluating a one-table file.
fn run(
    attrs: &str,
    inputs: &[&str],
    outputs: &[&str],
    rules: &[(&[&str], &[&str])],
    v: Value,
) -> Result<Vec<Map<String, Value>>, DmnError> {
    let defs = parse_ok(&dmn(&table("d", attrs, inputs, outputs, rules)));
    defs.evaluate("d", &vars(v)).map(|r| r.results)
}

fn rows(v: Value) -> Vec<Map<String, Value>> {
    match v {
        Value::Array(items) => items.into_iter().map(vars).collect(),
        _ => Vec::new(),
    }
}

// ------------------------------------------------------------------ FEEL expressions

#[test]
fn feel_arithmetic_keeps_integers() {
    let three = eval("1 + 2", json!({}));
    assert_eq!(three, json!(3));
    assert!(three.is_i64());
    assert_eq!(eval("1.5 * 2", json!({})), json!(3.0));
    assert_eq!(eval("10 / 4", json!({})), json!(2.5));
    assert!(eval("10 / 5", json!({})).is_i64());
    assert_eq!(eval("2 ** 10", json!({})), json!(1024));
    assert_eq!(eval("2 + 3 * 4", json!({})), json!(14));
    assert_eq!(eval("(2 + 3) * 4", json!({})), json!(20));
    assert_eq!(eval("-3 + a", json!({"a": 5})), json!(2));
    assert_eq!(eval("0.1 + 0.2 > 0.3", json!({})), json!(true));
    assert_eq!(eval("-2.5 - 1", json!({})), json!(-3.5));
    assert_eq!(eval("1 / 0", json!({})), Value::Null);
    assert_eq!(
        eval("9223372036854775807 + 1", json!({})),
        json!(9223372036854775808.0)
    );
    assert_eq!(eval("\"a\" + \"b\" + s", json!({"s": "c"})), json!("abc"));
    assert_eq!(eval("\"a\" * 2", json!({})), Value::Null);
}

#[test]
fn feel_comparisons_logic_and_null() {
    assert_eq!(
        eval("a = 5 and b != \"x\"", json!({"a": 5, "b": "y"})),
        json!(true)
    );
    assert_eq!(eval("a < 3 or a >= 5", json!({"a": 5})), json!(true));
    assert_eq!(eval("not(a > 3)", json!({"a": 5})), json!(false));
    assert_eq!(eval("1 = 1.0", json!({})), json!(true));
    assert_eq!(eval("1 = \"1\"", json!({})), json!(false));
    // Missing variables are null; comparing with null gives null, not an error.
    assert_eq!(eval("missing", json!({})), Value::Null);
    assert_eq!(eval("missing > 5", json!({})), Value::Null);
    assert_eq!(eval("missing = null", json!({})), json!(true));
    assert_eq!(eval("true and null", json!({})), Value::Null);
    assert_eq!(eval("false and null", json!({})), json!(false));
    assert_eq!(eval("true or null", json!({})), json!(true));
    assert_eq!(eval("[1, 2] = [1, 2]", json!({})), json!(true));
    assert_eq!(eval("{a: 1} = {a: 1}", json!({})), json!(true));
}

#[test]
fn feel_if_in_between() {
    let v = json!({"amount": 250, "tier": "gold"});
    assert_eq!(
        eval("if amount > 100 then \"big\" else \"small\"", v.clone()),
        json!("big")
    );
    assert_eq!(eval("if missing then 1 else 2", json!({})), json!(2));
    assert_eq!(
        eval("tier in [\"gold\", \"silver\"]", v.clone()),
        json!(true)
    );
    assert_eq!(eval("tier in (\"bronze\")", v.clone()), json!(false));
    assert_eq!(eval("amount in [200..300]", v.clone()), json!(true));
    assert_eq!(eval("amount in (250..300]", v.clone()), json!(false));
    assert_eq!(eval("amount in (< 10, > 200)", v.clone()), json!(true));
    assert_eq!(eval("amount between 100 and 250", v.clone()), json!(true));
    assert_eq!(eval("amount between 251 and 300", v), json!(false));
}

#[test]
fn feel_paths_lists_contexts() {
    let v = json!({"order": {"customer": {"age": 42}}, "items": [3, 1, 2], "people": [{"n": "a", "age": 5}, {"n": "b", "age": 50}]});
    assert_eq!(eval("order.customer.age", v.clone()), json!(42));
    assert_eq!(eval("order.missing.age", v.clone()), Value::Null);
    assert_eq!(eval("items[1]", v.clone()), json!(3));
    assert_eq!(eval("items[-1]", v.clone()), json!(2));
    assert_eq!(eval("items[item > 1]", v.clone()), json!([3, 2]));
    assert_eq!(eval("people[age > 18].n", v.clone()), json!(["b"]));
    assert_eq!(
        eval("{a: 1, \"b c\": a + 1}", json!({})),
        json!({"a": 1, "b c": 2})
    );
    assert_eq!(eval("{a: {b: 7}}.a.b", json!({})), json!(7));
    assert_eq!(
        eval("[1, [2, 3], \"x\"]", json!({})),
        json!([1, [2, 3], "x"])
    );
    assert_eq!(
        eval("Monthly Income * 12", json!({"Monthly Income": 100})),
        json!(1200)
    );
}

#[test]
fn feel_dates_times_durations() {
    assert_eq!(
        eval("date(\"2024-01-02\") > date(\"2024-01-01\")", json!({})),
        json!(true)
    );
    // ISO strings from variables compare with dates.
    assert_eq!(
        eval("date(\"2024-01-02\") > d", json!({"d": "2024-01-01"})),
        json!(true)
    );
    assert_eq!(
        eval("d < date(\"2024-01-01\")", json!({"d": "2023-12-31"})),
        json!(true)
    );
    assert_eq!(
        eval("date(\"2024-01-01\") = d", json!({"d": "2024-01-01"})),
        json!(true)
    );
    assert_eq!(
        eval("date(\"2024-01-31\") + duration(\"P1M\")", json!({})),
        json!("2024-02-29")
    );
    assert_eq!(
        eval("date(\"2024-03-01\") - date(\"2024-01-01\")", json!({})),
        json!("P60D")
    );
    assert_eq!(
        eval("date(\"2024-01-01\") + duration(\"P1D\")", json!({})),
        json!("2024-01-02")
    );
    assert_eq!(eval("date(2024, 2, 29)", json!({})), json!("2024-02-29"));
    assert_eq!(eval("date(2023, 2, 29)", json!({})), Value::Null);
    assert_eq!(eval("date(\"2024-05-06\").month", json!({})), json!(5));
    assert_eq!(
        eval("time(\"10:30:00\") + duration(\"PT45M\")", json!({})),
        json!("11:15:00")
    );
    assert_eq!(
        eval("time(\"10:30:00\") < time(\"11:00:00\")", json!({})),
        json!(true)
    );
    assert_eq!(
        eval(
            "date and time(\"2024-01-01T10:00:00+02:00\") < date and time(\"2024-01-01T09:00:00Z\")",
            json!({})
        ),
        json!(true)
    );
    assert_eq!(
        eval("date and time(\"2024-01-01T10:00:00Z\")", json!({})),
        json!("2024-01-01T10:00:00Z")
    );
    assert_eq!(
        eval(
            "date and time(\"2024-01-01T10:00:00\") + duration(\"PT36H\")",
            json!({})
        ),
        json!("2024-01-02T22:00:00")
    );
    assert_eq!(eval("duration(\"PT90M\")", json!({})), json!("PT1H30M"));
    assert_eq!(
        eval("duration(\"P10D\") > duration(\"P2D\")", json!({})),
        json!(true)
    );
    assert_eq!(
        eval("duration(\"P1Y2M\") + duration(\"P10M\")", json!({})),
        json!("P2Y")
    );
    assert_eq!(
        eval("d > duration(\"PT1H\")", json!({"d": "PT2H"})),
        json!(true)
    );
    // An invalid date in a variable gives null; a literal one is refused at parse time.
    assert_eq!(eval("date(d)", json!({"d": "not a date"})), Value::Null);
    assert!(Expression::parse("date(\"2024-13-01\")").is_err());
    assert!(Expression::parse("duration(\"1 day\")").is_err());
}

#[test]
fn feel_builtins() {
    let cases = [
        ("string(1.5)", json!("1.5")),
        ("string(12)", json!("12")),
        ("string(date(\"2024-01-01\"))", json!("2024-01-01")),
        ("number(\"12\")", json!(12)),
        ("number(\"1.25\")", json!(1.25)),
        ("number(\"x\")", Value::Null),
        ("contains(\"foobar\", \"oba\")", json!(true)),
        ("starts with(\"foobar\", \"foo\")", json!(true)),
        ("ends with(\"foobar\", \"foo\")", json!(false)),
        ("upper case(\"abc\")", json!("ABC")),
        ("lower case(\"ABC\")", json!("abc")),
        ("string length(\"héllo\")", json!(5)),
        ("substring(\"foobar\", 3)", json!("obar")),
        ("substring(\"foobar\", -2, 1)", json!("a")),
        ("string join([\"a\", \"b\"], \", \")", json!("a, b")),
        ("count([1, 2, 3])", json!(3)),
        ("sum([1, 2, 3])", json!(6)),
        ("sum([1, 2.5])", json!(3.5)),
        ("sum(1, 2)", json!(3)),
        ("min([3, 1, 2])", json!(1)),
        ("max(3, 9, 2)", json!(9)),
        (
            "max([date(\"2024-01-01\"), date(\"2025-01-01\")])",
            json!("2025-01-01"),
        ),
        ("mean([1, 2, 3, 4])", json!(2.5)),
        ("all([true, true])", json!(true)),
        ("any([false, true])", json!(true)),
        ("list contains([1, 2], 2)", json!(true)),
        ("abs(-3)", json!(3)),
        ("abs(-2.5)", json!(2.5)),
        ("floor(1.5)", json!(1)),
        ("ceiling(1.2)", json!(2)),
        ("ceiling(-1.5)", json!(-1)),
        ("decimal(2.345, 1)", json!(2.3)),
        ("modulo(-5, 3)", json!(1)),
        ("is defined(a)", json!(true)),
        ("is defined(nope)", json!(false)),
        ("get value({k: 1}, \"k\")", json!(1)),
        ("not(true)", json!(false)),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, json!({"a": null})), want, "{expr}");
    }
}

#[test]
fn feel_parse_errors_are_located() {
    let e = Expression::parse("1 +").unwrap_err();
    assert!(e.parse);
    assert_eq!(e.column, Some(4), "{e}");
    assert!(e.to_string().contains("`1 +`"), "{e}");
    let e = Expression::parse("foo(1)").unwrap_err();
    assert!(e.message.contains("unknown function `foo`"), "{e}");
    let e = Expression::parse("\"abc").unwrap_err();
    assert!(e.message.contains("unterminated string"), "{e}");
    let e = Expression::parse("count(1, 2)").unwrap_err();
    assert!(e.message.contains("takes 1 argument"), "{e}");
    let e = Expression::parse("a.b(1)").unwrap_err();
    assert!(e.message.contains("only built-in functions"), "{e}");
    let e = UnaryTests::parse("1 < ? < 5").unwrap_err();
    assert!(e.message.contains("chained"), "{e}");
    assert!(Expression::parse("").is_err());
    let e = Expression::parse("function(x) x + 1").unwrap_err();
    assert!(
        e.message
            .contains("`function` definitions are not supported"),
        "{e}"
    );
    let e = Expression::parse("some x in [1] x > 0").unwrap_err();
    assert!(e.message.contains("expected `satisfies`"), "{e}");
    let e = Expression::parse("for in [1] return 1").unwrap_err();
    assert!(e.message.contains("a name to iterate with"), "{e}");
}

#[test]
fn feel_for_some_and_every() {
    let v = json!({"riskLevels": ["green", "yellow"], "n": 3, "people": [{"age": 5}, {"age": 50}]});
    assert_eq!(
        eval("for x in [1, 2, 3] return x * 2", json!({})),
        json!([2, 4, 6])
    );
    assert_eq!(eval("for i in 1..n return i", v.clone()), json!([1, 2, 3]));
    assert_eq!(eval("for i in 3..1 return i", json!({})), json!([3, 2, 1]));
    assert_eq!(
        eval("for x in [1, 2], y in [10, 20] return x + y", json!({})),
        json!([11, 21, 12, 22])
    );
    // A later domain reads an earlier name.
    assert_eq!(
        eval("for x in [1, 2], y in x..2 return [x, y]", json!({})),
        json!([[1, 1], [1, 2], [2, 2]])
    );
    assert_eq!(
        eval("for p in people return p.age", v.clone()),
        json!([5, 50])
    );
    assert_eq!(eval("for x in [] return x", json!({})), json!([]));
    assert_eq!(eval("for x in missing return x", json!({})), Value::Null);
    assert_eq!(eval("for i in 1..\"a\" return i", json!({})), Value::Null);
    // The diagrams of the model interchange suite branch on these.
    assert_eq!(
        eval(
            "some risk in riskLevels satisfies risk = \"yellow\"",
            v.clone()
        ),
        json!(true)
    );
    assert_eq!(
        eval(
            "some risk in riskLevels satisfies risk = \"red\"",
            v.clone()
        ),
        json!(false)
    );
    assert_eq!(
        eval(
            "every risk in riskLevels satisfies risk = \"yellow\"",
            v.clone()
        ),
        json!(false)
    );
    assert_eq!(
        eval("every p in people satisfies p.age > 1", v.clone()),
        json!(true)
    );
    assert_eq!(
        eval("some x in [] satisfies x > 0", json!({})),
        json!(false)
    );
    assert_eq!(
        eval("every x in [] satisfies x > 0", json!({})),
        json!(true)
    );
    // Three-valued, as `and` and `or`: a decisive answer wins, otherwise null.
    assert_eq!(
        eval("some x in [null, 1] satisfies x > 0", json!({})),
        json!(true)
    );
    assert_eq!(
        eval("some x in [null, -1] satisfies x > 0", json!({})),
        Value::Null
    );
    assert_eq!(
        eval("every x in [null, -1] satisfies x > 0", json!({})),
        json!(false)
    );
    assert_eq!(
        eval("every x in [null, 1] satisfies x > 0", json!({})),
        Value::Null
    );
    assert_eq!(
        eval("some x in [1, 2], y in [2, 3] satisfies x = y", json!({})),
        json!(true)
    );
    // `for` and the quantifiers still name variables when not followed by a name.
    assert_eq!(eval("some + 1", json!({"some": 1})), json!(2));
}

#[test]
fn feel_iteration_is_within_the_budget() {
    let e = Expression::parse("for i in 1..1000000000 return i").unwrap();
    let err = e.eval(&vars(json!({}))).unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
    let e = Expression::parse("some i in 1..1000000000 satisfies i < 0").unwrap();
    let err = e.eval(&vars(json!({}))).unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
}

// ------------------------------------------------------------------ unary tests

#[test]
fn unary_tests_every_form() {
    let cases: &[(&str, Value, bool)] = &[
        ("-", json!(1), true),
        ("", json!(null), true),
        ("\"gold\"", json!("gold"), true),
        ("\"gold\"", json!("silver"), false),
        ("10", json!(10), true),
        ("10", json!(10.0), true),
        ("-5", json!(-5), true),
        ("true", json!(true), true),
        ("true", json!(false), false),
        ("< 10", json!(5), true),
        ("< 10", json!(10), false),
        ("<= 10", json!(10), true),
        (">= 5", json!(4), false),
        ("> 5", json!(null), false),
        ("[1..10]", json!(10), true),
        ("[1..10]", json!(1), true),
        ("(1..10)", json!(10), false),
        ("(1..10)", json!(1), false),
        ("]1..10[", json!(5), true),
        ("]1..10[", json!(1), false),
        ("[1..10)", json!(10), false),
        ("(1..10]", json!(10), true),
        ("[1.5..2.5]", json!(2), true),
        ("\"a\",\"b\"", json!("b"), true),
        ("\"a\", \"b\"", json!("c"), false),
        ("< 0, > 100", json!(101), true),
        ("not(\"a\",\"b\")", json!("b"), false),
        ("not(\"a\",\"b\")", json!("c"), true),
        ("not(< 5)", json!(7), true),
        ("null", json!(null), true),
        ("null", json!(1), false),
        ("? > 5 and ? < 10", json!(7), true),
        ("? > 5 and ? < 10", json!(11), false),
        ("cellInput > 5", json!(7), true),
        ("not(? > 5)", json!(3), true),
        (
            "[date(\"2024-01-01\")..date(\"2024-12-31\")]",
            json!("2024-06-01"),
            true,
        ),
        (
            "[date(\"2024-01-01\")..date(\"2024-12-31\")]",
            json!("2025-01-01"),
            false,
        ),
        ("< date(\"2024-01-01\")", json!("2023-05-05"), true),
        ("\"PEANUTS\" in ?", json!(["EGG", "PEANUTS"]), true),
        ("[1, 2, 3]", json!(2), true),
        ("contains(?, \"ell\")", json!("hello"), true),
        ("starts with(?, \"x\")", json!("hello"), false),
    ];
    for (tests, input, want) in cases {
        assert_eq!(matches(tests, input.clone()), *want, "{tests} with {input}");
    }
    assert!(UnaryTests::parse("-").unwrap().is_any());
    // Tests may read other variables.
    let t = UnaryTests::parse("> limit").unwrap();
    assert!(t.matches(&json!(10), &vars(json!({"limit": 5}))).unwrap());
    assert!(!t.matches(&json!(10), &vars(json!({}))).unwrap());
}

// ------------------------------------------------------------------ hit policies

const TIERS: &[(&[&str], &[&str])] = &[
    (&["> 100"], &["\"gold\""]),
    (&["> 50"], &["\"silver\""]),
    (&["-"], &["\"bronze\""]),
];

#[test]
fn hit_policy_unique() {
    let rules: &[(&[&str], &[&str])] = &[
        (&["\"a\""], &["1"]),
        (&["\"b\""], &["2"]),
        (&["\"b\", \"c\""], &["3"]),
    ];
    let r = run("", &["x"], &["out"], rules, json!({"x": "a"})).unwrap();
    assert_eq!(r, rows(json!([{"out": 1}])));
    assert!(
        run("", &["x"], &["out"], rules, json!({"x": "z"}))
            .unwrap()
            .is_empty()
    );
    let err = run(
        "hitPolicy=\"UNIQUE\"",
        &["x"],
        &["out"],
        rules,
        json!({"x": "b"}),
    )
    .unwrap_err();
    assert!(
        matches!(&err, DmnError::NotUnique { rules, .. } if rules == &["d_r2", "d_r3"]),
        "{err}"
    );
    assert!(err.to_string().contains("d_r2, d_r3"), "{err}");
    assert!(err.to_string().contains("\"d\""), "{err}");
}

#[test]
fn hit_policy_first_and_rule_order() {
    let r = run(
        "hitPolicy=\"FIRST\"",
        &["amount"],
        &["tier"],
        TIERS,
        json!({"amount": 70}),
    )
    .unwrap();
    assert_eq!(r, rows(json!([{"tier": "silver"}])));
    let r = run(
        "hitPolicy=\"RULE ORDER\"",
        &["amount"],
        &["tier"],
        TIERS,
        json!({"amount": 170}),
    )
    .unwrap();
    assert_eq!(
        r,
        rows(json!([{"tier": "gold"}, {"tier": "silver"}, {"tier": "bronze"}]))
    );
}

#[test]
fn hit_policy_priority_and_output_order() {
    let outs = &["tier|\"gold\",\"silver\",\"bronze\""];
    let reversed: &[(&[&str], &[&str])] = &[
        (&["-"], &["\"bronze\""]),
        (&["> 50"], &["\"silver\""]),
        (&["> 100"], &["\"gold\""]),
    ];
    let r = run(
        "hitPolicy=\"PRIORITY\"",
        &["amount"],
        outs,
        reversed,
        json!({"amount": 170}),
    )
    .unwrap();
    assert_eq!(r, rows(json!([{"tier": "gold"}])));
    let r = run(
        "hitPolicy=\"PRIORITY\"",
        &["amount"],
        outs,
        reversed,
        json!({"amount": 70}),
    )
    .unwrap();
    assert_eq!(r, rows(json!([{"tier": "silver"}])));
    let r = run(
        "hitPolicy=\"OUTPUT ORDER\"",
        &["amount"],
        outs,
        reversed,
        json!({"amount": 170}),
    )
    .unwrap();
    assert_eq!(
        r,
        rows(json!([{"tier": "gold"}, {"tier": "silver"}, {"tier": "bronze"}]))
    );
    // Priority by the first output, then the second.
    let two = &["a|\"hi\",\"lo\"", "b|1,2"];
    let rules: &[(&[&str], &[&str])] = &[
        (&["-"], &["\"lo\"", "1"]),
        (&["-"], &["\"hi\"", "2"]),
        (&["-"], &["\"hi\"", "1"]),
    ];
    let r = run("hitPolicy=\"OUTPUT ORDER\"", &["x"], two, rules, json!({})).unwrap();
    assert_eq!(
        r,
        rows(json!([{"a": "hi", "b": 1}, {"a": "hi", "b": 2}, {"a": "lo", "b": 1}]))
    );
}

#[test]
fn hit_policy_any() {
    let rules: &[(&[&str], &[&str])] = &[
        (&["> 10"], &["\"yes\""]),
        (&["> 20"], &["\"yes\""]),
        (&["> 30"], &["\"no\""]),
    ];
    let r = run(
        "hitPolicy=\"ANY\"",
        &["n"],
        &["ok"],
        rules,
        json!({"n": 25}),
    )
    .unwrap();
    assert_eq!(r, rows(json!([{"ok": "yes"}])));
    let err = run(
        "hitPolicy=\"ANY\"",
        &["n"],
        &["ok"],
        rules,
        json!({"n": 35}),
    )
    .unwrap_err();
    assert!(
        matches!(&err, DmnError::AnyConflict { rules, .. } if rules == &["d_r1", "d_r3"]),
        "{err}"
    );
}

#[test]
fn hit_policy_collect_and_aggregations() {
    let rules: &[(&[&str], &[&str])] = &[
        (&["> 0"], &["10"]),
        (&["> 5"], &["20"]),
        (&["> 50"], &["5"]),
        (&["> 100"], &[""]),
    ];
    let collect = |attrs: &str, n: i64| run(attrs, &["n"], &["v"], rules, json!({"n": n})).unwrap();
    assert_eq!(
        collect("hitPolicy=\"COLLECT\"", 60),
        rows(json!([{"v": 10}, {"v": 20}, {"v": 5}]))
    );
    assert_eq!(
        collect("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", 60),
        rows(json!([{"v": 35}]))
    );
    assert_eq!(
        collect("hitPolicy=\"COLLECT\" aggregation=\"MIN\"", 60),
        rows(json!([{"v": 5}]))
    );
    assert_eq!(
        collect("hitPolicy=\"COLLECT\" aggregation=\"MAX\"", 60),
        rows(json!([{"v": 20}]))
    );
    assert_eq!(
        collect("hitPolicy=\"COLLECT\" aggregation=\"COUNT\"", 60),
        rows(json!([{"v": 3}]))
    );
    // Null outputs are skipped by SUM/MIN/MAX, counted by COUNT.
    assert_eq!(
        collect("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", 200),
        rows(json!([{"v": 35}]))
    );
    assert_eq!(
        collect("hitPolicy=\"COLLECT\" aggregation=\"COUNT\"", 200),
        rows(json!([{"v": 4}]))
    );
    // No match: COUNT gives 0, the others no result.
    assert_eq!(
        collect("hitPolicy=\"COLLECT\" aggregation=\"COUNT\"", -1),
        rows(json!([{"v": 0}]))
    );
    assert!(collect("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", -1).is_empty());
    assert!(collect("hitPolicy=\"COLLECT\" aggregation=\"MAX\"", -1).is_empty());
    assert!(collect("hitPolicy=\"COLLECT\"", -1).is_empty());
    // SUM of strings is an error naming the decision.
    let words: &[(&[&str], &[&str])] = &[(&["-"], &["\"a\""]), (&["-"], &["\"b\""])];
    let err = run(
        "hitPolicy=\"COLLECT\" aggregation=\"SUM\"",
        &["n"],
        &["v"],
        words,
        json!({}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("SUM"), "{err}");
    let r = run(
        "hitPolicy=\"COLLECT\" aggregation=\"MAX\"",
        &["n"],
        &["v"],
        words,
        json!({}),
    )
    .unwrap();
    assert_eq!(r, rows(json!([{"v": "b"}])));
}

#[test]
fn tables_with_several_inputs_outputs_and_empty_entries() {
    let rules: &[(&[&str], &[&str])] = &[
        (&["\"gold\"", ">= 1000"], &["0.2", "\"VIP\""]),
        (&["\"gold\"", "< 1000"], &["0.1", ""]),
        (&["-", "-"], &["0", "\"none\""]),
    ];
    let outs = &["discount", "note"];
    let r = run(
        "hitPolicy=\"FIRST\"",
        &["customer.tier", "amount * 2"],
        outs,
        rules,
        json!({"customer": {"tier": "gold"}, "amount": 300}),
    )
    .unwrap();
    assert_eq!(r, rows(json!([{"discount": 0.1, "note": null}])));
    let r = run(
        "hitPolicy=\"FIRST\"",
        &["customer.tier", "amount * 2"],
        outs,
        rules,
        json!({"customer": {"tier": "gold"}, "amount": 600}),
    )
    .unwrap();
    assert_eq!(r, rows(json!([{"discount": 0.2, "note": "VIP"}])));
    // Output entries are expressions over the variables.
    let calc: &[(&[&str], &[&str])] = &[(&["-"], &["amount * 0.5", "\"n=\" + string(amount)"])];
    let r = run("", &["amount"], outs, calc, json!({"amount": 10})).unwrap();
    assert_eq!(r, rows(json!([{"discount": 5.0, "note": "n=10"}])));
}

#[test]
fn camunda_input_variable_and_unnamed_output() {
    let xml = dmn(r##"<decision id="check" name="Check">
  <decisionTable id="t" hitPolicy="FIRST">
    <input id="i1" camunda:inputVariable="age"><inputExpression id="e1"><text>person.age</text></inputExpression></input>
    <input id="i2"><inputExpression id="e2"><text>score</text></inputExpression></input>
    <output id="o1" typeRef="string"/>
    <rule id="r1"><inputEntry id="a1"><text>age &gt;= 18</text></inputEntry><inputEntry id="a2"><text>cellInput &gt; 3</text></inputEntry><outputEntry id="b1"><text>"adult"</text></outputEntry></rule>
    <rule id="r2"><inputEntry id="a3"><text>-</text></inputEntry><inputEntry id="a4"><text></text></inputEntry><outputEntry id="b2"><text>"other"</text></outputEntry></rule>
  </decisionTable>
</decision>"##);
    let defs = parse_ok(&xml);
    let r = defs
        .evaluate("Check", &vars(json!({"person": {"age": 20}, "score": 4})))
        .unwrap();
    // The unnamed single output is keyed by the decision id; found by name too.
    assert_eq!(r.results, rows(json!([{"check": "adult"}])));
    let r = defs
        .evaluate("check", &vars(json!({"person": {"age": 12}, "score": 4})))
        .unwrap();
    assert_eq!(r.single_entry().unwrap(), json!("other"));
    let err = defs.evaluate("nope", &Map::new()).unwrap_err();
    assert!(matches!(err, DmnError::NotFound(_)), "{err}");
}

// ------------------------------------------------------------------ literal expressions and requirements

#[test]
fn literal_expression_decisions() {
    let xml = dmn(r##"<decision id="fee" name="Fee">
  <variable id="v1" name="feeAmount" typeRef="number"/>
  <literalExpression id="le1" typeRef="number"><text>if amount &gt; 100 then amount * 0.1 else 5</text></literalExpression>
</decision>
<decision id="greeting" name="Greeting">
  <literalExpression id="le2"><text>"Hello " + name</text></literalExpression>
</decision>"##);
    let defs = parse_ok(&xml);
    let r = defs.evaluate("fee", &vars(json!({"amount": 200}))).unwrap();
    assert_eq!(r.results, rows(json!([{"feeAmount": 20.0}])));
    let r = defs
        .evaluate("Greeting", &vars(json!({"name": "Ada"})))
        .unwrap();
    assert_eq!(r.single_entry().unwrap(), json!("Hello Ada"));
    assert!(
        matches!(&defs.decision("fee").unwrap().logic, DecisionLogic::Literal { variable, .. } if variable == "feeAmount")
    );
}

#[test]
fn required_decisions_chain() {
    // A requires B requires C; B has two outputs, C one.
    let xml = dmn(&format!(
        r##"<decision id="A" name="Approve">
  <informationRequirement id="ir1"><requiredDecision href="#B"/></informationRequirement>
  <literalExpression id="leA"><text>if B.risk = "low" and limit &gt; 1000 then "approve" else "refer"</text></literalExpression>
</decision>
<decision id="B" name="Risk">
  <informationRequirement id="ir2"><requiredDecision href="#C"/></informationRequirement>
  <decisionTable id="tB">
    <input id="iB"><inputExpression id="eB"><text>Score</text></inputExpression></input>
    <output id="oB1" name="risk"/><output id="oB2" name="limit"/>
    <rule id="rB1"><inputEntry id="xB1"><text>&gt;= 700</text></inputEntry><outputEntry id="yB1"><text>"low"</text></outputEntry><outputEntry id="yB2"><text>5000</text></outputEntry></rule>
    <rule id="rB2"><inputEntry id="xB2"><text>&lt; 700</text></inputEntry><outputEntry id="yB3"><text>"high"</text></outputEntry><outputEntry id="yB4"><text>0</text></outputEntry></rule>
  </decisionTable>
</decision>
{}"##,
        table("C", "", &["raw"], &["score"], &[(&["-"], &["raw * 10"])])
            .replace("name=\"C name\"", "name=\"Score\"")
    ));
    let defs = parse_ok(&xml);
    assert_eq!(defs.decision("A").unwrap().required, vec!["B"]);
    let r = defs.evaluate("A", &vars(json!({"raw": 75}))).unwrap();
    assert_eq!(r.single_entry().unwrap(), json!("approve"));
    let r = defs.evaluate("A", &vars(json!({"raw": 60}))).unwrap();
    assert_eq!(r.single_entry().unwrap(), json!("refer"));
    // B sees C's result under its name ("Score").
    let r = defs.evaluate("Risk", &vars(json!({"raw": 80}))).unwrap();
    assert_eq!(
        r.single_result().unwrap(),
        json!({"risk": "low", "limit": 5000})
    );
}

#[test]
fn required_decision_results_become_variables() {
    let xml = dmn(&format!(
        r##"<decision id="top" name="Top">
  <informationRequirement id="ir1"><requiredDecision href="#many"/></informationRequirement>
  <informationRequirement id="ir2"><requiredDecision href="#single"/></informationRequirement>
  <literalExpression id="le"><text>{{ids: many, byName: Many name, one: single, direct: label, count: count(many)}}</text></literalExpression>
</decision>
{}{}"##,
        table("many", "hitPolicy=\"COLLECT\"", &["x"], &["v"], &[(&["-"], &["1"]), (&["-"], &["2"])]),
        table("single", "", &["x"], &["label", "code"], &[(&["-"], &["\"L\"", "7"])]),
    )
    .replace("name=\"many name\"", "name=\"Many name\""));
    let defs = parse_ok(&xml);
    let r = defs.evaluate("top", &Map::new()).unwrap();
    assert_eq!(
        r.single_entry().unwrap(),
        json!({"ids": [1, 2], "byName": [1, 2], "one": {"label": "L", "code": 7}, "direct": "L", "count": 2})
    );
}

#[test]
fn dmn_11_namespace_and_bare_required_decision() {
    let xml = r##"<definitions xmlns="http://www.omg.org/spec/DMN/20151101/dmn.xsd" id="d11" name="Old">
  <decision id="a" name="A"><requiredDecision href="#b"/>
    <literalExpression id="l1"><text>b + 1</text></literalExpression></decision>
  <decision id="b" name="B"><literalExpression id="l2"><text>41</text></literalExpression></decision>
</definitions>"##;
    let defs = parse_ok(xml);
    assert_eq!(defs.name.as_deref(), Some("Old"));
    assert_eq!(
        defs.evaluate("a", &Map::new())
            .unwrap()
            .single_entry()
            .unwrap(),
        json!(42)
    );
}

#[test]
fn shared_requirements_are_evaluated_once_and_long_chains_refused() {
    // 40 layers of two decisions, each requiring both of the next layer:
    // without memoisation this would take 2^40 evaluations.
    let mut body = String::new();
    for layer in 0..40 {
        for side in ["a", "b"] {
            let reqs = if layer < 39 {
                format!(
                    "<requiredDecision href=\"#a{}\"/><requiredDecision href=\"#b{}\"/>",
                    layer + 1,
                    layer + 1
                )
            } else {
                String::new()
            };
            let expr = if layer < 39 {
                format!("a{} + b{}", layer + 1, layer + 1)
            } else {
                "1".into()
            };
            body += &format!(
                "<decision id=\"{side}{layer}\">{reqs}<literalExpression id=\"l{side}{layer}\"><text>{expr}</text></literalExpression></decision>\n"
            );
        }
    }
    let defs = parse_ok(&dmn(&body));
    let r = defs.evaluate("a0", &Map::new()).unwrap();
    assert_eq!(r.single_entry().unwrap(), json!(1_i64 << 39));

    let mut body = String::new();
    for i in 0..2000 {
        body += &format!(
            "<decision id=\"d{i}\"><requiredDecision href=\"#d{}\"/><literalExpression id=\"l{i}\"><text>1</text></literalExpression></decision>\n",
            i + 1
        );
    }
    body += "<decision id=\"d2000\"><literalExpression id=\"l2000\"><text>1</text></literalExpression></decision>";
    let err = parse_err(&dmn(&body));
    assert!(
        err.to_string().contains("chained more than 64 deep"),
        "{err}"
    );
}

#[test]
fn large_contexts_and_filters_stay_fast() {
    let entries: Vec<String> = (0..3000)
        .map(|i| {
            if i == 0 {
                "k0: 0".into()
            } else {
                format!("k{i}: k{} + 1", i - 1)
            }
        })
        .collect();
    let expr = format!("{{{}}}.k2999", entries.join(", "));
    assert_eq!(eval(&expr, json!({})), json!(2999));
    let list: Vec<Value> = (0..20_000).map(|i| json!({"n": i})).collect();
    assert_eq!(
        eval("count(xs[n >= 10000])", json!({"xs": list})),
        json!(10_000)
    );
}

// ------------------------------------------------------------------ budgets

/// `count(xs[count(xs[... xs[item > 0] ...]) > 0])`: every level goes through
/// the ten items of `xs` once per item of the level around it.
fn nested_filters(levels: usize) -> String {
    let mut e = "xs[item > 0]".to_string();
    for _ in 1..levels {
        e = format!("xs[count({e}) > 0]");
    }
    format!("count({e})")
}

fn literal_decision(text: &str) -> String {
    dmn(&format!(
        r##"<decision id="d" name="D">
  <literalExpression id="le"><text>{}</text></literalExpression>
</decision>"##,
        esc(text)
    ))
}

fn budget_message(err: &DmnError) -> String {
    match err {
        DmnError::Feel { source, .. } => source.message.clone(),
        other => panic!("not a FEEL error: {other}"),
    }
}

#[test]
fn feel_budget_refuses_nested_filters() {
    let ten = json!({"xs": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]});
    // Small nestings are fine...
    assert_eq!(eval(&nested_filters(3), ten.clone()), json!(10));
    // ...but nine levels went through 10^9 items (minutes) before there was a budget.
    let steps = format!("exceeded its budget of {} steps", feel::STEP_BUDGET);
    let started = std::time::Instant::now();
    let defs = parse_ok(&literal_decision(&nested_filters(9)));
    let err = defs.evaluate("d", &vars(ten.clone())).unwrap_err();
    assert!(budget_message(&err).contains(&steps), "{err}");
    assert!(
        err.to_string()
            .contains("decision \"d\", literal expression"),
        "{err}"
    );
    // The same in a decision table: as an input expression, in an input entry
    // and in an output entry.
    let deep = nested_filters(9);
    for (input, test, output) in [
        (deep.as_str(), "-", "1"),
        ("1", &format!("? < {deep}") as &str, "1"),
        ("1", "-", deep.as_str()),
    ] {
        let err = run("", &[input], &["o"], &[(&[test], &[output])], ten.clone()).unwrap_err();
        assert!(budget_message(&err).contains(&steps), "{err}");
    }
    // The public API refuses it too, as an evaluation (not a syntax) error.
    let err = Expression::parse(&deep)
        .unwrap()
        .eval(&vars(ten.clone()))
        .unwrap_err();
    assert!(!err.parse && err.message.contains(&steps), "{err}");
    let err = UnaryTests::parse(&format!("< {deep}"))
        .unwrap()
        .matches(&json!(1), &vars(ten))
        .unwrap_err();
    assert!(err.message.contains(&steps), "{err}");
    println!("refused in {:?}", started.elapsed());
}

#[test]
fn feel_budget_is_shared_by_the_rules_of_a_decision() {
    // Each rule alone stays within the budget; a table of many such rules does not.
    let one = nested_filters(4);
    let test = format!("? < {one}");
    let rule: (&[&str], &[&str]) = (&[test.as_str()], &["1"]);
    let ten = json!({"xs": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]});
    assert!(
        run(
            "hitPolicy=\"COLLECT\"",
            &["1"],
            &["o"],
            &[rule],
            ten.clone()
        )
        .is_ok()
    );
    let rules = vec![rule; 200];
    let err = run("hitPolicy=\"COLLECT\"", &["1"], &["o"], &rules, ten).unwrap_err();
    assert!(
        budget_message(&err).contains("exceeded its budget of"),
        "{err}"
    );
}

#[test]
fn feel_budget_refuses_huge_values() {
    // Each entry doubles the string: 512 MiB by the 26th entry without a limit.
    let mut entries = vec!["a0: \"0123456789abcdef\"".to_string()];
    for i in 1..30 {
        entries.push(format!("a{i}: a{} + a{}", i - 1, i - 1));
    }
    let text = format!("{{{}}}", entries.join(", "));
    let defs = parse_ok(&literal_decision(&text));
    let err = defs.evaluate("d", &Map::new()).unwrap_err();
    let bytes = format!(
        "a string grew beyond its budget of {} bytes",
        feel::MAX_STRING_BYTES
    );
    assert!(budget_message(&err).contains(&bytes), "{err}");
    // Strings of up to 1 MiB are fine.
    let mib = "x".repeat(feel::MAX_STRING_BYTES / 2);
    assert_eq!(
        eval("string length(s + s)", json!({"s": mib})),
        json!(feel::MAX_STRING_BYTES)
    );
    for text in [
        "string join([s, s, s])",
        "string([s, s])",
        "string join([s, s], s)",
    ] {
        match Expression::parse(text)
            .unwrap()
            .eval(&vars(json!({"s": mib})))
        {
            Ok(_) => panic!("{text} was not refused"),
            Err(err) => assert!(err.message.contains(&bytes), "{text}: {err}"),
        }
    }
    // Lists: a path over a list makes a list as long.
    let many: Vec<Value> = (0..=feel::MAX_ITEMS).map(|i| json!({"n": i})).collect();
    let err = Expression::parse("xs.n")
        .unwrap()
        .eval(&vars(json!({"xs": many})))
        .unwrap_err();
    assert!(
        err.message.contains(&format!(
            "a list grew beyond its budget of {} items",
            feel::MAX_ITEMS
        )),
        "{err}"
    );
    // Nesting: each entry wraps the one before in a list.
    let mut entries = vec!["a0: 1".to_string()];
    for i in 1..400 {
        entries.push(format!("a{i}: [a{}]", i - 1));
    }
    let err = Expression::parse(&format!("{{{}}}", entries.join(", ")))
        .unwrap()
        .eval(&Map::new())
        .unwrap_err();
    assert!(
        err.message.contains(&format!(
            "nested beyond their budget of {} levels",
            feel::MAX_VALUE_NESTING
        )),
        "{err}"
    );
}

#[test]
fn feel_budget_leaves_ordinary_decisions_alone() {
    let xml = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/discount.dmn")).unwrap();
    let defs = parse_dmn(&xml).unwrap();
    for (years, amount, percent, reason) in [
        (0, 50, 0, "no discount"),
        (1, 5000, 0, "no discount"),
        (3, 50, 0, "no discount"),
        (3, 100, 5, "silver"),
        (4, 999, 5, "silver"),
        (3, 1000, 0, "no discount"),
        (5, 10, 10, "gold"),
        (9, 1000, 15, "gold, large order"),
    ] {
        let r = defs
            .evaluate("discount", &vars(json!({"years": years, "amount": amount})))
            .unwrap();
        assert_eq!(
            r.results,
            rows(json!([{"percent": percent, "reason": reason}])),
            "years {years}, amount {amount}"
        );
    }
    // Large, but linear: well within the budget.
    let list: Vec<Value> = (0..20_000).map(|i| json!({"n": i, "s": "x"})).collect();
    assert_eq!(
        eval(
            "sum(xs[n >= 10000 and s = \"x\"].n) / count(xs)",
            json!({"xs": list})
        ),
        json!(7499.75)
    );
    // A thousand rules, each evaluated.
    const ONE: &[&str] = &["1"];
    let tests: Vec<[String; 1]> = (0..1000).map(|i| [format!("{i}")]).collect();
    let tests: Vec<[&str; 1]> = tests.iter().map(|[t]| [t.as_str()]).collect();
    let rules: Vec<(&[&str], &[&str])> = tests.iter().map(|t| (&t[..], ONE)).collect();
    assert_eq!(
        run("", &["n"], &["o"], &rules, json!({"n": 999})).unwrap(),
        rows(json!([{"o": 1}]))
    );
}

// ------------------------------------------------------------------ diagnostics

#[test]
fn invalid_feel_in_input_entry_is_located() {
    let xml = dmn(&table(
        "d",
        "",
        &["x"],
        &["o"],
        &[(&["> 5"], &["1"]), (&["[1..)"], &["2"])],
    ));
    let err = parse_err(&xml);
    let d = err.errors().next().unwrap();
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.kind.as_deref(), Some("inputEntry"));
    assert_eq!(d.element.as_deref(), Some("d_r2_in0"));
    let line = xml.lines().position(|l| l.contains("d_r2_in0")).unwrap() as u32 + 1;
    assert_eq!(d.line, line, "{d}");
    assert!(d.column > 1, "{d}");
    assert!(d.message.contains("[1..)"), "{d}");
    assert!(err.to_string().starts_with(&format!("{line}:")), "{err}");
}

#[test]
fn unknown_hit_policy_and_other_errors_are_all_collected() {
    let xml = dmn(&format!(
        "{}{}{}",
        table(
            "d1",
            "hitPolicy=\"SOMETIMES\"",
            &["x"],
            &["o"],
            &[(&["1"], &["1"])]
        ),
        table("d2", "", &["x +"], &["o"], &[(&["1"], &["1"])]),
        table(
            "d3",
            "hitPolicy=\"UNIQUE\" aggregation=\"SUM\"",
            &["x"],
            &["o"],
            &[(&["1", "2"], &["1"])]
        ),
    ));
    let err = parse_err(&xml);
    let msgs: Vec<String> = err.errors().map(|d| d.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("unknown hit policy \"SOMETIMES\"")
                && m.contains("decisionTable \"d1_t\"")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("invalid input expression") && m.contains("input \"d2_i0\"")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("aggregation needs the hit policy COLLECT")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("2 input entries for 1 inputs")),
        "{msgs:?}"
    );
    // Sorted by position.
    let lines: Vec<u32> = err.diagnostics.iter().map(|d| d.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn missing_and_cyclic_required_decisions_are_refused() {
    let lit = |id: &str, req: &str| {
        format!(
            "<decision id=\"{id}\" name=\"{id}\"><informationRequirement id=\"ir_{id}\"><requiredDecision href=\"#{req}\"/></informationRequirement><literalExpression id=\"le_{id}\"><text>1</text></literalExpression></decision>\n"
        )
    };
    let err = parse_err(&dmn(&lit("a", "ghost")));
    let d = err.errors().next().unwrap();
    assert!(d.message.contains("\"ghost\""), "{d}");
    assert_eq!(d.element.as_deref(), Some("a"));
    assert_eq!(d.kind.as_deref(), Some("decision"));
    assert!(d.line > 0 && d.column > 0);

    let err = parse_err(&dmn(&format!(
        "{}{}{}",
        lit("a", "b"),
        lit("b", "c"),
        lit("c", "a")
    )));
    let cycles: Vec<_> = err
        .errors()
        .filter(|d| d.message.contains("cycle"))
        .collect();
    assert_eq!(cycles.len(), 1, "{err}");
    assert!(cycles[0].message.contains("a -> b -> c -> a"), "{err}");

    let err = parse_err(&dmn(&lit("self", "self")));
    assert!(err.to_string().contains("self -> self"), "{err}");
}

#[test]
fn duplicate_ids_and_bad_files_are_refused() {
    let xml = dmn(&format!(
        "{}{}",
        table("d", "", &["x"], &["o"], &[]),
        table("d", "", &["x"], &["o"], &[])
    ));
    let err = parse_err(&xml);
    assert!(
        err.errors()
            .any(|d| d.message.contains("\"d\" is used more than once")),
        "{err}"
    );

    let err = parse_err("<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"/>");
    assert!(err.to_string().contains("not in a DMN namespace"), "{err}");
    let err = parse_err("<decision");
    assert_eq!(err.diagnostics[0].severity, Severity::Error);
    let err = parse_err(&dmn(
        "<decision id=\"x\"><literalExpression id=\"l\"><text></text></literalExpression></decision>",
    ));
    assert!(err.to_string().contains("empty"), "{err}");
    let err = parse_err(&dmn(&table(
        "d",
        "hitPolicy=\"PRIORITY\"",
        &["x"],
        &["o"],
        &[],
    )));
    assert!(err.to_string().contains("outputValues"), "{err}");
    let err = parse_err(&dmn(&table("d", "", &["x"], &["", ""], &[])));
    assert!(err.to_string().contains("needs a name"), "{err}");
}

#[test]
fn unsupported_elements_are_refused() {
    let xml = dmn(
        r##"<businessKnowledgeModel id="bkm" name="PMT"><encapsulatedLogic id="el"><literalExpression id="l0"><text>1</text></literalExpression></encapsulatedLogic></businessKnowledgeModel>
<decision id="ctx" name="Ctx"><context id="c1"/></decision>
<decision id="inv" name="Inv"><knowledgeRequirement id="kr"><requiredKnowledge href="#bkm"/></knowledgeRequirement><invocation id="i1"/></decision>
<decision id="py" name="Py"><literalExpression id="l1" expressionLanguage="python"><text>1</text></literalExpression></decision>
<decision id="empty" name="Empty"/>"##,
    );
    let err = parse_err(&xml);
    let unsupported: Vec<_> = err
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Unsupported)
        .collect();
    let text = err.to_string();
    assert!(unsupported.len() >= 5, "{text}");
    assert!(text.contains("boxed <context>"), "{text}");
    assert!(text.contains("business knowledge model \"bkm\""), "{text}");
    assert!(text.contains("boxed <invocation>"), "{text}");
    assert!(text.contains("\"python\""), "{text}");
    assert!(
        text.contains("no decision table or literal expression"),
        "{text}"
    );
    // An uninvoked business knowledge model and the diagram are ignored.
    let xml = dmn(r##"<businessKnowledgeModel id="bkm" name="PMT"/>
<inputData id="in1" name="x"/>
<decision id="ok"><literalExpression id="l"><text>x</text></literalExpression></decision>
<decisionService id="ds" name="DS"/>"##);
    let defs = parse_ok(&xml);
    assert_eq!(defs.warnings.len(), 1, "{:?}", defs.warnings);
    assert_eq!(defs.warnings[0].severity, Severity::Warning);
}

// ------------------------------------------------------------------ results

#[test]
fn map_decision_result_helpers() {
    let defs = parse_ok(&dmn(&table(
        "d",
        "hitPolicy=\"RULE ORDER\"",
        &["n"],
        &["a", "b"],
        &[(&["> 0"], &["1", "\"x\""]), (&["> 5"], &["2", "\"y\""])],
    )));
    let one = defs.evaluate("d", &vars(json!({"n": 1}))).unwrap();
    let two = defs.evaluate("d", &vars(json!({"n": 9}))).unwrap();
    let none = defs.evaluate("d", &vars(json!({"n": -1}))).unwrap();
    assert_eq!(one.single_result().unwrap(), json!({"a": 1, "b": "x"}));
    assert_eq!(none.single_result().unwrap(), Value::Null);
    assert_eq!(none.single_entry().unwrap(), Value::Null);
    assert_eq!(
        two.result_list(),
        json!([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    );
    assert_eq!(none.collect_entries().unwrap(), json!([]));
    let e = one.single_entry().unwrap_err();
    assert!(
        e.to_string().contains("2 outputs") && e.to_string().contains("\"d\""),
        "{e}"
    );
    let e = two.single_result().unwrap_err();
    assert!(e.to_string().contains("2 results"), "{e}");
    assert!(two.collect_entries().is_err());

    let defs = parse_ok(&dmn(&table(
        "c",
        "hitPolicy=\"COLLECT\"",
        &["n"],
        &["v"],
        &[(&["-"], &["1"]), (&["-"], &["2"])],
    )));
    let r = defs.evaluate("c", &Map::new()).unwrap();
    assert_eq!(r.collect_entries().unwrap(), json!([1, 2]));
    assert!(
        r.single_entry()
            .unwrap_err()
            .to_string()
            .contains("2 results")
    );
}

#[test]
fn evaluation_errors_name_the_decision_and_rule() {
    // Evaluation errors are rare (FEEL gives null), but a table-level error names its rules.
    let defs = parse_ok(&dmn(&table(
        "d",
        "",
        &["x"],
        &["o"],
        &[(&["-"], &["1"]), (&["-"], &["2"])],
    )));
    let e = defs.evaluate("d name", &Map::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "decision \"d\" has hit policy UNIQUE but several rules match: d_r1, d_r2"
    );
}

#[test]
fn tables_serialize_for_display() {
    let defs = parse_ok(&dmn(&table(
        "d",
        "hitPolicy=\"RULE ORDER\"",
        &["amount"],
        &["tier|\"a\",\"b\""],
        &[(&["> 5"], &["\"a\""])],
    )));
    let json = serde_json::to_value(&defs).unwrap();
    let t = &json["decisions"][0]["logic"];
    assert_eq!(t["kind"], "table");
    assert_eq!(t["hit_policy"], "RULE ORDER");
    assert_eq!(t["inputs"][0]["expression_text"], "amount");
    assert_eq!(t["inputs"][0]["input_variable"], "cellInput");
    assert_eq!(t["outputs"][0]["values"], json!(["a", "b"]));
    assert_eq!(t["rules"][0]["input_texts"], json!(["> 5"]));
    assert_eq!(t["rules"][0]["output_texts"], json!(["\"a\""]));
    match &defs.decisions[0].logic {
        DecisionLogic::Table(t) => assert_eq!(t.hit_policy, HitPolicy::RuleOrder),
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------------ robustness

#[test]
fn garbage_never_panics() {
    let deep = |open: &str, n: usize| open.repeat(n);
    let mut inputs: Vec<String> = [
        "",
        " ",
        "(",
        ")",
        "[",
        "]",
        "]..[",
        "[..]",
        "..",
        "...",
        "?",
        "??",
        "-",
        "--",
        "- -5",
        "not(",
        "not()",
        "not(not(1))",
        "\"",
        "\"\\",
        "\"\\u12",
        "\"\\uZZZZ\"",
        "1..2",
        "1.",
        ".5",
        "1e5",
        "{",
        "{:}",
        "{a:}",
        "{a 1}",
        "if",
        "if 1 then",
        "if 1 then 2 else",
        "a.",
        "a..b",
        "a[",
        "a[1",
        "x in",
        "x in (",
        "x between 1",
        "x between 1 and",
        "date(",
        "date and time(\"x\")",
        "string length",
        "* 2",
        "1 **",
        "/* open",
        "// c",
        "a < b < c",
        "[1..2..3]",
        "((1..2))",
        "<",
        "<=",
        "< <",
        "> [1..2]",
        "=",
        "!=",
        "!",
        "é",
        "💥",
        "\u{0}",
        "9999999999999999999999999999",
        "-9223372036854775808",
        "2 ** 99999",
        "[1,",
        "[1,,2]",
        ",",
        ",,",
        "1,",
        "function(x) x",
        "some x in [1] satisfies x",
        "instance of",
        "x instance of number",
        "for",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for open in [
        "(",
        "[",
        "{a:",
        "-",
        "not(",
        "if x then ",
        "date(",
        "[1..",
        "x in [",
        "a.",
        "1+",
        "not(",
    ] {
        inputs.push(deep(open, 10_000));
        inputs.push(deep(open, 65));
    }
    inputs.push(format!("{}1{}", deep("(", 10_000), deep(")", 10_000)));
    inputs.push(format!("{}1{}", deep("(", 60), deep(")", 60)));
    inputs.push("1+".repeat(100_000) + "1");
    let v = vars(json!({"x": 1, "a": {"b": [1, 2]}}));
    for text in &inputs {
        if let Ok(e) = Expression::parse(text) {
            let _ = e.eval(&v);
        }
        if let Ok(t) = UnaryTests::parse(text) {
            for input in [
                json!(null),
                json!(1),
                json!("x"),
                json!([1]),
                json!({"a": 1}),
            ] {
                let _ = t.matches(&input, &v);
            }
        }
        let xml = dmn(&table(
            "d",
            "",
            &[text.as_str()],
            &["o"],
            &[(&[text.as_str()], &[text.as_str()])],
        ));
        if let Ok(defs) = parse_dmn(xml.as_bytes()) {
            let _ = defs.evaluate("d", &v);
        }
        let _ = parse_dmn(text.as_bytes());
    }
    // Deep nesting is refused with a clear error, not a stack overflow.
    let e = Expression::parse(&deep("(", 10_000)).unwrap_err();
    assert!(e.message.contains("nested more than"), "{e}");
    let e = UnaryTests::parse(&("1+".repeat(100_000) + "1")).unwrap_err();
    assert!(e.message.contains("nested more than"), "{e}");
    // Long texts are shortened in messages.
    assert!(e.text.chars().count() < 200);
    // Deep XML is refused by the XML reader.
    let xml = format!("{}{}", "<a>".repeat(1000), "</a>".repeat(1000));
    assert!(parse_dmn(xml.as_bytes()).is_err());
    assert!(parse_dmn(&[0xff, 0xfe, 0x00]).is_err());
}

// ------------------------------------------------------------------ third-party files

#[test]
fn corpus_dmn_files() {
    let root = std::path::Path::new(CORPORA);
    if !root.is_dir() {
        println!("skipped: {CORPORA} is absent");
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "dmn") {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut parsed, mut refused) = (0, 0);
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let result = std::panic::catch_unwind(|| parse_dmn(&bytes))
            .unwrap_or_else(|_| panic!("parse_dmn panicked on {}", f.display()));
        match result {
            Ok(defs) => {
                parsed += 1;
                // Evaluating with no variables may fail, but never panics.
                for d in &defs.decisions {
                    let r = std::panic::catch_unwind(|| defs.evaluate(&d.id, &Map::new()));
                    assert!(r.is_ok(), "evaluate panicked on {} ({})", f.display(), d.id);
                }
            }
            Err(e) => {
                refused += 1;
                println!(
                    "refused {}:\n  {}",
                    f.display(),
                    e.to_string().replace('\n', "\n  ")
                );
                // One count per reason per file, with names and texts left out.
                let mut seen = std::collections::BTreeSet::new();
                for d in e.errors() {
                    seen.insert(reason(&d.message));
                }
                for r in seen {
                    *reasons.entry(r).or_default() += 1;
                }
            }
        }
    }
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!(
        "{} .dmn files: {parsed} parsed, {refused} refused; top reasons (files):",
        files.len()
    );
    for (reason, n) in top.iter().take(12) {
        println!("  {n:3} × {reason}");
    }
}

/// A diagnostic message without its quoted names and FEEL texts.
fn reason(message: &str) -> String {
    let mut out = String::new();
    let mut quote = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '`' => {
                quote = Some(c);
                out.push('…');
            }
            None => out.push(c),
        }
    }
    match out.find(" (column") {
        Some(at) => out[..at].to_string(),
        None => out,
    }
}

/// `now()` and `today()` give the evaluation's time (the command's, so that
/// evaluating again gives the same answer), in UTC; without one they are an
/// error, never the machine's clock.
#[test]
fn feel_now_and_today_are_the_evaluations_time() {
    let at: jiff::Timestamp = "2026-03-01T23:30:00Z".parse().unwrap();
    let eval_at = |text: &str| {
        Expression::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .eval_at(&vars(json!({"due": "2026-03-05"})), Some(at))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    assert_eq!(eval_at("now()"), json!("2026-03-01T23:30:00Z"));
    assert_eq!(eval_at("string(now())"), json!("2026-03-01T23:30:00Z"));
    assert_eq!(eval_at("today()"), json!("2026-03-01"));
    assert_eq!(eval_at("today() < date(due)"), json!(true));
    assert_eq!(eval_at("now().hour"), json!(23));
    let e = Expression::parse("now()").unwrap().eval(&vars(json!({})));
    assert!(
        e.unwrap_err().to_string().contains("no time to give"),
        "without a time"
    );
    assert!(Expression::parse("now(1)").is_err());
}

#[test]
fn a_bpmn_file_that_declares_the_dmn_namespace_is_bpmn() {
    let bpmn = br#"<?xml version="1.0"?>
<semantic:definitions xmlns:semantic="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:dmn="http://www.omg.org/spec/DMN/20180521/MODEL/" xmlns:feel="http://www.omg.org/spec/DMN/20180521/FEEL/" id="d"><semantic:process id="p"/></semantic:definitions>"#;
    assert!(!bpmn_engine::dmn::is_dmn(bpmn));
    let dmn = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/discount.dmn")).unwrap();
    assert!(bpmn_engine::dmn::is_dmn(&dmn));
    // Unreadable as XML: the namespaces decide.
    assert!(bpmn_engine::dmn::is_dmn(
        b"<definitions xmlns=\"https://www.omg.org/spec/DMN/20191111/MODEL/\" <<"
    ));
    assert!(!bpmn_engine::dmn::is_dmn(
        b"<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" xmlns:d=\"https://www.omg.org/spec/DMN/20191111/MODEL/\" <<"
    ));
    // The MIWG files C.4.0 to C.8.1, when present, are read as BPMN.
    let dir = std::path::Path::new(CORPORA).join("bpmn-miwg-test-suite/Reference");
    if !dir.is_dir() {
        eprintln!("note: {} is absent; skipping the MIWG part", dir.display());
        return;
    }
    for name in ["C.4.0", "C.5.0", "C.6.0", "C.7.0", "C.8.0", "C.8.1"] {
        let bytes = std::fs::read(dir.join(format!("{name}.bpmn"))).unwrap();
        assert!(!bpmn_engine::dmn::is_dmn(&bytes), "{name} is BPMN");
    }
}
