//! Delivering messages and signals: from outside (the API), and thrown by
//! throw events inside the engine (run as `throw` jobs).
//!
//! A message goes by name, narrowed by business key and by correlation keys
//! (instance variables that must have given values). Exactly one waiting
//! subscription must match, unless the sender asks for all; when none waits,
//! a process with a message start event of that name is started. A signal
//! reaches every subscription to it and starts every process with a signal
//! start event of that name.
//!
//! Each delivery is one command on the receiving instance, in its own
//! transaction: a signal whose broadcast is interrupted (the process dies)
//! has reached some receivers and not others. Thrown ones are jobs, so the
//! broadcast is run again after the lease expires — a receiver may then get
//! it twice.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::command::{Access, Locked, Target};
use super::policy::{Action, Decision, Principal};
use super::{Outcome, Runtime, RuntimeError, require};
use crate::engine::Command;
use crate::model::NodeKind;
use crate::store::entity::message_subscription;

/// Who sends a message or signal.
#[derive(Clone, Copy)]
pub(crate) enum Sender<'a> {
    /// A throw event inside the engine.
    Engine,
    Principal(&'a Principal),
}

impl Sender<'_> {
    fn user(&self) -> Option<&str> {
        match self {
            Sender::Engine => None,
            Sender::Principal(p) => Some(p.name.as_str()),
        }
    }

    /// How a delivery to an instance is authorized: a principal's message
    /// reaches only instances the policy lets them correlate to (checked
    /// again under the instance's lock); a signal reaches every instance of
    /// whoever may broadcast.
    fn access(&self, signal: bool) -> Access<'_> {
        match self {
            Sender::Engine => Access::Engine,
            Sender::Principal(p) if signal => Access::Role(p),
            Sender::Principal(p) => Access::Instance(p, Action::CorrelateMessage),
        }
    }
}

/// Where a message went.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub instance_id: Uuid,
    pub element_id: String,
    /// The definition version whose start event started the instance; `None`
    /// when the instance already waited for it.
    #[serde(skip)]
    pub started: Option<i64>,
    /// The instance's variables and whether it ended, right after.
    #[serde(skip)]
    pub variables: Map<String, Value>,
    #[serde(skip)]
    pub ended: bool,
}

impl Delivery {
    fn new(instance_id: Uuid, element_id: String, started: Option<i64>, o: &Outcome) -> Delivery {
        Delivery {
            instance_id,
            element_id,
            started,
            variables: o.state.root_variables(),
            ended: matches!(o.status(), "completed" | "terminated"),
        }
    }
}

/// The most subscriptions one message can reach at once.
pub const MAX_DELIVERIES: u64 = 1000;

/// Which waiting instances a message is for: all that match every given part.
#[derive(Debug, Clone, Copy, Default)]
pub struct Correlation<'a> {
    /// The instance's business key.
    pub business_key: Option<&'a str>,
    /// Instance variables that must have these values (as text).
    pub variables: &'a [(String, String)],
    /// The value of the subscription's correlation key (Camunda 8's
    /// `zeebe:subscription correlationKey`, evaluated when it opened).
    pub key: Option<&'a str>,
}

