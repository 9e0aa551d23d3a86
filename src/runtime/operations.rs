//! Operating running processes, for admins: suspending and resuming an
//! instance or a whole process version, modifying an instance (cancelling
//! and starting elements), and migrating instances to another version of
//! their process — one at a time or as a batch, with a dry run that says
//! what would happen to each.
//!
//! Each change to an instance is a command of the pure engine, written in one
//! transaction per instance under the usual version check, and recorded in
//! its history with who did it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::command::{Access, Prepared};
use super::deployments::Deployments;
use super::instances::Instances;
use super::policy::{Action, Principal};
use super::{
    Deployed, InstanceState, MAX_ATTEMPTS, Outcome, Runtime, RuntimeError, backoff, require,
};
use crate::engine::{self, Command, Instruction, MigrationPlan};
use crate::store::Store;

/// An instance modification: instructions applied in order, after the
/// variables are set on the instance.
#[derive(Debug, Clone, Default)]
pub struct Modification {
    pub instructions: Vec<Instruction>,
    pub variables: Map<String, Value>,
    pub reason: Option<String>,
}

/// A migration of instances from one version of a process to another.
#[derive(Debug, Clone, Default)]
pub struct Migration {
    pub from_version: i32,
    pub to_version: i32,
    /// Old element id -> new element id; elements not named keep their id.
    pub mapping: BTreeMap<String, String>,
    /// Only these instances (all running instances of `from_version` when `None`).
    pub instances: Option<Vec<Uuid>>,
    /// Only say what would happen.
    pub dry_run: bool,
}

/// What happened (or, in a dry run, would happen) to one instance.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationResult {
    pub instance_id: Uuid,
    /// `migrated`, `ready` (a dry run found nothing in the way) or `refused`.
    pub outcome: String,
    /// Why it cannot move.
    pub problems: Vec<String>,
    /// The elements active in it (before the move).
    pub active: Vec<String>,
}

/// The answer to a batch migration.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationReport {
    pub key: String,
    pub from_version: i32,
    pub to_version: i32,
    pub dry_run: bool,
    /// What is wrong with the mapping itself (then nothing moves).
    pub problems: Vec<String>,
    pub instances: Vec<MigrationResult>,
}

impl MigrationReport {
    /// How many instances moved (or would move).
    pub fn moved(&self) -> usize {
        self.instances
            .iter()
            .filter(|r| r.outcome != "refused")
            .count()
    }
}

/// The answer to suspending or resuming a process version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSuspension {
    pub key: String,
    pub version: i32,
    pub suspended: bool,
    /// The instances suspended or resumed with it.
    pub instances: Vec<Uuid>,
}

