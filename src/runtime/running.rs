//! The richer reads a REST client of another engine expects: running
//! instances found by ids, definition versions, incidents and compared
//! variables (with exact counts and sorting); every process version with the
//! file it came from; an instance's variables; and the tree of its active
//! element instances. Visibility is the policy's, as for every other list.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::policy::{Action, Principal};
use super::views::{InstanceView, instance_view};
use super::{Deployed, InstanceState, Instances, RuntimeError, require, viewer};
use crate::engine::{JobKind, Wait};
use crate::store::{InstanceOrder, InstanceQuery};

/// How a variable is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Neq,
    Gt,
    Gteq,
    Lt,
    Lteq,
    /// SQL's LIKE on text: `%` any run, `_` one character.
    Like,
}

/// One condition on a variable of the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableCondition {
    pub name: String,
    pub op: Compare,
    pub value: Value,
    /// The value is text from a URL: it also compares as the number or
    /// boolean it reads as (`amount_gt_3` means the number 3).
    pub loose: bool,
}

impl VariableCondition {
    /// Whether the stored value `have` satisfies the condition.
    fn accepts(&self, have: &Value, ignore_case: bool) -> bool {
        let mut wants = vec![self.value.clone()];
        if self.loose
            && let Value::String(s) = &self.value
            && let Ok(v @ (Value::Number(_) | Value::Bool(_))) = serde_json::from_str::<Value>(s)
        {
            wants.push(v);
        }
        if self.op == Compare::Neq {
            wants.iter().all(|w| holds(have, self.op, w, ignore_case))
        } else {
            wants.iter().any(|w| holds(have, self.op, w, ignore_case))
        }
    }
}

/// How to sort running instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunningSort {
    /// Newest first.
    #[default]
    Started,
    Id,
    BusinessKey,
    DefinitionKey,
    DefinitionId,
}

/// Which running instances.
#[derive(Debug, Clone, Default)]
pub struct RunningSearch {
    pub ids: Option<Vec<Uuid>>,
    pub business_key: Option<String>,
    pub business_key_like: Option<String>,
    pub definition_ids: Option<Vec<i64>>,
    pub definition_keys: Option<Vec<String>>,
    pub has_incident: Option<bool>,
    /// Only suspended (`true`) or active (`false`) instances.
    pub suspended: Option<bool>,
    /// Every condition must hold.
    pub variables: Vec<VariableCondition>,
    /// Variable names compared ignoring case.
    pub names_ignore_case: bool,
    /// Text values compared ignoring case.
    pub values_ignore_case: bool,
    pub sort: RunningSort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u64,
}

/// One version of one process, with the file it was deployed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessVersion {
    pub id: i64,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    pub deployment_id: i64,
    /// The deployed file's name.
    pub resource: String,
    pub deployed_at: DateTime<Utc>,
    /// Whether it is the latest version of its key.
    pub latest: bool,
    /// Whether the version is suspended (no new instances).
    pub suspended: bool,
}

/// An active element instance of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityNode {
    pub key: u64,
    pub element: String,
    pub name: Option<String>,
    /// The BPMN element's tag: `userTask`, `subProcess`...
    pub kind: String,
    /// The key of the subprocess instance it runs in (0: the process).
    pub scope: u64,
    /// It waits for an asynchronous continuation, not inside the element.
    pub transition: bool,
    /// The open incident that stops it.
    pub incident: Option<Uuid>,
}

