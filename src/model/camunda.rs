//! Reading the `camunda:` extensions users draw in Camunda Modeler: properties,
//! input/output mappings, connectors and forms.
//!
//! Each function reads one extension element and reports what is wrong through
//! the `Report` it is given, so that every problem in a file is collected.

use serde_json::Value;

use super::definitions::{
    CallMapping, CallSource, Connector, Io, Listener, ListenerAction, ListenerEvent, Param,
    ParamValue,
};
use super::expr::{Expr, Language, Script, Template};
use super::form::{Constraints, FieldType, FormField, coerce};
use super::xml::{Element, Ns};

/// Where problems go, with the element they concern.
pub(crate) trait Report {
    /// A problem found at `at`, inside the element `owner` (which has the id).
    fn error(&mut self, at: &Element, owner: &Element, message: String);
    fn unsupported(&mut self, at: &Element, owner: &Element, message: String);
}

/// The namespaces whose attributes are read where they mean what Camunda 7's
/// attribute of the same name means (Flowable and Activiti share Camunda's
/// ancestry), in the order they are looked at, with their usual prefix.
pub(crate) const VENDORS: [(Ns, &str); 3] = [
    (Ns::Camunda, "camunda"),
    (Ns::Flowable, "flowable"),
    (Ns::Activiti, "activiti"),
];

/// `camunda:name`, else `flowable:name`, else `activiti:name`, with the
/// prefix it was found under (for messages). Only for the attributes that
/// mean the same in all three (the README lists them).
pub(crate) fn vendor_attr<'s>(el: &'s Element, name: &str) -> Option<(&'s str, &'static str)> {
    VENDORS
        .iter()
        .find_map(|(ns, prefix)| el.attr_ns(*ns, name).map(|v| (v, *prefix)))
}

/// The value of [`vendor_attr`] alone.
pub(crate) fn vendor_value<'s>(el: &'s Element, name: &str) -> Option<&'s str> {
    vendor_attr(el, name).map(|(v, _)| v)
}

/// The `camunda:` children of an element's `extensionElements`.
pub(crate) fn extensions<'s, 'a>(el: &'s Element<'a>) -> impl Iterator<Item = &'s Element<'a>> {
    el.children_named(Ns::Bpmn, "extensionElements")
        .flat_map(|ext| ext.children.iter())
        .filter(|c| c.ns == Ns::Camunda)
}

