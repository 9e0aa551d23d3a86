//! Camunda Forms in the runtime: deploying `.form` files (versioned by the
//! form's id), checking at a diagram's deployment that every form it links
//! is deployed, and finding the form of a user task or start event.
//!
//! A link is resolved like Camunda resolves it: `latest` to the newest
//! version when the form is shown or submitted; `deployment` (and
//! `camunda-forms:deployment:`/`app:` keys) to the version that was newest
//! when the diagram was deployed, which is the one deployed with it; a
//! `version` to that version. A diagram whose linked form is not deployed
//! is refused at its deployment, whatever the binding, so a task never
//! reaches a form that is not there (forms are never undeployed).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::deployments::{DeployResult, DeployedDefinition};
use super::{Deployed, Runtime, RuntimeError, hex, utf8_source};
use crate::model::camunda_form::{self, FormDoc, FormProblem};
use crate::model::{
    Definitions, Diagnostic, FormBinding, FormLink, NodeKind, ParseError, Process, Severity,
};
use crate::store::{FormRow, Store, Txn, to_db_time};

/// A form file's problems as a deployment error.
pub(crate) fn form_error(problems: Vec<FormProblem>) -> ParseError {
    ParseError {
        diagnostics: problems
            .into_iter()
            .map(|p| Diagnostic {
                severity: Severity::Error,
                line: 0,
                column: 0,
                element: p.component,
                kind: p.kind,
                message: p.message,
            })
            .collect(),
    }
}

/// The form link of an element: a user task's, or a none start event's.
pub(crate) fn link_of(kind: Option<&NodeKind>) -> Option<&FormLink> {
    match kind {
        Some(NodeKind::UserTask(u)) => u.form_link.as_ref(),
        Some(NodeKind::StartEvent(s)) => s.form_link.as_ref(),
        _ => None,
    }
}

/// Every form link of a process, with its element.
fn links(p: &Process) -> Vec<(&str, &FormLink)> {
    p.nodes
        .iter()
        .filter_map(|n| link_of(Some(&n.kind)).map(|l| (n.id.as_str(), l)))
        .collect()
}

fn parse_row(row: &FormRow) -> Result<Arc<FormDoc>, RuntimeError> {
    camunda_form::parse(row.1.as_bytes())
        .map(Arc::new)
        .map_err(|_| RuntimeError::Corrupt(format!("form {} no longer parses", row.0.id)))
}

/// What a link resolves to inside a deployment's transaction (`up_to`: the
/// diagram's deployment, `None` while deploying it).
async fn resolve_in(
    txn: &Txn,
    link: &FormLink,
    up_to: Option<i64>,
) -> Result<Option<i64>, RuntimeError> {
    let row = match link {
        FormLink::Embedded(_) => return Ok(Some(0)),
        FormLink::Ref {
            id,
            binding: FormBinding::Latest | FormBinding::Deployment,
        } => Store::form_newest_in(txn, id, up_to).await?,
        FormLink::Ref {
            id,
            binding: FormBinding::Version(v),
        } => Store::form_version_in(txn, id, *v).await?,
        FormLink::Resource(name) => Store::form_file_in(txn, name, up_to).await?,
    };
    Ok(row.map(|r| r.0.id))
}

fn describe(link: &FormLink) -> String {
    match link {
        FormLink::Embedded(d) => format!("the embedded form \"{}\"", d.id),
        FormLink::Ref {
            id,
            binding: FormBinding::Version(v),
        } => format!("version {v} of the form \"{id}\""),
        FormLink::Ref { id, .. } => format!("the form \"{id}\""),
        FormLink::Resource(name) => format!("the form file \"{name}\""),
    }
}

impl Runtime {
    /// Deploys a `.form` file: a new version of its form id, unless the
    /// latest version has exactly this content.
    pub(crate) async fn deploy_form(
        &self,
        name: &str,
        bytes: &[u8],
        by: Option<&str>,
    ) -> Result<DeployResult, RuntimeError> {
        let doc = camunda_form::parse(bytes).map_err(|p| RuntimeError::Invalid(form_error(p)))?;
        let source = utf8_source(bytes)?;
        let checksum = hex(&Sha256::digest(source.as_bytes()));
        let txn = self.store().begin_write().await?;
        Store::lock_deployments(&txn).await?;
        let summary = |row: &crate::store::FormDefinition, created| DeployedDefinition {
            id: row.id,
            key: row.key.clone(),
            version: row.version,
            name: None,
            created,
            is_default: false,
            deployment_id: row.deployment_id,
        };
        let out = match Store::latest_form_in(&txn, &doc.id).await? {
            Some((row, sum)) if sum == checksum => {
                drop(txn);
                summary(&row, false)
            }
            _ => {
                let now = to_db_time(self.clock().now());
                let dep = Store::insert_deployment(&txn, name, &source, &checksum, by, now).await?;
                let row = Store::insert_form(&txn, dep, &doc.id, now).await?;
                Store::commit(txn).await?;
                summary(&row, true)
            }
        };
        Ok(DeployResult {
            definitions: Vec::new(),
            decisions: Vec::new(),
            forms: vec![out],
            warnings: Vec::new(),
        })
    }

