//! Recursive-descent parser with XPath 1.0 precedence, lowest first:
//! `or`, `and`, `= !=`, `< <= > >=`, `+ -`, `* div mod`, unary `-`.

use std::fmt;

use super::ParseError;
use super::lexer::{Spanned, Tok};

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Num(f64),
    Str(String),
    Field(String),
    Current,
    Neg(Box<Node>),
    Bin(Op, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Or => "or",
            Op::And => "and",
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "div",
            Op::Mod => "mod",
        }
    }
}

/// The functions of the language, with their XLSForm names and arities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    True,
    False,
    Not,
    If,
    Selected,
    CountSelected,
    Count,
    Today,
    StringLength,
    Concat,
    Coalesce,
    Contains,
    StartsWith,
    EndsWith,
    Number,
    String,
    Boolean,
    Int,
    Round,
    Date,
    Substr,
    SubstringBefore,
    SubstringAfter,
    Translate,
    NormalizeSpace,
    SelectedAt,
    Position,
    IndexedRepeat,
    Sum,
    Min,
    Max,
    Pow,
    Floor,
    Ceiling,
    Abs,
    Now,
    Uuid,
    Once,
    Regex,
    FormatDate,
    FormatDateTime,
}

impl Func {
    pub const ALL: [Func; 41] = [
        Func::True,
        Func::False,
        Func::Not,
        Func::If,
        Func::Selected,
        Func::CountSelected,
        Func::Count,
        Func::Today,
        Func::StringLength,
        Func::Concat,
        Func::Coalesce,
        Func::Contains,
        Func::StartsWith,
        Func::EndsWith,
        Func::Number,
        Func::String,
        Func::Boolean,
        Func::Int,
        Func::Round,
        Func::Date,
        Func::Substr,
        Func::SubstringBefore,
        Func::SubstringAfter,
        Func::Translate,
        Func::NormalizeSpace,
        Func::SelectedAt,
        Func::Position,
        Func::IndexedRepeat,
        Func::Sum,
        Func::Min,
        Func::Max,
        Func::Pow,
        Func::Floor,
        Func::Ceiling,
        Func::Abs,
        Func::Now,
        Func::Uuid,
        Func::Once,
        Func::Regex,
        Func::FormatDate,
        Func::FormatDateTime,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::True => "true",
            Func::False => "false",
            Func::Not => "not",
            Func::If => "if",
            Func::Selected => "selected",
            Func::CountSelected => "count-selected",
            Func::Count => "count",
            Func::Today => "today",
            Func::StringLength => "string-length",
            Func::Concat => "concat",
            Func::Coalesce => "coalesce",
            Func::Contains => "contains",
            Func::StartsWith => "starts-with",
            Func::EndsWith => "ends-with",
            Func::Number => "number",
            Func::String => "string",
            Func::Boolean => "boolean",
            Func::Int => "int",
            Func::Round => "round",
            Func::Date => "date",
            Func::Substr => "substr",
            Func::SubstringBefore => "substring-before",
            Func::SubstringAfter => "substring-after",
            Func::Translate => "translate",
            Func::NormalizeSpace => "normalize-space",
            Func::SelectedAt => "selected-at",
            Func::Position => "position",
            Func::IndexedRepeat => "indexed-repeat",
            Func::Sum => "sum",
            Func::Min => "min",
            Func::Max => "max",
            Func::Pow => "pow",
            Func::Floor => "floor",
            Func::Ceiling => "ceiling",
            Func::Abs => "abs",
            Func::Now => "now",
            Func::Uuid => "uuid",
            Func::Once => "once",
            Func::Regex => "regex",
            Func::FormatDate => "format-date",
            Func::FormatDateTime => "format-date-time",
        }
    }

    /// Fewest and most arguments (`None`: no upper bound).
    fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::True | Func::False | Func::Today => (0, Some(0)),
            Func::Not
            | Func::CountSelected
            | Func::Count
            | Func::StringLength
            | Func::Number
            | Func::String
            | Func::Boolean
            | Func::Int
            | Func::Date => (1, Some(1)),
            Func::Selected
            | Func::Coalesce
            | Func::Contains
            | Func::StartsWith
            | Func::EndsWith => (2, Some(2)),
            Func::Round => (1, Some(2)),
            Func::If => (3, Some(3)),
            Func::Concat => (0, None),
            Func::Substr => (2, Some(3)),
            Func::SubstringBefore => (2, Some(2)),
            Func::SubstringAfter => (2, Some(2)),
            Func::Translate => (3, Some(3)),
            Func::NormalizeSpace => (0, Some(1)),
            Func::SelectedAt => (2, Some(2)),
            Func::Position => (0, Some(0)),
            Func::IndexedRepeat => (3, Some(3)),
            Func::Sum => (1, Some(1)),
            Func::Min => (1, None),
            Func::Max => (1, None),
            Func::Pow => (2, Some(2)),
            Func::Floor => (1, Some(1)),
            Func::Ceiling => (1, Some(1)),
            Func::Abs => (1, Some(1)),
            Func::Now => (0, Some(0)),
            Func::Uuid => (0, Some(1)),
            Func::Once => (1, Some(1)),
            Func::Regex => (2, Some(2)),
            Func::FormatDate => (2, Some(2)),
            Func::FormatDateTime => (2, Some(2)),
        }
    }

    fn by_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

