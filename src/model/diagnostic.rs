//! Problems found in a BPMN file, each with line:column and the element concerned.

use std::fmt;

use serde::Serialize;

use super::xml::{Element, LineIndex, XmlError};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The file cannot be deployed.
    Error,
    /// The file uses an element or attribute this engine does not run yet; it cannot
    /// be deployed, because running it without that element would be unfaithful.
    Unsupported,
    /// Deployable, but worth knowing.
    Warning,
}

/// One problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// 1-based line (0 when the problem concerns the whole file).
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The id of the element concerned, when there is one.
    pub element: Option<String>,
    /// The BPMN kind of that element (`userTask`, `sequenceFlow`...).
    pub kind: Option<String>,
    pub message: String,
}

impl Diagnostic {
    /// A problem at `(line, column)` concerning `owner` (named by its id and kind).
    pub(crate) fn about(
        severity: Severity,
        (line, column): (u32, u32),
        owner: &Element,
        message: String,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            line,
            column,
            element: owner.id().map(str::to_string),
            kind: Some(owner.name.to_string()),
            message,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Unsupported => "unsupported",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}: {label}: ", self.line, self.column)?;
        match (&self.kind, &self.element) {
            (Some(k), Some(e)) => write!(f, "{k} \"{e}\": ")?,
            (None, Some(e)) => write!(f, "\"{e}\": ")?,
            (Some(k), None) => write!(f, "<{k}>: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// Why a file was refused: every error and unsupported element, plus the warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    pub diagnostics: Vec<Diagnostic>,
}

impl ParseError {
    /// A file that is not readable XML (or not decodable), refused at the
    /// position where reading stopped.
    pub(crate) fn xml(e: XmlError, text: &str) -> ParseError {
        let (line, column) = LineIndex::new(text).position(text, e.offset);
        ParseError {
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                line,
                column,
                element: None,
                kind: None,
                message: e.message,
            }],
        }
    }

    /// The problems that block deployment.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity != Severity::Warning)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for d in &self.diagnostics {
            if !first {
                writeln!(f)?;
            }
            first = false;
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}