impl Runtime {
    /// Delivers a message or signal to one waiting subscription: one command
    /// on its instance.
    pub(crate) async fn deliver(
        &self,
        sub: &message_subscription::Model,
        variables: &Map<String, Value>,
        from: Sender<'_>,
    ) -> Result<super::Outcome, RuntimeError> {
        let key = sub.element_key as u64;
        self.command(
            Target::Instance(sub.instance_id),
            from.access(sub.kind == "signal"),
            None,
            |_: &Locked<'_>| {
                Ok(Command::CorrelateMessage {
                    key,
                    variables: variables.clone(),
                })
            },
        )
        .await
    }

    /// Delivers a message. Nothing waiting is not found; several waiting is a
    /// conflict unless `all` is set.
    pub(crate) async fn deliver_message(
        &self,
        who: &Principal,
        name: &str,
        to: Correlation<'_>,
        variables: Map<String, Value>,
        all: bool,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        let business_key = to.business_key;
        let found = self
            .store()
            .matching_subscriptions(name, business_key, to.variables, to.key, MAX_DELIVERIES)
            .await?;
        // What the sender may not reach is, for them, not waiting at all.
        let mut subs = Vec::with_capacity(found.len());
        for s in found {
            if self
                .decide_instance(who, Action::CorrelateMessage, s.instance_id)
                .await?
                == Decision::Allowed
            {
                subs.push(s);
            }
        }
        let from = Sender::Principal(who);
        if subs.is_empty() {
            let started = self
                .start_by_event(false, name, &variables, business_key, from)
                .await?;
            if started.is_empty() {
                return Err(RuntimeError::NotFound(format!(
                    "a subscription to message \"{name}\" or a process with that message start event"
                )));
            }
            return Ok(started);
        }
        if subs.len() > 1 && !all {
            return Err(RuntimeError::Conflict(format!(
                "{} instances wait for message \"{name}\"; narrow it down with a business key or correlation keys, or send \"all\": true",
                subs.len()
            )));
        }
        let mut out = Vec::new();
        for s in subs {
            match self.deliver(&s, &variables, from).await {
                Ok(o) => out.push(Delivery::new(s.instance_id, s.element_id, None, &o)),
                // Someone else delivered to it meanwhile; with several, go on.
                Err(RuntimeError::Conflict(m)) if all => {
                    tracing::debug!(reason = %m, "subscription gone")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Sends a signal: every catcher waiting for it receives it, and every
    /// process with a signal start event of that name starts.
    pub(crate) async fn broadcast_signal(
        &self,
        name: &str,
        variables: Map<String, Value>,
        from: Sender<'_>,
    ) -> Result<Broadcast, RuntimeError> {
        if let Sender::Principal(who) = from {
            require(who, Action::BroadcastSignal)?;
        }
        let subs = self
            .store()
            .signal_subscriptions(name, MAX_DELIVERIES)
            .await?;
        let mut delivered = Vec::new();
        let mut outcomes = Vec::new();
        for s in subs {
            match self.deliver(&s, &variables, from).await {
                Ok(o) => {
                    delivered.push(Delivery::new(s.instance_id, s.element_id, None, &o));
                    outcomes.push(o);
                }
                // It stopped waiting meanwhile (or the instance ended).
                Err(RuntimeError::Conflict(m) | RuntimeError::NotFound(m)) => {
                    tracing::debug!(reason = %m, "signal subscription gone")
                }
                Err(e) => return Err(e),
            }
        }
        let started = self
            .start_by_event(true, name, &variables, None, from)
            .await?;
        Ok(Broadcast {
            delivered,
            started,
            outcomes,
        })
    }

    /// Starts every process (latest version of each key) with a message or
    /// signal start event of this name.
    async fn start_by_event(
        &self,
        signal: bool,
        name: &str,
        variables: &Map<String, Value>,
        business_key: Option<&str>,
        from: Sender<'_>,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for def in self.store().definitions().await? {
            // Newest version first within each key.
            // A suspended latest version starts nothing (an older one neither).
            if !seen.insert(def.key.clone()) || def.suspended {
                continue;
            }
            let deployed = self.deployed(def.id).await?;
            let start = deployed.process().nodes.iter().find(|n| {
                n.scope.is_none()
                    && matches!(&n.kind, NodeKind::StartEvent(s)
                        if (if signal { &s.signal } else { &s.message }).as_deref() == Some(name))
            });
            if let Some(start) = start {
                if let Sender::Principal(who) = from {
                    require(who, Action::StartInstance)?;
                }
                let o = self
                    .start_at(
                        def.id,
                        &start.id,
                        variables.clone(),
                        business_key,
                        from.user(),
                    )
                    .await?;
                out.push(Delivery::new(
                    o.instance_id,
                    start.id.clone(),
                    Some(def.id),
                    &o,
                ));
            }
        }
        Ok(out)
    }

    /// Evaluates the conditional start events of the newest version of every
    /// process (or only of the process `key`) with `variables`, and starts an
    /// instance at each one whose condition holds, with those variables — as
    /// Camunda 7's condition evaluation (`POST /condition`) does. A condition
    /// that names a variable not given does not hold (as in Camunda); one
    /// that cannot be evaluated otherwise refuses the whole request, before
    /// anything starts. No conditional start event at all is not found.
    pub(crate) async fn start_by_conditions(
        &self,
        who: &Principal,
        variables: Map<String, Value>,
        business_key: Option<&str>,
        key: Option<&str>,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        require(who, Action::StartInstance)?;
        let mut candidates = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for def in self.store().definitions().await? {
            // Newest version first within each key.
            if !seen.insert(def.key.clone()) || key.is_some_and(|k| k != def.key) || def.suspended {
                continue;
            }
            let deployed = self.deployed(def.id).await?;
            for n in deployed
                .process()
                .nodes
                .iter()
                .filter(|n| n.scope.is_none())
            {
                if let NodeKind::StartEvent(s) = &n.kind
                    && let Some(condition) = &s.condition
                {
                    candidates.push((def.id, def.key.clone(), n.id.clone(), condition.clone()));
                }
            }
        }
        if candidates.is_empty() {
            return Err(RuntimeError::NotFound(match key {
                Some(k) => format!("a conditional start event in process \"{k}\""),
                None => "a process with a conditional start event".to_string(),
            }));
        }
        let (given, now) = (variables.clone(), self.clock().now());
        let checked = self
            .budgeted(move || {
                candidates
                    .into_iter()
                    .map(|(id, key, element, condition)| {
                        let mut b = crate::bindings::PlainBindings {
                            variables: given.clone(),
                            now: Some(now),
                        };
                        let holds = match condition.eval_bool(&mut b) {
                            Ok(holds) => Ok(holds),
                            Err(e) if e.0.contains("Cannot resolve identifier") => Ok(false),
                            Err(e) => Err(format!(
                                "the condition of start event \"{element}\" of process \"{key}\": {e}"
                            )),
                        };
                        holds.map(|h| (id, element, h))
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .await?
            .map_err(RuntimeError::Rejected)?;
        let mut out = Vec::new();
        for (id, element, holds) in checked {
            if !holds {
                continue;
            }
            let o = self
                .start_at(
                    id,
                    &element,
                    variables.clone(),
                    business_key,
                    Some(&who.name),
                )
                .await?;
            out.push(Delivery::new(o.instance_id, element, Some(id), &o));
        }
        Ok(out)
    }

    /// Delivers what a throw event sent (the work of its `throw` job), and
    /// returns what each delivery did.
    pub(crate) async fn deliver_thrown(
        &self,
        from: Uuid,
        payload: &Value,
    ) -> Result<Vec<super::Outcome>, RuntimeError> {
        let name = payload["name"].as_str().unwrap_or_default();
        let variables = payload["variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if payload["kind"] == "signal" {
            let b = self
                .broadcast_signal(name, variables, Sender::Engine)
                .await?;
            tracing::debug!(
                signal = name,
                delivered = b.delivered.len(),
                started = b.started.len(),
                "signal thrown"
            );
            return Ok(b.outcomes);
        }
        let business_key = self
            .store()
            .instance(from)
            .await?
            .and_then(|i| i.business_key);
        let subs = self
            .store()
            .matching_subscriptions(name, business_key.as_deref(), &[], None, 1)
            .await?;
        match subs.first() {
            Some(s) => return Ok(vec![self.deliver(s, &variables, Sender::Engine).await?]),
            None => {
                let started = self
                    .start_by_event(
                        false,
                        name,
                        &variables,
                        business_key.as_deref(),
                        Sender::Engine,
                    )
                    .await?;
                if started.is_empty() {
                    tracing::info!(message = name, from = %from, "a thrown message found no receiver");
                }
            }
        }
        Ok(Vec::new())
    }
}

/// Where a signal went.
#[derive(Debug, Clone, Serialize)]
pub struct Broadcast {
    /// The catch events that received it.
    pub delivered: Vec<Delivery>,
    /// The instances its signal start events started.
    pub started: Vec<Delivery>,
    /// What each delivery did, in the order of `delivered`.
    #[serde(skip)]
    pub outcomes: Vec<super::Outcome>,
}