    /// Checks, inside a diagram's deployment, that every form it links is
    /// deployed (`pending`: form ids and file names about to be deployed in
    /// the same request count as deployed).
    pub(crate) async fn check_form_links(
        txn: &Txn,
        defs: &Definitions,
        pending: &[(String, String)],
    ) -> Result<(), RuntimeError> {
        let mut diagnostics = Vec::new();
        for p in defs.runnable() {
            for (element, link) in links(p) {
                let in_request = match link {
                    FormLink::Ref {
                        id,
                        binding: FormBinding::Latest | FormBinding::Deployment,
                    } => pending.iter().any(|(_, i)| i == id),
                    FormLink::Resource(name) => pending
                        .iter()
                        .any(|(n, _)| n == name || name.rsplit('/').next() == Some(n.as_str())),
                    _ => false,
                };
                if in_request || resolve_in(txn, link, None).await?.is_some() {
                    continue;
                }
                diagnostics.push(Diagnostic {
                    severity: Severity::Error,
                    line: 0,
                    column: 0,
                    element: Some(element.to_string()),
                    kind: None,
                    message: format!(
                        "{} is not deployed: deploy the .form file with the diagram (or before it)",
                        describe(link)
                    ),
                });
            }
        }
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(RuntimeError::Invalid(ParseError { diagnostics }))
        }
    }

    /// Whether a diagram already deployed (as `deployment_id`) would link a
    /// different form version than it would now: then deploying the same
    /// file again makes a new version, so that its `deployment`-bound forms
    /// are the ones deployed with it.
    pub(crate) async fn forms_moved(
        txn: &Txn,
        process: &Process,
        deployment_id: i64,
    ) -> Result<bool, RuntimeError> {
        for (_, link) in links(process) {
            let pinned = matches!(
                link,
                FormLink::Resource(_)
                    | FormLink::Ref {
                        binding: FormBinding::Deployment,
                        ..
                    }
            );
            if pinned
                && resolve_in(txn, link, Some(deployment_id)).await?
                    != resolve_in(txn, link, None).await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The Camunda Form of an element of a deployed process, if it links one.
    pub(crate) async fn form_of(
        &self,
        deployed: &Deployed,
        element: &str,
    ) -> Result<Option<Arc<FormDoc>>, RuntimeError> {
        let node = deployed.process().node(element);
        let Some(link) = link_of(node.map(|n| &n.kind)) else {
            return Ok(None);
        };
        let up_to = Some(deployed.definition.deployment_id);
        let store = self.store();
        let row = match link {
            FormLink::Embedded(doc) => return Ok(Some(doc.clone())),
            FormLink::Ref {
                id,
                binding: FormBinding::Latest,
            } => store.form_newest(id, None).await?,
            FormLink::Ref {
                id,
                binding: FormBinding::Deployment,
            } => store.form_newest(id, up_to).await?,
            FormLink::Ref {
                id,
                binding: FormBinding::Version(v),
            } => store.form_version(id, *v).await?,
            FormLink::Resource(name) => store.form_file(name, up_to).await?,
        };
        match row {
            Some(row) => parse_row(&row).map(Some),
            None => Err(RuntimeError::Corrupt(format!(
                "{} of element {element} is not deployed",
                describe(link)
            ))),
        }
    }
}

/// The file names and form ids of the `.form` files among files about to
/// be deployed together (for [`super::Deployments::check_forms`]).
pub fn pending_forms(files: &[(&str, &[u8])]) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|(name, bytes)| camunda_form::is_form(name, bytes))
        .filter_map(|(name, bytes)| {
            camunda_form::parse(bytes)
                .ok()
                .map(|d| (name.to_string(), d.id))
        })
        .collect()
}
