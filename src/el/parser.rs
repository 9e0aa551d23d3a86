//! The syntax tree and the parser: EL 2.2's grammar (JSR-245 section 1.19)
//! as JUEL parses it, with its precedence from loosest to tightest:
//! `?:`, `|| or`, `&& and`, `== != eq ne`, `< > <= >= lt gt le ge`,
//! `+ -`, `* / div % mod`, unary `- ! not empty`, then `.` `[]` and calls.
//!
//! A text is literal text with `${...}` or `#{...}` sections in it; one kind
//! of section per text, as in JUEL. Functions are resolved here, so an unknown
//! function is an error when the diagram is deployed, not when it runs.
//!
//! Nesting is bounded twice: the parser's recursion (brackets, unary
//! operators) by [`MAX_NESTING`], and the height of the tree (which left-
//! associative chains such as `a + b + c ...` also grow) by [`MAX_HEIGHT`],
//! so neither parsing, evaluating nor dropping a tree can exhaust the stack.

use super::ElError;
use super::lexer::{Tok, Token, scan};

/// The deepest the parser recurses: brackets, arguments, unary operators.
pub const MAX_NESTING: usize = 64;
/// The tallest syntax tree accepted.
pub const MAX_HEIGHT: u32 = 256;

/// A node and the byte range of its text.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unary {
    Neg,
    Not,
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
}

/// The functions Camunda maps: `now()`, `dateTime()` and Spin's `S()`/`JSON()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    Now,
    DateTime,
    Spin,
}