/// `camunda:properties` → `(name, value)` pairs in document order.
pub(crate) fn properties(el: &Element) -> Vec<(String, String)> {
    extensions(el)
        .filter(|c| c.name == "properties")
        .flat_map(|p| p.children_named(Ns::Camunda, "property"))
        .filter_map(|p| {
            let name = p.attr("name").or_else(|| p.attr("id"))?;
            Some((
                name.to_string(),
                p.attr("value").unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

pub(crate) fn template(
    r: &mut dyn Report,
    at: &Element,
    owner: &Element,
    text: &str,
) -> Option<Template> {
    match Template::parse(text) {
        Ok(t) => Some(t),
        Err(e) => {
            r.error(at, owner, e);
            None
        }
    }
}

/// The value of an `inputParameter`/`outputParameter` (or of a list/map entry).
fn param_value(r: &mut dyn Report, el: &Element, owner: &Element) -> Option<ParamValue> {
    let structured = el.children.iter().find(|c| c.ns == Ns::Camunda);
    match structured {
        None => {
            if el.text.is_empty() {
                Some(ParamValue::Null)
            } else {
                template(r, el, owner, &el.text).map(ParamValue::Text)
            }
        }
        Some(c) if c.name == "list" => {
            let mut items = Vec::new();
            for v in c.children.iter().filter(|v| v.ns == Ns::Camunda) {
                items.push(param_value(r, v, owner)?);
            }
            Some(ParamValue::List(items))
        }
        Some(c) if c.name == "map" => {
            let mut entries = Vec::new();
            for e in c.children_named(Ns::Camunda, "entry") {
                let Some(key) = e.attr("key") else {
                    r.error(e, owner, "a map entry needs a key".into());
                    return None;
                };
                entries.push((key.to_string(), param_value(r, e, owner)?));
            }
            Some(ParamValue::Map(entries))
        }
        Some(c) if c.name == "script" => {
            let language = match Language::of(c.attr("scriptFormat")) {
                Ok(l) => l,
                Err(e) => {
                    r.unsupported(c, owner, e);
                    return None;
                }
            };
            if c.attr("resource").is_some() {
                r.unsupported(
                    c,
                    owner,
                    "scripts loaded from a resource are not supported; write the script in the parameter".into(),
                );
                return None;
            }
            if c.text.trim().is_empty() {
                r.error(c, owner, "the script parameter has no script".into());
                return None;
            }
            match Script::compile_as(language, &c.text) {
                Ok(script) => Some(ParamValue::Text(Template::Expr(Expr::script(script)))),
                Err(e) => {
                    r.error(c, owner, e);
                    None
                }
            }
        }
        Some(c) => {
            r.error(
                c,
                owner,
                format!("unexpected <camunda:{}> in a parameter", c.name),
            );
            None
        }
    }
}

fn params(r: &mut dyn Report, io: &Element, owner: &Element, kind: &str) -> Vec<Param> {
    let mut out = Vec::new();
    for p in io.children_named(Ns::Camunda, kind) {
        let Some(name) = p.attr("name").filter(|n| !n.is_empty()) else {
            r.error(p, owner, format!("a camunda:{kind} needs a name"));
            continue;
        };
        if let Some(value) = param_value(r, p, owner) {
            out.push(Param {
                name: name.to_string(),
                value,
            });
        }
    }
    out
}

/// A `camunda:inputOutput` element.
pub(crate) fn io_of(r: &mut dyn Report, io: &Element, owner: &Element) -> Io {
    Io {
        inputs: params(r, io, owner, "inputParameter"),
        outputs: params(r, io, owner, "outputParameter"),
    }
}

/// The activity's own `camunda:inputOutput`, if any.
pub(crate) fn io(r: &mut dyn Report, el: &Element) -> Io {
    extensions(el)
        .find(|c| c.name == "inputOutput")
        .map(|io| io_of(r, io, el))
        .unwrap_or_default()
}

/// The connector of a service task, if any.
pub(crate) fn connector(r: &mut dyn Report, el: &Element) -> Option<Option<Connector>> {
    let c = extensions(el).find(|c| c.name == "connector")?;
    let id = c
        .child(Ns::Camunda, "connectorId")
        .map(|i| i.text.trim().to_string())
        .unwrap_or_default();
    if id.is_empty() {
        r.error(c, el, "a connector needs a camunda:connectorId".into());
        return Some(None);
    }
    if id != "http-connector" {
        r.unsupported(
            c,
            el,
            format!("connector \"{id}\" is not supported (only http-connector is)"),
        );
        return Some(None);
    }
    let io = c
        .child(Ns::Camunda, "inputOutput")
        .map(|io| io_of(r, io, el))
        .unwrap_or_default();
    Some(Some(Connector {
        id,
        inputs: io.inputs,
        outputs: io.outputs,
    }))
}

/// The fields of a `camunda:formData`, checked: known types, unique ids, valid
/// constraints and defaults that fit their type.
pub(crate) fn form(r: &mut dyn Report, el: &Element) -> Vec<FormField> {
    let mut fields: Vec<FormField> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let Some(data) = extensions(el).find(|c| c.name == "formData") else {
        return fields;
    };
    for f in data.children_named(Ns::Camunda, "formField") {
        let Some(id) = f.attr("id").filter(|s| !s.trim().is_empty()) else {
            r.error(f, el, "a form field needs an id".into());
            continue;
        };
        if !seen.insert(id.to_string()) {
            r.error(f, el, format!("form field \"{id}\" is defined twice"));
            continue;
        }
        let ty = match f.attr("type").unwrap_or("string") {
            "string" => FieldType::String,
            "long" => FieldType::Long,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "enum" => {
                let values: Vec<(String, String)> = f
                    .children_named(Ns::Camunda, "value")
                    .filter_map(|v| {
                        let vid = v.attr("id")?;
                        Some((vid.to_string(), v.attr("name").unwrap_or(vid).to_string()))
                    })
                    .collect();
                if values.is_empty() {
                    r.error(f, el, format!("enum form field \"{id}\" has no values"));
                    continue;
                }
                FieldType::Enum { values }
            }
            other => {
                r.unsupported(f, el,
                    format!(
                        "form field \"{id}\" has type \"{other}\"; supported are string, long, boolean, date and enum"
                    ),
                );
                continue;
            }
        };
        let mut constraints = Constraints::default();
        let mut ok = true;
        for c in f
            .children_named(Ns::Camunda, "validation")
            .flat_map(|v| v.children_named(Ns::Camunda, "constraint"))
        {
            let name = c.attr("name").unwrap_or_default();
            let config = c.attr("config").map(str::trim);
            let number =
                |r: &mut dyn Report| -> Option<i64> {
                    match config.and_then(|s| s.parse::<i64>().ok()) {
                        Some(n) => Some(n),
                        None => {
                            r.error(c, el,
                            format!(
                                "constraint {name} of field \"{id}\" needs a whole number as config"
                            ),
                        );
                            None
                        }
                    }
                };
            match name {
                "required" => constraints.required = true,
                "readonly" => constraints.readonly = true,
                "minlength" => match number(r) {
                    Some(n) if n >= 0 => constraints.minlength = Some(n as usize),
                    _ => ok = false,
                },
                "maxlength" => match number(r) {
                    Some(n) if n >= 0 => constraints.maxlength = Some(n as usize),
                    _ => ok = false,
                },
                "min" => match number(r) {
                    Some(n) => constraints.min = Some(n),
                    None => ok = false,
                },
                "max" => match number(r) {
                    Some(n) => constraints.max = Some(n),
                    None => ok = false,
                },
                other => {
                    r.unsupported(c, el,
                        format!(
                            "constraint \"{other}\" of field \"{id}\" is not supported (required, readonly, minlength, maxlength, min and max are)"
                        ),
                    );
                    ok = false;
                }
            }
        }
        let default = match f.attr("defaultValue") {
            None => None,
            Some(text) if text.contains("${") => {
                r.unsupported(f, el,
                    format!("the default value of field \"{id}\" is an expression; only literal defaults are supported"),
                );
                ok = false;
                None
            }
            Some(text) => match coerce(&ty, &Value::String(text.to_string())) {
                Ok(v) => v,
                Err(e) => {
                    r.error(f, el, format!("the default value of field \"{id}\" {e}"));
                    ok = false;
                    None
                }
            },
        };
        if !ok {
            continue;
        }
        let properties = f
            .children_named(Ns::Camunda, "properties")
            .flat_map(|p| p.children_named(Ns::Camunda, "property"))
            .filter_map(|p| {
                Some((
                    p.attr("id").or_else(|| p.attr("name"))?.to_string(),
                    p.attr("value").unwrap_or_default().to_string(),
                ))
            })
            .collect();
        fields.push(FormField {
            id: id.to_string(),
            label: f.attr("label").map(str::to_string),
            ty,
            default,
            constraints,
            properties,
        });
    }
    fields
}

/// `camunda:in` and `camunda:out` of a call activity: (ins, outs, business key).
pub(crate) fn call_mappings(
    r: &mut dyn Report,
    el: &Element,
) -> Option<(Vec<CallMapping>, Vec<CallMapping>, Option<Template>)> {
    let mut ins = Vec::new();
    let mut outs = Vec::new();
    let mut business_key = None;
    let mut ok = true;
    // Flowable's and Activiti's `in` / `out` (source, sourceExpression,
    // target) mean what Camunda's do.
    let vendor = |c: &&Element| VENDORS.iter().any(|(ns, _)| c.ns == *ns);
    for m in el
        .children_named(Ns::Bpmn, "extensionElements")
        .flat_map(|ext| ext.children.iter())
        .filter(vendor)
        .filter(|c| c.name == "in" || c.name == "out")
    {
        let prefix = VENDORS
            .iter()
            .find(|(ns, _)| *ns == m.ns)
            .map_or("camunda", |(_, p)| *p);
        if let Some(bk) = m.attr("businessKey") {
            if m.name == "out" {
                r.error(m, el, format!("{prefix}:out cannot set a business key"));
                ok = false;
                continue;
            }
            match template(r, m, el, bk) {
                Some(t) => business_key = Some(t),
                None => ok = false,
            }
            continue;
        }
        let local = m.attr("local").map(str::trim) == Some("true");
        let mapping = if m.attr("variables").map(str::trim) == Some("all") {
            Some(CallMapping::All { local })
        } else {
            let target = m.attr("target").map(str::trim).filter(|t| !t.is_empty());
            let source = match (m.attr("source"), m.attr("sourceExpression")) {
                (Some(s), None) if !s.trim().is_empty() => {
                    Some(CallSource::Variable(s.trim().to_string()))
                }
                (None, Some(e)) => template(r, m, el, e).map(CallSource::Expression),
                _ => {
                    r.error(
                        m,
                        el,
                        format!(
                            "{prefix}:{} needs exactly one of source, sourceExpression, variables=\"all\" or businessKey",
                            m.name
                        ),
                    );
                    None
                }
            };
            match (source, target) {
                (Some(source), Some(target)) => Some(CallMapping::One {
                    source,
                    target: target.to_string(),
                    local,
                }),
                (Some(_), None) => {
                    r.error(m, el, format!("{prefix}:{} needs a target", m.name));
                    None
                }
                (None, _) => None,
            }
        };
        match mapping {
            Some(mapping) if m.name == "in" => ins.push(mapping),
            Some(mapping) => outs.push(mapping),
            None => ok = false,
        }
    }
    // `flowable:inheritVariables="true"`: every variable goes in, as
    // `<camunda:in variables="all"/>`.
    if [Ns::Flowable, Ns::Activiti]
        .iter()
        .any(|ns| el.attr_ns(*ns, "inheritVariables").map(str::trim) == Some("true"))
    {
        ins.push(CallMapping::All { local: false });
    }
    ok.then_some((ins, outs, business_key))
}

/// The `camunda:executionListener`s (and, when `tasks`, `camunda:taskListener`s)
/// of an element. Listeners run a script or an expression; those implemented
/// by Java classes, delegate expressions or script resources are refused.
pub(crate) fn listeners(
    r: &mut dyn Report,
    el: &Element,
    allowed: &[(&str, ListenerEvent)],
) -> Option<Vec<Listener>> {
    let mut out = Vec::new();
    let mut ok = true;
    for l in extensions(el).filter(|c| c.name == "executionListener" || c.name == "taskListener") {
        let default_event = if allowed.iter().any(|(n, _)| *n == "take") {
            "take"
        } else {
            ""
        };
        let event_name = l.attr("event").map(str::trim).unwrap_or(default_event);
        let event = allowed
            .iter()
            .find(|(n, e)| {
                *n == event_name
                    && (l.name == "taskListener")
                        == matches!(
                            e,
                            ListenerEvent::Create
                                | ListenerEvent::Assignment
                                | ListenerEvent::Complete
                                | ListenerEvent::Delete
                        )
            })
            .map(|(_, e)| *e);
        let Some(event) = event else {
            let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
            r.error(
                l,
                el,
                format!(
                    "camunda:{} event \"{event_name}\" is not one of the events here ({})",
                    l.name,
                    names.join(", ")
                ),
            );
            ok = false;
            continue;
        };
        for attr in ["class", "delegateExpression"] {
            if l.attr(attr).is_some() {
                r.unsupported(
                    l,
                    el,
                    format!("camunda:{} with a {attr} cannot run here (no Java); write a script or an expression", l.name),
                );
                ok = false;
            }
        }
        let action = match (l.attr("expression"), l.child(Ns::Camunda, "script")) {
            (Some(e), None) => Expr::compile(e)
                .map(ListenerAction::Expression)
                .map_err(|err| match assignment(e) {
                    Some((name, value)) => format!(
                        "{err}; EL has no assignment: write ${{execution.setVariable('{name}', {value})}}"
                    ),
                    None => err,
                }),
            (None, Some(s)) => {
                let language = match Language::of(s.attr("scriptFormat")) {
                    Ok(l) => l,
                    Err(e) => {
                        r.unsupported(s, el, e);
                        ok = false;
                        continue;
                    }
                };
                if s.attr("resource").is_some() {
                    r.unsupported(
                        s,
                        el,
                        "scripts loaded from a resource are not supported".into(),
                    );
                    ok = false;
                    continue;
                }
                Script::compile_as(language, &s.text).map(ListenerAction::Script)
            }
            _ if l.attr("class").is_some() || l.attr("delegateExpression").is_some() => continue,
            _ => Err(format!(
                "camunda:{} needs an expression or a camunda:script",
                l.name
            )),
        };
        match action {
            Ok(action) => out.push(Listener { event, action }),
            Err(e) => {
                r.error(l, el, e);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// `${name = value}` (EL 3.0's assignment, which Camunda's EL 2.2 does not
/// have): the name and the value's text, for a message that says what to
/// write instead.
fn assignment(text: &str) -> Option<(&str, &str)> {
    let t = text.trim();
    let inner = t
        .strip_prefix("${")
        .or_else(|| t.strip_prefix("#{"))?
        .strip_suffix('}')?
        .trim();
    let name_len = inner
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit()))
        .count();
    let rest = inner[name_len..].trim_start();
    let value = rest.strip_prefix('=')?;
    (name_len > 0 && !value.starts_with('=')).then(|| (&inner[..name_len], value.trim()))
}
