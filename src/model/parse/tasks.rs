//! Tasks: `task`, `manualTask`, `userTask`, `serviceTask`, `sendTask`,
//! `receiveTask`, `scriptTask` and `businessRuleTask` — including the Camunda 8
//! (zeebe) forms of service, script and business rule tasks, and the
//! `camunda:errorEventDefinition`s that map a task's result to a BPMN error.

use super::Reader;
use crate::model::camunda;
use crate::model::definitions::*;
use crate::model::diagnostic::Severity;
use crate::model::expr::{Expr, Language, Script, Template};
use crate::model::time;
use crate::model::xml::{Element, Ns};
use crate::model::zeebe;

/// The task listener events of a user task, besides the execution listeners'
/// `start` and `end`.
pub(super) const USER_TASK_EVENTS: [(&str, ListenerEvent); 4] = [
    ("create", ListenerEvent::Create),
    ("assignment", ListenerEvent::Assignment),
    ("complete", ListenerEvent::Complete),
    ("delete", ListenerEvent::Delete),
];

impl Reader<'_> {
    pub(super) fn task(&self) -> Option<NodeKind> {
        Some(NodeKind::Task)
    }

    pub(super) fn manual_task(&self) -> Option<NodeKind> {
        Some(NodeKind::ManualTask)
    }

    pub(super) fn user_task(&mut self, el: &Element) -> Option<NodeKind> {
        let form = camunda::form(self, el);
        let form_link = self.form_link(el).ok()?;
        let zeebe_form = zeebe::extension(el, "formDefinition").and_then(|f| {
            f.attr("formKey")
                .or(f.attr("formId"))
                .or(f.attr("externalReference"))
        });
        let form_key = camunda::vendor_value(el, "formKey")
            .or_else(|| el.attr_ns(Ns::Camunda, "formRef"))
            .or(zeebe_form)
            .map(str::to_string);
        if form_link.is_some() && !form.is_empty() {
            self.error(
                el,
                "the task has both camunda:formData fields and a Camunda Form; keep one".into(),
            );
            return None;
        }
        if let Some(key) = &form_key
            && form.is_empty()
            && form_link.is_none()
        {
            self.warning(
                el,
                format!("the form \"{key}\" is not rendered by this engine; the task shows its form fields (none) and a Complete button"),
            );
        }
        let [assignee, users, groups, due, follow_up] = zeebe::assignment(self, el)?;
        let u = UserTask {
            form,
            form_key,
            form_link,
            assignee: assignee.or(self.vendor_template(el, "assignee").ok()?),
            candidate_users: users.or(self.vendor_template(el, "candidateUsers").ok()?),
            candidate_groups: groups.or(self.vendor_template(el, "candidateGroups").ok()?),
            due_date: due.or(self.vendor_template(el, "dueDate").ok()?),
            follow_up_date: follow_up.or(self.opt_template(el, "followUpDate").ok()?),
            priority: self.vendor_template(el, "priority").ok()?,
        };
        if let Some(Template::Literal(p)) = &u.priority
            && p.trim().parse::<i64>().is_err()
        {
            self.error(
                el,
                format!("camunda:priority \"{p}\" is not a whole number"),
            );
            return None;
        }
        if let Some(Template::Literal(d)) = &u.due_date
            && time::due(d, jiff::Timestamp::UNIX_EPOCH).is_err()
        {
            self.error(
                el,
                format!("camunda:dueDate \"{d}\" is not an ISO 8601 date-time or duration"),
            );
            return None;
        }
        Some(NodeKind::UserTask(Box::new(u)))
    }

    pub(super) fn service_task(&mut self, el: &Element) -> Option<NodeKind> {
        self.implementation(el)
            .map(|s| NodeKind::ServiceTask(Box::new(s)))
    }

    /// A send task sends its message; one with a Camunda implementation does
    /// that work instead, as a service task would.
    pub(super) fn send_task(&mut self, el: &Element) -> Option<NodeKind> {
        if !has_implementation(el) && el.attr("messageRef").is_some() {
            return self.message_name(el, el).map(|name| {
                NodeKind::Throw(Box::new(ThrowEvent {
                    signal: false,
                    name,
                }))
            });
        }
        self.service_task(el)
    }

    pub(super) fn receive_task(&mut self, el: &Element) -> Option<NodeKind> {
        // Without a message, it waits to be triggered (as in Camunda).
        if el.attr("messageRef").is_none_or(|r| r.trim().is_empty()) {
            return Some(NodeKind::ReceiveTask(Catch::Trigger));
        }
        self.message_name(el, el)
            .map(|name| NodeKind::ReceiveTask(Catch::Message { name }))
    }

    /// A rhai script, or in Camunda 8 a FEEL expression or a job worker.
    pub(super) fn script_task(&mut self, el: &Element) -> Option<NodeKind> {
        if zeebe::extension(el, "script").is_some() {
            return zeebe::script(self, el)
                .flatten()
                .map(|(expr, result_variable)| {
                    NodeKind::ServiceTask(Box::new(ServiceTask::Expression {
                        expr,
                        result_variable,
                    }))
                });
        }
        if zeebe::extension(el, "taskDefinition").is_some() {
            return self.service_task(el);
        }
        let has_script = el
            .child(Ns::Bpmn, "script")
            .is_some_and(|s| !s.text.trim().is_empty());
        if !has_script && el.attr_ns(Ns::Camunda, "resource").is_none() {
            // As drawn before the script is written: nothing to run, so it
            // passes like a task without a type (BPMN's abstract task).
            self.warning(
                el,
                "the script task has no script; it completes as soon as it starts, like a plain task".into(),
            );
            return Some(NodeKind::Task);
        }
        self.script(el).map(|s| NodeKind::ScriptTask(Box::new(s)))
    }

    /// A decision to evaluate (Camunda 7 or 8), or else work done as a
    /// service task does it.
    pub(super) fn business_rule_task(&mut self, el: &Element) -> Option<NodeKind> {
        if el.attr_ns(Ns::Camunda, "decisionRef").is_some() {
            return self
                .business_rule(el)
                .map(|b| NodeKind::BusinessRule(Box::new(b)));
        }
        if zeebe::extension(el, "calledDecision").is_some() {
            return zeebe::called_decision(self, el)
                .flatten()
                .map(|b| NodeKind::BusinessRule(Box::new(b)));
        }
        self.service_task(el)
    }

    /// The work of a service task, or of a send task, business rule task or
    /// message throw event implemented like one: a handler, an expression, an
    /// external worker or a connector.
    fn implementation(&mut self, el: &Element) -> Option<ServiceTask> {
        if let Some(topic) = zeebe::job_type(self, el)? {
            return Some(ServiceTask::External { topic });
        }
        let class = camunda::vendor_value(el, "class");
        let delegate = camunda::vendor_value(el, "delegateExpression");
        let (expression, prefix) = match camunda::vendor_attr(el, "expression") {
            Some((e, p)) => (Some(e), p),
            None => (None, "camunda"),
        };
        let ty = el.attr_ns(Ns::Camunda, "type");
        if ty.is_none()
            && let Some((t, p)) = [Ns::Flowable, Ns::Activiti]
                .iter()
                .zip(["flowable", "activiti"])
                .find_map(|(ns, p)| el.attr_ns(*ns, "type").map(|t| (t, p)))
        {
            // Flowable's and Activiti's task types (mail, http, shell, camel...)
            // are their own built-in services, not Camunda's external tasks.
            self.unsupported(
                el,
                format!("{p}:type \"{t}\" service tasks are not supported"),
            );
            return None;
        }
        let connector = camunda::connector(self, el);
        let result_variable = camunda::vendor_value(el, "resultVariable")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string);
        let count = [
            class.is_some(),
            delegate.is_some(),
            expression.is_some(),
            ty.is_some(),
            connector.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if count > 1 {
            self.error(
                el,
                "has more than one implementation (class, delegateExpression, expression, type, connector); choose one".into(),
            );
            return None;
        }
        if result_variable.is_some() && expression.is_none() {
            self.warning(
                el,
                format!("{prefix}:resultVariable is only used with {prefix}:expression"),
            );
        }
        if let Some(name) = class.or(delegate) {
            let handler = name
                .trim()
                .trim_start_matches("${")
                .trim_start_matches("#{")
                .trim_end_matches('}')
                .trim();
            if self.options.service_handlers.iter().any(|h| h == handler) {
                return Some(ServiceTask::Handler {
                    name: handler.to_string(),
                });
            } else {
                self.unsupported(
                    el,
                    format!(
                        "no service handler named \"{handler}\" is registered with this engine"
                    ),
                );
            }
            return None;
        }
        if let Some(text) = expression {
            return match Expr::compile_with_beans(text) {
                Ok((expr, beans)) if beans.is_empty() => Some(ServiceTask::Expression {
                    expr,
                    result_variable,
                }),
                // `${orderService.check(execution)}`: the bean is the service
                // handler registered under its name.
                Ok((expr, beans)) => {
                    let handler = &beans[0].bean;
                    if beans.iter().all(|b| b.bean == *handler)
                        && self.options.service_handlers.iter().any(|h| h == handler)
                    {
                        if result_variable.is_some() {
                            self.warning(
                                el,
                                format!("{prefix}:resultVariable is not set by the service handler \"{handler}\"; it returns its variables itself"),
                            );
                        }
                        return Some(ServiceTask::Handler {
                            name: handler.clone(),
                        });
                    }
                    self.unsupported(
                        el,
                        format!(
                            "{prefix}:expression: {}",
                            super::super::expr::bean_refusal(expr.source(), &beans[0])
                        ),
                    );
                    None
                }
                Err(e) => {
                    self.error(el, format!("{prefix}:expression: {e}"));
                    None
                }
            };
        }
        if let Some(t) = ty {
            if t != "external" {
                self.unsupported(
                    el,
                    format!("camunda:type \"{t}\" is not supported (only \"external\" is)"),
                );
                return None;
            }
            let topic = el
                .attr_ns(Ns::Camunda, "topic")
                .map(str::trim)
                .unwrap_or_default();
            if topic.is_empty() {
                self.error(el, "an external task needs a camunda:topic".into());
                return None;
            }
            return Some(ServiceTask::External {
                topic: topic.to_string(),
            });
        }
        match connector {
            Some(Some(c)) => {
                if !c.inputs.iter().any(|p| p.name == "url") {
                    self.error(
                        el,
                        "the http-connector needs an input parameter \"url\"".into(),
                    );
                    return None;
                }
                Some(ServiceTask::Connector(c))
            }
            Some(None) => None,
            None => {
                self.warning(
                    el,
                    "has no implementation; it completes as soon as it starts".into(),
                );
                Some(ServiceTask::None)
            }
        }
    }

    /// A script (`scriptFormat`: rhai or JavaScript), written in the element.
    fn script(&mut self, el: &Element) -> Option<ScriptTask> {
        let language = match Language::of(el.attr("scriptFormat")) {
            Ok(l) => l,
            Err(e) => {
                self.unsupported(el, e);
                return None;
            }
        };
        if el.attr_ns(Ns::Camunda, "resource").is_some() {
            self.unsupported(
                el,
                "scripts loaded from a camunda:resource are not supported".into(),
            );
            return None;
        }
        let body = el
            .child(Ns::Bpmn, "script")
            .map(|s| s.text.as_ref())
            .unwrap_or_default();
        if body.trim().is_empty() {
            self.error(el, "the script task has no script".into());
            return None;
        }
        match Script::compile_as(language, body) {
            Ok(script) => Some(ScriptTask {
                script,
                result_variable: el
                    .attr_ns(Ns::Camunda, "resultVariable")
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string),
            }),
            Err(e) => {
                self.error(el, e);
                None
            }
        }
    }

    fn business_rule(&mut self, el: &Element) -> Option<BusinessRule> {
        let decision = match self.opt_template(el, "decisionRef") {
            Ok(Some(t)) => t,
            Ok(None) => {
                self.error(el, "camunda:decisionRef is empty".into());
                return None;
            }
            Err(()) => return None,
        };
        let binding = self.binding(el, "decisionRef")?;
        let map = match el
            .attr_ns(Ns::Camunda, "mapDecisionResult")
            .map(str::trim)
            .unwrap_or("resultList")
        {
            "singleEntry" => MapDecisionResult::SingleEntry,
            "singleResult" => MapDecisionResult::SingleResult,
            "collectEntries" => MapDecisionResult::CollectEntries,
            "resultList" => MapDecisionResult::ResultList,
            other => {
                self.error(
                    el,
                    format!("camunda:mapDecisionResult \"{other}\" is not one of singleEntry, singleResult, collectEntries, resultList"),
                );
                return None;
            }
        };
        Some(BusinessRule {
            decision,
            binding,
            result_variable: el
                .attr_ns(Ns::Camunda, "resultVariable")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            map,
        })
    }

    /// `camunda:errorEventDefinition`s: on connector and external tasks only.
    pub(super) fn error_mappings(
        &mut self,
        el: &Element,
        kind: Option<&NodeKind>,
    ) -> Option<Vec<ErrorMapping>> {
        let defs: Vec<&Element> = camunda::extensions(el)
            .filter(|c| c.name == "errorEventDefinition")
            .collect();
        if defs.is_empty() {
            return Some(Vec::new());
        }
        let fits = matches!(kind, Some(NodeKind::ServiceTask(s))
            if matches!(s.as_ref(), ServiceTask::Connector(_) | ServiceTask::External { .. }));
        if !fits {
            self.push_for(
                Severity::Error,
                defs[0],
                el,
                "camunda:errorEventDefinition applies to tasks with a connector or an external worker".into(),
            );
            return None;
        }
        let mut out = Vec::new();
        for d in defs {
            let error = self.error_throw(el, d)?;
            let Some(text) = d
                .attr("expression")
                .map(str::trim)
                .filter(|t| !t.is_empty())
            else {
                self.push_for(
                    Severity::Error,
                    d,
                    el,
                    "camunda:errorEventDefinition needs an expression (when the result is this error)".into(),
                );
                return None;
            };
            match Expr::compile(text) {
                Ok(condition) => out.push(ErrorMapping { error, condition }),
                Err(e) => {
                    self.push_for(
                        Severity::Error,
                        d,
                        el,
                        format!("camunda:errorEventDefinition: {e}"),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// Whether the element names Camunda (or Flowable, Activiti) work to do (an
/// expression, a class, a handler, an external topic or a connector).
pub(super) fn has_implementation(el: &Element) -> bool {
    ["class", "expression", "delegateExpression", "type"]
        .iter()
        .any(|a| {
            camunda::VENDORS
                .iter()
                .any(|(ns, _)| el.attr_ns(*ns, a).is_some())
        })
        || camunda::extensions(el).any(|c| c.name == "connector")
        || zeebe::extension(el, "taskDefinition").is_some()
}
