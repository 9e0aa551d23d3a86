//! Reading Camunda 8's `zeebe:` extensions into the same model as the
//! `camunda:` ones, where the meaning is the same: job types become external
//! work, `ioMapping` becomes input/output mappings, `calledElement`,
//! `calledDecision`, `assignmentDefinition`, `taskSchedule` and
//! `script` become their Camunda 7 counterparts. Their expressions start with
//! `=` and are FEEL (see [`super::expr`]).

use super::camunda::{Report, template};
use super::definitions::{
    BusinessRule, CallActivity, CallBinding, CallMapping, Io, MapDecisionResult, Param, ParamValue,
};
use super::expr::{Expr, Template};
use super::xml::{Element, Ns};

/// The `zeebe:` children of an element's `extensionElements`.
pub(crate) fn extensions<'s, 'a>(el: &'s Element<'a>) -> impl Iterator<Item = &'s Element<'a>> {
    el.children_named(Ns::Bpmn, "extensionElements")
        .flat_map(|ext| ext.children.iter())
        .filter(|c| c.ns == Ns::Zeebe)
}

/// The first `zeebe:{name}` extension.
pub(crate) fn extension<'s, 'a>(el: &'s Element<'a>, name: &str) -> Option<&'s Element<'a>> {
    extensions(el).find(|c| c.name == name)
}

/// `zeebe:taskDefinition type`: the job type, which external workers fetch
/// as their topic. A type computed by an expression is not supported.
pub(crate) fn job_type(r: &mut dyn Report, el: &Element) -> Option<Option<String>> {
    let Some(def) = extension(el, "taskDefinition") else {
        return Some(None);
    };
    match def.attr("type").map(str::trim) {
        Some(t) if t.starts_with('=') => {
            r.unsupported(
                def,
                el,
                "a job type computed by an expression is not supported".into(),
            );
            None
        }
        Some(t) if !t.is_empty() => Some(Some(t.to_string())),
        _ => {
            r.error(def, el, "zeebe:taskDefinition needs a type".into());
            None
        }
    }
}

/// `zeebe:ioMapping`: `input`s become local variables of the element,
/// `output`s are set outside it. Targets are plain variable names.
pub(crate) fn io(r: &mut dyn Report, el: &Element) -> Option<Io> {
    let mapping = extension(el, "ioMapping")?;
    let mut io = Io::default();
    for m in mapping.children.iter().filter(|c| c.ns == Ns::Zeebe) {
        let (Some(source), Some(target)) = (m.attr("source"), m.attr("target")) else {
            r.error(
                m,
                el,
                format!("zeebe:{} needs a source and a target", m.name),
            );
            continue;
        };
        let target = target.trim();
        if target.contains('.') || target.contains('[') {
            r.unsupported(m, el, format!("zeebe:{} into a nested target (\"{target}\") is not supported; map into a variable name", m.name));
            continue;
        }
        // A source without `=` is a variable name in Camunda 8.
        let source = source.trim();
        let text = if source.starts_with('=') {
            source.to_string()
        } else {
            format!("={source}")
        };
        let Some(t) = template(r, m, el, &text) else {
            continue;
        };
        let param = Param {
            name: target.to_string(),
            value: ParamValue::Text(t),
        };
        match m.name {
            "input" => io.inputs.push(param),
            "output" => io.outputs.push(param),
            _ => {}
        }
    }
    Some(io)
}

/// `zeebe:calledElement processId`: all variables go in (and, unless
/// `propagateAllChildVariables="false"`, all come back out).
pub(crate) fn called_element(r: &mut dyn Report, el: &Element) -> Option<Option<CallActivity>> {
    let Some(c) = extension(el, "calledElement") else {
        return Some(None);
    };
    let Some(id) = c.attr("processId").map(str::trim).filter(|p| !p.is_empty()) else {
        r.error(c, el, "zeebe:calledElement needs a processId".into());
        return None;
    };
    let called = template(r, c, el, id)?;
    let outputs = if c.attr("propagateAllChildVariables").map(str::trim) == Some("false") {
        Vec::new()
    } else {
        vec![CallMapping::All { local: false }]
    };
    let inputs = if c.attr("propagateAllParentVariables").map(str::trim) == Some("false") {
        Vec::new()
    } else {
        vec![CallMapping::All { local: false }]
    };
    Some(Some(CallActivity {
        called,
        binding: CallBinding::Latest,
        inputs,
        outputs,
        business_key: None,
    }))
}

/// `zeebe:calledDecision decisionId resultVariable`: the result as Camunda 8
/// stores it (one value, an object, or a list of them).
pub(crate) fn called_decision(r: &mut dyn Report, el: &Element) -> Option<Option<BusinessRule>> {
    let Some(d) = extension(el, "calledDecision") else {
        return Some(None);
    };
    let Some(id) = d
        .attr("decisionId")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    else {
        r.error(d, el, "zeebe:calledDecision needs a decisionId".into());
        return None;
    };
    let decision = template(r, d, el, id)?;
    Some(Some(BusinessRule {
        decision,
        binding: CallBinding::Latest,
        result_variable: d
            .attr("resultVariable")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        map: MapDecisionResult::Natural,
    }))
}

/// `zeebe:script expression resultVariable`: a FEEL expression whose value
/// goes to the result variable.
pub(crate) fn script(r: &mut dyn Report, el: &Element) -> Option<Option<(Expr, Option<String>)>> {
    let Some(s) = extension(el, "script") else {
        return Some(None);
    };
    let Some(text) = s
        .attr("expression")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        r.error(s, el, "zeebe:script needs an expression".into());
        return None;
    };
    let text = if text.starts_with('=') {
        text.to_string()
    } else {
        format!("={text}")
    };
    match Expr::compile(&text) {
        Ok(e) => Some(Some((
            e,
            s.attr("resultVariable")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        ))),
        Err(e) => {
            r.error(s, el, e);
            None
        }
    }
}

/// The attributes of `zeebe:assignmentDefinition` and `zeebe:taskSchedule`:
/// `(assignee, candidateUsers, candidateGroups, dueDate, followUpDate)`.
pub(crate) type Assignment = [Option<Template>; 5];

pub(crate) fn assignment(r: &mut dyn Report, el: &Element) -> Option<Assignment> {
    let mut out: Assignment = Default::default();
    let sources = [
        ("assignmentDefinition", "assignee"),
        ("assignmentDefinition", "candidateUsers"),
        ("assignmentDefinition", "candidateGroups"),
        ("taskSchedule", "dueDate"),
        ("taskSchedule", "followUpDate"),
    ];
    for (slot, (ext, attr)) in out.iter_mut().zip(sources) {
        if let Some(e) = extension(el, ext)
            && let Some(v) = e.attr(attr).map(str::trim).filter(|v| !v.is_empty())
        {
            *slot = Some(template(r, e, el, v)?);
        }
    }
    Some(out)
}