pub fn parse(tokens: &[Spanned], src_len: usize) -> Result<Node, ParseError> {
    let mut p = Parser {
        tokens,
        pos: 0,
        end_col: src_len + 1,
    };
    if tokens.is_empty() {
        return Err(ParseError::new(1, "empty expression".to_owned()));
    }
    let node = p.or_expr()?;
    match p.peek() {
        None => Ok(node),
        Some((tok, col)) => Err(ParseError::new(
            *col,
            format!("unexpected {} here", describe(tok)),
        )),
    }
}

struct Parser<'a> {
    tokens: &'a [Spanned],
    pos: usize,
    end_col: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.pos)
    }

    fn col(&self) -> usize {
        self.peek().map_or(self.end_col, |(_, c)| *c)
    }

    fn next(&mut self) -> Option<&Spanned> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn binary(
        &mut self,
        ops: fn(&Tok) -> Option<Op>,
        operand: fn(&mut Self) -> Result<Node, ParseError>,
    ) -> Result<Node, ParseError> {
        let mut left = operand(self)?;
        while let Some(op) = self.peek().and_then(|(t, _)| ops(t)) {
            self.pos += 1;
            let right = operand(self)?;
            left = Node::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn or_expr(&mut self) -> Result<Node, ParseError> {
        self.binary(|t| word(t, "or").then_some(Op::Or), Self::and_expr)
    }

    fn and_expr(&mut self) -> Result<Node, ParseError> {
        self.binary(|t| word(t, "and").then_some(Op::And), Self::eq_expr)
    }

    fn eq_expr(&mut self) -> Result<Node, ParseError> {
        self.binary(
            |t| match t {
                Tok::Eq => Some(Op::Eq),
                Tok::Ne => Some(Op::Ne),
                _ => None,
            },
            Self::rel_expr,
        )
    }

    fn rel_expr(&mut self) -> Result<Node, ParseError> {
        self.binary(
            |t| match t {
                Tok::Lt => Some(Op::Lt),
                Tok::Le => Some(Op::Le),
                Tok::Gt => Some(Op::Gt),
                Tok::Ge => Some(Op::Ge),
                _ => None,
            },
            Self::add_expr,
        )
    }

    fn add_expr(&mut self) -> Result<Node, ParseError> {
        self.binary(
            |t| match t {
                Tok::Plus => Some(Op::Add),
                Tok::Minus => Some(Op::Sub),
                _ => None,
            },
            Self::mul_expr,
        )
    }

    fn mul_expr(&mut self) -> Result<Node, ParseError> {
        self.binary(
            |t| match t {
                Tok::Star => Some(Op::Mul),
                t if word(t, "div") => Some(Op::Div),
                t if word(t, "mod") => Some(Op::Mod),
                _ => None,
            },
            Self::unary,
        )
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        if matches!(self.peek(), Some((Tok::Minus, _))) {
            self.pos += 1;
            return Ok(Node::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let col = self.col();
        let Some((tok, _)) = self.next().cloned() else {
            return Err(ParseError::new(col, "expression ends too early".to_owned()));
        };
        match tok {
            Tok::Number(n) => Ok(Node::Num(n)),
            Tok::Str(s) => Ok(Node::Str(s)),
            Tok::Field(name) => Ok(Node::Field(name)),
            Tok::Dot => Ok(Node::Current),
            Tok::LParen => {
                let inner = self.or_expr()?;
                self.expect_rparen(col)?;
                Ok(inner)
            }
            Tok::Name(name) => self.call(&name, col),
            other => Err(ParseError::new(
                col,
                format!("unexpected {}", describe(&other)),
            )),
        }
    }

    fn call(&mut self, name: &str, col: usize) -> Result<Node, ParseError> {
        if !matches!(self.peek(), Some((Tok::LParen, _))) {
            return Err(ParseError::new(
                col,
                format!("unknown name {name:?}: refer to a field as ${{{name}}}"),
            ));
        }
        let func = Func::by_name(name)
            .ok_or_else(|| ParseError::new(col, format!("unknown function {name}()")))?;
        self.pos += 1;
        let mut args = Vec::new();
        // `position(..)`, as XLSForms write it: the instance of the repeat group around.
        if func == Func::Position
            && matches!(
                self.tokens.get(self.pos..self.pos + 3),
                Some([(Tok::Dot, _), (Tok::Dot, _), (Tok::RParen, _)])
            )
        {
            self.pos += 2;
        }
        if matches!(self.peek(), Some((Tok::RParen, _))) {
            self.pos += 1;
        } else {
            loop {
                args.push(self.or_expr()?);
                match self.next() {
                    Some((Tok::Comma, _)) => continue,
                    Some((Tok::RParen, _)) => break,
                    _ => {
                        return Err(ParseError::new(
                            self.col(),
                            format!("expected `,` or `)` in {name}()"),
                        ));
                    }
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            let wanted = match max {
                Some(max) if max == min => format!("{min}"),
                Some(max) => format!("{min} to {max}"),
                None => format!("at least {min}"),
            };
            return Err(ParseError::new(
                col,
                format!("{name}() takes {wanted} argument(s), not {}", args.len()),
            ));
        }
        if func == Func::Count && !matches!(args[0], Node::Field(_)) {
            return Err(ParseError::new(
                col,
                "count() takes a repeat group, as ${name}".to_owned(),
            ));
        }
        if func == Func::IndexedRepeat
            && !(matches!(args[0], Node::Field(_)) && matches!(args[1], Node::Field(_)))
        {
            return Err(ParseError::new(
                col,
                "indexed-repeat() takes a field and its repeat group, as ${field}, ${group}, then the number".to_owned(),
            ));
        }
        if func == Func::Sum && !matches!(args[0], Node::Field(_)) {
            return Err(ParseError::new(
                col,
                "sum() takes a field of a repeat group, as ${name}".to_owned(),
            ));
        }
        Ok(Node::Call(func, args))
    }

    fn expect_rparen(&mut self, open_col: usize) -> Result<(), ParseError> {
        match self.next() {
            Some((Tok::RParen, _)) => Ok(()),
            _ => Err(ParseError::new(
                open_col,
                "this `(` is never closed".to_owned(),
            )),
        }
    }
}

fn word(tok: &Tok, w: &str) -> bool {
    matches!(tok, Tok::Name(n) if n == w)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Number(n) => format!("number {n}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Field(f) => format!("field ${{{f}}}"),
        Tok::Dot => "`.`".to_owned(),
        Tok::LParen => "`(`".to_owned(),
        Tok::RParen => "`)`".to_owned(),
        Tok::Comma => "`,`".to_owned(),
        Tok::Plus => "`+`".to_owned(),
        Tok::Minus => "`-`".to_owned(),
        Tok::Star => "`*`".to_owned(),
        Tok::Eq => "`=`".to_owned(),
        Tok::Ne => "`!=`".to_owned(),
        Tok::Lt => "`<`".to_owned(),
        Tok::Le => "`<=`".to_owned(),
        Tok::Gt => "`>`".to_owned(),
        Tok::Ge => "`>=`".to_owned(),
        Tok::Name(n) => format!("`{n}`"),
    }
}

/// Prints the expression fully parenthesised, in a form that parses back to the same tree.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Num(n) => write!(f, "{n}"),
            Node::Str(s) if s.contains('\'') => write!(f, "\"{s}\""),
            Node::Str(s) => write!(f, "'{s}'"),
            Node::Field(name) => write!(f, "${{{name}}}"),
            Node::Current => f.write_str("."),
            Node::Neg(inner) => write!(f, "-({inner})"),
            Node::Bin(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Node::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}
