//! The FEEL parser: recursive descent with bounded nesting.

use super::builtins::Builtin;
use super::lexer::{Tok, lex, tok_text};
use super::{Domain, FeelError, INPUT, Kind, MAX_DEPTH, Node, Op, Test, V};

pub(super) struct Parser<'t> {
    text: &'t str,
    toks: Vec<(Tok, usize)>,
    pub(super) pos: usize,
    pub(super) depth: usize,
    /// While reading a range's upper end, `[` closes the range (`]1..10[`).
    no_filter: bool,
}

type PResult<T> = Result<T, FeelError>;

impl<'t> Parser<'t> {
    pub(super) fn new(text: &'t str) -> PResult<Parser<'t>> {
        Ok(Parser {
            text,
            toks: lex(text)?,
            pos: 0,
            depth: 0,
            no_filter: false,
        })
    }

    pub(super) fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    pub(super) fn peek_at(&self, n: usize) -> &Tok {
        self.toks
            .get(self.pos + n)
            .or(self.toks.last())
            .map(|(t, _)| t)
            .unwrap_or(&Tok::Eof)
    }

    pub(super) fn peek_name(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == name)
    }

    fn offset(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map(|(_, o)| *o)
            .unwrap_or(0)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(super) fn error_here(&self, message: impl Into<String>) -> FeelError {
        FeelError::parse_error(self.text, self.offset(), message)
    }

    fn unexpected(&self, wanted: &str) -> FeelError {
        let found = match self.peek() {
            Tok::Eof => "the end of the text".to_string(),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Str(s) => format!("the string \"{s}\""),
            Tok::Int(n) => format!("the number {n}"),
            Tok::Num(n) => format!("the number {n}"),
            other => format!("`{}`", tok_text(other)),
        };
        self.error_here(format!("expected {wanted}, found {found}"))
    }

    pub(super) fn expect(&mut self, tok: &Tok) -> PResult<()> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{}`", tok_text(tok))))
        }
    }

    fn expect_name(&mut self, name: &str) -> PResult<()> {
        if self.peek_name(name) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{name}`")))
        }
    }

    pub(super) fn expect_eof(&self) -> PResult<()> {
        if self.peek() == &Tok::Eof {
            Ok(())
        } else {
            Err(self.unexpected("an operator or the end of the text"))
        }
    }

    fn node(&self, kind: Kind) -> PResult<Node> {
        let (mut depth, mut size) = (0, 1usize);
        let probe = Node {
            kind,
            depth: 0,
            size: 0,
        };
        probe.children(&mut |c| {
            depth = depth.max(c.depth);
            size = size.saturating_add(c.size);
        });
        let depth = depth + 1;
        if depth > MAX_DEPTH {
            return Err(self.error_here(format!(
                "the expression is nested more than {MAX_DEPTH} deep"
            )));
        }
        Ok(Node {
            kind: probe.kind,
            depth,
            size,
        })
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!(
                "the expression is nested more than {MAX_DEPTH} deep"
            )));
        }
        Ok(())
    }

    /// expression := if | disjunction
    pub(super) fn expr(&mut self) -> PResult<Node> {
        self.enter()?;
        let result = self.expr_inner();
        self.depth -= 1;
        result
    }

    fn expr_inner(&mut self) -> PResult<Node> {
        if self.peek_name("if") {
            self.bump();
            let c = self.expr()?;
            self.expect_name("then")?;
            let a = self.expr()?;
            self.expect_name("else")?;
            let b = self.expr()?;
            return self.node(Kind::If(Box::new(c), Box::new(a), Box::new(b)));
        }
        for (kw, ends) in [
            ("for", "return"),
            ("some", "satisfies"),
            ("every", "satisfies"),
        ] {
            if self.peek_name(kw) && matches!(self.peek_at(1), Tok::Name(_)) {
                self.bump();
                let domains = self.iteration_contexts()?;
                self.expect_name(ends)?;
                let body = Box::new(self.expr()?);
                let kind = match kw {
                    "for" => Kind::For(domains, body),
                    every => Kind::Quantified {
                        every: every == "every",
                        domains,
                        body,
                    },
                };
                return self.node(kind);
            }
        }
        if self.peek_name("function") && self.peek_at(1) == &Tok::LParen {
            return Err(self.error_here("`function` definitions are not supported"));
        }
        let mut lhs = self.conjunction()?;
        while self.peek_name("or") {
            self.bump();
            let rhs = self.conjunction()?;
            lhs = self.node(Kind::Or(Box::new(lhs), Box::new(rhs)))?;
        }
        Ok(lhs)
    }

    fn conjunction(&mut self) -> PResult<Node> {
        let mut lhs = self.comparison()?;
        while self.peek_name("and") {
            self.bump();
            let rhs = self.comparison()?;
            lhs = self.node(Kind::And(Box::new(lhs), Box::new(rhs)))?;
        }
        Ok(lhs)
    }

    fn comparison(&mut self) -> PResult<Node> {
        let mut lhs = self.additive()?;
        let mut compared = false;
        loop {
            let op = match self.peek() {
                Tok::Eq => Op::Eq,
                Tok::Ne => Op::Ne,
                Tok::Lt => Op::Lt,
                Tok::Le => Op::Le,
                Tok::Gt => Op::Gt,
                Tok::Ge => Op::Ge,
                Tok::Name(n) if n == "between" => {
                    self.bump();
                    let lo = self.additive()?;
                    self.expect_name("and")?;
                    let hi = self.additive()?;
                    lhs = self.node(Kind::Between(Box::new(lhs), Box::new(lo), Box::new(hi)))?;
                    continue;
                }
                Tok::Name(n) if n == "in" => {
                    self.bump();
                    let tests = if self.peek() == &Tok::LParen && !self.range_ahead() {
                        self.bump();
                        let tests = self.tests(Tok::RParen)?;
                        self.expect(&Tok::RParen)?;
                        tests
                    } else {
                        vec![self.test()?]
                    };
                    lhs = self.node(Kind::In(Box::new(lhs), tests))?;
                    continue;
                }
                Tok::Name(n) if n == "instance" => {
                    return Err(self.error_here("`instance of` is not supported"));
                }
                _ => return Ok(lhs),
            };
            if compared {
                return Err(self
                    .error_here("comparisons cannot be chained in FEEL: write `a < b and b < c`"));
            }
            compared = true;
            self.bump();
            let rhs = self.additive()?;
            lhs = self.node(Kind::Bin(op, Box::new(lhs), Box::new(rhs)))?;
        }
    }

    fn additive(&mut self) -> PResult<Node> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => Op::Add,
                Tok::Minus => Op::Sub,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.multiplicative()?;
            lhs = self.node(Kind::Bin(op, Box::new(lhs), Box::new(rhs)))?;
        }
    }

    fn multiplicative(&mut self) -> PResult<Node> {
        let mut lhs = self.power()?;
        loop {
            let op = match self.peek() {
                Tok::Star => Op::Mul,
                Tok::Slash => Op::Div,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.power()?;
            lhs = self.node(Kind::Bin(op, Box::new(lhs), Box::new(rhs)))?;
        }
    }

    fn power(&mut self) -> PResult<Node> {
        let mut lhs = self.unary()?;
        while self.peek() == &Tok::StarStar {
            self.bump();
            let rhs = self.unary()?;
            lhs = self.node(Kind::Bin(Op::Pow, Box::new(lhs), Box::new(rhs)))?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Node> {
        if self.peek() == &Tok::Minus {
            self.bump();
            self.enter()?;
            let inner = self.unary();
            self.depth -= 1;
            let inner = inner?;
            return match inner.kind {
                Kind::Lit(V::Int(n)) => self.node(Kind::Lit(V::Int(n.wrapping_neg()))),
                Kind::Lit(V::Num(n)) => self.node(Kind::Lit(V::Num(-n))),
                _ => self.node(Kind::Neg(Box::new(inner))),
            };
        }
        let mut base = self.primary()?;
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    match self.bump() {
                        Tok::Name(n) => {
                            let n = self.more_words(n);
                            base = self.node(Kind::Path(Box::new(base), n))?
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.unexpected("a name after `.`"));
                        }
                    }
                }
                Tok::LBrack if !self.no_filter => {
                    self.bump();
                    let filter = self.expr()?;
                    self.expect(&Tok::RBrack)?;
                    base = self.node(Kind::Filter(Box::new(base), Box::new(filter)))?;
                }
                Tok::LParen => {
                    return Err(self.error_here(
                        "only built-in functions can be called (this is not a function name)",
                    ));
                }
                _ => return Ok(base),
            }
        }
    }

    fn primary(&mut self) -> PResult<Node> {
        let at = self.offset();
        match self.bump() {
            Tok::Int(n) => self.node(Kind::Lit(V::Int(n))),
            Tok::Num(n) => self.node(Kind::Lit(V::Num(n))),
            Tok::Str(s) => self.node(Kind::Lit(V::Str(s))),
            Tok::Question => self.node(Kind::Name(INPUT.to_string())),
            Tok::LParen => {
                let inner = self.expr()?;
                self.expect(&Tok::RParen)?;
                Ok(inner)
            }
            Tok::LBrack => {
                self.enter()?;
                let items = self.list_items(Tok::RBrack);
                self.depth -= 1;
                self.node(Kind::List(items?))
            }
            Tok::LBrace => {
                self.enter()?;
                let entries = self.context_entries();
                self.depth -= 1;
                self.node(Kind::Ctx(entries?))
            }
            Tok::Name(name) => match name.as_str() {
                "true" => self.node(Kind::Lit(V::Bool(true))),
                "false" => self.node(Kind::Lit(V::Bool(false))),
                "null" => self.node(Kind::Lit(V::Null)),
                _ => {
                    if let Some((builtin, words)) = self.builtin_ahead(&name) {
                        self.pos += words;
                        self.expect(&Tok::LParen)?;
                        self.enter()?;
                        let args = self.list_items(Tok::RParen);
                        self.depth -= 1;
                        let args = args?;
                        builtin
                            .check(&args)
                            .map_err(|m| FeelError::parse_error(self.text, at, m))?;
                        return self.node(Kind::Call(builtin, args));
                    }
                    if self.peek() == &Tok::LParen {
                        return Err(FeelError::parse_error(
                            self.text,
                            at,
                            format!("unknown function `{name}`"),
                        ));
                    }
                    let name = self.more_words(name);
                    self.node(Kind::Name(name))
                }
            },
            _ => {
                self.pos -= 1;
                Err(self.unexpected("a value, a name or `(`"))
            }
        }
    }

    /// `name in expression, name in expression...` after `for`, `some` or
    /// `every`; a domain may be a range of integers (`1..n`).
    fn iteration_contexts(&mut self) -> PResult<Vec<Domain>> {
        let mut domains = Vec::new();
        loop {
            let name = match self.bump() {
                Tok::Name(n) if !KEYWORDS.contains(&n.as_str()) => self.more_words(n),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("a name to iterate with"));
                }
            };
            self.expect_name("in")?;
            let over = self.additive()?;
            let domain = if self.peek() == &Tok::DotDot {
                self.bump();
                let to = self.additive()?;
                Domain::Range(name, over, to)
            } else {
                Domain::List(name, over)
            };
            domains.push(domain);
            if self.peek() != &Tok::Comma {
                return Ok(domains);
            }
            self.bump();
        }
    }

    /// A name with spaces (`Monthly Income`): the following words that are
    /// not keywords, joined by single spaces.
    fn more_words(&mut self, mut name: String) -> String {
        while let Tok::Name(w) = self.peek() {
            if KEYWORDS.contains(&w.as_str()) {
                break;
            }
            name.push(' ');
            name.push_str(w);
            self.pos += 1;
        }
        name
    }

    /// A built-in function whose (possibly multi-word) name starts with `first`
    /// and is followed by `(`: the function and the number of extra name tokens.
    fn builtin_ahead(&self, first: &str) -> Option<(Builtin, usize)> {
        let mut name = first.to_string();
        let mut best = None;
        for extra in 0..4 {
            if self.peek_at(extra) == &Tok::LParen
                && let Some(b) = Builtin::from_name(&name)
            {
                best = Some((b, extra));
            }
            match self.peek_at(extra) {
                Tok::Name(w) => {
                    name.push(' ');
                    name.push_str(w);
                }
                _ => break,
            }
        }
        best
    }

    fn list_items(&mut self, close: Tok) -> PResult<Vec<Node>> {
        let mut items = Vec::new();
        if self.peek() == &close {
            self.bump();
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                t if *t == close => {
                    self.bump();
                    return Ok(items);
                }
                _ => return Err(self.unexpected(&format!("`,` or `{}`", tok_text(&close)))),
            }
        }
    }

    fn context_entries(&mut self) -> PResult<Vec<(String, Node)>> {
        let mut entries = Vec::new();
        if self.peek() == &Tok::RBrace {
            self.bump();
            return Ok(entries);
        }
        loop {
            let key = match self.bump() {
                Tok::Str(s) => s,
                Tok::Name(first) => {
                    let mut key = first;
                    while let Tok::Name(w) = self.peek() {
                        key.push(' ');
                        key.push_str(w);
                        self.bump();
                    }
                    key
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("a context key"));
                }
            };
            self.expect(&Tok::Colon)?;
            let value = self.expr()?;
            entries.push((key, value));
            match self.bump() {
                Tok::Comma => {}
                Tok::RBrace => return Ok(entries),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("`,` or `}`"));
                }
            }
        }
    }

    /// Positive unary tests separated by commas, up to (not consuming) `close`.
    pub(super) fn tests(&mut self, close: Tok) -> PResult<Vec<Test>> {
        let mut list = vec![self.test()?];
        while self.peek() == &Tok::Comma {
            self.bump();
            list.push(self.test()?);
        }
        if self.peek() != &close {
            return Err(self.unexpected("`,` or the end of the tests"));
        }
        Ok(list)
    }

    /// Whether a range (`[a..b]`, `(a..b)`, `]a..b[`...) starts here: a `..`
    /// at the top nesting level before any `,` or closing bracket. A linear
    /// scan, so that nested tests cannot make parsing exponential.
    fn range_ahead(&self) -> bool {
        if !matches!(self.peek(), Tok::LBrack | Tok::LParen | Tok::RBrack) {
            return false;
        }
        let mut level = 0usize;
        for (tok, _) in self.toks.iter().skip(self.pos + 1) {
            match tok {
                Tok::Eof => return false,
                Tok::LParen | Tok::LBrack | Tok::LBrace => level += 1,
                Tok::RParen | Tok::RBrack | Tok::RBrace => {
                    if level == 0 {
                        return false;
                    }
                    level -= 1;
                }
                Tok::Comma if level == 0 => return false,
                Tok::DotDot if level == 0 => return true,
                _ => {}
            }
        }
        false
    }

    fn range(&mut self) -> PResult<Test> {
        let lo_incl = match self.bump() {
            Tok::LBrack => true,
            Tok::LParen | Tok::RBrack => false,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("`[`, `(` or `]`"));
            }
        };
        let lo = self.additive()?;
        self.expect(&Tok::DotDot)?;
        self.no_filter = true;
        let hi = self.additive();
        self.no_filter = false;
        let hi = hi?;
        let hi_incl = match self.bump() {
            Tok::RBrack => true,
            Tok::RParen | Tok::LBrack => false,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("`]`, `)` or `[`"));
            }
        };
        Ok(Test::Range {
            lo,
            lo_incl,
            hi,
            hi_incl,
        })
    }

    fn test(&mut self) -> PResult<Test> {
        let op = match self.peek() {
            Tok::Lt => Some(Op::Lt),
            Tok::Le => Some(Op::Le),
            Tok::Gt => Some(Op::Gt),
            Tok::Ge => Some(Op::Ge),
            Tok::Eq => Some(Op::Eq),
            Tok::Ne => Some(Op::Ne),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            return Ok(Test::Cmp(op, self.additive()?));
        }
        if self.range_ahead() {
            return self.range();
        }
        Ok(Test::Expr(self.expr()?))
    }
}

/// Words that end a name with spaces.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "in",
    "between",
    "then",
    "else",
    "if",
    "instance",
    "of",
    "return",
    "satisfies",
    "for",
    "some",
    "every",
    "not",
    "true",
    "false",
    "null",
    "function",
];
