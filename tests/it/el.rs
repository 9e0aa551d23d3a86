//! Conformance of the EL 2.2 evaluator: expressions with the values JUEL
//! (Camunda 7's EL) gives them, derived from the specification's operator
//! and coercion rules (JSR-245 sections 1.7-1.10 and 1.18) and from JUEL's
//! `NumberOperations`, `BooleanOperations` and `TypeConverterImpl`.
//!
//! Each case is `(expression, extra variables as JSON, expected)`. The extra
//! variables are added to [`defaults`]. The expected value is JSON, or
//! `error: <fragment of the message>`, or `error@<column>: <fragment>`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bpmn_engine::bindings::{Bindings, PlainBindings};
use bpmn_engine::el::{ElError, Expression, Limits};
use serde_json::{Map, Value, json};

/// One variable of each kind the operator tables pair up.
fn defaults() -> Map<String, Value> {
    let v = json!({
        "nul": null,
        "l": 7,
        "big": 9223372036854775807i64,
        "d": 2.5,
        "di": 2.0,
        "si": "10",
        "sf": "1.5",
        "st": "abc",
        "se": "",
        "b": true,
        "bf": false,
        "bt": "true",
        "btu": "TRUE",
        "amount": "150",
        "numStr": "10",
        "name": "Ann",
        "flag": true,
        "list": [1, 2, 3],
        "strs": ["a", "b"],
        "empty_list": [],
        "map": {"a": 1, "b": "x", "n": null, "size": 99},
        "empty_map": {},
        "obj": {"k": "v", "arr": [1, 2]},
        "order": {
            "total": 12.5,
            "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1}],
            "customer": {"name": "Ann"}
        },
        "default": "dflt",
        "var": 1,
        "new": 2,
        "type": "t",
        "$x": 1,
        "s": "  Hello World  ",
        "unicode": "héllo",
        "csv": "a,b,,c,,",
        "json": "{\"a\": {\"b\": [1, 2.5, \"x\", true, null]}, \"n\": 5}"
    });
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The conformance table.
#[rustfmt::skip]
const CASES: &[(&str, &str, &str)] = &[
    // --- + on each pair of types: null, Long, Double, String-integer,
    // String-float, String-text, Boolean, String "true".
    ("${nul + nul}", "", "0"),
    ("${nul + l}", "", "7"),
    ("${nul + d}", "", "2.5"),
    ("${nul + si}", "", "10"),
    ("${nul + sf}", "", "1.5"),
    ("${nul + st}", "", "error: Cannot coerce 'abc' of class String to Long"),
    ("${nul + b}", "", "error: Cannot coerce true of class Boolean to Long"),
    ("${l + l}", "", "14"),
    ("${l + d}", "", "9.5"),
    ("${l + si}", "", "17"),
    ("${l + sf}", "", "8.5"),
    ("${l + st}", "", "error@7: Cannot coerce 'abc' of class String to Long"),
    ("${l + b}", "", "error@7: Cannot coerce true of class Boolean to Long"),
    // "true" contains an 'e', so EL's arithmetic takes it for a floating
    // point number (JUEL's isDotEe) and fails coercing it to Double.
    ("${l + bt}", "", "error: Cannot coerce 'true' of class String to Double"),
    ("${'hello' + 1}", "", "error: Cannot coerce 'hello' of class String to Double"),
    ("${d + d}", "", "5.0"),
    ("${d + si}", "", "12.5"),
    ("${d + sf}", "", "4.0"),
    ("${d + st}", "", "error: Cannot coerce 'abc' of class String to Double"),
    ("${d + b}", "", "error: Cannot coerce true of class Boolean to Double"),
    ("${si + si}", "", "20"),
    ("${si + sf}", "", "11.5"),
    ("${sf + sf}", "", "3.0"),
    ("${si + st}", "", "error: 'abc'"),
    ("${b + b}", "", "error: Cannot coerce true of class Boolean to Long"),
    ("${bt + 1}", "", "error: Cannot coerce 'true' of class String to Double"),
    ("${'1' + '2'}", "", "3"),
    ("${'a' + 'b'}", "", "error@3: Cannot coerce 'a' of class String to Long"),
    ("${numStr + 1}", "", "11"),
    ("${se + 1}", "", "1"),
    ("${'1e2' + 1}", "", "101.0"),
    ("${'+5' + 1}", "", "6"),
    // Long.valueOf does not trim; Double.valueOf does, and takes a suffix.
    ("${' 5' + 1}", "", "error: Cannot coerce ' 5' of class String to Long"),
    ("${' 5.0 ' + 1}", "", "6.0"),
    ("${'1.5f' + 1}", "", "2.5"),
    // "NaN" has no '.', 'e' or 'E': it is read as a Long and fails.
    ("${'NaN' + 1}", "", "error: Cannot coerce 'NaN' of class String to Long"),
    // --- - and *
    ("${l - d}", "", "4.5"),
    ("${si - 1}", "", "9"),
    ("${nul - nul}", "", "0"),
    ("${nul - 3}", "", "-3"),
    ("${sf - nul}", "", "1.5"),
    ("${l * si}", "", "70"),
    ("${d * 2}", "", "5.0"),
    ("${sf * 2}", "", "3.0"),
    ("${nul * nul}", "", "0"),
    ("${nul * d}", "", "0.0"),
    ("${st * 2}", "", "error: Cannot coerce 'abc'"),
    ("${b * 1}", "", "error: Boolean to Long"),
    ("${order.total * 2}", "", "25.0"),
    // --- / and div: always Double, except null / null.
    ("${7 / 2}", "", "3.5"),
    ("${4 / 2}", "", "2.0"),
    ("${7 div 2}", "", "3.5"),
    ("${nul / nul}", "", "0"),
    ("${nul / 2}", "", "0.0"),
    ("${l / si}", "", "0.7"),
    ("${1 / 3}", "", "0.3333333333333333"),
    ("${'6' / '4'}", "", "1.5"),
    ("${sf / nul}", "", "error: not a number JSON can hold"),
    ("${1 / 0}", "", "error: the result Infinity is not a number JSON can hold"),
    ("${1 / 0 > 1000}", "", "true"),
    ("${-1 / 0 < 0}", "", "true"),
    ("${st / 2}", "", "error: Cannot coerce 'abc' of class String to Double"),
    ("${b / 1}", "", "error: Cannot coerce true of class Boolean to Double"),
    // --- % and mod: Java's remainder, Long unless a side is floating.
    ("${7 % 3}", "", "1"),
    ("${-7 % 3}", "", "-1"),
    ("${7 mod -3}", "", "1"),
    ("${7.5 % 2}", "", "1.5"),
    ("${'7.5' % 2}", "", "1.5"),
    ("${si % 3}", "", "1"),
    ("${d % 1}", "", "0.5"),
    ("${nul % nul}", "", "0"),
    ("${nul % 5}", "", "0"),
    ("${7 % 0}", "", "error@7: / by zero"),
    ("${7 % 0.0 > 0}", "", "false"),
    ("${st % 2}", "", "error: 'abc'"),
    // --- unary minus
    ("${-l}", "", "-7"),
    ("${-d}", "", "-2.5"),
    ("${-si}", "", "-10"),
    ("${-sf}", "", "-1.5"),
    ("${-nul}", "", "0"),
    ("${-se}", "", "0"),
    ("${- -5}", "", "5"),
    ("${-b}", "", "error@4: Cannot negate true of class Boolean"),
    ("${-st}", "", "error: Cannot coerce 'abc' of class String to Long"),
    ("${-list}", "", "error: Cannot negate"),
    // --- Long overflow wraps as in Java.
    ("${big}", "", "9223372036854775807"),
    ("${big + 1}", "", "-9223372036854775808"),
    ("${big * 2}", "", "-2"),
    ("${-big - 2}", "", "9223372036854775807"),
    ("${(-big - 1) % -1}", "", "0"),
    ("${-(-big - 1)}", "", "-9223372036854775808"),
    ("${big + 1.0}", "", "9.223372036854776e18"),
    ("${9223372036854775808}", "", "error@3: too large for a Long"),
    // --- relational operators
    ("${amount > 100}", "", "true"),
    ("${l > 5}", "", "true"),
    ("${l < d}", "", "false"),
    ("${d < 3}", "", "true"),
    ("${si > 9}", "", "true"),
    ("${si > '9'}", "", "false"),
    ("${sf > 1}", "", "error@3: Cannot coerce '1.5' of class String to Long"),
    ("${sf > 1.0}", "", "true"),
    ("${st > 1}", "", "error: Cannot coerce 'abc'"),
    ("${st < 'abd'}", "", "true"),
    ("${'a' lt 'b'}", "", "true"),
    ("${'B' < 'a'}", "", "true"),
    ("${'\u{1F600}' < '\u{FFFF}'}", "", "true"),
    ("${nul < 1}", "", "false"),
    ("${nul > 1}", "", "false"),
    ("${1 >= nul}", "", "false"),
    ("${nul <= nul}", "", "true"),
    ("${nul < nul}", "", "false"),
    ("${b > bf}", "", "true"),
    ("${bf lt b}", "", "true"),
    ("${b < 1}", "", "error: Cannot coerce true of class Boolean to Long"),
    ("${b > 'abc'}", "", "true"),
    ("${d >= 2.5}", "", "true"),
    ("${l le 7}", "", "true"),
    ("${l ge 8}", "", "false"),
    ("${l gt 6 and l lt 8}", "", "true"),
    ("${list < list}", "", "error@3: Cannot compare List and List"),
    ("${map > 1}", "", "error: of class Map to Long"),
    // `<=` is "not greater" and `>=` "not less", so NaN compares oddly.
    ("${(0 / 0) < 1}", "", "false"),
    ("${(0 / 0) <= 1}", "", "true"),
    ("${(0 / 0) >= 1}", "", "true"),
    // --- equality
    ("${'1' == 1}", "", "true"),
    ("${1 == 1.0}", "", "true"),
    ("${'1' == 1.0}", "", "true"),
    ("${'1.0' == 1}", "", "error: Cannot coerce '1.0' of class String to Long"),
    ("${'abc' == 1}", "", "error@3: Cannot coerce 'abc' of class String to Long"),
    ("${l == '7'}", "", "true"),
    ("${l == ' 7'}", "", "error: Cannot coerce ' 7'"),
    ("${d == '2.5'}", "", "true"),
    ("${di == 2}", "", "true"),
    ("${flag == 'true'}", "", "true"),
    ("${flag == 'TRUE'}", "", "true"),
    ("${flag == 'yes'}", "", "false"),
    ("${bf == ''}", "", "true"),
    ("${bt == b}", "", "true"),
    ("${b == 1}", "", "error: Cannot coerce true of class Boolean to Long"),
    ("${nul == nul}", "", "true"),
    ("${nul == 0}", "", "false"),
    ("${nul == ''}", "", "false"),
    ("${nul != nul}", "", "false"),
    ("${nul ne 1}", "", "true"),
    ("${st == 'abc'}", "", "true"),
    ("${st eq \"abc\"}", "", "true"),
    ("${st ne 'abc'}", "", "false"),
    ("${st != 'abd'}", "", "true"),
    ("${list == list}", "", "true"),
    ("${list == strs}", "", "false"),
    ("${map == map}", "", "true"),
    ("${list == '[1, 2, 3]'}", "", "true"),
    ("${map == 1}", "", "error: of class Map to Long"),
    ("${0 / 0 == 0 / 0}", "", "true"),
    ("${0.0 == -0.0}", "", "false"),
    ("${0 == -0}", "", "true"),
    // --- && || ! with Boolean coercion
    ("${true && false}", "", "false"),
    ("${true and true}", "", "true"),
    ("${false || true}", "", "true"),
    ("${false or false}", "", "false"),
    ("${!true}", "", "false"),
    ("${not false}", "", "true"),
    ("${bt && true}", "", "true"),
    ("${btu && true}", "", "true"),
    ("${'yes' && true}", "", "false"),
    ("${nul || false}", "", "false"),
    ("${se || true}", "", "true"),
    ("${!nul}", "", "true"),
    ("${!'true'}", "", "false"),
    ("${l && true}", "", "error@3: Cannot coerce 7 of class Long to Boolean"),
    ("${d || true}", "", "error: Cannot coerce 2.5 of class Double to Boolean"),
    ("${!l}", "", "error@4: Cannot coerce 7 of class Long to Boolean"),
    ("${false && l}", "", "false"),
    ("${true || l}", "", "true"),
    ("${false && undefinedVar}", "", "false"),
    ("${true && undefinedVar}", "", "error@11: Cannot resolve identifier 'undefinedVar'"),
    ("${amount > 100 && flag}", "", "true"),
    // --- ?:
    ("${flag ? 'y' : 'n'}", "", "\"y\""),
    ("${bf ? 'y' : 'n'}", "", "\"n\""),
    ("${nul ? 1 : 2}", "", "2"),
    ("${bt ? 1 : 2}", "", "1"),
    ("${l ? 1 : 2}", "", "error@3: Cannot coerce 7 of class Long to Boolean"),
    ("${true ? 1 : undefinedVar}", "", "1"),
    ("${false ? 1 : true ? 2 : 3}", "", "2"),
    ("${l > 5 ? 'big' : 'small'}", "", "\"big\""),
    ("${flag ? d : l}", "", "2.5"),
    // --- empty
    ("${empty nul}", "", "true"),
    ("${empty se}", "", "true"),
    ("${empty st}", "", "false"),
    ("${empty empty_list}", "", "true"),
    ("${empty list}", "", "false"),
    ("${empty empty_map}", "", "true"),
    ("${empty map}", "", "false"),
    ("${empty l}", "", "false"),
    ("${empty 0}", "", "false"),
    ("${empty bf}", "", "false"),
    ("${not empty list}", "", "true"),
    ("${!empty se}", "", "false"),
    ("${empty map.missing}", "", "true"),
    // --- reserved words and identifiers
    ("${default}", "", "\"dflt\""),
    ("${var + new}", "", "3"),
    ("${type}", "", "\"t\""),
    ("${$x}", "", "1"),
    ("${null}", "", "null"),
    ("${true}", "", "true"),
    ("${and}", "", "error@3: syntax error: unexpected 'and'"),
    ("${div}", "", "error@3: syntax error"),
    ("${instanceof}", "", "error@3: reserved word"),
    ("${missing}", "", "error@3: Cannot resolve identifier 'missing'"),
    ("${nul}", "", "null"),
    ("${st.empty}", "", "error@6: syntax error: unexpected 'empty'"),
    ("${st['empty']}", "", "false"),
    ("${se['empty']}", "", "true"),
    // --- . and []
    ("${map.a}", "", "1"),
    ("${map['b']}", "", "\"x\""),
    ("${map[\"a\"]}", "", "1"),
    ("${map.missing}", "", "null"),
    ("${map.n}", "", "null"),
    ("${map[1]}", "", "null"),
    ("${map[nul]}", "", "null"),
    ("${map.size}", "", "99"),
    ("${map.size()}", "", "4"),
    ("${empty_map.size}", "", "null"),
    ("${list[0]}", "", "1"),
    ("${list[2]}", "", "3"),
    ("${list[3]}", "", "null"),
    ("${list[-1]}", "", "null"),
    ("${list['1']}", "", "2"),
    ("${list[1.9]}", "", "2"),
    ("${list[true]}", "", "2"),
    ("${list[4294967297]}", "", "2"),
    ("${list[nul]}", "", "null"),
    ("${list['x']}", "", "error@8: Cannot parse list index: x"),
    ("${list.size}", "", "error: Cannot parse list index: size"),
    ("${order.items[1].sku}", "", "\"B2\""),
    ("${order['customer']['name']}", "", "\"Ann\""),
    ("${order.customer.name.length()}", "", "3"),
    ("${order.items[0]}", "", "{\"qty\": 2, \"sku\": \"A1\"}"),
    ("${nul.x}", "", "null"),
    ("${nul[0]}", "", "null"),
    ("${nul.x.y}", "", "null"),
    ("${l.x}", "", "error@5: Cannot resolve property 'x' of Long"),
    ("${st.x}", "", "error: Cannot resolve property 'x' of String"),
    // --- String methods (Java semantics, UTF-16 indexes)
    ("${s.trim()}", "", "\"Hello World\""),
    ("${s.length()}", "", "15"),
    ("${s.trim().length()}", "", "11"),
    ("${unicode.length()}", "", "5"),
    ("${'\u{1F600}'.length()}", "", "2"),
    ("${st.toUpperCase()}", "", "\"ABC\""),
    ("${'ÄB'.toLowerCase()}", "", "\"äb\""),
    ("${st.replace('b', 'X')}", "", "\"aXc\""),
    ("${'aaa'.replace('a', 'bb')}", "", "\"bbbbbb\""),
    ("${'abc'.replace('', '-')}", "", "\"-a-b-c-\""),
    // Java overloads replace(char, char); the CharSequence form is the one called.
    ("${st.replace(1, 'x')}", "", "error: Cannot coerce 1 of class Long to CharSequence"),
    ("${st.contains('bc')}", "", "true"),
    ("${st.contains('x')}", "", "false"),
    ("${st.contains(nul)}", "", "error: argument 1 of contains() is null"),
    ("${st.startsWith('ab')}", "", "true"),
    ("${st.startsWith('b', 1)}", "", "true"),
    ("${st.startsWith(nul)}", "", "error: argument 1 of startsWith() is null"),
    ("${st.endsWith('bc')}", "", "true"),
    ("${st.substring(1)}", "", "\"bc\""),
    ("${st.substring(1, 2)}", "", "\"b\""),
    ("${st.substring('1')}", "", "\"bc\""),
    ("${st.substring(4)}", "", "error@6: begin 4, end 3, length 3"),
    ("${st.substring(2, 1)}", "", "error: begin 2, end 1, length 3"),
    ("${st.substring(b)}", "", "error: Cannot coerce true of class Boolean to Integer"),
    ("${st.indexOf('c')}", "", "2"),
    ("${st.indexOf('z')}", "", "-1"),
    ("${'abcabc'.indexOf('b', 2)}", "", "4"),
    ("${'abcabc'.lastIndexOf('b')}", "", "4"),
    ("${st.equals('abc')}", "", "true"),
    ("${si.equals(10)}", "", "false"),
    ("${st.equalsIgnoreCase('ABC')}", "", "true"),
    ("${st.equalsIgnoreCase(nul)}", "", "false"),
    ("${st.isEmpty()}", "", "false"),
    ("${se.isEmpty()}", "", "true"),
    ("${'   '.isBlank()}", "", "true"),
    ("${st.concat('d')}", "", "\"abcd\""),
    ("${st.concat(1)}", "", "\"abc1\""),
    ("${st.concat(nul)}", "", "error: argument 1 of concat() is null"),
    ("${'b'.compareTo('a')}", "", "1"),
    ("${csv.split(',')}", "", "[\"a\", \"b\", \"\", \"c\"]"),
    ("${csv.split(',').size()}", "", "4"),
    ("${'a,b,c'.split(',', 2)}", "", "[\"a\", \"b,c\"]"),
    ("${'a,b,,'.split(',', -1)}", "", "[\"a\", \"b\", \"\", \"\"]"),
    ("${'abc'.split('')}", "", "[\"a\", \"b\", \"c\"]"),
    ("${''.split(',')}", "", "[\"\"]"),
    ("${','.split(',')}", "", "[]"),
    ("${'a.b'.split('\\\\.')}", "", "[\"a\", \"b\"]"),
    ("${'a.b'.split('.')}", "", "error: plain-text separators only"),
    ("${'a b'.split('\\\\s')}", "", "error: plain-text separators only"),
    ("${st.matches('a.*')}", "", "error: regular expressions are not supported"),
    ("${st.toString()}", "", "\"abc\""),
    ("${st.foo()}", "", "error@6: Cannot find method 'foo' with 0 arguments in String"),
    ("${st.trim(1)}", "", "error: Cannot find method 'trim' with 1 argument in String"),
    ("${st['toUpperCase']()}", "", "\"ABC\""),
    ("${nul.trim()}", "", "error@3: Target unreachable, base expression 'nul' resolved to null"),
    ("${map.missing.length()}", "", "error@3: base expression 'map.missing' resolved to null"),
    // --- List and Map methods
    ("${list.size()}", "", "3"),
    ("${empty_list.isEmpty()}", "", "true"),
    ("${list.contains(2)}", "", "true"),
    ("${list.contains('2')}", "", "false"),
    ("${list.contains(2.0)}", "", "false"),
    ("${strs.contains('b')}", "", "true"),
    ("${list.get(1)}", "", "2"),
    ("${list.get('0')}", "", "1"),
    ("${list.get(5)}", "", "error: Index 5 out of bounds for length 3"),
    ("${list.indexOf(3)}", "", "2"),
    ("${list.indexOf(9)}", "", "-1"),
    ("${list.toString()}", "", "\"[1, 2, 3]\""),
    ("${list.foo()}", "", "error: Cannot find method 'foo' with 0 arguments in List"),
    ("${map.get('a')}", "", "1"),
    ("${map.get('zz')}", "", "null"),
    ("${map.getOrDefault('zz', 5)}", "", "5"),
    ("${map.containsKey('b')}", "", "true"),
    ("${map.containsKey('zz')}", "", "false"),
    ("${map.containsValue('x')}", "", "true"),
    ("${empty_map.isEmpty()}", "", "true"),
    ("${map.keySet()}", "", "[\"a\", \"b\", \"n\", \"size\"]"),
    ("${map.values()}", "", "[1, \"x\", null, 99]"),
    ("${obj.toString()}", "", "\"{arr=[1, 2], k=v}\""),
    // --- Number and Boolean methods
    ("${l.toString()}", "", "\"7\""),
    ("${d.toString()}", "", "\"2.5\""),
    ("${di.toString()}", "", "\"2.0\""),
    ("${l.intValue()}", "", "7"),
    ("${d.intValue()}", "", "2"),
    ("${big.intValue()}", "", "-1"),
    ("${l.doubleValue()}", "", "7.0"),
    ("${d.longValue()}", "", "2"),
    ("${b.toString()}", "", "\"true\""),
    ("${b.booleanValue()}", "", "true"),
    ("${l.foo()}", "", "error: Cannot find method 'foo' with 0 arguments in Long"),
    // --- composite text and string coercion
    ("Dear ${name}, you owe ${amount}", "", "\"Dear Ann, you owe 150\""),
    ("${d}${l}", "", "\"2.57\""),
    ("x${nul}y", "", "\"xy\""),
    ("${di} ${1e10} ${0.001} ${0.0001} ${1234567.0} ${12345678.0}", "", "\"2.0 1.0E10 0.001 1.0E-4 1234567.0 1.2345678E7\""),
    ("v=${-0.0}", "", "\"v=-0.0\""),
    ("${list} ${map}", "", "\"[1, 2, 3] {a=1, b=x, n=null, size=99}\""),
    ("${b}!", "", "\"true!\""),
    ("Total: ${order.total * 2}", "", "\"Total: 25.0\""),
    ("${1 + 2}${'x'}", "", "\"3x\""),
    ("plain text", "", "\"plain text\""),
    ("", "", "\"\""),
    ("price: \\${amount}", "", "\"price: ${amount}\""),
    ("a $ b # c {d} \\n", "", "\"a $ b # c {d} \\\\n\""),
    ("#{l + 1}", "", "8"),
    ("#{l} and #{d}", "", "\"7 and 2.5\""),
    ("${l} #{l}", "", "error@6: cannot mix"),
    ("${'}'}", "", "\"}\""),
    ("${\"it's\"}", "", "\"it's\""),
    ("${'it\\'s'}", "", "\"it's\""),
    ("${'a\\\\b'}", "", "\"a\\\\b\""),
    ("${\"a\\\"b\"}", "", "\"a\\\"b\""),
    ("${'a\\\"b'}", "", "error@3: invalid escape sequence"),
    // --- syntax errors and their columns
    ("${a +}", "", "error@6: syntax error: unexpected '}', expected an operand"),
    ("${}", "", "error@3: syntax error"),
    ("${a b}", "", "error@5: syntax error: unexpected 'b'"),
    ("${(a}", "", "error@5: expected ')'"),
    ("${a = 1}", "", "error@5: invalid character '='"),
    ("${a & b}", "", "error@5: invalid character '&'"),
    ("${'abc}", "", "error@3: unterminated string"),
    ("${a", "", "error@4: unexpected end of text"),
    ("${a.}", "", "error@5: expected a property or method name"),
    ("${1 ? 2}", "", "error@8: expected ':'"),
    ("ab ${l + } cd", "", "error@10: syntax error"),
    ("${foo()}", "", "error@3: Could not resolve function 'foo'"),
    ("${ns:foo(1)}", "", "error@3: Could not resolve function 'ns:foo'"),
    ("${now(1)}", "", "error@3: Parameters for function 'now' do not match"),
    ("${XML('<a/>')}", "", "error@3: XML() is not supported"),
    // --- evaluation errors and their columns
    ("${l + 'x'}", "", "error@7: Cannot coerce 'x' of class String to Long"),
    ("${'x' + l}", "", "error@3: Cannot coerce 'x'"),
    ("Hi ${missing}", "", "error@6: Cannot resolve identifier 'missing'"),
    ("${list < map}", "", "error@3: Cannot compare List and Map"),
];

/// Evaluates one case and says what is wrong with it, if anything.
fn check(expr: &str, vars: &str, expected: &str) -> Option<String> {
    let mut variables = defaults();
    if !vars.is_empty() {
        match serde_json::from_str::<Value>(vars) {
            Ok(Value::Object(extra)) => variables.extend(extra),
            _ => return Some(format!("{expr}: bad variables {vars}")),
        }
    }
    let mut b = PlainBindings {
        variables,
        now: None,
    };
    let result = Expression::compile(expr).and_then(|e| e.eval(&mut b));
    compare(expr, result, expected)
}

fn compare(expr: &str, result: Result<Value, ElError>, expected: &str) -> Option<String> {
    if let Some(spec) = expected.strip_prefix("error") {
        let (column, fragment) = match spec.strip_prefix('@') {
            Some(rest) => {
                let (col, frag) = rest.split_once(": ").unwrap_or((rest, ""));
                (col.parse::<usize>().ok(), frag)
            }
            None => (None, spec.trim_start_matches(": ")),
        };
        return match result {
            Ok(v) => Some(format!("{expr}: expected an error ({expected}), got {v}")),
            Err(e) if !e.message.contains(fragment) => Some(format!(
                "{expr}: expected an error with `{fragment}`, got `{}`",
                e.message
            )),
            Err(e) if column.is_some_and(|c| c != e.column) => Some(format!(
                "{expr}: expected the error at column {}, got column {} ({})",
                column.unwrap_or(0),
                e.column,
                e.message
            )),
            Err(_) => None,
        };
    }
    let want: Value = match serde_json::from_str(expected) {
        Ok(v) => v,
        Err(e) => return Some(format!("{expr}: bad expected value {expected}: {e}")),
    };
    match result {
        Ok(got) if got == want => None,
        Ok(got) => Some(format!("{expr}: expected {want}, got {got}")),
        Err(e) => Some(format!(
            "{expr}: expected {want}, got the error `{}` at column {}",
            e.message, e.column
        )),
    }
}

#[test]
fn conformance_table() {
    assert!(CASES.len() >= 200, "{} cases", CASES.len());
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|(expr, vars, expected)| check(expr, vars, expected))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// An instance with context objects, recording what expressions change.
struct Instance {
    variables: Map<String, Value>,
    local: Map<String, Value>,
    execution: Map<String, Value>,
    task: Option<Map<String, Value>>,
    now: jiff::Timestamp,
    read_only: bool,
}

impl Instance {
    fn new(with_task: bool) -> Instance {
        let obj = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Instance {
            variables: obj(
                json!({"amount": "150", "l": 7, "task": "a variable", "obj": {"k": "v", "arr": [1, 2]},
                "json": "{\"a\": {\"b\": [1, 2.5, \"x\", true, null]}, \"n\": 5}", "nul": null}),
            ),
            local: obj(json!({"loc": "here"})),
            execution: obj(json!({
                "processInstanceId": "pi-1", "processBusinessKey": "BK-7",
                "currentActivityId": "Task_1", "eventName": "start", "id": "ex-1"
            })),
            task: with_task.then(|| {
                obj(json!({"id": "t-1", "name": "Review", "assignee": "ann", "priority": 50}))
            }),
            now: "2026-01-31T10:15:30.123Z"
                .parse()
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            read_only: false,
        }
    }
}

impl Bindings for Instance {
    fn variable(&self, name: &str) -> Option<Value> {
        self.local
            .get(name)
            .or_else(|| self.variables.get(name))
            .cloned()
    }
    fn variables(&self) -> Map<String, Value> {
        let mut all = self.variables.clone();
        all.extend(self.local.clone());
        all
    }
    fn variable_local(&self, name: &str) -> Option<Value> {
        self.local.get(name).cloned()
    }
    fn set_variable(&mut self, name: &str, value: Value, local: bool) -> Result<(), String> {
        if self.read_only {
            return Err("a condition may not change variables".into());
        }
        if local {
            self.local.insert(name.into(), value);
        } else {
            self.variables.insert(name.into(), value);
        }
        Ok(())
    }
    fn execution(&self, property: &str) -> Option<Value> {
        self.execution.get(property).cloned()
    }
    fn has_task(&self) -> bool {
        self.task.is_some()
    }
    fn task(&self, property: &str) -> Option<Value> {
        self.task.as_ref()?.get(property).cloned()
    }
    fn set_task(&mut self, property: &str, value: Value) -> Result<(), String> {
        match &mut self.task {
            Some(t) => {
                t.insert(property.into(), value);
                Ok(())
            }
            None => Err(format!("there is no task here to set {property} on")),
        }
    }
    fn now(&self) -> jiff::Timestamp {
        self.now
    }
}

/// Context objects, dates and Spin, evaluated in a task listener's instance.
#[rustfmt::skip]
const CONTEXT_CASES: &[(&str, &str)] = &[
    ("${execution.processInstanceId}", "\"pi-1\""),
    ("${execution.getProcessInstanceId()}", "\"pi-1\""),
    ("${execution.processBusinessKey}", "\"BK-7\""),
    ("${execution.businessKey}", "\"BK-7\""),
    ("${execution.getProcessBusinessKey()}", "\"BK-7\""),
    ("${execution['processInstanceId']}", "\"pi-1\""),
    ("${execution.getBusinessKey()}", "\"BK-7\""),
    ("${execution.getCurrentActivityId()}", "\"Task_1\""),
    ("${execution.activityId}", "\"Task_1\""),
    ("${execution.eventName}", "\"start\""),
    ("${execution.id}", "\"ex-1\""),
    ("${execution.tenantId}", "error@13: Cannot resolve property 'tenantId' of execution"),
    ("${execution.getTenantId()}", "error: Cannot resolve property 'tenantId' of execution"),
    ("${execution.getVariable('amount')}", "\"150\""),
    ("${execution.getVariable('amount') > 100}", "true"),
    ("${execution.getVariable('nope')}", "null"),
    ("${execution.hasVariable('amount')}", "true"),
    ("${execution.hasVariable('nope')}", "false"),
    ("${execution.getVariableLocal('loc')}", "\"here\""),
    ("${execution.getVariableLocal('amount')}", "null"),
    ("${execution.getVariables().amount}", "\"150\""),
    ("${execution.variables.loc}", "\"here\""),
    ("${execution.getVariable(nul)}", "error: the variable name is null"),
    ("${execution.foo()}", "error@13: Cannot find method 'foo' with 0 arguments in execution"),
    ("${execution}", "error: the execution object cannot be stored as a value"),
    ("${task.name}", "\"Review\""),
    ("${task.getAssignee()}", "\"ann\""),
    ("${task.priority + 1}", "51"),
    ("${task.id}", "\"t-1\""),
    ("${task.dueDate}", "error: Cannot resolve property 'dueDate' of task"),
    ("${task.execution.processInstanceId}", "\"pi-1\""),
    ("${task.getExecution().getVariable('amount')}", "\"150\""),
    ("${task.getVariable('amount')}", "\"150\""),
    ("${task.addCandidateUser('bob')}", "error: Cannot find method 'addCandidateUser'"),
    ("${now()}", "\"2026-01-31T10:15:30.123Z\""),
    ("${now().time}", "1769854530123"),
    ("${now().getTime()}", "1769854530123"),
    ("${dateTime()}", "\"2026-01-31T10:15:30.123Z\""),
    ("${dateTime().plusMonths(1).toDate()}", "\"2026-02-28T10:15:30.123Z\""),
    ("${dateTime().plusDays(1)}", "\"2026-02-01T10:15:30.123Z\""),
    ("${dateTime().minusHours(11)}", "\"2026-01-30T23:15:30.123Z\""),
    ("${dateTime().plusYears(1).toString()}", "\"2027-01-31T10:15:30.123Z\""),
    ("${dateTime().plusMinutes(45).plusSeconds(30)}", "\"2026-01-31T11:01:00.123Z\""),
    ("${dateTime().plusWeeks(2).toString('yyyy-MM-dd')}", "\"2026-02-14\""),
    ("${dateTime().toString('EEE, d MMM yyyy HH:mm:ss.SSS Z')}", "\"Sat, 31 Jan 2026 10:15:30.123 +0000\""),
    ("${dateTime().toString(\"dd.MM.yy 'at' h a\")}", "\"31.01.26 at 10 AM\""),
    ("${dateTime().toString('EEEE MMMM')}", "\"Saturday January\""),
    ("${dateTime().toString('q')}", "error: the date pattern letter 'q' is not supported"),
    ("${dateTime().dayOfWeek}", "6"),
    ("${dateTime().year}", "2026"),
    ("${dateTime().plusDays('2').dayOfMonth}", "2"),
    ("${dateTime().minusMonths(1).monthOfYear}", "12"),
    ("${dateTime().plusMillis(877).secondOfMinute}", "31"),
    ("${dateTime().withTimeAtStartOfDay()}", "\"2026-01-31T00:00:00.000Z\""),
    ("${dateTime().isAfterNow()}", "false"),
    ("${dateTime().plusSeconds(1).isAfterNow()}", "true"),
    ("${dateTime().plusDays(1).isAfter(dateTime())}", "true"),
    ("${dateTime().isBefore(now())}", "error: Cannot coerce 2026-01-31T10:15:30.123Z of class Date to DateTime"),
    ("${now().before(dateTime().plusDays(1).toDate())}", "true"),
    ("${now() == now()}", "true"),
    ("${now() < dateTime().plusDays(1).toDate()}", "true"),
    ("${now() < dateTime()}", "error: Cannot compare Date and DateTime"),
    ("${now() > '2026-01-01'}", "true"),
    ("due ${dateTime().plusDays(3).toDate()}", "\"due 2026-02-03T10:15:30.123Z\""),
    ("${dateTime().plusYears(300000)}", "error: out of range"),
    ("${S(json).prop('a').prop('b').elements().size()}", "5"),
    ("${S(json).prop('n').numberValue()}", "5"),
    ("${S(json).prop('n').numberValue() + 1}", "6"),
    ("${S(json).prop('a').prop('b').elements()[1].numberValue()}", "2.5"),
    ("${S(json).prop('a').prop('b').elements().get(2).stringValue()}", "\"x\""),
    ("${S(json).prop('a').prop('b').elements()[3].boolValue()}", "true"),
    ("${S(json).prop('a').prop('b').elements()[4].isNull()}", "true"),
    ("${S(json).hasProp('a')}", "true"),
    ("${S(json).hasProp('zz')}", "false"),
    ("${S(json).prop('zz')}", "error@11: Unable to find property 'zz'"),
    ("${S(json).prop('n').stringValue()}", "error: Expected 'String', got 'NUMBER'"),
    ("${S(json).prop('a')}", "{\"b\": [1, 2.5, \"x\", true, null]}"),
    ("${S(obj).prop('k').stringValue()}", "\"v\""),
    ("${S(obj).prop('k').value()}", "\"v\""),
    ("${S(obj).prop('arr')}", "[1, 2]"),
    ("${S(obj).prop('arr').toString()}", "\"[1,2]\""),
    ("${S(obj).prop('k') == 'v'}", "false"),
    ("${S(obj).prop('k') == '\"v\"'}", "true"),
    ("${S(obj).isObject()}", "true"),
    ("${JSON(obj).fieldNames()}", "[\"arr\", \"k\"]"),
    ("${S('[1,2]').elements().size()}", "2"),
    ("${S('not json')}", "error: S(): the text is not JSON"),
    ("${S(nul)}", "error: S(): the input is null"),
    ("${S(json).jsonPath('$.a')}", "error: Spin's jsonPath() is not supported"),
];

#[test]
fn execution_task_dates_and_spin() {
    let failures: Vec<String> = CONTEXT_CASES
        .iter()
        .filter_map(|(expr, expected)| {
            let mut b = Instance::new(true);
            let result = Expression::compile(expr).and_then(|e| e.eval(&mut b));
            compare(expr, result, expected)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn eval(expr: &str, b: &mut dyn Bindings) -> Result<Value, ElError> {
    Expression::compile(expr)?.eval(b)
}

#[test]
fn expressions_change_the_instance_through_its_bindings() {
    let mut b = Instance::new(true);
    assert_eq!(
        eval("${execution.setVariable('x', l * 2)}", &mut b),
        Ok(Value::Null)
    );
    assert_eq!(b.variables.get("x"), Some(&json!(14)));
    assert_eq!(
        eval("${execution.setVariableLocal('y', 'z')}", &mut b),
        Ok(Value::Null)
    );
    assert_eq!(b.local.get("y"), Some(&json!("z")));
    // Set, then read in the same expression.
    assert_eq!(
        eval("${execution.setVariable('n', 1) == null && n == 1}", &mut b),
        Ok(json!(true))
    );
    assert_eq!(eval("${task.setAssignee('bob')}", &mut b), Ok(Value::Null));
    assert_eq!(eval("${task.setPriority(l)}", &mut b), Ok(Value::Null));
    let task = b.task.clone().unwrap_or_default();
    assert_eq!(task.get("assignee"), Some(&json!("bob")));
    assert_eq!(task.get("priority"), Some(&json!(7)));
    assert_eq!(eval("${task.assignee}", &mut b), Ok(json!("bob")));
    assert_eq!(
        eval("${task.setVariable('fromTask', 'yes')}", &mut b),
        Ok(Value::Null)
    );
    assert_eq!(b.variables.get("fromTask"), Some(&json!("yes")));
    // Dates are stored as ISO 8601 text.
    assert_eq!(
        eval(
            "${execution.setVariable('due', dateTime().plusDays(1).toDate())}",
            &mut b
        ),
        Ok(Value::Null)
    );
    assert_eq!(
        b.variables.get("due"),
        Some(&json!("2026-02-01T10:15:30.123Z"))
    );

    // Where the bindings refuse a change, the expression fails with their reason.
    b.read_only = true;
    let refused = eval("${execution.setVariable('x', 1)}", &mut b);
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.message.contains("may not change variables")),
        "{refused:?}"
    );
}

#[test]
fn task_is_a_variable_where_there_is_no_task() {
    let mut b = Instance::new(false);
    assert_eq!(eval("${task}", &mut b), Ok(json!("a variable")));
    let mut plain = PlainBindings::default();
    let e = eval("${task}", &mut plain);
    assert!(e.is_err_and(|e| e.message == "Cannot resolve identifier 'task'"));
    assert_eq!(eval("${authenticatedUserId}", &mut plain), Ok(Value::Null));
    b.execution
        .insert("authenticatedUserId".into(), json!("ann"));
    assert_eq!(eval("${authenticatedUserId}", &mut b), Ok(json!("ann")));
    // `execution` is the context object even outside an instance; it just
    // has no properties there.
    let e = eval("${execution.processInstanceId}", &mut plain);
    assert!(e.is_err_and(|e| {
        e.message
            .contains("Cannot resolve property 'processInstanceId'")
    }));
}

#[test]
fn conditions_text_and_identifiers() {
    let mut b = PlainBindings {
        variables: defaults(),
        now: None,
    };
    let c = |text: &str| Expression::compile(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    // EL's coercion to Boolean.
    assert_eq!(c("${bt}").eval_bool(&mut b), Ok(true));
    assert_eq!(c("${nul}").eval_bool(&mut b), Ok(false));
    assert_eq!(c("true").eval_bool(&mut b), Ok(true));
    assert!(c("${l}").eval_bool(&mut b).is_err());
    // Camunda's conditions accept a Boolean only.
    assert_eq!(c("${l > 1}").eval_condition(&mut b), Ok(true));
    assert!(c("${bt}").eval_condition(&mut b).is_err_and(|e| {
        e.message
            .contains("condition expression returns non-Boolean: result has class String")
    }));
    assert!(
        c("${nul}")
            .eval_condition(&mut b)
            .is_err_and(|e| e.message.contains("condition expression returns null"))
    );
    // Text fields.
    assert_eq!(c("${d}").eval_string(&mut b), Ok("2.5".to_string()));
    assert_eq!(c("${nul}").eval_string(&mut b), Ok(String::new()));
    assert_eq!(
        c("${list}").eval_string(&mut b),
        Ok("[1, 2, 3]".to_string())
    );

    let e = c("${a + b.c + a} ${execution.getVariable(d)} ${S(j).prop(k)}");
    assert_eq!(e.identifiers(), ["a", "b", "execution", "d", "j", "k"]);
    assert_eq!(
        e.source(),
        "${a + b.c + a} ${execution.getVariable(d)} ${S(j).prop(k)}"
    );
    assert!(!e.is_literal_text());
    assert!(c("no expression here").is_literal_text());
    assert!(c("no expression here").identifiers().is_empty());

    let err = Expression::compile("${a +}").err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some("syntax error: unexpected '}', expected an operand (at column 6)".to_string())
    );
}

#[test]
fn deep_nesting_is_refused_when_compiling() {
    let deep = format!("${{{}1{}}}", "(".repeat(100), ")".repeat(100));
    let e = Expression::compile(&deep).err();
    assert!(e.is_some_and(|e| e.message.contains("nested too deeply")));
    let nots = format!("${{{}true}}", "!".repeat(100));
    assert!(Expression::compile(&nots).is_err_and(|e| e.message.contains("nested too deeply")));
    let chain = format!("${{1{}}}", " + 1".repeat(300));
    assert!(Expression::compile(&chain).is_err_and(|e| e.message.contains("nested too deeply")));
    let calls = format!("${{st{}}}", ".trim()".repeat(300));
    assert!(Expression::compile(&calls).is_err_and(|e| e.message.contains("nested too deeply")));
    let huge = format!("${{'{}'}}", "x".repeat(bpmn_engine::el::MAX_SOURCE_BYTES));
    assert!(Expression::compile(&huge).is_err_and(|e| e.message.contains("longer than")));

    // Just within the limits, it compiles and evaluates (on a test thread's
    // small stack).
    let ok = format!("${{1{}}}", " + 1".repeat(200));
    let mut b = PlainBindings::default();
    assert_eq!(eval(&ok, &mut b), Ok(json!(201)));
    let parens = format!("${{{}1{}}}", "(".repeat(60), ")".repeat(60));
    assert_eq!(eval(&parens, &mut b), Ok(json!(1)));
    let calls = format!("${{' x '{}}}", ".trim()".repeat(250));
    assert_eq!(eval(&calls, &mut b), Ok(json!("x")));
    let choices = format!("${{{}1{}}}", "true ? ".repeat(60), " : 0".repeat(60));
    assert_eq!(eval(&choices, &mut b), Ok(json!(1)));
}

#[test]
fn compiled_expressions_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Expression>();
    shared::<ElError>();
}

#[test]
fn the_budget_stops_long_evaluations() {
    let big = "x".repeat(600_000);
    let mut b = PlainBindings {
        variables: match json!({"big": big, "l": 1}) {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        now: None,
    };
    // Steps.
    let e = Expression::compile(&format!("${{l{}}}", " + l".repeat(150)))
        .unwrap_or_else(|e| panic!("{e}"));
    let small = Limits {
        max_steps: 100,
        ..Limits::default()
    };
    let r = e.eval_with(&mut b, &small);
    assert!(
        r.as_ref()
            .is_err_and(|e| e.message.contains("stopped after 100 steps")),
        "{r:?}"
    );
    assert_eq!(e.eval(&mut b), Ok(json!(151)));
    // Sizes.
    for text in [
        "${big}${big}",
        "${big.concat(big)}",
        "${big.replace('x', 'yy')}",
        "${big.toUpperCase().concat(big)}",
    ] {
        let r = eval(text, &mut b);
        assert!(
            r.as_ref()
                .is_err_and(|e| e.message.contains("longer than 1048576 bytes")),
            "{text}: {:?}",
            r.map(|v| v.as_str().map(str::len))
        );
    }
    let r = eval("${big.split('')}", &mut b);
    assert!(r.is_err_and(|e| e.message.contains("more than 100000 parts")));
    // The runtime's stop flag.
    let stop = Arc::new(AtomicBool::new(true));
    let r = bpmn_engine::budget::with_stop_flag(stop, || eval("${l + 1}", &mut b));
    assert!(r.is_err_and(|e| e.message == bpmn_engine::budget::STOPPED));
}

#[test]
fn messages_quote_long_values_shortened() {
    let long = "y".repeat(5000);
    let mut b = PlainBindings {
        variables: match json!({"long": long, "items": (0..1000).collect::<Vec<_>>()}) {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        now: None,
    };
    let e = eval("${long + 1}", &mut b).err().map(|e| e.message);
    assert_eq!(
        e.as_deref(),
        Some("Cannot coerce 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...' of class String to Long")
    );
    let e = eval("${items + 1}", &mut b).err().map(|e| e.message);
    assert_eq!(
        e.as_deref(),
        Some("Cannot coerce [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1... of class List to Long")
    );
}