/// LIKE with `%` and `_`.
pub fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Dynamic programming over (pattern, text) prefixes.
    let mut row = vec![false; t.len() + 1];
    row[0] = true;
    for pc in &p {
        let mut next = vec![false; t.len() + 1];
        if *pc == '%' {
            let mut any = false;
            for j in 0..=t.len() {
                any = any || row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=t.len() {
                next[j] = row[j - 1] && (*pc == '_' || *pc == t[j - 1]);
            }
        }
        row = next;
    }
    row[t.len()]
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Whether the stored value `have` satisfies `op value`.
fn holds(have: &Value, op: Compare, want: &Value, ignore_case: bool) -> bool {
    let fold = |s: String| if ignore_case { s.to_lowercase() } else { s };
    let ordering = match (have, want) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(_), Value::String(_)) => text_of(have)
            .map(fold)
            .zip(text_of(want).map(fold))
            .map(|(a, b)| a.cmp(&b)),
        (Value::Bool(a), Value::Bool(b)) if matches!(op, Compare::Eq | Compare::Neq) => {
            Some(a.cmp(b))
        }
        (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
        _ => None,
    };
    use std::cmp::Ordering::*;
    match op {
        Compare::Eq => ordering == Some(Equal),
        Compare::Neq => ordering != Some(Equal),
        Compare::Gt => ordering == Some(Greater),
        Compare::Gteq => matches!(ordering, Some(Greater | Equal)),
        Compare::Lt => ordering == Some(Less),
        Compare::Lteq => matches!(ordering, Some(Less | Equal)),
        Compare::Like => match (have, want) {
            (Value::String(h), Value::String(p)) => like(&fold(p.clone()), &fold(h.clone())),
            _ => false,
        },
    }
}

impl Instances<'_> {
    /// Running instances the principal may see that match `q`, and how many
    /// match in all.
    pub async fn running(
        &self,
        who: &Principal,
        q: &RunningSearch,
    ) -> Result<(Vec<InstanceView>, u64), RuntimeError> {
        let rt = self.rt;
        let mut ids: Option<HashSet<Uuid>> = q.ids.as_ref().map(|i| i.iter().copied().collect());
        for c in &q.variables {
            let mut matching = HashSet::new();
            let rows = if q.names_ignore_case {
                let mut all = Vec::new();
                for name in rt.store().variable_names().await? {
                    if name.to_lowercase() == c.name.to_lowercase() {
                        all.extend(rt.store().variable_values(&name).await?);
                    }
                }
                all
            } else {
                rt.store().variable_values(&c.name).await?
            };
            for (id, have) in rows {
                if c.accepts(&have, q.values_ignore_case) {
                    matching.insert(id);
                }
            }
            ids = Some(match ids {
                Some(before) => before.intersection(&matching).copied().collect(),
                None => matching,
            });
        }
        let d = q.descending;
        let query = InstanceQuery {
            state: Some("active".into()),
            business_key: q.business_key.clone(),
            ids: ids.map(|s| {
                let mut v: Vec<Uuid> = s.into_iter().collect();
                v.sort();
                v
            }),
            business_key_like: q.business_key_like.clone(),
            definition_ids: q.definition_ids.clone(),
            definition_keys: q.definition_keys.clone(),
            has_incident: q.has_incident,
            suspended: q.suspended,
            order: match q.sort {
                RunningSort::Started => InstanceOrder::Started,
                RunningSort::Id => InstanceOrder::Id(d),
                RunningSort::BusinessKey => InstanceOrder::BusinessKey(d),
                RunningSort::DefinitionKey => InstanceOrder::DefinitionKey(d),
                RunningSort::DefinitionId => InstanceOrder::DefinitionId(d),
            },
            exact_count: true,
            offset: q.offset,
            limit: q.limit,
            ..Default::default()
        };
        let (rows, total) = rt.store().instances(&viewer(who), &query).await?;
        let names = rt.process_names().await?;
        let list = if q.limit == 0 {
            Vec::new()
        } else {
            rows.iter()
                .map(|i| {
                    let name = names
                        .get(&i.definition_key)
                        .cloned()
                        .unwrap_or_else(|| i.definition_key.clone());
                    instance_view(i, &name)
                })
                .collect()
        };
        Ok((list, total.count))
    }

    /// An instance's own (process-level) variables.
    pub async fn variables(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Map<String, Value>, RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
        Ok(state.root_variables())
    }

    /// An instance, the definition it runs, and its active element instances
    /// (by key, so that each one's scope can be found among them).
    pub async fn activity_tree(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(InstanceView, Arc<Deployed>, Vec<ActivityNode>), RuntimeError> {
        let rt = self.rt;
        let row = rt.visible_row(who, id).await?;
        let deployed = rt.deployed(row.definition_id).await?;
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
        let incidents: BTreeMap<i64, Uuid> = rt
            .store()
            .open_incidents(id)
            .await?
            .into_iter()
            .map(|i| (i.incident_key, i.id))
            .collect();
        let process = deployed.process();
        let nodes = state
            .elements
            .iter()
            // Boundary events and the events racing behind an event-based
            // gateway are subscriptions, not activities.
            .filter(|(_, e)| e.attached_to.is_none() && e.race.is_none())
            .map(|(key, e)| {
                let node = process.node(&e.element);
                ActivityNode {
                    key: *key,
                    element: e.element.clone(),
                    name: node.and_then(|n| n.name.clone()),
                    kind: node.map(|n| n.tag.to_string()).unwrap_or_default(),
                    scope: e.scope,
                    transition: matches!(
                        &e.wait,
                        Some(Wait::Job {
                            job: JobKind::AsyncBefore | JobKind::AsyncAfter,
                            ..
                        })
                    ),
                    incident: e
                        .incident
                        .and_then(|k| i64::try_from(k).ok())
                        .and_then(|k| incidents.get(&k).copied()),
                }
            })
            .collect();
        Ok((instance_view(&row, process.display_name()), deployed, nodes))
    }
}

