//! The BPMN model: XML in, a typed and validated executable graph out.
//!
//! Pure code (no IO, no clock): [`parse`] reads a file's bytes, collects every
//! problem with its line:column and element id, and either refuses the file or
//! returns [`Definitions`] whose processes the engine can run. Expressions and
//! scripts are compiled here, once per deployment. [`svg`] draws a file's
//! diagram, also of files the engine refuses (read with [`parse_for_drawing`]).

mod camunda;
pub mod camunda_form;
pub mod definitions;
pub mod diagnostic;
pub mod diagram;
pub mod expr;
pub mod form;
pub mod loops;
mod parse;
pub mod svg;
pub mod time;
pub mod xml;
mod zeebe;

pub use definitions::*;
pub use diagnostic::{Diagnostic, ParseError, Severity};
pub use parse::{Options, parse, parse_for_drawing, parse_with};