#[derive(Debug, Clone)]
pub(super) enum MethodName {
    /// `a.name(...)`
    Fixed(String),
    /// `a[expr](...)`: the name is computed.
    Computed(Box<Node>),
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(String),
    Ident(String),
    Dot {
        base: Box<Node>,
        name: String,
        name_at: usize,
    },
    Bracket {
        base: Box<Node>,
        index: Box<Node>,
    },
    Method {
        base: Box<Node>,
        name: MethodName,
        name_at: usize,
        args: Vec<Node>,
    },
    Function {
        func: Func,
        args: Vec<Node>,
    },
    Unary {
        op: Unary,
        operand: Box<Node>,
    },
    Binary {
        op: Binary,
        left: Box<Node>,
        right: Box<Node>,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Choice {
        cond: Box<Node>,
        yes: Box<Node>,
        no: Box<Node>,
    },
}

/// One piece of a composite text.
#[derive(Debug, Clone)]
pub(super) enum Part {
    Text(String),
    Eval(Node),
}

/// A whole expression text.
#[derive(Debug, Clone)]
pub(super) enum Tree {
    /// No `${`: the text itself.
    Text(String),
    /// Exactly one `${...}` and nothing around it: its value, typed.
    Eval(Node),
    /// Text and sections: a string.
    Composite(Vec<Part>),
}

/// Parses a whole expression text.
pub(super) fn parse(src: &str) -> Result<Tree, ElError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut escaped = false;
    let mut marker: Option<char> = None;
    let mut i = 0;
    while let Some(c) = src.get(i..).and_then(|s| s.chars().next()) {
        let opens = (c == '$' || c == '#') && src.as_bytes().get(i + 1) == Some(&b'{');
        match c {
            // JUEL's text scanner: a backslash escapes a following `${` or
            // `#{`; a run of backslashes before it loses one backslash;
            // anywhere else backslashes are kept.
            '\\' => {
                if escaped {
                    text.push('\\');
                } else {
                    escaped = true;
                }
                i += 1;
                continue;
            }
            _ if opens && escaped => {
                text.push(c);
                escaped = false;
                i += 1;
                continue;
            }
            _ if opens => {
                if let Some(first) = marker
                    && first != c
                {
                    return Err(ElError::at(
                        src,
                        i,
                        format!("cannot mix {first}{{...}} and {c}{{...}} in one expression"),
                    ));
                }
                marker = Some(c);
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                let tokens = scan(src, i + 2)?;
                let mut parser = Parser {
                    src,
                    tokens,
                    pos: 0,
                    nesting: 0,
                };
                let node = parser.expr()?;
                let closing = parser.peek().clone();
                if closing.tok != Tok::End {
                    return Err(parser.unexpected("an operator or '}'"));
                }
                parts.push(Part::Eval(node));
                i = closing.end;
                continue;
            }
            _ => {
                if escaped {
                    text.push('\\');
                    escaped = false;
                }
                text.push(c);
                i += c.len_utf8();
            }
        }
    }
    if escaped {
        text.push('\\');
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(match parts.len() {
        0 => Tree::Text(String::new()),
        1 => match parts.pop() {
            Some(Part::Eval(node)) => Tree::Eval(node),
            Some(Part::Text(text)) => Tree::Text(text),
            None => Tree::Text(String::new()),
        },
        _ => Tree::Composite(parts),
    })
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
}

fn node(
    kind: Kind,
    start: usize,
    end: usize,
    children: &[&Node],
    src: &str,
) -> Result<Node, ElError> {
    let height = 1 + children.iter().map(|c| c.height).max().unwrap_or(0);
    if height > MAX_HEIGHT {
        return Err(ElError::at(
            src,
            start,
            format!("the expression is nested too deeply (more than {MAX_HEIGHT} levels)"),
        ));
    }
    Ok(Node {
        kind,
        start,
        end,
        height,
    })
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `scan` always ends with End or Eof, and the parser never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        let i = (self.pos + ahead).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.tok, Tok::End | Tok::Eof) {
            self.pos += 1;
        }
        t
    }

    /// The end of the last token taken.
    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.tokens.get(p))
            .map_or(self.peek().start, |t| t.end)
    }

    fn unexpected(&self, expected: &str) -> ElError {
        let t = self.peek();
        ElError::at(
            self.src,
            t.start,
            format!(
                "syntax error: unexpected {}, expected {expected}",
                t.describe(self.src)
            ),
        )
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, ElError> {
        if self.peek().tok == tok {
            Ok(self.bump())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn enter(&mut self) -> Result<(), ElError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(ElError::at(
                self.src,
                self.peek().start,
                format!(
                    "the expression is nested too deeply (more than {MAX_NESTING} levels of brackets or operators)"
                ),
            ));
        }
        Ok(())
    }

    fn binary(&self, kind: Kind, left: &Node, right: &Node) -> Result<Node, ElError> {
        node(kind, left.start, right.end, &[left, right], self.src)
    }

    /// expr := or ('?' expr ':' expr)?
    fn expr(&mut self) -> Result<Node, ElError> {
        self.enter()?;
        let cond = self.or()?;
        let result = if self.peek().tok == Tok::Question {
            self.bump();
            let yes = self.expr()?;
            self.expect(Tok::Colon, "':'")?;
            let no = self.expr()?;
            let (start, end) = (cond.start, no.end);
            let n = node(Kind::Null, start, end, &[&cond, &yes, &no], self.src)?;
            Node {
                kind: Kind::Choice {
                    cond: Box::new(cond),
                    yes: Box::new(yes),
                    no: Box::new(no),
                },
                ..n
            }
        } else {
            cond
        };
        self.nesting -= 1;
        Ok(result)
    }

    fn or(&mut self) -> Result<Node, ElError> {
        let mut left = self.and()?;
        while self.peek().tok == Tok::Or {
            self.bump();
            let right = self.and()?;
            let n = self.binary(Kind::Null, &left, &right)?;
            left = Node {
                kind: Kind::Or(Box::new(left), Box::new(right)),
                ..n
            };
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, ElError> {
        let mut left = self.eq()?;
        while self.peek().tok == Tok::And {
            self.bump();
            let right = self.eq()?;
            let n = self.binary(Kind::Null, &left, &right)?;
            left = Node {
                kind: Kind::And(Box::new(left), Box::new(right)),
                ..n
            };
        }
        Ok(left)
    }

    fn binary_level(
        &mut self,
        ops: &[(Tok, Binary)],
        next: fn(&mut Self) -> Result<Node, ElError>,
    ) -> Result<Node, ElError> {
        let mut left = next(self)?;
        while let Some(&(_, op)) = ops.iter().find(|(t, _)| *t == self.peek().tok) {
            self.bump();
            let right = next(self)?;
            let n = self.binary(Kind::Null, &left, &right)?;
            left = Node {
                kind: Kind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                ..n
            };
        }
        Ok(left)
    }

    fn eq(&mut self) -> Result<Node, ElError> {
        self.binary_level(&[(Tok::Eq, Binary::Eq), (Tok::Ne, Binary::Ne)], Self::cmp)
    }

    fn cmp(&mut self) -> Result<Node, ElError> {
        self.binary_level(
            &[
                (Tok::Lt, Binary::Lt),
                (Tok::Gt, Binary::Gt),
                (Tok::Le, Binary::Le),
                (Tok::Ge, Binary::Ge),
            ],
            Self::add,
        )
    }

    fn add(&mut self) -> Result<Node, ElError> {
        self.binary_level(
            &[(Tok::Plus, Binary::Add), (Tok::Minus, Binary::Sub)],
            Self::mul,
        )
    }

    fn mul(&mut self) -> Result<Node, ElError> {
        self.binary_level(
            &[
                (Tok::Mul, Binary::Mul),
                (Tok::Div, Binary::Div),
                (Tok::Mod, Binary::Mod),
            ],
            Self::unary,
        )
    }

    fn unary(&mut self) -> Result<Node, ElError> {
        let op = match self.peek().tok {
            Tok::Not => Unary::Not,
            Tok::Minus => Unary::Neg,
            Tok::Empty => Unary::Empty,
            _ => return self.value(),
        };
        let start = self.bump().start;
        self.enter()?;
        let operand = self.unary()?;
        self.nesting -= 1;
        let n = node(Kind::Null, start, operand.end, &[&operand], self.src)?;
        Ok(Node {
            kind: Kind::Unary {
                op,
                operand: Box::new(operand),
            },
            ..n
        })
    }

    /// value := (nonliteral | literal) ('.' IDENTIFIER args? | '[' expr ']' args?)*
    fn value(&mut self) -> Result<Node, ElError> {
        let mut v = self.primary()?;
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    let t = self.peek().clone();
                    let Tok::Ident(name) = t.tok else {
                        return Err(self.unexpected("a property or method name"));
                    };
                    self.bump();
                    if self.peek().tok == Tok::LParen {
                        let args = self.args()?;
                        let end = self.last_end();
                        let mut children: Vec<&Node> = args.iter().collect();
                        children.push(&v);
                        let n = node(Kind::Null, v.start, end, &children, self.src)?;
                        v = Node {
                            kind: Kind::Method {
                                base: Box::new(v),
                                name: MethodName::Fixed(name),
                                name_at: t.start,
                                args,
                            },
                            ..n
                        };
                    } else {
                        let n = node(Kind::Null, v.start, t.end, &[&v], self.src)?;
                        v = Node {
                            kind: Kind::Dot {
                                base: Box::new(v),
                                name,
                                name_at: t.start,
                            },
                            ..n
                        };
                    }
                }
                Tok::LBrack => {
                    self.bump();
                    let index = self.expr()?;
                    self.expect(Tok::RBrack, "']'")?;
                    if self.peek().tok == Tok::LParen {
                        let args = self.args()?;
                        let end = self.last_end();
                        let mut children: Vec<&Node> = args.iter().collect();
                        children.push(&v);
                        children.push(&index);
                        let n = node(Kind::Null, v.start, end, &children, self.src)?;
                        v = Node {
                            kind: Kind::Method {
                                base: Box::new(v),
                                name_at: index.start,
                                name: MethodName::Computed(Box::new(index)),
                                args,
                            },
                            ..n
                        };
                    } else {
                        let end = self.last_end();
                        let n = node(Kind::Null, v.start, end, &[&v, &index], self.src)?;
                        v = Node {
                            kind: Kind::Bracket {
                                base: Box::new(v),
                                index: Box::new(index),
                            },
                            ..n
                        };
                    }
                }
                _ => return Ok(v),
            }
        }
    }

    fn args(&mut self) -> Result<Vec<Node>, ElError> {
        self.expect(Tok::LParen, "'('")?;
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            args.push(self.expr()?);
            while self.peek().tok == Tok::Comma {
                self.bump();
                args.push(self.expr()?);
            }
        }
        self.expect(Tok::RParen, "',' or ')'")?;
        Ok(args)
    }

    fn primary(&mut self) -> Result<Node, ElError> {
        let t = self.peek().clone();
        let leaf = |kind| node(kind, t.start, t.end, &[], self.src);
        let n = match t.tok {
            Tok::Null => leaf(Kind::Null)?,
            Tok::True => leaf(Kind::Bool(true))?,
            Tok::False => leaf(Kind::Bool(false))?,
            Tok::Long(n) => leaf(Kind::Long(n))?,
            Tok::Double(d) => leaf(Kind::Double(d))?,
            Tok::Str(ref s) => leaf(Kind::Str(s.clone()))?,
            Tok::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                // Keep the brackets in the node's text so messages quote
                // what was written.
                return Ok(Node {
                    start: t.start,
                    end: self.last_end(),
                    ..inner
                });
            }
            Tok::Ident(ref name) => {
                let mut name = name.clone();
                self.bump();
                // ns:f(...) is a function with a prefix; `a ? b : c` stays a choice.
                if self.peek().tok == Tok::Colon
                    && matches!(self.peek_at(1), Tok::Ident(_))
                    && *self.peek_at(2) == Tok::LParen
                {
                    self.bump();
                    if let Tok::Ident(local) = self.bump().tok {
                        name = format!("{name}:{local}");
                    }
                }
                if self.peek().tok == Tok::LParen {
                    return self.function(name, t.start);
                }
                return node(Kind::Ident(name), t.start, t.end, &[], self.src);
            }
            Tok::Instanceof => {
                return Err(ElError::at(
                    self.src,
                    t.start,
                    "'instanceof' is a reserved word and cannot be used",
                ));
            }
            _ => return Err(self.unexpected("an operand")),
        };
        self.bump();
        Ok(n)
    }

    fn function(&mut self, name: String, start: usize) -> Result<Node, ElError> {
        let (func, arity) = match name.as_str() {
            "now" => (Func::Now, 0),
            "dateTime" => (Func::DateTime, 0),
            "S" | "JSON" => (Func::Spin, 1),
            "XML" => {
                return Err(ElError::at(
                    self.src,
                    start,
                    "XML() is not supported: Spin is available for JSON only (S() or JSON())",
                ));
            }
            _ => {
                return Err(ElError::at(
                    self.src,
                    start,
                    format!("Could not resolve function '{name}'"),
                ));
            }
        };
        let args = self.args()?;
        if args.len() != arity {
            return Err(ElError::at(
                self.src,
                start,
                format!(
                    "Parameters for function '{name}' do not match: it takes {arity}, not {}",
                    args.len()
                ),
            ));
        }
        let end = self.last_end();
        let children: Vec<&Node> = args.iter().collect();
        let n = node(Kind::Null, start, end, &children, self.src)?;
        Ok(Node {
            kind: Kind::Function { func, args },
            ..n
        })
    }
}