impl Deployed {
    /// The fields of the process's start form (`camunda:formData`).
    pub fn start_form(&self) -> Vec<crate::model::form::FormField> {
        super::deployments::start_form(self.process())
    }
}

impl super::Deployments<'_> {
    /// Every version of every process, newest deployment first.
    pub async fn all_versions(&self, who: &Principal) -> Result<Vec<ProcessVersion>, RuntimeError> {
        require(who, Action::ViewDefinitions)?;
        let rt = self.rt;
        let files: BTreeMap<i64, (String, DateTime<Utc>)> = rt
            .store()
            .deployments()
            .await?
            .into_iter()
            .map(|(id, name, at, _)| (id, (name, at)))
            .collect();
        let mut seen = HashSet::new();
        let mut out: Vec<ProcessVersion> = rt
            .store()
            .definitions()
            .await?
            .into_iter()
            .map(|d| {
                // Sorted by key, newest version first: the first of a key is its latest.
                let latest = seen.insert(d.key.clone());
                let (resource, deployed_at) = files
                    .get(&d.deployment_id)
                    .cloned()
                    .unwrap_or_else(|| (String::new(), d.created_at));
                ProcessVersion {
                    id: d.id,
                    key: d.key,
                    version: d.version,
                    name: d.name,
                    deployment_id: d.deployment_id,
                    resource,
                    deployed_at,
                    latest,
                    suspended: d.suspended,
                }
            })
            .collect();
        out.sort_by_key(|d| std::cmp::Reverse(d.id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_matches_sql_wildcards() {
        assert!(like("a%", "abc"));
        assert!(like("%c", "abc"));
        assert!(like("a_c", "abc"));
        assert!(!like("a_c", "abbc"));
        assert!(like("%", ""));
        assert!(!like("b%", "abc"));
    }

    #[test]
    fn comparisons_follow_the_values_types() {
        assert!(holds(&json!(5), Compare::Gt, &json!(3), false));
        assert!(holds(&json!(5.0), Compare::Eq, &json!(5), false));
        assert!(!holds(&json!("5"), Compare::Gt, &json!(3), false));
        assert!(holds(&json!("b"), Compare::Gteq, &json!("a"), false));
        assert!(holds(&json!("Abc"), Compare::Like, &json!("a%"), true));
        assert!(!holds(&json!("Abc"), Compare::Like, &json!("a%"), false));
        assert!(holds(&json!(true), Compare::Neq, &json!(false), false));
        assert!(holds(&json!("x"), Compare::Neq, &json!(1), false));
        let url = |op, v: &str| VariableCondition {
            name: "n".into(),
            op,
            value: json!(v),
            loose: true,
        };
        assert!(url(Compare::Gt, "3").accepts(&json!(5), false));
        assert!(url(Compare::Eq, "3").accepts(&json!("3"), false));
        assert!(!url(Compare::Neq, "3").accepts(&json!(3), false));
        assert!(url(Compare::Eq, "true").accepts(&json!(true), false));
    }
}