impl Instances<'_> {
    /// Suspends an instance: its tasks, messages, triggers and jobs wait.
    pub async fn suspend(
        &self,
        who: &Principal,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<Outcome, RuntimeError> {
        self.run(
            who,
            id,
            Action::SuspendInstance,
            Command::Suspend { reason },
        )
        .await
    }

    /// Resumes a suspended instance (a timer due meanwhile fires now).
    pub async fn resume(
        &self,
        who: &Principal,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<Outcome, RuntimeError> {
        self.run(who, id, Action::SuspendInstance, Command::Resume { reason })
            .await
    }

    /// Cancels and starts elements of a running instance, in one command.
    pub async fn modify(
        &self,
        who: &Principal,
        id: Uuid,
        m: Modification,
    ) -> Result<Outcome, RuntimeError> {
        let command = Command::Modify {
            instructions: m.instructions,
            variables: m.variables,
            reason: m.reason.filter(|r| !r.trim().is_empty()),
        };
        self.run(who, id, Action::ModifyInstance, command).await
    }

    /// Moves one instance to another version of its process (or, in a dry
    /// run, says whether it would move).
    pub async fn migrate(
        &self,
        who: &Principal,
        id: Uuid,
        to_version: i32,
        mapping: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<MigrationResult, RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let from = self.rt.deployed(row.definition_id).await?;
        let to = self
            .rt
            .deployments()
            .get(who, &row.definition_key, Some(to_version))
            .await?;
        self.rt
            .migrate_one(who, id, &from, &to, mapping, dry_run)
            .await
    }
}

impl Deployments<'_> {
    /// Suspends (or resumes) a version of a process: no instance starts from
    /// it meanwhile and its timer start events wait; with `instances`, its
    /// running instances are suspended (or resumed) too, each in its own
    /// transaction.
    pub async fn suspend_version(
        &self,
        who: &Principal,
        key: &str,
        version: i32,
        suspended: bool,
        instances: bool,
    ) -> Result<VersionSuspension, RuntimeError> {
        require(who, Action::OperateDefinition)?;
        let deployed = self.get(who, key, Some(version)).await?;
        let store = self.rt.store();
        let txn = store.begin_write().await?;
        Store::set_definition_suspended(&txn, deployed.definition.id, suspended).await?;
        Store::commit(txn).await?;
        let mut changed = Vec::new();
        if instances {
            for id in store.active_instances_of(deployed.definition.id).await? {
                let rt = self.rt.instances();
                let done = if suspended {
                    rt.suspend(who, id, Some(format!("version {version} suspended")))
                        .await
                } else {
                    rt.resume(who, id, Some(format!("version {version} resumed")))
                        .await
                };
                match done {
                    Ok(_) => changed.push(id),
                    // Suspended (or resumed) already, or ended meanwhile.
                    Err(RuntimeError::Rejected(_) | RuntimeError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(VersionSuspension {
            key: key.to_string(),
            version,
            suspended,
            instances: changed,
        })
    }

    /// The running instances of a version of a process, oldest first: what a
    /// batch migration can pick from.
    pub async fn running_instances(
        &self,
        who: &Principal,
        key: &str,
        version: i32,
    ) -> Result<Vec<Uuid>, RuntimeError> {
        require(who, Action::OperateDefinition)?;
        let deployed = self.get(who, key, Some(version)).await?;
        Ok(self
            .rt
            .store()
            .active_instances_of(deployed.definition.id)
            .await?)
    }

    /// Migrates running instances of one version of a process to another:
    /// the plan is checked first (nothing moves when the mapping is wrong),
    /// then each instance moves in its own transaction, or is refused with
    /// its problems.
    pub async fn migrate(
        &self,
        who: &Principal,
        key: &str,
        m: &Migration,
    ) -> Result<MigrationReport, RuntimeError> {
        require(who, Action::OperateDefinition)?;
        if m.from_version == m.to_version {
            return Err(RuntimeError::Rejected(format!(
                "to_version: the instances run version {} already",
                m.to_version
            )));
        }
        let from = self.get(who, key, Some(m.from_version)).await?;
        let to = self.get(who, key, Some(m.to_version)).await?;
        let plan = MigrationPlan {
            from: from.process(),
            to: to.process(),
            from_version: m.from_version,
            to_version: m.to_version,
            mapping: &m.mapping,
        };
        let mut report = MigrationReport {
            key: key.to_string(),
            from_version: m.from_version,
            to_version: m.to_version,
            dry_run: m.dry_run,
            problems: plan.problems(),
            instances: Vec::new(),
        };
        if !report.problems.is_empty() {
            return Ok(report);
        }
        let ids = match &m.instances {
            Some(ids) => ids.clone(),
            None => {
                self.rt
                    .store()
                    .active_instances_of(from.definition.id)
                    .await?
            }
        };
        for id in ids {
            let result = match self
                .rt
                .migrate_one(who, id, &from, &to, &m.mapping, m.dry_run)
                .await
            {
                Ok(r) => r,
                Err(RuntimeError::NotFound(what)) => refused(id, vec![format!("{what} not found")]),
                Err(e) => return Err(e),
            };
            report.instances.push(result);
        }
        Ok(report)
    }
}

fn refused(id: Uuid, problems: Vec<String>) -> MigrationResult {
    MigrationResult {
        instance_id: id,
        outcome: "refused".into(),
        problems,
        active: Vec::new(),
    }
}

impl Runtime {
    /// Moves one instance from `from` to `to` in one transaction (retrying
    /// lost races), or answers why it cannot.
    pub(crate) async fn migrate_one(
        &self,
        who: &Principal,
        id: Uuid,
        from: &Arc<Deployed>,
        to: &Arc<Deployed>,
        mapping: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<MigrationResult, RuntimeError> {
        let access = Access::Instance(who, Action::MigrateInstance);
        for attempt in 0..MAX_ATTEMPTS {
            let row = self
                .store()
                .instance(id)
                .await?
                .ok_or_else(|| RuntimeError::NotFound(format!("instance {id}")))?;
            self.authorize(&row, access).await?;
            let state: InstanceState = serde_json::from_str(&row.state)
                .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
            let mut active: Vec<String> =
                state.elements.values().map(|e| e.element.clone()).collect();
            active.dedup();
            if row.definition_id != from.definition.id {
                let mut r = refused(
                    id,
                    vec![format!(
                        "the instance runs another version of \"{}\" than {}",
                        row.definition_key, from.definition.version
                    )],
                );
                r.active = active;
                return Ok(r);
            }
            let plan = MigrationPlan {
                from: from.process(),
                to: to.process(),
                from_version: from.definition.version,
                to_version: to.definition.version,
                mapping,
            };
            let ctx = super::command::context(to, id, row.business_key.as_deref(), access.user());
            let transition = match engine::migrate_in(&plan, &ctx, &state, self.clock.now()) {
                Ok(t) => t,
                Err(problems) => {
                    let mut r = refused(id, problems);
                    r.active = active;
                    return Ok(r);
                }
            };
            let outcome = if dry_run { "ready" } else { "migrated" };
            let result = MigrationResult {
                instance_id: id,
                outcome: outcome.into(),
                problems: Vec::new(),
                active,
            };
            if dry_run {
                return Ok(result);
            }
            self.within_limit(&transition)?;
            let prepared = Prepared { row, transition };
            let txn = self.store().begin_command().await?;
            let written = async {
                self.write_prepared(&txn, &prepared, access, None).await?;
                let w = crate::store::Writes::new(&txn);
                Store::set_instance_definition(&w, id, to.definition.id)?;
                w.flush().await?;
                self.commit(txn, id, &prepared.transition).await
            };
            if let Err(e) = written.await {
                self.lost_race(e, id, None).await?;
                backoff(attempt).await;
                continue;
            }
            tracing::info!(
                instance.id = %id,
                from = from.definition.version,
                to = to.definition.version,
                "instance migrated"
            );
            return Ok(result);
        }
        Err(RuntimeError::Busy)
    }
}