impl Node {
    /// Calls `f(name, method, at)` on every call `name.method(...)` whose
    /// base is a plain name (not `execution` or `task`).
    pub fn visit_name_calls<'a>(&'a self, f: &mut impl FnMut(&'a str, &'a str, usize)) {
        if let Kind::Method {
            base,
            name: MethodName::Fixed(method),
            ..
        } = &self.kind
            && let Kind::Ident(name) = &base.kind
        {
            f(name, method, self.start);
        }
        match &self.kind {
            Kind::Ident(_)
            | Kind::Null
            | Kind::Bool(_)
            | Kind::Long(_)
            | Kind::Double(_)
            | Kind::Str(_) => {}
            Kind::Dot { base, .. } => base.visit_name_calls(f),
            Kind::Bracket { base, index } => {
                base.visit_name_calls(f);
                index.visit_name_calls(f);
            }
            Kind::Method {
                base, name, args, ..
            } => {
                base.visit_name_calls(f);
                if let MethodName::Computed(n) = name {
                    n.visit_name_calls(f);
                }
                args.iter().for_each(|a| a.visit_name_calls(f));
            }
            Kind::Function { args, .. } => args.iter().for_each(|a| a.visit_name_calls(f)),
            Kind::Unary { operand, .. } => operand.visit_name_calls(f),
            Kind::Binary { left, right, .. } | Kind::And(left, right) | Kind::Or(left, right) => {
                left.visit_name_calls(f);
                right.visit_name_calls(f);
            }
            Kind::Choice { cond, yes, no } => {
                cond.visit_name_calls(f);
                yes.visit_name_calls(f);
                no.visit_name_calls(f);
            }
        }
    }

    /// Calls `f` on every identifier this tree reads (not on property names).
    pub fn visit_identifiers<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match &self.kind {
            Kind::Ident(name) => f(name),
            Kind::Null | Kind::Bool(_) | Kind::Long(_) | Kind::Double(_) | Kind::Str(_) => {}
            Kind::Dot { base, .. } => base.visit_identifiers(f),
            Kind::Bracket { base, index } => {
                base.visit_identifiers(f);
                index.visit_identifiers(f);
            }
            Kind::Method {
                base, name, args, ..
            } => {
                base.visit_identifiers(f);
                if let MethodName::Computed(n) = name {
                    n.visit_identifiers(f);
                }
                args.iter().for_each(|a| a.visit_identifiers(f));
            }
            Kind::Function { args, .. } => args.iter().for_each(|a| a.visit_identifiers(f)),
            Kind::Unary { operand, .. } => operand.visit_identifiers(f),
            Kind::Binary { left, right, .. } | Kind::And(left, right) | Kind::Or(left, right) => {
                left.visit_identifiers(f);
                right.visit_identifiers(f);
            }
            Kind::Choice { cond, yes, no } => {
                cond.visit_identifiers(f);
                yes.visit_identifiers(f);
                no.visit_identifiers(f);
            }
        }
    }
}
