//! A BPMN 2.0 workflow engine whose instances live in the database.
//!
//! The layers, each building only on the ones before it:
//! [`feel`] (the FEEL expression language, pure) → [`model`] (BPMN XML to
//! a validated graph) and [`dmn`] (decision tables; pure like the model) →
//! [`engine`] (pure execution semantics; [`budget`] lets the runtime stop its scripts without a clock) → [`store`] (SeaORM tables) → [`runtime`] (one command = one
//! transaction) → [`web`] and [`cli`].

pub mod bindings;
pub mod budget;
pub mod cli;
pub mod dmn;
pub mod el;
pub mod engine;
pub mod feel;
pub mod js;
pub mod model;
pub mod runtime;
pub mod store;
pub mod web;
